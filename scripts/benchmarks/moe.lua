-- Tide side of the MoE benchmark (scripts/benchmarks/moe.py is PyTorch's): one tide.nn.MoE
-- layer, forward + backward, 4096 tokens, dim 256, 8 SwiGLU experts of hidden 512, top-2,
-- fp32 router, dropless, Switch aux loss (coef 0.01) added to sum(y * g); and a dense SwiGLU
-- with the same active FLOPs (hidden 2 * 512) for the routing and dispatch overhead.
-- Prints "moe_fwd_bwd <seconds>" and "moe_dense_fwd_bwd <seconds>" (median of timed runs).
local reps = tonumber(arg and arg[1]) or 12
tide.set_num_threads(2)
tide.manual_seed(0)
local T, D, H, E, K = 4096, 256, 512, 8, 2
local moe = tide.nn.MoE{dim = D, hidden = H, experts = E, top_k = K, aux_loss = {kind = "switch", coef = 0.01}}
local x = tide.randn(T, D):requires_grad_()
local g = tide.randn(T, D)
local wd13 = (tide.randn(D, 2 * K * H) / math.sqrt(D)):requires_grad_()
local wd2 = (tide.randn(K * H, D) / math.sqrt(H)):requires_grad_()

local function median(fn)
  local times = {}
  for _ = 1, reps do
    x.grad, wd13.grad, wd2.grad = nil, nil, nil
    moe:zero_grad()
    local t0 = tide.clock()
    fn()
    times[#times + 1] = tide.clock() - t0
  end
  local kept = {}
  for i = 3, #times do kept[#kept + 1] = times[i] end
  table.sort(kept)
  return kept[#kept // 2 + 1]
end

local function step_moe()
  local y = moe(x)
  local loss = (y * g):sum() + moe.aux_loss
  loss:backward()
end

local function step_dense()
  local h = x:matmul(wd13)
  local y = (h:narrow(2, 1, K * H):silu() * h:narrow(2, K * H + 1, K * H)):matmul(wd2)
  local loss = (y * g):sum()
  loss:backward()
end

print(("moe_fwd_bwd %.6g"):format(median(step_moe)))
print(("moe_dense_fwd_bwd %.6g"):format(median(step_dense)))
