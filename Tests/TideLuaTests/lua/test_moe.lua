-- Mixture of experts (MiniMax-01 brief A6): tide.F.moe_route / moe_experts and tide.nn.MoE.
-- NumPy references (scripts/fixtures/gen_moe.py -> Tests/fixtures/moe/moe.npz), the MoE
-- invariants A10 15-20, gradchecks in f64 and bad input.
local S = require "support"
local F, nn = tide.F, tide.nn
local here = debug.getinfo(1, "S").source:sub(2):match("(.*)/") or "."
local fx = tide.io.load(here .. "/../../fixtures/moe/moe.npz")
tide.manual_seed(11)

local function maxdiff(a, b) return (a:to("f64") - b:to("f64")):abs():amax():item() end

-- every expert's FFN on every token: (E, T, D)
local function all_ffn(x, w13, w2)
  local E, Fh = w13:size(1), w2:size(2)
  local outs = {}
  for e = 1, E do
    local h = x:matmul(w13[e])
    outs[e] = ((h:narrow(2, 1, Fh):silu() * h:narrow(2, Fh + 1, Fh)):matmul(w2[e])):unsqueeze(1)
  end
  return tide.cat(outs, 1)
end

-- the dense reference sum_j keep * w_j FFN_{e_j}(x), token by token
local function dense_ref(x, w13, w2, index, keep, gates)
  local ffn = all_ffn(x, w13, w2)
  local T, k = index:size(1), index:size(2)
  local y = tide.zeros(x:shape(), {dtype = x:dtype()})
  for t = 1, T do
    for j = 1, k do
      if keep[{t, j}] then y[t] = y[t] + ffn[{index[{t, j}], t}] * gates[{t, j}] end
    end
  end
  return y
end

local function new_moe(o)
  o.dtype = o.dtype or "f64"
  return nn.MoE(o)
end

--------------------------------------------------------------------------------------------
-- NumPy fixtures: output, routing, capacity, aux terms, router-logit gradient
local configs = {
  dropless = {dim = 6, hidden = 5, experts = 4, top_k = 2},
  ["local"] = {dim = 6, hidden = 5, experts = 4, top_k = 2, capacity_factor = 1, groups = 3},
  global = {dim = 6, hidden = 5, experts = 4, top_k = 2, capacity_factor = 1, groups = 3, capacity = "global"},
  shared = {dim = 5, hidden = 4, experts = 6, top_k = 3, shared_experts = 2, shared_hidden = 3,
            aux_loss = {kind = "paper", coef = 0.5}, z_loss = 0.1},
  top1 = {dim = 4, hidden = 3, experts = 5, top_k = 1, renormalize = false, capacity_factor = 1},
}
for name, cfg in pairs(configs) do
  local moe = new_moe(cfg)
  local sd = {}
  for key, v in pairs(fx) do
    local k2 = key:match("^" .. name .. "%.sd%.(.+)$")
    if k2 then sd[k2] = v end
  end
  moe:load_state_dict(sd)
  local x = fx[name .. ".x"]
  local y = moe(x)
  assert(maxdiff(y, fx[name .. ".y"]) < 1e-12, name .. ": output")
  local r, st = moe.routing, moe.stats
  assert(maxdiff(r.index, fx[name .. ".index"]) == 0, name .. ": index")
  assert(maxdiff(r.keep, fx[name .. ".keep"]) == 0, name .. ": keep")
  assert(maxdiff(r.gates, fx[name .. ".gates"]) < 1e-14, name .. ": gates")
  S.close(st.tokens_per_expert, fx[name .. ".counts"], 0)
  assert(st.dropped == fx[name .. ".dropped"]:item(), name .. ": dropped")
  S.close(st.balance_loss, fx[name .. ".balance"]:item(), 1e-13)
  S.close(st.z_loss, fx[name .. ".z"]:item(), 1e-13)
  S.close(st.entropy, fx[name .. ".entropy"]:item(), 1e-13)
  S.close(moe.aux_loss:item(), fx[name .. ".aux"]:item(), 1e-13)
  -- router gradient of the task loss (aux and z coefficients off): dW_r = dz^T x with the
  -- closed form dz of A6.2 (zero on unselected logits)
  if cfg.renormalize ~= false then
    moe.aux_coef, moe.z_coef = 0, 0
    moe:zero_grad()
    local loss = (moe(x) * fx[name .. ".g"]):sum()
    loss:backward()
    local want = fx[name .. ".dlogits"]:t():matmul(x)
    assert(maxdiff(moe.router.weight.grad, want) < 1e-12, name .. ": router gradient")
  end
end
assert(fx["global.dropped"]:item() < fx["local.dropped"]:item())   -- the fixture shows the difference

--------------------------------------------------------------------------------------------
-- A10-15: gates non-negative, summing to 1, equal to a softmax over the selected logits
do
  local moe = new_moe{dim = 8, hidden = 6, experts = 7, top_k = 3}
  local x = tide.randn(50, 8, {dtype = "f64"})
  moe(x)
  local g = moe.routing.gates
  assert(g:min():item() >= 0)
  assert((g:sum(2) - 1):abs():amax():item() < 1e-15)
  local z = F.linear(x, moe.router.weight)
  local want = z:gather(2, moe.routing.index):softmax(2)
  assert(maxdiff(g, want) < 1e-15)
  -- and equal to the renormalized top-k probabilities; the choices are the top-k by probability
  local p = z:softmax(2)
  local sel = p:gather(2, moe.routing.index)
  assert(maxdiff(g, sel / sel:sum(2, {keepdim = true})) < 1e-14)
  local vals = p:topk(3, 2)
  assert(maxdiff(sel, vals) == 0)
end

-- ties go to the lowest expert index, in probability order
do
  local probs = tide.tensor({{0.25, 0.25, 0.25, 0.25}, {0.1, 0.4, 0.1, 0.4}, {0.5, 0.2, 0.2, 0.1}}, "f64")
  local index = F.moe_route(probs, {top_k = 3})
  assert(maxdiff(index, tide.tensor({{1, 2, 3}, {2, 4, 1}, {1, 2, 3}})) == 0)
  -- NaN never wins a choice (a row with NaN still gets k distinct experts)
  local nan = tide.tensor({{0 / 0, 0.2, 0.5, 0.3}}, "f64")
  assert(maxdiff(F.moe_route(nan, {top_k = 3}), tide.tensor({{3, 4, 2}})) == 0)
  -- f32 probabilities route like their f64 values
  local i32 = F.moe_route(probs:to("f32"), {top_k = 3})
  assert(maxdiff(i32, index) == 0)
end

--------------------------------------------------------------------------------------------
-- A10-16: with capacity >= T nothing drops and the sparse MoE equals the dense reference
for _, k in ipairs({1, 2, 4}) do
  local T = 37
  local moe = new_moe{dim = 6, hidden = 9, experts = 5, top_k = k, capacity_factor = 5 / k + 1}
  assert(moe:capacity_for(T) >= T)
  local x = tide.randn(T, 6, {dtype = "f64"})
  local y = moe(x)
  assert(moe.stats.dropped == 0 and moe.stats.drop_fraction == 0)
  local r = moe.routing
  assert(r.keep:all():item())
  assert(maxdiff(y, dense_ref(x, moe.w13, moe.w2, r.index, r.keep, r.gates)) < 1e-13)
  -- identical to the dropless module with the same weights
  local free = new_moe{dim = 6, hidden = 9, experts = 5, top_k = k}
  free:load_state_dict(moe:state_dict())
  assert(maxdiff(free(x), y) == 0)
end

--------------------------------------------------------------------------------------------
-- A10-17: dropped assignments contribute exactly zero; no expert gets more than C per group
for _, mode in ipairs({"local", "global"}) do
  for _, cf in ipairs({0.25, 0.5, 1.0, 1.3}) do
    local T, G, E, k = 48, 4, 6, 2
    local moe = new_moe{dim = 5, hidden = 4, experts = E, top_k = k, capacity_factor = cf, groups = G, capacity = mode}
    -- a skewed router so that capacity binds
    tide.no_grad(function() moe.router.weight:mul_(3) end)
    local x = tide.randn(T, 5, {dtype = "f64"})
    local y = moe(x)
    local r, C = moe.routing, moe:capacity_for(T)
    assert(C == math.ceil(cf * k * (T // G) / E - 1e-9))
    -- the output only has the kept terms: a dense sum over kept choices (exactly, dropped add 0)
    assert(maxdiff(y, dense_ref(x, moe.w13, moe.w2, r.index, r.keep, r.gates)) < 1e-13)
    -- counts per (group, expert) against C (local) or G*C (global)
    local used = {}
    local idx, keep = r.index:totable(), r.keep:totable()
    for t = 1, T do
      for j = 1, k do
        if keep[t][j] then
          local g = mode == "global" and 0 or (t - 1) // (T // G)
          local key = g * E + idx[t][j]
          used[key] = (used[key] or 0) + 1
          assert(used[key] <= (mode == "global" and G * C or C))
        end
      end
    end
    -- first choices fill before second choices: a kept second choice implies the expert was
    -- not full when every first choice had been placed (so no first choice of it was dropped)
    for t = 1, T do
      if keep[t][2] then
        for u = 1, T do
          local same = idx[u][1] == idx[t][2] and (mode == "global" or (u - 1) // (T // G) == (t - 1) // (T // G))
          assert(not same or keep[u][1])
        end
      end
    end
    local kept = 0
    for e = 1, E do kept = kept + moe.stats.tokens_per_expert[e] end
    assert(kept + moe.stats.dropped == T * k)
    -- the weights of an expert only see its kept rows: zeroing a dropped token's input
    -- changes nothing for the others
  end
end

-- the gradient of a dropped choice's gate is zero, and dropped rows give the experts no gradient
do
  local T, D, Fh, E, k = 6, 3, 4, 3, 2
  local x = tide.randn(T, D, {dtype = "f64"}):requires_grad_()
  local w13 = tide.randn(E, D, 2 * Fh, {dtype = "f64"}):requires_grad_()
  local w2 = tide.randn(E, Fh, D, {dtype = "f64"}):requires_grad_()
  local index = tide.tensor({{1, 2}, {1, 3}, {1, 2}, {2, 1}, {3, 1}, {1, 2}})
  local keep = tide.tensor({{true, true}, {true, false}, {false, true}, {true, false}, {false, false}, {true, true}})
  local gates = tide.rand(T, k, {dtype = "f64"}):requires_grad_()
  local y = F.moe_experts(x, index, keep, gates, w13, w2)
  assert(y[5]:abs():sum():item() == 0)                      -- token 5: everything dropped
  y:sum():backward()
  assert(gates.grad[{2, 2}] == 0 and gates.grad[{3, 1}] == 0 and gates.grad[{5, 1}] == 0 and gates.grad[{5, 2}] == 0)
  assert(x.grad[5]:abs():sum():item() == 0)
  assert(w13.grad[3]:abs():sum():item() == 0 and w2.grad[3]:abs():sum():item() == 0)  -- expert 3 kept nothing
end

--------------------------------------------------------------------------------------------
-- A10-18: global capacity drops no more than local capacity at equal total capacity
do
  local worse = 0
  for trial = 1, 60 do
    local G = ({1, 2, 3, 4, 6})[trial % 5 + 1]
    local T, E, k = 12 * G * (trial % 3 + 1), 2 + trial % 7, 1 + trial % 2
    local C = 1 + trial % 4
    local logits = tide.randn(T, E, {dtype = "f64"}) * (1 + trial % 4)
    local probs = logits:softmax(2)
    local _, _, cl, dl = F.moe_route(probs, {top_k = k, capacity = C, groups = G})
    local _, _, cg, dg = F.moe_route(probs, {top_k = k, capacity = C, groups = G, global = true})
    assert(dg <= dl, ("trial %d: global dropped %d > local %d"):format(trial, dg, dl))
    assert(cl:sum():item() + dl == T * k and cg:sum():item() + dg == T * k)
    assert(cg:amax():item() <= G * C)
    if dg < dl then worse = worse + 1 end
  end
  assert(worse > 10)   -- and strictly fewer in many of them
  -- capacity 0 drops everything; nil is dropless
  local p = tide.rand(8, 3):softmax(2)
  local _, keep, counts, d = F.moe_route(p, {top_k = 2, capacity = 0})
  assert(d == 16 and not keep:any():item() and counts:sum():item() == 0)
  local _, _, _, d2 = F.moe_route(p, {top_k = 2})
  assert(d2 == 0)
end

--------------------------------------------------------------------------------------------
-- A10-19: aux loss. Uniform probabilities (zero router: all tokens tie, so every choice goes
-- to experts 1..k, maximally unbalanced f) still give exactly k in the switch form, since
-- P_i = 1/E; the paper form gives 1/E^2.
for _, k in ipairs({1, 2, 3}) do
  local E = 8
  local moe = new_moe{dim = 4, hidden = 3, experts = E, top_k = k}
  tide.no_grad(function() moe.router.weight:zero_() end)
  moe(tide.randn(20, 4, {dtype = "f64"}))
  S.close(moe.stats.balance_loss, k, 1e-15)
  S.close(moe.aux_loss:item(), 0.01 * k, 1e-15)
  local paper = new_moe{dim = 4, hidden = 3, experts = E, top_k = k, aux_loss = {kind = "paper", coef = 1}}
  tide.no_grad(function() paper.router.weight:zero_() end)
  paper(tide.randn(20, 4, {dtype = "f64"}))
  S.close(paper.aux_loss:item(), 1 / E ^ 2, 1e-15)
end
-- uniform routing in the balanced sense: every expert gets exactly T k / E choices and
-- uniform probabilities -> k; computed by balance_loss directly
do
  local E, k, T = 4, 2, 8
  local probs = tide.full({T, E}, 1 / E, {dtype = "f64"})
  local index = tide.tensor({{1, 2}, {3, 4}, {2, 3}, {4, 1}, {1, 3}, {2, 4}, {3, 1}, {4, 2}})
  S.close(nn.MoE.balance_loss(probs, index, "switch"):item(), 2, 1e-15)
  S.close(nn.MoE.balance_loss(probs, index, "paper"):item(), 1 / 16, 1e-15)
end
-- a collapsed router: every token to experts 3 and 5 with probabilities p3, p5 (the rest tiny):
-- f[1, 3] = f[2, 5] = 1, so aux = E (P_3 + P_5) by hand
do
  local E, D = 6, 4
  local moe = new_moe{dim = D, hidden = 3, experts = E, top_k = 2, aux_loss = {coef = 1}}
  local w = tide.zeros(E, D, {dtype = "f64"})
  w[{3, 1}] = 10; w[{5, 1}] = 9
  tide.no_grad(function() moe.router.weight[{}] = w end)
  local x = tide.ones(10, D, {dtype = "f64"})
  moe(x)
  local zrow = {0, 0, 10, 0, 9, 0}
  local den = 0
  for e = 1, E do den = den + math.exp(zrow[e]) end
  local want = E * (math.exp(10) + math.exp(9)) / den
  S.close(moe.stats.balance_loss, want, 1e-14)
  assert(moe.stats.balance_loss > 5.9)
  assert(moe.stats.routed_per_expert[3] == 10 and moe.stats.routed_per_expert[5] == 10 and moe.stats.max_load == 3)
end
-- the aux loss is differentiable (through P only) and reaches every logit
do
  local moe = new_moe{dim = 4, hidden = 3, experts = 5, top_k = 2, aux_loss = {coef = 1}}
  local x = tide.randn(9, 4, {dtype = "f64"})
  moe(x)
  moe.aux_loss:backward()
  assert(moe.router.weight.grad:abs():amin():item() > 0)
  assert(moe.w13.grad == nil or moe.w13.grad:abs():sum():item() == 0)
end

--------------------------------------------------------------------------------------------
-- A10-20: router gradient of the task loss: exactly zero on unselected logits, central
-- differences on the selected ones (away from ties)
do
  local T, D, E, k = 9, 5, 6, 2
  local moe = new_moe{dim = D, hidden = 4, experts = E, top_k = k, aux_loss = {coef = 0}}
  local x = tide.randn(T, D, {dtype = "f64"})
  local g = tide.randn(T, D, {dtype = "f64"})
  local z = F.linear(x, moe.router.weight):detach():requires_grad_()
  -- the module's gate path on given logits
  local index, keep = F.moe_route(z:softmax(2):detach(), {top_k = k})
  local function task(zz)
    local gates = zz:gather(2, index):softmax(2)
    return (F.moe_experts(x, index, keep, gates, moe.w13, moe.w2) * g):sum()
  end
  task(z):backward()
  local sel = tide.zeros(T, E, {dtype = "bool"}):scatter(2, index, tide.ones(T, k, {dtype = "bool"}))
  assert(z.grad:masked_fill(sel, 0):abs():amax():item() == 0)       -- exactly zero
  local h = 1e-6
  for t = 1, T do
    for j = 1, k do
      local e = index[{t, j}]
      local zp, zm = z:detach():clone(), z:detach():clone()
      zp[{t, e}] = zp[{t, e}] + h; zm[{t, e}] = zm[{t, e}] - h
      local fd = (task(zp):item() - task(zm):item()) / (2 * h)
      S.close(z.grad[{t, e}], fd, 1e-6)
    end
  end
  -- and through the module: the router weight gradient is dz^T x with that dz
  moe:zero_grad()
  local loss = (moe(x) * g):sum()
  loss:backward()
  assert(maxdiff(moe.router.weight.grad, z.grad:t():matmul(x)) < 1e-12)
end

--------------------------------------------------------------------------------------------
-- gradchecks in f64: the fused op, and the whole module (router, gates, experts, shared
-- experts, capacity, aux and z losses)
do
  local T, D, Fh, E, k = 11, 4, 3, 4, 2
  local x = tide.randn(T, D, {dtype = "f64"}):requires_grad_()
  local w13 = tide.randn(E, D, 2 * Fh, {dtype = "f64"}):requires_grad_()
  local w2 = tide.randn(E, Fh, D, {dtype = "f64"}):requires_grad_()
  local gates = tide.rand(T, k, {dtype = "f64"}):requires_grad_()
  local index, keep = F.moe_route(tide.rand(T, E, {dtype = "f64"}), {top_k = k, capacity = 5})
  assert(tide.autograd.gradcheck(function(a, b, c, d) return F.moe_experts(a, index, keep, b, c, d) end, {x, gates, w13, w2}))
  -- only some inputs needing a gradient
  local xs = x:detach()
  assert(tide.autograd.gradcheck(function(b) return F.moe_experts(xs, index, keep, b, w13:detach(), w2:detach()) end, {gates}))
  assert(tide.autograd.gradcheck(function(c) return F.moe_experts(xs, index, keep, gates:detach(), c, w2:detach()) end, {w13}))
  assert(tide.autograd.gradcheck(function(a) return F.moe_experts(a, index, keep, gates:detach(), w13:detach(), w2:detach()) end, {x}))
end
for _, cfg in ipairs({
  {dim = 4, hidden = 3, experts = 5, top_k = 2, shared_experts = 1, shared_hidden = 2, capacity_factor = 0.8, groups = 2,
   aux_loss = {kind = "switch", coef = 0.3}, z_loss = 0.2},
  {dim = 4, hidden = 3, experts = 3, top_k = 1, renormalize = false, capacity_factor = 2, capacity = "global", groups = 2,
   aux_loss = {kind = "paper", coef = 2}},
}) do
  local moe = new_moe(cfg)
  local x = tide.randn(2, 5, 4, {dtype = "f64"}):requires_grad_()
  local params = moe:parameters()
  local inputs = {x}
  for _, p in ipairs(params) do inputs[#inputs + 1] = p end
  local ok, report = tide.autograd.gradcheck(function(a) return {moe(a), moe.aux_loss} end, inputs)
  assert(ok, report)
end

--------------------------------------------------------------------------------------------
-- the f32 kernels agree with f64; results do not depend on the thread count
do
  local moe = nn.MoE{dim = 16, hidden = 24, experts = 6, top_k = 2, capacity_factor = 1.1, groups = 2}
  local x = tide.randn(3, 40, 16)
  local y32 = moe(x)
  local g = tide.randn(3, 40, 16)
  local loss = (y32 * g):sum()
  loss:backward()
  local grads32 = {}
  for _, p in ipairs(moe:parameters()) do grads32[#grads32 + 1] = p.grad end
  local m64 = nn.MoE{dim = 16, hidden = 24, experts = 6, top_k = 2, capacity_factor = 1.1, groups = 2, dtype = "f64"}
  m64:load_state_dict(moe:state_dict())
  local y64 = m64(x:to("f64"))
  assert(maxdiff(y32, y64) < 1e-5)
  local loss64 = (y64 * g:to("f64")):sum()
  loss64:backward()
  for i, p in ipairs(m64:parameters()) do
    assert(maxdiff(grads32[i], p.grad) < 1e-4 * (1 + p.grad:abs():amax():item()))
  end
  local n = tide.get_num_threads()
  tide.set_num_threads(1)
  moe:zero_grad()
  local y1 = moe(x)
  local loss1 = (y1 * g):sum()
  loss1:backward()
  tide.set_num_threads(n)
  assert(maxdiff(y1, y32) == 0)
  for i, p in ipairs(moe:parameters()) do assert(maxdiff(grads32[i], p.grad) == 0) end
  -- few experts (split into row and column blocks): still independent of the thread count,
  -- and equal to the dense reference
  local T, D, Fh = 700, 12, 20
  for _, E in ipairs({1, 2}) do
    local xx = tide.randn(T, D):requires_grad_()
    local a13, a2 = tide.randn(E, D, 2 * Fh):requires_grad_(), tide.randn(E, Fh, D):requires_grad_()
    local idx, kp = F.moe_route(tide.rand(T, E), {top_k = 1})
    local gg = tide.rand(T, 1):requires_grad_()
    local dy = tide.randn(T, D)
    local res = {}
    for _, th in ipairs({1, 2}) do
      tide.set_num_threads(th)
      xx.grad, a13.grad, a2.grad, gg.grad = nil, nil, nil, nil
      local yy = F.moe_experts(xx, idx, kp, gg, a13, a2)
      yy:backward(dy)
      res[th] = {yy, xx.grad, a13.grad, a2.grad, gg.grad}
    end
    tide.set_num_threads(n)
    for i = 1, 5 do assert(maxdiff(res[1][i], res[2][i]) == 0) end
    local ref = dense_ref(xx:detach():to("f64"), a13:detach():to("f64"), a2:detach():to("f64"), idx, kp, gg:detach():to("f64"))
    assert(maxdiff(res[1][1], ref) < 1e-4 * ref:abs():amax():item())
  end
end

--------------------------------------------------------------------------------------------
-- options: (..., D) inputs, jitter, router dtype, eval, stats logging, repr
do
  local moe = nn.MoE{dim = 8, hidden = 4, experts = 4, jitter = 0.3, generator = tide.Generator(3)}
  local x = tide.randn(2, 3, 5, 8)
  local y = moe(x)
  assert(#y:shape() == 4 and y:size(3) == 5 and y:size(4) == 8)
  assert(moe.stats.tokens == 30)
  -- jitter: training routes on noisy router inputs (probabilities change), eval does not
  moe:eval()
  local pe = moe(x) and moe.routing.probs
  local pe2 = moe(x) and moe.routing.probs
  assert(maxdiff(pe, pe2) == 0)
  moe:train()
  moe(x)
  assert(maxdiff(moe.routing.probs, pe) > 1e-4)
  local clean = nn.MoE{dim = 8, hidden = 4, experts = 4}
  clean:load_state_dict(moe:state_dict())
  clean(x)
  assert(maxdiff(clean.routing.probs, pe) == 0)
  -- the router runs in f64 when asked (the gates follow), the output stays f32
  local r64 = nn.MoE{dim = 8, hidden = 4, experts = 4, router_dtype = "f64"}
  r64:load_state_dict(clean:state_dict())
  local y64 = r64(x)
  assert(r64.routing.probs:dtype() == "f64" and y64:dtype() == "f32" and clean.routing.probs:dtype() == "f32")
  assert(maxdiff(r64.routing.probs, clean.routing.probs) > 0 and maxdiff(r64.routing.probs, clean.routing.probs) < 1e-6)
  -- stats are plain numbers and can be logged
  local path = os.tmpname()
  local log = tide.train.Logger(path)
  log:write{step = 1, moe = clean:routing_stats()}
  log:close()
  local rec = tide.train.read_jsonl(path)[1]
  os.remove(path)
  assert(rec.moe.tokens == 30 and #rec.moe.tokens_per_expert == 4 and type(rec.moe.entropy) == "number")
  assert(tostring(clean):find("MoE", 1, true) and tostring(clean):find("experts=4", 1, true))
  -- parameters: router, w13, w2 (+ shared) with the documented layouts
  local m = nn.MoE{dim = 8, hidden = 4, experts = 3, shared_experts = 2, shared_hidden = 5}
  local names = {}
  for name, p in m:named_parameters() do names[#names + 1] = name .. ":" .. table.concat(p:shape(), "x") end
  assert(table.concat(names, " ") == "w13:3x8x8 w2:3x4x8 shared_w13:8x20 shared_w2:10x8 router.weight:3x8", table.concat(names, " "))
end

--------------------------------------------------------------------------------------------
-- bad input names the function, what was expected and what was got
S.checkerror("MoE: dim must be a positive integer, got a nil", nn.MoE, {hidden = 4})
S.checkerror("MoE: expected an options table", nn.MoE, 4)
S.checkerror("MoE: unknown option 'expert'", nn.MoE, {dim = 4, hidden = 4, expert = 3})
S.checkerror("MoE: top_k must be at most experts = 4, got 5", nn.MoE, {dim = 4, hidden = 4, experts = 4, top_k = 5})
S.checkerror("MoE: capacity_factor must be a finite number > 0", nn.MoE, {dim = 4, hidden = 4, capacity_factor = 0})
S.checkerror("MoE: capacity must be 'local' or 'global', got 'world'", nn.MoE, {dim = 4, hidden = 4, capacity = "world"})
S.checkerror("MoE: aux_loss.kind must be 'switch' or 'paper', got 'gshard'", nn.MoE, {dim = 4, hidden = 4, aux_loss = {kind = "gshard"}})
S.checkerror("unknown option 'coeff'", nn.MoE, {dim = 4, hidden = 4, aux_loss = {coeff = 1}})
S.checkerror("MoE: jitter must be a number >= 0, got -1", nn.MoE, {dim = 4, hidden = 4, jitter = -1})
S.checkerror("MoE: router_dtype must be 'f32' or 'f64', got 'bf16'", nn.MoE, {dim = 4, hidden = 4, router_dtype = "bf16"})
S.checkerror("MoE: shared_experts must be an integer >= 0", nn.MoE, {dim = 4, hidden = 4, shared_experts = 1.5})
do
  local moe = nn.MoE{dim = 4, hidden = 3, experts = 4, capacity_factor = 1, groups = 3}
  S.checkerror("MoE: expected input of shape (..., 4), got 5x3", moe, tide.randn(5, 3))
  S.checkerror("MoE: expected a float input (f32 or f64), got i64", moe, tide.ones(6, 4, {dtype = "i64"}))
  S.checkerror("MoE: expected an input tensor (..., 4), got a nil", moe, nil)
  S.checkerror("MoE: 5 tokens do not split into 3 equal groups", moe, tide.randn(5, 4))
  S.checkerror("MoE: expected at least one token", moe, tide.randn(0, 4))
end
S.checkerror("moe_route: expected float probabilities of shape (T, E), got f32 5", F.moe_route, tide.rand(5))
S.checkerror("moe_route: top_k must be in 1...3, got 4", F.moe_route, tide.rand(5, 3), {top_k = 4})
S.checkerror("moe_route: 5 tokens do not split into 2 equal groups", F.moe_route, tide.rand(5, 3), {groups = 2})
do
  local x, w13, w2 = tide.randn(4, 3), tide.randn(2, 3, 8), tide.randn(2, 4, 3)
  local idx, keep, g = tide.ones(4, 2, {dtype = "i64"}), tide.ones(4, 2, {dtype = "bool"}), tide.rand(4, 2)
  S.checkerror("moe_experts: expected w13 (E, 3, 2F) and w2 (E, F, 3)", F.moe_experts, x, idx, keep, g, tide.randn(2, 4, 8), w2)
  S.checkerror("moe_experts: expected x of shape (T, D)", F.moe_experts, tide.randn(4), idx, keep, g, w13, w2)
  S.checkerror("expert index 3 out of range for 2 experts", F.moe_experts, x, idx * 3, keep, g, w13, w2)
  S.checkerror("moe_experts: expected index (i64), keep (bool) and float gates of shape (4, k)", F.moe_experts, x, idx, keep, tide.rand(4, 3), w13, w2)
  S.checkerror("i64 index tensor expected", F.moe_experts, x, idx:to("f32"), keep, g, w13, w2)
end

print("test_moe: ok")
