#!/usr/bin/env bash
# Benchmark of `cairn deposit` (issue 3) and of the events it appends (issue 4).
#
#   ops/bench/deposit.sh [--cairn PATH] [--workdir DIR] [--keep] [--small N] [--no-2g] [--no-shm]
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
#   (d) (b) again with the repository on tmpfs (/dev/shm), where no disk
#       flush hides the per-file cost of Cairn, then a second deposit of N
#       other files into the catalog the first one grew: files/s per tenth of
#       each, and the second against the first. (On this disk (b) is bound by
#       the two fsyncs of each blob, and their latency wanders with the
#       machine's other I/O.) --no-shm skips it.
#   --no-2g skips (a), e.g. for `--small 1000000 --no-2g` (the memory bound of
#   issue 3: a deposit's peak RSS does not grow with its file count).
# Without --cairn the script uses build/ops/cairn (ops/scripts/build.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init "$@"
small=200000
skip_2g=0
skip_shm=0
set -- "${BENCH_ARGS[@]+"${BENCH_ARGS[@]}"}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --small) small="$2"; shift 2 ;;
    --no-2g) skip_2g=1; shift ;;
    --no-shm) skip_shm=1; shift ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
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

# tenths LOG N all|summary: files/s over each tenth of the N files of a deposit,
# from its "progress: store F files B bytes T s" lines (one every 1,000 files).
# The first tenth starts at file 1,000: the time before it is start-up
# (opening the catalog, listing the folder), not a per-file cost. "summary":
# the first and last tenths, the time storing ended and the commit began.
tenths() {
  awk -v n="$2" -v what="$3" '
    $2 == "store" { t[$3] = $7 }
    $2 == "commit" { c = $7 }
    END {
      tenth = int(n / 10 / 1000) * 1000; if (tenth < 1000) tenth = 1000
      for (i = 1; i <= 10; i++) {
        from = (i == 1) ? 1000 : (i - 1) * tenth; to = (i == 10) ? n : i * tenth
        if (to <= from) continue
        r[i] = (to - from) / (t[to] - t[from]); out = out sprintf("%.0f ", r[i])
      }
      if (what == "all") print out
      else printf "%.0f %.0f %.3f %.3f", r[1], r[10], t[n], c
    }' "$1"
}

# ---- (b) N small files, one deposit.
sdir="$workdir/src-small"
make_small "$sdir" "$small"
warm "$sdir"
fresh_repo "$workdir/repo-small"
quiesce
rss_run small_s small_kb "$cairn" --repo "$workdir/repo-small" deposit bench "$sdir" --id many \
  --no-replicate --progress
cp "$workdir/rss_run.err" "$workdir/progress.log"
read -r first_fps last_fps store_s commit_s <<<"$(tenths "$workdir/progress.log" "$small" summary)"
timed show_text_s lacking_ok "$cairn" --repo "$workdir/repo-small" show bench/many >/dev/null
timed show_json_s lacking_ok "$cairn" --repo "$workdir/repo-small" show bench/many --json >/dev/null
echo
echo "== (b) $small small files in one deposit"
echo "whole deposit:          ${small_s} s ($(calc "$small / $small_s") files/s), peak RSS $((small_kb / 1024)) MiB (target < 200)"
echo "files/s per tenth:      $(tenths "$workdir/progress.log" "$small" all)"
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

# ---- (d) the same deposit with the repository in memory (tmpfs), then a
# second one of N other files into the catalog the first one grew.
if [[ $skip_shm -eq 0 ]]; then
  shm="$(mktemp -d /dev/shm/cairn-bench-XXXXXX)"
  trap 'rm -rf "$shm"; bench_cleanup' EXIT
  sdir2="$workdir/src-small-2"
  make_small "$sdir2" "$small"
  warm "$sdir"
  warm "$sdir2"
  fresh_repo "$shm/repo"
  quiesce
  rss_run mem1_s mem1_kb "$cairn" --repo "$shm/repo" deposit bench "$sdir" --id many --no-replicate --progress
  cp "$workdir/rss_run.err" "$workdir/progress-mem1.log"
  rss_run mem2_s mem2_kb "$cairn" --repo "$shm/repo" deposit bench "$sdir2" --id many2 --no-replicate --progress
  cp "$workdir/rss_run.err" "$workdir/progress-mem2.log"
  read -r m1_first m1_last _ _ <<<"$(tenths "$workdir/progress-mem1.log" "$small" summary)"
  read -r m2_first m2_last _ _ <<<"$(tenths "$workdir/progress-mem2.log" "$small" summary)"
  timed show_grown_s lacking_ok "$cairn" --repo "$shm/repo" show bench/many2 >/dev/null
  echo
  echo "== (d) the deposit of (b) with the repository on tmpfs ($shm): no disk,"
  echo "   so what is left is the per-file cost of Cairn itself"
  echo "1st deposit ($small files into an empty catalog): ${mem1_s} s ($(calc "$small / $mem1_s") files/s), peak RSS $((mem1_kb / 1024)) MiB"
  echo "   files/s per tenth:   $(tenths "$workdir/progress-mem1.log" "$small" all)"
  echo "   last/first 10%:      $(calc "$m1_last / $m1_first")  (target: no slow-down)"
  echo "2nd deposit ($small other files, catalog holding $small): ${mem2_s} s ($(calc "$small / $mem2_s") files/s), peak RSS $((mem2_kb / 1024)) MiB"
  echo "   files/s per tenth:   $(tenths "$workdir/progress-mem2.log" "$small" all)"
  echo "   last/first 10%:      $(calc "$m2_last / $m2_first")"
  echo "2nd deposit / 1st, whole: $(calc "$mem1_s / $mem2_s")  (files/s; target: no slow-down as the catalog grows)"
  echo "cairn show of the 2nd object: ${show_grown_s} s  (target < 1 s)"
  rm -rf "$shm"
fi
echo "== load average at end: $(cut -d" " -f1-3 /proc/loadavg)"
