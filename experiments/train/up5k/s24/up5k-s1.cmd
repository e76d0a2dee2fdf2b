onespike train --recipe ../../../../recipes/mnist-up5k.toml --data ../../../../../shared/data/mnist -o up5k-s1.json
