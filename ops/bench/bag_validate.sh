#!/usr/bin/env bash
# Benchmark of the BagIt engine (issue 2): `cairn bag validate` (and `cairn bag
# create`) on warm data, against OpenSSL in the same run.
#
#   ops/bench/bag_validate.sh [--cairn PATH] [--workdir DIR] [--million] [--keep]
#
#   (a) a 2 GiB bag: 1,000 x 1 MiB + 4 x 250 MiB random files, sha256.
#       Target: validate >= 0.90 x `openssl speed -evp sha256 -multi 2` (16 KiB blocks).
#   (b) a bag of 50,000 x 4 KiB files, sha256. Target: >= 20,000 files/s.
#   (c) --million: a bag of 1,000,000 small files (bagged in place): peak RSS of
#       validate. Target: < 256 MiB.
# Each figure is also given as a ratio against `openssl dgst -sha256` over the
# same files (xargs -P2, i.e. two cores), measured in the same run.
# Without --cairn, a Release build is made in build-bench/ of the repository.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cairn=""
workdir=""
million=0
keep=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --cairn) cairn="$2"; shift 2 ;;
    --workdir) workdir="$2"; shift 2 ;;
    --million) million=1; shift ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

if [[ -z "$cairn" ]]; then
  cmake -S "$repo" -B "$repo/build-bench" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  ninja -C "$repo/build-bench" cairn >/dev/null
  cairn="$repo/build-bench/ops/cairn"
fi
[[ -x /usr/bin/time ]] || { echo "needs /usr/bin/time (Debian package 'time')" >&2; exit 2; }
command -v openssl >/dev/null || { echo "needs openssl" >&2; exit 2; }

if [[ -z "$workdir" ]]; then
  workdir="$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-XXXXXX")"
fi
mkdir -p "$workdir"
cleanup() { if [[ $keep -eq 0 ]]; then rm -rf "$workdir"; fi; }
trap cleanup EXIT

now() { date +%s.%N; }
# calc EXPR: floating-point arithmetic through awk.
calc() { awk "BEGIN { printf \"%.3f\", $1 }"; }
# timed OUTVAR CMD...: runs CMD, stores elapsed seconds in OUTVAR.
timed() {
  local __var="$1"; shift
  local t0 t1
  t0=$(now); "$@"; t1=$(now)
  printf -v "$__var" '%s' "$(calc "$t1 - $t0")"
}
# rss_run OUTSEC OUTKB CMD...: elapsed seconds and peak RSS (KiB) of CMD.
rss_run() {
  local __sec="$1" __kb="$2"; shift 2
  local out="$workdir/time.out"
  /usr/bin/time -f "%e %M" -o "$out" "$@" >/dev/null
  printf -v "$__sec" '%s' "$(awk '{print $1}' "$out")"
  printf -v "$__kb" '%s' "$(awk '{print $2}' "$out")"
}
warm() { find "$1" -type f -print0 | xargs -0 -P2 -n 1000 cat >/dev/null; }
dgst_all() { find "$1" -type f -print0 | xargs -0 -P2 -n "$2" openssl dgst -sha256 >/dev/null; }

echo "== cairn: $("$cairn" version) at $cairn"
echo "== workdir: $workdir ($(df -h --output=source,fstype "$workdir" | tail -1))"
echo "== cores: $(nproc); load average at start: $(cut -d" " -f1-3 /proc/loadavg) (other work on the machine skews every figure)"

# ---- OpenSSL reference speed: 2 processes, 16 KiB blocks.
speed_out="$(openssl speed -evp sha256 -seconds 3 -multi 2 2>/dev/null)"
# The summary line: "sha256  <16B>k <64B>k ... <16384B>k"; values in 1000s of bytes/s.
speed_k="$(echo "$speed_out" | awk 'tolower($1) ~ /^sha256$|^sha2-256$/ { v=$NF } END { print v }')"
speed_bps="$(calc "${speed_k%k} * 1000")"
echo "openssl speed -evp sha256 -multi 2 (16 KiB blocks): $(calc "$speed_bps / 1e6") MB/s"

# ---- (a) 2 GiB bag.
src="$workdir/src-2g"
if [[ ! -d "$workdir/bag-2g" ]]; then
  if [[ ! -f "$src/large/big4.bin" ]]; then
    echo "-- generating 1,000 x 1 MiB + 4 x 250 MiB of random data"
    mkdir -p "$src/small" "$src/large"
    head -c $((1000 * 1048576)) /dev/urandom | split -b 1048576 -a 4 -d - "$src/small/f"
    for i in 1 2 3 4; do head -c $((250 * 1048576)) /dev/urandom >"$src/large/big$i.bin"; done
  fi
  warm "$src"
  timed create_2g "$cairn" --quiet bag create "$src" "$workdir/bag-2g" --algorithm sha256
  rm -rf "$src"
fi
bytes_2g="$(find "$workdir/bag-2g/data" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')"
warm "$workdir/bag-2g"
timed dgst_2g dgst_all "$workdir/bag-2g/data" 50
"$cairn" --quiet bag validate "$workdir/bag-2g"  # warm-up, and it must pass
rss_run val_2g rss_2g "$cairn" --quiet bag validate "$workdir/bag-2g"
mbps_val_2g="$(calc "$bytes_2g / $val_2g / 1e6")"
mbps_dgst_2g="$(calc "$bytes_2g / $dgst_2g / 1e6")"

# ---- (b) 50,000 x 4 KiB.
if [[ ! -d "$workdir/bag-50k" ]]; then
  echo "-- generating 50,000 x 4 KiB files"
  python3 - "$workdir/src-50k" <<'EOF'
import os, sys
root = sys.argv[1]
for d in range(50):
    os.makedirs(f"{root}/d{d:02}", exist_ok=True)
    for i in range(1000):
        with open(f"{root}/d{d:02}/f{i:04}", "wb") as f:
            f.write(os.urandom(4096))
EOF
  timed create_50k "$cairn" --quiet bag create "$workdir/src-50k" "$workdir/bag-50k" --algorithm sha256
  rm -rf "$workdir/src-50k"
fi
warm "$workdir/bag-50k"
timed dgst_50k dgst_all "$workdir/bag-50k/data" 1000
"$cairn" --quiet bag validate "$workdir/bag-50k"
rss_run val_50k rss_50k "$cairn" --quiet bag validate "$workdir/bag-50k"
fps_val_50k="$(calc "50000 / $val_50k")"
fps_dgst_50k="$(calc "50000 / $dgst_50k")"

echo
echo "== (a) 2 GiB bag ($bytes_2g bytes, 1,004 files, sha256)"
[[ -n "${create_2g:-}" ]] && echo "cairn bag create:     ${create_2g} s  ($(calc "$bytes_2g / $create_2g / 1e6") MB/s, copy + hash)"
echo "openssl dgst -P2:     ${dgst_2g} s  (${mbps_dgst_2g} MB/s)"
echo "cairn bag validate:   ${val_2g} s  (${mbps_val_2g} MB/s), peak RSS $((rss_2g / 1024)) MiB"
echo "ratio vs openssl speed x2 cores: $(calc "$bytes_2g / $val_2g / $speed_bps")  (target >= 0.90)"
echo "ratio vs openssl dgst same files: $(calc "$dgst_2g / $val_2g")"
echo
echo "== (b) 50,000 x 4 KiB bag"
[[ -n "${create_50k:-}" ]] && echo "cairn bag create:     ${create_50k} s  ($(calc "50000 / $create_50k") files/s)"
echo "openssl dgst -P2:     ${dgst_50k} s  (${fps_dgst_50k} files/s)"
echo "cairn bag validate:   ${val_50k} s  (${fps_val_50k} files/s, target >= 20000), peak RSS $((rss_50k / 1024)) MiB"
echo "ratio vs openssl dgst same files: $(calc "$dgst_50k / $val_50k")"

echo "== load average at end: $(cut -d" " -f1-3 /proc/loadavg)"

if [[ $million -eq 1 ]]; then
  echo
  echo "-- generating 1,000,000 files of 100 bytes (bagged in place)"
  python3 - "$workdir/bag-1m" <<'EOF'
import os, sys
root = sys.argv[1]
for d in range(1000):
    os.makedirs(f"{root}/d{d:03}", exist_ok=True)
    for i in range(1000):
        with open(f"{root}/d{d:03}/f{i:03}", "wb") as f:
            f.write(os.urandom(100))
EOF
  rss_run create_1m rss_create_1m "$cairn" --quiet bag create "$workdir/bag-1m" --in-place --algorithm sha256
  rss_run val_1m rss_1m "$cairn" --quiet bag validate "$workdir/bag-1m"
  echo "== (c) 1,000,000-file bag"
  echo "cairn bag create --in-place: ${create_1m} s, peak RSS $((rss_create_1m / 1024)) MiB"
  echo "cairn bag validate:          ${val_1m} s ($(calc "1000000 / $val_1m") files/s), peak RSS $((rss_1m / 1024)) MiB (target < 256)"
fi
