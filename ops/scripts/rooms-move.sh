#!/usr/bin/env bash
# Moves the flat files of repo/ into its rooms (issue 16, "repo/ in rooms") and rewrites every
# `#include "repo/X.h"` of a moved header to its new path, across the whole tree. Re-runnable:
# run it at the top of a checkout (main, or a branch that has changed since), review, commit as
# ONE commit "repo: move files into rooms (scripted)".
#
#   rooms-move.sh            git mv + include rewrite (+ clang-format of the rewritten files,
#                            which only re-sorts their include blocks)
#   rooms-move.sh --paths    afterwards, for the docs commit: rewrites the other mentions of a
#                            moved file's path (comments, *.md, scripts): repo/X -> repo/ROOM/X
#
# Which room a file goes to: by name prefix (deposit_*, restore_*, replicate_*, rebuild_*,
# resync_*, site_* except site_layout*/site_readme*), else by the explicit list below. A file
# left in repo/ that is not one of the root's is reported at the end (decide its room and add it).
set -euo pipefail

mode=move
if [[ ${1:-} == --paths ]]; then mode=paths; fi

top=$(git rev-parse --show-toplevel)
cd "$top"
[[ -d repo ]] || { echo "rooms-move.sh: no repo/ folder in $top" >&2; exit 1; }

# What stays in the root of repo/: shared by every room (the base target).
root_files=(
  CMakeLists.txt FORMAT.md
  clock.h crash_point.h crash_point.cc file_modes.h file_modes.cc lock_wait.h lock_wait.cc
  run_pool.h run_pool.cc site_layout.h site_layout.cc site_layout_test.cc
  site_readme.cc site_readme_test.cc key_rule.h key_rule.cc principal.h test_hooks.h test_hooks.cc
)

# room_of NAME: the room of repo/NAME ("" = stays in the root).
room_of() {
  local name=$1 f
  for f in "${root_files[@]}"; do [[ $name == "$f" ]] && { echo ""; return; }; done
  case $name in
    deposit_* | deposit.* | disk_manifest_index* | gc.* | gc_*) echo deposit ;;
    restore_* | restore.*) echo restore ;;
    replicate_* | replicate.* | copies_queue*) echo replicate ;;
    rebuild_* | rebuild.* | resync_* | resync.* | dr_testing.h) echo recovery ;;
    site_* | site.* | repository_* | repository.* | settings.* | settings_* | swapped_site_*)
      echo site ;;
    inventory.* | inventory_*) echo catalog ;;
    *) echo "?" ;;
  esac
}

# The (old, new) pairs of every flat file of repo/ that has a room, moved or still to move.
declare -a olds=() news=()
collect() {
  local path name room
  # Files still flat in repo/.
  while IFS= read -r path; do
    name=${path#repo/}
    room=$(room_of "$name")
    [[ -z $room || $room == "?" ]] && continue
    olds+=("repo/$name")
    news+=("repo/$room/$name")
  done < <(git ls-files 'repo/*' | grep -E '^repo/[^/]+$' || true)
  # Files already moved by an earlier run (so a re-run still rewrites new includes of them).
  while IFS= read -r path; do
    name=${path#repo/*/}
    room=${path#repo/}
    room=${room%%/*}
    [[ $(room_of "$name") == "$room" ]] || continue
    olds+=("repo/$name")
    news+=("$path")
  done < <(git ls-files 'repo/*/*' | grep -E '^repo/(site|deposit|restore|replicate|recovery|catalog)/[^/]+$' || true)
}
collect

# sed -E pattern for a literal path.
quote() { printf '%s' "$1" | sed -E 's/[][\.*^$/]/\\&/g'; }

if [[ $mode == move ]]; then
  for i in "${!olds[@]}"; do
    if [[ -e ${olds[$i]} && ! -e ${news[$i]} ]]; then
      mkdir -p "$(dirname "${news[$i]}")"
      git mv "${olds[$i]}" "${news[$i]}"
    fi
  done
  # One sed script: every moved header's include line.
  script=$(mktemp)
  trap 'rm -f "$script"' EXIT
  for i in "${!olds[@]}"; do
    [[ ${olds[$i]} == *.h ]] || continue
    printf 's/^([[:space:]]*#[[:space:]]*include[[:space:]]+")%s"/\\1%s"/\n' \
      "$(quote "${olds[$i]}")" "$(quote "${news[$i]}")" >>"$script"
  done
  mapfile -t files < <(git grep -lE '^\s*#\s*include\s+"repo/[^/"]+\.h"' -- \
    '*.h' '*.cc' '*.cpp' '*.inc' || true)
  changed=()
  for f in "${files[@]}"; do
    before=$(md5sum <"$f")
    sed -E -i -f "$script" "$f"
    [[ $(md5sum <"$f") == "$before" ]] || changed+=("$f")
  done
  # Re-sort the include blocks the new paths put out of order (the files are clang-formatted
  # already, so nothing else changes).
  if ((${#changed[@]})) && command -v clang-format >/dev/null; then
    clang-format -i "${changed[@]}"
  fi
  echo "rooms-move.sh: ${#changed[@]} files had includes rewritten"
else
  script=$(mktemp)
  trap 'rm -f "$script"' EXIT
  for i in "${!olds[@]}"; do
    # repo/NAME not preceded by a path character, not followed by one: comments, docs, scripts.
    printf 's/(^|[^A-Za-z0-9_./-])%s($|[^A-Za-z0-9_])/\\1%s\\2/g\n' \
      "$(quote "${olds[$i]}")" "$(quote "${news[$i]}")" >>"$script"
  done
  mapfile -t files < <(git grep -lE 'repo/[a-z_]+\.(h|cc|md)' -- . ':!*.sql.inc' || true)
  n=0
  for f in "${files[@]}"; do
    before=$(md5sum <"$f")
    sed -E -i -f "$script" "$f"
    [[ $(md5sum <"$f") == "$before" ]] || n=$((n + 1))
  done
  echo "rooms-move.sh --paths: $n files had paths rewritten"
fi

# What is still flat and not the root's.
left=0
while IFS= read -r path; do
  name=${path#repo/}
  if [[ $(room_of "$name") == "?" ]]; then
    echo "rooms-move.sh: repo/$name has no room: add it to room_of()" >&2
    left=1
  fi
done < <(git ls-files 'repo/*' | grep -E '^repo/[^/]+$' || true)
exit $left
