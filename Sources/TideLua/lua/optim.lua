-- optim.lua: tide.optim, optimizers (SGD, Adam, AdamW, Lion), gradient clipping and
-- learning-rate schedulers, with PyTorch's names, defaults, formulas and state_dict layout.
--
--   local opt = tide.optim.AdamW(model:parameters(), {lr = 3e-4, weight_decay = 0.1})
--   local sched = tide.optim.cosine_with_warmup(opt, {warmup_steps = 100, total_steps = 1000})
--   for step = 1, 1000 do
--     opt:zero_grad()
--     loss_fn():backward()
--     tide.optim.clip_grad_norm_(model:parameters(), 1.0)
--     opt:step(); sched:step()
--   end
--
-- Bookkeeping is here: param groups (plain Lua tables of options that schedulers edit),
-- per-parameter state (opt.state[p], keyed by the parameter objects held in the groups),
-- state_dicts. The arithmetic is one fused Swift kernel per parameter (tide.optim._adam_step_,
-- _sgd_step_, _lion_step_ in Bindings/OptimBindings.swift) that writes p and its state in
-- place under tide.no_grad, so parameters stay the same tensor objects.
--
-- state_dict layout (as torch, with 1-based indices): {state = {[i] = {step = 5, exp_avg =
-- <tensor>, ...}}, param_groups = {{lr = ..., ..., params = {1, 2}}, ...}} where parameter i
-- is the i-th tensor counting through the groups in order. Tensors in it are copies.
local tide = ...
local optim = tide.optim
local lr_scheduler = optim.lr_scheduler or {}
optim.lr_scheduler = lr_scheduler

local pi, cos = math.pi, math.cos

-- ---------------------------------------------------------------- helpers

local function is_tensor(x) return tide.is_tensor(x) end

local function typename(v)
  if is_tensor(v) then return "tensor" end
  return type(v)
end

-- Copies plain values: tables recursively, tensors cloned (so a snapshot does not change
-- when training continues), everything else as is.
local function deep_copy(v)
  if is_tensor(v) then return v:clone() end
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = deep_copy(x) end
  return out
end

-- Keys in a fixed order (numbers ascending, then the rest by name), so that checks and
-- error messages do not depend on the hash order.
local function sorted_keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks, function(a, b)
    local na, nb = type(a) == "number", type(b) == "number"
    if na and nb then return a < b end
    if na ~= nb then return na end
    return tostring(a) < tostring(b)
  end)
  return ks
end

local function shape_str(t)
  local s = t:shape()
  if #s == 0 then return "scalar" end
  local parts = {}
  for i, d in ipairs(s) do parts[i] = tostring(d) end
  return table.concat(parts, "x")
end

local function same_shape(a, b)
  local sa, sb = a:shape(), b:shape()
  if #sa ~= #sb then return false end
  for i = 1, #sa do if sa[i] ~= sb[i] then return false end end
  return true
end

local function value_str(v)
  if type(v) == "table" then
    local parts = {}
    for i, x in ipairs(v) do parts[i] = value_str(x) end
    return "{" .. table.concat(parts, ", ") .. "}"
  end
  return tostring(v)
end

-- ---------------------------------------------------------------- optimizer base

local Optimizer = {}
Optimizer.__index = Optimizer
Optimizer.__is_optimizer = true

-- A class: name, defaults (the option names, with nil for a required option given as
-- `false` placeholder in `required`), a validator for one group and the per-parameter update.
local function optimizer_class(name, defaults, validate, update)
  local cls = setmetatable({}, {__index = Optimizer})
  cls.__index = cls
  cls.__name = name
  cls.__tostring = Optimizer.__tostring
  cls._name, cls._defaults, cls._validate, cls._update = name, defaults, validate, update
  return cls
end

local function check_number(name, g, key, lo, hi, lo_open, hi_open)
  local v = g[key]
  if type(v) ~= "number" then
    error(name .. ": option '" .. key .. "' must be a number, got " .. typename(v), 0)
  end
  if v ~= v or (lo and (v < lo or (lo_open and v == lo))) or (hi and (v > hi or (hi_open and v == hi))) then
    local range = (lo and ((lo_open and "> " or ">= ") .. lo) or "")
    if hi then range = range .. (lo and " and " or "") .. ((hi_open and "< " or "<= ") .. hi) end
    error(name .. ": option '" .. key .. "' must be " .. range .. ", got " .. tostring(v), 0)
  end
end

local function check_bool(name, g, key)
  if type(g[key]) ~= "boolean" then
    error(name .. ": option '" .. key .. "' must be a boolean, got " .. typename(g[key]), 0)
  end
end

local function check_betas(name, g)
  local b = g.betas
  if type(b) ~= "table" or #b ~= 2 or type(b[1]) ~= "number" or type(b[2]) ~= "number" then
    error(name .. ": option 'betas' must be a table of two numbers {beta1, beta2}, got " .. value_str(b), 0)
  end
  for i = 1, 2 do
    if not (b[i] >= 0 and b[i] < 1) then
      error(name .. ": betas[" .. i .. "] must be in [0, 1), got " .. tostring(b[i]), 0)
    end
  end
end

-- Builds an optimizer: `params` is a list of tensors or a list of groups {params = ..., opt = ...}.
local function new_optimizer(cls, params, opts)
  local name = cls._name
  if opts ~= nil and type(opts) ~= "table" then
    error("bad argument #2 to '" .. name .. "' (options table expected, got " .. typename(opts) .. ")", 3)
  end
  local defaults = {}
  for k, v in pairs(cls._defaults) do defaults[k] = deep_copy(v) end
  for k, v in pairs(opts or {}) do
    if cls._defaults[k] == nil then
      error(name .. ": unknown option '" .. tostring(k) .. "' (expected one of " .. table.concat(sorted_keys(cls._defaults), ", ") .. ")", 3)
    end
    defaults[k] = deep_copy(v)
  end
  local ok, err = pcall(cls._validate, name, defaults)
  if not ok then error(err, 3) end
  local self = setmetatable({defaults = defaults, param_groups = {}, state = {}, _ids = {}}, cls)
  if is_tensor(params) then
    error(name .. ": params must be a list of tensors or of parameter groups, got a single tensor (wrap it: {p})", 3)
  end
  if type(params) ~= "table" then
    error("bad argument #1 to '" .. name .. "' (table of parameters expected, got " .. typename(params) .. ")", 3)
  end
  if #params == 0 then error(name .. ": got an empty parameter list", 3) end
  local groups = params
  if is_tensor(params[1]) then groups = {{params = params}} end
  for _, g in ipairs(groups) do
    local ok2, err2 = pcall(self.add_param_group, self, g)
    if not ok2 then error(err2, 3) end
  end
  return self
end

function Optimizer:add_param_group(g)
  local name = self._name
  if type(g) ~= "table" or is_tensor(g) then
    error(name .. ".add_param_group: a group must be a table {params = {...}, ...}, got " .. typename(g), 2)
  end
  local ps = g.params
  if is_tensor(ps) then ps = {ps} end
  if type(ps) ~= "table" then
    error(name .. ".add_param_group: the group's 'params' must be a tensor or a list of tensors, got " .. typename(ps), 2)
  end
  local group, list, ids = {}, {}, {}
  for i, p in ipairs(ps) do
    if not is_tensor(p) then
      error(name .. ": parameter " .. i .. " of group " .. (#self.param_groups + 1) .. " must be a tensor, got " .. typename(p), 2)
    end
    local dt = p:dtype()
    if dt ~= "f32" and dt ~= "f64" then
      error(name .. ": parameters must be f32 or f64 tensors, got a " .. dt .. " tensor (parameter " .. i .. ")", 2)
    end
    if not p.is_leaf then
      error(name .. ": can't optimize a non-leaf tensor (parameter " .. i .. " was computed by " .. tostring(p.grad_fn) .. "); pass the leaf, or detach()", 2)
    end
    if not p:is_contiguous() then
      error(name .. ": parameter " .. i .. " (shape " .. shape_str(p) .. ") is not contiguous; updates are in place and need contiguous parameters", 2)
    end
    local id = optim._tensor_id(p)
    if self._ids[id] or ids[id] then
      error(name .. ": some parameters appear in more than one parameter group (or twice in one)", 2)
    end
    ids[id] = true
    list[i] = p
  end
  if #list == 0 then error(name .. ".add_param_group: the group has no parameters", 2) end
  for k, v in pairs(g) do if k ~= "params" then group[k] = deep_copy(v) end end
  for k, v in pairs(self.defaults) do if group[k] == nil then group[k] = deep_copy(v) end end
  local ok, err = pcall(self._validate, name, group)
  if not ok then error(err, 2) end
  group.params = list
  for id in pairs(ids) do self._ids[id] = true end
  self.param_groups[#self.param_groups + 1] = group
end

-- opt:step([closure]) -> the closure's loss (recomputed with recording on) or nil.
function Optimizer:step(closure)
  local loss
  if closure ~= nil then
    if type(closure) ~= "function" then
      error("bad argument #1 to 'step' (function or nil expected, got " .. typename(closure) .. ")", 2)
    end
    loss = tide.enable_grad(closure)
  end
  tide.no_grad(function()
    local state, update = self.state, self._update
    for _, group in ipairs(self.param_groups) do
      for _, p in ipairs(group.params) do
        local g = p.grad
        if g ~= nil then
          local st = state[p]
          if st == nil then st = {}; state[p] = st end
          update(p, g, st, group)
        end
      end
    end
  end)
  return loss
end

-- opt:zero_grad([set_to_none = true]) (also {set_to_none = false}).
function Optimizer:zero_grad(set_to_none)
  if type(set_to_none) == "table" then set_to_none = set_to_none.set_to_none end
  if set_to_none == nil then set_to_none = true end
  tide.no_grad(function()
    for _, group in ipairs(self.param_groups) do
      for _, p in ipairs(group.params) do
        if set_to_none then
          p.grad = nil
        else
          local g = p.grad
          if g ~= nil then
            if g.is_leaf then g:zero_() else p.grad = tide.zeros_like(g) end
          end
        end
      end
    end
  end)
end

function Optimizer:state_dict()
  local index, n = {}, 0
  local groups = {}
  for gi, group in ipairs(self.param_groups) do
    local pg = {}
    for k, v in pairs(group) do if k ~= "params" then pg[k] = deep_copy(v) end end
    pg.params = {}
    for k, p in ipairs(group.params) do
      n = n + 1
      index[p] = n
      pg.params[k] = n
    end
    groups[gi] = pg
  end
  local state = {}
  for p, st in pairs(self.state) do
    if index[p] and next(st) ~= nil then state[index[p]] = deep_copy(st) end
  end
  return {state = state, param_groups = groups}
end

function Optimizer:load_state_dict(sd)
  local name = self._name .. ".load_state_dict"
  if type(sd) ~= "table" or type(sd.param_groups) ~= "table" or type(sd.state) ~= "table" then
    error(name .. ": expected a table {state = {...}, param_groups = {...}} (from opt:state_dict()), got " .. typename(sd), 2)
  end
  local saved = sd.param_groups
  if #saved ~= #self.param_groups then
    error(name .. ": the state dict has " .. #saved .. " parameter groups but the optimizer has " .. #self.param_groups, 2)
  end
  local by_index = {}
  for gi, group in ipairs(self.param_groups) do
    local sg = saved[gi]
    if type(sg) ~= "table" or type(sg.params) ~= "table" then
      error(name .. ": parameter group " .. gi .. " of the state dict has no 'params' list", 2)
    end
    if #sg.params ~= #group.params then
      error(name .. ": parameter group " .. gi .. " has " .. #sg.params .. " parameters in the state dict but " .. #group.params .. " in the optimizer", 2)
    end
    for k, idx in ipairs(sg.params) do by_index[idx] = group.params[k] end
  end
  -- Check everything before changing anything.
  local new_state = {}
  for _, idx in ipairs(sorted_keys(sd.state)) do
    local st = sd.state[idx]
    local p = by_index[idx]
    if p == nil then
      error(name .. ": the state dict has state for parameter " .. tostring(idx) .. ", which no parameter group lists", 2)
    end
    if type(st) ~= "table" then
      error(name .. ": state of parameter " .. tostring(idx) .. " must be a table, got " .. typename(st), 2)
    end
    local copy = {}
    for _, k in ipairs(sorted_keys(st)) do
      local v = st[k]
      if is_tensor(v) then
        if not same_shape(v, p) then
          error(name .. ": state '" .. tostring(k) .. "' of parameter " .. tostring(idx) .. " has shape " .. shape_str(v) .. " but the parameter has shape " .. shape_str(p), 2)
        end
        copy[k] = v:to(p:dtype()):clone()
      else
        copy[k] = deep_copy(v)
      end
    end
    new_state[p] = copy
  end
  local new_groups = {}
  for gi, group in ipairs(self.param_groups) do
    local ng = {}
    for k, v in pairs(saved[gi]) do if k ~= "params" then ng[k] = deep_copy(v) end end
    local ok, err = pcall(self._validate, self._name, ng)
    if not ok then error(name .. ": parameter group " .. gi .. ": " .. err, 2) end
    ng.params = group.params
    new_groups[gi] = ng
  end
  for gi, ng in ipairs(new_groups) do self.param_groups[gi] = ng end
  self.state = new_state
end

function Optimizer:__tostring()
  local lines = {self._name .. " ("}
  for gi, group in ipairs(self.param_groups) do
    lines[#lines + 1] = "Parameter Group " .. gi
    for _, k in ipairs(sorted_keys(group)) do
      if k ~= "params" then lines[#lines + 1] = "    " .. k .. ": " .. value_str(group[k]) end
    end
    lines[#lines + 1] = "    params: " .. #group.params .. " tensors"
  end
  lines[#lines + 1] = ")"
  return table.concat(lines, "\n")
end

-- ---------------------------------------------------------------- the optimizers

local adam_step, sgd_step, lion_step = optim._adam_step_, optim._sgd_step_, optim._lion_step_

local function zeros(p) return tide.zeros_like(p) end

local function validate_common(name, g)
  check_number(name, g, "lr", 0)
  check_number(name, g, "weight_decay", 0)
end

local SGD = optimizer_class("SGD",
  {lr = 1e-3, momentum = 0, dampening = 0, nesterov = false, weight_decay = 0, maximize = false},
  function(name, g)
    validate_common(name, g)
    check_number(name, g, "momentum", 0)
    check_number(name, g, "dampening")
    check_bool(name, g, "nesterov"); check_bool(name, g, "maximize")
    if g.nesterov and (g.momentum <= 0 or g.dampening ~= 0) then
      error(name .. ": nesterov momentum needs momentum > 0 and dampening = 0 (got momentum " .. g.momentum .. ", dampening " .. g.dampening .. ")", 0)
    end
  end,
  function(p, g, st, group)
    local buf, first = nil, false
    if group.momentum ~= 0 then
      buf = st.momentum_buffer
      if buf == nil then buf = zeros(p); st.momentum_buffer = buf; first = true end
    end
    sgd_step(p, g, buf, {lr = group.lr, momentum = group.momentum, dampening = group.dampening,
                         nesterov = group.nesterov, weight_decay = group.weight_decay,
                         maximize = group.maximize, first = first})
  end)

local function adam_validate(name, g)
  validate_common(name, g)
  check_number(name, g, "eps", 0)
  check_betas(name, g)
  check_bool(name, g, "amsgrad"); check_bool(name, g, "maximize")
end

local function adam_update(decoupled)
  return function(p, g, st, group)
    if st.step == nil then
      st.step, st.exp_avg, st.exp_avg_sq = 0, zeros(p), zeros(p)
    end
    if group.amsgrad and st.max_exp_avg_sq == nil then st.max_exp_avg_sq = zeros(p) end
    st.step = st.step + 1
    adam_step(p, g, st.exp_avg, st.exp_avg_sq,
              {lr = group.lr, beta1 = group.betas[1], beta2 = group.betas[2], eps = group.eps,
               weight_decay = group.weight_decay, step = st.step, decoupled = decoupled,
               amsgrad = group.amsgrad, maximize = group.maximize,
               max_exp_avg_sq = group.amsgrad and st.max_exp_avg_sq or nil})
  end
end

local Adam = optimizer_class("Adam",
  {lr = 1e-3, betas = {0.9, 0.999}, eps = 1e-8, weight_decay = 0, amsgrad = false, maximize = false},
  adam_validate, adam_update(false))

local AdamW = optimizer_class("AdamW",
  {lr = 1e-3, betas = {0.9, 0.999}, eps = 1e-8, weight_decay = 1e-2, amsgrad = false, maximize = false},
  adam_validate, adam_update(true))

local Lion = optimizer_class("Lion",
  {lr = 1e-4, betas = {0.9, 0.99}, weight_decay = 0},
  function(name, g)
    validate_common(name, g)
    check_betas(name, g)
  end,
  function(p, g, st, group)
    if st.exp_avg == nil then st.exp_avg = zeros(p) end
    lion_step(p, g, st.exp_avg, {lr = group.lr, beta1 = group.betas[1], beta2 = group.betas[2],
                                 weight_decay = group.weight_decay})
  end)

function optim.SGD(params, opts) local o = new_optimizer(SGD, params, opts); return o end
function optim.Adam(params, opts) local o = new_optimizer(Adam, params, opts); return o end
function optim.AdamW(params, opts) local o = new_optimizer(AdamW, params, opts); return o end
function optim.Lion(params, opts) local o = new_optimizer(Lion, params, opts); return o end

tide.doc(optim.SGD, [[tide.optim.SGD(params, {lr = 1e-3, momentum = 0, dampening = 0, nesterov = false, weight_decay = 0, maximize = false}) -> optimizer.
Stochastic gradient descent as torch.optim.SGD: g = g + wd*p; b = momentum*b + (1-dampening)*g (b = g on the first step); p -= lr*(nesterov and g + momentum*b or b).
params: a list of tensors, or of groups {params = {...}, lr = ..., ...} whose options override the defaults.
Methods: step([closure]), zero_grad([set_to_none = true]), add_param_group(g), state_dict(), load_state_dict(sd); fields param_groups, state, defaults.]])
tide.doc(optim.Adam, [[tide.optim.Adam(params, {lr = 1e-3, betas = {0.9, 0.999}, eps = 1e-8, weight_decay = 0, amsgrad = false, maximize = false}) -> optimizer.
Adam (Kingma & Ba 2015) as torch.optim.Adam; weight_decay is an L2 term added to the gradient. amsgrad keeps the running max of the second moment.]])
tide.doc(optim.AdamW, [[tide.optim.AdamW(params, {lr = 1e-3, betas = {0.9, 0.999}, eps = 1e-8, weight_decay = 1e-2, amsgrad = false, maximize = false}) -> optimizer.
AdamW (Loshchilov & Hutter 2019) as torch.optim.AdamW: decoupled decay p *= 1 - lr*weight_decay before the Adam step.]])
tide.doc(optim.Lion, [[tide.optim.Lion(params, {lr = 1e-4, betas = {0.9, 0.99}, weight_decay = 0}) -> optimizer.
Lion (Chen et al. 2023): p = p*(1 - lr*wd) - lr*sign(beta1*m + (1-beta1)*g); m = beta2*m + (1-beta2)*g. Use a 3-10x smaller lr than AdamW.]])

-- ---------------------------------------------------------------- gradient clipping

local function grads_of(fname, params)
  if is_tensor(params) then params = {params} end
  if type(params) ~= "table" then
    error("bad argument #1 to '" .. fname .. "' (tensor or list of tensors expected, got " .. typename(params) .. ")", 3)
  end
  local gs = {}
  for i, p in ipairs(params) do
    if not is_tensor(p) then
      error(fname .. ": parameter " .. i .. " must be a tensor, got " .. typename(p), 3)
    end
    local g = p.grad
    if g ~= nil then gs[#gs + 1] = g end
  end
  return gs
end

function optim.clip_grad_norm_(params, max_norm, opts)
  local gs = grads_of("clip_grad_norm_", params)
  if type(max_norm) ~= "number" then
    error("bad argument #2 to 'clip_grad_norm_' (number expected, got " .. typename(max_norm) .. ")", 2)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error("bad argument #3 to 'clip_grad_norm_' (options table expected, got " .. typename(opts) .. ")", 2)
  end
  opts = opts or {}
  local p = opts.norm_type or 2
  if p == "inf" then p = math.huge end
  if type(p) ~= "number" or p ~= p or p <= 0 then
    error("clip_grad_norm_: norm_type must be a positive number or math.huge ('inf'), got " .. tostring(p), 2)
  end
  if #gs == 0 then return 0.0 end
  local total
  tide.no_grad(function()
    if p == math.huge then
      total = 0.0
      for _, g in ipairs(gs) do
        local m = g:abs():max():item()
        if m > total or m ~= m then total = m end
      end
    else
      local s = 0.0
      if p == 2 then
        for _, g in ipairs(gs) do s = s + optim._sumsq(g) end   -- one fused pass per gradient
        total = math.sqrt(s)
      else
        for _, g in ipairs(gs) do s = s + g:norm(p):item() ^ p end
        total = s ^ (1 / p)
      end
    end
    if opts.error_if_nonfinite and (total ~= total or total == math.huge) then
      error("clip_grad_norm_: the total norm of order " .. tostring(p) .. " of the gradients is non-finite (" .. tostring(total) .. "), so it cannot be clipped", 0)
    end
    local coef = math.min(max_norm / (total + 1e-6), 1.0)
    if coef < 1.0 or coef ~= coef then
      for _, g in ipairs(gs) do g:mul_(coef) end
    end
  end)
  return total
end
tide.doc(optim.clip_grad_norm_, [[tide.optim.clip_grad_norm_(params, max_norm [, {norm_type = 2, error_if_nonfinite = false}]) -> total_norm (a number).
As torch.nn.utils.clip_grad_norm_: the norm of all gradients together (norm_type = math.huge or 'inf' for the max); when it exceeds max_norm every gradient is scaled in place by max_norm / (total + 1e-6). Returns the norm before clipping.]])

function optim.clip_grad_value_(params, value)
  local gs = grads_of("clip_grad_value_", params)
  if type(value) ~= "number" or value ~= value then
    error("bad argument #2 to 'clip_grad_value_' (number expected, got " .. typename(value) .. ")", 2)
  end
  tide.no_grad(function()
    for _, g in ipairs(gs) do g:minimum_(value):maximum_(-value) end
  end)
end
tide.doc(optim.clip_grad_value_, "tide.optim.clip_grad_value_(params, value): clamps every gradient to [-value, value] in place (torch.nn.utils.clip_grad_value_).")

-- ---------------------------------------------------------------- schedulers

local Scheduler = {}
Scheduler.__index = Scheduler

local function scheduler_class(name, get_lr)
  local cls = setmetatable({}, {__index = Scheduler})
  cls.__index = cls
  cls._name, cls.get_lr = name, get_lr
  cls.__tostring = Scheduler.__tostring
  return cls
end

local function check_optimizer(name, opt)
  local mt = type(opt) == "table" and getmetatable(opt)
  if not (mt and mt.__is_optimizer) then
    error("bad argument #1 to '" .. name .. "' (optimizer expected, got " .. typename(opt) .. ")", 3)
  end
end

local function sched_options(name, opts, allowed)
  if type(opts) ~= "table" then
    error("bad argument #2 to '" .. name .. "' (options table expected, got " .. typename(opts) .. ")", 3)
  end
  for k in pairs(opts) do
    if not allowed[k] then
      error(name .. ": unknown option '" .. tostring(k) .. "' (expected one of " .. table.concat(sorted_keys(allowed), ", ") .. ")", 3)
    end
  end
end

local function opt_number(name, opts, key, default, check)
  local v = opts[key]
  if v == nil then v = default end
  if type(v) ~= "number" or v ~= v then
    error(name .. ": option '" .. key .. "' must be a number, got " .. (v == nil and "nil (it is required)" or typename(v)), 3)
  end
  if check and not check(v) then
    error(name .. ": option '" .. key .. "' " .. check(nil) .. ", got " .. tostring(v), 3)
  end
  return v
end

local function positive_int(v)
  if v == nil then return "must be a positive integer" end
  return v > 0 and v < math.huge and v == math.floor(v)
end

-- The LRScheduler protocol of torch: remember base lrs (initial_lr, set once per group so
-- that chained schedulers share them), then take the initial step (last_epoch 0).
local function start(self, opt)
  self.optimizer = opt
  for _, group in ipairs(opt.param_groups) do
    if group.initial_lr == nil then group.initial_lr = group.lr end
  end
  self.base_lrs = {}
  for i, group in ipairs(opt.param_groups) do self.base_lrs[i] = group.initial_lr end
  self.last_epoch = -1
  self._step_count = 0
  self._is_initial = true
  self:step()
  self._is_initial = false
  return self
end

function Scheduler:step()
  local groups = self.optimizer.param_groups
  if #groups ~= #self.base_lrs then
    error(self._name .. ".step: the optimizer has " .. #groups .. " parameter groups but the scheduler was made for " .. #self.base_lrs, 2)
  end
  self._step_count = self._step_count + 1
  self.last_epoch = self.last_epoch + 1
  local values = self:get_lr()
  local last = {}
  for i, group in ipairs(groups) do
    group.lr = values[i]
    last[i] = values[i]
  end
  self._last_lr = last
end

function Scheduler:get_last_lr()
  local out = {}
  for i, v in ipairs(self._last_lr) do out[i] = v end
  return out
end

function Scheduler:state_dict()
  local sd = {}
  for k, v in pairs(self) do
    if k ~= "optimizer" and type(v) ~= "function" then sd[k] = deep_copy(v) end
  end
  return sd
end

function Scheduler:load_state_dict(sd)
  local name = self._name .. ".load_state_dict"
  if type(sd) ~= "table" or type(sd.last_epoch) ~= "number" or type(sd.base_lrs) ~= "table" then
    error(name .. ": expected a table from sched:state_dict() (with last_epoch and base_lrs), got " .. typename(sd), 2)
  end
  if #sd.base_lrs ~= #self.optimizer.param_groups then
    error(name .. ": the state dict is for " .. #sd.base_lrs .. " parameter groups but the optimizer has " .. #self.optimizer.param_groups, 2)
  end
  for k, v in pairs(sd) do
    if k ~= "optimizer" then self[k] = deep_copy(v) end
  end
end

function Scheduler:__tostring()
  return self._name .. "(last_epoch = " .. self.last_epoch .. ", lr = " .. value_str(self._last_lr) .. ")"
end

local function lrs(self)
  local out = {}
  for i, group in ipairs(self.optimizer.param_groups) do out[i] = group.lr end
  return out
end

-- LinearLR: multiplies lr by a factor moving linearly from start_factor to end_factor over
-- total_iters steps (torch's recursive form, so a manual lr change carries through).
local LinearLR = scheduler_class("LinearLR", function(self)
  local out = {}
  local s, e, n = self.start_factor, self.end_factor, self.total_iters
  for i, group in ipairs(self.optimizer.param_groups) do
    if self.last_epoch == 0 then
      out[i] = group.lr * s
    elseif self._is_initial or self.last_epoch > n then
      out[i] = group.lr
    else
      out[i] = group.lr * (1.0 + (e - s) / (n * s + (self.last_epoch - 1) * (e - s)))
    end
  end
  return out
end)

function lr_scheduler.LinearLR(opt, opts)
  local name = "LinearLR"
  check_optimizer(name, opt)
  opts = opts or {}
  sched_options(name, opts, {start_factor = true, end_factor = true, total_iters = true})
  local self = setmetatable({}, LinearLR)
  self.start_factor = opt_number(name, opts, "start_factor", 1 / 3, function(v)
    if v == nil then return "must be in (0, 1]" end return v > 0 and v <= 1 end)
  self.end_factor = opt_number(name, opts, "end_factor", 1.0, function(v)
    if v == nil then return "must be in [0, 1]" end return v >= 0 and v <= 1 end)
  self.total_iters = opt_number(name, opts, "total_iters", 5, positive_int)
  start(self, opt)
  return self
end

-- StepLR: lr *= gamma every step_size steps.
local StepLR = scheduler_class("StepLR", function(self)
  local out = {}
  for i, group in ipairs(self.optimizer.param_groups) do
    if self.last_epoch == 0 or self.last_epoch % self.step_size ~= 0 then
      out[i] = group.lr
    else
      out[i] = group.lr * self.gamma
    end
  end
  return out
end)

function lr_scheduler.StepLR(opt, opts)
  local name = "StepLR"
  check_optimizer(name, opt)
  sched_options(name, opts, {step_size = true, gamma = true})
  local self = setmetatable({}, StepLR)
  self.step_size = opt_number(name, opts, "step_size", nil, positive_int)
  self.gamma = opt_number(name, opts, "gamma", 0.1)
  start(self, opt)
  return self
end

-- CosineAnnealingLR (SGDR without restarts, Loshchilov & Hutter 2017), in torch's recursive
-- form: lr_t = eta_min + (lr_{t-1} - eta_min) (1 + cos(pi t/T)) / (1 + cos(pi (t-1)/T)),
-- which equals eta_min + (base - eta_min)(1 + cos(pi t/T))/2 while nothing else changes lr.
local CosineAnnealingLR = scheduler_class("CosineAnnealingLR", function(self)
  local out = {}
  local T, eta, t = self.T_max, self.eta_min, self.last_epoch
  for i, group in ipairs(self.optimizer.param_groups) do
    local base = self.base_lrs[i]
    if self._is_initial then
      out[i] = group.lr
    elseif self._step_count == 1 and t > 0 then
      out[i] = eta + (base - eta) * (1 + cos(t * pi / T)) / 2
    elseif (t - 1 - T) % (2 * T) == 0 then
      out[i] = group.lr + (base - eta) * (1 - cos(pi / T)) / 2
    else
      out[i] = (1 + cos(pi * t / T)) / (1 + cos(pi * (t - 1) / T)) * (group.lr - eta) + eta
    end
  end
  return out
end)

function lr_scheduler.CosineAnnealingLR(opt, opts)
  local name = "CosineAnnealingLR"
  check_optimizer(name, opt)
  sched_options(name, opts, {T_max = true, eta_min = true})
  local self = setmetatable({}, CosineAnnealingLR)
  self.T_max = opt_number(name, opts, "T_max", nil, positive_int)
  self.eta_min = opt_number(name, opts, "eta_min", 0)
  start(self, opt)
  return self
end

-- OneCycleLR (Smith & Topin 2018): lr from max_lr/div_factor up to max_lr over pct_start of
-- the steps, then down to initial_lr/final_div_factor; momentum (or beta1) cycles the other
-- way between max_momentum and base_momentum when cycle_momentum (torch's default).
local function anneal(strategy, a, b, pct)
  if strategy == "cos" then return b + (a - b) / 2.0 * (cos(pi * pct) + 1) end
  return (b - a) * pct + a
end

local OneCycleLR = scheduler_class("OneCycleLR", function(self)
  local out = {}
  local t = self.last_epoch
  if t > self.total_steps then
    error("OneCycleLR: tried to step " .. t .. " times; total_steps is " .. self.total_steps, 3)
  end
  local phases = self._schedule_phases
  for i, group in ipairs(self.optimizer.param_groups) do
    local start_step, lr, mom = 0.0, nil, nil
    for k, ph in ipairs(phases) do
      if t <= ph.end_step or k == #phases then
        local pct = (t - start_step) / (ph.end_step - start_step)
        lr = anneal(self.anneal_strategy, group[ph.start_lr], group[ph.end_lr], pct)
        if self.cycle_momentum then
          mom = anneal(self.anneal_strategy, group[ph.start_momentum], group[ph.end_momentum], pct)
        end
        break
      end
      start_step = ph.end_step
    end
    out[i] = lr
    if self.cycle_momentum then
      if self.use_beta1 then group.betas = {mom, group.betas[2]} else group.momentum = mom end
    end
  end
  return out
end)

local function per_group(name, key, v, n)
  if type(v) == "number" then
    local out = {}
    for i = 1, n do out[i] = v end
    return out
  end
  if type(v) ~= "table" or #v ~= n then
    error(name .. ": option '" .. key .. "' must be a number or a list of " .. n .. " numbers (one per parameter group), got " .. value_str(v), 3)
  end
  for i = 1, n do
    if type(v[i]) ~= "number" then error(name .. ": " .. key .. "[" .. i .. "] must be a number, got " .. typename(v[i]), 3) end
  end
  return v
end

function lr_scheduler.OneCycleLR(opt, opts)
  local name = "OneCycleLR"
  check_optimizer(name, opt)
  sched_options(name, opts, {max_lr = true, total_steps = true, epochs = true, steps_per_epoch = true,
                             pct_start = true, anneal_strategy = true, cycle_momentum = true,
                             base_momentum = true, max_momentum = true, div_factor = true,
                             final_div_factor = true, three_phase = true})
  local self = setmetatable({}, OneCycleLR)
  if opts.total_steps ~= nil then
    self.total_steps = opt_number(name, opts, "total_steps", nil, positive_int)
  elseif opts.epochs ~= nil and opts.steps_per_epoch ~= nil then
    self.total_steps = opt_number(name, opts, "epochs", nil, positive_int) *
                       opt_number(name, opts, "steps_per_epoch", nil, positive_int)
  else
    error(name .. ": give total_steps, or epochs and steps_per_epoch", 2)
  end
  local pct = opt_number(name, opts, "pct_start", 0.3, function(v)
    if v == nil then return "must be in [0, 1]" end return v >= 0 and v <= 1 end)
  self.anneal_strategy = opts.anneal_strategy or "cos"
  if self.anneal_strategy ~= "cos" and self.anneal_strategy ~= "linear" then
    error(name .. ": anneal_strategy must be 'cos' or 'linear', got " .. value_str(self.anneal_strategy), 2)
  end
  local div = opt_number(name, opts, "div_factor", 25.0)
  local final_div = opt_number(name, opts, "final_div_factor", 1e4)
  local n = self.total_steps
  if opts.three_phase then
    self._schedule_phases = {
      {end_step = pct * n - 1, start_lr = "initial_lr", end_lr = "max_lr", start_momentum = "max_momentum", end_momentum = "base_momentum"},
      {end_step = 2 * pct * n - 2, start_lr = "max_lr", end_lr = "initial_lr", start_momentum = "base_momentum", end_momentum = "max_momentum"},
      {end_step = n - 1, start_lr = "initial_lr", end_lr = "min_lr", start_momentum = "max_momentum", end_momentum = "max_momentum"},
    }
  else
    self._schedule_phases = {
      {end_step = pct * n - 1, start_lr = "initial_lr", end_lr = "max_lr", start_momentum = "max_momentum", end_momentum = "base_momentum"},
      {end_step = n - 1, start_lr = "max_lr", end_lr = "min_lr", start_momentum = "base_momentum", end_momentum = "max_momentum"},
    }
  end
  local groups = opt.param_groups
  if opts.max_lr == nil then error(name .. ": option 'max_lr' is required", 2) end
  local max_lrs = per_group(name, "max_lr", opts.max_lr, #groups)
  for i, group in ipairs(groups) do
    group.initial_lr = max_lrs[i] / div
    group.max_lr = max_lrs[i]
    group.min_lr = group.initial_lr / final_div
  end
  self.cycle_momentum = opts.cycle_momentum ~= false
  if self.cycle_momentum then
    local d = opt.defaults
    if d.momentum == nil and d.betas == nil then
      error(name .. ": the optimizer has neither momentum nor betas; pass cycle_momentum = false", 2)
    end
    self.use_beta1 = d.betas ~= nil
    local maxm = per_group(name, "max_momentum", opts.max_momentum or 0.95, #groups)
    local basem = per_group(name, "base_momentum", opts.base_momentum or 0.85, #groups)
    for i, group in ipairs(groups) do
      if self.use_beta1 then group.betas = {maxm[i], group.betas[2]} else group.momentum = maxm[i] end
      group.max_momentum, group.base_momentum = maxm[i], basem[i]
    end
  end
  start(self, opt)
  return self
end

-- cosine_with_warmup: lr = base * t/warmup_steps for t < warmup_steps, then
-- min_lr + (base - min_lr)(1 + cos(pi p))/2 with p = (t - warmup)/(total - warmup) capped at 1
-- (the schedule of transformers' get_cosine_schedule_with_warmup, with a floor; it stays at
-- min_lr after total_steps). Closed form in t.
local CosineWithWarmup = scheduler_class("cosine_with_warmup", function(self)
  local out, t = {}, self.last_epoch
  local w, total, eta = self.warmup_steps, self.total_steps, self.min_lr
  for i, base in ipairs(self.base_lrs) do
    if t < w then
      out[i] = base * t / math.max(1, w)
    else
      local p = math.min(1.0, (t - w) / math.max(1, total - w))
      out[i] = eta + (base - eta) * 0.5 * (1.0 + cos(pi * p))
    end
  end
  return out
end)

function optim.cosine_with_warmup(opt, opts)
  local name = "cosine_with_warmup"
  check_optimizer(name, opt)
  sched_options(name, opts, {warmup_steps = true, total_steps = true, min_lr = true})
  local self = setmetatable({}, CosineWithWarmup)
  self.warmup_steps = opt_number(name, opts, "warmup_steps", nil, function(v)
    if v == nil then return "must be a non-negative integer" end return v >= 0 and v == math.floor(v) end)
  self.total_steps = opt_number(name, opts, "total_steps", nil, positive_int)
  if self.total_steps < self.warmup_steps then
    error(name .. ": total_steps (" .. self.total_steps .. ") must be >= warmup_steps (" .. self.warmup_steps .. ")", 2)
  end
  self.min_lr = opt_number(name, opts, "min_lr", 0, function(v)
    if v == nil then return "must be >= 0" end return v >= 0 end)
  start(self, opt)
  return self
end
lr_scheduler.cosine_with_warmup = optim.cosine_with_warmup

for _, k in ipairs{"LinearLR", "StepLR", "CosineAnnealingLR", "OneCycleLR"} do optim[k] = lr_scheduler[k] end

local sched_methods = "Methods: step(), get_last_lr() -> {lr per group}, state_dict(), load_state_dict(sd). Construction already applies step 0 (as torch); call sched:step() after each opt:step()."
tide.doc(lr_scheduler.LinearLR, "tide.optim.lr_scheduler.LinearLR(opt, {start_factor = 1/3, end_factor = 1, total_iters = 5}): lr = base * factor, the factor moving linearly from start_factor to end_factor over total_iters steps (torch.optim.lr_scheduler.LinearLR). " .. sched_methods)
tide.doc(lr_scheduler.StepLR, "tide.optim.lr_scheduler.StepLR(opt, {step_size, gamma = 0.1}): lr *= gamma every step_size steps. " .. sched_methods)
tide.doc(lr_scheduler.CosineAnnealingLR, "tide.optim.lr_scheduler.CosineAnnealingLR(opt, {T_max, eta_min = 0}): lr = eta_min + (base - eta_min)(1 + cos(pi t/T_max))/2, in torch's recursive form. " .. sched_methods)
tide.doc(lr_scheduler.OneCycleLR, "tide.optim.lr_scheduler.OneCycleLR(opt, {max_lr, total_steps | epochs + steps_per_epoch, pct_start = 0.3, div_factor = 25, final_div_factor = 1e4, anneal_strategy = 'cos', cycle_momentum = true, base_momentum = 0.85, max_momentum = 0.95, three_phase = false}): the 1cycle policy as torch (which also cycles momentum / beta1 unless cycle_momentum = false). max_lr may be a list per group. " .. sched_methods)
tide.doc(optim.cosine_with_warmup, "tide.optim.cosine_with_warmup(opt, {warmup_steps, total_steps, min_lr = 0}): lr = base * t/warmup_steps during warmup, then a cosine from base down to min_lr at total_steps (and min_lr after). " .. sched_methods)
tide.doc(lr_scheduler, "Learning-rate schedulers as torch.optim.lr_scheduler: LinearLR, StepLR, CosineAnnealingLR, OneCycleLR, cosine_with_warmup (also under tide.optim).")
