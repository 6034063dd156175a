-- The collector's configuration: UCI (through a stand-in for OpenWrt's uci
-- Lua binding, which Debian does not package) and DNSAGG_CONFIG, and what
-- the host shows when the configuration is wrong.
local proc = require("spec.support.proc")
local expo = require("spec.support.expo")
local pstat = require("posix.sys.stat")
local unistd = require("posix.unistd")

local ROOT = unistd.getcwd()

-- a collectors folder holding our collector and a uci module that answers
-- cursor():get_all("dnsagg", "main") with `section`, as libuci-lua does
local function collectors_with_uci(dir, section)
  local src = assert(io.open(ROOT .. "/lua/prometheus-collectors/dnsagg.lua")):read("*a")
  proc.write_file(dir .. "/collectors/prometheus-collectors/dnsagg.lua", src)
  local fields = {}
  for k, v in pairs(section) do
    if type(v) == "table" then
      local items = {}
      for i, x in ipairs(v) do items[i] = string.format("%q", x) end
      v = "{" .. table.concat(items, ",") .. "}"
    else
      v = string.format("%q", v)
    end
    fields[#fields + 1] = string.format("[%q] = %s", k, v)
  end
  proc.write_file(dir .. "/collectors/uci.lua", string.format([[
local section = { %s }
return { cursor = function()
  return { get_all = function(_, config, name)
    if config == "dnsagg" and name == "main" then return section end
  end }
end }
]], table.concat(fields, ", ")))
  return dir .. "/collectors"
end

local function run(collectors, env)
  local out, how, code, stderr = proc.run_host_cli{ collectors = collectors, cpath = ROOT, env = env or {}, timeout = 10 }
  assert.equal("exited", how, stderr)
  assert.equal(0, code, stderr)
  return expo.parse(out), out, stderr
end

describe("the collector's configuration", function()
  local dir
  before_each(function() dir = proc.tmpdir() end)
  after_each(function() proc.rmtree(dir) end)

  it("reads UCI /etc/config/dnsagg: numbers, lists, and '0' to switch SIGUSR2 off", function()
    local fifo = dir .. "/q.fifo"
    assert(pstat.mkfifo(fifo, 384))
    proc.write_file(dir .. "/a.leases", "0 aa:bb:cc:00:00:01 10.0.0.1 nas *\n")
    proc.write_file(dir .. "/b.leases", "0 aa:bb:cc:00:00:02 10.0.0.2 tv *\n")
    local collectors = collectors_with_uci(dir, {
      [".name"] = "main", [".type"] = "dnsagg", enabled = "1", fifo = fifo,
      leases = { dir .. "/a.leases", dir .. "/b.leases" }, max_entries = "300", max_clients = "20",
      dnsmasq_pidfile = "0",
    })
    local s = run(collectors)
    assert.equal(1, expo.value(s, "node_scrape_collector_success", { collector = "dnsagg" }))
    assert.equal(300, expo.value(s, "dnsagg_table_capacity"))
    assert.equal(20, expo.value(s, "dnsagg_clients_capacity"))
    assert.equal(2, expo.value(s, "dnsagg_leases"))
    assert.is_not_nil(expo.value(s, "dnsmasq_lease_expiry_timestamp_seconds", { client = "10.0.0.2", hostname = "tv" }))
    assert.is_not_nil(expo.value(s, "dnsagg_fifo_up"))
    assert.equal(0, expo.value(s, "dnsagg_dnsmasq_reopen_signals_total"))
  end)

  it("writes nothing when UCI says enabled '0'", function()
    local collectors = collectors_with_uci(dir, { enabled = "0", fifo = dir .. "/q.fifo" })
    local s, out = run(collectors)
    assert.equal(1, expo.value(s, "node_scrape_collector_success", { collector = "dnsagg" }))
    assert.is_nil(out:find("dnsagg_", 1, true))
  end)

  it("reports a misspelt UCI option by name", function()
    local collectors = collectors_with_uci(dir, { enabled = "1", fifo = dir .. "/q.fifo", max_entry = "5" })
    local s, _, stderr = run(collectors)
    assert.equal(0, expo.value(s, "node_scrape_collector_success", { collector = "dnsagg" }))
    assert.truthy(stderr:find("unknown option 'max_entry'", 1, true), stderr)
  end)

  it("prefers DNSAGG_CONFIG, and reports one that cannot be read", function()
    local collectors = collectors_with_uci(dir, { enabled = "1", max_entries = "300" })
    proc.write_file(dir .. "/conf.lua", "return { max_entries = 42 }")
    local s = run(collectors, { DNSAGG_CONFIG = dir .. "/conf.lua" })
    assert.equal(42, expo.value(s, "dnsagg_table_capacity"))

    local s2, _, stderr = run(collectors, { DNSAGG_CONFIG = dir .. "/missing.lua" })
    assert.equal(0, expo.value(s2, "node_scrape_collector_success", { collector = "dnsagg" }))
    assert.truthy(stderr:find("DNSAGG_CONFIG", 1, true), stderr)

    proc.write_file(dir .. "/bad.lua", "return 42")
    local s3, _, stderr3 = run(collectors, { DNSAGG_CONFIG = dir .. "/bad.lua" })
    assert.equal(0, expo.value(s3, "node_scrape_collector_success", { collector = "dnsagg" }))
    assert.truthy(stderr3:find("must return a table of options", 1, true), stderr3)
  end)
end)
