-- spec/lnum/counts.lua: counters above 2^31 and 2^32 reach Lua (top, stats)
-- and the exposition (render, export) exactly, on a Lua whose lua_Integer is
-- 32 bits.  Run by build/i386/lnum_host (spec/lnum/host.c), which gives the
-- global `lnum`; `make test-lnum`, and part of `make test`.
-- Returns the number of failed checks.
package.path = "./?.lua;" .. package.path
local expo = require("spec.support.expo")
local dnsagg = require("dnsagg")

local passed, failed = 0, 0

local function check(what, ok, detail)
  if ok then
    passed = passed + 1
  else
    failed = failed + 1
    io.stderr:write("FAILED: ", what, detail and (": " .. detail) or "", "\n")
  end
end

-- Counts are compared as decimal text: "%.0f" writes a double's exact value.
local function text(x)
  return type(x) == "number" and string.format("%.0f", x) or tostring(x)
end

local function check_count(what, got, want)
  check(what, text(got) == want, "got " .. text(got) .. ", want " .. want)
end

-- The Lua this runs on: lua_Integer is 4 bytes, so a count passed through
-- lua_tointeger/lua_pushinteger would not survive (the control).  What it
-- becomes depends on the CPU: i386 Lua wraps it (2^32+1 comes back as 1),
-- soft-float MIPS saturates it (2147483647).
check("lua_Integer is 32 bits", lnum.integer_bytes() == 4, "it is " .. lnum.integer_bytes() .. " bytes")
for _, big in ipairs({ { "2^31+1", 2 ^ 31 + 1, "2147483649" }, { "2^32+1", 2 ^ 32 + 1, "4294967297" } }) do
  local got = text(lnum.through_integer(big[2]))
  check(big[1] .. " through lua_Integer is not " .. big[1], got ~= big[3], "got " .. got)
end

local agg = assert(dnsagg.new{ dnsmasq_pidfile = false })
lnum.add_queries(agg, "192.168.1.10", "a.example", "A", 2 ^ 31 + 1)
lnum.add_queries(agg, "192.168.1.10", "b.example", "AAAA", 2 ^ 32 + 1)
lnum.add_queries(agg, "192.168.1.11", "a.example", "A", 2 ^ 40 + 3)
lnum.add_replies(agg, "upstream", "address", 2 ^ 32 + 1)
lnum.add_replies(agg, "cache", "nxdomain", 2 ^ 31 + 1)
lnum.add_read_bytes(agg, 2 ^ 53 - 1)
-- and one real line on top, through the parser
check("a query line is read as one", agg:feed("Nov 22 01:41:33 dnsmasq[100]: query[AAAA] b.example from 192.168.1.10") == "query")

-- The expected values, written out in decimal.
local ENTRY = {
  ["192.168.1.10 a.example A"] = "2147483649",    -- 2^31 + 1
  ["192.168.1.10 b.example AAAA"] = "4294967298", -- 2^32 + 1, and the fed line
  ["192.168.1.11 a.example A"] = "1099511627779", -- 2^40 + 3
}
local CLIENT = { ["192.168.1.10"] = "6442450947", ["192.168.1.11"] = "1099511627779" }
local DOMAIN = { ["a.example"] = "1101659111428", ["b.example"] = "4294967298" }
local QUERY_LINES = "1105954078726"
local READ_BYTES = "9007199254740991" -- 2^53 - 1 (the parser's line was fed, not read)
local REPLIES = { ["upstream address"] = "4294967297", ["cache nxdomain"] = "2147483649" }

-- top
local function check_rows(by, key_of, want)
  local rows = agg:top{ by = by, n = 10 }
  local seen = 0
  for _, row in ipairs(rows) do
    local key = key_of(row)
    check_count("top{by=" .. by .. "} " .. key, row.count, want[key] or "(no such row)")
    seen = seen + 1
  end
  local n = 0
  for _ in pairs(want) do n = n + 1 end
  check("top{by=" .. by .. "} has " .. n .. " rows", seen == n, "it has " .. seen)
end
check_rows("entry", function(r) return r.client .. " " .. r.domain .. " " .. r.type end, ENTRY)
check_rows("client", function(r) return r.client end, CLIENT)
check_rows("domain", function(r) return r.domain end, DOMAIN)
local largest = agg:top{ by = "entry", n = 1 }[1]
check("top sorts by the whole count", largest and largest.client == "192.168.1.11")

-- stats
local stats = agg:stats()
check_count("stats().lines", stats.lines, QUERY_LINES)
check_count("stats().lines_by_kind.query", stats.lines_by_kind.query, QUERY_LINES)
check_count("stats().bytes_read", stats.bytes_read, READ_BYTES)

-- the exposition: a series' value as written
local function value_text(samples, name, labels)
  local found
  for _, s in ipairs(samples) do
    local match = s.name == name
    for k, v in pairs(labels) do match = match and s.labels[k] == v end
    if match then
      if found then return "(several series)" end
      found = s.raw:match("(%S+)$")
    end
  end
  return found or "(no series)"
end

local function check_exposition(where, samples)
  for key, want in pairs(ENTRY) do
    local client, domain, qtype = key:match("^(%S+) (%S+) (%S+)$")
    check_count(where .. " dnsmasq_queries_total " .. key,
      value_text(samples, "dnsmasq_queries_total", { client = client, domain = domain, type = qtype }), want)
  end
  for client, want in pairs(CLIENT) do
    check_count(where .. " dnsmasq_client_queries_total " .. client,
      value_text(samples, "dnsmasq_client_queries_total", { client = client }), want)
  end
  for key, want in pairs(REPLIES) do
    local source, result = key:match("^(%S+) (%S+)$")
    check_count(where .. " dnsmasq_replies_total " .. key,
      value_text(samples, "dnsmasq_replies_total", { source = source, result = result }), want)
  end
  check_count(where .. " dnsagg_lines_total{kind=query}",
    value_text(samples, "dnsagg_lines_total", { kind = "query" }), QUERY_LINES)
  check_count(where .. " dnsagg_read_bytes_total", value_text(samples, "dnsagg_read_bytes_total", {}), READ_BYTES)
end

local rendered = agg:render()
local rendered_samples = expo.parse(rendered)
check_exposition("render()", rendered_samples)

-- promtool reads the rendered text without a complaint
local path = os.tmpname()
local f = assert(io.open(path, "w"))
f:write(rendered)
f:close()
local lint_path = path .. ".lint"
local status = os.execute("promtool check metrics < " .. path .. " > " .. lint_path .. " 2>&1")
local lint_file = io.open(lint_path)
local lint = lint_file and lint_file:read("*a") or "(no output file)"
if lint_file then lint_file:close() end
os.remove(path)
os.remove(lint_path)
check("promtool check metrics accepts render()", status == 0 and lint == "", lint)

-- export(metric) with a metric() that writes like the exporter's: the values
-- must come as text, which the exporter writes as it is
local lines, non_text = {}, {}
local function metric(name, mtype)
  lines[#lines + 1] = "# TYPE " .. name .. " " .. mtype
  return function(labels, value)
    if type(value) ~= "string" then non_text[#non_text + 1] = name .. " " .. type(value) end
    local keys, parts = {}, {}
    for k in pairs(labels or {}) do keys[#keys + 1] = k end
    table.sort(keys)
    for _, k in ipairs(keys) do parts[#parts + 1] = k .. '="' .. labels[k] .. '"' end
    lines[#lines + 1] = name .. (labels and "{" .. table.concat(parts, ",") .. "}" or "") .. " " .. tostring(value)
  end
end
agg:export(metric)
check("export() gives every value as text", #non_text == 0, table.concat(non_text, ", "))
local exported_samples = expo.parse(table.concat(lines, "\n") .. "\n")
check_exposition("export()", exported_samples)
check("export() writes as many series as render()", #exported_samples == #rendered_samples,
  #exported_samples .. " and " .. #rendered_samples)
for _, s in ipairs(rendered_samples) do
  local got = value_text(exported_samples, s.name, s.labels)
  check("export() " .. s.raw, got == s.raw:match("(%S+)$"), "export() wrote " .. got)
end

agg:close()
print(string.format("spec/lnum/counts.lua: %d passed, %d failed", passed, failed))
return failed
