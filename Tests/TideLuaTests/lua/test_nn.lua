-- tide.nn: module trees (registration order, parameters, names, modes, state dicts, error
-- paths, printing), initialisers, each layer and each Lua-composed tide.F op against NumPy
-- (scripts/fixtures/gen_nn.py -> Tests/fixtures/nn/nn.npz), gradchecks in f64, and a small
-- model trained by hand.
local S = require "support"
local nn, F = tide.nn, tide.F
local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local d = tide.io.load(here .. "/../../fixtures/nn/nn.npz")

local function shape(t) return table.concat(t:shape(), "x") end
local function names(list) local o = {} for i, e in ipairs(list) do o[i] = e[1] end return table.concat(o, ",") end
local function maxdiff(a, b) return (a:to("f64") - b:to("f64")):abs():amax():item() end

--------------------------------------------------------------------------------------------
-- classes, registration order, parameters

local Block = nn.Module:extend("Block")
function Block:__init(dim)
  self.dim = dim                                        -- a plain field, not registered
  self.norm = nn.LayerNorm(dim)
  self.gain = nn.Parameter(tide.ones(dim))
  self.fc = nn.Linear(dim, dim)
  self:register_buffer("steps", tide.zeros(1, {dtype = "i64"}))
end
function Block:forward(x) return x + self.fc(self.norm(x)):relu() * self.gain end

local Net = nn.Module:extend("Net")
function Net:__init(vocab, dim, depth)
  self.emb = nn.Embedding(vocab, dim)
  self.blocks = nn.ModuleList({})
  for _ = 1, depth do self.blocks:append(Block(dim)) end
  self.head = nn.Linear(dim, vocab, {bias = false})
  self.head.weight = self.emb.weight                    -- tied weights: one tensor, two names
end
function Net:forward(idx)
  local x = self.emb(idx)
  for _, b in self.blocks:ipairs() do x = b(x) end
  return self.head(x)
end

tide.manual_seed(1)
local net = Net(11, 6, 2)
assert(names(net:named_parameters()) == table.concat({"emb.weight",
  "blocks.1.gain", "blocks.1.norm.weight", "blocks.1.norm.bias", "blocks.1.fc.weight", "blocks.1.fc.bias",
  "blocks.2.gain", "blocks.2.norm.weight", "blocks.2.norm.bias", "blocks.2.fc.weight", "blocks.2.fc.bias"}, ","),
  names(net:named_parameters()))
-- idempotent and deduplicated: the same tensors, the tied one once
local p1, p2 = net:parameters(), net:parameters()
assert(#p1 == 11 and #p2 == 11)
for i = 1, #p1 do assert(rawequal(p1[i], p2[i])) end
assert(rawequal(net.head.weight, net.emb.weight))
-- the iterator form of named_parameters
local seen = {}
for name, p in net:named_parameters() do seen[#seen + 1] = name; assert(tide.is_tensor(p) and p.requires_grad) end
assert(#seen == 11 and seen[1] == "emb.weight" and seen[11] == "blocks.2.fc.bias")
assert(net:num_parameters() == 11 * 6 + 2 * (6 + 6 + 6 + 36 + 6))
net.blocks[1].fc:requires_grad_(false)
assert(net:num_parameters({trainable_only = true}) == net:num_parameters() - 42)
net:requires_grad_(true)
assert(names(net:named_children()) == "emb,blocks,head")
assert(#net:children() == 3 and #net:modules() == 1 + 1 + 1 + 2 * 3 + 1)
assert(names(net:named_modules()) == ",emb,blocks,blocks.1,blocks.1.norm,blocks.1.fc,blocks.2,blocks.2.norm,blocks.2.fc,head")
assert(net:get_submodule("blocks.2.fc") == net.blocks[2].fc and net.blocks[-1] == net.blocks[2])
assert(names(net:named_buffers()) == "blocks.1.steps,blocks.2.steps")
assert(net:is_a(Net) and net:is_a(nn.Module) and not net:is_a(Block))
S.checkerror("has no submodule 'fc9'", net.get_submodule, net, "blocks.1.fc9")

-- order is assignment order; re-assigning keeps the place, nil keeps an absent slot
local Order = nn.Module:extend("Order")
function Order:__init()
  self.z = nn.Parameter(tide.zeros(1))
  self.a = nn.Parameter(tide.zeros(2))
  self.m = nn.Parameter(tide.zeros(3))
end
local o = Order()
assert(names(o:named_parameters()) == "z,a,m")
o.a = nn.Parameter(tide.ones(4))
assert(names(o:named_parameters()) == "z,a,m" and o.a:numel() == 4)
o.a = nil
assert(names(o:named_parameters()) == "z,m" and o.a == nil)
o:register_parameter("a", tide.zeros(5))
assert(names(o:named_parameters()) == "z,a,m" and nn.is_parameter(o.a) and o.a.requires_grad)
o.note = tide.zeros(2)                                  -- a plain tensor is a plain field
assert(#o:parameters() == 3 and tide.is_tensor(o.note))
S.checkerror("cannot assign a tensor (f32 2) to parameter 'z'", function() o.z = tide.zeros(2) end)
S.checkerror("cannot register submodule 'forward'", function() o.forward = nn.Linear(1, 1) end)
S.checkerror("must be non-empty and contain no '.'", o.register_parameter, o, "a.b", tide.zeros(1))
S.checkerror("Parameter: a tensor expected, got a number", nn.Parameter, 3)
S.checkerror("extend: a class name", nn.Module.extend, nn.Module, 5)
S.checkerror("extend: call it on a class", nn.Module.extend, o, "X")
S.checkerror("Order: forward is not defined", o, tide.zeros(1))

-- subclasses of subclasses, super calls, class-level defaults
local Scaled = Block:extend("Scaled")
function Scaled:__init(dim, s)
  Block.__init(self, dim)
  self.s = s
end
function Scaled:forward(x) return Block.forward(self, x) * self.s end
local sc = Scaled(4, 3)
assert(names(sc:named_parameters()) == "gain,norm.weight,norm.bias,fc.weight,fc.bias" and sc.dim == 4)
local xs = tide.randn(2, 4)
S.close(sc(xs), Block.forward(sc, xs) * 3, 1e-6)
assert(sc:is_a(Block) and tostring(Scaled) == "tide.nn class Scaled")

--------------------------------------------------------------------------------------------
-- train / eval, zero_grad, apply, to

assert(net.training and net.blocks[2].fc.training)
assert(net:eval() == net)
for _, m in ipairs(net:modules()) do assert(m.training == false) end
net:train()
for _, m in ipairs(net:modules()) do assert(m.training == true) end
net.blocks:train(false)
assert(net.training and not net.blocks[1].norm.training and net.head.training)
net:train(true)
S.checkerror("train: mode must be a boolean", net.train, net, "no")

local idx = tide.tensor({{1, 5, 3}, {2, 11, 7}})
net(idx):sum():backward()
assert(net.emb.weight.grad ~= nil and net.blocks[1].fc.weight.grad ~= nil)
net:zero_grad()
for _, p in ipairs(net:parameters()) do assert(p.grad == nil) end
net(idx):sum():backward()
net:zero_grad({set_to_none = false})
assert(net.blocks[1].fc.weight.grad:abs():sum():item() == 0)

local visited = {}
net:apply(function(m) visited[#visited + 1] = m.__name end)
assert(table.concat(visited, ",") == "Embedding,LayerNorm,Linear,Block,LayerNorm,Linear,Block,ModuleList,Linear,Net")

local net64 = Net(11, 6, 2)
net64:to("f64")
for _, p in ipairs(net64:parameters()) do assert(p:dtype() == "f64" and p.requires_grad and nn.is_parameter(p)) end
assert(rawequal(net64.head.weight, net64.emb.weight), "to() keeps tied weights tied")
assert(net64.blocks[1].steps:dtype() == "i64", "integer buffers are not cast")
assert(net64(idx):dtype() == "f64")
S.checkerror("to: dtype must be 'f32' or 'f64', got 'i64'", net64.to, net64, "i64")

--------------------------------------------------------------------------------------------
-- state_dict / load_state_dict

local sd = net:state_dict()
local want_keys = "emb.weight,blocks.1.gain,blocks.1.steps,blocks.1.norm.weight,blocks.1.norm.bias,blocks.1.fc.weight," ..
  "blocks.1.fc.bias,blocks.2.gain,blocks.2.steps,blocks.2.norm.weight,blocks.2.norm.bias,blocks.2.fc.weight," ..
  "blocks.2.fc.bias,head.weight"
assert(table.concat(sd.keys, ",") == want_keys, table.concat(sd.keys, ","))
local ordered = {}
for k, v in pairs(sd) do ordered[#ordered + 1] = k; assert(tide.is_tensor(v) and not v.requires_grad) end
assert(table.concat(ordered, ",") == want_keys)
assert(rawequal(net:state_dict({keep_vars = true})["blocks.1.fc.weight"], net.blocks[1].fc.weight))

-- round trip through a file into a fresh model (different random init)
local path = os.tmpname() .. ".safetensors"
tide.io.save(path, sd)
local net2 = Net(11, 6, 2)
assert(maxdiff(net2(idx), net(idx)) > 1e-3)
local res = net2:load_state_dict(tide.io.load(path))
os.remove(path)
assert(#res.missing_keys == 0 and #res.unexpected_keys == 0)
S.close(net2(idx), net(idx), 1e-6)
assert(rawequal(net2.head.weight, net2.emb.weight), "loading keeps tied weights tied")
-- load_state_dict copies in place: the parameter tensors stay the same objects
local before = net2.blocks[1].fc.weight
net2:load_state_dict(net:state_dict())
assert(rawequal(before, net2.blocks[1].fc.weight) and before.requires_grad)

-- missing and unexpected keys
local partial = {}
for k, v in pairs(net:state_dict()) do partial[k] = v end
partial["blocks.2.fc.bias"] = nil
partial["blocks.3.fc.bias"] = tide.zeros(6)
partial["extra"] = tide.zeros(1)
local err = S.checkerror("missing keys: blocks.2.fc.bias", net2.load_state_dict, net2, partial)
assert(err:find("unexpected keys: blocks.3.fc.bias, extra", 1, true), err)
res = net2:load_state_dict(partial, {strict = false})
assert(table.concat(res.missing_keys, ",") == "blocks.2.fc.bias")
assert(table.concat(res.unexpected_keys, ",") == "blocks.3.fc.bias,extra")
-- shape mismatches name the key and both shapes, and nothing is copied
local bad = {}
for k, v in pairs(net:state_dict()) do bad[k] = v end
bad["blocks.1.fc.weight"] = tide.zeros(6, 5)
local w_before = net2.blocks[1].norm.weight:clone()
bad["blocks.1.norm.weight"] = tide.full({6}, 9)
S.checkerror("size mismatch for blocks.1.fc.weight: the state dict has shape 6x5, the model 6x6",
  net2.load_state_dict, net2, bad, {strict = false})
S.close(net2.blocks[1].norm.weight, w_before, 0)
S.checkerror("'emb.weight' is a number, a tensor expected", net2.load_state_dict, net2, {["emb.weight"] = 1}, {strict = false})
S.checkerror("load_state_dict: a table of tensors expected", net2.load_state_dict, net2, 5)
-- dtypes are converted; non-persistent buffers are left out
local f64sd = {}
for k, v in pairs(net:state_dict()) do f64sd[k] = v:to("f64") end
net2:load_state_dict(f64sd)
assert(net2.emb.weight:dtype() == "f32")
local nb = nn.Module()
nb:register_buffer("keep", tide.ones(2))
nb:register_buffer("cache", tide.ones(3), {persistent = false})
assert(table.concat(nb:state_dict().keys, ",") == "keep" and #nb:buffers() == 2)

--------------------------------------------------------------------------------------------
-- errors name the failing layer's path; the root's own name stays out

err = S.checkerror("blocks.2.fc (Linear): linear: input has shape 2x3x5 but weight is 6x6", function()
  local Bad = nn.Module:extend("Bad")
  function Bad:__init() self.net = net end
  function Bad:forward(x)
    local h = self.net.emb(x)
    h = self.net.blocks[1](h)
    return self.net.blocks[2].fc(h:narrow(3, 1, 5))
  end
  return Bad()(idx)
end)
assert(not err:find("nn_layers.lua", 1, true), "library positions are dropped: " .. err)
S.checkerror("net.blocks.2.fc (Linear): linear:", function()
  local Outer = nn.Module:extend("Outer")
  function Outer:__init() self.net = net end
  function Outer:forward(x) return self.net.blocks[2].fc(x) end
  return Outer()(tide.zeros(4, 10))
end)
S.checkerror("norm (LayerNorm): layer_norm: normalized_shape 6 must match", net.blocks[1], tide.zeros(2, 5))
S.checkerror("Linear: linear: input has shape 4x10 but weight is 32x16", nn.Linear(16, 32), tide.zeros(4, 10))
local seq = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Sequential(nn.Linear(8, 3), nn.Linear(4, 2)))
S.checkerror("3.2 (Linear): linear: input has shape 5x3", seq, tide.zeros(5, 4))
-- an error in user code keeps its position and gains the path
local Boom = nn.Module:extend("Boom")
function Boom:forward() error("kaboom") end
err = S.checkerror("inner (Boom): ", function()
  local W = nn.Module:extend("W")
  function W:__init() self.inner = Boom() end
  function W:forward(x) return self.inner(x) end
  return W()(1)
end)
assert(err:find("test_nn.lua:%d+: kaboom"), err)
-- after errors the call chain is clean again
S.close(seq[1](tide.ones(1, 4)), tide.ones(1, 4):matmul(seq[1].weight:t()) + seq[1].bias, 1e-6)

--------------------------------------------------------------------------------------------
-- printing

local printed = tostring(Net(256, 64, 1))
local expect = [[
Net(
  (emb): Embedding(256, 64)
  (blocks): ModuleList(
    (1): Block(
      (norm): LayerNorm({64}, eps=1e-05, elementwise_affine=true)
      (fc): Linear(in_features=64, out_features=64, bias=true)
    )
  )
  (head): Linear(in_features=64, out_features=256, bias=false)
)]]
assert(printed == expect, "\n" .. printed)
assert(tostring(nn.Sequential()) == "Sequential()")
assert(tostring(nn.GELU({approximate = "tanh"})) == "GELU(approximate='tanh')")
assert(tostring(nn.Embedding(5, 2, {padding_idx = -1})) == "Embedding(5, 2, padding_idx=5)")
assert(tostring(nn.Dropout(0.1)) == "Dropout(p=0.1)" and tostring(nn.Softmax(2)) == "Softmax(dim=2)")
assert(tostring(nn.RMSNorm(8)) == "RMSNorm({8}, eps=1e-06, elementwise_affine=true)")
assert(tostring(nn.Conv2d(3, 16, 3, {padding = 1, bias = false})) ==
  "Conv2d(3, 16, kernel_size={3, 3}, stride={1, 1}, padding={1, 1}, bias=false)")
assert(tostring(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size={2, 2}, stride={2, 2}, padding={0, 0}, dilation={1, 1})")
assert(tostring(nn.Upsample({scale_factor = 2})) == "Upsample(scale_factor={2, 2}, mode='nearest')")
local Extra = nn.Module:extend("Extra")
function Extra:__init() self.fc = nn.Linear(1, 1) end
function Extra:extra_repr() return "two\nlines" end
assert(tostring(Extra()) == "Extra(\n  two\n  lines\n  (fc): Linear(in_features=1, out_features=1, bias=true)\n)")

--------------------------------------------------------------------------------------------
-- containers

local a, b = nn.Linear(2, 2), nn.Tanh()
local s2 = nn.Sequential({a, b, a})                     -- a module may appear twice
assert(#s2 == 3 and s2[3] == a and #s2:parameters() == 2 and names(s2:named_children()) == "1,2")
local x2 = tide.randn(3, 2)
S.close(s2(x2), a(b(a(x2))), 1e-6)
s2:append(nn.ReLU())
assert(#s2 == 4 and s2[4].__name == "ReLU")
s2[2] = nn.Sigmoid()
assert(s2[2].__name == "Sigmoid" and #s2 == 4)
S.checkerror("Sequential: index 7 out of range (1..4, or 5 to append)", function() s2[7] = nn.ReLU() end)
S.checkerror("Sequential: item 2 must be a module, got a number", nn.Sequential, nn.ReLU(), 5)
local count = 0
for i, m in ipairs(s2) do count = count + 1; assert(m == s2[i]) end
assert(count == 4)

local ml = nn.ModuleList({nn.Linear(1, 2)})
ml:append(nn.Linear(2, 3)):extend({nn.Linear(3, 4)})
ml:insert(1, nn.Identity())
assert(#ml == 4 and ml[1].__name == "Identity" and ml[4].out_features == 4)
assert(names(ml:named_parameters()) == "2.weight,2.bias,3.weight,3.bias,4.weight,4.bias")
local sum = 0
for i, m in ml:ipairs() do sum = sum + i end
assert(sum == 10)
S.checkerror("ModuleList is not callable", ml, tide.zeros(1))
S.checkerror("ModuleList: item 2 must be a module, got a string", nn.ModuleList, {nn.ReLU(), "x"})

local md = nn.ModuleDict({zeta = nn.Linear(1, 1), alpha = nn.ReLU()})
assert(table.concat(md:keys(), ",") == "alpha,zeta", "a {name = m} table registers in sorted key order")
md.beta = nn.Tanh()
md:update({{"omega", nn.Sigmoid()}, {"gamma", nn.Identity()}})
assert(table.concat(md:keys(), ",") == "alpha,zeta,beta,omega,gamma", "later additions keep insertion order")
assert(md.zeta == md["zeta"] and md:contains("beta") and not md:contains("nope") and #md == 5)
local visited_items = {}
for name, m in md:items() do visited_items[#visited_items + 1] = name .. "=" .. m.__name end
assert(table.concat(visited_items, ",") == "alpha=ReLU,zeta=Linear,beta=Tanh,omega=Sigmoid,gamma=Identity")
S.checkerror("cannot register submodule 'keys'", nn.ModuleDict, {keys = nn.ReLU()})
S.checkerror("ModuleDict is not callable", md, 1)

--------------------------------------------------------------------------------------------
-- options and constructor arguments are checked

S.checkerror("Linear: unknown option 'bais' (expected bias, dtype, generator)", nn.Linear, 2, 3, {bais = false})
S.checkerror("Linear: in_features must be a positive integer, got 0", nn.Linear, 0, 3)
S.checkerror("Linear: out_features must be a positive integer, got 2.5", nn.Linear, 2, 2.5)
S.checkerror("Linear: dtype must be 'f32' or 'f64', got i64", nn.Linear, 2, 2, {dtype = "i64"})
S.checkerror("Linear: option bias must be a boolean, got a number", nn.Linear, 2, 2, {bias = 0})
S.checkerror("Embedding: padding_idx must be an index in 1..4", nn.Embedding, 4, 2, {padding_idx = 0})
S.checkerror("Conv2d: in_channels (3) and out_channels (4) must be divisible by groups (2)", nn.Conv2d, 3, 4, 3, {groups = 2})
S.checkerror("Conv2d: kernel_size must be a number or a table of 2 numbers, got 3 values", nn.Conv2d, 3, 4, {1, 2, 3})
S.checkerror("Conv1d: padding must be a number, a table, 'same' or 'valid', got 'full'", nn.Conv1d, 1, 1, 3, {padding = "full"})
S.checkerror("Dropout: p must be a probability in [0, 1], got 2", nn.Dropout, 2)
S.checkerror("Upsample: give exactly one of size and scale_factor", nn.Upsample, {})
S.checkerror("GELU: approximate must be 'none' or 'tanh', got 'fast'", nn.GELU, {approximate = "fast"})
S.checkerror("LayerNorm: normalized_shape must be a positive integer, got -2", nn.LayerNorm, -2)

-- every method of Module and the containers, given awkward arguments (or a non-module self),
-- fails with a message of its own, never an internal "attempt to index ..." error
local awkward = {function() return nil end, function() return true end, function() return "a.b" end,
  function() return -1 end, function() return 0 / 0 end, function() return {} end, function() return {1, 2} end,
  function() return {strict = "no", prefix = 3} end, function() return tide.ones(2, 3) end, function() return print end}
local targets = {
  {nn.Module, function() return nn.Sequential(nn.Linear(2, 2), nn.LayerNorm(2)) end},
  {nn.Sequential, function() return nn.Sequential(nn.Linear(2, 2), nn.ReLU()) end},
  {nn.ModuleList, function() return nn.ModuleList({nn.Linear(2, 2)}) end},
  {nn.ModuleDict, function() return nn.ModuleDict({a = nn.Linear(2, 2)}) end},
}
local fuzz_calls = 0
for _, t in ipairs(targets) do
  for name, fn in pairs(t[1]) do
    if type(fn) == "function" and name ~= "apply" and name ~= "extend" then
      for i = 1, #awkward do
        for _, with_self in ipairs({true, false}) do
          local ok, e
          if with_self then ok, e = pcall(fn, t[2](), awkward[i](), awkward[(i % #awkward) + 1]())
          else ok, e = pcall(fn, awkward[i]()) end
          fuzz_calls = fuzz_calls + 1
          assert(ok or (type(e) == "string" and not e:find("attempt to", 1, true)), name .. ": " .. tostring(e))
        end
      end
    end
  end
end
assert(fuzz_calls > 500)
S.checkerror("parameters: expected a module as self, got a number (call it as m:parameters(...))", nn.Module.parameters, 3)
S.checkerror("state_dict: unknown option 'keepvars'", net.state_dict, net, {keepvars = true})
S.checkerror("load_state_dict: strict must be a boolean", net.load_state_dict, net, {}, {strict = "yes"})

local pre = nn.Embedding.from_pretrained(tide.tensor({{1.0, 2.0}, {3.0, 4.0}, {5.0, 6.0}}), {padding_idx = 1})
assert(not pre.weight.requires_grad and pre.num_embeddings == 3 and pre.padding_idx == 1)
S.close(pre(tide.tensor({3, 1})), tide.tensor({{5.0, 6.0}, {1.0, 2.0}}), 0)   -- the pretrained padding row is kept
assert(nn.Embedding.from_pretrained(tide.ones(2, 2), {freeze = false}).weight.requires_grad)

--------------------------------------------------------------------------------------------
-- initialisers

local init = nn.init
local function stats(t)
  local m = t:mean():item()
  return m, ((t - m):square():mean():item()) ^ 0.5
end
local g = tide.Generator(42)
local big = tide.empty(1000, 800)                        -- fan_in 800, fan_out 1000
local m_, s_ = stats(init.normal_(big, {mean = 2, std = 3, generator = g}))
assert(math.abs(m_ - 2) < 0.02 and math.abs(s_ - 3) < 0.02, ("normal_ %g %g"):format(m_, s_))
init.uniform_(big, {a = -1, b = 3, generator = g})
m_, s_ = stats(big)
assert(big:amin():item() >= -1 and big:amax():item() < 3 and math.abs(m_ - 1) < 0.01 and math.abs(s_ - 4 / 12 ^ 0.5) < 0.01)
local xb = (6 / 1800) ^ 0.5
init.xavier_uniform_(big, {generator = g})
m_, s_ = stats(big)
assert(big:abs():amax():item() <= xb and big:abs():amax():item() > 0.99 * xb and math.abs(s_ / (xb / 3 ^ 0.5) - 1) < 0.01)
init.xavier_normal_(big, {gain = 2, generator = g})
m_, s_ = stats(big)
assert(math.abs(m_) < 0.001 and math.abs(s_ / (2 * (2 / 1800) ^ 0.5) - 1) < 0.01, "xavier_normal_ std " .. s_)
init.kaiming_uniform_(big, {generator = g})          -- a = 0, leaky_relu: gain sqrt 2, bound sqrt(6 / fan_in)
local kb = (6 / 800) ^ 0.5
assert(big:abs():amax():item() <= kb and big:abs():amax():item() > 0.99 * kb)
init.kaiming_uniform_(big, {a = 5 ^ 0.5, generator = g}) -- the Linear default: bound 1 / sqrt(fan_in)
assert(big:abs():amax():item() <= 800 ^ -0.5 and big:abs():amax():item() > 0.99 * 800 ^ -0.5)
init.kaiming_normal_(big, {mode = "fan_out", nonlinearity = "relu", generator = g})
m_, s_ = stats(big)
assert(math.abs(s_ - (2 / 1000) ^ 0.5) < 0.01 * (2 / 1000) ^ 0.5, "kaiming_normal_ std " .. s_)
init.kaiming_normal_(big, {nonlinearity = "tanh", generator = g})
m_, s_ = stats(big)
assert(math.abs(s_ - (5 / 3) / 800 ^ 0.5) < 0.01 * (5 / 3) / 800 ^ 0.5)
assert(init.constant_(big, 0.5):amin():item() == 0.5 and init.zeros_(big):abs():amax():item() == 0)
assert(init.ones_(big):amin():item() == 1)
-- conv fans include the receptive field; generators make draws reproducible
local cw = tide.empty(64, 32, 3, 3)
init.kaiming_uniform_(cw, {a = 5 ^ 0.5})
assert(cw:abs():amax():item() <= (32 * 9) ^ -0.5 and cw:abs():amax():item() > 0.95 * (32 * 9) ^ -0.5)
S.close(init.normal_(tide.empty(5), {generator = tide.Generator(3)}), init.normal_(tide.empty(5), {generator = tide.Generator(3)}), 0)
assert(math.abs(init.calculate_gain("leaky_relu", 0.2) - (2 / 1.04) ^ 0.5) < 1e-12 and init.calculate_gain("selu") == 0.75)
-- works on parameters that require grad (under no_grad)
local pw = nn.Parameter(tide.empty(4, 4))
init.xavier_uniform_(pw)
assert(pw.requires_grad and pw.is_leaf)
S.checkerror("xavier_uniform_: fan in and fan out need a tensor with at least 2 dims, got shape 5", init.xavier_uniform_, tide.empty(5))
S.checkerror("normal_: unknown option 'stdev'", init.normal_, tide.empty(2), {stdev = 1})
S.checkerror("kaiming_normal_: mode must be 'fan_in' or 'fan_out', got 'fan'", init.kaiming_normal_, tide.empty(2, 2), {mode = "fan"})
S.checkerror("calculate_gain: unknown nonlinearity 'swish'", init.calculate_gain, "swish")
S.checkerror("uniform_: tensor must be f32 or f64, got i64", init.uniform_, tide.zeros(2, {dtype = "i64"}))

-- default layer initialisation (torch's)
local lin = nn.Linear(400, 300, {generator = tide.Generator(9)})
local lb = 400 ^ -0.5
assert(lin.weight:abs():amax():item() <= lb and lin.weight:abs():amax():item() > 0.99 * lb)
assert(lin.bias:abs():amax():item() <= lb and lin.bias:abs():amax():item() > 0.9 * lb)
m_, s_ = stats(lin.weight)
assert(math.abs(s_ - lb / 3 ^ 0.5) < 0.01 * lb)
S.close(nn.Linear(3, 2, {generator = tide.Generator(1)}).weight, nn.Linear(3, 2, {generator = tide.Generator(1)}).weight, 0)
local emb = nn.Embedding(1000, 100, {padding_idx = 7})
m_, s_ = stats(emb.weight)
assert(math.abs(m_) < 0.01 and math.abs(s_ - 1) < 0.01 and emb.weight[7]:abs():sum():item() == 0)
local ln = nn.LayerNorm({2, 3})
assert(ln.weight:amin():item() == 1 and ln.bias:abs():amax():item() == 0 and shape(ln.weight) == "2x3")
local conv = nn.Conv2d(6, 8, 3, {groups = 2})       -- fan_in = 3 * 3 * 3 = 27
assert(shape(conv.weight) == "8x3x3x3" and conv.weight:abs():amax():item() <= 27 ^ -0.5 and conv.bias:abs():amax():item() <= 27 ^ -0.5)
local ct = nn.ConvTranspose2d(4, 6, 2, {groups = 2}) -- weight (in, out/groups, k, k); torch's fan_in = 3 * 4
assert(shape(ct.weight) == "4x3x2x2" and ct.weight:abs():amax():item() <= 12 ^ -0.5)

--------------------------------------------------------------------------------------------
-- layers against NumPy

local function state_of(case)
  local out, prefix = {}, case .. ".sd."
  for k, v in pairs(d) do
    if k:sub(1, #prefix) == prefix then out[k:sub(#prefix + 1)] = v end
  end
  return out
end

-- builds the layer in f64, loads the case's weights (strictly) and compares with NumPy
local function check_layer(case, m, tol)
  m:to("f64")
  m:load_state_dict(state_of(case))
  local y = m(d[case .. ".x"])
  assert(shape(y) == shape(d[case .. ".y"]), ("%s: shape %s, NumPy %s"):format(case, shape(y), shape(d[case .. ".y"])))
  local diff = maxdiff(y, d[case .. ".y"])
  assert(diff <= (tol or 1e-12), ("%s: max |diff| %g"):format(case, diff))
end

check_layer("linear", nn.Linear(5, 3))
check_layer("linear_nobias", nn.Linear(5, 3, {bias = false}))
check_layer("embedding", nn.Embedding(10, 4, {padding_idx = 3}), 0)
check_layer("layernorm", nn.LayerNorm({3, 4}), 1e-10)
check_layer("layernorm_nobias", nn.LayerNorm(4, {eps = 1e-3, bias = false}), 1e-10)
check_layer("rmsnorm", nn.RMSNorm(4), 1e-10)
check_layer("relu", nn.ReLU())
check_layer("gelu", nn.GELU(), 1e-10)
check_layer("gelu_tanh", nn.GELU({approximate = "tanh"}), 1e-10)
check_layer("silu", nn.SiLU(), 1e-10)
check_layer("tanh", nn.Tanh(), 1e-10)
check_layer("sigmoid", nn.Sigmoid(), 1e-10)
check_layer("leaky_relu", nn.LeakyReLU({negative_slope = 0.2}))
check_layer("softmax", nn.Softmax(1), 1e-10)
check_layer("log_softmax", nn.LogSoftmax(-1), 1e-10)
check_layer("flatten", nn.Flatten(), 0)
check_layer("relu", nn.Identity(), math.huge)        -- identity: same values as its input
assert(nn.Identity()(d["relu.x"]) == d["relu.x"])
-- the f32 default agrees to f32 precision
local lin32 = nn.Linear(5, 3)
lin32:load_state_dict(state_of("linear"))
S.close(lin32(d["linear.x"]:to("f32")), d["linear.y"], 1e-5)

-- Dropout: active in training (kept fraction, 1/(1-p) scaling), the identity in eval
local drop = nn.Dropout(0.25, {generator = tide.Generator(4)})
local ones = tide.ones(20000)
local dy = drop(ones)
local kept = dy:ne(0):sum():item() / 20000
assert(math.abs(kept - 0.75) < 0.02 and math.abs(dy:amax():item() - 1 / 0.75) < 1e-6, "kept " .. kept)
drop:eval()
assert(maxdiff(drop(ones), ones) == 0)
S.close(nn.Dropout(0.5, {generator = tide.Generator(8)})(ones), nn.Dropout(0.5, {generator = tide.Generator(8)})(ones), 0)

-- the padding row of an Embedding gets no gradient
local e2 = nn.Embedding(10, 4, {padding_idx = 3})
e2(tide.tensor({{3, 1}, {3, 3}})):sum():backward()
assert(e2.weight.grad[3]:abs():sum():item() == 0 and e2.weight.grad[1]:sum():item() == 4)

local have_conv = F.conv2d and F.conv1d and F.conv_transpose2d and F.max_pool2d and F.avg_pool2d and F.interpolate
if have_conv then
  check_layer("conv1d", nn.Conv1d(4, 6, 3, {stride = 2, padding = 1, groups = 2}), 1e-10)
  check_layer("conv1d_dil", nn.Conv1d(3, 2, 3, {dilation = 2, bias = false}), 1e-10)
  check_layer("conv2d", nn.Conv2d(4, 6, {3, 2}, {stride = {2, 1}, padding = {1, 0}, dilation = {1, 2}, groups = 2}), 1e-10)
  check_layer("conv2d_same", nn.Conv2d(3, 4, 4, {padding = "same"}), 1e-10)
  check_layer("convT2d", nn.ConvTranspose2d(4, 6, 3, {stride = 2, padding = 1, output_padding = 1, groups = 2}), 1e-10)
  check_layer("convT2d_dil", nn.ConvTranspose2d(2, 3, {2, 3}, {stride = {1, 2}, dilation = {2, 1}, bias = false}), 1e-10)
  check_layer("maxpool", nn.MaxPool2d(3, {stride = 2, padding = 1}))
  check_layer("maxpool_dil", nn.MaxPool2d({2, 3}, {stride = {1, 2}, padding = {0, 1}, dilation = {2, 1}}))
  check_layer("avgpool", nn.AvgPool2d(3, {stride = 2, padding = 1}), 1e-12)
  check_layer("avgpool_nopad", nn.AvgPool2d(3, {stride = 2, padding = 1, count_include_pad = false}), 1e-12)
  check_layer("avgpool_2", nn.AvgPool2d(2), 1e-12)
  check_layer("upsample_nearest", nn.Upsample({scale_factor = 2}), 0)
  check_layer("upsample_bilinear", nn.Upsample({size = {7, 9}, mode = "bilinear"}), 1e-12)
  check_layer("upsample_bilinear_ac", nn.Upsample({size = {7, 9}, mode = "bilinear", align_corners = true}), 1e-12)
  S.checkerror("conv (Conv2d): conv2d:", function()
    local CNN = nn.Module:extend("CNN")
    function CNN:__init() self.conv = nn.Conv2d(3, 4, 3) end
    function CNN:forward(x) return self.conv(x) end
    return CNN()(tide.zeros(1, 5, 8, 8))
  end)
else
  print("test_nn: Conv/Pool/Upsample fixtures skipped: tide.F.conv2d, max_pool2d, interpolate, ... are not in this build")
end

--------------------------------------------------------------------------------------------
-- Lua-composed tide.F ops against NumPy

local function near(got, want, tol, what)
  assert(shape(got) == shape(want), ("%s: shape %s, NumPy %s"):format(what, shape(got), shape(want)))
  local diff = maxdiff(got, want)
  assert(diff <= (tol or 1e-12) * (1 + want:abs():amax():item()), ("%s: max |diff| %g"):format(what, diff))
end

local la, lt = d["loss.a"], d["loss.t"]
near(F.mse_loss(la, lt), d["mse.mean"], 1e-12, "mse mean")
near(F.mse_loss(la, lt, {reduction = "sum"}), d["mse.sum"], 1e-12, "mse sum")
near(F.mse_loss(la, lt, {reduction = "none"}), d["mse.none"], 1e-12, "mse none")
near(F.l1_loss(la, lt), d["l1.mean"], 1e-12, "l1 mean")
near(F.l1_loss(la, lt, {reduction = "sum"}), d["l1.sum"], 1e-12, "l1 sum")
near(F.l1_loss(la, lt, {reduction = "none"}), d["l1.none"], 1e-12, "l1 none")
local z, y = d["bce.z"], d["bce.y"]
near(F.binary_cross_entropy_with_logits(z, y), d["bce.mean"], 1e-12, "bce mean")
near(F.binary_cross_entropy_with_logits(z, y, {weight = d["bce.w"], pos_weight = d["bce.pw"], reduction = "none"}),
  d["bce.weighted_none"], 1e-12, "bce weighted")
near(F.binary_cross_entropy_with_logits(z, y, {pos_weight = d["bce.pw"], reduction = "sum"}), d["bce.pw_sum"], 1e-12, "bce pos_weight")
near(F.binary_cross_entropy_with_logits(z:to("f32"), y:to("f32")), d["bce.mean"], 1e-6, "bce f32")
assert(F.binary_cross_entropy_with_logits(tide.tensor({200.0, -200.0}), tide.tensor({0.0, 1.0})):item() == 200, "stable for large logits")
near(F.binary_cross_entropy(d["bcep.p"], y), d["bcep.mean"], 1e-10, "bce probs")
local kin, ktg = d["kl.input"], d["kl.target"]
near(F.kl_div(kin, ktg, {reduction = "none"}), d["kl.none"], 1e-12, "kl none")
near(F.kl_div(kin, ktg), d["kl.mean"], 1e-12, "kl mean")
near(F.kl_div(kin, ktg, {reduction = "sum"}), d["kl.sum"], 1e-12, "kl sum")
near(F.kl_div(kin, ktg, {reduction = "batchmean"}), d["kl.batchmean"], 1e-12, "kl batchmean")
near(F.kl_div(kin, d["kl.log_target"], {reduction = "sum", log_target = true}), d["kl.log_target_sum"], 1e-12, "kl log_target")
near(F.cosine_similarity(d["cos.a"], d["cos.b"]), d["cos.y"], 1e-12, "cosine")
near(F.cosine_similarity(d["cos.c"], d["cos.v"], {dim = -1}), d["cos.cv"], 1e-12, "cosine broadcast")
local nx = d["norm.x"]
near(F.normalize(nx), d["norm.p2"], 1e-12, "normalize p2")
near(F.normalize(nx, {p = 1, dim = 1}), d["norm.p1_dim1"], 1e-12, "normalize p1")
near(F.normalize(nx, {p = math.huge}), d["norm.pinf"], 1e-12, "normalize inf")
near(F.normalize(nx, {p = 3, dim = -1}), d["norm.p3"], 1e-12, "normalize p3")
local px = d["pad.x"]
near(F.pad(px, {1, 3, 2, 0}, {value = 1.5}), d["pad.constant"], 0, "pad constant")
near(F.pad(px, {-1, -1, 0, 0, 1, 1}), d["pad.crop"], 0, "pad crop")
near(F.pad(px, {2, 4, 3, 1}, {mode = "reflect"}), d["pad.reflect"], 0, "pad reflect")
near(F.pad(px, {3, 0, 1, 2}, {mode = "replicate"}), d["pad.replicate"], 0, "pad replicate")
near(F.pad(px, {2, 5}, {mode = "circular"}), d["pad.circular"], 0, "pad circular")
local ax = d["relu.x"]
near(F.relu(ax), d["relu.y"], 0, "F.relu")
near(F.gelu(ax), d["gelu.y"], 1e-10, "F.gelu")
near(F.gelu(ax, {approximate = "tanh"}), d["gelu_tanh.y"], 1e-10, "F.gelu tanh")
near(F.silu(ax), d["silu.y"], 1e-10, "F.silu")
near(F.softmax(ax, 1), d["softmax.y"], 1e-10, "F.softmax")
near(F.log_softmax(ax), d["log_softmax.y"], 1e-10, "F.log_softmax")
near(F.leaky_relu(ax, {negative_slope = 0.2}), d["leaky_relu.y"], 0, "F.leaky_relu")

S.checkerror("mse_loss: input has shape 4x1 but target has shape 4 (they must match)", F.mse_loss, tide.zeros(4, 1), tide.zeros(4))
S.checkerror("mse_loss: reduction must be 'mean', 'sum' or 'none', got 'avg'", F.mse_loss, tide.zeros(2), tide.zeros(2), {reduction = "avg"})
S.checkerror("kl_div: reduction must be 'mean', 'sum', 'batchmean' or 'none'", F.kl_div, tide.zeros(2), tide.zeros(2), {reduction = "x"})
S.checkerror("l1_loss: target must be a tensor, got a number", F.l1_loss, tide.zeros(2), 1)
S.checkerror("binary_cross_entropy_with_logits: unknown option 'pos'", F.binary_cross_entropy_with_logits, tide.zeros(2), tide.zeros(2), {pos = 1})
S.checkerror("pad: reflect padding must be smaller than the padded dim: got pads 3, 0 for dim 2 of size 3",
  F.pad, tide.zeros(2, 3), {3, 0}, {mode = "reflect"})
S.checkerror("pad: 6 pads pad 3 dims but the input is 2-d", F.pad, tide.zeros(2, 3), {1, 1, 1, 1, 1, 1})
S.checkerror("pad: pads must be a table of an even number of integers", F.pad, tide.zeros(2, 3), {1})
S.checkerror("pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got 'mirror'", F.pad, tide.zeros(2), {1, 1}, {mode = "mirror"})
S.checkerror("normalize: dim 3 out of range for a 2-d input", F.normalize, tide.zeros(2, 2), {dim = 3})
S.checkerror("normalize: p must be a positive number, got -1", F.normalize, tide.zeros(2, 2), {p = -1})
S.checkerror("softmax: dim 0 out of range", F.softmax, tide.zeros(2), 0)
S.checkerror("gelu: approximate must be 'none' or 'tanh'", F.gelu, tide.zeros(2), {approximate = "erf"})

--------------------------------------------------------------------------------------------
-- gradcheck (f64): every layer with respect to its input and parameters, every Lua op

local gc = tide.autograd.gradcheck
local function r64(...) return tide.randn({...}, {dtype = "f64"}):requires_grad_() end

-- the module's forward as a function of (x, params...): gradcheck perturbs them in place
local function check_module(name, m, x)
  m:to("f64")
  local inputs = {x}
  for _, p in ipairs(m:parameters()) do inputs[#inputs + 1] = p end
  local ok, rep = pcall(gc, function(xx) return m(xx) end, inputs)
  assert(ok, name .. ": " .. tostring(rep))
end

tide.manual_seed(5)
check_module("Linear", nn.Linear(3, 2), r64(2, 3))
check_module("Linear nobias", nn.Linear(3, 2, {bias = false}), r64(4, 3))
check_module("LayerNorm", nn.LayerNorm({2, 3}), r64(2, 2, 3))
check_module("RMSNorm", nn.RMSNorm(3), r64(2, 3))
local ge = nn.Embedding(5, 3, {padding_idx = 2})
ge:to("f64")
assert(gc(function() return ge(tide.tensor({{1, 3}, {5, 1}})) end, {ge.weight}))  -- (the padding row gets no gradient by design)
for _, act in ipairs({nn.ReLU(), nn.GELU(), nn.GELU({approximate = "tanh"}), nn.SiLU(), nn.Tanh(), nn.Sigmoid(),
                      nn.LeakyReLU(), nn.Softmax(1), nn.LogSoftmax(), nn.Identity(), nn.Flatten()}) do
  check_module(act.__name, act, r64(2, 3, 2))
end
local dg = nn.Dropout(0.3)
dg:eval()
check_module("Dropout eval", dg, r64(3, 2))
check_module("Sequential", nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)), r64(2, 3))
if have_conv then
  check_module("Conv1d", nn.Conv1d(2, 4, 3, {stride = 2, padding = 1, groups = 2}), r64(1, 2, 5))
  check_module("Conv2d", nn.Conv2d(2, 2, 2, {padding = 1, dilation = {1, 2}}), r64(1, 2, 3, 4))
  check_module("ConvTranspose2d", nn.ConvTranspose2d(2, 2, 2, {stride = 2, output_padding = 1}), r64(1, 2, 2, 3))
  check_module("MaxPool2d", nn.MaxPool2d(2, {stride = 1}), r64(1, 2, 3, 3))
  check_module("AvgPool2d", nn.AvgPool2d(2, {padding = 1, count_include_pad = false}), r64(1, 2, 3, 3))
  check_module("Upsample", nn.Upsample({scale_factor = 2, mode = "bilinear"}), r64(1, 1, 2, 3))
end

local function check_fn(name, fn, inputs)
  local ok, rep = pcall(gc, fn, inputs)
  assert(ok, name .. ": " .. tostring(rep))
end
local ga, gb = r64(3, 4), r64(3, 4)
local probs = tide.rand(3, 4, {dtype = "f64"}) * 0.8 + 0.1
check_fn("mse_loss", function(p, q) return F.mse_loss(p, q) end, {ga, gb})
check_fn("mse_loss none", function(p, q) return F.mse_loss(p, q, {reduction = "none"}) end, {ga, gb})
check_fn("l1_loss", function(p, q) return F.l1_loss(p, q, {reduction = "sum"}) end, {ga, gb})
local bw, bpw = tide.rand(3, 4, {dtype = "f64"}) + 0.5, tide.tensor({1.0, 2.0, 0.5, 3.0}, "f64")
check_fn("bce_with_logits", function(p, t) return F.binary_cross_entropy_with_logits(p, t, {weight = bw, pos_weight = bpw}) end,
  {ga, probs:clone():requires_grad_()})
check_fn("bce", function(p, t) return F.binary_cross_entropy(p, t) end, {probs:clone():requires_grad_(), tide.rand(3, 4, {dtype = "f64"}):gt(0.5):to("f64")})
local lp = ga:detach():log_softmax(2):requires_grad_()
local tp = gb:detach():softmax(2):requires_grad_()
check_fn("kl_div", function(p, t) return F.kl_div(p, t, {reduction = "batchmean"}) end, {lp, tp})
check_fn("kl_div log_target", function(p, t) return F.kl_div(p, t, {log_target = true}) end, {lp, gb:detach():log_softmax(2):requires_grad_()})
check_fn("cosine_similarity", function(p, q) return F.cosine_similarity(p, q) end, {ga, gb})
check_fn("cosine_similarity broadcast", function(p, q) return F.cosine_similarity(p, q, {dim = -1}) end, {ga, r64(4)})
check_fn("normalize", function(p) return F.normalize(p) end, {ga})
check_fn("normalize p3", function(p) return F.normalize(p, {p = 3, dim = 1}) end, {ga})
check_fn("normalize inf", function(p) return F.normalize(p, {p = math.huge}) end, {ga})
local img = r64(1, 2, 3, 4)
for _, mode in ipairs({"constant", "reflect", "replicate", "circular"}) do
  check_fn("pad " .. mode, function(p) return F.pad(p, {2, 1, 1, 2}, {mode = mode}) end, {img})
end
check_fn("pad crop", function(p) return F.pad(p, {-1, 2}, {value = 3}) end, {img})
check_fn("relu/gelu/silu", function(p) return F.relu(p) + F.gelu(p) + F.silu(p) + F.leaky_relu(p) end, {ga})
check_fn("softmax/log_softmax", function(p) return F.softmax(p, 1) + F.log_softmax(p) end, {ga})

--------------------------------------------------------------------------------------------
-- a user-defined model trained by hand: plain SGD under no_grad, the loss falls

local Regressor = nn.Module:extend("Regressor")
function Regressor:__init(din, hidden)
  self.body = nn.Sequential(nn.Linear(din, hidden, {generator = tide.Generator(11)}), nn.Tanh())
  self.out = nn.Linear(hidden, 1, {generator = tide.Generator(12)})
end
function Regressor:forward(x) return self.out(self.body(x)) end

local gen = tide.Generator(2024)
local X = tide.randn(64, 3, {generator = gen})
local Y = (X:narrow(2, 1, 1) * 2 - X:narrow(2, 2, 1)):sin() + X:narrow(2, 3, 1) * 0.5
local model = Regressor(3, 16)
local losses = {}
for step = 1, 60 do
  model:zero_grad()
  local loss = F.mse_loss(model(X), Y)
  loss:backward()
  tide.no_grad(function()
    for _, p in ipairs(model:parameters()) do p:sub_(p.grad * 0.2) end
  end)
  losses[step] = loss:item()
end
assert(losses[60] < 0.5 * losses[1], ("loss %g -> %g"):format(losses[1], losses[60]))
for i = 2, 60 do assert(losses[i] <= losses[i - 1] * 1.05, "loss rose at step " .. i) end

print(("nn: ok (%s conv layers)"):format(have_conv and "with" or "without"))
