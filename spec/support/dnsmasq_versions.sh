#!/bin/sh
# spec/support/dnsmasq_versions.sh VERSION...: the dnsmasq releases OpenWrt
# ships (19.07: 2.80, 21.02: 2.85, 22.03: 2.86, 23.05: 2.89 then 2.90,
# 24.10: 2.91), built from dnsmasq's own git at their release tags, for
# `make test-dnsmasq-versions`.  Nothing of dnsmasq's source is kept in this
# repository: each release is taken out of the git with `git archive vX.YY`.
#
#   DNSMASQ_GIT   dnsmasq's git: a bare mirror or a clone's work tree (any
#                 mirror of git://thekelleys.org.uk/dnsmasq.git, e.g.
#                 `git clone --bare https://github.com/imp/dnsmasq.git`);
#                 default /work/.mirror/imp+dnsmasq/repo
#   DNSMASQ_JOBS  make -j for each build (default 2)
#
# For each VERSION it leaves build/dnsmasq-VERSION/src/ (the release's tree)
# and build/dnsmasq-VERSION/dnsmasq (the binary); a binary already there is
# not built again.  Built with the system's gcc and dnsmasq's default
# options (no DNSSEC, DBus, IDN or conntrack: none is needed here, and
# none changes the query log's lines but the DNSSEC ones).
#
# Flags with Debian 12 (gcc 12, glibc 2.36, Linux 6.1 headers):
#   2.80  -include linux/sockios.h: dhcp.c uses SIOCGSTAMP, which Linux 5.2
#         moved from asm/sockios.h (reached through <sys/socket.h>) to
#         linux/sockios.h; dnsmasq includes that itself from 2.81 on (commit
#         3052ce2, "Fix build after y2038 changes in glib").
#   all   nothing else: no -fcommon (gcc 10 made -fno-common the default,
#         and every one of these releases links with it: no tentative
#         definition is shared between files).
set -eu

cd "$(dirname "$0")/../.."
git_dir=${DNSMASQ_GIT:-/work/.mirror/imp+dnsmasq/repo}
jobs=${DNSMASQ_JOBS:-2}
[ -d "$git_dir/.git" ] && git_dir=$git_dir/.git

[ $# -gt 0 ] || { echo "usage: $0 VERSION... (e.g. 2.80 2.91)" >&2; exit 2; }

for v in "$@"; do
	top=build/dnsmasq-$v
	if [ -x "$top/dnsmasq" ]; then
		echo "$top/dnsmasq: built already ($("$top/dnsmasq" --version | head -n 1))"
		continue
	fi
	if ! git --git-dir="$git_dir" rev-parse -q --verify "refs/tags/v$v^{commit}" >/dev/null 2>&1; then
		if ! git --git-dir="$git_dir" rev-parse --git-dir >/dev/null 2>&1; then
			echo "$0: no dnsmasq git at $git_dir." >&2
		else
			echo "$0: $git_dir has no tag v$v." >&2
		fi
		echo "Get any mirror of dnsmasq's git and name it in DNSMASQ_GIT, e.g.:" >&2
		echo "  git clone --bare https://github.com/imp/dnsmasq.git build/dnsmasq.git" >&2
		echo "  make test-dnsmasq-versions DNSMASQ_GIT=\$PWD/build/dnsmasq.git" >&2
		exit 1
	fi
	case "$v" in
	2.80) cflags="-include linux/sockios.h" ;;
	*) cflags="" ;;
	esac
	rm -rf "$top"
	mkdir -p "$top/src"
	git --git-dir="$git_dir" archive "v$v" | tar -x -C "$top/src"
	echo "building dnsmasq $v in $top/src${cflags:+ (CFLAGS += $cflags)}"
	if ! make -C "$top/src" -j"$jobs" CFLAGS="-Wall -W -O2 $cflags" >"$top/build.log" 2>&1; then
		tail -n 30 "$top/build.log" >&2
		echo "$0: dnsmasq $v did not build; the whole log: $top/build.log" >&2
		exit 1
	fi
	cp "$top/src/src/dnsmasq" "$top/dnsmasq"
	echo "$top/dnsmasq: $("$top/dnsmasq" --version | head -n 1)"
done
