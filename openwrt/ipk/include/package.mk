# openwrt/ipk/include/package.mk: what openwrt/Makefile takes from an
# OpenWrt SDK's include/package.mk, enough to stage its package without an
# SDK.  openwrt/ipk/build.sh runs
#   make -C openwrt TOPDIR=<this folder's parent> IPK_ARCH=mips_24kc IPK_DIR=<work> ipk-stage
# with the cross-built dnsagg.so, dnsagg-guard and lua/ in <work>/build (the
# package's PKG_BUILD_DIR), and gets <work>/root: the files as
# Package/NAME/install puts them, and root/CONTROL with control, conffiles
# and the scripts, as OpenWrt's include/package-ipkg.mk (22.03 and 23.05)
# writes them.  build.sh then packs them as scripts/ipkg-build does.
#
# Written from how the SDK behaves, not copied from it:
# - Depends: the package's DEPENDS with '+' dropped, '@...' (selection
#   conditions) left out, 'SYMBOL:pkg' kept when CONFIG_SYMBOL is set (none
#   is here: the cross builds are without GeoIP, the option's default), and
#   libc first (PKG_DEFAULT_DEPENDS); a dependency with an ABI_VERSION gets it
#   appended, as OpenWrt names such packages (liblua is liblua5.1.5:
#   ABI_VERSION:=5.1.5 in OpenWrt's package/utils/lua/Makefile).
# - Version: PKG_VERSION-PKG_RELEASE; Source: the package folder relative to
#   TOPDIR ($(CURDIR) is the physical folder, so with openwrt/ linked into
#   an SDK it is this absolute path there too); SourceName: the package;
#   License, LicenseFiles: PKG_LICENSE, PKG_LICENSE_FILES when set;
#   Maintainer: PKG_MAINTAINER; Installed-Size: filled in by build.sh.
# - Description: the description with each line's leading blanks made one
#   space (the first line after "Description: ").
# - postinst and prerm: the SDK's own two wrappers, which run
#   default_postinst / default_prerm of the router's /lib/functions.sh; the
#   package's own postinst and prerm go to postinst-pkg and prerm-pkg, which
#   those run.  preinst and postrm as they are, when defined.
PKG_DEFAULT_DEPENDS := +libc
ABI_VERSION_liblua := 5.1.5

PKG_BUILD_DIR := $(IPK_DIR)/build
IPK_ROOT := $(IPK_DIR)/root

ipk_digit_end = $(filter %0 %1 %2 %3 %4 %5 %6 %7 %8 %9,$(1))
ipk_abi = $(1)$(if $(ABI_VERSION_$(1)),$(if $(call ipk_digit_end,$(1)),-)$(ABI_VERSION_$(1)))
ipk_cond = $(subst !,,$(word 1,$(subst :, ,$(1))))
ipk_if = $(if $(findstring !,$(word 1,$(subst :, ,$(1)))),$(if $(CONFIG_$(call ipk_cond,$(1))),,$(2)),$(if $(CONFIG_$(call ipk_cond,$(1))),$(2)))
ipk_dep = $(if $(findstring :,$(1)),$(call ipk_if,$(1),$(word 2,$(subst :, ,$(1)))),$(1))
ipk_deps = $(foreach d,$(subst +,,$(filter-out @%,$(1))),$(call ipk_abi,$(call ipk_dep,$(d))))
ipk_list = $(subst $(space),$(comma)$(space),$(strip $(1)))
space := $(subst ,, )
ipk_field = $(if $(strip $(2)),$(1): $(strip $(2))\n)

define Package/Default
  SECTION:=opt
  CATEGORY:=Extra packages
  TITLE:=
  DEPENDS:=
  CONFLICTS:=
  PROVIDES:=
  USERID:=
  MAINTAINER:=$(PKG_MAINTAINER)
  SOURCE:=$(patsubst $(TOPDIR)/%,%,$(CURDIR))
  VERSION:=$(PKG_VERSION)$(if $(PKG_RELEASE),-$(PKG_RELEASE))
  LICENSE:=$(PKG_LICENSE)
  LICENSE_FILES:=$(PKG_LICENSE_FILES)
endef

define BuildPackage
$(eval $(Package/Default))
$(eval $(Package/$(1)))
ipk-stage: export IPK_CONTROL=Package: $(1)\nVersion: $(VERSION)\n$(call ipk_field,Depends,$(call ipk_list,$(call ipk_deps,$(PKG_DEFAULT_DEPENDS) $(DEPENDS))))$(call ipk_field,Conflicts,$(call ipk_list,$(CONFLICTS)))$(call ipk_field,Provides,$(call ipk_list,$(PROVIDES)))$(call ipk_field,Source,$(SOURCE))$(call ipk_field,SourceName,$(1))$(call ipk_field,License,$(LICENSE))$(call ipk_field,LicenseFiles,$(LICENSE_FILES))$(call ipk_field,Section,$(SECTION))$(call ipk_field,Require-User,$(USERID))$(call ipk_field,Maintainer,$(MAINTAINER))Architecture: $(IPK_ARCH)\nInstalled-Size: 0
ipk-stage: export IPK_DESCRIPTION=$$(if $$(Package/$(1)/description),$$(Package/$(1)/description),$(TITLE))
ipk-stage: export IPK_CONFFILES=$$(Package/$(1)/conffiles)
ipk-stage: export IPK_PREINST=$$(Package/$(1)/preinst)
ipk-stage: export IPK_POSTINST=$$(Package/$(1)/postinst)
ipk-stage: export IPK_PRERM=$$(Package/$(1)/prerm)
ipk-stage: export IPK_POSTRM=$$(Package/$(1)/postrm)
ipk-stage:
	@[ -n "$(IPK_ARCH)" ] && [ -n "$(IPK_DIR)" ] || { echo "ipk-stage: IPK_ARCH and IPK_DIR, please" >&2; exit 2; }
	rm -rf $(IPK_ROOT)
	mkdir -p $(IPK_ROOT)/CONTROL
	$(call Package/$(1)/install,$(IPK_ROOT))
	cd $(IPK_ROOT)/CONTROL && \
	printf '%b\n' "$$$$IPK_CONTROL" > control && \
	printf 'Description: ' >> control && echo "$$$$IPK_DESCRIPTION" | sed -e 's,^[[:space:]]*, ,g' >> control && \
	chmod 644 control && \
	{ echo '#!/bin/sh'; \
	  echo '[ "$$$${IPKG_NO_SCRIPT}" = "1" ] && exit 0'; \
	  echo '[ -x $$$${IPKG_INSTROOT}/lib/functions.sh ] || exit 0'; \
	  echo '. $$$${IPKG_INSTROOT}/lib/functions.sh'; \
	  echo 'default_postinst $$$$0 $$$$@'; } > postinst && \
	{ echo '#!/bin/sh'; \
	  echo '[ -x $$$${IPKG_INSTROOT}/lib/functions.sh ] || exit 0'; \
	  echo '. $$$${IPKG_INSTROOT}/lib/functions.sh'; \
	  echo 'default_prerm $$$$0 $$$$@'; } > prerm && \
	chmod 0755 postinst prerm && \
	if [ -n "$$$$IPK_CONFFILES" ]; then echo "$$$$IPK_CONFFILES" > conffiles; fi && \
	if [ -n "$$$$IPK_PREINST" ]; then echo "$$$$IPK_PREINST" > preinst; chmod 0755 preinst; fi && \
	if [ -n "$$$$IPK_POSTINST" ]; then echo "$$$$IPK_POSTINST" > postinst-pkg; chmod 0755 postinst-pkg; fi && \
	if [ -n "$$$$IPK_PRERM" ]; then echo "$$$$IPK_PRERM" > prerm-pkg; chmod 0755 prerm-pkg; fi && \
	if [ -n "$$$$IPK_POSTRM" ]; then echo "$$$$IPK_POSTRM" > postrm; chmod 0755 postrm; fi
endef
