onespike train --recipe ../../../../recipes/fashion-desire.toml --data ../../../../../shared/data/fashion-mnist --epochs 60 -o fashion-paper.json --checkpoint fashion-paper.ck.json
