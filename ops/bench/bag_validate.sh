#!/usr/bin/env bash
# Benchmark of the BagIt engine (issue 2): `cairn bag validate` (and `cairn bag
# create`) on warm data, against OpenSSL in the same run.
#
#   ops/bench/bag_validate.sh [--cairn PATH] [--workdir DIR] [--million] [--keep]
#
#   (a) a 2 GiB bag: 1,000 x 1 MiB + 4 x 250 MiB random files, sha256.
#       Target: validate >= 0.90 x `openssl speed -evp sha256 -multi 2` (16 KiB blocks).
#       (a2) the same bag as a tar whose tag files come after the payload.
#   (b) a bag of 50,000 x 4 KiB files, sha256. Target: >= 20,000 files/s.
#   (c) --million: a bag of 1,000,000 small files (bagged in place): peak RSS of
#       validate. Target: < 256 MiB.
# Each figure is also given as a ratio against `openssl dgst -sha256` over the
# same files (xargs -P2, i.e. two cores), measured in the same run.
# Without --cairn the script uses build/ops/cairn (ops/scripts/build.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init "$@"
million=0
set -- "${BENCH_ARGS[@]+"${BENCH_ARGS[@]}"}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --million) million=1; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

# ---- OpenSSL reference speed: 2 processes, 16 KiB blocks.
speed_bps="$(openssl_speed_bps)"
echo "openssl speed -evp sha256 -multi 2 (16 KiB blocks): $(calc "$speed_bps / 1e6") MB/s"

# ---- (a) 2 GiB bag.
src="$workdir/src-2g"
if [[ ! -d "$workdir/bag-2g" ]]; then
  make_2g "$src"
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
# (a2) the same bag as a tar with its tag files after the payload, as `cairn bag create
# --format tar` writes them: the tag files are read ahead, the payload hashed once with sha256.
tar_2g="$workdir/bag-2g-tags-last.tar"
if [[ ! -f "$tar_2g" ]]; then
  tar -cf "$tar_2g" -C "$workdir" bag-2g/data bag-2g/bagit.txt bag-2g/bag-info.txt \
    bag-2g/manifest-sha256.txt bag-2g/tagmanifest-sha256.txt
fi
cat "$tar_2g" >/dev/null
"$cairn" --quiet bag validate "$tar_2g"
rss_run val_tar rss_tar "$cairn" --quiet bag validate "$tar_2g"

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
echo "cairn bag validate of it as a tar, tag files last: ${val_tar} s ($(calc "$bytes_2g / $val_tar / 1e6") MB/s), peak RSS $((rss_tar / 1024)) MiB; ratio vs openssl dgst same files: $(calc "$dgst_2g / $val_tar")"
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
