--[[
spec/support/expo.lua: reads Prometheus text exposition back into Lua, so specs can check exact
values whatever order the host wrote the labels in.

  local expo = require("spec.support.expo")
  s = expo.parse(text)                      -- list of {name=, labels={k=v}, value=number, raw=}
  v = expo.value(s, name, {k = v, ...})     -- the value of the one series matching all given
                                            -- labels (error if several match); nil if none
  n = expo.sum(s, name, {k = v})            -- sum over matching series (0 if none)
  c = expo.count(s, name, {k = v})          -- number of matching series
  t = expo.types(text)                      -- {name = "counter", ...} from # TYPE lines
  ok, out = expo.promtool_check(text, dir)  -- `promtool check metrics` on text (written in dir)
]]
local M = {}

local function unescape(v)
  return (v:gsub("\\(.)", { ["\\"] = "\\", ['"'] = '"', n = "\n" }))
end

local function parse_labels(s)
  local labels, pos = {}, 1
  while pos <= #s do
    local k, rest = s:match("^([%a_][%w_]*)=\"()", pos)
    if not k then error("bad labels: " .. s) end
    local i, value = rest, {}
    while true do
      local c = s:sub(i, i)
      if c == "" then error("unterminated label value: " .. s) end
      if c == "\\" then
        value[#value + 1] = s:sub(i, i + 1); i = i + 2
      elseif c == '"' then
        break
      else
        value[#value + 1] = c; i = i + 1
      end
    end
    labels[k] = unescape(table.concat(value))
    pos = i + 1
    if s:sub(pos, pos) == "," then pos = pos + 1 end
  end
  return labels
end

-- splits "name{labels} value" honouring quotes inside label values
local function split_sample(line)
  local name, rest = line:match("^([%a_:][%w_:]*)(.*)$")
  if not name then return nil end
  local labels = {}
  if rest:sub(1, 1) == "{" then
    local i, inq = 2, false
    while i <= #rest do
      local c = rest:sub(i, i)
      if inq and c == "\\" then i = i + 1
      elseif c == '"' then inq = not inq
      elseif c == "}" and not inq then break end
      i = i + 1
    end
    labels = parse_labels(rest:sub(2, i - 1))
    rest = rest:sub(i + 1)
  end
  local value = rest:match("^%s+(%S+)")
  return name, labels, value
end

function M.parse(text)
  local samples = {}
  for line in text:gmatch("[^\n]+") do
    if not line:match("^#") then
      local name, labels, value = split_sample(line)
      if name then
        local num = tonumber(value)
        if value == "+Inf" then num = math.huge end
        samples[#samples + 1] = { name = name, labels = labels, value = num, raw = line }
      end
    end
  end
  return samples
end

local function matches(s, name, want)
  if s.name ~= name then return false end
  for k, v in pairs(want or {}) do
    if s.labels[k] ~= v then return false end
  end
  return true
end

function M.value(samples, name, want)
  local found
  for _, s in ipairs(samples) do
    if matches(s, name, want) then
      if found then error("several series match " .. name) end
      found = s.value
    end
  end
  return found
end

function M.sum(samples, name, want)
  local total = 0
  for _, s in ipairs(samples) do
    if matches(s, name, want) then total = total + s.value end
  end
  return total
end

function M.count(samples, name, want)
  local n = 0
  for _, s in ipairs(samples) do
    if matches(s, name, want) then n = n + 1 end
  end
  return n
end

function M.types(text)
  local t = {}
  for name, kind in text:gmatch("# TYPE (%S+) (%S+)") do t[name] = kind end
  return t
end

function M.promtool_check(text, dir)
  local proc = require("spec.support.proc")
  local path = dir .. "/metrics.txt"
  proc.write_file(path, text)
  local out, how, code = proc.run({ "sh", "-c", "promtool check metrics < " .. path .. " 2>&1" }, { timeout = 30 })
  return how == "exited" and code == 0, out
end

-- promtool on what the test host serves: it writes no HELP lines (as
-- upstream), so "no help text" is the only complaint allowed
function M.promtool_check_host(text, dir)
  local ok, out = M.promtool_check(text, dir)
  if ok then return true, out end
  for line in (out or ""):gmatch("[^\n]+") do
    if not line:match("^[%w_:]+ no help text$") then return false, out end
  end
  return out ~= nil and out ~= "", out
end

return M
