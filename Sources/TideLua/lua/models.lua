-- models.lua: tide.models, ready-made networks built from tide.nn.
--
--   local gpt = tide.models.GPT{vocab = 256, dim = 128, layers = 4, heads = 4, max_len = 256}
--   local logits = gpt(idx)                          -- idx: i64 (B, T) token ids (1-based)
--   local loss = gpt:loss(idx, targets)              -- cross-entropy over all positions
--   local out = gpt:generate(prompt, {max_new = 100, temperature = 0.8, top_k = 40, top_p = 0.95})
--
-- GPT: a decoder-only transformer. Pre-norm blocks (x + attn(norm(x)), x + mlp(norm(x))), RoPE
-- (or learned positions), causal fused attention with an incremental KV cache for generation,
-- a GELU MLP, optionally tied input/output embeddings. Weight decay goes only to matrices
-- (gpt:param_groups(wd)).
local tide = ...
local nn, F = tide.nn, tide.F
tide.models = tide.models or {}

local function check_cfg(cfg, name, default, kind)
  local v = cfg[name]
  if v == nil then return default end
  if kind and type(v) ~= kind then
    error(("GPT: option '%s' must be a %s, got %s"):format(name, kind, type(v)), 3)
  end
  return v
end

---------------------------------------------------------------------------------------------
local MLP = nn.Module:extend("MLP")

function MLP:__init(dim, hidden, bias, act)
  nn.Module.__init(self)
  self.fc1 = nn.Linear(dim, hidden, {bias = bias})
  self.fc2 = nn.Linear(hidden, dim, {bias = bias})
  self.act = act or "gelu"
end

function MLP:forward(x)
  local h = self.fc1(x)
  if self.act == "gelu" then h = h:gelu() elseif self.act == "gelu_tanh" then h = h:gelu({approximate = "tanh"})
  elseif self.act == "relu" then h = h:relu() elseif self.act == "silu" then h = h:silu()
  else error("MLP: unknown activation '" .. tostring(self.act) .. "'") end
  return self.fc2(h)
end

function MLP:extra_repr() return "act=" .. self.act end

---------------------------------------------------------------------------------------------
local Block = nn.Module:extend("Block")

-- cfg.layer is this block's 0-based index; its letter in cfg.layout picks the attention:
-- "S" the configured softmax kind (cfg.attention.kind), "L" lightning (MiniMax-01's hybrid)
function Block:__init(cfg)
  nn.Module.__init(self)
  local Norm = cfg.norm == "rmsnorm" and nn.RMSNorm or nn.LayerNorm
  self.ln1 = Norm(cfg.dim)
  local a = {}
  for k, v in pairs(cfg.attention) do a[k] = v end
  local letter = cfg.layout:sub(cfg.layer % #cfg.layout + 1, cfg.layer % #cfg.layout + 1)
  if letter == "L" then
    a = {kind = "lightning", block = cfg.attention.block, zero_init_output = cfg.attention.zero_init_output}
    a.layer, a.layers = cfg.layer, cfg.layers
  end
  if a.head_dim == nil then a.head_dim = cfg.head_dim end   -- GPT{head_dim = ...}: every layer's head dim
  a.dim, a.heads = cfg.dim, cfg.heads
  if a.kind ~= "lightning" and a.kind ~= "mla" and a.rope == nil then
    a.rope = cfg.pos == "rope" and {base = cfg.rope_base, rotary_dim = cfg.rotary_dim} or false
  end
  self.attn = nn.Attention(a)
  self.ln2 = Norm(cfg.dim)
  local moe = cfg.moe
  if moe and (cfg.layer + 1) % (moe.every or 1) == 0 then
    if not nn.MoE then error("GPT: moe = {...} needs tide.nn.MoE", 3) end
    local m = {}
    for k, v in pairs(moe) do if k ~= "every" then m[k] = v end end
    m.dim = cfg.dim
    m.hidden = m.hidden or cfg.mlp_ratio * cfg.dim
    self.mlp = nn.MoE(m)
  else
    self.mlp = MLP(cfg.dim, cfg.mlp_ratio * cfg.dim, cfg.bias, cfg.activation)
  end
  self.p = cfg.dropout
  -- DeepNorm (A5): x <- alpha u + F(u) with u = Norm(x) at each sublayer, alpha = (2N)^(1/4)
  self.alpha = cfg.deepnorm and (2 * cfg.layers) ^ 0.25 or nil
end

function Block:forward(x, cache)
  local function drop(t) return self.p > 0 and F.dropout(t, {p = self.p, training = self.training}) or t end
  if self.alpha then
    local u = self.ln1(x)
    x = u * self.alpha + drop(self.attn(u, cache))
    u = self.ln2(x)
    return u * self.alpha + drop(self.mlp(u))
  end
  x = x + drop(self.attn(self.ln1(x), cache))
  return x + drop(self.mlp(self.ln2(x)))
end

---------------------------------------------------------------------------------------------
local GPT = nn.Module:extend("GPT")

function GPT:__init(cfg)
  nn.Module.__init(self)
  if type(cfg) ~= "table" then error("GPT: expected a config table, got " .. type(cfg), 2) end
  local c = {
    vocab = check_cfg(cfg, "vocab", 256, "number"),
    dim = check_cfg(cfg, "dim", 128, "number"),
    layers = check_cfg(cfg, "layers", 4, "number"),
    heads = check_cfg(cfg, "heads", 4, "number"),
    kv_heads = check_cfg(cfg, "kv_heads", nil, "number"),
    head_dim = check_cfg(cfg, "head_dim", nil, "number"),
    max_len = check_cfg(cfg, "max_len", 256, "number"),
    mlp_ratio = check_cfg(cfg, "mlp_ratio", 4, "number"),
    pos = check_cfg(cfg, "pos", "rope", "string"),
    rope_base = check_cfg(cfg, "rope_base", 10000, "number"),
    rotary_dim = check_cfg(cfg, "rotary_dim", nil, "number"),
    tied = check_cfg(cfg, "tied", true, "boolean"),
    bias = check_cfg(cfg, "bias", true, "boolean"),
    dropout = check_cfg(cfg, "dropout", 0, "number"),
    norm = check_cfg(cfg, "norm", "layernorm", "string"),
    activation = check_cfg(cfg, "activation", "gelu", "string"),
    attention = check_cfg(cfg, "attention", {kind = "mha"}, "table"),
    layout = check_cfg(cfg, "layout", "S", "string"),
    deepnorm = check_cfg(cfg, "deepnorm", false, "boolean"),
    moe = check_cfg(cfg, "moe", nil, "table"),
  }
  if cfg.kv_heads and c.attention.kind == "mha" and not cfg.attention then c.attention = {kind = "gqa", kv_heads = cfg.kv_heads} end
  if not c.layout:match("^[LS]+$") then error("GPT: layout must be a string of L (lightning) and S (softmax) letters, got '" .. c.layout .. "'", 2) end
  if c.pos ~= "rope" and c.pos ~= "learned" then error("GPT: pos must be 'rope' or 'learned', got '" .. c.pos .. "'", 2) end
  self.cfg = c
  self.tok = nn.Embedding(c.vocab, c.dim)
  if c.pos == "learned" then self.pos = nn.Embedding(c.max_len, c.dim) end
  local blocks = {}
  for i = 1, c.layers do
    local bc = setmetatable({layer = i - 1}, {__index = c})
    blocks[i] = Block(bc)
  end
  self.blocks = nn.ModuleList(blocks)
  self.ln_f = c.norm == "rmsnorm" and nn.RMSNorm(c.dim) or nn.LayerNorm(c.dim)
  if not c.tied then self.head = nn.Linear(c.dim, c.vocab, {bias = false}) end
  self:reset_parameters(cfg.generator)
end

-- GPT-2's initialisation: N(0, 0.02) for matrices and embeddings, residual projections scaled
-- by 1/sqrt(2 * layers), zero biases, unit norms.
function GPT:reset_parameters(generator)
  local std = 0.02
  tide.no_grad(function()
    for _, np in ipairs(self:named_parameters()) do
      local name, p = np[1], np[2]
      if p:dim() >= 2 then
        local s = std
        if name:match("wo%.weight$") or name:match("fc2%.weight$") then s = std / math.sqrt(2 * self.cfg.layers) end
        if self.cfg.deepnorm and (name:match("wo%.weight$") or name:match("fc[12]%.weight$") or name:match("w13$") or name:match("w2$")) then
          -- DeepNorm's beta = (8N)^(-1/4) init gain on FFN and output projections (A5; the
          -- paper does not say which matrices, this follows the DeepNorm recipe)
          s = std * (8 * self.cfg.layers) ^ -0.25
        end
        nn.init.normal_(p, {mean = 0, std = s, generator = generator})
      elseif name:match("ln") or name:match("norm%.weight$") then
        -- also the RMSNorms inside attention layers (lightning's output norm, MLA's q_norm and
        -- kv_norm): a zero weight there zeroes the layer and every gradient behind the norm
        if name:match("weight$") then p:fill_(1) else p:fill_(0) end
      else
        p:fill_(0)
      end
    end
    -- attention = {zero_init_output = true} (T6): the output projections start at zero, which
    -- the GPT-2 init above would otherwise overwrite
    for _, blk in ipairs(self.blocks) do
      if blk.attn.zero_init_output then blk.attn.wo.weight:zero_() end
    end
  end)
end

-- idx: i64 (B, T) of token ids in 1..vocab -> logits (B, T, vocab). caches: one table per
-- layer (see GPT:new_cache) to decode incrementally.
function GPT:forward(idx, caches)
  if not tide.is_tensor(idx) or idx:dtype() ~= "i64" or idx:dim() ~= 2 then
    error("GPT: expected i64 token ids of shape (B, T), got " ..
          (tide.is_tensor(idx) and (idx:dtype() .. " " .. table.concat(idx:shape(), "x")) or type(idx)), 2)
  end
  local T = idx:size(2)
  local start = caches and caches.len or 0
  if self.cfg.pos == "learned" and start + T > self.cfg.max_len then
    error(("GPT: sequence of %d positions exceeds max_len %d (learned positions)"):format(start + T, self.cfg.max_len), 2)
  end
  local x = self.tok(idx)
  if self.pos then
    x = x + self.pos.weight:narrow(1, start + 1, T)
  end
  for i, blk in ipairs(self.blocks) do
    x = blk(x, caches and caches[i])
  end
  if caches then caches.len = start + T end
  x = self.ln_f(x)
  if self.head then return self.head(x) end
  return F.linear(x, self.tok.weight)
end

-- the mean next-token cross-entropy of targets (B, T) under the model
function GPT:loss(idx, targets)
  local logits = self:forward(idx)
  local V = logits:size(3)
  return F.cross_entropy(logits:view(-1, V), targets:reshape(-1))
end

function GPT:new_cache()
  local c = {len = 0}
  for i, blk in ipairs(self.blocks) do c[i] = blk.attn:new_cache() end
  return c
end

function GPT:kv_cache_bytes_per_token(dtype_bytes)
  local n = 0
  for _, blk in ipairs(self.blocks) do n = n + blk.attn:kv_cache_bytes_per_token(dtype_bytes) end
  return n
end

-- the sum of the MoE layers' auxiliary losses of the last forward (0 without MoE)
function GPT:aux_loss()
  local total
  for _, blk in ipairs(self.blocks) do
    local a = blk.mlp.aux_loss
    if tide.is_tensor(a) then total = total and total + a or a end
  end
  return total or 0
end

-- {decay group: matrices, no-decay group: biases, norms, embeddings? no: embeddings are
-- matrices and decay like the rest, as in nanoGPT}
function GPT:param_groups(weight_decay)
  local decay, other = {}, {}
  for _, p in ipairs(self:parameters()) do
    if p:dim() >= 2 then decay[#decay + 1] = p else other[#other + 1] = p end
  end
  return {{params = decay, weight_decay = weight_decay}, {params = other, weight_decay = 0}}
end

-- one sampled token id per row from logits (B, V)
local function sample(logits, opts, gen)
  local temperature = opts.temperature or 1
  if temperature <= 0 then
    local _, i = logits:max(2, {keepdim = true})
    return i
  end
  local l = logits / temperature
  local V = l:size(2)
  if opts.top_k and opts.top_k < V then
    local vals = l:topk(opts.top_k, 2)
    local kth = vals:narrow(2, opts.top_k, 1)
    l = l:masked_fill(l:lt(kth), -math.huge)
  end
  local probs = l:softmax(2)
  if opts.top_p and opts.top_p < 1 then
    -- keep the smallest set of most likely tokens whose mass reaches top_p
    local sp, si = probs:sort(2, {descending = true})
    local before = sp:cumsum(2) - sp            -- mass strictly above each token
    local drop = before:ge(opts.top_p)
    local dropped = tide.zeros(probs:shape(), {dtype = "bool"}):scatter(2, si, drop)
    probs = probs:masked_fill(dropped, 0)
  end
  return probs:multinomial(1, {generator = gen})
end

-- prompt: i64 (B, T0) or a table of ids -> i64 (B, T0 + max_new). Uses the KV caches: the
-- prompt is run once, then one token per step.
function GPT:generate(prompt, opts)
  opts = opts or {}
  if type(prompt) == "table" then prompt = tide.tensor({prompt}) end
  local max_new = opts.max_new or 64
  local was_training = self.training
  self:eval()
  local out = tide.no_grad(function()
    local caches = self:new_cache()
    local logits = self:forward(prompt, caches)
    local seq = {prompt}
    for _ = 1, max_new do
      if self.cfg.pos == "learned" and caches.len >= self.cfg.max_len then break end
      local nxt = sample(logits:select(2, logits:size(2)), opts, opts.generator)
      seq[#seq + 1] = nxt
      logits = self:forward(nxt, caches)
    end
    return tide.cat(seq, 2)
  end)
  self:train(was_training)
  return out
end

function GPT:extra_repr()
  local c = self.cfg
  return ("vocab=%d, dim=%d, layers=%d, heads=%d, attention=%s, layout=%s, pos=%s, tied=%s%s"):format(c.vocab, c.dim, c.layers, c.heads,
    c.attention.kind or "mha", c.layout, c.pos, tostring(c.tied), c.deepnorm and ", deepnorm" or "")
end

tide.models.GPT = GPT
tide.doc(GPT, "tide.models.GPT{vocab = 256, dim = 128, layers = 4, heads = 4, attention = {kind = 'mha'|'mqa'|'gqa'|'mla'|'tpa', ...}, layout = 'S' (e.g. 'LLLLLLLS': L lightning, S softmax, repeated over depth), deepnorm = false, moe = {experts, top_k, every, ...}, kv_heads, head_dim = dim/heads (every layer), max_len = 256, mlp_ratio = 4, pos = 'rope'|'learned', rope_base = 10000, rotary_dim, tied = true, bias = true, dropout = 0, norm = 'layernorm'|'rmsnorm', activation = 'gelu'} -> a decoder-only transformer. gpt(idx) -> logits; gpt:loss(idx, targets); gpt:generate(prompt, {max_new, temperature, top_k, top_p, generator}); gpt:param_groups(wd).")

-- Which attention each layer gets: the layout letters repeated over the depth (0-based
-- layer l uses letter l % #layout + 1): "S" softmax, "L" lightning.
function tide.models.layer_types(layout, layers)
  if type(layout) ~= "string" or not layout:match("^[LS]+$") then error("layer_types: layout must be a string of L and S, got " .. tostring(layout), 2) end
  local out = {}
  for l = 0, layers - 1 do
    local c = layout:sub(l % #layout + 1, l % #layout + 1)
    out[l + 1] = c == "S" and "softmax" or "lightning"
  end
  return out
end

-- DeepNorm's constants for N layers (A5): alpha = (2N)^(1/4) scales the residual, beta =
-- (8N)^(-1/4) is the init gain.
function tide.models.deepnorm_constants(N)
  return (2 * N) ^ 0.25, (8 * N) ^ -0.25
end

-- The parameter count of a GPT config without building it (weights, biases and norms), from
-- the same per-module formulas the modules are built from; checked against num_parameters()
-- on small configs in the tests, and usable at sizes that do not fit in memory.
-- attention weights, biases and norms of one layer built from the options a (as Block passes them)
local function attention_parameters(a, Dm, h)
  local dh = a.head_dim or Dm // h
  local bias = a.bias == true
  local kind = a.kind or "mha"
  if kind == "lightning" then
    return 5 * Dm * h * dh + h * dh                    -- qkv (3), gate, out; the norm over h*dh
  end
  local out = h * dh * Dm + (bias and Dm or 0)         -- wo
  if kind == "mla" then
    local dc, dq = a.kv_lora_rank or 4 * dh, a.q_lora_rank or 8 * dh
    local dr = a.rope_head_dim or math.max(2, dh // 2)
    return out + Dm * dq + dq + dq * h * (dh + dr) + Dm * (dc + dr) + dc + dc * h * 2 * dh
  elseif kind == "tpa" then
    local r = (a.q_rank or 6) + (a.k_rank or 2) + (a.v_rank or 2)
    return out + Dm * r * (h + dh)
  end
  local g = kind == "mqa" and 1 or (kind == "gqa" and a.kv_heads or h)
  return out + Dm * (h + 2 * g) * dh + (bias and (h + 2 * g) * dh or 0)
end

function tide.models.count_parameters(cfg)
  if type(cfg) ~= "table" then error("count_parameters: expected a GPT config table, got " .. type(cfg), 2) end
  -- GPT's defaults
  local Dm, L, h, V = cfg.dim or 128, cfg.layers or 4, cfg.heads or 4, cfg.vocab or 256
  local att = cfg.attention
  if att == nil then att = cfg.kv_heads and {kind = "gqa", kv_heads = cfg.kv_heads} or {kind = "mha"} end
  local norm = cfg.norm == "rmsnorm" and 1 or 2      -- per norm: weight (and bias for LayerNorm)
  local bias = cfg.bias ~= false
  local layout = cfg.layout or "S"
  local total = V * Dm + (cfg.tied == false and V * Dm or 0) + norm * Dm
  if cfg.pos == "learned" then total = total + (cfg.max_len or 256) * Dm end
  for l = 0, L - 1 do
    local letter = layout:sub(l % #layout + 1, l % #layout + 1)
    if letter == "L" then
      total = total + attention_parameters({kind = "lightning", head_dim = cfg.head_dim}, Dm, h)
    else
      local a = {}
      for k, v in pairs(att) do a[k] = v end
      if a.head_dim == nil then a.head_dim = cfg.head_dim end
      total = total + attention_parameters(a, Dm, h)
    end
    total = total + 2 * norm * Dm
    local moe = cfg.moe
    if moe and (l + 1) % (moe.every or 1) == 0 then
      local E, Fh = moe.experts, moe.hidden or (cfg.mlp_ratio or 4) * Dm
      total = total + E * 3 * Dm * Fh + Dm * E          -- experts (W1, W3, W2) and the router
      local shared = moe.shared_experts or 0
      if shared > 0 then total = total + shared * 3 * Dm * (moe.shared_hidden or Fh) end
    else
      local Fh = (cfg.mlp_ratio or 4) * Dm
      total = total + 2 * Dm * Fh + (bias and (Fh + Dm) or 0)
    end
  end
  return total
end
tide.doc(tide.models.count_parameters, "tide.models.count_parameters(cfg) -> the parameter count of a GPT config (every attention kind, lightning layers, dense or MoE MLPs, learned positions; GPT's defaults for missing options) without building it.")
