-- Privacy and cardinality controls of the module, through feed() and the
-- exposition: include/exclude by suffix, folding to the registrable domain
-- (Debian's public-suffix list, or a label count), clients left out or
-- pseudonymised, and a cap on the series a scrape writes.
local proc = require("spec.support.proc")
local expo = require("spec.support.expo")

local P = "Nov 22 01:41:33 dnsmasq[100]: "
local PSL = "/usr/share/publicsuffix/public_suffix_list.dat"
local KEY = "a secret of the spec, 32 chars.."

local serial = 0
-- one query in the extra form and its reply line
local function ask(agg, client, name, qtype)
  serial = serial + 1
  assert.equal("query", agg:feed(string.format("%s%d %s/5000 query[%s] %s from %s", P, serial, client,
    qtype or "A", name, client)))
  assert.equal("answer", agg:feed(string.format("%s%d %s/5000 reply %s is 10.9.9.9", P, serial, client, name)))
end

local function scrape(agg)
  local text = agg:render()
  local ok, out = expo.promtool_check(text, proc.tmpdir())
  assert.is_true(ok, out)
  return expo.parse(text), text
end

describe("privacy and cardinality controls", function()
  local dnsagg = require("dnsagg")
  local dir

  before_each(function() dir = proc.tmpdir() end)
  after_each(function() proc.rmtree(dir) end)

  it("leaves excluded suffixes out of the table, on label boundaries, in any case", function()
    local agg = dnsagg.new{ exclude_domains = { "lan", "Apple.COM" } }
    for _, name in ipairs{ "printer.lan", "LAN", "www.apple.com", "apple.com", "xlan", "pineapple.com",
                           "apple.com.example.org", "www.example.org" } do
      ask(agg, "192.168.1.10", name)
    end
    local s = scrape(agg)
    local function q(name) return expo.value(s, "dnsmasq_queries_total", { domain = name }) end
    assert.is_nil(q("printer.lan")); assert.is_nil(q("LAN"))
    assert.is_nil(q("www.apple.com")); assert.is_nil(q("apple.com"))
    assert.equal(1, q("xlan")); assert.equal(1, q("pineapple.com"))
    assert.equal(1, q("apple.com.example.org")); assert.equal(1, q("www.example.org"))
    assert.equal(4, expo.count(s, "dnsmasq_queries_total", {}))
    -- the rule: an excluded query still counts in its client's total and in the reply classes
    assert.equal(8, expo.value(s, "dnsmasq_client_queries_total", { client = "192.168.1.10" }))
    assert.equal(8, expo.value(s, "dnsmasq_replies_total", { source = "upstream", result = "address" }))
    assert.equal(4, expo.value(s, "dnsagg_excluded_queries_total"))
    assert.equal(4, agg:stats().excluded)
    assert.equal(4, agg:stats().entries)
    agg:close()
  end)

  it("counts only included suffixes, and exclude wins over include", function()
    local agg = dnsagg.new{ include_domains = "example.org", exclude_domains = { "ads.example.org" } }
    for _, name in ipairs{ "example.org", "www.example.org", "x.ads.example.org", "example.com", "org" } do
      ask(agg, "192.168.1.10", name)
    end
    local s = scrape(agg)
    assert.equal(2, expo.count(s, "dnsmasq_queries_total", {}))
    assert.equal(1, expo.value(s, "dnsmasq_queries_total", { domain = "www.example.org" }))
    assert.equal(3, expo.value(s, "dnsagg_excluded_queries_total"))
    -- without rules the family is not written
    assert.is_nil(expo.value(expo.parse(dnsagg.new{}:render()), "dnsagg_excluded_queries_total"))
  end)

  it("folds names to their registrable domain with Debian's public-suffix list", function()
    local agg = dnsagg.new{ fold = "psl" }  -- the list's default path
    for _, name in ipairs{ "www.bbc.co.uk", "news.bbc.co.uk", "a.b.c.example.com", "example.com",
                           "x.y.blogspot.com", "co.uk", "a.b.www.ck", "a.b.c.ck", "z.q.example.unlisted" } do
      ask(agg, "192.168.1.10", name)
    end
    local s = scrape(agg)
    local function q(name) return expo.value(s, "dnsmasq_queries_total", { domain = name }) end
    assert.equal(2, q("bbc.co.uk"))
    assert.equal(2, q("example.com"))
    assert.equal(1, q("y.blogspot.com"))   -- blogspot.com is a (private) public suffix
    assert.equal(1, q("co.uk"))            -- a public suffix itself stays whole
    assert.equal(1, q("www.ck"))           -- !www.ck
    assert.equal(1, q("b.c.ck"))           -- *.ck
    assert.equal(1, q("example.unlisted")) -- the default rule
    assert.equal(7, expo.count(s, "dnsmasq_queries_total", {}))
    assert.equal(9, expo.value(s, "dnsmasq_replies_total", { source = "upstream", result = "address" }))
    agg:close()
  end)

  it("folds to a label count, and reads the list from option psl", function()
    local agg = dnsagg.new{ fold = 2 }
    ask(agg, "192.168.1.10", "a.b.example.com")
    ask(agg, "192.168.1.10", "www.bbc.co.uk")
    local s = scrape(agg)
    assert.equal(1, expo.value(s, "dnsmasq_queries_total", { domain = "example.com" }))
    assert.equal(1, expo.value(s, "dnsmasq_queries_total", { domain = "co.uk" }))

    proc.write_file(dir .. "/list.dat", "// mine\nuk\nco.uk\n*.example\n")
    agg = dnsagg.new{ fold = "psl", psl = dir .. "/list.dat" }
    ask(agg, "192.168.1.10", "www.bbc.co.uk")
    ask(agg, "192.168.1.10", "a.b.c.example")
    s = scrape(agg)
    assert.equal(1, expo.value(s, "dnsmasq_queries_total", { domain = "bbc.co.uk" }))
    assert.equal(1, expo.value(s, "dnsmasq_queries_total", { domain = "b.c.example" }))

    local none, err = dnsagg.new{ fold = "psl", psl = dir .. "/missing.dat" }
    assert.is_nil(none)
    assert.equal("dnsagg: option 'psl': cannot read the public-suffix list " .. dir ..
      "/missing.dat: No such file or directory", err)
    assert.has_error(function() dnsagg.new{ fold = "registrable" } end,
      "dnsagg.new: option 'fold' must be \"psl\" or a whole number from 1 to 127")
    assert.has_error(function() dnsagg.new{ fold = 0 } end,
      "dnsagg.new: option 'fold' must be \"psl\" or a whole number from 1 to 127")
    assert.has_error(function() dnsagg.new{ exclude_domains = { "a..b" } } end,
      "dnsagg.new: option 'exclude_domains' must be a list of domain names")
  end)

  it("leaves client addresses, hostnames and MACs out with clients = \"drop\"", function()
    proc.write_file(dir .. "/leases", "0 aa:bb:cc:00:00:01 192.168.1.10 laptop *\n")
    local agg = dnsagg.new{ clients = "drop", leases = dir .. "/leases" }
    ask(agg, "192.168.1.10", "example.org")
    ask(agg, "192.168.1.11", "example.org")
    ask(agg, "192.168.1.11", "example.com", "AAAA")
    local s, text = scrape(agg)
    assert.is_nil(text:find("192.168.", 1, true), text)
    assert.is_nil(text:find("laptop", 1, true))
    assert.is_nil(text:find("aa:bb:cc", 1, true))
    assert.equal(2, expo.value(s, "dnsmasq_queries_total", { client = "", domain = "example.org", type = "A" }))
    assert.equal(3, expo.value(s, "dnsmasq_client_queries_total", { client = "" }))
    assert.equal(0, expo.count(s, "dnsmasq_lease_expiry_timestamp_seconds", {}))
    assert.equal(0, agg:stats().leases)
    for _, row in ipairs(agg:top{ by = "client" }) do assert.equal("", row.client) end
  end)

  it("pseudonymises clients with a keyed hash, stable for the same key", function()
    proc.write_file(dir .. "/leases", "0 aa:bb:cc:00:00:01 192.168.1.10 laptop *\n")
    local function pseudonyms(opts)
      local agg = dnsagg.new(opts)
      ask(agg, "192.168.1.10", "example.org")
      ask(agg, "192.168.1.11", "example.org")
      ask(agg, "192.168.1.11", "example.org")
      local s, text = scrape(agg)
      assert.is_nil(text:find("192.168.", 1, true), text)
      assert.is_nil(text:find("laptop", 1, true))
      assert.is_nil(text:find("aa:bb:cc", 1, true))
      local by = {}
      for _, x in ipairs(s) do
        if x.name == "dnsmasq_client_queries_total" then
          assert.truthy(x.labels.client:match("^%x%x%x%x%x%x%x%x%x%x%x%x$"), x.labels.client)
          assert.equal("", x.labels.hostname)
          assert.equal("", x.labels.mac)
          by[x.value] = x.labels.client
        end
      end
      agg:close()
      return by
    end
    local a = pseudonyms{ clients = "hash", client_key = KEY, leases = dir .. "/leases" }
    local b = pseudonyms{ clients = "hash", client_key = KEY }  -- another aggregator, as after a restart
    assert.is_string(a[1]); assert.is_string(a[2])
    assert.are_not.equal(a[1], a[2])
    assert.same(a, b)
    local c = pseudonyms{ clients = "hash", client_key = KEY .. "!" }
    assert.are_not.equal(a[1], c[1])
    assert.are_not.equal(a[2], c[2])
    local d = pseudonyms{ clients = "hash" }  -- no key: a random one, pseudonyms change on every start
    assert.are_not.equal(a[1], d[1])

    assert.has_error(function() dnsagg.new{ clients = "hash", client_key = "short" } end,
      "dnsagg.new: option 'client_key' must be at least 16 characters")
    assert.has_error(function() dnsagg.new{ client_key = KEY } end,
      "dnsagg.new: option 'client_key' needs clients = \"hash\"")
    assert.has_error(function() dnsagg.new{ clients = "mask" } end,
      "dnsagg.new: option 'clients' must be \"keep\", \"drop\" or \"hash\"")
  end)

  it("writes at most max_series series of dnsmasq_queries_total, the most counted first", function()
    local agg = dnsagg.new{ max_series = 3 }
    for i = 1, 10 do
      for _ = 1, i do ask(agg, "192.168.1.10", "n" .. i .. ".example.org") end
    end
    ask(agg, "192.168.1.10", "n1.example.org") -- the newest key, but still among the least counted
    local s, text = scrape(agg)
    assert.equal(3, expo.count(s, "dnsmasq_queries_total", {}))
    for i = 8, 10 do
      assert.equal(i, expo.value(s, "dnsmasq_queries_total", { domain = "n" .. i .. ".example.org" }))
    end
    assert.equal(7, expo.value(s, "dnsagg_query_series_omitted"))
    assert.equal(3, expo.value(s, "dnsagg_query_series_limit"))
    assert.equal(10, expo.value(s, "dnsagg_table_entries"))
    assert.equal(56, expo.value(s, "dnsmasq_client_queries_total", { client = "192.168.1.10" }))
    -- the host's metric() sees the same cut
    local seen = 0
    agg:export(function(name)
      return function() if name == "dnsmasq_queries_total" then seen = seen + 1 end end
    end)
    assert.equal(3, seen)
    -- top() and stats() still see the whole table
    assert.equal(10, #agg:top{ n = 100 })
    assert.equal(10, agg:stats().entries)
    -- under the cap nothing is left out
    local small = dnsagg.new{ max_series = 20 }
    ask(small, "192.168.1.10", "example.org")
    assert.equal(0, expo.value(expo.parse(small:render()), "dnsagg_query_series_omitted"))
    assert.truthy(text:find("# TYPE dnsagg_query_series_omitted gauge", 1, true))
  end)
end)
