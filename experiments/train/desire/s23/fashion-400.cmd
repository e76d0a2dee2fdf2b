onespike train --recipe ../../../../recipes/fashion-desire.toml --data ../../../../../shared/data/fashion-mnist --arch 784-400-10 --epochs 15 -o fashion-400.json --checkpoint fashion-400.ck.json
