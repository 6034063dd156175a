-- A second aggregator on the same FIFO takes no line from the running one:
-- the exporter runs long-lived and reads dnsmasq's FIFO, while
-- prometheus-node-exporter-lua is run from the command line beside it (as
-- OpenWrt's package test does, and as a person does to see what it prints),
-- which loads the collector and so starts a second aggregator on the same
-- FIFO.  Every query must be counted exactly once by the long-lived host,
-- with the guard's lock option and without (then the FIFO itself is locked).
local proc = require("spec.support.proc")
local dnsmasq = require("spec.support.dnsmasq")
local expo = require("spec.support.expo")
local http = require("spec.support.http")
local pstat = require("posix.sys.stat")
local unistd = require("posix.unistd")
local socket = require("socket")

local ROOT = unistd.getcwd()
local CLIENT = "127.0.0.31"
local ROUNDS, PER_ROUND = 5, 40

describe("a second aggregator on the FIFO (the exporter run from the command line)", function()
  local dir, dm, host

  before_each(function() dir = proc.tmpdir() end)
  after_each(function()
    dnsmasq.stop(dm)
    if host then proc.kill(host) end
    proc.kill_all()
    proc.rmtree(dir)
    dm, host = nil, nil
  end)

  local function counted()
    local body = http.get(host.url .. "?collect[]=dnsagg", 10) or ""
    return expo.sum(expo.parse(body), "dnsmasq_client_queries_total", { client = CLIENT })
  end

  for _, with_lock in ipairs{ false, true } do
    it("takes no line from the long-lived host (" .. (with_lock and "lock option" or "no lock option") .. ")", function()
      local fifo = dir .. "/dnsmasq.fifo"
      assert(pstat.mkfifo(fifo, 384))
      proc.write_file(dir .. "/conf.lua", string.format("return { fifo = %q, dnsmasq_pidfile = false%s }", fifo,
        with_lock and string.format(", lock = %q", dir .. "/dnsagg.lock") or ""))
      local env = { DNSAGG_CONFIG = dir .. "/conf.lua" }
      host = assert(proc.start_host{ mode = "server", collectors = ROOT .. "/lua", cpath = ROOT, env = env })
      local deadline = socket.gettime() + 10
      repeat socket.sleep(0.05)
      until expo.value(expo.parse(http.get(host.url, 10) or ""), "dnsagg_fifo_up") == 1 or socket.gettime() > deadline
      dm = dnsmasq.start{ dir = dir, log = fifo, args = { "--address=/load.test/10.1.1.1" } }

      -- and a second aggregator that stays up all along, in this process
      local second = assert(require("dnsagg").new{ fifo = fifo, dnsmasq_pidfile = false,
                                                   lock = with_lock and dir .. "/dnsagg.lock" or nil })
      local sent, cli_runs = 0, 0
      for round = 1, ROUNDS do
        -- the command-line run loads the collector while queries flow
        local cli = proc.spawn(proc.host_argv({ collectors = ROOT .. "/lua", cpath = ROOT }, "cli"), { env = env })
        local batch = dnsmasq.start_batch(dm, dir, CLIENT, PER_ROUND, "round" .. round)
        local out = proc.read_all(cli, 30)
        local how, code = proc.wait(cli, 10)
        assert.equal("exited", how)
        assert.equal(0, code)
        assert.truthy((out or ""):find("dnsagg_fifo_up", 1, true), out)
        cli_runs = cli_runs + 1
        local answered = dnsmasq.batch_answered(batch)
        assert.equal(PER_ROUND, answered)
        sent = sent + answered
      end
      assert.equal(ROUNDS * PER_ROUND, sent)
      deadline = socket.gettime() + 15
      while counted() < sent and socket.gettime() < deadline do socket.sleep(0.05) end
      socket.sleep(0.2) -- nothing more may come: each query once
      print(string.format("\n  second reader (%s): %d command-line runs, %d queries answered, %d counted by the long-lived host",
        with_lock and "lock" or "no lock", cli_runs, sent, counted()))
      assert.equal(sent, counted())
      assert.is_true(second:sync())
      assert.equal(0, second:stats().lines)
      assert.is_false(second:stats().fifo_up)
      second:close()
    end)
  end
end)
