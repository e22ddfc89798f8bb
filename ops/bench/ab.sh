#!/usr/bin/env bash
# Interleaved A/B of two cairn binaries on the same data, for "no slower than before" (issue 16):
# each round runs the base binary, then the new one (the order flips every round), so that the
# machine's other work weighs on both alike; prints every time, the medians and new / base.
#
#   ops/bench/ab.sh --base OLD_CAIRN --cairn NEW_CAIRN [--rounds N] [--workdir DIR] CASE...
#
#   sweep       warm `audit run --all --site a` of 8 x 256 MiB (audit.sh (a)), one repository
#               per binary, made once
#   deposit     `deposit --no-replicate` of 20,000 files of ~100 bytes (deposit.sh (b), small)
#               into a fresh repository each round (every blob fsynced, as in production)
#   replicate   `replicate` of 200 x 1 MiB + 2 x 100 MiB to site b of a fresh repository each round
#   validate    warm `bag validate` of a 2 GiB bag (1,000 x 1 MiB + 4 x 250 MiB)
#   s3-deposit  `deposit` of 300 x 1 MiB + 1 x 300 MiB into a repository whose only site is a
#               bucket of a throwaway Ceph gateway (started once, memstore), a new bucket each round
#   s3-restore  `restore --site s3` of that folder object (deposited once per binary)
#
# Figures are wall-clock seconds; lower is better. A ratio new / base above 1 is a slow-down.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
base=""
rounds=5
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --base) base="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
bench_init "${args[@]}"
set -- "${BENCH_ARGS[@]}"
[[ -x "$base" ]] || { echo "--base OLD_CAIRN: the binary to compare with" >&2; exit 2; }
[[ $# -gt 0 ]] || { echo "name at least one case: sweep deposit replicate validate s3-deposit s3-restore" >&2; exit 2; }
echo "== base: $("$base" version) at $base"
stop_gateway=0
on_exit() {
  if ((stop_gateway)); then "$bench_repo/ops/scripts/ceph-rgw-stop.sh" "$workdir/gw" >/dev/null 2>&1; fi
  chmod -R u+w "$workdir" 2>/dev/null
  bench_cleanup
}
trap on_exit EXIT

# in_repo BIN REPO ARGS...: runs cairn BIN on REPO, output dropped (exit 1 of --no-replicate's
# "copies owed" accepted).
in_repo() { local bin=$1 repo=$2; shift 2; lacking_ok "$bin" --quiet --repo "$repo" "$@" >/dev/null; }
new_repo() {
  rm -rf "$2"
  "$1" --quiet init "$2" >/dev/null
  "$1" --quiet --repo "$2" partner add bench >/dev/null
}

# The steps of a case, for binary $1 and its own folder $2: setup (once), prepare (before each
# timed run, untimed), run (timed).
sweep_setup() { new_repo "$1" "$2"; in_repo "$1" "$2" deposit bench "$workdir/big" --id big --no-replicate; }
sweep_prepare() { warm "$2/sites/a"; }
sweep_run() { "$1" --repo "$2" audit run --all --site a --json >/dev/null; }
deposit_setup() { :; }
deposit_prepare() { new_repo "$1" "$2"; quiesce; }
deposit_run() { in_repo "$1" "$2" deposit bench "$workdir/small" --id small --no-replicate; }
replicate_setup() { :; }
replicate_prepare() {
  new_repo "$1" "$2"
  in_repo "$1" "$2" deposit bench "$workdir/mid" --id mid --no-replicate
  warm "$2/sites/a"
  quiesce
}
replicate_run() { in_repo "$1" "$2" replicate; }
s3_repo() {  # BIN REPO: a new repository whose only site is a new bucket
  rm -rf "$2"
  s3_n=$((s3_n + 1))
  "$1" --quiet init "$2" >/dev/null
  "$1" --quiet --repo "$2" site add s3 \
    "s3://ab-$s3_n-$RANDOM?endpoint=$CAIRN_S3_ENDPOINT&region=$AWS_REGION" --create-bucket
  printf 'copies: 1 sites: "s3"\n' >"$workdir/s3-policy.textpb"
  "$1" --quiet --repo "$2" policy set "$workdir/s3-policy.textpb" >/dev/null
  "$1" --quiet --repo "$2" partner add bench >/dev/null
}
s3_n=0
s3-deposit_setup() { :; }
s3-deposit_prepare() { s3_repo "$1" "$2"; }
s3-deposit_run() { "$1" --quiet --repo "$2" deposit bench "$workdir/s3src" --id folder >/dev/null; }
s3-restore_setup() {
  s3_repo "$1" "$2"
  "$1" --quiet --repo "$2" deposit bench "$workdir/s3src" --id folder >/dev/null
}
s3-restore_prepare() { rm -rf "$2.out"; }
s3-restore_run() { "$1" --quiet --repo "$2" restore bench/folder "$2.out" --site s3 >/dev/null; }
validate_setup() { :; }
validate_prepare() { warm "$workdir/bag"; }
validate_run() { "$1" --quiet bag validate "$workdir/bag" >/dev/null; }

make_data() {
  case "$1" in
    sweep)
      [[ -d "$workdir/big" ]] && return
      mkdir -p "$workdir/big"
      for i in 1 2 3 4 5 6 7 8; do head -c $((256 * 1048576)) /dev/urandom >"$workdir/big/b$i.bin"; done ;;
    deposit) make_small "$workdir/small" 20000 ;;
    replicate)
      [[ -d "$workdir/mid" ]] && return
      mkdir -p "$workdir/mid"
      for i in $(seq 200); do head -c 1048576 /dev/urandom >"$workdir/mid/m$i.bin"; done
      for i in 1 2; do head -c $((100 * 1048576)) /dev/urandom >"$workdir/mid/l$i.bin"; done ;;
    validate)
      [[ -d "$workdir/bag" ]] && return
      mkdir -p "$workdir/src-bag"
      for i in $(seq 1000); do head -c 1048576 /dev/urandom >"$workdir/src-bag/m$i.bin"; done
      for i in 1 2 3 4; do head -c $((250 * 1048576)) /dev/urandom >"$workdir/src-bag/l$i.bin"; done
      "$base" --quiet bag create "$workdir/src-bag" "$workdir/bag" >/dev/null
      rm -rf "$workdir/src-bag" ;;
    s3-deposit | s3-restore)
      if [[ ! -d "$workdir/s3src" ]]; then
        mkdir -p "$workdir/s3src/small"
        head -c $((300 << 20)) /dev/urandom >"$workdir/s3src/large.bin"
        head -c $((300 << 20)) /dev/urandom | (cd "$workdir/s3src/small" && split -b 1M -a 4 -d - f)
      fi
      if [[ -z "${CAIRN_S3_ENDPOINT:-}" ]]; then
        CAIRN_CEPH_MEMSTORE_BYTES=$((8 << 30)) "$bench_repo/ops/scripts/ceph-rgw-start.sh" \
          "$workdir/gw" >/dev/null
        set -a
        # shellcheck disable=SC1091
        . "$workdir/gw/s3.env"
        set +a
        stop_gateway=1
      fi ;;
    *) echo "unknown case: $1" >&2; exit 2 ;;
  esac
}

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

for case in "$@"; do
  make_data "$case"
  "${case}_setup" "$base" "$workdir/$case-base"
  "${case}_setup" "$cairn" "$workdir/$case-new"
  times_base=()
  times_new=()
  for round in $(seq "$rounds"); do
    order=(base new)
    ((round % 2 == 0)) && order=(new base)
    for which in "${order[@]}"; do
      bin=$base
      [[ $which == new ]] && bin=$cairn
      "${case}_prepare" "$bin" "$workdir/$case-$which"
      timed t "${case}_run" "$bin" "$workdir/$case-$which"
      if [[ $which == base ]]; then times_base+=("$t"); else times_new+=("$t"); fi
      echo "$case round $round $which: $t s (load $(cut -d' ' -f1 /proc/loadavg))"
    done
  done
  mb=$(median "${times_base[@]}")
  mn=$(median "${times_new[@]}")
  echo "$case: median base $mb s, new $mn s; new / base $(calc "$mn / $mb") (above 1: slower)"
done
echo "== load average at end: $(cut -d" " -f1-3 /proc/loadavg)"
