#!/usr/bin/env bash
# The rooms of repo/ (ARCHITECTURE.md, "The rooms of repo/"): a room's sources must not be able to
# include a header of a room it does not link. For each room, compiles one line including a header
# it may use (must build) and headers of rooms above or beside it (must fail: not found), with the
# room's own compile command from compile_commands.json.
#   rooms_layering_test.sh BUILD_DIR
set -uo pipefail
build=$1
commands=$build/compile_commands.json
[[ -f $commands ]] || { echo "no $commands" >&2; exit 2; }
failures=0

# flags ROOM: the compile command of one of ROOM's objects, without its output and input.
flags() {
  grep -m1 "\"command\".*/$1\\.dir/" "$commands" | sed -E 's/^ *"command": "//; s/",?$//; s/ -o [^ ]+ -c [^ ]+$//'
}

# check ROOM HEADER want: want "ok" (the include builds) or "hidden" (not found).
check() {
  local room=$1 header=$2 want=$3 cmd out
  cmd=$(flags "$room")
  if [[ -z $cmd ]]; then
    echo "FAIL: no compile command for $room in $commands"
    failures=$((failures + 1))
    return
  fi
  out=$(cd "$build" && printf '#include "%s"\n' "$header" | eval "$cmd -fsyntax-only -x c++ -" 2>&1)
  local rc=$?
  if [[ $want == ok && $rc -ne 0 ]]; then
    echo "FAIL: $room cannot include its own or a lower room's $header:"
    echo "$out" | head -5
    failures=$((failures + 1))
  elif [[ $want == hidden ]] && ! grep -q "$header: No such file" <<<"$out"; then
    echo "FAIL: $room can include $header, a header of a room it does not link (rc $rc)"
    failures=$((failures + 1))
  else
    echo "ok: $room $want $header"
  fi
}

check cairn_repo_base repo/site_layout.h ok
check cairn_repo_base repo/storage/backend.h hidden
check cairn_repo_storage repo/storage/backend.h ok
check cairn_repo_storage repo/catalog/catalog.h hidden
check cairn_repo_catalog repo/catalog/catalog.h ok
check cairn_repo_catalog repo/site/site.h hidden
check cairn_repo_site repo/site/repository.h ok
check cairn_repo_site repo/events/premis.h hidden
check cairn_repo_site repo/replicate/copies_queue.h hidden
check cairn_repo_events repo/replicate/replicate.h hidden
check cairn_repo_replicate repo/events/segments.h ok
check cairn_repo_replicate repo/deposit/deposit.h hidden
check cairn_repo_restore repo/replicate/site_copy.h hidden
check cairn_repo_deposit repo/replicate/replicate.h ok
check cairn_repo_deposit repo/recovery/rebuild.h hidden
check cairn_repo_recovery repo/restore/restore.h hidden
check cairn_repo_withdraw repo/events/segments.h ok
check cairn_repo_withdraw repo/restore/restore.h hidden
check cairn_repo_restore repo/withdraw/withdraw.h hidden
((failures == 0)) || { echo "$failures layering checks failed"; exit 1; }
