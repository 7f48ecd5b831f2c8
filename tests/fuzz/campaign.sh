#!/usr/bin/env bash
# A fuzzing campaign of one harness:
#   tests/fuzz/campaign.sh HARNESS SECONDS     (HARNESS: scenario tape set csv plot)
# Starts from the seed corpus and the past crash inputs; new corpus entries
# go to build-fuzz/corpus/HARNESS (not the source tree), crash inputs to
# build-fuzz/crashes/HARNESS/.  Ends with libFuzzer's final statistics
# (stat::number_of_executed_units is the number of executions).  Run it
# under `nice -n 19` on a shared machine.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 HARNESS SECONDS" >&2; exit 2; }
h=$1 secs=$2
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."
[ -f "tests/fuzz/fuzz_$h.c" ] || { echo "$0: no harness '$h'" >&2; exit 2; }
dir=$(tests/fuzz/build.sh)
# Leaks inside libfyaml are suppressed (tests/fuzz/lsan.supp says why).
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/fuzz/lsan.supp}
work=$dir/corpus/$h
mkdir -p "$work" "$dir/crashes/$h"
exec "$dir/tests/fuzz/fuzz_$h" "$work" "tests/fuzz/corpus/$h" "tests/fuzz/crashes/$h" \
  -dict="tests/fuzz/$h.dict" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
  -max_len=65536 -print_final_stats=1 -artifact_prefix="$dir/crashes/$h/"
