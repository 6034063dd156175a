# openwrt/ipk/rules.mk: the little of an OpenWrt SDK's rules.mk that
# openwrt/Makefile uses, for openwrt/ipk/build.sh, which makes the package
# without an SDK (`make ipk ARCH=mips_24kc`).  See include/package.mk.
INCLUDE_DIR := $(TOPDIR)/include
INSTALL_DIR := install -d -m0755
INSTALL_BIN := install -m0755
INSTALL_DATA := install -m0644
INSTALL_CONF := install -m0600
CP := cp -fpR
LN := ln -sf
comma := ,
