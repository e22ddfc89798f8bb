#!/usr/bin/env bash
# Builds the unit tests with sanitizers in their own build folders and runs them:
#   build-asan/  CAIRN_SANITIZE=address (ASan + UBSan, any report fails the run):
#                cairn_bagit_tests cairn_policies_tests cairn_repo_tests cairn_audit_tests
#   build-tsan/  CAIRN_SANITIZE=thread: the tests of the parallel parts (hashing in the
#                validator and deposit, replication, the auditor)
#   ops/scripts/test-sanitizers.sh [asan|tsan]...   (default: both)
# Prints the build and run time of each. S3 tests need a gateway: run under
# ops/scripts/with-ceph-rgw.sh, or they are left out here (filter below).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
modes=("$@")
[[ ${#modes[@]} -eq 0 ]] && modes=(asan tsan)
jobs=$(nproc)
status=0
# Tests that need the Ceph gateway run in the plain build (ops/scripts/test.sh).
s3_filter='-*S3*:*s3*:*Ceph*'

run_mode() {
  local mode=$1 build sanitize targets filter
  case "$mode" in
    asan)
      build=${CAIRN_ASAN_BUILD_DIR:-$top/build-asan}
      sanitize=address
      targets=(cairn cairn_bagit_tests cairn_policies_tests cairn_repo_tests cairn_audit_tests)
      filter=$s3_filter
      export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
      export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
      ;;
    tsan)
      build=${CAIRN_TSAN_BUILD_DIR:-$top/build-tsan}
      sanitize=thread
      targets=(cairn cairn_bagit_tests cairn_repo_tests cairn_audit_tests)
      # The parallel parts: hashing workers (validator, creator, deposit), replication
      # (copies to several sites at once), the auditor (sites and files in parallel).
      filter='*Validat*:*Creat*:*Deposit*:*Replicat*:*Resync*:*Audit*:*Parallel*:*Thread*:*Concurren*'
      filter="$filter:$s3_filter"
      export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
      ;;
    *) echo "unknown mode $mode (asan|tsan)" >&2; exit 2 ;;
  esac
  local t0=$SECONDS
  cmake -S "$top" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCAIRN_SANITIZE="$sanitize" ${CCACHE_DISABLE:+} >/dev/null
  ninja -C "$build" -j"$jobs" "${targets[@]}"
  local built=$((SECONDS - t0))
  t0=$SECONDS
  for t in "${targets[@]}"; do
    [[ "$t" == cairn ]] && continue
    local bin
    bin=$(find "$build" -name "$t" -type f -perm -u+x | head -1)
    echo "== $mode: $t"
    if ! "$bin" --gtest_filter="$filter" --gtest_brief=1 >"$build/$t.log" 2>&1; then
      echo "FAIL $mode $t: see $build/$t.log" >&2
      grep -m10 -E "ERROR: |SUMMARY|runtime error|WARNING: ThreadSanitizer|FAILED" \
        "$build/$t.log" >&2 || true
      status=1
    fi
    grep -E "^\[==========\]|PASSED|FAILED" "$build/$t.log" | tail -3
  done
  echo "$mode: build ${built}s, tests $((SECONDS - t0))s"
}

for m in "${modes[@]}"; do run_mode "$m"; done
exit $status
