#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, and runs the main job on
# the embedded default: a repository in a local folder with two posix sites.
#   bag a sample folder and validate it; init a repository; deposit (which replicates to
#   the second site); audit every copy; restore the object and validate the restored bag.
# Leaves everything in $CAIRN_DEMO_DIR (default: a new temp folder) and prints where.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
"$top/ops/scripts/install-deps.sh"
"$top/ops/scripts/build.sh"
cairn="${CAIRN_BUILD_DIR:-$top/build}/ops/cairn"

demo=${CAIRN_DEMO_DIR:-$(mktemp -d /tmp/cairn-demo-XXXXXX)}
mkdir -p "$demo"
echo "== demo folder: $demo"

# A sample collection: a few files, one name that needs percent-encoding in manifests.
src="$demo/sample-collection"
rm -rf "$src" && mkdir -p "$src/letters" "$src/images"
printf 'Dear Ada,\nThe engine works.\n' > "$src/letters/1843-07-10.txt"
printf 'Dear Charles,\nIt does.\n' > "$src/letters/1843-07-12.txt"
head -c 3000000 /dev/urandom > "$src/images/plate 01.tif"
printf 'readme %% 100\n' > "$src/README 100%.txt"

step() { printf '\n== %s\n' "$*"; }

step "bag the folder and validate the bag"
"$cairn" bag create "$src" "$demo/sample-bag" --algorithm sha256 \
  --info "Source-Organization: Demo Library"
"$cairn" bag validate "$demo/sample-bag"

step "a repository with two posix sites (a, b) and the default policy: 2 copies"
export CAIRN_REPO="$demo/repo"
rm -rf "$CAIRN_REPO"
"$cairn" init "$CAIRN_REPO"
"$cairn" site list
"$cairn" partner add demo-library --name "Demo Library"

step "deposit the bag: stored on site a, replicated to site b, each copy read back and verified"
"$cairn" deposit demo-library "$demo/sample-bag" --id letters-1843
step "deposit the plain folder again as a new version (unchanged files are not stored twice)"
"$cairn" deposit demo-library "$src" --id letters-1843
"$cairn" list
"$cairn" show demo-library/letters-1843 --no-files

step "audit every copy on every site"
"$cairn" audit run --all
step "damage one copy on site a (flip a byte), audit again: found and repaired from site b"
blob=$(find "$CAIRN_REPO/sites/a/blobs" -type f | head -n 1)
byte=X; [[ "$(head -c 1 "$blob")" == X ]] && byte=Y
printf '%s' "$byte" | dd of="$blob" bs=1 seek=0 count=1 conv=notrunc status=none
"$cairn" audit run --all && { echo "the damaged copy was not found"; exit 1; } || true
"$cairn" audit run --all

step "restore version 1 and validate the restored bag"
"$cairn" restore demo-library/letters-1843@v1 "$demo/restored-v1"
"$cairn" bag validate "$demo/restored-v1"
diff -r "$demo/sample-bag" "$demo/restored-v1" && echo "restored bag is byte-identical to the deposit"

step "usage per partner and site, and the event log"
"$cairn" usage
"$cairn" events --format text | tail -n 5
"$cairn" events verify
echo
echo "demo done: $demo"
