#!/usr/bin/env bash
# Install the Debian packages ipabs needs, only those that are missing.
# Safe to run again; needs root (or sudo) only when something is missing.
#   tools/deps.sh          to build and run ipabs
#   tools/deps.sh --test   also what the tests need: LibreOffice, to open the
#                          workbooks as a spreadsheet user would, and the
#                          benchmark's peers (NumPy, QuantLib), which CI runs
#                          on a tiny size, and clang with libFuzzer for the
#                          fuzz smoke run (tests/fuzz)
set -euo pipefail
pkgs=(build-essential cmake pkg-config libgsl-dev librandom123-dev libcsv-dev
      libfyaml-dev libcriterion-dev libxlsxwriter-dev libplplot-dev)
if [ "${1:-}" = "--test" ]; then
  pkgs+=(libreoffice-calc-nogui python3 python3-numpy python3-yaml g++ libquantlib0-dev
         clang libclang-rt-14-dev)
  # The Python module's tests (python/ipabs): DataFrames, as quants use them.
  pkgs+=(python3-pandas)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "ipabs: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
