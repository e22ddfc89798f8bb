#!/usr/bin/env bash
# Issue 19: does a full audit sweep stay as cheap as the repository's history grows? Each sweep
# adds one fixity event per copy it checks, and `audit run --all` also checks every site's copy
# of the event log, so without care sweep N costs more than sweep 1 on the same copies.
#
#   ops/bench/audit_history.sh [--cairn PATH] [--workdir DIR] [--keep] [--files N] [--sweeps K]
#
# The data: N small files (default 20,000; about 100 bytes each) deposited into a repository with
# two posix sites a and b (2 x N copies). Then K (default 10) warm `cairn audit run --all`
# sweeps of both sites, one after another. Prints each sweep's time and the catalog's event count
# before it, and the ratio last sweep / first sweep measured in the same run (the baseline: the
# same sweep over the same copies with the shortest history). 1.0 would be no growth at all; the
# log's own copies grow with every sweep, so reading and hashing them is a real, small, part.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init "$@"
files=20000
sweeps=10
set -- "${BENCH_ARGS[@]+"${BENCH_ARGS[@]}"}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --files) files="$2"; shift 2 ;;
    --sweeps) sweeps="$2"; shift 2 ;;
    -h | --help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

src="$workdir/small-$files"
make_small "$src" "$files"
repo="$workdir/repo"
fresh_repo "$repo"
"$cairn" --quiet --repo "$repo" deposit bench "$src" --id history >/dev/null

echo "-- $sweeps sweeps of $((2 * files)) copies (two sites)"
first=""
last=""
for ((i = 1; i <= sweeps; i++)); do
  before=$(sqlite3 "$repo/catalog.db" "SELECT COALESCE(MAX(seq), 0) FROM events" 2>/dev/null || echo "?")
  timed sec "$cairn" --quiet --repo "$repo" audit run --all >/dev/null
  printf 'sweep %2d: %7.2f s   (%s events before it)\n' "$i" "$sec" "$before"
  [[ -z "$first" ]] && first=$sec
  last=$sec
done
echo "last sweep / first sweep: $(calc "$last / $first")"
