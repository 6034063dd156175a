#!/bin/sh
# spec/support/demo.sh - a local, loopback-only demo of dnsagg (`make demo`).
#
# What it starts, all on 127.0.0.0/8 and all from the work dir DEMO_DIR:
#   * the exporter stand-in (spec/support/exporter_host.lua --mode fork, the way
#     uhttpd runs prometheus-node-exporter-lua) on 127.0.0.1:DEMO_PORT, with the
#     dnsagg collector from lua/ and dnsagg.so from the top of the repo;
#   * an "upstream" dnsmasq on 127.0.0.2 that answers *.example.com,
#     *.example.net and *.example.org itself (--address, --local-ttl=60);
#   * the front dnsmasq on 127.0.0.1:DEMO_DNS_PORT, forwarding to the upstream,
#     with --log-queries=extra written to a FIFO that dnsagg reads, a blocked
#     name (ads.example) and local=/lan/;
# then sends DNS traffic with dig from 127.0.0.11 .. 127.0.0.14 for about
# 10 s, shows the live metrics, and stays in the foreground with a trickle of
# about one query a second until DEMO_SECONDS have passed or Ctrl-C.  A trap
# stops everything it started, whatever way the script ends.
#
# DEMO_SECONDS=0 or DEMO_CHECK=1: self-check for CI.  Sends the traffic,
# checks the scrape (dnsmasq_queries_total series, dnsagg_fifo_up 1, the
# collector's success), prints a sample and exits 0, or non-zero on failure.
#
# Environment:
#   DEMO_DIR           work dir (default /tmp/dnsagg-demo)
#   DEMO_PORT          exporter port on 127.0.0.1 (default 9100; if unset and
#                      9100 is busy, the next free port is used)
#   DEMO_DNS_PORT      front dnsmasq port on 127.0.0.1 (default 5353, same rule)
#   DEMO_UPSTREAM_PORT upstream dnsmasq port on 127.0.0.2 (default: a free one)
#   DEMO_SECONDS       how long to keep running after the burst (default 600;
#                      0 means self-check and exit)
#   DEMO_CHECK         1: self-check and exit, whatever DEMO_SECONDS says
#
# Needs Debian (12) and root for the first run: missing packages are installed
# with apt-get (apt-get update runs only if something is missing).

set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)

DEMO_DIR=${DEMO_DIR:-/tmp/dnsagg-demo}
DEMO_SECONDS=${DEMO_SECONDS:-600}
DEMO_CHECK=${DEMO_CHECK:-0}

PACKAGES="lua5.1 liblua5.1-0-dev lua-socket lua-posix dnsmasq-base bind9-dnsutils curl build-essential"
CLIENTS="127.0.0.11 127.0.0.12 127.0.0.13 127.0.0.14"
ROUNDS=10                 # burst: ROUNDS rounds, one second apart

say() { printf 'demo: %s\n' "$*"; }
die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }

case $DEMO_SECONDS in
  '' | *[!0-9]*) die "DEMO_SECONDS must be a whole number of seconds, not '$DEMO_SECONDS'" ;;
esac
CHECK_ONLY=0
if [ "$DEMO_CHECK" = 1 ] || [ "$DEMO_SECONDS" -eq 0 ]; then CHECK_ONLY=1; fi

# ------------------------------------------------------------ 1. dependencies
install_missing() {
  if ! command -v dpkg-query >/dev/null 2>&1; then
    say "no dpkg-query: not Debian, so not installing anything; checking commands only"
    for cmd in lua5.1 dnsmasq dig curl make cc mkfifo timeout; do
      command -v "$cmd" >/dev/null 2>&1 || die "'$cmd' is missing"
    done
    return 0
  fi
  missing=
  for pkg in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
      missing="$missing $pkg"
    fi
  done
  [ -n "$missing" ] || return 0
  [ "$(id -u)" -eq 0 ] || die "missing packages:$missing (run as root, or install them first)"
  say "installing:$missing"
  apt-get update
  # shellcheck disable=SC2086 # word splitting of the package list is wanted
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
}
install_missing
# dnsmasq-base puts dnsmasq in /usr/sbin, which a non-login root shell may lack
PATH=$PATH:/usr/sbin:/sbin
export PATH

# built here, after the packages (Lua's headers among them) are in place;
# make does nothing when dnsagg.so is up to date
say "building dnsagg.so"
make -s -C "$ROOT" dnsagg.so

# ------------------------------------------------------------ helpers
# the state letter of a process, or nothing if it does not exist: a child
# that has exited but is not reaped yet is a zombie (Z), and kill -0 would
# still succeed on it
proc_state() {
  sed -n 's/^.*) \(.\).*$/\1/p' "/proc/$1/stat" 2>/dev/null || true
}
alive() {
  [ -n "${1:-}" ] || return 1
  st=$(proc_state "$1")
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# stop one of our children: TERM, up to 5 s, then KILL; always reaped
stop_pid() {
  [ -n "${1:-}" ] || return 0
  kill -TERM "$1" 2>/dev/null || return 0
  n=0
  while alive "$1" && [ "$n" -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
  if alive "$1"; then kill -KILL "$1" 2>/dev/null || true; fi
  wait "$1" 2>/dev/null || true
}

# first port from $2 upwards (at most 200 tried) that is free on address $1
# for both TCP and UDP; prints nothing if none is
find_port() {
  FP_ADDR=$1 FP_FIRST=$2 lua5.1 -e '
    local socket = require("socket")
    local addr, first = os.getenv("FP_ADDR"), tonumber(os.getenv("FP_FIRST"))
    for port = first, math.min(first + 199, 65535) do
      -- socket.bind sets SO_REUSEADDR, as the exporter and dnsmasq do, so a
      -- port with connections in TIME_WAIT counts as free
      local t = socket.bind(addr, port)
      local ok = t ~= nil
      if t then t:close() end
      local u = socket.udp()
      local ok2 = u:setsockname(addr, port)
      u:close()
      if ok and ok2 then print(port) return end
    end'
}

# a port for $1 (variable name) on address $2: the value given in the
# environment must be free; the default $3 is replaced by the next free port
pick_port() {
  eval "given=\${$1:-}"
  if [ -n "$given" ]; then
    case $given in '' | *[!0-9]*) die "$1 must be a port number, not '$given'" ;; esac
    [ "$(find_port "$2" "$given" | head -n 1)" = "$given" ] \
      || die "$1=$given: port $given on $2 is in use"
    port=$given
  else
    port=$(find_port "$2" "$3")
    [ -n "$port" ] || die "no free port on $2 from $3 on; set $1"
    [ "$port" = "$3" ] || say "port $3 on $2 is busy, using $port ($1 overrides)"
  fi
  eval "$1=\$port"
}

# ------------------------------------------------------------ 2. work dir
mkdir -p "$DEMO_DIR"
DEMO_DIR=$(cd "$DEMO_DIR" && pwd)
case $DEMO_DIR in *"'"* | *']]'*) die "DEMO_DIR must not contain ' or ]]" ;; esac
# /tmp/dnsagg-demo is a fixed name in a shared dir: use it only if it is ours
[ -n "$(find "$DEMO_DIR" -maxdepth 0 -user "$(id -u)" -type d)" ] \
  || die "$DEMO_DIR is not a directory of this user; set DEMO_DIR"
# the files the demo makes there; it removes or rewrites these and nothing else
PIDFILES="exporter.pid dnsmasq.pid upstream.pid"
LOGFILES="exporter.out exporter.err dnsmasq.out dnsmasq.err upstream.out upstream.err upstream.log"
BATCHFILES=
for c in $CLIENTS; do BATCHFILES="$BATCHFILES batch-$c batch-$c.out"; done
rm_demo_files() {
  for name in "$@"; do rm -f "$DEMO_DIR/$name"; done
}
STOP_CMD="kill \$(cat '$DEMO_DIR/exporter.pid' '$DEMO_DIR/dnsmasq.pid' '$DEMO_DIR/upstream.pid')"

# refuse to trample a demo that is still running in the same dir
for name in $PIDFILES; do
  f=$DEMO_DIR/$name
  [ -f "$f" ] || continue
  pid=$(cat "$f" 2>/dev/null || true)
  case $pid in '' | *[!0-9]*) continue ;; esac
  if alive "$pid" && grep -qE 'dnsmasq|exporter_host' "/proc/$pid/cmdline" 2>/dev/null; then
    die "a demo still runs in $DEMO_DIR (pid $pid). Stop it with: $STOP_CMD (or use another DEMO_DIR)"
  fi
done

FIFO=$DEMO_DIR/dnsmasq.fifo
LEASES=$DEMO_DIR/dhcp.leases
CONFIG=$DEMO_DIR/dnsagg.conf.lua
# shellcheck disable=SC2086 # lists of file names without blanks
rm_demo_files dnsmasq.fifo $PIDFILES $LOGFILES $BATCHFILES
mkfifo -m 0600 "$FIFO"

expiry=$(( $(date +%s) + 3600 ))
cat >"$LEASES" <<EOF
$expiry aa:bb:cc:00:00:11 127.0.0.11 laptop 01:aa:bb:cc:00:00:11
$expiry aa:bb:cc:00:00:12 127.0.0.12 phone *
$expiry aa:bb:cc:00:00:13 127.0.0.13 tv *
EOF

cat >"$CONFIG" <<EOF
-- written by spec/support/demo.sh
return {
  fifo = [[$FIFO]],
  leases = [[$LEASES]],
  dnsmasq_pidfile = [[$DEMO_DIR/dnsmasq.pid]],
}
EOF

pick_port DEMO_PORT 127.0.0.1 9100
pick_port DEMO_DNS_PORT 127.0.0.1 5353
pick_port DEMO_UPSTREAM_PORT 127.0.0.2 "$((DEMO_DNS_PORT + 1))"

# ------------------------------------------------------------ cleanup
exporter_pid="" upstream_pid="" front_pid=""
cleanup() {
  rc=$?
  trap - EXIT INT TERM HUP
  # dnsmasq first (the writer), then the reader
  stop_pid "$front_pid"
  stop_pid "$upstream_pid"
  stop_pid "$exporter_pid"
  # shellcheck disable=SC2086 # lists of file names without blanks
  rm_demo_files dnsmasq.fifo $PIDFILES $BATCHFILES
  if [ "$rc" -eq 1 ]; then
    for f in exporter.err dnsmasq.err upstream.err; do
      if [ -s "$DEMO_DIR/$f" ]; then
        printf -- '--- %s (last lines)\n' "$DEMO_DIR/$f" >&2
        tail -n 15 "$DEMO_DIR/$f" >&2
      fi
    done
  fi
  say "stopped everything it started (logs in $DEMO_DIR)"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

if [ "$(id -u)" -eq 0 ]; then DNSMASQ_USER=--user=root; else DNSMASQ_USER=; fi

# ------------------------------------------------------------ 3. the processes
# The exporter comes FIRST.  dnsmasq opens its --log-facility FIFO for writing
# at start-up, and open() on a FIFO blocks until there is a reader: started
# first, dnsmasq would hang before it even answers a query.  The collector is
# loaded (and dnsagg's thread opens the FIFO) in the exporter's parent before
# it prints "listening on", so once that line is there the FIFO has a reader.
say "work dir $DEMO_DIR"
say "starting the exporter (exporter_host.lua --mode fork) on 127.0.0.1:$DEMO_PORT"
DNSAGG_CONFIG=$CONFIG lua5.1 "$ROOT/spec/support/exporter_host.lua" --mode fork \
  --collectors "$ROOT/lua" --cpath "$ROOT" --bind 127.0.0.1 --port "$DEMO_PORT" \
  >"$DEMO_DIR/exporter.out" 2>"$DEMO_DIR/exporter.err" &
exporter_pid=$!
echo "$exporter_pid" >"$DEMO_DIR/exporter.pid"
n=0
until grep -q '^listening on ' "$DEMO_DIR/exporter.out" 2>/dev/null; do
  alive "$exporter_pid" || die "the exporter exited before listening"
  [ "$n" -lt 100 ] || die "the exporter did not print 'listening on' within 10 s"
  sleep 0.1; n=$((n + 1))
done
say "$(head -n 1 "$DEMO_DIR/exporter.out")"
URL=http://127.0.0.1:$DEMO_PORT/metrics

# waits (10 s at most) until the dnsmasq at $1#$2 (pid $3) answers a query;
# it asks for dnsmasq's version (CHAOS TXT version.bind), which dnsmasq
# answers itself, so the probe shows in the metrics as one local answer to
# the client 127.0.0.1
wait_dns() {
  n=0
  until dig @"$1" -p "$2" -b "$1" +tries=1 +time=1 +short CH TXT version.bind >/dev/null 2>&1; do
    alive "$3" || die "dnsmasq on $1#$2 exited at start-up"
    [ "$n" -lt 10 ] || die "dnsmasq on $1#$2 did not answer within 10 s"
    sleep 0.5; n=$((n + 1))
  done
}

say "starting the upstream dnsmasq on 127.0.0.2#$DEMO_UPSTREAM_PORT"
# shellcheck disable=SC2086 # DNSMASQ_USER is empty or one word
dnsmasq --keep-in-foreground --conf-file=/dev/null $DNSMASQ_USER \
  --listen-address=127.0.0.2 --bind-interfaces --port="$DEMO_UPSTREAM_PORT" \
  --no-resolv --no-hosts --pid-file="$DEMO_DIR/upstream.pid" \
  --log-facility="$DEMO_DIR/upstream.log" --local-ttl=60 \
  --address=/example.com/192.0.2.10 --address=/example.com/2001:db8::10 \
  --address=/example.net/198.51.100.20 --address=/example.net/2001:db8::20 \
  --address=/example.org/203.0.113.30 --address=/example.org/2001:db8::30 \
  --mx-host=example.org,mail.example.org,10 --txt-record=example.org,"v=spf1 -all" \
  --mx-host=example.com,mail.example.com,10 --txt-record=example.com,hello \
  --local=/example.com/example.net/example.org/ \
  >"$DEMO_DIR/upstream.out" 2>"$DEMO_DIR/upstream.err" &
upstream_pid=$!
wait_dns 127.0.0.2 "$DEMO_UPSTREAM_PORT" "$upstream_pid"

say "starting the front dnsmasq on 127.0.0.1#$DEMO_DNS_PORT (query log -> $FIFO)"
# shellcheck disable=SC2086 # DNSMASQ_USER is empty or one word
dnsmasq --keep-in-foreground --conf-file=/dev/null $DNSMASQ_USER \
  --listen-address=127.0.0.1 --bind-interfaces --port="$DEMO_DNS_PORT" \
  --no-resolv --no-hosts --pid-file="$DEMO_DIR/dnsmasq.pid" --cache-size=1000 \
  --log-queries=extra --log-facility="$FIFO" \
  --address=/ads.example/0.0.0.0 --local=/lan/ \
  --server="127.0.0.2#$DEMO_UPSTREAM_PORT" \
  >"$DEMO_DIR/dnsmasq.out" 2>"$DEMO_DIR/dnsmasq.err" &
front_pid=$!
wait_dns 127.0.0.1 "$DEMO_DNS_PORT" "$front_pid"

# ------------------------------------------------------------ 4. traffic
# One batch file per client (dig -f), sent once a round.  The mix is skewed:
# the laptop asks most, example.com dominates, the tv keeps asking for
# video.example.net, phone and tv hit the blocked ads.example, the unknown
# client 127.0.0.14 (not in the leases) asks for an unknown .lan name.
# (--local on the upstream makes a type it has no data for, e.g. HTTPS, a
# NODATA answer instead of REFUSED.)  Upstream answers carry a 60 s TTL, so
# from the second round on most answers come from the front's cache;
# r<N>.example.org is new every round.
write_batch() {
  round=$1
  cat >"$DEMO_DIR/batch-127.0.0.11" <<EOF
example.com A
example.com A
example.com AAAA
example.com HTTPS
www.example.com A
www.example.com AAAA
www.example.com HTTPS
api.example.com A
api.example.com A
example.org MX
example.org TXT
mail.example.org A
r$round.example.org A
EOF
  cat >"$DEMO_DIR/batch-127.0.0.12" <<EOF
example.com A
cdn.example.net A
cdn.example.net AAAA
cdn.example.net HTTPS
api.example.com A
ads.example A
ads.example A
example.com TXT
EOF
  cat >"$DEMO_DIR/batch-127.0.0.13" <<EOF
video.example.net A
video.example.net A
video.example.net AAAA
video.example.net HTTPS
ads.example A
time.example.org A
EOF
  cat >"$DEMO_DIR/batch-127.0.0.14" <<EOF
printer.lan A
example.org A
time.example.org AAAA
EOF
}

DIG="dig @127.0.0.1 -p $DEMO_DNS_PORT +tries=1 +time=1 +noall +comments"
sent=0 answered=0
say "sending traffic from $CLIENTS for about $ROUNDS s"
round=1
while [ "$round" -le "$ROUNDS" ]; do
  write_batch "$round"
  pids=
  for c in $CLIENTS; do
    # shellcheck disable=SC2086 # DIG is a command line
    timeout 20 $DIG -b "$c" -f "$DEMO_DIR/batch-$c" >"$DEMO_DIR/batch-$c.out" 2>&1 &
    pids="$pids $!"
  done
  for p in $pids; do wait "$p" || true; done
  for c in $CLIENTS; do
    sent=$((sent + $(grep -c . "$DEMO_DIR/batch-$c")))
    answered=$((answered + $(grep -c 'status: ' "$DEMO_DIR/batch-$c.out" || true)))
  done
  round=$((round + 1))
  [ "$round" -gt "$ROUNDS" ] || sleep 1
done
say "sent $sent queries, $answered answered"

# the sum of dnsmasq_client_queries_total over the demo's clients
counted() {
  curl -sS --max-time 10 "$URL?collect=dnsagg" 2>/dev/null | awk '
    /^dnsmasq_client_queries_total[{]/ && /client="127\.0\.0\.1[1-4]"/ { n += $NF }
    END { printf "%d\n", n }'
}

# dnsagg reads the FIFO in its own thread: wait (about 15 s at most) until
# the scrape has caught up with what was sent
deadline=$(( $(date +%s) + 15 ))
while [ "$(counted)" -lt "$sent" ] && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.2; done

# ------------------------------------------------------------ 5./6. check and sample
body=$(curl -sS --max-time 10 "$URL?collect=dnsagg") || die "curl $URL failed"
ok=1
series=$(printf '%s\n' "$body" | grep -c '^dnsmasq_queries_total[{]' || true)
fifo_up=$(printf '%s\n' "$body" | awk '$1 ~ /^dnsagg_fifo_up([{][}])?$/ { print $2 }')
success=$(printf '%s\n' "$body" | awk '/^node_scrape_collector_success[{]/ && /collector="dnsagg"/ { print $2 }')
total=$(counted)
if [ "$series" -gt 0 ]; then say "check: $series dnsmasq_queries_total series"
else say "check FAILED: no dnsmasq_queries_total series"; ok=0; fi
if [ "$fifo_up" = 1 ]; then say "check: dnsagg_fifo_up 1"
else say "check FAILED: dnsagg_fifo_up is '${fifo_up}', not 1"; ok=0; fi
if [ "$success" = 1 ]; then say "check: node_scrape_collector_success{collector=\"dnsagg\"} 1"
else say "check FAILED: node_scrape_collector_success for dnsagg is '${success}'"; ok=0; fi
if [ "$total" -ge "$sent" ]; then say "check: dnsagg counted $total queries from the demo clients ($sent sent)"
else say "warning: dnsagg counted $total of the $sent queries sent"; fi

echo
echo "--- the 10 busiest dnsmasq_queries_total series"
printf '%s\n' "$body" | grep '^dnsmasq_queries_total[{]' | sort -t' ' -k2 -nr | head -n 10
echo "--- the first 30 lines of the rest of the dnsagg collector's output"
printf '%s\n' "$body" | grep -Ev '^dnsmasq_queries_total[{]|^(# TYPE )?node_scrape_' | head -n 30
echo "---"

[ "$ok" = 1 ] || die "the self-check failed"
if [ "$CHECK_ONLY" = 1 ]; then
  say "self-check passed"
  exit 0
fi

cat <<EOF

The demo runs (work dir $DEMO_DIR). In another shell, try:

  curl -s $URL
  curl -s '$URL?collect[]=dnsagg' | grep dnsmasq_queries_total | sort -t' ' -k2 -nr | head
  dig @127.0.0.1 -p $DEMO_DNS_PORT example.com
  dig @127.0.0.1 -p $DEMO_DNS_PORT -b 127.0.0.12 ads.example

About one query a second keeps the metrics moving for $DEMO_SECONDS s.
Press Ctrl-C to stop earlier; everything the demo started is then stopped.
Should this script be killed with SIGKILL, stop the rest with:
  $STOP_CMD

EOF

# ------------------------------------------------------------ the trickle
# one query a second from a rotating client, and a look at the processes;
# a status line every 30 s
start=$(date +%s)
end=$((start + DEMO_SECONDS))
next_status=$((start + 30))
i=0
while [ "$(date +%s)" -lt "$end" ]; do
  for p in "$exporter_pid" "$upstream_pid" "$front_pid"; do
    alive "$p" || die "a demo process (pid $p) has exited"
  done
  case $((i % 8)) in
    0) q="example.com A" ;;
    1) q="cdn.example.net AAAA" ;;
    2) q="video.example.net A" ;;
    3) q="ads.example A" ;;
    4) q="www.example.com HTTPS" ;;
    5) q="example.org TXT" ;;
    6) q="printer.lan A" ;;
    *) q="api.example.com A" ;;
  esac
  c=127.0.0.$((11 + i % 4))
  # shellcheck disable=SC2086 # DIG and q are word lists
  timeout 5 $DIG -b "$c" $q >/dev/null 2>&1 || true
  i=$((i + 1))
  now=$(date +%s)
  if [ "$now" -ge "$next_status" ]; then
    say "$((now - start)) s: dnsagg has counted $(counted) queries from the demo clients"
    next_status=$((next_status + 30))
  fi
  sleep 1
done
say "DEMO_SECONDS=$DEMO_SECONDS elapsed"
