-- make demo's self-check: the quick-start command of the README works.
local proc = require("spec.support.proc")

describe("make demo", function()
  it("starts dnsmasq, the module in the test host and traffic, and its self-check passes", function()
    local dir = proc.tmpdir()
    local out, how, code, stderr = proc.run({ "sh", "spec/support/demo.sh" },
      { env = { DEMO_SECONDS = "0", DEMO_DIR = dir }, timeout = 120 })
    proc.rmtree(dir)
    assert.equal("exited", how, stderr)
    assert.equal(0, code, (out or "") .. (stderr or ""))
    assert.truthy(out:find("demo: self-check passed", 1, true), out)
    assert.truthy(out:find("dnsagg_fifo_up 1", 1, true), out)
  end)
end)
