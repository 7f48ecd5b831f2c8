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
  # ---- the installed library and the Python module (issue 14) ----
  # Release only: loading an ASan-built libipabs.so into an interpreter
  # would need the sanitizer runtime preloaded.
  if [ "$kind" = release ]; then
    echo "== install into a temporary prefix; consumer through pkg-config and find_package =="
    tests/consumer/run.sh "$dir"
    echo "== python/ipabs with Debian's python3 and pandas =="
    # /usr/bin/python3: Debian's interpreter, which sees python3-pandas (a
    # python3 on PATH may be another one, e.g. a pyenv shim).
    IPABS_LIBRARY="$PWD/$dir/libipabs.so" IPABS_CLI="$PWD/$dir/ipabs" PYTHONPATH=python \
      /usr/bin/python3 -m unittest discover -s tests/python -v
  fi
  # ---- end of the installed library and the Python module ----
done
echo "== fuzz smoke: replay every seed and past crash, then a few seconds each =="
tests/fuzz/smoke.sh
