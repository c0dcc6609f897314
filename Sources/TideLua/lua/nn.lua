-- nn.lua: tide.nn, PyTorch-style module trees written in Lua over the differentiable ops of
-- tide.F and the tensor methods. This file holds the Module base class, Parameter and the
-- tree machinery; the containers (Sequential, ModuleList, ModuleDict) are in nn_containers.lua,
-- layers in nn_layers.lua, initialisers in nn_init.lua, and the functional ops composed in Lua
-- (losses, pad, normalize) in functional.lua.
--
--   local MLP = tide.nn.Module:extend("MLP")
--   function MLP:__init(d, h)
--     self.fc1 = tide.nn.Linear(d, h)          -- assigning a module registers it
--     self.fc2 = tide.nn.Linear(h, 1)
--     self.scale = tide.nn.Parameter(tide.ones(1))
--   end
--   function MLP:forward(x) return self.fc2(self.fc1(x):relu()) * self.scale end
--   local m = MLP(4, 16)                       -- constructs; m(x) runs forward
--   for name, p in m:named_parameters() do print(name, p:shape()) end
--
-- Memory model: an instance is a Lua table whose only raw field is `__nn`, its state:
-- `values` (every attribute: parameters, buffers, children and plain fields), `kind` (name ->
-- "param" | "buffer" | "module") and the ordered name lists `params`, `buffers`, `modules`.
-- Keeping the instance itself empty makes every assignment pass through __newindex, which
-- is where parameters and children get registered, in assignment order. Parameters are
-- ordinary tensors remembered in a weak set (tide.nn.is_parameter); modules hold them
-- strongly, so a tensor lives as long as some module or variable refers to it.
local tide = ...
local nn = tide.nn or {}
tide.nn = nn

local doc = tide.doc
local is_tensor = tide.is_tensor

local function shape_str(t)
  local s = t:shape()
  if #s == 0 then return "scalar" end
  return table.concat(s, "x")
end

-- what a value is, for messages ("a number", "a Linear module", "a tensor")
local function describe(v)
  if is_tensor(v) then return "a tensor (" .. v:dtype() .. " " .. shape_str(v) .. ")" end
  if type(v) == "table" and rawget(v, "__nn") then return "a " .. rawget(v, "__nn").class.__name .. " module" end
  return "a " .. type(v)
end

--------------------------------------------------------------------------------------------
-- Parameters

local param_set = setmetatable({}, {__mode = "k"})

function nn.Parameter(t, requires_grad)
  if not is_tensor(t) then error("Parameter: a tensor expected, got " .. describe(t), 2) end
  if not t.is_leaf then t = t:detach() end   -- a parameter is a leaf; keep the values, drop the graph
  if requires_grad ~= false then t:requires_grad_() end
  param_set[t] = true
  return t
end
doc(nn.Parameter, [[tide.nn.Parameter(t [, requires_grad = true]) -> t marked as a parameter (requires_grad_() on it).
Assigning a parameter to a module field registers it: self.weight = tide.nn.Parameter(tide.randn(4, 3)).
A tensor that is the result of an op is detached first (same storage, no graph).]])

function nn.is_parameter(t) return param_set[t] == true end
doc(nn.is_parameter, "tide.nn.is_parameter(t) -> true when t was made by tide.nn.Parameter (or registered as one).")

local function is_module(v) return type(v) == "table" and rawget(v, "__nn") ~= nil end
nn.is_module = is_module
doc(nn.is_module, "tide.nn.is_module(v) -> true when v is a module instance.")

-- Name lists of {name, value} pairs that also iterate directly: `for name, v in list do`.
-- The generic for calls the list with the previous name; the cursor lives in a weak table.
local cursor = setmetatable({}, {__mode = "k"})
local pair_list_mt = {
  __call = function(self, _, prev)
    local i = prev == nil and 1 or (cursor[self] or 0) + 1
    local e = self[i]
    cursor[self] = i
    if e then return e[1], e[2] end
  end,
}
local function pair_list() return setmetatable({}, pair_list_mt) end

--------------------------------------------------------------------------------------------
-- Classes

local Module = {__name = "Module"}
nn.Module = Module

-- the state of a module, or an error naming the method when it is called on something else
-- (m.parameters() instead of m:parameters())
local function state(self, fname)
  local S = type(self) == "table" and rawget(self, "__nn")
  if not S then
    error(("%s: expected a module as self, got %s (call it as m:%s(...))"):format(fname, describe(self), fname), 3)
  end
  return S
end

-- options(fname, o, allowed) -> o or {}: a trailing options table with unknown keys rejected,
-- so that a typo ({bais = false}) is an error rather than a silent default
local function options(fname, o, allowed, level)
  if o == nil then return {} end
  if type(o) ~= "table" or is_tensor(o) or is_module(o) then
    error(("%s: options must be a table, got %s"):format(fname, describe(o)), (level or 2) + 1)
  end
  for k in pairs(o) do
    if not allowed[k] then
      local names = {}
      for a in pairs(allowed) do names[#names + 1] = a end
      table.sort(names)
      error(("%s: unknown option '%s' (expected %s)"):format(fname, tostring(k), table.concat(names, ", ")), (level or 2) + 1)
    end
  end
  return o
end

-- registration: `kind` is "param", "buffer" or "module"; a name keeps its place when it is
-- assigned again and moves to the end of the new kind's list when its kind changes
local function check_name(S, name, what)
  if type(name) ~= "string" then
    error(("%s: %s name must be a string, got %s"):format(S.class.__name, what, type(name)), 4)
  end
  if name == "" or name:find(".", 1, true) then
    error(("%s: %s name must be non-empty and contain no '.', got '%s'"):format(S.class.__name, what, name), 4)
  end
  if S.class[name] ~= nil then
    error(("%s: cannot register %s '%s': the class has a method or field of that name"):format(S.class.__name, what, name), 4)
  end
end

local lists = {param = "params", buffer = "buffers", module = "modules"}

local function set_kind(S, name, kind)
  local old = S.kind[name]
  if old == kind then return end
  if old then
    local l = S[lists[old]]
    for i = 1, #l do if l[i] == name then table.remove(l, i); break end end
  end
  S.kind[name] = kind
  local l = S[lists[kind]]
  l[#l + 1] = name
end

local kind_word = {param = "parameter", buffer = "buffer", module = "submodule"}

local function set_attr(self, S, k, v)
  local kind = S.kind[k]
  if is_module(v) then
    if kind ~= "module" then check_name(S, k, "submodule"); set_kind(S, k, "module") end
  elseif is_tensor(v) and param_set[v] then
    if kind ~= "param" then check_name(S, k, "parameter"); set_kind(S, k, "param") end
  elseif v ~= nil and (kind == "param" or kind == "module") then
    error(("%s: cannot assign %s to %s '%s' (%s or nil expected)"):format(S.class.__name, describe(v), kind_word[kind], k,
      kind == "param" and "a tide.nn.Parameter" or "a module"), 3)
  elseif v ~= nil and kind == "buffer" and not is_tensor(v) then
    error(("%s: cannot assign %s to buffer '%s' (a tensor or nil expected)"):format(S.class.__name, describe(v), k), 3)
  end
  S.values[k] = v
end

-- integer keys name children of containers ("1", "2", ...); seq[-1] is the last one
local function int_key(S, k)
  local i = math.tointeger(k)
  if i and i < 0 then i = #S.modules + 1 + i end
  return i and tostring(i)
end

local instance_mt   -- forward declaration (the metatable of a class's instances)
local call_module, repr

local class_mt_cache = setmetatable({}, {__mode = "k"})

local function new_instance(C, ...)
  local S = {class = C, values = {training = true}, kind = {}, params = {}, buffers = {}, modules = {},
             nonpersistent = {}}
  local self = setmetatable({__nn = S}, instance_mt(C))
  local init = C.__init
  if init then init(self, ...) end
  return self
end

function instance_mt(C)
  local mt = class_mt_cache[C]
  if mt then return mt end
  mt = {
    __index = function(self, k)
      local S = rawget(self, "__nn")
      local v = S.values[k]
      if v ~= nil then return v end
      if type(k) == "number" then
        local name = int_key(S, k)
        return name and S.values[name]
      end
      return C[k]
    end,
    __newindex = function(self, k, v)
      local S = rawget(self, "__nn")
      if type(k) == "number" then
        local setitem = C.__setindex
        if setitem then return setitem(self, k, v) end
        k = int_key(S, k) or error(S.class.__name .. ": a non-integer number cannot be a field name", 2)
      elseif type(k) ~= "string" then
        error(S.class.__name .. ": field names must be strings or integers, got " .. type(k), 2)
      end
      set_attr(self, S, k, v)
    end,
    __call = function(self, ...) return call_module(self, ...) end,
    __tostring = function(self) return repr(self) end,
    __len = function(self)
      local f = C.__len
      if f then return f(self) end
      return #rawget(self, "__nn").modules
    end,
    __name = "tide.nn." .. C.__name,
  }
  class_mt_cache[C] = mt
  return mt
end

local function make_class(parent, name)
  local C = {__name = name, __super = parent}
  return setmetatable(C, {
    __index = parent,
    __call = new_instance,
    __tostring = function() return "tide.nn class " .. name end,
  })
end

setmetatable(Module, {
  __call = new_instance,
  __tostring = function() return "tide.nn class Module" end,
})

function Module.extend(C, name)
  if type(C) ~= "table" or rawget(C, "__nn") or not rawget(C, "__name") then
    error("extend: call it on a class: tide.nn.Module:extend(\"Name\")", 2)
  end
  if type(name) ~= "string" or not name:match("^[%a_][%w_]*$") then
    error("extend: a class name (an identifier string) expected, got " .. (type(name) == "string" and ("'" .. name .. "'") or type(name)), 2)
  end
  return make_class(C, name)
end
doc(Module.extend, [[Class:extend("Name") -> a subclass. Define Name:__init(...) (fields, children, parameters) and
Name:forward(...); Name(...) constructs and m(x) runs forward. Subclasses extend again; a super
call is Parent.__init(self, ...). The base state (registration, training = true) exists before
__init runs, so __init need not call Module.__init.]])

function Module.__init() end

function Module:forward()
  local name = state(self, "forward").class.__name
  error(name .. ": forward is not defined (write function " .. name .. ":forward(...) ... end)", 2)
end

function Module:is_a(C)
  local c = state(self, "is_a").class
  while c do
    if c == C then return true end
    c = rawget(c, "__super")
  end
  return false
end
doc(Module.is_a, "m:is_a(Class) -> true when m is an instance of Class or of a subclass of it.")

--------------------------------------------------------------------------------------------
-- Forward calls and error paths

-- The chain of modules whose forward is running, outermost first. When an error leaves a
-- forward, the innermost wrapper prefixes the path of the failing module relative to the
-- outermost one ("blocks.2.mlp.fc1 (Linear): ..."); the wrappers above pass it on unchanged.
local stack, depth = {}, 0
local last_tagged

local function find_path(root, m)
  for _, e in ipairs(root:named_modules()) do
    if rawequal(e[2], m) and e[1] ~= "" then return e[1] end
  end
end

local function tag(err)
  local parts = {}
  for i = 2, depth do
    local p = find_path(stack[i - 1], stack[i])
    if not p then
      p = find_path(stack[1], stack[i])
      if p then parts = {} else p = "<" .. rawget(stack[i], "__nn").class.__name .. ">" end
    end
    parts[#parts + 1] = p
  end
  -- a position inside the library (tide/nn_layers.lua:40:) says nothing to the user
  local msg = err:gsub("^tide/[%w_]+%.lua:%d+: ", "")
  local cls = rawget(stack[depth], "__nn").class.__name
  -- a message that already names the class ("Attention: expected ...") is not named twice
  if msg:sub(1, #cls + 2) == cls .. ": " then msg = msg:sub(#cls + 3) end
  if #parts == 0 then return cls .. ": " .. msg end
  return table.concat(parts, ".") .. " (" .. cls .. "): " .. msg
end

local function finish(level, ok, ...)
  if ok then
    stack[level] = nil
    depth = level - 1
    return ...
  end
  local err = ...
  if type(err) == "string" and err ~= last_tagged then
    depth = level
    local tok, tagged = pcall(tag, err)
    if tok then err = tagged; last_tagged = tagged end
  end
  stack[level] = nil
  depth = level - 1
  error(err, 0)
end

function call_module(self, ...)
  local S = rawget(self, "__nn")
  local level = depth + 1
  depth = level
  stack[level] = self
  return finish(level, pcall(S.values.forward or S.class.forward, self, ...))
end

--------------------------------------------------------------------------------------------
-- Registration API

function Module:register_parameter(name, t)
  local S = state(self, "register_parameter")
  if t ~= nil and not is_tensor(t) then
    error(("register_parameter: a tensor or nil expected for '%s', got %s"):format(tostring(name), describe(t)), 2)
  end
  if S.kind[name] ~= "param" then check_name(S, name, "parameter") end
  if t ~= nil then t = nn.Parameter(t) end
  set_kind(S, name, "param")
  S.values[name] = t
  return t
end
doc(Module.register_parameter, "m:register_parameter(name, t) -> t as a parameter named name (nil registers an absent one, like a disabled bias).")

function Module:register_buffer(name, t, opts)
  local S = state(self, "register_buffer")
  opts = options("register_buffer", opts, {persistent = true})
  if t ~= nil and not is_tensor(t) then
    error(("register_buffer: a tensor or nil expected for '%s', got %s"):format(tostring(name), describe(t)), 2)
  end
  if S.kind[name] ~= "buffer" then check_name(S, name, "buffer") end
  set_kind(S, name, "buffer")
  S.values[name] = t
  S.nonpersistent[name] = (opts and opts.persistent == false) or nil
  return t
end
doc(Module.register_buffer, [[m:register_buffer(name, t [, {persistent = true}]) -> t: non-trainable state (running
statistics, masks) moved by m:to() and saved in state_dict() unless persistent = false.]])

function Module:add_module(name, m)
  local S = state(self, "add_module")
  if m ~= nil and not is_module(m) then
    error(("add_module: a module or nil expected for '%s', got %s"):format(tostring(name), describe(m)), 2)
  end
  if S.kind[name] ~= "module" then check_name(S, name, "submodule") end
  set_kind(S, name, "module")
  S.values[name] = m
  return m
end
Module.register_module = Module.add_module
doc(Module.add_module, "m:add_module(name, child) -> child registered under name (the same as m[name] = child).")

--------------------------------------------------------------------------------------------
-- Traversal

function Module:named_children()
  local S = state(self, "named_children")
  local out, seen = pair_list(), {}
  for _, name in ipairs(S.modules) do
    local c = S.values[name]
    if c ~= nil and not seen[c] then seen[c] = true; out[#out + 1] = {name, c} end
  end
  return out
end
doc(Module.named_children, "m:named_children() -> list of {name, child} in registration order (each child once); also `for name, c in m:named_children() do`.")

function Module:children()
  state(self, "children")
  local out = {}
  for i, e in ipairs(self:named_children()) do out[i] = e[2] end
  return out
end
doc(Module.children, "m:children() -> list of the direct submodules in registration order.")

local function walk_modules(m, prefix, out, seen)
  if seen[m] then return end
  seen[m] = true
  out[#out + 1] = {prefix, m}
  local S = rawget(m, "__nn")
  for _, name in ipairs(S.modules) do
    local c = S.values[name]
    if c ~= nil then walk_modules(c, prefix == "" and name or (prefix .. "." .. name), out, seen) end
  end
end

local function prefix_opt(fname, opts)
  opts = options(fname, opts, {prefix = true}, 3)
  if opts.prefix ~= nil and type(opts.prefix) ~= "string" then
    error(fname .. ": prefix must be a string, got " .. describe(opts.prefix), 3)
  end
  return opts.prefix
end

function Module:named_modules(opts)
  state(self, "named_modules")
  local out = pair_list()
  walk_modules(self, prefix_opt("named_modules", opts) or "", out, {})
  return out
end
doc(Module.named_modules, [[m:named_modules([{prefix = ""}]) -> list of {name, module}: m itself (name "") then every
descendant, depth first in registration order, each once; also `for name, mod in m:named_modules() do`.]])

function Module:modules()
  state(self, "modules")
  local out = {}
  for i, e in ipairs(self:named_modules()) do out[i] = e[2] end
  return out
end
doc(Module.modules, "m:modules() -> list of m and all its descendants (depth first, each once).")

-- {name, tensor} for every registered tensor of one kind: each module's own first, then its
-- children's (torch's order); `dedup` keeps the first name of a tensor shared by several
local function named_members(self, kind, dedup, prefix)
  local out, seen = pair_list(), {}
  for _, e in ipairs(self:named_modules()) do
    local S = rawget(e[2], "__nn")
    for _, name in ipairs(S[lists[kind]]) do
      local t = S.values[name]
      if t ~= nil and not (dedup and seen[t]) then
        seen[t] = true
        local full = e[1] == "" and name or (e[1] .. "." .. name)
        out[#out + 1] = {prefix .. full, t, e[2], name}
      end
    end
  end
  return out
end

function Module:named_parameters(opts)
  state(self, "named_parameters")
  local prefix = prefix_opt("named_parameters", opts)
  return named_members(self, "param", true, prefix and (prefix .. ".") or "")
end
doc(Module.named_parameters, [[m:named_parameters([{prefix}]) -> list of {name, tensor}, names dotted ("blocks.1.attn.weight"):
each module's own parameters in registration order, then its children's, depth first; a tensor
shared by several modules appears once (first name). The list also iterates directly:
`for name, p in m:named_parameters() do ... end`.]])

function Module:parameters()
  state(self, "parameters")
  local out = {}
  for i, e in ipairs(self:named_parameters()) do out[i] = e[2] end
  return out
end
doc(Module.parameters, "m:parameters() -> list of the parameter tensors in named_parameters() order, each once (same tensors every call).")

function Module:named_buffers()
  state(self, "named_buffers")
  return named_members(self, "buffer", true, "")
end
doc(Module.named_buffers, "m:named_buffers() -> list of {name, tensor} of the buffers, ordered like named_parameters().")

function Module:buffers()
  state(self, "buffers")
  local out = {}
  for i, e in ipairs(self:named_buffers()) do out[i] = e[2] end
  return out
end
doc(Module.buffers, "m:buffers() -> list of the buffer tensors.")

function Module:get_submodule(path)
  state(self, "get_submodule")
  if type(path) ~= "string" then error("get_submodule: path must be a string, got " .. describe(path), 2) end
  local m = self
  if path == "" then return m end
  for part in tostring(path):gmatch("[^.]+") do
    local S = rawget(m, "__nn")
    local c = S.kind[part] == "module" and S.values[part]
    if not c then error(("get_submodule: '%s' has no submodule '%s'"):format(path, part), 2) end
    m = c
  end
  return m
end
doc(Module.get_submodule, "m:get_submodule(\"blocks.1.attn\") -> that descendant (errors when absent).")

--------------------------------------------------------------------------------------------
-- Modes, gradients, functions over the tree

function Module:train(mode)
  state(self, "train")
  if mode == nil then mode = true end
  if type(mode) ~= "boolean" then error("train: mode must be a boolean, got " .. type(mode), 2) end
  for _, m in ipairs(self:modules()) do rawget(m, "__nn").values.training = mode end
  return self
end
doc(Module.train, "m:train([mode = true]) -> m, with m.training = mode in m and every descendant (dropout is active in training).")

function Module:eval() state(self, "eval"); return self:train(false) end
doc(Module.eval, "m:eval() -> m:train(false).")

function Module:requires_grad_(flag)
  state(self, "requires_grad_")
  if flag == nil then flag = true end
  if type(flag) ~= "boolean" then error("requires_grad_: flag must be a boolean, got " .. describe(flag), 2) end
  for _, p in ipairs(self:parameters()) do p:requires_grad_(flag) end
  return self
end
doc(Module.requires_grad_, "m:requires_grad_([flag = true]) -> m with every parameter's requires_grad set (false freezes).")

function Module:zero_grad(opts)
  state(self, "zero_grad")
  local to_none = options("zero_grad", opts, {set_to_none = true}).set_to_none ~= false
  for _, p in ipairs(self:parameters()) do
    if to_none then p.grad = nil
    elseif p.grad then p.grad = tide.zeros_like(p.grad) end
  end
  return self
end
doc(Module.zero_grad, "m:zero_grad([{set_to_none = true}]) -> m with every parameter's .grad cleared (nil, or zeros).")

function Module:apply(fn)
  state(self, "apply")
  if type(fn) ~= "function" then error("apply: a function expected, got " .. type(fn), 2) end
  for _, c in ipairs(self:children()) do c:apply(fn) end
  fn(self)
  return self
end
doc(Module.apply, "m:apply(fn) -> m, after fn(module) on every descendant (children first) and then m (custom initialisation).")

function Module:num_parameters(opts)
  state(self, "num_parameters")
  local trainable = options("num_parameters", opts, {trainable_only = true}).trainable_only
  local n = 0
  for _, p in ipairs(self:parameters()) do
    if not trainable or p.requires_grad then n = n + p:numel() end
  end
  return n
end
doc(Module.num_parameters, "m:num_parameters([{trainable_only = false}]) -> the number of parameter elements (shared tensors counted once).")

local float_dtypes = {f32 = true, f64 = true}

function Module:to(dtype)
  state(self, "to")
  if type(dtype) == "table" then dtype = options("to", dtype, {dtype = true}).dtype end
  if not float_dtypes[dtype] then
    error("to: dtype must be 'f32' or 'f64', got " .. (type(dtype) == "string" and ("'" .. dtype .. "'") or type(dtype)), 2)
  end
  local memo = {}
  local function cast(t, as_param)
    if memo[t] then return memo[t] end
    local out = t
    if float_dtypes[t:dtype()] and t:dtype() ~= dtype then
      out = t:detach():to(dtype)
      if as_param then
        out = nn.Parameter(out, t.requires_grad)
        if t.grad then out.grad = t.grad:to(dtype) end
      end
    end
    memo[t] = out
    return out
  end
  for _, m in ipairs(self:modules()) do
    local S = rawget(m, "__nn")
    for _, name in ipairs(S.params) do
      if S.values[name] then S.values[name] = cast(S.values[name], true) end
    end
    for _, name in ipairs(S.buffers) do
      if S.values[name] then S.values[name] = cast(S.values[name], false) end
    end
  end
  return self
end
doc(Module.to, [[m:to(dtype) -> m with its floating parameters and buffers cast to dtype ('f32' or 'f64'); integer
buffers are kept. Cast parameters are new tensors (shared ones stay shared): build optimizers after.]])

--------------------------------------------------------------------------------------------
-- State dicts

local sd_mt_cache = setmetatable({}, {__mode = "k"})

function Module:state_dict(opts)
  state(self, "state_dict")
  opts = options("state_dict", opts, {prefix = true, keep_vars = true})
  local keep = opts.keep_vars
  local prefix = opts.prefix or ""
  if type(prefix) ~= "string" then error("state_dict: prefix must be a string, got " .. describe(prefix), 2) end
  local sd, keys = {}, {}
  local seen_mod = {}
  local function visit(m, p)
    if seen_mod[m] then return end
    seen_mod[m] = true
    local S = rawget(m, "__nn")
    for _, kind in ipairs({"params", "buffers"}) do
      for _, name in ipairs(S[kind]) do
        local t = S.values[name]
        if t ~= nil and not (kind == "buffers" and S.nonpersistent[name]) then
          local key = p .. name
          keys[#keys + 1] = key
          sd[key] = keep and t or t:detach()
        end
      end
    end
    for _, name in ipairs(S.modules) do
      local c = S.values[name]
      if c then visit(c, p .. name .. ".") end
    end
  end
  visit(self, prefix)
  -- the order lives in the metatable so that sd's raw entries are only the tensors (what
  -- tide.io.save writes); pairs(sd) follows it
  local mt = {
    __tide_data = true,   -- plain data with an ordering view: tide.save stores the raw entries
    __index = {keys = keys},
    __pairs = function(t)
      local i = 0
      return function()
        i = i + 1
        local k = keys[i]
        if k ~= nil then return k, rawget(t, k) end
      end, t, nil
    end,
  }
  sd_mt_cache[sd] = true
  return setmetatable(sd, mt)
end
doc(Module.state_dict, [[m:state_dict([{prefix, keep_vars = false}]) -> {name = tensor} of every parameter and persistent
buffer (detached; keep_vars keeps the parameters themselves), per module its parameters, then its
buffers, then its children's entries. sd.keys lists the names in that order and pairs(sd) follows
it. A tensor shared by two modules appears under both names. tide.io.save(path, sd) writes it.]])

local function sorted_list(t) table.sort(t); return t end

function Module:load_state_dict(sd, opts)
  state(self, "load_state_dict")
  if type(sd) ~= "table" or is_module(sd) then error("load_state_dict: a table of tensors expected, got " .. describe(sd), 2) end
  local strict = options("load_state_dict", opts, {strict = true}).strict
  if strict == nil then strict = true end
  if type(strict) ~= "boolean" then error("load_state_dict: strict must be a boolean, got " .. describe(strict), 2) end
  local own = self:state_dict({keep_vars = true})
  local own_set, missing, unexpected, mismatch = {}, {}, {}, {}
  for _, key in ipairs(own.keys) do
    own_set[key] = true
    local v = rawget(sd, key)
    if v == nil then
      missing[#missing + 1] = key
    elseif not is_tensor(v) then
      mismatch[#mismatch + 1] = ("'%s' is %s, a tensor expected"):format(key, describe(v))
    elseif shape_str(v) ~= shape_str(own[key]) then
      mismatch[#mismatch + 1] = ("size mismatch for %s: the state dict has shape %s, the model %s"):format(
        key, shape_str(v), shape_str(own[key]))
    end
  end
  for k in next, sd do
    if not own_set[k] then unexpected[#unexpected + 1] = tostring(k) end
  end
  sorted_list(unexpected)
  if #mismatch > 0 then
    error("load_state_dict: " .. table.concat(mismatch, "; "), 2)
  end
  if strict and (#missing > 0 or #unexpected > 0) then
    local parts = {}
    if #missing > 0 then parts[#parts + 1] = "missing keys: " .. table.concat(missing, ", ") end
    if #unexpected > 0 then parts[#parts + 1] = "unexpected keys: " .. table.concat(unexpected, ", ") end
    error("load_state_dict: " .. table.concat(parts, "; ") .. " (pass {strict = false} to load the rest)", 2)
  end
  -- checked everything first, so a failed load leaves the model untouched
  tide.no_grad(function()
    for _, key in ipairs(own.keys) do
      local v = rawget(sd, key)
      if v ~= nil then own[key][{}] = v end
    end
  end)
  return {missing_keys = missing, unexpected_keys = unexpected}
end
doc(Module.load_state_dict, [[m:load_state_dict(sd [, {strict = true}]) -> {missing_keys = {...}, unexpected_keys = {...}}.
Copies sd's tensors into the parameters and buffers in place (no_grad; dtypes are converted).
A shape mismatch raises naming the key and both shapes; with strict, missing or unexpected keys
raise listing them. Nothing is copied when it raises.]])

--------------------------------------------------------------------------------------------
-- Printing

function Module:extra_repr() return "" end
doc(Module.extra_repr, "m:extra_repr() -> the text inside Name(...) when printing (override in a layer: \"in_features=4, ...\").")

function repr(m)
  local S = rawget(m, "__nn")
  local lines = {}
  local ok, extra = pcall(m.extra_repr, m)
  extra = ok and tostring(extra or "") or ("<extra_repr failed: " .. tostring(extra) .. ">")
  local nextra = 0
  for line in extra:gmatch("[^\n]+") do lines[#lines + 1] = line; nextra = nextra + 1 end
  local nchild = 0
  for _, name in ipairs(S.modules) do
    local c = S.values[name]
    if c ~= nil then
      lines[#lines + 1] = "(" .. name .. "): " .. repr(c):gsub("\n", "\n  ")
      nchild = nchild + 1
    end
  end
  local head = S.class.__name .. "("
  if nchild == 0 and nextra <= 1 then return head .. extra .. ")" end
  return head .. "\n  " .. table.concat(lines, "\n  ") .. "\n)"
end

-- what the other nn files need from this one (not part of the public API)
-- a number option of a table `o` (default when absent), called from the function `fname`
-- itself, so an error points at fname's caller
local function number_opt(fname, o, key, default)
  local v = o[key]
  if v == nil then return default end
  if type(v) ~= "number" then error(("%s: option %s must be a number, got %s"):format(fname, key, type(v)), 3) end
  return v
end

nn._impl = {set_kind = set_kind, describe = describe, shape_str = shape_str, options = options, state = state,
            number_opt = number_opt}

doc(Module, [[tide.nn.Module: the base class of layers and models. Make a model class with Module:extend("Name").
Methods: parameters, named_parameters, children, named_children, modules, named_modules, buffers,
named_buffers, register_parameter, register_buffer, add_module, train, eval, state_dict,
load_state_dict, num_parameters, zero_grad, apply, to, requires_grad_, get_submodule, is_a.]])
doc(nn, "tide.nn: modules (Module:extend, Linear, Conv2d, LayerNorm, Embedding, Sequential, ...), Parameter and init.")

return nn
