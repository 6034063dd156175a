-- The Lua API of dnsagg.so, driven through feed() and files: options, the
-- table and its bound, top(), stats(), render() checked by promtool, close().
local proc = require("spec.support.proc")
local expo = require("spec.support.expo")

local P = "Nov 22 01:41:33 dnsmasq[100]: "

local function query(serial, client, name, qtype)
  return string.format("%s%d %s/5000 query[%s] %s from %s", P, serial, client, qtype or "A", name, client)
end

local function answer(serial, client, verb, name, result)
  return string.format("%s%d %s/5000 %s %s is %s", P, serial, client, verb, name, result)
end

local promtool_check = expo.promtool_check

describe("dnsagg module", function()
  local dnsagg = require("dnsagg")
  local dir

  before_each(function() dir = proc.tmpdir() end)
  after_each(function() proc.rmtree(dir) end)

  it("loads without creating a global", function()
    assert.is_nil(rawget(_G, "dnsagg"))
    assert.is_function(dnsagg.new)
    assert.is_string(dnsagg.version)
  end)

  it("raises on a bad option, naming it", function()
    assert.has_error(function() dnsagg.new{ max_entires = 10 } end, "dnsagg.new: unknown option 'max_entires'")
    assert.has_error(function() dnsagg.new{ fifo = 12 } end, "dnsagg.new: option 'fifo' must be a string, not number")
    assert.has_error(function() dnsagg.new{ max_entries = 0 } end,
      "dnsagg.new: option 'max_entries' must be a whole number from 1 to 10000000")
    assert.has_error(function() dnsagg.new{ max_entries = 2.5 } end,
      "dnsagg.new: option 'max_entries' must be a whole number from 1 to 10000000")
    assert.has_error(function() dnsagg.new{ leases = { 1 } } end,
      "dnsagg.new: option 'leases' must be a path or a list of paths")
    assert.has_error(function() dnsagg.new{ dnsmasq_pidfile = true } end,
      "dnsagg.new: option 'dnsmasq_pidfile' must be a glob or false")
    assert.has_error(function() dnsagg.new("x") end)
  end)

  it("returns nil and a message when the log file cannot be read", function()
    local agg, msg = dnsagg.new{ log = dir .. "/missing.log" }
    assert.is_nil(agg)
    assert.equal("dnsagg: cannot read the log " .. dir .. "/missing.log: No such file or directory", msg)
  end)

  it("counts queries per (client, domain, type) and per client, with first and last seen", function()
    local agg = dnsagg.new{}
    local before = os.time()
    assert.equal("query", agg:feed(query(1, "192.168.1.10", "example.com")))
    assert.equal("query", agg:feed(query(2, "192.168.1.10", "example.com")))
    assert.equal("query", agg:feed(query(3, "192.168.1.10", "example.com", "AAAA")))
    assert.equal("query", agg:feed(query(4, "192.168.1.11", "example.com")))
    assert.equal("query", agg:feed(P .. "query[A] plain.example from fe80::1%br-lan"))
    assert.equal("unparsed", agg:feed("garbage"))

    local rows = agg:top{ by = "entry", n = 10 }
    assert.equal(4, #rows)
    assert.same({ client = "192.168.1.10", hostname = "", domain = "example.com", type = "A", count = 2 },
      { client = rows[1].client, hostname = rows[1].hostname, domain = rows[1].domain, type = rows[1].type,
        count = rows[1].count })
    assert.is_true(rows[1].first_seen >= before and rows[1].last_seen <= os.time() + 1)

    local domains = agg:top{ by = "domain" }
    assert.equal("example.com", domains[1].domain)
    assert.equal(4, domains[1].count)
    assert.is_nil(domains[1].client)   -- several clients: no single client to show
    assert.is_nil(domains[1].type)
    assert.equal("plain.example", domains[2].domain)
    assert.equal("fe80::1%br-lan", domains[2].client)

    local clients = agg:top{ by = "client", domain = "example.com" }
    assert.equal(2, #clients)
    assert.equal("192.168.1.10", clients[1].client)
    assert.equal(3, clients[1].count)

    assert.equal(2, #agg:top{ n = 0 })   -- 0: all rows
    assert.equal(2, #agg:top{ n = math.huge })
    assert.has_error(function() agg:top{ n = -1 } end, "dnsagg: top option 'n' must be a number of at least 0")
    assert.has_error(function() agg:top{ limit = 3 } end, "dnsagg: unknown top option 'limit'")

    local suffix = agg:top{ by = "domain", domain = "*.example" }
    assert.equal(1, #suffix)
    assert.equal("plain.example", suffix[1].domain)

    local s = agg:stats()
    assert.equal(6, s.lines)
    assert.equal(5, s.lines_by_kind.query)
    assert.equal(1, s.unparsed)
    assert.equal(4, s.entries)
    assert.equal(3, s.clients)
    agg:close()
  end)

  it("keeps only rows seen recently with since", function()
    local agg = dnsagg.new{}
    agg:feed(query(1, "10.0.0.1", "a.example"))
    assert.equal(1, #agg:top{ since = 60 })
    assert.equal(1, #agg:top{ since = 0 })
    agg:close()
  end)

  it("evicts the least recently used key at max_entries, and bounds clients on their own", function()
    local agg = dnsagg.new{ max_entries = 3, max_clients = 2 }
    agg:feed(query(1, "10.0.0.1", "one.example"))
    agg:feed(query(2, "10.0.0.1", "two.example"))
    agg:feed(query(3, "10.0.0.2", "three.example"))
    agg:feed(query(4, "10.0.0.1", "one.example"))      -- touch: one is now the most recent
    agg:feed(query(5, "10.0.0.3", "four.example"))     -- evicts two (the least recent)
    local names = {}
    for _, r in ipairs(agg:top{ by = "entry" }) do names[r.domain] = r.count end
    assert.same({ ["one.example"] = 2, ["three.example"] = 1, ["four.example"] = 1 }, names)
    local s = agg:stats()
    assert.equal(3, s.entries)
    assert.equal(1, s.evictions)
    assert.equal(2, s.clients)
    assert.equal(1, s.client_evictions)   -- 10.0.0.2 was the least recent client
    local text = agg:render()
    local samples = expo.parse(text)
    assert.equal(3, expo.value(samples, "dnsmasq_client_queries_total", { client = "10.0.0.1" }))
    assert.is_nil(expo.value(samples, "dnsmasq_client_queries_total", { client = "10.0.0.2" }))
    agg:close()
  end)

  it("classes each query once by source and result (extra form)", function()
    local agg = dnsagg.new{}
    local c = "192.168.1.10"
    agg:feed(query(1, c, "up.example"))
    agg:feed(string.format("%s1 %s/5000 forwarded up.example to 8.8.8.8", P, c))
    agg:feed(answer(1, c, "reply", "up.example", "<CNAME>"))
    agg:feed(answer(1, c, "reply", "target.example", "10.9.9.9"))   -- same query: not counted again
    agg:feed(query(2, c, "up.example"))
    agg:feed(answer(2, c, "cached", "up.example", "10.9.9.9"))
    agg:feed(query(3, c, "ads.example"))
    agg:feed(answer(3, c, "config", "ads.example", "0.0.0.0"))
    agg:feed(query(4, c, "nothing.lan"))
    agg:feed(answer(4, c, "config", "nothing.lan", "NXDOMAIN"))
    agg:feed(query(5, c, "nas.lan"))
    agg:feed(answer(5, c, "/etc/hosts", "nas.lan", "192.168.1.5"))
    agg:feed(query(6, c, "broken.example"))
    agg:feed(string.format("%s6 %s/5000 reply error is SERVFAIL", P, c))
    agg:feed(query(7, c, "v6only.example"))
    agg:feed(answer(7, c, "reply", "v6only.example", "NODATA-IPv4"))
    agg:feed(answer(8, c, "reply", "never.asked", "1.2.3.4"))          -- no query: not counted
    local s = expo.parse(agg:render())
    local function replies(source, result)
      return expo.value(s, "dnsmasq_replies_total", { source = source, result = result })
    end
    assert.equal(1, replies("upstream", "cname"))
    assert.equal(1, replies("cache", "address"))
    assert.equal(1, replies("blocked", "address"))
    assert.equal(1, replies("local", "nxdomain"))
    assert.equal(1, replies("local", "address"))
    assert.equal(1, replies("upstream", "error"))
    assert.equal(1, replies("upstream", "nodata"))
    assert.equal(7, expo.sum(s, "dnsmasq_replies_total"))
    assert.equal(1, expo.value(s, "dnsmasq_forwarded_total", { server = "8.8.8.8" }))
    agg:close()
  end)

  it("joins hostnames and MACs from several lease files, IPv4 and IPv6", function()
    proc.write_file(dir .. "/a.leases", table.concat({
      "1700000000 aa:bb:cc:dd:ee:01 192.168.1.10 laptop 01:aa:bb:cc:dd:ee:01",
      "0 aa:bb:cc:dd:ee:02 192.168.1.11 * *",
      "duid 00:01:00:01:2c:5f:4e:3a:11:22:33:44:55:66",
      "1700000500 305419896 2001:db8::10 phone 00:01:00:01:2c:5f:4e:3a:aa:bb:cc:dd:ee:03",
      "this line is not a lease",
    }, "\n") .. "\n")
    proc.write_file(dir .. "/b.leases", "1700000900 aa:bb:cc:dd:ee:04 192.168.2.20 printer *\n")
    local agg = dnsagg.new{ leases = { dir .. "/a.leases", dir .. "/b.leases", dir .. "/missing" } }
    agg:feed(query(1, "192.168.1.10", "example.com"))
    agg:feed(query(2, "2001:db8::10", "example.com"))
    agg:feed(query(3, "192.168.2.20", "example.com"))
    agg:feed(query(4, "192.168.1.11", "example.com"))
    local s = expo.parse(agg:render())
    assert.equal(1, expo.value(s, "dnsmasq_client_queries_total",
      { client = "192.168.1.10", hostname = "laptop", mac = "aa:bb:cc:dd:ee:01" }))
    assert.equal(1, expo.value(s, "dnsmasq_client_queries_total",
      { client = "2001:db8::10", hostname = "phone", mac = "aa:bb:cc:dd:ee:03" }))
    assert.equal(1, expo.value(s, "dnsmasq_queries_total",
      { client = "192.168.2.20", hostname = "printer", domain = "example.com", type = "A" }))
    assert.equal(1, expo.value(s, "dnsmasq_client_queries_total",
      { client = "192.168.1.11", hostname = "", mac = "aa:bb:cc:dd:ee:02" }))
    assert.equal(1700000000, expo.value(s, "dnsmasq_lease_expiry_timestamp_seconds", { client = "192.168.1.10" }))
    assert.equal(math.huge, expo.value(s, "dnsmasq_lease_expiry_timestamp_seconds", { client = "192.168.1.11" }))
    assert.equal(4, expo.value(s, "dnsagg_leases"))
    assert.equal(1, expo.value(s, "dnsagg_lease_bad_lines"))
    assert.equal("laptop", agg:top{ client = "laptop" }[1].hostname)

    -- a changed file is read again; a half-written one is not trusted
    proc.write_file(dir .. "/b.leases", "1700000900 aa:bb:cc:dd:ee:04 192.168.2.20 printer2 *\n")
    assert.equal(1, expo.value(expo.parse(agg:render()), "dnsmasq_client_queries_total",
      { client = "192.168.2.20", hostname = "printer2" }))
    proc.write_file(dir .. "/b.leases", "1700000900 aa:bb:cc:dd:ee:04 192.168.2.20 prin")
    assert.equal(1, expo.value(expo.parse(agg:render()), "dnsmasq_client_queries_total",
      { client = "192.168.2.20", hostname = "printer2" }))
    agg:close()
  end)

  it("reads a plain log file to its end with opts.log", function()
    proc.write_file(dir .. "/q.log", table.concat({
      query(1, "10.0.0.1", "a.example"), query(2, "10.0.0.1", "a.example"),
      "Nov 22 01:41:33 dnsmasq[100]: started, version 2.90 cachesize 150",
      query(3, "10.0.0.2", "b.example"),   -- no newline at the end
    }, "\n"))
    local agg = assert(dnsagg.new{ log = dir .. "/q.log" })
    local s = agg:stats()
    assert.equal(3, s.lines_by_kind.query)
    assert.equal(1, s.lines_by_kind.other)
    assert.equal(2, agg:top{ by = "domain" }[1].count)
    agg:close()
  end)

  it("renders an exposition that promtool accepts, also for odd names", function()
    local agg = dnsagg.new{}
    local odd = { 'quo"te.example', "back\\slash.example", "caf\195\169.example", "bad\255byte.example",
                  "<name unprintable>", string.rep("a.", 126) .. "a", "." }
    for i, name in ipairs(odd) do
      assert.equal("query", agg:feed(query(i, "192.168.1.10", name)))
    end
    agg:feed(query(99, "fe80::1%br-lan", "x.example", "type=65"))
    local text = agg:render()
    local ok, out = promtool_check(text, dir)
    assert.is_true(ok, out)
    local types = expo.types(text)
    assert.equal("counter", types.dnsmasq_queries_total)
    assert.equal("gauge", types.dnsagg_table_entries)
    assert.truthy(text:find("# HELP dnsmasq_queries_total ", 1, true))
    local s = expo.parse(text)
    assert.equal(1, expo.value(s, "dnsmasq_queries_total", { domain = 'quo"te.example' }))
    assert.equal(1, expo.value(s, "dnsmasq_queries_total", { domain = "back\\slash.example" }))
    assert.equal(1, expo.value(s, "dnsmasq_queries_total", { domain = "caf\195\169.example" }))
    assert.equal(1, expo.value(s, "dnsmasq_queries_total", { domain = "bad\239\191\189byte.example" }))
    assert.equal(1, expo.value(s, "dnsmasq_queries_total", { client = "fe80::1%br-lan", type = "type=65" }))
    assert.equal(8, expo.value(s, "dnsagg_lines_total", { kind = "query" }))
    agg:close()
  end)

  it("export() writes every family once through the host's metric()", function()
    local agg = dnsagg.new{}
    agg:feed(query(1, "192.168.1.10", 'q"x.example'))
    local types, rows = {}, {}
    local function metric(name, mtype, labels, value)
      assert.is_nil(types[name])
      assert.is_nil(labels); assert.is_nil(value)
      types[name] = mtype
      return function(l, v)
        local copy = {}
        for k, x in pairs(l) do copy[k] = x end
        rows[#rows + 1] = { name = name, labels = copy, value = v }
      end
    end
    agg:export(metric)
    assert.equal("counter", types.dnsmasq_queries_total)
    local found
    for _, r in ipairs(rows) do
      if r.name == "dnsmasq_queries_total" then found = r end
    end
    assert.same({ client = "192.168.1.10", hostname = "", domain = 'q\\"x.example', type = "A" }, found.labels)
    assert.equal("1", found.value)
    assert.has_error(function() agg:export(function() error("host failed") end) end)
    agg:close()
  end)

  it("runs its thread with every signal blocked, and stops it on close", function()
    local pid = require("posix.unistd").getpid()
    local function thread_status()
      for _, path in ipairs(require("posix.glob").glob("/proc/" .. pid .. "/task/*/status") or {}) do
        local f = io.open(path)
        local text = f and f:read("*a") or ""
        if f then f:close() end
        if text:match("Name:%s+dnsagg\n") then return text end
      end
    end
    assert.is_nil(thread_status())
    local agg = dnsagg.new{ fifo = dir .. "/none.fifo", dnsmasq_pidfile = false }
    local status
    for _ = 1, 200 do   -- the thread names itself as it starts
      status = thread_status()
      if status then break end
      require("socket").sleep(0.01)
    end
    assert.is_not_nil(status)
    local mask = tonumber(status:match("SigBlk:%s+%x*(%x%x%x%x%x%x%x%x)\n"), 16)
    -- SIGHUP 1, SIGINT 2, SIGUSR1 10, SIGUSR2 12, SIGPIPE 13, SIGTERM 15, SIGCHLD 17
    for _, sig in ipairs({ 1, 2, 10, 12, 13, 15, 17 }) do
      assert.is_true(math.floor(mask / 2 ^ (sig - 1)) % 2 == 1, "signal " .. sig .. " not blocked")
    end
    assert.is_false(agg:stats().fifo_up)
    agg:close()
    -- close() has joined the thread; the kernel lists an exiting thread in
    -- /proc until it has reaped it, a moment after the join returns (seen
    -- once: "State: R", the thread in its exit): a thread still there after
    -- 2 s never stopped
    for _ = 1, 200 do
      status = thread_status()
      if not status then break end
      require("socket").sleep(0.01)
    end
    assert.is_nil(status)
  end)

  it("closes once, twice, and refuses use after close", function()
    local agg = dnsagg.new{}
    agg:close()
    agg:close()
    assert.has_error(function() agg:render() end, "dnsagg: the aggregator is closed")
  end)
end)
