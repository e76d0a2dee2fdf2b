#!/usr/bin/env bash
# Builds every cargo-fuzz target once (nightly, address sanitizer, debug
# assertions), then runs them one after another, niced, each for $SECS
# seconds of fuzzing (default 630), logging to experiments/fuzz/<target>.log
# and the start and end of each run to experiments/fuzz/runs.log.
# Usage: experiments/fuzz/run-all.sh [target...]
set -u
cd "$(dirname "$0")/../../fuzz"
SECS=${SECS:-630}
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(idx network_json program_json case_json config_toml tech_toml)
export ONESPIKE_NO_VERILATOR=1
if [ -z "${SKIP_BUILD:-}" ]; then
  echo "== build $(git rev-parse --short HEAD) start $(date -u +%FT%TZ)" >> ../experiments/fuzz/runs.log
  nice -n 19 cargo +nightly fuzz build > ../experiments/fuzz/build.log 2>&1 || exit 1
fi
# One fuzzer at a time: wait for a run still going (WAIT_PID).
while [ -n "${WAIT_PID:-}" ] && kill -0 "$WAIT_PID" 2>/dev/null; do sleep 10; done
bin=target/x86_64-unknown-linux-gnu/release
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  echo "== $t start $(date -u +%FT%TZ)" >> ../experiments/fuzz/runs.log
  nice -n 19 "$bin/$t" -artifact_prefix="artifacts/$t/" -max_total_time="$SECS" \
    -max_len="${MAXLEN:-8192}" -timeout=20 -rss_limit_mb=2048 -seed=1 -print_final_stats=1 \
    "corpus/$t" > "../experiments/fuzz/$t.log" 2>&1
  echo "== $t exit $? end $(date -u +%FT%TZ)" >> ../experiments/fuzz/runs.log
done
