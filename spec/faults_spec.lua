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
local fcntl = require("posix.fcntl")
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

  -- a batch of n queries from client: every one answered, and counted
  local function batch_counted(client, n, tag)
    assert.equal(n, (dnsmasq.batch(dm, dir, client, n, tag)))
    local counted, s = wait_counted(host, client, n)
    assert.equal(n, counted)
    return s
  end

  local function kill_host()
    assert(psignal.kill(host.pid, psignal.SIGKILL))
    proc.wait(host, 5)
    proc.kill(host)
  end

  -- queries from client until dnsmasq logs to the module again (after SIGUSR2)
  local function wait_logging(client)
    assert.is_true(wait_until(function()
      udp_query(dm, "probe.load.test", client, 2)
      return client_total(scrape(host), client) > 0
    end, 15))
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
    batch_counted("127.0.0.71", 1000, "before")

    -- SIGKILL in the middle of a batch: the kernel drops the lock, the guard drains
    local dig = dnsmasq.start_batch(dm, dir, "127.0.0.72", 10000, "during")
    socket.sleep(0.5)
    kill_host()
    socket.sleep(1)
    start_host()   -- restarted while the batch still runs
    assert.equal(10000, (dnsmasq.batch_answered(dig, 120)))

    -- the new module counts every query again, dnsmasq untouched
    local s = batch_counted("127.0.0.73", 1000, "after")
    -- what it counted of the batch it came back into is a part of it, never more
    assert.is_true(client_total(s, "127.0.0.72") <= 10000)
    assert.equal(1, expo.value(s, "dnsagg_fifo_opens_total"))
  end)

  it("without the guard (not the package's set-up), a SIGKILL leaves dnsmasq answering, and SIGUSR2 resumes the log", function()
    proc.kill(guard)   -- no guard: the FIFO has no reader once the host dies
    assert.equal(1, pstat.S_ISFIFO(pstat.stat(fifo).st_mode))   -- the guard leaves its FIFO
    start_host()       -- before dnsmasq, which would wait in open() for a reader
    start_dnsmasq()
    batch_counted("127.0.0.91", 1000, "alone")
    local dig = dnsmasq.start_batch(dm, dir, "127.0.0.92", 5000, "alone-killed")
    socket.sleep(0.3)
    kill_host()
    -- dnsmasq gets EPIPE and stops logging: it never blocks
    assert.equal(5000, (dnsmasq.batch_answered(dig, 120)))
    start_host()       -- opens the FIFO and sends dnsmasq SIGUSR2 (dnsmasq_pidfile)
    local s = scrape(host)
    assert.is_true(expo.value(s, "dnsagg_dnsmasq_reopen_signals_total") >= 1)
    wait_logging("127.0.0.93")
    batch_counted("127.0.0.94", 1000, "alone-again")
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
  -- the hostname label of a client's per-client series ("" when not leased)
  local function hostname_of(samples, client)
    for _, x in ipairs(samples) do
      if x.name == "dnsmasq_client_queries_total" and x.labels.client == client then return x.labels.hostname end
    end
  end

  local function host_rss_kib()
    local f = io.open("/proc/" .. host.pid .. "/status")
    local kib = f and tonumber(f:read("*a"):match("VmRSS:%s*(%d+)"))
    if f then f:close() end
    return kib
  end

  it("lets go of a deleted FIFO, leaves a regular file in its place unread, and takes the new FIFO", function()
    start_dnsmasq()
    start_host()
    batch_counted("127.0.0.76", 200, "first")

    -- deleted under traffic: dnsmasq still writes to the old FIFO, which
    -- the guard holds and drains once the module has let go of it
    local dig = dnsmasq.start_batch(dm, dir, "127.0.0.77", 5000, "deleted")
    socket.sleep(0.2)
    assert(os.remove(fifo))
    assert.is_true(wait_until(function() return expo.value(scrape(host), "dnsagg_fifo_up") == 0 end, 5))
    assert.equal(5000, (dnsmasq.batch_answered(dig, 120)))

    -- a regular file in its place (a log path touched by hand): never read
    proc.write_file(fifo, "Nov 22 01:41:33 dnsmasq[1]: 7 10.9.9.9/53 query[A] planted.example from 10.9.9.9\n")
    assert.equal(500, (dnsmasq.batch(dm, dir, "127.0.0.78", 500, "regular")))
    socket.sleep(1.5)   -- a housekeeping round and more
    local s = scrape(host)
    assert.equal(0, expo.value(s, "dnsagg_fifo_up"))
    assert.equal(0, client_total(s, "10.9.9.9"))

    -- `/etc/init.d/dnsagg restart`: a new guard replaces the file with a
    -- FIFO; the module opens it and has dnsmasq (SIGUSR2) reopen its log
    proc.kill(guard)
    start_guard()
    assert.is_true(wait_until(function() return expo.value(scrape(host), "dnsagg_fifo_up") == 1 end, 20))
    wait_logging("127.0.0.79")
    batch_counted("127.0.0.80", 500, "renewed")
    assert.equal(0, client_total(scrape(host), "10.9.9.9"))
  end)

  it("copes with lease files half-written, huge, binary and vanishing", function()
    local leases = dir .. "/dhcp.leases"
    local function lease(ip, name) return "1900000000 aa:bb:cc:00:00:01 " .. ip .. " " .. name .. " *\n" end
    proc.write_file(leases, lease("127.0.0.81", "alpha"))
    start_dnsmasq()
    start_host()
    local sent = 0
    local function query_and_scrape(want_name)
      sent = sent + 1
      assert.equal(0, (udp_query(dm, "lease" .. sent .. ".load.test", "127.0.0.81", 5)))
      local n, s = wait_counted(host, "127.0.0.81", sent)
      assert.equal(sent, n)
      if want_name then
        -- a file cut mid-line is taken once it has stayed so for a round
        -- (a second): 2-3 s here, far more in a loaded sanitizer run
        local t0 = socket.gettime()
        local joined = wait_until(function()
          s = scrape(host)
          return hostname_of(s, "127.0.0.81") == want_name
        end, 15)
        assert.is_true(joined, string.format("hostname %q, not %q, %.1f s after the query was counted"
          .. " (dnsagg_leases %s, dnsagg_lease_reloads_total %s, dnsagg_lease_bad_lines %s)",
          tostring((hostname_of(s, "127.0.0.81"))), want_name, socket.gettime() - t0,
          tostring((expo.value(s, "dnsagg_leases"))), tostring((expo.value(s, "dnsagg_lease_reloads_total"))),
          tostring((expo.value(s, "dnsagg_lease_bad_lines")))))
      end
      return s
    end
    query_and_scrape("alpha")

    -- half-written: a cut last line, as a rewrite seen in the middle (or
    -- one that stopped: /tmp full) leaves it
    proc.write_file(leases, lease("127.0.0.81", "beta") .. "1900000000 aa:bb:cc:00:00:02 127.0.0.9")
    local s = query_and_scrape("beta")
    assert.equal(1, expo.value(s, "dnsagg_leases"))
    assert.equal(1, expo.value(s, "dnsagg_lease_bad_lines"))

    -- huge: 40 MiB of leases; the first MiB is read, up to 1000 leases kept
    local f = assert(io.open(leases, "wb"))
    f:write(lease("127.0.0.81", "gamma"))
    local chunk = {}
    for i = 1, 10000 do chunk[i] = lease(string.format("10.%d.%d.%d", i % 250, i % 200, i % 199 + 1), "h" .. i) end
    chunk = table.concat(chunk)
    while f:seek("end") < 40 * 1048576 do f:write(chunk) end
    f:close()
    s = query_and_scrape("gamma")
    assert.equal(1000, expo.value(s, "dnsagg_leases"))

    -- binary: random bytes, ending in a newline or not
    local rnd = assert(io.open("/dev/urandom", "rb"))
    local junk = rnd:read(65536)
    rnd:close()
    proc.write_file(leases, junk .. "\n")
    s = query_and_scrape("")
    assert.equal(0, expo.value(s, "dnsagg_leases"))
    assert.is_true(expo.value(s, "dnsagg_lease_bad_lines") > 0)
    proc.write_file(leases, lease("127.0.0.81", "delta"))
    query_and_scrape("delta")
    proc.write_file(leases, junk:gsub("\n", "") .. "x")
    s = query_and_scrape("")
    assert.equal(0, expo.value(s, "dnsagg_leases"))

    -- vanishing, and coming back
    proc.write_file(leases, lease("127.0.0.81", "epsilon"))
    query_and_scrape("epsilon")
    assert(os.remove(leases))
    s = query_and_scrape("")
    assert.equal(0, expo.value(s, "dnsagg_leases"))
    proc.write_file(leases, lease("127.0.0.81", "zeta"))
    query_and_scrape("zeta")

    -- rewritten, truncated and removed in a loop while queries and scrapes run
    local churn = proc.spawn({ "sh", "-c", string.format([[
      i=0; while [ $i -lt 3000 ]; do
        printf '1900000000 aa:bb:cc:00:00:01 127.0.0.81 eta *\n' > %s
        : > %s; printf '1900000000 aa:bb:cc:00:00:01 127.0.0.81 et' > %s; rm -f %s
        printf '1900000000 aa:bb:cc:00:00:01 127.0.0.81 eta *\n' > %s
        i=$((i + 1)); done]], leases, leases, leases, leases, leases) })
    local answered = dnsmasq.batch(dm, dir, "127.0.0.82", 2000, "churn")
    local scrapes_ok = 0
    while proc.alive(churn) do
      local _, body = scrape(host)
      if body and body:find("dnsmasq_client_queries_total", 1, true) then scrapes_ok = scrapes_ok + 1 end
    end
    assert.equal(2000, answered)
    assert.equal(2000, (wait_counted(host, "127.0.0.82", 2000)))
    assert.is_true(scrapes_ok > 0)
    query_and_scrape("eta")
  end)

  it("counts every query across 20 dnsmasq restarts in a row, half of them crashes (SIGKILL)", function()
    start_dnsmasq()
    start_host()
    for cycle = 1, 20 do
      local client = "127.0.1." .. cycle
      assert.equal(50, (dnsmasq.batch(dm, dir, client, 50, "cycle" .. cycle)))
      if cycle % 2 == 0 then
        assert(psignal.kill(dm.handle.pid, psignal.SIGKILL))
        proc.wait(dm.handle, 5)
      end
      dnsmasq.stop(dm)
      dnsmasq.restart(dm)
    end
    local s = scrape(host)
    for cycle = 1, 20 do
      local client = "127.0.1." .. cycle
      local n = wait_counted(host, client, 50)
      assert.equal(50, n, client)
    end
    assert.equal(1, expo.value(s, "dnsagg_fifo_opens_total"))
  end)

  it("holds its memory ceiling through a flood of a million distinct names", function()
    start_dnsmasq()
    start_host()
    -- the million lines are written into the FIFO directly (dnsmasq would
    -- take many minutes to answer a million queries here) while dnsmasq
    -- answers a batch of its own and writes its lines beside them.  Each
    -- write is of whole lines and at most PIPE_BUF bytes, so the kernel
    -- never mixes its bytes with a line of dnsmasq's (dnsmasq writes a
    -- line at a time).
    local fd = assert(fcntl.open(fifo, fcntl.O_WRONLY))
    local function flood(first, last)
      local lines, bytes = {}, 0
      local function write()
        local chunk = table.concat(lines)
        local wrote, err = unistd.write(fd, chunk)
        assert(wrote == #chunk, tostring(err))
        lines, bytes = {}, 0
      end
      for i = first, last do
        local line = string.format("Nov 22 01:41:33 dnsmasq[1]: %d 10.20.0.%d/5353 query[A]"
          .. " flood-%07d.example.net from 10.20.0.%d\n", i, i % 200, i, i % 200)
        if bytes + #line > 4096 then write() end
        lines[#lines + 1], bytes = line, bytes + #line
      end
      write()
    end
    local dig = dnsmasq.start_batch(dm, dir, "127.0.0.83", 5000, "flood")
    local memory, rss = {}, {}
    for step = 1, 10 do
      flood((step - 1) * 100000 + 1, step * 100000)
      local want = step * 100000
      local s
      assert.is_true(wait_until(function()
        s = scrape(host)
        return expo.value(s, "dnsagg_lines_total", { kind = "query" }) >= want
      end, 60), "flood step " .. step .. ": " .. tostring(expo.value(s, "dnsagg_lines_total", { kind = "query" })))
      memory[step] = expo.value(s, "dnsagg_memory_bytes")
      rss[step] = host_rss_kib()
      assert.equal(5000, expo.value(s, "dnsagg_table_entries"))
    end
    unistd.close(fd)
    assert.equal(5000, (dnsmasq.batch_answered(dig, 120)))
    local n, s = wait_counted(host, "127.0.0.83", 5000)
    assert.equal(5000, n)
    assert.equal(5000, expo.value(s, "dnsagg_table_entries"))
    -- every flood line counted, by client (200 of them: max_clients is 1000)
    local flooded = 0
    for c = 0, 199 do flooded = flooded + client_total(s, "10.20.0." .. c) end
    assert.equal(1000000, flooded)
    -- the tables' memory: flat once full (names of other lengths, from
    -- dnsmasq's batch, move it by a little either way)
    for step = 2, 10 do
      assert.is_true(memory[step] <= memory[1] * 1.02, string.format("step %d: %d bytes, %d at step 1",
        step, memory[step], memory[1]))
    end
    -- the host's resident memory: flat once the table is full (1 MiB of
    -- leeway for malloc).  Not under a sanitizer (make test-asan and
    -- test-tsan set DNSAGG_PRELOAD): ASan's quarantine and TSan's shadow
    -- memory hold freed memory back by design; the module's own count of
    -- its memory, above, is checked there too.
    if not os.getenv("DNSAGG_PRELOAD") then
      assert.is_true(rss[10] - rss[2] <= 1024, string.format("RSS grew from %d to %d KiB", rss[2], rss[10]))
    end
    print(string.format("\n  a million distinct names: dnsagg_memory_bytes %s (every 100000 lines);"
      .. " host RSS %s KiB", table.concat(memory, " "), table.concat(rss, " ")))
  end)

  it("gives valid exposition for pathological names sent through dnsmasq", function()
    dm = dnsmasq.start{ dir = dir, log = fifo, args = { "--address=/load.test/10.1.1.1", "--address=/a/10.1.1.1" } }
    start_host()
    local l63 = string.rep("x", 63)
    local names = {
      l63 .. "." .. l63 .. "." .. l63 .. "." .. string.rep("y", 51) .. ".load.test",   -- 253 characters
      string.rep("a.", 126) .. "a",                                                     -- 127 labels
      'quo\\"te.load.test', "back\\\\slash.load.test", "caf\\195\\169.load.test",       -- dig's escapes
      "bad\\255byte.load.test", "ctl\\001\\127.load.test", "sp\\032ace.load.test", "do\\.t.load.test",
      "curly{}=,.load.test",
    }
    assert.equal(253, #names[1])
    assert.equal(253, #names[2])
    for _, name in ipairs(names) do
      assert.equal("NOERROR", (dnsmasq.dig(dm, name, { from = "127.0.0.84" })), name)
    end
    -- dnsmasq (2.89) logs a name with a byte outside 32..126 or a dot
    -- inside a label as "<name unprintable>", and "sp ace" with its space:
    -- a line the module leaves unparsed on purpose (a name with a space
    -- cannot be told from the words around it)
    local n, s = wait_counted(host, "127.0.0.84", #names - 1)
    assert.equal(#names - 1, n)
    local body = assert(http.get(host.url, 10))
    local ok, out = expo.promtool_check_host(body, dir)
    assert.is_true(ok, out)
    s = expo.parse(body)
    assert.equal(4, expo.value(s, "dnsmasq_queries_total", { client = "127.0.0.84", domain = "<name unprintable>" }))
    for _, name in ipairs({ names[1], names[2], 'quo"te.load.test', "back\\slash.load.test", "curly{}=,.load.test" }) do
      assert.equal(1, expo.value(s, "dnsmasq_queries_total", { client = "127.0.0.84", domain = name }), name)
    end
    -- "sp ace": its query line and its reply line ("config sp ace.load.test is 10.1.1.1")
    assert.equal(2, expo.value(s, "dnsagg_lines_total", { kind = "unparsed" }))
  end)
end)
