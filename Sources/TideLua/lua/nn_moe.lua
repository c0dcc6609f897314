-- nn_moe.lua: tide.nn.MoE, a sparse mixture-of-experts feed-forward layer as in MiniMax-01
-- (brief A6): a softmax router in fp32, top-k routing with renormalized gates, SwiGLU experts
-- dispatched sorted by expert (tide.F.moe_experts), optional capacity with token dropping
-- (local or global over groups), optional shared experts, load-balancing and z auxiliary
-- losses, and routing statistics after every forward.
--
--   local moe = tide.nn.MoE{dim = 256, hidden = 512, experts = 8, top_k = 2,
--                           capacity_factor = 1.25, capacity = "global", groups = 4}
--   local y = moe(x)                       -- x: (..., 256) -> (..., 256)
--   local loss = task_loss(y) + moe.aux_loss
--   print(moe.stats.drop_fraction, moe.stats.entropy)
--
-- Router (per token x_t, all in the router dtype): z = x_t W_r^T (no bias), p = softmax(z),
-- the k largest p (ties to the lowest expert), gates w_j = softmax over the k selected logits
-- = p_{e_j} / sum_i p_{e_i}, computed from the gathered logits so the task loss gives exactly
-- zero gradient to the unselected ones. y_t = sum_j w_j FFN_{e_j}(x_t) over kept choices
-- (a dropped choice contributes 0; the kept gates are not renormalized), plus the shared
-- experts' dense SwiGLU. Expert weights: w13 (E, D, 2F) holds [W1 | W3] (columns 1..F are
-- W1, F+1..2F are W3) and w2 (E, F, D), so FFN_e(x) = (silu(x W1_e) * (x W3_e)) W2_e.
local tide = ...
local nn, F = tide.nn, tide.F
local Module, init = nn.Module, nn.init
local doc = tide.doc
local impl = nn._impl
local describe = impl.describe

-- construction errors point at the caller of tide.nn.MoE{...} (level: frames above __init);
-- forward errors carry no position: the module call prefixes "MoE: " (or the layer's path)
local function fail(msg, level) error("MoE: " .. msg, (level or 1) + 3) end
local function ferr(msg) error(msg, 0) end

local function pos_int(what, v)
  local i = type(v) == "number" and math.tointeger(v)
  if not i or i < 1 then fail(("%s must be a positive integer, got %s"):format(what, type(v) == "number" and tostring(v) or describe(v)), 2) end
  return i
end

local function nonneg(what, v, default)
  if v == nil then return default end
  if type(v) ~= "number" or v < 0 or v ~= v then fail(("%s must be a number >= 0, got %s"):format(what, type(v) == "number" and tostring(v) or describe(v)), 2) end
  return v
end

local function choice(what, v, default, allowed)
  if v == nil then return default end
  for _, a in ipairs(allowed) do if v == a then return v end end
  fail(("%s must be %s, got %s"):format(what, "'" .. table.concat(allowed, "' or '") .. "'", type(v) == "string" and ("'" .. v .. "'") or describe(v)), 2)
end

local MoE = Module:extend("MoE")
nn.MoE = MoE

local allowed = {dim = true, hidden = true, experts = true, top_k = true, shared_experts = true, shared_hidden = true,
                 capacity_factor = true, capacity = true, groups = true, jitter = true, aux_loss = true, z_loss = true,
                 router_dtype = true, renormalize = true, dtype = true, generator = true}

function MoE:__init(o)
  if type(o) ~= "table" or tide.is_tensor(o) then fail("expected an options table {dim =, hidden =, ...}, got " .. describe(o)) end
  impl.options("MoE", o, allowed, 3)
  self.dim = pos_int("dim", o.dim)
  self.hidden = pos_int("hidden", o.hidden)
  self.num_experts = pos_int("experts", o.experts == nil and 32 or o.experts)
  self.top_k = pos_int("top_k", o.top_k == nil and 2 or o.top_k)
  if self.top_k > self.num_experts then fail(("top_k must be at most experts = %d, got %d"):format(self.num_experts, self.top_k)) end
  self.shared_experts = o.shared_experts == nil and 0 or o.shared_experts
  if math.type(self.shared_experts) ~= "integer" or self.shared_experts < 0 then
    fail("shared_experts must be an integer >= 0, got " .. tostring(o.shared_experts))
  end
  self.shared_hidden = pos_int("shared_hidden", o.shared_hidden == nil and self.hidden or o.shared_hidden)
  if o.capacity_factor ~= nil then
    local cf = o.capacity_factor
    if type(cf) ~= "number" or not (cf > 0) or cf == math.huge then fail("capacity_factor must be a finite number > 0 or nil (dropless), got " .. tostring(cf)) end
    self.capacity_factor = cf
  end
  self.capacity_mode = choice("capacity", o.capacity, "local", {"local", "global"})
  self.groups = pos_int("groups", o.groups == nil and 1 or o.groups)
  self.jitter = nonneg("jitter", o.jitter, 0)
  if self.jitter >= 1 then fail("jitter must be below 1 (the factors are U(1 - jitter, 1 + jitter)), got " .. self.jitter) end
  local aux = o.aux_loss == nil and {} or o.aux_loss
  if type(aux) ~= "table" then fail("aux_loss must be a table {kind = 'switch' | 'paper', coef = 0.01}, got " .. describe(aux)) end
  impl.options("MoE: aux_loss", aux, {kind = true, coef = true}, 3)
  self.aux_kind = choice("aux_loss.kind", aux.kind, "switch", {"switch", "paper"})
  self.aux_coef = nonneg("aux_loss.coef", aux.coef, 0.01)
  self.z_coef = nonneg("z_loss", o.z_loss, 0)
  self.router_dtype = choice("router_dtype", o.router_dtype, "f32", {"f32", "f64"})
  if o.renormalize ~= nil and type(o.renormalize) ~= "boolean" then fail("renormalize must be a boolean, got " .. describe(o.renormalize)) end
  self.renormalize = o.renormalize ~= false
  local dt = choice("dtype", o.dtype, "f32", {"f32", "f64"})
  local D, Fh, E = self.dim, self.hidden, self.num_experts
  self.router = nn.Linear(D, E, {bias = false, dtype = dt, generator = o.generator})
  self.w13 = nn.Parameter(tide.empty({E, D, 2 * Fh}, {dtype = dt}))
  self.w2 = nn.Parameter(tide.empty({E, Fh, D}, {dtype = dt}))
  if self.shared_experts > 0 then
    local Hs = self.shared_experts * self.shared_hidden
    self.shared_w13 = nn.Parameter(tide.empty({D, 2 * Hs}, {dtype = dt}))
    self.shared_w2 = nn.Parameter(tide.empty({Hs, D}, {dtype = dt}))
  end
  self.generator = o.generator
  self:reset_parameters(o)
  self.aux_loss = tide.zeros({}, {dtype = dt})
end

-- torch's Linear initialisation per matrix: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = D
-- for w13 (and the router) and F for w2
function MoE:reset_parameters(o)
  local g = o and o.generator
  self.router:reset_parameters({generator = g})
  local a, b = 1 / math.sqrt(self.dim), 1 / math.sqrt(self.hidden)
  init.uniform_(self.w13, {a = -a, b = a, generator = g})
  init.uniform_(self.w2, {a = -b, b = b, generator = g})
  if self.shared_w13 then
    local c = 1 / math.sqrt(self.shared_experts * self.shared_hidden)
    init.uniform_(self.shared_w13, {a = -a, b = a, generator = g})
    init.uniform_(self.shared_w2, {a = -c, b = c, generator = g})
  end
end

-- the per-group capacity for T tokens: ceil(capacity_factor * k * (T / groups) / E), or nil
function MoE:capacity_for(T)
  if not self.capacity_factor then return nil end
  return math.ceil(self.capacity_factor * self.top_k * (T // self.groups) / self.num_experts - 1e-9)
end

-- The load-balancing term before its coefficient. probs: (T, E); index: (T, k) 1-based.
-- routed[i] counts every choice of expert i (before any drop; argmax counts are constants),
-- P_i = mean_t probs[t, i] carries the gradient.
--   switch: E * sum_k sum_i f[k, i] P_i with f[k, i] = (#tokens whose k-th choice is i) / T
--           = E * sum_i (routed_i / T) P_i; uniform probabilities give exactly k
--   paper:  (1/E) sum_i f_i P_i with f_i = routed_i / (k T), so that f sums to 1
function MoE.balance_loss(probs, index, kind)
  if not tide.is_tensor(probs) or probs:dim() ~= 2 then error("MoE.balance_loss: probs must be a (T, E) tensor, got " .. describe(probs), 2) end
  if not tide.is_tensor(index) or index:dim() ~= 2 or index:dtype() ~= "i64" or index:size(1) ~= probs:size(1) then
    error("MoE.balance_loss: index must be an i64 (T, k) tensor with T = " .. probs:size(1) .. ", got " .. describe(index), 2)
  end
  local T, E, k = probs:size(1), probs:size(2), index:size(2)
  local routed = tide.no_grad(function()
    return tide.zeros({E}, {dtype = probs:dtype()}):scatter_add(1, index:reshape(-1), tide.ones({T * k}, {dtype = probs:dtype()}))
  end)
  local P = probs:mean(1)
  kind = kind or "switch"
  if kind == "switch" then return (routed * P):sum() * (E / T) end
  if kind == "paper" then return (routed * P):sum() * (1 / (E * k * T)) end
  error("MoE.balance_loss: kind must be 'switch' or 'paper', got " .. tostring(kind), 2)
end
doc(MoE.balance_loss, [[tide.nn.MoE.balance_loss(probs, index [, kind = 'switch']) -> the load-balancing loss before its coefficient.
probs: (T, E) router probabilities; index: (T, k) 1-based choices. 'switch' (HF/Mixtral): E * sum_k sum_i f[k,i] P_i
(uniform routing gives k); 'paper' (MiniMax-01): (1/E) sum_i f_i P_i with f_i = choices of i / (k T).
Gradient only through P_i = mean_t probs[t, i].]])

local function check_input(self, x)
  if not tide.is_tensor(x) then ferr("expected an input tensor (..., " .. self.dim .. "), got " .. describe(x)) end
  local dt = x:dtype()
  if dt ~= "f32" and dt ~= "f64" then ferr("expected a float input (f32 or f64), got " .. dt) end
  if x:dim() < 1 or x:size(-1) ~= self.dim then
    ferr(("expected input of shape (..., %d), got %s"):format(self.dim, impl.shape_str(x)))
  end
  if x:numel() == 0 then ferr("expected at least one token, got shape " .. impl.shape_str(x)) end
end

-- x: (..., D) -> (..., D); sets self.aux_loss (a scalar tensor) and self.stats
function MoE:forward(x)
  check_input(self, x)
  local shape = x:shape()
  local D, E, k = self.dim, self.num_experts, self.top_k
  local xt = x:reshape(-1, D)                                   -- (T, D)
  local T = xt:size(1)
  if T % self.groups ~= 0 then ferr(("%d tokens do not split into %d equal groups"):format(T, self.groups)) end
  -- router in the wider of router_dtype and the input dtype
  local rd = (self.router_dtype == "f64" or x:dtype() == "f64") and "f64" or "f32"
  local xr = xt:to(rd)
  if self.training and self.jitter > 0 then                     -- multiplicative, router input only
    local u = tide.rand(T, D, {dtype = rd, generator = self.generator})
    xr = xr * (u * (2 * self.jitter) + (1 - self.jitter))
  end
  local logits = F.linear(xr, self.router.weight:to(rd))       -- (T, E)
  local probs = logits:softmax(2)
  local cap = self:capacity_for(T)
  local index, keep, counts, dropped = F.moe_route(probs:detach(), {top_k = k, capacity = cap, groups = self.groups,
                                                                     global = self.capacity_mode == "global"})
  local gates                                                   -- (T, k)
  if self.renormalize then gates = logits:gather(2, index):softmax(2) else gates = probs:gather(2, index) end
  local y = F.moe_experts(xt, index, keep, gates, self.w13, self.w2)
  if self.shared_w13 then
    local Hs = self.shared_experts * self.shared_hidden
    local h = xt:matmul(self.shared_w13)                        -- (T, 2 Hs)
    y = y + (h:narrow(2, 1, Hs):silu() * h:narrow(2, Hs + 1, Hs)):matmul(self.shared_w2)
  end
  -- auxiliary losses (their sum, each with its coefficient, is self.aux_loss)
  local balance = MoE.balance_loss(probs, index, self.aux_kind)
  local aux = balance * self.aux_coef
  local lse = logits:logsumexp(2)
  local zl = lse:square():mean()
  if self.z_coef > 0 then aux = aux + zl * self.z_coef end
  self.aux_loss = aux
  self.routing = {index = index, keep = keep, gates = gates:detach(), probs = probs:detach()}
  self.stats = tide.no_grad(function()
    local kept = counts:totable()
    local routed = tide.zeros({E}, {dtype = "i64"}):scatter_add(1, index:reshape(-1), tide.ones({T * k}, {dtype = "i64"})):totable()
    local entropy = -(probs * (logits - lse:unsqueeze(2))):sum(2):mean():item()
    local maxload = 0
    for i = 1, E do maxload = math.max(maxload, routed[i]) end
    return {tokens = T, tokens_per_expert = kept, routed_per_expert = routed, dropped = dropped,
            drop_fraction = dropped / (T * k), capacity = cap, entropy = entropy,
            max_load = maxload * E / (T * k), balance_loss = balance:item(), z_loss = zl:item(),
            aux_loss = aux:item()}
  end)
  shape[#shape] = D
  return y:view(shape)
end

function MoE:routing_stats() return self.stats end
doc(MoE.routing_stats, [[moe:routing_stats() -> the statistics of the last forward (also moe.stats), plain numbers:
tokens, tokens_per_expert (kept, a list of E), routed_per_expert (before drops), dropped, drop_fraction
(dropped / (T k)), capacity (per group; nil when dropless), entropy (mean router entropy, nats),
max_load (largest routed count over the uniform k T / E), balance_loss (before its coef), z_loss
(mean logsumexp(z)^2, before its coef), aux_loss (the value of moe.aux_loss).]])

function MoE:extra_repr()
  local s = ("dim=%d, hidden=%d, experts=%d, top_k=%d"):format(self.dim, self.hidden, self.num_experts, self.top_k)
  if self.shared_experts > 0 then s = s .. (", shared_experts=%d, shared_hidden=%d"):format(self.shared_experts, self.shared_hidden) end
  if self.capacity_factor then
    s = s .. (", capacity_factor=%g, capacity=%s, groups=%d"):format(self.capacity_factor, self.capacity_mode, self.groups)
  end
  return s .. (", aux=%s(%g)"):format(self.aux_kind, self.aux_coef)
end

doc(MoE, [[tide.nn.MoE{dim, hidden, experts = 32, top_k = 2, shared_experts = 0, shared_hidden = hidden,
capacity_factor = nil (dropless) | number, capacity = 'local' | 'global', groups = 1, jitter = 0,
aux_loss = {kind = 'switch' | 'paper', coef = 0.01}, z_loss = 0, router_dtype = 'f32', renormalize = true,
dtype = 'f32', generator}: sparse SwiGLU mixture of experts, x: (..., dim) -> (..., dim).
Router: bias-free linear (router.weight (E, dim)) + softmax in the router dtype (never narrower than x), top-k,
gates = softmax over the selected logits (renormalize = false: the raw probabilities). Experts: w13 (E, dim, 2 hidden)
= [W1 | W3], w2 (E, hidden, dim). Capacity per group of T/groups tokens: ceil(capacity_factor * k * T/groups / E);
'global' enforces groups times that on the summed count. After each forward: moe.aux_loss (tensor), moe.stats
(numbers, see moe:routing_stats) and moe.routing = {index (T, k) 1-based, keep (T, k), gates (T, k), probs (T, E)}.]])
