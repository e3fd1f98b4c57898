#!/usr/bin/env bash
# run.sh — /metrics as Prometheus's own checker reads it, and beside /stats.
#
# Starts the real server on a free port with a fast ticker and one
# subscriber, waits (with a deadline) until a few fan-outs were measured,
# then: `promtool check metrics` (Debian `prometheus`) must accept /metrics;
# its fan-out histogram must end at +Inf with its _count, be cumulative, and
# count at least what /stats counted just before. Stops everything by PID.
set -euo pipefail
cd "$(dirname "$0")/../.."
SERVER=${SSE_SERVER:-./sse-server}
TMP=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "metrics: FAIL: $*" >&2; exit 1; }

"$SERVER" --host 127.0.0.1 --port 0 --tick-ms 50 --quiet --www none >"$TMP/out" 2>&1 &
pids+=($!)
for _ in $(seq 200); do grep -q 'listening on' "$TMP/out" && break; sleep 0.05; done
port=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\)$/\1/p' "$TMP/out")
[ -n "$port" ] || fail "the server did not start: $(cat "$TMP/out")"
url="http://127.0.0.1:$port"
curl -sN "$url/sse" >/dev/null &
pids+=($!)

stats_count=0
for _ in $(seq 200); do
  stats_count=$(curl -s "$url/stats" |
    sed -n 's/.*"fanout_latency_us":{"count":\([0-9]*\).*/\1/p')
  [ "${stats_count:-0}" -ge 5 ] && break
  sleep 0.05
done
[ "${stats_count:-0}" -ge 5 ] || fail "no fan-outs measured within 10 s"

curl -s "$url/metrics" >"$TMP/metrics"
promtool check metrics <"$TMP/metrics" || fail "promtool check metrics refused /metrics"

count=$(sed -n 's/^sse_fanout_latency_seconds_count \([0-9]*\)$/\1/p' "$TMP/metrics")
inf=$(sed -n 's/^sse_fanout_latency_seconds_bucket{le="+Inf"} \([0-9]*\)$/\1/p' "$TMP/metrics")
[ "$count" = "$inf" ] || fail "+Inf bucket $inf is not the count $count"
[ "$count" -ge "$stats_count" ] || fail "/metrics counted $count fan-outs, /stats $stats_count before it"
awk '/^sse_fanout_latency_seconds_bucket/ { v = $NF + 0; if (v < prev) bad = 1; prev = v }
     END { exit bad }' "$TMP/metrics" || fail "the buckets are not cumulative"
for name in process_cpu_seconds_total process_resident_memory_bytes process_open_fds \
  process_max_fds process_start_time_seconds sse_loop_pass_seconds_count; do
  grep -q "^$name " "$TMP/metrics" || fail "$name is missing"
done
echo "metrics: promtool accepts /metrics; $count fan-outs in the histogram (/stats had $stats_count)"
