#!/usr/bin/env bash
# Issue 19, first row: how close warm validation and a warm audit sweep come to the hashing
# limit of the machine's cores.
#
#   ops/bench/hash_limit.sh [--cairn PATH] [--workdir DIR] [--keep] [--rounds N]
#
# The data: a 2 GiB bag (1,000 x 1 MiB + 4 x 250 MiB random files, manifest-sha256.txt), and
# the same files deposited into a repository (one posix site: --no-replicate). Each round, on
# warm data: `openssl speed -evp sha256 -multi 2 -bytes 1048576` (the limit: both cores hashing
# a buffer that stays in their caches), `cairn bag validate` of the bag, and `cairn audit run
# --all --site a` of the repository (every blob read back and hashed). Prints each round and the
# medians, and the ratios cairn bytes/s / openssl bytes/s measured in the same round
# (target: >= 0.95 for both). A second baseline, the same OpenSSL SHA-256 over the same warm
# files with nothing else (python3: mmap + hashlib, two threads, largest first), shows how much
# of the gap is hashing data streamed from the page cache rather than a buffer kept in the
# cores' caches, which is what `openssl speed` hashes.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init "$@"
rounds=3
set -- "${BENCH_ARGS[@]+"${BENCH_ARGS[@]}"}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    -h | --help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

src="$workdir/src-2g"
make_2g "$src"
bag="$workdir/bag-2g"
if [[ ! -f "$bag/bagit.txt" ]]; then
  "$cairn" --quiet bag create "$src" "$bag" --algorithm sha256 >/dev/null
fi
repo="$workdir/repo"
fresh_repo "$repo"
"$cairn" --quiet --repo "$repo" deposit bench "$src" --id big --no-replicate >/dev/null
rm -rf "$src"
bytes="$(bytes_of "$bag/data")"
echo "== $bytes bytes in 1,004 files; $rounds rounds"

# plain_hash DIR: seconds for python3 to SHA-256 every file of DIR from the page cache.
plain_hash() {
  python3 - "$1" <<'PY'
import hashlib, mmap, os, sys, time
from concurrent.futures import ThreadPoolExecutor
t = time.monotonic()
files = sorted(((os.path.getsize(os.path.join(r, n)), os.path.join(r, n))
                for r, _, names in os.walk(sys.argv[1]) for n in names), reverse=True)
def sha256(item):
    size, path = item
    h = hashlib.sha256()
    with open(path, "rb") as f:
        if size:
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
                view = memoryview(m)
                for at in range(0, size, 1 << 20):
                    h.update(view[at:at + (1 << 20)])  # hashlib releases the GIL here
                view.release()
    return h.hexdigest()
with ThreadPoolExecutor(2) as pool:
    list(pool.map(sha256, files))
print(f"{time.monotonic() - t:.3f}")
PY
}

speeds=() validates=() audits=() r_val=() r_aud=() plains=() p_val=() p_aud=()
for ((i = 1; i <= rounds; i++)); do
  # Each measure right after its data is read into the page cache: this VM's
  # memory reclaim (DAMON, pageout of file pages idle for about a minute, in
  # regions) evicts a few percent of files read seconds before, and a fault on
  # an evicted page reads the disk.
  sp="$(openssl_speed_bps 1048576)"
  warm "$bag"
  timed tv "$cairn" --quiet bag validate "$bag"
  warm "$repo/sites/a"
  timed ta "$cairn" --quiet --repo "$repo" audit run --all --site a --json >/dev/null
  warm "$bag"
  tp="$(plain_hash "$bag/data")"
  speeds+=("$sp") validates+=("$tv") audits+=("$ta") plains+=("$tp")
  rv="$(calc "$bytes / $tv / $sp")"
  ra="$(calc "$bytes / $ta / $sp")"
  r_val+=("$rv") r_aud+=("$ra")
  p_val+=("$(calc "$tp / $tv")") p_aud+=("$(calc "$tp / $ta")")
  echo "round $i: openssl $(calc "$sp / 1e6") MB/s; validate $tv s ($(calc "$bytes / $tv / 1e6") MB/s, ratio $rv); audit $ta s ($(calc "$bytes / $ta / 1e6") MB/s, ratio $ra); plain OpenSSL from the page cache $tp s"
done
echo
echo "median openssl speed -multi 2 -bytes 1048576: $(calc "$(printf '%s\n' "${speeds[@]}" | median_stdin) / 1e6") MB/s"
echo "median cairn bag validate: $(printf '%s\n' "${validates[@]}" | median_stdin) s"
echo "median cairn audit run --all: $(printf '%s\n' "${audits[@]}" | median_stdin) s"
echo "median ratio, validate / openssl speed: $(printf '%s\n' "${r_val[@]}" | median_stdin)  (target >= 0.95)"
echo "median ratio, audit / openssl speed: $(printf '%s\n' "${r_aud[@]}" | median_stdin)  (target >= 0.95)"
echo "median plain hashing of the bag's files from the page cache (python3 mmap + hashlib, 2 threads): $(printf '%s\n' "${plains[@]}" | median_stdin) s"
echo "median ratio, validate / plain hashing: $(printf '%s\n' "${p_val[@]}" | median_stdin)  (above 1: faster)"
echo "median ratio, audit / plain hashing: $(printf '%s\n' "${p_aud[@]}" | median_stdin)"
echo "== load average at end: $(cut -d" " -f1-3 /proc/loadavg)"
