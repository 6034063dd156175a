#!/usr/bin/env lua5.1
--[[
exporter_host.lua: our own stand-in for OpenWrt's prometheus-node-exporter-lua and the uhttpd
Lua handler that runs it. Neither is packaged by Debian. This is a rewrite from the observed
behaviour, not a copy of upstream code.

  lua5.1 spec/support/exporter_host.lua [--mode cli|server|fork] [--collectors DIR] [--cpath DIR]...
        [--bind 127.0.0.1] [--port N|0] [--max-children 3] [--child-timeout 60] [--cli-exit natural|os]

Upstream behaviour it reproduces. Sources are openwrt/packages
utils/prometheus-node-exporter-lua/files/usr/bin/prometheus-node-exporter-lua (versions bb43d5f
and 07f8725), openwrt/uhttpd lua.c, proc.c, relay.c and main.c, and the threads of PRs #18360,
#26860, #26994 and #24016 and issue #22946:
 * Collector discovery: `ls -1 DIR/prometheus-collectors/*.lua`. For each file, in ls order, the
   script runs require('prometheus-collectors.'..name) at load time, NOT under pcall, so a
   load error kills the process. (Exit 1: under uhttpd the message is "Error initializing Lua
   handler"; here it is a plain lua5.1 error.) col_mods[name] is what require returned, and
   col_names is the list of names.
 * Globals, as upstream defines them: socket (LuaSocket), space_split(s), get_contents(file)
   (returns "" if the file can't be opened), print_metric, metric, timed_scrape,
   run_all_collectors, handle_request, col_mods, col_names, and `out`: since #26860 the script
   writes through a buffered stdout handle, and collectors such as textfile.lua use
   out:write(). `output(str)` (it writes str.."\n") is the older API, removed upstream by
   #26860 (see #26994). It is kept here so that older collectors still run. There is no
   line_split: only the pre-2018 monolithic script had it.
 * metric(name, type, labels, value) writes "# TYPE name type" AT ONCE, once per call, and
   returns outputter(labels, value). If value is given and is not nil/false, the outputter is
   called with it straight away. outputter(labels, nil) writes nothing. A series is written as
   name{k="v",k2="v2"} value, with the labels in pairs() order and written RAW: nothing is
   escaped. labels == nil gives no braces and {} gives "name{}". The value is formatted like
   string.format("%s"), so numbers come out as %.14g and a boolean raises an error. There are
   no HELP lines.
 * OMIT_ZERO_VALUES=1 in the environment drops zero-valued samples of `counter` families (the
   TYPE line stays). The idea comes from issue #22946 and PR #24016. In #22946 the local patch
   dropped zeros of every type. The merged form of #24016 could not be read, so "counters
   only" follows DESIGN.md and is UNVERIFIED.
 * run_all_collectors first writes the TYPE lines of node_scrape_collector_duration_seconds and
   node_scrape_collector_success. Then, for each selected collector that exists, it pcalls
   scrape, timing it with socket.gettime(), and writes
   node_scrape_collector_duration_seconds{collector="N"} <s> and
   node_scrape_collector_success{collector="N"} 1|0. On error, err.."\n" goes to stderr; a
   non-string error makes that concatenation fail, which propagates, as upstream. Unknown names
   are skipped silently, and a repeated name runs twice.
 * Selection: the query string is scanned with gmatch("collect[^=]*=([^&]+)"), so collect=N,
   collect[]=N and collect%5B%5D=N all work. Values are NOT url-decoded, and an empty selection
   means all collectors.
 * --mode cli: like running the script from a shell. lua.c always sets `arg`, so upstream runs
   every collector once even without an argument (the package CI runs
   `prometheus-node-exporter-lua | grep node_scrape_collector_success`). The output goes to
   stdout. With --cli-exit natural (the default) the chunk just ends, as upstream does: lua.c
   calls lua_close(), which runs __gc and dlclose()s C modules, and then exit(). With
   --cli-exit os, os.exit(0) is called after a flush (C exit(), no lua_close).
 * --mode server: the pre-22.03 long-lived LuaSocket server. One process answers connections
   in turn, and the request line must match ^GET /metrics%??([^ ]*) HTTP/1%.[01]$. The answer
   is "HTTP/1.1 200 OK", "Server: lua-metrics", "Content-Type: text/plain; version=0.0.4"
   (404: "Content-Type: text/plain", body "ERROR: File Not Found."), with no Content-Length,
   and the connection is closed. `/` is a 404 there too, but the pattern also lets
   "/metricsx" and "/metrics/" through as 200s (the tail is taken as the query).
   Deviations: the rest of the request headers is read before answering (upstream read only
   the request line, so closing could send a TCP RST), and a client that times out is closed.
 * --mode fork: how uhttpd -f -l / -L script runs it (PR #18360). The listener is bound, then
   the script and collectors are loaded ONCE in the parent (with `arg` = nil, as in uhttpd's
   Lua state). Each accepted connection FORKS a child, which closes the listener, parses the
   request, builds the uhttpd env (PATH_INFO = the path, which is "/metrics"; QUERY_STRING
   without the "?", "" when there is none; REQUEST_METHOD, REQUEST_URI, headers, ...) and
   calls handle_request(env) under pcall. The child ends with exit(0) (os.exit: stdio is
   flushed, no lua_close) and never returns to the loop. As in uhttpd, the child's stdout IS
   the response (here it is dup2()ed onto the socket), uhttpd.send() does an unbuffered write
   to it, and `out` is the buffered io.stdout. handle_request answers PATH_INFO == "/metrics"
   with 200 (any other path, including "/", gets 404); on a Lua error it answers 500 "Unable
   to launch the requested Lua program". At most --max-children (uhttpd -n, default 3)
   children run at once; beyond that the parent stops accepting until one exits. A child
   still running after --child-timeout (uhttpd -t, default 60 s) gets SIGKILL, as
   uh_relay_free() does. SIGPIPE is ignored (LuaSocket does this, and so does uhttpd's main).
   Deviations: the child writes an HTTP/1.1 response with "Connection: close" and no chunked
   keep-alive framing; the Status: line of the CGI-style headers becomes the status line.
   The child resets SIGTERM/SIGINT to the default. uhttpd.recv() is not supported. The 500
   text carries the Lua error, which is also sent to stderr.
 * server/fork: once ready, a line "listening on HOST:PORT" is printed and flushed (--port 0
   picks a free port). SIGTERM/SIGINT make the parent stop accepting, SIGKILL the remaining
   children, and os.exit(0), like uhttpd leaving uloop: its Lua state is never closed.
]]

local socket = require("socket")
local unistd = require("posix.unistd")
local psignal = require("posix.signal")
local pwait = require("posix.sys.wait")
local script_path = arg and arg[0]

------------------------------------------------------------------------ options
local opts = { mode = "cli", bind = "127.0.0.1", port = 9100, collectors = "/usr/lib/lua",
               cpath = {}, max_children = 3, child_timeout = 60, cli_exit = "natural" }
do
  local i, a = 1, arg or {}
  while a[i] do
    local k, v = a[i], a[i + 1]
    local function need() if v == nil then io.stderr:write(k, " needs a value\n") os.exit(2) end return v end
    if k == "--mode" then opts.mode = need()
    elseif k == "--collectors" then opts.collectors = need()
    elseif k == "--cpath" then opts.cpath[#opts.cpath + 1] = need()
    elseif k == "--bind" then opts.bind = need()
    elseif k == "--port" then opts.port = tonumber(need())
    elseif k == "--max-children" then opts.max_children = tonumber(need())
    elseif k == "--child-timeout" then opts.child_timeout = tonumber(need())
    elseif k == "--cli-exit" then opts.cli_exit = need()
    else io.stderr:write("exporter_host: unknown option ", k, "\n") os.exit(2) end
    i = i + 2
  end
  if not ({ cli = 1, server = 1, fork = 1 })[opts.mode] then
    io.stderr:write("exporter_host: --mode must be cli, server or fork\n") os.exit(2)
  end
end
for i = #opts.cpath, 1, -1 do package.cpath = opts.cpath[i] .. "/?.so;" .. package.cpath end  -- first wins
package.path = opts.collectors .. "/?.lua;" .. package.path

------------------------------------------------------------------------ the script's globals
_G.socket = socket                      -- upstream: `socket = require("socket")`, a global

function space_split(s)
  local words = {}
  for w in s:gmatch("%S+") do words[#words + 1] = w end
  return words
end

function get_contents(filename)
  local f = io.open(filename, "rb")
  if not f then return "" end
  local data = f:read("*a")
  f:close()
  return data
end

out = io.stdout                          -- replaced per request in server mode
function output(str) out:write(str, "\n") end   -- pre-#26860 API, kept for old collectors

local omit_zero = os.getenv("OMIT_ZERO_VALUES") == "1"

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
  local function outputter(l, v)
    if omit_zero and mtype == "counter" and tonumber(v) == 0 then return end
    print_metric(name, l, v)
  end
  if value then outputter(labels, value) end
  return outputter
end

function timed_scrape(collector)
  local t0 = socket.gettime()
  local ok, err = pcall(collector.scrape)   -- collector.scrape is indexed outside the pcall
  if not ok then io.stderr:write(err .. "\n") end
  return socket.gettime() - t0, ok and 1 or 0
end

function run_all_collectors(names)
  local duration = metric("node_scrape_collector_duration_seconds", "gauge")
  local success = metric("node_scrape_collector_success", "gauge")
  for _, n in pairs(names) do
    if col_mods[n] ~= nil then
      local secs, ok = timed_scrape(col_mods[n])
      duration({ collector = n }, secs)
      success({ collector = n }, ok)
    end
  end
end

local function selected(query)
  local names = {}
  for n in query:gmatch("collect[^=]*=([^&]+)") do names[#names + 1] = n end
  if #names == 0 then return col_names end
  return names
end

-- the uhttpd entry point (only used by --mode fork; `uhttpd` is the table uhttpd provides)
function handle_request(env)
  if env.PATH_INFO ~= "/metrics" then
    uhttpd.send("Status: 404 Not Found\r\n")
    uhttpd.send("Server: lua-metrics\r\n")
    uhttpd.send("Content-Type: text/plain\r\n\r\n")
    uhttpd.send("ERROR: File Not Found.")
    return
  end
  uhttpd.send("Status: 200 OK\r\n")
  uhttpd.send("Server: lua-metrics\r\n")
  uhttpd.send("Content-Type: text/plain; version=0.0.4\r\n\r\n")
  run_all_collectors(selected(env.QUERY_STRING))
  out:flush()
end

------------------------------------------------------------------------ loading
local server
local function listen()
  server = assert(socket.bind(opts.bind, opts.port))
  server:settimeout(0.2)                 -- lets the loops notice signals and children
end

local function load_collectors()
  col_mods, col_names = {}, {}
  local dir = opts.collectors:gsub("'", "'\\''")
  ls_fd = io.popen("LC_ALL=C ls -1 '" .. dir .. "'/prometheus-collectors/*.lua")
  for path in ls_fd:lines() do
    local name = path:match("([^/]+)%.lua$")
    col_mods[name] = require("prometheus-collectors." .. name)   -- NOT under pcall
    col_names[#col_names + 1] = name
  end
  ls_fd:close()
end

local stopping = false
local function on_signal() stopping = true end

local function announce()
  -- handlers first: whoever reads the line may signal at once
  psignal.signal(psignal.SIGTERM, on_signal)
  psignal.signal(psignal.SIGINT, on_signal)
  local host, port = server:getsockname()
  io.stdout:write("listening on ", host, ":", port, "\n")
  io.stdout:flush()
end

-- read the request line and headers: returns line, method, url, proto, headers (nil on EOF)
local function read_request(client)
  client:settimeout(30)                  -- uhttpd's network timeout (-T) default
  local line = client:receive("*l")
  if not line then return nil end
  local headers = {}
  repeat
    local h = client:receive("*l")
    if not h or h == "" then break end
    local k, v = h:match("^([^:]+):%s*(.-)%s*$")
    if k then headers[k:lower()] = v end
  until false
  local method, url, proto = line:match("^(%S+)%s+(%S+)%s*(%S*)")
  return line, method, url, proto, headers
end

------------------------------------------------------------------------ mode: server
local function run_server()
  while not stopping do
    local client = server:accept()
    if client then
      local line = read_request(client)
      if line then
        local buf = {}
        out = { write = function(self, ...) for i = 1, select("#", ...) do buf[#buf + 1] = select(i, ...) end end,
                flush = function() end }
        local q = line:match("^GET /metrics%??([^ ]*) HTTP/1%.[01]$")
        if not q then
          out:write("HTTP/1.1 404 Not Found\r\nServer: lua-metrics\r\nContent-Type: text/plain\r\n\r\n",
                    "ERROR: File Not Found.\n")
        else
          out:write("HTTP/1.1 200 OK\r\nServer: lua-metrics\r\nContent-Type: text/plain; version=0.0.4\r\n\r\n")
          run_all_collectors(selected(q))   -- not under pcall, like upstream's serve()
        end
        client:settimeout(30)
        client:send(table.concat(buf))
      end
      client:close()
    end
  end
end

------------------------------------------------------------------------ mode: fork
local function child_main(client)
  psignal.signal(psignal.SIGTERM, psignal.SIG_DFL)
  psignal.signal(psignal.SIGINT, psignal.SIG_DFL)
  server:close()                         -- uh_close_fds(): the child keeps no listener
  local line, method, url, proto, headers = read_request(client)
  if not url then
    if line then client:send("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n") end
    os.exit(0)
  end
  unistd.dup2(client:getfd(), 1)         -- stdout is the response, as in uhttpd
  out = io.stdout

  local status_sent = false
  local function raw(s)
    while #s > 0 do
      local n = unistd.write(1, s)
      if not n or n <= 0 then return end
      s = s:sub(n + 1)
    end
  end
  local function send(s)
    if type(s) ~= "string" and type(s) ~= "number" then error("bad argument #1 to 'send' (string expected)", 2) end
    s = tostring(s)
    if not status_sent then             -- CGI "Status:" header becomes the HTTP status line
      status_sent = true
      local st, rest = s:match("^Status: (%d%d%d [^\r\n]*)\r?\n(.*)$")
      raw("HTTP/1.1 " .. (st or "200 OK") .. "\r\nConnection: close\r\n")
      if st then s = rest end
    end
    raw(s)
    return #s
  end
  local function urldecode(s) return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)) end
  local function urlencode(s) return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", c:byte()) end)) end
  uhttpd = { send = send, sendc = send, urldecode = urldecode, urlencode = urlencode, docroot = "/",
             recv = function() return 0 end }

  local path, query = url:match("^([^?]*)%??(.*)$")
  headers.URL = url
  local peer_ip, peer_port = client:getpeername()
  local srv_ip, srv_port = client:getsockname()
  local env = {
    PATH_INFO = path, QUERY_STRING = query, REQUEST_URI = url, REQUEST_METHOD = method,
    SERVER_PROTOCOL = proto, HTTP_VERSION = proto == "HTTP/1.0" and 1.0 or 1.1,
    SCRIPT_NAME = "", SCRIPT_FILENAME = script_path, DOCUMENT_ROOT = "/", GATEWAY_INTERFACE = "CGI/1.1",
    SERVER_SOFTWARE = "uhttpd", REDIRECT_STATUS = "200",
    REMOTE_ADDR = peer_ip, REMOTE_HOST = peer_ip, REMOTE_PORT = tostring(peer_port),
    SERVER_ADDR = srv_ip, SERVER_NAME = srv_ip, SERVER_PORT = tostring(srv_port),
    HTTP_HOST = headers.host or "", HTTP_USER_AGENT = headers["user-agent"] or "",
    HTTP_ACCEPT = headers.accept or "", HTTP_CONNECTION = headers.connection or "",
    CONTENT_TYPE = headers["content-type"] or "", CONTENT_LENGTH = headers["content-length"] or "",
    headers = headers,
  }
  local ok, err = pcall(handle_request, env)
  if not ok then
    io.stderr:write("exporter_host: handle_request failed: ", tostring(err), "\n")
    local text = "Unable to launch the requested Lua program:\n  " .. tostring(err) .. "\n"
    if status_sent then out:write(text)
    else raw("HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\n\r\n" .. text) end
  end
  os.exit(0)                             -- exit(0) like uhttpd's lua_main: flush stdio, no lua_close
end

local function run_fork()
  local children, count = {}, 0          -- pid -> start time
  local function reap()
    while count > 0 do
      local pid = pwait.wait(-1, pwait.WNOHANG)
      if not pid or pid == 0 then break end
      if children[pid] then children[pid] = nil; count = count - 1 end
    end
  end
  local function kill_overdue()
    local now = socket.gettime()
    for pid, t0 in pairs(children) do
      if now - t0 > opts.child_timeout then psignal.kill(pid, psignal.SIGKILL) end
    end
  end
  while not stopping do
    reap(); kill_overdue()
    if count >= opts.max_children then
      socket.sleep(0.02)                 -- uhttpd queues the request until a slot frees
    else
      local client = server:accept()
      if client then
        io.stdout:flush(); io.stderr:flush()
        local pid = unistd.fork()
        if pid == 0 then child_main(client) end   -- never returns
        if pid then children[pid] = socket.gettime(); count = count + 1
        else io.stderr:write("exporter_host: fork failed\n") end
        client:close()                   -- the parent drops its copy of the connection
      end
    end
  end
  server:close()
  for pid in pairs(children) do psignal.kill(pid, psignal.SIGKILL) end
  local deadline = socket.gettime() + 2
  while count > 0 and socket.gettime() < deadline do reap(); socket.sleep(0.01) end
end

------------------------------------------------------------------------ main
if opts.mode == "cli" then
  load_collectors()
  out = io.stdout
  run_all_collectors(col_names)
  out:flush()
  if opts.cli_exit == "os" then os.exit(0) end
  -- falling off the end: lua5.1 runs lua_close() (__gc, dlclose) then exits, like upstream
elseif opts.mode == "server" then
  load_collectors()                      -- the old script loaded collectors, then bound
  listen(); announce()
  run_server()
  os.exit(0)
else
  listen()                               -- uhttpd binds (-p) before loading the Lua handler
  arg = nil                              -- uhttpd's Lua state has no `arg`
  load_collectors()
  announce()
  run_fork()
  os.exit(0)
end
