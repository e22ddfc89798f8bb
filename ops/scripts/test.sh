#!/usr/bin/env bash
# The README's second command: installs what is missing, builds, runs every test.
# The whole ctest run shares one throwaway Ceph RADOS Gateway on 127.0.0.1 for the S3
# tests (ops/scripts/with-ceph-rgw.sh); if it will not start, the run fails with its logs.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
"$top/ops/scripts/install-deps.sh" --test
"$top/ops/scripts/build.sh"
build=${CAIRN_BUILD_DIR:-$top/build}
cd "$build"
exec "$top/ops/scripts/with-ceph-rgw.sh" \
  ctest --output-on-failure -j"$(nproc)" --timeout 900 "$@"
