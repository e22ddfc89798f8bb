#!/usr/bin/env bash
# Installs the build given as $1 into a scratch prefix and checks what landed there.
set -euo pipefail
build=$1
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
fail() { echo "install_test: $*" >&2; exit 1; }
[[ -x $prefix/bin/cairn ]] || fail "no executable $prefix/bin/cairn"
"$prefix/bin/cairn" version >/dev/null || fail "the installed cairn does not run"
# The unit is written at install time: its ExecStart names the installed binary;
# the docs it names were installed.
unit=$prefix/lib/systemd/system/cairn-daemon.service
[[ -f $unit ]] || fail "no $unit"
grep -q "^ExecStart=$prefix/bin/cairn daemon" "$unit" || fail "unit ExecStart does not name $prefix/bin/cairn"
serve_unit=$prefix/lib/systemd/system/cairn-serve.service
[[ -f $serve_unit ]] || fail "no $serve_unit"
grep -q "^ExecStart=$prefix/bin/cairn serve " "$serve_unit" || fail "serve unit ExecStart does not name $prefix/bin/cairn"
grep -q "^Documentation=file://$prefix/share/doc/cairn/API.md" "$serve_unit" || fail "serve unit Documentation"
for doc in README.md ARCHITECTURE.md FORMAT.md SCHEMA.md RELIABILITY.md PERFORMANCE.md API.md openapi.json; do
  [[ -f $prefix/share/doc/cairn/$doc ]] || fail "doc $doc not installed"
done
[[ -f $prefix/share/cairn/policies/examples/default.textpb ]] || fail "example policies missing"
echo "install_test: ok ($prefix)"
