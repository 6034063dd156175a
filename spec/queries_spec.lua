-- top{} as a person asks it of their network: top domains overall and of
-- one client (by address or by hostname), top clients overall and of one
-- domain or suffix, by query type, blocked queries, and `since` against the
-- times a log file carries.
local proc = require("spec.support.proc")

-- a file-form prefix at unix time t, as dnsmasq writes it (local time)
local function stamp(t)
  return os.date("%b %e %H:%M:%S", t) .. " dnsmasq[100]: "
end

local serial = 0
-- the lines of one query and its answer, at time t
local function exchange(t, client, name, qtype, verb, answer)
  serial = serial + 1
  local p = stamp(t) .. serial .. " " .. client .. "/5000 "
  return p .. "query[" .. qtype .. "] " .. name .. " from " .. client .. "\n"
      .. p .. verb .. " " .. name .. " is " .. answer .. "\n"
end

describe("top{}", function()
  local dnsagg = require("dnsagg")
  local dir, agg
  local now = os.time()
  local HOUR = 3600

  before_each(function()
    dir = proc.tmpdir()
    proc.write_file(dir .. "/dhcp.leases",
      "1900000000 aa:bb:cc:00:00:11 10.0.0.11 laptop *\n1900000000 aa:bb:cc:00:00:12 10.0.0.12 phone *\n")
    local log = {}
    local function add(n, ...) for _ = 1, n do log[#log + 1] = exchange(...) end end
    -- two days ago: the laptop, a lot
    add(9, now - 2 * 24 * HOUR, "10.0.0.11", "old.example.com", "A", "reply", "10.9.9.9")
    -- the last hour
    add(3, now - 30 * 60, "10.0.0.11", "www.example.com", "A", "reply", "10.9.9.9")
    add(2, now - 20 * 60, "10.0.0.11", "www.example.com", "AAAA", "reply", "2001:db8::9")
    add(1, now - 10 * 60, "10.0.0.12", "www.example.com", "AAAA", "cached", "2001:db8::9")
    add(4, now - 5 * 60, "10.0.0.12", "api.example.net", "A", "reply", "10.9.9.8")
    add(2, now - 5 * 60, "10.0.0.12", "ads.example", "A", "config", "0.0.0.0")
    add(1, now - 4 * 60, "10.0.0.11", "ads.example", "AAAA", "config", "::")
    add(1, now - 3 * 60, "10.0.0.13", "example.com", "MX", "reply", "<MX>")
    proc.write_file(dir .. "/dnsmasq.log", table.concat(log))
    agg = assert(dnsagg.new{ log = dir .. "/dnsmasq.log", leases = dir .. "/dhcp.leases" })
  end)

  after_each(function()
    agg:close()
    proc.rmtree(dir)
  end)

  local function pairs_of(rows, key)
    local out = {}
    for i, r in ipairs(rows) do out[i] = { r[key], r.count } end
    return out
  end

  it("lists top domains overall and of one client, by address or hostname", function()
    assert.same({ { "old.example.com", 9 }, { "www.example.com", 6 }, { "api.example.net", 4 },
                  { "ads.example", 3 }, { "example.com", 1 } }, pairs_of(agg:top{ by = "domain" }, "domain"))
    local laptop = agg:top{ by = "domain", client = "laptop" }
    assert.same({ { "old.example.com", 9 }, { "www.example.com", 5 }, { "ads.example", 1 } },
      pairs_of(laptop, "domain"))
    assert.same(laptop, agg:top{ by = "domain", client = "10.0.0.11" })
    assert.equal("laptop", laptop[1].hostname)
    assert.equal("10.0.0.11", laptop[1].client)
    assert.same({ { "old.example.com", 9 } }, pairs_of(agg:top{ client = "laptop", n = 1 }, "domain"))
  end)

  it("gives 10 rows by default, n of them, and all of them with n = 0", function()
    local t = now - 60
    local log = {}
    for i = 1, 12 do
      for _ = 1, i do log[#log + 1] = exchange(t, "10.0.0." .. i, "d" .. i .. ".example", "A", "config", "0.0.0.0") end
    end
    proc.write_file(dir .. "/many.log", table.concat(log))
    local many = assert(dnsagg.new{ log = dir .. "/many.log" })
    assert.equal(10, #many:top{})
    assert.equal(3, #many:top{ n = 3 })
    local all = many:top{ n = 0 }
    assert.equal(12, #all)
    assert.same({ "d12.example", 12 }, { all[1].domain, all[1].count })
    assert.same({ "d1.example", 1 }, { all[12].domain, all[12].count })
    assert.equal(12, #many:top{ by = "client", n = 0 })
    assert.equal(12, #many:top{ by = "entry", n = 0 })
    assert.equal(12, #many:top{ blocked = true, n = 0 })
    assert.same(all, many:top{ n = 100 })
    assert.same({}, many:top{ n = 0, domain = "none.example" })
    assert.has_error(function() many:top{ n = -1 } end, "dnsagg: top option 'n' must be a number of at least 0")
    many:close()
  end)

  it("lists top clients overall and of one domain or suffix", function()
    assert.same({ { "10.0.0.11", 15 }, { "10.0.0.12", 7 }, { "10.0.0.13", 1 } },
      pairs_of(agg:top{ by = "client" }, "client"))
    assert.same({ { "laptop", 15 }, { "phone", 7 }, { "", 1 } }, pairs_of(agg:top{ by = "client" }, "hostname"))
    assert.same({ { "10.0.0.11", 5 }, { "10.0.0.12", 1 } },
      pairs_of(agg:top{ by = "client", domain = "www.example.com" }, "client"))
    -- the suffix: the name itself and everything under it, not "badexample.com"
    assert.same({ { "10.0.0.11", 14 }, { "10.0.0.13", 1 }, { "10.0.0.12", 1 } },
      pairs_of(agg:top{ by = "client", domain = "*.example.com" }, "client"))
  end)

  it("filters by query type, in any case", function()
    assert.same({ { "www.example.com", 3 }, { "ads.example", 1 } },
      pairs_of(agg:top{ by = "domain", type = "AAAA" }, "domain"))
    assert.same(agg:top{ type = "AAAA" }, agg:top{ type = "aaaa" })
    local mx = agg:top{ by = "entry", type = "MX" }
    assert.equal(1, #mx)
    assert.equal("MX", mx[1].type)
    assert.same({ { "10.0.0.11", 2 }, { "10.0.0.12", 1 } },
      pairs_of(agg:top{ by = "client", type = "AAAA", domain = "*.example.com" }, "client"))
    assert.same({}, agg:top{ type = "TXT" })
    assert.has_error(function() agg:top{ type = 28 } end, "dnsagg: top option 'type' must be a string")
  end)

  it("keeps rows by the times the log carries with since, and gives first and last seen", function()
    local www = agg:top{ domain = "www.example.com" }[1]
    assert.equal(now - 30 * 60, www.first_seen)
    assert.equal(now - 10 * 60, www.last_seen)
    local old = agg:top{ domain = "old.example.com" }[1]
    assert.equal(now - 2 * 24 * HOUR, old.first_seen)
    assert.equal(old.first_seen, old.last_seen)
    -- the last hour leaves the old name out; the last 15 minutes keep only what was seen then
    assert.same({ { "www.example.com", 6 }, { "api.example.net", 4 }, { "ads.example", 3 }, { "example.com", 1 } },
      pairs_of(agg:top{ since = HOUR }, "domain"))
    -- equal counts: the most recently seen first
    assert.same({ { "10.0.0.12", 7 }, { "10.0.0.13", 1 }, { "10.0.0.11", 1 } },
      pairs_of(agg:top{ by = "client", since = 15 * 60 }, "client"))
  end)

  it("orders equal counts seen at the same time by name", function()
    local t = now - 60
    proc.write_file(dir .. "/same.log", exchange(t, "10.0.0.2", "c.example", "A", "reply", "10.9.9.9")
      .. exchange(t, "10.0.0.3", "a.example", "A", "reply", "10.9.9.9")
      .. exchange(t, "10.0.0.1", "b.example", "A", "reply", "10.9.9.9"))
    local same = assert(dnsagg.new{ log = dir .. "/same.log" })
    assert.same({ { "a.example", 1 }, { "b.example", 1 }, { "c.example", 1 } }, pairs_of(same:top{}, "domain"))
    assert.same({ { "10.0.0.1", 1 }, { "10.0.0.2", 1 }, { "10.0.0.3", 1 } }, pairs_of(same:top{ by = "client" }, "client"))
    same:close()
  end)

  it("lists blocked queries by domain and by client", function()
    local blocked = agg:top{ blocked = true }
    assert.same({ { "ads.example", 3 } }, pairs_of(blocked, "domain"))
    assert.is_nil(blocked[1].type)
    assert.equal(now - 5 * 60, blocked[1].first_seen)
    assert.equal(now - 4 * 60, blocked[1].last_seen)
    assert.same({ { "phone", 2 }, { "laptop", 1 } }, pairs_of(agg:top{ blocked = true, by = "client" }, "hostname"))
    assert.same({ { "ads.example", 1 } }, pairs_of(agg:top{ blocked = true, client = "laptop" }, "domain"))
    assert.equal(2, agg:stats().blocked)
    assert.has_error(function() agg:top{ blocked = 1 } end, "dnsagg: top option 'blocked' must be a boolean")
  end)
end)
