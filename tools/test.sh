#!/usr/bin/env bash
# Build ipabs and run every test twice: an optimised build, then one with
# AddressSanitizer + UndefinedBehaviorSanitizer.  Installs missing packages.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh --test
jobs=$(nproc)
for kind in release asan; do
  dir=build-test-$kind
  opts=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
  [ "$kind" = asan ] && opts=(-DCMAKE_BUILD_TYPE=Debug -DIPABS_SANITIZE=ON -DIPABS_BENCH=OFF)
  echo "== $kind build =="
  cmake -S . -B "$dir" "${opts[@]}" >/dev/null
  cmake --build "$dir" -j "$jobs"
  echo "== $kind tests =="
  (cd "$dir" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     ctest --output-on-failure -j "$jobs")
  if [ "$kind" = release ]; then
    echo "== benchmark suite, tiny size (checks that it runs; asserts no timing) =="
    python3 bench/run.py --quick --no-build --build-dir "$dir" --out "$dir/bench-quick.csv"
  fi
done
echo "== fuzz smoke: replay every seed and past crash, then a few seconds each =="
tests/fuzz/smoke.sh
