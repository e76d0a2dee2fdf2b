#!/bin/bash
# Session 23: Desire backpropagation (issue 17) on the paper's networks,
# for the epochs that fit this session (the learning rate decays as
# exp(-0.04 epoch): after 40 epochs it is 20 % of the first epoch's).
# Both run at once, sharing the 2 cores; commands in the .cmd files.
cd "$(dirname "$0")"
B=${BIN:-../../../../target/release/onespike}
run() {
  name=$1; shift
  echo "onespike train $* -o $name.json --checkpoint $name.ck.json" > $name.cmd
  nice -n 10 $B train "$@" -o $name.json --checkpoint $name.ck.json > $name.out 2>&1
}
run mnist-paper --recipe ../../../../recipes/mnist-desire.toml --data ../../../../../shared/data/mnist --epochs 40 &
run fashion-paper --recipe ../../../../recipes/fashion-desire.toml --data ../../../../../shared/data/fashion-mnist --epochs 30 &
wait
