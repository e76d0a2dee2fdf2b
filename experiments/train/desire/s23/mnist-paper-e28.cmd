onespike train --resume mnist-paper-e28.ck.json --epochs 28 --data ../../../../../shared/data/mnist -o mnist-paper-e28.json   # a copy of mnist-paper's checkpoint after epoch 28, its test figures
