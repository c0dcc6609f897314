-- functional.lua: the functional ops of tide.F that are compositions of differentiable tensor
-- ops (losses, pad, normalize, cosine similarity, activation wrappers), so autograd gives
-- their gradients with no backward written here. The fused ops (linear, layer_norm,
-- cross_entropy, conv2d, ...) are Swift (Bindings/NNBindings.swift) in the same table.
--
--   local loss = tide.F.mse_loss(pred, target)                       -- 0-d, mean over elements
--   local bce = tide.F.binary_cross_entropy_with_logits(logits, y, {pos_weight = tide.tensor{3.0}})
--   local z = tide.F.normalize(x, {dim = -1})                        -- unit rows
--   local p = tide.F.pad(img, {1, 1, 2, 2}, {mode = "reflect"})      -- W += 2, H += 4
--
-- Dims are 1-based (dim = 2 is torch's dim = 1). Inputs are f32 or f64; each op returns new
-- tensors and records the graph when an input requires grad.
local tide = ...
local F = tide.F
local doc = tide.doc
local shape_str = tide.nn._impl.shape_str
local describe = tide.nn._impl.describe

local function check_tensor(fname, name, t)
  if not tide.is_tensor(t) then error(("%s: %s must be a tensor, got %s"):format(fname, name, describe(t)), 3) end
end

local function options(fname, o, allowed) return (tide.nn._impl.options(fname, o, allowed, 3)) end

local function same_shape(fname, a, b, an, bn)
  if shape_str(a) ~= shape_str(b) then
    error(("%s: %s has shape %s but %s has shape %s (they must match)"):format(fname, an, shape_str(a), bn, shape_str(b)), 3)
  end
end

-- loss: elementwise losses -> "mean" (0-d), "sum" (0-d) or "none" (same shape)
local function reduce(fname, loss, reduction, extra)
  reduction = reduction or "mean"
  if reduction == "mean" then return loss:mean() end
  if reduction == "sum" then return loss:sum() end
  if reduction == "none" then return loss end
  if extra and extra[reduction] then return extra[reduction](loss) end
  error(("%s: reduction must be 'mean', 'sum'%s or 'none', got '%s'"):format(fname,
    extra and ", 'batchmean'" or "", tostring(reduction)), 3)
end

local function dim_opt(fname, x, d)
  local n = x:dim()
  if math.type(d) ~= "integer" then error(("%s: dim must be an integer, got %s"):format(fname, tostring(d)), 3) end
  if d < -n or d > n or d == 0 then
    error(("%s: dim %d out of range for a %d-d input (1..%d or -%d..-1)"):format(fname, d, n, n, n), 3)
  end
  return d
end

--------------------------------------------------------------------------------------------
-- Losses

-- input, target: same shape -> 0-d (or the shape with reduction = "none")
function F.mse_loss(input, target, o)
  check_tensor("mse_loss", "input", input); check_tensor("mse_loss", "target", target)
  o = options("mse_loss", o, {reduction = true})
  same_shape("mse_loss", input, target, "input", "target")
  return reduce("mse_loss", (input - target):square(), o.reduction)
end
doc(F.mse_loss, "tide.F.mse_loss(input, target [, {reduction = 'mean' | 'sum' | 'none'}]) -> mean of (input - target)^2 (same shapes).")

-- the checks smooth_l1_loss and huber_loss share: options (reduction and one number `key`,
-- at least `least`, `strict` for >), same shapes; returns the options, the number and |a - b|
local function robust_args(fname, input, target, o, key, least, strict)
  check_tensor(fname, "input", input); check_tensor(fname, "target", target)
  o = options(fname, o, {reduction = true, [key] = true})
  same_shape(fname, input, target, "input", "target")
  local v = o[key] or 1.0
  if type(v) ~= "number" or not (strict and v > least or not strict and v >= least) then
    error(("%s: %s must be a number %s %g, got %s"):format(fname, key, strict and ">" or ">=", least, tostring(v)), 3)
  end
  return o, v, (input - target):abs()
end

-- |d| < beta: 0.5 d^2 / beta, else |d| - 0.5 beta (torch's smooth_l1_loss; beta = 0 is L1)
function F.smooth_l1_loss(input, target, o)
  local beta, d
  o, beta, d = robust_args("smooth_l1_loss", input, target, o, "beta", 0, false)
  if beta == 0 then return reduce("smooth_l1_loss", d, o.reduction) end
  return reduce("smooth_l1_loss", tide.where(d:lt(beta), d:square() * (0.5 / beta), d - 0.5 * beta), o.reduction)
end
doc(F.smooth_l1_loss, "tide.F.smooth_l1_loss(input, target [, {beta = 1, reduction = 'mean'}]) -> 0.5 d^2 / beta where |d| < beta, else |d| - beta / 2.")

-- |d| <= delta: 0.5 d^2, else delta (|d| - 0.5 delta) (torch's huber_loss)
function F.huber_loss(input, target, o)
  local delta, d
  o, delta, d = robust_args("huber_loss", input, target, o, "delta", 0, true)
  return reduce("huber_loss", tide.where(d:le(delta), d:square() * 0.5, (d - 0.5 * delta) * delta), o.reduction)
end
doc(F.huber_loss, "tide.F.huber_loss(input, target [, {delta = 1, reduction = 'mean'}]) -> 0.5 d^2 where |d| <= delta, else delta (|d| - delta / 2).")

function F.l1_loss(input, target, o)
  check_tensor("l1_loss", "input", input); check_tensor("l1_loss", "target", target)
  o = options("l1_loss", o, {reduction = true})
  same_shape("l1_loss", input, target, "input", "target")
  return reduce("l1_loss", (input - target):abs(), o.reduction)
end
doc(F.l1_loss, "tide.F.l1_loss(input, target [, {reduction = 'mean' | 'sum' | 'none'}]) -> mean of |input - target| (same shapes).")

-- loss = (1 - y) x + (1 + (pw - 1) y) softplus(-x): softplus(-x) = log(1 + e^-x) = -log sigmoid(x)
-- never overflows, so large |x| stays exact where log(sigmoid(x)) would give -inf.
function F.binary_cross_entropy_with_logits(input, target, o)
  local fname = "binary_cross_entropy_with_logits"
  check_tensor(fname, "input", input); check_tensor(fname, "target", target)
  o = options(fname, o, {weight = true, pos_weight = true, reduction = true})
  same_shape(fname, input, target, "input", "target")
  local sp = (-input):softplus()
  local loss
  if o.pos_weight ~= nil then
    check_tensor(fname, "pos_weight", o.pos_weight)
    loss = (1 - target) * input + ((o.pos_weight - 1) * target + 1) * sp
  else
    loss = (1 - target) * input + sp
  end
  if o.weight ~= nil then check_tensor(fname, "weight", o.weight); loss = loss * o.weight end
  return reduce(fname, loss, o.reduction)
end
doc(F.binary_cross_entropy_with_logits, [[tide.F.binary_cross_entropy_with_logits(logits, targets [, {weight, pos_weight, reduction = 'mean'}])
-> -[pw y log s(x) + (1 - y) log(1 - s(x))] w, s = sigmoid, computed stably from the logits.
weight (broadcast to the input) scales each element, pos_weight (broadcast, usually (C)) the
positive term.]])

-- probabilities in [0, 1]; each log is clamped at -100 as torch does, so p = 0 or 1 stays finite
function F.binary_cross_entropy(input, target, o)
  local fname = "binary_cross_entropy"
  check_tensor(fname, "input", input); check_tensor(fname, "target", target)
  o = options(fname, o, {weight = true, reduction = true})
  same_shape(fname, input, target, "input", "target")
  -- the values from detached inputs, the gradients through a surrogate with torch's
  -- formulas: d/dp = (p - y) / max(p (1 - p), 1e-12) stays finite where sigmoid saturates to
  -- exactly 0 or 1 (the clamped logs' own derivative there is 0 * inf = NaN)
  local p, y = input:detach(), target:detach()
  local lp = p:log():clamp(-100, nil)
  local lq = (1 - p):log():clamp(-100, nil)
  local el = -(y * lp + (1 - y) * lq)
  local dp = (p - y) / (p * (1 - p)):clamp(1e-12, nil)
  local s = input * dp + target * (lq - lp)
  local w = o.weight
  if w ~= nil then
    check_tensor(fname, "weight", w)
    s = s * w:detach() + w * el
    el = el * w:detach()
  end
  return reduce(fname, el + (s - s:detach()), o.reduction)
end
doc(F.binary_cross_entropy, "tide.F.binary_cross_entropy(probs, targets [, {weight, reduction = 'mean'}]) -> -[y log p + (1 - y) log(1 - p)] w (logs clamped at -100).")

-- KL(target || exp(input)) pointwise: t (log t - input), 0 where t = 0 (log of 1 taken there, so
-- the gradient with respect to the target stays finite)
function F.kl_div(input, target, o)
  check_tensor("kl_div", "input", input); check_tensor("kl_div", "target", target)
  o = options("kl_div", o, {reduction = true, log_target = true})
  same_shape("kl_div", input, target, "input", "target")
  local loss
  if o.log_target then
    loss = target:exp() * (target - input)
  else
    local pos = target:gt(0)
    local safe = tide.where(pos, target, 1)
    loss = target * (safe:log() - input)
  end
  return reduce("kl_div", loss, o.reduction, {
    batchmean = function(l) return l:sum() / (input:dim() > 0 and input:size(1) or 1) end,
  })
end
doc(F.kl_div, [[tide.F.kl_div(input, target [, {reduction = 'mean', log_target = false}]) -> KL divergence with input
as log-probabilities: target (log target - input) summed by the reduction ('mean' over elements,
'batchmean' = sum / batch size, the true KL per sample; 'sum'; 'none'). log_target: target is given
as log-probabilities too.]])

--------------------------------------------------------------------------------------------
-- Batch, group and instance normalization (torch.nn.functional's forms). x: (N, C, *).

-- weight / bias of shape (C) as (1, C, 1, ...) next to x
local function per_channel(fname, t, x, what)
  if t == nil then return nil end
  check_tensor(fname, what, t)
  if t:dim() ~= 1 or t:size(1) ~= x:size(2) then
    error(("%s: %s must have shape (%d), got %s"):format(fname, what, x:size(2), shape_str(t)), 3)
  end
  local s = {1, x:size(2)}
  for _ = 3, x:dim() do s[#s + 1] = 1 end
  return t:reshape(s)
end

local function affine(fname, y, x, weight, bias)
  local w, b = per_channel(fname, weight, x, "weight"), per_channel(fname, bias, x, "bias")
  if w then y = y * w end
  if b then y = y + b end
  return y
end

local function need_channels(fname, x)
  if x:dim() < 2 then error(("%s: expected an input of shape (N, C, ...), got %s"):format(fname, shape_str(x)), 3) end
end

-- normalized over `dims` with the biased variance, as torch normalizes
local function standardize(x, dims, eps)
  local mean = x:mean(dims, {keepdim = true})
  local var = x:var(dims, {correction = 0, keepdim = true})
  return (x - mean) / (var + eps):sqrt()
end

function F.batch_norm(x, running_mean, running_var, weight, bias, o)
  local fname = "batch_norm"
  check_tensor(fname, "input", x); need_channels(fname, x)
  if type(weight) == "table" and not tide.is_tensor(weight) then weight, bias, o = nil, nil, weight end
  o = options(fname, o, {training = true, momentum = true, eps = true})
  local eps, momentum = o.eps or 1e-5, o.momentum or 0.1
  local dims = {1}
  for d = 3, x:dim() do dims[#dims + 1] = d end
  local shape = {1, x:size(2)}
  for _ = 3, x:dim() do shape[#shape + 1] = 1 end
  local y
  if o.training then
    local n = x:numel() // x:size(2)
    if n <= 1 then error(("%s: expected more than 1 value per channel when training, got input %s"):format(fname, shape_str(x)), 2) end
    y = standardize(x, dims, eps)
    -- running statistics: the batch mean, and the unbiased variance (torch)
    tide.no_grad(function()
      local xd = x:detach()
      if running_mean ~= nil then running_mean:mul_(1 - momentum):add_(xd:mean(dims):to(running_mean:dtype()) * momentum) end
      if running_var ~= nil then running_var:mul_(1 - momentum):add_(xd:var(dims, {correction = 1}):to(running_var:dtype()) * momentum) end
    end)
  else
    if running_mean == nil or running_var == nil then
      error(("%s: running_mean and running_var are required unless training = true"):format(fname), 2)
    end
    check_tensor(fname, "running_mean", running_mean); check_tensor(fname, "running_var", running_var)
    y = (x - running_mean:reshape(shape)) / (running_var:reshape(shape) + eps):sqrt()
  end
  return affine(fname, y, x, weight, bias)
end
doc(F.batch_norm, [[tide.F.batch_norm(x, running_mean, running_var [, weight, bias] [, {training = false, momentum = 0.1, eps = 1e-5}])
-> x normalized per channel (dim 2) over the batch and spatial dims. Training uses the batch's statistics
and updates running_mean / running_var in place (momentum; the unbiased variance); otherwise the
running statistics are used.]])

function F.group_norm(x, groups, weight, bias, o)
  local fname = "group_norm"
  check_tensor(fname, "input", x); need_channels(fname, x)
  if type(weight) == "table" and not tide.is_tensor(weight) then weight, bias, o = nil, nil, weight end
  o = options(fname, o, {eps = true})
  local C = x:size(2)
  if math.type(groups) ~= "integer" or groups < 1 or C % groups ~= 0 then
    error(("%s: groups must be a positive integer dividing the %d channels, got %s"):format(fname, C, tostring(groups)), 2)
  end
  local g = x:reshape(x:size(1), groups, -1)
  local y = standardize(g, {3}, o.eps or 1e-5):reshape(x:shape())
  return affine(fname, y, x, weight, bias)
end
doc(F.group_norm, "tide.F.group_norm(x, groups [, weight, bias] [, {eps = 1e-5}]) -> x normalized over each group of C / groups channels and the spatial dims, times weight plus bias (per channel).")

function F.instance_norm(x, weight, bias, o)
  local fname = "instance_norm"
  check_tensor(fname, "input", x); need_channels(fname, x)
  if type(weight) == "table" and not tide.is_tensor(weight) then weight, bias, o = nil, nil, weight end
  o = options(fname, o, {eps = true})
  if x:dim() < 3 then error(("%s: expected an input of shape (N, C, L, ...), got %s"):format(fname, shape_str(x)), 2) end
  local dims = {}
  for d = 3, x:dim() do dims[#dims + 1] = d end
  return affine(fname, standardize(x, dims, o.eps or 1e-5), x, weight, bias)
end
doc(F.instance_norm, "tide.F.instance_norm(x [, weight, bias] [, {eps = 1e-5}]) -> each (sample, channel) normalized over its spatial dims, times weight plus bias.")

--------------------------------------------------------------------------------------------
-- Norms and similarities

-- ||x||_p along dim, keepdim, through x:norm (whose gradient is 0 at a zero vector, as
-- torch's, where sqrt(sum x^2) would give NaN)
local function pnorm(fname, x, p, dim)
  if type(p) ~= "number" or not (p > 0) then error(("%s: p must be a positive number, got %s"):format(fname, tostring(p)), 3) end
  return x:norm(p, dim, {keepdim = true})
end

-- x: any shape -> same shape, x / max(||x||_p over dim, eps)
function F.normalize(x, o)
  check_tensor("normalize", "input", x)
  o = options("normalize", o, {p = true, dim = true, eps = true})
  local dim = dim_opt("normalize", x, o.dim or 2)
  local n = pnorm("normalize", x, o.p or 2, dim)
  return x / n:clamp(o.eps or 1e-12, nil)
end
doc(F.normalize, "tide.F.normalize(x [, {p = 2, dim = 2, eps = 1e-12}]) -> x / max(||x||_p, eps) along dim (p may be math.huge).")

-- a, b: broadcastable -> the broadcast shape without dim
function F.cosine_similarity(a, b, o)
  check_tensor("cosine_similarity", "x1", a); check_tensor("cosine_similarity", "x2", b)
  o = options("cosine_similarity", o, {dim = true, eps = true})
  local eps = o.eps or 1e-8
  local nd = math.max(a:dim(), b:dim())
  local d = o.dim or 2
  if math.type(d) ~= "integer" or d == 0 or d < -nd or d > nd then
    error(("cosine_similarity: dim %s out of range for %d-d inputs"):format(tostring(d), nd), 2)
  end
  if d < 0 then d = nd + 1 + d end
  -- align ranks first so that dim means the same axis in both, then broadcast: a norm taken
  -- over a size-1 dim before broadcasting would be the norm of the wrong vector
  while a:dim() < nd do a = a:unsqueeze(1) end
  while b:dim() < nd do b = b:unsqueeze(1) end
  local shape = {}
  for k = 1, nd do
    local p, q = a:size(k), b:size(k)
    if p ~= q and p ~= 1 and q ~= 1 then
      error(("cosine_similarity: shapes %s and %s are not broadcastable (dim %d: %d vs %d)"):format(
        table.concat(a:shape(), "x"), table.concat(b:shape(), "x"), k, p, q), 2)
    end
    shape[k] = math.max(p, q)
    if p == 0 or q == 0 then shape[k] = 0 end
  end
  a, b = a:expand(shape), b:expand(shape)
  local na = a:norm(2, d, {keepdim = true}):clamp(eps, nil)
  local nb = b:norm(2, d, {keepdim = true}):clamp(eps, nil)
  return ((a / na) * (b / nb)):sum(d)
end
doc(F.cosine_similarity, "tide.F.cosine_similarity(x1, x2 [, {dim = 2, eps = 1e-8}]) -> sum(x1 x2) / (max(||x1||, eps) max(||x2||, eps)) along dim (broadcasting).")

--------------------------------------------------------------------------------------------
-- Padding

-- 1-based source index for each output position along a dim of size n padded by (l, r)
local function pad_index(mode, n, l, r)
  local idx = {}
  for j = -l, n - 1 + r do
    local s
    if mode == "reflect" then
      s = j
      if s < 0 then s = -s end
      if s > n - 1 then s = 2 * (n - 1) - s end
    elseif mode == "replicate" then
      s = math.min(math.max(j, 0), n - 1)
    else -- circular
      s = j % n
    end
    idx[#idx + 1] = s + 1
  end
  return tide.tensor(idx, "i64")
end

-- x: (..., D_k, ..., D_last); pads = {left_last, right_last, left_prev, right_prev, ...}
function F.pad(x, pads, o)
  check_tensor("pad", "input", x)
  o = options("pad", o, {mode = true, value = true})
  local mode = o.mode or "constant"
  if mode ~= "constant" and mode ~= "reflect" and mode ~= "replicate" and mode ~= "circular" then
    error("pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got '" .. tostring(mode) .. "'", 2)
  end
  if type(pads) ~= "table" or #pads % 2 ~= 0 or #pads == 0 then
    error("pad: pads must be a table of an even number of integers {left, right, top, bottom, ...}, got " ..
          (type(pads) == "table" and (#pads .. " values") or type(pads)), 2)
  end
  if #pads / 2 > x:dim() then
    error(("pad: %d pads pad %d dims but the input is %d-d (shape %s)"):format(#pads, #pads // 2, x:dim(), shape_str(x)), 2)
  end
  local value = o.value or 0
  if mode ~= "constant" and o.value ~= nil then error("pad: value is only used with mode 'constant', got mode '" .. mode .. "'", 2) end
  for k = 1, #pads // 2 do
    local l, r = pads[2 * k - 1], pads[2 * k]
    if math.type(l) ~= "integer" or math.type(r) ~= "integer" then
      error(("pad: pads must be integers, got %s, %s"):format(tostring(l), tostring(r)), 2)
    end
    local d = x:dim() + 1 - k
    local n = x:size(d)
    if mode == "constant" then
      -- negative pads crop
      if l < 0 or r < 0 then
        local cl, cr = math.max(-l, 0), math.max(-r, 0)
        if cl + cr > n then error(("pad: cropping %d from dim %d of size %d"):format(cl + cr, d, n), 2) end
        x = x:narrow(d, cl + 1, n - cl - cr)
        l, r = math.max(l, 0), math.max(r, 0)
      end
      if l > 0 or r > 0 then
        local parts = {}
        local shp = x:shape()
        if l > 0 then shp[d] = l; parts[#parts + 1] = tide.full(shp, value, {dtype = x:dtype()}) end
        parts[#parts + 1] = x
        if r > 0 then shp = x:shape(); shp[d] = r; parts[#parts + 1] = tide.full(shp, value, {dtype = x:dtype()}) end
        x = tide.cat(parts, d)
      end
    else
      if l < 0 or r < 0 then error(("pad: mode '%s' needs non-negative pads, got %d, %d"):format(mode, l, r), 2) end
      if mode == "reflect" and (l >= n or r >= n) then
        error(("pad: reflect padding must be smaller than the padded dim: got pads %d, %d for dim %d of size %d"):format(l, r, d, n), 2)
      end
      if n == 0 then error(("pad: mode '%s' cannot pad dim %d of size 0"):format(mode, d), 2) end
      if mode == "circular" and (l > n or r > n) then
        error(("pad: circular padding must be at most the padded dim: got pads %d, %d for dim %d of size %d"):format(l, r, d, n), 2)
      end
      if l > 0 or r > 0 then x = x:index_select(d, pad_index(mode, n, l, r)) end
    end
  end
  return x
end
doc(F.pad, [[tide.F.pad(x, pads [, {mode = 'constant' | 'reflect' | 'replicate' | 'circular', value = 0}]) -> x padded.
pads lists (left, right) for the last dim first, then the one before: {1, 1, 2, 0} pads W by 1 on
each side and H by 2 on top. Negative constant pads crop. reflect mirrors without repeating the edge
(pad < size); replicate repeats the edge; circular wraps around (pad <= size).]])

--------------------------------------------------------------------------------------------
-- Activations (torch.nn.functional names)

function F.relu(x, extra)
  check_tensor("relu", "input", x)
  if extra ~= nil then error(("relu: takes one argument (the input), got a %s as argument 2"):format(type(extra)), 2) end
  return x:relu()
end
doc(F.relu, "tide.F.relu(x) -> max(x, 0).")

function F.gelu(x, o)
  check_tensor("gelu", "input", x)
  o = options("gelu", o, {approximate = true})
  local a = o.approximate or "none"
  if a == "none" then return x:gelu() end
  if a == "tanh" then return x:gelu_tanh() end
  error("gelu: approximate must be 'none' or 'tanh', got '" .. tostring(a) .. "'", 2)
end
doc(F.gelu, "tide.F.gelu(x [, {approximate = 'none' | 'tanh'}]) -> x Phi(x) (exact, with erf) or its tanh approximation.")

function F.silu(x, extra)
  check_tensor("silu", "input", x)
  if extra ~= nil then error(("silu: takes one argument (the input), got a %s as argument 2"):format(type(extra)), 2) end
  return x:silu()
end
doc(F.silu, "tide.F.silu(x) -> x sigmoid(x).")

function F.sigmoid(x, extra)
  check_tensor("sigmoid", "input", x)
  if extra ~= nil then error(("sigmoid: takes one argument (the input), got a %s as argument 2"):format(type(extra)), 2) end
  return x:sigmoid()
end
doc(F.sigmoid, "tide.F.sigmoid(x) -> 1 / (1 + exp(-x)).")

function F.tanh(x, extra)
  check_tensor("tanh", "input", x)
  if extra ~= nil then error(("tanh: takes one argument (the input), got a %s as argument 2"):format(type(extra)), 2) end
  return x:tanh()
end
doc(F.tanh, "tide.F.tanh(x) -> tanh(x).")

function F.leaky_relu(x, o)
  check_tensor("leaky_relu", "input", x)
  o = options("leaky_relu", o, {negative_slope = true})
  local s = o.negative_slope or 0.01
  if type(s) ~= "number" then error("leaky_relu: negative_slope must be a number, got " .. type(s), 2) end
  return tide.where(x:gt(0), x, x * s)
end
doc(F.leaky_relu, "tide.F.leaky_relu(x [, {negative_slope = 0.01}]) -> x where x > 0, else slope * x.")

-- number options of the activations below, checked
local number_opt = tide.nn._impl.number_opt

function F.elu(x, o)
  check_tensor("elu", "input", x)
  o = options("elu", o, {alpha = true})
  local alpha = number_opt("elu", o, "alpha", 1.0)
  return tide.where(x:gt(0), x, x:expm1() * alpha)
end
doc(F.elu, "tide.F.elu(x [, {alpha = 1}]) -> x where x > 0, else alpha (exp(x) - 1).")

function F.selu(x)
  check_tensor("selu", "input", x)
  -- the self-normalizing constants (Klambauer et al.), as torch
  local alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
  return tide.where(x:gt(0), x, x:expm1() * alpha) * scale
end
doc(F.selu, "tide.F.selu(x) -> scale (x where x > 0, else alpha (exp(x) - 1)), torch's constants.")

function F.celu(x, o)
  check_tensor("celu", "input", x)
  o = options("celu", o, {alpha = true})
  local alpha = number_opt("celu", o, "alpha", 1.0)
  if alpha == 0 then error("celu: alpha must not be 0", 2) end
  return tide.where(x:gt(0), x, (x / alpha):expm1() * alpha)
end
doc(F.celu, "tide.F.celu(x [, {alpha = 1}]) -> x where x > 0, else alpha (exp(x / alpha) - 1).")

function F.hardtanh(x, o)
  check_tensor("hardtanh", "input", x)
  o = options("hardtanh", o, {min_val = true, max_val = true})
  local lo, hi = number_opt("hardtanh", o, "min_val", -1.0), number_opt("hardtanh", o, "max_val", 1.0)
  if hi < lo then error(("hardtanh: max_val %g is below min_val %g"):format(hi, lo), 2) end
  return x:clamp(lo, hi)
end
doc(F.hardtanh, "tide.F.hardtanh(x [, {min_val = -1, max_val = 1}]) -> x clamped to [min_val, max_val].")

function F.relu6(x)
  check_tensor("relu6", "input", x)
  return x:clamp(0, 6)
end
doc(F.relu6, "tide.F.relu6(x) -> min(max(x, 0), 6).")

function F.hardsigmoid(x)
  check_tensor("hardsigmoid", "input", x)
  return (x / 6 + 0.5):clamp(0, 1)
end
doc(F.hardsigmoid, "tide.F.hardsigmoid(x) -> clamp(x / 6 + 1/2, 0, 1).")

function F.hardswish(x)
  check_tensor("hardswish", "input", x)
  return x * (x / 6 + 0.5):clamp(0, 1)
end
doc(F.hardswish, "tide.F.hardswish(x) -> x clamp(x / 6 + 1/2, 0, 1).")

function F.mish(x)
  check_tensor("mish", "input", x)
  return x * x:softplus():tanh()
end
doc(F.mish, "tide.F.mish(x) -> x tanh(softplus(x)).")

function F.softsign(x)
  check_tensor("softsign", "input", x)
  return x / (x:abs() + 1)
end
doc(F.softsign, "tide.F.softsign(x) -> x / (1 + |x|).")

function F.softmax(x, dim, extra)
  check_tensor("softmax", "input", x)
  if extra ~= nil then error(("softmax: takes the input and a dim (or {dim}), got a %s as argument 3"):format(type(extra)), 2) end
  if type(dim) == "table" then dim = options("softmax", dim, {dim = true}).dim end
  -- a 0-d input has one element: dim 1 or -1 is the whole of it (torch)
  if x:dim() == 0 and (dim == nil or dim == 1 or dim == -1) then return x:reshape(1):softmax(1):reshape({}) end
  return x:softmax(dim_opt("softmax", x, dim or -1))
end
doc(F.softmax, "tide.F.softmax(x [, dim = -1]) -> exp(x) / sum(exp(x)) along dim.")

function F.log_softmax(x, dim, extra)
  check_tensor("log_softmax", "input", x)
  if extra ~= nil then error(("log_softmax: takes the input and a dim (or {dim}), got a %s as argument 3"):format(type(extra)), 2) end
  if type(dim) == "table" then dim = options("log_softmax", dim, {dim = true}).dim end
  -- a 0-d input has one element: dim 1 or -1 is the whole of it (torch)
  if x:dim() == 0 and (dim == nil or dim == 1 or dim == -1) then return x:reshape(1):log_softmax(1):reshape({}) end
  return x:log_softmax(dim_opt("log_softmax", x, dim or -1))
end
doc(F.log_softmax, "tide.F.log_softmax(x [, dim = -1]) -> x - logsumexp(x) along dim.")
