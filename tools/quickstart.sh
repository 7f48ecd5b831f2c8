#!/usr/bin/env bash
# Fresh machine to first result: install what is missing, build, and run the
# reference scenario (check, a cash-flow run with nobody defaulting, then a
# Monte Carlo run).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)"
build/ipabs check scenarios/shenyang-ip-abs.yaml
build/ipabs cashflow scenarios/shenyang-ip-abs.yaml -o out/cashflow
build/ipabs run scenarios/shenyang-ip-abs.yaml -o out/run --paths 200000
