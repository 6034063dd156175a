--[[
spec/support/elf.lua: what the specs read of a cross-built ELF file from its
program headers, which is all that a file `make cross` sstripped
(spec/support/cross/sstrip.c, as OpenWrt's musl builds) still has: no
section headers, so `readelf -A` and `nm -D` find nothing in it.

  elf.mips_fp_abi(path)       the floating-point ABI of a MIPS file's
                              PT_MIPS_ABIFLAGS segment: "soft", "double",
                              "single", "xx", "64", "64a", or nil, why
  elf.exports(path, readelf)  the names of the symbols it defines in its
                              dynamic symbol table (readelf -D -s), sorted
]]
local proc = require("spec.support.proc")

local M = {}

local PT_MIPS_ABIFLAGS = 0x70000003
local FP_ABIS = { [1] = "double", [2] = "single", [3] = "soft", [5] = "xx", [6] = "64", [7] = "64a" }

-- the n-byte number at byte offset at (0-based) of text, in the file's byte order
local function number(text, at, n, big)
  local v = 0
  for i = 0, n - 1 do
    v = v * 256 + text:byte(at + 1 + (big and i or n - 1 - i))
  end
  return v
end

function M.mips_fp_abi(path)
  local text = proc.read_file(path)
  if text:sub(1, 4) ~= "\127ELF" or text:byte(5) ~= 1 then return nil, path .. ": not a 32-bit ELF file" end
  local big = text:byte(6) == 2
  local phoff, phentsize, phnum = number(text, 28, 4, big), number(text, 42, 2, big), number(text, 44, 2, big)
  for i = 0, phnum - 1 do
    local ph = phoff + i * phentsize
    if number(text, ph, 4, big) == PT_MIPS_ABIFLAGS then
      -- struct mips_abiflags_v0: version (2 bytes), isa_level, isa_rev, gpr_size, cpr1_size, cpr2_size, fp_abi
      local fp = text:byte(number(text, ph + 4, 4, big) + 7 + 1)
      return FP_ABIS[fp] or tostring(fp)
    end
  end
  return nil, path .. ": no PT_MIPS_ABIFLAGS segment"
end

function M.exports(path, readelf)
  local names = {}
  local p = assert(io.popen(readelf .. " -D -s -W '" .. path:gsub("'", "'\\''") .. "'"))
  for line in p:lines() do
    -- "   2: 0000d6a5   368 FUNC    GLOBAL DEFAULT    7 luaopen_dnsagg"
    local kind, bind, ndx, name = line:match("^%s*%d+:%s+%x+%s+%d+%s+(%S+)%s+(%S+)%s+%S+%s+(%S+)%s+(%S+)$")
    if name and ndx ~= "UND" and kind ~= "SECTION" and (bind == "GLOBAL" or bind == "WEAK") then
      names[#names + 1] = name
    end
  end
  p:close()
  table.sort(names)
  return names
end

return M
