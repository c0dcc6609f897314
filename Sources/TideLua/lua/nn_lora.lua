-- nn_lora.lua: tide.nn.LoRA, low-rank adapters on a frozen Linear (Hu et al. 2021), and the
-- helpers that put them into a model and list their parameters.
--
--   local layer = tide.nn.LoRA.wrap(tide.nn.Linear(64, 64), {rank = 4, alpha = 8, dropout = 0.05})
--   local y = layer(x)                     -- base(x) + (alpha / rank) * dropout(x) A^T B^T
--   local wrapped = tide.nn.LoRA.apply(gpt, {pattern = "attn", rank = 4})   -- every matching Linear
--   local opt = tide.optim.AdamW(tide.nn.lora_parameters(gpt), {lr = 1e-3})
--   layer:merge()                          -- W <- W + (alpha / rank) B A: plain Linear speed
--   layer:unmerge()                        -- and back
--
-- The base Linear keeps its weight (out, in) and bias, with requires_grad off, so they get no
-- gradient. A (rank, in) starts like torch's LoRA (kaiming_uniform with a = sqrt 5, i.e.
-- U(+-1/sqrt(in))) and B (out, rank) at zero, so a fresh adapter leaves the output unchanged.
local tide = ...
local nn, F = tide.nn, tide.F
local Module, init = nn.Module, nn.init
local doc = tide.doc
local impl = nn._impl
local describe = impl.describe

local LoRA = Module:extend("LoRA")
nn.LoRA = LoRA

-- checks shared by wrap, apply and the constructor; level: the error level of the user's call
local function lora_options(fname, o, extra, level)
  level = level or 3
  local allowed = {rank = true, alpha = true, dropout = true}
  for k in pairs(extra or {}) do allowed[k] = true end
  o = impl.options(fname, o, allowed, level)
  local r = o.rank
  if math.type(r) ~= "integer" or r < 1 then
    error(("%s: rank must be a positive integer, got %s"):format(fname, type(r) == "number" and tostring(r) or describe(r)), level)
  end
  local alpha = o.alpha == nil and r or o.alpha
  if type(alpha) ~= "number" or alpha ~= alpha then error(("%s: alpha must be a number, got %s"):format(fname, describe(alpha)), level) end
  local p = o.dropout == nil and 0 or o.dropout
  if type(p) ~= "number" or p < 0 or p >= 1 then
    error(("%s: dropout must be a number in [0, 1), got %s"):format(fname, type(p) == "number" and tostring(p) or describe(p)), level)
  end
  return o, r, alpha, p
end

-- LoRA(linear, {rank, alpha, dropout}) is LoRA.wrap(linear, {...})
function LoRA:__init(linear, rank, alpha, dropout)
  if type(rank) ~= "number" then
    if not (nn.is_module(linear) and linear:is_a(nn.Linear)) then
      error("LoRA: expected a tide.nn.Linear, got " .. describe(linear), 4)
    end
    local _
    _, rank, alpha, dropout = lora_options("LoRA", rank, nil, 4)
  end
  local dt = linear.weight:dtype()
  self.rank, self.alpha, self.dropout = rank, alpha, dropout
  self.scaling = alpha / rank
  self.merged = false
  linear:requires_grad_(false)
  self.base = linear
  self.lora_A = nn.Parameter(tide.empty({rank, linear.in_features}, {dtype = dt}))
  self.lora_B = nn.Parameter(tide.zeros({linear.out_features, rank}, {dtype = dt}))
  init.kaiming_uniform_(self.lora_A, {a = math.sqrt(5)})
end

function LoRA.wrap(linear, o)
  if not (nn.is_module(linear) and linear:is_a(nn.Linear)) then
    error("LoRA.wrap: expected a tide.nn.Linear, got " .. describe(linear), 2)
  end
  local _, r, alpha, p = lora_options("LoRA.wrap", o)
  return LoRA(linear, r, alpha, p)
end
doc(LoRA.wrap, [[tide.nn.LoRA.wrap(linear, {rank, alpha = rank, dropout = 0}) -> a LoRA module around linear (frozen:
requires_grad off on its weight and bias). forward: base(x) + (alpha / rank) * dropout(x) A^T B^T with
lora_A (rank, in) kaiming-uniform and lora_B (out, rank) zeros. m:merge() / m:unmerge() fold the adapter into
base.weight and back; m.base is the Linear.]])

-- x: (..., in) -> (..., out)
function LoRA:forward(x)
  local y = self.base(x)
  if self.merged then return y end
  local h = self.dropout > 0 and F.dropout(x, {p = self.dropout, training = self.training}) or x
  return y + F.linear(F.linear(h, self.lora_A), self.lora_B) * self.scaling
end

-- (alpha / rank) B A: (out, in)
function LoRA:delta_weight()
  return tide.no_grad(function() return self.lora_B:matmul(self.lora_A) * self.scaling end)
end

-- merge keeps the rounding it introduces: with W' = fl(W + D), unmerge computes fl(W' - D) + r
-- where r = W - fl(W' - D), which gives W back bit for bit when r is exact (checked at merge;
-- it is in practice, as the error of a float sum is representable). In the rare case it is not,
-- the pre-merge weight itself is kept and restored. Memory: one weight-sized tensor per merged
-- adapter, freed by unmerge.
function LoRA:merge()
  if self.merged then error("LoRA:merge: the adapter is already merged", 2) end
  local w, d = self.base.weight, self:delta_weight()
  tide.no_grad(function()
    local w0 = w:clone()
    w:add_(d)
    local r = w0 - (w - d)
    if ((w - d) + r):eq(w0):all():item() then
      self._merge_residual, self._merge_base = r, nil
    else
      self._merge_residual, self._merge_base = nil, w0
    end
  end)
  self.merged = true
  return self
end

function LoRA:unmerge()
  if not self.merged then error("LoRA:unmerge: the adapter is not merged", 2) end
  local w, d = self.base.weight, self:delta_weight()
  tide.no_grad(function()
    if self._merge_base then w[{}] = self._merge_base
    else w:sub_(d); w:add_(self._merge_residual or 0) end
  end)
  self._merge_residual, self._merge_base = nil, nil
  self.merged = false
  return self
end
doc(LoRA.merge, "m:merge() -> m with base.weight += (alpha / rank) B A; forward is then the plain Linear. Undo with m:unmerge(), which restores the weight bit for bit.")
doc(LoRA.unmerge, "m:unmerge() -> m with base.weight -= (alpha / rank) B A plus the rounding merge introduced: the pre-merge weight exactly; the adapter is used again.")

function LoRA:extra_repr()
  return ("rank=%d, alpha=%g, scaling=%g, dropout=%g%s"):format(self.rank, self.alpha, self.scaling, self.dropout,
    self.merged and ", merged" or "")
end

-- Wraps every Linear of model whose dotted name (as named_modules gives it) matches the Lua
-- pattern; returns the list of wrapped names. freeze (default true) turns requires_grad off
-- on every other parameter of the model, so only the adapters train.
function LoRA.apply(model, o)
  if not nn.is_module(model) then error("LoRA.apply: expected a module, got " .. describe(model), 2) end
  if type(o) ~= "table" then error("LoRA.apply: expected options {pattern, rank, alpha, dropout, freeze}, got " .. describe(o), 2) end
  local _, r, alpha, p = lora_options("LoRA.apply", o, {pattern = true, freeze = true})
  local pattern = o.pattern == nil and "" or o.pattern
  if type(pattern) ~= "string" then error("LoRA.apply: pattern must be a string (a Lua pattern), got " .. describe(pattern), 2) end
  if o.freeze ~= nil and type(o.freeze) ~= "boolean" then error("LoRA.apply: freeze must be a boolean, got " .. describe(o.freeze), 2) end
  if o.freeze ~= false then model:requires_grad_(false) end
  local targets = {}
  for _, e in ipairs(model:named_modules()) do
    local name, m = e[1], e[2]
    if name ~= "" and m:is_a(nn.Linear) and name:find(pattern) then
      local parent_name, child = name:match("^(.*)%.([^.]+)$")
      local parent = parent_name and model:get_submodule(parent_name) or model
      if not parent:is_a(LoRA) then targets[#targets + 1] = {name, parent, child or name, m} end
    end
  end
  local names = {}
  for _, t in ipairs(targets) do
    t[2][t[3]] = LoRA(t[4], r, alpha, p)       -- replaces the child in its slot (order kept)
    names[#names + 1] = t[1]
  end
  return names
end
doc(LoRA.apply, [[tide.nn.LoRA.apply(model, {pattern = '', rank, alpha = rank, dropout = 0, freeze = true}) -> names.
Replaces every Linear whose dotted name matches the Lua pattern (string.find) by LoRA.wrap(linear, ...);
freeze = true first turns requires_grad off on all of the model's parameters (then only adapters train).]])

-- every adapter parameter (lora_A, lora_B of each LoRA module), in module order
function nn.lora_parameters(model)
  if not nn.is_module(model) then error("lora_parameters: expected a module, got " .. describe(model), 2) end
  local out = {}
  for _, m in ipairs(model:modules()) do
    if m:is_a(LoRA) then out[#out + 1] = m.lora_A; out[#out + 1] = m.lora_B end
  end
  return out
end
doc(nn.lora_parameters, "tide.nn.lora_parameters(model) -> the list of adapter parameters (lora_A, lora_B of every LoRA in model).")

-- merge / unmerge every adapter of a model
function LoRA.merge_all(model)
  for _, m in ipairs(model:modules()) do if m:is_a(LoRA) and not m.merged then m:merge() end end
  return model
end
function LoRA.unmerge_all(model)
  for _, m in ipairs(model:modules()) do if m:is_a(LoRA) and m.merged then m:unmerge() end end
  return model
end
doc(LoRA.merge_all, "tide.nn.LoRA.merge_all(model) -> model with every LoRA adapter merged into its base weight.")
doc(LoRA.unmerge_all, "tide.nn.LoRA.unmerge_all(model) -> model with every merged LoRA adapter taken out again.")

doc(LoRA, [[tide.nn.LoRA: a low-rank adapter on a frozen Linear. Build with tide.nn.LoRA.wrap(linear, {rank, alpha, dropout})
or tide.nn.LoRA.apply(model, {pattern, rank, ...}); tide.nn.lora_parameters(model) lists the adapters' parameters.]])
