#!/usr/bin/env bash
# spec/bench/dns_impact.sh - does reading dnsmasq's query log through dnsagg
# slow DNS down?
#
#   bash spec/bench/dns_impact.sh [RESULTS.tsv]
#
# A real dnsmasq (Debian's dnsmasq-base) on 127.0.0.1:<free port> answers
# every name under bench.test itself (--address=/bench.test/10.1.1.1, cache
# on).  dnsperf (Debian's 2.10) sends it a fixed rate of queries from
# 127.0.0.20 and reports every query's latency (-v); p50 and p99 are computed
# from those per-query latencies (nearest rank, over the answered queries).
# Seven scenarios, each run RUNS times in a rotating order (B F P S M H K,
# F P S M H K B, ...), a fresh dnsmasq (and host) per run, after one short
# discarded warm-up run:
#
#   baseline  dnsmasq without query logging (the router without dnsagg)
#   file      dnsmasq --log-queries=extra to a regular file in /tmp: the cost
#             of logging itself
#   fifo      dnsmasq --log-queries=extra --log-facility=FIFO, the FIFO drained
#             by cat: the cost of logging through a FIFO, with a reader that
#             does nothing else (what dnsagg cannot do better than)
#   scrapes   the fifo scenario, and the test host below without any collector
#             (so without dnsagg), scraped with curl every second: what the
#             host's fork per scrape and the scraping cost DNS on their own
#   module    dnsmasq --log-queries=extra --log-facility=FIFO, the FIFO read by
#             dnsagg inside spec/support/exporter_host.lua --mode fork (started
#             BEFORE dnsmasq, which blocks opening a FIFO without a reader),
#             /metrics scraped with curl every second during the run
#   host      dnsmasq without query logging, and the test host without any
#             collector, scraped every second: what the host's fork per scrape
#             costs a dnsmasq that logs nothing (the part of packets' cost that
#             is not dnsagg's)
#   packets   dnsmasq without query logging, dnsagg in the same host counting
#             the queries from packets (queries = "packets", capture on lo at
#             dnsmasq's port), scraped every second: what the packet source
#             costs DNS (the target: p99 at most 1.05 times the baseline's)
#
# Per scenario it reports the median (over the runs) of p50, p99 and achieved
# qps, and the total sent and lost queries; for packets against the baseline
# also the p99 ratio paired by round, the median p99 of the runs with little
# steal time, and what packets adds to p99 at equal steal (a least-squares
# fit: steal moves p99 most on a shared machine); the ratio p99(module)/p99(baseline)
# (and p99(packets)/p99(baseline), p99(packets)/p99(host): what the capture
# adds to a host that is scraped anyway)
# against the target of at most 1.1, and p99(module)/p99(scrapes), what
# dnsagg adds to a host that is scraped anyway; and, for every module run, whether dnsagg
# counted every query dnsmasq answered (dnsagg_lines_total{kind="query"} and
# dnsmasq_client_queries_total{client="127.0.0.20"} against dnsperf's counts).
# Each run also shows p90 and p99.9, the CPU time dnsmasq, dnsperf and the
# host used, how often dnsagg's reader thread woke, and whether the machine
# was quiet: CPU used by processes outside the benchmark, and steal time.
# When either exceeds 10% of a core in a run, the verdict is marked
# inconclusive (on a busy 2-CPU machine the tails measure the neighbours).
#
# With RESULTS.tsv the summary rows are written there, tab-separated
# (name, value, unit, how measured), for `make bench`; without, they are
# printed on stdout after the table.
#
# Environment (defaults in brackets): DNS_BENCH_QPS [2000],
# DNS_BENCH_SECONDS [20], DNS_BENCH_RUNS [3], DNS_BENCH_WARMUP [3] (seconds,
# 0: none), DNS_BENCH_KEEP=1 keeps the work dir; for a diagnosis,
# DNS_BENCH_SCENARIOS ["baseline file fifo scrapes module host packets"] runs some only, and
# DNS_BENCH_SCRAPE=0 runs the module without its scrapes (the reader alone).
#
# Only 127.0.0.0/8 is used.  Every wait is bounded, and a trap stops every
# process the script started, however it ends.  About 6 minutes with the
# defaults (18 runs of 20 s, plus start-up and a 3 s warm-up).  Installs dnsperf (and the other Debian packages it uses) with
# apt-get when missing and run as root.

set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT_TSV=${1:-}

QPS=${DNS_BENCH_QPS:-2000}
SECONDS_PER_RUN=${DNS_BENCH_SECONDS:-20}
RUNS=${DNS_BENCH_RUNS:-3}
WARMUP=${DNS_BENCH_WARMUP:-3}
KEEP=${DNS_BENCH_KEEP:-0}
# a diagnosis: some scenarios only, and the module's runs without scrapes
SCENARIOS=${DNS_BENCH_SCENARIOS:-baseline file fifo scrapes module host packets}
SCRAPE=${DNS_BENCH_SCRAPE:-1}

SERVER=127.0.0.1
CLIENT=127.0.0.20            # dnsperf's source address: its queries are told apart in the metrics
CLIENTS=10                   # dnsperf -c: UDP sockets (source ports)
OUTSTANDING=500              # dnsperf -q: far above rate x latency, so never the limit
QUERY_TIMEOUT=2              # dnsperf -t: a query unanswered after 2 s is lost
DISTINCT=2000                # distinct names in the query file

say() { printf 'dns_impact: %s\n' "$*" >&2; }
die() { printf 'dns_impact: error: %s\n' "$*" >&2; exit 1; }

for v in QPS SECONDS_PER_RUN RUNS WARMUP SCRAPE; do
  eval "val=\${$v}"
  # shellcheck disable=SC2154 # val is set by the eval
  case $val in '' | *[!0-9]*) die "$v must be a whole number, not '$val'" ;; esac
done
if [ "$RUNS" -lt 1 ] || [ "$SECONDS_PER_RUN" -lt 1 ] || [ "$QPS" -lt 1 ]; then
  die "DNS_BENCH_RUNS, DNS_BENCH_SECONDS and DNS_BENCH_QPS must be >= 1"
fi

# ------------------------------------------------------------ dependencies
PATH=$PATH:/usr/sbin:/sbin
export PATH
need_pkgs=
command -v dnsperf >/dev/null 2>&1 || need_pkgs="$need_pkgs dnsperf"
command -v dnsmasq >/dev/null 2>&1 || need_pkgs="$need_pkgs dnsmasq-base"
command -v dig >/dev/null 2>&1 || need_pkgs="$need_pkgs bind9-dnsutils"
command -v curl >/dev/null 2>&1 || need_pkgs="$need_pkgs curl"
command -v lua5.1 >/dev/null 2>&1 || need_pkgs="$need_pkgs lua5.1"
lua5.1 -e 'require "socket"; require "posix.unistd"' >/dev/null 2>&1 || need_pkgs="$need_pkgs lua-socket lua-posix"
if [ -n "$need_pkgs" ]; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    die "missing:$need_pkgs (install them, or run as root on Debian)"
  fi
  say "installing:$need_pkgs"
  apt-get update -qq
  # shellcheck disable=SC2086 # a list of package names
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need_pkgs >&2
fi
if [ ! -f "$ROOT/dnsagg.so" ]; then
  say "building dnsagg.so"
  make -C "$ROOT" >&2
fi
CLK_TCK=$(getconf CLK_TCK)
NCPU=$(nproc)

# ------------------------------------------------------------ work dir, cleanup
WORK=$(mktemp -d /tmp/dnsagg-dnsbench-XXXXXX)
dm_pid="" host_pid="" scrape_pid="" perf_pid="" cat_pid=""

# the state letter of a process, nothing if it is gone (a zombie still answers kill -0)
proc_state() { sed -n 's/^.*) \(.\).*$/\1/p' "/proc/$1/stat" 2>/dev/null || true; }
alive() {
  [ -n "${1:-}" ] || return 1
  st=$(proc_state "$1")
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}
# TERM, up to 5 s, then KILL; reaped
stop_pid() {
  [ -n "${1:-}" ] || return 0
  kill -TERM "$1" 2>/dev/null || return 0
  n=0
  while alive "$1" && [ "$n" -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
  if alive "$1"; then kill -KILL "$1" 2>/dev/null || true; fi
  wait "$1" 2>/dev/null || true
}
stop_all() {
  stop_pid "$perf_pid"; perf_pid=""
  stop_pid "$scrape_pid"; scrape_pid=""
  stop_pid "$dm_pid"; dm_pid=""          # the writer first, then the FIFO's reader
  stop_pid "$host_pid"; host_pid=""
  stop_pid "$cat_pid"; cat_pid=""
}
cleanup() {
  rc=$?
  trap - EXIT INT TERM HUP
  stop_all
  if [ "$rc" -ne 0 ]; then
    for f in "$WORK"/*.err; do
      [ -s "$f" ] || continue
      printf -- '--- %s (last lines)\n' "$f" >&2
      tail -n 10 "$f" >&2
    done
  fi
  if [ "$KEEP" = 1 ]; then say "work dir kept: $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

if [ "$(id -u)" -eq 0 ]; then DNSMASQ_USER=--user=root; else DNSMASQ_USER=; fi

# a port free for UDP and TCP on 127.0.0.1, from a pseudo-random start
free_port() {
  FP_FIRST=$((20000 + ($$ * 7 + RANDOM) % 30000)) lua5.1 -e '
    local socket = require("socket")
    local first = tonumber(os.getenv("FP_FIRST"))
    for port = first, first + 199 do
      local t = socket.bind("127.0.0.1", port)
      if t then t:close() end
      local u = socket.udp()
      local ok = u:setsockname("127.0.0.1", port)
      u:close()
      if t and ok then print(port) return end
    end'
}

# ------------------------------------------------------------ the query file
# DISTINCT distinct names (h0001..h2000.bench.test), mostly A, every tenth
# also AAAA (answered NODATA by --address with an IPv4 address), and after
# every fourth name one of 20 popular names again: 2500 A + 200 AAAA lines,
# read round and round by dnsperf (-l sets the length of a run).
awk -v n="$DISTINCT" 'BEGIN {
  for (i = 1; i <= n; i++) {
    printf "h%04d.bench.test A\n", i
    if (i % 10 == 0) printf "h%04d.bench.test AAAA\n", i
    if (i % 4 == 0) printf "popular%02d.bench.test A\n", (i / 4) % 20
  }
}' >"$WORK/queries.txt"
QUERY_LINES=$(wc -l <"$WORK/queries.txt")

# ------------------------------------------------------------ pieces of a run
# waits (10 s at most) until dnsmasq on $1 (pid $2) answers; the probe is one
# query from 127.0.0.1, so it never mixes with dnsperf's (from $CLIENT)
wait_dns() {
  n=0
  until dig @"$SERVER" -p "$1" -b "$SERVER" +tries=1 +time=1 +short CH TXT version.bind >/dev/null 2>&1; do
    alive "$2" || die "dnsmasq exited at start-up: $(tail -n 3 "$WORK/dnsmasq.err" 2>/dev/null)"
    [ "$n" -lt 10 ] || die "dnsmasq on $SERVER#$1 did not answer within 10 s"
    sleep 0.5; n=$((n + 1))
  done
}

# start_dnsmasq PORT [extra args...]
start_dnsmasq() {
  port=$1; shift
  # shellcheck disable=SC2086 # DNSMASQ_USER is empty or one word
  dnsmasq --keep-in-foreground --conf-file=/dev/null $DNSMASQ_USER \
    --listen-address="$SERVER" --bind-interfaces --port="$port" \
    --no-resolv --no-hosts --pid-file="$WORK/dnsmasq.pid" --cache-size=10000 \
    --address=/bench.test/10.1.1.1 "$@" \
    >"$WORK/dnsmasq.out" 2>"$WORK/dnsmasq.err" &
  dm_pid=$!
  wait_dns "$port" "$dm_pid"
}

# start_host [COLLECTORS_DIR]: the forking test host, with this repository's
# collectors (dnsagg) unless another folder is given; dnsagg reads the FIFO,
# or with HOST_CONF set, that Lua text is its configuration
start_host() {
  rm -f "$WORK/dnsmasq.fifo"
  mkfifo -m 0600 "$WORK/dnsmasq.fifo"
  if [ -n "${HOST_CONF:-}" ]; then
    printf '%s\n' "$HOST_CONF" >"$WORK/dnsagg.conf.lua"
  else
    printf 'return { fifo = [[%s]], dnsmasq_pidfile = false }\n' "$WORK/dnsmasq.fifo" >"$WORK/dnsagg.conf.lua"
  fi
  DNSAGG_CONFIG=$WORK/dnsagg.conf.lua lua5.1 "$ROOT/spec/support/exporter_host.lua" --mode fork \
    --collectors "${1:-$ROOT/lua}" --cpath "$ROOT" --bind 127.0.0.1 --port 0 \
    >"$WORK/host.out" 2>"$WORK/host.err" &
  host_pid=$!
  # the whole line, HOST:PORT and its newline: a read between the host's
  # write and this one once gave "listening on " alone, and every scrape
  # of that run went to "http:///metrics"
  n=0 addr=
  until [ -n "$addr" ]; do
    alive "$host_pid" || die "the test host exited before listening"
    [ "$n" -lt 100 ] || die "the test host did not print 'listening on HOST:PORT' within 10 s"
    sleep 0.1; n=$((n + 1))
    [ "$(tail -c 1 "$WORK/host.out" 2>/dev/null | od -An -tx1 | tr -d ' ')" = 0a ] || continue
    addr=$(sed -n 's/^listening on \(.*:[0-9][0-9]*\)$/\1/p' "$WORK/host.out" | head -n 1)
  done
  URL="http://$addr/metrics"
}

# one scrape of the dnsagg collector; prints the body (empty on failure)
scrape() { curl -sS --max-time 10 "$URL?collect=dnsagg" 2>/dev/null || true; }

# the value of series $2 (exact text before the value) in body file $1, 0 if absent
series() { awk -v s="$2" 'index($0, s " ") == 1 { v = $2 } END { printf "%d\n", v + 0 }' "$1"; }

# every second, a full scrape of /metrics (all collectors), from one curl
# process that stays up (--rate 1/s over a numbered list of URLs), as
# Prometheus scrapes: no process is started per scrape, work the router would
# not do.  Then one line per scrape in scrapes.log: http code, seconds, dnsagg
# success 1|0.  Bounded: at most (run length + 30) scrapes, 5 s each.
start_scrapes() {
  rm -f "$WORK"/scrape.*.body
  : >"$WORK/scrapes.raw"
  max=$((SECONDS_PER_RUN + 30))
  scrape_pid=""
  [ "$SCRAPE" = 1 ] || return 0
  # line-buffered (stdbuf): curl is stopped with a signal, which would lose a buffer
  stdbuf -oL curl -sS --max-time 5 --rate 1/s -o "$WORK/scrape.#1.body" -w '%{http_code} %{time_total}\n' \
    "$URL?scrape=[1-$max]" >"$WORK/scrapes.raw" 2>/dev/null &
  scrape_pid=$!
}
stop_scrapes() {
  stop_pid "$scrape_pid"; scrape_pid=""
  : >"$WORK/scrapes.log"
  i=0
  while read -r code took; do
    i=$((i + 1)) ok=0
    grep -q '^node_scrape_collector_success{collector="dnsagg"} 1$' "$WORK/scrape.$i.body" 2>/dev/null && ok=1
    echo "$code $took $ok" >>"$WORK/scrapes.log"
  done <"$WORK/scrapes.raw"
  rm -f "$WORK"/scrape.*.body
}

# CPU seconds (user + system) of pid $1: $2 = self (default), all (itself and
# its reaped children) or children (its reaped children only)
cpu_s() {
  sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk -v hz="$CLK_TCK" -v m="${2:-self}" '
    { s = $12 + $13; c = $14 + $15; printf "%.2f\n", (m == "self" ? s : m == "all" ? s + c : c) / hz }'
}
# voluntary context switches of the host's dnsagg reader thread (each one a
# wake-up from poll() to read what dnsmasq wrote)
reader_switches() {
  for t in /proc/"$host_pid"/task/*; do
    [ "$(cat "$t/comm" 2>/dev/null)" = dnsagg ] || continue
    awk '/^voluntary_ctxt_switches:/ { print $2 }' "$t/status"
    return 0
  done
  echo 0
}
# CPU seconds the hypervisor gave to others while this VM wanted to run (/proc/stat steal)
steal_s() { awk -v hz="$CLK_TCK" '$1 == "cpu" { printf "%.2f\n", $9 / hz }' /proc/stat; }
# CPU seconds used so far by every process on the machine: the sum over
# /proc/PID/stat of utime, stime, cutime and cstime (a process that ends moves
# its time into its parent's cutime when reaped, so the sum only grows by the
# work done).  The per-process times are precise where /proc/stat's tick
# samples miss short bursts (in this VM it showed less than dnsmasq alone used).
machine_cpu_s() {
  cat /proc/[0-9]*/stat 2>/dev/null | sed 's/^.*) //' \
    | awk -v hz="$CLK_TCK" '{ t += $12 + $13 + $14 + $15 } END { printf "%.2f\n", t / hz }'
}
minus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f\n", b - a }'; }

# run_perf PORT SECONDS OUTFILE: dnsperf at QPS from CLIENT, per-query output (-v)
run_perf() {
  timeout $(($2 + QUERY_TIMEOUT + 30)) dnsperf -s "$SERVER" -p "$1" -a "$CLIENT" \
    -d "$WORK/queries.txt" -Q "$QPS" -l "$2" -c "$CLIENTS" -q "$OUTSTANDING" -t "$QUERY_TIMEOUT" \
    -v -O suppress=timeouts >"$3" 2>"$WORK/dnsperf.err" &
  perf_pid=$!
  rc=0
  wait "$perf_pid" || rc=$?
  perf_pid=""
  [ "$rc" -eq 0 ] || die "dnsperf failed (exit $rc): $(tail -n 3 "$WORK/dnsperf.err")"
}

# summary of a dnsperf -v output, written to $2: p50_ms p99_ms sent completed lost qps p90_ms p999_ms
perf_summary() {
  # per-query lines: "> RCODE name type latency"; timeouts ("T") have no latency
  awk '$1 == ">" && $2 != "T" && $2 != "I" && $NF ~ /^[0-9.]+$/ { print $NF * 1000 }' "$1" \
    | sort -g >"$WORK/lat.sorted"
  n=$(wc -l <"$WORK/lat.sorted")
  [ "$n" -gt 0 ] || die "no answered queries in dnsperf's output"
  counts=$(awk '/Queries sent:/ { s = $3 } /Queries completed:/ { c = $3 } /Queries lost:/ { l = $3 }
       /Queries per second:/ { q = $4 }
       END { printf "%d %d %d %.1f\n", s, c, l, q }' "$1")
  awk -v n="$n" -v counts="$counts" 'function rank(p) { r = int(p * n); if (r < p * n) r++; return r < 1 ? 1 : r }
    BEGIN { r50 = rank(0.50); r90 = rank(0.90); r99 = rank(0.99); r999 = rank(0.999) }
    NR == r50 { p50 = $1 } NR == r90 { p90 = $1 } NR == r99 { p99 = $1 } NR == r999 { p999 = $1 }
    END { printf "%.3f %.3f %s %.3f %.3f\n", p50, p99, counts, p90, p999 }' "$WORK/lat.sorted" >"$2"
}

# one run of scenario $1 (baseline|file|fifo|scrapes|module), $2 seconds; appends a row to
# runs.tsv unless $3 = warmup
RUN_NO=0
run_scenario() {
  scen=$1 secs=$2 tag=${3:-}
  port=$(free_port)
  [ -n "$port" ] || die "no free port on 127.0.0.1"
  host_cpu=- wakeups=- counted=- counted_client=- scrapes=- scrape_ok=- scrape_ms=- host0=0 host1=0
  case $scen in
    baseline)
      # no query log: only dnsmasq's few start-up lines, to a file
      start_dnsmasq "$port" --log-facility="$WORK/baseline.log" ;;
    file)
      rm -f "$WORK/queries.log"
      start_dnsmasq "$port" --log-queries=extra --log-facility="$WORK/queries.log" ;;
    fifo | scrapes)
      rm -f "$WORK/cat.fifo"
      mkfifo -m 0600 "$WORK/cat.fifo"
      cat "$WORK/cat.fifo" >/dev/null &        # the FIFO's reader first
      cat_pid=$!
      start_dnsmasq "$port" --log-queries=extra --log-facility="$WORK/cat.fifo"
      if [ "$scen" = scrapes ]; then
        mkdir -p "$WORK/none/prometheus-collectors"  # a host without collectors
        start_host "$WORK/none"
        start_scrapes
      fi ;;
    module)
      start_host                              # the FIFO's reader first
      start_dnsmasq "$port" --log-queries=extra --log-facility="$WORK/dnsmasq.fifo"
      start_scrapes ;;
    host)
      mkdir -p "$WORK/none/prometheus-collectors"  # a host without collectors
      start_host "$WORK/none"
      start_dnsmasq "$port" --log-facility="$WORK/baseline.log"
      start_scrapes ;;
    packets)
      HOST_CONF="return { capture = { interface = [[lo]], port = $port }, queries = [[packets]] }" start_host
      start_dnsmasq "$port" --log-facility="$WORK/baseline.log"
      start_scrapes ;;
  esac
  # CPU over the run: dnsmasq, the host (with its forked scrape children),
  # this shell's children (dnsperf, and the scrape loop with its curls), and
  # all processes; "others" is the rest: processes outside the benchmark
  # (interrupt time charged to no process is not seen)
  dm0=$(cpu_s "$dm_pid") kids0=$(cpu_s $$ children) self0=$(cpu_s $$) mach0=$(machine_cpu_s) steal0=$(steal_s)
  hosted=0
  case $scen in module | scrapes | host | packets) hosted=1 ;; esac
  [ "$hosted" = 0 ] || { host0=$(cpu_s "$host_pid" all); sw0=$(reader_switches); }
  run_perf "$port" "$secs" "$WORK/perf.out"
  [ "$hosted" = 0 ] || stop_scrapes
  dm_cpu=$(minus "$dm0" "$(cpu_s "$dm_pid")")
  [ "$hosted" = 0 ] || { host1=$(cpu_s "$host_pid" all); host_cpu=$(minus "$host0" "$host1")
    wakeups=$(($(reader_switches) - sw0)); }
  kids=$(minus "$kids0" "$(cpu_s $$ children)")
  self=$(minus "$self0" "$(cpu_s $$)")
  busy=$(minus "$mach0" "$(machine_cpu_s)")
  steal=$(minus "$steal0" "$(steal_s)")
  others=$(awk -v b="$busy" -v d="$dm_cpu" -v h="$host1" -v h0="$host0" -v k="$kids" -v s="$self" \
    'BEGIN { o = b - d - (h - h0) - k - s; printf "%.2f\n", o < 0 ? 0 : o }')
  perf_summary "$WORK/perf.out" "$WORK/perf.summary"
  read -r p50 p99 sent completed lost qps p90 p999 <"$WORK/perf.summary"
  # dnsperf's per-query output of every run stays in the work dir (DNS_BENCH_KEEP=1)
  mv "$WORK/perf.out" "$WORK/perf.$((RUN_NO + 1)).$scen${tag:+.$tag}.out"
  if [ "$scen" = module ] || [ "$scen" = packets ]; then
    scrapes=$(wc -l <"$WORK/scrapes.log")
    scrape_ok=$(awk '$1 == 200 && $3 == 1' "$WORK/scrapes.log" | wc -l)
    scrape_ms=$(awk '{ print $2 * 1000 }' "$WORK/scrapes.log" | sort -g \
      | awk '{ v[NR] = $1 } END { if (NR) printf "%.1f", v[int((NR + 1) / 2)]; else print "-" }')
    # dnsagg counts in its own thread: wait (15 s at most) until it has
    # counted at least what dnsperf got answered, and its count stands still
    deadline=$(($(date +%s) + 15)) last=-1
    while :; do
      scrape >"$WORK/final.body"
      # (whatever the order of its labels) the per-client total of dnsperf's address
      counted_client=$(awk -v c="$CLIENT" '/^dnsmasq_client_queries_total[{]/ && index($0, "client=\"" c "\"") { v += $NF }
        END { printf "%d\n", v + 0 }' "$WORK/final.body")
      if [ "$scen" = packets ]; then
        counted=$(series "$WORK/final.body" 'dnsagg_packet_queries_total{}')
      else
        counted=$(series "$WORK/final.body" 'dnsagg_lines_total{kind="query"}')
      fi
      if [ "$counted_client" -ge "$completed" ] && [ "$counted_client" = "$last" ]; then break; fi
      [ "$(date +%s)" -lt "$deadline" ] || break
      last=$counted_client
      sleep 0.5
    done
  fi
  stop_all
  rm -f "$WORK/queries.log"
  if [ "$tag" = warmup ]; then
    say "warm-up ($scen, ${secs} s): p50 $p50 ms, p99 $p99 ms, $completed/$sent answered, others' CPU ${others} s (discarded)"
    return 0
  fi
  RUN_NO=$((RUN_NO + 1))
  printf '%s\t%d\t%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n' "$scen" "$RUN_NO" "$p50" "$p99" \
    "$sent" "$completed" "$lost" "$qps" "$dm_cpu" "$host_cpu" "$counted" "$counted_client" \
    "$scrapes" "$scrape_ok" "$scrape_ms" "$kids" "$busy" "$others" "$p90" "$p999" "$steal" "$wakeups" "$ROUND" >>"$WORK/runs.tsv"
  extra=
  case $scen in module | packets) extra=", dnsagg counted $counted_client of dnsperf's queries ($counted query lines or packets), $scrape_ok/$scrapes scrapes ok (median ${scrape_ms} ms), reader thread woke $wakeups times" ;; esac
  say "run $RUN_NO $(printf '%-8s' "$scen"): p50 $p50 ms, p99 $p99 ms, sent $sent, answered $completed, lost $lost, $qps qps; CPU s: dnsmasq ${dm_cpu}, dnsperf+scrapers ${kids}, host ${host_cpu}, machine ${busy} of $((NCPU * secs)), others ${others}$extra"
}

# ------------------------------------------------------------ the runs
say "dnsperf $(dnsperf -h 2>&1 | sed -n 's/^Version //p'), dnsmasq $(dnsmasq --version | sed -n '1s/^Dnsmasq version \([^ ]*\).*/\1/p'), $NCPU CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
say "$QPS qps for $SECONDS_PER_RUN s per run, $RUNS runs per scenario, query file of $QUERY_LINES lines ($DISTINCT distinct names), dnsperf -c $CLIENTS -q $OUTSTANDING -t $QUERY_TIMEOUT from $CLIENT"
: >"$WORK/runs.tsv"
[ "$WARMUP" -eq 0 ] || run_scenario baseline "$WARMUP" warmup

r=0 ROUND=0
while [ "$r" -lt "$RUNS" ]; do
  ROUND=$((r + 1))
  # rotate the order every round: B F P M, F P M B, P M B F, ...
  # shellcheck disable=SC2086 # a list of words
  set -- $SCENARIOS
  k=0
  while [ "$k" -lt $((r % $#)) ]; do first=$1; shift; set -- "$@" "$first"; k=$((k + 1)); done
  for scen in "$@"; do run_scenario "$scen" "$SECONDS_PER_RUN"; done
  r=$((r + 1))
done

# ------------------------------------------------------------ summary
# per scenario: median p50, p99, qps, dnsmasq CPU; totals of sent, answered, lost
# the median of v[1..n] (sorted in place), for the awk programs below
AWK_MEDIAN='
    function median(v, n,   i, j, t) {
      for (i = 2; i <= n; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
      return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    }'
summary() {
  awk -F'\t' -v s="$1" "$AWK_MEDIAN"'
    $1 == s { n++; p50[n] = $3; p99[n] = $4; sent += $5; done += $6; lost += $7; qps[n] = $8; cpu[n] = $9 }
    END { if (n) printf "%.3f %.3f %d %d %d %.1f %.2f %d\n", median(p50, n), median(p99, n), sent, done, lost, median(qps, n), median(cpu, n), n }
  ' "$WORK/runs.tsv"
}
read -r b50 b99 bsent bdone blost bqps bcpu bn <<EOF
$(summary baseline)
EOF
read -r f50 f99 fsent fdone flost fqps fcpu fn <<EOF
$(summary file)
EOF
read -r p50f p99f psent pdone plost pqps pcpu pn <<EOF
$(summary fifo)
EOF
read -r s50 s99 ssent sdone slost sqps scpu sn <<EOF
$(summary scrapes)
EOF
read -r m50 m99 msent mdone mlost mqps mcpu mn <<EOF
$(summary module)
EOF
read -r h50 h99 hsent hdone hlost hqps hcpu hn <<EOF
$(summary host)
EOF
read -r k50 k99 ksent kdone klost kqps kcpu kn <<EOF
$(summary packets)
EOF
# (parentheses: a bare ">" in awk's printf is a redirection)
ratio=$(awk -v a="$m99" -v b="$b99" 'BEGIN { printf "%.2f\n", (b > 0) ? a / b : 0 }')
fratio=$(awk -v a="$f99" -v b="$b99" 'BEGIN { printf "%.2f\n", (b > 0) ? a / b : 0 }')
pratio=$(awk -v a="$p99f" -v b="$b99" 'BEGIN { printf "%.2f\n", (b > 0) ? a / b : 0 }')
mpratio=$(awk -v a="$m99" -v b="$p99f" 'BEGIN { printf "%.2f\n", (b > 0) ? a / b : 0 }')
msratio=$(awk -v a="$m99" -v b="$s99" 'BEGIN { printf "%.2f\n", (b > 0) ? a / b : 0 }')
sratio=$(awk -v a="$s99" -v b="$b99" 'BEGIN { printf "%.2f\n", (b > 0) ? a / b : 0 }')
kratio=$(awk -v a="${k99:-0}" -v b="$b99" 'BEGIN { printf "%.2f\n", (b > 0) ? a / b : 0 }')
hratio=$(awk -v a="${h99:-0}" -v b="$b99" 'BEGIN { printf "%.2f\n", (b > 0) ? a / b : 0 }')
khratio=$(awk -v a="${k99:-0}" -v b="${h99:-0}" 'BEGIN { printf "%.2f\n", (b > 0) ? a / b : 0 }')
kverdict=$(awk -v r="$kratio" 'BEGIN { print ((r + 0 > 0 && r + 0 <= 1.05) ? "met" : "NOT met") }')
# the same, paired: the runs of one round are next to each other in time,
# so the ratio of their p99s leaves out what drifts slowly on the machine;
# the median over the rounds, and in how many rounds packets came out above
paired() { # paired SCENARIO BASE: "MEDIAN_RATIO ABOVE ROUNDS", or nothing
  awk -F'\t' -v s="$1" -v b="$2" "$AWK_MEDIAN"'
    $1 == s { x[$23] = $4 } $1 == b { y[$23] = $4 }
    END {
      for (r in x) if ((r in y) && y[r] > 0) { n++; v[n] = x[r] / y[r]; above += x[r] > y[r] }
      if (!n) exit
      printf "%.2f %d %d\n", median(v, n), above, n
    }' "$WORK/runs.tsv"
}
# and over the quiet runs only: the hypervisor's steal time is what moves
# p99 most on a shared machine (about 1 ms of p99 per second of steal in a
# 10 s run, 2026-12-03), so the median p99 of each scenario's runs with
# steal under 2% of the run
quiet_p99() { # quiet_p99 SCENARIO: "MEDIAN_P99 RUNS", or nothing
  awk -F'\t' -v s="$1" -v l="$SECONDS_PER_RUN" "$AWK_MEDIAN"'
    $1 == s && $21 < 0.02 * l { n++; v[n] = $4 }
    END {
      if (!n) exit
      printf "%.3f %d\n", median(v, n), n
    }' "$WORK/runs.tsv"
}
# and with steal taken out by a fit: p99 = a + b * steal + c * (run of
# SCENARIO), least squares over the runs of both, then again without the
# runs whose residual is over 4 median absolute deviations (a pause of
# another kind); c is what SCENARIO adds to p99 at equal steal, a the
# base's p99 at no steal
steal_fit() { # steal_fit SCENARIO BASE: "A B C RUNS_KEPT RATIO", or nothing
  awk -F'\t' -v s="$1" -v b="$2" "$AWK_MEDIAN"'
    function fit(use,   i, n, s1, s2, s3, s11, s12, s13, s22, s23, d) {
      n = s1 = s2 = s3 = s11 = s12 = s13 = s22 = s23 = 0
      for (i = 1; i <= m; i++) if (use[i]) {
        n++; s1 += x[i]; s2 += k[i]; s3 += y[i]
        s11 += x[i] * x[i]; s12 += x[i] * k[i]; s13 += x[i] * y[i]; s22 += k[i]; s23 += k[i] * y[i]
      }
      # normal equations [n s1 s2; s1 s11 s12; s2 s12 s22] (a b c) = (s3 s13 s23), by Cramer
      d = n * (s11 * s22 - s12 * s12) - s1 * (s1 * s22 - s12 * s2) + s2 * (s1 * s12 - s11 * s2)
      if (d == 0) return 0
      A = (s3 * (s11 * s22 - s12 * s12) - s1 * (s13 * s22 - s12 * s23) + s2 * (s13 * s12 - s11 * s23)) / d
      B = (n * (s13 * s22 - s23 * s12) - s3 * (s1 * s22 - s12 * s2) + s2 * (s1 * s23 - s13 * s2)) / d
      C = (n * (s11 * s23 - s12 * s13) - s1 * (s1 * s23 - s13 * s2) + s3 * (s1 * s12 - s11 * s2)) / d
      kept = n
      return 1
    }
    $1 == s || $1 == b { m++; y[m] = $4; x[m] = $21; k[m] = $1 == s; all[m] = 1 }
    END {
      if (m < 4 || !fit(all)) exit
      for (i = 1; i <= m; i++) { r[i] = y[i] - A - B * x[i] - C * k[i]; t[i] = r[i] }
      mr = median(t, m)
      for (i = 1; i <= m; i++) t[i] = (r[i] > mr) ? r[i] - mr : mr - r[i]
      mad = median(t, m)
      for (i = 1; i <= m; i++) ok[i] = (r[i] > mr ? r[i] - mr : mr - r[i]) <= 4 * 1.4826 * mad
      if (!fit(ok) || A <= 0) exit
      printf "%.3f %.3f %+.3f %d %.2f\n", A, B, C, kept, (A + C) / A
    }' "$WORK/runs.tsv"
}
read -r fit_a fit_b fit_c fit_n fit_ratio <<EOF
$(steal_fit packets baseline)
EOF
read -r bquiet bquietn <<EOF
$(quiet_p99 baseline)
EOF
read -r kquiet kquietn <<EOF
$(quiet_p99 packets)
EOF
kqratio=$(awk -v a="${kquiet:-0}" -v b="${bquiet:-0}" 'BEGIN { printf "%.2f\n", (b > 0) ? a / b : 0 }')
read -r kpair kabove krounds <<EOF
$(paired packets baseline)
EOF
verdict=$(awk -v r="$ratio" 'BEGIN { print ((r + 0 > 0 && r + 0 <= 1.1) ? "met" : "NOT met") }')
# was the machine quiet? CPU of processes outside the benchmark, and steal, per run
OTHERS_MAX=$(awk -F'\t' '$18 > m { m = $18 } END { printf "%.2f\n", m + 0 }' "$WORK/runs.tsv")
STEAL_MAX=$(awk -F'\t' '$21 > m { m = $21 } END { printf "%.2f\n", m + 0 }' "$WORK/runs.tsv")
DISTURBED=0
if awk -v o="$OTHERS_MAX" -v st="$STEAL_MAX" -v l="$SECONDS_PER_RUN" 'BEGIN { exit !(o > 0.1 * l || st > 0.1 * l) }'; then
  DISTURBED=1
fi
# the verdict compares baseline and module runs: only their disturbance counts
if awk -F'\t' -v l="$SECONDS_PER_RUN" '($1 == "baseline" || $1 == "module") && ($18 > 0.1 * l || $21 > 0.1 * l) { d = 1 }
    END { exit !d }' "$WORK/runs.tsv"; then
  verdict="$verdict, but inconclusive: the machine was busy during baseline or module runs"
fi

if awk -F'\t' -v l="$SECONDS_PER_RUN" '($1 == "baseline" || $1 == "packets") && ($18 > 0.1 * l || $21 > 0.1 * l) { d = 1 }
    END { exit !d }' "$WORK/runs.tsv"; then
  kverdict="$kverdict, but inconclusive: the machine was busy during baseline or packets runs"
fi

echo
printf 'DNS impact: dnsmasq %s on %s, dnsperf -Q %s -l %s, %s runs per scenario (medians; sent/answered/lost summed)\n' \
  "$(dnsmasq --version | sed -n '1s/^Dnsmasq version \([^ ]*\).*/\1/p')" "$SERVER" "$QPS" "$SECONDS_PER_RUN" "$RUNS"
printf '%-10s %9s %9s %9s %9s %6s %9s %12s\n' scenario 'p50 ms' 'p99 ms' sent answered lost qps 'dnsmasq CPU'
printf '%-10s %9s %9s %9d %9d %6d %9s %10s s\n' baseline "$b50" "$b99" "$bsent" "$bdone" "$blost" "$bqps" "$bcpu"
printf '%-10s %9s %9s %9d %9d %6d %9s %10s s\n' file "$f50" "$f99" "$fsent" "$fdone" "$flost" "$fqps" "$fcpu"
printf '%-10s %9s %9s %9d %9d %6d %9s %10s s\n' fifo "$p50f" "$p99f" "$psent" "$pdone" "$plost" "$pqps" "$pcpu"
printf '%-10s %9s %9s %9d %9d %6d %9s %10s s\n' scrapes "$s50" "$s99" "$ssent" "$sdone" "$slost" "$sqps" "$scpu"
printf '%-10s %9s %9s %9d %9d %6d %9s %10s s\n' module "$m50" "$m99" "$msent" "$mdone" "$mlost" "$mqps" "$mcpu"
printf '%-10s %9s %9s %9d %9d %6d %9s %10s s\n' host "${h50:-0}" "${h99:-0}" "${hsent:-0}" "${hdone:-0}" "${hlost:-0}" "${hqps:-0}" "${hcpu:-0}"
printf '%-10s %9s %9s %9d %9d %6d %9s %10s s\n' packets "${k50:-0}" "${k99:-0}" "${ksent:-0}" "${kdone:-0}" "${klost:-0}" "${kqps:-0}" "${kcpu:-0}"
printf 'p99 ratio module/baseline: %s (target <= 1.1: %s); file/baseline: %s; fifo/baseline: %s; module/fifo: %s; scrapes/baseline: %s; module/scrapes: %s\n' \
  "$ratio" "$verdict" "$fratio" "$pratio" "$mpratio" "$sratio" "$msratio"
printf 'p99 ratio packets/baseline: %s (target <= 1.05: %s); host/baseline: %s; packets/host: %s\n' "$kratio" "$kverdict" "$hratio" "$khratio"
if [ -n "${krounds:-}" ]; then
  printf 'p99 ratio packets/baseline paired by round: median %s over %s rounds, packets above the baseline in %s\n' \
    "$kpair" "$krounds" "$kabove"
fi
if [ -n "${fit_n:-}" ]; then
  printf 'p99 with steal taken out (least squares over %s runs of baseline and packets): baseline at no steal %s ms, %s ms a second of steal; packets adds %s ms: ratio %s\n' \
    "$fit_n" "$fit_a" "$fit_b" "$fit_c" "$fit_ratio"
fi
if [ -n "${kquietn:-}" ] && [ -n "${bquietn:-}" ]; then
  printf 'p99 of the quiet runs (steal under 2%% of the run): baseline %s ms (%s runs), packets %s ms (%s runs), ratio %s\n' \
    "$bquiet" "$bquietn" "$kquiet" "$kquietn" "$kqratio"
fi
echo "module and packets runs, counting (dnsagg at the end vs dnsperf):"
awk -F'\t' -v c="$CLIENT" -v l="$SECONDS_PER_RUN" '$1 == "module" || $1 == "packets" {
  ok = ($12 >= $6 && $12 <= $5) ? "every answered query counted" : "MISSED " ($6 - $12)
  printf "  run %d (%s): dnsperf sent %d, answered %d; query lines (module) or dnsagg_packet_queries_total (packets) %d, of them from %s: %d (%s); scrapes ok %d/%d, median %s ms, host CPU %s s, reader thread woke %d times (%.0f/s)\n",
    $2, $1, $5, $6, $11, c, $12, ok, $14, $13, $15, $10, $22, $22 / l }' "$WORK/runs.tsv"
echo "all runs, in the order run (latencies in ms; CPU seconds over the run: dnsmasq, dnsperf with the curl"
echo "scrapers, the host; others = all processes minus those and this script; steal = /proc/stat steal):"
printf '  %-8s %3s %6s %6s %6s %6s %6s %6s %5s %7s %7s %7s %5s %6s %5s\n' scenario run p50 p90 p99 p99.9 sent answrd lost qps dnsmasq dnsperf host others steal
awk -F'\t' '{ printf "  %-8s %3d %6s %6s %6s %6s %6d %6d %5d %7s %7s %7s %5s %6s %5s\n", $1, $2, $3, $19, $4, $20, $5, $6, $7, $8, $9, $16, $10, $18, $21 }' "$WORK/runs.tsv"
if [ "$DISTURBED" = 1 ]; then
  echo "WARNING: in some runs processes outside the benchmark used up to $OTHERS_MAX CPU s, or the hypervisor"
  echo "stole up to $STEAL_MAX CPU s, in a ${SECONDS_PER_RUN} s run (over 10% of a core): the machine was not quiet;"
  echo "the tails (p99, p99.9) of those runs (columns others, steal) are disturbed"
fi

HOW="dnsperf 2.10 -Q $QPS -l $SECONDS_PER_RUN -c $CLIENTS -q $OUTSTANDING -v against dnsmasq on $SERVER (address=/bench.test/, cache on), percentile of per-query latencies (nearest rank, answered queries), median of $RUNS runs in rotating order"
tsv() {
  printf '%s\t%s\t%s\t%s\n' dns_p50_baseline_ms "$b50" ms "$HOW; dnsmasq without query log"
  printf '%s\t%s\t%s\t%s\n' dns_p99_baseline_ms "$b99" ms "$HOW; dnsmasq without query log"
  printf '%s\t%s\t%s\t%s\n' dns_p50_file_ms "$f50" ms "$HOW; dnsmasq --log-queries=extra to a file in /tmp"
  printf '%s\t%s\t%s\t%s\n' dns_p99_file_ms "$f99" ms "$HOW; dnsmasq --log-queries=extra to a file in /tmp"
  printf '%s\t%s\t%s\t%s\n' dns_p50_fifo_ms "$p50f" ms "$HOW; log-queries=extra to a FIFO drained by cat"
  printf '%s\t%s\t%s\t%s\n' dns_p99_fifo_ms "$p99f" ms "$HOW; log-queries=extra to a FIFO drained by cat"
  printf '%s\t%s\t%s\t%s\n' dns_p50_scrapes_ms "$s50" ms "$HOW; the fifo scenario and the forking test host without any collector, scraped every second"
  printf '%s\t%s\t%s\t%s\n' dns_p99_scrapes_ms "$s99" ms "$HOW; the fifo scenario and the forking test host without any collector, scraped every second"
  printf '%s\t%s\t%s\t%s\n' dns_p50_module_ms "$m50" ms "$HOW; log-queries=extra to the FIFO read by dnsagg in the forking test host, scraped every second"
  printf '%s\t%s\t%s\t%s\n' dns_p99_module_ms "$m99" ms "$HOW; log-queries=extra to the FIFO read by dnsagg in the forking test host, scraped every second"
  printf '%s\t%s\t%s\t%s\n' dns_p50_host_ms "${h50:-0}" ms "$HOW; dnsmasq without query log, the forking test host without any collector, scraped every second"
  printf '%s\t%s\t%s\t%s\n' dns_p99_host_ms "${h99:-0}" ms "$HOW; dnsmasq without query log, the forking test host without any collector, scraped every second"
  printf '%s\t%s\t%s\t%s\n' dns_p99_ratio_host "$hratio" ratio "dns_p99_host_ms / dns_p99_baseline_ms: what a host scraped every second costs a dnsmasq without query log, without dnsagg"
  printf '%s\t%s\t%s\t%s\n' dns_p99_ratio_packets_host "$khratio" ratio "dns_p99_packets_ms / dns_p99_host_ms: what dnsagg counting from packets adds to a host scraped anyway"
  printf '%s\t%s\t%s\t%s\n' dns_p50_packets_ms "${k50:-0}" ms "$HOW; dnsmasq without query log, dnsagg counting from packets (queries = packets, capture on lo) in the forking test host, scraped every second"
  printf '%s\t%s\t%s\t%s\n' dns_p99_packets_ms "${k99:-0}" ms "$HOW; dnsmasq without query log, dnsagg counting from packets (queries = packets, capture on lo) in the forking test host, scraped every second"
  printf '%s\t%s\t%s\t%s\n' dns_p99_ratio_packets "$kratio" ratio "dns_p99_packets_ms / dns_p99_baseline_ms (target <= 1.05: $kverdict)"
  if [ -n "${krounds:-}" ]; then
    printf '%s\t%s\t%s\t%s\n' dns_p99_ratio_packets_paired "$kpair" ratio "median over $krounds rounds of p99(packets) / p99(baseline) of the same round; packets above the baseline in $kabove of them"
  fi
  if [ -n "${fit_n:-}" ]; then
    printf '%s\t%s\t%s\t%s\n' dns_p99_ratio_packets_steal_fit "$fit_ratio" ratio "p99 = a + b * steal + c * packets, least squares over $fit_n runs (those with residuals over 4 MADs left out): a = $fit_a ms (baseline, no steal), b = $fit_b ms per steal second, c = $fit_c ms; (a + c) / a"
  fi
  if [ -n "${kquietn:-}" ] && [ -n "${bquietn:-}" ]; then
    printf '%s\t%s\t%s\t%s\n' dns_p99_ratio_packets_quiet "$kqratio" ratio "median p99 of the packets runs with steal under 2% of the run ($kquietn runs, $kquiet ms) over the baseline's ($bquietn runs, $bquiet ms)"
  fi
  printf '%s\t%s\t%s\t%s\n' dns_packets_uncounted "$(awk -F'\t' '$1 == "packets" { m += ($6 > $12) ? $6 - $12 : 0 } END { print m + 0 }' "$WORK/runs.tsv")" queries \
    "answered by dnsmasq (dnsperf) but not in dnsmasq_client_queries_total{client=\"$CLIENT\"} at the end (packets), sum of ${kn:-0} runs"
  printf '%s\t%s\t%s\t%s\n' dns_p99_ratio "$ratio" ratio "dns_p99_module_ms / dns_p99_baseline_ms (target <= 1.1: $verdict)"
  printf '%s\t%s\t%s\t%s\n' dns_p99_ratio_file "$fratio" ratio "dns_p99_file_ms / dns_p99_baseline_ms"
  printf '%s\t%s\t%s\t%s\n' dns_p99_ratio_fifo "$pratio" ratio "dns_p99_fifo_ms / dns_p99_baseline_ms: what logging through a FIFO costs dnsmasq"
  printf '%s\t%s\t%s\t%s\n' dns_p99_ratio_module_fifo "$mpratio" ratio "dns_p99_module_ms / dns_p99_fifo_ms: what dnsagg adds to the logging it reads"
  printf '%s\t%s\t%s\t%s\n' dns_p99_ratio_scrapes "$sratio" ratio "dns_p99_scrapes_ms / dns_p99_baseline_ms: what a query log through a FIFO and a host scraped every second cost without dnsagg"
  printf '%s\t%s\t%s\t%s\n' dns_p99_ratio_module_scrapes "$msratio" ratio "dns_p99_module_ms / dns_p99_scrapes_ms: what dnsagg adds to them"
  printf '%s\t%s\t%s\t%s\n' dns_lost_baseline "$blost" queries "dnsperf 'Queries lost' (no answer within ${QUERY_TIMEOUT} s), sum of $bn runs of $bsent sent"
  printf '%s\t%s\t%s\t%s\n' dns_lost_file "$flost" queries "dnsperf 'Queries lost' (no answer within ${QUERY_TIMEOUT} s), sum of $fn runs of $fsent sent"
  printf '%s\t%s\t%s\t%s\n' dns_lost_fifo "$plost" queries "dnsperf 'Queries lost' (no answer within ${QUERY_TIMEOUT} s), sum of $pn runs of $psent sent"
  printf '%s\t%s\t%s\t%s\n' dns_lost_scrapes "$slost" queries "dnsperf 'Queries lost' (no answer within ${QUERY_TIMEOUT} s), sum of $sn runs of $ssent sent"
  printf '%s\t%s\t%s\t%s\n' dns_lost_module "$mlost" queries "dnsperf 'Queries lost' (no answer within ${QUERY_TIMEOUT} s), sum of $mn runs of $msent sent"
  printf '%s\t%s\t%s\t%s\n' dns_qps_module "$mqps" qps "dnsperf 'Queries per second', median of $mn runs (target $QPS)"
  printf '%s\t%s\t%s\t%s\n' dns_module_uncounted "$(awk -F'\t' '$1 == "module" { m += ($6 > $12) ? $6 - $12 : 0 } END { print m + 0 }' "$WORK/runs.tsv")" queries \
    "answered by dnsmasq (dnsperf) but not in dnsmasq_client_queries_total{client=\"$CLIENT\"} at the end, sum of $mn runs"
  printf '%s\t%s\t%s\t%s\n' dns_bench_steal_max_s "$STEAL_MAX" s \
    "largest /proc/stat steal time during one run (${SECONDS_PER_RUN} s runs): high means a disturbed measurement"
  printf '%s\t%s\t%s\t%s\n' dns_bench_others_cpu_max_s "$OTHERS_MAX" s \
    "largest CPU time used during one run by processes outside the benchmark (all processes minus dnsmasq, host, dnsperf, curl, this script; ${NCPU} CPUs, ${SECONDS_PER_RUN} s runs): high means a disturbed measurement"
}
if [ -n "$OUT_TSV" ]; then
  tsv >"$OUT_TSV"
  say "rows written to $OUT_TSV"
else
  echo
  tsv
fi
