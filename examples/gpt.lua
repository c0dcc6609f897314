-- examples/gpt.lua: a small byte-level GPT trained on the shipped corpus (the Python 3.11
-- documentation sources, data/pydoc), from Lua.
--
--   tide examples/gpt.lua --quick        under a minute (what the tests run)
--   tide examples/gpt.lua                full mode: a few minutes on 2 cores
--   tide examples/gpt.lua --resume       continue from runs/gpt/checkpoint.safetensors
--   options: --out DIR (default runs/gpt), --steps N, --ckpt-every N, --seed N
--
-- It logs train and validation loss (runs/gpt/metrics.jsonl), plots them against the unigram
-- baseline (runs/gpt/loss.svg), prints and saves samples, and writes a checkpoint (model,
-- optimizer, scheduler, RNG, step) that --resume continues bit for bit.

local o = tide.util.args(arg, {{"--quick"}, {"--resume"}, {"--out DIR", "string", "runs/gpt"}, {"--steps N", "int"},
                               {"--ckpt-every N", "int"}, {"--seed N", "int", 1337}})
local quick, out, resume, steps_arg, ckpt_every, seed = o.quick, o.out, o.resume, o.steps, o.ckpt_every, o.seed

local cfg = quick and {dim = 64, layers = 2, heads = 4, block = 64, batch = 16, steps = 300, lr = 3e-3, eval_every = 100, eval_batches = 8}
                   or {dim = 192, layers = 4, heads = 6, block = 128, batch = 16, steps = 1200, lr = 2e-3, eval_every = 100, eval_batches = 16}
cfg.steps = steps_arg or cfg.steps
ckpt_every = ckpt_every or cfg.eval_every
local ckpt_path = out .. "/checkpoint.safetensors"

-- data: bytes of the corpus as token ids 1..256
local tok = tide.data.ByteTokenizer()
local train_ids = tok:encode(tide.data.corpus("pydoc", {split = "train"}))
local val_ids = tok:encode(tide.data.corpus("pydoc", {split = "val"}))
local baseline = tide.data.unigram_entropy(val_ids)
print(("corpus: %d train and %d validation bytes; unigram baseline %.3f nats/byte"):format(train_ids:numel(), val_ids:numel(), baseline))

tide.manual_seed(seed)
local model = tide.models.GPT{vocab = tok.vocab_size, dim = cfg.dim, layers = cfg.layers, heads = cfg.heads, max_len = cfg.block}
local opt = tide.optim.AdamW(model:param_groups(0.1), {lr = cfg.lr, betas = {0.9, 0.95}})
local sched = tide.optim.cosine_with_warmup(opt, {warmup_steps = math.max(1, cfg.steps // 20), total_steps = cfg.steps, min_lr = cfg.lr / 10})
print(("model: %d parameters, %d layers, dim %d, %d heads, context %d"):format(model:num_parameters(), cfg.layers, cfg.dim, cfg.heads, cfg.block))

local step = 0
local history = {step = {}, train = {}, val_step = {}, val = {}}
if resume then
  local extra
  step, extra = tide.train.load_checkpoint(ckpt_path, {model = model, optimizer = opt, scheduler = sched})
  history = extra.history
  print(("resumed from %s at step %d"):format(ckpt_path, step))
end

-- validation loss on fixed windows (its own generator: evaluating never moves the training RNG)
local function evaluate()
  return tide.train.evaluate_lm(model, val_ids, {batches = cfg.eval_batches, batch = cfg.batch, block = cfg.block})
end

local log = tide.train.Logger(out .. "/metrics.jsonl", {append = resume})
local progress = tide.train.Progress{total = cfg.steps, label = "gpt"}
local t0 = tide.clock()
local first_step = step
while step < cfg.steps do
  local x, y = tide.data.random_windows(train_ids, {batch = cfg.batch, block = cfg.block})
  local loss = model:loss(x, y)
  opt:zero_grad()
  loss:backward()
  tide.optim.clip_grad_norm_(model:parameters(), 1.0)
  opt:step()
  sched:step()
  step = step + 1
  local l = loss:item()
  history.step[#history.step + 1] = step
  history.train[#history.train + 1] = l
  local rec = {step = step, train_loss = l, lr = sched:get_last_lr()[1]}
  if step % cfg.eval_every == 0 or step == cfg.steps then
    local v = evaluate()
    history.val_step[#history.val_step + 1] = step
    history.val[#history.val + 1] = v
    rec.val_loss = v
    progress:finish()
    print(("step %5d  train %.4f  val %.4f  (%.1f steps/s)"):format(step, l, v, (step - first_step) / (tide.clock() - t0)))
  end
  log:write(rec)
  progress:update(step, {loss = l})
  if step % ckpt_every == 0 or step == cfg.steps then
    tide.train.save_checkpoint(ckpt_path, {model = model, optimizer = opt, scheduler = sched, step = step, extra = {history = history}})
  end
end
progress:finish()
log:close()

local final_val = history.val[#history.val]
local rate = (step - first_step) / math.max(tide.clock() - t0, 1e-9)
print(("\nfinal validation loss %.4f nats/byte against the unigram baseline %.4f (%.0f%% of it); %.2f steps/s, %.0f tokens/s")
  :format(final_val, baseline, 100 * final_val / baseline, rate, rate * cfg.batch * cfg.block))

-- plot: train loss (smoothed over 20 steps), validation loss, the unigram baseline
local smooth = {}
for k = 1, #history.train do
  local s, n = 0, 0
  for j = math.max(1, k - 19), k do s = s + history.train[j]; n = n + 1 end
  smooth[k] = s / n
end
local base_x = {history.step[1], history.step[#history.step]}
tide.plot.line{
  title = "byte-level GPT on the Python docs", xlabel = "step", ylabel = "loss (nats/byte)",
  series = {
    {name = "train (20-step mean)", x = history.step, y = smooth},
    {name = "validation", x = history.val_step, y = history.val},
    {name = "unigram baseline", x = base_x, y = {baseline, baseline}},
  },
}:save(out .. "/loss.svg")

-- samples from the trained model
local prompts = {"def ", "The ", "import "}
local samples = {}
for k, p in ipairs(prompts) do
  local ids = model:generate(tok:encode(p):view(1, -1), {max_new = quick and 60 or 200, temperature = 0.8, top_k = 40,
                                                        generator = tide.Generator(k)})
  samples[k] = tok:decode(ids[1])
  print(("\n--- sample %d (prompt %q) ---\n%s"):format(k, p, samples[k]))
end
local f = assert(io.open(out .. "/samples.txt", "w"))
f:write(table.concat(samples, "\n\n---\n\n"), "\n")
f:close()
print(("\nwrote %s/metrics.jsonl, %s/loss.svg, %s/samples.txt, %s"):format(out, out, out, ckpt_path))
