#!/usr/bin/env bash
# compare.sh — sse-server beside its peers, in one run (`make bench-compare`).
#
# The fan-out workload of bench/run.sh (steady publish, then a burst), run by
# bench/fanout against, in turn:
#   sse-server   ./sse-server, built by make
#   floor        bench/floor: one prebuilt frame, one send() per subscriber
#   nchan        nginx + nchan (Debian nginx-light + libnginx-mod-nchan), one
#                worker, bench/nginx.conf: nchan_subscriber eventsource on /sse,
#                nchan_publisher on /publish (the raw POST body is the message)
#   node         bench/node-server.mjs: plain node:http, res.write() per client
# The order of the servers rotates from one group of runs to the next, and
# every run gets a fresh server process. Server on core 0, load client on
# core 1. Missing Debian packages are installed (apt-get; sudo when not root);
# nothing is written outside bench/results/ and a temp dir.
#
# Prints one table per figure: each server's median, its ratio to the floor,
# and sse-server's ratio to nchan and to node. Writes
#   bench/results/<date>-<commit>-compare.csv   every run (fanout's CSV)
#   bench/results/<date>-<commit>-compare.txt   the report printed at the end
#   bench/results/<date>-<commit>-compare.log   every run's summary, server errors
#   bench/results/compare.svg                   fan-out p50 against N (with gnuplot)
#
# Environment (defaults in brackets), as bench/run.sh's:
#   BENCH_SIZES ["1000 5000 10000"] BENCH_REPS [3]
#   BENCH_EVENTS [50] BENCH_INTERVAL_MS [100] BENCH_WARMUP [5] BENCH_PAYLOAD [67]
#   BENCH_BURST_EVENTS [1000] BENCH_BURST_SUBS [1000] BENCH_BURST_DEPTH [4]
#   BENCH_BATCH [1]   events per POST in the burst; 1 because nchan takes one
#                     message per POST (with more, nchan gets that many
#                     pipelined POSTs and the others one JSON array)
#   COMPARE_SERVERS ["sse-server floor nchan node"]; add "baseline" (with
#                     BASELINE_BIN=path/to/an/older/sse-server) to compare
#                     a change against the code before it
set -euo pipefail
cd "$(dirname "$0")/.."

SERVERS=${COMPARE_SERVERS:-"sse-server floor nchan node"}
. bench/lib.sh
fanout_settings "1000 5000 10000" 1

has() { [[ " $SERVERS " == *" $1 "* ]]; }
label() {
  case $1 in
    nchan) echo "nginx + nchan" ;;
    node) echo "Node.js" ;;
    baseline) echo "baseline ($BASELINE_BIN)" ;;
    *) echo "$1" ;;
  esac
}

# ------------------------------------------------------------------ setup
if has nchan; then ensure_packages nginx-light libnginx-mod-nchan; fi
if has node && ! command -v node >/dev/null; then ensure_packages nodejs; fi
bench_build
bench_init -compare
# nchan keeps this many messages per channel: more than one run publishes.
NCHAN_BUFFER=$(( (EVENTS > BURST_EVENTS ? EVENTS : BURST_EVENTS) + WARMUP + 100 ))

# ------------------------------------------------------------------ runs
t0=$(date +%s)
echo "compare: servers [$SERVERS], sizes [$SIZES], $REPS repetition(s); writing $CSV" >&2
for rep in $(seq "$REPS"); do
  echo "repetition $rep of $REPS" >&2
  group=0
  for n in $SIZES; do
    order $((rep - 1 + group)) $SERVERS
    group=$((group + 1))
    for kind in $ORDERED; do run_one "$kind" publish "$n" "$EVENTS" "$INTERVAL_MS"; done
  done
  for n in $burst_sizes; do
    order $((rep - 1 + group)) $SERVERS
    group=$((group + 1))
    for kind in $ORDERED; do run_one "$kind" burst "$n" "$BURST_EVENTS" 0; done
  done
done
elapsed=$(($(date +%s) - t0))

# ------------------------------------------------------------------ report
medians=$BENCH_TMP/medians
bench_medians "$CSV" >"$medians"

# figure_table TITLE MODE COLUMN SCALE DECIMALS SIZES...: a row per server
# (median, and its ratio to the floor), then sse-server's ratio to each peer.
figure_table() {
  local title=$1 mode=$2 col=$3 scale=$4 dec=$5 s n v peer
  shift 5
  echo "**$title**"
  echo
  printf '| server |'
  for n in "$@"; do printf ' N = %s |' "$n"; done
  echo
  printf '|---|'
  for n in "$@"; do printf -- '---:|'; done
  echo
  for s in $SERVERS; do
    printf '| %s |' "$(label "$s")"
    for n in "$@"; do
      v=$(get "$s" "$mode" "$n" "$col")
      if [ "$s" = floor ] || ! has floor; then
        printf ' %s |' "$(value "$v" "$scale" "$dec")"
      else
        printf ' %s (%s) |' "$(value "$v" "$scale" "$dec")" "$(ratio "$v" "$(get floor "$mode" "$n" "$col")")"
      fi
    done
    echo
  done
  for peer in baseline nchan node; do
    if ! has sse-server || ! has "$peer"; then continue; fi
    printf '| sse-server / %s |' "$(label "$peer")"
    for n in "$@"; do
      printf ' %s |' "$(ratio "$(get sse-server "$mode" "$n" "$col")" "$(get "$peer" "$mode" "$n" "$col")")"
    done
    echo
  done
  echo
}

report=$base.txt
{
  report_header "sse-server beside nginx + nchan, Node.js and the floor"
  echo "- servers: $(for s in $SERVERS; do printf '%s; ' "$(label "$s")"; done | sed 's/; $//')"
  has nchan && echo "- nginx + nchan: $(nginx -v 2>&1 | sed 's/^nginx version: //'), nchan $(dpkg-query -W -f '${Version}' libnginx-mod-nchan 2>/dev/null), 1 worker process, bench/nginx.conf (message buffer $NCHAN_BUFFER)"
  has node && echo "- Node.js: $(node --version), bench/node-server.mjs (node:http, one res.write() per client per event, chunked stream)"
  echo "- publish: $EVENTS events ${INTERVAL_MS} ms apart (open loop) after $WARMUP warm-up events, $PAYLOAD-byte data (frames ~$((PAYLOAD + 29)) bytes; nchan's ids are 4 bytes shorter), one POST each"
  echo "- burst: $BURST_EVENTS events, $BATCH per POST ($DEPTH POSTs in flight), back-to-back, to min(N, $BURST_SUBS) subscribers"
  echo "- sizes: $SIZES; repetitions: $REPS (medians); server order rotated, a fresh server process per run"
  echo "- run length: ${elapsed} s in all; data: $CSV"
  echo
  echo "Each cell: the median, and in brackets its ratio to the floor (the least any server can do)."
  echo
  figure_table "server CPU per delivery, µs (lower is better)" publish 14 1 2 $SIZES
  figure_table "fan-out p50, publish → last subscriber, ms" publish 11 0.001 1 $SIZES
  figure_table "fan-out p99, ms" publish 12 0.001 1 $SIZES
  figure_table "delivery latency p99, ms" publish 8 0.001 1 $SIZES
  figure_table "server RSS growth per subscriber, bytes" publish 15 1 0 $SIZES
  figure_table "server busy, % of its core (publish)" publish 17 1 0 $SIZES
  figure_table "burst: deliveries/s, thousands (higher is better)" burst 13 0.001 0 $burst_sizes
  figure_table "burst: server CPU per delivery, µs" burst 14 1 2 $burst_sizes
  figure_table "load client CPU while events in flight, % (publish)" publish 16 1 0 $SIZES
  figure_table "load client CPU, % (burst)" burst 16 1 0 $burst_sizes
  echo "Lost + duplicated + reordered events + errors, by server:$(
    for s in $SERVERS; do
      printf ' %s %s;' "$(label "$s")" "$(awk -v s="$s" '$1 == s { t += $NF } END { print t + 0 }' "$medians")"
    done | sed 's/;$//'). Failed runs: $failures."
  client_limited_note
  echo
  echo "Where a server was busy near 100% of its core it could not finish one fan-out before the"
  echo "next event was due, and its latencies include queueing behind earlier events. Server CPU"
  echo "excludes the loopback receive path (softirq on the server's core, billed to no process):"
  echo "the same work for every server, shown in each run's log. Loopback on a shared 2-core"
  echo "virtual machine: read the ratios, which come from runs interleaved in the same sweep."
} >"$report"
cat "$report"

# ------------------------------------------------------------------ plot
dat=$BENCH_TMP/compare.dat
for n in $SIZES; do
  printf '%s' "$n"
  for s in $SERVERS; do v=$(get "$s" publish "$n" 11); printf ' %s' "${v:-NaN}"; done
  echo
done >"$dat"
if [ "$(echo $SIZES | wc -w)" -lt 2 ]; then
  echo "one size only: no plot"
elif command -v gnuplot >/dev/null; then
  plots=""
  col=2
  for s in $SERVERS; do
    plots="$plots${plots:+, }\"$dat\" using 1:(\$$col/1000) with linespoints title \"$(label "$s")\""
    col=$((col + 1))
  done
  gnuplot <<EOF
set terminal svg size 720,440 dynamic font "sans,12"
set output "bench/results/compare.svg"
set title "Fan-out completion p50 (publish → last subscriber), $commit"
set xlabel "subscribers"
set ylabel "ms"
set key top left
set grid
plot $plots
EOF
  echo "plot: bench/results/compare.svg"
else
  echo "gnuplot is not installed: no plot"
fi
[ "$failures" = 0 ]
