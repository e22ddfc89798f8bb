#!/usr/bin/env bash
# Runs COMMAND with a throwaway Ceph RADOS Gateway (ops/scripts/ceph-rgw-start.sh)
# that every S3 test in it shares, then stops the gateway, whatever COMMAND did.
#
#   with-ceph-rgw.sh [--bluestore] COMMAND [ARGS...]
#
# COMMAND sees CAIRN_S3_ENV_FILE (the gateway's s3.env) and the variables in it
# (CAIRN_S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
# CAIRN_S3_DIR). Exit status: COMMAND's, or 1 (with the gateway's logs) if the
# gateway would not start.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
start_args=()
if [[ "${1:-}" == "--bluestore" ]]; then start_args+=(--bluestore); shift; fi
[[ $# -gt 0 ]] || { echo "usage: $0 [--bluestore] COMMAND [ARGS...]" >&2; exit 2; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/cairn-ceph.XXXXXX")
trap '"$here/ceph-rgw-stop.sh" "$dir" || true' EXIT
"$here/ceph-rgw-start.sh" "${start_args[@]}" "$dir" >/dev/null
set -a
# shellcheck disable=SC1091
. "$dir/s3.env"
set +a
export CAIRN_S3_ENV_FILE="$dir/s3.env"
set +e
"$@"
status=$?
set -e
exit $status
