--[[
spec/support/dnsperf.lua: dnsperf (Debian's package) against a dnsmasq of spec/support/dnsmasq.lua,
as spec/bench/dns_impact.sh drives it, for specs. Only 127.0.0.0/8 is used; every wait is bounded.

  local dnsperf = require("spec.support.dnsperf")
  path = dnsperf.query_file(dir, distinct)    -- names under load.test (and example.org, forwarded
                                              -- the first time, then cached): mostly A, some AAAA
  h = dnsperf.start(dm, {queries = path, qps = 3000, seconds = 60, from = "127.0.0.20",
                         clients = 10, outstanding = 500, timeout = 5})   -- in the background
  r = dnsperf.result(h, timeout)              -- waits; {sent =, completed =, lost =, qps =, output =}
]]
local proc = require("spec.support.proc")

local M = {}

function M.query_file(dir, distinct)
  local lines = {}
  for i = 1, distinct do
    lines[#lines + 1] = string.format("h%05d.load.test A", i)
    if i % 10 == 0 then lines[#lines + 1] = string.format("h%05d.load.test AAAA", i) end
    if i % 4 == 0 then lines[#lines + 1] = string.format("popular%02d.load.test A", (i / 4) % 20) end
    if i % 20 == 0 then lines[#lines + 1] = string.format("fwd%05d.example.org A", i) end
  end
  local path = dir .. "/dnsperf.queries"
  proc.write_file(path, table.concat(lines, "\n") .. "\n")
  return path, #lines
end

function M.start(dm, o)
  local argv = { "dnsperf", "-s", dm.address, "-p", tostring(dm.port), "-a", o.from or "127.0.0.20",
                 "-d", o.queries, "-Q", tostring(o.qps), "-l", tostring(o.seconds),
                 "-c", tostring(o.clients or 10), "-q", tostring(o.outstanding or 500),
                 "-t", tostring(o.timeout or 5) }
  if o.edns then argv[#argv + 1] = "-e" end
  local h = proc.spawn(argv)
  h.seconds = o.seconds + (o.timeout or 5)
  return h
end

-- dnsperf's summary: "Queries sent: N", "Queries completed: N (..%)", "Queries lost: N (..%)",
-- "Queries per second: X"
function M.result(h, timeout)
  local out = proc.read_all(h, timeout or h.seconds + 60)
  local how, code = proc.wait(h, 10)
  proc.kill(h, 1)
  assert(out and how == "exited" and code == 0,
    "dnsperf failed: " .. tostring(how) .. " " .. tostring(code) .. " " .. proc.stderr(h))
  local r = {
    sent = tonumber(out:match("Queries sent:%s*(%d+)")),
    completed = tonumber(out:match("Queries completed:%s*(%d+)")),
    lost = tonumber(out:match("Queries lost:%s*(%d+)")),
    qps = tonumber(out:match("Queries per second:%s*([%d.]+)")),
    output = out,
  }
  assert(r.sent and r.completed and r.lost, "no summary from dnsperf:\n" .. out)
  return r
end

return M
