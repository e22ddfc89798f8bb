#!/usr/bin/env bash
# Configures and builds Cairn in Release into build/ (or $CAIRN_BUILD_DIR).
# Extra arguments are passed to cmake's configure step (e.g. -DCAIRN_SANITIZE=address).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${CAIRN_BUILD_DIR:-$top/build}
cmake -S "$top" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
ninja -C "$build" -j"$(nproc)"
echo "build: $build/ops/cairn"
