#!/usr/bin/env bash
# redis.sh — sse-server --redis, measured (`make bench-redis`).
#
# One interleaved run (every repetition runs every group, the order of the
# servers rotated from one group and one repetition to the next, a fresh
# server process per run) of four measurements:
#   1. server CPU per delivery at N = 1,000 and 10,000 subscribers (publish
#      mode of bench/run.sh: events one by one, BENCH_INTERVAL_MS apart):
#      sse-server --redis (its own CPU, and Redis's beside it), the floor,
#      and sse-server in memory; ratios to the floor.
#   2. fan-out p50 / p99 (publish -> last subscriber) at N = 1,000, from the
#      same runs: --redis against in memory, and the difference.
#   3. publish rate, no subscribers: POST /publish from wrk (one thread, a
#      Lua script setting the POST body), 64 connections, one event per POST,
#      then JSON arrays of 100 events per POST; sse-server --redis against
#      sse-server in memory, beside redis-benchmark running the server's own
#      publish script (EVALSHA of include/sse/redis/publish_script.h, the
#      same arguments the server passes) on a Redis of its own, set up as
#      for sse-server, twice: 64 connections with one call in flight on
#      each, and pipelined (4 connections x -P 16: 64 calls in flight, as
#      sse-server sends every publish down its one Redis connection, several
#      per write): the physical limit here.
#   4. two sse-server --redis instances on one Redis, the subscribers split
#      between them (bench/fanout --split-port: every second subscriber on
#      the second instance), every event published to the first: every
#      delivery timed, lost / duplicated / reordered counted, in publish mode
#      and in a burst (BENCH_BURST_EVENTS in POSTs of BENCH_BATCH).
#
# Core split (2 cores): the server side on core 0 (sse-server, redis-server,
# the pair's two instances, the floor), the load client on core 1 (fanout,
# wrk, redis-benchmark), with taskset. Redis has no persistence (no RDB
# snapshot, no AOF), so nothing forks or writes to disk during a run.
# Missing Debian packages (redis-server, redis-tools, wrk, curl) are
# installed with apt-get.
#
# Writes
#   bench/results/<date>-<commit>-redis.txt        the report printed at the end
#   bench/results/<date>-<commit>-redis.csv        every fanout run (fanout's CSV)
#   bench/results/<date>-<commit>-redis-rate.csv   every publish-rate run
#   bench/results/<date>-<commit>-redis.log        every run's summary, server errors
#
# Environment (defaults in brackets):
#   BENCH_REPS [3]                     repetitions; medians are reported
#   BENCH_SIZES ["1000 10000"]         subscriber counts of 1 (2 takes 1000 or the smallest)
#   BENCH_EVENTS [50] BENCH_INTERVAL_MS [100] BENCH_WARMUP [5] BENCH_PAYLOAD [67]
#   BENCH_BURST_EVENTS [1000] BENCH_BATCH [50] BENCH_BURST_DEPTH [4]   the burst of 4
#   REDIS_PAIR_SUBS [1000]             subscribers of 4, split half and half
#   REDIS_RATE_DURATION [10]           seconds per wrk run
#   REDIS_RATE_CONNECTIONS [64]        wrk -c, redis-benchmark -c
#   REDIS_RATE_BATCH [100]             events per POST in the batch test
#   REDIS_BENCH_REQUESTS [300000]      redis-benchmark -n, one event per call
#   REDIS_BENCH_BATCHES [10000]        redis-benchmark -n, REDIS_RATE_BATCH events per call
#   REDIS_BENCH_PIPELINE [16]          redis-benchmark -P of the pipelined run (with
#                                      REDIS_RATE_CONNECTIONS / P connections)
#   REDIS_TESTS ["cpu rate pair"]      which parts run (cpu = 1 and 2)
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/lib.sh
fanout_settings "1000 10000" 50
RATE_DURATION=${REDIS_RATE_DURATION:-10}
RATE_CONNS=${REDIS_RATE_CONNECTIONS:-64}
RATE_BATCH=${REDIS_RATE_BATCH:-100}
RB_SINGLE=${REDIS_BENCH_REQUESTS:-300000}
RB_BATCHES=${REDIS_BENCH_BATCHES:-10000}
RB_PIPE=${REDIS_BENCH_PIPELINE:-16}
RB_PIPE_CONNS=$((RATE_CONNS / RB_PIPE > 0 ? RATE_CONNS / RB_PIPE : 1))
PAIR_SUBS=${REDIS_PAIR_SUBS:-1000}
TESTS=${REDIS_TESTS:-"cpu rate pair"}
HISTORY=1024  # sse-server's --history default: the script's MAXLEN ~ argument
IDEM_WINDOW_MS=600000
has_test() { [[ " $TESTS " == *" $1 "* ]]; }

# N of part 2: 1000 when swept, else the smallest size.
N2=$(for n in $SIZES; do echo "$n"; done | sort -n | head -1)
[[ " $SIZES " == *" 1000 "* ]] && N2=1000

# ------------------------------------------------------------------ setup
ensure_packages redis-server redis-tools wrk curl
bench_build
bench_init -redis
RATE_CSV=$base-rate.csv
AUX_CSV=$BENCH_TMP/aux.csv
echo "label,shape,connections,duration_s,requests,events,events_per_s,server_cpu_us_per_event,redis_cpu_us_per_event,p50_ms,p99_ms,redis_calls,errors,server_core_busy_pct" >"$RATE_CSV"
: >"$AUX_CSV"

# The server's publish script, as the server sends it to SCRIPT LOAD.
SCRIPT=$(sed -n '/R"lua(/,/)lua"/p' include/sse/redis/publish_script.h | sed '1d;$d')
if [ -z "$SCRIPT" ]; then
  echo "redis.sh: no Lua script found in include/sse/redis/publish_script.h" >&2
  exit 1
fi
DATA=$(printf 'x%.0s' $(seq "$PAYLOAD"))

# ------------------------------------------------------------------ helpers
# CPU time of a process in ns, all threads (/proc/PID/task/*/schedstat;
# utime + stime from /proc/PID/stat where schedstat is missing).
cpu_ns() {
  local pid=$1 f t total=0 any=""
  for f in /proc/"$pid"/task/*/schedstat; do
    read -r t _ <"$f" 2>/dev/null || continue
    total=$((total + t))
    any=1
  done
  if [ -n "$any" ]; then
    echo "$total"
  else
    awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%.0f\n", ($12 + $13) * 1e9 / hz }' "/proc/$pid/stat"
  fi
}

# The server's core (0 when pinned, else every CPU): "busy total" jiffies
# from /proc/stat, busy = all but idle and iowait (softirq included).
SERVER_CORE=cpu
[ -n "$PIN_SERVER" ] && SERVER_CORE=cpu0
core_jiffies() {
  awk -v c="$SERVER_CORE" '$1 == c { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat
}
busy_pct() {  # "B0 T0" "B1 T1"
  echo "$1 $2" | awk '{ printf "%.0f", ($4 - $2 > 0 ? ($3 - $1) * 100 / ($4 - $2) : 0) }'
}

# EVALSHA calls Redis ran, and those that failed or were rejected:
# "calls failed" from INFO commandstats.
evalsha_calls() {
  redis-cli -h 127.0.0.1 -p "$1" INFO commandstats 2>/dev/null | tr -d '\r' | awk -F'[=,:]' '
    $1 == "cmdstat_evalsha" { for (i = 2; i < NF; i += 2) v[$i] = $(i + 1) }
    END { printf "%d %d\n", v["calls"], v["failed_calls"] + v["rejected_calls"] }'
}

# A duration as wrk prints it (850.00us, 1.20ms, 2.00s) -> milliseconds.
to_ms() {
  awk -v x="$1" 'BEGIN {
    if (x ~ /us$/) { sub(/us$/, "", x); print x / 1000 }
    else if (x ~ /ms$/) { sub(/ms$/, "", x); print x + 0 }
    else if (x ~ /s$/) { sub(/s$/, "", x); print x * 1000 }
    else print "" }'
}

# The POST bodies: one event, or a JSON array of RATE_BATCH.
body_for() {
  local i
  if [ "$1" = single ]; then
    printf '{"data":"%s"}' "$DATA"
  else
    printf '['
    for i in $(seq "$RATE_BATCH"); do
      [ "$i" = 1 ] || printf ','
      printf '{"data":"%s"}' "$DATA"
    done
    printf ']'
  fi
}
events_per_post() { if [ "$1" = single ]; then echo 1; else echo "$RATE_BATCH"; fi; }

# rate_row LABEL SHAPE CONNS SECONDS REQUESTS SRV_NS REDIS_NS P50 P99 CALLS ERRORS CORE_BUSY_PCT
rate_row() {
  local per
  per=$(events_per_post "$2")
  awk -v l="$1" -v sh="$2" -v c="$3" -v d="$4" -v r="$5" -v per="$per" -v s="$6" -v rd="$7" \
    -v p50="$8" -v p99="$9" -v calls="${10}" -v err="${11}" -v busy="${12}" 'BEGIN {
      ev = r * per
      eps = d > 0 ? ev / d : 0
      scpu = (s == "" || ev == 0) ? "" : sprintf("%.3f", s / 1000 / ev)
      rcpu = (rd == "" || ev == 0) ? "" : sprintf("%.3f", rd / 1000 / ev)
      printf "%s,%s,%s,%.3f,%d,%d,%.0f,%s,%s,%s,%s,%s,%s,%s\n", l, sh, c, d, r, ev, eps, scpu, rcpu, p50, p99, calls, err, busy }' >>"$RATE_CSV"
}

# redis_benchmark PORT SHAPE LABEL CONNECTIONS PIPELINE: the server's publish
# script, EVALSHA with the arguments sse-server passes for a POST of one
# event (or of RATE_BATCH), from core 1; one row of $RATE_CSV.
redis_benchmark() {
  local port=$1 shape=$2 label=$3 conns=$4 pipe=$5 sha n args=() i out=$BENCH_TMP/rb.out c0 c1 calls0 calls1 f0 f1
  local t0 t1 rps p50 p99 secs j0 j1 short
  sha=$(redis-cli -h 127.0.0.1 -p "$port" SCRIPT LOAD "$SCRIPT")
  if [ "$shape" = single ]; then
    n=$RB_SINGLE
    args=(main "" "$DATA")
  else
    n=$RB_BATCHES
    for i in $(seq "$RATE_BATCH"); do args+=(main "" "$DATA"); done
  fi
  read -r calls0 f0 < <(evalsha_calls "$port")
  c0=$(cpu_ns "$RPID")
  j0=$(core_jiffies)
  t0=$(date +%s%N)
  timeout 300 $PIN_CLIENT redis-benchmark -h 127.0.0.1 -p "$port" -n "$n" -c "$conns" -P "$pipe" --csv \
    EVALSHA "$sha" 3 sse:log sse:events "" "$HISTORY" 0 "$IDEM_WINDOW_MS" "${args[@]}" \
    >"$out" 2>&1 || true
  t1=$(date +%s%N)
  j1=$(core_jiffies)
  c1=$(cpu_ns "$RPID")
  read -r calls1 f1 < <(evalsha_calls "$port")
  # CSV: "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms",...,"p99_latency_ms",...
  # The test's name (field 1) holds no '","'; the figures have their quotes removed.
  read -r rps p50 p99 < <(awk -F'","' '/^"EVALSHA/ { for (i = 2; i <= NF; i++) gsub(/"/, "", $i); print $2, $5, $7 }' "$out")
  echo "== redis-benchmark $shape ($label): redis-server pid $RPID, port $port, EVALSHA $sha, -n $n -c $conns -P $pipe" >>"$LOG"
  awk -F'","' '/^"EVALSHA/ { for (i = 2; i <= NF; i++) gsub(/"/, "", $i); printf "  %s requests/s, latency ms avg %s p50 %s p99 %s max %s\n", $2, $3, $5, $7, $8; next }
    !/^"test"/ { print }' "$out" >>"$LOG"
  # Pipelined, redis-benchmark may send up to a pipeline's worth per
  # connection more than -n; fewer means calls went missing.
  short=$(( calls1 - calls0 >= n && calls1 - calls0 <= n + conns * pipe ? 0 : 1 ))
  # Seconds the calls took, as redis-benchmark measured them: n / rps.
  secs=$(awk -v n="$n" -v r="${rps:-0}" 'BEGIN { printf "%.3f", (r > 0 ? n / r : 0) }')
  echo "  redis-server CPU $(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }') s; EVALSHA calls $((calls1 - calls0)), failed $((f1 - f0)); wall $(((t1 - t0) / 1000000)) ms; $SERVER_CORE busy $(busy_pct "$j0" "$j1")%" >>"$LOG"
  rate_row "$label" "$shape" "${conns}x$pipe" "$secs" "$((calls1 - calls0))" "" "$((c1 - c0))" \
    "${p50:-}" "${p99:-}" "$((calls1 - calls0))" "$((f1 - f0 + short))" \
    "$(busy_pct "$j0" "$j1")"
  if [ -z "${rps:-}" ] || [ "$short" != 0 ] || [ $((f1 - f0)) != 0 ]; then
    failures=$((failures + 1))
    echo "  FAILED: redis-benchmark $shape ($label); see $LOG" >&2
    cat "$out" >>"$LOG"
  fi
  echo "  redis-benchmark $shape ($label): $(awk -v r="${rps:-0}" -v p="$(events_per_post "$shape")" 'BEGIN { printf "%.0f events/s", r * p }')" >&2
}

# run_rate KIND SHAPE: KIND sse-redis or sse-server under wrk (no subscribers),
# or redis (a Redis alone under redis-benchmark).
run_rate() {
  local kind=$1 shape=$2 lua=$BENCH_TMP/post.lua out=$BENCH_TMP/wrk.out s0 s1 r0="" r1="" t0 t1
  local req p50 p99 err calls0=0 calls1=0 f0=0 f1=0 secs j0 j1
  if [ "$kind" = redis ]; then
    SKIND=redis
    if ! start_redis; then exit 1; fi
    redis_benchmark "$RPORT" "$shape" redis-benchmark "$RATE_CONNS" 1
    redis_benchmark "$RPORT" "$shape" redis-benchmark-pipelined "$RB_PIPE_CONNS" "$RB_PIPE"
    stop_server
    return
  fi
  start_server "$kind"
  # A level-1 long bracket: the batch body itself ends in "]".
  printf 'wrk.method = "POST"\nwrk.body = [=[%s]=]\nwrk.headers["Content-Type"] = "application/json"\n' \
    "$(body_for "$shape")" >"$lua"
  echo "== $kind publish rate, $shape (pid $SPID, port $PORT${RPID:+; redis-server pid $RPID, port $RPORT})" >>"$LOG"
  [ -n "$RPID" ] && read -r calls0 f0 < <(evalsha_calls "$RPORT")
  s0=$(cpu_ns "$SPID")
  [ -n "$RPID" ] && r0=$(cpu_ns "$RPID")
  j0=$(core_jiffies)
  t0=$(date +%s%N)
  timeout $((RATE_DURATION + 30)) $PIN_CLIENT wrk -t1 -c"$RATE_CONNS" -d"${RATE_DURATION}s" --latency \
    -s "$lua" "http://127.0.0.1:$PORT/publish" >"$out" 2>&1 || true
  t1=$(date +%s%N)
  j1=$(core_jiffies)
  s1=$(cpu_ns "$SPID")
  [ -n "$RPID" ] && r1=$(cpu_ns "$RPID")
  [ -n "$RPID" ] && read -r calls1 f1 < <(evalsha_calls "$RPORT")
  cat "$out" >>"$LOG"
  req=$(awk '/requests in/ { print $1 }' "$out")
  secs=$(awk '/requests in/ { sub(/s,$/, "", $4); print $4 + 0 }' "$out")
  p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
  err=$(awk '/Socket errors/ { gsub(/,/, ""); s += $4 + $6 + $8 + $10 } /Non-2xx/ { s += $NF } END { print s + 0 }' "$out")
  err=$((err + f1 - f0))
  {
    echo "  sse-server CPU $(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }') s${RPID:+; redis-server CPU $(awk -v a="$r0" -v b="$r1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }') s; EVALSHA calls $((calls1 - calls0)), failed $((f1 - f0))}; wall $(((t1 - t0) / 1000000)) ms; $SERVER_CORE busy $(busy_pct "$j0" "$j1")%"
    echo "  /stats: $(curl -s --noproxy '*' --max-time 2 "http://127.0.0.1:$PORT/stats" | tr -d '\n' | head -c 2000)"
  } >>"$LOG"
  if ! kill -0 "$SPID" 2>/dev/null || { [ -n "$RPID" ] && ! kill -0 "$RPID" 2>/dev/null; }; then
    echo "SERVER DIED during the run" >>"$LOG"
    err=$((err + 1))
  fi
  rate_row "$kind" "$shape" "$RATE_CONNS" "${secs:-0}" "${req:-0}" "$((s1 - s0))" \
    "${r0:+$((r1 - r0))}" "$p50" "$p99" "${RPID:+$((calls1 - calls0))}" "$err" "$(busy_pct "$j0" "$j1")"
  if [ -z "$req" ] || [ "$err" != 0 ]; then
    failures=$((failures + 1))
    echo "  FAILED: $kind publish rate $shape ($err errors); see $LOG" >&2
  fi
  echo "  $kind $shape: $(awk -v r="${req:-0}" -v s="${secs:-0}" -v p="$(events_per_post "$shape")" 'BEGIN { printf "%.0f events/s", (s > 0 ? r * p / s : 0) }')" >&2
  stop_server
}

# fan_run KIND MODE N EVENTS INTERVAL: run_one, then the CPU of Redis and of
# the pair's second instance and the pair's deliveries by server, from the
# run's summary in $LOG, as one row of $AUX_CSV.
fan_run() {
  run_one "$@"
  awk -v k="$1" -v m="$2" -v n="$3" '
    /^== / { r = ""; s = ""; bs = "" }
    /aux CPU .*\(redis-server\)/ { r = $(NF - 3) }
    /aux CPU .*\(sse-server\)/ { s = $(NF - 3) }
    /^  by server / { t = $0; gsub(/[^0-9 ]/, " ", t); split(t, f, " "); bs = f[2] "," f[3] "," f[6] "," f[7] }
    END { if (bs == "") bs = ",,,"; print k "," m "," n "," r "," s "," bs }' "$LOG" >>"$AUX_CSV"
}

# ------------------------------------------------------------------ runs
# The pair's publish runs are set beside one instance --redis with as many
# subscribers: part 1's runs when it has that N, else runs of their own.
pair_ref=sse-redis
if has_test cpu && [[ " $SIZES " == *" $PAIR_SUBS "* ]]; then pair_ref=""; fi
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
t0=$(date +%s)
echo "bench-redis: [$TESTS], sizes [$SIZES], $REPS repetition(s); writing $CSV" >&2
for rep in $(seq "$REPS"); do
  echo "repetition $rep of $REPS" >&2
  group=0
  if has_test cpu; then
    for n in $SIZES; do
      order $((rep - 1 + group)) sse-redis floor sse-server
      group=$((group + 1))
      for kind in $ORDERED; do fan_run "$kind" publish "$n" "$EVENTS" "$INTERVAL_MS"; done
    done
  fi
  if has_test rate; then
    for shape in single batch; do
      order $((rep - 1 + group)) sse-redis sse-server redis
      group=$((group + 1))
      for kind in $ORDERED; do run_rate "$kind" "$shape"; done
    done
  fi
  if has_test pair; then
    order $((rep - 1 + group)) sse-redis-pair $pair_ref
    group=$((group + 1))
    for kind in $ORDERED; do fan_run "$kind" publish "$PAIR_SUBS" "$EVENTS" "$INTERVAL_MS"; done
    order $((rep - 1 + group)) sse-redis-pair sse-redis sse-server
    group=$((group + 1))
    for kind in $ORDERED; do fan_run "$kind" burst "$PAIR_SUBS" "$BURST_EVENTS" 0; done
  fi
done
elapsed=$(($(date +%s) - t0))
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# ------------------------------------------------------------------ report
medians=$BENCH_TMP/medians
if [ -s "$CSV" ]; then bench_medians "$CSV" >"$medians"; else : >"$medians"; fi

# aux KIND MODE N COLUMN -> median of $AUX_CSV's column (4 redis-server µs
# per delivery, 5 second sse-server's, 6..9 deliveries by server: got A,
# wanted A, got B, wanted B; those summed over the runs, not medians).
aux() {
  awk -F, -v k="$1" -v m="$2" -v n="$3" -v c="$4" "$AWK_MEDIAN"'
    $1 == k && $2 == m && $3 == n && $c != "" { s = s " " $c; t += $c; any = 1 }
    END { if (any) print (c >= 6 ? t : median(s)) }' "$AUX_CSV"
}
# rate LABEL SHAPE COLUMN -> median of $RATE_CSV's column (7 events/s,
# 8 server CPU µs per event, 9 Redis's, 10 p50 ms, 11 p99 ms; 13 errors: the sum).
rate() {
  awk -F, -v l="$1" -v s="$2" -v c="$3" "$AWK_MEDIAN"'
    NR > 1 && $1 == l && $2 == s && $c != "" { v = v " " $c; t += $c; any = 1 }
    END { if (any) print (c == 13 ? t : median(v)) }' "$RATE_CSV"
}
sum() { awk -v a="$1" -v b="$2" -v c="${3:-0}" 'BEGIN { if (a == "" || b == "") print ""; else print a + b + c }'; }
diff_ms() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "") print "n/a"; else printf "%+.1f\n", (a - b) / 1000 }'; }
# vr V SCALE DEC REF: "V (V/REF×)", the ratio left out when REF is empty.
vr() {
  local v
  v=$(value "$1" "$2" "$3")
  if [ -n "${4:-}" ] && [ -n "$1" ]; then echo "$v ($(ratio "$1" "$4"))"; else echo "$v"; fi
}
bad_of() { awk -v s="$1" -v m="$2" -v n="$3" '$1 == s && $2 == m && $3 == n { print $NF }' "$medians"; }
lost_of() {  # KIND MODE N COLUMN(17 lost, 18 dup, 19 reordered, 20 errors): summed over runs
  awk -F, -v k="$1" -v m="$2" -v n="$3" -v c="$4" 'NR > 1 && $1 == k && $3 == m && $2 == n { t += $c } END { print t + 0 }' "$CSV" 2>/dev/null || echo 0
}

report=$base.txt
{
  report_header "sse-server --redis benchmark"
  echo "- processes: server side on core 0 (sse-server, redis-server, the pair's two instances, the floor), load client on core 1 (fanout, wrk, redis-benchmark)$( [ -n "$PIN_SERVER" ] || echo ": NOT PINNED ($split)")"
  echo "- redis: $(redis-server --version | sed 's/^Redis server //; s/ sha=[^ ]*//; s/ build=.*//'), Debian $(dpkg-query -W -f '${Version}' redis-server 2>/dev/null); --save \"\" --appendonly no (no persistence), loopback; sse-server --redis 127.0.0.1:PORT, key prefix sse:"
  echo "- sse-server flags: --port 0 --quiet --tick-ms 0 --max-clients 20000 --max-backlog 16777216 (plus --redis for sse-redis)"
  echo "- publish (1, 2, 4): $EVENTS events ${INTERVAL_MS} ms apart (open loop) after $WARMUP warm-up events, $PAYLOAD-byte data, one POST each; burst (4): $BURST_EVENTS events in POSTs of $BATCH ($DEPTH in flight)"
  echo "- publish rate (3): wrk $(wrk --version 2>&1 | head -1 | awk '{ print $2 }') -t1 -c$RATE_CONNS -d${RATE_DURATION}s with a Lua script (POST /publish, {\"data\":\"<$PAYLOAD bytes>\"} or an array of $RATE_BATCH), no subscribers; redis-benchmark -c $RATE_CONNS, and -c $RB_PIPE_CONNS -P $RB_PIPE, -n $RB_SINGLE (one event per call) or -n $RB_BATCHES ($RATE_BATCH per call), EVALSHA of the server's publish script with its arguments, on a Redis of its own (no subscriber on the channel)"
  echo "- repetitions: $REPS (medians), groups interleaved, server order rotated, a fresh server (and Redis) per run"
  echo "- run length: ${elapsed} s in all; data: $CSV, $RATE_CSV"
  echo "- machine load (/proc/loadavg 1, 5, 15 min): $load_start at the start, $load_end at the end$(awk -v a="${load_start%% *}" -v b="${load_end%% *}" 'BEGIN { if (a + 0 > 0.5 || b + 0 > 2.5) printf ": OTHER WORK SHARED THE CORES, the figures are noisier than usual" }')"
  echo
  if has_test cpu; then
    echo "## 1. Server CPU per delivery, µs (publish; in brackets the ratio to the floor)"
    echo
    printf '| process |'
    for n in $SIZES; do printf ' N = %s |' "$n"; done
    echo
    printf '|---|'
    for n in $SIZES; do printf -- '---:|'; done
    echo
    line() {  # title, then a value for each N from the function named $2
      printf '| %s |' "$1"
      for n in $SIZES; do printf ' %s |' "$($2 "$n")"; done
      echo
    }
    f_floor() { value "$(get floor publish "$1" 14)" 1 2; }
    f_mem() { vr "$(get sse-server publish "$1" 14)" 1 2 "$(get floor publish "$1" 14)"; }
    f_rs() { vr "$(get sse-redis publish "$1" 14)" 1 2 "$(get floor publish "$1" 14)"; }
    f_rr() { value "$(aux sse-redis publish "$1" 4)" 1 2; }
    f_rb() { vr "$(sum "$(get sse-redis publish "$1" 14)" "$(aux sse-redis publish "$1" 4)")" 1 2 "$(get floor publish "$1" 14)"; }
    f_ratio() { ratio "$(get sse-redis publish "$1" 14)" "$(get sse-server publish "$1" 14)"; }
    f_busy_m() { value "$(get sse-server publish "$1" 17)" 1 0; }
    f_busy_r() { value "$(get sse-redis publish "$1" 17)" 1 0; }
    f_busy_f() { value "$(get floor publish "$1" 17)" 1 0; }
    line "floor" f_floor
    line "sse-server (in memory)" f_mem
    line "sse-server --redis: the sse-server process" f_rs
    line "sse-server --redis: the redis-server process" f_rr
    line "sse-server --redis: both" f_rb
    line "--redis / in memory (the sse-server process)" f_ratio
    line "server busy, % of core 0: floor" f_busy_f
    line "server busy, % of core 0: in memory" f_busy_m
    line "server busy, % of core 0: --redis (sse-server only)" f_busy_r
    echo
    # N2 first, then the other sizes beside it.
    sizes2="$N2 $(for n in $SIZES; do [ "$n" = "$N2" ] || printf '%s ' "$n"; done)"
    echo "## 2. Fan-out, publish → last subscriber, ms (N = $N2; the other sizes beside)"
    echo
    printf '| server |'
    for n in $sizes2; do printf ' p50, N = %s | p99, N = %s |' "$n" "$n"; done
    echo
    printf '|---|'
    for n in $sizes2; do printf -- '---:|---:|'; done
    echo
    for k in floor sse-server sse-redis; do
      printf '| %s |' "$(case $k in sse-server) echo "sse-server (in memory)" ;; sse-redis) echo "sse-server --redis" ;; *) echo floor ;; esac)"
      for n in $sizes2; do
        printf ' %s | %s |' "$(value "$(get "$k" publish "$n" 11)" 0.001 2)" "$(value "$(get "$k" publish "$n" 12)" 0.001 2)"
      done
      echo
    done
    printf '| --redis − in memory |'
    for n in $sizes2; do
      printf ' %s | %s |' "$(diff_ms "$(get sse-redis publish "$n" 11)" "$(get sse-server publish "$n" 11)")" \
        "$(diff_ms "$(get sse-redis publish "$n" 12)" "$(get sse-server publish "$n" 12)")"
    done
    echo
    echo
    echo "With $EVENTS events a p99 is the slowest event or close to it. Where a server is busy near"
    echo "100% of core 0 (part 1) it cannot finish one fan-out before the next event is due, and its"
    echo "latencies include queueing behind earlier events."
    echo
  fi
  if has_test rate; then
    echo "## 3. Publish rate through Redis, events/s (no subscribers; in brackets the ratio to the in-memory server)"
    echo
    echo "| | one event per POST, $RATE_CONNS publishers | $RATE_BATCH events per POST, $RATE_CONNS publishers |"
    echo "|---|---:|---:|"
    rline() {  # title label column scale decimals [ref label]
      printf '| %s |' "$1"
      for sh in single batch; do
        local v ref=""
        v=$(rate "$2" "$sh" "$3")
        [ -n "${6:-}" ] && ref=$(rate "$6" "$sh" "$3")
        printf ' %s |' "$(vr "$v" "$4" "$5" "$ref")"
      done
      echo
    }
    rline "sse-server (in memory), wrk" sse-server 7 1 0
    rline "sse-server --redis, wrk" sse-redis 7 1 0 sse-server
    rline "redis-benchmark EVALSHA, -c $RATE_CONNS, one call in flight on each" redis-benchmark 7 1 0
    rline "redis-benchmark EVALSHA, -c $RB_PIPE_CONNS -P $RB_PIPE (pipelined): the physical limit here" redis-benchmark-pipelined 7 1 0
    printf '| sse-server --redis / the physical limit |'
    for sh in single batch; do printf ' %s |' "$(ratio "$(rate sse-redis "$sh" 7)" "$(rate redis-benchmark-pipelined "$sh" 7)")"; done
    echo
    # What one core allows from the CPU each event costs there: 1 s over
    # the server side's µs per event (sse-server, plus Redis with --redis).
    bound() { awk -v a="$1" -v b="${2:-0}" 'BEGIN { if (a == "") print "n/a"; else printf "%.0f\n", 1e6 / (a + b) }'; }
    printf '| one core at 100%%, from the CPU per event below: in memory / --redis (both processes) / Redis alone, pipelined |'
    for sh in single batch; do
      printf ' %s / %s / %s |' "$(bound "$(rate sse-server "$sh" 8)")" \
        "$(bound "$(rate sse-redis "$sh" 8)" "$(rate sse-redis "$sh" 9)")" "$(bound "$(rate redis-benchmark-pipelined "$sh" 9)")"
    done
    echo
    rline "CPU per event, µs: sse-server (in memory)" sse-server 8 1 2
    rline "CPU per event, µs: sse-server --redis, the sse-server process" sse-redis 8 1 2
    rline "CPU per event, µs: sse-server --redis, the redis-server process" sse-redis 9 1 2
    rline "CPU per event, µs: redis-server under redis-benchmark -c $RATE_CONNS" redis-benchmark 9 1 2
    rline "CPU per event, µs: redis-server under redis-benchmark, pipelined" redis-benchmark-pipelined 9 1 2
    rline "server core busy, %: in memory" sse-server 14 1 0
    rline "server core busy, %: --redis (both processes, and softirq)" sse-redis 14 1 0
    rline "server core busy, %: redis-benchmark -c $RATE_CONNS" redis-benchmark 14 1 0
    rline "server core busy, %: redis-benchmark, pipelined" redis-benchmark-pipelined 14 1 0
    rline "request latency p50, ms: in memory (wrk)" sse-server 10 1 2
    rline "request latency p50, ms: --redis (wrk)" sse-redis 10 1 2
    rline "request latency p50, ms: redis-benchmark -c $RATE_CONNS" redis-benchmark 10 1 2
    rline "request latency p99, ms: in memory (wrk)" sse-server 11 1 2
    rline "request latency p99, ms: --redis (wrk)" sse-redis 11 1 2
    rline "request latency p99, ms: redis-benchmark -c $RATE_CONNS" redis-benchmark 11 1 2
    echo
    echo "Errors (non-2xx, socket errors, failed EVALSHA calls), all runs: $(awk -F, 'NR > 1 { e[$1] += $13 } END { for (l in e) printf "%s %d; ", l, e[l] }' "$RATE_CSV" | sed 's/; $//'); failed runs are counted below."
    echo "sse-server sends every publish of its $RATE_CONNS HTTP connections down its one Redis command"
    echo "connection, several per write when they come together (pipelined): Redis's CPU per event"
    echo "through it is that of the pipelined redis-benchmark, not of the one with a call per connection."
    echo "With --redis both processes share core 0: the rate is bounded by their summed CPU per event."
    echo
  fi
  if has_test pair; then
    echo "## 4. Two instances on one Redis: $PAIR_SUBS subscribers split $((PAIR_SUBS - PAIR_SUBS / 2)) + $((PAIR_SUBS / 2)), every event published to the first"
    echo
    echo "| | publish ($EVENTS events, ${INTERVAL_MS} ms apart) | burst ($BURST_EVENTS events in POSTs of $BATCH) |"
    echo "|---|---:|---:|"
    pline() {  # title, then function of MODE N
      printf '| %s |' "$1"
      for m in publish burst; do printf ' %s |' "$($2 "$m")"; done
      echo
    }
    p_del() {
      local ga wa gb wb
      ga=$(aux sse-redis-pair "$1" "$PAIR_SUBS" 6)
      wa=$(aux sse-redis-pair "$1" "$PAIR_SUBS" 7)
      gb=$(aux sse-redis-pair "$1" "$PAIR_SUBS" 8)
      wb=$(aux sse-redis-pair "$1" "$PAIR_SUBS" 9)
      echo "${ga:-?} of ${wa:-?} + ${gb:-?} of ${wb:-?}"
    }
    p_lost() { echo "$(lost_of sse-redis-pair "$1" "$PAIR_SUBS" 17) / $(lost_of sse-redis-pair "$1" "$PAIR_SUBS" 18) / $(lost_of sse-redis-pair "$1" "$PAIR_SUBS" 19) / $(lost_of sse-redis-pair "$1" "$PAIR_SUBS" 20)"; }
    p_lost1() { echo "$(lost_of sse-redis "$1" "$PAIR_SUBS" 17) / $(lost_of sse-redis "$1" "$PAIR_SUBS" 18) / $(lost_of sse-redis "$1" "$PAIR_SUBS" 19) / $(lost_of sse-redis "$1" "$PAIR_SUBS" 20)"; }
    p_f50() { value "$(get sse-redis-pair "$1" "$PAIR_SUBS" 11)" 0.001 2; }
    p_f99() { value "$(get sse-redis-pair "$1" "$PAIR_SUBS" 12)" 0.001 2; }
    p_f50s() { value "$(get sse-redis "$1" "$PAIR_SUBS" 11)" 0.001 2; }
    p_f99s() { value "$(get sse-redis "$1" "$PAIR_SUBS" 12)" 0.001 2; }
    p_rate() { value "$(get sse-redis-pair "$1" "$PAIR_SUBS" 13)" 0.001 0; }
    p_rates() { value "$(get sse-redis "$1" "$PAIR_SUBS" 13)" 0.001 0; }
    p_ratem() { value "$(get sse-server "$1" "$PAIR_SUBS" 13)" 0.001 0; }
    p_ca() { value "$(get sse-redis-pair "$1" "$PAIR_SUBS" 14)" 1 2; }
    p_cb() { value "$(aux sse-redis-pair "$1" "$PAIR_SUBS" 5)" 1 2; }
    p_cr() { value "$(aux sse-redis-pair "$1" "$PAIR_SUBS" 4)" 1 2; }
    p_ct() { value "$(sum "$(get sse-redis-pair "$1" "$PAIR_SUBS" 14)" "$(aux sse-redis-pair "$1" "$PAIR_SUBS" 5)" "$(aux sse-redis-pair "$1" "$PAIR_SUBS" 4)")" 1 2; }
    p_cs() { value "$(sum "$(get sse-redis "$1" "$PAIR_SUBS" 14)" "$(aux sse-redis "$1" "$PAIR_SUBS" 4)")" 1 2; }
    p_cm() { value "$(get sse-server "$1" "$PAIR_SUBS" 14)" 1 2; }
    pline "deliveries, all runs: first instance + second" p_del
    pline "lost / duplicated / reordered / errors, all runs" p_lost
    pline "the same, one instance --redis ($PAIR_SUBS subscribers)" p_lost1
    pline "fan-out p50, ms: two instances" p_f50
    pline "fan-out p50, ms: one instance --redis" p_f50s
    pline "fan-out p99, ms: two instances" p_f99
    pline "fan-out p99, ms: one instance --redis" p_f99s
    pline "deliveries/s, thousands: two instances" p_rate
    pline "deliveries/s, thousands: one instance --redis" p_rates
    pline "deliveries/s, thousands: one instance in memory" p_ratem
    pline "CPU per delivery, µs: first instance (publishes)" p_ca
    pline "CPU per delivery, µs: second instance" p_cb
    pline "CPU per delivery, µs: redis-server" p_cr
    pline "CPU per delivery, µs: all three" p_ct
    pline "CPU per delivery, µs: one instance --redis + redis-server" p_cs
    pline "CPU per delivery, µs: one instance in memory" p_cm
    echo
    echo "(Burst: the in-memory server is there for its deliveries/s and CPU only.)"
    echo
  fi
  bad=$(awk '{ s += $NF } END { print s + 0 }' "$medians")
  echo "Lost + duplicated + reordered events + errors over all fanout runs: $bad; failed runs: $failures."
  if [ -s "$CSV" ]; then client_limited_note; fi
  echo
  echo "Server CPU is each process's own (/proc/PID/task/*/schedstat) from the first measured publish"
  echo "to the last delivery (fan-out), or over the wrk or redis-benchmark run (rate). On loopback"
  echo "the receiving side of every send() runs as softirq on the sender's core and is billed to no"
  echo "process: not in these figures (each run's log shows it for the fan-out runs). With --redis"
  echo "the server side is two processes on one core: Redis's CPU is beside sse-server's, not in it."
  echo "Loopback on a shared 2-core virtual machine: read the ratios, from runs interleaved in the"
  echo "same sweep, rather than the absolute figures."
} >"$report"
cat "$report"
[ "$failures" = 0 ]
