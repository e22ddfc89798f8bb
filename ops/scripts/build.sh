#!/usr/bin/env bash
# Configures and builds Cairn in Release into build/ (or $CAIRN_BUILD_DIR).
# Extra arguments are passed to cmake's configure step (e.g. -DCAIRN_SANITIZE=address).
# A unity build (8 sources per compile: the heavy headers - CLI11, nlohmann_json,
# GoogleTest, protobuf - are parsed once per batch) cuts a cold build's CPU time about
# threefold; CAIRN_UNITY=OFF compiles file by file (quicker rebuilds of one file).
# Uses ccache when it is installed (install-deps.sh installs it); CCACHE_BASEDIR makes the
# cache hit across different clone folders of the same sources.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${CAIRN_BUILD_DIR:-$top/build}
launcher=()
if command -v ccache >/dev/null 2>&1; then
  export CCACHE_BASEDIR="$top"
  export CCACHE_NOHASHDIR=1
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
cmake -S "$top" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" \
  -DCMAKE_UNITY_BUILD="${CAIRN_UNITY:-ON}" -DCMAKE_UNITY_BUILD_BATCH_SIZE=8 "$@" >/dev/null
ninja -C "$build" -j"$(nproc)"
echo "build: $build/ops/cairn"
