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

  it("maps UCI's flat capture_*, dnstt_* and geoip_* options to the nested ones", function()
    if unistd.geteuid() ~= 0 then
      pending("capture needs root (CAP_NET_RAW), as on the router and in CI")
      return
    end
    local section = {
      enabled = "1", fifo = dir .. "/q.fifo", dnsmasq_pidfile = "0",
      capture = "1", capture_interface = "lo", capture_port = tostring(40000 + unistd.getpid() % 10000), -- this run's own
      capture_buffer = "2097152",
      dnstt_domain = { "t.example.com", "u.example.net" }, dnstt_active_window = "20", dnstt_max_sessions = "50",
    }
    local with_geoip = require("dnsagg").geoip
    if with_geoip then
      local out, how, code = proc.run({ "perl", "spec/support/make_mmdb.pl", dir }, { timeout = 60 })
      assert(how == "exited" and code == 0, out)
      section.geoip_asn = dir .. "/asn.mmdb"
    end
    local s = run(collectors_with_uci(dir, section))
    assert.equal(1, expo.value(s, "node_scrape_collector_success", { collector = "dnsagg" }))
    assert.equal(0, expo.value(s, "dnsagg_packets_total", { result = "dns" }))
    assert.equal(2097152, expo.value(s, "dnsagg_capture_buffer_bytes", {}))
    for _, domain in ipairs{ "t.example.com", "u.example.net" } do
      local labels = { domain = domain }
      if with_geoip then labels.asn = "0" end
      assert.equal(0, expo.value(s, "dnstt_queries_total", labels))
    end

    -- capture '0' (or absent): the capture_* options are left out, no socket
    section.capture = "0"
    section.geoip_asn = nil
    local s2 = run(collectors_with_uci(dir, section))
    assert.equal(1, expo.value(s2, "node_scrape_collector_success", { collector = "dnsagg" }))
    assert.is_nil(expo.value(s2, "dnsagg_packets_total", { result = "dns" }))
    assert.equal(0, expo.value(s2, "dnstt_queries_total", { domain = "u.example.net" }))

    -- queries 'packets': the capture on whatever capture says, and the
    -- package's FIFO options (fifo, lock, dnsmasq_pidfile) left out
    section.queries = "packets"
    section.lock = dir .. "/dnsagg.lock"
    local s3 = run(collectors_with_uci(dir, section))
    assert.equal(1, expo.value(s3, "node_scrape_collector_success", { collector = "dnsagg" }))
    assert.equal(0, expo.value(s3, "dnsagg_packet_queries_total", {}))
    assert.equal(0, expo.value(s3, "dnsagg_packets_total", { result = "dns" }))
    assert.is_nil(expo.value(s3, "dnsagg_fifo_up", {}))
  end)

  it("maps UCI's privacy options: exclude/include lists, fold, clients, client_key, max_series", function()
    local log = dir .. "/queries.log"
    local lines = {}
    for i, q in ipairs{ { "10.0.0.1", "www.bbc.co.uk" }, { "10.0.0.1", "news.bbc.co.uk" },
                        { "10.0.0.2", "printer.lan" }, { "10.0.0.2", "a.example.com" },
                        { "10.0.0.2", "other.example.net" } } do
      lines[#lines + 1] = string.format("Nov 22 01:41:33 dnsmasq[9]: %d %s/5000 query[A] %s from %s", i, q[1], q[2], q[1])
    end
    proc.write_file(log, table.concat(lines, "\n") .. "\n")
    proc.write_file(dir .. "/a.leases", "0 aa:bb:cc:00:00:01 10.0.0.1 nas *\n")
    local section = {
      enabled = "1", log = log, leases = { dir .. "/a.leases" }, dnsmasq_pidfile = "0",
      exclude_domain = "lan", include_domain = { "co.uk", "example.com", "lan" },
      fold = "psl", psl = "/usr/share/publicsuffix/public_suffix_list.dat",
      clients = "hash", client_key = "0123456789abcdef-uci", max_series = "1",
    }
    local s, out = run(collectors_with_uci(dir, section))
    assert.equal(1, expo.value(s, "node_scrape_collector_success", { collector = "dnsagg" }))
    assert.equal(1, expo.count(s, "dnsmasq_queries_total", {}))
    assert.equal(2, expo.value(s, "dnsmasq_queries_total", { domain = "bbc.co.uk" }))
    assert.equal(1, expo.value(s, "dnsagg_query_series_omitted"))
    assert.equal(2, expo.value(s, "dnsagg_excluded_queries_total"))
    assert.is_nil(out:find("10.0.0.", 1, true))
    assert.is_nil(out:find("nas", 1, true))

    -- fold '2', clients 'drop', and '0' for no fold and no cap
    section.fold, section.clients, section.client_key, section.include_domain = "2", "drop", nil, nil
    section.max_series = "0"
    local s2, out2 = run(collectors_with_uci(dir, section))
    assert.equal(1, expo.value(s2, "node_scrape_collector_success", { collector = "dnsagg" }))
    assert.equal(1, expo.value(s2, "dnsmasq_queries_total", { client = "", domain = "example.net" }))
    assert.equal(2, expo.value(s2, "dnsmasq_queries_total", { client = "", domain = "co.uk" }))
    assert.is_nil(expo.value(s2, "dnsagg_query_series_omitted"))
    assert.is_nil(out2:find("10.0.0.", 1, true))
    section.fold, section.clients = "0", "keep"
    local s3 = run(collectors_with_uci(dir, section))
    assert.equal(1, expo.value(s3, "dnsmasq_queries_total", { client = "10.0.0.1", domain = "www.bbc.co.uk" }))
    assert.equal(1, expo.value(s3, "dnsmasq_queries_total", { hostname = "nas", domain = "news.bbc.co.uk" }))
  end)

  -- the package's /etc/config/dnsagg, read as UCI reads it: every option in
  -- it, the commented-out ones too, is one the collector accepts
  local function shipped_config(with_comments)
    local section = {}
    for line in io.lines(ROOT .. "/openwrt/files/dnsagg.config") do
      local commented, kind, key, value = line:match("^%s*(#?)(%a+)%s+([%w_]+)%s+'([^']*)'%s*$")
      if kind and (commented == "" or with_comments) then
        if kind == "list" then
          section[key] = section[key] or {}
          table.insert(section[key], value)
        elseif kind == "option" then
          section[key] = value
        end
      end
    end
    return section
  end

  it("accepts every option of the package's /etc/config/dnsagg", function()
    local section = shipped_config(false)
    assert.equal("/var/run/dnsmasq/dnsagg.fifo", section.fifo)
    section.fifo, section.lock, section.dnsmasq_pidfile = dir .. "/q.fifo", dir .. "/lock", "0"
    local s, _, err = run(collectors_with_uci(dir, section))
    assert.equal(1, expo.value(s, "node_scrape_collector_success", { collector = "dnsagg" }), err)
    assert.equal(5000, expo.value(s, "dnsagg_table_capacity"))

    local all = shipped_config(true)
    assert.same({ "t.example.com" }, all.dnstt_domain)
    all.fifo, all.lock, all.dnsmasq_pidfile, all.capture = dir .. "/q.fifo", dir .. "/lock", "0", "0"
    if require("dnsagg").geoip then
      local out, how, code = proc.run({ "perl", "spec/support/make_mmdb.pl", dir }, { timeout = 60 })
      assert(how == "exited" and code == 0, out)
      all.geoip_country, all.geoip_asn = dir .. "/country.mmdb", dir .. "/asn.mmdb"
    else
      all.geoip_country, all.geoip_asn = nil, nil
    end
    local s2, _, stderr = run(collectors_with_uci(dir, all))
    assert.equal(1, expo.value(s2, "node_scrape_collector_success", { collector = "dnsagg" }), stderr)
    assert.equal(0, expo.value(s2, "dnstt_sessions_total", { domain = "t.example.com" }) or
      expo.value(s2, "dnstt_sessions_total", { domain = "t.example.com", country = "ZZ", asn = "0" }))
  end)
end)
