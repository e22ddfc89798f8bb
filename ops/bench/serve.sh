#!/usr/bin/env bash
# Benchmark of `cairn serve` (issue 17), on loopback over TLS, against the local verbs in the
# same run.
#
#   ops/bench/serve.sh [--cairn PATH] [--workdir DIR] [--keep] [--clients N] [--seconds S]
#                      [--no-2g] [--no-load]
#
#   (a) a warm 2 GiB bag (1,000 x 1 MiB + 4 x 250 MiB, made once by `cairn bag create`)
#       deposited remotely (`cairn --server ... deposit P BAG --json`: a tar made on the fly,
#       sent as a resumable upload in 32 MiB parts over 2 connections) against the local `cairn deposit P BAG --json` of the same bag into a repository
#       of its own; both replicate to the second site. Target: remote / local <= 1.3.
#       Then the version restored to a folder: `cairn --server ... restore P/O OUT` (the server
#       streams the tar while it restores it, the client checks every file on arrival) against
#       the local `cairn restore P/O OUT` of the same version. Target: remote / local <= 1.3.
#   (b) N clients (default 50), each a loop of curl requests for S seconds (default 60): list,
#       show, and every 5th round a deposit of a small bag (a 3-file tar). Prints requests,
#       failures (any answer but 2xx), p50 and p99 latency of list, show and deposit, and the
#       server's peak RSS (VmHWM). Targets: 0 failures, peak RSS < 300 MiB.
#   --quick: (a) with 20 x 1 MiB + 2 x 10 MiB instead (a smoke run of the script, no figure).
#   --mib-files N --large-files K --large-mib M: (a) with N x 1 MiB + K x M MiB instead (a
#       smaller figure on a busy machine, e.g. --mib-files 100 --large-files 2 --large-mib 75).
# Without --cairn the script uses build/ops/cairn (ops/scripts/build.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
clients=50
seconds=60
do_2g=1
do_load=1
mib_files=1000
large_mib=250
large_files=4
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --clients) clients="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --no-2g) do_2g=0; shift ;;
    --no-load) do_load=0; shift ;;
    --quick) mib_files=20; large_mib=10; large_files=2; shift ;;
    --mib-files) mib_files="$2"; shift 2 ;;
    --large-files) large_files="$2"; shift 2 ;;
    --large-mib) large_mib="$2"; shift 2 ;;
    -h | --help) sed -n '2,25p' "$0"; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done
bench_init "${args[@]}"
command -v curl >/dev/null || { echo "needs curl" >&2; exit 2; }

server_pid=""
stop_server() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
}
trap 'stop_server; bench_cleanup' EXIT

# --- a repository served over TLS with a self-signed certificate, a depositor and its token.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$workdir/key.pem" -out "$workdir/cert.pem" \
  -days 2 -subj /CN=127.0.0.1 -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1
served="$workdir/served"
fresh_repo "$served"
"$cairn" --quiet --repo "$served" principal add dora@bench --role depositor --partner bench \
  >/dev/null
"$cairn" --quiet --repo "$served" token create dora@bench >"$workdir/token" 2>/dev/null
"$cairn" --repo "$served" serve --listen 127.0.0.1:0 --tls-cert "$workdir/cert.pem" \
  --tls-key "$workdir/key.pem" --threads 4 >"$workdir/access.log" 2>"$workdir/serve.err" &
server_pid=$!
url=""
for _ in $(seq 100); do
  url=$(grep -o 'https://127.0.0.1:[0-9]*' "$workdir/serve.err" | head -1 || true)
  [[ -n "$url" ]] && break
  sleep 0.1
done
[[ -n "$url" ]] || { echo "cairn serve did not start:" >&2; cat "$workdir/serve.err" >&2; exit 1; }
echo "== cairn serve at $url (pid $server_pid)"
token=$(cat "$workdir/token")
remote() { CAIRN_TOKEN="$token" "$cairn" --server "$url" --ca-file "$workdir/cert.pem" "$@"; }
api() {  # api CURL_ARGS... URL_PATH: one request, "STATUS SECONDS" on stdout
  local path="${*: -1}"
  curl -sS -o "${API_OUT:-/dev/null}" -w '%{http_code} %{time_total}\n' --cacert "$workdir/cert.pem" \
    -H "Authorization: Bearer $token" "${@:1:$#-1}" "$url$path" || echo "000 0"
}

# server_cpu: CPU seconds (user + system) the server has used so far.
server_cpu() {
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$server_pid/stat"
}
# cpu_timed OUT_ELAPSED OUT_CPU CMD...: elapsed and CPU (user + system) seconds of CMD.
cpu_timed() {
  local __t="$1" __c="$2"; shift 2
  local out TIMEFORMAT='%3R %3U %3S'
  out=$({ time "$@" >/dev/null 2>&1; } 2>&1) || { echo "failed: $*" >&2; exit 1; }
  read -r e u s <<<"$out"
  printf -v "$__t" '%s' "$e"
  printf -v "$__c" '%s' "$(calc "$u + $s")"
}

if ((do_2g)); then
  echo
  echo "== (a) a bag of $mib_files x 1 MiB + $large_files x $large_mib MiB, remote against local"
  src="$workdir/src-2g"
  mkdir -p "$src"
  for i in $(seq "$mib_files"); do head -c 1048576 /dev/urandom >"$src/m$i.bin"; done
  for i in $(seq "$large_files"); do head -c $((large_mib * 1048576)) /dev/urandom >"$src/l$i.bin"; done
  "$cairn" --quiet bag create "$src" "$workdir/bag" >/dev/null
  rm -rf "$src"
  local_repo="$workdir/local"
  fresh_repo "$local_repo"
  warm "$workdir/bag"
  quiesce
  cpu_timed t_local c_local "$cairn" --quiet --repo "$local_repo" deposit bench "$workdir/bag" \
    --id big --json
  warm "$workdir/bag"
  quiesce
  s0=$(server_cpu)
  cpu_timed t_remote c_remote remote deposit bench "$workdir/bag" --id big --json
  s1=$(server_cpu)
  echo "local deposit:      $t_local s ($c_local s of CPU)"
  echo "remote deposit:     $t_remote s (CPU: client $c_remote s, server $(calc "$s1 - $s0") s)"
  echo "ratio remote / local deposit: $(calc "$t_remote / $t_local")  (target <= 1.3)"
  echo "ratio of CPU seconds, remote / local deposit: $(calc "($c_remote + $s1 - $s0) / $c_local")"
  quiesce
  cpu_timed t_restore c_restore "$cairn" --quiet --repo "$local_repo" restore bench/big \
    "$workdir/local-out"
  quiesce
  s0=$(server_cpu)
  cpu_timed t_remote_restore c_remote_restore remote --quiet restore bench/big "$workdir/remote-out"
  s1=$(server_cpu)
  [[ -f "$workdir/remote-out/bagit.txt" ]] || { echo "the remote restore made no bag" >&2; exit 1; }
  echo "local restore to a folder:   $t_restore s ($c_restore s of CPU)"
  echo "remote restore to a folder:  $t_remote_restore s (CPU: client $c_remote_restore s, server $(calc "$s1 - $s0") s)"
  echo "ratio remote / local restore: $(calc "$t_remote_restore / $t_restore")  (target <= 1.3)"
  echo "ratio of CPU seconds, remote / local restore: $(calc "($c_remote_restore + $s1 - $s0) / $c_restore")"
  rm -rf "$workdir/bag" "$workdir/local-out" "$workdir/remote-out" "$local_repo"
fi

if ((do_load)); then
  echo
  echo "== (b) $clients clients for $seconds s: list, show, and a small deposit every 5th round"
  small="$workdir/small-src"
  mkdir -p "$small"
  for i in 1 2 3; do echo "small file $i" >"$small/f$i.txt"; done
  "$cairn" --quiet bag create "$small" "$workdir/small.tar" >/dev/null
  remote deposit bench "$workdir/small.tar" --id seed --json >/dev/null
  end=$(($(date +%s) + seconds))
  client() {
    local n=$1 round=0
    while (($(date +%s) < end)); do
      round=$((round + 1))
      echo "list $(api /v1/objects)"
      echo "show $(api /v1/objects/bench/seed)"
      if ((round % 5 == 0)); then
        echo "deposit $(api -X POST -H 'Content-Type: application/x-tar' \
          --data-binary "@$workdir/small.tar" "/v1/deposits/bench/c$n-r$round")"
      fi
    done >"$workdir/client-$n.log"
  }
  for n in $(seq "$clients"); do client "$n" & done
  wait $(jobs -p | grep -v "^$server_pid$") 2>/dev/null || true
  rss_kb=$(awk '/VmHWM/ { print $2 }' "/proc/$server_pid/status")
  cat "$workdir"/client-*.log >"$workdir/all.log"
  total=$(wc -l <"$workdir/all.log")
  failed=$(awk '$2 !~ /^2/' "$workdir/all.log" | wc -l)
  echo "requests: $total, failed: $failed  (target 0)"
  for kind in list show deposit; do
    awk -v k="$kind" '$1 == k { print $3 }' "$workdir/all.log" | sort -n |
      awk -v k="$kind" '{ a[NR] = $1 } END {
        if (NR == 0) { print k ": none"; exit }
        p50 = a[int(NR * 0.50) > 0 ? int(NR * 0.50) : 1]; p99 = a[int(NR * 0.99) > 0 ? int(NR * 0.99) : 1]
        printf "%-8s %6d requests, p50 %.3f s, p99 %.3f s\n", k ":", NR, p50, p99 }'
  done
  echo "server peak RSS: $((rss_kb / 1024)) MiB  (target < 300 MiB)"
fi
stop_server
echo "== load average at end: $(cut -d" " -f1-3 /proc/loadavg)"
