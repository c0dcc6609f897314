-- examples/minimax_tiny.lua: a tiny MiniMax-Text-01-shaped model (hybrid lightning attention,
-- a softmax layer every few layers, top-2 MoE feed-forward in every layer) against a dense
-- model with the same active parameters, trained on the shipped corpus (the Python docs,
-- byte level) with the same token budget and data order.
--
--   tide examples/minimax_tiny.lua --quick     under a minute (what the tests run)
--   tide examples/minimax_tiny.lua             full mode: several minutes on 2 cores
--   options: --out DIR (default runs/minimax_tiny), --steps N, --seed N
--
-- The dense model is the same network with one SwiGLU expert of hidden k * F in place of the
-- E experts of hidden F (one expert: the router gate is 1 for every token), so both have the
-- same parameters per token and the same FLOPs in the feed-forward; the MoE has E / k times the
-- feed-forward parameters in total. The MoE trains with token dropping (capacity factor 1.25,
-- one capacity group per sequence, MiniMax's global capacity), both with the Switch aux loss.
--
-- Reports validation loss and tokens/s of both, the expert load over training (one plot per
-- MoE run: the share of routed tokens of each expert in the first layer), and the drop rate
-- of the trained MoE on validation batches under local versus global capacity for several
-- capacity factors. Writes metrics.jsonl, loss.svg, expert_load.svg, drops.svg and a table.
--
-- What the full run printed (2026-11-27, 2 cores, 3.5 min; details in docs/moe.md):
--   model        params       active   val loss     tokens/s
--   dense        829440       829440     2.0431         6769
--   moe         2161920       834816     1.9996         6387
--   capacity factor       local     global      (drop rate on validation batches)
--   1.00                 11.63%      5.30%
--   1.25                  4.31%      0.30%
--   drop rate while training (global, factor 1.25): 14.92% over the first 60 steps, 0.22% over the last 60
-- (--seed 2: dense 2.0350, MoE 2.0005.)

local o = tide.util.args(arg, {{"--quick"}, {"--out DIR", "string", "runs/minimax_tiny"}, {"--steps N", "int"},
                               {"--seed N", "int", 1234}})
local quick, out, steps_arg, seed = o.quick, o.out, o.steps, o.seed

local cfg = quick and {dim = 64, layers = 4, layout = "LLLS", heads = 4, block = 64, batch = 8, steps = 120, lr = 3e-3,
                       experts = 8, top_k = 2, hidden = 64, eval_every = 40, eval_batches = 4}
                   or {dim = 96, layers = 8, layout = "LLLLLLLS", heads = 4, block = 128, batch = 8, steps = 600, lr = 2e-3,
                       experts = 8, top_k = 2, hidden = 96, eval_every = 100, eval_batches = 16}
cfg.steps = steps_arg or cfg.steps
local groups = cfg.batch          -- one capacity group per sequence (an "EP rank" each)

local tok = tide.data.ByteTokenizer()
local train_ids = tok:encode(tide.data.corpus("pydoc", {split = "train"}))
local val_ids = tok:encode(tide.data.corpus("pydoc", {split = "val"}))
local baseline = tide.data.unigram_entropy(val_ids)
print(("corpus: %d train / %d validation bytes, unigram baseline %.3f nats/byte"):format(train_ids:numel(), val_ids:numel(), baseline))

local function build(kind)
  local moe
  if kind == "moe" then
    moe = {experts = cfg.experts, top_k = cfg.top_k, hidden = cfg.hidden, capacity_factor = 1.25,
           capacity = "global", groups = groups, aux_loss = {kind = "switch", coef = 0.01}}
  else   -- dense: one SwiGLU "expert" of hidden k * F, gate 1 for every token
    moe = {experts = 1, top_k = 1, hidden = cfg.top_k * cfg.hidden, aux_loss = {coef = 0}}
  end
  return tide.models.GPT{vocab = tok.vocab_size, dim = cfg.dim, layers = cfg.layers, heads = cfg.heads, max_len = cfg.block,
                         layout = cfg.layout, norm = "rmsnorm", bias = false, moe = moe}
end

-- parameters in total and per token (a token uses k of the E experts in each MoE layer)
local function counts(model)
  local total, expert = model:num_parameters(), 0
  for _, blk in ipairs(model.blocks) do
    local m = blk.mlp
    if m.num_experts then expert = expert + m.w13:numel() + m.w2:numel() end
  end
  local active = total
  for _, blk in ipairs(model.blocks) do
    local m = blk.mlp
    if m.num_experts then active = active - (m.w13:numel() + m.w2:numel()) * (1 - m.top_k / m.num_experts) end
  end
  return total, math.floor(active + 0.5)
end

local function evaluate(model, stats_fn)
  local g = tide.Generator(99)
  model:eval()
  local total = 0
  tide.no_grad(function()
    for _ = 1, cfg.eval_batches do
      local x, y = tide.data.random_windows(val_ids, {batch = cfg.batch, block = cfg.block, generator = g})
      total = total + model:loss(x, y):item()
      if stats_fn then stats_fn(model) end
    end
  end)
  model:train()
  return total / cfg.eval_batches
end

local log = tide.train.Logger(out .. "/metrics.jsonl")
local results, history = {}, {}

local function train(kind)
  tide.manual_seed(seed)                                   -- same init stream and data order
  local model = build(kind)
  local total, active = counts(model)
  print(("\n%s: %d parameters, %d active per token, layout %s x %d layers"):format(kind, total, active, cfg.layout, cfg.layers))
  local opt = tide.optim.AdamW(model:param_groups(0.1), {lr = cfg.lr, betas = {0.9, 0.95}})
  local sched = tide.optim.cosine_with_warmup(opt, {warmup_steps = math.max(1, cfg.steps // 20), total_steps = cfg.steps, min_lr = cfg.lr / 10})
  local data_gen = tide.Generator(seed + 1)
  local h = {step = {}, train = {}, val_step = {}, val = {}, load_step = {}, load = {}, drop = {}}
  local progress = tide.train.Progress{total = cfg.steps, label = kind}
  local first_moe = model.blocks[1].mlp
  local elapsed = 0
  for step = 1, cfg.steps do
    local x, y = tide.data.random_windows(train_ids, {batch = cfg.batch, block = cfg.block, generator = data_gen})
    local t0 = tide.clock()
    local task = model:loss(x, y)
    local loss = task + model:aux_loss()
    opt:zero_grad()
    loss:backward()
    tide.optim.clip_grad_norm_(model:parameters(), 1.0)
    opt:step()
    sched:step()
    elapsed = elapsed + tide.clock() - t0
    local l = task:item()
    h.step[#h.step + 1], h.train[#h.train + 1] = step, l
    local st = first_moe.stats
    local rec = {model = kind, step = step, train_loss = l, aux_loss = tide.is_tensor(model:aux_loss()) and model:aux_loss():item() or 0,
                 lr = sched:get_last_lr()[1]}
    if kind == "moe" then
      rec.moe_layer1 = st
      local share = {}
      for e = 1, #st.routed_per_expert do share[e] = st.routed_per_expert[e] / (st.tokens * first_moe.top_k) end
      h.load_step[#h.load_step + 1] = step
      h.load[#h.load + 1] = share
      local d, n = 0, 0
      for _, blk in ipairs(model.blocks) do d = d + blk.mlp.stats.drop_fraction; n = n + 1 end
      h.drop[#h.drop + 1] = d / n
    end
    if step % cfg.eval_every == 0 or step == cfg.steps then
      local v = evaluate(model)
      h.val_step[#h.val_step + 1], h.val[#h.val + 1] = step, v
      rec.val_loss = v
      progress:finish()
      print(("%-5s step %4d  train %.4f  val %.4f"):format(kind, step, l, v))
    end
    log:write(rec)
    progress:update(step, {loss = l})
  end
  progress:finish()
  local tokens = cfg.steps * cfg.batch * cfg.block
  results[kind] = {total = total, active = active, val = h.val[#h.val], tokens_per_s = tokens / elapsed, model = model}
  history[kind] = h
end

train("dense")
train("moe")

-- drop rate of the trained MoE on validation batches: every MoE layer, local vs global
-- capacity over one group per sequence, for several capacity factors
local moe_model = results.moe.model
local factors = {1.0, 1.25, 1.5, 2.0}
local drops = {local_ = {}, global = {}}
for fi, cf in ipairs(factors) do
  for _, mode in ipairs({"local", "global"}) do
    local sum, n = 0, 0
    for _, blk in ipairs(moe_model.blocks) do blk.mlp.capacity_factor = cf; blk.mlp.capacity_mode = mode end
    evaluate(moe_model, function(m)
      for _, blk in ipairs(m.blocks) do sum = sum + blk.mlp.stats.drop_fraction; n = n + 1 end
    end)
    drops[mode == "local" and "local_" or "global"][fi] = sum / n
  end
  log:write{model = "moe", capacity_factor = cf, drop_local = drops.local_[fi], drop_global = drops.global[fi]}
end
for _, blk in ipairs(moe_model.blocks) do blk.mlp.capacity_factor = 1.25; blk.mlp.capacity_mode = "global" end
for _, kind in ipairs({"dense", "moe"}) do
  local r = results[kind]
  log:write{summary = true, model = kind, params = r.total, active = r.active, val_loss = r.val, tokens_per_s = r.tokens_per_s}
end
log:close()

-- table
print(("\n%-6s %12s %12s %10s %12s"):format("model", "params", "active", "val loss", "tokens/s"))
for _, kind in ipairs({"dense", "moe"}) do
  local r = results[kind]
  print(("%-6s %12d %12d %10.4f %12.0f"):format(kind, r.total, r.active, r.val, r.tokens_per_s))
end
print(("(same token budget: %d steps x %d x %d = %d tokens each; unigram baseline %.3f)"):format(cfg.steps, cfg.batch, cfg.block,
  cfg.steps * cfg.batch * cfg.block, baseline))
print(("\ndrop rate of the trained MoE on validation batches (%d groups of %d tokens):"):format(groups, cfg.block))
print(("%-16s %10s %10s"):format("capacity factor", "local", "global"))
for fi, cf in ipairs(factors) do print(("%-16.2f %9.2f%% %9.2f%%"):format(cf, 100 * drops.local_[fi], 100 * drops.global[fi])) end
-- while training (global capacity, factor 1.25, mean over the MoE layers): the first and the
-- last tenth of the steps
local function mean_range(v, a, b)
  local s = 0
  for k = a, b do s = s + v[k] end
  return s / (b - a + 1)
end
local tenth = math.max(1, cfg.steps // 10)
local drop_first, drop_last = mean_range(history.moe.drop, 1, tenth), mean_range(history.moe.drop, cfg.steps - tenth + 1, cfg.steps)
print(("drop rate while training (global, factor 1.25, all MoE layers): %.2f%% over the first %d steps, %.2f%% over the last %d")
  :format(100 * drop_first, tenth, 100 * drop_last, tenth))

-- plots
local function smooth(v, w)
  local s = {}
  for k = 1, #v do
    local a, n = 0, 0
    for j = math.max(1, k - w + 1), k do a = a + v[j]; n = n + 1 end
    s[k] = a / n
  end
  return s
end
-- the training curves from the end of the first tenth on (the steep start would flatten the
-- rest of the plot)
local function tail(xs, ys, from)
  local tx, ty = {}, {}
  for k = from, #xs do tx[#tx + 1], ty[#ty + 1] = xs[k], ys[k] end
  return tx, ty
end
local dx, dy = tail(history.dense.step, smooth(history.dense.train, 10), tenth)
local mx, my = tail(history.moe.step, smooth(history.moe.train, 10), tenth)
tide.plot.line{
  title = "hybrid lightning: MoE vs dense (same active parameters, same tokens)", xlabel = "step", ylabel = "loss (nats/byte)",
  series = {
    {name = "dense train", x = dx, y = dy},
    {name = "MoE train", x = mx, y = my},
    {name = "dense val", x = history.dense.val_step, y = history.dense.val, marker = true},
    {name = "MoE val", x = history.moe.val_step, y = history.moe.val, marker = true},
  },
}:save(out .. "/loss.svg")
local load_series = {}
for e = 1, cfg.experts do
  local ys = {}
  for k = 1, #history.moe.load do ys[k] = history.moe.load[k][e] end
  load_series[e] = {name = "expert " .. e, x = history.moe.load_step, y = smooth(ys, 5)}
end
load_series[#load_series + 1] = {name = "uniform", x = {1, cfg.steps}, y = {1 / cfg.experts, 1 / cfg.experts}}
load_series[#load_series + 1] = {name = "dropped (all layers)", x = history.moe.load_step, y = smooth(history.moe.drop, 5)}
tide.plot.line{title = "expert load over training (layer 1, share of routed tokens) and drop rate", xlabel = "step", ylabel = "share",
               series = load_series}:save(out .. "/expert_load.svg")
local labels = {}
for fi, cf in ipairs(factors) do labels[fi] = ("cf %.2f"):format(cf) end
tide.plot.bar{title = "drop rate on validation batches: local vs global capacity", ylabel = "dropped assignments",
              labels = labels, series = {{name = "local", values = drops.local_}, {name = "global", values = drops.global}}}
  :save(out .. "/drops.svg")
print(("\nwrote %s/metrics.jsonl, loss.svg, expert_load.svg, drops.svg"):format(out))
