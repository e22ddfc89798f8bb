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

set -x
"$cairn" bag create "$src" "$demo/sample-bag" --algorithm sha256 --info "Source-Organization: Demo Library"
"$cairn" bag validate "$demo/sample-bag"
