--[[
spec/bench/capture.lua QPS SECONDS: the capture under load, for `make bench`.
The real dnsmasq on 127.0.0.1 (no query log) answers dnsperf from 127.0.0.20
with TXT answers of about 1 KiB (EDNS) and small A answers, half each; the
module captures lo on dnsmasq's port. Prints one line of figures:
  frames N expected N dropped N queue_bytes N thread_cpu_s X wakeups N
expected is dnsperf's queries sent plus answers received (each frame once,
although lo shows it twice); thread_cpu_s and wakeups are the reader
thread's own (/proc: utime+stime, voluntary context switches).
]]
package.path = "./lua/?.lua;./spec/?.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath
local proc = require("spec.support.proc")
local dnsmasq = require("spec.support.dnsmasq")
local dnsperf = require("spec.support.dnsperf")
local unistd = require("posix.unistd")
local dnsagg = require("dnsagg")

local QPS, SECONDS = tonumber(arg[1] or "2500"), tonumber(arg[2] or "60")

-- the reader thread (named "dnsagg"): CPU seconds and voluntary context switches
local function thread_usage()
  local tasks = "/proc/" .. unistd.getpid() .. "/task/"
  for _, tid in ipairs(require("posix.dirent").dir(tasks)) do
    local comm = tid:match("^%d+$") and proc.read_file(tasks .. tid .. "/comm")
    if comm == "dnsagg\n" then
      local stat = proc.read_file(tasks .. tid .. "/stat"):gsub("^.*%) ", "")
      local f = {}
      for w in stat:gmatch("%S+") do f[#f + 1] = w end
      local ticks = tonumber(f[12]) + tonumber(f[13])   -- utime, stime (fields 14, 15 of stat)
      local switches = tonumber(proc.read_file(tasks .. tid .. "/status"):match("voluntary_ctxt_switches:%s*(%d+)"))
      return ticks / 100, switches
    end
  end
  error("no dnsagg thread")
end

local dir = proc.tmpdir()
local part = string.rep("x", 250)
local dm = dnsmasq.start{ dir = dir, log = false,
  args = { "--txt-record=big.load.test," .. table.concat({ part, part, part, part }, ",") } }
local agg = assert(dnsagg.new{ capture = { interface = "lo", port = dm.port } })
local queries = dir .. "/big.queries"
proc.write_file(queries, "big.load.test TXT\nh1.load.test A\n")
local r = dnsperf.result(dnsperf.start(dm, { queries = queries, qps = QPS, seconds = SECONDS,
  from = "127.0.0.20", timeout = 2, edns = true }))
assert(agg:sync(10))
local st = agg:stats()
local cpu, wakeups = thread_usage()
print(string.format("frames %d expected %d dropped %d queue_bytes %d thread_cpu_s %.2f wakeups %d",
  st.packets, r.sent + r.completed, st.packets_dropped, st.capture_buffer_bytes, cpu, wakeups))
agg:close()
dnsmasq.stop(dm)
proc.rmtree(dir)
