#!/bin/bash
# usage: try.sh name flags...
name=$1; shift
B=${ONESPIKE:-target/release/onespike}
cd "$(dirname "$0")/../.."
start=$(date +%s.%N)
$B train --recipe recipes/run.toml -o ${OUT:-/tmp/demo}/$name.json "$@" > ${OUT:-/tmp/demo}/$name.train.log 2>&1
mid=$(date +%s.%N)
$B compile --model ${OUT:-/tmp/demo}/$name.json --config default --data default -o ${OUT:-/tmp/demo}/$name.prog.json > ${OUT:-/tmp/demo}/$name.compile.log 2>&1
echo "$name $* train $(echo "$mid - $start" | bc) s" >> ${OUT:-/tmp/demo}/results.txt
grep -i 'accuracy' ${OUT:-/tmp/demo}/$name.compile.log | tail -3 >> ${OUT:-/tmp/demo}/results.txt
tail -2 ${OUT:-/tmp/demo}/$name.train.log >> ${OUT:-/tmp/demo}/results.txt
