#!/usr/bin/env bash
# bench/run.sh -- throughput, CPU, processes and memory of httpd against its
# peers (nginx, lighttpd) and against forkhello, the limit of the fork model.
#
#   bench/run.sh quick        1 run of 3 s per cell (about a minute and a half)
#   bench/run.sh full         3 runs of 10 s per cell, median (about 13 minutes)
#
# Environment:
#   BENCH_SERVERS="fork prefork nginx lighttpd forkhello"   servers to run (default: all)
#   BENCH_SCENARIOS="ka16 close*"    scenarios to run, shell patterns (default: all)
#   BENCH_RUNS=N BENCH_DURATION=S    override the mode's runs per cell and seconds
#   BENCH_CGI=1                      run the CGI scenarios even if ./httpd -h has no
#                                    --cgi (ours is then skipped, lighttpd runs)
# See bench/README.md for the columns and the caveats.  Run on an idle machine.
set -u

MODE=${1:-quick}
case $MODE in
  quick) RUNS=1 DUR=3 WARMUP=0 ;;
  full)  RUNS=3 DUR=10 WARMUP=1 ;;
  -h|--help|help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: bench/run.sh [quick|full]" >&2; exit 2 ;;
esac
RUNS=${BENCH_RUNS:-$RUNS}
DUR=${BENCH_DURATION:-$DUR}

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
BUILD=$HERE/build
PY="python3 $HERE/benchlib.py"
NCPU=$(nproc)
cd "$ROOT" || exit 1

say() { printf '%s\n' "$*"; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- build
mkdir -p "$BUILD"
say "bench: cc -O2 -o bench/build/httpd httpd.c"
cc -O2 -o "$BUILD/httpd" httpd.c || die "httpd does not build"
cc -O2 -o "$BUILD/forkhello" bench/forkhello.c || die "forkhello does not build"
cc -O2 -o "$BUILD/cgi-hello" bench/cgi-hello.c || die "cgi-hello does not build"
command -v wrk >/dev/null || die "wrk is not installed (apt-get install wrk)"
command -v taskset >/dev/null || die "taskset is not installed (util-linux)"
command -v python3 >/dev/null || die "python3 is not installed"

HELP=$("$BUILD/httpd" -h 2>&1)
if printf '%s\n' "$HELP" | grep -Eq -- '(-l|--log).*\<off\>'; then
  LOGARG=off
else
  LOGARG=/dev/null
fi
if printf '%s\n' "$HELP" | grep -q -- '--workers'; then HAS_PREFORK=1; else HAS_PREFORK=0; fi
if printf '%s\n' "$HELP" | grep -q -- '--cgi'; then HAS_CGI=1; else HAS_CGI=0; fi

# ---------------------------------------------------------------- selection
ALL_SERVERS="fork prefork nginx lighttpd forkhello"
SERVERS=${BENCH_SERVERS:-$ALL_SERVERS}
want_server() { case " $SERVERS " in *" $1 "*) return 0 ;; esac; return 1; }

# id|title|path|connections|flags (close: Connection: close; pin: server on
# CPU 0, wrk on CPU 1; cgi: a CGI scenario)
SCENARIOS=(
  "ka16|99 B keep-alive, 16 connections|/hello.txt|16|"
  "ka128|99 B keep-alive, 128 connections|/hello.txt|128|"
  "ka128pin|99 B keep-alive, 128 connections, server pinned to CPU 0, wrk on CPU 1|/hello.txt|128|pin"
  "close16|99 B Connection: close, 16 connections|/hello.txt|16|close"
  "close128|99 B Connection: close, 128 connections|/hello.txt|128|close"
  "big16|1 MiB keep-alive, 16 connections|/1m.bin|16|"
  "big128|1 MiB keep-alive, 128 connections|/1m.bin|128|"
  "cgi-c16|compiled C CGI (99 B), keep-alive, 16 connections|/cgi-bin/hello|16|cgi"
  "cgi-c128|compiled C CGI (99 B), keep-alive, 128 connections|/cgi-bin/hello|128|cgi"
  "cgi-sh16|/bin/sh CGI (99 B), keep-alive, 16 connections|/cgi-bin/hello.sh|16|cgi"
  "cgi-sh128|/bin/sh CGI (99 B), keep-alive, 128 connections|/cgi-bin/hello.sh|128|cgi"
)
want_scenario() {
  local pat
  [ -z "${BENCH_SCENARIOS:-}" ] && return 0
  set -f                # the patterns are matched against ids, not files
  for pat in $BENCH_SCENARIOS; do
    # shellcheck disable=SC2053
    [[ $1 == $pat ]] && { set +f; return 0; }
  done
  set +f
  return 1
}

# ---------------------------------------------------------------- temp dir
TMP=$(mktemp -d "${TMPDIR:-/tmp}/httpd-bench.XXXXXX") || die "mktemp failed"
chmod 755 "$TMP"      # nginx's worker may run as nobody
RESULTS=$TMP/results.jsonl
: >"$RESULTS"
declare -A SPID=() SPORT=()

stop_pid() {          # stop one server by its PID: TERM, then KILL after 5 s
  local pid=$1 _
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    # bash reaps its exited background children by itself, so kill -0 fails then
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}
stop_all() {
  local s
  for s in "${!SPID[@]}"; do
    stop_pid "${SPID[$s]}"
    unset "SPID[$s]"
  done
}
cleanup() {
  stop_all
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'say "bench: interrupted"; exit 130' INT TERM

# ---------------------------------------------------------------- docroot
WWW=$TMP/www
mkdir -p "$WWW/cgi-bin"
printf 'Hello from the benchmark docroot: a 99-byte body, the size of a small static response.  0123456789\n' \
  >"$WWW/hello.txt"
[ "$(wc -c <"$WWW/hello.txt")" -eq 99 ] || die "hello.txt is not 99 bytes"
head -c 1048576 /dev/urandom >"$WWW/1m.bin"
cp "$BUILD/cgi-hello" "$WWW/cgi-bin/hello"
cat >"$WWW/cgi-bin/hello.sh" <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\r\nContent-Length: 99\r\n\r\n%s\n' 'Hello from the benchmark docroot: a 99-byte body, the size of a small static response.  0123456789'
EOF
chmod 755 "$WWW/cgi-bin/hello" "$WWW/cgi-bin/hello.sh"
chmod -R a+rX "$WWW"

# ---------------------------------------------------------------- servers
# start_NAME FLAGS: starts the server in the background and sets PID and PORT;
# returns non-zero if it cannot.
start_fork() {
  local extra=()
  case $1 in *cgi*) extra+=(--cgi /cgi-bin/) ;; esac
  PORT=$($PY freeport)
  "$BUILD/httpd" -a 127.0.0.1 -p "$PORT" -r "$WWW" -l "$LOGARG" -g 2 "${extra[@]}" \
    >"$TMP/fork.out" 2>"$TMP/fork.err" &
  PID=$!
}
start_prefork() {
  local extra=()
  case $1 in *cgi*) extra+=(--cgi /cgi-bin/) ;; esac
  PORT=$($PY freeport)
  "$BUILD/httpd" -a 127.0.0.1 -p "$PORT" -r "$WWW" -l "$LOGARG" -g 2 --workers 2 "${extra[@]}" \
    >"$TMP/prefork.out" 2>"$TMP/prefork.err" &
  PID=$!
}
start_forkhello() {
  PORT=$($PY freeport)
  "$BUILD/forkhello" "$PORT" >"$TMP/forkhello.out" 2>"$TMP/forkhello.err" &
  PID=$!
}
NGINX_V=$(nginx -V 2>&1 || true)
start_nginx() {
  local d=$TMP/nginx m temps=""
  mkdir -p "$d/logs"
  PORT=$($PY freeport)
  for m in client_body:client_body proxy:proxy fastcgi:fastcgi uwsgi:uwsgi scgi:scgi; do
    case $NGINX_V in *"--without-http_${m%%:*}_module"*) continue ;; esac
    temps="$temps    ${m##*:}_temp_path $d/${m##*:}_temp;
"
  done
  cat >"$d/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 100000000;
    keepalive_timeout 60s;
$temps
    types { text/plain txt; application/octet-stream bin; }
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$PORT backlog=4096;
        root $WWW;
    }
}
EOF
  nginx -p "$d/" -e "$d/error.log" -c "$d/nginx.conf" >"$TMP/nginx.out" 2>"$TMP/nginx.err" &
  PID=$!
}
start_lighttpd() {
  local d=$TMP/lighttpd mods='' cgi=""
  mkdir -p "$d"
  PORT=$($PY freeport)
  case $1 in
    *cgi*) mods='"mod_cgi"'
           # shellcheck disable=SC2016  # lighttpd's syntax, not the shell's
           cgi='$HTTP["url"] =~ "^/cgi-bin/" { cgi.assign = ( "" => "" ) }' ;;
  esac
  cat >"$d/lighttpd.conf" <<EOF
server.modules = ( $mods )
server.document-root = "$WWW"
server.bind = "127.0.0.1"
server.port = $PORT
server.pid-file = "$d/lighttpd.pid"
server.errorlog = "$d/error.log"
server.upload-dirs = ( "$d" )
server.max-keep-alive-requests = 100000000
server.max-keep-alive-idle = 60
server.max-connections = 4096
server.listen-backlog = 4096
server.network-backend = "sendfile"
mimetype.assign = ( ".txt" => "text/plain", ".bin" => "application/octet-stream" )
$cgi
EOF
  lighttpd -D -f "$d/lighttpd.conf" >"$TMP/lighttpd.out" 2>"$TMP/lighttpd.err" &
  PID=$!
}

# available NAME FLAGS: 0 if the server exists and applies to the scenario
available() {
  case $1 in
    fork) [ "$HAS_CGI" = 1 ] || [[ $2 != *cgi* ]] ;;
    prefork) [ "$HAS_PREFORK" = 1 ] && { [ "$HAS_CGI" = 1 ] || [[ $2 != *cgi* ]]; } ;;
    nginx) command -v nginx >/dev/null && [[ $2 != *cgi* ]] ;;
    lighttpd) command -v lighttpd >/dev/null ;;
    forkhello) [[ $2 == *close* ]] ;;
    *) return 1 ;;
  esac
}

start_server() {      # start_server NAME FLAGS -> SPID[NAME], SPORT[NAME]
  local name=$1 flags=$2
  PID="" PORT=""
  "start_$name" "$flags"
  if [ -z "$PID" ] || ! $PY waitport "$PORT" 5 || ! kill -0 "$PID" 2>/dev/null; then
    say "bench: $name did not start; skipped in this scenario:"
    sed 's/^/    /' "$TMP/$name.err" 2>/dev/null | tail -n 5
    [ -n "$PID" ] && stop_pid "$PID"
    return 1
  fi
  SPID[$name]=$PID
  SPORT[$name]=$PORT
}

pin_tree() {          # pin a server and its live descendants to CPU 0
  local p
  for p in $($PY tree "$1"); do
    taskset -a -cp 0 "$p" >/dev/null 2>&1
  done
}

# ---------------------------------------------------------------- header
say "bench: mode $MODE: $RUNS run(s) of ${DUR}s per cell, wrk -t1, loopback"
say "bench: $(uname -srm), $NCPU CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
say "bench: httpd $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD -- httpd.c httpd.h 2>/dev/null || echo '+dirty'), log -l $LOGARG"
for s in nginx lighttpd; do
  if command -v $s >/dev/null; then
    say "bench: $($s -v 2>&1 | head -n 1)"
  elif want_server $s; then
    say "bench: $s is not installed; skipped (apt-get install $s)"
  fi
done
say "bench: $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)"
if want_server prefork && [ "$HAS_PREFORK" = 0 ]; then
  say "bench: ./httpd -h lists no --workers: the prefork column is skipped"
fi
if [ "$(cut -d' ' -f1 /proc/loadavg | cut -d. -f1)" -ge 1 ]; then
  say "bench: warning: load average >= 1: the machine is not idle, figures will be noisy"
fi
RUN_CGI=$HAS_CGI
[ "${BENCH_CGI:-0}" = 1 ] && RUN_CGI=1
if [ "$HAS_CGI" = 0 ]; then
  say "bench: ./httpd -h lists no --cgi: CGI is not built yet, the CGI scenarios are skipped$([ "$RUN_CGI" = 1 ] && echo ' for ours (BENCH_CGI=1: lighttpd runs them)')"
fi
[ "$NCPU" -ge 2 ] || say "bench: one CPU only: the pinned scenario runs unpinned"

# ---------------------------------------------------------------- the runs
T0=$(date +%s)
for sc in "${SCENARIOS[@]}"; do
  IFS='|' read -r id title path conns flags <<<"$sc"
  want_scenario "$id" || continue
  [[ $flags == *cgi* ]] && [ "$RUN_CGI" = 0 ] && continue
  say "bench: scenario $id: $title"
  order=()
  for s in $ALL_SERVERS; do
    want_server "$s" || continue
    available "$s" "$flags" || continue
    start_server "$s" "$flags" || continue
    order+=("$s")
    if [[ $flags == *pin* ]] && [ "$NCPU" -ge 2 ]; then pin_tree "${SPID[$s]}"; fi
  done
  [ ${#order[@]} -eq 0 ] && { say "bench: $id: no server to run"; continue; }
  cellargs=()
  [[ $flags == *close* ]] && cellargs+=(--close)
  [[ $flags == *pin* ]] && [ "$NCPU" -ge 2 ] && cellargs+=(--wrk-cpu 1)
  if [ "$WARMUP" = 1 ]; then
    for s in "${order[@]}"; do
      $PY cell --out /dev/null --scenario "$id" --server "$s" --pid "${SPID[$s]}" \
        --url "http://127.0.0.1:${SPORT[$s]}$path" --conns "$conns" --duration 1 \
        --warmup "${cellargs[@]}"
    done
  fi
  # runs interleave the servers, so that a noisy moment hits all of them
  for r in $(seq "$RUNS"); do
    for s in "${order[@]}"; do
      $PY cell --out "$RESULTS" --scenario "$id" --title "$title" --server "$s" \
        --pid "${SPID[$s]}" --url "http://127.0.0.1:${SPORT[$s]}$path" \
        --conns "$conns" --duration "$DUR" --run "$r" "${cellargs[@]}"
    done
  done
  stop_all
done

# ---------------------------------------------------------------- report
say "bench: done in $(( $(date +%s) - T0 )) s, load average $(cut -d' ' -f1-3 /proc/loadavg)"
cp "$RESULTS" "$BUILD/last-$MODE.jsonl"
$PY report "$RESULTS" --mode "$MODE" | tee "$BUILD/last-$MODE.txt"
say ""
say "bench: raw results in bench/build/last-$MODE.jsonl, this report in bench/build/last-$MODE.txt"
