#!/bin/bash
# Session 22's Fashion-MNIST trials after queue2.sh (issue 13's 89 % target),
# one after the other; commands in the .cmd files, console output in .out.
cd "$(dirname "$0")"
B=${BIN:-../../../../target/release/onespike}
R=../../../../recipes/mnist-bptt.toml
F=../../../../../shared/data/fashion-mnist
while pgrep -f 'queue2.sh' >/dev/null; do sleep 10; done
run() {
  name=$1; shift
  echo "onespike train $* -o $name.json --checkpoint $name.ck.json" > $name.cmd
  nice -n 10 $B train "$@" -o $name.json --checkpoint $name.ck.json > $name.out 2>&1
}
# A softer count loss: logits are spike counts / 4 instead of raw counts
run fashion-tau4 --recipe $R --data $F --shift-pixels 1 --mirror --ema-decay 0.999 --tau-steps 4 --epochs 30
# No augmentation (s21's run underfitted with shifts and mirroring)
run fashion-noaug --recipe $R --data $F --ema-decay 0.999 --epochs 30
