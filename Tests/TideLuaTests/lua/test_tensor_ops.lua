-- Tensor ops from Lua: views, unary math, comparisons, reductions, matmul, randomness.
-- Expected values are worked by hand (small, exact cases).
local S = require "support"

-- views share storage
local x = tide.arange(1, 13, 1, "f64"):reshape(3, 4)
assert(x:size(1) == 3 and x[{3, 4}] == 12)
local xt = x:t()
assert(xt:size(1) == 4 and xt[{4, 3}] == 12 and not xt:is_contiguous())
assert(x:permute(2, 1)[{2, 3}] == 10)
assert(x:narrow(2, 2, 2)[{1, 1}] == 2)
assert(x:select(1, 2)[1] == 5)
assert(x:unsqueeze(1):dim() == 3 and x:unsqueeze(1):squeeze():dim() == 2)
assert(x:flatten():numel() == 12)
assert(x:expand(2, 3, 4):size(1) == 2)
S.checkerror("view", function() return xt:view(12) end)
assert(xt:reshape(12)[2] == 5)

-- unary
S.close(tide.tensor({0, 1}, "f64"):exp(), {1, math.exp(1)}, 1e-12)
S.close(tide.tensor({-1, 0, 2}, "f64"):relu(), {0, 0, 2})
S.close(tide.tensor({4, 9}, "f64"):sqrt(), {2, 3})
S.close(tide.tensor({0}, "f64"):sigmoid(), {0.5})
S.close(tide.tensor({1}, "f64"):gelu(), {0.8413447460685429}, 1e-12)
S.close(tide.tensor({1}, "f64"):gelu({approximate = "tanh"}), {0.8411919906082768}, 1e-12)
S.close(tide.tensor({-2, 0.5, 3}, "f64"):clamp(0, 1), {0, 0.5, 1})

-- comparisons and logic
local m = tide.tensor({1, 2, 3}):lt(2)
assert(m:dtype() == "bool" and m[1] == true and m[2] == false)
assert(tide.where(m, 10, 20):totable()[3] == 20)
assert(tide.tensor({0/0, 1}, "f64"):isnan()[1] == true)
assert(tide.tensor({1, 2, 3}):masked_fill(m, 0)[1] == 0)

-- reductions
local r = tide.tensor({{1, 2, 3}, {4, 5, 6}}, "f64")
assert(r:sum():item() == 21)
S.close(r:sum(1), {5, 7, 9})
S.close(r:sum(2, {keepdim = true}), {6, 15})
assert(r:sum(2, {keepdim = true}):size(2) == 1)
S.close(r:mean({1, 2}), {3.5})
assert(r:prod():item() == 720)
local v, i = r:max(2)
S.close(v, {3, 6})
assert(i[1] == 3 and i[2] == 3 and i:dtype() == "i64")
assert(r:argmin():item() == 1 and r:argmax():item() == 6)
assert(r:gt(2):any():item() == true and r:gt(0):all():item() == true)
assert(r:gt(2):count_nonzero():item() == 4)

-- matmul through BLAS, with broadcast batch dims and 1-d operands
local a = tide.tensor({{1, 2}, {3, 4}}, "f64")
local b = tide.tensor({{5, 6}, {7, 8}}, "f64")
S.close(a:matmul(b), {19, 22, 43, 50})
S.close(tide.matmul(a, tide.tensor({1, 1}, "f64")), {3, 7})
S.close(tide.matmul(tide.tensor({1, 1}, "f64"), tide.tensor({1, 1}, "f64")), {2})
local batch = tide.matmul(tide.ones(3, 2, 4), tide.ones(4, 5))
assert(batch:size(1) == 3 and batch:size(3) == 5 and batch[{2, 2, 5}] == 4)
S.checkerror("matmul: a is 3x4 but b is 5x2", tide.matmul, tide.ones(3, 4), tide.ones(5, 2))

-- randomness: seeded, reproducible; independent generators
tide.manual_seed(42)
local u1 = tide.randn(5):totable()
tide.manual_seed(42)
local u2 = tide.randn(5):totable()
for k = 1, 5 do assert(u1[k] == u2[k]) end
local g1, g2 = tide.Generator(7), tide.Generator(7)
S.close(tide.rand(4, {generator = g1}), tide.rand(4, {generator = g2}), 0)
local ri = tide.randint(1, 7, {1000})
assert(ri:amin():item() >= 1 and ri:amax():item() <= 6)
assert(tide.randperm(10):sum():item() == 55)
local n = tide.randn(20000, "f64")
assert(math.abs(n:mean():item()) < 0.03 and math.abs(n:pow(2):mean():item() - 1) < 0.05)

-- joining and splitting
local j = tide.cat({tide.ones(2, 3), tide.zeros(1, 3)})
assert(j:size(1) == 3 and j[{3, 1}] == 0 and j[{2, 3}] == 1)
assert(tide.cat({tide.ones(2, 1), tide.zeros(2, 2)}, 2):size(2) == 3)
S.checkerror("cat: tensor 2 has shape 2x2 but tensor 1 has 2x3 (dim 2 must match)", tide.cat, {tide.ones(2, 3), tide.ones(2, 2)})
local st = tide.stack({tide.ones(2), tide.zeros(2)})
assert(st:size(1) == 2 and st:size(2) == 2 and st[{2, 1}] == 0)
local parts = tide.arange(1, 8):split(3)
assert(#parts == 3 and parts[3]:numel() == 1 and parts[3][1] == 7)
assert(#tide.arange(1, 11):chunk(3) == 3)

-- softmax family (values from the closed forms)
local z = tide.tensor({{1, 2, 3}, {1, 1, 1}}, "f64")
local sm = z:softmax()
S.close(sm:sum(2), {1, 1}, 1e-12)
local e = {math.exp(1), math.exp(2), math.exp(3)}
local tot = e[1] + e[2] + e[3]
S.close(sm[1], {e[1] / tot, e[2] / tot, e[3] / tot}, 1e-12)
S.close(z:logsumexp(2), {math.log(tot), math.log(3) + 1}, 1e-12)
S.close(z:log_softmax(), (z:softmax()):log(), 1e-12)
S.close(tide.tensor({1000, 1000}, "f64"):softmax(), {0.5, 0.5}, 1e-12)   -- stable for large inputs
-- var/std: sample variance of 1..4 is 5/3; population 5/4
local q = tide.tensor({1, 2, 3, 4}, "f64")
S.close(q:var(), {5 / 3}, 1e-12)
S.close(q:var(nil, {correction = 0}), {5 / 4}, 1e-12)
S.close(q:std(), {math.sqrt(5 / 3)}, 1e-12)

-- blocked transposed copies (OpenBLAS ?omatcopy, rows split over cores) and mixed layouts
for _, dt in ipairs({"f32", "f64", "c128"}) do
  local a = tide.randn(3, 40, 50, "f64"):to(dt)
  local at = a:transpose(2, 3)                     -- (3, 50, 40), steps 1 along dim 2
  local c = at:contiguous()
  assert(c:is_contiguous())
  for _, ix in ipairs({{1, 1, 1}, {2, 17, 33}, {3, 50, 40}, {1, 49, 2}}) do
    local i, j, k = ix[1], ix[2], ix[3]
    local want, got = a[{i, k, j}], c[{i, j, k}]
    if dt == "c128" then want, got = want:item(), got:item() end  -- compares real parts
    assert(got == want, ("transposed copy %s at (%d,%d,%d)"):format(dt, i, j, k))
  end
end
local p = tide.randn(64, 48, "f64")
local q = tide.randn(48, 64, "f64")
local s = p + q:t()                                -- different layouts: q is copied into p's
for _, ix in ipairs({{1, 1}, {64, 48}, {33, 7}}) do
  local i, j = ix[1], ix[2]
  S.close(s[{i, j}], p[{i, j}] + q[{j, i}], 1e-12)
end
-- batched mixed layouts through the tiled loop (i64 has no SIMD path; broadcast + transpose)
local ai, bi = tide.randint(0, 10, {3, 40, 50}), tide.randint(0, 10, {3, 50, 40})
local si = ai + bi:transpose(2, 3)
local bc = tide.randn(3, 40, 50, "f64") + tide.randn(50, 40, "f64"):t()
for _, ix in ipairs({{1, 1, 1}, {2, 33, 17}, {3, 40, 50}}) do
  local i, j, k = ix[1], ix[2], ix[3]
  assert(si[{i, j, k}] == ai[{i, j, k}] + bi[{i, k, j}], "batched i64 mixed layout")
end
assert(bc:size(1) == 3 and bc:size(3) == 50)

-- seeded results do not depend on the thread count
local threads = tide.get_num_threads()
local draws = {}
for _, n in ipairs({1, 2}) do
  tide.set_num_threads(n)
  tide.manual_seed(99)
  local r = tide.randn(100000)
  draws[n] = {r:sum():item(), r[1], r[100000], tide.randint(0, 1000, {5}):totable()[5], tide.rand(3)[3]}
end
tide.set_num_threads(threads)
for k = 1, #draws[1] do assert(draws[1][k] == draws[2][k], "random results differ between 1 and 2 threads") end

-- f32 unary ops on views with a unit inner stride (narrow, permuted leading dims) go through the
-- SIMD kernel row by row: the same values as on a contiguous copy
do
  local x = tide.randn(7, 5, 300)
  for _, op in ipairs({"exp", "tanh", "sigmoid", "silu", "gelu", "relu", "abs", "neg"}) do
    for _, v in ipairs({x:narrow(3, 11, 257), x:transpose(1, 2):narrow(3, 2, 100), x:select(2, 3)}) do
      local a, b = v[op](v), v:contiguous()[op](v:contiguous())
      assert(a:is_contiguous() and (a - b):abs():max():item() == 0, op)
    end
  end
end

-- copy_: broadcast, cast, into views, numbers fill, autograd through the copied values
do
  local x = tide.zeros(2, 3, "f64")
  assert(x:copy_(tide.tensor({1, 2, 3}, "i64")) == x)
  S.close(x, {1, 2, 3, 1, 2, 3}, 0)
  x:select(2, 2):copy_(tide.tensor({7, 8}))
  S.close(x, {1, 7, 3, 1, 8, 3}, 0)
  x:t():copy_(tide.tensor({{1, 2}, {3, 4}, {5, 6}}))   -- a transposed destination
  S.close(x, {1, 3, 5, 2, 4, 6}, 0)
  x:copy_(2.5)
  assert(x:sum():item() == 15)
  S.checkerror("copy_", function() return x:copy_(tide.zeros(4)) end)
  S.checkerror("copy_", function() return x:copy_("a") end)
  local p = tide.randn(3):requires_grad_()
  local y = tide.zeros(3)
  y:copy_(p * 2)
  y:sum():backward()
  S.close(p.grad, {2, 2, 2}, 0)
  S.checkerror("in place", function() return p:copy_(tide.ones(3)) end)
end

-- printing summarizes with any threshold and edgeitems: fewer than 64 elements (used to trap
-- building the probe range), edgeitems past the size, threshold 0, several dims
do
  tide.set_printoptions{threshold = 5}
  assert(tostring(tide.arange(0, 10)) == "[0, 1, 2, ..., 7, 8, 9]\n[tide.Tensor i64 10]")
  assert(tostring(tide.arange(0, 100)):find("^%[ 0,  1,  2, %.%.%., 97, 98, 99%]"))
  assert(tostring(tide.arange(0, 6)) == "[0, 1, 2, 3, 4, 5]\n[tide.Tensor i64 6]")   -- 6 <= 2 edgeitems
  assert(tostring(tide.arange(0, 12):reshape(2, 6)) == "[[ 0,  1,  2,  3,  4,  5],\n [ 6,  7,  8,  9, 10, 11]]\n[tide.Tensor i64 2x6]")
  assert(tostring(tide.arange(0, 14):reshape(2, 7)) == "[[ 0,  1,  2, ...,  4,  5,  6],\n [ 7,  8,  9, ..., 11, 12, 13]]\n[tide.Tensor i64 2x7]")
  tide.set_printoptions{threshold = 5, edgeitems = 20}
  assert(tostring(tide.arange(0, 10)) == "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n[tide.Tensor i64 10]")
  -- rows wrap before linewidth, continuing under the row's first item (also inside a matrix)
  tide.set_printoptions{threshold = 1000, linewidth = 16}
  assert(tostring(tide.arange(0, 6)) == "[0, 1, 2, 3, 4,\n 5]\n[tide.Tensor i64 6]")
  assert(tostring(tide.arange(0, 8):reshape(2, 4)) == "[[0, 1, 2, 3],\n [4, 5, 6, 7]]\n[tide.Tensor i64 2x4]")
  assert(tostring(tide.arange(0, 12):reshape(2, 6)) == "[[ 0,  1,  2,\n   3,  4,  5],\n [ 6,  7,  8,\n   9, 10, 11]]\n[tide.Tensor i64 2x6]")
  S.checkerror("linewidth >= 1", tide.set_printoptions, {linewidth = 0})
  tide.set_printoptions{linewidth = 80}
  tide.set_printoptions{threshold = 0, edgeitems = 1}
  assert(tostring(tide.tensor({7})) == "[7]\n[tide.Tensor i64 1]")
  assert(tostring(tide.tensor(7)) == "7\n[tide.Tensor i64 scalar]")
  assert(tostring(tide.arange(0, 27):reshape(3, 3, 3)):find("[[[ 0, ...,  2],\n  ...,\n  [ 6, ...,  8]],\n\n ...,\n\n [[18, ..., 20],", 1, true))
  -- alignment comes from every printed element, also ones in the middle of a summarized tensor
  tide.set_printoptions{threshold = 10, edgeitems = 2}
  local z = tide.zeros(3, 200, "f64")
  z[{1, 200}] = 12345
  local lines = {}
  for line in tostring(z):gmatch("[^\n]+") do lines[#lines + 1] = line end
  assert(lines[1] == "[[    0.0000,     0.0000, ...,     0.0000, 12345.0000],", lines[1])
  assert(lines[2] == " [    0.0000,     0.0000, ...,     0.0000,     0.0000],", lines[2])
  tide.set_printoptions{threshold = 1000, edgeitems = 3}
end

-- ops given dim 1 / -1 on a 0-d tensor (used to trap): PyTorch's result where PyTorch treats
-- the tensor as one element along that dim, else an error naming the op
do
  local s, si = tide.tensor(1.5, "f64"), tide.tensor(2)
  for _, d in ipairs({1, -1}) do
    for _, op in ipairs({"sum", "mean", "prod", "amax", "amin", "logsumexp", "cumsum", "cumprod", "flip"}) do
      local r = s[op](s, d)
      assert(r:dim() == 0 and r:item() == 1.5, op)
    end
    assert(s:sum(d, {keepdim = true}):dim() == 0 and si:sum(d):item() == 2)
    assert(s:any(d):item() == true and s:count_nonzero(d):item() == 1)
    assert(s:var(d):item() ~= s:var(d):item() and s:std(d):item() ~= s:std(d):item())   -- nan, as torch
    assert(s:var(d, {correction = 0}):item() == 0)
    assert(s:softmax(d):item() == 1 and s:log_softmax(d):item() == 0)
    local v, i = s:max(d)
    assert(v:dim() == 0 and v:item() == 1.5 and i:item() == 1)
    assert(s:argmin(d):item() == 1)
    v, i = s:sort(d)
    assert(v:dim() == 0 and v:item() == 1.5 and i:item() == 1)
    v, i = s:topk(1, d)
    assert(v:item() == 1.5 and i:item() == 1)
    assert(s:roll(3, d):item() == 1.5 and s:squeeze(d):dim() == 0 and s:transpose(d, 1):dim() == 0)
    assert(s:norm(2, d):item() == 1.5)
    assert(s:gather(d, tide.tensor(1)):item() == 1.5 and s:gather(d, tide.tensor({1, 1})):numel() == 2)
    assert(s:index_select(d, tide.tensor({1})):dim() == 0)
    assert(s:scatter(d, tide.tensor(1), 4):item() == 4 and s:scatter_add(d, tide.tensor(1), s):item() == 3)
    local c = s:clone()
    c:scatter_(d, tide.tensor(1), 5)
    assert(c:item() == 5)
    for _, f in ipairs({
      {"narrow", function() return s:narrow(d, 1, 0) end}, {"select", function() return s:select(d, 1) end},
      {"split", function() return s:split(1, d) end}, {"chunk", function() return s:chunk(2, d) end},
      {"repeat_interleave", function() return s:repeat_interleave(2, d) end},
      {"size", function() return s:size(d) end}, {"stride", function() return s:stride(d) end},
      {"permute", function() return s:permute(d) end},
    }) do
      S.checkerror(f[1] .. ": expected a tensor with at least 1 dim, got a 0-d tensor", f[2])
    end
    S.checkerror("out of range", s.sum, s, 2)
    S.checkerror("index_select: an index into a 0-d tensor must have 1 element, got 2", s.index_select, s, d, tide.tensor({1, 1}))
    S.checkerror("topk: k = 2 is out of range for a 0-d tensor", s.topk, s, 2, d)
  end
  S.checkerror("chunk: expected a tensor with at least 1 dim", s.chunk, s, 2)
  S.checkerror("split: expected a tensor with at least 1 dim", s.split, s, 1)
  S.checkerror("index: a 0-d tensor has no dim to index with an i64 tensor", function() return s[tide.tensor({1})] end)
  S.checkerror("index: a 0-d tensor has no dim to index with an i64 tensor", function() s[tide.tensor({1})] = 1 end)
  S.checkerror("cat: expected a tensor with at least 1 dim, got a 0-d tensor", tide.cat, {s, s})
  S.checkerror("cat: expected a tensor with at least 1 dim, got a 0-d tensor", tide.cat, {s})
  assert(s:repeat_interleave(2):numel() == 2 and s:roll(1):item() == 1.5 and tide.stack({s, s}):numel() == 2)
  -- autograd through the 0-d forms
  local p = tide.tensor(0.5, "f64"):requires_grad_()
  local y = p:softmax(1) + p:logsumexp(1) + p:sum(1) + p:max(1) + p:sort(1) + p:cumsum(1) + p:gather(1, tide.tensor(1))
  y:backward()
  S.close(p.grad, {6}, 1e-12)   -- softmax of one element is constant; the other six pass 1
end

-- bool with bool stays bool for + * maximum minimum (or / and, as NumPy and torch); - is an error
do
  local p, q = tide.tensor({true, false, true, false}), tide.tensor({true, true, false, false})
  local function bools(t) return table.concat(t:to("i64"):totable(), "") end
  assert((p + q):dtype() == "bool" and bools(p + q) == "1110")
  assert((p * q):dtype() == "bool" and bools(p * q) == "1000")
  assert(bools(tide.maximum(p, q)) == "1110" and bools(tide.minimum(p, q)) == "1000")
  assert(tide.maximum(p, q):dtype() == "bool")
  S.checkerror("sub: expected a number or non-bool tensor operand, got two bool tensors", function() return p - q end)
  assert((p / q):dtype() == "f32" and (p + 1):dtype() == "i64" and (p - tide.tensor({1, 1, 1, 1})):dtype() == "i64")
  assert((p + tide.tensor({1, 2, 3, 4})):dtype() == "i64" and (p + 0.5):dtype() == "f32")
  assert((p + true):dtype() == "bool" and (p ^ q):dtype() == "i64")
  local c = p:clone()
  c:add_(q)
  assert(c:dtype() == "bool" and bools(c) == "1110")
  c:mul_(tide.tensor(false))
  assert(bools(c) == "0000")
  assert(p:sign():dtype() == "bool" and bools(p:sign()) == "1010")
  assert((p + q:reshape(4, 1)):dtype() == "bool" and (p + q:reshape(4, 1)):size(1) == 4)
  assert((p + q):sum():item() == 3)    -- sums of bools count (i64)
end

-- narrow: negative starts count from the end (-1 is the last element); errors name the right
-- dim and size
do
  local a = tide.arange(1, 6)   -- 1..5
  S.close(a:narrow(1, -2, 2), {4, 5}, 0)
  S.close(a:narrow(1, -5, 1), {1}, 0)
  assert(a:narrow(1, 6, 0):numel() == 0 and a:narrow(1, -1, 1)[1] == 5)
  S.checkerror("narrow: start -6 out of range for dim 1 of size 5 (expected 1 to 6 or -5 to -1)", a.narrow, a, 1, -6, 1)
  S.checkerror("narrow: start 0 out of range", a.narrow, a, 1, 0, 1)
  local b = tide.randn(3, 4)
  S.checkerror("narrow: start 5 out of range for dim 1 of size 3", b.narrow, b, 1, 5, 0)
  S.checkerror("narrow: 2 elements from element 4 go past the end of dim 2 of size 4", b.narrow, b, -1, 4, 2)
  S.checkerror("narrow: expected a length >= 0, got -1", b.narrow, b, 2, 1, -1)
  S.close(b:narrow(2, -3, 2), b[{{}, {2, 3}}], 0)
end

-- linspace with one step is the start (NumPy, torch)
S.close(tide.linspace(-1, 1, 1), {-1}, 0)
S.close(tide.linspace(2, 7, 2), {2, 7}, 0)

-- softmax / log_softmax over an empty dim are empty, logsumexp is -inf (torch)
do
  for _, dt in ipairs({"f32", "f64"}) do
    local z = tide.zeros(2, 0, dt)
    assert(z:softmax(2):size(1) == 2 and z:softmax(2):numel() == 0 and z:log_softmax(-1):numel() == 0)
    local l = z:logsumexp(2)
    assert(l:size(1) == 2 and l[1] == -math.huge and l[2] == -math.huge)
    assert(z:logsumexp(2, {keepdim = true}):size(2) == 1)
    assert(z:softmax(1):numel() == 0 and z:logsumexp(1):numel() == 0)
  end
  local p = tide.zeros(2, 0, "f64"):requires_grad_()
  p:log_softmax(2):sum():backward()
  assert(p.grad:numel() == 0)
end

-- f32 GELU (erf and tanh forms) matches f64 to np.allclose's tolerance (rtol 1e-5, atol 1e-8)
-- on a dense sweep of [-14, 14] and magnitudes to 1e30, at every kernel level and on the
-- strided (Swift) path; the negative tail used to be 2% off on [-6, -4] and gelu(-1e30) gave
-- -430853. Its gradient matches to rtol 1e-5, atol 1e-7 (f32 rounding where the two terms of
-- Phi(x) + x phi(x) cancel, near x = -0.75).
do
  local xs = {}
  for i = 0, 28000 do xs[#xs + 1] = -14 + i * 0.001 end
  for e = -30, 30, 0.25 do xs[#xs + 1] = 10 ^ e; xs[#xs + 1] = -(10 ^ e) end
  local x = tide.tensor(xs, "f32")
  local x64 = x:to("f64")                        -- the same points
  local strided = tide.stack({x, x}, 2):select(2, 1)
  local function allclose(got, ref, atol, what)
    local err = (got:to("f64") - ref):abs()
    local bad = err:gt(ref:abs() * 1e-5 + atol):logical_or(got:isnan())
    local n = bad:sum():item()
    if n > 0 then
      local _, i = err:max(1)
      error(("%s: %d points fail, worst at x = %.6g: got %.9g, want %.9g"):format(what, n, xs[i:item()], got[i:item()], ref[i:item()]))
    end
  end
  local best = tide.kernel_level()
  for _, ap in ipairs({"none", "tanh"}) do
    local o = {approximate = ap}
    local ref = x64:gelu(o)
    local p64 = x64:clone():requires_grad_()
    p64:gelu(o):sum():backward()
    for level = 0, best do
      tide.set_kernel_level(level)
      allclose(x:gelu(o), ref, 1e-8, ap .. " level " .. level)
      allclose(strided:gelu(o), ref, 1e-8, ap .. " strided")
      local p = x:clone():requires_grad_()
      p:gelu(o):sum():backward()
      allclose(p.grad, p64.grad, 1e-7, ap .. " gradient level " .. level)
    end
    tide.set_kernel_level(-1)
  end
  -- values from torch f64 (true to the last digit); the far tail is -0 and -inf, as the
  -- formula 0.5 x (1 + erf(x / sqrt 2)), gives nan (torch and NumPy too)
  local function rel(a, b) return math.abs(a / b - 1) end
  local t = tide.tensor({-5, -4, -10, -1e30, math.huge, -math.huge}, "f32")
  for _, v in ipairs({t:gelu(), t:to("f64"):gelu()}) do
    assert(rel(v[1], -1.4332578593401202e-06) < 1e-6 and rel(v[2], -1.2668496733247991e-04) < 1e-6)
    assert(math.abs(v[3]) < 1e-21 and v[4] == 0 and 1 / v[4] < 0 and v[5] == math.huge and v[6] ~= v[6])
  end
  local g = t:gelu({approximate = "tanh"})
  assert(rel(g[1], -2.2917961972623857e-07) < 1e-5 and rel(g[2], -7.024594819227126e-05) < 1e-5)
end

-- random creation: bool empty is valid, complex normals split the variance, f32 rand < 1,
-- any i64 range, huge sizes fail before drawing
do
  local e = tide.empty(1000, {dtype = "bool"})
  assert(e:sum():item() == 0 and tostring(e):find("bool"), "empty bool starts false")
  tide.manual_seed(3)
  local z = tide.randn(200000, {dtype = "c128"})
  assert(math.abs(z:real():var():item() - 0.5) < 0.02 and math.abs(z:imag():var():item() - 0.5) < 0.02, "complex randn variance")
  local u = tide.rand(100000, {dtype = "c64"})
  assert(u:real():min():item() >= 0 and u:imag():max():item() < 1 and u:imag():mean():item() > 0.45, "complex rand")
  assert(tide.rand(2000000):max():item() < 1, "f32 rand stays below 1")
  local r = tide.randint(math.mininteger, math.maxinteger, {1000})
  assert(r:min():item() < -2^61 and r:max():item() > 2^61, "full-range randint")
  S.checkerror("cannot allocate", tide.rand, 1e12)
  S.checkerror("cannot allocate", tide.randn, 1e12)
  -- multinomial's positional replacement flag (torch)
  local mn = tide.multinomial(tide.tensor({0, 1}), 3, true)
  assert(mn[1] == 2 and mn[2] == 2 and mn[3] == 2)
end

-- scatter with reduce, scatter_reduce (sum, prod, mean, amax, amin; include_self)
do
  local idx, src = tide.tensor({1, 1, 3, 3}), tide.tensor({10.0, 20.0, 30.0, 40.0}, "f64")
  S.close(tide.zeros(3, "f64"):scatter(1, tide.tensor({1, 1}), tide.tensor({1.0, 2.0}, "f64"), {reduce = "add"}), {3, 0, 0})
  S.close(tide.ones(3, "f64"):scatter(1, tide.tensor({1, 1}), tide.tensor({3.0, 2.0}, "f64"), {reduce = "multiply"}), {6, 1, 1})
  S.checkerror("unknown option 'bogus'", function() return tide.zeros(3):scatter(1, tide.tensor({1}), 1, {bogus = 1}) end)
  S.checkerror("unknown reduce 'max'", function() return tide.zeros(3):scatter(1, tide.tensor({1}), 1, {reduce = "max"}) end)
  local want = {sum = {{31, 2, 73, 4}, {30, 2, 70, 4}}, prod = {{200, 2, 3600, 4}, {200, 2, 1200, 4}},
                mean = {{31 / 3, 2, 73 / 3, 4}, {15, 2, 35, 4}}, amax = {{20, 2, 40, 4}, {20, 2, 40, 4}},
                amin = {{1, 2, 3, 4}, {10, 2, 30, 4}}}
  for r, w in pairs(want) do
    local base = tide.tensor({1.0, 2.0, 3.0, 4.0}, "f64")
    S.close(base:scatter_reduce(1, idx, src, r), w[1], 1e-12)
    S.close(base:scatter_reduce(1, idx, src, r, {include_self = false}), w[2], 1e-12)
  end
  local nanv = tide.tensor({0 / 0, 1.0}, "f64")
  local am = tide.zeros(1, "f64"):scatter_reduce(1, tide.tensor({1, 1}), nanv, "amax")
  assert(am[1] ~= am[1], "amax propagates NaN")
  -- integer mean rounds toward minus infinity; in place form
  local iv = tide.tensor({1, 2, 3, 4})
  iv:scatter_reduce_(1, tide.tensor({1, 1, 2, 2}), tide.tensor({-3, 4, 5, 6}), "mean")
  assert(iv[1] == 0 and iv[2] == 4 and iv[3] == 3, "i64 scatter_reduce mean")
  S.checkerror("unknown reduce", function() return iv:scatter_reduce(1, tide.tensor({1}), tide.tensor({1}), "median") end)
  -- gradients at zeros and ties, worked by hand (torch's rules: a lone zero factor gets the
  -- product of the others; equal maxima share evenly; excluded self gets nothing where hit)
  local function grads(x, i, s, r, o)
    x = tide.tensor(x, "f64"):requires_grad_(); s = tide.tensor(s, "f64"):requires_grad_()
    x:scatter_reduce(1, tide.tensor(i), s, r, o):sum():backward()
    return x.grad, s.grad
  end
  local gx, gs = grads({1, 2, 3, 4}, {1, 1, 3}, {5, 0, 2}, "prod")
  S.close(gx, {0, 1, 2, 1}, 1e-12); S.close(gs, {0, 5, 3}, 1e-12)
  gx, gs = grads({1, 2}, {1, 1}, {0, 0}, "prod")
  S.close(gx, {0, 1}, 1e-12); S.close(gs, {0, 0}, 1e-12)
  gx, gs = grads({2, 0}, {1, 1, 2}, {2, 1, 0}, "amax")
  S.close(gx, {0.5, 0.5}, 1e-12); S.close(gs, {0.5, 0, 0.5}, 1e-12)
  gx, gs = grads({2, 0}, {1, 1, 2}, {2, 1, 0}, "amin", {include_self = false})
  S.close(gx, {0, 0}, 1e-12); S.close(gs, {0, 1, 1}, 1e-12)
  gx, gs = grads({1, 2}, {1, 1}, {3, 5}, "mean", {include_self = false})
  S.close(gx, {0, 1}, 1e-12); S.close(gs, {0.5, 0.5}, 1e-12)
  gx, gs = grads({1, 2}, {1, 1}, {3, 5}, "mean")
  S.close(gx, {1 / 3, 1}, 1e-12); S.close(gs, {1 / 3, 1 / 3}, 1e-12)
  -- a source larger than index gets zeros outside the part index reads
  local big = tide.ones(3, 2, "f64"):requires_grad_()
  tide.zeros(2, 2, "f64"):scatter_add(1, tide.tensor({{2, 1}}), big):sum():backward()
  S.close(big.grad, tide.tensor({{1, 1}, {0, 0}, {0, 0}}, "f64"), 1e-12)
end

-- Lua integers beyond 2^53 stay exact in i64 writes, fills and arithmetic
do
  local n = 9007199254740993
  local x = tide.zeros(2, "i64"); x[1] = n
  assert(x[1] == n and tide.full({1}, n, "i64")[1] == n and (tide.zeros(1, "i64") + n)[1] == n)
  x:fill_(n - 2); assert(x[2] == n - 2)
  x[{{1}}] = math.maxinteger - 1; assert(x[1] == math.maxinteger - 1)
  x:copy_(n); assert(x[1] == n)
end

-- {} on an empty dim, 1-based dims in errors
assert(tide.zeros(0, 3)[{{}, 2}]:size(1) == 0)
S.checkerror("dims [2, 2] repeat", function() return tide.zeros(2, 3):permute(2, 2) end)
-- in-place writes into an expanded view (stride 0, size > 1) would apply the op once per alias
-- ([1, 2, 3]:expand(4, 3):mul_(2) gave [16, 32, 48]): an error naming the op, as torch; fill_
-- and zero_ stay allowed (idempotent, as torch)
do
  local b = tide.tensor({1, 2, 3}, "f64")
  local e = b:expand(4, 3)
  local msg = "more than one element of the written-to tensor refers to a single memory location"
  S.checkerror("mul_: unsupported operation: " .. msg, function() e:mul_(2) end)
  S.checkerror("add_: unsupported operation", function() e:add_(tide.ones(4, 3, "f64"), {alpha = 2}) end)
  S.checkerror("exp_: unsupported operation", function() e:exp_() end)
  S.checkerror("clamp_: unsupported operation", function() e:clamp_(0, 1) end)
  S.checkerror("copy_: unsupported operation", function() e:copy_(tide.ones(4, 3)) end)
  S.checkerror("masked_fill_: unsupported operation", function() e:masked_fill_(tide.ones(4, 3):gt(0), 0) end)
  S.checkerror("index assignment: unsupported operation", function() e[tide.ones(4, 3):gt(0)] = 0 end)
  assert(b[1] == 1 and b[2] == 2 and b[3] == 3, "a refused in-place op must not write")
  e:fill_(5); assert(b[2] == 5)
  b:expand(1, 3):mul_(2); assert(b[2] == 10)           -- size-1 dims may have any stride
end

-- unary ops in place keep the tensor's type: a float result in an i64 tensor is an error (it
-- used to truncate: exp_ gave [2, 7, 20]); integer-valued ops stay allowed
do
  local a = tide.tensor({1, 2, 3})
  for _, op in ipairs({"exp_", "sqrt_", "sigmoid_", "sin_"}) do
    S.checkerror(op .. ": result type f32 can't be cast to the in-place tensor's type i64", function() a[op](a) end)
  end
  assert(a[1] == 1 and a[3] == 3)
  a = tide.tensor({-3, 2, -1})
  a:abs_(); a:neg_(); a:floor_(); a:round_(); a:sign_()
  assert(a:dtype() == "i64" and a[1] == -1 and a[2] == -1)
  a = tide.tensor({-3, 7}); a:clamp_(-1, 5); assert(a[1] == -1 and a[2] == 5)
  S.checkerror("clamp_: result type f32 can't be cast", function() a:clamp_(0.5, 2) end)
  local m = tide.tensor({true, false})
  S.checkerror("unary minus (the `-` operator) on a bool tensor is not supported", function() return -m end)
  S.checkerror("neg: unary minus", function() return m:neg() end)
  S.checkerror("neg_: unary minus", function() return m:neg_() end)
  assert(m:logical_not()[1] == false)
end

-- positional arguments as in torch; unexpected ones are errors naming the function
do
  local x = tide.arange(0, 6, 1, "f64"):reshape(2, 3)
  assert(#x:sum(2, true):shape() == 2 and x:sum(2, true)[{2, 1}] == 12)
  assert(x:argmax(2, true):size(2) == 1 and x:min(1, true):size(1) == 1)
  local am = x:argmax(nil, {keepdim = true})
  assert(am:size(1) == 1 and am:size(2) == 1 and am[{1, 1}] == 6)
  assert(math.abs(x:var(2, false)[1] - 2 / 3) < 1e-12 and math.abs(x:var(2)[1] - 1) < 1e-12)
  assert(math.abs(x:std(2, false, true)[{1, 1}] - math.sqrt(2 / 3)) < 1e-12)
  S.checkerror("keepdim given twice", function() return x:sum(2, true, {keepdim = true}) end)
  S.checkerror("unbiased given twice", function() return x:var(2, true, {unbiased = false}) end)
  S.checkerror("bad argument #1 to 'exp' (no more arguments expected, got number)", function() return x:exp(5) end)
  S.checkerror("bad argument #2 to 'exp' (no more arguments expected, got number)", tide.exp, x, 5)
  S.checkerror("bad argument #2 to 'sum' (boolean (keepdim) or options table expected, got number)", function() return x:sum(2, 5) end)
  S.checkerror("bad argument #4 to 'sum' (no more arguments expected, got number)", function() return x:sum(2, true, {}, 1) end)
  S.checkerror("bad argument #3 to 'add' (no more arguments expected, got number)", function() return x:add(1, {alpha = 2}, 3) end)
  S.checkerror("approximate must be 'none' or 'tanh', got 'fast'", function() return x:gelu("fast") end)
  assert(x:exp(nil)[{1, 1}] == 1)                      -- trailing nils are no arguments
  assert((x:gelu("tanh") - x:gelu({approximate = "tanh"})):abs():amax():item() == 0)
end

-- edge values: integer division by -1 (it trapped), float floor division and exp's range
do
  local a = tide.tensor({math.mininteger, 5})
  assert((a // -1)[1] == math.mininteger and (a % -1)[1] == 0 and (a // -1)[2] == -5)
  assert(a:div(-1, {rounding_mode = "trunc"})[1] == math.mininteger)
  local q = tide.tensor({1 / 0, -1 / 0}, "f64") // 2
  assert(q[1] ~= q[1] and q[2] ~= q[2])
  local r = tide.randint(math.mininteger, math.maxinteger, {64})
  assert(r:dtype() == "i64" and r:numel() == 64)
  local e = tide.tensor({88.5, -88, -100, 89}, "f32"):exp()
  assert(math.abs(e[1] / 2.7231e38 - 1) < 1e-4 and math.abs(e[2] / 6.0546e-39 - 1) < 1e-4)
  assert(math.abs(e[3] / 3.7835e-44 - 1) < 1e-2 and e[4] == math.huge)
  assert(tide.tensor({-100}, "f32"):sigmoid()[1] > 0 and tide.tensor({-100}, "f32"):silu()[1] < 0)
  local s = tide.tensor({1 / 0, 1}):softmax(1)
  assert(s[1] ~= s[1] and s[2] ~= s[2], "softmax with +inf in the row is NaN (torch)")
  assert(1 / tide.tensor({-0.0}, "f32"):sin()[1] < 0)
end

-- complex values part by part, as NumPy keeps them (special values in every op are checked
-- against NumPy by test_ops_numpy.lua, cases special_*): these are the audit's examples
do
  local inf, nan = math.huge, 0 / 0
  local function C(re, im) return tide.complex(tide.tensor(re, "f64"), tide.tensor(im, "f64")) end
  local function bools(t, want, what)
    for i, v in ipairs(want) do assert(t[i] == v, ("%s: element %d is %s, want %s"):format(what, i, tostring(t[i]), tostring(v))) end
  end
  local function parts(z, re, im, what)   -- z: a one-element complex tensor
    local r, i = z:item()
    local function same(a, b) return (a ~= a and b ~= b) or a == b end
    assert(same(r, re) and same(i, im), ("%s: got %g%+gi, want %g%+gi"):format(what, r, i, re, im))
  end
  -- eq / ne: inf equals itself, NaN nothing (not "every non-finite value is one point")
  local n = C({nan, inf}, {0, 0})
  bools(n:eq(n), {false, true}, "eq")
  bools(n:eq(C({-inf, nan}, {0, 0})), {false, false}, "eq other")
  bools(n:ne(n), {true, false}, "ne")
  -- abs is hypot: NaN stays NaN unless a part is infinite
  local a = C({2, nan, inf}, {nan, nan, nan}):abs()
  assert(a[1] ~= a[1] and a[2] ~= a[2] and a[3] == inf, "abs")
  -- angle, log, exp, sqrt at zero and infinity; division by zero
  local z = C({0, inf, 0}, {0, 0, inf})
  assert(z:angle()[1] == 0 and z:angle()[2] == 0 and math.abs(z:angle()[3] - math.pi / 2) < 1e-15, "angle")
  parts(C({0}, {0}):log(), -inf, 0, "log(0)")
  parts(C({0}, {inf}):log(), inf, math.pi / 2, "log(inf i)")
  parts(C({nan}, {1}):log(), nan, nan, "log(nan + i)")
  parts(C({0}, {inf}):exp(), nan, nan, "exp(inf i)")
  parts(C({0}, {inf}):sqrt(), inf, inf, "sqrt(inf i)")
  parts(C({1}, {0}) / C({0}, {0}), inf, nan, "(1 + 0i) / 0")
  parts(C({0}, {0}):reciprocal(), nan, nan, "reciprocal(0)")
  parts(C({0}, {0}) ^ C({-1}, {0}), nan, nan, "0 ^ -1")
  -- truth: either part nonzero
  local t = C({0, 0}, {1, -2})
  assert(t:any():item() == true and t:all():item() == true and t:count_nonzero():item() == 2, "any/all/count_nonzero")
  bools(t:to("bool"), {true, true}, "to bool")
  bools(t:logical_not(), {false, false}, "logical_not")
  bools(t:logical_and(tide.tensor({true, false})), {true, false}, "logical_and")
  assert(t:nonzero():size(1) == 2 and tide.where(t, 1, 0):sum():item() == 2, "nonzero / where")
  -- isinf / isnan / isfinite look at both parts
  bools(C({inf, nan, 1}, {nan, inf, 1}):isinf(), {true, true, false}, "isinf")
  bools(C({inf, nan, 1}, {nan, inf, 1}):isnan(), {true, true, false}, "isnan")
  bools(C({inf, 1, 1}, {1, nan, 1}):isfinite(), {false, false, true}, "isfinite")
  S.checkerror("isposinf: not defined for complex tensors", tide.isposinf, t)
  -- no order: maximum / minimum / clamp refuse, as max and sort do
  S.checkerror("maximum: complex tensors have no order (got c128 and c128)", tide.maximum, t, t)
  S.checkerror("minimum: complex tensors have no order", function() return t:minimum(1) end)
  S.checkerror("clamp: complex tensors have no order (got c128)", function() return t:clamp(0, 1) end)
  S.checkerror("clamp: complex tensors have no order (got f32 and c128)", function() return tide.zeros(2):clamp(t, nil) end)
  S.checkerror("max: complex tensors have no order", function() return t:max(1) end)
  -- the mean divides each part by the count: a NaN real part keeps the imaginary mean
  parts(C({nan, 1}, {1, 1}):mean(), nan, 1, "mean")
  parts(C({inf, 1}, {1, 1}):sum(), inf, 2, "sum")
  -- item gives both parts; a real tensor still gives one number
  local re, im = C({3}, {-4}):item()
  assert(re == 3 and im == -4 and select("#", C({3}, {-4}):item()) == 2 and select("#", tide.tensor(1.5):item()) == 1, "item")
  local cr, ci = tide.complex(tide.tensor({inf}), tide.tensor({0})):to("c128"):item()
  assert(cr == inf and ci == 0, "c64 -> c128 keeps an infinite part")
  assert(C({inf}, {0}):to("f64")[1] == inf, "complex -> real keeps an infinite real part")
  -- an error names the function called
  local e = S.checkerror("softmax: not defined for complex tensors", function() return t:softmax() end)
  assert(not e:find("log_softmax", 1, true), "softmax's error names log_softmax: " .. e)
  S.checkerror("log_softmax: not defined for complex tensors", function() return t:log_softmax() end)
end

-- tensor_api.lua edge cases (audit): NaN medians, exact fmod with number divisors, numbers
-- that must not be cast to an integer tensor's type, NaN in searchsorted, in-place narrowing
do
  local m, mi = tide.tensor({3, 0 / 0, 1}, "f64"):median(1)
  assert(m:item() ~= m:item() and mi:item() == 2, "median of a slice with NaN is NaN at its index")
  local f = tide.fmod(tide.tensor({7, -7}), 2.5)
  assert(f:dtype() == "f32" and f[1] == 2 and f[2] == -2, "i64 fmod float")
  local g = tide.fmod(tide.tensor({-1e-20, -5}, "f64"), tide.tensor({1, 1 / 0}, "f64"))
  assert(g[1] == -1e-20 and g[2] == -5, "fmod keeps tiny dividends and infinite divisors exact")
  local x, y = tide.randn(5000, {dtype = "f64"}), tide.randn(5000, {dtype = "f64"}) * 100
  local h = tide.fmod(x:to("f32"), y:to("f32")):to("f64") - tide.fmod(x:to("f32"):to("f64"), y:to("f32"):to("f64"))
  assert(h:abs():max():item() == 0, "f32 fmod is exact")
  assert(not tide.isclose(tide.tensor({2}), 2.5)[1] and not tide.allclose(tide.tensor({2}), 2.4))
  assert(tide.copysign(tide.tensor({1}, "f32"), tide.tensor({-2}, "f64")):dtype() == "f64")
  assert(tide.searchsorted(tide.tensor({1.0, 2.0, 3.0}), tide.tensor({0 / 0}))[1] == 4)
  assert(tide.searchsorted(tide.tensor({1, 2, 3}), 2.5):item() == 3)
  local c = tide.ones(2, {dtype = "c64"}); c:add_(tide.ones(2, {dtype = "f64"}))
  assert(c:dtype() == "c64" and c:real()[1] == 2, "in place may narrow within a kind")
  S.checkerror("can't be cast", function() tide.ones(2, "i64"):add_(tide.ones(2)) end)
  local freed = tide.ones(2); freed:free()
  S.checkerror("freed tensor", tide.cat, {tide.ones(2), freed})
end

-- printing reads through the strides: a huge expand prints its edges without a copy of
-- billions of elements, and a transposed view prints as its contiguous copy does
do
  local big = tostring(tide.tensor({1.5}):expand(3000000000))
  assert(big:find("[1.5000, 1.5000, 1.5000, ..., 1.5000, 1.5000, 1.5000]", 1, true), big)
  local m = tide.arange(12, {dtype = "f64"}):reshape(3, 4)
  assert(tostring(m:t()) == tostring(m:t():contiguous()))
  local g = tide.arange(100):reshape(10, 10)
  tide.set_printoptions({threshold = 5, edgeitems = 2})
  local a, b = tostring(g:t():narrow(1, 2, 7)), tostring(g:t():narrow(1, 2, 7):contiguous())
  tide.set_printoptions({threshold = 1000, edgeitems = 3})
  assert(a == b and a:find("...", 1, true), a)
end

-- diagonal is a view (torch): writes reach the base, and gradients flow back to it
do
  local z = tide.zeros(3, 3); z:diagonal():fill_(1)
  assert(z:sum():item() == 3 and z[{2, 2}] == 1, "diagonal writes reach the base")
  local w = tide.zeros(2, 3, 4); w:diagonal(1, 2, 3):fill_(2)
  assert(w:sum():item() == 12 and w[{2, 1, 2}] == 2 and w[{2, 3, 4}] == 2, "offset diagonal of dims 2, 3")
  assert(tide.zeros(3, 4):diagonal(5):numel() == 0)
  local ok = tide.autograd.gradcheck(function(a) return (a:diagonal(-1) ^ 2):sum() end,
                                     {tide.randn(3, 4, {dtype = "f64"}):requires_grad_()})
  assert(ok, "diagonal gradcheck")
  S.checkerror("diagonal: expected at least 2 dims", function() return tide.zeros(3):diagonal() end)
end

-- where takes Lua booleans as scalars; an empty max names max
do
  local m = tide.tensor({true, false})
  local w = tide.where(m, true, false)
  assert(w:dtype() == "bool" and w[1] == true and w[2] == false)
  assert(tide.where(m, tide.ones(2), false)[2] == 0)
  S.checkerror("max: cannot reduce an empty dim", function() return tide.zeros(0, 3):max(1) end)
end

-- real and imag are views of a complex tensor (torch): writes reach it
do
  local z = tide.complex(tide.tensor({1.0, 2.0}), tide.tensor({3.0, 4.0}))
  z:real():fill_(5); z:imag():mul_(2)
  local r, i = z[2]:item()
  assert(r == 5 and i == 8, "writes through real() and imag()")
  local w = tide.complex(tide.randn(3, 4, {dtype = "f64"}), tide.randn(3, 4, {dtype = "f64"})):t()
  assert((w:imag() - w:contiguous():imag()):abs():max():item() == 0, "parts of a transposed view")
end

-- audit D: huge sizes fail at once, searchsorted is a binary search, gradients through
-- atan2 and hypot, torch's linalg.cross / matrix_rank / cond conventions, exact integer fmod
do
  S.checkerror("cannot allocate", tide.linspace, 0, 1, 1e15 // 1)
  S.checkerror("cannot allocate", tide.logspace, 0, 1, 1e15 // 1)
  S.checkerror("cannot allocate", tide.tril_indices, 1000000000, 1000000000)
  local big = tide.searchsorted(tide.arange(100000):to("f32"), tide.arange(100000):to("f32") + 0.5)
  assert(big[1] == 2 and big[100000] == 100001)
  local ss = tide.searchsorted(tide.tensor({1.0, 2.0, 2.0, 3.0}), tide.tensor({2.0, 0 / 0, 0.5}))
  assert(ss[1] == 2 and ss[2] == 5 and ss[3] == 1)
  assert(tide.searchsorted(tide.tensor({1.0, 2.0, 2.0, 3.0}), 2.0, {side = "right"}):item() == 4)
  local rows = tide.searchsorted(tide.tensor({{1.0, 3.0}, {2.0, 4.0}}), tide.tensor({{2.0}, {5.0}}))
  assert(rows[{1, 1}] == 2 and rows[{2, 1}] == 3)
  local y = tide.tensor({1.0, 2.0}, "f64"):requires_grad_()
  tide.atan2(y, tide.tensor({1.0, -1.0}, "f64")):sum():backward()
  S.close(y.grad, {0.5, -0.2}, 1e-12)
  local u = tide.tensor({3.0}, "f64"):requires_grad_()
  tide.hypot(u, 4):sum():backward()
  S.close(u.grad, {0.6}, 1e-12)
  S.close(tide.linalg.cross(tide.tensor({{1, 2, 3}, {4, 5, 6}, {7, 8, 10}}, "f64"), tide.eye(3, {dtype = "f64"})),
          {0, 3, -2, -6, 0, 4, 8, -7, 0}, 0)
  S.checkerror("expected size 3", function() return tide.cross(tide.ones(3), tide.ones(4)) end)
  assert(tide.fmod(tide.tensor({math.mininteger}), 3)[1] == -2)
  assert(not tide.isclose(tide.tensor({(1 << 40) + 1}), tide.tensor({1 << 40}), {rtol = 0, atol = 0})[1])
  assert(tide.linalg.matrix_rank(tide.tensor({{1, 0}, {0, 1e-3}}, "f64"), {atol = 1e-4, rtol = 0.1}):item() == 1)
  assert(tide.linalg.matrix_rank(tide.zeros(0, 3)):item() == 0)
  assert(tide.linalg.cond(tide.tensor({{1, 1}, {1, 1}}, "f64"), 1):item() == math.huge)
  local a = tide.eye(2, {dtype = "f64"})
  tide.linalg.matrix_power(a, 1):fill_(0); assert(a[{1, 1}] == 1, "matrix_power(a, 1) is a new tensor")
  S.checkerror("at least 2 tensors", tide.linalg.multi_dot, {a})
  local nz = tide.complex(tide.tensor({0 / 0}), tide.tensor({1 / 0})):nan_to_num()
  local re, im = nz:item()
  assert(re == 0 and im > 3e38)
  S.checkerror("unknown option 'rtol0'", tide.isclose, tide.ones(2), tide.ones(2), {rtol0 = 1})
  S.checkerror("expected dims as a number", tide.tensordot, tide.ones(2), tide.ones(2), "a")
  S.checkerror("expected an integer k", function() return tide.ones(3):kthvalue() end)
end

-- hypot's gradient term never spoils the value: x^2 + y^2 overflows at 1e200 but hypot does not
do
  local u = tide.tensor({1e200, 3}, "f64"):requires_grad_()
  local h = tide.hypot(u, tide.tensor({1e200, 4}, "f64"))
  assert(h[1] == h[1] and h[1] > 1.4e200 and h[2] == 5, "hypot value with a gradient attached")
end

-- index tensors inside an index table (PyTorch's x[:, idx]); values are checked against NumPy in
-- test_ops_numpy (fuzz_advindex_*); here: gradients, errors and the forms around them
do
  local x = tide.arange(1, 25):reshape(2, 3, 4)
  local r = x[{{}, tide.tensor({3, -3})}]
  assert(r:size(1) == 2 and r:size(2) == 2 and r[{1, 1, 1}] == 9 and r[{1, 2, 1}] == 1)
  -- indexed dims apart: the broadcast index shape goes first
  local s = x[{tide.tensor({1, 2}), {}, tide.tensor({1, 4})}]
  assert(s:size(1) == 2 and s:size(2) == 3 and s[{2, 3}] == 24)
  -- a number selects first (PyTorch), so x[1, :, idx] is (3, k)
  assert(x[{1, {}, tide.tensor({2, 3})}]:size(1) == 3)
  -- bool masks inside the table
  local c = x:clone(); c[{{}, tide.tensor({true, false, true})}] = 0
  assert(c:sum():item() == 5 + 6 + 7 + 8 + 17 + 18 + 19 + 20)
  -- writes reach a view's storage, with a broadcast value
  local base = tide.zeros(4, 5, {dtype = "f64"})
  base:t()[{tide.tensor({2, 5})}] = tide.tensor({1, 2, 3, 4}, "f64")
  assert(base[{3, 2}] == 3 and base[{4, 5}] == 4 and base:sum():item() == 20)
  -- reads carry gradients (repeated indices add up)
  local w = tide.randn(3, 4, {dtype = "f64", requires_grad = true})
  w[{{}, tide.tensor({1, 1, 4})}]:sum():backward()
  S.close(w.grad[1], {2, 0, 0, 1})
  S.checkerror("index 4 is out of range for dim 2 of size 3", function() return x[{{}, tide.tensor({4})}] end)
  S.checkerror("must be i64 (1-based indices) or bool", function() return x[{{}, tide.tensor({1.5})}] end)
  S.checkerror("bool mask at entry 2 must have the shape of the dims it covers, 3", function() return x[{{}, tide.tensor({true})}] end)
  S.checkerror("a value of shape 5 cannot be written to the indexed shape 2x2x4", function() x:clone()[{{}, tide.tensor({1, 2})}] = tide.ones(5) end)
  S.checkerror("not differentiable", function() w[{{}, tide.tensor({1})}] = 0 end)
end

-- creation options: requires_grad (as torch.zeros(..., requires_grad=True)); a table of integers
-- with an options table but no dtype keeps i64
do
  assert(tide.zeros(2, {requires_grad = true}).requires_grad and tide.randn(2, {requires_grad = true}).requires_grad)
  assert(tide.full({2}, 1.5, {requires_grad = true}).requires_grad and tide.ones_like(tide.ones(2), {requires_grad = true}).requires_grad)
  assert(not tide.ones(2, {requires_grad = false}).requires_grad)
  assert(tide.tensor({1, 2}, {}):dtype() == "i64" and tide.tensor({1, 2}, {requires_grad = false}):dtype() == "i64")
  S.checkerror("unknown option 'requires_gard'", tide.zeros, 2, {requires_gard = true})
  S.checkerror("only f32 and f64", tide.arange, 3, {requires_grad = true})
end

-- bernoulli with a probability tensor (audit G); fmod by an integer 0; copysign of the i64
-- minimum; complex z ^ 0.5 on the principal branch; complex exp2 at an infinite real part
do
  assert(tide.zeros(4):bernoulli(tide.ones(4)):sum():item() == 4)
  assert(tide.ones(4):bernoulli(tide.zeros(1)):sum():item() == 0)
  S.checkerror("do not broadcast to x's shape 3", function() return tide.zeros(3):bernoulli(tide.rand(4)) end)
  S.checkerror("number, probability tensor or options table", function() return tide.rand(3):bernoulli("x") end)
  S.close(tide.fmod(tide.tensor({7, -7}), 0), {0, 0})
  assert(tide.copysign(tide.tensor({math.mininteger}), -1)[1] < 0 and tide.copysign(tide.tensor({math.mininteger}), 1)[1] > 0)
  local z = tide.complex(tide.tensor({-1e10}), tide.tensor({1.1942041})) ^ 0.5
  local re, im = z:item()
  assert(re > 0 and math.abs(re - 5.971e-6) < 1e-8 and math.abs(im - 1e5) < 1, "z ^ 0.5 is csqrt")
  local q = tide.complex(tide.tensor({-4.0}), tide.tensor({1e-3})) ^ 1.5
  local qr = q:real():item()
  assert(math.abs(qr - (-0.0030000)) < 2e-7, "c64 powers are taken in double: " .. qr)
  local e2r, e2i = tide.complex(tide.tensor({math.huge}), tide.tensor({-120.68537})):exp2():item()
  assert(e2r == -math.huge and e2i == -math.huge)
end

-- unfold, as_strided, stride, storage_offset: views with explicit geometry
do
  local x = tide.arange(1, 8, 1, "f64")
  local u = x:unfold(1, 3, 2)
  assert(u:size(1) == 3 and u:size(2) == 3 and u[{2, 1}] == 3 and u[{3, 3}] == 7)
  local st = u:stride()
  assert(st[1] == 2 and st[2] == 1 and x:narrow(1, 2, 3):storage_offset() == 1)
  u[{1, 3}] = 30; assert(x[3] == 30, "unfold is a view")
  local m = tide.arange(1, 13):reshape(3, 4):unfold(2, 2, 1)
  assert(m:size(1) == 3 and m:size(2) == 3 and m:size(3) == 2 and m[{2, 3, 2}] == 8)
  -- overlapping windows add their gradients
  local w = tide.arange(1, 8, 1, "f64"):requires_grad_()
  w:unfold(1, 3, 2):sum():backward()
  S.close(w.grad, {1, 1, 2, 1, 2, 1, 1})
  S.close(x:as_strided({2, 2}, {1, 2}), {1, 30, 2, 4})   -- (x[3] was written through u)
  S.checkerror("reach element 8 of a storage of 7", function() return x:as_strided({2, 2}, {1, 6}) end)
  S.checkerror("size must be in 0...7", function() return x:unfold(1, 8, 1) end)
  S.checkerror("not differentiable", function() return w:as_strided({2}, {1}) end)
end

-- in-place random fills: ranges, moments, generators, errors (values vs NumPy: n/a, random)
do
  local g1, g2 = tide.Generator(7), tide.Generator(7)
  local a = tide.zeros(20000, "f64"):normal_(2, 3, {generator = g1})
  local b = tide.zeros(20000, "f64"):normal_(2, 3, {generator = g2})
  assert(tide.equal(a, b), "a generator makes normal_ reproducible")
  assert(math.abs(a:mean():item() - 2) < 0.1 and math.abs(a:std():item() - 3) < 0.1)
  local u = tide.zeros(20000):uniform_(-1, 3)
  assert(u:min():item() >= -1 and u:max():item() < 3 and math.abs(u:mean():item() - 1) < 0.05)
  local e = tide.zeros(50000, "f64"):exponential_(4)
  assert(e:min():item() >= 0 and math.abs(e:mean():item() - 0.25) < 0.01)
  local r = tide.zeros(1000, "i64"):random_(3, 6)
  assert(r:min():item() == 3 and r:max():item() == 5)
  assert(tide.zeros(8):bernoulli_(1):sum():item() == 8 and tide.ones(8):bernoulli_(tide.zeros(8)):sum():item() == 0)
  local v = tide.zeros(3, 4); v:t():normal_(); assert(v:abs():sum():item() > 0, "fills reach a view's storage")
  S.checkerror("std must be >= 0", function() return tide.zeros(2):normal_(0, -1) end)
  S.checkerror("expected an f32 or f64 tensor, got i64", function() return tide.zeros(2, "i64"):normal_() end)
  S.checkerror("unknown option 'gen'", function() return tide.zeros(2):uniform_({gen = 1}) end)
  S.checkerror("values must be non-negative", function() return tide.tensor({1, -2}):bincount() end)
  S.checkerror("q must be in [0, 1]", function() return tide.ones(3):quantile(1.5) end)
  S.checkerror("interpolation must be", function() return tide.ones(3):quantile(0.5, 1, false, {interpolation = "cubic"}) end)
  -- cummax values carry gradients to the elements they came from
  local w = tide.tensor({1, 3, 2, 5}, "f64"):requires_grad_()
  w:cummax(1):sum():backward()
  S.close(w.grad, {1, 2, 0, 1})
end

-- audit E: sizes and indices at the integer limits are errors, never a trap; mask shapes must
-- match; values i64 cannot hold are refused; empty pieces; 0-d views; error names
do
  local x = tide.zeros(3, 4)
  assert(x[{{1, 3, 1 << 62}}]:size(1) == 1, "a huge step over one element")
  S.checkerror("index 9223372036854775807 is out of range", function() return x[tide.tensor({math.maxinteger})] end)
  S.checkerror("index 9223372036854775807 is out of range", function() x[tide.tensor({math.maxinteger})] = 1 end)
  S.checkerror("index -9223372036854775808 is out of range", function() return x:gather(2, tide.tensor({{math.mininteger}})) end)
  S.checkerror("index -9223372036854775808 is out of range", function() return tide.one_hot(tide.tensor({math.mininteger}), 3) end)
  S.checkerror("go past the end", function() return x:narrow(1, 2, math.maxinteger) end)
  S.checkerror("too many elements", function() return x:repeat_interleave(math.maxinteger) end)
  S.checkerror("too many elements", function() return x:reshape(1 << 62, 1 << 62) end)
  S.checkerror("too many elements", function() return tide.zeros(1):expand(1 << 62, 1 << 62) end)
  S.checkerror("-1 only for an existing dim", function() return x:expand(-1, -1, -1) end)
  local m = tide.arange(1, 7):reshape(2, 3)
  S.checkerror("bool mask of shape 3 does not match", function() return m[tide.tensor({true, false, true})] end)
  S.checkerror("bool mask of shape 3 does not match", function() m[tide.tensor({true, false, true})] = 0 end)
  assert(m[tide.tensor(true)]:size(1) == 1 and m[tide.tensor(false)]:size(1) == 0)
  S.checkerror("cannot write", function() local i = tide.tensor({1, 2}); i[1] = 0 / 0 end)
  S.checkerror("cannot write", function() return tide.tensor({1, 2}):fill_(math.huge) end)
  S.checkerror("cannot write", function() return tide.full({2}, 1e300, "i64") end)
  S.checkerror("cannot write", function() local i = tide.tensor({1, 2}); return i:masked_fill(i:gt(0), math.huge) end)
  assert(tide.full({1}, math.maxinteger, "i64")[1] == math.maxinteger and tide.full({1}, math.mininteger, "i64")[1] == math.mininteger, "the i64 range's edge stays exact")
  S.checkerror("repeats must be >= 0", function() return tide.tensor({1, 2, 3}):repeat_interleave(tide.tensor({-1, 1, 1})) end)
  assert(#tide.zeros(0, 3):split(2) == 1 and #tide.zeros(0, 3):chunk(2) == 2)
  assert(tide.tensor(5):view(1)[1] == 5 and tide.tensor(5):view(-1):dim() == 1)
  assert(tide.zeros(2, 0):is_contiguous())
  assert(tide.zeros(0, 3):take_along_dim(tide.ones(1, 2):long(), 2):size(2) == 2)
  S.checkerror("classes must be >= 0, or -1", tide.one_hot, tide.tensor({1}), -5)
  local ok, err = pcall(function() local r = tide.zeros(2, 3):atan2(tide.zeros(4)); return r end)
  assert(not ok and err:find("atan2: shapes", 1, true), err)
  ok, err = pcall(function() local r = x:index_add(1, tide.tensor({4}), tide.ones(1, 4)); return r end)
  assert(not ok and err:find("index_add: index 4", 1, true), err)
  S.checkerror("index: cannot broadcast shape 5 to 4", function() x[1] = tide.ones(5) end)
  S.checkerror("no integer representation at entry 1", function() return x:roll({0 / 0}, {1}) end)
end

-- audit I: norm gradients at zero are 0 (not NaN); random_ with a generator; nanmedian's
-- indices; a 0-d index tensor selects like a number; requires_grad on logspace/randint;
-- histc's bin edges in f64; CSV i64 fields beyond 2^53 written as floats are refused
do
  for _, f in ipairs({function(a) return tide.linalg.matrix_norm(a) end, function(a) return tide.linalg.vector_norm(a) end,
                      function(a) return a:norm() end, function(a) return a:norm(2, 1) end}) do
    local a = tide.zeros(2, 2, {dtype = "f64", requires_grad = true})
    f(a):sum():backward()
    assert(a.grad:abs():sum():item() == 0, "zero gradient at a zero input")
  end
  local g1, g2 = tide.Generator(4), tide.Generator(4)
  assert(tide.equal(tide.zeros(50, "i64"):random_(0, 100, {generator = g1}), tide.zeros(50, "i64"):random_(0, 100, {generator = g2})))
  assert(tide.zeros(50, "i64"):random_(10, {generator = g1}):max():item() < 10)
  local v, i = tide.tensor({{3, 0 / 0, 1, 2}}, "f64"):nanmedian(2)
  assert(v[1] == 2 and i[1] == 4)
  local x = tide.arange(1, 25):reshape(2, 3, 4)
  local r = x[{tide.tensor(2), {}, tide.tensor({1, 4})}]
  assert(r:size(1) == 3 and r:size(2) == 2 and r[{1, 1}] == 13)
  assert(tide.logspace(0, 1, 3, {requires_grad = true}).requires_grad)
  assert(tide.randint(0, 5, {3}, {dtype = "f64", requires_grad = true}).requires_grad)
  assert(tide.tensor({-0.5}, "f32"):histc(9, -1.3, 0.5)[5] == 1)
  local p = os.tmpname() .. ".csv"
  local fh = assert(io.open(p, "w")); fh:write("9007199254740993.0\n"); fh:close()
  S.checkerror("is not an integer in the i64 range", tide.io.load, p, {dtype = "i64"})
  os.remove(p)
  local a = tide.tensor({{1, 2}, {2, 4}}, "f64"):requires_grad_()
  tide.linalg.det(a):backward()   -- singular: the adjugate, {{4, -2}, {-2, 1}}
  S.close(a.grad, {4, -2, -2, 1}, 1e-12)
end

-- a key whose only index tensors are 0-d writes like a key of numbers
do
  local x = tide.zeros(2, 3)
  x[{tide.tensor(2), 3}] = 5
  x[{tide.tensor(1)}] = tide.tensor({1, 2, 3})
  assert(x[{2, 3}] == 5 and x[{1, 2}] == 2 and x:sum():item() == 11)
end

-- audit K: ragged tables, complex operands where only reals make sense, dtype queries,
-- the NumPy conveniences of tensor_extras.lua (values are in gen_ops.py's fixtures)
do
  for _, t in ipairs({{1, {2}}, {1, 2, {3}}, {{1, 2}, {3, {4}}}, {1, tide.tensor({2})}, {{1}, 2},
                      {tide.ones(2), tide.ones(3)}}) do
    S.checkerror("ragged nested table", tide.tensor, t)
  end
  S.close(tide.tensor({tide.ones(2), tide.zeros(2)}), tide.tensor({{1, 1}, {0, 0}}), 0)
  local z = tide.complex(tide.tensor({2.0}), tide.tensor({1.0}))
  S.checkerror("fmod: not defined for complex", function() return tide.ones(2):fmod(z) end)
  S.checkerror("a complex value cannot fill a f32 tensor", function() return tide.zeros(2):masked_fill(tide.tensor({true, false}), z) end)
  assert(tide.tensor({1, 2}):repeat_interleave(tide.tensor({2})):numel() == 4, "one-element repeats broadcast")
  local m = tide.zeros(0):median()
  assert(m:item() ~= m:item(), "median of an empty tensor is NaN")
  S.close(tide.logspace(0, 3, 4, 2), tide.tensor({1, 2, 4, 8}), 1e-6)
  -- slices holding NaN are never merged (NumPy, torch)
  local nan = 0 / 0
  local u, inv, cnt = tide.tensor({{nan, 1}, {nan, 1}, {2, nan}}, "f64"):unique({dim = 1, return_inverse = true, return_counts = true})
  assert(u:size(1) == 3 and cnt:sum():item() == 3 and cnt:max():item() == 1, "NaN rows kept apart")
  assert(inv[3] == 1, "the finite-led row sorts first")
  -- dtype queries
  assert(z:is_complex() and not z:is_floating_point() and tide.ones(1):is_floating_point(), "is_complex / is_floating_point")
  assert(tide.promote_types("i64", "f32") == "f32" and tide.promote_types("bool", "bool") == "bool", "promote_types")
  assert(tide.promote_types("f32", "c64") == "c64" and tide.promote_types("f64", "c64") == "c128", "promote_types complex")
  assert(tide.result_type(tide.ones(1, {dtype = "i64"}), 2.5) == "f32" and tide.result_type(tide.ones(1, {dtype = "i64"}), 2) == "i64", "result_type")
  assert(tide.can_cast("i64", "f32") and not tide.can_cast("f64", "i64") and not tide.can_cast("c64", "f64") and not tide.can_cast("i64", "bool"), "can_cast")
  S.checkerror("unknown dtype 'f16'", tide.promote_types, "f16", "f32")
  -- in-place tril/triu, the method form of where, randint_like
  local a = tide.ones(3, 3)
  assert(a:tril_() == a and a:sum():item() == 6, "tril_")
  assert(tide.ones(3, 3):triu_(1):sum():item() == 3, "triu_")
  S.close(tide.tensor({1.0, 2.0}):where(tide.tensor({true, false}), 0), tide.tensor({1.0, 0.0}), 0)
  local r = tide.randint_like(tide.zeros(50, {dtype = "i64"}), 3, 5)
  assert(r:dtype() == "i64" and r:min():item() >= 3 and r:max():item() <= 4, "randint_like")
  assert(tide.randint_like(tide.zeros(4), 2):dtype() == "f32", "randint_like keeps x's dtype")
  -- bitwise errors name the op and both types
  S.checkerror("bitwise_and: expected i64 or bool tensors, got f32 (argument 1)", function() return tide.ones(2):bitwise_and(1) end)
  S.checkerror("bitwise_not: expected an i64 or bool tensor, got f64", function() return ~tide.ones(2, "f64") end)
  local b = tide.tensor({5, 6})
  b:bitwise_xor_(3)
  assert(b[1] == 6 and b[2] == 5, "bitwise_xor_")
  -- diff's gradient flows through the narrowing (a difference of views)
  local x = tide.tensor({1.0, 4.0, 9.0}, "f64"):requires_grad_()
  x:diff():sum():backward()
  S.close(x.grad, tide.tensor({-1.0, 0.0, 1.0}, "f64"), 0)
  S.checkerror("diff: expected a non-negative integer n", function() return x:diff(-1) end)
  S.checkerror("rot90: expected two different dims", function() return tide.ones(2, 2):rot90(1, {1, -2}) end)
  local bd = tide.block_diag(tide.ones(1, 1, {dtype = "i64"}), tide.tensor({2.5, 3.5}))
  assert(bd:dtype() == "f32" and bd:size(1) == 2 and bd:size(2) == 3, "block_diag promotes")
  assert(tide.cartesian_prod(tide.tensor({1, 2})):numel() == 2, "one input: itself")
end

-- audit L: tensors inside tables keep their dtype and exact integers; diff n = 0; empty runs
do
  assert(tide.tensor({tide.tensor({1.1}, "f64")}):dtype() == "f64", "f64 tensors in a table stay f64")
  assert(tide.tensor({tide.tensor({true})}):dtype() == "bool", "bool tensors stay bool")
  assert(tide.tensor({tide.tensor({9007199254740993})})[{1, 1}] == 9007199254740993, "i64 exact")
  S.close(tide.tensor({tide.tensor(1.5), 2}), tide.tensor({1.5, 2.0}), 0)
  S.checkerror("complex tensors inside a table", tide.tensor, {tide.complex(tide.ones(1), tide.ones(1))})
  S.close(tide.tensor({1, 4, 9}):diff({n = 0, prepend = tide.tensor({0}), append = 20}), tide.tensor({1, 4, 9}), 0)
  local v, inv, cnt = tide.zeros(0, 3):unique_consecutive({dim = 1, return_inverse = true, return_counts = true})
  assert(v:size(1) == 0 and inv:numel() == 0 and cnt:numel() == 0, "empty along dim")
  local v2, c2 = tide.zeros(0, 3):unique_consecutive({return_counts = true})
  assert(v2:numel() == 0 and c2:numel() == 0, "empty flat")
  local x = tide.tensor({-2.0, 0.5, 3.0})
  assert(x:clone():clamp_min_(0)[1] == 0 and x:clone():clamp_max_(1)[3] == 1 and x:clone():clip_(-1, 1)[1] == -1, "clamp_min_ / clamp_max_ / clip_")
  S.checkerror("median: dim 2 is empty", function() return tide.zeros(2, 0):median(2) end)
end

-- tensor_extras errors name the function the user called
do
  S.checkerror("randint_like: expected integer bounds", tide.randint_like, tide.zeros(2), "a")
  S.checkerror("clamp_min_: expected a number or tensor bound, got table", function() return tide.zeros(2):clamp_min_({}) end)
end
