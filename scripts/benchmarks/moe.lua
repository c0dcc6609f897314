-- Tide side of the MoE benchmark (scripts/benchmarks/moe.py is PyTorch's): one tide.nn.MoE
-- layer, forward + backward, 4096 tokens, dim 256, 8 SwiGLU experts of hidden 512, top-2,
-- fp32 router, dropless, Switch aux loss (coef 0.01) added to sum(y * g); and a dense SwiGLU
-- with the same active FLOPs (hidden 2 * 512) for the routing and dispatch overhead, once
-- composed of tensor ops (as moe.py's) and once as the fused expert kernel with a single
-- expert taking every token (moe_dense1: big multi-threaded GEMMs, no routing).
-- Prints "moe_fwd_bwd <seconds>" and "moe_dense_fwd_bwd <seconds>" (best of the timed runs
-- after two warm-up runs: the machine is shared, the minimum is the stable statistic).
local reps = tonumber(arg and arg[1]) or 12
tide.set_num_threads(2)
tide.manual_seed(0)
local T, D, H, E, K = 4096, 256, 512, 8, 2
local moe = tide.nn.MoE{dim = D, hidden = H, experts = E, top_k = K, aux_loss = {kind = "switch", coef = 0.01}}
local x = tide.randn(T, D):requires_grad_()
local g = tide.randn(T, D)
local wd13 = (tide.randn(D, 2 * K * H) / math.sqrt(D)):requires_grad_()
local wd2 = (tide.randn(K * H, D) / math.sqrt(H)):requires_grad_()

local function best(fn)
  local times = {}
  for _ = 1, reps do
    x.grad, wd13.grad, wd2.grad = nil, nil, nil
    moe:zero_grad()
    local t0 = tide.clock()
    fn()
    times[#times + 1] = tide.clock() - t0
  end
  local b = math.huge
  for i = 3, #times do b = math.min(b, times[i]) end
  return b
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

local w13d = wd13:detach():view(1, D, 2 * K * H):requires_grad_()
local w2d = wd2:detach():view(1, K * H, D):requires_grad_()
local one_index, one_keep = tide.ones(T, 1, {dtype = "i64"}), tide.ones(T, 1, {dtype = "bool"})
local one_gate = tide.ones(T, 1)
local function step_dense1()
  w13d.grad, w2d.grad = nil, nil
  local y = tide.F.moe_experts(x, one_index, one_keep, one_gate, w13d, w2d)
  local loss = (y * g):sum()
  loss:backward()
end

print(("moe_fwd_bwd %.6g"):format(best(step_moe)))
print(("moe_dense_fwd_bwd %.6g"):format(best(step_dense)))
print(("moe_dense1_fwd_bwd %.6g"):format(best(step_dense1)))
