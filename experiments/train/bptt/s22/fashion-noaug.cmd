onespike train --recipe ../../../../recipes/mnist-bptt.toml --data ../../../../../shared/data/fashion-mnist --ema-decay 0.999 --epochs 30 -o fashion-noaug.json --checkpoint fashion-noaug.ck.json
