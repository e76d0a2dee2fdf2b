#!/bin/bash
# Session 22's BPTT runs after mnist-bptt-shift-full (queue.sh started it),
# one after the other (issue 13). Each run's command is in its .cmd file and
# its console output in its .out file.
cd "$(dirname "$0")"
B=${BIN:-../../../../target/release/onespike}
R=../../../../recipes/mnist-bptt.toml
M=../../../../../shared/data/mnist
F=../../../../../shared/data/fashion-mnist
while pgrep -f 'mnist-bptt-shift-full.json' >/dev/null; do sleep 10; done
run() {
  name=$1; shift
  echo "onespike train $* -o $name.json --checkpoint $name.ck.json" > $name.cmd
  nice -n 10 $B train "$@" -o $name.json --checkpoint $name.ck.json > $name.out 2>&1
}
# Fashion-MNIST: s21's recipe (shifts, mirroring, weight average) with a
# hidden layer twice as wide (s21's 784-400-10 underfitted: train 88.2 %)
run fashion-800m --recipe $R --data $F --arch 784-800-10 --shift-pixels 1 --mirror --ema-decay 0.999 --epochs 30
# row-sequential MNIST with the rate regularizer (on/off pair with s21/rows-rec)
run rows-rec-rate --recipe $R --data $M --coding rows --arch 28-256-10 --input-steps 28 --time-steps 30 --recurrent --ema-decay 0.999 --epochs 30 --rate-weight 0.3
