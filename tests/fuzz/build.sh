#!/usr/bin/env bash
# Configure and build the libFuzzer harnesses in build-fuzz/ (clang-14 or
# clang, ASan + UBSan + libFuzzer's coverage; no OpenMP).  Prints the
# build directory.
set -euo pipefail
cd "$(dirname "$0")/../.."
cc=$(command -v clang-14 || command -v clang || true)
if [ -z "$cc" ]; then
  echo "tests/fuzz: clang is not installed (tools/deps.sh --test installs it)" >&2
  exit 1
fi
dir=build-fuzz
mkdir -p "$dir"
# Campaigns started together build one at a time (their builds raced).
exec 9>"$dir/.build.lock"
flock 9
if [ ! -f "$dir/CMakeCache.txt" ]; then
  CC="$cc" cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS="-O1 -g" \
    -DIPABS_FUZZ=ON -DIPABS_TESTS=OFF -DIPABS_BENCH=OFF -DIPABS_OPENMP=OFF -DIPABS_SHARED=OFF >/dev/null
fi
cmake --build "$dir" -j "${JOBS:-2}" >/dev/null
echo "$dir"
