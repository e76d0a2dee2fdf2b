onespike compile --model mnist-paper-e28.json --config desire-mnist.toml -o prog.json && onespike sim --model prog.json --data ../../../../../shared/data/mnist
