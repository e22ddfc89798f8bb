#!/usr/bin/env bash
# Benchmark of `cairn catalog rebuild` (issue 4: a site holding 100,000 files
# must be rebuilt in under a minute). Makes a repository, deposits one folder
# of N tiny files (default 100,000) without replication, then rebuilds the
# catalog from site a alone into a new folder and again in place (catalog
# deleted), printing the time and files per second of each.
#
#   ops/bench/catalog_rebuild.sh [N]
#   CAIRN=build-x/ops/cairn ops/bench/catalog_rebuild.sh 100000
#
# Everything goes to a temp folder under $TMPDIR, removed at the end.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cairn=${CAIRN:-$top/build/ops/cairn}
files=${1:-100000}
[ -x "$cairn" ] || { echo "no cairn binary at $cairn (build first, or set CAIRN)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-rebuild.XXXXXX")
trap 'rm -rf "$work"' EXIT
repo=$work/repo
src=$work/src

now() { date +%s.%N; }
rate() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.0f", (t > 0 ? n / t : 0) }'; }

echo "making $files tiny files in $src"
mkdir -p "$src"
# split writes one line per file: N distinct tiny files, fast.
(cd "$src" && seq 1 "$files" | split -l 1 -a 6 -d - f)

"$cairn" init "$repo" >/dev/null
"$cairn" --repo "$repo" partner add bench >/dev/null
t0=$(now)
"$cairn" --repo "$repo" deposit bench "$src" --id many --no-replicate >/dev/null
t1=$(now)
deposit_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
echo "deposit of $files files: ${deposit_s} s ($(rate "$files" "$deposit_s") files/s)"

site_url="file://$repo/sites/a"

t0=$(now)
"$cairn" catalog rebuild --from "$site_url" --into "$work/rebuilt" --json >"$work/into.json"
t1=$(now)
into_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
echo "catalog rebuild --into (new folder): ${into_s} s ($(rate "$files" "$into_s") files/s)"

rm -f "$repo/catalog.db" "$repo/catalog.db-wal" "$repo/catalog.db-shm"
t0=$(now)
"$cairn" --repo "$repo" catalog rebuild --from "$site_url" --json >"$work/inplace.json"
t1=$(now)
inplace_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
echo "catalog rebuild in place (catalog deleted): ${inplace_s} s ($(rate "$files" "$inplace_s") files/s)"
grep -E '"(files|versions|events|chain_ok)"' "$work/inplace.json" | tr -d ' ,' | paste -sd' '

verdict=$(awk -v t="$inplace_s" 'BEGIN { print (t < 60 ? "PASS" : "FAIL") }')
echo "target: under 60 s for $files files: $verdict"
