#!/bin/sh
# openwrt/ipk/build.sh ARCH: the OpenWrt package without an SDK (`make ipk
# ARCH=mips_24kc`): build/NAME_VERSION-RELEASE_ARCH.ipk, from the musl builds
# in build/ARCH/ (make cross) and openwrt/Makefile's own install, conffiles
# and scripts, staged by openwrt/ipk/include/package.mk.
#
# The format is what opkg reads and OpenWrt's scripts/ipkg-build writes
# (packages built by an SDK of 24.10 or earlier): a gzip'd tar (GNU format)
# holding ./debian-binary ("2.0"), ./data.tar.gz and ./control.tar.gz, in
# that order.  Not ar, as a Debian .deb is: opkg's deb_extract()
# (libbb/unarchive.c) opens the file as gzip and walks it as tar.  Every
# entry is owned by 0:0, with the modes the install commands gave; the
# times are the last commit's (SOURCE_DATE_EPOCH if set), so that the same
# commit gives the same package.  Installed-Size is the size of the
# uncompressed data tar, as ipkg-build counts it.
set -eu
arch=${1:?usage: openwrt/ipk/build.sh ARCH (mips_24kc, mipsel_24kc, aarch64_generic)}
cd "$(dirname "$0")/../.."
root=$(pwd)
umask 022

work=$root/build/ipk/$arch
rm -rf "$work"
mkdir -p "$work/build"
for f in dnsagg.so dnsagg-guard; do
	[ -f "build/$arch/$f" ] || { echo "openwrt/ipk/build.sh: no build/$arch/$f (make cross builds it)" >&2; exit 1; }
	cp "build/$arch/$f" "$work/build/$f"
done
# what the package's Build/Prepare copies into PKG_BUILD_DIR, as far as its install uses it
cp -R lua "$work/build/lua"

make -s -C openwrt TOPDIR="$root/openwrt/ipk" IPK_ARCH="$arch" IPK_DIR="$work" ipk-stage >/dev/null

pkg_dir=$work/root
control=$pkg_dir/CONTROL
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
tar_c() { tar --format=gnu --numeric-owner --owner=0 --group=0 --sort=name --mtime="@$epoch" "$@"; }

# conffiles: those that are files in the package, sorted (as ipkg-build)
if [ -f "$control/conffiles" ]; then
	while IFS= read -r f; do
		[ -n "$f" ] && [ -f "$pkg_dir$f" ] && echo "$f"
	done <"$control/conffiles" | LC_ALL=C sort >"$control/conffiles.resolved"
	if [ -s "$control/conffiles.resolved" ]; then
		mv "$control/conffiles.resolved" "$control/conffiles"
		chmod 0644 "$control/conffiles"
	else
		rm -f "$control/conffiles" "$control/conffiles.resolved"
	fi
fi

out=$work/out
mkdir -p "$out"
(cd "$pkg_dir" && tar_c --exclude=./CONTROL -cpf - .) | gzip -n >"$out/data.tar.gz"
installed_size=$(gzip -dc "$out/data.tar.gz" | wc -c)
sed -i "s/^Installed-Size: .*/Installed-Size: $installed_size/" "$control/control"
(cd "$control" && tar_c -cf - .) | gzip -n >"$out/control.tar.gz"
echo "2.0" >"$out/debian-binary"

pkg=$(sed -n 's/^Package: //p' "$control/control")
version=$(sed -n 's/^Version: //p' "$control/control")
ipk=build/${pkg}_${version}_${arch}.ipk
rm -f "$ipk"
(cd "$out" && tar_c -cf - ./debian-binary ./data.tar.gz ./control.tar.gz) | gzip -n >"$ipk"
echo "$ipk: $(wc -c <"$ipk") bytes (installed: $installed_size bytes of tar)"
