-- tide.F's fused ops against NumPy (scripts/fixtures/gen_functional.py ->
-- Tests/fixtures/functional/functional.npz). Gradients are checked in test_autograd.lua.
local S = require "support"
local F = tide.F
local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local d = tide.io.load(here .. "/../../fixtures/functional/functional.npz")
local function one(t) return t + 1 end  -- NumPy's 0-based classes -> Tide's 1-based

S.close(F.linear(d.lin_x, d.lin_w, d.lin_b), d.lin_y, 1e-12)
S.close(F.layer_norm(d.ln_x, 6, d.ln_w, d.ln_b), d.ln_y, 1e-10)
S.close(F.layer_norm(d.ln_x, {4, 6}, nil, nil, {eps = 1e-3}), d.ln2_y, 1e-10)
S.close(F.rms_norm(d.ln_x, 6, d.ln_w), d.rms_y, 1e-10)
S.close(F.cross_entropy(d.ce_z, one(d.ce_t)), d.ce_plain, 1e-10)
local ign = d.ce_ignore:item() + 1
S.close(F.cross_entropy(d.ce_z, one(d.ce_t), {weight = d.ce_w, ignore_index = ign, label_smoothing = 0.15}), d.ce_weighted, 1e-10)
S.close(F.cross_entropy(d.ce_z, one(d.ce_t), {reduction = "none", label_smoothing = 0.15}), d.ce_none, 1e-10)
S.close(F.cross_entropy(d.ce3_z, one(d.ce3_t), {reduction = "sum"}), d.ce3_sum, 1e-10)
S.close(F.cross_entropy(d.ce_z, d.ce_p), d.ce_soft, 1e-10)
S.close(F.nll_loss(d.ce_z:log_softmax(2), one(d.ce_t), {weight = d.ce_w}), d.nll, 1e-10)
S.close(F.embedding(one(d.emb_i), d.emb_w), d.emb_y, 0)
-- f32 paths agree with f64 to f32 precision
S.close(F.layer_norm(d.ln_x:to("f32"), 6, d.ln_w:to("f32"), d.ln_b:to("f32")), d.ln_y, 1e-5)
S.close(F.cross_entropy(d.ce_z:to("f32"), one(d.ce_t)), d.ce_plain, 1e-5)

-- dropout: the kept fraction and the scaling; identity when not training
tide.manual_seed(3)
local x = tide.ones(100000)
local y = F.dropout(x, {p = 0.25})
local kept = y:ne(0):sum():item() / 100000
assert(math.abs(kept - 0.75) < 0.01, "kept fraction " .. kept)
S.close(y:amax(), 1 / 0.75, 1e-6)
S.close(F.dropout(x, {p = 0.5, training = false}), x, 0)
local g1, g2 = tide.Generator(5), tide.Generator(5)
S.close(F.dropout(x, {p = 0.5, generator = g1}), F.dropout(x, {p = 0.5, generator = g2}), 0)

-- bad input names the function and says expected vs got
S.checkerror("linear: input has shape 2x3 but weight is 4x5", F.linear, tide.zeros(2, 3), tide.zeros(4, 5))
S.checkerror("layer_norm: normalized_shape 5 must match", F.layer_norm, tide.zeros(2, 3), 5)
S.checkerror("layer_norm: weight must have shape 3", F.layer_norm, tide.zeros(2, 3), 3, tide.zeros(4))
S.checkerror("cross_entropy: target 6 out of range for 5 classes", F.cross_entropy, tide.zeros(2, 5), tide.tensor({1, 6}))
S.checkerror("cross_entropy: targets have shape 3 but logits 2x5", F.cross_entropy, tide.zeros(2, 5), tide.tensor({1, 2, 3}))
S.checkerror("cross_entropy: targets must be i64", F.cross_entropy, tide.zeros(2, 5), tide.zeros(2, {dtype = "bool"}))
S.checkerror("reduction must be 'mean', 'sum' or 'none'", F.cross_entropy, tide.zeros(2, 5), tide.tensor({1, 2}), {reduction = "avg"})
S.checkerror("embedding: index 7 out of range for 6 rows", F.embedding, tide.tensor({7}), tide.zeros(6, 2))
S.checkerror("i64 index tensor expected, got f32", F.embedding, tide.zeros(2), tide.zeros(6, 2))
S.checkerror("dropout: p must be in [0, 1]", F.dropout, tide.zeros(2), {p = 1.5})
S.checkerror("nll_loss: 3 targets for 2 rows", F.nll_loss, tide.zeros(2, 4), tide.tensor({1, 2, 3}))

-- the f32 SIMD derivative kernels agree with the f64 reference path
for _, name in ipairs({"exp", "tanh", "sigmoid", "relu", "silu", "gelu"}) do
  for _, approx in ipairs(name == "gelu" and {"none", "tanh"} or {"none"}) do
    local x64 = (tide.randn(1000, {dtype = "f64"}) * 3):requires_grad_()
    local x32 = x64:detach():to("f32"):requires_grad_()
    local function f(x) return name == "gelu" and x:gelu({approximate = approx}) or x[name](x) end
    f(x64):sum():backward()
    f(x32):sum():backward()
    S.close(x32.grad, x64.grad, 2e-5)
  end
end

-- fused attention against the plain composition softmax(q k^T s + mask) v, with GQA heads
-- repeated, for causal (bottom-right aligned), bool and float masks, and N != M
local function sdpa_ref(q, k, v, causal, mask, scale)
  local H, Hk = q:size(2), k:size(2)
  if H ~= Hk then k = k:repeat_interleave(H // Hk, 2); v = v:repeat_interleave(H // Hk, 2) end
  local s = q:matmul(k:transpose(3, 4)) * (scale or 1 / math.sqrt(q:size(4)))
  local N, M = q:size(3), k:size(3)
  if causal then s = s:masked_fill(tide.ones(N, M, {dtype = "bool"}):tril(M - N):logical_not(), -math.huge) end
  if mask then
    if mask:dtype() == "bool" then s = s:masked_fill(mask:logical_not(), -math.huge) else s = s + mask end
  end
  return s:softmax(4):matmul(v)
end
tide.manual_seed(11)
for _, c in ipairs({{2, 4, 70, 16, 4, 70, true}, {1, 4, 5, 8, 2, 9, true}, {2, 2, 130, 8, 1, 100, false}, {1, 2, 1, 4, 2, 6, true}}) do
  local B, H, N, D, Hk, M, causal = table.unpack(c)
  local q, k = tide.randn(B, H, N, D, {dtype = "f64"}), tide.randn(B, Hk, M, D, {dtype = "f64"})
  local v = tide.randn(B, Hk, M, D + 1, {dtype = "f64"})
  S.close(F.scaled_dot_product_attention(q, k, v, {causal = causal}), sdpa_ref(q, k, v, causal), 1e-10)
  local mask = tide.rand(N, M):gt(0.3)
  mask[{{}, 1}] = true
  S.close(F.scaled_dot_product_attention(q, k, v, {mask = mask}), sdpa_ref(q, k, v, false, mask), 1e-10)
  local fm = tide.randn(1, H, N, M, {dtype = "f64"})
  S.close(F.scaled_dot_product_attention(q, k, v, {mask = fm, scale = 0.3}), sdpa_ref(q, k, v, false, fm, 0.3), 1e-10)
  S.close(F.scaled_dot_product_attention(q:to("f32"), k:to("f32"), v:to("f32"), {causal = causal}), sdpa_ref(q, k, v, causal), 1e-4)
end
S.checkerror("not a multiple of k/v's 3 heads", F.scaled_dot_product_attention, tide.zeros(1, 4, 2, 2), tide.zeros(1, 3, 2, 2), tide.zeros(1, 3, 2, 2))
S.checkerror("does not broadcast to (B, H, N, M)", F.scaled_dot_product_attention, tide.zeros(1, 1, 2, 2), tide.zeros(1, 1, 3, 2), tide.zeros(1, 1, 3, 2), {mask = tide.zeros(2, 2, {dtype = "bool"})})
-- rope equals the rotate-half composition
local x = tide.randn(2, 3, 5, 6, {dtype = "f64"})
local ang = tide.rand(5, 2, {dtype = "f64"}) * 3
local c, s = ang:cos(), ang:sin()
local x1, x2, rest = x:narrow(4, 1, 2), x:narrow(4, 3, 2), x:narrow(4, 5, 2)
S.close(F.rope(x, c, s), tide.cat({x1 * c - x2 * s, x2 * c + x1 * s, rest}, 4), 1e-12)
S.checkerror("rope: cos and sin must be (T, R/2)", F.rope, x, tide.zeros(4, 2), tide.zeros(4, 2))

-- the f32 path (own microkernels once there are 16 query rows) against the f64 composition,
-- forward and backward, at every kernel level: ragged blocks (N, M not multiples of the
-- 128 blocks, D and Dv not multiples of 16), GQA, bottom-right causal with N < M, bool and
-- float masks with fully masked rows, head-interleaved (strided) inputs, and more keys than
-- one packed chunk (4096)
local function sdpa_f32_case(B, H, Hk, N, M, D, Dv, opts)
  local q64 = tide.randn(B, N, H, D, {dtype = "f64"}):transpose(2, 3)   -- (B, H, N, D), strided
  local k64, v64 = tide.randn(B, Hk, M, D, {dtype = "f64"}), tide.randn(B, Hk, M, Dv, {dtype = "f64"})
  local g64 = tide.randn(B, H, N, Dv, {dtype = "f64"})
  local mask32, mask64 = opts.mask, opts.mask
  if mask64 and mask64:dtype() ~= "bool" then mask32 = mask64:to("f32") end
  local q, k, v = q64:to("f32"):requires_grad_(), k64:to("f32"):requires_grad_(), v64:to("f32"):requires_grad_()
  local o = F.scaled_dot_product_attention(q, k, v, {causal = opts.causal, mask = mask32, scale = opts.scale})
  o:backward(g64:to("f32"))
  q64, k64, v64 = q64:clone():requires_grad_(), k64:requires_grad_(), v64:requires_grad_()
  local ref
  if mask64 and mask64:dtype() == "bool" then
    -- rows that see no key give zeros (and no gradient): a finite fill keeps the reference's
    -- softmax free of NaN, and the row factor zeroes those rows
    local seen = mask64:any(4, {keepdim = true}):to("f64")
    ref = sdpa_ref(q64, k64, v64, opts.causal, mask64:to("f64"):sub(1):mul(1e30), opts.scale) * seen
  else
    ref = sdpa_ref(q64, k64, v64, opts.causal, mask64, opts.scale)
  end
  ref:backward(g64)
  local tol = opts.tol or 2e-4
  S.close(o, ref, tol); S.close(q.grad, q64.grad, tol); S.close(k.grad, k64.grad, tol); S.close(v.grad, v64.grad, tol)
end
for level = 0, tide.kernel_level() do
  tide.set_kernel_level(level)
  sdpa_f32_case(2, 4, 2, 150, 150, 20, 24, {causal = true})
  sdpa_f32_case(1, 3, 1, 37, 301, 16, 8, {causal = true, scale = 0.2})
  sdpa_f32_case(1, 2, 2, 140, 133, 33, 17, {})
  local bm = tide.rand(1, 2, 130, 70):gt(0.4)
  bm[{1, 1, {5, 9}}] = false                            -- rows that see no key at all
  sdpa_f32_case(1, 2, 1, 130, 70, 12, 16, {mask = bm})
  sdpa_f32_case(1, 2, 2, 40, 90, 8, 8, {mask = tide.randn(1, 1, 40, 90, {dtype = "f64"}), causal = true})
  sdpa_f32_case(1, 1, 1, 20, 4500, 8, 8, {causal = true, tol = 5e-4})
end
tide.set_kernel_level(-1)

-- audit N: saturated BCE, negative padding_idx, all-ignored nll, (N, C, d) nll, options
do
  local F = tide.F
  -- torch's gradient (p - y) / max(p (1 - p), 1e-12) stays finite where p is exactly 0 or 1
  local p = tide.tensor({1, 0, 0.5}, "f64"):requires_grad_()
  F.binary_cross_entropy(p, tide.tensor({0.5, 0.5, 0.5}, "f64"), {reduction = "sum"}):backward()
  S.close(p.grad, tide.tensor({5e11, -5e11, 0}, "f64"), 1)
  local x = tide.tensor({20.0, -120.0, 3.0}):requires_grad_()
  F.binary_cross_entropy(x:sigmoid(), tide.tensor({1.0, 0.0, 1.0})):backward()
  assert(x.grad:isfinite():all():item() and x.grad[1] == 0, "saturated sigmoid gives a zero gradient, not NaN")
  local ok, rep = tide.autograd.gradcheck(function(q, y, w) return F.binary_cross_entropy(q, y, {weight = w}) end,
    {tide.rand(5, {dtype = "f64"}):mul(0.8):add(0.1):requires_grad_(), tide.rand(5, {dtype = "f64", requires_grad = true}),
     tide.rand(5, {dtype = "f64", requires_grad = true})})
  assert(ok, rep)
  -- padding_idx from the end (-1 is the last row), range-checked
  local w = tide.ones(3, 2, "f64"):requires_grad_()
  F.embedding(tide.tensor({1, 3, 3}), w, {padding_idx = -1}):sum():backward()
  S.close(w.grad, tide.tensor({{1, 1}, {0, 0}, {0, 0}}, "f64"), 0)
  S.checkerror("padding_idx must be in 1..3 or -3..-1, got 7", F.embedding, tide.tensor({1}), w, {padding_idx = 7})
  -- every target ignored: NaN loss (torch) and zero gradients
  local lp = tide.randn(3, 4, {dtype = "f64"}):log_softmax(2):detach():requires_grad_()
  local loss = F.nll_loss(lp, tide.tensor({2, 2, 2}), {ignore_index = 2})
  assert(loss:item() ~= loss:item(), "all ignored: NaN")
  loss:backward()
  S.close(lp.grad, tide.zeros(3, 4, "f64"), 0)
  -- (N, C, d) log-probabilities, as cross_entropy takes them
  local z = tide.randn(2, 3, 4, {dtype = "f64"})
  local t = tide.randint(1, 4, {2, 4})
  S.close(F.nll_loss(z:log_softmax(2), t), F.cross_entropy(z, t), 1e-12)
  assert(F.nll_loss(z:log_softmax(2), t, {reduction = "none"}):size(2) == 4, "(N, d) per-position losses")
  -- misspelt options are errors; softmax of a 0-d tensor is 1
  S.checkerror("unknown option 'label_smoothin'", F.cross_entropy, z, t, {label_smoothin = 0.3})
  S.checkerror("unknown option 'epsilon'", F.layer_norm, z, 4, {epsilon = 1})
  S.checkerror("relu: takes one argument", F.relu, z, {inplace = true})
  -- number options share nn._impl.number_opt with tide.nn.init
  S.checkerror("hardtanh: option max_val must be a number, got string", F.hardtanh, z, {max_val = "1"})
  S.checkerror("uniform_: option b must be a number, got boolean", tide.nn.init.uniform_, z:clone(), {b = true})
  assert(F.softmax(tide.tensor(3.0)):item() == 1 and F.log_softmax(tide.tensor(3.0), -1):item() == 0, "0-d softmax")
end

-- review: an in-place value with a history cannot go through a view of a plain tensor (the
-- base would lose it); ties at an infinite median share the gradient
do
  local w = tide.ones(2):requires_grad_()
  local buf = tide.zeros(3)
  S.checkerror("into a view of a tensor that does not", function() buf:narrow(1, 1, 2):add_(w) end)
  local x = tide.tensor({1, math.huge, math.huge}, "f64"):requires_grad_()
  x:median():backward()
  S.close(x.grad, tide.tensor({0, 0.5, 0.5}, "f64"), 0)
end

-- learned rotary angles and additive attention biases get gradients (composed paths that
-- match the fused ones)
do
  local r = function(...) return tide.randn({...}, {dtype = "f64", requires_grad = true}) end
  local ok, rep = tide.autograd.gradcheck(function(x, c, s) return tide.F.rope(x, c, s) end, {r(1, 2, 3, 6), r(3, 2), r(3, 2)})
  assert(ok, rep)
  local q, k, v, m = r(1, 4, 3, 5), r(1, 2, 4, 5), r(1, 2, 4, 3), r(1, 1, 3, 4)
  ok, rep = tide.autograd.gradcheck(function(q, k, v, m)
    return tide.F.scaled_dot_product_attention(q, k, v, {mask = m, causal = true})
  end, {q, k, v, m})
  assert(ok, rep)
  local fused = tide.F.scaled_dot_product_attention(q:detach(), k:detach(), v:detach(), {mask = m:detach(), causal = true})
  S.close(tide.F.scaled_dot_product_attention(q, k, v, {mask = m, causal = true}):detach(), fused, 1e-12)
  local x = tide.randn(1, 2, 3, 4, {dtype = "f64"})
  local c, s = tide.randn(3, 2, {dtype = "f64"}), tide.randn(3, 2, {dtype = "f64"})
  S.close(tide.F.rope(x, c:clone():requires_grad_(), s):detach(), tide.F.rope(x, c, s), 1e-12)
end

-- batch norm's running statistics (momentum, unbiased variance) and the norms' gradients
do
  local F = tide.F
  local x = tide.randn(6, 2, 3, {dtype = "f64"})
  local rm, rv = tide.zeros(2, "f64"), tide.ones(2, "f64")
  F.batch_norm(x, rm, rv, {training = true, momentum = 0.25})
  S.close(rm, x:mean({1, 3}) * 0.25, 1e-12)
  S.close(rv, x:var({1, 3}) * 0.25 + 0.75, 1e-12)
  S.checkerror("running_mean and running_var are required", F.batch_norm, x, nil, nil)
  S.checkerror("groups must be a positive integer dividing the 2 channels", F.group_norm, x, 3)
  local r = function(...) return tide.randn({...}, {dtype = "f64", requires_grad = true}) end
  local ok, rep = tide.autograd.gradcheck(function(a, w, b)
    return F.batch_norm(a, nil, nil, w, b, {training = true}) + F.group_norm(a, 1, w, b) + F.instance_norm(a, w, b)
  end, {r(3, 2, 4), r(2), r(2)})
  assert(ok, rep)
end

-- the composed (learned-mask) attention path gives a query that sees no key zeros, as the fused one
do
  local q, k, v = tide.randn(1, 1, 2, 4, {dtype = "f64"}), tide.randn(1, 1, 3, 4, {dtype = "f64"}), tide.randn(1, 1, 3, 2, {dtype = "f64"})
  local m = tide.tensor({{-math.huge, -math.huge, -math.huge}, {0, 1, 2}}, "f64")
  local fused = tide.F.scaled_dot_product_attention(q, k, v, {mask = m})
  local composed = tide.F.scaled_dot_product_attention(q, k, v, {mask = m:clone():requires_grad_()})
  S.close(composed:detach(), fused, 1e-12)
  assert(composed[{1, 1, 1, 1}] == 0, "unseen query: zeros")
end
