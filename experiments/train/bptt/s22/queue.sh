#!/bin/bash
# Session 22's BPTT runs, one after the other (issue 13). Each run's
# command is in its .cmd file and its console output in its .out file.
cd "$(dirname "$0")"
B=${BIN:-../../../../target/release/onespike}
R=../../../../recipes/mnist-bptt.toml
M=../../../../../shared/data/mnist
F=../../../../../shared/data/fashion-mnist
run() {
  name=$1; shift
  echo "onespike train $* -o $name.json --checkpoint $name.ck.json" > $name.cmd
  nice -n 10 $B train "$@" -o $name.json --checkpoint $name.ck.json > $name.out 2>&1
}
# MNIST with the reset's temporal term kept (Yang 2020), else as mnist-bptt-shift
run mnist-bptt-shift-full --recipe $R --data $M --shift-pixels 1 --ema-decay 0.999 --epochs 30 --reset-grad full
# (stopped after the run above; queue2.sh runs the next ones)
