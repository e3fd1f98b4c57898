# shellcheck shell=bash
# lib.sh — shell functions shared by bench/run.sh, bench/compare.sh and
# bench/http.sh (sourced from the repository root, never run by itself).
#
#   fanout_settings SIZES B    the BENCH_* knobs (defaults: sizes, burst batch)
#   bench_init SUFFIX          result file names, core pinning, a temp dir
#   bench_build                ./sse-server, bench/fanout, bench/floor
#   ensure_packages PKG...     installs the missing Debian packages (apt-get)
#   start_server KIND          sse-server | floor | node | nchan | nginx | sse-redis |
#                              sse-redis-pair; sets PORT, SPID (and RPORT, RPID; PORT2, SPID2)
#   stop_server                ends it, keeps what it said in $LOG
#   order SHIFT SERVER...      ORDERED = the servers, rotated SHIFT places
#   run_one KIND MODE N E I    one bench/fanout run against a fresh server
#   bench_medians CSV          medians per (server, mode, N) of fanout's CSV
#   get / cell                 read the medians, format a ratio cell
#   client_limited_note        the warning for client-limited runs
#   report_header              the lines every report starts with
#
# Every server runs under `timeout`, pinned to core 0 when there are two cores,
# so it ends by itself even if the script is killed; the EXIT trap set by
# bench_init stops whatever is still running and removes the temp dir.

BENCH_CXXFLAGS="-O2 -std=c++17 -Wall -Wextra"
SERVER_LIFETIME_S=900

# ------------------------------------------------------------------ setup
# fanout_settings DEFAULT_SIZES DEFAULT_BATCH: the fan-out workload from the
# BENCH_* environment variables (run.sh and compare.sh document them).
# shellcheck disable=SC2034  # the variables are the calling script's
fanout_settings() {
  SIZES=${BENCH_SIZES:-$1}
  REPS=${BENCH_REPS:-3}
  EVENTS=${BENCH_EVENTS:-50}
  INTERVAL_MS=${BENCH_INTERVAL_MS:-100}
  WARMUP=${BENCH_WARMUP:-5}
  PAYLOAD=${BENCH_PAYLOAD:-67}
  BURST_EVENTS=${BENCH_BURST_EVENTS:-1000}
  BURST_SUBS=${BENCH_BURST_SUBS:-1000}
  BATCH=${BENCH_BATCH:-$2}
  DEPTH=${BENCH_BURST_DEPTH:-4}
  burst_sizes=$(for n in $SIZES; do echo $((n < BURST_SUBS ? n : BURST_SUBS)); done | sort -nu)
}

# bench_init SUFFIX: sets commit, base (bench/results/<date>-<commit>SUFFIX),
# CSV, LOG, PIN_SERVER, PIN_CLIENT, split, BENCH_TMP.
bench_init() {
  commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  [ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || commit="$commit-dirty"
  stamp=$(date +%Y%m%d-%H%M%S)
  mkdir -p bench/results
  base=bench/results/$stamp-$commit${1:-}
  CSV=$base.csv
  LOG=$base.log
  : >"$LOG"
  # Pinning: server on core 0, client on core 1, when there are two cores.
  if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
    PIN_SERVER="taskset -c 0"
    PIN_CLIENT="taskset -c 1"
    split="server pinned to core 0, load client to core 1 (taskset); $(nproc) cores"
  else
    PIN_SERVER=""
    PIN_CLIENT=""
    split="not pinned ($(nproc) core(s) or no taskset): server and client share the CPU"
  fi
  BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sse-bench.XXXXXX")
  trap 'stop_server; rm -rf "$BENCH_TMP"' EXIT
  trap 'exit 130' INT TERM
}

bench_build() {
  make --no-print-directory sse-server >/dev/null
  g++ $BENCH_CXXFLAGS -o bench/fanout bench/fanout.cpp
  g++ $BENCH_CXXFLAGS -o bench/floor bench/floor.cpp
}

# ensure_packages PKG...: installs those not installed (dpkg -s), with one
# `apt-get update` per script run; sudo only when not root. Nothing else is
# fetched, and nothing is written into the repository.
APT_UPDATED=""
ensure_packages() {
  local p missing=() sudo=""
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} = 0 ] && return 0
  [ "$(id -u)" = 0 ] || sudo=sudo
  echo "bench: installing Debian packages: ${missing[*]}" >&2
  if [ -z "$APT_UPDATED" ]; then
    $sudo apt-get update -qq
    APT_UPDATED=1
  fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >&2
}

# ------------------------------------------------------------------ servers
TPID=""  # the `timeout` wrapping the server
SPID=""  # the process to measure (nginx: its one worker)
PORT=""
SKIND=""
# sse-redis and sse-redis-pair only: the redis-server they share (its
# `timeout`, pid, port), and the pair's second sse-server.
RTPID=""
RPID=""
RPORT=""
TPID2=""
SPID2=""
PORT2=""

# A loopback port nobody listens on, below the ephemeral range (32768 and up
# on Linux) so the load client's own connections cannot have taken it.
free_port() {
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 12000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return
    fi
  done
  echo "bench: no free port found" >&2
  return 1
}

# nginx from bench/nginx.conf, in its own directory under BENCH_TMP.
start_nginx() {
  local dir=$BENCH_TMP/nginx out=$1 master="" worker=""
  rm -rf "$dir"
  mkdir -p "$dir"
  for _ in 1 2 3; do  # a port taken between free_port and bind(): try another
    PORT=$(free_port)
    sed -e "s|@DIR@|$dir|g" -e "s|@PORT@|$PORT|g" -e "s|@WWW@|$PWD/www|g" \
      -e "s|@USER@|$(id -un)|g" -e "s|@GROUP@|$(id -gn)|g" \
      -e "s|@NOFILE@|$(ulimit -Hn | sed 's/unlimited/65536/')|g" \
      -e "s|@CONNS@|${NGINX_CONNECTIONS:-20000}|g" -e "s|@BUFFER@|${NCHAN_BUFFER:-10000}|g" \
      bench/nginx.conf >"$dir/nginx.conf"
    $PIN_SERVER timeout -k 5 $SERVER_LIFETIME_S nginx -p "$dir" -c "$dir/nginx.conf" \
      -e "$dir/error.log" >"$out" 2>&1 &
    TPID=$!
    # The master binds the listening socket before it forks the worker, so a
    # worker means the port is open.
    for _ in $(seq 100); do
      master=$(pgrep -P "$TPID" | head -1 || true)
      [ -n "$master" ] && worker=$(pgrep -P "$master" | head -1 || true)
      [ -n "$worker" ] && break
      kill -0 "$TPID" 2>/dev/null || break
      sleep 0.05
    done
    if [ -n "$worker" ]; then
      SPID=$worker
      echo "nginx listening on 127.0.0.1:$PORT" >>"$out"
      return 0
    fi
    wait "$TPID" 2>/dev/null || true
    TPID=""
    grep -q 'Address already in use' "$dir/error.log" "$out" 2>/dev/null || break
  done
  SPID=""
}

# redis-server for sse-redis and sse-redis-pair: a free loopback port, no
# persistence (no RDB snapshots, no AOF: nothing forks or writes to disk in
# a run), pinned like the servers (core 0), or as REDIS_PIN says (for
# example "taskset -c 1"; empty: not pinned). Sets RTPID, RPID, RPORT.
start_redis() {
  local dir=$BENCH_TMP/redis out=$BENCH_TMP/redis.out
  mkdir -p "$dir"
  for _ in 1 2 3; do  # a port taken between free_port and bind(): try another
    RPORT=$(free_port)
    : >"$out"
    ${REDIS_PIN-$PIN_SERVER} timeout -k 5 $SERVER_LIFETIME_S redis-server --port "$RPORT" --bind 127.0.0.1 \
      --save "" --appendonly no --dir "$dir" --daemonize no --maxclients 1000 >"$out" 2>&1 &
    RTPID=$!
    for _ in $(seq 100); do
      grep -q 'Ready to accept connections' "$out" && break
      kill -0 "$RTPID" 2>/dev/null || break
      sleep 0.05
    done
    RPID=$(pgrep -P "$RTPID" | head -1 || true)
    if grep -q 'Ready to accept connections' "$out" && [ -n "$RPID" ]; then return 0; fi
    wait "$RTPID" 2>/dev/null || true
    RTPID=""
    RPID=""
    grep -q 'Address already in use' "$out" || break
  done
  echo "bench: redis-server did not start:" >&2
  cat "$out" >&2
  return 1
}

# sse_redis_instance OUT: one sse-server --redis on $RPORT, the flags of
# kind sse-server; sets ITPID, IPORT, IPID once it is connected to Redis
# (/stats says so: a publish before that would get a 503).
sse_redis_instance() {
  local out=$1
  : >"$out"
  $PIN_SERVER timeout -k 5 $SERVER_LIFETIME_S ./sse-server --port 0 --quiet --tick-ms 0 \
    --max-clients 20000 --max-backlog 16777216 --redis "127.0.0.1:$RPORT" ${SSE_SERVER_ARGS:-} \
    >"$out" 2>&1 &
  ITPID=$!
  IPORT=""
  IPID=""
  for _ in $(seq 100); do
    grep -q 'listening on' "$out" && break
    sleep 0.05
  done
  IPORT=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\)$/\1/p' "$out" | head -1)
  IPID=$(pgrep -P "$ITPID" | head -1 || true)
  [ -n "$IPORT" ] || return 0
  for _ in $(seq 200); do
    curl -s --noproxy '*' --max-time 2 "http://127.0.0.1:$IPORT/stats" 2>/dev/null |
      grep -q '"state":"connected"' && return 0
    sleep 0.05
  done
  echo "bench: sse-server on port $IPORT did not connect to Redis on $RPORT within 10 s" >>"$out"
  IPORT=""
}

# start_server KIND: sse-server | baseline | floor | node | nchan (nginx +
# nchan; also named nginx: the same server and config, where http.sh uses
# its plain locations). baseline is another sse-server binary,
# $BASELINE_BIN (for example the previous commit's), run with the same
# flags: a before/after comparison in one interleaved run. sse-redis is
# redis-server (start_redis) and one sse-server --redis on it, both on the
# server's core; sse-redis-pair the same with two sse-servers on the one
# Redis (PORT, SPID the first; PORT2, SPID2 the second).
start_server() {
  local kind=$1 out=$BENCH_TMP/server.out
  : >"$out"
  SKIND=$kind
  SPID=""
  PORT=""
  RPID=""
  RPORT=""
  SPID2=""
  PORT2=""
  case $kind in
    sse-server | baseline)
      local binary=./sse-server
      if [ "$kind" = baseline ]; then binary=${BASELINE_BIN:?set BASELINE_BIN to a sse-server binary}; fi
      $PIN_SERVER timeout -k 5 $SERVER_LIFETIME_S "$binary" --port 0 --quiet --tick-ms 0 \
        --max-clients 20000 --max-backlog 16777216 ${SSE_SERVER_ARGS:-} >"$out" 2>&1 &
      ;;
    floor)
      $PIN_SERVER timeout -k 5 $SERVER_LIFETIME_S bench/floor --port 0 \
        --lifetime-s $SERVER_LIFETIME_S >"$out" 2>&1 &
      ;;
    node)
      $PIN_SERVER timeout -k 5 $SERVER_LIFETIME_S node bench/node-server.mjs --port 0 >"$out" 2>&1 &
      ;;
    nchan | nginx)
      start_nginx "$out"
      ;;
    sse-redis | sse-redis-pair)
      if start_redis; then
        sse_redis_instance "$out"
        TPID=$ITPID PORT=$IPORT SPID=$IPID
        if [ "$kind" = sse-redis-pair ] && [ -n "$PORT" ]; then
          sse_redis_instance "$BENCH_TMP/server2.out"
          TPID2=$ITPID PORT2=$IPORT SPID2=$IPID
          if [ -z "$PORT2" ] || [ -z "$SPID2" ]; then
            cat "$BENCH_TMP/server2.out" >>"$out"
            PORT=""
          fi
        fi
      fi
      ;;
    *)
      echo "bench: unknown server $kind" >&2
      exit 2
      ;;
  esac
  if [ "$kind" != nchan ] && [ "$kind" != nginx ] && [ "$kind" != sse-redis ] &&
    [ "$kind" != sse-redis-pair ]; then
    TPID=$!
    for _ in $(seq 100); do
      grep -q 'listening on' "$out" && break
      sleep 0.05
    done
    PORT=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\)$/\1/p' "$out" | head -1)
    SPID=$(pgrep -P "$TPID" | head -1 || true)
  fi
  if [ -z "$PORT" ] || [ -z "$SPID" ]; then
    echo "bench: $kind did not start:" >&2
    cat "$out" >&2
    cat "$BENCH_TMP/nginx/error.log" >&2 2>/dev/null || true
    if [ -n "$RTPID" ]; then cat "$BENCH_TMP/redis.out" >&2; fi
    exit 1
  fi
}

stop_server() {
  if [ -n "$TPID" ]; then
    kill -TERM "$TPID" 2>/dev/null || true
    wait "$TPID" 2>/dev/null || true
    # Anything the server said besides its start line (errors, crashes);
    # nginx's notices (start, signals, shutdown) are left out.
    grep -v -e 'listening on' -e 'redis [a-z]*: connected to' "$BENCH_TMP/server.out" >>"$LOG" 2>/dev/null || true
    if [ "$SKIND" = nchan ] || [ "$SKIND" = nginx ]; then
      grep -v '\[notice\]' "$BENCH_TMP/nginx/error.log" >>"$LOG" 2>/dev/null || true
    fi
  fi
  TPID=""
  # sse-redis, sse-redis-pair: the second sse-server, then Redis (after the
  # instances, so they do not log its going away). Of sse-server's Redis
  # lines, the two "connected to" at start are left out; of Redis's, all
  # but its warnings (level #), and of those its start and shutdown notices
  # and the overcommit advice.
  if [ -n "$TPID2" ]; then
    kill -TERM "$TPID2" 2>/dev/null || true
    wait "$TPID2" 2>/dev/null || true
    grep -v -e 'listening on' -e 'redis [a-z]*: connected to' "$BENCH_TMP/server2.out" >>"$LOG" 2>/dev/null || true
  fi
  TPID2=""
  if [ -n "$RTPID" ]; then
    kill -TERM "$RTPID" 2>/dev/null || true
    wait "$RTPID" 2>/dev/null || true
    grep ' # ' "$BENCH_TMP/redis.out" | grep -v -e 'oO0OoO0OoO0Oo' -e 'Redis version=' \
      -e 'Configuration loaded' -e 'Server initialized' -e 'overcommit' \
      -e 'User requested shutdown' -e 'ready to exit' -e 'Received SIGTERM' >>"$LOG" 2>/dev/null || true
  fi
  RTPID=""
}

# ------------------------------------------------------------------ runs
# order SHIFT SERVER...: sets ORDERED to the servers rotated SHIFT places. The
# scripts shift by repetition + group (a group: the runs of one size and mode),
# so each group starts with another server in each repetition, and the groups
# of one repetition start with different ones: no server always runs first.
ORDERED=""
order() {
  local turn=$1 k
  shift
  local list=("$@")
  ORDERED=""
  for k in "${!list[@]}"; do
    ORDERED="$ORDERED ${list[$(((k + turn) % ${#list[@]}))]}"
  done
}

# run_one KIND MODE SUBSCRIBERS EVENTS INTERVAL_MS: one bench/fanout run
# against a fresh server; its summary goes to $LOG, its row to $CSV. Needs
# WARMUP, PAYLOAD, BATCH, DEPTH; counts failed runs in `failures`.
# FANOUT_ARGS, when set, is added to bench/fanout's arguments (run.sh: the
# /health probe, --probe-ms and --probe-csv).
failures=0
FANOUT_ARGS=""
run_one() {
  local kind=$1 mode=$2 n=$3 events=$4 interval=$5 rc=0 warm=$WARMUP protocol=json p
  [ "$mode" = burst ] && warm=1
  [ "$kind" = nchan ] && protocol=nchan
  start_server "$kind"
  {
    echo "== $kind $mode N=$n (pid $SPID, port $PORT${SPID2:+; second sse-server pid $SPID2, port $PORT2}${RPID:+; redis-server pid $RPID, port $RPORT})"
    # sse-redis-pair: half the subscribers on the second instance; the CPU
    # of Redis and of the second instance is reported beside the server's.
    # shellcheck disable=SC2086
    timeout 600 $PIN_CLIENT bench/fanout --port "$PORT" --subscribers "$n" --events "$events" \
      --interval-ms "$interval" --mode "$mode" --payload "$PAYLOAD" --batch "$BATCH" \
      --burst-depth "$DEPTH" --warmup "$warm" --server-pid "$SPID" --csv "$CSV" \
      --label "$kind" --protocol "$protocol" ${PORT2:+--split-port $PORT2 --aux-pid $SPID2} \
      ${RPID:+--aux-pid $RPID} $FANOUT_ARGS 2>&1 || rc=$?
    if ! kill -0 "$SPID" 2>/dev/null; then
      echo "SERVER DIED during the run"
      rc=1
    fi
    for p in $SPID2 $RPID; do
      if ! kill -0 "$p" 2>/dev/null; then
        echo "PROCESS $p ($([ "$p" = "$RPID" ] && echo redis-server || echo second sse-server)) DIED during the run"
        rc=1
      fi
    done
  } >>"$LOG"
  stop_server
  if [ "$rc" != 0 ]; then
    failures=$((failures + 1))
    echo "  FAILED: $kind $mode N=$n (exit $rc); see $LOG" >&2
  fi
  echo "  $kind $mode N=$n:$(grep 'fan-out us' "$LOG" | tail -1 | sed 's/^ *fan-out us//')" >&2
}

# ------------------------------------------------------------------ report
# bench_medians CSV: one line per (server, mode, N): the medians of CSV columns
# 5..16, then 17 = server busy (% of a core, first publish to last delivery),
# "-" for 18..20, 21 = fan-out max, then the sum of lost + dup + reordered +
# errors (always the last field). Sorted.
# AWK_MEDIAN: an awk function, median("3 1 2") = 2, for the scripts' awk programs.
AWK_MEDIAN='
  function median(s,   a, n, i, j, t) {
    n = split(s, a, " ")
    for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }'
bench_medians() {
  awk -F, "$AWK_MEDIAN"'
    NR > 1 {
      k = $1 SUBSEP $3 SUBSEP $2
      keys[k] = 1
      for (c = 5; c <= 16; c++) v[k, c] = v[k, c] " " $c
      v[k, 17] = v[k, 17] " " $13 * $14 / 1e4
      if ($21 != "") v[k, 21] = v[k, 21] " " $21
      bad[k] += $17 + $18 + $19 + $20
    }
    END {
      for (k in keys) {
        split(k, p, SUBSEP)
        printf "%s %s %s", p[1], p[2], p[3]
        for (c = 5; c <= 17; c++) printf " %s", median(v[k, c])
        # columns 18-20 are the error counts (summed below); 21 is the
        # fan-out max, "-" in a CSV written before it existed
        printf " - - - %s", v[k, 21] == "" ? "-" : median(v[k, 21])
        printf " %d\n", bad[k]
      }
    }' "$1" | sort
}

# get SERVER MODE N COLUMN -> median from the file $medians, which the caller
# sets (columns numbered as in the CSV; 17 = server busy %).
# shellcheck disable=SC2154
get() {
  awk -v s="$1" -v m="$2" -v n="$3" -v c="$4" \
    '$1 == s && $2 == m && $3 == n { print $(c - 1); exit }' "$medians"
}

# cell A B SCALE DECIMALS -> "A / B = ratio×" (values scaled), n/a if missing.
cell() {
  awk -v a="$1" -v b="$2" -v s="$3" -v d="$4" 'BEGIN {
    if (a == "" || b == "") { print "n/a"; exit }
    r = (b + 0 > 0 && a + 0 >= 0) ? sprintf("%.2f×", a / b) : "—"
    printf "%." d "f / %." d "f = %s\n", a * s, b * s, r }'
}

# value A SCALE DECIMALS -> A scaled, n/a if missing.
value() {
  awk -v a="$1" -v s="$2" -v d="$3" 'BEGIN { if (a == "") print "n/a"; else printf "%." d "f\n", a * s }'
}

# ratio A B -> "A/B×", — if either is missing or B is 0.
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 <= 0) print "—"; else printf "%.2f×\n", a / b }'
}

# client_limited_note: a warning naming the runs of $CSV in which the load
# client used over 90% of its core while events were in flight.
client_limited_note() {
  local limited
  limited=$(awk -F, 'NR > 1 && $16 > 90 { n++ } END { print n + 0 }' "$CSV")
  if [ "$limited" != 0 ]; then
    echo "WARNING: in $limited run(s) the load client used over 90% of its core while events were in"
    echo "flight: those figures are client-limited (see $LOG)."
  fi
}

# report_header TITLE: title, commit, compiler, kernel, CPU, core split.
report_header() {
  echo "# $1, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "- commit: $commit"
  echo "- compiler: $(g++ --version | head -1); sse-server: make, CXXFLAGS=$(make -pn sse-server 2>/dev/null | sed -n 's/^CXXFLAGS = //p' | head -1) -std=c++17; bench tools: g++ $BENCH_CXXFLAGS"
  echo "- kernel: $(uname -r); CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
  echo "- core split: $split"
}
