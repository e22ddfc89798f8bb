#!/usr/bin/env bash
# Benchmark of replication (issue 4): a warm 2 GiB object (1,000 x 1 MiB +
# 4 x 250 MiB) copied from site a to site b of a fresh repository by
# `cairn replicate` (every copy written, fsynced, read back and its SHA-256
# checked), against `cp -r` of the same blobs onto the same disk plus
# `openssl dgst -sha256` over them, in the same run. Target: ratio <= 1.3.
#
#   ops/bench/replicate.sh [--cairn PATH] [--workdir DIR] [--keep]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init "$@"
[[ ${#BENCH_ARGS[@]} -eq 0 ]] || { sed -n '2,9p' "$0"; exit 2; }

src="$workdir/src-2g"
make_2g "$src"
repo="$workdir/repo"
fresh_repo "$repo"
"$cairn" --quiet --repo "$repo" deposit bench "$src" --id big --no-replicate
[[ $keep -eq 0 ]] && rm -rf "$src"
blobs="$repo/sites/a/blobs"
bytes="$(bytes_of "$repo/sites/a")"
warm "$repo/sites/a"
quiesce
timed cp_s cp -r "$blobs" "$workdir/copy"
quiesce
timed dgst_s dgst_seq "$workdir/copy"
base_s="$(calc "$cp_s + $dgst_s")"
rm -rf "$workdir/copy"
warm "$repo/sites/a"
quiesce
rss_run rep_s rep_kb "$cairn" --repo "$repo" replicate
"$cairn" --repo "$repo" list
echo
echo "== replication of a 2 GiB object to a second posix site ($bytes bytes on site a)"
copy_hash_report replicate "$rep_s" "$rep_kb" "$bytes" "$cp_s" "$dgst_s" "$base_s"
echo "== load average at end: $(cut -d" " -f1-3 /proc/loadavg)"
