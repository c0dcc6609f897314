-- Tide side of the attention benchmark (scripts/benchmarks/attention.py is PyTorch's).
-- Prints "name seconds" (best of several runs, wall clock, 2 threads):
--   attn_sdpa_causal_fwd_N, attn_sdpa_causal_fwdbwd_N   causal softmax attention (fused SDPA),
--       B = 1, H = 8, D = 64, N in 512..4096; fwdbwd = forward, sum, backward into q, k, v
--   attn_lightning_fwd_N       lightning attention forward (MiniMax-01, block 64), B = 1, H = 8,
--       d = e = 64, N in 1K..64K, against a blocked PyTorch version of brief A2.2
--   attn_sdpa_causal_fwd_16384 Tide's softmax at 16K, the row to compare attn_lightning_fwd_16384 with
tide.set_num_threads(2)
tide.manual_seed(0)
local F = tide.F
local best = require("bench_common").best
local function qkv(n) return tide.randn(1, 8, n, 64), tide.randn(1, 8, n, 64), tide.randn(1, 8, n, 64) end

for _, n in ipairs({512, 1024, 2048, 4096}) do
  local q, k, v = qkv(n)
  local reps = n <= 2048 and 10 or 6
  print(("attn_sdpa_causal_fwd_%d %.6g"):format(n, best(reps, function() return F.scaled_dot_product_attention(q, k, v, {causal = true}) end)))
  q:requires_grad_(); k:requires_grad_(); v:requires_grad_()
  print(("attn_sdpa_causal_fwdbwd_%d %.6g"):format(n, best(reps, function()
    F.scaled_dot_product_attention(q, k, v, {causal = true}):sum():backward()
    q.grad, k.grad, v.grad = nil, nil, nil
  end)))
end

local slopes = tide.nn.lightning_slopes(8)
for _, n in ipairs({1024, 4096, 16384, 65536}) do
  local q, k, v = qkv(n)
  print(("attn_lightning_fwd_%d %.6g"):format(n, best(n <= 4096 and 10 or 3, function() return F.lightning_attention(q, k, v, slopes) end)))
end

local q, k, v = qkv(16384)
print(("attn_sdpa_causal_fwd_16384 %.6g"):format(best(1, function() return F.scaled_dot_product_attention(q, k, v, {causal = true}) end)))
