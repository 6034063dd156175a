#!/bin/sh
# spec/support/cross_musl.sh ARCH: a musl toolchain and a Lua 5.1 for one of
# OpenWrt's CPUs, built from Debian's own source packages (musl, lua5.1, and
# for soft-float MIPS glibc's soft-fp routines) with Debian's cross compilers,
# into build/musl-ARCH/.  Called by make (build/musl-ARCH/.done); a step
# already done is not done again, so a run that stopped half way resumes.
#
#   ARCH      OpenWrt arch     CPU flags (OpenWrt's include/target.mk)      ld.so
#   mips      mips_24kc        -mips32r2 -mtune=24kc -mno-branch-likely      /lib/ld-musl-mips-sf.so.1
#             (ath79: TL-WDR4300 and most MIPS routers), soft float
#   mipsel    mipsel_24kc      the same, little-endian (ramips)             /lib/ld-musl-mipsel-sf.so.1
#   aarch64   aarch64_generic  -mcpu=generic                                /lib/ld-musl-aarch64.so.1
#
# What it leaves in build/musl-ARCH/:
#   bin/cc       the router's C compiler: Debian's TRIPLET-gcc with the CPU and
#                float flags above, musl's headers and libraries instead of
#                glibc's (musl.specs), and musl's dynamic linker
#   sysroot/     musl installed (/usr/include, /usr/lib, /lib/ld-musl-*.so.1),
#                the Lua headers in /usr/include and the interpreter in
#                /usr/bin/lua5.1: qemu-ARCH -L build/musl-ARCH/sysroot runs it
#   sysroot/usr/lib/libsoftfp.a  (MIPS) the compiler runtime for soft float,
#                see below; bin/cc links it where gcc would link libgcc.a
#
# Soft float.  Debian's gcc-mips-linux-gnu is hard-float and has no
# soft-float multilib: `-msoft-float -print-libgcc-file-name` names the one
# hard-float libgcc.a, whose __adddf3 is an `add.d` on the FPU and takes its
# arguments in FPU registers.  Soft-float code passes doubles in integer
# registers and needs real soft-float helpers, which OpenWrt's toolchain has
# in its own libgcc.  libsoftfp.a is made of:
#   - glibc's soft-fp routines (the code libgcc's soft-fp is copied from):
#     arithmetic, comparisons and conversions of float and double, built
#     with -msoft-float from Debian's glibc source package;
#   - __muldc3 and __mulsc3 from spec/support/cross/mulc3.c (C99 Annex G);
#   - the integer helpers of Debian's libgcc.a (64-bit division and shifts,
#     ...), each checked to hold no FPU instruction, with its FP ABI
#     marks (.gnu.attributes, .MIPS.abiflags) taken off so that the linker
#     does not call a soft-float link with them mixed;
# and gcc's crtbeginS.o/crtendS.o are copied the same way (no FPU code).
# Every soft-float link (libc.so, lua5.1, dnsagg.so) is then marked
# "FP ABI: Soft float" and holds no FPU instruction; spec/mips_spec.lua checks.
#
# Root is needed once: the first run adds a deb-src entry for bookworm (the
# URI and keyring of the system's own bookworm entry) and runs apt-get update.
set -eu

arch=${1:?usage: cross_musl.sh mips|mipsel|aarch64}
cd "$(dirname "$0")/../.."
root=$(pwd)
src=$root/build/src
top=$root/build/musl-$arch
sysroot=$top/sysroot
jobs=$(nproc 2>/dev/null || echo 1)

case "$arch" in
mips | mipsel)
	triplet=$arch-linux-gnu
	cpu="-mips32r2 -mtune=24kc -mno-branch-likely"
	abi="-msoft-float"
	ldso=ld-musl-$arch-sf.so.1
	softfp=1
	;;
aarch64)
	triplet=aarch64-linux-gnu
	cpu="-mcpu=generic"
	abi=""
	ldso=ld-musl-aarch64.so.1
	softfp=0
	;;
*)
	echo "cross_musl.sh: unknown arch '$arch' (mips, mipsel, aarch64)" >&2
	exit 2
	;;
esac
gcc=$triplet-gcc
command -v "$gcc" >/dev/null || {
	echo "cross_musl.sh: $gcc is missing (make deps installs gcc-$triplet)" >&2
	exit 1
}
say() { echo "cross_musl.sh $arch: $*" >&2; }

# --- Debian source packages ---------------------------------------------

# A deb-src entry for bookworm beside the system's own deb entry: same URI
# and keyring.  Done once; apt-get update only when apt knows no source yet.
SRC_LIST=/etc/apt/sources.list.d/dnsagg-deb-src.sources
has_sources() { apt-cache showsrc musl 2>/dev/null | grep -q '^Package: musl'; }
ensure_deb_src() {
	has_sources && return 0
	if [ ! -f "$SRC_LIST" ]; then
		entry=$(bookworm_entry)
		[ -n "$entry" ] || {
			echo "cross_musl.sh: no 'deb' entry for bookworm in /etc/apt/sources.list{,.d/*} to copy" >&2
			exit 1
		}
		uri=${entry%% *}
		key=${entry#* }
		say "adding $SRC_LIST (deb-src $uri bookworm main)"
		{
			echo "# added by dnsagg's spec/support/cross_musl.sh: the source packages of musl, lua5.1, glibc"
			echo "Types: deb-src"
			echo "URIs: $uri"
			echo "Suites: bookworm"
			echo "Components: main"
			[ "$key" = "-" ] || echo "Signed-By: $key"
		} >"$SRC_LIST"
	fi
	say "apt-get update"
	apt-get update -qq || echo "cross_musl.sh: apt-get update failed for some lists; trying with the others" >&2
	has_sources || {
		echo "cross_musl.sh: apt still knows no source of musl after adding $SRC_LIST" >&2
		exit 1
	}
}

# "URI KEYRING" of the first deb entry whose suites include bookworm (KEYRING
# "-" when it names none), from deb822 .sources files or one-line lists.
bookworm_entry() {
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		[ "$f" = "$SRC_LIST" ] && continue
		awk -v RS= '
			{ types = uris = suites = key = ""
			  n = split($0, line, "\n")
			  for (i = 1; i <= n; i++) {
				if (line[i] ~ /^Types:/) types = " " substr(line[i], 7) " "
				if (line[i] ~ /^URIs:/) uris = substr(line[i], 6)
				if (line[i] ~ /^Suites:/) suites = " " substr(line[i], 8) " "
				if (line[i] ~ /^Signed-By:/) key = substr(line[i], 11)
			  }
			  gsub(/[ \t]+/, " ", types); gsub(/[ \t]+/, " ", suites)
			  split(uris, u, " "); gsub(/^[ \t]+|[ \t]+$/, "", key)
			  if (types ~ / deb / && suites ~ / bookworm / && u[1] != "") {
				print u[1], (key == "" ? "-" : key); exit
			  } }' "$f"
	done | head -n 1 | grep . && return 0
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk '$1 == "deb" {
			opts = ""; i = 2
			if ($2 ~ /^\[/) { while (i < NF && $i !~ /\]$/) opts = opts " " $(i++); opts = opts " " $(i++) }
			if ($(i + 1) != "bookworm") next
			key = "-"
			if (match(opts, /signed-by=[^] ]+/)) key = substr(opts, RSTART + 10, RLENGTH - 10)
			print $i, key; exit }' "$f"
	done | head -n 1
}

# apt-get source PACKAGE into build/src (once), and print the folder it unpacked
fetch_source() { # fetch_source PACKAGE FOLDER_GLOB
	dir=$(ls -d "$src"/$2 2>/dev/null | head -n 1 || true)
	if [ -z "$dir" ]; then
		ensure_deb_src
		say "apt-get source $1"
		(cd "$src" && apt-get source -qq "$1" >/dev/null)
		dir=$(ls -d "$src"/$2 | head -n 1)
	fi
	echo "$dir"
}

# glibc's soft-fp folder, the MIPS machine header and longlong.h, taken from
# the glibc source package's upstream tarball (the rest is not unpacked)
fetch_softfp() {
	out=$src/glibc-softfp
	if [ ! -f "$out/.done" ]; then
		ensure_deb_src
		if ! ls "$src"/glibc_*.orig.tar.xz >/dev/null 2>&1; then
			say "apt-get source --download-only glibc"
			(cd "$src" && apt-get source -qq --download-only glibc >/dev/null)
		fi
		tarball=$(ls "$src"/glibc_*.orig.tar.xz | head -n 1)
		rm -rf "$out" && mkdir -p "$out"
		say "unpacking soft-fp from $(basename "$tarball")"
		tar -xJf "$tarball" -C "$out" --strip-components=1 --wildcards \
			'glibc-*/soft-fp/*' 'glibc-*/sysdeps/mips/mips32/sfp-machine.h' \
			'glibc-*/stdlib/longlong.h' 'glibc-*/COPYING.LIB'
		touch "$out/.done"
	fi
	echo "$out"
}

mkdir -p "$src"
# one arch at a time may fetch and unpack (make -j builds several)
exec 9>"$src/.lock"
flock 9
musl_src=$(fetch_source musl 'musl-[0-9]*/')
lua_src=$(fetch_source lua5.1 'lua5.1-[0-9]*/')
[ "$softfp" = 1 ] && softfp_src=$(fetch_softfp)
flock -u 9

mkdir -p "$top/bin" "$sysroot/usr/lib"
start=$(date +%s)

# --- the soft-float runtime (MIPS) ----------------------------------------

# the FPU instructions in an object file (none may be in a soft-float link)
fpu_instructions() {
	"$triplet-objdump" -d "$1" | awk -F'\t' 'NF >= 3 { print $3 }' |
		grep -E -c '^(mtc1|mfc1|mthc1|mfhc1|ctc1|cfc1|[ls][wd]x?c1|[ls]uxc1|bc1[tf]l?|c\.[a-z]+\.(s|d|ps)|[a-z0-9.]+\.(s|d|ps|w|l))$' || true
}

if [ "$softfp" = 1 ] && [ ! -f "$sysroot/usr/lib/libsoftfp.a" ]; then
	say "building libsoftfp.a"
	obj=$top/softfp
	rm -rf "$obj" && mkdir -p "$obj/libgcc"
	for f in "$softfp_src"/soft-fp/*.c; do
		name=$(basename "$f" .c)
		# float and double only: no long double (it is double on MIPS o32),
		# no half, quad, extended or 128-bit integer forms
		case "$name" in *tf* | *hf* | *xf* | *ti* | testit) continue ;; esac
		$gcc $abi $cpu -Os -fPIC -fvisibility=hidden \
			-I"$root/spec/support/cross" -I"$softfp_src/sysdeps/mips" -I"$softfp_src/stdlib" \
			-I"$softfp_src/soft-fp" -c "$f" -o "$obj/$name.o"
	done
	$gcc $abi $cpu -Os -fPIC -fvisibility=hidden -fno-builtin -c "$root/spec/support/cross/mulc3.c" -o "$obj/mulc3.o"
	# the integer helpers of Debian's libgcc.a (64-bit division, shifts and
	# comparisons, bit counts, overflow checks, __sync_* atomics): integer code
	# with no float argument, so the same under either float ABI
	libgcc=$($gcc -print-libgcc-file-name)
	(cd "$obj/libgcc" && "$triplet-ar" x "$libgcc" $("$triplet-ar" t "$libgcc" |
		grep -E '^_(ashl|ashr|lshr|(u?div|u?mod)|udivmod|divmod|u?cmp|mul|neg|clz|ctz|ffs|popcount|parity|bswap|clrsb|absv|addv|subv|mulv|negv)[sd]i[234]\.o$|^_udiv_w_sdiv\.o$|^sync_.*\.o$'))
	for o in "$obj"/libgcc/*.o; do
		if "$triplet-nm" --defined-only "$o" 2>/dev/null | grep -q ' [TDRB] '; then
			"$triplet-objcopy" --remove-section=.gnu.attributes --remove-section=.MIPS.abiflags "$o"
		else
			rm -f "$o"
		fi
	done
	kept=$(ls "$obj"/libgcc/*.o | wc -l)
	for o in "$obj"/*.o "$obj"/libgcc/*.o; do
		n=$(fpu_instructions "$o")
		[ "$n" = 0 ] || { echo "cross_musl.sh: $o has $n FPU instructions" >&2; exit 1; }
	done
	rm -f "$obj/lib.a"
	"$triplet-ar" rcs "$obj/lib.a" "$obj"/*.o "$obj"/libgcc/*.o
	for crt in crtbeginS.o crtendS.o crtbegin.o crtend.o crtbeginT.o; do
		in=$($gcc -print-file-name=$crt)
		n=$(fpu_instructions "$in")
		[ "$n" = 0 ] || { echo "cross_musl.sh: $in has $n FPU instructions" >&2; exit 1; }
		"$triplet-objcopy" --remove-section=.gnu.attributes --remove-section=.MIPS.abiflags "$in" "$sysroot/usr/lib/$crt"
	done
	say "libsoftfp.a: $(ls "$obj"/*.o | wc -l) soft-float objects, $kept integer objects of $(basename "$libgcc")"
	mv "$obj/lib.a" "$sysroot/usr/lib/libsoftfp.a"
fi

# --- musl -----------------------------------------------------------------

if [ ! -f "$sysroot/usr/lib/libc.so" ]; then
	say "building musl ($(basename "$musl_src"))"
	if [ "$softfp" = 1 ]; then
		libcc=$sysroot/usr/lib/libsoftfp.a
	else
		libcc=$($gcc -print-libgcc-file-name)
	fi
	rm -rf "$top/musl-obj" && mkdir -p "$top/musl-obj"
	(
		cd "$top/musl-obj"
		"$musl_src/configure" --target="$triplet" CROSS_COMPILE="$triplet-" CC="$gcc $abi $cpu" \
			CFLAGS="-Os -pipe" LIBCC="$libcc" --prefix=/usr --syslibdir=/lib >configure.log 2>&1 ||
			{ cat configure.log >&2; exit 1; }
		make -j"$jobs" >make.log 2>&1 || { tail -n 40 make.log >&2; exit 1; }
		if grep -q 'uses -mhard-float\|uses -msoft-float' make.log; then
			grep 'uses -m' make.log >&2
			echo "cross_musl.sh: musl's link mixed FP ABIs" >&2
			exit 1
		fi
		make DESTDIR="$sysroot" install >install.log 2>&1 || { tail -n 20 install.log >&2; exit 1; }
	)
	# musl installs /lib/ld-musl-*.so.1 as an absolute link to /usr/lib/libc.so,
	# which qemu -L would look for on the host: a relative one instead
	ln -sf ../usr/lib/libc.so "$sysroot/lib/$ldso"
fi

# --- the compiler driver --------------------------------------------------

gccinc=$($gcc -print-file-name=include)
if [ "$softfp" = 1 ]; then
	libgcc_spec="$sysroot/usr/lib/libsoftfp.a"
	crtdir="$sysroot/usr/lib/"
else
	libgcc_spec="libgcc.a%s"
	crtdir=$(dirname "$($gcc -print-file-name=crtbeginS.o)")/
fi
# gcc's own specs with the C library swapped: musl's headers first and no
# other, musl's crt files, libc.so and its dynamic linker (-mmusl picks the
# name), only the sysroot's library folder, and the runtime above for libgcc.
cat >"$top/musl.specs" <<EOF
%rename cpp_options dnsagg_cpp_options
*cpp_options:
-nostdinc -isystem $sysroot/usr/include -isystem $gccinc %(dnsagg_cpp_options)

%rename cc1 dnsagg_cc1
*cc1:
%(dnsagg_cc1) -nostdinc -isystem $sysroot/usr/include -isystem $gccinc

*link_libgcc:
-L$sysroot/usr/lib

*libgcc:
$libgcc_spec

*startfile:
%{shared:;static:$sysroot/usr/lib/crt1.o;no-pie:$sysroot/usr/lib/crt1.o;:$sysroot/usr/lib/Scrt1.o} $sysroot/usr/lib/crti.o %{static:${crtdir}crtbeginT.o;no-pie:${crtdir}crtbegin.o;:${crtdir}crtbeginS.o}

*endfile:
%{static|no-pie:${crtdir}crtend.o;:${crtdir}crtendS.o} $sysroot/usr/lib/crtn.o

%rename link dnsagg_link
*link:
%(dnsagg_link) -nostdlib

EOF
cat >"$top/bin/cc" <<EOF
#!/bin/sh
# $arch musl compiler for dnsagg, written by spec/support/cross_musl.sh
exec $gcc -mmusl $abi $cpu -specs=$top/musl.specs "\$@"
EOF
chmod 0755 "$top/bin/cc"
cc=$top/bin/cc

# --- Lua 5.1 ----------------------------------------------------------------

if [ ! -x "$sysroot/usr/bin/lua5.1" ]; then
	say "building Lua ($(basename "$lua_src"))"
	rm -rf "$top/lua" && cp -a "$lua_src" "$top/lua"
	# Debian's luaconf.h takes the multiarch triplet of its paths from this header
	echo "#define DEB_HOST_MULTIARCH \"$arch-linux-musl\"" >"$top/lua/src/lua5.1-deb-multiarch.h"
	if [ "$arch" = aarch64 ]; then
		# lua_Integer is ptrdiff_t, 64 bits here; OpenWrt's LNUM Lua has 32 bits on
		# every CPU: the same width here (on 32-bit MIPS ptrdiff_t is 32 bits already)
		sed -i 's/^#define LUA_INTEGER[ \t]*ptrdiff_t$/#define LUA_INTEGER\tint/' "$top/lua/src/luaconf.h"
		grep -q '^#define LUA_INTEGER.int$' "$top/lua/src/luaconf.h"
	fi
	# OpenWrt builds it with -DLUA_USE_LINUX less readline: POSIX and dlopen;
	# -Wl,-E exports the C API to the modules it loads (dnsagg.so).  Compiled
	# straight from src/ (Debian's patched Makefile wants libtool): the library
	# and lua.c, without luac.
	(
		cd "$top/lua/src"
		$cc -Os -pipe -Wall -DLUA_USE_POSIX -DLUA_USE_DLOPEN -Wl,-E -o lua \
			$(ls *.c | grep -v -x -e luac.c -e print.c) -lm
	) >"$top/lua/make.log" 2>&1 || { tail -n 30 "$top/lua/make.log" >&2; exit 1; }
	if grep -q 'uses -m' "$top/lua/make.log"; then
		grep 'uses -m' "$top/lua/make.log" >&2
		exit 1
	fi
	install -d "$sysroot/usr/bin" "$sysroot/usr/include"
	for h in lua.h luaconf.h lualib.h lauxlib.h lua5.1-deb-multiarch.h; do
		install -m 0644 "$top/lua/src/$h" "$sysroot/usr/include/$h"
	done
	install -m 0755 "$top/lua/src/lua" "$sysroot/usr/bin/lua5.1"
fi

if [ "$softfp" = 1 ]; then
	for f in "$sysroot/usr/lib/libc.so" "$sysroot/usr/bin/lua5.1"; do
		"$triplet-readelf" -A "$f" | grep -q 'FP ABI: Soft float' || {
			echo "cross_musl.sh: $f is not marked soft-float" >&2
			exit 1
		}
		n=$(fpu_instructions "$f")
		[ "$n" = 0 ] || { echo "cross_musl.sh: $f has $n FPU instructions" >&2; exit 1; }
	done
fi
echo "$arch $triplet $(basename "$musl_src") $(basename "$lua_src") ldso=/lib/$ldso" >"$top/.done"
say "done in $(($(date +%s) - start)) s: $top/bin/cc, $sysroot/usr/bin/lua5.1"
