#!/bin/sh
# spec/bench/run.sh: `make bench`. Prints one table (figure, value, unit, how
# measured) and writes it to spec/bench/results.md. Costs are counted in
# instructions with callgrind (repeatable on a shared machine); times are
# medians of several runs. Never fails on a missed target: it reports.
set -eu
cd "$(dirname "$0")/../.."
out=spec/bench/results.md
rows=$(mktemp)
trap 'rm -f "$rows" /tmp/dnsagg-cg.$$ /tmp/dnsagg-log.$$ /tmp/dnsagg-log-empty.$$' EXIT
bench=build/bench_lines

row() { # row FIGURE VALUE UNIT HOW
	printf '| %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4" >>"$rows"
	printf '%-44s %14s %-10s %s\n' "$1" "$2" "$3" "$4"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# 1. instructions per log line, through agg_feed_bytes as the reader uses it
for keys in 1000 100000 1000000; do
	small=$((keys / 10))
	for max in "$small" "$keys"; do
		valgrind --tool=callgrind --callgrind-out-file=/tmp/dnsagg-cg.$$ \
			--toggle-collect=measured_feed "$bench" cost "$keys" "$max" >/tmp/dnsagg-cg.$$.out 2>/tmp/dnsagg-cg.$$.err
		ir=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' /tmp/dnsagg-cg.$$.err)
		lines=$(sed -n 's/.*measured_lines \([0-9]*\).*/\1/p' /tmp/dnsagg-cg.$$.out)
		ev=$(sed -n 's/.*evictions_during \([0-9]*\).*/\1/p' /tmp/dnsagg-cg.$$.out)
		row "cost per line, $keys keys, max_entries $max" "$((ir / lines))" instructions \
			"callgrind, 200k skewed queries ($lines lines, $ev evictions), -O2 x86-64"
		rm -f /tmp/dnsagg-cg.$$.out /tmp/dnsagg-cg.$$.err /tmp/dnsagg-cg.$$
	done
done

# 1b. instructions per line of a log file read through dnsagg.new{ log = FILE }
# (lua/dnsagg-report --log): the whole process minus the same with an empty log
logfile=/tmp/dnsagg-log.$$ emptylog=/tmp/dnsagg-log-empty.$$
: >"$emptylog"
TZ=Europe/Berlin "$bench" logfile "$logfile" 56250 >/tmp/dnsagg-cg.$$.out
lines=$(sed -n 's/^lines \([0-9]*\).*/\1/p' /tmp/dnsagg-cg.$$.out)
log_ir() { # log_ir FILE: instructions of a process that reads FILE
	DNSAGG_BENCH_LOG=$1 TZ=Europe/Berlin LUA_CPATH='./?.so' valgrind --tool=callgrind --callgrind-out-file=/dev/null \
		lua5.1 -e 'local a = assert(require("dnsagg").new{ log = os.getenv("DNSAGG_BENCH_LOG") }); a:close()' \
		2>&1 >/dev/null | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
row "cost per line, a log file (log option)" "$((($(log_ir "$logfile") - $(log_ir "$emptylog")) / lines))" instructions \
	"callgrind, lua5.1 reading it with dnsagg.new{ log = FILE } minus an empty log, TZ=Europe/Berlin: $lines extra-form lines, 56250 skewed queries over 100k keys, one every 1.5 s for 23 h from Nov 21 06:00, -O2 x86-64"
rm -f "$logfile" "$emptylog" /tmp/dnsagg-cg.$$.out

# 2. throughput from a real FIFO
lps=$(for i in 1 2 3 4 5; do "$bench" fifo 300000 | sed -n 's/.*lines_per_second \([0-9]*\).*/\1/p'; done | median)
row "throughput from a FIFO" "$lps" lines/s "median of 5: a writer process fills the FIFO with 800k lines, the reader thread counts them"

# 3. memory
bpe=$("$bench" memory 100000 distinct | sed -n 's/.*bytes_per_entry \([0-9.]*\).*/\1/p')
row "memory per entry, every key its own domain" "$bpe" bytes "mallinfo2 heap+mmap for 100k keys, 20-character names, x86-64"
bps=$("$bench" memory 100000 | sed -n 's/.*bytes_per_entry \([0-9.]*\).*/\1/p')
row "memory per entry, a domain per 1000 keys" "$bps" bytes "mallinfo2 heap+mmap for 100k keys over 100 domains"
rss=$("$bench" rss 1000000 10000 | tail -n 1)
row "RSS once a 10k table is full / peak over 1M keys" \
	"$(echo "$rss" | sed -n 's/rss_after_full_kib \([0-9]*\) rss_peak_kib \([0-9]*\)/\1 \/ \2/p')" KiB \
	"/proc/self/statm every 100k distinct keys"

# 4. scrape of a 10k table
lua5.1 spec/bench/scrape.lua 10000 11 | while IFS= read -r line; do
	what=$(echo "$line" | sed 's/  *[0-9.]* ms.*//')
	ms=$(echo "$line" | sed -n 's/.* \([0-9.]*\) ms .*/\1/p')
	bytes=$(echo "$line" | sed -n 's/.*ms  *\([0-9]*\) bytes.*/\1/p')
	row "scrape 10k entries: $what" "$ms" ms "median of 11, $bytes bytes"
done

# 5. DNS latency with and without the module (dnsperf; make bench installs it)
if command -v dnsperf >/dev/null; then
	tsv=$(mktemp)
	if bash spec/bench/dns_impact.sh "$tsv" >/dev/null 2>&1; then
		while IFS="$(printf '\t')" read -r name value unit how; do
			row "$name" "$value" "$unit" "$how"
		done <"$tsv"
	else
		row "DNS latency" "failed" "" "spec/bench/dns_impact.sh did not complete"
	fi
	rm -f "$tsv"
fi

# 5b. the capture under dnsperf: 2,500 queries a second, each query and its
# answer a frame on lo, so 5,000 frames a second for 60 s (CAPTURE_QPS,
# CAPTURE_SECONDS)
if command -v dnsperf >/dev/null; then
	cq=${CAPTURE_QPS:-2500}
	cs=${CAPTURE_SECONDS:-60}
	how="dnsperf $cq qps for $cs s to dnsmasq on lo (half TXT answers of 1 KiB with EDNS, half A), the module capturing lo on its port"
	if cap=$(lua5.1 spec/bench/capture.lua "$cq" "$cs" 2>/dev/null); then
		field() { echo "$cap" | sed -n "s/.*$1 \([0-9.]*\).*/\1/p"; }
		row "capture at $((cq * 2)) frames/s: frames counted / on the wire" "$(field frames) / $(field expected)" \
			frames "$how; on the wire: dnsperf's queries sent + answers received"
		row "capture at $((cq * 2)) frames/s: dropped by the kernel" "$(field dropped)" frames \
			"$how; ring $(field queue_bytes) bytes (capture.buffer)"
		row "capture at $((cq * 2)) frames/s: reader thread CPU" "$(field thread_cpu_s)" s \
			"$how; utime+stime of the thread over the run"
		row "capture at $((cq * 2)) frames/s: reader wake-ups" "$(field wakeups)" wake-ups \
			"$how; the thread's voluntary context switches over the run (the ring hands over a block when full or 50 ms old)"
	else
		row "capture under dnsperf" "failed" "" "spec/bench/capture.lua did not complete"
	fi
fi

# 6. instructions per captured packet, through capture_account as the reader uses it
# (client-response: the exchanges of client-exchange, the responses alone counted)
for kind in dnstt-query dnstt-response dns-query client-query client-exchange client-response; do
	fn=measured_packets
	[ "$kind" = client-response ] && fn=measured_response
	valgrind --tool=callgrind --callgrind-out-file=/tmp/dnsagg-cg.$$ \
		--toggle-collect=$fn build/bench_packets "$kind" >/tmp/dnsagg-cg.$$.out 2>/tmp/dnsagg-cg.$$.err
	ir=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' /tmp/dnsagg-cg.$$.err)
	n=$(sed -n 's/.*measured \([0-9]*\).*/\1/p' /tmp/dnsagg-cg.$$.out)
	bytes=$(sed -n 's/.*frame_bytes \([0-9]*\).*/\1/p' /tmp/dnsagg-cg.$$.out)
	what="frames of $bytes bytes"
	[ "$kind" = client-response ] && what="responses of $bytes bytes, each after its query (not counted)"
	row "cost per packet, $kind" "$((ir / n))" instructions \
		"callgrind, $n $what (Ethernet, IPv4, UDP) through capture_account with the lock, -O2 x86-64"
	rm -f /tmp/dnsagg-cg.$$.out /tmp/dnsagg-cg.$$.err /tmp/dnsagg-cg.$$
done

# 6b. the fixed memory of the exchanges in flight (queries = "packets"), at its
# bound from the start: the sizes of this build's structures
sizes=$(build/bench_packets sizes)
size_of() { echo "$sizes" | sed -n "s/.*$1 \([0-9]*\).*/\1/p"; }
row "memory of the pending tables at their bound" "$(($(size_of pending_bytes) + $(size_of forwards_bytes)))" bytes \
	"sizeof(struct pending) $(size_of pending_bytes) ($(size_of pending_slots) queries awaiting their outcome) + sizeof(struct forwards) $(size_of forwards_bytes) ($(size_of forward_slots) questions awaiting the resolver's forward), x86-64; fixed, inside the aggregator"

# 7. size of the MIPS builds: the router's (musl, soft float, as OpenWrt's
# mips_24kc packages) and glibc's hard-float one, for comparison
make -s cross cross-glibc >/dev/null
row "size of the MIPS module (musl)" "$(wc -c <build/mips_24kc/dnsagg.so)" bytes \
	"make cross: build/mips_24kc/dnsagg.so, musl 1.2.3, -Os -mips32r2 -mtune=24kc -msoft-float -mips16, LTO, no start files, stripped and sstripped (as OpenWrt's musl builds), big-endian"
row "size of the MIPS module (glibc)" "$(wc -c <build/mips/dnsagg.so)" bytes \
	"make cross-glibc: mips-linux-gnu-gcc -Os -mips16, hard float, LTO, stripped, big-endian"

# 7b. what each feature costs in that module: built again without it
# (spec/bench/feature_size.sh cuts it off at its entry; LTO drops the rest)
features=$(sh spec/bench/feature_size.sh)
for f in grammar:"the log grammar (logline.c, logtime.c, what only parsed lines reach)" packets:"the packet decoding (dnspkt.c, pktquery.c, DNSTT matching)" \
	dnstt:"DNSTT and GeoIP (sessions, matching, lookups, families; not their options)" top:"agg:top"; do
	row "MIPS module bytes of ${f#*:}" "$(echo "$features" | sed -n "s/^without ${f%%:*}: .*, \([0-9]*\) fewer$/\1/p")" bytes \
		"spec/bench/feature_size.sh: make cross's build/mips_24kc/dnsagg.so minus the same built without it"
done
row "MIPS module without the log grammar, DNSTT and agg:top" \
	"$(echo "$features" | sed -n 's/^without grammar, dnstt and top: \([0-9]*\) bytes$/\1/p')" bytes \
	"spec/bench/feature_size.sh: the three cut together (48 KiB is 49,152)"

{
	echo "# dnsagg benchmark results"
	echo
	echo "Made by \`make bench\` on $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m)."
	echo
	echo "| figure | value | unit | how measured |"
	echo "|---|---|---|---|"
	cat "$rows"
} >"$out"
echo "written to $out"
