#!/usr/bin/env bash
# Installs the Debian packages Cairn needs, only those missing (idempotent).
#   install-deps.sh          build + run: compiler, CMake, libraries
#   install-deps.sh --test   also what the test suite needs (Ceph S3 gateway, xmllint, clang)
#   install-deps.sh --bench  that, and the tools ops/bench/ compares with (rclone, awscli)
set -euo pipefail

# libboost-filesystem-dev pulls in libboost1.NN-dev: the Boost.Beast/Asio headers of `cairn serve`.
build_pkgs=(
  cmake ninja-build g++ pkg-config make
  libssl-dev libboost-filesystem-dev libarchive-dev libsqlite3-dev sqlite3
  protobuf-compiler libprotobuf-dev libcurl4-openssl-dev
  libcli11-dev nlohmann-json3-dev libfmt-dev libunistring-dev
  libgtest-dev libgmock-dev
  coreutils openssl curl time ccache
)
test_pkgs=(
  libxml2-utils                 # xmllint: PREMIS XML against the PREMIS 3 schema
  ceph-mon ceph-osd radosgw     # throwaway Ceph RADOS Gateway for the S3 tests
  clang                         # libFuzzer targets
  python3
)

bench_pkgs=(
  rclone awscli                 # ops/bench/s3.sh: the S3 tools a user would pick instead
)

want=("${build_pkgs[@]}")
case "${1:-}" in
  --test) want+=("${test_pkgs[@]}") ;;
  --bench) want+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
esac

missing=()
for p in "${want[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#want[@]} packages present"
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
# The Ceph packages print "Failed to connect to bus" without systemd: harmless.
$sudo apt-get install -y --no-install-recommends "${missing[@]}"
