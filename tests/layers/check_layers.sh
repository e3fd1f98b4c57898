#!/usr/bin/env bash
# check_layers.sh — keeps the layer arrows pointing down (README "Layout").
#
# Reads every `#include "sse/<layer>/..."` in src/ and include/ and fails,
# naming the file and line, when a file includes a layer it may not know.
# The table below is the whole rule: a layer may include itself and the
# layers listed after it. `make test` runs this first; tests/layers/run.sh
# shows that it catches a wrong include.
#
# Usage: tests/layers/check_layers.sh [ROOT]   (ROOT defaults to the checkout)
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}

declare -A may_include=(
  [base]=""                               # clock, log, JSON text: no I/O loop
  [loop]="base"                           # fds, readiness, timers, output queues
  [http]="base loop"                      # bytes in, requests out
  [events]="base loop"                    # ids, frames, history, fan-out
  [redis]="base loop events"              # the shared event log: hiredis on our reactor
  [auth]="base"                           # tokens: text in, claims or an error out
  [server]="base loop http events redis auth"  # connections, handlers, the server
)

status=0
checked=0
while IFS= read -r file; do
  rel=${file#"$root"/}
  # src/<layer>/x.cpp or include/sse/<layer>/x.h
  layer=$(sed -E 's#^(src|include/sse)/([^/]+)/.*#\2#' <<<"$rel")
  if [[ -z ${may_include[$layer]+set} ]]; then
    echo "$rel: not in a known layer (one of: ${!may_include[*]})"
    status=1
    continue
  fi
  allowed=" $layer ${may_include[$layer]} "
  while IFS=: read -r line text; do
    target=$(sed -E 's#.*"sse/([^/"]+)/.*#\1#' <<<"$text")
    checked=$((checked + 1))
    if [[ $allowed != *" $target "* ]]; then
      echo "$rel:$line: layer '$layer' includes '$target' ($(sed -E 's/^[[:space:]]+//' <<<"$text")); it may include only: $layer ${may_include[$layer]}"
      status=1
    fi
  done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]+"sse/' "$file" || true)
done < <(find "$root/src" "$root/include/sse" -type f \( -name '*.h' -o -name '*.cpp' \) | sort)

if [[ $status -eq 0 ]]; then
  echo "layers: $checked includes checked, every one points down"
fi
exit $status
