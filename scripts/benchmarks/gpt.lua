-- Tide side of the GPT training-step benchmark (scripts/benchmarks/gpt.py is PyTorch's):
-- vocab 256, 4 layers, dim 256, 4 heads, seq 256, batch 8, MLP 4x (GELU), pre-norm LayerNorm,
-- causal softmax attention, learned positions, tied embeddings, AdamW. Prints the median step
-- time and the peak resident memory.
local steps = tonumber(arg and arg[1]) or 12
tide.set_num_threads(2)
tide.manual_seed(0)
local V, L, D, H, T, B = 256, 4, 256, 4, 256, 8
local model = tide.models.GPT{vocab = V, dim = D, layers = L, heads = H, max_len = T, pos = "learned", tied = true}
local opt = tide.optim.AdamW(model:parameters(), {lr = 3e-4, weight_decay = 0.1})
local x = tide.randint(1, V + 1, {B, T})
local y = tide.randint(1, V + 1, {B, T})
local times = {}
for i = 1, steps do
  local t0 = tide.clock()
  local loss = model:loss(x, y)
  opt:zero_grad()
  loss:backward()
  opt:step()
  times[#times + 1] = tide.clock() - t0
end
local kept = {}
for i = 3, #times do kept[#kept + 1] = times[i] end
table.sort(kept)
print(string.format("gpt_train_step %.6g", kept[#kept // 2 + 1]))
local f = io.open("/proc/self/status")
local hwm = f and f:read("a"):match("VmHWM:%s*(%d+)") or "0"
if f then f:close() end
print(string.format("gpt_peak_rss_mb %.1f", tonumber(hwm) / 1024))
