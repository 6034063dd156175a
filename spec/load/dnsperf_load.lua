-- Load: the real dnsmasq under dnsperf at 3000 queries per second for a
-- minute, set up as the package does (dnsagg-guard, dnsmasq logging to its
-- FIFO, the module in the forking test host scraped every second).  No
-- query may be lost because of the module, and the module must count
-- exactly the queries dnsmasq handled (dnsmasq's own counters).
--
-- Not in `make test` (it takes over a minute, two when a baseline is
-- needed): `make test-load` runs it, and CI runs that after `make check`.
-- The file is named *_load.lua so that `busted spec` leaves it out.
-- DNSAGG_LOAD_QPS and DNSAGG_LOAD_SECONDS change the rate and the length.
local proc = require("spec.support.proc")
local dnsmasq = require("spec.support.dnsmasq")
local dnsperf = require("spec.support.dnsperf")
local expo = require("spec.support.expo")
local http = require("spec.support.http")
local pstat = require("posix.sys.stat")
local unistd = require("posix.unistd")
local socket = require("socket")

local ROOT = unistd.getcwd()
local QPS = tonumber(os.getenv("DNSAGG_LOAD_QPS") or "") or 3000
local SECONDS = tonumber(os.getenv("DNSAGG_LOAD_SECONDS") or "") or 60
local CLIENT = "127.0.0.20"

describe("under dnsperf load", function()
  local dir, fifo, lock, guard, up, dm, host

  before_each(function()
    dir = proc.tmpdir()
    fifo, lock = dir .. "/dnsmasq.fifo", dir .. "/dnsagg.lock"
  end)

  after_each(function()
    dnsmasq.stop(dm); dnsmasq.stop(up)
    if host then proc.kill(host) end
    if guard then proc.kill(guard) end
    proc.kill_all()
    proc.rmtree(dir)
    dm, up, host, guard = nil, nil, nil, nil
  end)

  local function counted(s)
    return expo.sum(s, "dnsmasq_client_queries_total", { client = CLIENT })
  end

  local function run_dnsperf(queries)
    return dnsperf.start(dm, { queries = queries, qps = QPS, seconds = SECONDS, from = CLIENT, timeout = 5 })
  end

  it(string.format("loses no query and counts every one at %d qps for %d s, scraped every second", QPS, SECONDS), function()
    guard = proc.spawn({ ROOT .. "/dnsagg-guard", fifo, lock })
    local deadline = socket.gettime() + 5
    while not pstat.stat(fifo) and socket.gettime() < deadline do socket.sleep(0.01) end
    up = dnsmasq.upstream{ dir = dir }
    dm = dnsmasq.start{ dir = dir, log = fifo, upstream = up }
    proc.write_file(dir .. "/conf.lua", string.format(
      "return { fifo = %q, lock = %q, dnsmasq_pidfile = %q }", fifo, lock, dir .. "/dnsmasq.pid"))
    host = assert(proc.start_host{ mode = "fork", collectors = ROOT .. "/lua", cpath = ROOT,
      env = { DNSAGG_CONFIG = dir .. "/conf.lua" } })
    deadline = socket.gettime() + 10
    repeat socket.sleep(0.05)
    until expo.value(expo.parse(http.get(host.url, 10) or ""), "dnsagg_fifo_up") == 1 or socket.gettime() > deadline

    local queries, lines = dnsperf.query_file(dir, 2000)
    local before = dnsmasq.processed(dm)
    local perf = run_dnsperf(queries)
    -- a scrape every second while dnsperf runs (bounded)
    local scrapes, failed, next_at = 0, 0, socket.gettime()
    deadline = socket.gettime() + SECONDS + 60
    while proc.alive(perf) and socket.gettime() < deadline do
      local body, status = http.get(host.url, 10)
      scrapes = scrapes + 1
      if status ~= 200 or not body:find('node_scrape_collector_success{collector="dnsagg"} 1', 1, true) then
        failed = failed + 1
      end
      next_at = next_at + 1
      local wait = next_at - socket.gettime()
      if wait > 0 then socket.sleep(wait) end
    end
    local r = dnsperf.result(perf)
    local handled = dnsmasq.processed(dm) - before

    -- the module counts what dnsmasq handled, once it has read the FIFO to its end
    local n, last = -1, -2
    deadline = socket.gettime() + 30
    while socket.gettime() < deadline do
      n = counted(expo.parse(http.get(host.url .. "?collect[]=dnsagg", 10) or ""))
      if n == handled or (n == last and n > 0) then break end
      last = n
      socket.sleep(0.5)
    end
    print(string.format("\n  dnsperf %d qps for %d s (query file of %d lines): sent %d, completed %d, lost %d, %.0f qps;"
      .. " dnsmasq handled %d; dnsagg counted %d; %d scrapes, %d failed",
      QPS, SECONDS, lines, r.sent, r.completed, r.lost, r.qps or 0, handled, n, scrapes, failed))

    assert.equal(handled, n)                        -- counted = what dnsmasq logged
    assert.is_true(r.completed <= handled and handled <= r.sent)
    assert.equal(0, failed)
    assert.is_true(scrapes >= SECONDS / 2, scrapes .. " scrapes")
    assert.is_true(r.sent >= QPS * SECONDS / 2, "dnsperf sent only " .. r.sent)

    if r.lost > 0 then
      -- losses: did the machine lose as many without the module? The same
      -- run against dnsmasq with no query log at all.
      dnsmasq.stop(dm)
      dm = dnsmasq.start{ dir = dir, log = false, upstream = up }
      local b = dnsperf.result(run_dnsperf(queries))
      print(string.format("  baseline without the module: sent %d, completed %d, lost %d", b.sent, b.completed, b.lost))
      assert.is_true(r.lost <= b.lost + r.sent / 1000, string.format(
        "lost %d with the module, %d without", r.lost, b.lost))
    end
  end)
end)
