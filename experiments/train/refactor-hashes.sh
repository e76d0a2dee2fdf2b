#!/usr/bin/env bash
# Byte-identity check of the trainer refactor (issue 13, first part): short
# training runs on the embedded MNIST subset, printing the sha256 of each
# model file and of each log with its wall-clock column (epoch_seconds)
# removed. Usage: refactor-hashes.sh <onespike binary> <scratch dir> [recipe]
# With `recipe`, each run also goes through `--recipe` with the same options
# (recipes/check-*.toml are not shipped: the script writes them).
set -euo pipefail
BIN=${1:?binary}
OUT=${2:?scratch dir}
mkdir -p "$OUT"
run() {
  local name=$1; shift
  "$BIN" train --data default "$@" -o "$OUT/$name.json" > "$OUT/$name.txt" 2>&1
  local log
  log=$(jq -S 'del(.epochs[].epoch_seconds)' "$OUT/$name.json.log.json" | sha256sum | cut -c1-16)
  printf '%-14s model %s  log %s\n' "$name" "$(sha256sum < "$OUT/$name.json" | cut -d' ' -f1)" "$log"
}
run dense      --arch 784-32-10 --epochs 2 --limit-train 1000 --val-images 200
run noqat      --arch 784-32-10 --epochs 1 --limit-train 1000 --val-images 200
run pruned     --arch 784-48-10 --epochs 3 --sparsity 0.8 --ssr-weight 0.1 --time-steps 16 --target-steps 8 --lr 1e-3 --limit-train 1000 --val-images 200
run augment    --arch 784-32-10 --epochs 2 --shift-pixels 1 --mirror --rotate-degrees 8 --scale-percent 10 --input-dropout 0.1 --limit-train 800 --val-images 200
run mnist-short   --arch 784-400-10 --epochs 2 --lr-decay 0.95 --sparsity 0.9 --shift-pixels 1 --ssr-weight 0.1 --time-steps 16 --target-steps 8 --lr 1.5e-4 --val-images 1000 --limit-train 2000
run fashion-short --arch 784-400-10 --epochs 2 --lr-decay 0.93 --lr 1.5e-4 --val-images 1000 --limit-train 2000
run checkpointed  --arch 784-48-10 --epochs 3 --sparsity 0.8 --ssr-weight 0.1 --time-steps 16 --target-steps 8 --lr 1e-3 --limit-train 1000 --val-images 200 --checkpoint "$OUT/ck.json"
printf '%-14s       %s\n' "checkpoint" "$(jq -S 'del(.trainer.log[].epoch_seconds)' "$OUT/ck.json" | sha256sum | cut -d' ' -f1)"
run resumed       --resume "$OUT/ck.json"
run mixed      --arch 784-24-16-10 --epochs 3 --qat-epochs 2 --continuous --ssr both --count-weight 0.05 --ema-decay 0.99 --weight-decay 0.1 --label-smoothing 0.1 --lr-decay 0.9 --batch-size 16 --seed 7 --tau-steps 2 --input-steps 6 --regrow-fraction 0.1 --sparsity 0.5 --init-mean 1.5 --init-width 0.4 --fire-weight 0.5 --target-weight 0.2 --limit-train 600 --val-images 200 --config small --time-steps 32
