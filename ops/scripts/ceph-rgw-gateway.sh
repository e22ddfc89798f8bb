#!/usr/bin/env bash
# Stops or restarts ONLY the radosgw daemon of a cluster started by
# ops/scripts/ceph-rgw-start.sh, keeping the mon and OSD (and so the data, even
# on memstore) running: a gateway outage for tests and drills.
#
#   ceph-rgw-gateway.sh stop DIR    # SIGTERM the radosgw that DIR's start script (or this) started
#   ceph-rgw-gateway.sh start DIR   # start radosgw again; exits 0 once a signed ListBuckets answers
#
# Only a radosgw whose command line names DIR/ceph.conf is ever signalled.
set -euo pipefail
usage() { echo "usage: $0 stop|start DIR" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
action=$1
dir=$2
if [[ ! -f "$dir/ceph.conf" ]] || ! grep -q '^# Throwaway cluster made by' "$dir/ceph.conf"; then
  echo "ceph-rgw-gateway: $dir does not hold a cluster made by ceph-rgw-start.sh" >&2
  exit 1
fi
dir=$(cd "$dir" && pwd)
conf="$dir/ceph.conf"
pidfile="$dir/run/rgw.started"
ours() {
  [[ -r "/proc/$1/cmdline" ]] && tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | grep -qxF "$conf"
}
running_pid() {
  local pid
  [[ -f "$pidfile" ]] || return 1
  pid=$(cat "$pidfile")
  [[ "$pid" =~ ^[0-9]+$ ]] && ours "$pid" && echo "$pid"
}

case "$action" in
  stop)
    pid=$(running_pid) || exit 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do ours "$pid" || break; sleep 0.1; done
    if ours "$pid"; then kill -KILL "$pid" 2>/dev/null || true; sleep 0.2; fi
    ;;
  start)
    if running_pid >/dev/null; then echo "ceph-rgw-gateway: radosgw already runs" >&2; exit 1; fi
    # shellcheck disable=SC1091
    . "$dir/s3.env"
    export CEPH_CONF="$conf" TMPDIR="$dir/tmp"
    radosgw -c "$conf" -n client.rgw.0 -f </dev/null >>"$dir/log/rgw.out" 2>&1 3>&- &
    echo $! >"$pidfile"
    empty_sha=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
    for _ in $(seq 1 ${CAIRN_CEPH_TIMEOUT:-60}0); do
      code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
        --aws-sigv4 "aws:amz:$AWS_REGION:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
        -H "x-amz-content-sha256: $empty_sha" "$CAIRN_S3_ENDPOINT/" || true)
      [[ "$code" == 200 ]] && exit 0
      ours "$(cat "$pidfile")" || { echo "ceph-rgw-gateway: radosgw exited" >&2; tail -20 "$dir/log/rgw.out" >&2; exit 1; }
      sleep 0.1
    done
    echo "ceph-rgw-gateway: radosgw did not answer in time" >&2
    exit 1
    ;;
  *) usage ;;
esac
