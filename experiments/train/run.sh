#!/bin/sh
# Long training runs behind the figures in docs/training.md. Not a CI step.
# Usage: experiments/train/run.sh <name> <data dir> [extra `onespike train` flags...]
# Writes <out>/<name>.json (model), .log.csv/.log.json (log, test figures), .svg (plot), .txt (console).
# OUT overrides the output directory; BIN runs a given `onespike` binary instead of building one
# (the working tree is shared, so a binary copied after a good build keeps a queue of runs going).
set -eu
name=$1; data=$2; shift 2
out=${OUT:-experiments/train/out}
mkdir -p "$out"
if [ -z "${BIN:-}" ]; then
    cargo build --release -p onespike-host >/dev/null
    BIN=${CARGO_TARGET_DIR:-target}/release/onespike
fi
"$BIN" train --data "$data" --val-images ${VAL:-5000} -o "$out/$name.json" --checkpoint "$out/$name.ckpt.json" "$@" 2>&1 | tee "$out/$name.txt"
