#!/usr/bin/env bash
# Builds the unit tests with sanitizers in their own build folders and runs them
# (ops/scripts/test.sh, and so CI, runs both after the main suite):
#   build-asan/  CAIRN_SANITIZE=address (ASan + UBSan, any report fails the run): every
#                test of cairn_bagit_tests cairn_policies_tests cairn_repo_tests
#                cairn_audit_tests
#   build-tsan/  CAIRN_SANITIZE=thread: the tests of the parallel parts (hashing in the
#                validator and deposit, replication, the auditor, the run pool)
#   ops/scripts/test-sanitizers.sh [asan|tsan]...   (default: both)
# Unity builds with line tables (-g1), ASan at -O0 and TSan at -O1, keep a cold build of
# each to a few minutes on two cores. Prints the build and run time of each. Tests that
# need the S3 gateway run only with a gateway (under ops/scripts/with-ceph-rgw.sh, as
# test.sh runs this script).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
modes=("$@")
[[ ${#modes[@]} -eq 0 ]] && modes=(asan tsan)
jobs=$(nproc)
status=0
# Tests that need the Ceph gateway run here only under ops/scripts/with-ceph-rgw.sh
# (as ops/scripts/test.sh runs this script); without one they are left out, and said so.
s3_filter='-*S3*:*s3*:*Ceph*'
if [[ -n "${CAIRN_S3_ENV_FILE:-}" ]]; then
  s3_filter='-'
else
  echo "no CAIRN_S3_ENV_FILE: S3 tests left out (run under ops/scripts/with-ceph-rgw.sh)" >&2
fi

run_mode() {
  local mode=$1 build sanitize targets filter opt
  case "$mode" in
    asan)
      build=${CAIRN_ASAN_BUILD_DIR:-$top/build-asan}
      sanitize=address
      # -O0: ASan+UBSan at -O1 took three times as long to compile (the larger part of a cold
      # CI run) for tests that ran about twice as fast.
      opt=-O0
      targets=(cairn_bagit_tests cairn_policies_tests cairn_repo_tests cairn_audit_tests)
      filter=$s3_filter
      export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
      export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
      ;;
    tsan)
      build=${CAIRN_TSAN_BUILD_DIR:-$top/build-tsan}
      sanitize=thread
      opt=-O1
      targets=(cairn_bagit_tests cairn_repo_tests cairn_audit_tests)
      # The parallel parts: hashing workers (validator, creator, deposit), replication
      # (copies to several sites at once), the auditor (sites and files in parallel), the
      # committers of a serialized bag's members, batch durability barriers, the piece
      # hashing thread of a large file's first read (HashOpenFileInPieces) and its stager.
      filter='*Validat*:*Creat*:*Deposit*:*Restore*:*Replicat*:*Resync*:*Rebuild*:*Audit*:*Daemon*'
      filter="$filter:*Catalog*:*S3Backend*:*Parallel*:*Thread*:*Concurren*:*Archive*:*BatchCommit*"
      filter="$filter:*InPieces*:*PayloadStager*"
      filter="$filter:$s3_filter"
      export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
      ;;
    *) echo "unknown mode $mode (asan|tsan)" >&2; exit 2 ;;
  esac
  local t0=$SECONDS
  local launcher=()
  if command -v ccache >/dev/null 2>&1; then
    export CCACHE_BASEDIR="$top" CCACHE_NOHASHDIR=1
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  fi
  cmake -S "$top" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$opt -g1" -DCMAKE_C_FLAGS_RELWITHDEBINFO="$opt -g1" \
    -DCAIRN_TEST_OPT="$opt" \
    -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=8 \
    -DCAIRN_SANITIZE="$sanitize" "${launcher[@]}" >/dev/null
  ninja -C "$build" -j"$jobs" "${targets[@]}"
  local built=$((SECONDS - t0))
  t0=$SECONDS
  # Each test binary runs as $jobs shards side by side (GoogleTest's GTEST_TOTAL_SHARDS): most
  # tests use one core, and one process after another left the other idle.
  for t in "${targets[@]}"; do
    local bin shard pids=() failed=0
    bin=$(find "$build" -name "$t" -type f -perm -u+x | head -1)
    echo "== $mode: $t ($jobs shards)"
    for ((shard = 0; shard < jobs; shard++)); do
      GTEST_TOTAL_SHARDS=$jobs GTEST_SHARD_INDEX=$shard \
        "$bin" --gtest_filter="$filter" --gtest_brief=1 >"$build/$t.$shard.log" 2>&1 &
      pids+=($!)
    done
    for ((shard = 0; shard < jobs; shard++)); do
      local log="$build/$t.$shard.log"
      if ! wait "${pids[$shard]}"; then
        failed=1
        echo "FAIL $mode $t shard $shard: see $log" >&2
        grep -m10 -E "ERROR: |SUMMARY|runtime error|WARNING: ThreadSanitizer|FAILED" "$log" >&2 || true
        # The first report's stacks, so that a CI log names the code without the build folder.
        grep -m1 -A60 -E "WARNING: ThreadSanitizer|ERROR: AddressSanitizer|runtime error" "$log" \
          | grep -E "^ *#[0-9]+ |by thread|by main|Previous|Location" | head -40 >&2 || true
      fi
      grep -E "^\[==========\]|PASSED|FAILED" "$log" | tail -3 | sed "s/^/shard $shard: /"
    done
    [[ $failed -eq 0 ]] || status=1
  done
  echo "$mode: build ${built}s, tests $((SECONDS - t0))s"
}

for m in "${modes[@]}"; do run_mode "$m"; done
exit $status
