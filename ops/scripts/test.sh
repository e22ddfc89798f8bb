#!/usr/bin/env bash
# The README's second command: installs what is missing, builds, runs every test.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
"$top/ops/scripts/install-deps.sh" --test
"$top/ops/scripts/build.sh"
build=${CAIRN_BUILD_DIR:-$top/build}
cd "$build"
ctest --output-on-failure -j"$(nproc)" --timeout 900
