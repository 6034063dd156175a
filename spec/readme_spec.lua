-- The README's Lua examples run as written: every ```lua block is run with
-- lua5.1 and the module, in a folder holding dnsmasq.log (written by the
-- real dnsmasq for the traffic the README describes, spec/support/
-- scenario.lua's) and dhcp.leases; a block followed by a ```text block (with
-- at most one line of prose between) must print exactly that text.
local proc = require("spec.support.proc")
local scenario = require("spec.support.scenario")
local unistd = require("posix.unistd")

local ROOT = unistd.getcwd()

-- { code =, line =, output = text or nil } for each ```lua block
local function lua_blocks(text)
  local lines = {}
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
  local blocks, i = {}, 1
  local function fenced(at)  -- the block opening at line `at`: its info string, body, next line
    local info = lines[at]:match("^```(%S*)%s*$")
    local body, j = {}, at + 1
    while lines[j] and not lines[j]:match("^```%s*$") do body[#body + 1] = lines[j]; j = j + 1 end
    assert(lines[j], "README: a block opened at line " .. at .. " is not closed")
    return info, table.concat(body, "\n") .. "\n", j + 1
  end
  while i <= #lines do
    if lines[i]:match("^```") then
      local info, body, after = fenced(i)
      if info == "lua" then
        local block = { code = body, line = i }
        local j, prose = after, 0
        while lines[j] and not lines[j]:match("^```") and (lines[j] == "" or prose == 0) do
          if lines[j] ~= "" then prose = prose + 1 end
          j = j + 1
        end
        if lines[j] and lines[j]:match("^```text%s*$") then
          local _, output, next_line = fenced(j)
          block.output, after = output, next_line
        end
        blocks[#blocks + 1] = block
      end
      i = after
    else
      i = i + 1
    end
  end
  return blocks
end

describe("the README's Lua examples", function()
  it("run as written and print what the README shows", function()
    local blocks = lua_blocks(proc.read_file(ROOT .. "/README.md"))
    local compared = 0
    for _, b in ipairs(blocks) do if b.output then compared = compared + 1 end end
    assert.is_true(#blocks >= 2 and compared >= 1, "no Lua examples with their output found")

    -- the log: the real dnsmasq, the traffic of the README, and no lines of
    -- the readiness probes (". SOA" from 127.0.0.1), which are the spec's own
    local dir = proc.tmpdir()
    local kept = {}
    for line in proc.read_file(scenario.write_log(dir, dir .. "/raw.log")):gmatch("[^\n]+") do
      if not line:find(" 127.0.0.1/", 1, true) then kept[#kept + 1] = line end
    end
    proc.write_file(dir .. "/dnsmasq.log", table.concat(kept, "\n") .. "\n")
    proc.write_file(dir .. "/dhcp.leases", scenario.LEASES)

    for n, b in ipairs(blocks) do
      local path = string.format("%s/example-%d.lua", dir, n)
      proc.write_file(path, b.code)
      local out, how, code, stderr = proc.run({ "sh", "-c", "cd \"$1\" && exec lua5.1 \"$2\"", "sh", dir, path },
        { env = { LUA_CPATH = ROOT .. "/?.so;;" }, timeout = 30 })
      local where = "README.md line " .. b.line
      assert.equal("exited", how, where)
      assert.equal(0, code, where .. ": " .. tostring(stderr))
      if b.output then assert.equal(b.output, out, where) end
    end
    proc.rmtree(dir)
  end)
end)
