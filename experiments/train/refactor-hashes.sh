#!/usr/bin/env bash
# Byte-identity check of the trainer refactor (issue 13, first part): short
# training runs on the embedded MNIST subset, printing the sha256 of each
# model file and of each log with its wall-clock columns (epoch_seconds, train_seconds)
# removed. Usage: refactor-hashes.sh <onespike binary> <scratch dir> [recipes]
# With `recipes` (a binary that has `--recipe`), the same runs also go
# through recipe files: the shipped recipes/*.toml with flags overriding
# them, and recipe files this script writes into the scratch dir for the
# runs that have no shipped recipe. Run from the repository root.
set -euo pipefail
BIN=${1:?binary}
OUT=${2:?scratch dir}
mkdir -p "$OUT"
run() {
  local name=$1; shift
  "$BIN" train "$@" -o "$OUT/$name.json" > "$OUT/$name.txt" 2>&1
  local log
  log=$(jq -S 'del(.epochs[].epoch_seconds, .epochs[].train_seconds)' "$OUT/$name.json.log.json" | sha256sum | cut -c1-16)
  printf '%-14s model %s  log %s\n' "$name" "$(sha256sum < "$OUT/$name.json" | cut -d' ' -f1)" "$log"
}
run dense      --arch 784-32-10 --epochs 2 --limit-train 1000 --val-images 200
run noqat      --arch 784-32-10 --epochs 1 --limit-train 1000 --val-images 200
run pruned     --arch 784-48-10 --epochs 3 --sparsity 0.8 --ssr-weight 0.1 --time-steps 16 --target-steps 8 --lr 1e-3 --limit-train 1000 --val-images 200
run augment    --arch 784-32-10 --epochs 2 --shift-pixels 1 --mirror --rotate-degrees 8 --scale-percent 10 --input-dropout 0.1 --limit-train 800 --val-images 200
# The run stage of `onespike run` (its model.json has the same hash).
run run-recipe    --arch 784-100-10 --epochs 10 --batch-size 16 --lr 1e-3 --sparsity 0.8 --val-images 600 --limit-train 6000
run mnist-short   --arch 784-400-10 --epochs 2 --lr-decay 0.95 --sparsity 0.9 --shift-pixels 1 --ssr-weight 0.1 --time-steps 16 --target-steps 8 --lr 1.5e-4 --val-images 1000 --limit-train 2000
run fashion-short --arch 784-400-10 --epochs 2 --lr-decay 0.93 --lr 1.5e-4 --val-images 1000 --limit-train 2000
run checkpointed  --arch 784-48-10 --epochs 3 --sparsity 0.8 --ssr-weight 0.1 --time-steps 16 --target-steps 8 --lr 1e-3 --limit-train 1000 --val-images 200 --checkpoint "$OUT/ck.json"
printf '%-14s       %s\n' "checkpoint" "$(jq -S 'del(.trainer.log[].epoch_seconds, .trainer.log[].train_seconds)' "$OUT/ck.json" | sha256sum | cut -d' ' -f1)"
run resumed       --resume "$OUT/ck.json"
run mixed      --arch 784-24-16-10 --epochs 3 --qat-epochs 2 --continuous --ssr both --count-weight 0.05 --ema-decay 0.99 --weight-decay 0.1 --label-smoothing 0.1 --lr-decay 0.9 --batch-size 16 --seed 7 --tau-steps 2 --input-steps 6 --regrow-fraction 0.1 --sparsity 0.5 --init-mean 1.5 --init-width 0.4 --fire-weight 0.5 --target-weight 0.2 --limit-train 600 --val-images 200 --config small --time-steps 32
[ "${3:-}" = recipes ] || exit 0
runr() {
  local name=$1 text=$2; shift 2
  printf '%s' "$text" > "$OUT/$name.toml"
  run "$name" --recipe "$OUT/$name.toml" "$@"
}
run mnist-short-r   --recipe recipes/mnist.toml --data default --epochs 2 --val-images 1000 --limit-train 2000
run fashion-short-r --recipe recipes/fashion-mnist.toml --data default --epochs 2 --val-images 1000 --limit-train 2000
run run-recipe-r    --recipe recipes/run.toml
runr dense-r   $'arch = "784-32-10"\nepochs = 2\nlimit-train = 1000\nval-images = 200\n'
runr pruned-r  $'arch = "784-48-10"\nepochs = 3\nsparsity = 0.8\nssr-weight = 0.1\ntime-steps = 16\ntarget-steps = 8\nlr = 1e-3\nlimit-train = 1000\nval-images = 200\n'
runr augment-r $'arch = "784-32-10"\nepochs = 2\nshift-pixels = 1\nmirror = true\nrotate-degrees = 8\nscale-percent = 10\ninput-dropout = 0.1\nlimit-train = 800\nval-images = 200\n'
# Flags override the recipe: the recipe says 784-16-10, seed 3, no mirror.
runr mixed-r   $'arch = "784-16-10"\nepochs = 3\nqat-epochs = 2\ncontinuous = true\nssr = "both"\ncount-weight = 0.05\nema-decay = 0.99\nweight-decay = 0.1\nlabel-smoothing = 0.1\nlr-decay = 0.9\nbatch-size = 16\nseed = 3\ntau-steps = 2\ninput-steps = 6\nregrow-fraction = 0.1\nsparsity = 0.5\ninit-mean = 1.5\ninit-width = 0.4\nfire-weight = 0.5\ntarget-weight = 0.2\nlimit-train = 600\nval-images = 200\nconfig = "small"\ntime-steps = 32\n' --arch 784-24-16-10 --seed 7
