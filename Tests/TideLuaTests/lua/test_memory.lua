-- Tensor memory lives outside the Lua heap, but the collector is told about it: a loop that
-- drops 1 MiB tensors must not pile up gigabytes before a collection.
local S = require "support"
collectgarbage()
local before = tide.memory_allocated()
local peak = 0
for _ = 1, 3000 do
  local t = tide.zeros(262144)          -- 1 MiB, dropped at once
  peak = math.max(peak, tide.memory_allocated() - before)
end
assert(peak < 512 * 2^20, ("tensor memory peaked at %.0f MiB: the collector was not told"):format(peak / 2^20))
collectgarbage(); collectgarbage()
assert(tide.memory_allocated() - before < 2^20, "tensors were not freed by the collector")

-- free() and <close> release at once
local x = tide.zeros(262144)
local mid = tide.memory_allocated()
x:free()
assert(tide.memory_allocated() <= mid - 2^20 + 64)
do
  local y <close> = tide.zeros(262144)
  mid = tide.memory_allocated()
end
assert(tide.memory_allocated() <= mid - 2^20 + 64)
S.checkerror("use of a freed tensor", function() return x:sum() end)
