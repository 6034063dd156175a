--[[
spec/support/scenario.lua: the demo setup for specs that look at the result from outside (the
report tool, Prometheus): the real dnsmasq logging to a FIFO, the module inside the test host
(fork mode, like uhttpd) with the collector from lua/, leases for two of the clients, a fixed mix
of queries sent with dig, and optionally the capture on lo with DNSTT-shaped queries sent
through the same dnsmasq. Only 127.0.0.0/8; every wait is bounded.

  local scenario = require("spec.support.scenario")
  s = scenario.start{dir = DIR, dnstt = "t.example.com" (needs root) or nil, options = {...}}
      -- s.host (s.host.url), s.dm, s.up, s.fifo, s.dnstt
  n = scenario.send(s)                 -- scenario.TRAFFIC through dig; returns how many were sent
  n = scenario.send_dnstt(s, sessions) -- DNSTT sessions of 3 data queries and a poll each
  path = scenario.write_log(dir, path)  -- scenario.TRAFFIC through a real dnsmasq logging to the file
                                        -- path, stopped once done (every line written)
  samples = scenario.wait_counted(s, n) -- until n queries and their replies are counted (or 15 s)
  samples = scenario.wait_for(s, function(samples) ... end) -- until it is true of a scrape (or 15 s)
  scenario.stop(s)
  scenario.LEASES, scenario.TRAFFIC    -- what is sent: {name, type, from}
]]
local proc = require("spec.support.proc")
local dnsmasq = require("spec.support.dnsmasq")
local dnstt = require("spec.support.dnstt")
local expo = require("spec.support.expo")
local http = require("spec.support.http")
local pstat = require("posix.sys.stat")
local unistd = require("posix.unistd")
local socket = require("socket")

local M = {}

M.ROOT = unistd.getcwd()

M.LEASES = "1900000000 aa:bb:cc:00:00:11 127.0.0.11 laptop *\n"
        .. "1900000100 aa:bb:cc:00:00:12 127.0.0.12 phone *\n"

-- name, type, source address: answers from upstream and cache, a blocked
-- name (address=/blocked.test/0.0.0.0), an unknown local name (NXDOMAIN)
M.TRAFFIC = {
  { "example.org", "A", "127.0.0.11" },
  { "example.org", "A", "127.0.0.11" },
  { "example.org", "A", "127.0.0.11" },
  { "www.example.org", "AAAA", "127.0.0.11" },
  { "www.example.org", "AAAA", "127.0.0.11" },
  { "blocked.test", "A", "127.0.0.11" },
  { "example.org", "MX", "127.0.0.12" },
  { "blocked.test", "A", "127.0.0.12" },
  { "blocked.test", "AAAA", "127.0.0.12" },
  { "unknown.lan", "A", "127.0.0.12" },
  { "example.org", "TXT", "127.0.0.13" },
  { "mail.example.org", "A", "127.0.0.13" },
}

M.CLIENTS = { "127.0.0.11", "127.0.0.12", "127.0.0.13", "127.0.0.14" }

function M.start(o)
  local s = { dir = o.dir, fifo = o.dir .. "/dnsmasq.fifo", dnstt = o.dnstt }
  proc.write_file(o.dir .. "/dhcp.leases", M.LEASES)   -- makes the folder too
  assert(pstat.mkfifo(s.fifo, 384))
  s.up = dnsmasq.upstream{ dir = o.dir }
  local port = dnsmasq.free_port()   -- the capture needs dnsmasq's port before dnsmasq starts
  local opts = { fifo = s.fifo, leases = o.dir .. "/dhcp.leases", dnsmasq_pidfile = false }
  for k, v in pairs(o.options or {}) do opts[k] = v end
  local parts = {}
  for k, v in pairs(opts) do parts[#parts + 1] = string.format("%s = %s", k, M.lua_value(v)) end
  if s.dnstt then
    parts[#parts + 1] = string.format("capture = { interface = 'lo', port = %d }", port)
    -- sessions stay active for 10 minutes: longer than any spec waits
    parts[#parts + 1] = string.format("dnstt = { domains = { %q }, active_window = 600 }", s.dnstt)
  end
  local conf = o.dir .. "/dnsagg.conf.lua"
  proc.write_file(conf, "return { " .. table.concat(parts, ", ") .. " }")
  -- the host first: it holds the FIFO open, so that dnsmasq's open() returns
  local host, err, stderr = proc.start_host{ mode = "fork", collectors = M.ROOT .. "/lua", cpath = M.ROOT,
    env = { DNSAGG_CONFIG = conf } }
  assert(host, tostring(err) .. " " .. tostring(stderr))
  s.host = host
  s.dm = dnsmasq.start{ dir = o.dir, log = s.fifo, upstream = s.up, port = port }
  return s
end

-- a Lua literal of a string, number, boolean or list of them
function M.lua_value(v)
  if type(v) == "table" then
    local items = {}
    for i, x in ipairs(v) do items[i] = M.lua_value(x) end
    return "{ " .. table.concat(items, ", ") .. " }"
  elseif type(v) == "string" then
    return string.format("%q", v)
  end
  return tostring(v)
end

function M.send(s, traffic)
  traffic = traffic or M.TRAFFIC
  for _, q in ipairs(traffic) do
    local status = dnsmasq.dig(s.dm, q[1], { type = q[2], from = q[3] })
    assert(status, "no answer to " .. q[1] .. " " .. q[2])
  end
  return #traffic
end

function M.write_log(dir, path)
  local up = dnsmasq.upstream{ dir = dir }
  local dm = dnsmasq.start{ dir = dir, log = path, upstream = up }
  M.send({ dm = dm })
  dnsmasq.stop(dm)
  dnsmasq.stop(up)
  return path
end

-- DNSTT sessions through the real dnsmasq, from 127.0.0.14: three data
-- queries and one poll each, TXT, as the dnstt client sends them
function M.send_dnstt(s, sessions)
  local sent = 0
  for _ = 1, sessions do
    local id = dnstt.random_bytes(8)
    for k = 1, 4 do
      local name = dnstt.tunnel_name(id, k < 4 and dnstt.random_bytes(10 * k) or nil, s.dnstt)
      assert(dnsmasq.dig(s.dm, name, { type = "TXT", from = "127.0.0.14" }), "no answer to a DNSTT query")
      sent = sent + 1
    end
  end
  return sent
end

-- scrapes until done(samples) is true (at most 15 s); returns the last
-- scrape's samples
function M.wait_for(s, done)
  local deadline = socket.gettime() + 15
  local samples
  repeat
    samples = expo.parse(assert(http.get(s.host.url .. "?collect[]=dnsagg", 10)))
    if done(samples) then return samples end
    socket.sleep(0.05)
  until socket.gettime() > deadline
  return samples
end

-- Until `want` queries are counted, and every counted query's reply: the
-- reader may take a query's lines in one read and rest 10 ms before the
-- read that brings its reply (which the blocked table and the reply
-- classes count).
function M.wait_counted(s, want)
  return M.wait_for(s, function(samples)
    local queries = expo.sum(samples, "dnsmasq_client_queries_total")
    return queries >= want and expo.sum(samples, "dnsmasq_replies_total") >= queries
  end)
end

function M.stop(s)
  if not s then return end
  dnsmasq.stop(s.dm)
  dnsmasq.stop(s.up)
  if s.host then proc.kill(s.host) end
end

return M
