#!/usr/bin/env bash
# http.sh — the plain-HTTP load recipes users expect, sse-server beside nginx.
#
#   health   wrk on GET /health         sse-server: its /health; nginx: `return 200 "ok"`
#   static   wrk on GET /index.html     the same file (www/index.html) from both
#   publish  hey on POST /publish       sse-server: {"data":"..."} JSON;
#            nginx + nchan's publisher: the same bytes as a raw message; no
#            subscribers, both keep the last 1024 messages (sse-server's
#            --history default, nchan_message_buffer_length here)
# nginx is bench/nginx.conf: one worker, access log off, keep-alive without a
# request limit. The server is pinned to core 0, the load tool to core 1;
# loopback only; each run lasts HTTP_DURATION seconds against a fresh server,
# servers alternating. The figure that matters is the server's CPU time per
# request (/proc/PID/task/*/schedstat, ns; /proc/PID/stat utime+stime if that
# is missing), read just before and after the load tool runs: requests/s on one
# shared machine mostly tells how fast the load tool is. Missing Debian packages
# (wrk, hey, nginx-light, libnginx-mod-nchan) are installed with apt-get; if hey
# cannot be had, POST /publish is loaded with wrk and a Lua script instead.
#
# Writes bench/results/<date>-<commit>-http.{txt,csv,log}.
#
# Environment (defaults in brackets):
#   HTTP_DURATION [10]       seconds per run
#   HTTP_CONNECTIONS [64]    concurrent connections (wrk -c, hey -c); wrk -t1
#   HTTP_REPS [3]            repetitions; medians are reported
#   HTTP_TESTS ["health static publish"]
#   HTTP_SERVERS ["sse-server nginx"]
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${HTTP_DURATION:-10}
CONNS=${HTTP_CONNECTIONS:-64}
REPS=${HTTP_REPS:-3}
TESTS=${HTTP_TESTS:-"health static publish"}
SERVERS=${HTTP_SERVERS:-"sse-server nginx"}
PUBLISH_DATA="$(printf 'x%.0s' $(seq 67))"
NCHAN_BUFFER=1024
. bench/lib.sh

# ------------------------------------------------------------------ setup
ensure_packages wrk nginx-light libnginx-mod-nchan
ensure_packages hey || true
make --no-print-directory sse-server >/dev/null
bench_init -http
echo "label,test,tool,connections,duration_s,requests,requests_per_s,server_cpu_s,cpu_us_per_request,p50_ms,p99_ms,errors" >"$CSV"
post_tool=hey
if ! command -v hey >/dev/null; then
  post_tool="wrk+lua"
  echo "http.sh: hey is not available; POST /publish is loaded with wrk and a Lua script" >&2
fi

# Server CPU time in ns, all threads.
server_cpu_ns() {
  local pid=$1 f t total=0 any=""
  for f in /proc/"$pid"/task/*/schedstat; do
    read -r t _ <"$f" 2>/dev/null || continue
    total=$((total + t))
    any=1
  done
  if [ -n "$any" ]; then
    echo "$total"
  else
    awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print ($12 + $13) * 1e9 / hz }' "/proc/$pid/stat"
  fi
}

# A duration as wrk or hey prints it (850.00us, 1.20ms, 2.00s; hey: seconds)
# -> milliseconds.
to_ms() {
  awk -v x="$1" 'BEGIN {
    if (x ~ /us$/) { sub(/us$/, "", x); print x / 1000 }
    else if (x ~ /ms$/) { sub(/ms$/, "", x); print x + 0 }
    else if (x ~ /s$/) { sub(/s$/, "", x); print x * 1000 }
    else print x * 1000 }'
}

# load TEST: runs the load tool against $PORT, prints "tool requests p50 p99 errors".
load() {
  local test=$1 url="http://127.0.0.1:$PORT" out=$BENCH_TMP/load.out type body
  case $test in
    health | static)
      [ "$test" = health ] && url=$url/health || url=$url/index.html
      timeout $((DURATION + 30)) $PIN_CLIENT wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "$url" >"$out" 2>&1 || true
      cat "$out" >>"$LOG"
      echo "wrk $(wrk_figures "$out")"
      ;;
    publish)
      if [ "$SKIND" = nginx ]; then
        type=text/plain
        body=$PUBLISH_DATA
      else
        type=application/json
        body="{\"data\":\"$PUBLISH_DATA\"}"
      fi
      if [ "$post_tool" = hey ]; then
        timeout $((DURATION + 30)) $PIN_CLIENT hey -z "${DURATION}s" -c "$CONNS" -m POST -T "$type" \
          -d "$body" "$url/publish" >"$out" 2>&1 || true
        cat "$out" >>"$LOG"
        echo "hey $(hey_figures "$out")"
      else
        printf 'wrk.method = "POST"\nwrk.body = [[%s]]\nwrk.headers["Content-Type"] = "%s"\n' \
          "$body" "$type" >"$BENCH_TMP/post.lua"
        timeout $((DURATION + 30)) $PIN_CLIENT wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency \
          -s "$BENCH_TMP/post.lua" "$url/publish" >"$out" 2>&1 || true
        cat "$out" >>"$LOG"
        echo "wrk+lua $(wrk_figures "$out")"
      fi
      ;;
  esac
}

# From wrk's report: requests, p50 ms, p99 ms, errors (socket errors, non-2xx/3xx).
wrk_figures() {
  local f=$1 req p50 p99 err
  req=$(awk '/requests in/ { print $1 }' "$f")
  p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$f")")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$f")")
  err=$(awk '/Socket errors/ { gsub(/,/, ""); s += $4 + $6 + $8 + $10 } /Non-2xx/ { s += $NF } END { print s + 0 }' "$f")
  echo "${req:-0} $p50 $p99 $err"
}

# From hey's report: requests (the status code distribution), p50, p99, errors
# (any status other than 2xx, and hey's own error lines).
hey_figures() {
  local f=$1
  awk '
    /^Status code distribution:/ { codes = 1; next }
    /^Error distribution:/ { codes = 0; errs = 1; next }
    codes && /\[[0-9]+\]/ { n = $2 + 0; req += n; if ($1 !~ /^\[2/) bad += n }
    errs && /\[[0-9]+\]/ { gsub(/[\[\]]/, "", $1); bad += $1 }
    $1 == "50%" && $2 == "in" { p50 = $3 * 1000 }
    $1 == "99%" && $2 == "in" { p99 = $3 * 1000 }
    END { printf "%d %s %s %d\n", req, p50, p99, bad }' "$f"
}

failures=0
run_http() {  # SERVER TEST
  local kind=$1 test=$2 cpu0 cpu1 t0 t1 tool req p50 p99 err secs
  start_server "$kind"
  echo "== $kind $test (pid $SPID, port $PORT)" >>"$LOG"
  cpu0=$(server_cpu_ns "$SPID")
  t0=$(date +%s%N)
  read -r tool req p50 p99 err < <(load "$test")
  t1=$(date +%s%N)
  cpu1=$(server_cpu_ns "$SPID")
  if ! kill -0 "$SPID" 2>/dev/null; then
    echo "SERVER DIED during the run" >>"$LOG"
    err=$((err + 1))
  fi
  stop_server
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
  awk -v l="$kind" -v t="$test" -v tool="$tool" -v c="$CONNS" -v s="$secs" -v r="$req" \
    -v c0="$cpu0" -v c1="$cpu1" -v p50="$p50" -v p99="$p99" -v e="$err" 'BEGIN {
      cpu = (c1 - c0) / 1e9
      printf "%s,%s,%s,%d,%s,%d,%.0f,%.3f,%.3f,%s,%s,%d\n", l, t, tool, c, s, r, r / s, cpu,
        (r > 0 ? cpu * 1e6 / r : -1), p50, p99, e }' >>"$CSV"
  if [ "$req" = 0 ] || [ "$err" != 0 ]; then
    failures=$((failures + 1))
    echo "  FAILED or errors: $kind $test ($err errors, $req requests); see $LOG" >&2
  fi
  echo "  $kind $test: $(tail -1 "$CSV" | awk -F, '{ printf "%s req/s, %s us CPU per request", $7, $9 }')" >&2
}

# ------------------------------------------------------------------ runs
t_start=$(date +%s)
echo "http: servers [$SERVERS], tests [$TESTS], ${DURATION} s each, $REPS repetition(s); writing $CSV" >&2
for rep in $(seq "$REPS"); do
  echo "repetition $rep of $REPS" >&2
  group=0
  for test in $TESTS; do
    order $((rep - 1 + group)) $SERVERS
    group=$((group + 1))
    for kind in $ORDERED; do run_http "$kind" "$test"; done
  done
done
elapsed=$(($(date +%s) - t_start))

# ------------------------------------------------------------------ report
# m SERVER TEST COLUMN -> the median over the repetitions.
m() {
  awk -F, -v s="$1" -v t="$2" -v c="$3" "$AWK_MEDIAN"'
    NR > 1 && $1 == s && $2 == t { v = v " " $c }
    END { if (v != "") print median(v) }' "$CSV"
}
what() {
  case $1 in
    health) echo "GET /health (wrk -t1 -c$CONNS)" ;;
    static) echo "GET /index.html, $(stat -c %s www/index.html) bytes (wrk -t1 -c$CONNS)" ;;
    publish) echo "POST /publish, 67-byte data, no subscribers ($post_tool -c $CONNS)" ;;
  esac
}
report=$base.txt
{
  report_header "sse-server beside nginx under wrk and hey"
  echo "- nginx: $(nginx -v 2>&1 | sed 's/^nginx version: //'), nchan $(dpkg-query -W -f '${Version}' libnginx-mod-nchan 2>/dev/null), 1 worker process, bench/nginx.conf"
  echo "- load: $(wrk -v 2>&1 | head -1 | awk '{ print $1, $2 }'); $(command -v hey >/dev/null && echo "hey $(dpkg-query -W -f '${Version}' hey 2>/dev/null)" || echo "hey not available"); pinned as above"
  echo "- ${DURATION} s per run, $REPS repetition(s) (medians), a fresh server per run, servers alternated"
  echo "- run length: ${elapsed} s in all; data: $CSV"
  echo
  printf '| test | figure |'
  for s in $SERVERS; do printf ' %s |' "$s"; done
  [ "$SERVERS" = "sse-server nginx" ] && printf ' sse-server / nginx |'
  echo
  printf '|---|---|'
  for s in $SERVERS; do printf -- '---:|'; done
  [ "$SERVERS" = "sse-server nginx" ] && printf -- '---:|'
  echo
  for test in $TESTS; do
    for fig in "server CPU per request, µs:9:2" "requests/s, thousands:7:1" "latency p50, ms:10:2" "latency p99, ms:11:2"; do
      IFS=: read -r name col dec <<<"$fig"
      scale=1
      [ "$col" = 7 ] && scale=0.001
      printf '| %s | %s |' "$(what "$test")" "$name"
      for s in $SERVERS; do printf ' %s |' "$(value "$(m "$s" "$test" "$col")" "$scale" "$dec")"; done
      [ "$SERVERS" = "sse-server nginx" ] && printf ' %s |' "$(ratio "$(m sse-server "$test" "$col")" "$(m nginx "$test" "$col")")"
      echo
    done
  done
  echo
  echo "Errors (socket errors, non-2xx answers) over all runs: $(awk -F, 'NR > 1 { s += $12 } END { print s + 0 }' "$CSV"); failed runs: $failures."
  echo "Requests/s and latency are bounded by the load tool on one core (hey above all, a Go"
  echo "program): compare the servers by CPU per request. That figure leaves out the kernel's"
  echo "loopback receive path (softirq on the server's core, billed to no process)."
} >"$report"
cat "$report"
[ "$failures" = 0 ]
