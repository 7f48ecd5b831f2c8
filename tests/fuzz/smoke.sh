#!/usr/bin/env bash
# The fuzz smoke run of tools/test.sh (tens of seconds in all): every
# harness replays its seed corpus and every past crash input
# (tests/fuzz/crashes/HARNESS/), then fuzzes for SMOKE_SECONDS (default 5)
# seconds.  Fails if any input crashes, leaks, hangs or aborts.
set -euo pipefail
shopt -s nullglob
cd "$(dirname "$0")/../.."
dir=$(tests/fuzz/build.sh)
secs=${SMOKE_SECONDS:-5}
# Leaks inside libfyaml are suppressed (tests/fuzz/lsan.supp says why).
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/fuzz/lsan.supp}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for h in scenario tape set csv plot; do
  bin=$dir/tests/fuzz/fuzz_$h
  echo "== fuzz smoke: $h (replay, then ${secs}s) =="
  # Replay: each file once, as libFuzzer runs the files it is given.
  inputs=(tests/fuzz/corpus/$h/* tests/fuzz/crashes/$h/*)
  "$bin" -runs=1 -timeout=10 -rss_limit_mb=2048 "${inputs[@]}" \
    2>"$scratch/$h.replay" || { tail -40 "$scratch/$h.replay"; exit 1; }
  echo "replayed ${#inputs[@]} inputs"
  mkdir -p "$scratch/$h"
  "$bin" "$scratch/$h" tests/fuzz/corpus/$h -dict=tests/fuzz/$h.dict -max_total_time="$secs" \
    -timeout=10 -rss_limit_mb=2048 -max_len=65536 -artifact_prefix="$scratch/" \
    2>"$scratch/$h.fuzz" || { tail -40 "$scratch/$h.fuzz"; exit 1; }
  grep -h "stat::number_of_executed_units\|Done [0-9]* runs" "$scratch/$h.fuzz" | tail -1 || true
done
