-- tide.models.GPT: training falls, caches equal full passes, resume is bit for bit, errors.
local S = require "support"

local function make(seed)
  tide.manual_seed(seed)
  local m = tide.models.GPT{vocab = 64, dim = 32, layers = 2, heads = 4, kv_heads = 2, max_len = 16}
  local opt = tide.optim.AdamW(m:param_groups(0.1), {lr = 1e-2})
  local sched = tide.optim.cosine_with_warmup(opt, {warmup_steps = 3, total_steps = 12, min_lr = 1e-3})
  return m, opt, sched
end

local data = tide.arange(1, 65):repeat_interleave(3):remainder(64) + 1   -- a learnable pattern
local function step(m, opt, sched)
  local x, y = tide.data.random_windows(data, {batch = 4, block = 16})
  local loss = m:loss(x, y)
  opt:zero_grad()
  loss:backward()
  tide.optim.clip_grad_norm_(m:parameters(), 1.0)
  opt:step()
  sched:step()
  return loss:item()
end

-- the uninterrupted run
local m, opt, sched = make(7)
local losses = {}
for k = 1, 12 do losses[k] = step(m, opt, sched) end
assert(losses[12] < losses[1], "training lowers the loss")

-- the interrupted run: 6 steps, checkpoint, fresh objects (other init), load, 6 more
local path = os.tmpname() .. ".safetensors"
local m2, opt2, sched2 = make(7)
for k = 1, 6 do assert(step(m2, opt2, sched2) == losses[k]) end
tide.train.save_checkpoint(path, {model = m2, optimizer = opt2, scheduler = sched2, step = 6})
tide.manual_seed(12345)                       -- disturb the RNG: the checkpoint restores it
local m3, opt3, sched3 = make(99)
local at = tide.train.load_checkpoint(path, {model = m3, optimizer = opt3, scheduler = sched3})
assert(at == 6)
for k = 7, 12 do
  local l = step(m3, opt3, sched3)
  assert(l == losses[k], ("resumed loss at step %d: %.17g vs %.17g"):format(k, l, losses[k]))
end
os.remove(path)

-- incremental decoding with the KV cache equals the full forward (GQA heads, RoPE offsets)
m:eval()
local x = tide.data.random_windows(data, {batch = 2, block = 12})
local full = m(x)
local cache = m:new_cache()
local parts = {m:forward(x:narrow(2, 1, 5), cache)}
for t = 6, 12 do parts[#parts + 1] = m:forward(x:narrow(2, t, 1), cache) end
S.close(tide.cat(parts, 2), full, 1e-4)
-- greedy generation with the cache equals argmax of full passes
local out = m:generate(x:narrow(2, 1, 4), {max_new = 5, temperature = 0})
local seq = x:narrow(2, 1, 4)
for _ = 1, 5 do
  local logits = m(seq)
  local _, nxt = logits:select(2, seq:size(2)):max(2, {keepdim = true})
  seq = tide.cat({seq, nxt}, 2)
end
assert((out - seq):abs():max():item() == 0, "cached greedy decoding equals recomputation")
-- sampling options change the outcome and stay in range
local s1 = m:generate(x:narrow(2, 1, 2), {max_new = 8, temperature = 1.0, top_k = 5, top_p = 0.9, generator = tide.Generator(1)})
assert(s1:size(2) == 10 and s1:min():item() >= 1 and s1:max():item() <= 64)
assert(m:kv_cache_bytes_per_token() == 2 * 2 * (2 * 8 * 4), "2 layers x K and V x kv_heads x head_dim x 4 bytes")

-- weight decay only on matrices
local groups = m:param_groups(0.1)
for _, p in ipairs(groups[1].params) do assert(p:dim() >= 2) end
for _, p in ipairs(groups[2].params) do assert(p:dim() == 1) end
assert(groups[2].weight_decay == 0)

-- errors
S.checkerror("GPT: expected i64 token ids of shape (B, T)", function() return m(tide.zeros(2, 3)) end)
S.checkerror("GPT: pos must be 'rope' or 'learned'", tide.models.GPT, {pos = "alibi"})
S.checkerror("heads 4 is not a multiple of kv_heads 3", tide.models.GPT, {dim = 32, heads = 4, kv_heads = 3})
