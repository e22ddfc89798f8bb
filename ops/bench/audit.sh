#!/usr/bin/env bash
# Benchmark of the fixity auditor (issue 5): `cairn audit run` full sweeps of
# one posix site on warm data, against OpenSSL in the same run. Builds nothing:
# uses build/ops/cairn (or --cairn PATH).
#
#   ops/bench/audit.sh [--cairn PATH] [--workdir DIR] [--skip-million] [--keep]
#
#   (a) 2 GiB in 8 x 256 MiB random blobs: sweep bytes/s vs `openssl speed -evp
#       sha256 -multi 2` (16 KiB column, i.e. two cores). Target >= 0.85.
#   (b) 20,000 x 4 KiB blobs: copies/s. Target >= 20,000/s.
#   (c) 1,000,000 copies in the catalog (rows written with SQL, blobs of 64 bytes
#       written straight to the site: the deposit path would take far longer):
#       the time the sweep spends picking copies (select_micros in its JSON)
#       vs the whole sweep of all 1,000,000. Target < 5%.
#       Also against `openssl dgst -sha256` over the same blob files, two at a
#       time, measured just before the sweep (less sensitive to a busy machine).
#   (d) --rate 50M on 1 GB of (a): measured bytes/s within 10% of 50 MB/s.
# Deposits use --no-replicate: only site a gets the data.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init "$@"
million=1
for arg in "${BENCH_ARGS[@]}"; do
  case "$arg" in
    --skip-million) million=0 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "unknown option: $arg" >&2; exit 2 ;;
  esac
done
command -v python3 >/dev/null || { echo "needs python3" >&2; exit 2; }
# Blob files and folders may be read-only: make them removable first.
trap 'chmod -R u+w "$workdir" 2>/dev/null; bench_cleanup' EXIT

json_field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }
# sweep OUT_SECONDS JSON_FILE ARGS...: runs `cairn audit run` with ARGS, times it.
sweep() {
  local __var="$1" out="$2"; shift 2
  local t0 t1 rc=0
  t0=$(now)
  "$cairn" audit run --json "$@" >"$out" || rc=$?
  t1=$(now)
  [[ $rc -eq 0 ]] || { echo "audit run $* exited $rc" >&2; cat "$out" >&2; exit 1; }
  printf -v "$__var" '%s' "$(calc "$t1 - $t0")"
}

speed_bps="$(openssl_speed_bps)"
echo "openssl speed -evp sha256 -multi 2 (16 KiB blocks): $(calc "$speed_bps / 1e6") MB/s"

# ---- (a) 8 x 256 MiB.
big="$workdir/big"
fresh_repo "$big"
mkdir -p "$workdir/src-big"
for i in 1 2 3 4 5 6 7 8; do head -c $((256 * 1048576)) /dev/urandom >"$workdir/src-big/b$i.bin"; done
CAIRN_REPO="$big" "$cairn" --quiet deposit bench "$workdir/src-big" --id big --no-replicate
rm -rf "$workdir/src-big"
export CAIRN_REPO="$big"
warm "$big/sites/a"
sweep _ "$workdir/a0.json" --all --site a  # warm-up
timed dgst_a dgst_all "$big/sites/a/blobs" 1
sweep sec_a "$workdir/a.json" --all --site a
bytes_a="$(json_field "$workdir/a.json" bytes)"
ratio_a="$(calc "$bytes_a / $sec_a / $speed_bps")"

# ---- (d) --rate 50M on about 1 GB of the same blobs.
sweep sec_d "$workdir/d.json" --all --site a --sample 1G --rate 50M
bytes_d="$(json_field "$workdir/d.json" bytes)"
rate_d="$(calc "$bytes_d / $sec_d / 1e6")"

# ---- (b) 20,000 x 4 KiB.
small="$workdir/small"
fresh_repo "$small"
python3 - "$workdir/src-small" <<'EOF'
import os, sys
root = sys.argv[1]
for d in range(20):
    os.makedirs(f"{root}/d{d:02}", exist_ok=True)
    for i in range(1000):
        with open(f"{root}/d{d:02}/f{i:04}", "wb") as f:
            f.write(os.urandom(4096))
EOF
CAIRN_REPO="$small" "$cairn" --quiet deposit bench "$workdir/src-small" --id small --no-replicate
rm -rf "$workdir/src-small"
export CAIRN_REPO="$small"
warm "$small/sites/a"
sweep _ "$workdir/b0.json" --all --site a
sweep sec_b "$workdir/b.json" --all --site a
checked_b="$(json_field "$workdir/b.json" checked)"
cps_b="$(calc "$checked_b / $sec_b")"

echo
echo "== (a) full sweep of site a: 8 x 256 MiB ($bytes_a bytes)"
echo "cairn audit run --all --site a: ${sec_a} s ($(calc "$bytes_a / $sec_a / 1e6") MB/s)"
echo "ratio vs openssl speed x2 cores: ${ratio_a}  (target >= 0.85)"
echo "openssl dgst -sha256 on the same blobs, 2 at once: ${dgst_a} s; ratio cairn/dgst: $(calc "$dgst_a / $sec_a")"
echo
echo "== (b) full sweep of site a: 20,000 x 4 KiB (+ tag files: $checked_b copies)"
echo "cairn audit run --all --site a: ${sec_b} s (${cps_b} copies/s, target >= 20000)"
echo
echo "== (d) --rate 50M --sample 1G: $bytes_d bytes in ${sec_d} s = ${rate_d} MB/s (target 45..55)"

if [[ $million -eq 1 ]]; then
  # ---- (c) 1,000,000 copies.
  m="$workdir/million"
  fresh_repo "$m"
  mkdir -p "$workdir/src-m"; echo seed >"$workdir/src-m/seed.txt"
  CAIRN_REPO="$m" "$cairn" --quiet deposit bench "$workdir/src-m" --id million --no-replicate
  echo "-- writing 1,000,000 blobs of 64 bytes and their catalog rows"
  python3 - "$m" <<'EOF'
import hashlib, os, sqlite3, sys, time
root = sys.argv[1]
n = 1_000_000
db = sqlite3.connect(f"{root}/catalog.db")
site = db.execute("SELECT id FROM sites WHERE name = 'a'").fetchone()[0]
now = int(time.time() * 1e6)
# The files rows go to a version of their own with no version.pb (written
# here, not deposited): files rows in the seed version would contradict its
# version.pb, and the sweep would report 1,000,000 catalog mismatches.
db.execute("INSERT INTO objects (partner, object, created) VALUES ('bench', 'million-rows', ?)",
           (now,))
vid = db.execute("INSERT INTO versions (partner, object, version, created, file_count, "
                 "payload_bytes) VALUES ('bench', 'million-rows', 1, ?, ?, ?)",
                 (now, n, 64 * n)).lastrowid
# The blob's folder as the site's layout has it (repo/site_layout.h): layout 2, what `init`
# makes since 4c5f6aa, has one fan-out level, layout 1 two. (Until session 26 this wrote
# layout 1's paths into the layout-2 site, and the sweep found every copy missing.)
with open(f"{root}/sites/a/CAIRN-SITE") as f:
    layout2 = f.readline().split() == ["cairn-site", "2"]
blobs, files, replicas = [], [], []
made = set()
for i in range(n):
    data = os.urandom(56) + i.to_bytes(8, "big")
    sha = hashlib.sha256(data).hexdigest()
    d = f"{root}/sites/a/blobs/sha256/{sha[:2]}" + ("" if layout2 else f"/{sha[2:4]}")
    if d not in made:
        os.makedirs(d, exist_ok=True)
        made.add(d)
    with open(f"{d}/{sha}", "wb") as f:
        f.write(data)
    blobs.append((sha, 64))
    files.append((vid, f"data/m/{i:07}", 64, sha))
    replicas.append((site, sha, now, now - 1))
with db:
    # Catalog schema 10: files and replicas name a blob by its id (schema 13:
    # a blob is found by its digest's prefix, so the ids are taken from the inserts;
    # schema 14: each insert also puts the blob's entry in tier 0 of blob_digests).
    ids = {}
    for sha, size in blobs:
        ids[sha] = db.execute("INSERT INTO blobs (sha256, size) VALUES (?, ?)",
                              (sha, size)).lastrowid
    db.executemany("INSERT INTO files (version_id, path, size, blob_id) VALUES (?, ?, ?, ?)",
                   [(v, p, z, ids[sha]) for v, p, z, sha in files])
    db.executemany("INSERT INTO replicas (site_id, blob_id, state, last_verified, next_due) "
                   "VALUES (?, ?, 'ok', ?, ?)",
                   [(st, ids[sha], a, b) for st, sha, a, b in replicas])
print(db.execute("SELECT COUNT(*) FROM replicas").fetchone()[0], "copies in the catalog")
EOF
  rm -rf "$workdir/src-m"
  export CAIRN_REPO="$m"
  warm "$m/sites/a"
  sweep sec_c "$workdir/c.json" --all --site a
  sel_c="$(json_field "$workdir/c.json" select_micros)"
  checked_c="$(json_field "$workdir/c.json" checked)"
  echo
  echo "== (c) 1,000,000 copies in the catalog: sweep of all $checked_c"
  echo "cairn audit run --all --site a: ${sec_c} s ($(calc "$checked_c / $sec_c") copies/s)"
  echo "picking the copies: $(calc "$sel_c / 1e6") s = $(calc "$sel_c / 1e6 / $sec_c * 100") % of the sweep (target < 5%)"
fi
echo "== load average at end: $(cut -d" " -f1-3 /proc/loadavg)"
