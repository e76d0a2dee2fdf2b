onespike train --recipe ../../../../recipes/mnist-desire.toml --data ../../../../../shared/data/mnist --epochs 40 -o mnist-paper.json --checkpoint mnist-paper.ck.json
