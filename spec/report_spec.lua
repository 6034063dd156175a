-- dnsagg-report (lua/dnsagg-report), run as a person runs it: against the
-- test host with the module reading the real dnsmasq's FIFO (--url), and
-- against a log file the real dnsmasq wrote (--log), with the same traffic;
-- its tables, its errors and its exit codes.
local proc = require("spec.support.proc")
local dnsmasq = require("spec.support.dnsmasq")
local scenario = require("spec.support.scenario")
local expo = require("spec.support.expo")
local unistd = require("posix.unistd")

local ROOT = unistd.getcwd()
local SCRIPT = ROOT .. "/lua/dnsagg-report"
local IS_ROOT = unistd.geteuid() == 0

local function report(...)
  local argv = { "lua5.1", SCRIPT, ... }
  local out, how, code, stderr = proc.run(argv, { env = { LUA_CPATH = ROOT .. "/?.so;;" }, timeout = 30 })
  assert.equal("exited", how, tostring(stderr))
  return out, code, stderr
end

-- the lines of a report, leaving out the rows of the readiness probes of
-- spec/support/dnsmasq.lua (". SOA from 127.0.0.1"), whose number varies
local function without_probes(text)
  local kept = {}
  for line in text:gmatch("[^\n]+") do
    local fields = {}
    for f in (line .. "\t"):gmatch("([^\t]*)\t") do fields[#fields + 1] = f end
    if fields[2] ~= "." and fields[2] ~= "127.0.0.1" then kept[#kept + 1] = line end
  end
  return table.concat(kept, "\n") .. "\n"
end

-- the lines of a table, its header first, its rows sorted (the order of
-- equal counts differs: the log's last seen, the exporter's names)
local function as_set(text)
  local header, rows = text:match("^([^\n]*\n)(.*)$")
  local lines = {}
  for line in rows:gmatch("[^\n]+") do lines[#lines + 1] = line end
  table.sort(lines)
  return header .. table.concat(lines, "\n") .. "\n"
end

-- the first `n` tab-separated columns of each line
local function columns(text, n)
  local out = {}
  for line in text:gmatch("[^\n]+") do
    local fields = {}
    for f in (line .. "\t"):gmatch("([^\t]*)\t") do fields[#fields + 1] = f end
    out[#out + 1] = table.concat(fields, "\t", 1, n)
  end
  return table.concat(out, "\n") .. "\n"
end

describe("dnsagg-report", function()
  local dir, s

  before_each(function() dir = proc.tmpdir() end)
  after_each(function()
    scenario.stop(s)
    s = nil
    proc.kill_all()
    proc.rmtree(dir)
  end)

  describe("with --url, against the exporter", function()
    local url
    before_each(function()
      s = scenario.start{ dir = dir }
      local n = scenario.send(s)
      local samples = scenario.wait_counted(s, n)
      assert.is_true(expo.sum(samples, "dnsmasq_client_queries_total") >= n)
      url = s.host.url .. "?collect[]=dnsagg"
    end)

    it("lists top domains, top clients, one client's domains and blocked domains", function()
      local out, code, err = report("--url", url, "client", "laptop")
      assert.equal(0, code, err)
      assert.equal(table.concat({
        "COUNT  DOMAIN",
        "    3  example.org",
        "    2  www.example.org",
        "    1  blocked.test",
      }, "\n") .. "\n", out)
      -- the same client by its address
      assert.equal(out, (report("--url", url, "domains", "--client", "127.0.0.11")))

      out, code = report("--url", url, "clients", "--domain", "*.example.org")
      assert.equal(0, code)
      assert.equal(table.concat({
        "COUNT  CLIENT      HOSTNAME",
        "    5  127.0.0.11  laptop",
        "    2  127.0.0.13  -",
        "    1  127.0.0.12  phone",
      }, "\n") .. "\n", out)

      out = report("--url", url, "domains", "--tsv")
      assert.equal(table.concat({
        "COUNT\tDOMAIN",
        "5\texample.org",
        "3\tblocked.test",
        "2\twww.example.org",
        "1\tmail.example.org",
        "1\tunknown.lan",
      }, "\n") .. "\n", without_probes(out))
      assert.equal("COUNT\tDOMAIN\n5\texample.org\n3\tblocked.test\n", (report("--url", url, "domains", "--tsv", "-n", "2")))

      out = report("--url", url, "clients", "--tsv")
      assert.equal("COUNT\tCLIENT\tHOSTNAME\n6\t127.0.0.11\tlaptop\n4\t127.0.0.12\tphone\n2\t127.0.0.13\t\n",
        without_probes(out))

      assert.equal("COUNT\tDOMAIN\n2\twww.example.org\n1\tblocked.test\n",
        (report("--url", url, "domains", "--type", "aaaa", "--tsv")))
      -- blocked: the A queries; the AAAA query of a name blocked as 0.0.0.0 is answered NODATA (local)
      assert.equal("COUNT  DOMAIN\n    2  blocked.test\n", (report("--url", url, "blocked")))
      assert.equal("COUNT\tDOMAIN\n1\tblocked.test\n", (report("--url", url, "blocked", "--client", "phone", "--tsv")))
    end)

    it("says --since cannot be had from the exporter", function()
      local out, code, err = report("--url", url, "domains", "--since", "1h")
      assert.equal(2, code)
      assert.equal("", out)
      assert.truthy(err:find("--since needs --log: the exporter's counters are totals since it started", 1, true), err)
    end)

    it("says when there is no DNSTT counting", function()
      local out, code, err = report("--url", url, "dnstt")
      assert.equal(1, code)
      assert.equal("", out)
      assert.truthy(err:find("no DNSTT metrics at " .. url, 1, true), err)
    end)
  end)

  it("gives the same counts from the log file the real dnsmasq wrote, with first and last seen", function()
    local log = scenario.write_log(dir, dir .. "/dnsmasq.log")
    proc.write_file(dir .. "/dhcp.leases", scenario.LEASES)

    -- the same traffic through the exporter
    s = scenario.start{ dir = dir .. "/live" }
    local n = scenario.send(s)
    scenario.wait_counted(s, n)
    local url = s.host.url .. "?collect[]=dnsagg"

    for _, args in ipairs{ { "domains" }, { "clients" }, { "blocked" }, { "client", "phone" },
                           { "domains", "--type", "A" }, { "clients", "--domain", "example.org" } } do
      local from_log, code, err = report("--log", log, "--leases", dir .. "/dhcp.leases", "--tsv", unpack(args))
      assert.equal(0, code, err)
      local width = args[1] == "clients" and 3 or 2
      assert.equal(as_set(without_probes(columns((report("--url", url, "--tsv", unpack(args))), width))),
        as_set(without_probes(columns(from_log, width))), table.concat(args, " "))
    end

    -- first and last seen: the times dnsmasq wrote, within this test's run
    local out = report("--log", log, "--leases", dir .. "/dhcp.leases", "--tsv", "client", "laptop")
    local started = os.time() - 120
    local rows = 0
    for count, domain, first, last in out:gmatch("\n(%d+)\t([^\t]+)\t(%d+)\t(%d+)") do
      rows = rows + 1
      assert.is_true(tonumber(first) >= started and tonumber(last) <= os.time() + 1, domain)
      assert.is_true(tonumber(first) <= tonumber(last))
      assert.is_true(tonumber(count) >= 1)
    end
    assert.equal(3, rows)
    local aligned = report("--log", log, "--leases", dir .. "/dhcp.leases", "client", "laptop")
    assert.truthy(aligned:match("^COUNT  DOMAIN           FIRST_SEEN           LAST_SEEN\n"
      .. "    3  example%.org      %d%d%d%d%-%d%d%-%d%d %d%d:%d%d:%d%d  %d%d%d%d%-%d%d%-%d%d %d%d:%d%d:%d%d\n"), aligned)
  end)

  it("keeps what the log's lines say was seen within --since", function()
    local log = scenario.write_log(dir, dir .. "/dnsmasq.log")
    -- the laptop's lines moved two days back: the same lines with an older stamp
    local text = proc.read_file(log)
    local old = os.date("%b %e %H:%M:%S", os.time() - 2 * 86400)
    local moved = text:gsub("[^\n]*\n", function(line)
      if line:find(" 127.0.0.11/", 1, true) then return old .. line:sub(16) end
    end)
    proc.write_file(log, moved)
    proc.write_file(dir .. "/dhcp.leases", scenario.LEASES)
    local leases = dir .. "/dhcp.leases"

    local all = report("--log", log, "--leases", leases, "--tsv", "clients")
    assert.equal("COUNT\tCLIENT\tHOSTNAME\n6\t127.0.0.11\tlaptop\n4\t127.0.0.12\tphone\n2\t127.0.0.13\t\n",
      without_probes(columns(all, 3)))
    for _, since in ipairs{ "3600", "1h", "60m", "1d" } do
      local recent, code, err = report("--log", log, "--leases", leases, "--tsv", "--since", since, "clients")
      assert.equal(0, code, err)
      assert.equal("COUNT\tCLIENT\tHOSTNAME\n4\t127.0.0.12\tphone\n2\t127.0.0.13\t\n", without_probes(columns(recent, 3)))
    end
    assert.equal(all, (report("--log", log, "--leases", leases, "--tsv", "--since", "3d", "clients")))
    assert.equal("COUNT\tDOMAIN\n", columns((report("--log", log, "--leases", leases, "--tsv", "--since", "1d",
      "client", "laptop")), 2))
  end)

  it("says clearly when the exporter is down or is not the dnsagg exporter", function()
    local port = dnsmasq.free_port()
    local out, code, err = report("--url", "http://127.0.0.1:" .. port .. "/metrics", "domains")
    assert.equal(1, code)
    assert.equal("", out)
    assert.equal("dnsagg-report: cannot read http://127.0.0.1:" .. port
      .. "/metrics: connection refused (is the exporter running there?)\n", err)

    -- an exporter without the collector
    local empty = dir .. "/collectors"
    proc.write_file(empty .. "/prometheus-collectors/other.lua", "return { scrape = function() end }")
    local host = assert(proc.start_host{ mode = "fork", collectors = empty })
    out, code, err = report("--url", host.url, "domains")
    assert.equal(1, code)
    assert.equal("dnsagg-report: no dnsagg metrics at " .. host.url
      .. " (is the dnsagg collector installed, and does the URL select it?)\n", err)
    proc.kill(host)

    -- the collector is there but failed to start
    proc.write_file(dir .. "/bad.conf.lua", "return { max_entires = 5 }")
    host = assert(proc.start_host{ mode = "fork", collectors = ROOT .. "/lua", cpath = ROOT,
      env = { DNSAGG_CONFIG = dir .. "/bad.conf.lua" } })
    out, code, err = report("--url", host.url, "clients")
    assert.equal(1, code)
    assert.truthy(err:find("the dnsagg collector failed at " .. host.url, 1, true), err)
    proc.kill(host)
  end)

  it("says clearly when the log cannot be read or is not dnsmasq's", function()
    local out, code, err = report("--log", dir .. "/missing.log", "domains")
    assert.equal(1, code)
    assert.equal("", out)
    assert.equal("dnsagg-report: cannot read the log " .. dir .. "/missing.log: No such file or directory\n", err)

    out, code, err = report("--log", dir, "domains")
    assert.equal(1, code)
    assert.equal("dnsagg-report: cannot read the log " .. dir .. ": Is a directory\n", err)

    proc.write_file(dir .. "/other.log", "Nov 22 01:41:33 sshd[12]: Accepted publickey for root\nhello\n")
    out, code, err = report("--log", dir .. "/other.log", "domains")
    assert.equal(1, code)
    assert.truthy(err:find("no dnsmasq queries in " .. dir .. "/other.log (2 lines, 2 not understood)", 1, true), err)

    out, code, err = report("--log", dir .. "/other.log", "--leases", dir .. "/none", "domains")
    assert.equal(1, code)
    assert.equal("dnsagg-report: cannot read the leases " .. dir .. "/none\n", err)

    proc.write_file(dir .. "/q.log", "Nov 22 01:41:33 dnsmasq[1]: query[A] a.example from 10.0.0.1\n")
    out, code, err = report("--log", dir .. "/q.log", "dnstt")
    assert.equal(2, code)
    assert.truthy(err:find("DNSTT sessions are counted from captured packets", 1, true), err)
  end)

  it("refuses wrong usage with status 2 and prints its help", function()
    for _, args in ipairs{ {}, { "top" }, { "client" }, { "domains", "extra" }, { "domains", "-n", "x" },
                           { "domains", "--since", "soon" }, { "domains", "--bogus" }, { "blocked", "--type", "A" },
                           { "--url", "http://x", "--log", "y", "domains" }, { "--leases", "x", "domains" },
                           { "dnstt", "--client", "x" }, { "domains", "-n" } } do
      local out, code, err = report(unpack(args))
      assert.equal(2, code, table.concat(args, " "))
      assert.equal("", out)
      assert.truthy(err:find("^dnsagg%-report: .*%(dnsagg%-report %-%-help for usage%)\n$"), err)
    end
    -- run as installed: by its #! line
    local out, how, code = proc.run({ SCRIPT, "--help" })
    assert.equal("exited", how)
    assert.equal(0, code)
    assert.truthy(out:find("^usage: dnsagg%-report %[options%] COMMAND\n"))
    for _, command in ipairs{ "domains", "clients", "client NAME|ADDRESS", "blocked", "dnstt" } do
      assert.truthy(out:find("\n  " .. command .. " ", 1, true), command)
    end
  end)

  it("is installed to bin/ by make install and to /usr/bin by the OpenWrt package", function()
    local out, how, code = proc.run({ "make", "-s", "install", "DESTDIR=" .. dir, "PREFIX=/usr" }, { timeout = 120 })
    assert.equal("exited", how)
    assert.equal(0, code, out)
    assert.truthy(unistd.access(dir .. "/usr/bin/dnsagg-report", "x"))
    local makefile = proc.read_file(ROOT .. "/openwrt/Makefile")
    local install = makefile:match("define Package/prometheus%-node%-exporter%-lua%-dnsagg/install\n(.-)\nendef")
    assert.truthy(install:find("$(INSTALL_BIN) $(PKG_BUILD_DIR)/lua/dnsagg-report $(1)/usr/bin/dnsagg-report", 1, true))
    assert.truthy(makefile:find("DEPENDS:=prometheus-node-exporter-lua +liblua +luasocket", 1, true))
  end)

  describe("with DNSTT counting (capture on lo, needs root)", function()
    if not IS_ROOT then
      it("needs root", function() pending("the capture needs root (CAP_NET_RAW), as the CI has") end)
      return
    end

    it("lists the tunnel domains with their sessions, queries and bytes", function()
      math.randomseed(20261122)
      s = scenario.start{ dir = dir, dnstt = "t.example.com" }
      local n = scenario.send_dnstt(s, 2)
      local d = { domain = "t.example.com" }
      -- the active count is brought up to date once a second
      local samples = scenario.wait_for(s, function(samples)
        return expo.sum(samples, "dnsmasq_client_queries_total") >= n and expo.value(samples, "dnstt_active_clients", d) == 2
      end)
      local url = s.host.url .. "?collect[]=dnsagg"
      local out, code, err = report("--url", url, "dnstt", "--tsv")
      assert.equal(0, code, err)
      assert.equal(string.format("DOMAIN\tACTIVE\tPEAK\tSESSIONS\tQUERIES\tBYTES_IN\tBYTES_OUT\n"
        .. "t.example.com\t2\t2\t2\t8\t%d\t%d\n", expo.value(samples, "dnstt_bytes_in_total", d),
        expo.value(samples, "dnstt_bytes_out_total", d)), out)
      assert.is_true(expo.value(samples, "dnstt_bytes_out_total", d) > 0)
      out = report("--url", url, "dnstt")
      assert.truthy(out:match("^DOMAIN         ACTIVE  PEAK  SESSIONS  QUERIES  BYTES_IN  BYTES_OUT\n"
        .. "t%.example%.com       2     2         2        8  +%d+  +%d+\n$"), out)
    end)
  end)
end)
