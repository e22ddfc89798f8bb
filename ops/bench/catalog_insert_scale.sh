#!/usr/bin/env bash
# A quick stand-in for the flat deposit rate of issue 19's 10,000,000-file row: how much longer a
# deposit of K new tiny files takes when the catalog already holds N files than when it is empty,
# on the same disk, in the same run. The full row (ops/bench/catalog_scale.sh) builds its catalog
# through 100 real deposits (about an hour here); this one writes the N files' rows straight into
# the catalog with the sqlite3 shell (blobs of random digests, one file row and one ok copy on
# site a each: the shape 100 deposits of 100,000 files leave; about 2 minutes for 10,000,000), so
# that a change to the catalog's schema or its inserts can be tried in minutes. Only the catalog
# is large: the site holds only the measured deposits' blobs, so what grows here is the catalog's
# cost alone (the full row also measures the file system's folders growing).
#
#   ops/bench/catalog_insert_scale.sh [--cairn PATH] [--workdir DIR] [--keep] [--files N]
#                                     [--per-object K] [--rounds R]
#
# Each round deposits K new files (distinct contents) into the empty repository, then the same
# number into the large one, with `--no-replicate`, and prints both times and their ratio; with
# strace installed, also the catalog writes (pwrite64 calls) of the last round's two deposits.
# The ratio the row asks for is the last million's rate against the first million's: here, the
# empty repository's time over the large one's (1.0: flat; the full row gave 0.66 at 10,000,000).
# The large catalog starts with a sixteenth of its blobs' digests in tier 0 of blob_digests
# (catalog migration 14), halfway between two merges; at the end, tier 0 is topped up to the
# eighth that makes the next deposit merge it, that deposit is timed, and the ratio is printed
# again with its extra time spread over the deposits between two merges.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init "$@"
files=10000000
per=100000
rounds=3
set -- "${BENCH_ARGS[@]+"${BENCH_ARGS[@]}"}"
usage() { sed -n '2,19p' "$0"; exit 2; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --files) files="$2"; shift 2 ;;
    --per-object) per="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    *) usage ;;
  esac
done
[[ "$files" =~ ^[1-9][0-9]*$ && "$per" =~ ^[1-9][0-9]*$ && "$rounds" =~ ^[1-9][0-9]*$ ]] || usage
command -v sqlite3 >/dev/null || { echo "needs the sqlite3 shell (apt-get install sqlite3)" >&2; exit 2; }

empty=$workdir/empty
large=$workdir/large
for r in "$empty" "$large"; do
  "$cairn" --quiet init "$r" >/dev/null
  "$cairn" --quiet --repo "$r" partner add bench >/dev/null
done

objects=$(((files + per - 1) / per))
settled=$((files - files / 16))
echo "-- writing $files files' rows ($objects objects) into $large/catalog.db"
t0=$(now)
# version_copies_bulk holds off the per-copy memo trigger, as a deposit of new blobs does.
sqlite3 "$large/catalog.db" >/dev/null <<SQL
PRAGMA cache_size = -2000000;
BEGIN;
INSERT INTO version_copies_bulk (id) VALUES (1);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $objects)
  INSERT INTO objects (partner, object, created) SELECT 'bench', 'pre' || i, 1 FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $objects)
  INSERT INTO versions (id, partner, object, version, created, depositor, file_count, payload_bytes)
  SELECT i, 'bench', 'pre' || i, 1, 1, 'bench', $per, $per * 20 FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $files)
  INSERT INTO blobs (id, sha256, size) SELECT i, lower(hex(randomblob(32))), 20 FROM n;
INSERT INTO files (version_id, path, size, blob_id)
  SELECT (id - 1) / $per + 1, printf('data/f%07d', (id - 1) % $per), 20, id FROM blobs ORDER BY id;
INSERT INTO replicas (site_id, blob_id, state, last_verified, next_due)
  SELECT (SELECT id FROM sites WHERE name = 'a'), id, 'ok', 1, 1 FROM blobs ORDER BY id;
DELETE FROM version_copies_bulk;
-- Tier 1 of blob_digests (catalog migration 14) takes every blob's prefix but the last
-- sixteenth's, which stays in tier 0: halfway between two merges (at an eighth).
INSERT INTO blob_digests (tier, prefix, blob_id)
  SELECT 1, prefix, blob_id FROM blob_digests WHERE tier = 0 AND blob_id <= $settled
  ORDER BY prefix, blob_id;
DELETE FROM blob_digests WHERE tier = 0 AND blob_id <= $settled;
UPDATE blob_digest_tiers SET settled_through = $settled;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
cat_b=$(du -cb "$large"/catalog.db* | tail -1 | cut -f1)
echo "written in $(calc "$(now) - $t0") s: $cat_b bytes, $(calc "$cat_b / $files") bytes per file"

src_root=$workdir
[[ -d /dev/shm && -w /dev/shm ]] && src_root=$(mktemp -d /dev/shm/cairn-bench-src.XXXXXX)
src=$src_root/src
# make_source ROUND: $per distinct tiny files (a line each) in $src.
make_source() {
  rm -rf "$src"
  mkdir -p "$src"
  (cd "$src" && seq -f "round $1 file %.0f" 1 "$per" | split -l 1 -a 7 -d - f)
}
ratios=()
tes=()
tls=()
for ((i = 1; i <= rounds; i++)); do
  make_source "$i"
  sync
  timed te "$cairn" --quiet --repo "$empty" deposit bench "$src" --id "r$i" --no-replicate
  sync
  timed tl "$cairn" --quiet --repo "$large" deposit bench "$src" --id "r$i" --no-replicate
  ratios+=("$(calc "$te / $tl")")
  tes+=("$te")
  tls+=("$tl")
  echo "round $i: $per files into the empty catalog $te s, into the one of $files files $tl s: ratio $(calc "$te / $tl")"
done
if command -v strace >/dev/null; then
  make_source $((rounds + 1))
  for r in empty large; do
    sync
    strace -f -c -e trace=pwrite64,pread64 -o "$workdir/strace-$r.txt" \
      "$cairn" --quiet --repo "$workdir/$r" deposit bench "$src" --id strace --no-replicate
    echo "$r catalog, one more deposit: $(awk '$NF == "pwrite64" { print $4 }' "$workdir/strace-$r.txt") pwrite64, $(awk '$NF == "pread64" { print $4 }' "$workdir/strace-$r.txt") pread64 calls"
  done
fi
# The merge of tier 0 into tier 1, which a deposit does once tier 0 holds an eighth of all blobs:
# tier 0 is topped up (rows written as above) to one deposit short of it, then one more deposit
# is timed. Its time beyond the rounds' median, spread over the deposits of $per files between
# two merges, is the merge's share of each.
median_tl=$(printf '%s\n' "${tls[@]}" | median_stdin)
last=$(sqlite3 "$large/catalog.db" "SELECT MAX(id) FROM blobs")
through=$(sqlite3 "$large/catalog.db" "SELECT settled_through FROM blob_digest_tiers")
top_up=$(((last - 8 * (last - through) - 7 * per + 6) / 7))
if ((top_up > 0)); then
  sqlite3 "$large/catalog.db" >/dev/null <<SQL
PRAGMA cache_size = -2000000;
BEGIN;
INSERT INTO objects (partner, object, created) VALUES ('bench', 'topup', 1);
INSERT INTO versions (partner, object, version, created, depositor, file_count, payload_bytes)
  VALUES ('bench', 'topup', 1, 1, 'bench', $top_up, $top_up * 20);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $top_up)
  INSERT INTO blobs (sha256, size) SELECT lower(hex(randomblob(32))), 20 FROM n;
INSERT INTO files (version_id, path, size, blob_id)
  SELECT (SELECT id FROM versions WHERE object = 'topup'), printf('data/t%09d', id), 20, id
  FROM blobs WHERE id > $last ORDER BY id;
INSERT INTO replicas (site_id, blob_id, state, last_verified, next_due)
  SELECT (SELECT id FROM sites WHERE name = 'a'), id, 'ok', 1, 1 FROM blobs WHERE id > $last
  ORDER BY id;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
fi
make_source merge
sync
timed tm "$cairn" --quiet --repo "$large" deposit bench "$src" --id merge --no-replicate
merged=$(sqlite3 "$large/catalog.db" "SELECT count(*) FROM blob_digests WHERE tier = 0")
total=$(sqlite3 "$large/catalog.db" "SELECT MAX(id) FROM blobs")
between=$(calc "$total / 8 / $per")
extra=$(calc "$tm - $median_tl")
echo "merge: the deposit that merged tier 0 (left with $merged entries; $total blobs) took $tm s, $extra s beyond the rounds' median $median_tl s; one merge per $between deposits of $per files"
rm -rf "$src"
[[ "$src_root" == /dev/shm/* ]] && rmdir "$src_root"
echo
median_te=$(printf '%s\n' "${tes[@]}" | median_stdin)
echo "median ratio, deposit into the empty catalog / into the one of $files files: $(printf '%s\n' "${ratios[@]}" | median_stdin)  (goal: 1.0, flat)"
echo "with the merge's share: $median_te / ($median_tl + $extra / $between) = $(calc "$median_te / ($median_tl + $extra / $between)")"
echo "== load average at end: $(cut -d" " -f1-3 /proc/loadavg)"
