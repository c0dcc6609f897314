-- tide.nn.Attention and the hybrid GPT: the invariants of the brief (attention-moe.md A10 11-14,
-- B10 1-10), decoding with caches, cache sizes and parameter formulas, gradients.
local S = require "support"
local nn, F = tide.nn, tide.F
tide.manual_seed(3)

local function weights2(m)
  local n = 0
  for _, p in ipairs(m:parameters()) do if p:dim() >= 2 then n = n + p:numel() end end
  return n
end

-- every kind: prefill + decode = one full pass (B10 5), formulas (B10 7), gradients
for _, kind in ipairs({"mha", "mqa", "gqa", "mla", "tpa", "lightning"}) do
  local a = nn.Attention{kind = kind, dim = 16, heads = 4, kv_heads = 2, block = 4}:to("f64")
  local x = tide.randn(2, 9, 16, {dtype = "f64"})
  local full = a(x)
  for _, p in ipairs({1, 5, 8}) do
    local c = a:new_cache()
    local parts = {a(x:narrow(2, 1, p), c)}
    for t = p + 1, 9 do parts[#parts + 1] = a(x:narrow(2, t, 1), c) end
    S.close(tide.cat(parts, 2), full, 1e-10)
  end
  assert(weights2(a) == a:formula_parameters(), kind .. ": parameters " .. weights2(a) .. " vs formula " .. a:formula_parameters())
  tide.autograd.gradcheck(function(t) return a(t) end, {tide.randn(1, 5, 16, {dtype = "f64"}):requires_grad_()})
end

-- B10 6: cache sizes of B4
local tpa = nn.Attention{kind = "tpa", dim = 64, heads = 34, head_dim = 64, q_rank = 6, k_rank = 2, v_rank = 2}
assert(tpa:kv_cache_elements_per_token() == 392)
assert(tpa:kv_cache_bytes_per_token(2) == 784 and 392 * 12 * 2 == 9408)
assert(nn.Attention{kind = "mha", dim = 768, heads = 12}:kv_cache_elements_per_token() == 1536)
assert(nn.Attention{kind = "mqa", dim = 64, heads = 4, head_dim = 64}:kv_cache_elements_per_token() == 128)
assert(nn.Attention{kind = "gqa", dim = 64, heads = 4, kv_heads = 2, head_dim = 64}:kv_cache_elements_per_token() == 256)
assert(nn.Attention{kind = "mla", dim = 64, heads = 4, head_dim = 64, kv_lora_rank = 256, rope_head_dim = 32}:kv_cache_elements_per_token() == 288)
assert(nn.Attention{kind = "lightning", dim = 64, heads = 4}:kv_cache_bytes_per_token() == 0)
assert(nn.Attention{kind = "lightning", dim = 64, heads = 4}:state_bytes() == 4 * 16 * 16 * 4)

-- B10 8: GQA with one query head per KV head is MHA; with all heads on one KV head it is MQA
do
  local x = tide.randn(2, 7, 16, {dtype = "f64"})
  local g = nn.Attention{kind = "gqa", dim = 16, heads = 4, kv_heads = 4}:to("f64")
  local m = nn.Attention{kind = "mha", dim = 16, heads = 4}:to("f64")
  m:load_state_dict(g:state_dict())
  S.close(m(x), g(x), 1e-12)
  local g1 = nn.Attention{kind = "gqa", dim = 16, heads = 4, kv_heads = 1}:to("f64")
  local q = nn.Attention{kind = "mqa", dim = 16, heads = 4}:to("f64")
  q:load_state_dict(g1:state_dict())
  S.close(q(x), g1(x), 1e-12)
end

-- B10 1: RoPE commutes with the TPA factorization: rope(A^T B / R) = A^T rope(B) / R
do
  local R, h, d, T = 3, 4, 8, 6
  local A = tide.randn(1, T, h, R, {dtype = "f64"})
  local B = tide.randn(1, T, R, d, {dtype = "f64"})
  local rope = nn.Rope.new(d)
  local materialized = (A:matmul(B) / R):transpose(2, 3)                  -- (1, h, T, d)
  local rotB = rope:apply(B:transpose(2, 3), 0):transpose(2, 3)          -- rows rotated per token
  S.close(rope:apply(materialized, 0), (A:matmul(rotB) / R):transpose(2, 3), 1e-13)
end

-- B10 2: shifting every position by one offset leaves TPA and MHA outputs unchanged
for _, kind in ipairs({"tpa", "mha"}) do
  local a = nn.Attention{kind = kind, dim = 16, heads = 4}:to("f64")
  local x = tide.randn(1, 6, 16, {dtype = "f64"})
  local y0 = a(x)
  local c = a:new_cache()
  c.len = 37      -- pretend 37 earlier positions with no keys: every position shifts by 37
  local y1 = a(x, c)
  S.close(y1, y0, 1e-10)
end

-- B10 3: factor-space attention (B3) equals the materialized softmax(QK^T / sqrt(d)) V
do
  local T, h, d, Rq, Rk, Rv = 9, 4, 8, 3, 2, 2
  local function r(...) return tide.randn({...}, {dtype = "f64"}) end
  local Aq, Bq, Ak, Bk, Av, Bv = r(T, Rq, h), r(T, Rq, d), r(T, Rk, h), r(T, Rk, d), r(T, Rv, h), r(T, Rv, d)
  local Q = tide.einsum("trh,trd->htd", Aq, Bq) / Rq
  local K = tide.einsum("trh,trd->htd", Ak, Bk) / Rk
  local V = tide.einsum("trh,trd->htd", Av, Bv) / Rv
  local mat = F.scaled_dot_product_attention(Q:unsqueeze(1), K:unsqueeze(1), V:unsqueeze(1), {causal = true}):squeeze(1)
  -- factor space: P[q,k,r,s] = <Bq[q,r], Bk[k,s]>, L[h,q,k] = sQ sK / sqrt(d) sum_rs Aq Ak P
  local P = tide.einsum("qrd,ksd->qkrs", Bq, Bk)
  local L = tide.einsum("qrh,ksh,qkrs->hqk", Aq, Ak, P) * (1 / (Rq * Rk * math.sqrt(d)))
  L = L:masked_fill(tide.ones(T, T, {dtype = "bool"}):triu(1), -math.huge)
  local alpha = L:softmax(3)
  local O = tide.einsum("hqk,kuh,kud->hqd", alpha, Av, Bv) / Rv
  S.close(O, mat, 1e-12)
end

-- B10 4: MHA, MQA and GQA as non-contextual TPA: constant head factors reproduce the heads
do
  local T, h, d = 5, 4, 6
  local Bh = tide.randn(T, h, d, {dtype = "f64"})         -- B_i(x) = W_i^T x for head i
  local A = tide.eye(h, {dtype = "f64"}) * h               -- R = h, A = h I
  S.close(tide.einsum("ri,trd->tid", A, Bh) / h, Bh, 1e-14)
  local b1 = tide.randn(T, 1, d, {dtype = "f64"})          -- MQA: R = 1, A = 1_h
  S.close(tide.einsum("ri,trd->tid", tide.ones(1, h, {dtype = "f64"}), b1), b1:expand(T, h, d), 1e-14)
  local G = 2                                              -- GQA: A_j = G * mask_j
  local mask = tide.tensor({{1, 1, 0, 0}, {0, 0, 1, 1}}, "f64")
  local bg = tide.randn(T, G, d, {dtype = "f64"})
  S.close(tide.einsum("ri,trd->tid", mask * G, bg) / G, bg:repeat_interleave(2, 2), 1e-14)
end

-- B10 9: MLA's no-RoPE score part can be taken against the cached latents (absorbed form)
do
  local a = nn.Attention{kind = "mla", dim = 16, heads = 2, head_dim = 4, kv_lora_rank = 6, q_lora_rank = 8, rope_head_dim = 2}:to("f64")
  local x = tide.randn(1, 5, 16, {dtype = "f64"})
  local h, dh, dr, dc = 2, 4, 2, 6
  local cq = a.q_norm(a.wdq(x))                                        -- (1, 5, dq)
  local ckv = a.kv_norm(a.wdkv(x):narrow(3, 1, dc))                    -- (1, 5, dc)
  local WUQ = a.wuq.weight:view(h, dh + dr, 8)                         -- per head rows
  local WUK = a.wukv.weight:view(h, 2 * dh, dc):narrow(2, 1, dh)       -- k_nope rows
  for i = 1, h do
    local qn = cq:matmul(WUQ[i]:narrow(1, 1, dh):t())                  -- (1, 5, dh)
    local kn = ckv:matmul(WUK[i]:t())
    local direct = qn:matmul(kn:transpose(2, 3))
    local absorbed = cq:matmul(WUQ[i]:narrow(1, 1, dh):t():matmul(WUK[i])):matmul(ckv:transpose(2, 3))
    S.close(absorbed, direct, 1e-12)
  end
end

-- B10 10: with zero-initialized output projections the block is the identity on the residual
do
  local a = nn.Attention{kind = "tpa", dim = 16, heads = 4, zero_init_output = true}
  local x = tide.randn(2, 3, 16)
  assert(a(x):abs():max():item() == 0)
end

-- A10 10: slopes
S.close(nn.lightning_slopes(8), {0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625, 0.0078125, 0.00390625}, 1e-15)
S.close(nn.lightning_slopes(12), {0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625, 0.0078125, 0.00390625,
                                  0.70710678, 0.35355339, 0.17677670, 0.08838835}, 1e-8)
S.close(nn.lightning_slopes(64)[1], 0.9170040432, 1e-9)
S.close(nn.lightning_slopes(4, {layer = 3, layers = 4}), nn.lightning_slopes(4) * 1e-5, 1e-12)

-- A10 11: the lightning block's output does not change when the operator's V is scaled
do
  local q, k, v = tide.randn(1, 2, 7, 4, {dtype = "f64"}), tide.randn(1, 2, 7, 4, {dtype = "f64"}), tide.randn(1, 2, 7, 4, {dtype = "f64"})
  local sl = nn.lightning_slopes(2)
  local function block(vv)
    local o = F.lightning_attention(q, k, vv, sl)
    return F.rms_norm(o:transpose(2, 3):reshape(1, 7, 8), 8, nil, {eps = 1e-12})
  end
  S.close(block(v * 3.5), block(v), 1e-9)
end

-- A10 12, 13: the 7:1 layout over 80 layers; DeepNorm constants
do
  local types = tide.models.layer_types("LLLLLLLS", 80)
  local soft = {}
  for l = 1, 80 do if types[l] == "softmax" then soft[#soft + 1] = l - 1 end end
  assert(#soft == 10 and soft[1] == 7 and soft[10] == 79)
  for i = 2, 10 do assert(soft[i] - soft[i - 1] == 8) end
  local alpha, beta = tide.models.deepnorm_constants(80)
  S.close(alpha, 3.5565588200778455, 1e-15)
  S.close(beta, 0.19881768219176266, 1e-15)
end

-- A10 14: parameter counting from the config, checked on built models, then at full size
do
  for _, cfg in ipairs({
    {vocab = 50, dim = 16, layers = 3, heads = 4, layout = "LLS", attention = {kind = "gqa", kv_heads = 2}, norm = "rmsnorm", tied = false},
    {vocab = 40, dim = 16, layers = 2, heads = 2, attention = {kind = "mqa"}},
    {vocab = 30, dim = 8, layers = 4, heads = 2, layout = "LS", deepnorm = true},
    {},                                                         -- GPT's defaults
    {vocab = 30, dim = 16, layers = 2, heads = 4, kv_heads = 2, pos = "learned", max_len = 12},
    {vocab = 30, dim = 16, layers = 2, heads = 2, attention = {kind = "mla"}},
    {vocab = 30, dim = 16, layers = 2, heads = 2, attention = {kind = "tpa", q_rank = 3, k_rank = 2, v_rank = 1}},
    {vocab = 30, dim = 16, layers = 2, heads = 2, head_dim = 6, layout = "LS", attention = {kind = "mha", bias = true}},
  }) do
    local m = tide.models.GPT(cfg)
    assert(m:num_parameters() == tide.models.count_parameters(cfg),
      ("count_parameters %d vs built %d"):format(tide.models.count_parameters(cfg), m:num_parameters()))
  end
  local full = tide.models.count_parameters{vocab = 200064, dim = 6144, layers = 80, heads = 64, head_dim = 128,
    attention = {kind = "gqa", kv_heads = 8}, layout = "LLLLLLLS", norm = "rmsnorm", tied = false, bias = false,
    moe = {experts = 32, top_k = 2, hidden = 9216}}
  assert(math.abs(full - 456.1e9) / 456.1e9 < 1e-3, "MiniMax-Text-01 parameters " .. full)
  S.checkerror("expected a GPT config table", tide.models.count_parameters, 5)
end

-- attention = {zero_init_output = true} survives GPT's own init, in softmax and lightning layers
do
  local m = tide.models.GPT{vocab = 20, dim = 8, layers = 2, heads = 2, layout = "LS", attention = {zero_init_output = true}}
  for _, blk in ipairs(m.blocks) do assert(blk.attn.wo.weight:abs():max():item() == 0) end
end

-- the hybrid GPT with DeepNorm decodes with its mixed caches exactly
do
  local gpt = tide.models.GPT{vocab = 32, dim = 16, layers = 4, heads = 2, layout = "LLLS", deepnorm = true, max_len = 32}:to("f64")
  gpt:eval()
  local x = tide.randint(1, 33, {2, 10})
  local full = gpt(x)
  local c = gpt:new_cache()
  local parts = {gpt:forward(x:narrow(2, 1, 6), c)}
  for t = 7, 10 do parts[#parts + 1] = gpt:forward(x:narrow(2, t, 1), c) end
  S.close(tide.cat(parts, 2), full, 1e-10)
  assert(gpt:kv_cache_bytes_per_token() == 2 * 2 * 8 * 4, "one softmax layer of four caches K and V")
end

-- bad input
S.checkerror("kind must be mha, mqa, gqa, mla, tpa or lightning", nn.Attention, {kind = "sparse", dim = 8, heads = 2})
S.checkerror("unknown option 'kv_head'", nn.Attention, {kind = "gqa", dim = 8, heads = 2, kv_head = 1})
-- the functional forms reject misspelt options and non-table options (a silent non-causal run
-- from {casual = true} would be worse than an error), and integer masks
do
  local q = tide.randn(1, 2, 4, 8)
  S.checkerror("unknown option 'casual'", tide.F.scaled_dot_product_attention, q, q, q, {casual = true})
  S.checkerror("options table", tide.F.scaled_dot_product_attention, q, q, q, 5)
  S.checkerror("mask must be bool", tide.F.scaled_dot_product_attention, q, q, q, {mask = tide.ones(4, 4, {dtype = "i64"})})
  S.checkerror("unknown option 'blocks'", tide.F.lightning_attention, q, q, q, tide.ones(2), {blocks = 3})
  S.checkerror("unknown option 'topk'", tide.F.moe_route, tide.rand(4, 3):softmax(2), {topk = 1})
end
S.checkerror("dim 10 is not divisible by heads 4", nn.Attention, {dim = 10, heads = 4})
do
  local e = S.checkerror("expected input (B, T, 8)", function() return nn.Attention{dim = 8, heads = 2}(tide.zeros(2, 8)) end)
  assert(not e:find("Attention: Attention:", 1, true), "the class is named once: " .. e)
end
S.checkerror("layout must be a string of L", tide.models.GPT, {layout = "LX"})
