#!/bin/sh
# The benchmark suite in one command: bench/run.sh [--quick] [options of bench/run.py]
# Builds build-bench/ (Release), runs every benchmark, writes
# bench/results/latest.csv and prints a table.  See bench/README.md.
here=$(cd "$(dirname "$0")" && pwd)
py=$(command -v python3 || true)
if [ -z "$py" ]; then
    echo "bench/run.sh: python3 is required (Debian: apt-get install python3)" >&2
    exit 1
fi
exec "$py" "$here/run.py" "$@"
