--[[
spec/support/cross_host.lua: the exporter's command-line mode, for a Lua that has no LuaSocket or
luaposix: the musl Lua 5.1 that spec/support/cross_musl.sh builds for a router CPU, run under
qemu-user by spec/mips_spec.lua. It loads the collectors as exporter_host.lua does (`ls -1
DIR/prometheus-collectors/*.lua`, require each, not under pcall) and gives them the same
metric() (TYPE line at once, series written raw, labels in pairs() order, value as "%s"), then
runs every collector once and prints the output, as `prometheus-node-exporter-lua` does when run
from a shell.

  lua5.1 spec/support/cross_host.lua COLLECTORS_DIR GO_FILE

Between loading and scraping it waits for GO_FILE to exist (bounded, 60 s), so that the spec
can send its DNS traffic to the aggregator the collector started; then it waits until that
aggregator has counted what is in its FIFO (agg:sync) and prints, between marker lines:
  ready                      once the collectors are loaded
  --- render                 agg:render() of the collector's own aggregator
  --- cli                    what the collectors write through metric(), with
                             node_scrape_collector_success
  --- end
The aggregator is the one the collector creates: dnsagg.new is wrapped to keep it.
]]
local dir, go_file = arg[1], arg[2]
assert(dir and go_file, "usage: cross_host.lua COLLECTORS_DIR GO_FILE")
package.path = dir .. "/?.lua;" .. package.path

local dnsagg = require("dnsagg")
local made = {}
local real_new = dnsagg.new
dnsagg.new = function(...)
  local agg, err = real_new(...)
  made[#made + 1] = agg
  return agg, err
end

local buf = {}
out = { write = function(self, ...) for i = 1, select("#", ...) do buf[#buf + 1] = tostring((select(i, ...))) end end,
        flush = function() end }

function print_metric(name, labels, value)
  if value == nil then return end
  local lbl = ""
  if labels then
    local parts = {}
    for k, v in pairs(labels) do parts[#parts + 1] = k .. '="' .. v .. '"' end   -- raw, no escaping
    lbl = "{" .. table.concat(parts, ",") .. "}"
  end
  out:write(string.format("%s%s %s\n", name, lbl, value))
end

function metric(name, mtype, labels, value)
  out:write("# TYPE ", name, " ", mtype, "\n")
  local function outputter(l, v) print_metric(name, l, v) end
  if value then outputter(labels, value) end
  return outputter
end

local col_mods, col_names = {}, {}
local ls = io.popen("LC_ALL=C ls -1 '" .. dir:gsub("'", "'\\''") .. "'/prometheus-collectors/*.lua")
for path in ls:lines() do
  local name = path:match("([^/]+)%.lua$")
  col_mods[name] = require("prometheus-collectors." .. name)   -- NOT under pcall, as upstream
  col_names[#col_names + 1] = name
end
ls:close()
io.stdout:write("ready\n")
io.stdout:flush()

local function exists(path)
  local f = io.open(path)
  if f then f:close() end
  return f ~= nil
end
local waited = 0
while not exists(go_file) do
  if waited > 600 then error("cross_host.lua: no " .. go_file .. " within 60 s") end
  os.execute("sleep 0.1")
  waited = waited + 1
end

local agg = made[1]
assert(agg, "cross_host.lua: no collector made an aggregator")
assert(agg:sync(20), "cross_host.lua: agg:sync timed out")
io.stdout:write("--- render\n", agg:render())

local duration = metric("node_scrape_collector_duration_seconds", "gauge")
local success = metric("node_scrape_collector_success", "gauge")
for _, n in ipairs(col_names) do
  local ok, err = pcall(col_mods[n].scrape)
  if not ok then io.stderr:write(tostring(err), "\n") end
  duration({ collector = n }, 0)
  success({ collector = n }, ok and 1 or 0)
end
io.stdout:write("--- cli\n", table.concat(buf), "--- end\n")
io.stdout:flush()
