--[[
spec/support/proc.lua: start background processes from specs (luaposix pipe/fork/exec), read
their stdout with timeouts, wait for TCP ports, and kill them. Every wait is bounded.

  local proc = require("spec.support.proc")
  h = proc.spawn(argv, {env = {K = "v" or false}, stderr = path})  -- own process group, stdin /dev/null
  line, err   = proc.read_line(h, timeout)   -- one stdout line without "\n"; nil, "timeout"|"eof"
  data, err   = proc.read_all(h, timeout)    -- stdout up to EOF; nil, "timeout", partial
  how, code   = proc.wait(h, timeout)        -- "exited", status | "killed", signal; nil, "timeout"
  ok          = proc.alive(h)
  how, code   = proc.kill(h, grace)          -- SIGTERM, wait `grace` s (default 3), then SIGKILL the
                                             -- whole process group; idempotent; reaps
  text        = proc.stderr(h)               -- what the process wrote to stderr so far (a temp
                                             -- file; kept in memory and removed by proc.kill)
  proc.kill_all()                            -- proc.kill every handle not yet killed (use in after_each)
  ok, err     = proc.wait_port(host, port, timeout)

  -- the exporter stand-in (spec/support/exporter_host.lua):
  h, err, stderr = proc.start_host{mode = "fork"|"server", collectors = DIR, cpath = DIR or {DIRs},
                    port = 0, bind = "127.0.0.1", max_children = n, child_timeout = s,
                    env = {...}, args = {...}, timeout = 10}
      -- waits for "listening on HOST:PORT"; sets h.port, h.host, h.url ("http://HOST:PORT/metrics")
  out, how, code, stderr = proc.run_host_cli{collectors = DIR, cpath = ..., env = ..., args = ...,
                    cli_exit = "natural"|"os", timeout = 10}  -- nil, "timeout", partial, stderr
  out, how, code, stderr = proc.run(argv, {env =, timeout =})
  argv = proc.host_argv(o, mode)   -- {"lua5.1", HOST_SCRIPT, "--mode", mode, ...} built from the same o

  dir = proc.tmpdir()              -- fresh /tmp/dnsagg-spec-XXXXXX
  proc.write_file(path, text)      -- creates parent folders
  text = proc.read_file(path)      -- the whole file (raises if it cannot be read)
  p = proc.thread_priority(stat)   -- of a thread's /proc/.../stat: "idle" under SCHED_IDLE,
                                   -- else its nice value, as text
  proc.rmtree(dir)                 -- only removes paths under /tmp/
]]
local unistd = require("posix.unistd")
local fcntl = require("posix.fcntl")
local pwait = require("posix.sys.wait")
local psignal = require("posix.signal")
local ppoll = require("posix.poll")
local stdlib = require("posix.stdlib")
local socket = require("socket")

local M = { LUA = "lua5.1" }

do -- absolute path of exporter_host.lua, next to this file
  local src = debug.getinfo(1, "S").source:gsub("^@", "")
  if src:sub(1, 1) ~= "/" then src = unistd.getcwd() .. "/" .. src end
  M.HOST_SCRIPT = src:gsub("proc%.lua$", "exporter_host.lua")
end

local live = {}   -- pid -> handle, until proc.kill has cleaned it up

function M.tmpdir()
  return assert(stdlib.mkdtemp("/tmp/dnsagg-spec-XXXXXX"))
end

local function shq(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

function M.write_file(path, text)
  local dir = path:match("^(.*)/[^/]*$")
  if dir and dir ~= "" then os.execute("mkdir -p " .. shq(dir)) end
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

function M.read_file(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("*a")
  f:close()
  return text
end

-- proc(5): after the name's ")", fields[k] is field k + 2; field 41 the
-- policy (5: SCHED_IDLE), field 19 the nice value (a thread's own on Linux)
function M.thread_priority(stat_path)
  local fields = {}
  for w in M.read_file(stat_path):match("%) (.*)$"):gmatch("%S+") do fields[#fields + 1] = w end
  return tonumber(fields[39]) == 5 and "idle" or fields[17]
end

function M.rmtree(path)
  if type(path) == "string" and path:match("^/tmp/[^/]") and not path:find("%.%.") then
    os.execute("rm -rf " .. shq(path))
  end
end

function M.spawn(argv, opts)
  opts = opts or {}
  local errpath = opts.stderr or os.tmpname()
  local r, w = assert(unistd.pipe())
  io.stdout:flush(); io.stderr:flush()
  local pid = assert(unistd.fork())
  if pid == 0 then
    unistd.close(r)
    unistd.dup2(w, 1); unistd.close(w)
    local efd = fcntl.open(errpath, fcntl.O_WRONLY + fcntl.O_CREAT + fcntl.O_TRUNC, 420)
    if efd then unistd.dup2(efd, 2); unistd.close(efd) end
    local nfd = fcntl.open("/dev/null", fcntl.O_RDONLY)
    if nfd then unistd.dup2(nfd, 0); unistd.close(nfd) end
    unistd.setpid("p", 0, 0)                     -- own process group, killed as a whole
    for k, v in pairs(opts.env or {}) do stdlib.setenv(k, v or nil) end
    local args = {}
    for i = 2, #argv do args[#args + 1] = argv[i] end
    unistd.execp(argv[1], args)
    io.stderr:write("exec failed: ", tostring(argv[1]), "\n")
    unistd._exit(127)
  end
  unistd.close(w)
  fcntl.fcntl(r, fcntl.F_SETFD, fcntl.FD_CLOEXEC)
  local h = { pid = pid, fd = r, buf = "", eof = false, stderr_path = errpath, argv = argv,
              own_stderr = not opts.stderr }
  live[pid] = h
  return h
end

-- read more stdout into h.buf; false on timeout
local function fill(h, deadline)
  if h.eof then return true end
  local left = deadline - socket.gettime()
  if left <= 0 then return false end
  local n = ppoll.rpoll(h.fd, math.max(1, math.floor(left * 1000)))
  if n == 0 then return false end
  local data = unistd.read(h.fd, 65536)
  if not data or data == "" then
    h.eof = true
    unistd.close(h.fd); h.fd = nil
  else
    h.buf = h.buf .. data
  end
  return true
end

function M.read_line(h, timeout)
  local deadline = socket.gettime() + (timeout or 10)
  while true do
    local line, rest = h.buf:match("^([^\n]*)\n(.*)$")
    if line then h.buf = rest return line end
    if h.eof then return nil, "eof" end
    if not fill(h, deadline) then return nil, "timeout" end
  end
end

function M.read_all(h, timeout)
  local deadline = socket.gettime() + (timeout or 10)
  while not h.eof do
    if not fill(h, deadline) then return nil, "timeout", h.buf end
  end
  local data = h.buf
  h.buf = ""
  return data
end

local function reap(h, nohang)
  if h.how then return true end
  local pid, how, code = pwait.wait(h.pid, nohang and pwait.WNOHANG or nil)
  if pid == h.pid then
    h.how, h.code = how, code
    return true
  end
  if pid == nil then h.how, h.code = "gone", -1; return true end  -- ECHILD
  return false
end

function M.wait(h, timeout)
  local deadline = socket.gettime() + (timeout or 10)
  while not reap(h, true) do
    if socket.gettime() >= deadline then return nil, "timeout" end
    socket.sleep(0.01)
  end
  return h.how, h.code
end

function M.alive(h) return not reap(h, true) end

function M.kill(h, grace)
  if not h then return end
  if not reap(h, true) then
    psignal.kill(h.pid, psignal.SIGTERM)
    if not M.wait(h, grace or 3) then
      psignal.kill(-h.pid, psignal.SIGKILL)
      M.wait(h, 5)
    end
  end
  psignal.kill(-h.pid, psignal.SIGKILL)           -- sweep leftovers of the group (e.g. fork children)
  if h.fd then unistd.close(h.fd); h.fd = nil; h.eof = true end
  if h.own_stderr and not h.stderr_text then      -- keep the text, drop the temp file
    h.stderr_text = M.stderr(h)
    os.remove(h.stderr_path)
  end
  live[h.pid] = nil
  return h.how, h.code
end

function M.kill_all()
  local hs = {}
  for _, h in pairs(live) do hs[#hs + 1] = h end
  for _, h in ipairs(hs) do M.kill(h, 1) end
end

function M.stderr(h)
  if h.stderr_text then return h.stderr_text end
  local f = io.open(h.stderr_path, "rb")
  if not f then return "" end
  local s = f:read("*a")
  f:close()
  return s
end

function M.wait_port(host, port, timeout)
  local deadline = socket.gettime() + (timeout or 10)
  local err
  repeat
    local c = socket.tcp()
    c:settimeout(0.5)
    local ok
    ok, err = c:connect(host, port)
    c:close()
    if ok then return true end
    socket.sleep(0.05)
  until socket.gettime() >= deadline
  return nil, err or "timeout"
end

function M.host_argv(o, mode)
  local argv = { M.LUA, M.HOST_SCRIPT, "--mode", mode }
  local function add(...) for i = 1, select("#", ...) do argv[#argv + 1] = tostring(select(i, ...)) end end
  if o.collectors then add("--collectors", o.collectors) end
  local cp = o.cpath
  if type(cp) == "string" then cp = { cp } end
  for _, d in ipairs(cp or {}) do add("--cpath", d) end
  if mode ~= "cli" then add("--bind", o.bind or "127.0.0.1", "--port", o.port or 0) end
  if o.max_children then add("--max-children", o.max_children) end
  if o.child_timeout then add("--child-timeout", o.child_timeout) end
  if o.cli_exit then add("--cli-exit", o.cli_exit) end
  for _, a in ipairs(o.args or {}) do add(a) end
  return argv
end

function M.start_host(o)
  o = o or {}
  local h = M.spawn(M.host_argv(o, o.mode or "fork"), { env = o.env })
  local line, err = M.read_line(h, o.timeout or 10)
  local host, port = (line or ""):match("^listening on (.+):(%d+)$")
  if not port then
    M.kill(h, 1)
    return nil, "host did not start: " .. tostring(line or err), M.stderr(h)
  end
  h.host, h.port = host, tonumber(port)
  h.url = "http://" .. host .. ":" .. port .. "/metrics"
  return h
end

function M.run(argv, opts)
  opts = opts or {}
  local h = M.spawn(argv, opts)
  local out, err, partial = M.read_all(h, opts.timeout or 10)
  if not out then
    M.kill(h, 1)
    return nil, err, partial, M.stderr(h)
  end
  local how, code = M.wait(h, 5)
  M.kill(h, 1)                                     -- reaped already: only sweeps and cleans up
  if not how then return nil, "timeout", out, M.stderr(h) end
  return out, how, code, M.stderr(h)
end

-- ip ARGS... (iproute2), within 5 s; raises with the command line and its
-- error output unless it exits 0 (the specs' network namespaces and veth pairs)
function M.ip(args)
  local argv = { "ip" }
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  local _, how, code, err = M.run(argv, { timeout = 5 })
  assert(how == "exited" and code == 0, table.concat(argv, " ") .. ": " .. tostring(err))
end

function M.run_host_cli(o)
  o = o or {}
  return M.run(M.host_argv(o, "cli"), { env = o.env, timeout = o.timeout })
end

return M
