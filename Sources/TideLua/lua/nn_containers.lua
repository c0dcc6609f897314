-- nn_containers.lua: the container modules of tide.nn: Sequential (applies its children in
-- order), ModuleList (a list of children, no forward) and ModuleDict (named children).
--
--   local net = tide.nn.Sequential(tide.nn.Linear(4, 16), tide.nn.ReLU(), tide.nn.Linear(16, 2))
--   local y = net(tide.randn(8, 4))            -- (8, 4) -> (8, 2)
--   local blocks = tide.nn.ModuleList({})
--   for i = 1, 3 do blocks:append(tide.nn.Linear(16, 16)) end
--   for i, b in blocks:ipairs() do print(i, b) end
--   local heads = tide.nn.ModuleDict({cls = tide.nn.Linear(16, 10), box = tide.nn.Linear(16, 4)})
--
-- List containers name their children "1", "2", ... (so state_dict keys read "blocks.2.weight")
-- and may hold one module twice (Sequential(act, lin, act)); the registration machinery and
-- the memory model are nn.lua's.
local tide = ...
local nn = tide.nn
local Module = nn.Module
local doc = tide.doc
local is_module = nn.is_module
local set_kind, describe, state = nn._impl.set_kind, nn._impl.describe, nn._impl.state

local function check_module(cname, i, m)
  if not is_module(m) then error(("%s: item %s must be a module, got %s"):format(cname, tostring(i), describe(m)), 4) end
end

-- integer assignment for the list containers: replace 1..n or append at n + 1
local function list_setindex(self, k, v)
  local S = state(self, "__setindex")
  local i, n = math.tointeger(k), #S.modules
  if i and i < 0 then i = n + 1 + i end
  if not i or i < 1 or i > n + 1 then
    error(("%s: index %s out of range (1..%d, or %d to append)"):format(S.class.__name, tostring(k), n, n + 1), 2)
  end
  check_module(S.class.__name, k, v)
  set_kind(S, tostring(i), "module")
  S.values[tostring(i)] = v
end

-- replaces all children of a list container with `list` (named "1".."n")
-- (a list may hold one module twice: Sequential(act, lin, act))
local function reset_list(self, list)
  local S = rawget(self, "__nn")
  for _, name in ipairs(S.modules) do S.values[name] = nil; S.kind[name] = nil end
  S.modules = {}
  for i, m in ipairs(list) do set_kind(S, tostring(i), "module"); S.values[tostring(i)] = m end
end

local function list_items(args, n, cname)
  local items = args
  if n == 1 and type(args[1]) == "table" and not is_module(args[1]) then items = args[1]; n = #items end
  local out = {}
  for i = 1, n do check_module(cname, i, items[i]); out[i] = items[i] end
  return out
end

local Sequential = Module:extend("Sequential")
nn.Sequential = Sequential
function Sequential:__init(...)
  state(self, "__init")
  reset_list(self, list_items({...}, select("#", ...), "Sequential"))
end
Sequential.__setindex = list_setindex
function Sequential:forward(x)
  local S = state(self, "forward")
  for _, name in ipairs(S.modules) do x = S.values[name](x) end
  return x
end
function Sequential:append(m)
  state(self, "append")
  check_module("Sequential", #self + 1, m)
  self[#self + 1] = m
  return self
end
doc(Sequential, [[tide.nn.Sequential(m1, m2, ...) or Sequential({m1, m2, ...}): applies its modules in order.
Children are named "1", "2", ...; seq[i] (seq[-1] the last), #seq, seq:append(m), ipairs(seq).]])

local ModuleList = Module:extend("ModuleList")
nn.ModuleList = ModuleList
function ModuleList:__init(list)
  state(self, "__init")
  if list ~= nil and (type(list) ~= "table" or is_module(list)) then
    error("ModuleList: a list of modules expected, got " .. describe(list), 3)
  end
  reset_list(self, list_items({list or {}}, 1, "ModuleList"))
end
ModuleList.__setindex = list_setindex
function ModuleList:forward()
  error("ModuleList is not callable: iterate it (for i, m in ml:ipairs() do x = m(x) end)", 2)
end
function ModuleList:append(m)
  state(self, "append")
  check_module("ModuleList", #self + 1, m)
  self[#self + 1] = m
  return self
end
function ModuleList:extend(list)
  state(self, "extend")
  if type(list) ~= "table" or is_module(list) and not list:is_a(ModuleList) then
    error("ModuleList:extend: a list of modules expected, got " .. describe(list), 2)
  end
  local items = is_module(list) and list:children() or list
  for _, m in ipairs(items) do self:append(m) end
  return self
end
function ModuleList:insert(i, m)
  local S = state(self, "insert")
  local cur = {}
  for k, name in ipairs(S.modules) do cur[k] = S.values[name] end
  local n = #cur
  i = math.tointeger(i)
  if not i or i < 1 or i > n + 1 then error(("ModuleList:insert: index %s out of range (1..%d)"):format(tostring(i), n + 1), 2) end
  check_module("ModuleList", i, m)
  table.insert(cur, i, m)
  reset_list(self, cur)
  return self
end
function ModuleList:ipairs()
  local S = state(self, "ipairs")
  local items = {}
  for i, name in ipairs(S.modules) do items[i] = S.values[name] end
  return ipairs(items)
end
doc(ModuleList, [[tide.nn.ModuleList({m1, m2, ...}): a list of submodules (registered as "1", "2", ...) without a forward.
ml[i], #ml, ml:append(m), ml:extend(list), ml:insert(i, m), and `for i, m in ml:ipairs() do` (or ipairs(ml)).]])

local ModuleDict = Module:extend("ModuleDict")
nn.ModuleDict = ModuleDict
function ModuleDict:__init(t)
  state(self, "__init")
  if t == nil then return end
  if type(t) ~= "table" or is_module(t) then error("ModuleDict: a table of modules expected, got " .. describe(t), 3) end
  self:update(t)
end
function ModuleDict:update(t)
  state(self, "update")
  if type(t) ~= "table" or is_module(t) then error("ModuleDict:update: a table of modules expected, got " .. describe(t), 2) end
  -- {{"name", m}, ...} keeps its order; a {name = m} table is added in sorted key order
  local entries = {}
  if #t > 0 then
    for i, e in ipairs(t) do
      if type(e) ~= "table" or type(e[1]) ~= "string" then
        error(("ModuleDict: entry %d must be {name, module}, got %s"):format(i, describe(e)), 3)
      end
      entries[#entries + 1] = e
    end
  else
    local keys = {}
    for k in pairs(t) do
      if type(k) ~= "string" then error("ModuleDict: keys must be strings, got " .. type(k), 3) end
      keys[#keys + 1] = k
    end
    table.sort(keys)
    for _, k in ipairs(keys) do entries[#entries + 1] = {k, t[k]} end
  end
  for _, e in ipairs(entries) do
    check_module("ModuleDict", "'" .. e[1] .. "'", e[2])
    self:add_module(e[1], e[2])
  end
  return self
end
function ModuleDict:forward()
  error("ModuleDict is not callable: index it (md.name(x) or md[name](x))", 2)
end
function ModuleDict:keys()
  state(self, "keys")
  local out = {}
  for i, e in ipairs(self:named_children()) do out[i] = e[1] end
  return out
end
function ModuleDict:values() state(self, "values"); return self:children() end
function ModuleDict:items() state(self, "items"); return self:named_children() end
function ModuleDict:contains(name) return state(self, "contains").kind[name] == "module" and self[name] ~= nil end
doc(ModuleDict, [[tide.nn.ModuleDict({name = m, ...}) or ModuleDict({{"name", m}, ...}): named submodules without a forward.
Order: a {name = m} table is registered in sorted key order, a list of {name, m} pairs in its own
order, later additions (md.x = m, md:add_module, md:update) after. md[name], md:keys(), md:values(),
md:items() (iterates: for name, m in md:items() do), md:contains(name), #md.]])

