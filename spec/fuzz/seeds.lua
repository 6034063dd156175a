--[[
spec/fuzz/seeds.lua: writes the seed corpora of spec/fuzz/corpus/, from the top of the repository,
as root (the frames are captured with an AF_PACKET socket on lo):

  lua5.1 spec/fuzz/seeds.lua

Not part of any test: the corpora it writes are checked in, and this says where they came from.

  logline  one line a file: every line dnsmasq 2.90 logs here for a set of queries (extra and plain
           log-queries), DESIGN.md section 3's lines, and the lines spec/c/test_logline.c parses
  feed     the same logs as streams, in pieces of whole lines under 4000 bytes
  leases   lease files in dnsmasq's format (DESIGN.md section 3, spec/c/test_leases.c); no DHCP
           client is at hand to make dnsmasq write a real one
  dnspkt   the frames of those queries and their answers as captured on lo, the resolver's port
           rewritten to 53 (dnsmasq runs on a high port here); their DNS messages alone; and some
           of the messages in 802.1Q-tagged, IPv6 and IPv6 hop-by-hop frames built here
  dnstt    the DNS messages of queries for DESIGN.md section 4's vectors and for polls of several
           sessions (names made here by the client's layout, sent to dnsmasq with dig), and their
           answers, which echo the question
  capture  those frames as spec/fuzz/fuzz_capture.c reads them: a 2-byte length, a byte of
           seconds, the frame
]]
package.path = "./spec/?.lua;./?.lua;" .. package.path
local dnsmasq = require("spec.support.dnsmasq")
local proc = require("spec.support.proc")
local S = require("posix.sys.socket")
local ppoll = require("posix.poll")
local socket = require("socket")

local OUT = "spec/fuzz/corpus"
local AF_PACKET, ETH_P_ALL_BE = 17, 0x0300

-- ------------------------------------------------------------ files

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

-- pieces of at most MAX bytes, cut between the given items (lines, records): under the targets' max_len
local MAX = 4000
local function pieces(items, sep)
  local out, cur, len = {}, {}, 0
  for _, item in ipairs(items) do
    if len + #item + #sep > MAX and #cur > 0 then
      out[#out + 1] = table.concat(cur, sep) .. sep
      cur, len = {}, 0
    end
    cur[#cur + 1] = item
    len = len + #item + #sep
  end
  if #cur > 0 then out[#out + 1] = table.concat(cur, sep) .. sep end
  return out
end

local function lines_of(text)
  local t = {}
  for line in text:gmatch("[^\n]+") do t[#t + 1] = line end
  return t
end

local written = {}
local function seed(target, name, data)
  local path = string.format("%s/%s/%s", OUT, target, name)
  assert(not written[path], "two seeds named " .. path)
  written[path] = true
  proc.write_file(path, data)
end

-- ------------------------------------------------------------ log lines

-- DESIGN.md section 3, verbatim ("..." lines completed with the first line's prefix)
local P = "Nov 22 01:41:33 dnsmasq[19222]: "
local DESIGN_LINES = {
  P .. "query[A] example.com from 192.168.1.10",
  P .. "4 192.168.1.10/56833 query[A] www.example.org from 192.168.1.10",
  P .. "4 192.168.1.10/56833 forwarded www.example.org to 8.8.8.8",
  P .. "4 192.168.1.10/56833 reply www.example.org is <CNAME>",
  P .. "4 192.168.1.10/56833 reply target.example.org is 10.9.9.9",
  P .. "9 192.168.1.10/58999 config blocked.test is 0.0.0.0",
  P .. "12 192.168.1.10/47869 config other.lan is NXDOMAIN",
  P .. "114 192.168.1.10/45496 config 192.168.1.5 is nas.lan",
  P .. "8 192.168.1.10/45071 reply error is REFUSED",
  P .. "config error is REFUSED (EDE: not ready)",
  "Sun Nov 22 01:41:33 2026 daemon.info dnsmasq[1]: query[A] example.com from 192.168.1.10",
}

-- The first argument of every expect*(...) and parse(...) call of spec/c/test_logline.c that is
-- made of string literals and the file's one-letter prefix macros.
local function test_logline_lines()
  local src = read("spec/c/test_logline.c")
  local macros = {}
  for name, value in src:gmatch('#define (%u) "([^"]*)"') do macros[name] = value end
  local escapes = { n = "\n", r = "\r", t = "\t", ["0"] = "\0", ["\\"] = "\\", ['"'] = '"' }
  local lines, seen = {}, {}
  local pos = 1
  while true do
    local s, e = src:find("[%w_]+%(", pos)
    if not s then break end
    local fn = src:sub(s, e - 1)
    pos = e + 1
    if fn:match("^expect") or fn == "parse" then
      local parts, i = {}, pos
      while true do
        local c = src:sub(i, i)
        if c:match("%s") then
          i = i + 1
        elseif c == '"' then
          i = i + 1
          while src:sub(i, i) ~= '"' do
            local ch = src:sub(i, i)
            if ch == "\\" then
              local nx = src:sub(i + 1, i + 1)
              if nx == "x" then
                local hex = src:match("^%x+", i + 2)
                parts[#parts + 1] = string.char(tonumber(hex, 16))
                i = i + 2 + #hex
              else
                parts[#parts + 1] = assert(escapes[nx], "escape \\" .. nx)
                i = i + 2
              end
            else
              parts[#parts + 1] = ch
              i = i + 1
            end
          end
          i = i + 1
        elseif c:match("%u") and not src:sub(i, i + 1):match("%u[%w_]") and macros[c] then
          parts[#parts + 1] = macros[c]
          i = i + 1
        else
          break
        end
      end
      local line = table.concat(parts)
      if #parts > 0 and (src:sub(i, i) == "," or src:sub(i, i) == ")") and not seen[line] then
        seen[line] = true
        lines[#lines + 1] = line
      end
    end
  end
  return lines
end

-- ------------------------------------------------------------ DNSTT names (DESIGN.md section 4)

local B32 = "abcdefghijklmnopqrstuvwxyz234567"
local function base32(bytes)
  local out, acc, bits = {}, 0, 0
  for i = 1, #bytes do
    acc = acc * 256 + bytes:byte(i)
    bits = bits + 8
    while bits >= 5 do
      bits = bits - 5
      local v = math.floor(acc / 2 ^ bits)
      acc = acc - v * 2 ^ bits
      out[#out + 1] = B32:sub(v + 1, v + 1)
    end
  end
  if bits > 0 then
    local v = acc * 2 ^ (5 - bits)
    out[#out + 1] = B32:sub(v + 1, v + 1)
  end
  return table.concat(out)
end

local function dnstt_name(raw, domain)
  local text, labels = base32(raw), {}
  for i = 1, #text, 63 do labels[#labels + 1] = text:sub(i, i + 62) end
  return table.concat(labels, ".") .. "." .. domain
end

local VECTOR_DATA = "ingesrkokreujy6zumkse43vobsxey3bnruwm4tbm5uwy2ltoruwgzlyobuwc3d.jmrxwg2lpovzq.t.example.com"
local VECTOR_POLL = "aerukz4jvpg672aaaaaaaaaaaaaa.t.example.com"
assert(dnstt_name("CLIENTID\227\217\163\021\034" .. "supercalifragilisticexpialidocious", "t.example.com")
  == VECTOR_DATA)
assert(dnstt_name("\001\035\069\103\137\171\205\239\232" .. ("\0"):rep(8), "t.example.com") == VECTOR_POLL)

-- ------------------------------------------------------------ frames

local function u16(s, i) return s:byte(i) * 256 + s:byte(i + 1) end
local function be16(v) return string.char(math.floor(v / 256), v % 256) end

-- An IPv4 UDP frame's ports, its UDP header offset and its payload, or nil.
local function udp4(frame)
  if #frame < 14 + 20 + 8 or u16(frame, 13) ~= 0x0800 or frame:byte(24) ~= 17 then return nil end
  local ihl = (frame:byte(15) % 16) * 4
  local udp = 15 + ihl
  return u16(frame, udp), u16(frame, udp + 2), udp, frame:sub(udp + 8, udp - 1 + u16(frame, udp + 4))
end

local function with_port(frame, udp, sport, dport)
  return frame:sub(1, udp - 1) .. be16(sport) .. be16(dport) .. frame:sub(udp + 4)
end

local function udp_header(sport, dport, payload)
  return be16(sport) .. be16(dport) .. be16(8 + #payload) .. "\0\0" .. payload
end

local LO6 = ("\0"):rep(15) .. "\1"
local function ipv6_frame(sport, dport, payload, hop_by_hop)
  local udp = udp_header(sport, dport, payload)
  local ext, next = "", 17
  if hop_by_hop then ext, next = string.char(17, 0) .. ("\0"):rep(6), 0 end
  return ("\0"):rep(12) .. be16(0x86dd) .. "\96\0\0\0" .. be16(#ext + #udp) .. string.char(next, 64)
    .. LO6 .. LO6 .. ext .. udp
end

local function vlan_frame(frame)
  return frame:sub(1, 12) .. be16(0x8100) .. be16(42) .. frame:sub(13)
end

-- ------------------------------------------------------------ the run

local function capture_queries(dm, queries)
  local fd = assert(S.socket(AF_PACKET, S.SOCK_RAW, ETH_P_ALL_BE))
  local frames, seen = {}, {}
  local function drain(seconds)
    local deadline = socket.gettime() + seconds
    while socket.gettime() < deadline do
      if ppoll.rpoll(fd, 50) == 1 then
        local f = S.recv(fd, 65536)
        local sport, dport = udp4(f)
        if sport and (sport == dm.port or dport == dm.port) and not seen[f] then
          seen[f] = true -- lo shows each packet twice, going out and coming in
          frames[#frames + 1] = f
        end
      end
    end
  end
  for _, q in ipairs(queries) do
    dnsmasq.dig(dm, q[1], { type = q[2] })
    drain(0.2)
  end
  require("posix.unistd").close(fd)
  return frames
end

local dir = proc.tmpdir()
local up = dnsmasq.upstream{ dir = dir }
local log_extra, log_plain = dir .. "/extra.log", dir .. "/plain.log"
local front = dnsmasq.start{ dir = dir, log = log_extra, upstream = up, args = { "--local=/t.example.com/" } }

local sessions = {}
for i = 1, 6 do -- polls of six sessions: more than the capture target's table holds
  sessions[#sessions + 1] = { dnstt_name(string.format("session%d", i) .. "\232" .. ("\0"):rep(8),
    "t.example.com"), "TXT" }
end
local QUERIES = {
  { "example.org", "A" }, { "example.org", "A" }, { "example.org", "AAAA" }, { "example.org", "MX" },
  { "example.org", "TXT" }, { "www.example.org", "A" }, { "blocked.test", "A" }, { "unknown.lan", "A" },
  { "10.9.9.9", "PTR" }, { "nothere.gone.example.org", "A" }, { 'q"uo\\\\te.example.org', "A" },
  { VECTOR_DATA, "TXT" }, { VECTOR_POLL, "TXT" }, { VECTOR_POLL:upper(), "TXT" }, { VECTOR_POLL, "A" },
}
for _, s in ipairs(sessions) do QUERIES[#QUERIES + 1] = s end

local frames = capture_queries(front, QUERIES)
dnsmasq.stop(front)
local plain = dnsmasq.start{ dir = dir, log = false, upstream = up,
  args = { "--log-queries", "--log-facility=" .. log_plain } }
for _, q in ipairs({ { "example.org", "A" }, { "example.org", "A" }, { "unknown.lan", "A" },
                     { "blocked.test", "AAAA" }, { VECTOR_POLL, "TXT" } }) do
  dnsmasq.dig(plain, q[1], { type = q[2] })
end
dnsmasq.stop(plain)
dnsmasq.stop(up)
local extra_text, plain_text = read(log_extra), read(log_plain)
proc.rmtree(dir)
assert(#frames >= 2 * #QUERIES - 4, "captured only " .. #frames .. " frames")

-- logline and feed
local n = 0
local function line_seed(line)
  n = n + 1
  seed("logline", string.format("line-%03d", n), line)
end
for _, line in ipairs(lines_of(extra_text .. plain_text)) do line_seed(line) end
for _, line in ipairs(DESIGN_LINES) do line_seed(line) end
for _, line in ipairs(test_logline_lines()) do line_seed(line) end
for i, p in ipairs(pieces(lines_of(extra_text), "\n")) do seed("feed", string.format("extra-%d.log", i), p) end
for i, p in ipairs(pieces(lines_of(plain_text), "\n")) do seed("feed", string.format("plain-%d.log", i), p) end
seed("feed", "design.log", table.concat(DESIGN_LINES, "\n") .. "\n")

-- leases
seed("leases", "ipv4", "1700000000 aa:bb:cc:dd:ee:ff 192.168.1.10 laptop 01:aa:bb:cc:dd:ee:ff\n"
  .. "0 00:11:22:33:44:55 10.0.0.7 * *\n")
seed("leases", "dhcpv6", "1700000000 aa:bb:cc:dd:ee:01 10.0.0.1 a *\n"
  .. "duid 00:01:00:01:2c:4a:8e:11:52:54:00:12:34:56\n"
  .. "1700000100 305419896 fd00::10 phone 00:01:00:01:2c:4a:8e:11:52:54:00:ab:cd:ef\n"
  .. "1700000200 1 fd00::11 tablet 00:03:00:01:52:54:00:AB:CD:0F\n"
  .. "1700000300 2 fd00::12 printer 00:02:00:00:ab:11:de:ad:be:ef:00:01\n"
  .. "1700000500 4 2001:db8::1 * *\n")
seed("leases", "odd", "1700000000 aa:bb:cc:dd:ee:ff 10.0.0.1 host *\n"
  .. "1700000000 aa:bb:cc:dd:ee:ff 10.0.0.1 again *\n"
  .. "17000x0000 aa:bb:cc:dd:ee:ff 10.0.0.2 host *\n"
  .. "1700000000 01:02:03:04:05:06:07:08 10.0.0.3 infiniband *\n"
  .. "1700000000 aa:bb:cc:dd:ee:ff 10.0.0.4 my host *\n"
  .. "1700000000 aa:bb:cc:dd:ee:ff 10.0.0.5 cut")

-- dnspkt, dnstt and capture
local records = {}
local dnstt_n = 0
for i, f in ipairs(frames) do
  local sport, dport, udp, payload = udp4(f)
  local frame = with_port(f, udp, sport == front.port and 53 or sport, dport == front.port and 53 or dport)
  seed("dnspkt", string.format("frame-%02d", i), frame)
  seed("dnspkt", string.format("message-%02d", i), payload)
  if payload:lower():find("t\7example\3com", 1, true) then
    dnstt_n = dnstt_n + 1
    seed("dnstt", string.format("message-%02d", dnstt_n), payload)
  end
  records[#records + 1] = be16(#frame) .. string.char(i % 3) .. frame
  if i == 1 then
    seed("dnspkt", "vlan", vlan_frame(frame))
    seed("dnspkt", "ipv6", ipv6_frame(40000, 53, payload))
    seed("dnspkt", "ipv6-hop-by-hop", ipv6_frame(40000, 53, payload, true))
  end
end
seed("dnstt", "not-dnstt", select(4, udp4(frames[1])))
for i, p in ipairs(pieces(records, "")) do seed("capture", string.format("all-%d", i), p) end
for i = 1, #records, 8 do
  seed("capture", string.format("part-%02d", (i + 7) / 8), table.concat(records, "", i, math.min(i + 7, #records)))
end
print(string.format("seeds: %d frames, %d log lines, %d DNSTT messages", #frames, n, dnstt_n))
