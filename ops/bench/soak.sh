#!/usr/bin/env bash
# The corruption soak of issue 7 by hand, at any scale: runs the ctest soak
# (tests/hostile/soak_test.cc, CorruptionSoakTest) with a chosen number of
# blobs, faults and seed, against a Ceph RADOS Gateway of its own, and prints
# its figures (faults injected by kind, found, repaired, false positives,
# unrepairable, rounds, time to heal, time per phase).
#
#   ops/bench/soak.sh [--blobs N] [--faults N] [--seed S] [--build DIR]
#
#   --blobs N    distinct blobs stored on each of the three sites (default 10000)
#   --faults N   faults injected (default 200; at least 4)
#   --seed S     replay a run (every run prints its seed; default: random)
#   --build DIR  the build folder holding tests/cairn_e2e_tests (default: build/)
#
# Builds nothing: run ops/scripts/build.sh (or ninja cairn cairn_e2e_tests) first.
# The gateway keeps objects in RAM (memstore, 4 GiB): for runs above ~200,000
# blobs set CAIRN_CEPH_MEMSTORE_BYTES. Exit code: the test's (0 all good).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="$repo/build"
blobs=10000
faults=200
seed=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --blobs) blobs="$2"; shift 2 ;;
    --faults) faults="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "soak.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
for n in "$blobs" "$faults" ${seed:+"$seed"}; do
  [[ "$n" =~ ^[0-9]+$ ]] || { echo "soak.sh: '$n' is not a whole number" >&2; exit 2; }
done
(( faults >= 4 )) || { echo "soak.sh: --faults must be at least 4" >&2; exit 2; }
(( blobs >= 100 )) || { echo "soak.sh: --blobs must be at least 100" >&2; exit 2; }
tests="$build/tests/cairn_e2e_tests"
[[ -x "$tests" ]] || { echo "soak.sh: no $tests: build cairn_e2e_tests first" >&2; exit 2; }

echo "== cairn soak: $blobs blobs, $faults faults, seed ${seed:-random}"
echo "== cores: $(nproc); load average at start: $(cut -d" " -f1-3 /proc/loadavg)"
start=$(date +%s)
set +e
env CAIRN_SOAK_BLOBS="$blobs" CAIRN_SOAK_FAULTS="$faults" ${seed:+"CAIRN_SOAK_SEED=$seed"} \
  "$tests" --gtest_filter='CorruptionSoakTest.*' --gtest_color=no
code=$?
set -e
echo "== soak finished in $(( $(date +%s) - start )) s, exit $code"
exit "$code"
