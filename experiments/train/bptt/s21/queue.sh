#!/bin/bash
# Session 21's BPTT runs, one after the other (issue 13). Each run's
# command is in its .cmd file and its console output in its .out file.
cd "$(dirname "$0")"
B=../../../../target/release/onespike
R=../../../../recipes/mnist-bptt.toml
M=../../../../../shared/data/mnist
F=../../../../../shared/data/fashion-mnist
while pgrep -f 'mnist-bptt-shift.json' >/dev/null; do sleep 20; done
run() {
  name=$1; shift
  echo "$B train $* -o $name.json --checkpoint $name.ck.json" > $name.cmd
  nice -n 10 $B train "$@" -o $name.json --checkpoint $name.ck.json > $name.out 2>&1
}
run fashion-bptt --recipe $R --data $F --shift-pixels 1 --mirror --ema-decay 0.999 --epochs 30
run rows-rec --recipe $R --data $M --coding rows --arch 28-256-10 --input-steps 28 --time-steps 30 --recurrent --ema-decay 0.999 --epochs 30
run mnist-bptt-shift-rate --recipe $R --data $M --shift-pixels 1 --ema-decay 0.999 --epochs 30 --rate-weight 0.3
run mnist-bptt-shift-full --recipe $R --data $M --shift-pixels 1 --ema-decay 0.999 --epochs 30 --reset-grad full
