#!/bin/bash
# Session 23: the regularizer-on half of issue 13's Fashion-MNIST on/off pair
# (off: s22/fashion-noaug, 89.06 % at 4.27 spikes per neuron).
cd "$(dirname "$0")"
B=${BIN:-../../../../target/release/onespike}
R=../../../../recipes/mnist-bptt.toml
F=../../../../../shared/data/fashion-mnist
run() {
  name=$1; shift
  echo "onespike train $* -o $name.json --checkpoint $name.ck.json" > $name.cmd
  nice -n 10 $B train "$@" -o $name.json --checkpoint $name.ck.json > $name.out 2>&1
}
run fashion-noaug-rate --recipe $R --data $F --ema-decay 0.999 --epochs 30 --rate-weight 0.3
