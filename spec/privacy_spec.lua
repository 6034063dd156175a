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

  it("applies the same rules to the blocked queries' table", function()
    local function block(agg, client, name)
      serial = serial + 1
      assert.equal("query", agg:feed(string.format("%s%d %s/5000 query[A] %s from %s", P, serial, client, name, client)))
      assert.equal("answer", agg:feed(string.format("%s%d %s/5000 config %s is 0.0.0.0", P, serial, client, name)))
    end
    local agg = dnsagg.new{ clients = "hash", client_key = KEY, exclude_domains = { "private.example" }, fold = 2 }
    block(agg, "192.168.1.10", "ads.tracker.example")
    block(agg, "192.168.1.10", "x.private.example")
    local s, text = scrape(agg)
    agg:close()
    assert.is_nil(text:find("192.168.", 1, true), text)
    assert.is_nil(text:find("private", 1, true), text)
    local series = 0
    for _, x in ipairs(s) do
      if x.name == "dnsmasq_blocked_queries_total" then
        series = series + 1
        assert.equal("tracker.example", x.labels.domain)
        assert.truthy(x.labels.client:match("^%x+$"), x.labels.client)
        assert.equal(1, x.value)
      end
    end
    assert.equal(1, series)
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

-- The same controls with the real dnsmasq and the test host (forking per
-- scrape like uhttpd), configured through DNSAGG_CONFIG.
describe("privacy controls with the real dnsmasq", function()
  local dnsmasq = require("spec.support.dnsmasq")
  local http = require("spec.support.http")
  local pstat = require("posix.sys.stat")
  local unistd = require("posix.unistd")
  local socket = require("socket")
  local ROOT = unistd.getcwd()
  local dir, up, dm, host

  before_each(function() dir = proc.tmpdir() end)
  after_each(function()
    dnsmasq.stop(dm); dnsmasq.stop(up)
    if host then proc.kill(host) end
    proc.kill_all()
    proc.rmtree(dir)
    dm, up, host = nil, nil, nil
  end)

  local function start_host(conf)
    proc.write_file(dir .. "/dnsagg.conf.lua", conf)
    return assert(proc.start_host{ mode = "fork", collectors = ROOT .. "/lua", cpath = ROOT,
      env = { DNSAGG_CONFIG = dir .. "/dnsagg.conf.lua" } })
  end

  -- scrapes until the client totals add up to `want` (bounded in time)
  local function scrape_until(want)
    local deadline = socket.gettime() + 15
    local body, s
    repeat
      body = assert(http.get(host.url .. "?collect[]=dnsagg", 10))
      s = expo.parse(body)
      -- the queries, and their replies: the reader may rest 10 ms between
      -- taking a query's lines and its reply's
      local queries = expo.sum(s, "dnsmasq_client_queries_total", {})
      if queries >= want and expo.sum(s, "dnsmasq_replies_total", {}) >= queries then break end
      socket.sleep(0.05)
    until socket.gettime() > deadline
    return body, s
  end

  it("excludes, folds, pseudonymises and caps what the exporter shows", function()
    local fifo = dir .. "/dnsmasq.fifo"
    assert(pstat.mkfifo(fifo, 384))
    proc.write_file(dir .. "/dhcp.leases", "1900000000 aa:bb:cc:00:00:11 127.0.0.11 laptop *\n")
    local conf = string.format([[return { fifo = %q, leases = %q, dnsmasq_pidfile = false,
      exclude_domains = { "lan" }, fold = "psl", clients = "hash", client_key = %q, max_series = 3 }]],
      fifo, dir .. "/dhcp.leases", KEY)
    host = start_host(conf)
    up = dnsmasq.upstream{ dir = dir }
    dm = dnsmasq.start{ dir = dir, log = fifo, upstream = up }
    local SENT = {
      { "www.example.org", "A", "127.0.0.11" },
      { "www.example.org", "A", "127.0.0.11" },   -- from the cache
      { "a.b.example.org", "AAAA", "127.0.0.11" },
      { "unknown.lan", "A", "127.0.0.12" },       -- excluded; local/nxdomain
      { "blocked.test", "A", "127.0.0.12" },
      { "example.org", "MX", "127.0.0.13" },
    }
    for _, q in ipairs(SENT) do
      assert.is_not_nil(dnsmasq.dig(dm, q[1], { type = q[2], from = q[3] }), q[1])
    end
    local body, s = scrape_until(#SENT)
    assert.is_nil(body:find("127.0.0.1", 1, true), body)
    assert.is_nil(body:find("laptop", 1, true))
    assert.is_nil(body:find("aa:bb:cc", 1, true))
    assert.is_nil(body:find("lan\"", 1, true))
    -- folded: the three example.org names are one domain; 4 keys (and the
    -- start-up probes of "."), 3 written, the most counted first
    local entries = expo.value(s, "dnsagg_table_entries")
    assert.is_true(entries >= 4)
    assert.equal(3, expo.count(s, "dnsmasq_queries_total", {}))
    assert.equal(entries - 3, expo.value(s, "dnsagg_query_series_omitted"))
    assert.equal(2, expo.value(s, "dnsmasq_queries_total", { domain = "example.org", type = "A" }))
    assert.equal(1, expo.value(s, "dnsagg_excluded_queries_total"))
    assert.equal(1, expo.value(s, "dnsmasq_replies_total", { source = "local", result = "nxdomain" }))
    assert.equal(1, expo.value(s, "dnsmasq_replies_total", { source = "blocked", result = "address" }))
    -- pseudonymous clients (dnsmasq's start-up probe of "." from 127.0.0.1 among them)
    for _, x in ipairs(s) do
      if x.name == "dnsmasq_client_queries_total" then
        assert.truthy(x.labels.client:match("^%x+$") and #x.labels.client == 12, x.labels.client)
      end
    end
    local laptop
    for _, x in ipairs(s) do
      if x.name == "dnsmasq_queries_total" and x.labels.type == "A" and x.value == 2 then laptop = x.labels.client end
    end
    assert.is_string(laptop)
    assert.equal(3, expo.value(s, "dnsmasq_client_queries_total", { client = laptop }))

    -- the exporter restarts with the same key: 127.0.0.11 has the same pseudonym
    proc.kill(host)
    host = start_host(conf)
    socket.sleep(0.2)
    assert.is_not_nil(dnsmasq.dig(dm, "mail.example.org", { type = "A", from = "127.0.0.11" }))
    local _, s2 = scrape_until(1)
    assert.equal(1, expo.value(s2, "dnsmasq_client_queries_total", { client = laptop }))
    assert.equal(1, expo.value(s2, "dnsmasq_queries_total", { client = laptop, domain = "example.org", type = "A" }))
  end)
end)

-- Exposure: the module serves nothing itself. Whoever can reach the
-- exporter's own port reads the metrics; the module opens no listening
-- socket in the process that loads it.
describe("exposure", function()
  local dirent = require("posix.dirent")
  local pstat = require("posix.sys.stat")
  local unistd = require("posix.unistd")

  -- inodes of the sockets this process holds
  local function own_sockets()
    local set = {}
    for _, fd in ipairs(dirent.dir("/proc/self/fd")) do
      local st = fd:match("^%d+$") and pstat.stat("/proc/self/fd/" .. fd) -- the socket itself
      if st and pstat.S_ISSOCK(st.st_mode) ~= 0 then set[tostring(st.st_ino)] = true end
    end
    return set
  end

  -- inodes of listening or bound sockets, by table: TCP in LISTEN, UDP
  -- (bound: it can receive), unix sockets in LISTEN, and packet sockets
  local function tables()
    local t = {}
    for _, name in ipairs{ "tcp", "tcp6", "udp", "udp6", "raw", "raw6" } do
      local f = io.open("/proc/self/net/" .. name)
      for line in f:lines() do
        local fields = {}
        for w in line:gmatch("%S+") do fields[#fields + 1] = w end
        local st, inode = fields[4], fields[10]
        if inode and inode ~= "inode" and (name:match("^udp") or name:match("^raw") or st == "0A") then
          t[inode] = name
        end
      end
      f:close()
    end
    for line in io.lines("/proc/self/net/unix") do
      local flags, inode = line:match("^%x+: %x+ %x+ (%x+) %x+ %x+ (%d+)")
      if inode and tonumber(flags, 16) % 0x20000 >= 0x10000 then t[inode] = "unix listening" end
    end
    for line in io.lines("/proc/self/net/packet") do
      local inode = line:match("(%d+)%s*$")
      if inode and not line:match("^sk") then t[inode] = "packet" end
    end
    return t
  end

  it("opens no listening socket in the host process", function()
    local dnsagg = require("dnsagg")
    local dir = proc.tmpdir()
    local fifo = dir .. "/q.fifo"
    assert(require("posix.sys.stat").mkfifo(fifo, 384))
    local before = own_sockets()
    local opts = { fifo = fifo, dnsmasq_pidfile = false, leases = dir .. "/none.leases",
                   exclude_domains = { "lan" }, clients = "hash" }
    local root = unistd.geteuid() == 0
    if root then opts.capture = { interface = "lo", port = 25399 } end
    local agg = assert(dnsagg.new(opts))
    assert.is_true(agg:sync(5))
    agg:render()
    local kinds, new = tables(), {}
    for inode in pairs(own_sockets()) do
      if not before[inode] then new[#new + 1] = kinds[inode] or "unbound" end
    end
    -- with capture: one AF_PACKET socket, which receives copies of frames
    -- and cannot accept a connection or a datagram; without: none at all
    assert.same(root and { "packet" } or {}, new)
    agg:close()
    proc.rmtree(dir)

    -- the control: a listening socket of the process's own is seen
    local server = assert(require("socket").bind("127.0.0.1", 0))
    local seen
    for inode in pairs(own_sockets()) do
      if not before[inode] and tables()[inode] == "tcp" then seen = true end
    end
    server:close()
    assert.is_true(seen)
  end)
end)
