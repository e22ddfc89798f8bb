#!/usr/bin/env bash
# Builds the libFuzzer targets (every *_fuzz.cc; clang, ASan+UBSan) in build-fuzz/
# and runs each for N seconds on a seed corpus made from tests/fixtures.
#   ops/scripts/fuzz.sh                 # the short CI run: 10 s per target
#   ops/scripts/fuzz.sh --seconds 3600  # the long run
#   ops/scripts/fuzz.sh --only tag_files_fuzz --seconds 600
# Corpora grow in build-fuzz/corpus/<target>/ (kept between runs); a crash
# leaves build-fuzz/crash-* and makes the script exit non-zero. The last line
# of each target's log (execs, coverage) is printed. Kept crash inputs
# (tests/fixtures/fuzz-crashes/<target>-*) are replayed before fuzzing.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
seconds=10
only=""
build=${CAIRN_FUZZ_BUILD_DIR:-$top/build-fuzz}
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    *) echo "usage: fuzz.sh [--seconds N] [--only TARGET]" >&2; exit 2 ;;
  esac
done
targets=(tag_files_fuzz profile_fuzz policy_fuzz archive_fuzz)
[[ -n "$only" ]] && targets=("$only")

launcher=()
if command -v ccache >/dev/null 2>&1; then
  export CCACHE_BASEDIR="$top" CCACHE_NOHASHDIR=1
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
CC=clang CXX=clang++ cmake -S "$top" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCAIRN_FUZZ=ON "${launcher[@]}" >/dev/null
ninja -C "$build" -j"$(nproc)" "${targets[@]}"

# Seed corpora from the fixtures (idempotent: files are named by content).
fixtures=$top/tests/fixtures
seed() {  # seed TARGET FILE [PREFIX_BYTE_OCTAL]
  local dir=$build/corpus/$1 name
  mkdir -p "$dir"
  name=$( { [[ -n "${3:-}" ]] && printf "\\$3"; cat "$2"; } | sha1sum | cut -c1-40)
  { [[ -n "${3:-}" ]] && printf "\\$3"; cat "$2"; } >"$dir/$name"
}
while IFS= read -r -d '' f; do
  case "$(basename "$f")" in
    bagit.txt) seed tag_files_fuzz "$f" 000 ;;   # selector 0: bagit.txt
    bag-info.txt) seed tag_files_fuzz "$f" 001 ;; # 1: bag-info.txt
    manifest-*|tagmanifest-*) seed tag_files_fuzz "$f" 002 ;;
    fetch.txt) seed tag_files_fuzz "$f" 003 ;;
  esac
done < <(find "$fixtures" -type f -size -64k -print0)
for f in "$fixtures"/profiles/*.json "$top"/policies/profiles/*.json; do seed profile_fuzz "$f"; done
for f in "$top"/policies/examples/*; do seed policy_fuzz "$f"; done
mkdir -p "$build/corpus/archive_fuzz" "$build/seed-archives"
for bag in "$fixtures"/bags/*/ "$fixtures"/bagit-conformance-suite/v1.0/valid/*/; do
  [[ -d "$bag" ]] || continue
  name=$(basename "$bag")
  tar -C "$bag/.." -cf "$build/seed-archives/$name.tar" "$name"
  tar -C "$bag/.." -czf "$build/seed-archives/$name.tgz" "$name"
  python3 - "$bag" "$build/seed-archives/$name.zip" <<'PY'
import os, sys, zipfile
root = os.path.normpath(sys.argv[1])
with zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED) as z:
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            z.write(p, os.path.relpath(p, os.path.dirname(root)))
PY
done
for f in "$build"/seed-archives/*; do
  [[ $(stat -c %s "$f") -lt 65536 ]] && seed archive_fuzz "$f"
done

status=0
# Inputs that once crashed a target are kept in tests/fixtures/fuzz-crashes/ and
# replayed first (libFuzzer runs the files given and exits): a fixed crash stays fixed.
for t in "${targets[@]}"; do
  crashes=("$fixtures"/fuzz-crashes/"$t"-*)
  [[ -e "${crashes[0]}" ]] || continue
  if ! (cd "$build" && "./$t" -rss_limit_mb=1024 "${crashes[@]}" >"$build/$t.replay.log" 2>&1); then
    echo "FAIL $t: a kept crash input crashes again: see $build/$t.replay.log" >&2
    status=1
  else
    echo "$t: ${#crashes[@]} kept crash input(s) replayed, no crash"
  fi
done
for t in "${targets[@]}"; do
  log=$build/$t.log
  # -rss_limit_mb: memory per input is bounded, a parser that balloons is a finding.
  if ! (cd "$build" && "./$t" -max_total_time="$seconds" -rss_limit_mb=1024 -max_len=65536 \
        -timeout=20 -print_final_stats=1 "corpus/$t" >"$log" 2>&1); then
    echo "FAIL $t: see $log" >&2
    grep -m5 -E "ERROR|SUMMARY|runtime error" "$log" >&2 || true
    status=1
  fi
  execs=$(grep -m1 '^stat::number_of_executed_units' "$log" | awk '{print $2}')
  cov=$(grep -E '#[0-9]+.*cov:' "$log" | tail -1 | sed -E 's/.*cov: ([0-9]+).*/\1/')
  echo "$t: ${seconds}s, ${execs:-?} execs, cov ${cov:-?}, corpus $(ls "$build/corpus/$t" | wc -l)"
done
exit $status
