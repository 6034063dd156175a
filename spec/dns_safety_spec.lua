-- DNS must never suffer: with the real dnsmasq writing its log to the
-- module's FIFO, every query is answered while the table is full and
-- scraped in a loop, while the scrape side is slow, across forks, when the
-- module is closed and started again, and when dnsmasq restarts.
local proc = require("spec.support.proc")
local dnsmasq = require("spec.support.dnsmasq")
local expo = require("spec.support.expo")
local http = require("spec.support.http")
local pstat = require("posix.sys.stat")
local unistd = require("posix.unistd")
local pwait = require("posix.sys.wait")
local socket = require("socket")

local ROOT = unistd.getcwd()

local function client_total(agg_or_samples, client)
  return expo.sum(agg_or_samples, "dnsmasq_client_queries_total", { client = client })
end

describe("DNS keeps working", function()
  local dnsagg = require("dnsagg")
  local dir, dm, host, fifo

  before_each(function()
    dir = proc.tmpdir()
    fifo = dir .. "/dnsmasq.fifo"
    assert(pstat.mkfifo(fifo, 384))
  end)
  after_each(function()
    dnsmasq.stop(dm)
    if host then proc.kill(host) end
    proc.kill_all()
    proc.rmtree(dir)
    dm, host = nil, nil
  end)

  it("answers every query while a full table is scraped in a loop under load (fork host)", function()
    proc.write_file(dir .. "/dnsagg.conf.lua", string.format(
      "return { fifo = %q, max_entries = 2000, dnsmasq_pidfile = false }", fifo))
    host = assert(proc.start_host{ mode = "fork", collectors = ROOT .. "/lua", cpath = ROOT,
      env = { DNSAGG_CONFIG = dir .. "/dnsagg.conf.lua" } })
    dm = dnsmasq.start{ dir = dir, log = fifo, args = { "--address=/load.test/10.1.1.1" } }

    -- Batches of 3000 names a client, topped up until at least three full
    -- scrapes have run under load: a forked scrape gives way to DNS
    -- (SCHED_IDLE), so on a slow machine (or under ASan) one scrape may
    -- outlast a batch.  Bounded: at most 8 batches a client, 240 s.
    local per_batch, max_batches, clients = 3000, 8, { "127.0.0.21", "127.0.0.22", "127.0.0.23" }
    local t0 = socket.gettime()
    local batches, current, sent = {}, {}, {}
    local function start_batch(i)
      sent[i] = (sent[i] or 0) + per_batch
      current[i] = dnsmasq.start_batch(dm, dir, clients[i], per_batch, string.format("c%dx%d", i, #batches + 1))
      batches[#batches + 1] = current[i]
    end
    for i = 1, #clients do start_batch(i) end
    local function any_alive()
      for _, d in ipairs(current) do if proc.alive(d) then return true end end
    end
    local scrapes, failed_scrapes = 0, 0
    while socket.gettime() - t0 < 240 do
      for i = 1, #clients do
        if scrapes < 3 and not proc.alive(current[i]) and sent[i] < per_batch * max_batches then start_batch(i) end
      end
      if not any_alive() then break end
      local body, status = http.get(host.url, 10)
      scrapes = scrapes + 1
      if status ~= 200 or not body:find('node_scrape_collector_success{collector="dnsagg"} 1', 1, true) then
        failed_scrapes = failed_scrapes + 1
      end
    end
    local got, total_sent = 0, 0
    for _, d in ipairs(batches) do got = got + dnsmasq.batch_answered(d) end
    for i = 1, #clients do total_sent = total_sent + sent[i] end
    local elapsed = socket.gettime() - t0

    assert.equal(total_sent, got)          -- every query answered
    assert.equal(0, failed_scrapes)
    assert.is_true(scrapes >= 3, string.format("only %d scrapes in %.1f s", scrapes, elapsed))

    -- and every one counted, by a table that filled and evicted
    local s
    local deadline = socket.gettime() + 15
    repeat
      s = expo.parse(assert(http.get(host.url, 10)))
      local total = 0
      for _, c in ipairs(clients) do total = total + client_total(s, c) end
    until total >= total_sent or socket.gettime() > deadline
    for i, c in ipairs(clients) do assert.equal(sent[i], client_total(s, c)) end
    assert.equal(2000, expo.value(s, "dnsagg_table_entries"))
    -- distinct keys: the digs' names, and the "." SOA probe of dnsmasq.start if it was logged
    local probe_key = client_total(s, "127.0.0.1") > 0 and 1 or 0
    assert.equal(total_sent + probe_key - 2000, expo.value(s, "dnsagg_table_evictions_total"))
    local lines = expo.sum(s, "dnsagg_lines_total")
    print(string.format("\n  load: %d queries, %d log lines in %.1f s (%.0f lines/s), %d full scrapes",
      total_sent, lines, elapsed, lines / elapsed, scrapes))
  end)

  it("answers while the scrape side is slow: the reader never waits on it", function()
    local agg = assert(dnsagg.new{ fifo = fifo, dnsmasq_pidfile = false })
    dm = dnsmasq.start{ dir = dir, log = fifo, args = { "--address=/load.test/10.1.1.1" } }
    agg:sync()
    local dig
    local waited_inside = false
    -- the first series written blocks this thread (like a slow client of a
    -- long-lived host) until dnsmasq has answered all 2000 queries
    agg:export(function()
      return function()
        if not dig then
          dig = dnsmasq.start_batch(dm, dir, "127.0.0.31", 2000, "slow")
          local deadline = socket.gettime() + 120
          while proc.alive(dig) and socket.gettime() < deadline do socket.sleep(0.05) end
          waited_inside = true
        end
      end
    end)
    assert.is_true(waited_inside)
    assert.equal(2000, (dnsmasq.batch_answered(dig)))
    assert.is_true(agg:sync(10))
    assert.equal(2000, agg:top{ by = "client", client = "127.0.0.31" }[1].count)
    agg:close()
  end)

  it("lets forked children read the tables whatever the thread is doing", function()
    local agg = assert(dnsagg.new{ fifo = fifo, dnsmasq_pidfile = false })
    local line = "Nov 22 01:41:33 dnsmasq[1]: 7 10.0.0.1/53 query[A] busy.example from 10.0.0.1"
    local writer = proc.spawn({ "sh", "-c", "yes '" .. line .. "' | head -n 3000000 > " .. fifo })
    local children = 0
    while children < 200 do
      io.stdout:flush()
      local pid = unistd.fork()
      if pid == 0 then
        local ok, text = pcall(agg.render, agg)
        unistd._exit(ok and text:find("dnsmasq_queries_total", 1, true) and 0 or 1)
      end
      local deadline, status = socket.gettime() + 10
      repeat
        local p, how, code = pwait.wait(pid, pwait.WNOHANG)
        if p == pid then status = how .. " " .. code end
        if not status then socket.sleep(0.001) end
      until status or socket.gettime() > deadline
      if not status then
        require("posix.signal").kill(pid, 9)
        pwait.wait(pid)
      end
      assert.equal("exited 0", status or "hung")
      children = children + 1
    end
    proc.kill(writer)
    assert.is_true(agg:sync(10))
    assert.is_true(agg:stats().lines_by_kind.query > 0)
    agg:close()
  end)

  it("keeps answering while the module is closed, and counts again when it is started again", function()
    local opts = { fifo = fifo, dnsmasq_pidfile = dir .. "/dnsmasq.pid" }
    local agg = assert(dnsagg.new(opts))
    dm = dnsmasq.start{ dir = dir, log = fifo, args = { "--address=/load.test/10.1.1.1" } }
    for i = 1, 3 do assert.equal("NOERROR", dnsmasq.dig(dm, "before" .. i .. ".load.test", { from = "127.0.0.41" })) end
    assert.is_true(agg:sync(10))
    assert.equal(3, agg:top{ by = "client", client = "127.0.0.41" }[1].count)
    agg:close()

    -- nobody reads the FIFO now: dnsmasq must still answer, at once
    local t0 = socket.gettime()
    for i = 1, 50 do
      assert.equal("NOERROR", dnsmasq.dig(dm, "closed" .. i .. ".load.test", { from = "127.0.0.42" }))
    end
    assert.is_true(socket.gettime() - t0 < 30)

    agg = assert(dnsagg.new(opts))
    assert.is_true(agg:sync(10))
    assert.equal(1, agg:stats().reopen_signals)   -- SIGUSR2: dnsmasq opens its log again
    -- logging resumes once dnsmasq has handled the signal
    local deadline, resumed = socket.gettime() + 10, false
    repeat
      dnsmasq.dig(dm, "probe.load.test", { from = "127.0.0.43" })
      agg:sync(5)
      resumed = #agg:top{ client = "127.0.0.43" } > 0
    until resumed or socket.gettime() > deadline
    assert.is_true(resumed)
    for i = 1, 3 do assert.equal("NOERROR", dnsmasq.dig(dm, "after" .. i .. ".load.test", { from = "127.0.0.44" })) end
    assert.is_true(agg:sync(10))
    assert.equal(3, agg:top{ by = "client", client = "127.0.0.44" }[1].count)
    -- (dnsmasq may deliver a few lines it queued while nobody read: those of
    -- 127.0.0.42 are not asserted)
    agg:close()
  end)

  it("counts again after dnsmasq restarts", function()
    local agg = assert(dnsagg.new{ fifo = fifo, dnsmasq_pidfile = false })
    dm = dnsmasq.start{ dir = dir, log = fifo, args = { "--address=/load.test/10.1.1.1" } }
    for i = 1, 2 do dnsmasq.dig(dm, "first" .. i .. ".load.test", { from = "127.0.0.51" }) end
    dnsmasq.stop(dm)
    dnsmasq.restart(dm)
    for i = 1, 4 do
      assert.equal("NOERROR", dnsmasq.dig(dm, "second" .. i .. ".load.test", { from = "127.0.0.52" }))
    end
    assert.is_true(agg:sync(10))
    assert.equal(2, agg:top{ by = "client", client = "127.0.0.51" }[1].count)
    assert.equal(4, agg:top{ by = "client", client = "127.0.0.52" }[1].count)
    assert.equal(1, agg:stats().fifo_opens)       -- the same FIFO, held open throughout
    agg:close()
  end)
end)
