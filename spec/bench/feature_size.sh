#!/bin/sh
# spec/bench/feature_size.sh: what each feature costs in the router's module.
# Builds build/mips_24kc/dnsagg.so as `make cross` does (the same command
# line, from `make -n`), from a copy of src/ in which one feature is cut off
# at its entry (so LTO drops every function only it reaches), sstrips it, and
# prints the bytes it is smaller than the whole module. A measurement for
# deciding what the default package holds, not a build of anything shipped:
# the copies are thrown away. Each cut is a sed substitution that must match
# the source exactly once; when the code changes under it, the script stops
# and names the cut, rather than print a figure that measured nothing.
#   sh spec/bench/feature_size.sh    (needs build/musl-mips: make cross)
set -eu
cd "$(dirname "$0")/../.."
make -s build/mips_24kc/dnsagg.so build/sstrip >/dev/null
cc_line=$(make -n -B -W src/dnsagg.c build/mips_24kc/dnsagg.so 2>/dev/null |
	grep '^build/musl-mips/bin/cc .* -shared .*-o build/mips_24kc/dnsagg.so' |
	sed 's/ -Werror / -w /') # a cut leaves functions unused
top=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# cut FILE OLD NEW [COUNT]: replaces the one line (or the COUNT lines) of
# FILE holding OLD (a fixed string) by NEW (NEW empty: deletes it), in the
# copy
cut() {
	n=$(grep -cF -- "$2" "$work/src/$1" || true)
	if [ "$n" != "${4:-1}" ]; then
		echo "feature_size.sh: cut '$2' of src/$1 matches $n lines, not ${4:-1}: update the script" >&2
		exit 1
	fi
	awk -v old="$2" -v new="$3" 'index($0, old) { if (new != "") print new; next } { print }' \
		"$work/src/$1" >"$work/tmp" && mv "$work/tmp" "$work/src/$1"
}

# cut_family NAME: deletes the metric family NAME from expo.c's list (its
# X(...) entry, the lines up to the next entry)
cut_family() {
	n=$(grep -cF "X(\"$1\"," "$work/src/expo.c" || true)
	if [ "$n" != 1 ]; then
		echo "feature_size.sh: family $1 of src/expo.c matches $n entries, not 1: update the script" >&2
		exit 1
	fi
	awk -v start="X(\"$1\"," 'index($0, start) { skip = 1; next }
		skip && (index($0, "X(\"") || $0 !~ /\\$/) { skip = 0 }
		!skip { print }' "$work/src/expo.c" >"$work/tmp" && mv "$work/tmp" "$work/src/expo.c"
}

# size NAME: builds the copy's module and prints its sstripped size
size() {
	(cd "$work" && mkdir -p build/mips_24kc && eval "$cc_line" && "$top/build/sstrip" build/mips_24kc/dnsagg.so)
	wc -c <"$work/build/mips_24kc/dnsagg.so"
}

fresh() {
	rm -rf "$work/src" "$work/build"
	cp -r src "$work/src"
	mkdir -p "$work/build"
	ln -s "$top/build/musl-mips" "$work/build/musl-mips"
}

# each feature's cuts, as a function of the copy
cut_grammar() { # every log line read but not parsed (counted as kind 0)
	cut agg.c 'logline_parse_memo(p, len, &line, &lb->memo);' '	memset(&line, 0, sizeof line);'
	cut dnsagg.c 'logline_parse(line, len, &parsed);' '	memset(&parsed, 0, sizeof parsed);'
}
cut_packets() { # frames read from the ring but not decoded
	cut capture.c '	struct dnspkt_frame fr;' '	struct dnspkt_frame fr; if (len) return;'
}
cut_dnstt() { # no sessions, no DNSTT matching, no GeoIP lookup, no dnstt families (their options still checked)
	cut agg.c 'if (cfg->ndnstt_domains) {' '	if (0) {'
	cut agg.c 'const struct sessions *dnstt = agg->dnstt;' '	const struct sessions *dnstt = NULL;'
	cut agg.c 'sessions_tick(agg->dnstt, now);' '		;'
	cut capture.c 'if (status == DNSPKT_OK && agg->dnstt)' '		if (0)'
	cut dnsagg.c '!(cfg->geoip = geoip_open(o.country, o.asn, err, sizeof err))' '	if (0)'
	for family in active_clients peak_clients queries_total bytes_in_total bytes_out_total sessions_total; do
		cut_family "dnstt_$family"
	done
	cut_family dnsagg_dnstt_session_evictions_total
	cut_family dnsagg_dnstt_group_overflows_total
}
cut_top() { # no agg:top
	cut dnsagg.c 'return l_top;' '	case 2: return l_feed;'
}

fresh
whole=$(size)
echo "whole module: $whole bytes (sstripped, musl, mips_24kc)"
for feature in grammar packets dnstt top; do
	fresh
	"cut_$feature"
	echo "without $feature: $(size) bytes, $((whole - $(wc -c <"$work/build/mips_24kc/dnsagg.so"))) fewer"
done
fresh
cut_grammar
cut_dnstt
cut_top
echo "without grammar, dnstt and top: $(size) bytes"
