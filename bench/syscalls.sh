#!/usr/bin/env bash
# syscalls.sh — system calls per delivery, sse-server against the floor.
#
# Where does the CPU above the floor go? This counts, with perf's syscall
# tracepoints (counting only: no sampling, no slowdown that would change how
# events batch), every send, epoll and read call each server makes while
# bench/fanout delivers SYSCALL_EVENTS events to SYSCALL_N subscribers, and
# prints them per delivery. Needs `perf` (Debian linux-perf) and tracefs.
#
#   bench/syscalls.sh            # N = 10,000, 50 events 100 ms apart
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
bench_build
N=${SYSCALL_N:-10000}
EVENTS=${SYSCALL_EVENTS:-50}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
CALLS="sendto sendmsg epoll_wait epoll_ctl read"
events=$(for c in $CALLS; do printf 'syscalls:sys_enter_%s,' "$c"; done)

count() {  # label, then the server's command line
  local label=$1
  shift
  "$@" >"$TMP/$label.out" 2>&1 &
  local server=$!
  for _ in $(seq 100); do grep -q 'listening on' "$TMP/$label.out" && break; sleep 0.05; done
  local port
  port=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\)$/\1/p' "$TMP/$label.out" | head -1)
  bench/fanout --port "$port" --subscribers "$N" --events "$EVENTS" --interval-ms 100 \
    --mode publish --payload 67 --server-pid "$server" --csv "$TMP/$label.csv" --label "$label" \
    --ready-file "$TMP/$label.ready" >"$TMP/$label.log" 2>&1 &
  local client=$!
  for _ in $(seq 600); do [ -e "$TMP/$label.ready" ] && break; sleep 0.05; done
  perf stat -x, -e "${events%,}" -p "$server" -o "$TMP/$label.stat" &
  local perf=$!
  wait "$client"
  kill -INT "$perf"
  wait "$perf" 2>/dev/null || true
  kill -INT "$server"
  wait "$server" 2>/dev/null || true
  local deliveries
  deliveries=$(sed -n 's/.*deliveries *\([0-9]*\) of.*/\1/p' "$TMP/$label.log")
  printf '| %s |' "$label"
  for c in $CALLS; do
    awk -F, -v c="syscalls:sys_enter_$c" -v d="$deliveries" \
      '$3 == c { printf " %.4f |", $1 / d }' "$TMP/$label.stat"
  done
  echo " $deliveries |"
}

echo "system calls per delivery, N = $N, $EVENTS events 100 ms apart"
echo "| server | $(echo $CALLS | sed 's/ / | /g') | deliveries |"
echo "|---|$(for _ in $CALLS; do printf -- '---:|'; done)---:|"
count sse-server ./sse-server --host 127.0.0.1 --port 0 --www www --quiet --tick-ms 0 \
  --max-clients 20000
count floor bench/floor --port 0
