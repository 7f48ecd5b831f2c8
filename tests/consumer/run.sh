#!/usr/bin/env bash
# Install ipabs from BUILD_DIR into a temporary prefix, build consumer.c
# against the installed tree through pkg-config and through
# find_package(ipabs CONFIG), run both, and compare what they print with
# the installed CLI's summary.csv of the same run.  Also checks that the
# shared library exports nothing but the API of its installed headers.
#   tests/consumer/run.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "$1" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ipabs-consumer-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
scenario=$root/scenarios/shenyang-ip-abs.yaml

# The installed tree, in the usual places.
lib=$(dirname "$(find "$prefix" -name 'libipabs.so' | head -1)")
for f in bin/ipabs include/ipabs/ipabs.h include/ipabs/error.h include/ipabs/export.h \
         share/man/man1/ipabs.1 share/doc/ipabs/README.md share/doc/ipabs/cli.md; do
  [ -e "$prefix/$f" ] || { echo "consumer: $f not installed" >&2; exit 1; }
done
[ -e "$lib/libipabs.a" ] || { echo "consumer: libipabs.a not installed" >&2; exit 1; }
soname=$(readelf -d "$lib/libipabs.so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
[ "$soname" = "libipabs.so.0.1" ] || { echo "consumer: SONAME is '$soname'" >&2; exit 1; }

# Exported functions: exactly the ones the installed headers declare.
# (.gomp_critical_user_* is GCC's OpenMP lock for a named critical section.)
exported=$(nm -D --defined-only "$lib/libipabs.so" | awk '$2 == "T" {print $3}' | sort)
declared=$(grep -ho '^IPABS_API [^(]*(' "$prefix"/include/ipabs/*.h |
           sed 's/($//; s/.*[ *]//' | sort)
if [ "$exported" != "$declared" ]; then
  echo "consumer: exported and declared functions differ:" >&2
  diff <(echo "$declared") <(echo "$exported") >&2 || true
  exit 1
fi

# The CLI's answer.
"$prefix/bin/ipabs" run "$scenario" -o "$tmp/run" --paths 20000 --seed 3 --quiet
expected=$(awk -F, '$1 == "senior" && $2 == "expected_loss" {print $3, $4}' "$tmp/run/summary.csv")
cdr_rows=$(( $(wc -l < "$tmp/run/cdr.csv") - 1 ))

check() {
  local how=$1 exe=$2 out
  out=$("$exe" "$scenario" 20000 3)
  grep -qx "senior expected_loss $expected" <<<"$out" ||
    { echo "consumer ($how): expected 'senior expected_loss $expected', got:" >&2; echo "$out" >&2; exit 1; }
  grep -qx "cdr rows $cdr_rows" <<<"$out" ||
    { echo "consumer ($how): wrong cdr rows: $out" >&2; exit 1; }
  grep -q "^error --set:1: model.correlation: " <<<"$out" ||
    { echo "consumer ($how): bad override not reported: $out" >&2; exit 1; }
  echo "consumer ($how): OK, senior expected_loss $expected"
}

# 1. pkg-config.
export PKG_CONFIG_PATH=$lib/pkgconfig
[ "$(pkg-config --modversion ipabs)" = "0.1.0" ]
# shellcheck disable=SC2046
cc -std=c17 -Wall -Wextra -Wpedantic -Werror -o "$tmp/consumer_pc" "$here/consumer.c" \
   $(pkg-config --cflags --libs ipabs) -Wl,-rpath,"$lib"
check pkg-config "$tmp/consumer_pc"

# 2. find_package(ipabs CONFIG).
cmake -S "$here" -B "$tmp/cmake" -DCMAKE_PREFIX_PATH="$prefix" \
      -DCMAKE_BUILD_RPATH="$lib" >/dev/null
cmake --build "$tmp/cmake" >/dev/null
check find_package "$tmp/cmake/consumer"

# 3. The installed Python module finds the installed library by itself.
if [ -x /usr/bin/python3 ]; then
  out=$(env -u IPABS_LIBRARY PYTHONPATH="$prefix/share/ipabs/python" /usr/bin/python3 -c \
        "import ipabs; print(ipabs.version, ipabs._native.lib._name)")
  grep -q "^0.1.0 $lib/libipabs.so.0.1$" <<<"$out" ||
    { echo "consumer (python): unexpected '$out'" >&2; exit 1; }
  echo "consumer (python): OK, $out"
fi
