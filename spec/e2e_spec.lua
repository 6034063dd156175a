-- End to end with the real dnsmasq: dnsmasq (log-queries=extra) writes its
-- log to a FIFO that the module reads inside the test host, dig sends real
-- queries from several loopback addresses, and the scrape must show exactly
-- what was sent, in both hosting models and in command-line mode.
-- DNSAGG_DNSMASQ runs it against another dnsmasq (make test-dnsmasq-versions:
-- each release OpenWrt ships); what differs by version is said where it is
-- checked (README, "dnsmasq versions").
local proc = require("spec.support.proc")
local dnsmasq = require("spec.support.dnsmasq")
local expo = require("spec.support.expo")
local http = require("spec.support.http")
local pstat = require("posix.sys.stat")
local unistd = require("posix.unistd")
local socket = require("socket")

local ROOT = unistd.getcwd()

-- seconds a query whose outcome dnsmasq never logs stays open (src/pending.h)
local PENDING_TIMEOUT = tonumber(proc.read_file(ROOT .. "/src/pending.h"):match("#define PENDING_TIMEOUT (%d+)u"))
-- Before 2.86 dnsmasq logs no reply line for an MX answer from upstream, and
-- 2.80/2.85 log a TXT answer's strings without serial ("reply NAME is TEXT"):
-- those queries are classed (upstream, none) once PENDING_TIMEOUT is up.
local LOGS_EVERY_RECORD = dnsmasq.at_least(2, 86)
-- "forwarded NAME to SERVER#PORT": the port only from 2.89 on
local function server_label(up)
  return dnsmasq.at_least(2, 89) and "127.0.0.2#" .. up.port or "127.0.0.2"
end

local LEASES = table.concat({
  "1900000000 aa:bb:cc:00:00:11 127.0.0.11 laptop 01:aa:bb:cc:00:00:11",
  "1900000100 aa:bb:cc:00:00:12 127.0.0.12 phone *",
}, "\n") .. "\n"

-- what the spec sends: name, type, source address
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

local function setup(dir, mode)
  local fifo = dir .. "/dnsmasq.fifo"
  assert(pstat.mkfifo(fifo, 384))
  proc.write_file(dir .. "/dhcp.leases", LEASES)
  proc.write_file(dir .. "/dnsagg.conf.lua", string.format(
    "return { fifo = %q, leases = %q, dnsmasq_pidfile = %q }", fifo, dir .. "/dhcp.leases", dir .. "/dnsmasq.pid"))
  local host, err, stderr = proc.start_host{ mode = mode, collectors = ROOT .. "/lua", cpath = ROOT,
    env = { DNSAGG_CONFIG = dir .. "/dnsagg.conf.lua" } }
  assert(host, tostring(err) .. " " .. tostring(stderr))
  return fifo, host
end

-- Scrapes until the clients' queries are counted, and every counted query's
-- reply too (bounded), and returns the last scrape: dig has its answer once
-- dnsmasq wrote the reply line, but the reader may have taken the query's
-- lines in one read and rest 10 ms before the next, so a scrape can come in
-- between; and a query whose reply dnsmasq never logs is classed only once
-- PENDING_TIMEOUT is up.
local function scrape_until(host, clients, want)
  local deadline = socket.gettime() + PENDING_TIMEOUT + 10
  local body, samples
  repeat
    body = assert(http.get(host.url .. "?collect[]=dnsagg", 10))
    samples = expo.parse(body)
    local seen = 0
    for _, c in ipairs(clients) do
      seen = seen + expo.sum(samples, "dnsmasq_client_queries_total", { client = c })
    end
    local replied = expo.sum(samples, "dnsmasq_replies_total", {})
      >= expo.sum(samples, "dnsmasq_client_queries_total", {})
    if seen >= want and replied then return body, samples end
    socket.sleep(0.05)
  until socket.gettime() > deadline
  return body, samples
end

describe("the real dnsmasq, the module and the test host", function()
  local dir, up, dm, host

  before_each(function() dir = proc.tmpdir() end)
  after_each(function()
    dnsmasq.stop(dm); dnsmasq.stop(up)
    if host then proc.kill(host) end
    proc.kill_all()
    proc.rmtree(dir)
    dm, up, host = nil, nil, nil
  end)

  for _, mode in ipairs({ "fork", "server" }) do
    it("counts every query once, joins leases, and classes replies (" .. mode .. " host)", function()
      local fifo
      fifo, host = setup(dir, mode)
      up = dnsmasq.upstream{ dir = dir }
      dm = dnsmasq.start{ dir = dir, log = fifo, upstream = up }
      for _, q in ipairs(SENT) do
        local status = dnsmasq.dig(dm, q[1], { type = q[2], from = q[3] })
        assert.is_not_nil(status, "no answer to " .. q[1] .. " " .. q[2])
      end
      local body, s = scrape_until(host, { "127.0.0.11", "127.0.0.12", "127.0.0.13" }, #SENT)

      local function q(client, domain, qtype)
        return expo.value(s, "dnsmasq_queries_total", { client = client, domain = domain, type = qtype })
      end
      assert.equal(2, q("127.0.0.11", "example.org", "A"))
      assert.equal(1, q("127.0.0.11", "example.org", "AAAA"))
      assert.equal(1, q("127.0.0.12", "example.org", "MX"))
      assert.equal(1, q("127.0.0.12", "example.org", "TXT"))
      assert.equal(1, q("127.0.0.12", "blocked.test", "A"))
      assert.equal(1, q("127.0.0.13", "unknown.lan", "A"))
      assert.equal(1, q("127.0.0.13", "www.example.org", "A"))
      -- hostnames and MACs from the lease file
      assert.equal(3, expo.value(s, "dnsmasq_client_queries_total",
        { client = "127.0.0.11", hostname = "laptop", mac = "aa:bb:cc:00:00:11" }))
      assert.equal(3, expo.value(s, "dnsmasq_client_queries_total",
        { client = "127.0.0.12", hostname = "phone", mac = "aa:bb:cc:00:00:12" }))
      assert.equal(2, expo.value(s, "dnsmasq_client_queries_total", { client = "127.0.0.13", hostname = "", mac = "" }))
      assert.equal(2, expo.value(s, "dnsmasq_queries_total",
        { client = "127.0.0.11", hostname = "laptop", domain = "example.org", type = "A" }))
      -- the repeat is a cache hit, the blocked name blocked, the unknown local name nxdomain
      local function replies(source, result)
        return expo.value(s, "dnsmasq_replies_total", { source = source, result = result })
      end
      assert.equal(1, replies("cache", "address"))
      assert.equal(1, replies("blocked", "address"))
      assert.equal(1, replies("local", "nxdomain"))
      if LOGS_EVERY_RECORD then
        assert.equal(2, replies("upstream", "record"))    -- MX and TXT
        assert.is_nil(replies("upstream", "none"))
      else
        assert.is_nil(replies("upstream", "record"))
        assert.equal(2, replies("upstream", "none"))      -- MX and TXT: no reply line of theirs
      end
      assert.equal(3, replies("upstream", "address"))     -- A, AAAA, www
      assert.equal(5, expo.value(s, "dnsmasq_forwarded_total", { server = server_label(up) })
        - expo.sum(s, "dnsmasq_queries_total", { domain = "." }))
      assert.equal(1, expo.value(s, "dnsagg_fifo_up"))
      -- the FIFO was opened before dnsmasq started: no dnsmasq to signal then
      assert.equal(0, expo.value(s, "dnsagg_dnsmasq_reopen_signals_total"))
      assert.equal(0, expo.value(s, "dnsagg_lines_total", { kind = "unparsed" }))
      assert.equal(1, expo.value(s, "node_scrape_collector_success", { collector = "dnsagg" }))
      -- promtool parses the host's output; its only complaints may be the
      -- missing HELP lines, which the host never writes
      local ok, lint = expo.promtool_check_host(body, dir)
      assert.is_true(ok, lint)
      -- one TYPE line per family
      local seen = {}
      for name in body:gmatch("# TYPE (%S+)") do
        assert.is_nil(seen[name], "TYPE twice for " .. name)
        seen[name] = true
      end
    end)
  end

  it("classes every query once, those whose outcome dnsmasq never logs once PENDING_TIMEOUT is up", function()
    local fifo
    fifo, host = setup(dir, "fork")
    up = dnsmasq.upstream{ dir = dir }
    -- dead.test goes to a server that never answers (nothing listens there)
    dm = dnsmasq.start{ dir = dir, log = fifo, upstream = up, args = { "--server=/dead.test/127.0.0.3#9" } }
    local clients = { "127.0.0.11", "127.0.0.12", "127.0.0.13", "127.0.0.14" }
    for _, q in ipairs(SENT) do dnsmasq.dig(dm, q[1], { type = q[2], from = q[3] }) end
    local sent = socket.gettime()
    dnsmasq.dig(dm, "x.dead.test", { from = "127.0.0.14" })   -- no answer comes: dig gives up after 3 s
    local _, s = scrape_until(host, clients, #SENT + 1)
    local waited = socket.gettime() - sent

    local ours = 0
    for _, c in ipairs(clients) do ours = ours + expo.sum(s, "dnsmasq_client_queries_total", { client = c }) end
    assert.equal(#SENT + 1, ours)
    -- every query, dnsmasq's start-up probes (".") too
    local queries = expo.sum(s, "dnsmasq_client_queries_total", {})
    assert.equal(queries, expo.sum(s, "dnsmasq_replies_total", {}))
    -- the dead server's query, and before 2.86 the MX and TXT ones
    local unanswered = LOGS_EVERY_RECORD and 1 or 3
    assert.equal(unanswered, expo.value(s, "dnsmasq_replies_total", { source = "upstream", result = "none" }))
    -- classed when its time was up, by the reader's sweep (no line came after it)
    assert.is_true(waited >= PENDING_TIMEOUT - 1, "classed after " .. waited .. " s")
    assert.is_true(waited < PENDING_TIMEOUT + 5, "classed after " .. waited .. " s")
    assert.equal(0, expo.value(s, "dnsagg_lines_total", { kind = "unparsed" }))
    -- and nothing more later
    socket.sleep(1.5)
    s = expo.parse(assert(http.get(host.url .. "?collect[]=dnsagg", 10)))
    assert.equal(queries, expo.sum(s, "dnsmasq_replies_total", {}))
  end)

  it("runs in the host's command-line mode and lets the process exit", function()
    local fifo = dir .. "/dnsmasq.fifo"
    assert(pstat.mkfifo(fifo, 384))
    proc.write_file(dir .. "/dnsagg.conf.lua", string.format("return { fifo = %q, dnsmasq_pidfile = false }", fifo))
    for _, exit_mode in ipairs({ "natural", "os" }) do
      local out, how, code, stderr = proc.run_host_cli{ collectors = ROOT .. "/lua", cpath = ROOT,
        env = { DNSAGG_CONFIG = dir .. "/dnsagg.conf.lua" }, cli_exit = exit_mode, timeout = 10 }
      assert.equal("exited", how, stderr)
      assert.equal(0, code, stderr)
      local s = expo.parse(out)
      assert.equal(1, expo.value(s, "node_scrape_collector_success", { collector = "dnsagg" }))
      assert.is_not_nil(expo.value(s, "dnsagg_fifo_up"))
    end
  end)

  it("reports a broken configuration through the host without killing it", function()
    proc.write_file(dir .. "/dnsagg.conf.lua", "return { max_entires = 5 }")
    local out, how, code, stderr = proc.run_host_cli{ collectors = ROOT .. "/lua", cpath = ROOT,
      env = { DNSAGG_CONFIG = dir .. "/dnsagg.conf.lua" }, timeout = 10 }
    assert.equal("exited", how)
    assert.equal(0, code)
    assert.equal(0, expo.value(expo.parse(out), "node_scrape_collector_success", { collector = "dnsagg" }))
    assert.truthy(stderr:find("dnsagg.new: unknown option 'max_entires'", 1, true), stderr)
  end)

  it("reports a missing FIFO as dnsagg_fifo_up 0 and picks it up once it exists", function()
    local fifo = dir .. "/later.fifo"
    proc.write_file(dir .. "/dnsagg.conf.lua", string.format("return { fifo = %q, dnsmasq_pidfile = false }", fifo))
    host = assert(proc.start_host{ mode = "fork", collectors = ROOT .. "/lua", cpath = ROOT,
      env = { DNSAGG_CONFIG = dir .. "/dnsagg.conf.lua" } })
    local s = expo.parse(assert(http.get(host.url, 10)))
    assert.equal(0, expo.value(s, "dnsagg_fifo_up"))
    assert.equal(1, expo.value(s, "node_scrape_collector_success", { collector = "dnsagg" }))
    assert(pstat.mkfifo(fifo, 384))
    local deadline = socket.gettime() + 15
    repeat
      socket.sleep(0.1)
      s = expo.parse(assert(http.get(host.url, 10)))
    until expo.value(s, "dnsagg_fifo_up") == 1 or socket.gettime() > deadline
    assert.equal(1, expo.value(s, "dnsagg_fifo_up"))
    assert.equal(1, expo.value(s, "dnsagg_fifo_opens_total"))
  end)
end)
