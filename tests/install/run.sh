#!/usr/bin/env bash
# run.sh — `make install` as a user would run it (make install-test).
#
# 1. make install PREFIX=<scratch>/usr: exactly the expected files; that
#    binary started from / (no ./www there, no flags but a free port) serves
#    the installed index.html and /health; make uninstall removes them all.
# 2. make install DESTDIR=<scratch>/dest PREFIX=/opt/sse: the same files
#    under DESTDIR, and the unit names /opt/sse (not DESTDIR) in ExecStart.
# 3. The unit passes `systemd-analyze verify` where that tool exists (else a
#    syntax check); the man page renders with `man -l` and matches --help.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
scratch=$(mktemp -d)
server_pid=""
cleanup() {
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$scratch"
}
trap cleanup EXIT
fail() { echo "install: FAIL: $*" >&2; exit 1; }

# The files `make install` must put under BASE (PREFIX with DESTDIR before it).
expected_files() {
  local base=$1
  {
    echo "$base/bin/sse-server"
    echo "$base/lib/systemd/system/sse-server.service"
    echo "$base/share/man/man1/sse-server.1"
    (cd www && find . -type f | sed "s|^\./|$base/share/sse-server/www/|")
  } | sort
}
check_files() {
  local tree=$1 base=$2 got want
  got=$(find "$tree" -type f | sort)
  want=$(expected_files "$base")
  [[ $got == "$want" ]] || fail "installed files differ from the expected list:
$(diff <(echo "$want") <(echo "$got") || true)"
}

# --- 1. PREFIX ---------------------------------------------------------------
prefix=$scratch/usr
make --no-print-directory -s install PREFIX="$prefix" >/dev/null
check_files "$prefix" "$prefix"
[[ -x $prefix/bin/sse-server ]] || fail "bin/sse-server is not executable"
echo "install: PREFIX=$prefix: $(find "$prefix" -type f | wc -l) files in place"

(cd / && exec "$prefix/bin/sse-server" --host 127.0.0.1 --port 0 --tick-ms 0 --quiet \
  >"$scratch/server.out" 2>"$scratch/server.err") &
server_pid=$!
port=""
for _ in $(seq 100); do
  port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$scratch/server.out")
  [[ -n $port ]] && break
  kill -0 "$server_pid" 2>/dev/null || fail "server exited: $(cat "$scratch/server.err")"
  sleep 0.05
done
[[ -n $port ]] || fail "no 'listening on' line within 5 s"
curl -sf "http://127.0.0.1:$port/" -o "$scratch/index.html" || fail "GET / failed"
cmp -s "$scratch/index.html" "$prefix/share/sse-server/www/index.html" ||
  fail "GET / is not the installed index.html"
health=$(curl -sf "http://127.0.0.1:$port/health") || fail "GET /health failed"
[[ $health == *ok* ]] || fail "GET /health: $health"
! grep -q "static files are not served" "$scratch/server.err" ||
  fail "the server did not find the installed page: $(cat "$scratch/server.err")"
kill "$server_pid"
wait "$server_pid" || fail "server exited $? after SIGTERM"
server_pid=""
echo "install: the installed binary, started from /, serves the installed page and /health"

make --no-print-directory -s uninstall PREFIX="$prefix" >/dev/null
left=$(find "$prefix" -type f)
[[ -z $left ]] || fail "make uninstall left: $left"
echo "install: make uninstall removed every file"

# --- 2. DESTDIR --------------------------------------------------------------
dest=$scratch/dest
make --no-print-directory -s install DESTDIR="$dest" PREFIX=/opt/sse >/dev/null
check_files "$dest" "$dest/opt/sse"
unit=$dest/opt/sse/lib/systemd/system/sse-server.service
grep -qx 'ExecStart=/opt/sse/bin/sse-server --host 127.0.0.1 --quiet' "$unit" ||
  fail "ExecStart does not name PREFIX: $(grep ExecStart= "$unit")"
! grep -q "$dest" "$unit" "$dest/opt/sse/share/man/man1/sse-server.1" ||
  fail "DESTDIR leaked into the installed files"
echo "install: DESTDIR=$dest PREFIX=/opt/sse: the same files, ExecStart names /opt/sse"

# --- 3. the unit and the man page -----------------------------------------------
make --no-print-directory -s install PREFIX="$prefix" >/dev/null
unit=$prefix/lib/systemd/system/sse-server.service
for section in Unit Service Install; do
  grep -qx "\[$section\]" "$unit" || fail "the unit has no [$section] section"
done
exec_path=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit" | head -1)
[[ -x $exec_path ]] || fail "ExecStart names $exec_path, which is not an executable"
for option in DynamicUser=yes NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes \
  PrivateTmp=yes PrivateDevices=yes CapabilityBoundingSet= LimitNOFILE=1048576; do
  grep -qx "$option" "$unit" || fail "the unit lacks $option"
done
if command -v systemd-analyze >/dev/null; then
  # --man=no: the Documentation= man page is checked below with man -l.
  if ! out=$(systemd-analyze verify --man=no "$unit" 2>&1); then
    fail "systemd-analyze verify: $out"
  fi
  # verify exits 0 on some warnings; an unknown or misspelt option is one.
  if grep -Ei 'unknown|invalid|ignoring|failed' <<<"$out"; then
    fail "systemd-analyze verify warns: $out"
  fi
  echo "install: systemd-analyze verify passes the unit"
else
  echo "install: no systemd-analyze (Debian package systemd): syntax check only"
fi

page=$prefix/share/man/man1/sse-server.1
command -v man >/dev/null || fail "no man (Debian package man-db)"
rendered=$(MANWIDTH=200 man -l "$page" 2>"$scratch/man.err") || fail "man -l: $(cat "$scratch/man.err")"
[[ ! -s $scratch/man.err ]] || fail "man -l warns: $(cat "$scratch/man.err")"
# Every option --help lists is on the page.
while read -r option; do
  grep -qF -- "$option" <<<"$rendered" || fail "the man page lacks $option"
done < <(./sse-server --help | grep -oE '^  --[a-z-]+')
grep -qF "$(./sse-server --version)" <<<"$rendered" || fail "the man page lacks the version"
echo "install: man -l renders the page, with every option of --help"
echo "install: all checks passed"
