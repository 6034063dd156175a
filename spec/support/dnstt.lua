--[[
spec/support/dnstt.lua: query names exactly as the upstream dnstt client writes them (DESIGN.md
section 4), for specs that send DNSTT-shaped traffic. Lua 5.1: no bit operators.

  local dnstt = require("spec.support.dnstt")
  s    = dnstt.random_bytes(n)              -- n bytes from math.random (seed it for repeatable runs)
  name = dnstt.name(client_id, data, domain) -- ClientID (8 bytes) || 0xE0+n || n padding || [L || data],
                                             -- base32, labels of 63, then the domain; data nil: a poll
  text = dnstt.base32(bytes)                 -- RFC 4648, lowercase, no padding
]]
local M = {}

local ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"

function M.base32(bytes)
  local out = {}
  for i = 1, #bytes, 5 do
    local chunk = bytes:sub(i, i + 4)
    local n = #chunk
    local v = 0
    for j = 1, 5 do v = v * 256 + (chunk:byte(j) or 0) end  -- 40 bits: exact in a double
    local chars = math.ceil(n * 8 / 5)
    for j = 7, 8 - chars, -1 do
      local idx = math.floor(v / 2 ^ (5 * j)) % 32
      out[#out + 1] = ALPHABET:sub(idx + 1, idx + 1)
    end
  end
  return table.concat(out)
end

function M.random_bytes(n)
  local t = {}
  for i = 1, n do t[i] = string.char(math.random(0, 255)) end
  return table.concat(t)
end

function M.name(id, data, domain)
  assert(#id == 8, "a ClientID is 8 bytes")
  local raw
  if data then
    raw = id .. string.char(0xe3) .. M.random_bytes(3) .. string.char(#data) .. data
  else
    raw = id .. string.char(0xe8) .. M.random_bytes(8)
  end
  local enc, labels = M.base32(raw), {}
  for i = 1, #enc, 63 do labels[#labels + 1] = enc:sub(i, i + 62) end
  labels[#labels + 1] = domain
  local name = table.concat(labels, ".")
  assert(#name <= 253, name)
  return name
end

return M
