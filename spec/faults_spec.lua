-- Faults, with the real dnsmasq, the real dnsagg-guard and the module in the
-- test host, set up as the package does (the guard first, then dnsmasq
-- logging to the guard's FIFO, the module taking the lock).  Each case
-- checks that dnsmasq answers every query, and what the module counted.
--
-- Shown elsewhere, not repeated here: the host killed or crash-looping
-- with the guard (guard_spec), a FIFO held but not read (guard_spec), the
-- module closed and started again and one dnsmasq restart
-- (dns_safety_spec), a full table scraped under load (dns_safety_spec),
-- odd names through agg:render() (module_spec).
local proc = require("spec.support.proc")
local dnsmasq = require("spec.support.dnsmasq")
local dnstt = require("spec.support.dnstt")
local expo = require("spec.support.expo")
local http = require("spec.support.http")
local pstat = require("posix.sys.stat")
local psignal = require("posix.signal")
local unistd = require("posix.unistd")
local socket = require("socket")

local ROOT = unistd.getcwd()

-- One query over UDP from `from`; returns the reply's RCODE, or nil when
-- no reply came within `timeout` seconds.  The socket is returned too, so
-- that a late reply can still be read from it.
local function udp_query(dm, name, from, timeout, id)
  local u = socket.udp()
  assert(u:setsockname(from, 0))
  assert(u:setpeername(dm.address, dm.port))
  u:settimeout(timeout)
  id = id or math.random(1, 65535)
  u:send(dnstt.query(id, name, "A"))
  local reply = u:receive()
  if reply and #reply >= 4 then return reply:byte(4) % 16, u end
  return nil, u
end

local function scrape(host)
  local body = http.get(host.url .. "?collect[]=dnsagg", 10)
  return body and expo.parse(body) or {}, body
end

local function client_total(samples, client)
  return expo.sum(samples, "dnsmasq_client_queries_total", { client = client })
end

-- scrapes until `client` has `want` queries counted (15 s at most); returns
-- the last count and scrape
local function wait_counted(host, client, want)
  local deadline, n, s = socket.gettime() + 15, -1, nil
  repeat
    s = scrape(host)
    n = client_total(s, client)
    if n >= want then break end
    socket.sleep(0.05)
  until socket.gettime() > deadline
  return n, s
end

local function wait_until(what, seconds)
  local deadline = socket.gettime() + (seconds or 15)
  repeat
    if what() then return true end
    socket.sleep(0.05)
  until socket.gettime() > deadline
  return false
end

describe("faults", function()
  local dir, fifo, lock, guard, dm, host, conf

  local function start_guard()
    guard = proc.spawn({ ROOT .. "/dnsagg-guard", fifo, lock })
    assert.is_true(wait_until(function()
      local st = pstat.stat(fifo)
      return st and pstat.S_ISFIFO(st.st_mode) ~= 0
    end, 5))
  end

  local function start_host(extra)
    proc.write_file(conf, string.format(
      "return { fifo = %q, lock = %q, dnsmasq_pidfile = %q, leases = %q%s }",
      fifo, lock, dir .. "/dnsmasq.pid", dir .. "/dhcp.leases", extra or ""))
    host = assert(proc.start_host{ mode = "fork", collectors = ROOT .. "/lua", cpath = ROOT,
      env = { DNSAGG_CONFIG = conf } })
    assert.is_true(wait_until(function() return expo.value(scrape(host), "dnsagg_fifo_up") == 1 end))
    return host
  end

  local function start_dnsmasq()
    dm = dnsmasq.start{ dir = dir, log = fifo, args = { "--address=/load.test/10.1.1.1" } }
    return dm
  end

  before_each(function()
    dir = proc.tmpdir()
    fifo, lock, conf = dir .. "/dnsmasq.fifo", dir .. "/dnsagg.lock", dir .. "/dnsagg.conf.lua"
    start_guard()
  end)

  after_each(function()
    if host then psignal.kill(host.pid, psignal.SIGCONT) end
    dnsmasq.stop(dm)
    if host then proc.kill(host) end
    proc.kill(guard)
    proc.kill_all()
    proc.rmtree(dir)
    dm, host, guard = nil, nil, nil
  end)

  it("answers and counts again when the host is killed with SIGKILL under traffic and restarted", function()
    start_dnsmasq()
    start_host()
    assert.equal(1000, (dnsmasq.batch(dm, dir, "127.0.0.71", 1000, "before")))
    assert.equal(1000, (wait_counted(host, "127.0.0.71", 1000)))

    -- SIGKILL in the middle of a batch: the kernel drops the lock, the guard drains
    local dig = dnsmasq.start_batch(dm, dir, "127.0.0.72", 10000, "during")
    socket.sleep(0.5)
    assert(psignal.kill(host.pid, psignal.SIGKILL))
    proc.wait(host, 5)
    proc.kill(host)
    socket.sleep(1)
    start_host()   -- restarted while the batch still runs
    assert.equal(10000, (dnsmasq.batch_answered(dig, 120)))

    -- the new module counts every query again, dnsmasq untouched
    assert.equal(1000, (dnsmasq.batch(dm, dir, "127.0.0.73", 1000, "after")))
    local n, s = wait_counted(host, "127.0.0.73", 1000)
    assert.equal(1000, n)
    -- what it counted of the batch it came back into is a part of it, never more
    assert.is_true(client_total(s, "127.0.0.72") <= 10000)
    assert.equal(1, expo.value(s, "dnsagg_fifo_opens_total"))
  end)

  it("loses no query while the host is stopped (SIGSTOP) for 5 s under traffic", function()
    start_dnsmasq()
    start_host()
    local dig = dnsmasq.start_batch(dm, dir, "127.0.0.74", 3000, "stopped")
    socket.sleep(0.3)
    assert(psignal.kill(host.pid, psignal.SIGSTOP))
    socket.sleep(5)
    assert(psignal.kill(host.pid, psignal.SIGCONT))
    assert.equal(3000, (dnsmasq.batch_answered(dig, 120)))
    -- the pipe held what dnsmasq wrote meanwhile: the guard could not drain it
    assert.equal(3000, (wait_counted(host, "127.0.0.74", 3000)))
  end)

  it("measures dnsmasq's slack: the lines the pipe holds while a stopped host holds the lock", function()
    start_dnsmasq()
    start_host()
    local s0 = scrape(host)
    local capacity = expo.value(s0, "dnsagg_fifo_buffer_bytes")
    local lines0 = expo.sum(s0, "dnsagg_lines_total")
    local bytes0 = expo.value(s0, "dnsagg_read_bytes_total")
    assert(psignal.kill(host.pid, psignal.SIGSTOP))

    -- one query at a time until one gets no answer within 2 s: dnsmasq is
    -- then blocked in write() on the full pipe (bounded: 100000 queries)
    local answered, blocked_socket = 0, nil
    for i = 1, 100000 do
      local rcode, u = udp_query(dm, string.format("slack-%06d.load.test", i), "127.0.0.75", 2)
      if not rcode then blocked_socket = u; break end
      u:close()
      answered = answered + 1
    end
    assert.truthy(blocked_socket, "dnsmasq never blocked")
    assert(psignal.kill(host.pid, psignal.SIGCONT))
    -- the query dnsmasq was blocked on is answered once the module reads again
    blocked_socket:settimeout(10)
    local late = blocked_socket:receive()
    blocked_socket:close()
    assert.truthy(late, "no late answer after SIGCONT")
    -- and every query is counted: nothing was lost in the pipe
    local n, s1 = wait_counted(host, "127.0.0.75", answered + 1)
    assert.equal(answered + 1, n)

    local lines = expo.sum(s1, "dnsagg_lines_total") - lines0
    local bytes = expo.value(s1, "dnsagg_read_bytes_total") - bytes0
    local per_line = bytes / lines
    -- what dnsmasq wrote before it blocked filled the pipe: its pages, each
    -- but for a tail too short for the next line (a write of a line that
    -- does not fit the last page starts a new one)
    assert.is_true(bytes >= capacity * 0.9, bytes .. " bytes read, pipe of " .. capacity)
    assert.is_true(capacity >= 1048576, "pipe of " .. capacity .. " bytes")
    print(string.format("\n  slack with the host stopped: pipe of %d bytes (pipe-max-size %s); dnsmasq answered %d"
      .. " queries, then blocked; %d log lines of %.1f bytes on average (%.1f lines per query)",
      capacity, (io.open("/proc/sys/fs/pipe-max-size"):read("*l")), answered, lines, per_line, lines / (answered + 1)))
  end)
end)
