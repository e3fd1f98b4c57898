#!/usr/bin/env bash
# run.sh — the layer check, and proof that it can fail.
#
# 1. The checkout itself must pass.
# 2. A copy with one deliberately wrong include (the HTTP parser reaching up
#    into the server layer) must fail, naming that file and line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

"$here/check_layers.sh" "$root"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp -r "$root/src" "$root/include" "$scratch/"
echo '#include "sse/server/connection.h"' >>"$scratch/src/http/http_parser.cpp"
line=$(wc -l <"$scratch/src/http/http_parser.cpp")
if out=$("$here/check_layers.sh" "$scratch" 2>&1); then
  echo "layers: the check passed a wrong include (src/http/http_parser.cpp:$line)"
  exit 1
fi
if [[ $out != *"src/http/http_parser.cpp:$line: layer 'http' includes 'server'"* ]]; then
  echo "layers: the check failed, but without naming the wrong include:"
  echo "$out"
  exit 1
fi
echo "layers: a wrong include is caught: ${out%%$'\n'*}"
