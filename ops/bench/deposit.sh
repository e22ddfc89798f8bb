#!/usr/bin/env bash
# Benchmark of `cairn deposit` (issue 3) and of the events it appends (issue 4).
#
#   ops/bench/deposit.sh [--cairn PATH] [--workdir DIR] [--keep] [--small N] [--no-2g]
#
#   (a) a warm 2 GiB folder (1,000 x 1 MiB + 4 x 250 MiB) deposited into a fresh
#       repository (first site only: --no-replicate; replication has its own
#       benchmark, replicate.sh), against `cp -r` of the folder onto the same
#       disk plus `openssl dgst -sha256` over it, in the same run.
#       Target: cairn / baseline <= 1.3. Peak RSS target: < 200 MiB.
#   (b) N small files (default 200,000) in one deposit, with --progress: files/s
#       over the first and the last 10% of the files (target: no slow-down as
#       the catalog grows), the commit, peak RSS (< 200 MiB), and
#       `cairn show` of the object (target: under 1 s, text and --json).
#   (c) the events' share of (b): the deposit's events are rows of its one
#       catalog transaction; what they add after it is writing the new event
#       segment to each site, timed by the "events" and "done" progress lines.
#       Target: <= 10% of the deposit.
#   --no-2g skips (a), e.g. for `--small 1000000 --no-2g` (the memory bound of
#   issue 3: a deposit's peak RSS does not grow with its file count).
# Without --cairn the script uses build/ops/cairn (ops/scripts/build.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init "$@"
small=200000
skip_2g=0
set -- "${BENCH_ARGS[@]+"${BENCH_ARGS[@]}"}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --small) small="$2"; shift 2 ;;
    --no-2g) skip_2g=1; shift ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

# ---- (a) 2 GiB folder.
if [[ $skip_2g -eq 0 ]]; then
  src="$workdir/src-2g"
  make_2g "$src"
  bytes_2g="$(bytes_of "$src")"
  warm "$src"
  quiesce
  rm -rf "$workdir/copy"
  timed cp_s cp -r "$src" "$workdir/copy"
  quiesce
  timed dgst_s dgst_seq "$src"
  base_s="$(calc "$cp_s + $dgst_s")"
  rm -rf "$workdir/copy"
  fresh_repo "$workdir/repo-2g"
  warm "$src"
  quiesce
  rss_run dep_s dep_kb "$cairn" --repo "$workdir/repo-2g" deposit bench "$src" --id big --no-replicate
  echo
  echo "== (a) 2 GiB folder ($bytes_2g bytes, 1,004 files)"
  copy_hash_report deposit "$dep_s" "$dep_kb" "$bytes_2g" "$cp_s" "$dgst_s" "$base_s"
  if [[ $keep -eq 0 ]]; then rm -rf "$workdir/repo-2g"; fi
fi

# ---- (b) N small files, one deposit.
sdir="$workdir/src-small"
make_small "$sdir" "$small"
warm "$sdir"
fresh_repo "$workdir/repo-small"
quiesce
rss_run small_s small_kb "$cairn" --repo "$workdir/repo-small" deposit bench "$sdir" --id many \
  --no-replicate --progress
log="$workdir/rss_run.err"
cp "$log" "$workdir/progress.log"
# "progress: store F files B bytes T s" every 1,000 files; commit when storing is done.
read -r first_fps last_fps store_s commit_s <<<"$(awk -v n="$small" '
  $2 == "store" { t[$3] = $7 }
  $2 == "commit" { c = $7 }
  END {
    tenth = int(n / 10 / 1000) * 1000; if (tenth < 1000) tenth = 1000
    last_from = n - tenth; if (last_from % 1000) last_from -= last_from % 1000
    # The first window starts at file 1,000: the time before it is start-up
    # (opening the catalog, listing the folder), not a per-file cost.
    printf "%.0f %.0f %.3f %.3f", tenth / (t[1000 + tenth] - t[1000]), (n - last_from) / (t[n] - t[last_from]), t[n], c
  }' "$workdir/progress.log")"
timed show_text_s "$cairn" --repo "$workdir/repo-small" show bench/many >/dev/null
timed show_json_s "$cairn" --repo "$workdir/repo-small" show bench/many --json >/dev/null
echo
echo "== (b) $small small files in one deposit"
echo "whole deposit:          ${small_s} s ($(calc "$small / $small_s") files/s), peak RSS $((small_kb / 1024)) MiB (target < 200)"
echo "first 10% of files:     ${first_fps} files/s"
echo "last 10% of files:      ${last_fps} files/s  (ratio last/first $(calc "$last_fps / $first_fps"); target: no slow-down)"
echo "storing all files:      ${store_s} s; catalog commit and the rest: $(calc "$small_s - $commit_s") s"
echo "cairn show (text):      ${show_text_s} s  (target < 1 s)"
echo "cairn show --json:      ${show_json_s} s  (target < 1 s)"

# ---- (c) the events' share of (b), from the same progress log.
read -r events_at done_at <<<"$(awk '$2 == "events" { e = $7 } $2 == "done" { d = $7 } END { printf "%.3f %.3f", e, d }' "$workdir/progress.log")"
echo
echo "== (c) events of the deposit of $small files"
echo "writing the event segments to the sites: $(calc "$done_at - $events_at") s of ${done_at} s"
echo "events overhead: $(calc "($done_at - $events_at) / $events_at * 100")%  (target <= 10%; the three events"
echo "  themselves are rows of the deposit's one catalog transaction, counted in the commit)"
echo "== load average at end: $(cut -d" " -f1-3 /proc/loadavg)"
