#!/bin/sh
# spec/fuzz/run.sh TARGET... : runs each libFuzzer target built as
# build/fuzz/TARGET for FUZZ_SECONDS seconds (default 60), FUZZ_JOBS of them
# at once (default 1), each on one core.  Called by `make fuzz`.
#
# A target starts from its seed corpus (spec/fuzz/corpus/TARGET) and its
# regressions (spec/fuzz/regressions/TARGET), which it runs first; inputs
# that find new coverage go to build/fuzz/corpus/TARGET (kept between local
# runs, never checked in).  A crash or a broken check leaves its input in
# build/fuzz/crashes/TARGET/: once fixed in src/, it belongs in
# spec/fuzz/regressions/TARGET/ (replayed by `make test`).  The log of a
# run is build/fuzz/TARGET.log.  Prints one line a target and exits
# non-zero when any found something.
set -u
seconds=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-1}

# The longest input tried: a little more than the code reads at most.
max_len() {
	case "$1" in
	logline) echo 1100 ;;   # LOGLINE_MAX is 1024: lines just longer are tried too
	dnstt) echo 600 ;;      # a DNS message with one question
	dnspkt) echo 2048 ;;    # a frame
	*) echo 4096 ;;         # a stream of lines, a lease file, a sequence of frames
	esac
}

# run_one TARGET: one target, its summary line on stdout.
run_one() {
	t=$1
	log=build/fuzz/$t.log
	mkdir -p "build/fuzz/corpus/$t" "build/fuzz/crashes/$t"
	set -- "build/fuzz/corpus/$t" "spec/fuzz/corpus/$t"
	[ -d "spec/fuzz/regressions/$t" ] && set -- "$@" "spec/fuzz/regressions/$t"
	start=$(date +%s)
	"build/fuzz/$t" -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=10 \
		-print_final_stats=1 -artifact_prefix="build/fuzz/crashes/$t/" "$@" >"$log" 2>&1
	rc=$?
	took=$(( $(date +%s) - start ))
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | sed -E 's/^#[0-9]+[[:space:]]+[A-Z_]+[[:space:]]+//; s/[[:space:]]+(exec\/s|rss).*//')
	# one write, so that targets run at once do not mix their lines
	if [ "$rc" -eq 0 ]; then
		out="fuzz $t: ok, ${runs:-?} runs in ${took} s ($last)"
	else
		out="fuzz $t: FAILED (exit $rc) after ${took} s, see $log:
$(grep -E 'ERROR: |FUZZ_CHECK|runtime error|Test unit written' "$log" | head -n 5 | sed 's/^/    /')"
	fi
	printf '%s\n' "$out"
	return "$rc"
}

if [ "${1:-}" = "--one" ]; then
	run_one "$2"
	exit $?
fi

[ $# -gt 0 ] || { echo "usage: $0 TARGET..." >&2; exit 2; }
echo "fuzzing $# targets for $seconds s each, $jobs at once"
# xargs runs up to $jobs at once and exits non-zero if any run did
printf '%s\n' "$@" | xargs -P "$jobs" -n 1 sh "$0" --one
status=$?
[ "$status" -eq 0 ] && echo "fuzz: no target found anything" || echo "fuzz: something was found (see above)"
exit "$status"
