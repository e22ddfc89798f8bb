#!/usr/bin/env bash
# The shipped cairn ($1) has no test hooks (repo/test_hooks.h) and cairn-testing ($2) has
# them: neither the hooks' environment variables nor the *ForTesting setters are in the
# shipped binary, and a crash point asked for through the environment does not fire there.
set -euo pipefail
shipped=$1
testing=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
fail() { echo "no_test_hooks_test: $*" >&2; exit 1; }
for word in CAIRN_CRASH_AT CAIRN_CRASH_TRACE CAIRN_PAUSE_AT CAIRN_FAKE_NOW SetCrashPointHookForTesting \
            SetBackendWrapperForTesting SetFileOpsForTesting; do
  if grep -q -a "$word" "$shipped"; then fail "$shipped contains $word"; fi
  grep -q -a "$word" "$testing" || fail "$testing lacks $word: this test checks nothing"
done
# `init` commits catalog transactions: the first crash point it passes kills cairn-testing.
rc=0
{ CAIRN_CRASH_AT='*:1' "$testing" init "$scratch/testing"; } >/dev/null 2>&1 || rc=$?
[[ $rc -eq 137 ]] || fail "cairn-testing was not killed at a crash point (exit $rc)"
CAIRN_CRASH_AT='*:1' CAIRN_CRASH_TRACE="$scratch/trace" "$shipped" init "$scratch/shipped" \
  >/dev/null || fail "the shipped cairn stopped at a crash point"
[[ ! -e $scratch/trace ]] || fail "the shipped cairn wrote a crash trace"
# A time that is not one: cairn-testing refuses it, the shipped cairn never reads it.
export CAIRN_REPO=$scratch/shipped CAIRN_FAKE_NOW=not-a-time
"$shipped" audit schedule list >/dev/null || fail "the shipped cairn read CAIRN_FAKE_NOW"
if "$testing" audit schedule list >/dev/null 2>&1; then
  fail "cairn-testing ignored CAIRN_FAKE_NOW"
fi
echo "no_test_hooks_test: ok"
