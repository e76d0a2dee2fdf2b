#!/bin/bash
# Session 23: the Fashion-MNIST run of queue.sh again with 60 epochs (the
# 30-epoch run was stopped at epoch 10, 85.9 % on validation:
# fashion-paper-30.stopped.out); it shares the cores with mnist-paper.
cd "$(dirname "$0")"
B=${BIN:-../../../../target/release/onespike}
run() {
  name=$1; shift
  echo "onespike train $* -o $name.json --checkpoint $name.ck.json" > $name.cmd
  nice -n 10 $B train "$@" -o $name.json --checkpoint $name.ck.json > $name.out 2>&1
}
run fashion-paper --recipe ../../../../recipes/fashion-desire.toml --data ../../../../../shared/data/fashion-mnist --epochs 60
# Stopped after epoch 32 (13:55) to leave the cores to the rest of the
# session; its outputs were written from the checkpoint (fashion-paper-final.cmd).
