--[[
spec/support/http.lua: a tiny HTTP/1.1 client for the specs, on a raw LuaSocket TCP connection.
Every call has a bounded overall deadline.

  local http = require("spec.support.http")
  body, status, headers, raw = http.get(url, timeout)   -- nil, err, nil, raw_partial on failure
  raw, err = http.raw(host, port, request_bytes, timeout) -- the whole response as bytes
  pending  = http.start(url, timeout)                     -- connect and send, don't read yet
  body, status, headers, raw = http.finish(pending, timeout)
  status, headers, body = http.parse(raw)

status is a number, headers keys are lower-cased, and a chunked body is decoded. The request
is "GET <target> HTTP/1.1" with Host and "Connection: close"; the body is everything up to
the close (the exporter hosts send no Content-Length).
]]
local socket = require("socket")

local M = {}

function M.parse_url(url)
  local host, port, target = url:match("^http://([^/:]+):(%d+)(.*)$")
  if not host then
    host, target = url:match("^http://([^/:]+)(.*)$")
    port = 80
  end
  assert(host, "bad url: " .. tostring(url))
  if target == "" then target = "/" end
  return host, tonumber(port), target
end

local function dechunk(body)
  local parts, pos = {}, 1
  while true do
    local size_hex, after = body:match("^(%x+)[^\r\n]*\r\n()", pos)
    if not size_hex then return nil end
    local size = tonumber(size_hex, 16)
    if size == 0 then return table.concat(parts) end
    parts[#parts + 1] = body:sub(after, after + size - 1)
    pos = after + size + 2
  end
end

function M.parse(raw)
  local head, body = raw:match("^(.-)\r?\n\r?\n(.*)$")
  if not head then return nil end
  local status = tonumber(head:match("^HTTP/%d%.%d (%d%d%d)"))
  local headers = {}
  for k, v in head:gmatch("\n([^:\r\n]+):%s*([^\r\n]*)") do headers[k:lower()] = v end
  if (headers["transfer-encoding"] or ""):lower() == "chunked" then body = dechunk(body) or body end
  return status, headers, body
end

-- connect and send; returns a pending request object or nil, err
function M.start(url, timeout)
  timeout = timeout or 10
  local host, port, target = M.parse_url(url)
  local deadline = socket.gettime() + timeout
  local c = socket.tcp()
  c:settimeout(timeout)
  local ok, err = c:connect(host, port)
  if not ok then c:close() return nil, "connect: " .. tostring(err) end
  local req = "GET " .. target .. " HTTP/1.1\r\nHost: " .. host .. ":" .. port ..
              "\r\nUser-Agent: dnsagg-spec\r\nConnection: close\r\n\r\n"
  c:settimeout(math.max(0.01, deadline - socket.gettime()))
  ok, err = c:send(req)
  if not ok then c:close() return nil, "send: " .. tostring(err) end
  return { conn = c, deadline = deadline }
end

-- read until the server closes; returns raw or nil, err, partial
local function read_all(p, timeout)
  local deadline = p.deadline
  if timeout then deadline = socket.gettime() + timeout end
  local chunks = {}
  while true do
    local left = deadline - socket.gettime()
    if left <= 0 then p.conn:close() return nil, "timeout", table.concat(chunks) end
    p.conn:settimeout(left)
    local data, err, partial = p.conn:receive(8192)
    if data then chunks[#chunks + 1] = data
    else
      if partial and #partial > 0 then chunks[#chunks + 1] = partial end
      if err == "closed" then p.conn:close() return table.concat(chunks) end
      if err ~= "timeout" then p.conn:close() return nil, err, table.concat(chunks) end
    end
  end
end

function M.finish(p, timeout)
  local raw, err, partial = read_all(p, timeout)
  if not raw then return nil, err, nil, partial end
  local status, headers, body = M.parse(raw)
  if not status then return nil, "malformed response", nil, raw end
  return body, status, headers, raw
end

function M.get(url, timeout)
  local p, err = M.start(url, timeout)
  if not p then return nil, err end
  return M.finish(p)
end

-- send arbitrary bytes, return everything the server sends back before closing
function M.raw(host, port, request, timeout)
  timeout = timeout or 10
  local c = socket.tcp()
  c:settimeout(timeout)
  local ok, err = c:connect(host, port)
  if not ok then c:close() return nil, "connect: " .. tostring(err) end
  c:send(request)
  return read_all({ conn = c, deadline = socket.gettime() + timeout })
end

return M
