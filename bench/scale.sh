#!/usr/bin/env bash
# scale.sh — how many subscribers one small machine holds: sse-server
# --workers with --redis (`make bench-scale`).
#
# Three parts, each on fresh processes (a Redis of its own per run, no
# persistence), every delivery counted (lost, duplicated, reordered: by the
# sequence number in the data, as in bench/run.sh):
#   1. scale: SCALE_SUBSCRIBERS (100,000) subscribers on sse-server --workers
#      SCALE_WORKERS (6) --redis, held by several bench/fanout processes
#      (each under its fd limit, SCALE_PER_CLIENT subscribers, from source
#      addresses of its own, 127.0.K.1-2), BENCH_EVENTS (50) events published
#      SCALE_INTERVAL_MS (1000) apart by one of them. Nothing is pinned:
#      workers, Redis and the load client share the 2 cores. Reported per
#      subscriber: the workers' RSS growth (user space), kernel socket
#      memory (/proc/net/sockstat TCP `mem` pages, once all are connected and
#      the peak while events flow; and the slab growth from /proc/meminfo,
#      both ends of every loopback connection), fan-out p50 / p99 / max per
#      event (publish -> last subscriber in any process), server CPU per
#      delivery (every worker's, summed), Redis's and the irq+softirq time,
#      and a /health probe every BENCH_PROBE_MS (20) ms during the events.
#   2. reference: at N per worker (SCALE_SUBSCRIBERS / SCALE_WORKERS), the
#      same events and interval against the floor (bench/floor: one process,
#      one send() per subscriber) and against one sse-server --redis process,
#      each pinned like bench/run.sh (server and Redis on core 0, client on
#      core 1), SCALE_REF_REPS (3) times: the CPU per delivery the workers
#      are read against.
#   3. pair: SCALE_PAIR_SUBS (10,000) subscribers, one fanout process, on
#      --workers 1 and --workers 2 (both --redis, nothing pinned, so the load
#      client shares the cores with the workers), SCALE_PAIR_INTERVAL_MS (100)
#      apart, SCALE_PAIR_REPS (3) repetitions, the order alternated: CPU per
#      delivery must not grow with the second worker.
# Then the arithmetic for 1,000,000 subscribers from the measured figures.
#
# Writes
#   bench/results/<date>-<commit>-scale.txt       the report printed at the end
#   bench/results/<date>-<commit>-scale-runs.csv  one row per run of parts 1 and 3
#   bench/results/<date>-<commit>-scale.csv       part 2's runs (bench/fanout's CSV)
#   bench/results/<date>-<commit>-scale-probe.csv every /health probe
#   bench/results/<date>-<commit>-scale.log       every fanout process's summary
#
# Environment (defaults in brackets):
#   SCALE_SUBSCRIBERS [100000] SCALE_WORKERS [6] SCALE_PER_CLIENT [17000]
#   SCALE_INTERVAL_MS [1000]                 parts 1 and 2
#   SCALE_REPS [1]                           part 1 (about 75 s each)
#   SCALE_REF_REPS [3]                       part 2 (two runs of about 60 s each)
#   SCALE_PAIR_SUBS [10000] SCALE_PAIR_INTERVAL_MS [100] SCALE_PAIR_REPS [3]
#   BENCH_EVENTS [50] BENCH_WARMUP [5] BENCH_PAYLOAD [67] BENCH_PROBE_MS [20]
#   SCALE_TESTS ["scale reference pair"]     which parts run
# Needs: redis-server (installed with apt-get if missing), curl, a
# file-descriptor hard limit above SCALE_PER_CLIENT and above the
# subscribers per worker, about 10 KB of memory per subscriber.
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/lib.sh
N=${SCALE_SUBSCRIBERS:-100000}
WORKERS=${SCALE_WORKERS:-6}
PER_CLIENT=${SCALE_PER_CLIENT:-17000}
INTERVAL_MS=${SCALE_INTERVAL_MS:-1000}
REF_REPS=${SCALE_REF_REPS:-3}
SCALE_REPS=${SCALE_REPS:-1}
PAIR_N=${SCALE_PAIR_SUBS:-10000}
PAIR_INTERVAL_MS=${SCALE_PAIR_INTERVAL_MS:-100}
PAIR_REPS=${SCALE_PAIR_REPS:-3}
EVENTS=${BENCH_EVENTS:-50}
WARMUP=${BENCH_WARMUP:-5}
PAYLOAD=${BENCH_PAYLOAD:-67}
PROBE_MS=${BENCH_PROBE_MS:-20}
TESTS=${SCALE_TESTS:-"scale reference pair"}
BATCH=50  # run_one passes them; publish mode does not use them
DEPTH=4
has_test() { [[ " $TESTS " == *" $1 "* ]]; }
PER_WORKER=$(((N + WORKERS - 1) / WORKERS))

# ------------------------------------------------------------------ checks
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] && hard=1048576
if [ $((PER_CLIENT + 64)) -gt "$hard" ] || [ $((PAIR_N + 64)) -gt "$hard" ]; then
  echo "scale.sh: SCALE_PER_CLIENT ($PER_CLIENT) and SCALE_PAIR_SUBS ($PAIR_N) need a fd hard limit above them + 64 (ulimit -Hn: $hard)" >&2
  exit 2
fi
# SO_REUSEPORT spreads connections by a hash: allow 5% above the mean.
if [ $((PER_WORKER * 105 / 100 + 64)) -gt "$hard" ]; then
  echo "scale.sh: $N subscribers over $WORKERS workers is $PER_WORKER each, too close to the fd limit ($hard): more SCALE_WORKERS" >&2
  exit 2
fi
avail_kb=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
if [ $((N * 10)) -gt "$avail_kb" ]; then
  echo "scale.sh: $N subscribers need about $((N * 10 / 1024)) MiB (10 KB each, both ends and the client); $((avail_kb / 1024)) MiB available" >&2
  exit 2
fi

ensure_packages redis-server curl
bench_build
bench_init -scale
RUNS_CSV=$base-runs.csv
PROBE_CSV=$base-probe.csv
echo "label,workers,subscribers,clients,interval_ms,events,deliveries,lost,dup,reordered,errors,fanout_p50_us,fanout_p99_us,fanout_max_us,server_cpu_us_per_delivery,redis_cpu_us_per_delivery,irq_us_per_delivery,rss_per_sub_bytes,rss_end_per_sub_bytes,sockmem_idle_per_sub_bytes,sockmem_peak_per_sub_bytes,slab_per_sub_bytes,client_cpu_pct,connect_s,conns_per_worker_min,conns_per_worker_max,probe_p50_us,probe_p99_us,probe_max_us,failed" >"$RUNS_CSV"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# ------------------------------------------------------------------ helpers
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
rss_workers_kb() {  # the workers' VmRSS summed
  local p t=0
  for p in $WPIDS; do t=$((t + $(rss_kb "$p"))); done
  echo "$t"
}
fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
tcp_mem_pages() { awk '$1 == "TCP:" { for (i = 2; i < NF; i++) if ($i == "mem") print $(i + 1) }' /proc/net/sockstat; }
slab_kb() { awk '/^Slab:/ { print $2 }' /proc/meminfo; }

# The workers' server: Redis (not pinned) and sse-server --workers W --redis
# (not pinned; W = 1 is one process, no supervisor). Sets TPID (its
# `timeout`), PORT, SPID (the first worker), WPIDS (every worker), RPID,
# RPORT; stop_server (lib.sh) ends them.
start_workers() {
  local w=$1 out=$BENCH_TMP/server.out sup="" list
  : >"$out"
  SKIND=sse-workers
  SPID2=""
  PORT2=""
  REDIS_PIN="" start_redis || exit 1
  timeout -k 5 $SERVER_LIFETIME_S ./sse-server --port 0 --quiet --tick-ms 0 --max-clients 20000 \
    --max-backlog 16777216 --redis "127.0.0.1:$RPORT" --workers "$w" >"$out" 2>&1 &
  TPID=$!
  for _ in $(seq 200); do
    grep -q 'listening on' "$out" && break
    kill -0 "$TPID" 2>/dev/null || break
    sleep 0.05
  done
  PORT=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\)$/\1/p' "$out" | head -1)
  sup=$(pgrep -P "$TPID" | head -1 || true)
  WPIDS=""
  if [ "$w" = 1 ]; then
    WPIDS=$sup
  elif [ -n "$sup" ]; then
    for _ in $(seq 100); do
      list=$(pgrep -P "$sup" | tr '\n' ' ' || true)
      if [ "$(echo "$list" | wc -w)" = "$w" ]; then
        WPIDS=${list% }
        break
      fi
      sleep 0.05
    done
  fi
  SPID=${WPIDS%% *}
  if [ -z "$PORT" ] || [ -z "$SPID" ]; then
    echo "bench: sse-server --workers $w did not start:" >&2
    cat "$out" "$BENCH_TMP/redis.out" >&2
    exit 1
  fi
  # Connected to Redis before the first publish: /stats says so for the
  # worker that answers; the others connect as fast (and the publisher's
  # warm-up, whose subscribers are on every worker, fails if one did not).
  for _ in $(seq 200); do
    if curl -s --noproxy '*' --max-time 2 "http://127.0.0.1:$PORT/stats" 2>/dev/null |
      grep -q '"state":"connected"'; then
      break
    fi
    sleep 0.05
  done
  sleep 0.3
}

# A sampler of /proc/net/sockstat's TCP mem pages, every 0.2 s, into a file.
SAMPLER=""
start_sampler() {
  (while :; do tcp_mem_pages; sleep 0.2; done) >"$1" 2>/dev/null &
  SAMPLER=$!
}
stop_sampler() {
  if [ -n "$SAMPLER" ]; then
    kill "$SAMPLER" 2>/dev/null || true
    wait "$SAMPLER" 2>/dev/null || true
  fi
  SAMPLER=""
}
LPIDS=()  # the listening fanout processes of the current run (their `timeout`)
PUBPID=""
stop_clients() {
  local p
  for p in ${LPIDS[@]+"${LPIDS[@]}"} $PUBPID; do kill -TERM "$p" 2>/dev/null || true; done
  for p in ${LPIDS[@]+"${LPIDS[@]}"} $PUBPID; do wait "$p" 2>/dev/null || true; done
  LPIDS=()
  PUBPID=""
}
trap 'stop_clients; stop_sampler; stop_server; rm -rf "$BENCH_TMP"' EXIT

# scale_run LABEL WORKERS N INTERVAL_MS: one run of part 1 or 3, one row of
# $RUNS_CSV. The subscribers are spread over ceil(N / PER_CLIENT) fanout
# processes: process 0 publishes (and holds its share), the others only
# listen; the publisher starts once every process has all its subscribers
# connected and this script has taken its snapshot (RSS, sockstat, slab).
RUN_NO=0
scale_run() {
  local label=$1 w=$2 n=$3 interval=$4 dir clients k share first rc=0 t0 t1 ready
  local rss0 rss1 rss2 sock0 sock1 slab0 slab1 fd0=() fd1=() spread p lifetime
  RUN_NO=$((RUN_NO + 1))
  dir=$BENCH_TMP/run$RUN_NO
  mkdir -p "$dir"
  clients=$(((n + PER_CLIENT - 1) / PER_CLIENT))
  share=$((n / clients))
  first=$((n - share * (clients - 1)))
  lifetime=$(((WARMUP + EVENTS + 2) * interval / 1000 + 900))
  start_workers "$w"
  echo "== $label: sse-server --workers $w --redis, $n subscribers from $clients fanout process(es) (workers $WPIDS, port $PORT; redis-server pid $RPID, port $RPORT)" >>"$LOG"
  echo "  $label: $w worker(s), $n subscribers, $clients client process(es)..." >&2
  rss0=$(rss_workers_kb)
  for p in $WPIDS; do fd0+=("$(fds "$p")"); done
  sock0=$(tcp_mem_pages)
  slab0=$(slab_kb)
  start_sampler "$dir/sockstat"
  t0=$(date +%s%N)
  LPIDS=()
  for k in $(seq 1 $((clients - 1))); do
    timeout -k 5 "$lifetime" bench/fanout --port "$PORT" --subscribers "$share" --events "$EVENTS" \
      --interval-ms "$interval" --mode listen --payload "$PAYLOAD" --label "$label-listen$k" \
      --csv "$dir/listen.csv" --source-base "127.0.$((k + 1)).1" --sources 2 \
      --connect-timeout-ms 300000 --ready-file "$dir/ready.$k" --done-file "$dir/done.$k" \
      --stop-file "$dir/stop" --events-out "$dir/events.$k" >"$dir/out.$k" 2>&1 &
    LPIDS+=($!)
  done
  local waits=() cpus=()
  for k in $(seq 1 $((clients - 1))); do waits+=(--wait-ready "$dir/ready.$k" --wait-done "$dir/done.$k"); done
  for p in $WPIDS; do
    if [ "$p" != "$SPID" ]; then cpus+=(--cpu-pid "$p"); fi
  done
  timeout -k 5 "$lifetime" bench/fanout --port "$PORT" --subscribers "$first" --events "$EVENTS" \
    --interval-ms "$interval" --mode publish --payload "$PAYLOAD" --warmup "$WARMUP" \
    --label "$label" --csv "$dir/pub.csv" --source-base 127.0.1.1 --sources 2 \
    --connect-timeout-ms 300000 --ready-file "$dir/ready.0" --wait-ready "$dir/go" ${waits[@]+"${waits[@]}"} \
    --server-pid "$SPID" ${cpus[@]+"${cpus[@]}"} --aux-pid "$RPID" --events-out "$dir/events.0" \
    --probe-ms "$PROBE_MS" --probe-csv "$dir/probe.csv" >"$dir/out.0" 2>&1 &
  PUBPID=$!
  # Every process connected (or one failed, or died): the snapshot, then go.
  for _ in $(seq 3000); do
    ready=0
    for k in $(seq 0 $((clients - 1))); do [ -f "$dir/ready.$k" ] && ready=$((ready + 1)); done
    [ "$ready" = "$clients" ] && break
    if grep -qs failed "$dir"/ready.*; then break; fi
    kill -0 "$PUBPID" 2>/dev/null || break
    sleep 0.1
  done
  t1=$(date +%s%N)
  rss1=$(rss_workers_kb)
  for p in $WPIDS; do fd1+=("$(fds "$p")"); done
  sock1=$(tcp_mem_pages)
  slab1=$(slab_kb)
  echo ok >"$dir/go"
  wait "$PUBPID" || rc=$?
  PUBPID=""
  : >"$dir/stop"
  for p in ${LPIDS[@]+"${LPIDS[@]}"}; do wait "$p" || rc=$((rc == 0 ? $? : rc)); done
  LPIDS=()
  stop_sampler
  rss2=$(rss_workers_kb)
  for p in $WPIDS $RPID; do
    if ! kill -0 "$p" 2>/dev/null; then
      echo "PROCESS $p DIED during the run" >>"$LOG"
      rc=1
    fi
  done
  stop_server
  spread=$(for i in "${!fd1[@]}"; do echo $((fd1[i] - fd0[i])); done | sort -n | awk 'NR == 1 { a = $1 } { b = $1 } END { print a + 0, b + 0 }')
  for k in $(seq 0 $((clients - 1))); do cat "$dir/out.$k" >>"$LOG"; done
  [ -f "$dir/probe.csv" ] && { [ -s "$PROBE_CSV" ] || head -1 "$dir/probe.csv" >"$PROBE_CSV"; tail -n +2 "$dir/probe.csv" >>"$PROBE_CSV"; }
  local redis_s probe
  redis_s=$(sed -n 's/.*aux CPU *pid [0-9]* (redis-server): \([0-9.]*\) s.*/\1/p' "$dir/out.0" | head -1)
  probe=$(awk -F, 'NR == 2 { print $9, $10, $11 }' "$dir/probe.csv" 2>/dev/null)
  [ -n "$probe" ] || probe="- - -"
  # Merge the processes' events files: per event, the latest delivery in any
  # process and the deliveries summed; fan-out = latest - publish stamp.
  # shellcheck disable=SC2086
  awk -v n="$n" -v events="$EVENTS" -v label="$label" -v w="$w" -v clients="$clients" -v interval="$interval" \
    -v redis_s="${redis_s:-}" -v rss0="$rss0" -v rss1="$rss1" -v rss2="$rss2" -v sock0="$sock0" \
    -v sock1="$sock1" -v slab0="$slab0" -v slab1="$slab1" -v t0="$t0" -v t1="$t1" \
    -v spread="$spread" -v probe="$probe" -v rc="$rc" -v peakfile="$dir/sockstat" '
    function num(x) { return x == "" || x == "-" ? "" : x + 0 }
    FNR == 1 {
      delete h
      for (i = 2; i <= NF; i++) { split($i, kv, "="); h[kv[1]] = kv[2] }
      deliveries += h["deliveries"]; lost += h["lost"]; dup += h["dup"]; reo += h["reordered"]
      err += h["errors"]; client_s += h["client_cpu_s"]; files++
      if (FILENAME ~ /events\.0$/) {
        cpu = h["server_cpu_s"]; irq = h["irq_softirq_s"]; fp = h["first_publish_ns"]
        win = (h["t_end_ns"] - h["t_start_ns"]) / 1e9
      }
      next
    }
    { if ($2 > 0) stamp[$1] = $2; if ($3 > last[$1]) last[$1] = $3; cnt[$1] += $4; ev_seen[$1] = 1 }
    END {
      m = 0
      for (k in ev_seen) if (cnt[k] > 0) f[++m] = last[k] - stamp[k]
      for (i = 2; i <= m; i++) { t = f[i]; for (j = i - 1; j >= 1 && f[j] > t; j--) f[j + 1] = f[j]; f[j + 1] = t }
      r50 = int(0.5 * m + 0.999999); r99 = int(0.99 * m + 0.999999)
      if (r50 < 1) r50 = 1; if (r99 < 1) r99 = 1
      peak = sock1
      while ((getline v < peakfile) > 0) if (v + 0 > peak) peak = v + 0
      split(spread, sp, " ")
      split(probe, pr, " ")
      # (values first: a ">" inside printf arguments would be a redirection)
      p50 = m ? f[r50] / 1e3 : -1; p99 = m ? f[r99] / 1e3 : -1; mx = m ? f[m] / 1e3 : -1
      c = (deliveries && cpu != "") ? cpu * 1e6 / deliveries : -1
      rd = (deliveries && redis_s != "") ? sprintf("%.3f", redis_s * 1e6 / deliveries) : ""
      iq = (deliveries && irq + 0 >= 0) ? sprintf("%.3f", irq * 1e6 / deliveries) : ""
      cl = (win > 0) ? client_s * 100 / win : 0
      printf "%s,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,", label, w, n, clients, interval, events, deliveries, lost, dup, reo, err
      printf "%.0f,%.0f,%.0f,%.3f,%s,%s,", p50, p99, mx, c, rd, iq
      printf "%.0f,%.0f,%.0f,%.0f,%.0f,", (rss1 - rss0) * 1024 / n, (rss2 - rss0) * 1024 / n, (sock1 - sock0) * 4096 / n, (peak - sock0) * 4096 / n, (slab1 - slab0) * 1024 / n
      printf "%.0f,%.1f,%d,%d,%s,%s,%s,%d\n", cl, (t1 - t0) / 1e9, sp[1], sp[2], num(pr[1]), num(pr[2]), num(pr[3]), (rc != 0)
    }' "$dir"/events.* >>"$RUNS_CSV" 2>>"$LOG" || echo "$label,$w,$n,$clients,$interval,0,0,,,,,,,,,,,,,,,,,,,,,,,1" >>"$RUNS_CSV"
  if [ "$rc" != 0 ]; then
    failures=$((failures + 1))
    echo "  FAILED: $label (exit $rc); see $LOG" >&2
  fi
  tail -1 "$RUNS_CSV" | awk -F, '{ printf "  %s: %s of %s deliveries (lost %s, dup %s, reordered %s), fan-out p50 %.0f ms p99 %.0f ms, server CPU %s us/delivery, RSS %s B/subscriber, connect %s s\n", $1, $7, $3 * $6, $8, $9, $10, $12 / 1000, $13 / 1000, $15, $18, $24 }' >&2
}

# ------------------------------------------------------------------ runs
t_begin=$(date +%s)
echo "bench: scale: $N subscribers on $WORKERS workers ($PER_WORKER each), $EVENTS events ${INTERVAL_MS} ms apart; writing $RUNS_CSV" >&2
if has_test scale; then
  for rep in $(seq "$SCALE_REPS"); do scale_run scale "$WORKERS" "$N" "$INTERVAL_MS"; done
fi
if has_test reference; then
  FANOUT_ARGS="--probe-ms $PROBE_MS --probe-csv $PROBE_CSV"
  for rep in $(seq "$REF_REPS"); do
    order $((rep - 1)) floor sse-redis
    for kind in $ORDERED; do run_one "$kind" publish "$PER_WORKER" "$EVENTS" "$INTERVAL_MS"; done
  done
  FANOUT_ARGS=""
fi
if has_test pair; then
  for rep in $(seq "$PAIR_REPS"); do
    order $((rep - 1)) 1 2
    for w in $ORDERED; do scale_run "pair-$w" "$w" "$PAIR_N" "$PAIR_INTERVAL_MS"; done
  done
fi
elapsed=$(($(date +%s) - t_begin))
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# ------------------------------------------------------------------ report
medians=$BENCH_TMP/medians
if [ -s "$CSV" ]; then bench_medians "$CSV" >"$medians"; else : >"$medians"; fi
# run LABEL COLUMN -> the median over $RUNS_CSV's rows of LABEL (columns as
# in its header; lost/dup/reordered/errors/failed: the sum).
run() {
  awk -F, -v l="$1" -v c="$2" "$AWK_MEDIAN"'
    NR > 1 && $1 == l && $c != "" && $c != "-1" { v = v " " $c; t += $c; any = 1 }
    END { if (any) print ((c >= 8 && c <= 11) || c == 30 ? t : median(v)) }' "$RUNS_CSV"
}
# probe_of KIND COLUMN: median of $PROBE_CSV's column over KIND's rows at PER_WORKER.
probe_of() {
  awk -F, -v l="$1" -v n="$PER_WORKER" -v c="$2" "$AWK_MEDIAN"'
    NR > 1 && $1 == l && $2 == n && $c != "" { v = v " " $c; any = 1 }
    END { if (any) print median(v) }' "$PROBE_CSV" 2>/dev/null
}
ms() { value "$1" 0.001 1; }
b() { value "$1" 1 0; }
us() { value "$1" 1 2; }
fmt_n() {  # 100000 -> 100,000
  awk -v n="$1" 'BEGIN { s = sprintf("%d", n); r = ""; while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) } print s r }'
}

report=$base.txt
{
  report_header "sse-server scale benchmark (--workers, --redis)"
  echo "- redis: $(redis-server --version | sed 's/^Redis server //; s/ sha=[^ ]*//; s/ build=.*//'); --save \"\" --appendonly no; a fresh one per run"
  echo "- sse-server flags: --port 0 --quiet --tick-ms 0 --max-clients 20000 --max-backlog 16777216 --redis 127.0.0.1:PORT --workers W"
  echo "- fd hard limit: $hard per process; memory: $(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo); tcp_mem (pages): $(tr '\t' ' ' </proc/sys/net/ipv4/tcp_mem)"
  echo "- events: $EVENTS, $PAYLOAD-byte data (~$((PAYLOAD + 29))-byte frames), after $WARMUP warm-up events; /health probe every $PROBE_MS ms while they are in flight"
  echo "- run length: ${elapsed} s in all; data: $RUNS_CSV, $CSV"
  echo "- machine load (/proc/loadavg 1, 5, 15 min): $load_start at the start, $load_end at the end$(awk -v a="${load_start%% *}" 'BEGIN { if (a + 0 > 0.5) printf ": the machine was not idle at the start (an earlier run, or other work)" }')"
  echo
  if has_test scale || has_test reference; then
    echo "## 1. $(fmt_n "$N") subscribers on $WORKERS workers ($(fmt_n "$PER_WORKER") each), $EVENTS events ${INTERVAL_MS} ms apart"
    echo
    echo "| per subscriber / per event | sse-server --workers $WORKERS, N = $(fmt_n "$N") (nothing pinned) | one sse-server --redis, N = $(fmt_n "$PER_WORKER") (pinned) | floor, N = $(fmt_n "$PER_WORKER") (pinned) |"
    echo "|---|---:|---:|---:|"
    fcpu=$(get floor publish "$PER_WORKER" 14)
    rcpu=$(get sse-redis publish "$PER_WORKER" 14)
    wcpu=$(run scale 15)
    bad_ref() { awk -v k="$1" '$1 == k && $2 == "publish" { print "lost + dup. + reord. + errors: " $NF; f = 1 } END { if (!f) print "n/a" }' "$medians"; }
    echo "| deliveries (lost / duplicated / reordered / errors) | $(run scale 7) of $((N * EVENTS)) ($(run scale 8) / $(run scale 9) / $(run scale 10) / $(run scale 11)) | $(bad_ref sse-redis) | $(bad_ref floor) |"
    echo "| connections per worker (fds, min–max) | $(run scale 25)–$(run scale 26) | | |"
    echo "| user-space RSS growth per subscriber, bytes (target ≤ 512) | $(b "$(run scale 18)") (at the end: $(b "$(run scale 19)")) | $(b "$(get sse-redis publish "$PER_WORKER" 15)") | $(b "$(get floor publish "$PER_WORKER" 15)") |"
    echo "| kernel socket buffers (sockstat TCP mem) per subscriber, bytes: connected, idle / peak while events flow | $(b "$(run scale 20)") / $(b "$(run scale 21)") | | |"
    echo "| kernel slab growth per subscriber, bytes (both ends of each loopback connection: the server's socket and the client's) | $(b "$(run scale 22)") | | |"
    echo "| fan-out p50 (publish → last subscriber), ms | $(ms "$(run scale 12)") | $(ms "$(get sse-redis publish "$PER_WORKER" 11)") | $(ms "$(get floor publish "$PER_WORKER" 11)") |"
    echo "| fan-out p99, ms | $(ms "$(run scale 13)") | $(ms "$(get sse-redis publish "$PER_WORKER" 12)") | $(ms "$(get floor publish "$PER_WORKER" 12)") |"
    echo "| fan-out max, ms | $(ms "$(run scale 14)") | | |"
    echo "| server CPU per delivery, µs (workers summed; ratio to the floor) | $(us "$wcpu") ($(ratio "$wcpu" "$fcpu")) | $(us "$rcpu") ($(ratio "$rcpu" "$fcpu")) | $(us "$fcpu") |"
    echo "| redis-server CPU per delivery, µs | $(us "$(run scale 16)") | | |"
    echo "| irq + softirq per delivery, µs (all cores; the loopback receive path, in no process) | $(us "$(run scale 17)") | | |"
    echo "| /health during the events, p50 / p99 / max, ms | $(ms "$(run scale 27)") / $(ms "$(run scale 28)") / $(ms "$(run scale 29)") | $(ms "$(probe_of sse-redis 9)") / $(ms "$(probe_of sse-redis 10)") / $(ms "$(probe_of sse-redis 11)") | $(ms "$(probe_of floor 9)") / $(ms "$(probe_of floor 10)") / $(ms "$(probe_of floor 11)") |"
    echo "| load client CPU, % of one core (all its processes) | $(value "$(run scale 23)" 1 0) | $(value "$(get sse-redis publish "$PER_WORKER" 16)" 1 0) | $(value "$(get floor publish "$PER_WORKER" 16)" 1 0) |"
    echo "| time to connect every subscriber, s | $(value "$(run scale 24)" 1 1) | | |"
    echo
    echo "The first column is the median of $SCALE_REPS run(s), the other two of $REF_REPS each, server (and Redis)"
    echo "on core 0, client on core 1. In the first, $WORKERS workers, Redis, $(((N + PER_CLIENT - 1) / PER_CLIENT)) load-client processes and"
    echo "the kernel's loopback receive path share the 2 cores, so its fan-out times include waiting for"
    echo "the clients and the other workers, and its CPU per delivery the cost of sharing the caches."
    echo "An idle connection holds no socket buffer pages (sockstat's \`mem\`): its kernel cost is the slab"
    echo "objects (socket, inode, file, dentry, epoll item), for both ends here since the clients are local."
    echo
  fi
  if has_test pair; then
    echo "## 2. One worker against two, N = $(fmt_n "$PAIR_N"), $EVENTS events ${PAIR_INTERVAL_MS} ms apart (medians of $PAIR_REPS; nothing pinned)"
    echo
    echo "| | --workers 1 | --workers 2 | 2 / 1 |"
    echo "|---|---:|---:|---:|"
    prow() {  # title column scale decimals
      local a bb
      a=$(run pair-1 "$2")
      bb=$(run pair-2 "$2")
      echo "| $1 | $(value "$a" "$3" "$4") | $(value "$bb" "$3" "$4") | $(ratio "$bb" "$a") |"
    }
    prow "server CPU per delivery, µs (workers summed)" 15 1 2
    prow "redis-server CPU per delivery, µs" 16 1 2
    prow "irq + softirq per delivery, µs (all cores)" 17 1 2
    prow "fan-out p50, ms" 12 0.001 1
    prow "fan-out p99, ms" 13 0.001 1
    prow "/health p99 during the events, ms" 28 0.001 1
    prow "user-space RSS growth per subscriber, bytes" 18 1 0
    prow "load client CPU, % of one core" 23 1 0
    echo "| lost / duplicated / reordered / errors, all runs | $(run pair-1 8) / $(run pair-1 9) / $(run pair-1 10) / $(run pair-1 11) | $(run pair-2 8) / $(run pair-2 9) / $(run pair-2 10) / $(run pair-2 11) | |"
    echo
    echo "The load client (one process) and the workers share the same 2 cores: with two workers the"
    echo "fan-out runs on both cores at once, but the client reading $(fmt_n "$PAIR_N") streams competes with them."
    echo
  fi
  if has_test scale; then
    echo "## 3. 1,000,000 subscribers on a bigger machine: the arithmetic"
    echo
    awk -v rss="$(run scale 18)" -v slab="$(run scale 22)" -v sock="$(run scale 21)" -v cpu="$(run scale 15)" \
      -v redis="$(run scale 16)" -v irq="$(run scale 17)" -v w="$WORKERS" -v hard="$hard" -v ref="$rcpu" \
      -v n="$N" -v ev="$EVENTS" 'BEGIN {
      if (rss == "" || cpu == "") { print "(no measured figures: the scale run failed)"; exit }
      # Server side only: the workers RSS, half the slab (the server end of
      # each loopback connection), half the peak socket buffers.
      per = rss + slab / 2 + sock / 2
      printf "Memory: %.0f B of user space + ~%.0f B of kernel slab (half of the %.0f B measured for both ends)\n", rss, slab / 2, slab
      printf "+ ~%.0f B of socket buffers (half the peak) = ~%.0f B per subscriber, so 1,000,000 subscribers\n", sock / 2, per
      printf "need ~%.1f GB on the server (plus the process and Redis baseline, tens of MB).\n", per * 1e6 / 1e9
      c = (ref != "" ? ref : cpu)
      printf "CPU: at %.2f µs of server CPU per delivery (%s), one event to\n", c, ref != "" ? "one process at its own core, part 1 column 2" : "the workers of part 1"
      printf "1,000,000 subscribers costs %.1f s of CPU: at 1 event/s that is %.1f cores busy, at 10 events/s %.0f;\n", c, c, c * 10
      printf "with the %d workers of part 1 sharing 2 cores it was %.2f µs (%.1f cores at 1 event/s).\n", w, cpu, cpu
      if (irq != "") printf "Kernel time outside any process comes on top: here %.2f µs per delivery of irq + softirq, mostly the\nloopback receive path of the subscribers; behind a NIC that path runs on the clients'\'' machines and the\nserver pays transmit completions and interrupts instead (not measured here).\n", irq
      printf "A fan-out of one event over C cores takes about %.0f ms / C (16 cores: %.0f ms) if the workers spread\n", c * 1e3, c * 1e3 / 16
      printf "evenly; each worker holds up to its fd limit (here %d), so 1,000,000 needs %d workers at this limit,\n", hard, int((1e6 + hard - 101) / (hard - 100))
      printf "or one worker per core with a limit of 1,000,000 / cores (ulimit -n, LimitNOFILE=).\n"
      if (redis != "") printf "Redis: %.0f µs of CPU per event here (%.3f µs per delivery × %d subscribers, its housekeeping over\nthe window included): it sends each event once to each worker, so it grows with the workers, not\nwith the subscribers.\n", redis * n, redis, n
    }'
    echo
  fi
  bad=$(awk -F, 'NR > 1 { s += $8 + $9 + $10 + $11 } END { print s + 0 }' "$RUNS_CSV")
  bad2=$(awk '{ s += $NF } END { print s + 0 }' "$medians")
  echo "Lost + duplicated + reordered events + errors over all runs: $((bad + bad2)); failed runs: $failures."
  if [ -s "$CSV" ]; then client_limited_note; fi
  echo
  echo "Server CPU is each process's own (/proc/PID/task/*/schedstat), summed over the workers, from the"
  echo "first measured publish to the last delivery in any load-client process. On loopback the"
  echo "subscribers' TCP receive path runs as softirq on the sending core and is billed to no process;"
  echo "kernel figures (sockstat, slab) are machine-wide and count both ends of every connection."
  echo "Loopback on a shared 2-core virtual machine: no NIC, no real network."
} >"$report"
cat "$report"
[ "$failures" = 0 ]
