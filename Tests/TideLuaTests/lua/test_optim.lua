-- tide.optim against NumPy (Tests/fixtures/optim/cases.lua, written by
-- scripts/fixtures/gen_optim.py): parameter sequences of SGD/Adam/AdamW/Lion, lr sequences of
-- the schedulers; then state_dict round trips (bit for bit), gradient clipping, the in-place
-- contract (same objects, versions bumped), the split over cores, and bad input.
local S = require "support"
local here = debug.getinfo(1, "S").source:sub(2):match("^(.*)/") or "."
local F = dofile(here .. "/../../fixtures/optim/cases.lua")
local optim = tide.optim

local function T(v, dtype) return tide.tensor(v, {dtype = dtype or "f64"}) end

local function bits_equal(a, b, what)
  assert(a:dtype() == b:dtype(), what .. ": dtypes differ")
  local d = (a - b):abs():max():item()
  assert(d == 0, ("%s: differs by %g (expected bit-for-bit equal)"):format(what, d))
end

-- Fresh parameters p1, p2 from the fixture, as leaves in `dtype`.
local function fresh(dtype)
  return T(F.p0.p1, dtype):requires_grad_(), T(F.p0.p2, dtype):requires_grad_()
end

-- The option tables of a case: either one list of params or groups with 1-based indices.
local function build(case, p1, p2)
  local ps = {p1, p2}
  local params = ps
  if case.groups then
    params = {}
    for gi, g in ipairs(case.groups) do
      local grp = {}
      for k, v in pairs(g) do grp[k] = v end
      grp.params = {}
      for k, i in ipairs(g.params) do grp.params[k] = ps[i] end
      params[gi] = grp
    end
  end
  local opt = optim[case.optimizer](params, case.opts)
  local sched
  if case.scheduler then sched = optim.lr_scheduler[case.scheduler.name](opt, case.scheduler.opts) end
  return opt, sched
end

-- ---------------------------------------------------------------- optimizers vs NumPy
local names = {}
for name in pairs(F.optimizers) do names[#names + 1] = name end
table.sort(names)
for _, name in ipairs(names) do
  local case = F.optimizers[name]
  for _, dtype in ipairs{"f64", "f32"} do
    local tol = dtype == "f64" and 1e-10 or 2e-5
    local p1, p2 = fresh(dtype)
    local opt, sched = build(case, p1, p2)
    for k = 1, #case.p1 do
      p1.grad = T(F.grads[k].p1, dtype)
      p2.grad = T(F.grads[k].p2, dtype)
      opt:step()
      if sched then sched:step() end
      local ok, err = pcall(function()
        S.close(p1, T(case.p1[k]), tol)
        S.close(p2, T(case.p2[k]), tol)
      end)
      assert(ok, ("%s (%s) step %d: %s"):format(name, dtype, k, tostring(err)))
    end
  end
end

-- ---------------------------------------------------------------- schedulers vs NumPy
local snames = {}
for name in pairs(F.schedulers) do snames[#snames + 1] = name end
table.sort(snames)
local function sched_opt(bases)
  local groups = {}
  for i, b in ipairs(bases) do groups[i] = {params = {tide.zeros(1)}, lr = b} end
  return optim.Adam(groups)
end
for _, name in ipairs(snames) do
  local case = F.schedulers[name]
  local opt = sched_opt(case.base_lrs)
  local ctor = optim.lr_scheduler[case.scheduler]
  local sched = ctor(opt, case.opts)
  for t = 1, #case.lr do
    if t > 1 then opt:step(); sched:step() end
    local got = sched:get_last_lr()
    for gi = 1, #case.base_lrs do
      local want = case.lr[t][gi]
      assert(math.abs(got[gi] - want) <= 1e-12 * math.abs(want) + 1e-15,
        ("%s step %d group %d: lr %.17g, NumPy %.17g"):format(name, t - 1, gi, got[gi], want))
      assert(opt.param_groups[gi].lr == got[gi], name .. ": get_last_lr differs from the group's lr")
      if case.beta1 then
        local b = opt.param_groups[gi].betas[1]
        assert(math.abs(b - case.beta1[t][gi]) <= 1e-12, ("%s step %d: beta1 %g, NumPy %g"):format(name, t - 1, b, case.beta1[t][gi]))
      end
    end
  end
end
-- the names reachable directly under tide.optim too
assert(optim.StepLR == optim.lr_scheduler.StepLR and optim.OneCycleLR == optim.lr_scheduler.OneCycleLR)
assert(optim.LinearLR and optim.CosineAnnealingLR and optim.lr_scheduler.cosine_with_warmup == optim.cosine_with_warmup)
-- OneCycleLR on SGD cycles momentum; cycle_momentum = false leaves it alone
do
  local o = optim.SGD({tide.zeros(2)}, {lr = 0.1, momentum = 0.9})
  optim.OneCycleLR(o, {max_lr = 1, total_steps = 10})
  assert(math.abs(o.param_groups[1].momentum - 0.95) < 1e-15)
  local o2 = optim.SGD({tide.zeros(2)}, {lr = 0.1, momentum = 0.9})
  optim.OneCycleLR(o2, {max_lr = 1, total_steps = 10, cycle_momentum = false})
  assert(o2.param_groups[1].momentum == 0.9 and math.abs(o2.param_groups[1].lr - 1 / 25) < 1e-15)
  -- epochs * steps_per_epoch stands for total_steps; stepping past the end is an error
  local o3 = optim.SGD({tide.zeros(2)}, {lr = 0.1})
  local s3 = optim.OneCycleLR(o3, {max_lr = 1, epochs = 2, steps_per_epoch = 2, cycle_momentum = false})
  for _ = 1, 4 do s3:step() end
  S.checkerror("tried to step 5 times; total_steps is 4", function() s3:step() end)
end
-- chained schedulers share the base lr (initial_lr) and multiply, as in torch
do
  local o = optim.SGD({tide.zeros(2)}, {lr = 1.0})
  local a = optim.StepLR(o, {step_size = 1, gamma = 0.5})
  local b = optim.LinearLR(o, {start_factor = 0.5, total_iters = 2})
  assert(o.param_groups[1].lr == 0.5 and a.base_lrs[1] == 1.0 and b.base_lrs[1] == 1.0)
  a:step(); b:step()
  S.close(o.param_groups[1].lr, 0.25 * 1.5, 1e-15)
end

-- ---------------------------------------------------------------- in-place contract
do
  local p = tide.randn(3, 4):requires_grad_()
  local before = p
  local opt = optim.AdamW({p}, {lr = 0.1})
  local y = (p * p):sum()          -- saves p for backward
  p.grad = tide.ones(3, 4)
  opt:step()
  assert(rawequal(opt.param_groups[1].params[1], before))
  -- the update bumped p's version: the saved p is stale
  S.checkerror("modified", function() y:backward() end)
  -- no graph was recorded by the update
  assert(p.grad_fn == nil and p.is_leaf)
  -- params without a gradient are skipped
  local q = tide.ones(2):requires_grad_()
  local o2 = optim.SGD({q}, {lr = 1})
  o2:step()
  S.close(q, {1, 1}, 0)
end

-- zero_grad, closures, editable param_groups, add_param_group
do
  local p = tide.ones(3, {dtype = "f64"}):requires_grad_()
  local opt = optim.SGD({p}, {lr = 0.5})
  local loss = opt:step(function()
    opt:zero_grad()
    local l = (p * p):sum()
    l:backward()
    return l
  end)
  assert(loss:item() == 3)
  S.close(p, {0, 0, 0}, 0)                 -- p - 0.5 * 2p
  assert(p.grad ~= nil)
  opt:zero_grad(false)
  S.close(p.grad, {0, 0, 0}, 0)
  opt:zero_grad()
  assert(p.grad == nil)
  opt:zero_grad({set_to_none = false})   -- no grad: nothing to zero
  assert(p.grad == nil)
  -- a scheduler's edit or a manual one changes the next update
  p.grad = tide.ones(3, {dtype = "f64"})
  opt.param_groups[1].lr = 2
  opt:step()
  S.close(p, {-2, -2, -2}, 0)
  local q = tide.zeros(2, {dtype = "f64"}):requires_grad_()
  opt:add_param_group({params = {q}, lr = 0.25})
  assert(#opt.param_groups == 2 and opt.param_groups[2].momentum == 0 and opt.param_groups[2].lr == 0.25)
  q.grad = tide.ones(2, {dtype = "f64"})
  opt:step()
  S.close(q, {-0.25, -0.25}, 0)
  -- per-group options override the defaults and the defaults fill the rest
  local o = optim.Adam({{params = {tide.zeros(1)}}, {params = {tide.zeros(1)}, lr = 0.5, betas = {0.5, 0.6}}}, {eps = 1e-3})
  assert(o.param_groups[1].lr == 1e-3 and o.param_groups[2].lr == 0.5 and o.param_groups[2].eps == 1e-3)
  assert(o.param_groups[2].betas[1] == 0.5 and o.param_groups[1].betas[1] == 0.9)
  -- groups hold their own copies of table options
  o.param_groups[1].betas[1] = 0.1
  assert(o.defaults.betas[1] == 0.9)
  assert(tostring(o):find("Parameter Group 2", 1, true) and tostring(o):find("lr: 0.5", 1, true))
end

-- ---------------------------------------------------------------- state_dict round trips
-- Is `v` plain data: numbers, strings, booleans, tensors, tables of those?
local function plain(v, path)
  local t = type(v)
  if t == "number" or t == "string" or t == "boolean" or tide.is_tensor(v) then return end
  assert(t == "table", path .. " is a " .. t)
  assert(getmetatable(v) == nil, path .. " has a metatable")
  for k, x in pairs(v) do
    assert(type(k) == "number" or type(k) == "string", path .. " has a " .. type(k) .. " key")
    plain(x, path .. "." .. tostring(k))
  end
end

local function round_trip(kind, opts, groups_of, mk_sched)
  local gen = tide.Generator(7)
  local shapes = {{5, 3}, {7}, {2, 2}}
  local init, grads = {}, {}
  for i, s in ipairs(shapes) do init[i] = tide.randn(s, {generator = gen}) end
  for k = 1, 8 do
    grads[k] = {}
    for i, s in ipairs(shapes) do grads[k][i] = tide.randn(s, {generator = gen}) end
  end
  local function setup()
    local ps = {}
    for i, x in ipairs(init) do ps[i] = x:clone():requires_grad_() end
    local opt = optim[kind](groups_of(ps), opts)
    return ps, opt, mk_sched and mk_sched(opt)
  end
  local function run(ps, opt, sched, from, to)
    for k = from, to do
      for i, p in ipairs(ps) do p.grad = grads[k][i] end
      opt:step()
      if sched then sched:step() end
    end
  end
  -- uninterrupted
  local ps, opt, sched = setup()
  run(ps, opt, sched, 1, 8)
  -- interrupted after 3 steps, resumed in a fresh optimizer
  local qs, o1, s1 = setup()
  run(qs, o1, s1, 1, 3)
  local sd = o1:state_dict()
  local ssd = s1 and s1:state_dict()
  plain(sd, "state_dict")
  if ssd then plain(ssd, "scheduler state_dict") end
  local snapshot = {}
  for i, st in pairs(sd.state) do
    for k, v in pairs(st) do if tide.is_tensor(v) then snapshot[#snapshot + 1] = {v, v:clone()} end end
  end
  run(qs, o1, s1, 4, 5)   -- the old optimizer goes on; the state dict must not change
  for _, pair in ipairs(snapshot) do bits_equal(pair[1], pair[2], kind .. " state_dict snapshot") end
  local rs = {}
  for i, q in ipairs(qs) do rs[i] = q end
  -- parameters as they were after step 3: replay on clones
  local cs, oc, sc = setup()
  run(cs, oc, sc, 1, 3)
  local fs = {}
  for i, c in ipairs(cs) do fs[i] = c:detach():clone():requires_grad_() end
  -- as in torch: build the optimizer and scheduler, then load both (building a scheduler
  -- takes its step 0, which would overwrite a loaded lr)
  local o2 = optim[kind](groups_of(fs), opts)
  local s2 = mk_sched and mk_sched(o2)
  o2:load_state_dict(sd)
  if s2 then s2:load_state_dict(ssd) end
  run(fs, o2, s2, 4, 8)
  for i = 1, #ps do bits_equal(fs[i], ps[i], ("%s round trip, parameter %d"):format(kind, i)) end
  if s2 then
    local a, b = sched:get_last_lr(), s2:get_last_lr()
    for i = 1, #a do assert(a[i] == b[i], kind .. ": scheduler lr after the round trip differs") end
  end
  return sd
end

local two_groups = function(ps) return {{params = {ps[1], ps[2]}}, {params = {ps[3]}, lr = 0.003, weight_decay = 0}} end
local one_group = function(ps) return ps end
local sd = round_trip("SGD", {lr = 0.01, momentum = 0.9, nesterov = true, weight_decay = 1e-3}, two_groups,
                      function(o) return optim.StepLR(o, {step_size = 2, gamma = 0.5}) end)
assert(sd.state[1].momentum_buffer and sd.param_groups[2].params[1] == 3 and sd.param_groups[1].params[2] == 2)
sd = round_trip("Adam", {lr = 0.01, amsgrad = true, weight_decay = 0.01}, two_groups,
                function(o) return optim.CosineAnnealingLR(o, {T_max = 4, eta_min = 1e-4}) end)
assert(sd.state[3].step == 3 and sd.state[3].max_exp_avg_sq and sd.state[1].exp_avg and sd.param_groups[1].amsgrad == true)
round_trip("AdamW", {lr = 0.01}, one_group,
           function(o) return optim.OneCycleLR(o, {max_lr = 0.05, total_steps = 10}) end)
round_trip("Lion", {lr = 1e-3, weight_decay = 0.1}, two_groups,
           function(o) return optim.cosine_with_warmup(o, {warmup_steps = 2, total_steps = 8, min_lr = 1e-5}) end)
round_trip("Adam", {lr = 0.01}, one_group,
           function(o) return optim.LinearLR(o, {start_factor = 0.5, total_iters = 4}) end)

-- state_dicts survive tide.save / tide.load (the checkpoint format of tide.train)
do
  local w = tide.randn(4, 3):requires_grad_()
  local function make(p)
    local o = optim.AdamW({p}, {lr = 0.01, amsgrad = true})
    return o, optim.OneCycleLR(o, {max_lr = 0.1, total_steps = 20})
  end
  local opt, sched = make(w)
  for k = 1, 3 do w.grad = tide.ones(4, 3) * k; opt:step(); sched:step() end
  local path = os.tmpname()
  tide.save({opt = opt:state_dict(), sched = sched:state_dict()}, path)
  local back = tide.load(path)
  os.remove(path)
  local w2 = w:detach():clone():requires_grad_()
  local o2, s2 = make(w2)
  o2:load_state_dict(back.opt); s2:load_state_dict(back.sched)
  for k = 4, 8 do
    w.grad = tide.ones(4, 3) * k; opt:step(); sched:step()
    w2.grad = tide.ones(4, 3) * k; o2:step(); s2:step()
  end
  bits_equal(w, w2, "resume through tide.save")
  assert(sched:get_last_lr()[1] == s2:get_last_lr()[1])
end

-- load_state_dict casts state to the parameter's dtype, copies it, and restores group options
do
  local p = tide.randn(4, {dtype = "f64"}):requires_grad_()
  local o = optim.Adam({p}, {lr = 0.1})
  p.grad = tide.ones(4, {dtype = "f64"}); o:step()
  local sd2 = o:state_dict()
  sd2.param_groups[1].lr = 0.5
  local q = tide.randn(4):requires_grad_()   -- f32
  local o2 = optim.Adam({q}, {lr = 0.1})
  o2:load_state_dict(sd2)
  assert(o2.param_groups[1].lr == 0.5 and rawequal(o2.param_groups[1].params[1], q))
  assert(o2.state[q].exp_avg:dtype() == "f32" and o2.state[q].step == 1)
  sd2.state[1].exp_avg:fill_(7)
  assert(o2.state[q].exp_avg[1] ~= 7, "load_state_dict must copy the tensors")
  q.grad = tide.ones(4); o2:step()
  assert(o2.state[q].step == 2)
end

-- load_state_dict: clear errors, and nothing changes on error
do
  local a, b = tide.zeros(2, 3), tide.zeros(4)
  local o = optim.Adam({a, b})
  a.grad, b.grad = tide.ones(2, 3), tide.ones(4)
  o:step()
  local good = o:state_dict()
  local o1 = optim.Adam({tide.zeros(2, 3)})
  S.checkerror("parameter group 1 has 2 parameters in the state dict but 1 in the optimizer", o1.load_state_dict, o1, good)
  local o2 = optim.Adam({{params = {tide.zeros(2, 3)}}, {params = {tide.zeros(4)}}})
  S.checkerror("the state dict has 1 parameter groups but the optimizer has 2", o2.load_state_dict, o2, good)
  local o3 = optim.Adam({tide.zeros(3, 2), tide.zeros(4)})
  S.checkerror("state 'exp_avg' of parameter 1 has shape 2x3 but the parameter has shape 3x2", o3.load_state_dict, o3, good)
  assert(next(o3.state) == nil, "a failed load must leave the optimizer unchanged")
  S.checkerror("expected a table {state = {...}, param_groups = {...}}", o3.load_state_dict, o3, 42)
  local bad = o:state_dict(); bad.state[9] = {step = 1}
  local o4 = optim.Adam({tide.zeros(2, 3), tide.zeros(4)})
  S.checkerror("state for parameter 9, which no parameter group lists", o4.load_state_dict, o4, bad)
  bad = o:state_dict(); bad.param_groups[1].betas = {2, 0.9}
  S.checkerror("betas[1] must be in [0, 1)", o4.load_state_dict, o4, bad)
  local s = optim.StepLR(o4, {step_size = 2})
  S.checkerror("expected a table from sched:state_dict()", s.load_state_dict, s, {})
  local s2 = optim.StepLR(o2, {step_size = 2})
  S.checkerror("the state dict is for 2 parameter groups but the optimizer has 1", s.load_state_dict, s, s2:state_dict())
end

-- ---------------------------------------------------------------- gradient clipping
do
  local a = tide.zeros(2, {dtype = "f64"}):requires_grad_()
  local b = tide.zeros(1, {dtype = "f64"}):requires_grad_()
  local c = tide.zeros(3, {dtype = "f64"}):requires_grad_()   -- no grad: ignored
  local function set() a.grad = T{3, 4}; b.grad = T{-12} end
  set()
  local n = optim.clip_grad_norm_({a, b, c}, 6.5)
  assert(n == 13, "total 2-norm of {3, 4, -12} is 13, got " .. n)
  local k = 6.5 / (13 + 1e-6)
  S.close(a.grad, {3 * k, 4 * k}, 1e-15); S.close(b.grad, {-12 * k}, 1e-15)
  set()
  n = optim.clip_grad_norm_({a, b}, 100)          -- under the limit: untouched
  assert(n == 13); S.close(a.grad, {3, 4}, 0); S.close(b.grad, {-12}, 0)
  set()
  n = optim.clip_grad_norm_({a, b}, 1.9, {norm_type = 1})
  assert(math.abs(n - 19) < 1e-12)
  S.close(b.grad, {-12 * 1.9 / (19 + 1e-6)}, 1e-15)
  set()
  n = optim.clip_grad_norm_({a, b}, 6, {norm_type = math.huge})
  assert(n == 12); S.close(b.grad, {-12 * 6 / (12 + 1e-6)}, 1e-15)
  set()
  assert(optim.clip_grad_norm_({a, b}, 6, {norm_type = "inf"}) == 12)
  set()
  assert(math.abs(optim.clip_grad_norm_(a, 100, {norm_type = 3}) - (27 + 64) ^ (1 / 3)) < 1e-12)
  assert(optim.clip_grad_norm_({c}, 1) == 0)     -- no gradients at all
  a.grad = T{0 / 0, 1}
  S.checkerror("non-finite", optim.clip_grad_norm_, {a}, 1, {error_if_nonfinite = true})
  local nn = optim.clip_grad_norm_({a}, 1)
  assert(nn ~= nn)
  set()
  optim.clip_grad_value_({a, b}, 3.5)
  S.close(a.grad, {3, 3.5}, 0); S.close(b.grad, {-3.5}, 0)
  S.checkerror("bad argument #2 to 'clip_grad_norm_' (number expected, got string)", optim.clip_grad_norm_, {a}, "x")
  S.checkerror("norm_type must be a positive number", optim.clip_grad_norm_, {a}, 1, {norm_type = -1})
  S.checkerror("clip_grad_norm_: parameter 2 must be a tensor, got number", optim.clip_grad_norm_, {a, 5}, 1)
  S.checkerror("bad argument #2 to 'clip_grad_value_' (number expected, got nil)", optim.clip_grad_value_, {a})
end

-- ---------------------------------------------------------------- large tensors (split over cores)
-- One Adam step on 300k elements against the same formula in tensor ops (f64).
do
  local n = 300001
  local p0 = tide.randn(n, {dtype = "f64"})
  local g = tide.randn(n, {dtype = "f64"})
  local p = p0:clone()
  local o = optim.AdamW({p}, {lr = 0.01, weight_decay = 0.1, betas = {0.8, 0.9}})
  p.grad = g
  o:step(); o:step()
  -- two steps with the same gradient: m = (1 - 0.8^2) g, v = (1 - 0.9^2) g^2 after bias terms
  local q = p0 * (1 - 0.001)
  local m1, v1 = g * 0.2, g * g * 0.1
  q = q - (m1 / 0.2) / ((v1 / 0.1):sqrt() + 1e-8) * 0.01
  q = q * (1 - 0.001)
  local m2, v2 = m1 * 0.8 + g * 0.2, v1 * 0.9 + g * g * 0.1
  q = q - (m2 / (1 - 0.64)) / ((v2 / (1 - 0.81)):sqrt() + 1e-8) * 0.01
  local err = (p - q):abs():max():item()
  assert(err < 1e-12, "large AdamW step differs by " .. err)
  -- SGD and Lion on the same size: compare with tensor ops
  local p2 = p0:clone()
  local o2 = optim.SGD({p2}, {lr = 0.1, momentum = 0.9})
  p2.grad = g; o2:step(); o2:step()
  local want = p0 - g * 0.1 - (g * 0.9 + g) * 0.1
  assert((p2 - want):abs():max():item() < 1e-12)
  local p3 = p0:clone()
  local o3 = optim.Lion({p3}, {lr = 0.1})
  p3.grad = g; o3:step()
  assert((p3 - (p0 - g:sign() * 0.1)):abs():max():item() < 1e-15)
end

-- the fused 2-norm of clip_grad_norm_: many chunks, strided input, and the same bits on 1 or
-- 2 threads (fixed chunks added in order)
do
  local g = tide.randn(300001, {dtype = "f64"})
  local want = (g * g):sum():item()
  assert(math.abs(optim._sumsq(g) - want) <= 1e-12 * want)
  local m = tide.randn(700, 500)
  local mt = m:t()
  local w32 = (m:to("f64") ^ 2):sum():item()
  assert(math.abs(optim._sumsq(mt) - w32) <= 1e-6 * w32)
  local prev = tide.get_num_threads()
  tide.set_num_threads(1)
  local one = optim._sumsq(m)
  tide.set_num_threads(2)
  local two = optim._sumsq(m)
  tide.set_num_threads(prev)
  assert(one == two, "the sum of squares depends on the thread count")
  S.checkerror("expected an f32 or f64 tensor, got i64", optim._sumsq, tide.zeros(3, {dtype = "i64"}))
end

-- ---------------------------------------------------------------- bad input
do
  local p = tide.zeros(3):requires_grad_()
  S.checkerror("Adam: got an empty parameter list", optim.Adam, {})
  S.checkerror("got a single tensor (wrap it: {p})", optim.SGD, p)
  S.checkerror("bad argument #1 to 'SGD' (table of parameters expected, got nil)", optim.SGD)
  S.checkerror("parameter 2 of group 1 must be a tensor, got string", optim.SGD, {p, "w"})
  S.checkerror("parameters must be f32 or f64 tensors, got a i64 tensor", optim.SGD, {tide.zeros(2, {dtype = "i64"})})
  S.checkerror("can't optimize a non-leaf tensor", optim.SGD, {p * 2})
  S.checkerror("is not contiguous", optim.SGD, {tide.zeros(3, 4):t()})
  S.checkerror("some parameters appear in more than one parameter group", optim.SGD, {p, p})
  S.checkerror("some parameters appear in more than one parameter group", optim.SGD, {{params = {p}}, {params = {p}}})
  S.checkerror("Adam: unknown option 'learning_rate'", optim.Adam, {p}, {learning_rate = 1})
  S.checkerror("Adam: option 'lr' must be >= 0, got -1", optim.Adam, {p}, {lr = -1})
  S.checkerror("Adam: option 'lr' must be a number, got string", optim.Adam, {p}, {lr = "big"})
  S.checkerror("Adam: betas[2] must be in [0, 1), got 1", optim.Adam, {p}, {betas = {0.9, 1}})
  S.checkerror("option 'betas' must be a table of two numbers", optim.AdamW, {p}, {betas = 0.9})
  S.checkerror("Lion: option 'weight_decay' must be >= 0", optim.Lion, {p}, {weight_decay = -0.1})
  S.checkerror("option 'amsgrad' must be a boolean, got number", optim.Adam, {p}, {amsgrad = 1})
  S.checkerror("nesterov momentum needs momentum > 0 and dampening = 0", optim.SGD, {p}, {lr = 0.1, nesterov = true})
  S.checkerror("nesterov momentum needs momentum > 0 and dampening = 0", optim.SGD, {p}, {lr = 0.1, momentum = 0.9, dampening = 0.1, nesterov = true})
  S.checkerror("option 'lr' must be >= 0", optim.SGD, {{params = {p}, lr = -2}})
  S.checkerror("bad argument #2 to 'Adam' (options table expected, got number)", optim.Adam, {p}, 0.1)
  local o = optim.SGD({p}, {lr = 0.1})
  S.checkerror("the group's 'params' must be a tensor or a list of tensors, got nil", o.add_param_group, o, {lr = 1})
  S.checkerror("some parameters appear in more than one parameter group", o.add_param_group, o, {params = {p}})
  S.checkerror("bad argument #1 to 'step' (function or nil expected, got number)", o.step, o, 3)
  -- gradients of the wrong dtype or shape are refused by the kernel, naming the optimizer
  local w = tide.zeros(3):requires_grad_()
  local ow = optim.Adam({w})
  w.grad = tide.zeros(3, {dtype = "f64"})
  S.checkerror("Adam: the gradient is f64 but the parameter is f32", ow.step, ow)
  local ok = pcall(function() w.grad = tide.zeros(4) end)
  if ok then S.checkerror("the gradient has shape 4 but the parameter has shape 3", ow.step, ow) end
  -- the private kernels check their inputs too
  local m, v = tide.zeros(3), tide.zeros(3)
  S.checkerror("exp_avg_sq has shape 2 but the parameter has shape 3", optim._adam_step_, w, tide.zeros(3), m, tide.zeros(2), {lr = 1, step = 1})
  S.checkerror("the parameter and state tensor 1 share memory", optim._adam_step_, w, tide.zeros(3), w, v, {lr = 1, step = 1})
  S.checkerror("option 'lr' is required", optim._lion_step_, w, tide.zeros(3), m, {})
  S.checkerror("step must be >= 1, got 0", optim._adam_step_, w, tide.zeros(3), m, v, {lr = 1})
  S.checkerror("amsgrad needs the max_exp_avg_sq state tensor", optim._adam_step_, w, tide.zeros(3), m, v, {lr = 1, step = 1, amsgrad = true})
  S.checkerror("momentum needs the momentum_buffer state tensor", optim._sgd_step_, w, tide.zeros(3), nil, {lr = 1, momentum = 0.9})
  S.checkerror("parameters must be f32 or f64, got i64", optim._sgd_step_, tide.zeros(3, {dtype = "i64"}), tide.zeros(3, {dtype = "i64"}), nil, {lr = 1})
  S.checkerror("is not contiguous", optim._sgd_step_, tide.zeros(3, 2):t(), tide.zeros(2, 3), nil, {lr = 1})
  -- schedulers
  S.checkerror("bad argument #1 to 'StepLR' (optimizer expected, got table)", optim.StepLR, {}, {step_size = 1})
  S.checkerror("StepLR: option 'step_size' must be a number, got nil (it is required)", optim.StepLR, o, {})
  S.checkerror("StepLR: option 'step_size' must be a positive integer, got 1.5", optim.StepLR, o, {step_size = 1.5})
  S.checkerror("CosineAnnealingLR: unknown option 'tmax'", optim.CosineAnnealingLR, o, {tmax = 3})
  S.checkerror("LinearLR: option 'start_factor' must be in (0, 1], got 0", optim.LinearLR, o, {start_factor = 0})
  S.checkerror("OneCycleLR: give total_steps, or epochs and steps_per_epoch", optim.OneCycleLR, o, {max_lr = 1})
  S.checkerror("OneCycleLR: option 'max_lr' must be a number or a list of 1 numbers", optim.OneCycleLR, o, {max_lr = {1, 2}, total_steps = 5})
  S.checkerror("anneal_strategy must be 'cos' or 'linear'", optim.OneCycleLR, o, {max_lr = 1, total_steps = 5, anneal_strategy = "exp"})
  S.checkerror("the optimizer has neither momentum nor betas", optim.OneCycleLR, setmetatable({param_groups = {}, defaults = {}}, getmetatable(o)), {max_lr = 1, total_steps = 5})
  S.checkerror("total_steps (3) must be >= warmup_steps (5)", optim.cosine_with_warmup, o, {warmup_steps = 5, total_steps = 3})
  local s = optim.StepLR(o, {step_size = 2})
  o:add_param_group({params = {tide.zeros(1)}})
  S.checkerror("the optimizer has 2 parameter groups but the scheduler was made for 1", s.step, s)
end

print("test_optim: ok")
