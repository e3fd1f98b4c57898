#!/usr/bin/env bash
# run.sh — the fan-out benchmark sweep behind `make bench`.
#
# Builds bench/fanout and bench/floor, then for each N in BENCH_SIZES runs the
# same workload against sse-server and against the floor (one prebuilt frame,
# one send() per socket), alternating which goes first, BENCH_REPS times, each
# run on a fresh server process. Server on core 0, load client on core 1.
# Prints one table of medians with the ratios sse-server / floor, and writes
#   bench/results/<date>-<commit>.csv   every run, one row each (fanout's CSV)
#   bench/results/<date>-<commit>.txt   the report printed at the end
#   bench/results/<date>-<commit>.log   every run's own summary
#   bench/results/fanout.svg            fan-out p50 against N (if gnuplot is installed)
# The servers, the runs and the medians are bench/lib.sh's, shared with
# bench/compare.sh (the same workload against nginx + nchan and Node.js too).
#
# Environment (defaults in brackets):
#   BENCH_SIZES ["1000 5000 10000 19000"]   subscriber counts
#   BENCH_REPS [3]                          repetitions; medians are reported
#   BENCH_EVENTS [50] BENCH_INTERVAL_MS [100] BENCH_WARMUP [5]   publish mode
#   BENCH_PAYLOAD [67]                      data bytes: 67 makes ~96-byte frames
#   BENCH_BURST_EVENTS [1000] BENCH_BURST_SUBS [1000] BENCH_BATCH [50]
#   BENCH_BURST_DEPTH [4]                   burst mode: POSTs of BATCH events, DEPTH in flight
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/lib.sh
fanout_settings "1000 5000 10000 19000" 50

# ------------------------------------------------------------------ build
bench_build
bench_init ""

# ------------------------------------------------------------------ runs
t0=$(date +%s)
echo "bench: sizes [$SIZES], $REPS repetition(s); writing $CSV" >&2
for rep in $(seq "$REPS"); do
  echo "repetition $rep of $REPS" >&2
  group=0
  for n in $SIZES; do
    order $((rep - 1 + group)) sse-server floor
    group=$((group + 1))
    for kind in $ORDERED; do run_one "$kind" publish "$n" "$EVENTS" "$INTERVAL_MS"; done
  done
  for n in $burst_sizes; do
    order $((rep - 1 + group)) sse-server floor
    group=$((group + 1))
    for kind in $ORDERED; do run_one "$kind" burst "$n" "$BURST_EVENTS" 0; done
  done
done
elapsed=$(( $(date +%s) - t0 ))

# ------------------------------------------------------------------ report
# Medians per (server, mode, N) of the CSV columns the table needs.
medians=$base.medians
bench_medians "$CSV" >"$medians"

report=$base.txt
{
  report_header "sse-server fan-out benchmark"
  echo "- publish: $EVENTS events ${INTERVAL_MS} ms apart (open loop: sent when due, answered or not) after $WARMUP warm-up events, $PAYLOAD-byte data (~$((PAYLOAD + 29))-byte frames), one POST each"
  echo "- burst: $BURST_EVENTS events in POSTs of $BATCH ($DEPTH in flight), back-to-back, to min(N, $BURST_SUBS) subscribers"
  echo "- sizes: $SIZES; repetitions: $REPS (medians), servers alternated, a fresh server process per run"
  echo "- sse-server flags: --port 0 --quiet --tick-ms 0 --max-clients 20000 --max-backlog 16777216"
  echo "- run length: ${elapsed} s in all; data: $CSV"
  echo
  printf '| figure (sse-server / floor = ratio) |'
  for n in $SIZES; do printf ' N = %s |' "$n"; done
  echo
  printf '|---|'
  for n in $SIZES; do printf -- '---:|'; done
  echo
  row() {  # title mode column scale decimals [burst]
    printf '| %s |' "$1"
    for n in $SIZES; do
      local m=$n
      [ "${6:-}" = burst ] && m=$((n < BURST_SUBS ? n : BURST_SUBS))
      printf ' %s |' "$(cell "$(get sse-server "$2" "$m" "$3")" "$(get floor "$2" "$m" "$3")" "$4" "$5")"
    done
    echo
  }
  row "server CPU per delivery, µs" publish 14 1 2
  row "fan-out p50 (publish → last subscriber), ms" publish 11 0.001 1
  row "fan-out p99, ms" publish 12 0.001 1
  row "delivery latency p99, ms" publish 8 0.001 1
  row "server RSS growth per subscriber, bytes" publish 15 1 0
  row "burst: deliveries/s, thousands (min(N,$BURST_SUBS) subscribers)" burst 13 0.001 0 burst
  row "server busy, % of its core, first publish to last delivery" publish 17 1 0
  row "client CPU while events in flight, % (publish)" publish 16 1 0
  row "client CPU, % (burst)" burst 16 1 0 burst
  echo
  bad=$(awk '{ s += $NF } END { print s + 0 }' "$medians")
  if awk '$2 == "publish" && $16 > 90 { f = 1 } END { exit !f }' "$medians"; then
    echo "Where the server was busy over 90% of the time it could not finish one fan-out before"
    echo "the next event was due: its fan-out latencies there include queueing behind earlier events."
  fi
  echo "With $EVENTS events a fan-out p99 is the slowest event or close to it."
  echo "Lost + duplicated + reordered events + errors over all runs: $bad; failed runs: $failures."
  client_limited_note
  echo
  echo "What these numbers do not show: everything ran over loopback on one 2-core virtual machine:"
  echo "no NIC, no real network latency or loss, and the subscribers' TCP receive path runs as"
  echo "softirq on the server's core (it slows the fan-out but is not in the server CPU figure;"
  echo "each run's log shows it). No TLS, no reverse proxy, no HTTP/2; every subscriber reads"
  echo "promptly (no slow consumers); one topic, small frames. Absolute figures move from run to"
  echo "run on a shared machine: read the ratios to the floor, which ran alternately in the same sweep."
} >"$report"
cat "$report"

# ------------------------------------------------------------------ plot
dat=$base.dat
for n in $SIZES; do
  echo "$n $(get sse-server publish "$n" 11) $(get floor publish "$n" 11)"
done >"$dat"
if command -v gnuplot >/dev/null; then
  gnuplot <<EOF
set terminal svg size 720,440 dynamic font "sans,12"
set output "bench/results/fanout.svg"
set title "Fan-out completion p50 (publish → last subscriber), $commit"
set xlabel "subscribers"
set ylabel "ms"
set key top left
set grid
plot "$dat" using 1:(\$2/1000) with linespoints title "sse-server", \
     "$dat" using 1:(\$3/1000) with linespoints title "floor (one send() per socket)"
EOF
  echo "plot: bench/results/fanout.svg"
else
  echo "gnuplot is not installed: no plot (the data is in $dat)"
fi
rm -f "$medians"
[ "$failures" = 0 ]
