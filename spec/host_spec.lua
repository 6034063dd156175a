-- Tests of the exporter stand-in itself (spec/support/exporter_host.lua) and its helpers.
-- Run: cd /work/main && busted spec/host_spec.lua
local proc = require("spec.support.proc")
local http = require("spec.support.http")
local socket = require("socket")

local A_FAKE = [=[
LOADS = (LOADS or 0) + 1                  -- global: counts how often this file was loaded
local unistd = require("posix.unistd")
local load_pid = unistd.getpid()
local scrapes = 0
return { scrape = function()
  scrapes = scrapes + 1
  metric("fake_total", "counter", { a = "x" }, 1)
  local fam = metric("fake_family", "gauge")
  fam({ k = "one" }, 1.5)
  fam({ k = "two" }, 2)
  fam({ k = "skipped" }, nil)
  fam(nil, 3)
  fam({ a = "x", b = "y" }, 4)
  metric("fake_raw", "gauge", { v = 'q"b\\s' }, 5)
  metric("fake_zero_total", "counter", nil, 0)
  metric("fake_third", "gauge", nil, 1 / 3)
  metric("fake_pid", "gauge", nil, unistd.getpid())
  metric("fake_load_pid", "gauge", nil, load_pid)
  metric("fake_loads", "gauge", nil, LOADS)
  metric("fake_scrapes", "gauge", nil, scrapes)
end }
]=]

local B_BROKEN = [=[
return { scrape = function() error("fake collector failure") end }
]=]

local SLOW = [=[
local socket = require("socket")
return { scrape = function()
  local t0 = socket.gettime()
  socket.sleep(tonumber(os.getenv("SLOW_SECONDS") or "1"))
  metric("fake_slow_start", "gauge", nil, string.format("%.6f", t0))
  metric("fake_slow_end", "gauge", nil, string.format("%.6f", socket.gettime()))
end }
]=]

local BAD_LOAD = [=[
error("collector load failure")
]=]

local BAD_ERROR_VALUE = [=[
return { scrape = function() error({}) end }   -- upstream's err .. "\n" then fails
]=]

-- label order is pairs() order; Lua 5.1 string hashing is not randomised, so an identical
-- table constructor gives the same order in the host process
local AB = {}
for k, v in pairs({ a = "x", b = "y" }) do AB[#AB + 1] = k .. '="' .. v .. '"' end
AB = table.concat(AB, ",")

local EXPECTED_ALL = {
  "# TYPE node_scrape_collector_duration_seconds gauge",
  "# TYPE node_scrape_collector_success gauge",
  "# TYPE fake_total counter",
  'fake_total{a="x"} 1',
  "# TYPE fake_family gauge",
  'fake_family{k="one"} 1.5',
  'fake_family{k="two"} 2',
  "fake_family 3",
  "fake_family{" .. AB .. "} 4",
  "# TYPE fake_raw gauge",
  'fake_raw{v="q"b\\s"} 5',
  "# TYPE fake_zero_total counter",
  "fake_zero_total 0",
  "# TYPE fake_third gauge",
  "fake_third 0.33333333333333",
  "# TYPE fake_pid gauge",
  "fake_pid <N>",
  "# TYPE fake_load_pid gauge",
  "fake_load_pid <N>",
  "# TYPE fake_loads gauge",
  "fake_loads 1",
  "# TYPE fake_scrapes gauge",
  "fake_scrapes <N>",
  'node_scrape_collector_duration_seconds{collector="a_fake"} <SECONDS>',
  'node_scrape_collector_success{collector="a_fake"} 1',
  'node_scrape_collector_duration_seconds{collector="b_broken"} <SECONDS>',
  'node_scrape_collector_success{collector="b_broken"} 0',
}
local TYPES_ONLY = { EXPECTED_ALL[1], EXPECTED_ALL[2] }

local function split(body)
  local t = {}
  for l in (body or ""):gmatch("([^\n]*)\n") do t[#t + 1] = l end
  return t
end

-- series ("name{labels}") -> value string
local function values(body)
  local v = {}
  for _, l in ipairs(split(body)) do
    local series, val = l:match("^([^#%s][^ ]*) (.+)$")
    if series then v[series] = val end
  end
  return v
end

-- replace run-dependent values by placeholders, checking they are sane numbers
local function normalize(body)
  local t = {}
  for _, l in ipairs(split(body)) do
    local series, val = l:match("^(fake_[%w_]*pid) (%d+)$")
    if not series then series, val = l:match("^(fake_scrapes) (%d+)$") end
    if series then l = series .. " <N>" end
    local dur_series, secs = l:match("^(node_scrape_collector_duration_seconds{[^}]*}) (%S+)$")
    if dur_series then
      local n = tonumber(secs)
      assert(n and n >= 0 and n < 5, "odd duration: " .. l)
      l = dur_series .. " <SECONDS>"
    end
    t[#t + 1] = l
  end
  return t
end

local function filter(lines, pred)
  local t = {}
  for _, l in ipairs(lines) do if pred(l) then t[#t + 1] = l end end
  return t
end

local function count(s, pat)
  local n = 0
  for _ in s:gmatch(pat) do n = n + 1 end
  return n
end

describe("exporter_host stand-in", function()
  local dir, bad_dir, slow_dir, errval_dir

  setup(function()
    dir = proc.tmpdir()
    proc.write_file(dir .. "/prometheus-collectors/a_fake.lua", A_FAKE)
    proc.write_file(dir .. "/prometheus-collectors/b_broken.lua", B_BROKEN)
    proc.write_file(dir .. "/prometheus-collectors/not_a_collector.txt", "ignored")
    bad_dir = proc.tmpdir()
    proc.write_file(bad_dir .. "/prometheus-collectors/a_fake.lua", A_FAKE)
    proc.write_file(bad_dir .. "/prometheus-collectors/c_bad.lua", BAD_LOAD)
    slow_dir = proc.tmpdir()
    proc.write_file(slow_dir .. "/prometheus-collectors/slow.lua", SLOW)
    errval_dir = proc.tmpdir()
    proc.write_file(errval_dir .. "/prometheus-collectors/a_fake.lua", A_FAKE)
    proc.write_file(errval_dir .. "/prometheus-collectors/z_errval.lua", BAD_ERROR_VALUE)
  end)

  teardown(function()
    proc.kill_all()
    for _, d in ipairs({ dir, bad_dir, slow_dir, errval_dir }) do proc.rmtree(d) end
  end)

  after_each(function() proc.kill_all() end)

  describe("cli mode", function()
    it("runs every collector once, prints the exact exposition and exits 0", function()
      local out, how, code, err = proc.run_host_cli({ collectors = dir, timeout = 10 })
      assert.are.equal("exited", how)
      assert.are.equal(0, code)
      assert.are.same(EXPECTED_ALL, normalize(out))
      local v = values(out)
      assert.are.equal(v.fake_pid, v.fake_load_pid)
      assert.are.equal("1", v.fake_scrapes)
      assert.truthy(err:find("b_broken.lua:1: fake collector failure\n", 1, true))
    end)

    it("--cli-exit os gives the same output and status", function()
      local out, how, code = proc.run_host_cli({ collectors = dir, cli_exit = "os" })
      assert.are.equal("exited", how)
      assert.are.equal(0, code)
      assert.are.same(EXPECTED_ALL, normalize(out))
    end)

    it("OMIT_ZERO_VALUES=1 drops zero counter samples but keeps TYPE lines and gauges", function()
      local out, how, code = proc.run_host_cli({ collectors = dir, env = { OMIT_ZERO_VALUES = "1" } })
      assert.are.equal(0, code)
      local expected = filter(EXPECTED_ALL, function(l) return l ~= "fake_zero_total 0" end)
      assert.are.same(expected, normalize(out))
    end)

    it("dies when a collector fails to load (no pcall around require)", function()
      local out, how, code, err = proc.run_host_cli({ collectors = bad_dir })
      assert.are.equal("exited", how)
      assert.are.equal(1, code)
      assert.are.equal("", out)
      assert.truthy(err:find("collector load failure", 1, true))
    end)
  end)

  for _, mode in ipairs({ "server", "fork" }) do
    describe(mode .. " mode", function()
      local h
      before_each(function()
        local err, stderr
        h, err, stderr = proc.start_host({ mode = mode, collectors = dir })
        assert(h, tostring(err) .. "\n" .. tostring(stderr))
      end)
      after_each(function() proc.kill(h) end)

      it("announces the real port and serves every collector on /metrics", function()
        assert.is_true(h.port > 0)
        assert.are.equal("127.0.0.1", h.host)
        local body, status, headers = http.get(h.url, 10)
        assert.are.equal(200, status, tostring(body))
        assert.are.equal("text/plain; version=0.0.4", headers["content-type"])
        assert.are.equal("lua-metrics", headers["server"])
        assert.are.same(EXPECTED_ALL, normalize(body))
      end)

      it("restricts the collectors with collect[] / collect", function()
        local function get(q)
          local body, status = http.get(h.url .. q, 10)
          assert.are.equal(200, status)
          return normalize(body)
        end
        local broken_only = { TYPES_ONLY[1], TYPES_ONLY[2], EXPECTED_ALL[26], EXPECTED_ALL[27] }
        assert.are.same(broken_only, get("?collect[]=b_broken"))
        assert.are.same(broken_only, get("?collect%5B%5D=b_broken"))
        assert.are.same(broken_only, get("?collect=b_broken"))
        assert.are.same(EXPECTED_ALL, get("?collect%5B%5D=a_fake&collect%5B%5D=b_broken"))
        assert.are.same(TYPES_ONLY, get("?collect[]=no_such_collector"))
        local a_only = get("?collect[]=a_fake")
        assert.are.same(EXPECTED_ALL[1], a_only[1])
        assert.are.same('node_scrape_collector_success{collector="a_fake"} 1', a_only[#a_only])
        assert.is_nil(table.concat(a_only, "\n"):find("b_broken", 1, true))
      end)

      it("answers 404 outside /metrics, / included", function()
        for _, path in ipairs({ "/", "/foo", "/lua" }) do
          local body, status, headers = http.get("http://127.0.0.1:" .. h.port .. path, 10)
          assert.are.equal(404, status, path)
          assert.are.equal("text/plain", headers["content-type"])
          assert.truthy(body:find("ERROR: File Not Found.", 1, true))
        end
        -- upstream quirk of the old server's pattern ^GET /metrics%??([^ ]*) HTTP/1%.[01]$:
        -- "/metricsx" and "/metrics/" are served; uhttpd's PATH_INFO check refuses them
        for _, path in ipairs({ "/metricsx", "/metrics/" }) do
          local _, status = http.get("http://127.0.0.1:" .. h.port .. path, 10)
          assert.are.equal(mode == "server" and 200 or 404, status, path)
        end
      end)

      it("reports a failing collector with success 0, logs it, and keeps serving", function()
        for _ = 1, 3 do
          local body, status = http.get(h.url, 10)
          assert.are.equal(200, status)
          assert.are.equal("0", values(body)['node_scrape_collector_success{collector="b_broken"}'])
          assert.are.equal("1", values(body)['node_scrape_collector_success{collector="a_fake"}'])
        end
        socket.sleep(0.1)
        assert.are.equal(3, count(proc.stderr(h), "b_broken%.lua:1: fake collector failure\n"))
        assert.is_true(proc.alive(h))
      end)

      it("exits with status 0 on SIGTERM", function()
        assert.truthy(http.get(h.url, 10))
        local t0 = socket.gettime()
        local how, code = proc.kill(h, 3)
        assert.are.equal("exited", how)
        assert.are.equal(0, code)
        assert.is_true(socket.gettime() - t0 < 2.5)
      end)

      it("exits with status 0 on SIGINT", function()
        require("posix.signal").kill(h.pid, require("posix.signal").SIGINT)
        local how, code = proc.wait(h, 3)
        assert.are.equal("exited", how)
        assert.are.equal(0, code)
      end)

      it("dies before listening when a collector fails to load", function()
        local b = proc.spawn(proc.host_argv({ collectors = bad_dir, port = 0 }, mode))
        local line, err = proc.read_line(b, 10)
        assert.is_nil(line)
        assert.are.equal("eof", err)
        local how, code = proc.wait(b, 5)
        assert.are.equal("exited", how)
        assert.are.equal(1, code)
        assert.truthy(proc.stderr(b):find("collector load failure", 1, true))
      end)
    end)
  end

  describe("server mode (old LuaSocket model)", function()
    it("serves every request in the one long-lived process, keeping memory", function()
      local h = assert(proc.start_host({ mode = "server", collectors = dir }))
      for i = 1, 3 do
        local v = values((http.get(h.url, 10)))
        assert.are.equal(tostring(h.pid), v.fake_pid)
        assert.are.equal(tostring(h.pid), v.fake_load_pid)
        assert.are.equal("1", v.fake_loads)
        assert.are.equal(tostring(i), v.fake_scrapes)
      end
      proc.kill(h)
    end)
  end)

  describe("fork mode (uhttpd model)", function()
    local h
    after_each(function() if h then proc.kill(h) end h = nil end)

    it("forks a fresh child per request; collectors are loaded once, in the parent", function()
      h = assert(proc.start_host({ mode = "fork", collectors = dir }))
      local seen = {}
      for _ = 1, 3 do
        local v = values((http.get(h.url, 10)))
        assert.are_not.equal(tostring(h.pid), v.fake_pid)
        assert.is_nil(seen[v.fake_pid])
        seen[v.fake_pid] = true
        assert.are.equal(tostring(h.pid), v.fake_load_pid)
        assert.are.equal("1", v.fake_loads)
        assert.are.equal("1", v.fake_scrapes)   -- what a scrape changes dies with the child
      end
    end)

    it("kills a child after --child-timeout and keeps serving", function()
      h = assert(proc.start_host({ mode = "fork", collectors = slow_dir, child_timeout = 1,
                                   env = { SLOW_SECONDS = "5" } }))
      local t0 = socket.gettime()
      local body = http.get(h.url .. "?collect[]=slow", 10)
      local elapsed = socket.gettime() - t0
      assert.is_true(elapsed < 4, "took " .. elapsed)
      assert.is_nil((body or ""):find("fake_slow_end", 1, true))
      local body2, status2 = http.get(h.url .. "?collect[]=none", 5)
      assert.are.equal(200, status2)
      assert.are.same(TYPES_ONLY, normalize(body2))
    end)

    local function two_at_once(host)
      local p1 = assert(http.start(host.url .. "?collect[]=slow", 10))
      local p2 = assert(http.start(host.url .. "?collect[]=slow", 10))
      local r = {}
      for _, p in ipairs({ p1, p2 }) do
        local body, status = http.finish(p)
        assert.are.equal(200, status)
        local v = values(body)
        r[#r + 1] = { start = tonumber(v.fake_slow_start), stop = tonumber(v.fake_slow_end) }
      end
      table.sort(r, function(a, b) return a.start < b.start end)
      return r
    end

    it("runs at most --max-children children at once", function()
      h = assert(proc.start_host({ mode = "fork", collectors = slow_dir, max_children = 1 }))
      local r = two_at_once(h)
      assert.is_true(r[2].start >= r[1].stop - 0.01, "requests overlapped with --max-children 1")
    end)

    it("runs requests in parallel by default (3 children)", function()
      h = assert(proc.start_host({ mode = "fork", collectors = slow_dir }))
      local r = two_at_once(h)
      assert.is_true(r[2].start < r[1].stop, "requests were serialised")
    end)

    it("answers 500 text when handle_request itself fails (non-string error value)", function()
      h = assert(proc.start_host({ mode = "fork", collectors = errval_dir }))
      local body, status = http.get(h.url, 10)
      assert.are.equal(200, status)                -- the Status: line had already been sent
      assert.truthy(body:find("Unable to launch the requested Lua program", 1, true))
      local b2, s2 = http.get(h.url .. "?collect[]=a_fake", 10)
      assert.are.equal(200, s2)
      assert.truthy(b2:find('node_scrape_collector_success{collector="a_fake"} 1', 1, true))
    end)
  end)

  describe("helpers", function()
    it("proc.wait_port sees a host's port and http.raw gets raw bytes", function()
      local h = assert(proc.start_host({ mode = "server", collectors = dir }))
      assert.is_true(proc.wait_port("127.0.0.1", h.port, 5))
      local raw = http.raw("127.0.0.1", h.port, "GET /nope HTTP/1.0\r\n\r\n", 5)
      assert.are.equal("HTTP/1.1 404 Not Found\r\n", raw:sub(1, 24))
      proc.kill(h)
      assert.is_nil(proc.wait_port("127.0.0.1", h.port, 0.3))
    end)

    it("proc.read_line times out on a silent process and proc.kill ends it", function()
      local p = proc.spawn({ "sleep", "30" })
      local line, err = proc.read_line(p, 0.3)
      assert.is_nil(line)
      assert.are.equal("timeout", err)
      local how, code = proc.kill(p, 1)
      assert.are.equal("killed", how)
      assert.are.equal(15, code)
    end)
  end)
end)
