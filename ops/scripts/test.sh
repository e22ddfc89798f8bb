#!/usr/bin/env bash
# The README's second command: installs what is missing, builds, runs every test: the
# whole ctest suite on the Release build, then the unit tests under ASan+UBSan and TSan.
# The whole ctest run shares one throwaway Ceph RADOS Gateway on 127.0.0.1 for the S3
# tests (ops/scripts/with-ceph-rgw.sh); if it will not start, the run fails with its logs.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
"$top/ops/scripts/install-deps.sh" --test
"$top/ops/scripts/build.sh"
build=${CAIRN_BUILD_DIR:-$top/build}
cd "$build"
start=$SECONDS
status=0
"$top/ops/scripts/with-ceph-rgw.sh" \
  ctest --output-on-failure -j"$(nproc)" --timeout 900 "$@" || status=$?
echo "main suite: exit $status, $((SECONDS - start)) s"
# Then the unit tests again under ASan+UBSan and under TSan, each its own build
# (build-asan/, build-tsan/), with a gateway of their own for the S3 tests, and the
# short fuzz run (build-fuzz/). CAIRN_SANITIZERS=off skips all three (a quicker
# local run; CI never sets it).
if [[ "${CAIRN_SANITIZERS:-on}" != off ]]; then
  start=$SECONDS
  "$top/ops/scripts/with-ceph-rgw.sh" "$top/ops/scripts/test-sanitizers.sh" || status=1
  echo "sanitizer suites: $((SECONDS - start)) s"
  # The short fuzz run: each libFuzzer target (clang, ASan+UBSan) for 10 s on its
  # seed corpus; the long run is ops/scripts/fuzz.sh --seconds N by hand.
  start=$SECONDS
  "$top/ops/scripts/fuzz.sh" --seconds 10 || status=1
  echo "fuzz short run: $((SECONDS - start)) s"
fi
exit $status
