-- Lightning attention (MiniMax-01 brief A2), the invariants of A10 1-9 at the operator level.
local S = require "support"
local F = tide.F
tide.manual_seed(5)

-- quadratic masked-decay form: O = ((Q K^T) . M) V (+ decayed initial state)
local function quadratic(q, k, v, slopes, S0)
  local H, N = q:size(2), q:size(3)
  local loglam = (-slopes):view(1, H, 1, 1)
  local t = tide.arange(0, N, {dtype = "f64"})
  local dist = t:view(N, 1) - t:view(1, N)
  local M = (loglam * dist:clamp(0, nil)):exp():masked_fill(dist:lt(0), 0)
  local o = (q:matmul(k:transpose(3, 4)) * M):matmul(v)
  if S0 then o = o + (q * (loglam * (t + 1):view(1, 1, N, 1)):exp()):matmul(S0) end
  return o
end

-- the token recurrence S_t = lam S_{t-1} + k_t^T v_t, o_t = q_t S_t
local function recurrent(q, k, v, slopes)
  local B, H, N, d, e = q:size(1), q:size(2), q:size(3), q:size(4), v:size(4)
  local st = tide.zeros(B, H, d, e, {dtype = "f64"})
  local outs = {}
  for t = 1, N do
    local o
    o, st = F.lightning_step(q:select(3, t), k:select(3, t), v:select(3, t), slopes, st)
    outs[t] = o:unsqueeze(3)
  end
  return tide.cat(outs, 3), st
end

local function inputs(B, H, N, d, e)
  return tide.randn(B, H, N, d, {dtype = "f64"}), tide.randn(B, H, N, d, {dtype = "f64"}), tide.randn(B, H, N, e, {dtype = "f64"})
end
local slopes = tide.tensor({0.917, 0.3, 0.05, 0.0}, "f64")

-- 1, 2, 4: blocked = quadratic = recurrence for many n and block sizes; the final state
for _, n in ipairs({1, 2, 63, 64, 65, 203}) do
  local q, k, v = inputs(1, 4, n, 5, 3)
  local ref = quadratic(q, k, v, slopes)
  local rec, rs = recurrent(q, k, v, slopes)
  S.close(rec, ref, 1e-10)
  for _, b in ipairs({1, 7, 16, 64, 256}) do
    local o, st = F.lightning_attention(q, k, v, slopes, {block = b})
    S.close(o, ref, 1e-10)
    S.close(st, rs, 1e-10)
  end
  -- fp32 against the f64 reference
  local o32 = F.lightning_attention(q:to("f32"), k:to("f32"), v:to("f32"), slopes:to("f32"), {block = 16})
  local rel = (o32:to("f64") - ref):abs():max():item() / (ref:abs():max():item() + 1e-12)
  assert(rel < 1e-4, "fp32 relative error " .. rel)
end
do -- n = 1000 with one block size (the long case)
  local q, k, v = inputs(1, 2, 1000, 4, 4)
  local s2 = tide.tensor({0.5, 0.001}, "f64")
  S.close(F.lightning_attention(q, k, v, s2, {block = 64}), quadratic(q, k, v, s2), 1e-9)
end

-- 4: the state equals sum_t lam^(n-1-t) k_t^T v_t
do
  local q, k, v = inputs(2, 4, 30, 3, 2)
  local _, st = F.lightning_attention(q, k, v, slopes, {block = 8})
  local lam = (-slopes):view(1, 4, 1, 1)
  local w = (lam * tide.arange(29, -1, -1, {dtype = "f64"}):view(1, 1, 30, 1)):exp()
  S.close(st, (k * w):transpose(3, 4):matmul(v), 1e-10)
end

-- 3: prefill p tokens (blocked) then decode the rest from the returned state = one pass
do
  local q, k, v = inputs(2, 4, 50, 4, 3)
  local full, fs = F.lightning_attention(q, k, v, slopes, {block = 16})
  for _, p in ipairs({16, 23, 49}) do
    local o1, st = F.lightning_attention(q:narrow(3, 1, p), k:narrow(3, 1, p), v:narrow(3, 1, p), slopes, {block = 16})
    local outs = {o1}
    for t = p + 1, 50 do
      local o
      o, st = F.lightning_step(q:select(3, t), k:select(3, t), v:select(3, t), slopes, st)
      outs[#outs + 1] = o:unsqueeze(3)
    end
    S.close(tide.cat(outs, 3), full, 1e-10)
    S.close(st, fs, 1e-10)
  end
  -- and continuing a blocked pass from a state equals the single pass
  local o1, s1 = F.lightning_attention(q:narrow(3, 1, 20), k:narrow(3, 1, 20), v:narrow(3, 1, 20), slopes, {block = 8})
  local o2, s2 = F.lightning_attention(q:narrow(3, 21, 30), k:narrow(3, 21, 30), v:narrow(3, 21, 30), slopes, {block = 8, state = s1})
  S.close(tide.cat({o1, o2}, 3), full, 1e-10)
  S.close(s2, fs, 1e-10)
end

-- 5: causality
do
  local q, k, v = inputs(1, 4, 40, 3, 3)
  local o = F.lightning_attention(q, k, v, slopes, {block = 8})
  local k2, v2 = k:clone(), v:clone()
  k2[{{}, {}, {25, 40}}] = tide.randn(1, 4, 16, 3, {dtype = "f64"})
  v2[{{}, {}, {25, 40}}] = 0
  local o2 = F.lightning_attention(q, k2, v2, slopes, {block = 8})
  S.close(o2:narrow(3, 1, 24), o:narrow(3, 1, 24), 1e-12)
end

-- 6: s = 0 is causal linear attention; a huge slope keeps only the diagonal
do
  local q, k, v = inputs(1, 1, 20, 3, 2)
  local o = F.lightning_attention(q, k, v, tide.tensor({0.0}, "f64"), {block = 8})
  local kv = (k:unsqueeze(5) * v:unsqueeze(4)):cumsum(3)              -- (1, 1, n, d, e)
  S.close(o, q:unsqueeze(4):matmul(kv):squeeze(4), 1e-10)
  local od = F.lightning_attention(q, k, v, tide.tensor({1e4}, "f64"), {block = 8})
  S.close(od, (q * k):sum(4, {keepdim = true}) * v, 1e-10)
end

-- 7: bilinearity
do
  local q, k, v = inputs(1, 4, 17, 3, 2)
  local _, _, v2 = inputs(1, 4, 17, 3, 2)
  local f = function(a, b, c) return (F.lightning_attention(a, b, c, slopes, {block = 4})) end
  S.close(f(q, k, v + v2 * 2), f(q, k, v) + f(q, k, v2) * 2, 1e-10)
  S.close(f(q * 3, k, v), f(q, k, v) * 3, 1e-10)
  S.close(f(q, k * -2, v), f(q, k, v) * -2, 1e-10)
end

-- 8: backward against finite differences (outputs and final state, with an initial state),
-- and against the closed-form gradients of A2.5
do
  local q, k, v = inputs(1, 2, 11, 3, 2)
  q:requires_grad_(); k:requires_grad_(); v:requires_grad_()
  local s0 = tide.randn(1, 2, 3, 2, {dtype = "f64"}):requires_grad_()
  local sl = slopes:narrow(1, 2, 2)
  tide.autograd.gradcheck(function(a, b, c, s) local o, st = F.lightning_attention(a, b, c, sl, {block = 4, state = s}); return {o, st} end, {q, k, v, s0})
  local g = tide.randn(1, 2, 11, 2, {dtype = "f64"})
  local o = F.lightning_attention(q, k, v, sl, {block = 4})
  local gq, gk, gv = table.unpack(tide.autograd.grad((o * g):sum(), {q, k, v}))
  local N = 11
  local t = tide.arange(0, N, {dtype = "f64"})
  local dist = t:view(N, 1) - t:view(1, N)
  local M = ((-sl):view(1, 2, 1, 1) * dist:clamp(0, nil)):exp():masked_fill(dist:lt(0), 0)
  local qd, kd, vd = q:detach(), k:detach(), v:detach()
  local P = g:matmul(vd:transpose(3, 4)) * M
  S.close(gq, P:matmul(kd), 1e-10)
  S.close(gk, P:transpose(3, 4):matmul(qd), 1e-10)
  S.close(gv, (qd:matmul(kd:transpose(3, 4)) * M):transpose(3, 4):matmul(g), 1e-10)
end

-- bad input
S.checkerror("expected 2 slopes", F.lightning_attention, tide.zeros(1, 2, 3, 4), tide.zeros(1, 2, 3, 4), tide.zeros(1, 2, 3, 4), tide.zeros(3))
S.checkerror("slope 1 must be finite and >= 0", F.lightning_attention, tide.zeros(1, 1, 3, 4), tide.zeros(1, 1, 3, 4), tide.zeros(1, 1, 3, 4), tide.tensor({-1.0}))
S.checkerror("state must be f32 of shape 1x1x4x4", F.lightning_attention, tide.zeros(1, 1, 3, 4), tide.zeros(1, 1, 3, 4), tide.zeros(1, 1, 3, 4), tide.ones(1), {state = tide.zeros(2, 2)})

-- 9: the chunk-parallel prefill (A2.4) equals the sequential blocked pass, for any piece
-- count (including lengths that do not divide), with and without an initial state; it is
-- differentiable
do
  local q, k, v = inputs(1, 2, 45, 3, 2)
  local sl = tide.tensor({0.2, 0.01}, "f64")
  local s0 = tide.randn(1, 2, 3, 2, {dtype = "f64"})
  local ref, rs = F.lightning_attention(q, k, v, sl, {block = 8, chunks = 1})
  local ref0, rs0 = F.lightning_attention(q, k, v, sl, {block = 8, chunks = 1, state = s0})
  for _, c in ipairs({2, 3, 4, 45}) do
    local o, st = F.lightning_attention(q, k, v, sl, {block = 8, chunks = c})
    S.close(o, ref, 1e-10); S.close(st, rs, 1e-10)
    local o0, st0 = F.lightning_attention(q, k, v, sl, {block = 8, chunks = c, state = s0})
    S.close(o0, ref0, 1e-10); S.close(st0, rs0, 1e-10)
  end
  local a, b, c3 = inputs(1, 1, 10, 2, 2)
  a:requires_grad_(); b:requires_grad_(); c3:requires_grad_()
  tide.autograd.gradcheck(function(x, y, z) local o, st = F.lightning_attention(x, y, z, tide.tensor({0.3}, "f64"), {block = 2, chunks = 3}); return {o, st} end, {a, b, c3})
end

-- the f32 forward (own microkernel) against the f64 blocked forward: ragged blocks, d and e
-- not multiples of 16, a start state, both kernel levels
for level = 0, tide.kernel_level() do
  tide.set_kernel_level(level)
  for _, c in ipairs({{2, 3, 150, 20, 33, 64}, {1, 2, 70, 16, 16, 7}, {1, 1, 300, 64, 64, 256}, {1, 2, 5, 3, 2, 1}}) do
    local B, H, N, d, e, blk = table.unpack(c)
    local q, k, v = tide.randn(B, H, N, d, {dtype = "f64"}), tide.randn(B, H, N, d, {dtype = "f64"}), tide.randn(B, H, N, e, {dtype = "f64"})
    q, k = q / math.sqrt(d), k / math.sqrt(d)
    local sl = tide.nn.lightning_slopes(H):to("f64")
    local s0 = tide.randn(B, H, d, e, {dtype = "f64"})
    local o64, st64 = F.lightning_attention(q, k, v, sl, {block = blk, state = s0})
    local o32, st32 = F.lightning_attention(q:to("f32"), k:to("f32"), v:to("f32"), sl:to("f32"), {block = blk, state = s0:to("f32")})
    local function rel(a, b) return (a:to("f64") - b):abs():max():item() / (b:abs():max():item() + 1e-12) end
    assert(rel(o32, o64) < 2e-5, "f32 lightning output, level " .. level)
    assert(rel(st32, st64) < 2e-5, "f32 lightning state, level " .. level)
  end
end
tide.set_kernel_level(-1)
