-- LoRA adapters: tide.nn.LoRA.wrap / apply, lora_parameters, merge / unmerge. NumPy reference
-- (scripts/fixtures/gen_lora.py -> Tests/fixtures/lora/lora.npz), gradchecks in f64, bad input.
local S = require "support"
local nn, F = tide.nn, tide.F
local here = debug.getinfo(1, "S").source:sub(2):match("(.*)/") or "."
local fx = tide.io.load(here .. "/../../fixtures/lora/lora.npz")
tide.manual_seed(3)

local function maxdiff(a, b) return (a:to("f64") - b:to("f64")):abs():amax():item() end

-- the NumPy reference: output, gradients of the adapter, none for the base
do
  local lin = nn.Linear(5, 4, {dtype = "f64"})
  local m = nn.LoRA.wrap(lin, {rank = 3, alpha = 6})
  assert(m.scaling == 2 and m.base == lin)
  assert(not lin.weight.requires_grad and not lin.bias.requires_grad)
  assert(m.lora_A:size(1) == 3 and m.lora_A:size(2) == 5 and m.lora_B:size(1) == 4 and m.lora_B:size(2) == 3)
  assert(m.lora_B:abs():sum():item() == 0)
  -- a fresh adapter leaves the output unchanged
  local x = fx.x
  assert(maxdiff(m(x), lin(x)) == 0)
  m:load_state_dict({["base.weight"] = fx.weight, ["base.bias"] = fx.bias, lora_A = fx.A, lora_B = fx.B})
  local xg = x:clone():requires_grad_()
  local y = m(xg)
  assert(maxdiff(y, fx.y) < 1e-13)
  local loss = (y * fx.g):sum()
  loss:backward()
  assert(maxdiff(m.lora_A.grad, fx.dA) < 1e-12 and maxdiff(m.lora_B.grad, fx.dB) < 1e-12)
  assert(maxdiff(xg.grad, fx.dx) < 1e-12)
  assert(lin.weight.grad == nil and lin.bias.grad == nil)          -- the base gets no gradient
  -- merge folds (alpha / rank) B A into the weight; unmerge takes it out again
  local w0 = lin.weight:clone()
  m:merge()
  assert(m.merged and maxdiff(lin.weight, fx.merged) < 1e-14)
  assert(maxdiff(m(x), fx.y) < 1e-12)                               -- same function, merged
  assert(maxdiff(m(x), lin(x)) == 0)                                -- now just the Linear
  m:unmerge()
  assert(not m.merged and maxdiff(lin.weight, w0) < 1e-12)
  assert(lin.weight:eq(w0):all():item(), "unmerge restores the weight bit for bit")
  assert(maxdiff(m(x), fx.y) < 1e-12)
  S.checkerror("LoRA:unmerge: the adapter is not merged", m.unmerge, m)
  m:merge()
  S.checkerror("LoRA:merge: the adapter is already merged", m.merge, m)
  m:unmerge()
  -- many round trips stay within rounding
  for _ = 1, 20 do m:merge(); m:unmerge() end
  assert(maxdiff(lin.weight, w0) < 1e-12)
  -- state dict names and repr
  assert(table.concat(m:state_dict().keys, " ") == "lora_A lora_B base.weight base.bias")
  assert(tostring(m):find("rank=3, alpha=6, scaling=2", 1, true))
end

-- gradcheck in f64 over x, A and B (base frozen); dropout only in training
do
  local m = nn.LoRA.wrap(nn.Linear(4, 3, {dtype = "f64"}), {rank = 2, alpha = 3})
  tide.no_grad(function() m.lora_B[{}] = tide.randn(3, 2, {dtype = "f64"}) end)
  local x = tide.randn(5, 4, {dtype = "f64"}):requires_grad_()
  assert(tide.autograd.gradcheck(function(a) return m(a) end, {x, m.lora_A, m.lora_B}))
  local d = nn.LoRA.wrap(nn.Linear(4, 3), {rank = 2, dropout = 0.5})
  tide.no_grad(function() d.lora_B[{}] = tide.randn(3, 2) end)
  local xs = tide.randn(64, 4)
  local a, b = d(xs), d(xs)
  assert(maxdiff(a, b) > 0)                                  -- training: a new dropout mask per call
  d:eval()
  assert(maxdiff(d(xs), d(xs)) == 0)
  local plain = d.base(xs) + F.linear(F.linear(xs, d.lora_A), d.lora_B) * d.scaling
  assert(maxdiff(d(xs), plain) < 1e-6)                       -- eval: no dropout
  -- alpha defaults to rank (scaling 1)
  assert(nn.LoRA.wrap(nn.Linear(2, 2), {rank = 4}).scaling == 1)
  -- LoRA(linear, opts) is the same as wrap
  assert(nn.LoRA(nn.Linear(2, 2), {rank = 2, alpha = 1}).scaling == 0.5)
end

-- apply on a GPT: wraps the matching Linears in place, freezes the rest; lora_parameters
do
  local gpt = tide.models.GPT{vocab = 32, dim = 16, layers = 2, heads = 2, max_len = 16}
  local idx = tide.randint(1, 33, {2, 8})
  local before = gpt(idx)
  local total = gpt:num_parameters()
  local names = nn.LoRA.apply(gpt, {pattern = "attn%.", rank = 2, alpha = 4})
  assert(table.concat(names, " ") == "blocks.1.attn.qkv blocks.1.attn.wo blocks.2.attn.qkv blocks.2.attn.wo", table.concat(names, " "))
  assert(gpt.blocks[1].attn.qkv:is_a(nn.LoRA) and gpt.blocks[2].attn.wo:is_a(nn.LoRA))
  assert(gpt.blocks[1].mlp.fc1:is_a(nn.Linear) and not gpt.blocks[1].mlp.fc1:is_a(nn.LoRA))
  assert(maxdiff(gpt(idx), before) == 0)                     -- B = 0: same function
  local lp = nn.lora_parameters(gpt)
  assert(#lp == 8)
  local n_lora = 0
  for _, p in ipairs(lp) do n_lora = n_lora + p:numel() end
  assert(n_lora == 2 * (2 * 16 + 2 * 48) + 2 * (2 * 16 + 2 * 16))
  assert(gpt:num_parameters({trainable_only = true}) == n_lora)
  assert(gpt:num_parameters() == total + n_lora)
  -- child order is kept (the adapter sits where the Linear was)
  local children = {}
  for name in gpt.blocks[1].attn:named_children() do children[#children + 1] = name end
  assert(table.concat(children, " ") == "qkv wo")
  -- training the adapters only: the loss falls, the base weights do not move
  local w_before = {}
  for name, p in gpt:named_parameters() do w_before[name] = p:clone() end
  local opt = tide.optim.AdamW(lp, {lr = 1e-2})
  local x, y = tide.randint(1, 33, {4, 8}), tide.randint(1, 33, {4, 8})
  local first, last
  for _ = 1, 30 do
    local loss = gpt:loss(x, y)
    opt:zero_grad()
    loss:backward()
    opt:step()
    first = first or loss:item()
    last = loss:item()
  end
  assert(last < first - 0.05, ("LoRA training: %g -> %g"):format(first, last))
  for name, p in gpt:named_parameters() do
    if not name:find("lora_") then
      assert(maxdiff(p, w_before[name]) == 0, name .. " changed")
      assert(p.grad == nil, name .. " got a gradient")
    end
  end
  -- merging everything gives the same logits through plain Linears
  local adapted = gpt(idx)
  nn.LoRA.merge_all(gpt)
  assert(maxdiff(gpt(idx), adapted) < 1e-5)
  nn.LoRA.unmerge_all(gpt)
  assert(maxdiff(gpt(idx), adapted) < 1e-5)
  for name, p in gpt:named_parameters() do
    if not name:find("lora_") then assert(maxdiff(p, w_before[name]) < 1e-6, name) end
  end
  -- applying again does not wrap the bases inside adapters
  assert(#nn.LoRA.apply(gpt, {pattern = "attn%.", rank = 2}) == 0)
  -- freeze = false leaves the other parameters trainable
  local g2 = tide.models.GPT{vocab = 32, dim = 16, layers = 1, heads = 2, max_len = 16}
  local n2 = g2:num_parameters()
  nn.LoRA.apply(g2, {pattern = "mlp%.fc1", rank = 1, freeze = false})
  assert(g2:num_parameters({trainable_only = true}) == n2 - (64 * 16 + 64) + (16 + 64))
end

-- bad input
S.checkerror("LoRA.wrap: expected a tide.nn.Linear, got a number", nn.LoRA.wrap, 3, {rank = 2})
S.checkerror("LoRA.wrap: expected a tide.nn.Linear, got a Conv1d module", nn.LoRA.wrap, nn.Conv1d(2, 2, 3), {rank = 2})
S.checkerror("LoRA.wrap: rank must be a positive integer, got 0", nn.LoRA.wrap, nn.Linear(2, 2), {rank = 0})
S.checkerror("LoRA.wrap: rank must be a positive integer, got a nil", nn.LoRA.wrap, nn.Linear(2, 2))
S.checkerror("LoRA.wrap: dropout must be a number in [0, 1), got 1", nn.LoRA.wrap, nn.Linear(2, 2), {rank = 1, dropout = 1})
S.checkerror("LoRA.wrap: alpha must be a number, got a string", nn.LoRA.wrap, nn.Linear(2, 2), {rank = 1, alpha = "8"})
S.checkerror("LoRA.wrap: unknown option 'ranks'", nn.LoRA.wrap, nn.Linear(2, 2), {ranks = 1})
S.checkerror("LoRA.apply: expected a module, got a table", nn.LoRA.apply, {}, {rank = 1})
S.checkerror("LoRA.apply: pattern must be a string", nn.LoRA.apply, nn.Linear(2, 2), {rank = 1, pattern = 3})
S.checkerror("lora_parameters: expected a module, got a nil", nn.lora_parameters, nil)
do
  local m = nn.LoRA.wrap(nn.Linear(3, 2), {rank = 1})
  S.checkerror("base (Linear): linear: input has shape 4x5", m, tide.randn(4, 5))
end


-- f32: merge / unmerge cycles give the pretrained weight back bit for bit, and the kept
-- rounding residual is not part of the state dict
do
  tide.manual_seed(3)
  local lin = tide.nn.Linear(64, 48)
  local m = tide.nn.LoRA.wrap(lin, {rank = 4, alpha = 8})
  tide.no_grad(function() m.lora_B[{}] = tide.randn(48, 4) * 0.5 end)
  local w0 = lin.weight:clone()
  local keys = {}
  for k in pairs(m:state_dict()) do keys[#keys + 1] = k end
  for _ = 1, 5 do
    m:merge()
    local n = 0
    for _ in pairs(m:state_dict()) do n = n + 1 end
    assert(n == #keys, "merge adds nothing to the state dict")
    m:unmerge()
    assert(lin.weight:eq(w0):all():item(), "f32 unmerge is bit-exact")
  end
end

print("test_lora: ok")
