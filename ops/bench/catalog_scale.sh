#!/usr/bin/env bash
# Benchmark of the catalog at consortium scale (issue 19's last row): builds a
# catalog of N files (default 10,000,000) through real deposits of generated
# folders of K distinct tiny files each (default 100,000: N/K objects, one
# posix site, --no-replicate), then measures
#   - the deposit rate of each million files (files/s), first against last;
#   - the catalog's bytes per file;
#   - `cairn show` of the first and of the last object, `cairn list` (first and
#     again), one more deposit and the list after it;
#   - what share of an audit sweep picking the copies takes (select_micros of
#     `audit run --all --sample 1/100 --no-repair`, against the sweep's wall time);
#   - `catalog rebuild --into NEW` from the site: time, files/s, bytes per file.
#
#   ops/bench/catalog_scale.sh [--cairn PATH] [--workdir DIR] [--files N] [--per-object K]
#                              [--loop-gib G] [--skip-rebuild] [--keep]
#
# Disk: each blob is a tiny file (an inode, a block, a fan-out folder entry). On a
# file system of 4 KiB blocks 10,000,000 blobs take about 45 GB; with --loop-gib G
# (root only) the repository goes on a new ext4 of 1 KiB blocks made in a G GiB file
# in the work folder and loop-mounted with `nobarrier` (about 16 GB for 10,000,000
# files plus the catalog). nobarrier: cairn still calls fsync/syncfs as always, but the
# loop file system does not pass the flushes on to the file holding it (each would sync
# the whole image: 900 files/s instead of 5,600): this row measures the catalog, not the
# disk's flush latency, which ops/bench/small_files.sh measures. The sources are made in
# /dev/shm when it exists (one object's worth at a time). At about 3,000-6,000 files/s
# the 10,000,000-file build takes 30-60 min.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init "$@"
files=10000000
per=100000
loop_gib=0
rebuild=1
set -- "${BENCH_ARGS[@]+"${BENCH_ARGS[@]}"}"
usage() { sed -n '2,25p' "$0"; exit 2; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --files) files="$2"; shift 2 ;;
    --per-object) per="$2"; shift 2 ;;
    --loop-gib) loop_gib="$2"; shift 2 ;;
    --skip-rebuild) rebuild=0; shift ;;
    *) usage ;;
  esac
done
[[ "$files" =~ ^[1-9][0-9]*$ && "$per" =~ ^[1-9][0-9]*$ && "$loop_gib" =~ ^[0-9]+$ ]] || usage
objects=$(((files + per - 1) / per))

base=$workdir
if ((loop_gib > 0)); then
  [[ $(id -u) -eq 0 ]] || { echo "--loop-gib needs root (mount)" >&2; exit 2; }
  truncate -s "${loop_gib}G" "$workdir/fs.img"
  mkfs.ext4 -q -F -b 1024 -I 256 -N $((files * 11 / 10 + 1000000)) "$workdir/fs.img"
  mkdir -p "$workdir/mnt"
  mount -o loop,nobarrier "$workdir/fs.img" "$workdir/mnt"
  base=$workdir/mnt
  cleanup_loop() { umount "$workdir/mnt" 2>/dev/null || true; bench_cleanup; }
  trap cleanup_loop EXIT
fi
echo "== repository on: $(df -h --output=source,fstype,size,avail "$base" | tail -1)$( ((loop_gib > 0)) && echo " (1 KiB blocks, mounted nobarrier)")"
src_root=$workdir
[[ -d /dev/shm && -w /dev/shm ]] && src_root=$(mktemp -d /dev/shm/cairn-bench-src.XXXXXX)
src=$src_root/src
repo=$base/repo
"$cairn" --quiet init "$repo" >/dev/null
"$cairn" --quiet --repo "$repo" partner add bench >/dev/null

# make_source ROUND COUNT: COUNT distinct tiny files (a line each) in $src.
make_source() {
  rm -rf "$src"
  mkdir -p "$src"
  (cd "$src" && seq -f "object $1 file %.0f" 1 "$2" | split -l 1 -a 6 -d - f)
}

echo "-- building the catalog: $files files in $objects objects of up to $per"
done_files=0
million_s=0
million_files=0
million_no=1
rates=()
t_build0=$(now)
for ((o = 1; o <= objects; o++)); do
  count=$per
  ((done_files + count > files)) && count=$((files - done_files))
  make_source "$o" "$count"
  timed sec "$cairn" --quiet --repo "$repo" deposit bench "$src" --id "o$o" --no-replicate
  done_files=$((done_files + count))
  million_s=$(calc "$million_s + $sec")
  million_files=$((million_files + count))
  if ((done_files >= million_no * 1000000 || done_files == files)); then
    rate=$(calc "$million_files / $million_s")
    rates+=("$rate")
    printf 'files %10d: last %d files in %s s of deposit: %s files/s\n' \
      "$done_files" "$million_files" "$million_s" "$rate"
    million_s=0
    million_files=0
    million_no=$((done_files / 1000000 + 1))
  fi
done
echo "build (sources and deposits): $(calc "$(now) - $t_build0") s"

catalog_bytes() { du -cb "$1"/catalog.db* | tail -1 | cut -f1; }
cat_b=$(catalog_bytes "$repo")
echo "catalog: $cat_b bytes, $(calc "$cat_b / $files") bytes per file"

sync
# show and list exit 1 for objects lacking copies (--no-replicate): expected here.
timed show_first lacking_ok "$cairn" --repo "$repo" show bench/o1 >/dev/null
timed show_last lacking_ok "$cairn" --repo "$repo" show "bench/o$objects" >/dev/null
timed list_s lacking_ok "$cairn" --repo "$repo" list >/dev/null
timed list2_s lacking_ok "$cairn" --repo "$repo" list >/dev/null
timed show_first2 lacking_ok "$cairn" --repo "$repo" show bench/o1 >/dev/null
echo "cairn show of the first object ($per files): $show_first s (again: $show_first2 s) (target < 1 s)"
echo "cairn show of the last object: $show_last s (target < 1 s)"
# Each deposit keeps what the list shows for its version (catalog migration 9's memo,
# computed when the deposit ends): the first list reads 100 rows, like the second. (A
# version whose memo is missing costs the list one pass over its files.)
echo "cairn list ($objects objects): first $list_s s, again $list2_s s (target < 1 s)"
# One more deposit once the catalog is full: what the next depositor waits, and what
# the list after it costs.
make_source $((objects + 1)) "$per"
timed extra_s "$cairn" --quiet --repo "$repo" deposit bench "$src" --id "o$((objects + 1))" --no-replicate
rm -rf "$src"
total=$((files + per))
timed list3_s lacking_ok "$cairn" --repo "$repo" list >/dev/null
echo "one more deposit of $per files: $extra_s s ($(calc "$per / $extra_s") files/s); cairn list after it: $list3_s s"

rc=0
timed audit_s "$cairn" --repo "$repo" audit run --all --sample 1/100 --no-repair --json \
  >"$workdir/audit.json" || rc=$?
if [[ $rc -ne 0 ]]; then
  # exit 1 would mean a finding: on this fresh repository that is a defect, shown.
  echo "audit run exited $rc" >&2
  head -c 2000 "$workdir/audit.json" >&2
  exit 1
fi
checked=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["checked"])' \
  "$workdir/audit.json")
select_us=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["select_micros"])' \
  "$workdir/audit.json")
echo "audit run --all --sample 1/100: $checked copies in $audit_s s; picking them $(calc "$select_us / 1e6") s = $(calc "100 * $select_us / 1e6 / $audit_s")% of the sweep (target < 5%)"

if ((rebuild)); then
  timed rebuild_s "$cairn" catalog rebuild --from "file://$repo/sites/a" --into "$base/rebuilt" \
    --json >"$workdir/rebuild.json"
  rb_b=$(catalog_bytes "$base/rebuilt")
  echo "catalog rebuild --into NEW from site a ($total files): $rebuild_s s ($(calc "$total / $rebuild_s") files/s), catalog $rb_b bytes ($(calc "$rb_b / $total") bytes per file)"
fi
rm -rf "$src"
[[ "$src_root" == /dev/shm/* ]] && rmdir "$src_root"
echo "== load average at the end: $(cut -d" " -f1-3 /proc/loadavg)"
first=${rates[0]}
last=${rates[${#rates[@]}-1]}
echo "deposit rate, first million / last million: $first / $last files/s (last / first $(calc "$last / $first"); target: flat)"
