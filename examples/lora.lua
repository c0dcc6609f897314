-- examples/lora.lua: LoRA fine-tuning of a small byte-level GPT. The GPT is pretrained on the
-- shipped corpus (the Python docs) without its C-API part, or loaded from the checkpoint an
-- earlier run wrote; then low-rank adapters on every Linear of the blocks are trained on the
-- C-API documents only, with the base weights frozen.
--
--   tide examples/lora.lua --quick       under a minute (what the tests run)
--   tide examples/lora.lua               full mode: a few minutes on 2 cores
--   options: --out DIR (default runs/lora), --fresh (pretrain even when the checkpoint exists),
--            --rank N (default 8, 4 in --quick), --seed N
--
-- Reports the trainable-parameter fraction, the C-API validation loss before and after (and
-- the general validation loss, to see how far the adapter moves the model elsewhere), and
-- the merge / unmerge round trip: merged logits against adapter logits, and the base weights
-- after unmerge against the pretrained ones. Writes pretrained.safetensors (the checkpoint),
-- metrics.jsonl, loss.svg and lora_adapter.safetensors (the adapter weights alone).
--
-- What the full run printed (2026-11-27, 2 shared cores, 8.9 min; details in docs/lora.md):
--   LoRA rank 8 on 16 Linears: 65536 trainable of 889600 parameters (7.37%)
--   validation loss (nats/byte)          pretrained     + LoRA
--   c-api/ held out (fine-tune subset)       1.4581     1.2283
--   general validation split                 1.4314     1.5333
--   base weights max change 0; merge: max logit difference 2.29e-05;
--   unmerge: max |W - W_pretrained| = 0 (merge keeps its rounding residual; 1.49e-08 before)

local o = tide.util.args(arg, {{"--quick"}, {"--out DIR", "string", "runs/lora"}, {"--fresh"}, {"--rank N", "int"},
                               {"--seed N", "int", 7}})
local quick, out, fresh, rank, seed = o.quick, o.out, o.fresh, o.rank, o.seed

local cfg = quick and {dim = 64, layers = 2, heads = 4, block = 64, batch = 16, pre_steps = 200, ft_steps = 120, lr = 3e-3, ft_lr = 3e-3, eval_batches = 8}
                   or {dim = 128, layers = 4, heads = 4, block = 128, batch = 16, pre_steps = 1000, ft_steps = 400, lr = 2e-3, ft_lr = 2e-3, eval_batches = 16}
rank = rank or (quick and 4 or 8)
local ckpt = out .. (quick and "/pretrained_quick.safetensors" or "/pretrained.safetensors")

-- data: the train split without c-api/ for pretraining and the val split without c-api/ for
-- general quality; all c-api documents for fine-tuning, the last 10% of their bytes held out
local tok = tide.data.ByteTokenizer()
local general, capi = {}, {}
for _, d in ipairs(tide.data.corpus("pydoc", {split = "train", documents = true})) do
  if not d.name:match("^c%-api/") then general[#general + 1] = d.text end
end
for _, d in ipairs(tide.data.corpus("pydoc", {split = "all", documents = true})) do
  if d.name:match("^c%-api/") then capi[#capi + 1] = d.text end
end
local gval = {}
for _, d in ipairs(tide.data.corpus("pydoc", {split = "val", documents = true})) do
  if not d.name:match("^c%-api/") then gval[#gval + 1] = d.text end
end
local general_val = tok:encode(table.concat(gval))
local pre_ids = tok:encode(table.concat(general))
local capi_text = table.concat(capi)
local cut = math.floor(#capi_text * 0.9)
local ft_ids, ft_val = tok:encode(capi_text:sub(1, cut)), tok:encode(capi_text:sub(cut + 1))
print(("pretraining corpus %d bytes (without c-api/), fine-tuning subset c-api/: %d train / %d held-out bytes"):format(
  pre_ids:numel(), ft_ids:numel(), ft_val:numel()))

tide.manual_seed(seed)
local model = tide.models.GPT{vocab = tok.vocab_size, dim = cfg.dim, layers = cfg.layers, heads = cfg.heads, max_len = cfg.block}

local function evaluate(ids)
  return tide.train.evaluate_lm(model, ids, {batches = cfg.eval_batches, batch = cfg.batch, block = cfg.block})
end

local log = tide.train.Logger(out .. "/metrics.jsonl")
local hist = {pre_step = {}, pre = {}, ft_step = {}, ft = {}}

local function train_loop(params, steps, lr, ids, label, record)
  local opt = tide.optim.AdamW(params, {lr = lr, betas = {0.9, 0.95}, weight_decay = 0})
  local sched = tide.optim.cosine_with_warmup(opt, {warmup_steps = math.max(1, steps // 20), total_steps = steps, min_lr = lr / 10})
  local progress = tide.train.Progress{total = steps, label = label}
  local t0 = tide.clock()
  for step = 1, steps do
    local x, y = tide.data.random_windows(ids, {batch = cfg.batch, block = cfg.block})
    local loss = model:loss(x, y)
    opt:zero_grad()
    loss:backward()
    tide.optim.clip_grad_norm_(params, 1.0)
    opt:step()
    sched:step()
    local l = loss:item()
    record(step, l)
    log:write{phase = label, step = step, train_loss = l}
    progress:update(step, {loss = l})
  end
  progress:finish()
  return tide.clock() - t0
end

-- 1. pretrain (or load)
local f = io.open(ckpt, "rb")
if f and not fresh then
  f:close()
  tide.train.load_checkpoint(ckpt, {model = model})
  print("loaded the pretrained model from " .. ckpt)
else
  if f then f:close() end
  local secs = train_loop(model:parameters(), cfg.pre_steps, cfg.lr, pre_ids, "pretrain", function(s, l)
    hist.pre_step[#hist.pre_step + 1] = s; hist.pre[#hist.pre + 1] = l
  end)
  tide.train.save_checkpoint(ckpt, {model = model, step = cfg.pre_steps})
  print(("pretrained %d steps in %.1f s; checkpoint %s (rerun to load it, --fresh to pretrain again)"):format(cfg.pre_steps, secs, ckpt))
end
local base_capi, base_general = evaluate(ft_val), evaluate(general_val)
local pretrained = {}
for name, p in model:named_parameters() do pretrained[name] = p:clone() end

-- 2. LoRA on every Linear of the blocks (attention qkv / wo and the MLP), the rest frozen
local total_before = model:num_parameters()
local wrapped = tide.nn.LoRA.apply(model, {pattern = "^blocks%.", rank = rank, alpha = 2 * rank})
local params = tide.nn.lora_parameters(model)
local trainable = model:num_parameters({trainable_only = true})
print(("LoRA rank %d on %d Linears (%s, ...): %d trainable of %d parameters (%.2f%%; the base has %d)"):format(
  rank, #wrapped, wrapped[1], trainable, model:num_parameters(), 100 * trainable / model:num_parameters(), total_before))
local secs = train_loop(params, cfg.ft_steps, cfg.ft_lr, ft_ids, "lora", function(s, l)
  hist.ft_step[#hist.ft_step + 1] = s; hist.ft[#hist.ft + 1] = l
end)
local ft_capi, ft_general = evaluate(ft_val), evaluate(general_val)

-- 3. the base did not move; merge / unmerge round trip
local moved = 0
for name, p in model:named_parameters() do
  local key = name:gsub("%.base%.", ".")
  if pretrained[key] then moved = math.max(moved, (p - pretrained[key]):abs():amax():item()) end
end
local x = tide.data.random_windows(ft_val, {batch = 4, block = cfg.block, generator = tide.Generator(5)})
model:eval()
local adapted = tide.no_grad(function() return model(x) end)
tide.nn.LoRA.merge_all(model)
local merged = tide.no_grad(function() return model(x) end)
local merged_diff = (merged - adapted):abs():amax():item()
tide.nn.LoRA.unmerge_all(model)
local back = 0
for name, p in model:named_parameters() do
  local key = name:gsub("%.base%.", ".")
  if pretrained[key] and not name:find("lora_") then back = math.max(back, (p - pretrained[key]):abs():amax():item()) end
end
local unmerged_diff = (tide.no_grad(function() return model(x) end) - adapted):abs():amax():item()
model:train()

-- the adapter alone: {name = tensor} of the lora_ entries
local adapter = {}
for name, p in model:named_parameters() do if name:find("lora_") then adapter[name] = p:detach() end end
tide.io.save(out .. "/lora_adapter.safetensors", adapter)

log:write{phase = "summary", rank = rank, trainable = trainable, total = model:num_parameters(),
          capi_val_before = base_capi, capi_val_after = ft_capi, general_val_before = base_general, general_val_after = ft_general,
          base_max_change = moved, merge_max_logit_diff = merged_diff, unmerge_weight_max_diff = back, unmerge_max_logit_diff = unmerged_diff}
log:close()

print(("\n%-34s %10s %10s"):format("validation loss (nats/byte)", "pretrained", "+ LoRA"))
print(("%-34s %10.4f %10.4f"):format("c-api/ held out (fine-tune subset)", base_capi, ft_capi))
print(("%-34s %10.4f %10.4f"):format("general validation split", base_general, ft_general))
print(("\ntrainable parameters: %d of %d (%.2f%%), %d LoRA steps in %.1f s"):format(trainable, model:num_parameters(),
  100 * trainable / model:num_parameters(), cfg.ft_steps, secs))
print(("base weights after fine-tuning: max change %.3g (frozen)"):format(moved))
print(("merge: max |logits(merged) - logits(adapter)| = %.3g"):format(merged_diff))
print(("unmerge: max |W - W_pretrained| = %.3g, max logit difference %.3g"):format(back, unmerged_diff))
assert(moved == 0, "the frozen base moved")

local series = {{name = "LoRA fine-tune (c-api/)", x = hist.ft_step, y = hist.ft}}
if #hist.pre > 0 then
  local xs = {}
  for k = 1, #hist.pre_step do xs[k] = hist.pre_step[k] - #hist.pre_step end
  table.insert(series, 1, {name = "pretraining (general)", x = xs, y = hist.pre})
end
series[#series + 1] = {name = "c-api held out, before", x = {hist.ft_step[1], hist.ft_step[#hist.ft_step]}, y = {base_capi, base_capi}}
series[#series + 1] = {name = "c-api held out, after", x = {hist.ft_step[1], hist.ft_step[#hist.ft_step]}, y = {ft_capi, ft_capi}}
tide.plot.line{title = "LoRA fine-tuning of a byte-level GPT", xlabel = "step (fine-tuning from 0)", ylabel = "loss (nats/byte)",
               series = series}:save(out .. "/loss.svg")
print(("\nwrote %s/metrics.jsonl, loss.svg, lora_adapter.safetensors, %s"):format(out, ckpt))
