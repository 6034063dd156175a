-- The rule file openwrt/monitoring/dnsagg-rules.yml: promtool check rules,
-- and its unit tests (spec/monitoring/dnsagg-rules.test.yml) with promtool
-- test rules, which must also catch a rule that is wrong.
local proc = require("spec.support.proc")
local unistd = require("posix.unistd")

local ROOT = unistd.getcwd()
local RULES = "openwrt/monitoring/dnsagg-rules.yml"
local TESTS = "spec/monitoring/dnsagg-rules.test.yml"

local function promtool(...)
  local argv = { "promtool", ... }
  local out, how, code, stderr = proc.run(argv, { timeout = 60 })
  assert.equal("exited", how, tostring(stderr))
  return (out or "") .. (stderr or ""), code
end

describe("the Prometheus rules", function()
  it("pass promtool check rules", function()
    local out, code = promtool("check", "rules", ROOT .. "/" .. RULES)
    assert.equal(0, code, out)
    assert.truthy(out:find("SUCCESS: 11 rules found", 1, true), out)
  end)

  it("pass their unit tests with promtool test rules", function()
    local out, code = promtool("test", "rules", ROOT .. "/" .. TESTS)
    assert.equal(0, code, out)
    assert.truthy(out:find("SUCCESS", 1, true), out)
  end)

  it("have unit tests that fail when a threshold or a duration is wrong", function()
    local dir = proc.tmpdir()
    local rules = proc.read_file(ROOT .. "/" .. RULES)
    for _, change in ipairs{ { "> 0.01", "> 0.1" }, { "* 3600 > dnsagg_table_capacity", "* 600 > dnsagg_table_capacity" },
                             { "for: 5m", "for: 1m" }, { "dnstt_active_clients > 0", "dnstt_active_clients > 2" } } do
      local changed, n = rules:gsub(change[1]:gsub("%p", "%%%0"), change[2], 1)
      assert.equal(1, n, change[1])
      -- the same relative layout as in the repository
      proc.write_file(dir .. "/" .. RULES, changed)
      proc.write_file(dir .. "/" .. TESTS, proc.read_file(ROOT .. "/" .. TESTS))
      local out, code = promtool("test", "rules", dir .. "/" .. TESTS)
      assert.equal(1, code, change[2] .. ": " .. out)
      assert.truthy(out:find("FAILED", 1, true), out)
    end
    proc.rmtree(dir)
  end)
end)
