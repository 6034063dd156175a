-- spec/support/dnstt.lua: DNS messages built by hand, and names made as the
-- upstream dnstt client makes them (DESIGN.md section 4), for the specs
-- that send tunnel traffic over lo.  math.random supplies the padding and
-- the IDs: seed it for repeatable runs.
local M = {}

local function u16(n) return string.char(math.floor(n / 256) % 256, n % 256) end
local function u32(n) return u16(math.floor(n / 65536)) .. u16(n % 65536) end
M.u16, M.u32 = u16, u32

local function wire_name(name)
  local out = {}
  for label in name:gmatch("[^.]+") do
    assert(#label <= 63)
    out[#out + 1] = string.char(#label) .. label
  end
  return table.concat(out) .. "\0"
end

M.TYPE = { A = 1, TXT = 16 }

-- a query as the dnstt client sends it: one question, RD, one OPT record
function M.query(id, name, qtype)
  return u16(id) .. u16(0x0100) .. u16(1) .. u16(0) .. u16(0) .. u16(1)
    .. wire_name(name) .. u16(M.TYPE[qtype]) .. u16(1)
    .. "\0" .. u16(41) .. u16(1232) .. u32(0) .. u16(0)
end

-- the answer: the question echoed, one TXT record (TTL 60) under a pointer to it
function M.respond(msg)
  local off = 13
  while msg:byte(off) ~= 0 do off = off + msg:byte(off) + 1 end
  local question = msg:sub(13, off + 4)                       -- name, type, class
  local txt = string.rep("r", 40 + #msg % 17)                 -- some downstream data
  local flags = 0x8180                                        -- QR, RD, RA
  return msg:sub(1, 2) .. u16(flags) .. u16(1) .. u16(1) .. u16(0) .. u16(0) .. question
    .. u16(0xc00c) .. u16(M.TYPE.TXT) .. u16(1) .. u32(60) .. u16(#txt + 1) .. string.char(#txt) .. txt
end

local ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"

-- RFC 4648 base32, lowercase, no padding (Lua 5.1: no bit operators)
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

-- ClientID || 0xE0+n || n padding || [L || data], base32, labels of 63, the
-- domain: a data query with data, a poll without
function M.tunnel_name(id, data, domain)
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

-- A responder on address:port answering every query as the dnstt server
-- would, and exchange(client, msg), which sends msg from the client socket
-- and waits for the answer: returns the sizes of the query and response.
function M.responder(socket, address, port)
  local r = assert(socket.udp())
  assert(r:setsockname(address, port))
  r:settimeout(5)
  local self = { socket = r }
  function self.exchange(client, msg)
    assert(client:sendto(msg, address, port))
    local got, ip, from_port = r:receivefrom()
    assert(got == msg, "the responder did not get the query")
    local answer = M.respond(got)
    assert(r:sendto(answer, ip, from_port))
    local back = assert(client:receive())
    assert(back == answer)
    return #msg, #back
  end
  function self.close() r:close() end
  return self
end

return M
