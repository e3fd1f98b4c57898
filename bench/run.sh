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

SIZES=${BENCH_SIZES:-"1000 5000 10000 19000"}
REPS=${BENCH_REPS:-3}
EVENTS=${BENCH_EVENTS:-50}
INTERVAL_MS=${BENCH_INTERVAL_MS:-100}
WARMUP=${BENCH_WARMUP:-5}
PAYLOAD=${BENCH_PAYLOAD:-67}
BURST_EVENTS=${BENCH_BURST_EVENTS:-1000}
BURST_SUBS=${BENCH_BURST_SUBS:-1000}
BATCH=${BENCH_BATCH:-50}
DEPTH=${BENCH_BURST_DEPTH:-4}
SERVERS="sse-server floor"
BENCH_CXXFLAGS="-O2 -std=c++17 -Wall -Wextra"

# ------------------------------------------------------------------ build
make --no-print-directory sse-server >/dev/null
g++ $BENCH_CXXFLAGS -o bench/fanout bench/fanout.cpp
g++ $BENCH_CXXFLAGS -o bench/floor bench/floor.cpp

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || commit="$commit-dirty"
stamp=$(date +%Y%m%d-%H%M%S)
mkdir -p bench/results
base=bench/results/$stamp-$commit
CSV=$base.csv
LOG=$base.log
: >"$LOG"

# Pinning: server on core 0, client on core 1, when there are two cores.
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  PIN_SERVER="taskset -c 0"; PIN_CLIENT="taskset -c 1"
  split="server pinned to core 0, load client to core 1 (taskset); $(nproc) cores"
else
  PIN_SERVER=""; PIN_CLIENT=""
  split="not pinned ($(nproc) core(s) or no taskset): server and client share the CPU"
fi

# ------------------------------------------------------------------ servers
# The server runs under `timeout`, so it ends by itself even if this script is
# killed; its pid (for /proc) is timeout's child.
TPID=""
SPID=""
PORT=""
start_server() {
  local kind=$1 out=$base.server.out
  : >"$out"
  case $kind in
    sse-server)
      $PIN_SERVER timeout -k 5 900 ./sse-server --port 0 --quiet --tick-ms 0 \
        --max-clients 20000 --max-backlog 16777216 >"$out" 2>&1 &
      ;;
    floor)
      $PIN_SERVER timeout -k 5 900 bench/floor --port 0 --lifetime-s 900 >"$out" 2>&1 &
      ;;
  esac
  TPID=$!
  for _ in $(seq 100); do
    grep -q 'listening on' "$out" && break
    sleep 0.05
  done
  PORT=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\)$/\1/p' "$out" | head -1)
  SPID=$(pgrep -P "$TPID" | head -1 || true)
  if [ -z "$PORT" ] || [ -z "$SPID" ]; then
    echo "run.sh: $kind did not start:" >&2
    cat "$out" >&2
    exit 1
  fi
}
stop_server() {
  if [ -n "$TPID" ]; then
    kill -TERM "$TPID" 2>/dev/null || true
    wait "$TPID" 2>/dev/null || true
    # Anything the server said besides its start line (errors, crashes).
    grep -v 'listening on' "$base.server.out" >>"$LOG" || true
  fi
  TPID=""
}
trap 'stop_server; rm -f "$base.server.out"' EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------ runs
failures=0
run_one() {  # kind mode subscribers events interval
  local kind=$1 mode=$2 n=$3 events=$4 interval=$5 rc=0 warm=$WARMUP
  [ "$mode" = burst ] && warm=1
  start_server "$kind"
  {
    echo "== $kind $mode N=$n (pid $SPID, port $PORT)"
    timeout 600 $PIN_CLIENT bench/fanout --port "$PORT" --subscribers "$n" --events "$events" \
      --interval-ms "$interval" --mode "$mode" --payload "$PAYLOAD" --batch "$BATCH" --burst-depth "$DEPTH" \
      --warmup "$warm" --server-pid "$SPID" --csv "$CSV" --label "$kind" 2>&1 || rc=$?
    if ! kill -0 "$SPID" 2>/dev/null; then echo "SERVER DIED during the run"; rc=1; fi
  } >>"$LOG"
  stop_server
  if [ "$rc" != 0 ]; then
    failures=$((failures + 1))
    echo "  FAILED: $kind $mode N=$n (exit $rc); see $LOG" >&2
  fi
  echo "  $kind $mode N=$n:$(grep 'fan-out us' "$LOG" | tail -1 | sed 's/^ *fan-out us//')" >&2
}

burst_sizes=$(for n in $SIZES; do echo $((n < BURST_SUBS ? n : BURST_SUBS)); done | sort -nu)
t0=$(date +%s)
echo "bench: sizes [$SIZES], $REPS repetition(s); writing $CSV" >&2
pair=0
order() {  # alternate which server goes first, pair by pair
  pair=$((pair + 1))
  if [ $((pair % 2)) = 1 ]; then echo "sse-server floor"; else echo "floor sse-server"; fi
}
for rep in $(seq "$REPS"); do
  echo "repetition $rep of $REPS" >&2
  for n in $SIZES; do
    for kind in $(order); do run_one "$kind" publish "$n" "$EVENTS" "$INTERVAL_MS"; done
  done
  for n in $burst_sizes; do
    for kind in $(order); do run_one "$kind" burst "$n" "$BURST_EVENTS" 0; done
  done
done
elapsed=$(( $(date +%s) - t0 ))

# ------------------------------------------------------------------ report
# Medians per (server, mode, N) of the CSV columns the table needs.
medians=$base.medians
awk -F, '
  function median(s,   a, n, i, j, t) {
    n = split(s, a, " ")
    for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  NR > 1 {
    k = $1 SUBSEP $3 SUBSEP $2
    keys[k] = 1
    for (c = 5; c <= 16; c++) v[k, c] = v[k, c] " " $c
    v[k, 17] = v[k, 17] " " $13 * $14 / 1e4  # server busy, % of a core, first publish to last delivery
    bad[k] += $17 + $18 + $19 + $20
  }
  END {
    for (k in keys) {
      split(k, p, SUBSEP)
      printf "%s %s %s", p[1], p[2], p[3]
      for (c = 5; c <= 17; c++) printf " %s", median(v[k, c])
      printf " %d\n", bad[k]
    }
  }' "$CSV" | sort >"$medians"

# get SERVER MODE N COLUMN -> median (columns numbered as in the CSV; 17 = server busy %)
get() { awk -v s="$1" -v m="$2" -v n="$3" -v c="$4" '$1 == s && $2 == m && $3 == n { print $(c - 1); exit }' "$medians"; }
cell() {  # sse floor scale decimals -> "sse / floor = ratio×"
  awk -v a="$1" -v b="$2" -v s="$3" -v d="$4" 'BEGIN {
    if (a == "" || b == "") { print "n/a"; exit }
    r = (b + 0 > 0 && a + 0 >= 0) ? sprintf("%.2f×", a / b) : "—"
    printf "%." d "f / %." d "f = %s\n", a * s, b * s, r }'
}

report=$base.txt
{
  echo "# sse-server fan-out benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "- commit: $commit"
  echo "- compiler: $(g++ --version | head -1); sse-server: make, CXXFLAGS=$(make -pn sse-server 2>/dev/null | sed -n 's/^CXXFLAGS = //p' | head -1) -std=c++17; bench tools: g++ $BENCH_CXXFLAGS"
  echo "- kernel: $(uname -r); CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
  echo "- core split: $split"
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
  limited=$(awk -F, 'NR > 1 && $16 > 90 { n++ } END { print n + 0 }' "$CSV")
  if [ "$limited" != 0 ]; then
    echo "WARNING: in $limited run(s) the load client used over 90% of its core while events were in"
    echo "flight: those figures are client-limited (see $LOG)."
  fi
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
