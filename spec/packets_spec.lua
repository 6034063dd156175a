-- The packet query source (queries = "packets"): the real dnsmasq with no
-- query log at all, dig from several loopback addresses, and the module
-- counting the clients' queries from the capture on dnsmasq's port; then
-- the same traffic counted from the log and from packets side by side,
-- IPv4 clients on 127.0.0.0/8 and IPv6 clients (::11, ::12 put on lo).
-- Needs root (CAP_NET_RAW), as the CI runs.
local proc = require("spec.support.proc")
local dnsmasq = require("spec.support.dnsmasq")
local expo = require("spec.support.expo")
local pstat = require("posix.sys.stat")
local unistd = require("posix.unistd")
local socket = require("socket")

local LEASES = table.concat({
  "1900000000 aa:bb:cc:00:00:11 127.0.0.11 laptop 01:aa:bb:cc:00:00:11",
  "1900000100 aa:bb:cc:00:00:12 127.0.0.12 phone *",
  "duid 00:01:00:01:11:22:33:44:aa:bb:cc:dd:ee:ff",
  "1900000200 1234 ::11 tablet 00:01:00:01:2a:2b:2c:2d:aa:bb:cc:00:00:21",
}, "\n") .. "\n"

-- name, type, source address
local SENT = {
  { "example.org", "A", "127.0.0.11" },
  { "example.org", "A", "127.0.0.11" },      -- a repeat: answered from the cache
  { "example.org", "AAAA", "127.0.0.11" },
  { "Example.ORG", "A", "127.0.0.11" },      -- dnsmasq logs the name as sent, case and all
  { "example.org", "MX", "127.0.0.12" },
  { "example.org", "TXT", "127.0.0.12" },
  { "example.org", "HTTPS", "127.0.0.12" },
  { "example.org", "TYPE1234", "127.0.0.12" }, -- logged as type=1234
  { "blocked.test", "A", "127.0.0.12" },     -- address=/blocked.test/0.0.0.0
  { "unknown.lan", "A", "127.0.0.13" },      -- local=/lan/: an unknown local name
  { "www.example.org", "A", "127.0.0.13" },
  { "1.0.0.127.in-addr.arpa", "PTR", "127.0.0.14" },
}

-- IPv6 clients: addresses of ::/96 that the spec puts on lo for the time
-- of a test (::1 is the kernel's own), asking dnsmasq on [::1]
local CLIENTS6 = { "::11", "::12" }
local SENT6 = {
  { "example.org", "A", "::11" },
  { "example.org", "AAAA", "::11" },
  { "example.org", "AAAA", "::11" },        -- a repeat: answered from the cache
  { "blocked.test", "A", "::12" },
  { "unknown.lan", "AAAA", "::12" },
}

-- a dnsmasq_queries_total series and a dnsmasq_replies_total series of samples s
local function q(s, client, domain, qtype)
  return expo.value(s, "dnsmasq_queries_total", { client = client, domain = domain, type = qtype })
end
local function replies(s, source, result)
  return expo.value(s, "dnsmasq_replies_total", { source = source, result = result })
end

-- every dnsmasq_queries_total and dnsmasq_client_queries_total sample of a
-- render but 127.0.0.1's, as "family{labels} value" lines, sorted: what the
-- two sources must share.  127.0.0.1 is dnsmasq.start's probe (". SOA" every
-- 50 ms until dnsmasq answers): the probes sent before dnsmasq listened are
-- on the wire, so counted from packets, but never reach dnsmasq's log
local function query_series(samples)
  local out = {}
  for _, s in ipairs(samples) do
    if (s.name == "dnsmasq_queries_total" or s.name == "dnsmasq_client_queries_total")
        and s.labels.client ~= "127.0.0.1" then
      local keys = {}
      for k in pairs(s.labels) do keys[#keys + 1] = k end
      table.sort(keys)
      local parts = {}
      for _, k in ipairs(keys) do parts[#parts + 1] = k .. "=" .. s.labels[k] end
      out[#out + 1] = string.format("%s{%s} %.0f", s.name, table.concat(parts, ","), s.value)
    end
  end
  table.sort(out)
  return out
end

-- how each of this process's threads called "dnsagg" (the readers) is
-- scheduled (proc.thread_priority: "idle" or a nice value as text), sorted;
-- and the main thread's nice
local function reader_priorities()
  local dirent = require("posix.dirent")
  local out = {}
  for _, task in ipairs(dirent.dir("/proc/self/task")) do
    local f = task:match("^%d+$") and io.open("/proc/self/task/" .. task .. "/comm")
    if f then
      if f:read("*l") == "dnsagg" then out[#out + 1] = proc.thread_priority("/proc/self/task/" .. task .. "/stat") end
      f:close()
    end
  end
  table.sort(out)
  return out, tonumber(proc.thread_priority("/proc/self/task/" .. unistd.getpid() .. "/stat"))
end

-- dnsmasq.start's probes sent before dnsmasq listened are on the wire but
-- never answered: from packets each is closed as (upstream, none) once it is
-- PENDING_TIMEOUT (20 s) old, which a slow run reaches before its last
-- sync; the log never saw them.  No query of the specs' own goes
-- unanswered, so every `none` is such a probe.
local function unanswered_probes(samples)
  return expo.value(samples, "dnsmasq_replies_total", { source = "upstream", result = "none" }) or 0
end

describe("queries from packets", function()
  local dnsagg = require("dnsagg")

  if unistd.geteuid() ~= 0 then
    it("needs root", function()
      pending("the packet source needs root (CAP_NET_RAW): run `make test` as root, as the CI does")
    end)
    return
  end

  local dir, up, dm, from_packets, from_log
  local added6 = {}

  -- puts CLIENTS6 on lo (removed after the test); false when this kernel has no IPv6
  local function add_clients6()
    if not pstat.stat("/proc/net/if_inet6") then return false end
    for _, a in ipairs(CLIENTS6) do
      local _, how, code, err = proc.run({ "ip", "-6", "addr", "add", a .. "/128", "dev", "lo", "nodad" }, { timeout = 5 })
      assert(how == "exited" and code == 0, "ip -6 addr add " .. a .. " dev lo: " .. tostring(err))
      added6[#added6 + 1] = a
    end
    return true
  end

  before_each(function()
    dir = proc.tmpdir()
    proc.write_file(dir .. "/dhcp.leases", LEASES)
  end)
  after_each(function()
    if from_packets then from_packets:close() end
    if from_log then from_log:close() end
    dnsmasq.stop(dm); dnsmasq.stop(up)
    proc.kill_all()
    for _, a in ipairs(added6) do
      proc.run({ "ip", "-6", "addr", "del", a .. "/128", "dev", "lo" }, { timeout = 5 })
    end
    added6 = {}
    proc.rmtree(dir)
    dm, up, from_packets, from_log = nil, nil, nil, nil
  end)

  local function send_all(sent, to)
    for _, q in ipairs(sent or SENT) do
      local name = q[2] == "PTR" and "127.0.0.1" or q[1]
      assert.is_not_nil(dnsmasq.dig(dm, name, { type = q[2], from = q[3], to = to }),
        "no answer to " .. q[1] .. " " .. q[2] .. " from " .. q[3])
    end
  end

  it("counts every dig query on loopback with no query log anywhere", function()
    up = dnsmasq.upstream{ dir = dir }
    dm = dnsmasq.start{ dir = dir, log = false, upstream = up }
    from_packets = assert(dnsagg.new{ capture = { interface = "lo", port = dm.port }, queries = "packets",
                                      leases = dir .. "/dhcp.leases" })
    send_all()
    assert.is_true(from_packets:sync())
    local s = expo.parse(from_packets:render())
    assert.equal(2, q(s, "127.0.0.11", "example.org", "A"))
    assert.equal(1, q(s, "127.0.0.11", "example.org", "AAAA"))
    assert.equal(1, q(s, "127.0.0.11", "Example.ORG", "A"))
    assert.equal(1, q(s, "127.0.0.12", "example.org", "MX"))
    assert.equal(1, q(s, "127.0.0.12", "example.org", "TXT"))
    assert.equal(1, q(s, "127.0.0.12", "example.org", "HTTPS"))
    assert.equal(1, q(s, "127.0.0.12", "example.org", "type=1234"))
    assert.equal(1, q(s, "127.0.0.12", "blocked.test", "A"))
    assert.equal(1, q(s, "127.0.0.13", "unknown.lan", "A"))
    assert.equal(1, q(s, "127.0.0.13", "www.example.org", "A"))
    assert.equal(1, q(s, "127.0.0.14", "1.0.0.127.in-addr.arpa", "PTR"))
    assert.equal(#SENT, expo.sum(s, "dnsmasq_queries_total", {}))
    assert.equal(#SENT, expo.value(s, "dnsagg_packet_queries_total", {}))
    -- hostnames and MACs from the lease file
    assert.equal(4, expo.value(s, "dnsmasq_client_queries_total",
      { client = "127.0.0.11", hostname = "laptop", mac = "aa:bb:cc:00:00:11" }))
    assert.equal(5, expo.value(s, "dnsmasq_client_queries_total",
      { client = "127.0.0.12", hostname = "phone", mac = "aa:bb:cc:00:00:12" }))
    assert.equal(2, expo.value(s, "dnsmasq_queries_total",
      { client = "127.0.0.11", hostname = "laptop", domain = "example.org", type = "A" }))
    -- each query's outcome from its response
    assert.equal(5, replies(s, "resolver", "address"))   -- A twice, AAAA, Example.ORG, www
    assert.equal(1, replies(s, "blocked", "address"))    -- 0.0.0.0
    assert.equal(2, replies(s, "resolver", "record"))    -- MX, TXT
    assert.equal(1, replies(s, "resolver", "nxdomain"))  -- unknown.lan
    assert.equal(3, replies(s, "resolver", "error"))     -- REFUSED: HTTPS, type=1234, PTR
    assert.equal(#SENT, expo.sum(s, "dnsmasq_replies_total", {}))
    assert.equal(1, expo.value(s, "dnsmasq_blocked_queries_total", { client = "127.0.0.12", domain = "blocked.test" }))
    -- the responses and dnsmasq's own queries to its upstream (another port) are no client's
    assert.equal(2 * #SENT, expo.value(s, "dnsagg_packets_total", { result = "dns" }))
    assert.equal(0, expo.value(s, "dnsagg_lines_total", { kind = "query" }))
    assert.is_nil(expo.value(s, "dnsagg_fifo_up", {}))
    -- with no FIFO to drain the reader gives way to DNS: SCHED_IDLE
    local readers = reader_priorities()
    assert.same({ "idle" }, readers)
  end)

  it("gives the same query series as dnsmasq's log for the same traffic", function()
    local fifo = dir .. "/dnsmasq.fifo"
    assert(pstat.mkfifo(fifo, 384))
    from_log = assert(dnsagg.new{ fifo = fifo, dnsmasq_pidfile = false, leases = dir .. "/dhcp.leases" })
    -- both count from before dnsmasq's first query (dnsmasq.start's probe, ". SOA" from 127.0.0.1)
    local port = dnsmasq.free_port()
    from_packets = assert(dnsagg.new{ capture = { interface = "lo", port = port }, queries = "packets",
                                      leases = dir .. "/dhcp.leases" })
    local v6 = add_clients6()
    up = dnsmasq.upstream{ dir = dir }
    dm = dnsmasq.start{ dir = dir, log = fifo, upstream = up, port = port,
                        args = v6 and { "--listen-address=::1" } or nil }
    -- the FIFO's reader keeps the host's priority (a slow one would stall
    -- dnsmasq), the packets' reader gives way
    local readers, host = reader_priorities()
    assert.same({ tostring(host), "idle" }, readers)
    send_all()
    if v6 then send_all(SENT6, "::1") end
    assert.is_true(from_log:sync())
    assert.is_true(from_packets:sync())
    local log_samples, packet_samples = expo.parse(from_log:render()), expo.parse(from_packets:render())
    local by_log, by_packets = query_series(log_samples), query_series(packet_samples)
    -- a series a (client, domain, type), less the repeats; four clients,
    -- and two IPv6 clients with four series
    assert.equal(#SENT - 1 + 4 + (v6 and 2 + 4 or 0), #by_log)
    assert.same(by_log, by_packets)
    if v6 then
      assert.equal(2, q(packet_samples, "::11", "example.org", "AAAA"))
      assert.equal(1, q(packet_samples, "::12", "unknown.lan", "AAAA"))
      -- the IPv6 lease gives the hostname, its DUID-LLT the MAC
      assert.equal(3, expo.value(packet_samples, "dnsmasq_client_queries_total",
        { client = "::11", hostname = "tablet", mac = "aa:bb:cc:00:00:21" }))
      assert.equal(1, expo.value(packet_samples, "dnsmasq_blocked_queries_total", { client = "::12", domain = "blocked.test" }))
    else
      print("packets spec: this kernel has no IPv6: the IPv6 clients were not sent")
    end

    -- the reply classes: the same results; the source is "resolver" from
    -- packets (the capture on the clients' side cannot tell dnsmasq's cache
    -- from its upstream or its local data), "blocked" in both
    local function by_result(samples)
      local t = {}
      for _, x in ipairs(samples) do
        if x.name == "dnsmasq_replies_total" and x.labels.result ~= "none" then
          t[x.labels.result] = (t[x.labels.result] or 0) + x.value
        end
      end
      return t
    end
    -- and the probe that dnsmasq answered (the others: no reply, no class)
    local queries = #SENT + (v6 and #SENT6 or 0) + 1
    assert.same(v6 and { address = 10, record = 2, nxdomain = 2, error = 4 }
                    or { address = 6, record = 2, nxdomain = 1, error = 4 }, by_result(log_samples))
    assert.same(by_result(log_samples), by_result(packet_samples))
    local blocked = v6 and 2 or 1
    assert.equal(blocked, expo.value(log_samples, "dnsmasq_replies_total", { source = "blocked", result = "address" }))
    assert.equal(blocked, expo.value(packet_samples, "dnsmasq_replies_total", { source = "blocked", result = "address" }))
    assert.equal(queries - blocked, expo.sum(packet_samples, "dnsmasq_replies_total", { source = "resolver" }))
    assert.equal(queries, expo.sum(packet_samples, "dnsmasq_replies_total", {}) - unanswered_probes(packet_samples))
    assert.equal(queries, from_packets:stats().packet_replies)
    assert.same(expo.value(log_samples, "dnsmasq_blocked_queries_total", { client = "127.0.0.12", domain = "blocked.test" }),
                expo.value(packet_samples, "dnsmasq_blocked_queries_total", { client = "127.0.0.12", domain = "blocked.test" }))
  end)

  -- The upstream in a network namespace behind a veth pair, on the same
  -- port: the capture on every interface sees the clients' queries on lo
  -- and dnsmasq's own queries leaving by the veth, so it can tell a reply
  -- that was forwarded from one dnsmasq gave itself, as the log does.
  it("tells forwarded replies from the resolver's own, with the servers, as the log does", function()
    local ns = "dnsagg-spec-" .. unistd.getpid()
    local ip = proc.ip
    -- a pair left by a run that was killed midway
    proc.run({ "ip", "link", "del", "dnsagg-v0" }, { timeout = 5 })
    local ok, err = pcall(function()
      ip{ "netns", "add", ns }
      ip{ "link", "add", "dnsagg-v0", "type", "veth", "peer", "name", "dnsagg-v1", "netns", ns }
      ip{ "addr", "add", "10.253.0.1/30", "dev", "dnsagg-v0" }
      ip{ "link", "set", "dnsagg-v0", "up" }
      ip{ "-n", ns, "addr", "add", "10.253.0.2/30", "dev", "dnsagg-v1" }
      ip{ "-n", ns, "link", "set", "dnsagg-v1", "up" }
      ip{ "-n", ns, "link", "set", "lo", "up" }
      local fifo = dir .. "/dnsmasq.fifo"
      assert(pstat.mkfifo(fifo, 384))
      local port = dnsmasq.free_port()
      up = dnsmasq.upstream{ dir = dir, netns = ns, address = "10.253.0.2", port = port }
      from_log = assert(dnsagg.new{ fifo = fifo, dnsmasq_pidfile = false, leases = dir .. "/dhcp.leases" })
      from_packets = assert(dnsagg.new{ capture = { port = port }, queries = "packets",
                                        leases = dir .. "/dhcp.leases" })
      dm = dnsmasq.start{ dir = dir, log = fifo, upstream = up, port = port }
      send_all()
      assert.is_true(from_log:sync())
      assert.is_true(from_packets:sync())
      local log_samples, packet_samples = expo.parse(from_log:render()), expo.parse(from_packets:render())
      assert.same(query_series(log_samples), query_series(packet_samples))
      -- the same forwards, by the same server text
      local server = "10.253.0.2#" .. port
      local forwarded = expo.value(log_samples, "dnsmasq_forwarded_total", { server = server })
      assert.is_true(forwarded >= 5, "forwarded " .. tostring(forwarded))
      assert.equal(forwarded, expo.value(packet_samples, "dnsmasq_forwarded_total", { server = server }))
      assert.equal(forwarded, from_packets:stats().packet_forwards)
      -- per result: upstream replies equal; what the log splits into cache
      -- and local data (local=/lan/, the PTR of 127.0.0.1) packets show as
      -- the resolver's own; blocked the same
      local function sum(samples, source)
        local t = {}
        for _, x in ipairs(samples) do
          if x.name == "dnsmasq_replies_total" and x.labels.result ~= "none" and (x.labels.source == source or
              (source == "resolver" and (x.labels.source == "cache" or x.labels.source == "local"))) then
            t[x.labels.result] = (t[x.labels.result] or 0) + x.value
          end
        end
        return t
      end
      assert.same(sum(log_samples, "upstream"), sum(packet_samples, "upstream"))
      assert.same(sum(log_samples, "blocked"), sum(packet_samples, "blocked"))
      assert.same(sum(log_samples, "resolver"), sum(packet_samples, "resolver"))
      assert.is_true((sum(packet_samples, "upstream").address or 0) >= 3)
      assert.is_true((sum(packet_samples, "resolver").address or 0) >= 1) -- the repeat, from the cache
    end)
    dnsmasq.stop(dm); dnsmasq.stop(up)
    dm, up = nil, nil
    proc.run({ "ip", "netns", "del", ns }, { timeout = 5 })  -- takes the veth pair with it
    assert(ok, err)
  end)

  -- Debian's unbound as the resolver, no dnsmasq at all: the packet source
  -- needs nothing of the resolver but its port
  it("counts the clients of unbound exactly", function()
    local port = dnsmasq.free_port()
    from_packets = assert(dnsagg.new{ capture = { interface = "lo", port = port }, queries = "packets",
                                      leases = dir .. "/dhcp.leases" })
    proc.write_file(dir .. "/unbound.conf", table.concat({
      "server:",
      "  interface: 127.0.0.1", "  port: " .. port, "  do-ip6: no", "  do-tcp: yes",
      "  do-daemonize: no", "  chroot: \"\"", "  username: \"\"", "  directory: \"" .. dir .. "\"",
      "  pidfile: \"" .. dir .. "/unbound.pid\"", "  use-syslog: no", "  logfile: \"\"", "  verbosity: 0",
      "  access-control: 127.0.0.0/8 allow",
      "  local-zone: \"example.test.\" static",
      "  local-data: \"www.example.test. A 10.0.0.1\"",
      "  local-data: \"www.example.test. TXT hello\"",
      "  local-data: \"ads.example.test. A 0.0.0.0\"",
      "  local-zone: \".\" refuse", -- no upstream: nothing leaves this machine
      "",
    }, "\n"))
    local ub = proc.spawn({ "unbound", "-d", "-c", dir .. "/unbound.conf" })
    local ok, err = pcall(function()
      local target = { address = "127.0.0.1", port = port }
      local deadline = socket.gettime() + 10
      while not dnsmasq.dig(target, "www.example.test", { from = "127.0.0.1" }) do
        assert(proc.alive(ub) and socket.gettime() < deadline, "unbound did not answer: " .. proc.stderr(ub))
        socket.sleep(0.1)
      end
      local sent = {
        { "www.example.test", "A", "127.0.0.11", "NOERROR" }, { "www.example.test", "A", "127.0.0.11", "NOERROR" },
        { "www.example.test", "TXT", "127.0.0.12", "NOERROR" }, { "nope.example.test", "A", "127.0.0.12", "NXDOMAIN" },
        { "ads.example.test", "A", "127.0.0.13", "NOERROR" }, { "example.org", "A", "127.0.0.13", "REFUSED" },
      }
      for _, q in ipairs(sent) do
        assert.equal(q[4], (dnsmasq.dig(target, q[1], { type = q[2], from = q[3] })))
      end
      assert.is_true(from_packets:sync())
      local s = expo.parse(from_packets:render())
      assert.equal(2, q(s, "127.0.0.11", "www.example.test", "A"))
      assert.equal(1, q(s, "127.0.0.12", "www.example.test", "TXT"))
      assert.equal(1, q(s, "127.0.0.12", "nope.example.test", "A"))
      assert.equal(1, q(s, "127.0.0.13", "ads.example.test", "A"))
      assert.equal(1, q(s, "127.0.0.13", "example.org", "A"))
      assert.equal(2, expo.value(s, "dnsmasq_client_queries_total", { client = "127.0.0.11", hostname = "laptop" }))
      assert.equal(3, replies(s, "resolver", "address")) -- and the one answered probe from 127.0.0.1
      assert.equal(1, replies(s, "resolver", "record"))
      assert.equal(1, replies(s, "resolver", "nxdomain"))
      assert.equal(1, replies(s, "blocked", "address"))
      assert.equal(1, replies(s, "resolver", "error"))
    end)
    proc.kill(ub)
    assert(ok, err)
  end)

  it("refuses a query log beside it, and packets without a capture, naming the option", function()
    local cases = {
      { { queries = "packets" }, "option 'queries' = \"packets\" needs the option 'capture'" },
      { { queries = "packets", capture = { interface = "lo" }, fifo = dir .. "/q.fifo" }, "leave out 'fifo' and 'log'" },
      { { queries = "packets", capture = { interface = "lo" }, log = dir .. "/dhcp.leases" }, "leave out 'fifo' and 'log'" },
      { { queries = "pcap", capture = { interface = "lo" } }, "option 'queries' must be \"log\" or \"packets\"" },
      { { queries = 1 }, "option 'queries' must be a string" },
    }
    for _, c in ipairs(cases) do
      local ok, err = pcall(dnsagg.new, c[1])
      assert.is_false(ok)
      assert.truthy(tostring(err):find(c[2], 1, true), tostring(err))
    end
    from_packets = assert(dnsagg.new{ capture = { interface = "lo", port = 9 }, queries = "packets" })
    local ok, err = pcall(from_packets.feed, from_packets, "Nov 22 01:41:33 dnsmasq[1]: query[A] a.b from 127.0.0.1")
    assert.is_false(ok)
    assert.truthy(tostring(err):find("counts queries from packets", 1, true), tostring(err))
  end)
end)
