-- The router's builds, loaded by a Lua on the router's CPU: for each of
-- make's OPENWRT_ARCHES (CROSS_ARCHES; mips_24kc, mipsel_24kc,
-- aarch64_generic), build/ARCH/dnsagg.so, built against musl, is loaded by
-- the musl Lua 5.1.5 of spec/support/cross_musl.sh under qemu-user, reads
-- the query log the host's real dnsmasq writes to a FIFO (qemu-user shares
-- the host's kernel), and must count exactly what dig sent, through
-- render() and through the collector in the exporter's command-line mode
-- (spec/support/cross_host.lua).  Counts above 2^31 and 2^32 are checked on
-- the same Lua, whose lua_Integer is 32 bits, with spec/lnum/counts.lua.
-- `make test` builds all of it first.
local proc = require("spec.support.proc")
local elf = require("spec.support.elf")
local dnsmasq = require("spec.support.dnsmasq")
local expo = require("spec.support.expo")
local pstat = require("posix.sys.stat")
local unistd = require("posix.unistd")

local ROOT = unistd.getcwd()

local TARGETS = {   -- OpenWrt arch: the toolchain's arch, qemu, what `file` says, soft float
  mips_24kc = { musl = "mips", qemu = "qemu-mips", soft_float = true,
                file = "ELF 32%-bit MSB shared object, MIPS, MIPS32 rel2" },
  mipsel_24kc = { musl = "mipsel", qemu = "qemu-mipsel", soft_float = true,
                  file = "ELF 32%-bit LSB shared object, MIPS, MIPS32 rel2" },
  aarch64_generic = { musl = "aarch64", qemu = "qemu-aarch64",
                      file = "ELF 64%-bit LSB shared object, ARM aarch64" },
}

local arches = {}
for a in (os.getenv("CROSS_ARCHES") or "mips_24kc mipsel_24kc aarch64_generic"):gmatch("%S+") do
  arches[#arches + 1] = a
end

local LEASES = table.concat({
  "1900000000 aa:bb:cc:00:00:11 127.0.0.11 laptop 01:aa:bb:cc:00:00:11",
  "1900000100 aa:bb:cc:00:00:12 127.0.0.12 phone *",
}, "\n") .. "\n"

-- what the spec sends: name, type, source address (the mix of e2e_spec.lua)
local SENT = {
  { "example.org", "A", "127.0.0.11" },
  { "example.org", "A", "127.0.0.11" },      -- a repeat: answered from the cache
  { "example.org", "AAAA", "127.0.0.11" },
  { "example.org", "MX", "127.0.0.12" },
  { "example.org", "TXT", "127.0.0.12" },
  { "blocked.test", "A", "127.0.0.12" },     -- address=/blocked.test/0.0.0.0
  { "unknown.lan", "A", "127.0.0.13" },      -- local=/lan/: an unknown local name
  { "www.example.org", "A", "127.0.0.13" },
}

local function sh(cmd)
  local f = assert(io.popen(cmd .. " 2>&1"))
  local text = f:read("*a")
  f:close()
  return text
end

local function check_counts(s, up_port, where)
  local function q(client, domain, qtype)
    return expo.value(s, "dnsmasq_queries_total", { client = client, domain = domain, type = qtype })
  end
  assert.equal(2, q("127.0.0.11", "example.org", "A"), where)
  assert.equal(1, q("127.0.0.11", "example.org", "AAAA"), where)
  assert.equal(1, q("127.0.0.12", "example.org", "MX"), where)
  assert.equal(1, q("127.0.0.12", "example.org", "TXT"), where)
  assert.equal(1, q("127.0.0.12", "blocked.test", "A"), where)
  assert.equal(1, q("127.0.0.13", "unknown.lan", "A"), where)
  assert.equal(1, q("127.0.0.13", "www.example.org", "A"), where)
  assert.equal(8, expo.sum(s, "dnsmasq_queries_total", {}) - expo.sum(s, "dnsmasq_queries_total", { domain = "." }), where)
  assert.equal(3, expo.value(s, "dnsmasq_client_queries_total",
    { client = "127.0.0.11", hostname = "laptop", mac = "aa:bb:cc:00:00:11" }), where)
  assert.equal(3, expo.value(s, "dnsmasq_client_queries_total",
    { client = "127.0.0.12", hostname = "phone", mac = "aa:bb:cc:00:00:12" }), where)
  assert.equal(2, expo.value(s, "dnsmasq_client_queries_total", { client = "127.0.0.13", hostname = "", mac = "" }), where)
  local function replies(source, result)
    return expo.value(s, "dnsmasq_replies_total", { source = source, result = result })
  end
  assert.equal(1, replies("cache", "address"), where)
  assert.equal(1, replies("blocked", "address"), where)
  assert.equal(1, replies("local", "nxdomain"), where)
  assert.equal(2, replies("upstream", "record"), where)
  assert.equal(3, replies("upstream", "address"), where)
  assert.equal(5, expo.value(s, "dnsmasq_forwarded_total", { server = "127.0.0.2#" .. up_port })
    - expo.sum(s, "dnsmasq_queries_total", { domain = "." }), where)
  assert.equal(1, expo.value(s, "dnsagg_fifo_up"), where)
  assert.equal(0, expo.value(s, "dnsagg_lines_total", { kind = "unparsed" }), where)
end

describe("the router's builds in a Lua on the router's CPU (qemu-user)", function()
  if os.getenv("DNSAGG_PRELOAD") then
    -- sanitizer runs (make test-asan/test-tsan) work in build/SAN/tree with
    -- host builds; the cross builds are not sanitized: make test runs this
    pending("sanitizer run: the musl cross builds are checked by make test")
    return
  end

  for _, arch in ipairs(arches) do
    local t = assert(TARGETS[arch], "no such OpenWrt arch in spec/mips_spec.lua: " .. arch)
    local sysroot = ROOT .. "/build/musl-" .. t.musl .. "/sysroot"
    local lua = sysroot .. "/usr/bin/lua5.1"
    local so = ROOT .. "/build/" .. arch .. "/dnsagg.so"
    local qemu = { t.qemu, "-L", sysroot, lua }
    local function run_lua(args, env, timeout)
      local argv = {}
      for _, a in ipairs(qemu) do argv[#argv + 1] = a end
      for _, a in ipairs(args) do argv[#argv + 1] = a end
      return proc.run(argv, { env = env, timeout = timeout or 60 })
    end

    describe(arch, function()
      local dir, up, dm, host

      before_each(function() dir = proc.tmpdir() end)
      after_each(function()
        dnsmasq.stop(dm); dnsmasq.stop(up)
        if host then proc.kill(host) end
        proc.kill_all()
        proc.rmtree(dir)
        dm, up, host = nil, nil, nil
      end)

      it("is built: the module for this CPU and musl, the Lua that loads it", function()
        for _, f in ipairs({ so, lua, ROOT .. "/build/" .. arch .. "/dnsagg-guard", ROOT .. "/build/" .. arch .. "/lnum.so" }) do
          assert.is_true(pstat.stat(f) ~= nil, f .. " is missing: `make test` (or make cross " .. f .. ") builds it")
        end
        local file = sh("file -b " .. so)
        assert.is_truthy(file:find(t.file), file)
        local dyn = sh(t.musl .. "-linux-gnu-readelf -d " .. so)
        local needed = {}
        for lib in dyn:gmatch("Shared library: %[([^%]]+)%]") do needed[#needed + 1] = lib end
        assert.same({ "libc.so" }, needed)   -- musl's libc.so is also its ld.so: no libpthread, no libgcc_s
        local interp = sh(t.musl .. "-linux-gnu-readelf -l " .. lua):match("interpreter: ([^%]]+)%]")
        assert.is_truthy(interp and interp:find("^/lib/ld%-musl%-"), interp)
        if t.soft_float then
          for _, f in ipairs({ so, lua, sysroot .. "/usr/lib/libc.so" }) do
            assert.equal("soft", elf.mips_fp_abi(f), f)   -- the module is sstripped: from its program headers
          end
          -- no FPU instruction at all (the TL-WDR4300's 74Kc has no FPU).  The
          -- stripped module's MIPS16 code cannot be told from MIPS32 code by
          -- objdump: lnum.so, the same sources and flags with its symbols, stands in.
          for _, f in ipairs({ ROOT .. "/build/" .. arch .. "/lnum.so", lua, sysroot .. "/usr/lib/libc.so" }) do
            local fpu = sh(t.musl .. "-linux-gnu-objdump -d " .. f .. " | awk -F'\\t' 'NF >= 3 { print $3 }' | "
              .. "grep -E -c '^(mtc1|mfc1|mthc1|mfhc1|ctc1|cfc1|[ls][wd]x?c1|bc1[tf]l?|c\\.[a-z]+\\.(s|d)|[a-z0-9.]+\\.(s|d|w|l|ps))$'")
            assert.equal("0", fpu:match("%d+"), f)
          end
        end
      end)

      it("computes with floats as the host does (soft float on MIPS)", function()
        local out, how, code, stderr = run_lua({ "-e",
          'print(string.format("%.17g %.17g %.17g %d %.0f", 0.1 + 0.2, 1e300 * 10, 2^0.5, 2^31 - 1, 2^53 - 1))' })
        assert.equal("exited", how, stderr)
        assert.equal(0, code, stderr)
        assert.equal("0.30000000000000004 1.0000000000000001e+301 1.4142135623730951 2147483647 9007199254740991\n", out)
      end)

      it("counts the real dnsmasq's queries exactly, through render() and the collector (command-line mode)", function()
        local fifo = dir .. "/dnsmasq.fifo"
        assert(pstat.mkfifo(fifo, 384))
        proc.write_file(dir .. "/dhcp.leases", LEASES)
        proc.write_file(dir .. "/dnsagg.conf.lua", string.format(
          "return { fifo = %q, leases = %q, dnsmasq_pidfile = false }", fifo, dir .. "/dhcp.leases"))
        local argv = {}
        for _, a in ipairs(qemu) do argv[#argv + 1] = a end
        argv[#argv + 1] = ROOT .. "/spec/support/cross_host.lua"
        argv[#argv + 1] = ROOT .. "/lua"
        argv[#argv + 1] = dir .. "/go"
        host = proc.spawn(argv, { env = { DNSAGG_CONFIG = dir .. "/dnsagg.conf.lua",
          LUA_CPATH = ROOT .. "/build/" .. arch .. "/?.so", LUA_PATH = ROOT .. "/lua/?.lua" } })
        local line, err = proc.read_line(host, 60)
        assert.equal("ready", line, tostring(err) .. " " .. proc.stderr(host))

        up = dnsmasq.upstream{ dir = dir }
        dm = dnsmasq.start{ dir = dir, log = fifo, upstream = up }
        for _, q in ipairs(SENT) do
          assert.is_not_nil(dnsmasq.dig(dm, q[1], { type = q[2], from = q[3] }), "no answer to " .. q[1] .. " " .. q[2])
        end
        proc.write_file(dir .. "/go", "")
        local out, rerr, partial = proc.read_all(host, 60)
        assert.is_not_nil(out, tostring(rerr) .. ": " .. tostring(partial) .. proc.stderr(host))
        local how, code = proc.wait(host, 20)
        assert.equal("exited", how, proc.stderr(host))   -- the thread does not keep the process alive
        assert.equal(0, code, proc.stderr(host))

        local rendered = out:match("%-%-%- render\n(.-)%-%-%- cli\n")
        local cli = out:match("%-%-%- cli\n(.-)%-%-%- end\n")
        assert.is_not_nil(rendered, out)
        assert.is_not_nil(cli, out)
        check_counts(expo.parse(rendered), up.port, "render() on " .. arch)
        local ok, lint = expo.promtool_check(rendered, dir)
        assert.is_true(ok, lint)
        local s = expo.parse(cli)
        check_counts(s, up.port, "the collector on " .. arch)
        assert.equal(1, expo.value(s, "node_scrape_collector_success", { collector = "dnsagg" }))
        -- one TYPE line per family
        local seen = {}
        for name in cli:gmatch("# TYPE (%S+)") do
          assert.is_nil(seen[name], "TYPE twice for " .. name)
          seen[name] = true
        end
      end)

      it("gives counts above 2^31 and 2^32 exactly on this Lua's 32-bit lua_Integer (spec/lnum/counts.lua)", function()
        local out, how, code, stderr = run_lua({ "-e",
          "package.cpath = '" .. ROOT .. "/build/" .. arch .. "/?.so;' .. package.cpath; lnum = require 'lnum'",
          ROOT .. "/spec/lnum/counts.lua" }, nil, 120)
        assert.equal("exited", how, stderr)
        assert.equal(0, code, (out or "") .. (stderr or ""))
        local passed, failed = (out or ""):match("spec/lnum/counts%.lua: (%d+) passed, (%d+) failed")
        assert.is_not_nil(passed, (out or "") .. (stderr or ""))
        assert.equal("0", failed, stderr)
        assert.is_true(tonumber(passed) >= 40, out)
        assert.equal("", stderr)   -- no FAILED line, and "lua_Integer is 32 bits" among the passed
      end)
    end)
  end
end)
