-- spec/bench/scrape.lua: time of a whole scrape of a full table through the test
-- host, in both hosting models, and of render() alone.
--   lua5.1 spec/bench/scrape.lua [entries] [runs]
-- The table is filled from a log file of `entries` distinct (client, domain,
-- type) keys (opts.log), so the host's collector holds exactly that many.
package.path = "./spec/?.lua;./?.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath
local proc = require("spec.support.proc")
local http = require("spec.support.http")
local socket = require("socket")

local entries = tonumber(arg[1]) or 5000
local runs = tonumber(arg[2]) or 21
local root = require("posix.unistd").getcwd()
local dir = proc.tmpdir()

local lines = {}
for i = 1, entries do
  local client = string.format("192.168.%d.%d", math.floor(i / 250) % 250, i % 250 + 1)
  lines[i] = string.format("Nov 22 01:41:33 dnsmasq[1]: %d %s/5353 query[A] host-%06d.example-domain.com from %s",
    i, client, i, client)
end
proc.write_file(dir .. "/q.log", table.concat(lines, "\n") .. "\n")
proc.write_file(dir .. "/conf.lua", string.format("return { log = %q, max_entries = %d }", dir .. "/q.log", entries))

local function median(t)
  table.sort(t)
  return t[math.floor(#t / 2) + 1]
end

local results = {}

local agg = require("dnsagg").new{ log = dir .. "/q.log", max_entries = entries }
local times, size = {}, 0
for i = 1, runs do
  local t0 = socket.gettime()
  size = #agg:render()
  times[i] = socket.gettime() - t0
end
results[#results + 1] = { "render()", median(times), size }
agg:close()

for _, mode in ipairs({ "fork", "server" }) do
  local host = assert(proc.start_host{ mode = mode, collectors = root .. "/lua", cpath = root,
    env = { DNSAGG_CONFIG = dir .. "/conf.lua" } })
  times = {}
  for i = 1, runs do
    local t0 = socket.gettime()
    local body = assert(http.get(host.url .. "?collect[]=dnsagg", 30))
    times[i] = socket.gettime() - t0
    size = #body
  end
  proc.kill(host)
  results[#results + 1] = { "scrape through the host (" .. mode .. ")", median(times), size }
end
proc.rmtree(dir)

for _, r in ipairs(results) do
  print(string.format("%-36s %8.1f ms  %9d bytes  (%d entries, median of %d)", r[1], r[2] * 1000, r[3], entries, runs))
end
