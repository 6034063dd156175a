--[[
spec/support/dnsmasq.lua: the real dnsmasq (Debian's dnsmasq-base) on loopback for specs, and dig
as its client. Only 127.0.0.0/8 is ever used, and ::1 with the ::/96 addresses a spec
puts on lo for its IPv6 clients. Every wait is bounded.

DNSAGG_DNSMASQ names another dnsmasq binary for the front resolver (start), e.g. a release built by
spec/support/dnsmasq_versions.sh (make test-dnsmasq-versions); the upstream is always Debian's, a
fixture that answers the same on every run.

  dnsmasq.binary                            -- the front resolver's binary
  major, minor = dnsmasq.version()          -- its version: 2, 80 for "Dnsmasq version 2.80"
  dnsmasq.at_least(2, 86)                   -- whether it is that version or later

  local dnsmasq = require("spec.support.dnsmasq")
  up  = dnsmasq.upstream{dir = DIR}        -- an upstream on 127.0.0.2 that answers *.example.org
        -- (netns = NAME, address = A, port = P: in a namespace the spec made)
  dm  = dnsmasq.start{dir = DIR, log = FIFO_OR_FILE|false, upstream = up, args = {...}}
        -- front resolver on 127.0.0.1:dm.port, log-queries=extra to `log` (none with false),
        -- address=/blocked.test/0.0.0.0,
        -- local=/lan/; dm.pidfile; dm.handle (a proc handle)
  dnsmasq.stop(dm)                          -- SIGTERM and reap
  port = dnsmasq.free_port()                -- a port free on 127.0.0.1 for UDP and TCP
  rc, answers = dnsmasq.dig(dm, name, {type = "A", from = "127.0.0.11", tcp = false, to = "::1"})
        -- rc: dig's status word ("NOERROR", "NXDOMAIN", ...) or nil on no answer;
        -- `to`: another address dnsmasq listens on (args = {"--listen-address=::1"})
  h = dnsmasq.start_batch(dm, dir, from, n, tag)   -- dig -f over n names <tag>-<i>.load.test, in the background
  answered, seconds = dnsmasq.batch_answered(h)   -- how many got NOERROR
  answered, seconds = dnsmasq.batch(dm, dir, from, n, tag)
  n = dnsmasq.processed(dm)                 -- queries dnsmasq has answered from its cache or
        -- forwarded (its own counters, CHAOS TXT hits.bind + misses.bind, less the CHAOS queries)
]]
local proc = require("spec.support.proc")
local socket = require("socket")

local M = {}

local next_port = 20000 + (require("posix.unistd").getpid() % 10000) * 2

local function free_port()
  -- two ports per instance, both verified free on their address for UDP and TCP
  for _ = 1, 200 do
    next_port = next_port + 1
    if next_port > 60000 then next_port = 20001 end
    local u = socket.udp()
    local ok = u:setsockname("127.0.0.1", next_port)
    u:close()
    local t = socket.tcp()
    local ok2 = t:bind("127.0.0.1", next_port)
    t:close()
    if ok and ok2 then return next_port end
  end
  error("no free port")
end

M.free_port = free_port

M.binary = os.getenv("DNSAGG_DNSMASQ") or "dnsmasq"

local major, minor
function M.version()
  if not major then
    local out = proc.run({ M.binary, "--version" }, { timeout = 10 }) or ""
    local a, b = out:match("^Dnsmasq version (%d+)%.(%d+)")
    assert(a, M.binary .. " --version: " .. out)
    major, minor = tonumber(a), tonumber(b)
  end
  return major, minor
end

function M.at_least(want_major, want_minor)
  local a, b = M.version()
  return a > want_major or (a == want_major and b >= want_minor)
end

local function wait_answering(dm)
  local deadline = socket.gettime() + 10
  while socket.gettime() < deadline do
    local u = socket.udp()
    u:settimeout(0.2)
    u:setpeername(dm.address, dm.port)
    -- a query for "." type SOA: any answer at all means dnsmasq is serving
    u:send("\0\1\1\0\0\1\0\0\0\0\0\0\0\0\6\0\1")
    local reply = u:receive()
    u:close()
    if reply then return true end
    if not proc.alive(dm.handle) then
      error("dnsmasq exited: " .. proc.stderr(dm.handle))
    end
    socket.sleep(0.05)
  end
  error("dnsmasq did not answer within 10 s: " .. proc.stderr(dm.handle))
end

local function spawn(dm, argv)
  dm.handle = proc.spawn(argv)
  dm.chaos_queries = 0     -- see M.processed
  dm.argv = argv
  return dm
end

-- o.netns, o.address, o.port: in a network namespace the spec made, on an
-- address of its own (and a port chosen by the spec)
function M.upstream(o)
  local dm = { address = o.address or "127.0.0.2", port = o.port or free_port(), pidfile = o.dir .. "/upstream.pid" }
  local argv = {}
  if o.netns then argv = { "ip", "netns", "exec", o.netns } end
  for _, a in ipairs({
    "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--user=root",
    "--listen-address=" .. dm.address, "--bind-interfaces", "--port=" .. dm.port,
    "--no-resolv", "--no-hosts", "--pid-file=" .. dm.pidfile, "--log-facility=/dev/null",
    "--local-ttl=300", "--address=/example.org/10.9.9.9", "--address=/example.org/2001:db8::9",
    "--mx-host=example.org,mail.example.org,10", "--txt-record=example.org,hello",
    "--address=/load.test/10.1.1.1", "--local=/gone.example.org/",
  }) do argv[#argv + 1] = a end
  spawn(dm, argv)
  wait_answering(dm)
  return dm
end

function M.start(o)
  local dm = { address = "127.0.0.1", port = o.port or free_port(), pidfile = o.dir .. "/dnsmasq.pid",
               log = o.log }
  local argv = {
    M.binary, "--keep-in-foreground", "--conf-file=/dev/null", "--user=root",
    "--listen-address=" .. dm.address, "--bind-interfaces", "--port=" .. dm.port,
    "--no-resolv", "--no-hosts", "--pid-file=" .. dm.pidfile, "--cache-size=10000",
    "--address=/blocked.test/0.0.0.0", "--local=/lan/",
  }
  if o.log then   -- log = false: logging only as the args (a conf-dir) say
    argv[#argv + 1] = "--log-queries=" .. (o.log_queries or "extra")
    argv[#argv + 1] = "--log-facility=" .. o.log
  end
  if o.upstream then
    argv[#argv + 1] = "--server=" .. o.upstream.address .. "#" .. o.upstream.port
  end
  for _, a in ipairs(o.args or {}) do argv[#argv + 1] = a end
  spawn(dm, argv)
  wait_answering(dm)
  return dm
end

-- the same dnsmasq again, on the same port, after stop()
function M.restart(dm)
  spawn(dm, dm.argv)
  wait_answering(dm)
  return dm
end

function M.stop(dm)
  if dm and dm.handle then proc.kill(dm.handle, 3) end
end

local function dig_argv(dm, from, tcp, to)
  local argv = { "dig", "@" .. (to or dm.address), "-p", tostring(dm.port), "+tries=1", "+time=3",
                 "+noall", "+comments", "+answer" }
  if from then argv[#argv + 1] = "-b"; argv[#argv + 1] = from end
  if tcp then argv[#argv + 1] = "+tcp" end
  return argv
end

-- one query; returns dig's status word and the answer lines
function M.dig(dm, name, o)
  o = o or {}
  local argv = dig_argv(dm, o.from, o.tcp, o.to)
  if o.type == "PTR" then
    argv[#argv + 1] = "-x"; argv[#argv + 1] = name
  else
    argv[#argv + 1] = name; argv[#argv + 1] = o.type or "A"
  end
  local out = proc.run(argv, { timeout = 10 })
  local status = out and out:match("status: (%u+)")
  local answers = {}
  for line in (out or ""):gmatch("[^\n]+") do
    if not line:match("^;") then answers[#answers + 1] = line end
  end
  return status, answers
end

-- A batch: dig -f over n distinct names "<tag>-<i>.load.test" (type A) from
-- one source address, in the background. dig's output goes to a file: a
-- full pipe would stall dig, not dnsmasq.
function M.start_batch(dm, dir, from, n, tag)
  local lines = {}
  for i = 1, n do lines[i] = string.format("%s-%d.load.test A", tag, i) end
  local path = string.format("%s/%s.batch", dir, tag)
  proc.write_file(path, table.concat(lines, "\n") .. "\n")
  local h = proc.spawn({ "sh", "-c", string.format(
    "exec dig @%s -p %d -b %s +tries=1 +time=2 +noall +comments -f %s > %s.out",
    dm.address, dm.port, from, path, path) })
  h.out_path, h.started = path .. ".out", socket.gettime()
  return h
end

-- waits for a batch and returns how many of its queries got NOERROR, and
-- how long the batch took
function M.batch_answered(h, timeout)
  proc.wait(h, timeout or 300)
  local f = assert(io.open(h.out_path))
  local out = f:read("*a")
  f:close()
  local n = 0
  for _ in out:gmatch("status: NOERROR") do n = n + 1 end
  return n, socket.gettime() - h.started
end

-- dnsmasq's own count of the queries it handled: answered from the cache
-- or its local data (hits.bind), or forwarded (misses.bind).  dnsmasq
-- counts each CHAOS query as a hit once it has answered it: those sent by
-- earlier calls are taken off.
function M.processed(dm)
  local total = -(dm.chaos_queries or 0)
  dm.chaos_queries = (dm.chaos_queries or 0) + 2
  for _, name in ipairs({ "hits.bind", "misses.bind" }) do
    local out = proc.run({ "dig", "@" .. dm.address, "-p", tostring(dm.port), "+tries=2", "+time=3",
                           "+short", "-b", "127.0.0.1", "CH", "TXT", name }, { timeout = 15 })
    local n = tonumber((out or ""):match('"(%d+)"'))
    assert(n, "no answer to " .. name .. ": " .. tostring(out))
    total = total + n
  end
  return total
end

-- a batch, waited for
function M.batch(dm, dir, from, n, tag)
  return M.batch_answered(M.start_batch(dm, dir, from, n, tag))
end

return M
