# Shared helpers of the ops/bench/*.sh scripts (sourced, not run).
#
# bench_init "$@"    parses --cairn PATH, --workdir DIR, --keep (other options
#                    are left in BENCH_ARGS), makes the work folder, checks the
#                    tools, and prints the machine line.
# After it: $cairn, $workdir, $keep; the functions below.

bench_repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

bench_init() {
  cairn=""
  workdir=""
  keep=0
  BENCH_ARGS=()
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --cairn) cairn="$2"; shift 2 ;;
      --workdir) workdir="$2"; shift 2 ;;
      --keep) keep=1; shift ;;
      *) BENCH_ARGS+=("$1"); shift ;;
    esac
  done
  if [[ -z "$cairn" ]]; then
    cairn="$bench_repo/build/ops/cairn"
    [[ -x "$cairn" ]] || { echo "no cairn at $cairn: run ops/scripts/build.sh or pass --cairn" >&2; exit 2; }
  fi
  [[ -x /usr/bin/time ]] || { echo "needs /usr/bin/time (Debian package 'time')" >&2; exit 2; }
  command -v openssl >/dev/null || { echo "needs openssl" >&2; exit 2; }
  if [[ -z "$workdir" ]]; then
    workdir="$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-XXXXXX")"
  fi
  mkdir -p "$workdir"
  trap bench_cleanup EXIT
  echo "== cairn: $("$cairn" version) at $cairn"
  echo "== workdir: $workdir ($(df -h --output=source,fstype "$workdir" | tail -1))"
  echo "== cores: $(nproc); load average at start: $(cut -d" " -f1-3 /proc/loadavg) (other work on the machine skews every figure)"
}

bench_cleanup() { if [[ ${keep:-0} -eq 0 && -n "${workdir:-}" ]]; then rm -rf "$workdir"; fi; }

now() { date +%s.%N; }
# median_stdin: the median of the numbers on stdin, one per line (the mean of the two middle
# ones for an even count).
median_stdin() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# calc EXPR: floating-point arithmetic through awk.
calc() { awk "BEGIN { printf \"%.3f\", $1 }"; }
# timed OUTVAR CMD...: runs CMD, stores elapsed seconds in OUTVAR.
timed() {
  local __var="$1"; shift
  local t0 t1
  t0=$(now); "$@"; t1=$(now)
  printf -v "$__var" '%s' "$(calc "$t1 - $t0")"
}
# lacking_ok CMD...: runs CMD, taking its exit 1 as success: `show`/`list` of an
# object deposited with --no-replicate report it lacking copies (exit 1, by design).
lacking_ok() {
  local rc=0
  "$@" || rc=$?
  [[ $rc -eq 0 || $rc -eq 1 ]]
}
# rss_run OUTSEC OUTKB CMD...: elapsed seconds and peak RSS (KiB) of CMD; its
# stdout is thrown away, its stderr goes to $workdir/rss_run.err.
rss_run() {
  local __sec="$1" __kb="$2"; shift 2
  local out="$workdir/time.out"
  /usr/bin/time -f "%e %M" -o "$out" "$@" >/dev/null 2>"$workdir/rss_run.err"
  printf -v "$__sec" '%s' "$(awk '{print $1}' "$out")"
  printf -v "$__kb" '%s' "$(awk '{print $2}' "$out")"
}
# warm DIR: reads every file once, so the figures are of warm data.
warm() { find "$1" -type f -print0 | xargs -0 -P2 -n 1000 cat >/dev/null; }
# quiesce: writes back dirty pages so that one step does not pay for the last.
quiesce() { sync; sleep 1; }

# copy_hash_report VERB SECONDS PEAK_KB BYTES CP_S DGST_S BASE_S: the lines every
# "cairn VERB against cp -r + openssl dgst" benchmark prints, ending in the ratio.
copy_hash_report() {
  local verb=$1 s=$2 kb=$3 bytes=$4 cp=$5 dgst=$6 base=$7
  printf '%-24s%s\n' "cp -r:" "$cp s" "openssl dgst -sha256:" "$dgst s (one process)" \
    "baseline (cp + dgst):" "$base s"
  printf '%-24s%s s (%s MB/s), peak RSS %s MiB\n' "cairn $verb:" "$s" \
    "$(calc "$bytes / $s / 1e6")" "$((kb / 1024))"
  printf '%-24s%s  (target <= 1.30)\n' "ratio cairn / baseline:" "$(calc "$s / $base")"
}
# dgst_all DIR N: openssl dgst -sha256 over every file, two processes.
dgst_all() { find "$1" -type f -print0 | xargs -0 -P2 -n "$2" openssl dgst -sha256 >/dev/null; }
# dgst_seq DIR: openssl dgst -sha256 over every file, one process after another.
dgst_seq() { find "$1" -type f -print0 | xargs -0 -n 1000 openssl dgst -sha256 >/dev/null; }
# bytes_of DIR: total size of the regular files below DIR.
bytes_of() { find "$1" -type f -printf '%s\n' | awk '{s+=$1} END {print s+0}'; }

# openssl_speed_bps [BLOCK]: bytes/s of `openssl speed -evp sha256 -multi 2`, 16 KiB blocks,
# or BLOCK bytes (e.g. 1048576, issue 19's baseline).
openssl_speed_bps() {
  local out k
  if [[ -n "${1:-}" ]]; then
    out="$(openssl speed -evp sha256 -seconds 3 -multi 2 -bytes "$1" 2>/dev/null)"
  else
    out="$(openssl speed -evp sha256 -seconds 3 -multi 2 2>/dev/null)"
  fi
  k="$(echo "$out" | awk 'tolower($1) ~ /^sha256$|^sha2-256$/ { v=$NF } END { print v }')"
  calc "${k%k} * 1000"
}

# make_2g DIR: 1,000 x 1 MiB + 4 x 250 MiB of random data (kept if present).
make_2g() {
  local dir="$1"
  [[ -f "$dir/large/big4.bin" ]] && return 0
  echo "-- generating 1,000 x 1 MiB + 4 x 250 MiB of random data in $dir"
  mkdir -p "$dir/small" "$dir/large"
  head -c $((1000 * 1048576)) /dev/urandom | split -b 1048576 -a 4 -d - "$dir/small/f"
  for i in 1 2 3 4; do head -c $((250 * 1048576)) /dev/urandom >"$dir/large/big$i.bin"; done
}

# make_small DIR N: N distinct files of about 100 bytes in folders of 1,000.
make_small() {
  local dir="$1" n="$2"
  [[ -f "$dir.complete-$n" ]] && return 0
  echo "-- generating $n small files in $dir"
  rm -rf "$dir" "$dir".complete-*
  python3 - "$dir" "$n" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = f"{root}/d{i // 1000:04}"
    if i % 1000 == 0:
        os.makedirs(d, exist_ok=True)
    with open(f"{d}/f{i % 1000:03}", "wb") as f:
        f.write(b"file %d " % i + os.urandom(90))
PY
  touch "$dir.complete-$n"
}

# fresh_repo DIR: a new repository (two posix sites a and b) with partner "bench".
fresh_repo() {
  rm -rf "$1"
  "$cairn" --quiet init "$1" >/dev/null
  "$cairn" --quiet --repo "$1" partner add bench >/dev/null
}
