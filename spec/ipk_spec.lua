-- The OpenWrt package made without an SDK (make ipk, openwrt/ipk/build.sh),
-- for each of make's OPENWRT_ARCHES (CROSS_ARCHES): unpacked with tar and
-- gzip, every field, path, mode, owner and script is checked against what
-- openwrt/Makefile declares (parsed here, not listed a second time) and
-- what an SDK of 22.03/23.05 writes (include/package-ipkg.mk,
-- scripts/ipkg-build), and the binaries inside are the musl builds for the
-- package's CPU.  `make test` builds the packages first.
local proc = require("spec.support.proc")
local elf = require("spec.support.elf")
local unistd = require("posix.unistd")

local ROOT = unistd.getcwd()

local TARGETS = {   -- OpenWrt arch: binutils prefix, what `file` says of the module and the guard
  mips_24kc = { binutils = "mips-linux-gnu", soft_float = true,
                so = "ELF 32%-bit MSB shared object, MIPS, MIPS32 rel2",
                guard = "ELF 32%-bit MSB pie executable, MIPS, MIPS32 rel2.*interpreter /lib/ld%-musl%-mips%-sf%.so%.1" },
  mipsel_24kc = { binutils = "mipsel-linux-gnu", soft_float = true,
                  so = "ELF 32%-bit LSB shared object, MIPS, MIPS32 rel2",
                  guard = "ELF 32%-bit LSB pie executable, MIPS, MIPS32 rel2.*interpreter /lib/ld%-musl%-mipsel%-sf%.so%.1" },
  aarch64_generic = { binutils = "aarch64-linux-gnu",
                      so = "ELF 64%-bit LSB shared object, ARM aarch64",
                      guard = "ELF 64%-bit LSB pie executable, ARM aarch64.*interpreter /lib/ld%-musl%-aarch64%.so%.1" },
}

-- OpenWrt names a package that has an ABI_VERSION with it appended: liblua
-- is liblua5.1.5 (ABI_VERSION:=5.1.5 in OpenWrt's package/utils/lua/Makefile)
local ABI_VERSION = { liblua = "5.1.5" }

-- the wrappers every SDK-built package has (include/package-ipkg.mk)
local SDK_POSTINST = table.concat({
  "#!/bin/sh",
  '[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0',
  "[ -x ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0",
  ". ${IPKG_INSTROOT}/lib/functions.sh",
  "default_postinst $0 $@",
}, "\n") .. "\n"
local SDK_PRERM = table.concat({
  "#!/bin/sh",
  "[ -x ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0",
  ". ${IPKG_INSTROOT}/lib/functions.sh",
  "default_prerm $0 $@",
}, "\n") .. "\n"

local arches = {}
for a in (os.getenv("CROSS_ARCHES") or "mips_24kc mipsel_24kc aarch64_generic"):gmatch("%S+") do
  arches[#arches + 1] = a
end

local function sh(cmd)
  local f = assert(io.popen(cmd .. " 2>&1"))
  local text = f:read("*a")
  f:close()
  return text
end

local function shq(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

------------------------------------------------------------------------ openwrt/Makefile, parsed
local function parse_makefile(path)
  local text = proc.read_file(path):gsub("\\\n", " ")   -- continuation lines joined
  local mk = { vars = {}, defines = {} }
  local name, body
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    if name then
      if line == "endef" then
        mk.defines[name] = table.concat(body, "\n")
        name = nil
      else
        body[#body + 1] = line
      end
    elseif line:match("^define ") then
      name, body = line:match("^define (%S+)"), {}
    else
      local k, v = line:match("^([%w_]+):=(.*)$")
      if k then mk.vars[k] = v end
    end
  end
  mk.pkg = mk.vars.PKG_NAME
  -- the package's own variables, from define Package/NAME
  mk.pkgvars = {}
  for line in (mk.defines["Package/" .. mk.pkg] or ""):gmatch("[^\n]+") do
    local k, v = line:match("^%s*([%w_]+):=(.*)$")
    if k then mk.pkgvars[k] = v:gsub("%s+$", "") end
  end
  return mk
end

local MK = parse_makefile(ROOT .. "/openwrt/Makefile")

-- make's $$ is a $ in what the SDK writes
local function unmake(s) return (s:gsub("%$%$", "$")) end

-- what Package/NAME/install puts where: { [path] = mode }, every folder
-- with its parents, and where each file comes from
local function expected_files(arch)
  local body = assert(MK.defines["Package/" .. MK.pkg .. "/install"], "no install define in openwrt/Makefile")
  local modes, sources = { ["./"] = "drwxr-xr-x" }, {}
  local function add_dirs(path)
    local p = "."
    for part in path:gmatch("[^/]+") do
      p = p .. "/" .. part
      modes[p .. "/"] = "drwxr-xr-x"
    end
  end
  local MODES = { INSTALL_BIN = "-rwxr-xr-x", INSTALL_DATA = "-rw-r--r--", INSTALL_CONF = "-rw-------" }
  for line in body:gmatch("[^\n]+") do
    local cmd, rest = line:match("^%s*%$%(([%w_]+)%)%s+(.*)$")
    assert(cmd, "openwrt/Makefile: an install line this spec does not read: " .. line)
    local words = {}
    for w in rest:gmatch("%S+") do words[#words + 1] = w end
    local function dest(w)
      local d = w:match("^%$%(1%)(/.*)$")
      assert(d, "openwrt/Makefile: a destination not under $(1): " .. w)
      return d
    end
    if cmd == "INSTALL_DIR" then
      for _, w in ipairs(words) do add_dirs(dest(w)) end
    else
      assert(MODES[cmd], "openwrt/Makefile: an install command this spec does not read: " .. cmd)
      assert(#words == 2, "openwrt/Makefile: one source and one destination, please: " .. line)
      local src, d = words[1], dest(words[2])
      if d:sub(-1) == "/" then d = d .. src:match("([^/]+)$") end
      local dir = d:match("^(.*)/[^/]+$")
      assert(modes["." .. dir .. "/"], "openwrt/Makefile installs into a folder it does not make: " .. d)
      modes["." .. d] = MODES[cmd]
      -- the file it must be: the cross build, a repository file
      local built = src:match("^%$%(PKG_BUILD_DIR%)/(.*)$")
      if built == "dnsagg.so" or built == "dnsagg-guard" then
        sources["." .. d] = ROOT .. "/build/" .. arch .. "/" .. built
      elseif built then
        sources["." .. d] = ROOT .. "/" .. built
      else
        sources["." .. d] = ROOT .. "/openwrt/" .. src:gsub("^%./", "")
      end
    end
  end
  return modes, sources
end

local function expected_depends()
  local deps = { "libc" }   -- OpenWrt's PKG_DEFAULT_DEPENDS
  for w in (MK.pkgvars.DEPENDS or ""):gmatch("%S+") do
    w = w:gsub("^%+", "")
    if not w:match("^@") and not w:find(":", 1, true) then   -- SYMBOL:pkg only with its option, off here
      deps[#deps + 1] = w .. (ABI_VERSION[w] or "")
    end
  end
  return table.concat(deps, ", ")
end

-- "perms owner/group size date time name" lines of tar -tv
local function listing(archive)
  local entries, order = {}, {}
  for line in sh("tar --numeric-owner -tvzf " .. shq(archive)):gmatch("[^\n]+") do
    local perms, owner, size, name = line:match("^(%S+)%s+(%S+)%s+(%d+)%s+%S+%s+%S+%s+(.+)$")
    assert(perms, "tar -tv: " .. line)
    entries[name] = { perms = perms, owner = owner, size = tonumber(size) }
    order[#order + 1] = name
  end
  return entries, order
end

describe("the OpenWrt package made without an SDK (make ipk)", function()
  if os.getenv("DNSAGG_PRELOAD") then
    pending("sanitizer run: the packages are checked by make test")
    return
  end

  it("reads openwrt/Makefile: a package name, version, install lines", function()
    assert.is_truthy(MK.pkg and MK.pkg ~= "")
    assert.is_truthy(MK.vars.PKG_VERSION and MK.vars.PKG_RELEASE)
    local modes = expected_files(arches[1] or "mips_24kc")
    assert.equal("-rwxr-xr-x", modes["./usr/lib/lua/dnsagg.so"])
    assert.equal("-rw-------", modes["./etc/config/dnsagg"])
  end)

  for _, arch in ipairs(arches) do
    local t = assert(TARGETS[arch], "no such OpenWrt arch in spec/ipk_spec.lua: " .. arch)
    local version = MK.vars.PKG_VERSION .. "-" .. MK.vars.PKG_RELEASE
    local ipk = ROOT .. "/build/" .. MK.pkg .. "_" .. version .. "_" .. arch .. ".ipk"

    describe(arch, function()
      local dir
      before_each(function()
        dir = proc.tmpdir()
        assert.is_truthy(io.open(ipk), ipk .. " is missing: `make ipk ARCH=" .. arch .. "` makes it")
      end)
      after_each(function() proc.rmtree(dir) end)

      it("is a gzip'd tar of debian-binary, data.tar.gz and control.tar.gz, as opkg reads it", function()
        local f = assert(io.open(ipk, "rb"))
        local magic = f:read(2)
        f:close()
        assert.equal("\31\139", magic)   -- gzip, not ar's "!<arch>"
        local entries, order = listing(ipk)
        assert.same({ "./debian-binary", "./data.tar.gz", "./control.tar.gz" }, order)
        for name, e in pairs(entries) do
          assert.equal("0/0", e.owner, name)
          assert.equal("-rw-r--r--", e.perms, name)
        end
        sh("tar -xzf " .. shq(ipk) .. " -C " .. shq(dir))
        assert.equal("2.0\n", proc.read_file(dir .. "/debian-binary"))
      end)

      it("holds the files openwrt/Makefile installs, owned by root, with their modes and contents", function()
        sh("tar -xzf " .. shq(ipk) .. " -C " .. shq(dir))
        local want, sources = expected_files(arch)
        local got = listing(dir .. "/data.tar.gz")
        for name, mode in pairs(want) do
          assert.is_not_nil(got[name], "missing from data.tar.gz: " .. name)
          assert.equal(mode, got[name].perms, name)
          assert.equal("0/0", got[name].owner, name)
        end
        for name in pairs(got) do
          assert.is_not_nil(want[name], "in data.tar.gz but not installed by openwrt/Makefile: " .. name)
        end
        os.execute("mkdir " .. shq(dir .. "/data") .. " && tar -xzf " .. shq(dir .. "/data.tar.gz") .. " -C " .. shq(dir .. "/data"))
        for name, src in pairs(sources) do
          assert.is_true(os.execute("cmp -s " .. shq(src) .. " " .. shq(dir .. "/data/" .. name)) == 0,
            name .. " is not " .. src)
        end
      end)

      it("has the control fields an SDK writes, from openwrt/Makefile", function()
        sh("tar -xzf " .. shq(ipk) .. " -C " .. shq(dir))
        local text = sh("tar -xzOf " .. shq(dir .. "/control.tar.gz") .. " ./control")
        local fields, order, desc = {}, {}, nil
        for line in text:gmatch("[^\n]+") do
          if desc then
            assert.equal(" ", line:sub(1, 1), "a Description line: " .. line)
            desc[#desc + 1] = line
          else
            local k, v = line:match("^([%w-]+): (.*)$")
            assert(k, "control: " .. line)
            assert.is_nil(fields[k], "twice: " .. k)
            fields[k], order[#order + 1] = v, k
            if k == "Description" then desc = { v } end
          end
        end
        local want_order = { "Package", "Version", "Depends", "Source", "SourceName" }
        if MK.vars.PKG_LICENSE then want_order[#want_order + 1] = "License" end
        if MK.vars.PKG_LICENSE_FILES then want_order[#want_order + 1] = "LicenseFiles" end
        for _, k in ipairs({ "Section", "Maintainer", "Architecture", "Installed-Size", "Description" }) do
          want_order[#want_order + 1] = k
        end
        assert.same(want_order, order)
        assert.equal(MK.pkg, fields.Package)
        assert.equal(version, fields.Version)
        assert.equal(expected_depends(), fields.Depends)
        assert.equal(sh("readlink -f " .. shq(ROOT .. "/openwrt")):gsub("\n$", ""), fields.Source)
        assert.equal(MK.pkg, fields.SourceName)
        assert.equal(MK.vars.PKG_LICENSE, fields.License)
        assert.equal(MK.vars.PKG_LICENSE_FILES, fields.LicenseFiles)
        assert.equal(MK.pkgvars.SECTION, fields.Section)
        assert.equal(MK.vars.PKG_MAINTAINER, fields.Maintainer)
        assert.equal(arch, fields.Architecture)
        local data_size = tonumber(sh("gzip -dc " .. shq(dir .. "/data.tar.gz") .. " | wc -c"):match("%d+"))
        assert.equal(data_size, tonumber(fields["Installed-Size"]))
        -- the description, each line's leading blanks one space
        local want_desc = {}
        for line in MK.defines["Package/" .. MK.pkg .. "/description"]:gmatch("[^\n]+") do
          want_desc[#want_desc + 1] = " " .. line:gsub("^%s+", "")
        end
        assert.same(want_desc, desc)
      end)

      it("has the conffiles and the scripts an SDK writes, with the package's own postinst", function()
        sh("tar -xzf " .. shq(ipk) .. " -C " .. shq(dir))
        local entries = listing(dir .. "/control.tar.gz")
        local want = { ["./"] = "drwxr-xr-x", ["./control"] = "-rw-r--r--", ["./conffiles"] = "-rw-r--r--",
                       ["./postinst"] = "-rwxr-xr-x", ["./prerm"] = "-rwxr-xr-x" }
        for script, file in pairs({ preinst = "preinst", postinst = "postinst-pkg", prerm = "prerm-pkg", postrm = "postrm" }) do
          if MK.defines["Package/" .. MK.pkg .. "/" .. script] then want["./" .. file] = "-rwxr-xr-x" end
        end
        for name, mode in pairs(want) do
          assert.is_not_nil(entries[name], "missing from control.tar.gz: " .. name)
          assert.equal(mode, entries[name].perms, name)
          assert.equal("0/0", entries[name].owner, name)
        end
        for name in pairs(entries) do assert.is_not_nil(want[name], "unexpected in control.tar.gz: " .. name) end
        local function member(name) return sh("tar -xzOf " .. shq(dir .. "/control.tar.gz") .. " ./" .. name) end
        local conffiles = {}
        for line in MK.defines["Package/" .. MK.pkg .. "/conffiles"]:gmatch("[^\n]+") do conffiles[#conffiles + 1] = line end
        table.sort(conffiles)
        assert.equal(table.concat(conffiles, "\n") .. "\n", member("conffiles"))
        assert.equal(SDK_POSTINST, member("postinst"))
        assert.equal(SDK_PRERM, member("prerm"))
        for script, file in pairs({ preinst = "preinst", postinst = "postinst-pkg", prerm = "prerm-pkg", postrm = "postrm" }) do
          local body = MK.defines["Package/" .. MK.pkg .. "/" .. script]
          if body then assert.equal(unmake(body) .. "\n", member(file)) end
        end
        -- the package's own postinst runs in a shell as it is written
        local body = member("postinst-pkg")
        assert.is_truthy(body:find("/etc/init.d/prometheus-node-exporter-lua restart", 1, true), body)
        proc.write_file(dir .. "/postinst-pkg", body)
        assert.equal(0, os.execute("sh -n " .. shq(dir .. "/postinst-pkg")))
      end)

      it("carries the musl build for " .. arch, function()
        sh("tar -xzf " .. shq(ipk) .. " -C " .. shq(dir))
        os.execute("mkdir " .. shq(dir .. "/data") .. " && tar -xzf " .. shq(dir .. "/data.tar.gz") .. " -C " .. shq(dir .. "/data"))
        local so = dir .. "/data/usr/lib/lua/dnsagg.so"
        local guard = dir .. "/data/usr/sbin/dnsagg-guard"
        local file_so, file_guard = sh("file -b " .. shq(so)), sh("file -b " .. shq(guard))
        assert.is_truthy(file_so:find(t.so), file_so)
        -- sstripped, as OpenWrt's musl builds are: `file` sees no section header
        assert.is_truthy(file_so:find("no section header", 1, true), file_so)
        assert.is_truthy(file_guard:find(t.guard), file_guard)
        for _, f in ipairs({ so, guard }) do
          local needed = {}
          for lib in sh(t.binutils .. "-readelf -d " .. shq(f)):gmatch("Shared library: %[([^%]]+)%]") do
            needed[#needed + 1] = lib
          end
          assert.same({ "libc.so" }, needed)   -- musl's libc (glibc's would be libc.so.6)
          if t.soft_float then
            assert.equal("soft", elf.mips_fp_abi(f), f)
          end
        end
        -- the module's only symbol (linked without crti.o's _init and _fini)
        assert.same({ "luaopen_dnsagg" }, elf.exports(so, t.binutils .. "-readelf"))
      end)
    end)
  end
end)
