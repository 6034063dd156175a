-- The dashboard and the rules against a real Prometheus (Debian's): it
-- scrapes, every second, the test host running the module with the real
-- dnsmasq's traffic and DNSTT-shaped queries seen by the capture (the demo
-- setup), and three more hosts in the states the alerts are about (a log
-- full of unparsed lines and a table too small, no FIFO, a collector that
-- fails).  Every PromQL expression of openwrt/monitoring/ (the dashboard's
-- panels and variables, the rules) is taken from the files themselves and
-- run through /api/v1/query: each must parse, and each must return data once
-- the traffic has flowed.  Needs root for the capture (the CI runs as root).
local proc = require("spec.support.proc")
local dnsmasq = require("spec.support.dnsmasq")
local scenario = require("spec.support.scenario")
local http = require("spec.support.http")
local json = require("dkjson")
local lyaml = require("lyaml")
local unistd = require("posix.unistd")
local socket = require("socket")

local ROOT = unistd.getcwd()
local DASHBOARD = ROOT .. "/openwrt/monitoring/dnsagg-dashboard.json"
local RULES = ROOT .. "/openwrt/monitoring/dnsagg-rules.yml"
local DNSTT_DOMAIN = "t.example.com"

-- Every expression of the dashboard: { where =, expr = } for panel
-- targets, and { where =, expr =, label = } for label_values(SELECTOR, LABEL)
-- variables (Grafana's syntax: the selector is the PromQL run).
local function dashboard_expressions()
  local dash = assert(json.decode(proc.read_file(DASHBOARD)))
  local out = {}
  local function walk(panels)
    for _, p in ipairs(panels or {}) do
      for _, t in ipairs(p.targets or {}) do
        out[#out + 1] = { where = "panel '" .. p.title .. "' " .. t.refId, expr = t.expr }
      end
      walk(p.panels)
    end
  end
  walk(dash.panels)
  for _, v in ipairs(dash.templating.list) do
    if v.type == "query" then
      local q = type(v.query) == "table" and v.query.query or v.query
      local selector, label = q:match("^label_values%((.+),%s*([%w_]+)%)$")
      assert(selector, "variable $" .. v.name .. ": not label_values(SELECTOR, LABEL): " .. q)
      out[#out + 1] = { where = "variable $" .. v.name, expr = selector, label = label }
    end
  end
  return out, dash
end

-- Every expression of the rule file: { where =, expr =, record = }
local function rule_expressions()
  local rules = assert(lyaml.load(proc.read_file(RULES)))
  local out = {}
  for _, g in ipairs(rules.groups) do
    for _, r in ipairs(g.rules) do
      out[#out + 1] = { where = g.name .. " " .. (r.alert or r.record), expr = r.expr, record = r.record,
                        alert = r.alert }
    end
  end
  return out
end

-- What Grafana puts in place of its variables; anything left is an error
local function substitute(expr, values)
  local done = expr:gsub("%${([%w_]+)}", values):gsub("%$([%w_]+)", values)
  assert(not done:find("$", 1, true), "a variable the spec does not know in: " .. expr)
  return done
end

local function urlencode(s)
  return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", c:byte()) end))
end

describe("the dashboard and the rules against a real Prometheus", function()
  if unistd.geteuid() ~= 0 then
    it("needs root", function()
      pending("the DNSTT panels need the capture, which needs root (CAP_NET_RAW), as the CI has")
    end)
    return
  end

  local dir, s, hosts, prom, api

  local function query(expr)
    local body, status = http.get(api .. "/api/v1/query?query=" .. urlencode(expr), 10)
    assert(body, "Prometheus did not answer: " .. tostring(status))
    return assert(json.decode(body), body)
  end

  -- a vector with at least one sample that is a number (not NaN), or a
  -- sample with `label` when one is named
  local function has_data(answer, label)
    if answer.status ~= "success" or answer.data.resultType ~= "vector" then return false end
    for _, r in ipairs(answer.data.result) do
      local v = tonumber(r.value[2])
      if label then
        if r.metric[label] then return true end
      elseif v and v == v then
        return true
      end
    end
    return false
  end

  local function start_host(name, options_text)
    local conf = dir .. "/" .. name .. ".conf.lua"
    proc.write_file(conf, options_text)
    local h = assert(proc.start_host{ mode = "fork", collectors = ROOT .. "/lua", cpath = ROOT,
      env = { DNSAGG_CONFIG = conf } })
    hosts[#hosts + 1] = h
    return h
  end

  before_each(function()
    dir = proc.tmpdir()
    hosts = {}
  end)

  after_each(function()
    if prom then proc.kill(prom, 10) end
    scenario.stop(s)
    for _, h in ipairs(hosts) do proc.kill(h) end
    proc.kill_all()
    proc.rmtree(dir)
    prom, s = nil, nil
  end)

  it("runs every expression of the dashboard and the rules: each parses and returns data", function()
    local started = socket.gettime()
    math.randomseed(20261122)
    -- the demo setup, with the capture and a DNSTT domain
    s = scenario.start{ dir = dir .. "/live", dnstt = DNSTT_DOMAIN }
    -- a log with unparsed lines and a table of 10 keys (the spec writes its FIFO)
    local broken_fifo = dir .. "/broken.fifo"
    assert(require("posix.sys.stat").mkfifo(broken_fifo, 384))
    local broken = start_host("broken", string.format(
      "return { fifo = %q, max_entries = 10, dnsmasq_pidfile = false }", broken_fifo))
    -- no FIFO at all, and a collector that fails to start
    local nofifo = start_host("nofifo", string.format("return { fifo = %q, dnsmasq_pidfile = false }",
      dir .. "/never.fifo"))
    local failing = start_host("failing", "return { max_entires = 5 }")

    local targets = {}
    for _, h in ipairs{ s.host, broken, nofifo, failing } do
      targets[#targets + 1] = string.format("%q", h.host .. ":" .. h.port)
    end
    local port = dnsmasq.free_port()
    api = "http://127.0.0.1:" .. port
    proc.write_file(dir .. "/prometheus.yml", table.concat({
      "global:",
      "  scrape_interval: 1s",
      "  scrape_timeout: 1s",
      "  evaluation_interval: 1s",
      "rule_files:",
      "  - " .. string.format("%q", RULES),
      "scrape_configs:",
      "  - job_name: dnsagg",
      "    params:",
      "      'collect[]': [dnsagg]",
      "    static_configs:",
      "      - targets: [" .. table.concat(targets, ", ") .. "]",
    }, "\n") .. "\n")
    prom = proc.spawn({ "prometheus", "--config.file=" .. dir .. "/prometheus.yml",
      "--storage.tsdb.path=" .. dir .. "/data", "--web.listen-address=127.0.0.1:" .. port, "--log.level=warn" })

    -- every target scraped once before any traffic, so that rate() and
    -- increase() see the counters grow
    local deadline = socket.gettime() + 30
    local up
    repeat
      socket.sleep(0.2)
      local body = http.get(api .. "/api/v1/query?query=" .. urlencode("sum(up)"), 5)
      up = body and json.decode(body)
      up = up and up.data and up.data.result[1] and tonumber(up.data.result[1].value[2])
      assert(proc.alive(prom), "prometheus exited: " .. proc.stderr(prom))
    until up == #targets or socket.gettime() > deadline
    assert.equal(#targets, up, proc.stderr(prom))

    -- the traffic: real queries through dnsmasq, DNSTT sessions through it,
    -- and the broken host's log (300 names for 10 keys, 50 lines of garbage)
    local n = scenario.send(s) + scenario.send_dnstt(s, 3)
    scenario.wait_counted(s, n)
    local w = assert(io.open(broken_fifo, "w"))
    for i = 1, 300 do
      w:write(string.format("Nov 22 01:41:33 dnsmasq[7]: query[A] name-%d.example from 10.0.0.9\n", i))
      if i % 6 == 0 then w:write("this is not a dnsmasq line\n") end
    end
    w:close()

    local values = { instance = s.host.host .. ":" .. s.host.port, hostname = "laptop",
                     __rate_interval = "1m", __range = "1m", __interval = "1s", datasource = "prometheus" }
    local exprs, dash = dashboard_expressions()
    local panels = 0
    for _, e in ipairs(exprs) do if not e.label then panels = panels + 1 end end
    local rules = rule_expressions()
    for _, r in ipairs(rules) do exprs[#exprs + 1] = r end
    local recorded = {}
    for _, r in ipairs(rules) do
      if r.record then recorded[#recorded + 1] = { where = "the recorded series " .. r.record, expr = r.record } end
    end
    print(string.format("\n  prometheus: %d panel expressions, %d variables, %d rules (%d recording)",
      panels, #exprs - panels - #rules, #rules, #recorded))
    assert.is_true(panels >= 20 and #rules >= 11, "expressions were not found in the files")

    -- each parses at once
    for _, e in ipairs(exprs) do
      e.promql = substitute(e.expr, values)
      local answer = query(e.promql)
      assert.equal("success", answer.status, e.where .. ": " .. e.promql .. ": " .. tostring(answer.error))
    end
    -- each returns data once the traffic is in (a scrape a second: a few
    -- seconds); so do the series Prometheus recorded from the rules
    for _, r in ipairs(recorded) do r.promql = r.expr; exprs[#exprs + 1] = r end
    -- and Prometheus, evaluating the rules itself every second, holds every
    -- alert as pending or firing, and every rule's health is ok
    local function rules_state()
      local answer = assert(json.decode((http.get(api .. "/api/v1/rules", 10))))
      local health, alerting = {}, {}
      for _, g in ipairs(answer.data.groups) do
        for _, r in ipairs(g.rules) do
          health[r.name] = r.health .. (r.lastError and r.lastError ~= "" and (": " .. r.lastError) or "")
          if r.type == "alerting" and #r.alerts > 0 then alerting[r.name] = true end
        end
      end
      local quiet = {}
      for _, r in ipairs(rules) do
        if r.alert and not alerting[r.alert] then quiet[#quiet + 1] = r.alert end
      end
      return health, quiet
    end
    local missing, health, quiet
    deadline = socket.gettime() + 30
    repeat
      missing = {}
      for _, e in ipairs(exprs) do
        if not e.ok then
          e.ok = has_data(query(e.promql), e.label)
          if not e.ok then missing[#missing + 1] = e.where .. ": " .. e.promql end
        end
      end
      health, quiet = rules_state()
      if #missing > 0 or #quiet > 0 then socket.sleep(1) end
    until (#missing == 0 and #quiet == 0) or socket.gettime() > deadline
    assert.same({}, missing)
    assert.same({}, quiet)   -- alerts neither pending nor firing
    for _, r in ipairs(rules) do
      local name = r.alert or r.record
      assert.equal("ok", health[name], name)
    end
    assert.equal("dnsagg", dash.uid)
    print(string.format("  prometheus: every expression answered within %.0f s of the start",
      socket.gettime() - started))
  end)
end)
