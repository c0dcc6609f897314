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

-- Only Tide's tensor blocks count as tensors (shims.c tags them): other userdata of the same
-- size (a file handle is two words, like a tensor's block), light userdata, and tables given
-- the tensor metatable are type errors, and freeing them releases nothing.
local z = tide.ones(3)
S.checkerror("tensor expected, got FILE*", function() return z:add(io.stdout) end)
S.checkerror("tensor expected, got FILE*", function() return tide.sum(io.stdout) end)
local fake = setmetatable({}, getmetatable(z))
S.checkerror("tensor expected, got table", function() return fake:sum() end)
S.checkerror("tensor or number expected, got table", function() return z + fake end)
-- strings and tables of every small size come and go through the same allocator
for n = 1, 64 do
  local parts = {}
  for i = 1, n do parts[i] = string.char((i * 37) % 256) end
  local s = table.concat(parts)
  local t = {}
  for i = 1, n do t[i] = i end
  parts, s, t = nil, nil, nil
end
collectgarbage(); collectgarbage()
assert(z:sum():item() == 3)

-- The collector runs in generational mode: small tensor ops make young garbage that young
-- collections free without re-marking the library, and pure-Lua churn keeps the heap near its
-- live size, small heap or big.
local function tensor_ops(n)
  local a, b = tide.randn(16), tide.randn(16)
  for _ = 1, n do local c = a + b end
end
local function lua_churn(n)
  local peak = 0
  for i = 1, n do
    local junk = {i, i + 1}
    if i % 256 == 0 then peak = math.max(peak, collectgarbage("count") * 1024) end
  end
  return peak
end
collectgarbage(); collectgarbage()
local heap0 = collectgarbage("count") * 1024
tensor_ops(20000)
local ph = lua_churn(2000000)
assert(ph < heap0 + 48 * 2^20, ("small heap: Lua heap peaked at %.1f MiB over a %.1f MiB live heap"):format(ph / 2^20, heap0 / 2^20))
local keep = {}
for i = 1, 400000 do keep[i] = {i} end  -- about 40 MiB live
collectgarbage(); collectgarbage()
local live = collectgarbage("count") * 1024
tensor_ops(20000)
ph = lua_churn(2000000)
assert(ph < 2.6 * live, ("big heap: Lua heap peaked at %.0f MiB over %.0f MiB live"):format(ph / 2^20, live / 2^20))
keep = nil
collectgarbage()

-- Tensor-driven collections (TensorUserdata.collectForTensors). Mid-size temporaries go back
-- to the Storage cache within a few ops, so a loop of 1 MiB adds holds little garbage.
local a1, b1 = tide.randn(262144), tide.randn(262144)
local function adds(n) for _ = 1, n do local c = a1 + b1 end end
local function temporaries_peak(n)  -- the most tensor memory a loop of n 1 MiB adds holds
  collectgarbage(); collectgarbage()
  local base, top = tide.memory_allocated(), 0
  for _ = 1, n do
    local c = a1 + b1
    top = math.max(top, tide.memory_allocated() - base)
  end
  return top
end
-- Tensors that outlive young collections turn old; a full collection still frees them once
-- they are dropped, within `after` 1 MiB adds.
local function old_tensors_freed(after)
  local keep = {}
  for i = 1, 48 do keep[i] = tide.zeros(262144) end
  adds(100)                              -- young collections: keep survives them
  local mid = tide.memory_allocated()
  keep = nil
  adds(after)
  return tide.memory_allocated() < mid - 40 * 2^20
end
peak = temporaries_peak(2000)
assert(peak <= 24 * 2^20, ("1 MiB temporaries peaked at %.0f MiB"):format(peak / 2^20))
-- the full collections' interval starts at 64 MiB
assert(old_tensors_freed(200), "old tensors not freed")
-- after a long run of young-only garbage it has grown to its cap, 256 MiB
adds(2000)
assert(old_tensors_freed(300), "old tensors not freed after a young-only run")

-- a script that picks the collector's mode keeps it, and tensor bytes still drive collections
assert(collectgarbage("incremental") == "generational")
peak = temporaries_peak(2000)
assert(peak <= 24 * 2^20, ("incremental mode: 1 MiB temporaries peaked at %.0f MiB"):format(peak / 2^20))
assert(collectgarbage("generational") == "incremental")
local t = tide.zeros(4)
assert(collectgarbage("count") > 0 and collectgarbage("step") ~= nil and t:numel() == 4)
