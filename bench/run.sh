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
#   bench/results/<date>-<commit>-probe.csv  the /health probe of every probed run
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
#   BASELINE_BIN [unset]                   another sse-server binary (say, the previous
#                                           commit's) run in the same rotation, with a
#                                           second table baseline / floor: before and
#                                           after in one interleaved sweep
#   BENCH_PROBE_MS [20] BENCH_PROBE_MIN [10000]   publish runs with N >= BENCH_PROBE_MIN
#                                           also GET /health every BENCH_PROBE_MS ms on a
#                                           keep-alive connection while the events are in
#                                           flight (bench/fanout --probe-ms); 0: no probe
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/lib.sh
fanout_settings "1000 5000 10000 19000" 50
PROBE_MS=${BENCH_PROBE_MS:-20}
PROBE_MIN=${BENCH_PROBE_MIN:-10000}

# ------------------------------------------------------------------ build
bench_build
bench_init ""
PROBE_CSV=$base-probe.csv

# ------------------------------------------------------------------ runs
KINDS="sse-server floor"
[ -n "${BASELINE_BIN:-}" ] && KINDS="sse-server baseline floor"
t0=$(date +%s)
echo "bench: sizes [$SIZES], $REPS repetition(s); writing $CSV" >&2
for rep in $(seq "$REPS"); do
  echo "repetition $rep of $REPS" >&2
  group=0
  for n in $SIZES; do
    # shellcheck disable=SC2086
    order $((rep - 1 + group)) $KINDS
    group=$((group + 1))
    FANOUT_ARGS=""
    if [ "$PROBE_MS" -gt 0 ] && [ "$n" -ge "$PROBE_MIN" ]; then
      FANOUT_ARGS="--probe-ms $PROBE_MS --probe-csv $PROBE_CSV"
    fi
    for kind in $ORDERED; do run_one "$kind" publish "$n" "$EVENTS" "$INTERVAL_MS"; done
    FANOUT_ARGS=""
  done
  for n in $burst_sizes; do
    # shellcheck disable=SC2086
    order $((rep - 1 + group)) $KINDS
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
  echo "- sse-server flags: --port 0 --quiet --tick-ms 0 --max-clients 20000 --max-backlog 16777216${SSE_SERVER_ARGS:+ $SSE_SERVER_ARGS}"
  echo "- run length: ${elapsed} s in all; data: $CSV"
  echo
  SERVER=sse-server  # the server of the table's left-hand figures
  row() {  # title mode column scale decimals [burst]
    printf '| %s |' "$1"
    for n in $SIZES; do
      local m=$n
      [ "${6:-}" = burst ] && m=$((n < BURST_SUBS ? n : BURST_SUBS))
      printf ' %s |' "$(cell "$(get "$SERVER" "$2" "$m" "$3")" "$(get floor "$2" "$m" "$3")" "$4" "$5")"
    done
    echo
  }
  # probe_row TITLE COLUMN: medians of $PROBE_CSV's column (9 p50, 10 p99,
  # 11 max, µs) per server and N, as ms; — where N was not probed.
  probe_row() {
    printf '| %s |' "$1"
    for n in $SIZES; do
      local a f
      a=$(probe_median "$SERVER" "$n" "$2")
      f=$(probe_median floor "$n" "$2")
      if [ -z "$a" ] && [ -z "$f" ]; then printf ' — |'; else printf ' %s |' "$(cell "$a" "$f" 0.001 1)"; fi
    done
    echo
  }
  table_head() {
    printf '| figure (%s / floor = ratio) |' "$SERVER"
    for n in $SIZES; do printf ' N = %s |' "$n"; done
    echo
    printf '|---|'
    for n in $SIZES; do printf -- '---:|'; done
    echo
  }
  probe_median() {
    awk -F, -v l="$1" -v n="$2" -v c="$3" "$AWK_MEDIAN"'
      NR > 1 && $1 == l && $2 == n && $c != "" { v = v " " $c; any = 1 }
      END { if (any) print median(v) }' "$PROBE_CSV"
  }
  table_head
  row "server CPU per delivery, µs" publish 14 1 2
  row "fan-out p50 (publish → last subscriber), ms" publish 11 0.001 1
  row "fan-out p99, ms" publish 12 0.001 1
  row "fan-out max (the slowest of the $EVENTS events; median over runs), ms" publish 21 0.001 1
  row "delivery latency p99, ms" publish 8 0.001 1
  row "server RSS growth per subscriber, bytes (target ≤ 512)" publish 15 1 0
  row "burst: deliveries/s, thousands (min(N,$BURST_SUBS) subscribers)" burst 13 0.001 0 burst
  row "server busy, % of its core, first publish to last delivery" publish 17 1 0
  row "client CPU while events in flight, % (publish)" publish 16 1 0
  row "client CPU, % (burst)" burst 16 1 0 burst
  if [ -s "$PROBE_CSV" ]; then
    probe_row "/health during fan-outs, p50, ms" 9
    probe_row "/health during fan-outs, p99, ms" 10
    probe_row "/health during fan-outs, max, ms" 11
  fi
  if [ -n "${BASELINE_BIN:-}" ]; then
    echo
    echo "The baseline, $BASELINE_BIN, in the same rotation:"
    echo
    SERVER=baseline
    table_head
    row "server CPU per delivery, µs" publish 14 1 2
    row "fan-out p50 (publish → last subscriber), ms" publish 11 0.001 1
    row "fan-out p99, ms" publish 12 0.001 1
    row "fan-out max (the slowest of the $EVENTS events; median over runs), ms" publish 21 0.001 1
    row "server RSS growth per subscriber, bytes" publish 15 1 0
    if [ -s "$PROBE_CSV" ]; then probe_row "/health during fan-outs, p99, ms" 10; fi
    SERVER=sse-server
  fi
  echo
  if [ -s "$PROBE_CSV" ]; then
    echo "/health: a second thread of the load client GETs /health every $PROBE_MS ms on one keep-alive"
    echo "connection while the events are in flight (N ≥ $PROBE_MIN; open loop, pipelined when a reply is"
    echo "late), each reply timed from its request's send(); medians over the repetitions of each"
    echo "run's p50, p99 and max. The floor answers /health too, but only between fan-outs: it"
    echo "writes a whole fan-out in one pass of its loop. Probes not answered, all runs: $(awk -F, 'NR > 1 { u += $8 } END { print u + 0 }' "$PROBE_CSV")$(awk -F, 'NR > 1 && $12 != "" { printf "; %s: %s", $1, $12 }' "$PROBE_CSV" | head -c 300)."
  fi
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
