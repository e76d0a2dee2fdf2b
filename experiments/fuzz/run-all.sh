#!/usr/bin/env bash
# Runs the cargo-fuzz targets one after another, niced, each for $SECS
# seconds of fuzzing (default 660), logging to experiments/fuzz/<target>.log.
# Usage: experiments/fuzz/run-all.sh [target...]
set -u
cd "$(dirname "$0")/../../fuzz"
SECS=${SECS:-660}
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(idx config_toml tech_toml network_json program_json case_json)
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  echo "== $t start $(date -u +%FT%TZ)" >> ../experiments/fuzz/runs.log
  ONESPIKE_NO_VERILATOR=1 nice -n 19 cargo +nightly fuzz run "$t" "corpus/$t" -- \
    -max_total_time="$SECS" -max_len=8192 -timeout=20 -rss_limit_mb=2048 \
    -seed=1 -print_final_stats=1 > "../experiments/fuzz/$t.log" 2>&1
  echo "== $t exit $? end $(date -u +%FT%TZ)" >> ../experiments/fuzz/runs.log
done
