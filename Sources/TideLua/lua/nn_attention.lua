-- nn_attention.lua: tide.nn.Attention, one module for the attention family, each kind with an
-- incremental-decoding cache and its KV-cache size (brief attention-moe.md, A2-A4 and B1-B6).
--
--   local attn = tide.nn.Attention{kind = "gqa", dim = 256, heads = 8, kv_heads = 2}
--   local y = attn(x)                               -- x: (B, T, dim) -> (B, T, dim), causal
--   local cache = attn:new_cache()
--   local y1 = attn(x:narrow(2, 1, 10), cache)      -- prefill
--   local y2 = attn(x:narrow(2, 11, 1), cache)      -- one decode step, equal to the full pass
--   attn:kv_cache_bytes_per_token()                 -- B4's elements per token x 4 bytes (f32)
--
-- kinds:
--   "mha", "mqa", "gqa" (kv_heads)  softmax attention, query head i uses KV head floor(i h_kv / h)
--   "mla"      DeepSeek-V2 latent attention with decoupled RoPE as T6 implements it (B6):
--              c_Q = RMSNorm(x W_DQ); q = c_Q W_UQ = [q_nope | rope(q_pe)];
--              [c_KV | k_pe] = x W_DKV; [k_nope | v] = RMSNorm(c_KV) W_UKV; k = [k_nope | rope(k_pe)]
--              (k_pe shared by the heads); the cache holds the normalized c_KV and the rotated k_pe
--   "tpa"      Tensor Product Attention (B1-B3): per token A_Q (h, R_q), B_Q (R_q, d_h), ... and
--              q = A_Q^T B_Q / R_q (K, V alike); RoPE rotates the rows of B_Q and B_K before the
--              product; the cache holds A_K, rotated B_K, A_V, B_V
--   "lightning" the MiniMax-01 block (A3): SiLU on q, k, v from one head-interleaved projection,
--              lightning attention with per-head, per-layer slopes (A3.1), one RMSNorm over all
--              heads, a sigmoid gate from the block input, output projection; the cache is the
--              (B, h, d, d) state, constant in the sequence length
--
-- RoPE: {base = 10000, rotary_dim = head dim} on softmax kinds (rotary_dim < head dim rotates
-- the first rotary_dim channels, "rotate half" pairing), or rope = false.
local tide = ...
local nn, F = tide.nn, tide.F
local Module = nn.Module
local Rope = {}
Rope.__index = Rope

---------------------------------------------------------------------------------------------
-- Rotary position embedding tables (cos/sin cached per dtype, positions 0-based)

function Rope.new(head_dim, opts)
  opts = opts or {}
  local rot = opts.rotary_dim or head_dim
  if math.type(rot) ~= "integer" or rot % 2 ~= 0 or rot < 2 or rot > head_dim then
    error(("Attention: rotary_dim must be an even integer in 2..%d (the rotated head dim), got %s"):format(head_dim, tostring(rot)), 4)
  end
  return setmetatable({head_dim = head_dim, rot = rot, base = opts.base or 10000, cache = {}}, Rope)
end

-- cos, sin: (T, rot/2) for positions start .. start + T - 1, angles computed in f64
function Rope:tables(start, T, dtype)
  local c = self.cache[dtype]
  local need = start + T
  if not c or c.len < need then
    local len = math.max(need, c and c.len * 2 or 256)
    local half = self.rot // 2
    local inv = (tide.arange(0, half, {dtype = "f64"}) * (-2 / self.rot * math.log(self.base))):exp()
    local ang = tide.arange(0, len, {dtype = "f64"}):unsqueeze(2) * inv:unsqueeze(1)
    c = {len = len, cos = ang:cos():to(dtype), sin = ang:sin():to(dtype)}
    self.cache[dtype] = c
  end
  return c.cos:narrow(1, start + 1, T), c.sin:narrow(1, start + 1, T)
end

-- x: (B, H, T, D) with positions start .. start + T - 1 along dim 3
function Rope:apply(x, start)
  local cos, sin = self:tables(start or 0, x:size(3), x:dtype())
  return F.rope(x, cos, sin)
end
nn.Rope = Rope

---------------------------------------------------------------------------------------------
-- MiniMax-01 slopes (A3.1): ALiBi-style base slopes, scaled by depth

local function base_slopes(h)
  local function pow2(n)
    local start = 2 ^ (-8 / n)
    local s = {}
    for i = 1, n do s[i] = start ^ i end
    return s
  end
  local c = 1
  while c * 2 <= h do c = c * 2 end
  if c == h then return pow2(h) end
  local s = pow2(c)
  local extra = pow2(2 * c)
  for i = 1, 2 * c, 2 do
    if #s >= h then break end
    s[#s + 1] = extra[i]
  end
  return s
end

function nn.lightning_slopes(h, opts)
  opts = opts or {}
  if math.type(h) ~= "integer" or h < 1 then error("lightning_slopes: heads must be a positive integer, got " .. tostring(h), 2) end
  local s = base_slopes(h)
  local layer, layers = opts.layer, opts.layers
  if layer ~= nil then
    if not layers or layers < 2 or layer < 0 or layer >= layers then
      error(("lightning_slopes: layer must be in 0..layers-1 with layers >= 2, got layer %s of %s"):format(tostring(layer), tostring(layers)), 2)
    end
    local f = 1 - layer / (layers - 1) + 1e-5
    for i = 1, #s do s[i] = s[i] * f end
  end
  return tide.tensor(s, "f64")
end
tide.doc(nn.lightning_slopes, "tide.nn.lightning_slopes(heads [, {layer, layers}]) -> f64 (heads): MiniMax-01's decay slopes (A3.1): 2^(-8i/h) for a power-of-two h (interleaved from 2h otherwise), times 1 - layer/(layers-1) + 1e-5 for 0-based layer of layers.")

---------------------------------------------------------------------------------------------

local Attention = Module:extend("Attention")
nn.Attention = Attention

local KINDS = {mha = true, mqa = true, gqa = true, mla = true, tpa = true, lightning = true}
local ALLOWED = {kind = true, dim = true, heads = true, kv_heads = true, head_dim = true, bias = true,
  rope = true, q_rank = true, k_rank = true, v_rank = true, kv_lora_rank = true, q_lora_rank = true,
  rope_head_dim = true, layer = true, layers = true, slopes = true, block = true, eps = true,
  zero_init_output = true, dtype = true}

local function int_opt(o, k, default, min)
  local v = o[k]
  if v == nil then v = default end
  if math.type(v) ~= "integer" or v < (min or 1) then
    error(("Attention: %s must be an integer >= %d, got %s"):format(k, min or 1, tostring(v)), 4)
  end
  return v
end

local function linear(i, o, bias) return nn.Linear(i, o, {bias = bias}) end

function Attention:__init(o)
  Module.__init(self)
  if type(o) ~= "table" then error("Attention: expected an options table {kind =, dim =, heads =, ...}, got " .. type(o), 2) end
  for k in pairs(o) do
    if not ALLOWED[k] then error("Attention: unknown option '" .. tostring(k) .. "'", 2) end
  end
  local kind = o.kind or "mha"
  if not KINDS[kind] then error("Attention: kind must be mha, mqa, gqa, mla, tpa or lightning, got '" .. tostring(kind) .. "'", 2) end
  self.kind = kind
  local dim = int_opt(o, "dim", nil)
  local h = int_opt(o, "heads", nil)
  self.dim, self.heads = dim, h
  local bias = o.bias == true
  if o.head_dim == nil and dim % h ~= 0 then
    error(("Attention: dim %d is not divisible by heads %d (or give head_dim)"):format(dim, h), 2)
  end
  local dh = int_opt(o, "head_dim", dim // h)
  self.head_dim = dh
  local rope_opts = o.rope == nil and {} or o.rope
  if kind == "mha" or kind == "mqa" or kind == "gqa" then
    local g = kind == "mha" and h or (kind == "mqa" and 1 or int_opt(o, "kv_heads", nil))
    if h % g ~= 0 then error(("Attention: heads %d is not a multiple of kv_heads %d"):format(h, g), 2) end
    self.kv_heads = g
    self.qkv = linear(dim, (h + 2 * g) * dh, bias)
    self.wo = linear(h * dh, dim, bias)
    if rope_opts then self.rope = Rope.new(dh, rope_opts) end
  elseif kind == "mla" then
    self.kv_lora_rank = int_opt(o, "kv_lora_rank", 4 * dh)
    self.q_lora_rank = int_opt(o, "q_lora_rank", 8 * dh)
    self.rope_head_dim = int_opt(o, "rope_head_dim", math.max(2, dh // 2))
    local dc, dq, dr = self.kv_lora_rank, self.q_lora_rank, self.rope_head_dim
    self.wdq = linear(dim, dq, false)
    self.q_norm = nn.RMSNorm(dq, {eps = 1e-6})
    self.wuq = linear(dq, h * (dh + dr), false)
    self.wdkv = linear(dim, dc + dr, false)
    self.kv_norm = nn.RMSNorm(dc, {eps = 1e-6})
    self.wukv = linear(dc, h * 2 * dh, false)
    self.wo = linear(h * dh, dim, bias)
    self.rope = Rope.new(dr, {base = type(rope_opts) == "table" and rope_opts.base or 10000})
  elseif kind == "tpa" then
    self.q_rank, self.k_rank, self.v_rank = int_opt(o, "q_rank", 6), int_opt(o, "k_rank", 2), int_opt(o, "v_rank", 2)
    local rq, rk, rv = self.q_rank, self.k_rank, self.v_rank
    self.wa_q, self.wa_k, self.wa_v = linear(dim, h * rq, false), linear(dim, h * rk, false), linear(dim, h * rv, false)
    self.wb_q, self.wb_k, self.wb_v = linear(dim, rq * dh, false), linear(dim, rk * dh, false), linear(dim, rv * dh, false)
    self.wo = linear(h * dh, dim, bias)
    if rope_opts then self.rope = Rope.new(dh, rope_opts) end
    -- T6 init (B1): Xavier-uniform of each factor weight viewed as (Dm, h, R) or (Dm, R, d_h)
    tide.no_grad(function()
      local function xavier3(lin, a, b)
        -- fan_in = a * b (receptive field b) and fan_out = dim * b for a 3-d (dim, a, b) view
        local bound = math.sqrt(6 / (b * (a + dim)))
        nn.init.uniform_(lin.weight, {a = -bound, b = bound})
      end
      xavier3(self.wa_q, h, rq); xavier3(self.wa_k, h, rk); xavier3(self.wa_v, h, rv)
      xavier3(self.wb_q, rq, dh); xavier3(self.wb_k, rk, dh); xavier3(self.wb_v, rv, dh)
    end)
  else -- lightning
    self.qkv = linear(dim, 3 * h * dh, false)      -- head-interleaved: [head][q | k | v][d]
    self.norm = nn.RMSNorm(h * dh, {eps = o.eps or 1e-6})
    self.wg = linear(dim, h * dh, false)
    self.wo = linear(h * dh, dim, false)
    self.block = int_opt(o, "block", 64)
    local slopes = o.slopes
    if slopes == nil then
      slopes = nn.lightning_slopes(h, o.layer ~= nil and {layer = o.layer, layers = o.layers} or nil)
    elseif not tide.is_tensor(slopes) then
      slopes = tide.tensor(slopes, "f64")
    end
    if slopes:numel() ~= h then error(("Attention: %d slopes for %d heads"):format(slopes:numel(), h), 2) end
    self:register_buffer("slopes", slopes:to("f64"), {persistent = false})
  end
  if o.zero_init_output then
    self.zero_init_output = true    -- GPT:reset_parameters keeps wo at zero for such layers
    tide.no_grad(function() self.wo.weight:zero_() end)
  end
end

function Attention:new_cache() return {len = 0} end

-- x: (B, T, C) -> (B, T, C); with a cache, T new positions after cache.len earlier ones
function Attention:forward(x, cache)
  if not tide.is_tensor(x) or x:dim() ~= 3 or x:size(3) ~= self.dim then
    error(("Attention: expected input (B, T, %d), got %s"):format(self.dim,
      tide.is_tensor(x) and table.concat(x:shape(), "x") or type(x)), 2)
  end
  local start = cache and cache.len or 0
  local kind = (self.kind == "mqa" or self.kind == "gqa") and "mha" or self.kind
  local y = self["_forward_" .. kind](self, x, cache, start)
  if cache then cache.len = start + x:size(2) end
  return y
end

-- append new (B, H, T, D) rows to cache[key] along dim 3. The rows live in a buffer with
-- spare capacity (cache.buffers[key]; it grows by a quarter, at least 256 rows, when full), so
-- a decoded token writes one row instead of copying the whole cache. cache[key] is the view of
-- the rows in use, so cache[key]:numel() counts the cache itself, not the slack.
local function append(cache, key, t)
  if not cache then return t end
  local old, T = cache[key], t:size(3)
  local bufs = cache.buffers or {}
  cache.buffers = bufs
  local buf = bufs[key]
  local len = old and old:size(3) or 0
  if not buf or len + T > buf:size(3) then
    local B, H, D = t:size(1), t:size(2), t:size(4)
    local grown = tide.empty({B, H, len + T + math.max(256, (len + T) // 4), D}, t:dtype())
    if old then grown:narrow(3, 1, len):copy_(old) end
    buf = grown
    bufs[key] = buf
  end
  buf:narrow(3, len + 1, T):copy_(t:detach())
  local all = buf:narrow(3, 1, len + T)
  cache[key] = all
  -- while autograd records, the result must lead back to t: the cached rows join it by cat
  if t.requires_grad and tide.is_grad_enabled() then return old and tide.cat({old, t}, 3) or t end
  return all
end

function Attention:_forward_mha(x, cache, start)
  local B, T = x:size(1), x:size(2)
  local h, g, dh = self.heads, self.kv_heads, self.head_dim
  local qkv = self.qkv(x)
  local q = qkv:narrow(3, 1, h * dh):view(B, T, h, dh):transpose(2, 3)
  local k = qkv:narrow(3, h * dh + 1, g * dh):view(B, T, g, dh):transpose(2, 3)
  local v = qkv:narrow(3, (h + g) * dh + 1, g * dh):view(B, T, g, dh):transpose(2, 3)
  if self.rope then q, k = self.rope:apply(q, start), self.rope:apply(k, start) end
  k, v = append(cache, "k", k), append(cache, "v", v)
  local o = F.scaled_dot_product_attention(q, k, v, {causal = true})
  return self.wo(o:transpose(2, 3):reshape(B, T, h * dh))
end

function Attention:_forward_mla(x, cache, start)
  local B, T = x:size(1), x:size(2)
  local h, dh, dr, dc = self.heads, self.head_dim, self.rope_head_dim, self.kv_lora_rank
  local q = self.wuq(self.q_norm(self.wdq(x))):view(B, T, h, dh + dr):transpose(2, 3)
  local q_nope, q_pe = q:narrow(4, 1, dh), q:narrow(4, dh + 1, dr)
  q = tide.cat({q_nope, self.rope:apply(q_pe, start)}, 4)
  local ckv = self.wdkv(x)
  local c = self.kv_norm(ckv:narrow(3, 1, dc)):unsqueeze(2)                  -- (B, 1, T, dc)
  local k_pe = self.rope:apply(ckv:narrow(3, dc + 1, dr):unsqueeze(2), start)   -- (B, 1, T, dr)
  c, k_pe = append(cache, "c_kv", c), append(cache, "k_pe", k_pe)
  local S = c:size(3)
  local kv = self.wukv(c:squeeze(2)):view(B, S, h, 2 * dh):transpose(2, 3)     -- (B, h, S, 2 dh)
  local k = tide.cat({kv:narrow(4, 1, dh), k_pe:expand(B, h, S, dr)}, 4)
  local v = kv:narrow(4, dh + 1, dh)
  local o = F.scaled_dot_product_attention(q, k, v, {causal = true})
  return self.wo(o:transpose(2, 3):reshape(B, T, h * dh))
end

-- (B, T, h R) A factor and (B, T, R d) B factor -> (B, h, T, d) = A^T B / R per token
local function tpa_product(a, b, B, T, h, R, d)
  local A = a:view(B, T, h, R)
  local Bf = b:view(B, T, R, d)
  return (A:matmul(Bf) / R):transpose(2, 3)
end

function Attention:_forward_tpa(x, cache, start)
  local B, T = x:size(1), x:size(2)
  local h, dh, rq, rk, rv = self.heads, self.head_dim, self.q_rank, self.k_rank, self.v_rank
  local bq = self.wb_q(x):view(B, T, rq, dh)
  local bk = self.wb_k(x):view(B, T, rk, dh)
  if self.rope then
    -- rotate each rank row of B for its token's position: (B, R, T, d) puts positions on dim 3
    bq = self.rope:apply(bq:transpose(2, 3), start):transpose(2, 3)
    bk = self.rope:apply(bk:transpose(2, 3), start):transpose(2, 3)
  end
  local q = tpa_product(self.wa_q(x), bq, B, T, h, rq, dh)
  local ak, av, bv = self.wa_k(x):view(B, 1, T, h * rk), self.wa_v(x):view(B, 1, T, h * rv), self.wb_v(x):view(B, 1, T, rv * dh)
  bk = bk:reshape(B, 1, T, rk * dh)
  ak, bk, av, bv = append(cache, "a_k", ak), append(cache, "b_k", bk), append(cache, "a_v", av), append(cache, "b_v", bv)
  local S = ak:size(3)
  local k = tpa_product(ak:squeeze(2), bk:squeeze(2), B, S, h, rk, dh)
  local v = tpa_product(av:squeeze(2), bv:squeeze(2), B, S, h, rv, dh)
  local o = F.scaled_dot_product_attention(q, k, v, {causal = true})
  return self.wo(o:transpose(2, 3):reshape(B, T, h * dh))
end

function Attention:_forward_lightning(x, cache, start)
  local B, T = x:size(1), x:size(2)
  local h, d = self.heads, self.head_dim
  local qkv = self.qkv(x):silu():view(B, T, h, 3 * d)
  local q = qkv:narrow(4, 1, d):transpose(2, 3)
  local k = qkv:narrow(4, d + 1, d):transpose(2, 3)
  local v = qkv:narrow(4, 2 * d + 1, d):transpose(2, 3)
  local slopes = self.slopes:to(x:dtype())
  local o, state
  if cache and T == 1 and cache.state then
    local ot
    ot, state = F.lightning_step(q:select(3, 1), k:select(3, 1), v:select(3, 1), slopes, cache.state)
    o = ot:unsqueeze(3)
  else
    o, state = F.lightning_attention(q, k, v, slopes, {block = self.block, state = cache and cache.state or nil})
  end
  if cache then cache.state = state:detach() end
  o = self.norm(o:transpose(2, 3):reshape(B, T, h * d))
  o = o * self.wg(x):sigmoid()
  return self.wo(o)
end

-- B4: cached elements per token (this layer) x bytes per element
function Attention:kv_cache_elements_per_token()
  local k, h, dh = self.kind, self.heads, self.head_dim
  if k == "mha" or k == "mqa" or k == "gqa" then return 2 * self.kv_heads * dh
  elseif k == "mla" then return self.kv_lora_rank + self.rope_head_dim
  elseif k == "tpa" then return (self.k_rank + self.v_rank) * (h + dh)
  else return 0 end  -- lightning: a constant-size state, see state_bytes()
end

function Attention:kv_cache_bytes_per_token(bytes)
  return self:kv_cache_elements_per_token() * (bytes or 4)
end

-- lightning's per-sequence state (h d x d elements), independent of the length
function Attention:state_bytes(bytes)
  if self.kind ~= "lightning" then return 0 end
  return self.heads * self.head_dim * self.head_dim * (bytes or 4)
end

-- B4: attention parameters per layer (weight matrices only, as the formulas count them)
function Attention:formula_parameters()
  local Dm, h, dh, k = self.dim, self.heads, self.head_dim, self.kind
  if k == "mha" or k == "mqa" or k == "gqa" then return 2 * Dm * dh * (h + self.kv_heads)
  elseif k == "mla" then
    local dc, dq, dr = self.kv_lora_rank, self.q_lora_rank, self.rope_head_dim
    return dq * (Dm + h * dh + h * dr) + dc * (Dm + 2 * h * dh) + Dm * (h * dh + dr)
  elseif k == "tpa" then return Dm * (self.q_rank + self.k_rank + self.v_rank) * (h + dh) + Dm * h * dh
  else return 3 * Dm * h * dh + 2 * Dm * h * dh end
end

function Attention:extra_repr()
  local s = ("kind=%s, dim=%d, heads=%d, head_dim=%d"):format(self.kind, self.dim, self.heads, self.head_dim)
  if self.kv_heads and self.kind ~= "mha" then s = s .. ", kv_heads=" .. self.kv_heads end
  if self.kind == "tpa" then s = s .. (", ranks=%d/%d/%d"):format(self.q_rank, self.k_rank, self.v_rank) end
  if self.kind == "mla" then s = s .. (", kv_lora_rank=%d, q_lora_rank=%d, rope_head_dim=%d"):format(self.kv_lora_rank, self.q_lora_rank, self.rope_head_dim) end
  if self.kind == "lightning" then s = s .. ", block=" .. self.block end
  return s
end

tide.doc(Attention, "tide.nn.Attention{kind = 'mha'|'mqa'|'gqa'|'mla'|'tpa'|'lightning', dim, heads, kv_heads (gqa), head_dim = dim/heads, bias = false, rope = {base, rotary_dim} | false, q_rank/k_rank/v_rank (tpa: 6/2/2), kv_lora_rank/q_lora_rank/rope_head_dim (mla), layer/layers/slopes/block (lightning), zero_init_output} -> causal self-attention. attn(x [, cache]); attn:new_cache(); attn:kv_cache_bytes_per_token([bytes = 4]) (brief B4); attn:formula_parameters().")
