#!/usr/bin/env bash
# Stops a gateway started by ops/scripts/ceph-rgw-start.sh: exactly the daemons
# that script started (pids in DIR/run/*.started), each only if it still runs
# with DIR/ceph.conf on its command line, in the order rgw, osd, mon (stopping
# the mon first hangs the OSD's shutdown). Then removes DIR unless --keep.
#
#   ceph-rgw-stop.sh [--keep] DIR
set -euo pipefail

usage() { echo "usage: $0 [--keep] DIR" >&2; exit 2; }
keep=0
dir=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --keep) keep=1 ;;
    -*) usage ;;
    *) [[ -z "$dir" ]] || usage; dir="$1" ;;
  esac
  shift
done
[[ -n "$dir" ]] || usage
if [[ ! -f "$dir/ceph.conf" ]] || ! grep -q '^# Throwaway cluster made by' "$dir/ceph.conf"; then
  echo "ceph-rgw-stop: $dir does not hold a cluster made by ceph-rgw-start.sh" >&2
  exit 1
fi
dir=$(cd "$dir" && pwd)
conf="$dir/ceph.conf"

# True if `pid` runs and its command line names our ceph.conf.
ours() {
  local pid=$1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF "$conf"
}

stop_one() {
  local name=$1 pidfile="$dir/run/$1.started" pid i
  [[ -f "$pidfile" ]] || return 0
  pid=$(cat "$pidfile")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  if ! ours "$pid"; then
    rm -f "$pidfile"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do  # up to 10 s
    ours "$pid" || break
    sleep 0.1
  done
  if ours "$pid"; then
    echo "ceph-rgw-stop: $name (pid $pid) ignored SIGTERM; sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do
      ours "$pid" || break
      sleep 0.1
    done
  fi
  rm -f "$pidfile"
}

stop_one rgw
stop_one osd
stop_one mon

if [[ $keep == 0 ]]; then
  rm -rf -- "$dir"
fi
