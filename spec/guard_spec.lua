-- dnsagg-guard with the real dnsmasq: whatever the module does (not started
-- yet, killed, crash-looping), dnsmasq keeps answering, because the guard
-- holds the FIFO open and drains it whenever the module does not hold the
-- lock; and when the module runs, it alone reads, so it counts every query.
local proc = require("spec.support.proc")
local dnsmasq = require("spec.support.dnsmasq")
local expo = require("spec.support.expo")
local http = require("spec.support.http")
local pstat = require("posix.sys.stat")
local unistd = require("posix.unistd")
local socket = require("socket")

local ROOT = unistd.getcwd()

describe("dnsagg-guard", function()
  local dir, fifo, lock, guard, dm, host

  local function start_host()
    proc.write_file(dir .. "/conf.lua", string.format(
      "return { fifo = %q, lock = %q, dnsmasq_pidfile = false }", fifo, lock))
    return assert(proc.start_host{ mode = "fork", collectors = ROOT .. "/lua", cpath = ROOT,
      env = { DNSAGG_CONFIG = dir .. "/conf.lua" } })
  end

  local function counted(h, client)
    local body = http.get(h.url, 10)
    return body and expo.sum(expo.parse(body), "dnsmasq_client_queries_total", { client = client }) or -1
  end

  local function wait_counted(h, client, want)
    local deadline, n = socket.gettime() + 15, -1
    repeat
      n = counted(h, client)
      if n >= want then return n end
      socket.sleep(0.05)
    until socket.gettime() > deadline
    return n
  end

  before_each(function()
    dir = proc.tmpdir()
    fifo, lock = dir .. "/dnsmasq.fifo", dir .. "/dnsagg.lock"
    guard = proc.spawn({ ROOT .. "/dnsagg-guard", fifo, lock })
    local deadline = socket.gettime() + 5
    while not pstat.stat(fifo) and socket.gettime() < deadline do socket.sleep(0.01) end
  end)

  after_each(function()
    dnsmasq.stop(dm)
    if host then proc.kill(host) end
    proc.kill(guard)
    proc.kill_all()
    proc.rmtree(dir)
    dm, host = nil, nil
  end)

  it("is needed: a FIFO held open but not drained stops dnsmasq after a few hundred queries", function()
    proc.kill(guard)
    local holder = proc.spawn({ "sh", "-c", "exec 3<>" .. fifo .. "; exec sleep 60" })
    socket.sleep(0.2)
    dm = dnsmasq.start{ dir = dir, log = fifo, args = { "--address=/load.test/10.1.1.1" } }
    local lines = {}
    for i = 1, 3000 do lines[i] = string.format("stuck-%d.load.test A", i) end
    proc.write_file(dir .. "/stuck.batch", table.concat(lines, "\n") .. "\n")
    local out = proc.run({ "sh", "-c", string.format(
      "timeout 4 dig @127.0.0.1 -p %d +tries=1 +time=1 +noall +comments -f %s/stuck.batch", dm.port, dir) },
      { timeout = 20 }) or ""
    local answered = 0
    for _ in out:gmatch("status: NOERROR") do answered = answered + 1 end
    print(string.format("\n  with the FIFO held but not read, dnsmasq answered %d queries, then stopped", answered))
    assert.is_true(answered > 50 and answered < 3000, tostring(answered))
    dnsmasq.stop(dm)   -- SIGTERM cannot stop a dnsmasq blocked in write(): proc.kill ends with SIGKILL
    dm = nil
    proc.kill(holder)
  end)

  it("lets dnsmasq start and answer 20000 queries with no module reading", function()
    dm = dnsmasq.start{ dir = dir, log = fifo, args = { "--address=/load.test/10.1.1.1" } }
    -- 20000 queries log about 3.6 MB: far past any pipe buffer, so only a
    -- guard that drains keeps dnsmasq answering
    local answered, seconds = dnsmasq.batch(dm, dir, "127.0.0.61", 20000, "nomodule")
    assert.equal(20000, answered)
    print(string.format("\n  20000 queries answered in %.1f s with only the guard reading", seconds))
  end)

  it("gives way to the module, which then counts every query, and takes over when it is killed", function()
    dm = dnsmasq.start{ dir = dir, log = fifo, args = { "--address=/load.test/10.1.1.1" } }
    host = start_host()
    local deadline = socket.gettime() + 10
    repeat socket.sleep(0.05) until expo.value(expo.parse(http.get(host.url, 10) or ""), "dnsagg_fifo_up") == 1
      or socket.gettime() > deadline
    assert.equal(3000, (dnsmasq.batch(dm, dir, "127.0.0.62", 3000, "withmodule")))
    assert.equal(3000, wait_counted(host, "127.0.0.62", 3000))

    -- the module dies: the kernel drops its lock, the guard drains again
    proc.kill(host, 0)
    host = nil
    local answered, seconds = dnsmasq.batch(dm, dir, "127.0.0.63", 20000, "killed")
    assert.equal(20000, answered)
    assert.is_true(seconds < 60)

    -- a new module counts again, without dnsmasq reopening anything
    host = start_host()
    deadline = socket.gettime() + 10
    repeat socket.sleep(0.05) until expo.value(expo.parse(http.get(host.url, 10) or ""), "dnsagg_fifo_up") == 1
      or socket.gettime() > deadline
    assert.equal(500, (dnsmasq.batch(dm, dir, "127.0.0.64", 500, "again")))
    assert.equal(500, wait_counted(host, "127.0.0.64", 500))
  end)

  it("keeps DNS answering while the module crash-loops", function()
    dm = dnsmasq.start{ dir = dir, log = fifo, args = { "--address=/load.test/10.1.1.1" } }
    local dig = dnsmasq.start_batch(dm, dir, "127.0.0.65", 30000, "loop")
    local cycles = 0
    while proc.alive(dig) and cycles < 20 do
      local h = start_host()
      socket.sleep(0.1)
      proc.kill(h, 0)   -- SIGKILL at once
      cycles = cycles + 1
    end
    assert.equal(30000, (dnsmasq.batch_answered(dig, 120)))
    assert.is_true(cycles >= 3, "only " .. cycles .. " crash cycles ran")
  end)

  it("lets dnsmasq restart while no module runs", function()
    dm = dnsmasq.start{ dir = dir, log = fifo, args = { "--address=/load.test/10.1.1.1" } }
    dnsmasq.stop(dm)
    local t0 = socket.gettime()
    dnsmasq.restart(dm)     -- opening the log FIFO does not wait: the guard holds it
    assert.is_true(socket.gettime() - t0 < 2)
    assert.equal("NOERROR", (dnsmasq.dig(dm, "after-restart.load.test", { from = "127.0.0.66" })))
  end)

  it("points dnsmasq at the FIFO through a conf-dir snippet only while it runs", function()
    proc.kill(guard)
    local confdir = dir .. "/dnsmasq.d"
    assert(require("posix.sys.stat").mkdir(confdir, 448))
    local snippet = confdir .. "/dnsagg.conf"
    guard = proc.spawn({ ROOT .. "/dnsagg-guard", fifo, lock, snippet })
    local deadline = socket.gettime() + 5
    while not io.open(snippet) and socket.gettime() < deadline do socket.sleep(0.01) end
    local f = assert(io.open(snippet))
    local text = f:read("*a")
    f:close()
    assert.truthy(text:find("log-queries=extra\nlog-facility=" .. fifo .. "\n", 1, true), text)

    -- dnsmasq takes its logging from the conf-dir alone
    host = start_host()
    dm = dnsmasq.start{ dir = dir, log = false, args = { "--address=/load.test/10.1.1.1", "--conf-dir=" .. confdir } }
    assert.equal(100, (dnsmasq.batch(dm, dir, "127.0.0.67", 100, "snippet")))
    assert.equal(100, wait_counted(host, "127.0.0.67", 100))

    -- the guard stops: the snippet goes, and dnsmasq started again logs nowhere
    proc.kill(guard)
    assert.is_nil(io.open(snippet))
    dnsmasq.stop(dm)
    local t0 = socket.gettime()
    dnsmasq.restart(dm)
    assert.is_true(socket.gettime() - t0 < 2)
    assert.equal(100, (dnsmasq.batch(dm, dir, "127.0.0.68", 100, "unwired")))
    socket.sleep(0.3)
    assert.equal(0, counted(host, "127.0.0.68"))
  end)

  it("replaces a regular file at the FIFO's path (dnsmasq's init touches a missing log path)", function()
    proc.kill(guard)
    os.remove(fifo)
    proc.write_file(fifo, "old log lines\n")
    guard = proc.spawn({ ROOT .. "/dnsagg-guard", fifo, lock })
    local deadline, mode = socket.gettime() + 5, nil
    repeat
      local st = pstat.stat(fifo)
      mode = st and pstat.S_ISFIFO(st.st_mode) ~= 0
      if not mode then socket.sleep(0.01) end
    until mode or socket.gettime() > deadline
    assert.is_true(mode)
  end)
end)
