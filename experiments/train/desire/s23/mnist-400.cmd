onespike train --recipe ../../../../recipes/mnist-desire.toml --data ../../../../../shared/data/mnist --arch 784-400-10 --epochs 15 -o mnist-400.json --checkpoint mnist-400.ck.json
