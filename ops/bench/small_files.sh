#!/usr/bin/env bash
# Benchmark of many small files (issue 19): N x 4 KiB random files (warm) deposited
# into a posix site with --no-replicate, then replicated to a second posix site,
# against a baseline on the same disk of
#   cp -r SRC DEST && find DEST -type f | xargs -P2 openssl dgst -sha256 >/dev/null && sync
# Each of R rounds runs them one after another (baseline, deposit into a fresh
# repository, replicate, the same folder deposited again as the object's version 2 (every
# blob stored already: read back, not copied; no goal, shown beside the first deposit), then
# the same files as a bag folder deposited into another fresh repository), so a noisy disk
# skews them alike; the medians and the ratios cairn / baseline are printed. Goal: every
# ratio <= 1.0. --layout 1 makes the sites in the
# layout of sites made before 2026-12-05 (blobs fanned out over two folder levels; repo/FORMAT.md
# "Blobs"), to compare the two layouts with the same binary.
#
#   ops/bench/small_files.sh [--cairn PATH] [--workdir DIR] [--files N] [--rounds R] [--layout 1|2]
#                            [--keep]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init "$@"
files=50000
rounds=3
layout=2
set -- "${BENCH_ARGS[@]+"${BENCH_ARGS[@]}"}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --files) files="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --layout) layout="$2"; shift 2 ;;
    *) sed -n '2,15p' "$0"; exit 2 ;;
  esac
done
[[ "$files" =~ ^[1-9][0-9]*$ && "$rounds" =~ ^[1-9][0-9]*$ && "$layout" =~ ^[12]$ ]] ||
  { sed -n '2,15p' "$0"; exit 2; }

# site_layout REPO: with --layout 1, its new (still empty) sites become sites of layout 1,
# as the release before made them: only the marker's first line differs.
site_layout() {
  [[ "$layout" == 1 ]] || return 0
  local marker
  for marker in "$1"/sites/*/CAIRN-SITE; do sed -i '1s/^cairn-site 2$/cairn-site 1/' "$marker"; done
}

# make_4k DIR N: N files of 4 KiB of random bytes in folders of 1,000 (kept if present).
make_4k() {
  local dir="$1" n="$2" d left
  [[ -f "$dir.complete-$n" ]] && return 0
  echo "-- generating $n x 4 KiB random files in $dir"
  rm -rf "$dir" "$dir".complete-*
  for ((d = 0; d * 1000 < n; d++)); do
    left=$((n - d * 1000))
    ((left > 1000)) && left=1000
    mkdir -p "$dir/d$d"
    head -c $((left * 4096)) /dev/urandom | split -b 4096 -a 3 -d - "$dir/d$d/f"
  done
  touch "$dir.complete-$n"
}

# median V...: the middle value (the mean of the two middle ones for an even count).
median() {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    if (NR % 2) printf "%.3f", v[(NR + 1) / 2]; else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

baseline() {
  cp -r "$src" "$workdir/dest" && find "$workdir/dest" -type f | xargs -P2 openssl dgst -sha256 \
    >/dev/null && sync
}

src="$workdir/src-4k-$files"
make_4k "$src" "$files"
# The same files as a bag folder (sha256), deposited as such: the bag walker's path.
bag="$workdir/bag-4k-$files"
if [[ ! -f "$bag.complete" ]]; then
  rm -rf "$bag"
  "$cairn" --quiet bag create --algorithm sha256 "$src" "$bag" >/dev/null
  touch "$bag.complete"
fi
bytes="$(bytes_of "$src")"
repo="$workdir/repo"
base=() dep=() rep=() bagd=() again=()
for ((r = 1; r <= rounds; r++)); do
  warm "$src"
  rm -rf "$workdir/dest"
  quiesce
  timed b baseline
  rm -rf "$workdir/dest"
  fresh_repo "$repo"
  site_layout "$repo"
  warm "$src"
  quiesce
  timed d "$cairn" --quiet --repo "$repo" deposit bench "$src" --id small --no-replicate
  quiesce
  timed p "$cairn" --quiet --repo "$repo" replicate
  lacking_ok "$cairn" --quiet --repo "$repo" list >/dev/null
  warm "$src"
  quiesce
  timed v "$cairn" --quiet --repo "$repo" deposit bench "$src" --id small --no-replicate
  fresh_repo "$repo"
  site_layout "$repo"
  warm "$bag"
  quiesce
  timed g "$cairn" --quiet --repo "$repo" deposit bench "$bag" --id bagged --no-replicate
  echo "round $r: baseline $b s, deposit $d s, replicate $p s, again $v s, bag folder deposit $g s" \
    "(load $(cut -d" " -f1-3 /proc/loadavg))"
  base+=("$b") dep+=("$d") rep+=("$p") bagd+=("$g") again+=("$v")
done
mb=$(median "${base[@]}") md=$(median "${dep[@]}") mp=$(median "${rep[@]}") mg=$(median "${bagd[@]}")
mv=$(median "${again[@]}")
echo
echo "== $files x 4 KiB ($bytes bytes), sites of layout $layout, medians of $rounds rounds"
printf '%-34s%s s\n' "baseline (cp -r + dgst + sync):" "$mb" "cairn deposit --no-replicate:" "$md" \
  "cairn replicate (a to b):" "$mp" "cairn deposit again (v2, stored):" "$mv" \
  "cairn deposit of the bag folder:" "$mg"
printf '%-34s%s  (goal <= 1.0)\n' "ratio deposit / baseline:" "$(calc "$md / $mb")" \
  "ratio replicate / baseline:" "$(calc "$mp / $mb")" \
  "ratio bag folder / baseline:" "$(calc "$mg / $mb")"
echo "== load average at end: $(cut -d" " -f1-3 /proc/loadavg)"
