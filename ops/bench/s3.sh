#!/usr/bin/env bash
# Benchmark of an S3 site (issue 6): deposit into and restore from a repository
# whose first (only) site is a bucket on a throwaway local Ceph RADOS Gateway,
# against `curl --aws-sigv4` uploading and downloading the same files one by one
# (one process and connection each, sequentially) in the same run. Prints MB/s
# and the ratios (target: cairn >= 1.5x curl, each way), and the peak memory of
# cairn (/usr/bin/time -v; target < 200 MiB).
#
#   ops/bench/s3.sh [SMALL_FILES [SMALL_MIB [LARGE_MIB]]]      # default 1000 1 512
#   CAIRN=build-x/ops/cairn ops/bench/s3.sh
#
# The data: SMALL_FILES files of SMALL_MIB MiB and one LARGE_MIB MiB file of
# random bytes. Cairn deposits them twice: as a plain folder (each file hashed
# first, for its name and its parts' digests in one read, then sent straight to
# its blob key, each part signed with its digest) and as a bag with
# manifest-sha256.txt (digests known first: parts go straight to the blob key).
# When rclone (Debian package rclone) or aws (awscli) is installed, issue 19's
# baselines run too: `rclone copy --transfers 4` and `aws s3 cp --recursive`
# of the same files, each way, and the ratios against the faster of the two
# (ops/scripts/install-deps.sh --bench installs both; Debian's /usr/bin/aws is
# used when present, ahead of any other aws on PATH). Everything lives in a temp folder, removed at the end, and
# the gateway (memstore; BENCH_BLUESTORE=1: bluestore on a sparse file, for
# large runs) is stopped whatever happens. BENCH_URL_EXTRA="&part-size=32MiB" adds
# options to the S3 site URL.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cairn=${CAIRN:-$top/build/ops/cairn}
small_files=${1:-1000}
small_mib=${2:-1}
large_mib=${3:-512}
[ -x "$cairn" ] || { echo "no cairn binary at $cairn (build first, or set CAIRN)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-s3.XXXXXX")
gw=$work/gw
cleanup() {
  "$top/ops/scripts/ceph-rgw-stop.sh" "$gw" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
store_args=()
[[ "${BENCH_BLUESTORE:-0}" == 1 ]] && store_args=(--bluestore)
CAIRN_CEPH_MEMSTORE_BYTES=${CAIRN_CEPH_MEMSTORE_BYTES:-$((8 << 30))} \
  "$top/ops/scripts/ceph-rgw-start.sh" "${store_args[@]}" "$gw" >/dev/null
set -a
# shellcheck disable=SC1091
. "$gw/s3.env"
set +a
endpoint=$CAIRN_S3_ENDPOINT
sig="aws:amz:$AWS_REGION:s3"
user="$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY"

now() { date +%s.%N; }
# Before each timed download: what earlier steps wrote reaches the disk first, so every tool
# writes its download into the same page-cache state (with gigabytes just written and not yet
# synced, the kernel's copy into the page cache ran several times slower, for curl and dd too).
settle() { sync; sleep 1; }
mbps() { awk -v b="$1" -v t="$2" 'BEGIN { printf "%.1f", (t > 0 ? b / t / 1e6 : 0) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
# s3 METHOD PATH [curl args...]: one signed request, fails on HTTP errors.
s3() {
  local method=$1 path=$2
  shift 2
  curl -sS -f -X "$method" --aws-sigv4 "$sig" --user "$user" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$@" "$endpoint/$path"
}

src=$work/src
echo "making $small_files x $small_mib MiB + 1 x $large_mib MiB of random bytes in $src" >&2
mkdir -p "$src"
head -c $((large_mib << 20)) /dev/urandom >"$src/large.bin"
if ((small_files > 0)); then
  mkdir -p "$src/small"
  head -c $((small_files * small_mib << 20)) /dev/urandom |
    (cd "$src/small" && split -b $((small_mib << 20)) -a 4 -d - f)
fi
bytes=$(du -sb --apparent-size "$src" | cut -f1)
names=$(cd "$src" && find . -type f | sed 's|^\./||' | sort)

# --- curl, one file at a time ----------------------------------------------------
s3 PUT curl-baseline >/dev/null
t0=$(now)
while read -r name; do
  s3 PUT "curl-baseline/$name" -T "$src/$name" -o /dev/null
done <<<"$names"
t1=$(now)
curl_up=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
mkdir -p "$work/curl-down"
((small_files > 0)) && mkdir -p "$work/curl-down/small"
settle
t1=$(now)
while read -r name; do
  s3 GET "curl-baseline/$name" -o "$work/curl-down/$name"
done <<<"$names"
t2=$(now)
curl_down=$(awk -v a="$t1" -v b="$t2" 'BEGIN { print b - a }')
cmp "$src/large.bin" "$work/curl-down/large.bin"
rm -rf "$work/curl-down"
while read -r name; do s3 DELETE "curl-baseline/$name" -o /dev/null; done <<<"$names"
s3 DELETE curl-baseline -o /dev/null

# --- rclone and aws (issue 19's baselines), when installed ----------------------------
# rclone: `rclone copy --transfers 4` (Debian package rclone); aws: `aws s3 cp --recursive`
# (Debian package awscli). Both against the same gateway, the same files, each into its bucket.
rclone_up="" rclone_down="" aws_up="" aws_down=""
if command -v rclone >/dev/null; then
  export RCLONE_CONFIG_GW_TYPE=s3 RCLONE_CONFIG_GW_PROVIDER=Ceph \
    RCLONE_CONFIG_GW_ACCESS_KEY_ID="$AWS_ACCESS_KEY_ID" \
    RCLONE_CONFIG_GW_SECRET_ACCESS_KEY="$AWS_SECRET_ACCESS_KEY" \
    RCLONE_CONFIG_GW_ENDPOINT="$endpoint" RCLONE_CONFIG_GW_REGION="$AWS_REGION"
  (unset AWS_CA_BUNDLE; rclone -q mkdir gw:rclone-baseline)
  t0=$(now)
  (unset AWS_CA_BUNDLE; rclone -q copy --transfers 4 "$src" gw:rclone-baseline)
  t1=$(now)
  rclone_up=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
  settle
  t1=$(now)
  (unset AWS_CA_BUNDLE; rclone -q copy --transfers 4 gw:rclone-baseline "$work/rclone-down")
  t2=$(now)
  rclone_down=$(awk -v a="$t1" -v b="$t2" 'BEGIN { print b - a }')
  diff -r "$src" "$work/rclone-down" >/dev/null
  rm -rf "$work/rclone-down"
  (unset AWS_CA_BUNDLE; rclone -q purge gw:rclone-baseline)
fi
aws_bin=$(command -v aws || true)
[[ -x /usr/bin/aws ]] && aws_bin=/usr/bin/aws
if [[ -n "$aws_bin" ]]; then
  awsc() { (unset AWS_CA_BUNDLE; "$aws_bin" --endpoint-url "$endpoint" --region "$AWS_REGION" s3 "$@" >/dev/null); }
  awsc mb s3://aws-baseline
  t0=$(now)
  awsc cp --recursive "$src" s3://aws-baseline/
  t1=$(now)
  aws_up=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
  settle
  t1=$(now)
  awsc cp --recursive s3://aws-baseline/ "$work/aws-down"
  t2=$(now)
  aws_down=$(awk -v a="$t1" -v b="$t2" 'BEGIN { print b - a }')
  diff -r "$src" "$work/aws-down" >/dev/null
  rm -rf "$work/aws-down"
  awsc rb --force s3://aws-baseline
fi
# The faster of rclone and aws, each way (empty when neither is installed).
best() { printf '%s\n' "$@" | awk 'NF { if (m == "" || $1 < m) m = $1 } END { print m }'; }
best_up=$(best "$rclone_up" "$aws_up")
best_down=$(best "$rclone_down" "$aws_down")

# --- cairn ---------------------------------------------------------------------------
peak() { awk -F: '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$1"; }
run_cairn() {  # REPO LOG ARGS...: timed, memory measured, seconds on stdout
  local repo=$1 log=$2
  shift 2
  local a b
  a=$(now)
  /usr/bin/time -v -o "$log" "$cairn" --repo "$repo" -q "$@" >/dev/null
  b=$(now)
  awk -v a="$a" -v b="$b" 'BEGIN { print b - a }'
}
make_repo() {  # REPO BUCKET: one S3 site, the only copy
  "$cairn" init "$1" >/dev/null
  "$cairn" --repo "$1" -q site add s3 "s3://$2?endpoint=$endpoint&region=$AWS_REGION${BENCH_URL_EXTRA:-}" --create-bucket
  printf 'copies: 1 sites: "s3"\n' >"$work/policy.textpb"
  "$cairn" --repo "$1" -q policy set "$work/policy.textpb"
  "$cairn" --repo "$1" -q partner add acme
}
make_repo "$work/repo1" cairn-bench-folder
folder_up=$(run_cairn "$work/repo1" "$work/dep1.time" deposit acme "$src" --id folder)
settle
folder_down=$(run_cairn "$work/repo1" "$work/res1.time" restore acme/folder "$work/out1" --site s3)
diff -r "$src" "$work/out1/data" >/dev/null
rm -rf "$work/out1"

# The same bytes as a bag with a SHA-256 manifest, into a second bucket.
bag=$work/bag
mkdir -p "$bag"
mv "$src" "$bag/data"
(cd "$bag" && find data -type f -print0 | sort -z | xargs -0 sha256sum >manifest-sha256.txt)
printf 'BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n' >"$bag/bagit.txt"
make_repo "$work/repo2" cairn-bench-bag
bag_up=$(run_cairn "$work/repo2" "$work/dep2.time" deposit acme "$bag" --id bag)
settle
bag_down=$(run_cairn "$work/repo2" "$work/res2.time" restore acme/bag "$work/out2" --site s3)
diff -r "$bag/data" "$work/out2/data" >/dev/null

echo "S3 benchmark: $small_files x $small_mib MiB + 1 x $large_mib MiB = $bytes bytes, local Ceph RGW (${store_args[*]:-memstore}), $(nproc) cores, load $(cut -d" " -f1-3 /proc/loadavg)"
printf '%-44s %8s s %9s MB/s %7s\n' "what" "time" "rate" "x curl"
printf '%-44s %8.2f s %9s MB/s %7s\n' "curl upload, one file at a time" "$curl_up" "$(mbps "$bytes" "$curl_up")" "1.00"
printf '%-44s %8.2f s %9s MB/s %7s\n' "cairn deposit (folder; hashed, then to the key)" "$folder_up" "$(mbps "$bytes" "$folder_up")" "$(ratio "$curl_up" "$folder_up")"
printf '%-44s %8.2f s %9s MB/s %7s\n' "cairn deposit (bag; parts to the blob key)" "$bag_up" "$(mbps "$bytes" "$bag_up")" "$(ratio "$curl_up" "$bag_up")"
printf '%-44s %8.2f s %9s MB/s %7s\n' "curl download, one file at a time" "$curl_down" "$(mbps "$bytes" "$curl_down")" "1.00"
printf '%-44s %8.2f s %9s MB/s %7s\n' "cairn restore --site s3 (folder object)" "$folder_down" "$(mbps "$bytes" "$folder_down")" "$(ratio "$curl_down" "$folder_down")"
printf '%-44s %8.2f s %9s MB/s %7s\n' "cairn restore --site s3 (bag object)" "$bag_down" "$(mbps "$bytes" "$bag_down")" "$(ratio "$curl_down" "$bag_down")"
if [[ -n "$best_up" ]]; then
  echo
  echo "against the faster of rclone copy --transfers 4 and aws s3 cp --recursive (issue 19: >= 1.0):"
  [[ -n "$rclone_up" ]] && printf '%-44s %8.2f s up, %8.2f s down\n' "rclone" "$rclone_up" "$rclone_down"
  [[ -n "$aws_up" ]] && printf '%-44s %8.2f s up, %8.2f s down\n' "aws" "$aws_up" "$aws_down"
  printf '%-44s %7s\n' "cairn deposit (folder) x the faster" "$(ratio "$best_up" "$folder_up")"
  printf '%-44s %7s\n' "cairn deposit (bag) x the faster" "$(ratio "$best_up" "$bag_up")"
  printf '%-44s %7s\n' "cairn restore (folder object) x the faster" "$(ratio "$best_down" "$folder_down")"
  printf '%-44s %7s\n' "cairn restore (bag object) x the faster" "$(ratio "$best_down" "$bag_down")"
fi
echo "cairn peak RSS: deposit folder $(peak "$work/dep1.time") MiB, deposit bag $(peak "$work/dep2.time") MiB, restore $(peak "$work/res1.time") / $(peak "$work/res2.time") MiB"
