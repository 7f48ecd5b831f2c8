#!/usr/bin/env bash
# Regenerate the results table of docs/validation.md: every validation
# scenario (and the reference deal) run with --check-exact at its own seed
# and 100,000 paths, the same runs as tests/test_validation.c.  Prints
# Markdown on stdout.  Usage: tools/validation-table.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
[ -x "$build/ipabs" ] || { echo "build $build/ipabs first (tools/quickstart.sh)" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "| scenario | subject | measure | exact | Monte Carlo | std. error | z |"
echo "|---|---|---|---|---|---|---|"
for f in scenarios/validation/*.yaml scenarios/shenyang-ip-abs.yaml; do
  name=$(basename "$f" .yaml)
  "$build/ipabs" run "$f" -o "$out/$name" --paths 100000 --quiet --check-exact \
    > "$out/$name.txt" || true
  awk -v s="$name" '
    /^check-exact: / && NF >= 7 && $2 != "subject" && !/measures compared/ {
      if ($2 == "default_count" || $2 == "loss_distribution") {
        n[$2]++; z = $7 < 0 ? -$7 : $7; if (z > m[$2]) m[$2] = z; next
      }
      printf "| %s | %s | %s | %.6g | %.6g | %.3g | %.2f |\n", s, $2, $3, $5, $4, $6, $7
    }
    END {
      for (k in n) printf "| %s | %s | %d cells | | | | max \\|z\\| %.2f |\n", s, k, n[k], m[k]
    }' "$out/$name.txt"
done
