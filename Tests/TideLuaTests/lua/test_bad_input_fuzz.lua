-- Bad input never crashes the host: every tide function and tensor method (and tide.linalg,
-- tide.io loaders) is called with awkward arguments (nil, NaN, huge and negative numbers,
-- wrong types, empty and complex tensors); each call must succeed or raise a Lua error
-- with a message. A crash of the host fails the test run.
local S = require "support"
local vals = {
  function() return nil end, function() return true end, function() return "x" end,
  function() return 0 end, function() return -1 end, function() return 1e300 end, function() return 0/0 end,
  function() return 2^63 end, function() return -2^63 end, function() return 3.5 end, function() return {} end,
  function() return {1, 2} end, function() return {-1, 0} end, function() return {dtype = "bogus"} end,
  function() return tide.zeros(0) end, function() return tide.ones(2, 3) end, function() return tide.tensor(5) end,
  function() return tide.tensor({1, 2, 3}) end, function() return tide.tensor({true, false}) end,
  function() return tide.ones(2, 2, "c128") end, function() return tide.zeros(3, 0) end,
  function() return tide.ones(4):lt(2) end, function() return tide.arange(0, 6):reshape(2, 3) end,
}
-- a method's receiver: one of the tensors at the end of vals
local function receiver(i) return vals[(i % 9) + 14]() end
local names = {}
for k, v in pairs(tide) do if type(v) == "function" then names[#names + 1] = {"tide." .. k, v} end end
for k, v in pairs(tide.Tensor) do if type(v) == "function" then names[#names + 1] = {"method " .. k, v, receiver} end end
for _, sub in ipairs({"linalg", "io"}) do
  for k, v in pairs(tide[sub]) do
    if type(v) == "function" and not k:match("^save") then names[#names + 1] = {"tide." .. sub .. "." .. k, v} end
  end
end
table.sort(names, function(a, b) return a[1] < b[1] end)
local skip = {["tide.set_num_threads"] = true, ["tide.manual_seed"] = false, ["tide.empty_cache"] = true,
  -- these write files named after their (fuzzed) arguments
  ["tide.save"] = true, ["tide.train.save_checkpoint"] = true, ["tide.fs.mkdir_p"] = true}
local targets = {}
for _, e in ipairs(names) do
  if not skip[e[1]] and not e[1]:match("^method free") then
    targets[#targets + 1] = e
  end
end
local calls, errors = S.fuzz(targets, vals, {rounds = 13})
print(calls, "calls,", errors, "errors, no crash")

-- 0-d and empty tensors with dim-like arguments (dims 1 and -1 on a 0-d tensor used to trap in
-- var, flip, narrow, select, chunk, gather, cat, size, ...): every method and tide function,
-- receivers of each kind, arguments dims / indices / index tensors / sources; none may crash
do
  local recv = {
    function() return tide.tensor(1.5, "f64") end, function() return tide.tensor(2) end,
    function() return tide.tensor(true) end, function() return tide.tensor(1.5) end,
    function() return tide.zeros(0) end, function() return tide.zeros(0, 3) end,
    function() return tide.zeros(3, 0) end, function() return tide.ones(2, 0, 3) end,
    function() return tide.zeros(0, 0) end, function() return tide.ones(1) end,
  }
  local i0, i1 = function() return tide.tensor(1) end, function() return tide.tensor({1}) end
  local args = {
    {}, {1}, {-1}, {2}, {-2}, {0}, {1, 1}, {-1, 1}, {1, -1}, {1, 1, 0}, {1, -1, 1}, {1, 0, 1}, {2, 1}, {1, 2},
    {1, i0}, {-1, i1}, {1, function() return tide.tensor({1, 1}) end}, {1, function() return tide.ones(1, 1):to("i64") end},
    {1, i0, 3}, {1, i0, function() return tide.tensor(2.5) end},
    {1, function() return tide.zeros(0):to("i64") end, function() return tide.zeros(0) end},
    {i0}, {i1}, {function() return tide.tensor(true) end}, {function() return tide.zeros(0) end},
    {1, {keepdim = true}}, {-1, {keepdim = true}}, {{1}}, {{-1, 1}}, {2, 1, {keepdim = true}},
  }
  local function run(fn, first)
    for _, a in ipairs(args) do
      local vals = {}
      for k, v in ipairs(a) do vals[k] = type(v) == "function" and v() or v end
      local ok, err = pcall(fn, first(), table.unpack(vals, 1, #a))
      assert(ok or (type(err) == "string" and #err > 0))
    end
  end
  local n = 0
  for k, fn in pairs(tide.Tensor) do
    if type(fn) == "function" and k ~= "free" and k ~= "save" then
      for _, r in ipairs(recv) do run(fn, r); n = n + 1 end
    end
  end
  local skip = {set_num_threads = true, set_printoptions = true, set_kernel_level = true, save = true, help = true, empty_cache = true}
  for k, fn in pairs(tide) do
    if type(fn) == "function" and not skip[k] then
      for _, r in ipairs(recv) do
        run(fn, r)
        run(fn, function() return {r(), r()} end)   -- cat, stack, ... take a list
        n = n + 2
      end
    end
  end
  assert(n > 1000)
end

-- audit H: inputs that used to kill the process (traps, stack overflow) or hang it
do
  local function err(pattern, f) S.checkerror(pattern, f) end
  local n = {} local c = n for _ = 1, 10000 do c[1] = {}; c = c[1] end
  err("deeper than 64 levels", function() return tide.tensor(n) end)
  assert(tide.zeros(0, 1 << 40, 1 << 40):numel() == 0 and tide.zeros(1 << 40, 1 << 40, 0):numel() == 0)
  err("reach element", function() return tide.zeros(1):as_strided({1}, {1}, math.maxinteger) end)
  err("reach element", function() return tide.zeros(0):as_strided({math.maxinteger}, {1}, 1) end)
  err("too many elements", function() return tide.ones(1):as_strided({1 << 62, 2}, {0, 0}) end)
  assert(tide.randn(3, 4):unfold(1, 1, math.maxinteger):size(1) == 1)   -- one window
  err("correction must be a finite number", function() return tide.tensor({1.0, 2.0}):var(nil, {correction = math.huge}) end)
  err("edgeitems 1..1048576", function() tide.set_printoptions{edgeitems = math.maxinteger} end)
  -- a raised threshold or edgeitems still prints a huge view as a summary, quickly
  tide.set_printoptions{threshold = math.maxinteger}
  assert(#tostring(tide.ones(1):expand(1 << 40)) < 200)
  tide.set_printoptions{threshold = 1000, edgeitems = 1000000}
  assert(#tostring(tide.ones(1, 1):expand(1 << 30, 1 << 30)) < 1e7)
  tide.set_printoptions{edgeitems = 3}
  err("thread count from 1 to 1024", function() tide.set_num_threads(1 << 31) end)
  err("expected a level -1, 0, 1 or 2", function() tide.set_kernel_level(1 << 32) end)
  local dims = {} for i = 1, 100000 do dims[i] = 1 end
  err("at most 64 dims", function() return tide.ones(dims) end)
  err("at most 64 repeat counts", function() return tide.randn(3):tile(dims) end)
end

-- tensor_api.lua functions name themselves when given a non-tensor or a tensor for a number
S.checkerror("atleast_3d: expected a tensor, got number", tide.atleast_3d, 1)
S.checkerror("movedim: expected a tensor as argument 1, got table", tide.movedim, {})
S.checkerror("normal_: expected a number as argument 2, got a tensor", function() return tide.zeros(3):normal_(2, tide.zeros(3)) end)

-- audit O: crashes and silent losses found by the fuzzer on this session's code
do
  local S = require "support"
  -- src with more dims than index read past the index's coordinates (a segfault)
  S.checkerror("src has 3 dims but index has 2", function()
    return tide.zeros(3, 4):scatter_reduce(2, tide.tensor({{1, 2}, {2, 1}}), tide.randn(2, 2, 3), "amin") end)
  S.checkerror("src has 2 dims but index has 1", function() return tide.zeros(3):scatter(1, tide.tensor({1, 2}), tide.randn(2, 9)) end)
  -- cat of tensors of different ranks while recording (an index trap)
  S.checkerror("tensor 2 has 1 dims but tensor 1 has 2", tide.cat, {tide.zeros(2, 3, {requires_grad = true}), tide.zeros(2)}, 2)
  -- class indices at the i64 limits (an overflow trap in the 0-based shift)
  S.checkerror("out of range for 3 classes", tide.F.nll_loss, tide.zeros(1, 3), tide.tensor({math.mininteger}))
  S.checkerror("out of range for 5 rows", tide.F.embedding, tide.tensor({math.mininteger}), tide.zeros(5, 2))
  assert(tide.F.cross_entropy(tide.zeros(1, 3), tide.tensor({1}), {ignore_index = math.mininteger}):item() > 0, "extreme ignore_index")
  -- huge expanded views and outer products are refused before anything is allocated
  S.checkerror("too many for a text file", tide.io.save, os.tmpname() .. ".csv", tide.ones(1):expand(2 ^ 40 // 1))
  local ops, names = {}, {}
  for k = 1, 40 do ops[k] = tide.ones(2); names[k] = string.char(k <= 26 and 96 + k or 64 + k - 26) end
  S.checkerror("would have more than", tide.einsum, table.concat(names, ",") .. "->" .. table.concat(names), table.unpack(ops))
  -- a value with history copied into a view of a plain tensor (the base would lose it)
  local w = tide.ones(2):requires_grad_()
  local buf = tide.zeros(3)
  S.checkerror("into a view of a tensor that does not", function() buf:narrow(1, 1, 2):copy_(w) end)
  S.checkerror("into a view of a tensor that does not", function() local v = buf:narrow(1, 1, 2); v[{{1, 1}}] = w:narrow(1, 2, 1) end)
  -- NaN or out-of-range values into i64
  S.checkerror("cannot write", tide.tensor, {0 / 0, 1}, "i64")
  S.checkerror("cannot write", tide.tensor, {1e300}, "i64")
  S.checkerror("delimiter 'e' can appear inside numbers", tide.io.save, os.tmpname() .. ".csv", tide.ones(2, 2), {delimiter = "e"})
end
