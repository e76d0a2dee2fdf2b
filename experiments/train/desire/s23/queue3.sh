#!/bin/bash
# Session 23: what smaller networks reach with Desire backpropagation (the
# recipes' settings, 784-400-10, 15 epochs), beside the end of the
# paper-network MNIST run; both at once.
cd "$(dirname "$0")"
B=${BIN:-../../../../target/release/onespike}
run() {
  name=$1; shift
  echo "onespike train $* -o $name.json --checkpoint $name.ck.json" > $name.cmd
  nice -n 10 $B train "$@" -o $name.json --checkpoint $name.ck.json > $name.out 2>&1
}
run mnist-400 --recipe ../../../../recipes/mnist-desire.toml --data ../../../../../shared/data/mnist --arch 784-400-10 --epochs 15 &
run fashion-400 --recipe ../../../../recipes/fashion-desire.toml --data ../../../../../shared/data/fashion-mnist --arch 784-400-10 --epochs 15 &
wait
