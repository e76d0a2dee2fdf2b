#!/usr/bin/env bash
# Shrinks each corpus to a small set of inputs that covers every edge it
# covers (libFuzzer -set_cover_merge=1 -use_counters=0), one target at a
# time, niced; run after run-all.sh.
set -eu
cd "$(dirname "$0")/../../fuzz"
bin=target/x86_64-unknown-linux-gnu/release
for t in "${@:-idx network_json program_json case_json config_toml tech_toml report_json}"; do
  for one in $t; do
    rm -rf "corpus-min/$one" && mkdir -p "corpus-min/$one"
    nice -n 19 "$bin/$one" -set_cover_merge=1 -use_counters=0 -max_len="${MAXLEN:-20000}" -timeout=20 "corpus-min/$one" "corpus/$one" \
      > "../experiments/fuzz/merge-$one.log" 2>&1
    rm -rf "corpus/$one" && mv "corpus-min/$one" "corpus/$one"
    echo "$one: $(ls "corpus/$one" | wc -l) inputs"
  done
done
rmdir corpus-min 2>/dev/null || true
