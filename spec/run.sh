#!/bin/sh
# spec/run.sh: runs the C tests given as arguments, then the busted specs, and
# ends with one line adding them up: "all tests: N passed, N failed".
# Called by `make test`; exits non-zero when anything failed.
#   --no-busted   the C tests only
#   QEMU_MIPS     how to run tests built under build/mips/ (qemu-mips -L SYSROOT)
#   (build/mips_24kc/, build/mipsel_24kc/ and build/aarch64_generic/ run under
#   qemu-mips, qemu-mipsel and qemu-aarch64 with the musl of build/musl-ARCH/)
#   (build/i386/ runs natively, or under qemu-i386 where the kernel cannot)
#   NOGEOIP_SO    a dnsagg.so built without GeoIP: some specs run again with it
set -u
busted=1
if [ "${1:-}" = "--no-busted" ]; then busted=0; shift; fi
passed=0
failed=0
status=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

add() { # add PASSED FAILED
	passed=$((passed + $1))
	failed=$((failed + $2))
}

for t in "$@"; do
	case "$t" in
	build/mips/*) run="${QEMU_MIPS:-qemu-mips}" ;;
	build/mips_24kc/*) run="qemu-mips -L build/musl-mips/sysroot" ;;
	build/mipsel_24kc/*) run="qemu-mipsel -L build/musl-mipsel/sysroot" ;;
	build/aarch64_generic/*) run="qemu-aarch64 -L build/musl-aarch64/sysroot" ;;
	*) run="" ;;
	esac
	echo "== $t${run:+ (under $run)}"
	rc=0
	# shellcheck disable=SC2086 # $run is a command and its arguments
	# DNSAGG_UNDER_QEMU: the tests know when they run emulated (qemu-user)
	DNSAGG_UNDER_QEMU=${run:+1} $run "./$t" >"$log" 2>&1 || rc=$?
	case "$t:$rc" in
	build/i386/*:126) # a kernel built without 32-bit x86 programs (seen on a test machine)
		echo "(the kernel cannot run it: under qemu-i386)"
		rc=0
		qemu-i386 "./$t" >"$log" 2>&1 || rc=$?
		;;
	esac
	[ "$rc" -eq 0 ] || status=1
	cat "$log"
	line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [ -z "$line" ]; then status=1; add 0 1; continue; fi
	bad=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	# a clean count but a failed exit (a sanitizer's report at exit): one failure
	if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then echo "$t: exited with status $rc"; bad=1; fi
	add "$(echo "$line" | sed -E 's/.* ([0-9]+) passed.*/\1/')" "$bad"
done

# busted_run TITLE CPATH [SPEC...]: one busted run, added up
busted_run() {
	title=$1
	cpath=$2
	shift 2
	echo "== busted specs$title"
	rc=0
	# shellcheck disable=SC2086 # BUSTED is a command and its arguments
	${BUSTED:-lua5.1 /usr/bin/busted} --lpath='./lua/?.lua;./spec/?.lua' --cpath="$cpath" "$@" >"$log" 2>&1 || rc=$?
	[ "$rc" -eq 0 ] || status=1
	cat "$log"
	line=$(grep -E '[0-9]+ successes? / [0-9]+ failures? / [0-9]+ errors?' "$log" | tail -n 1)
	if [ -z "$line" ]; then
		status=1
		add 0 1
	else
		ok=$(echo "$line" | sed -E 's/^([0-9]+) success.*/\1/')
		bad=$(echo "$line" | sed -E 's/.* ([0-9]+) failures? \/ ([0-9]+) errors?.*/\1 \2/')
		bad=$(( $(echo "$bad" | cut -d' ' -f1) + $(echo "$bad" | cut -d' ' -f2) ))
		if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then echo "busted: exited with status $rc"; bad=1; fi
		add "$ok" "$bad"
	fi
}

if [ "$busted" = 1 ]; then
	busted_run "" './?.so' spec
	# the module built without GeoIP, where `make` built one (NOGEOIP_SO)
	if [ -n "${NOGEOIP_SO:-}" ]; then
		busted_run " (module built without GeoIP: $NOGEOIP_SO)" "$(dirname "$NOGEOIP_SO")/?.so" \
			spec/module_spec.lua spec/capture_spec.lua spec/geoip_spec.lua
	fi
fi

[ "$failed" -eq 0 ] || status=1
echo "all tests: $passed passed, $failed failed"
exit "$status"
