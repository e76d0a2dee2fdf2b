onespike train --recipe ../../../../recipes/mnist.toml --data ../../../../../shared/data/mnist -o mnist-s1.json
