#!/usr/bin/env bash
# Starts a throwaway Ceph cluster (1 mon, 1 osd, no mgr) and a RADOS Gateway on
# 127.0.0.1, everything inside one folder: config, data, logs, pid files, sockets.
# No systemd, no /etc/ceph, no disks. Auth is off: loopback test use only.
#
#   ceph-rgw-start.sh [--bluestore] [DIR]
#
# DIR (created if missing, default: mktemp -d) must be empty. Ports are chosen per
# run among free ones, so several gateways can run at once. On success prints the
# env file DIR/s3.env (CAIRN_S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
# AWS_REGION, CAIRN_S3_DIR) and exits 0 once a signed ListBuckets answers 200.
# On failure prints the mon, osd and rgw logs, stops what it started, exits 1.
# Stop with ops/scripts/ceph-rgw-stop.sh DIR.
#
# --bluestore keeps object data on disk (a sparse file in DIR) instead of RAM
# (memstore, the default): use it when a run stores more than a few hundred MB.
# Environment: CAIRN_CEPH_MEMSTORE_BYTES (memstore capacity, default 4 GiB),
# CAIRN_CEPH_BLUESTORE_BYTES (sparse block file size, default 20 GiB),
# CAIRN_CEPH_TIMEOUT (seconds to wait for each step, default 60).
# Packages: ceph-mon ceph-osd radosgw (Debian, --no-install-recommends is enough).
set -euo pipefail

usage() { echo "usage: $0 [--bluestore] [DIR]" >&2; exit 2; }

objectstore=memstore
dir=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bluestore) objectstore=bluestore ;;
    -h|--help) usage ;;
    -*) usage ;;
    *) [[ -z "$dir" ]] || usage; dir="$1" ;;
  esac
  shift
done

for tool in ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool curl; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "ceph-rgw-start: '$tool' not found; install: apt-get install -y" \
         "--no-install-recommends ceph-mon ceph-osd radosgw curl" >&2
    exit 1
  fi
done

if [[ -z "$dir" ]]; then
  dir=$(mktemp -d "${TMPDIR:-/tmp}/cairn-ceph.XXXXXX")
else
  mkdir -p "$dir"
  if [[ -n "$(ls -A "$dir")" ]]; then
    echo "ceph-rgw-start: $dir is not empty" >&2
    exit 1
  fi
fi
dir=$(cd "$dir" && pwd)
timeout_s=${CAIRN_CEPH_TIMEOUT:-60}
mkdir -p "$dir"/{mon,osd,run,log,rgw,crash,tmp}
conf="$dir/ceph.conf"
export CEPH_CONF="$conf"
export TMPDIR="$dir/tmp"

# --- ports -------------------------------------------------------------------
# A port counts as taken if any TCP socket (any state, v4 or v6) uses it locally.
port_taken() {
  local hex
  hex=$(printf '%04X' "$1")
  awk -v h=":$hex" 'NR > 1 && substr($2, length($2) - 4) == h { found = 1 }
                    END { exit found ? 0 : 1 }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
# Ports are picked below the kernel's ephemeral range (ip_local_port_range, 32768-60999 by
# default): a port inside it may be taken by any outgoing connection between the check and the
# daemon's bind (seen once in CI: "failed to bind address 127.0.0.1:47540: Address already in
# use"). Above 10000, below the range's start.
read -r ephemeral_low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || ephemeral_low=32768
port_low=10000
port_span=$((ephemeral_low - port_low - 16))
((port_span >= 1000)) || { port_low=20000; port_span=12000; }
# Prints the first port of `count` consecutive free ports, picked at random.
pick_ports() {
  local count=$1 tries base i ok
  for tries in $(seq 1 200); do
    base=$((port_low + (RANDOM * 32768 + RANDOM) % port_span))
    ok=1
    for ((i = 0; i < count; i++)); do
      if port_taken $((base + i)); then ok=0; break; fi
    done
    if [[ $ok == 1 ]]; then echo "$base"; return 0; fi
  done
  echo "ceph-rgw-start: no free ports found" >&2
  return 1
}
# The OSD binds several messenger ports within [osd_port, osd_port+9]; each
# group is checked free, then checked again just before the daemon starts.
mon_port=$(pick_ports 1)
osd_port=$(pick_ports 10)
rgw_port=$(pick_ports 1)
if [[ $mon_port == "$rgw_port" ]] || (( rgw_port >= osd_port && rgw_port < osd_port + 10 )) ||
   (( mon_port >= osd_port && mon_port < osd_port + 10 )); then
  rgw_port=$(pick_ports 1)
  mon_port=$(pick_ports 1)
fi
require_free() {
  if port_taken "$1"; then
    echo "ceph-rgw-start: port $1 ($2) is already in use; refusing to start" >&2
    return 1
  fi
}

fsid=$(cat /proc/sys/kernel/random/uuid)
osd_uuid=$(cat /proc/sys/kernel/random/uuid)
random_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }
access_key="CAIRN$(random_hex 8 | tr 'a-f' 'A-F')"
secret_key="$(random_hex 20)"
region=default

cat >"$conf" <<EOF
# Throwaway cluster made by $0; see ops/scripts/ceph-rgw-start.sh.
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$mon_port]
public addr = 127.0.0.1
ms bind msgr1 = false
ms bind msgr2 = true
ms bind port min = $osd_port
ms bind port max = $((osd_port + 9))
auth cluster required = none
auth service required = none
auth client required = none
auth supported = none
ms mon client mode = crc
keyring = $dir/keyring
run dir = $dir/run
admin socket = $dir/run/\$name.asok
pid file = $dir/run/\$name.pid
log file = $dir/log/\$name.log
crash dir = $dir/crash
log to stderr = false
err to stderr = true
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
osd crush chooseleaf type = 0
mon data avail crit = 0
mon data avail warn = 0

[mon]
mon data = $dir/mon/\$cluster-\$id
mon initial members = a
paxos propose interval = 0.1
paxos min wait = 0.01

[osd]
osd data = $dir/osd/\$cluster-\$id
osd objectstore = $objectstore
memstore device bytes = ${CAIRN_CEPH_MEMSTORE_BYTES:-4294967296}
bluestore block path = $dir/osd/block
bluestore block create = true
bluestore block size = ${CAIRN_CEPH_BLUESTORE_BYTES:-21474836480}
bluestore fsck on mount = false
osd max object size = 134217728

[client.rgw.0]
rgw frontends = beast endpoint=127.0.0.1:$rgw_port tcp_nodelay=1
rgw data = $dir/rgw
rgw gc obj min wait = 30
rgw dynamic resharding = false
EOF
: >"$dir/keyring"

exec 3>&2  # the real stderr, for messages from inside redirected polls

dump_logs() {
  local f
  for f in "$dir"/log/*.log "$dir"/log/*.out; do
    [[ -f "$f" ]] || continue
    echo "===== $f (last 60 lines) =====" >&2
    tail -n 60 "$f" >&2 || true
  done
}
fail() {
  {
    echo "ceph-rgw-start: FAILED: $*"
    dump_logs 2>&1
    "$(dirname "$0")/ceph-rgw-stop.sh" --keep "$dir" 2>&1 || true
    echo "ceph-rgw-start: files kept in $dir"
  } >&3
  exit 1
}
# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.1 s.
wait_for() {
  local limit=$1 what=$2
  shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if (( SECONDS >= deadline )); then fail "timed out after ${limit}s waiting for $what"; fi
    sleep 0.1
  done
}
# run_bg NAME COMMAND...: starts a daemon in the foreground mode (-f) in the
# background and records its pid in DIR/run/NAME.started.
run_bg() {
  local name=$1
  shift
  "$@" </dev/null >"$dir/log/$name.out" 2>&1 3>&- &
  local pid=$!
  echo "$pid" >"$dir/run/$name.started"
}
alive_or_fail() {
  local name=$1 pid
  pid=$(cat "$dir/run/$name.started")
  kill -0 "$pid" 2>/dev/null || fail "$name exited early"
}
ceph_cli() { timeout 30 ceph -c "$conf" --connect-timeout 10 "$@"; }

start_ns=$(date +%s%N)

# --- mon -----------------------------------------------------------------------
monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" \
  "$dir/monmap" >"$dir/log/monmaptool.out" 2>&1 || fail "monmaptool"
ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" \
  >"$dir/log/mon-mkfs.out" 2>&1 || fail "ceph-mon --mkfs"
require_free "$mon_port" mon || fail "mon port $mon_port taken"
run_bg mon ceph-mon -c "$conf" -i a -f

# --- osd -----------------------------------------------------------------------
osd_id=$(ceph_cli osd new "$osd_uuid" 2>"$dir/log/osd-new.out") || fail "ceph osd new"
[[ "$osd_id" == 0 ]] || fail "unexpected osd id '$osd_id'"
mkdir -p "$dir/osd/ceph-0"
ceph-osd -c "$conf" -i 0 --mkfs --osd-uuid "$osd_uuid" \
  >"$dir/log/osd-mkfs.out" 2>&1 || fail "ceph-osd --mkfs"
for ((p = osd_port; p < osd_port + 10; p++)); do
  require_free "$p" osd || fail "osd port range taken"
done
run_bg osd ceph-osd -c "$conf" -i 0 -f
osd_up() { alive_or_fail osd; ceph_cli osd dump 2>/dev/null | grep -q '^osd\.0 up'; }
wait_for "$timeout_s" "osd.0 up" osd_up

# --- rgw -----------------------------------------------------------------------
require_free "$rgw_port" rgw || fail "rgw port $rgw_port taken"
run_bg rgw radosgw -c "$conf" -n client.rgw.0 -f
rgw_http() {
  alive_or_fail rgw
  curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$rgw_port/"
}
wait_for "$timeout_s" "radosgw HTTP on port $rgw_port" rgw_http
timeout 60 radosgw-admin -c "$conf" -n client.rgw.0 user create --uid=cairn-test \
  --display-name="Cairn test" --access-key="$access_key" --secret="$secret_key" \
  >"$dir/log/user-create.out" 2>&1 || fail "radosgw-admin user create"

empty_sha=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
list_buckets_ok() {
  alive_or_fail rgw
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
    --aws-sigv4 "aws:amz:$region:s3" --user "$access_key:$secret_key" \
    -H "x-amz-content-sha256: $empty_sha" "http://127.0.0.1:$rgw_port/")
  [[ "$code" == 200 ]]
}
wait_for "$timeout_s" "signed ListBuckets to answer 200" list_buckets_ok

cat >"$dir/s3.env" <<EOF
CAIRN_S3_ENDPOINT=http://127.0.0.1:$rgw_port
AWS_ACCESS_KEY_ID=$access_key
AWS_SECRET_ACCESS_KEY=$secret_key
AWS_REGION=$region
CAIRN_S3_DIR=$dir
EOF
chmod 600 "$dir/s3.env"
elapsed_ms=$((($(date +%s%N) - start_ns) / 1000000))
echo "ceph-rgw-start: gateway ready on http://127.0.0.1:$rgw_port ($objectstore," \
     "${elapsed_ms} ms); stop with: $(dirname "$0")/ceph-rgw-stop.sh $dir" >&2
cat "$dir/s3.env"
