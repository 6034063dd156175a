-- The OpenWrt package's own init script (openwrt/files/dnsagg.init), run on
-- Debian through spec/support/openwrt_rc.sh with the real dnsmasq reading
-- the conf-dir the script writes to, the real dnsagg-guard, and the module
-- in the test host: at no point may dnsmasq stop answering because dnsagg
-- is not reading (not started yet, crashed, stopped, disabled).
local proc = require("spec.support.proc")
local dnsmasq = require("spec.support.dnsmasq")
local expo = require("spec.support.expo")
local http = require("spec.support.http")
local unistd = require("posix.unistd")
local socket = require("socket")

local ROOT = unistd.getcwd()
local INIT = ROOT .. "/openwrt/files/dnsagg.init"

describe("the OpenWrt package's init script", function()
  local dir, env, dm, host, confdir, fifo, lock

  local function rc(action)
    local out, how, code, err = proc.run({ "sh", ROOT .. "/spec/support/openwrt_rc.sh", INIT, action, dir },
      { env = env, timeout = 30 })
    assert.equal("exited", how, err)
    assert.equal(0, code, (out or "") .. (err or ""))
  end

  local function dnsmasq_pid()
    local f = io.open(dir .. "/dnsmasq.pid")
    local pid = f and tonumber(f:read("*l"))
    if f then f:close() end
    return pid
  end

  local function count(client)
    local body = http.get(host.url, 10) or ""
    return expo.sum(expo.parse(body), "dnsmasq_client_queries_total", { client = client })
  end

  before_each(function()
    dir = proc.tmpdir()
    confdir = dir .. "/dnsmasq.d"
    fifo, lock = dir .. "/run/dnsmasq/dnsagg.fifo", dir .. "/run/dnsagg.lock"
    -- the stand-in for /etc/init.d/dnsmasq restart: the same dnsmasq again
    proc.write_file(dir .. "/dnsmasq.init", string.format([[
#!/bin/sh
[ "$1" = restart ] || exit 0
pid=$(cat %s/dnsmasq.pid 2>/dev/null)
if [ -n "$pid" ]; then
  kill "$pid"
  # gone, or a zombie its parent (the spec) has not reaped yet
  while [ -e /proc/$pid ] && ! grep -q ') Z ' /proc/$pid/stat 2>/dev/null; do sleep 0.05; done
fi
setsid sh -c 'exec $(cat %s/dnsmasq.argv)' </dev/null >/dev/null 2>&1 &
# like procd, return once it runs (and before our process group is gone)
tries=100
while [ ! -s %s/dnsmasq.pid ] && [ $tries -gt 0 ]; do sleep 0.05; tries=$((tries - 1)); done
]], dir, dir, dir))
    os.execute("chmod +x " .. dir .. "/dnsmasq.init")
    env = {
      CONFIG_main_enabled = "1", CONFIG_main_fifo = fifo, CONFIG_main_lock = lock,
      UCI_DHCP_SHOW = "dhcp.cfg01411c=dnsmasq\ndhcp.lan=dhcp",
      UCI_cfg01411c_confdir = confdir,
      RC_PROG = ROOT .. "/dnsagg-guard", RC_DNSMASQ_INIT = dir .. "/dnsmasq.init",
      RC_DNSMASQ_PIDFILE = dir .. "/dnsmasq.pid",
    }
  end)

  after_each(function()
    local pid = dnsmasq_pid()
    if pid then os.execute("kill -9 " .. pid .. " 2>/dev/null") end
    if host then proc.kill(host) end
    os.execute("sh -c 'kill $(cat " .. dir .. "/instance.pid 2>/dev/null) 2>/dev/null'")
    proc.kill_all()
    proc.rmtree(dir)
    dm, host = nil, nil
  end)

  it("keeps DNS answering through boot, exporter crash, stop and start", function()
    -- boot: S18dnsagg, then S19dnsmasq (reading the conf-dir), S60 exporter later
    rc("start")
    local snippet = confdir .. "/dnsagg.conf"
    assert.is_not_nil(io.open(snippet), "no snippet after start")
    dm = dnsmasq.start{ dir = dir, log = false, args = { "--address=/load.test/10.1.1.1", "--conf-dir=" .. confdir } }
    local argv = table.concat(dm.argv, " ")
    proc.write_file(dir .. "/dnsmasq.argv", argv)
    local n = dnsmasq.batch(dm, dir, "127.0.0.71", 20000, "boot")
    assert.equal(20000, n)    -- no exporter yet: the guard drains

    -- the exporter starts and counts
    proc.write_file(dir .. "/conf.lua", string.format(
      "return { fifo = %q, lock = %q, dnsmasq_pidfile = false }", fifo, lock))
    host = assert(proc.start_host{ mode = "fork", collectors = ROOT .. "/lua", cpath = ROOT,
      env = { DNSAGG_CONFIG = dir .. "/conf.lua" } })
    local deadline = socket.gettime() + 10
    repeat socket.sleep(0.05) until expo.value(expo.parse(http.get(host.url, 10) or ""), "dnsagg_fifo_up") == 1
      or socket.gettime() > deadline
    assert.equal(1000, (dnsmasq.batch(dm, dir, "127.0.0.72", 1000, "counted")))
    deadline = socket.gettime() + 10
    while count("127.0.0.72") < 1000 and socket.gettime() < deadline do socket.sleep(0.05) end
    assert.equal(1000, count("127.0.0.72"))

    -- the exporter crashes: DNS does not notice
    proc.kill(host, 0)
    host = nil
    assert.equal(20000, (dnsmasq.batch(dm, dir, "127.0.0.73", 20000, "crashed")))

    -- dnsagg is stopped (disable, or package removal): the snippet goes first,
    -- dnsmasq restarts without logging to the FIFO, then the guard stops
    rc("stop")
    assert.is_nil(io.open(snippet))
    deadline = socket.gettime() + 10
    local answering
    repeat
      answering = dnsmasq.dig(dm, "after-stop.load.test", { from = "127.0.0.74" }) == "NOERROR"
      if not answering then socket.sleep(0.1) end
    until answering or socket.gettime() > deadline
    assert.is_true(answering)
    local f = assert(io.open("/proc/" .. dnsmasq_pid() .. "/cmdline"))
    f:close()
    assert.equal(5000, (dnsmasq.batch(dm, dir, "127.0.0.75", 5000, "stopped")))

    -- started again: the snippet comes back and dnsmasq is restarted onto the FIFO
    rc("start")
    assert.is_not_nil(io.open(snippet))
    deadline = socket.gettime() + 10
    repeat
      answering = dnsmasq.dig(dm, "after-start.load.test", { from = "127.0.0.76" }) == "NOERROR"
      if not answering then socket.sleep(0.1) end
    until answering or socket.gettime() > deadline
    assert.is_true(answering)
    assert.equal(20000, (dnsmasq.batch(dm, dir, "127.0.0.77", 20000, "restarted")))
  end)

  it("with queries 'packets' starts no guard and leaves dnsmasq alone, removing what the log source left", function()
    os.execute("mkdir -p " .. confdir)
    dm = dnsmasq.start{ dir = dir, log = false, args = { "--address=/load.test/10.1.1.1", "--conf-dir=" .. confdir } }
    proc.write_file(dir .. "/dnsmasq.argv", table.concat(dm.argv, " "))
    local before = dnsmasq_pid()
    env.CONFIG_main_queries = "packets"
    rc("start")
    assert.is_nil(io.open(confdir .. "/dnsagg.conf"))
    assert.is_nil(io.open(dir .. "/instance.pid"))  -- no guard
    rc("stop")
    rc("start")
    assert.equal(before, dnsmasq_pid())             -- never restarted
    assert.equal(1000, (dnsmasq.batch(dm, dir, "127.0.0.78", 1000, "packets")))

    -- from the log source to packets: its snippet goes, dnsmasq is restarted off the FIFO
    env.CONFIG_main_queries = "log"
    rc("start")
    assert.is_not_nil(io.open(confdir .. "/dnsagg.conf"))
    os.execute("sh -c 'kill $(cat " .. dir .. "/instance.pid 2>/dev/null) 2>/dev/null'")
    os.remove(dir .. "/instance.pid")
    env.CONFIG_main_queries = "packets"
    rc("start")
    assert.is_nil(io.open(confdir .. "/dnsagg.conf"))
    assert.is_nil(io.open(dir .. "/instance.pid"))
    assert.are_not.equal(before, dnsmasq_pid())
    local deadline, answering = socket.gettime() + 10, false
    repeat
      answering = dnsmasq.dig(dm, "after-switch.load.test", { from = "127.0.0.79" }) == "NOERROR"
      if not answering then socket.sleep(0.1) end
    until answering or socket.gettime() > deadline
    assert.is_true(answering)
  end)

  it("does nothing when disabled in UCI", function()
    env.CONFIG_main_enabled = "0"
    rc("start")
    assert.is_nil(io.open(confdir .. "/dnsagg.conf"))
    assert.is_nil(io.open(dir .. "/instance.pid"))
  end)
end)
