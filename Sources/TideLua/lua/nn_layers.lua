-- nn_layers.lua: the layers of tide.nn (torch.nn names and defaults), each a Module subclass
-- whose forward is one tide.F call: Linear, Embedding, LayerNorm, RMSNorm, Dropout, Conv1d,
-- Conv2d, ConvTranspose2d, MaxPool2d, AvgPool2d, Upsample, Flatten, and the activations
-- (ReLU, GELU, SiLU, Tanh, Sigmoid, LeakyReLU, Softmax, LogSoftmax, Identity).
--
--   local conv = tide.nn.Conv2d(3, 16, 3, {padding = 1})     -- (B, 3, H, W) -> (B, 16, H, W)
--   local fc = tide.nn.Linear(16, 10, {bias = false, dtype = "f64", generator = tide.Generator(7)})
--   print(conv)                                              -- Conv2d(3, 16, kernel_size={3, 3}, ...)
--
-- Construction allocates the parameters (f32 unless opts.dtype) and initialises them as torch
-- does: Linear and Conv weights kaiming_uniform(a = sqrt 5), i.e. U(-1/sqrt(fan_in),
-- 1/sqrt(fan_in)), biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)); Embedding N(0, 1); norms ones and
-- zeros. opts.generator makes the draws reproducible; m:reset_parameters() draws again.
-- Options tables reject unknown keys. Sizes and hyperparameters are plain fields
-- (m.in_features, m.stride, ...) read by forward.
local tide = ...
local nn, F = tide.nn, tide.F
local Module, init = nn.Module, nn.init
local doc = tide.doc
local impl = nn._impl
local describe = impl.describe

local function options(cname, o, allowed) return (impl.options(cname, o, allowed, 3)) end

local function pos_int(cname, what, v, allow_zero)
  local i = type(v) == "number" and math.tointeger(v)
  if not i or i < (allow_zero and 0 or 1) then
    error(("%s: %s must be a %s integer, got %s"):format(cname, what, allow_zero and "non-negative" or "positive",
      type(v) == "number" and tostring(v) or describe(v)), 4)
  end
  return i
end

-- a number or a table of n numbers -> a table of n integers (kernel sizes, strides, ...)
local function tuple(cname, what, v, n, allow_zero)
  if type(v) == "number" then
    local t = {}
    for i = 1, n do t[i] = pos_int(cname, what, v, allow_zero) end
    return t
  end
  if type(v) ~= "table" or #v ~= n then
    error(("%s: %s must be a number or a table of %d numbers, got %s"):format(cname, what, n,
      type(v) == "table" and (#v .. " values") or describe(v)), 3)
  end
  local t = {}
  for i = 1, n do t[i] = pos_int(cname, what, v[i], allow_zero) end
  return t
end

local function dtype_opt(cname, dt)
  dt = dt or "f32"
  if dt ~= "f32" and dt ~= "f64" then error(("%s: dtype must be 'f32' or 'f64', got %s"):format(cname, tostring(dt)), 3) end
  return dt
end

local function bool_opt(cname, o, key, default)
  local v = o[key]
  if v == nil then return default end
  if type(v) ~= "boolean" then error(("%s: option %s must be a boolean, got %s"):format(cname, key, describe(v)), 3) end
  return v
end

local number_opt = impl.number_opt

local function new_param(shape, dtype) return nn.Parameter(tide.empty(shape, {dtype = dtype})) end
local function tuple_str(t) return "{" .. table.concat(t, ", ") .. "}" end
local function fmt_num(x) return math.type(x) == "integer" and tostring(x) or ("%g"):format(x) end

-- weight kaiming_uniform(a = sqrt 5) and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)): torch's default
local function reset_affine(self, o)
  local g = o and o.generator
  init.kaiming_uniform_(self.weight, {a = math.sqrt(5), generator = g})
  if self.bias then
    local fan_in = init.fans(self.weight)
    local b = fan_in > 0 and 1 / math.sqrt(fan_in) or 0
    init.uniform_(self.bias, {a = -b, b = b, generator = g})
  end
end

--------------------------------------------------------------------------------------------
-- Linear

local Linear = Module:extend("Linear")
nn.Linear = Linear
function Linear:__init(in_features, out_features, o)
  o = options("Linear", o, {bias = true, dtype = true, generator = true})
  self.in_features = pos_int("Linear", "in_features", in_features)
  self.out_features = pos_int("Linear", "out_features", out_features)
  local dt = dtype_opt("Linear", o.dtype)
  self.weight = new_param({self.out_features, self.in_features}, dt)
  self:register_parameter("bias", bool_opt("Linear", o, "bias", true) and tide.empty(self.out_features, {dtype = dt}) or nil)
  self:reset_parameters(o)
end
Linear.reset_parameters = reset_affine
-- x: (..., in) -> (..., out)
function Linear:forward(x) return F.linear(x, self.weight, self.bias) end
function Linear:extra_repr()
  return ("in_features=%d, out_features=%d, bias=%s"):format(self.in_features, self.out_features, tostring(self.bias ~= nil))
end
doc(Linear, "tide.nn.Linear(in, out [, {bias = true, dtype = 'f32', generator}]): y = x W^T + b, x: (..., in) -> (..., out); weight (out, in).")

--------------------------------------------------------------------------------------------
-- Embedding

local Embedding = Module:extend("Embedding")
nn.Embedding = Embedding
function Embedding:__init(num, dim, o)
  o = options("Embedding", o, {padding_idx = true, dtype = true, generator = true, _weight = true})
  self.num_embeddings = pos_int("Embedding", "num_embeddings", num)
  self.embedding_dim = pos_int("Embedding", "embedding_dim", dim)
  local p = o.padding_idx
  if p ~= nil then
    if math.type(p) ~= "integer" or p == 0 or p < -num or p > num then
      error(("Embedding: padding_idx must be an index in 1..%d (or -%d..-1), got %s"):format(num, num, tostring(p)), 3)
    end
    if p < 0 then p = num + 1 + p end
    self.padding_idx = p
  end
  if o._weight then
    self.weight = nn.Parameter(o._weight)
  else
    self.weight = new_param({self.num_embeddings, self.embedding_dim}, dtype_opt("Embedding", o.dtype))
    self:reset_parameters(o)
  end
end
function Embedding:reset_parameters(o)
  init.normal_(self.weight, {generator = o and o.generator})
  if self.padding_idx then
    local w, p = self.weight, self.padding_idx
    tide.no_grad(function() w[p] = 0 end)
  end
end
-- idx: i64 (...) of 1-based indices -> (..., dim)
function Embedding:forward(idx) return F.embedding(idx, self.weight, {padding_idx = self.padding_idx}) end
function Embedding:extra_repr()
  local s = ("%d, %d"):format(self.num_embeddings, self.embedding_dim)
  if self.padding_idx then s = s .. ", padding_idx=" .. self.padding_idx end
  return s
end
function Embedding.from_pretrained(weight, o)
  if not tide.is_tensor(weight) or weight:dim() ~= 2 then
    error("Embedding.from_pretrained: a 2-d weight (num, dim) expected, got " .. describe(weight), 2)
  end
  o = options("Embedding.from_pretrained", o, {freeze = true, padding_idx = true})
  local w = weight:detach():clone()
  local m = Embedding(w:size(1), w:size(2), {padding_idx = o.padding_idx, _weight = w})
  if o.freeze ~= false then m.weight:requires_grad_(false) end
  return m
end
doc(Embedding.from_pretrained, "tide.nn.Embedding.from_pretrained(weight [, {freeze = true, padding_idx}]) -> an Embedding holding a copy of weight (num, dim).")
doc(Embedding, [[tide.nn.Embedding(num, dim [, {padding_idx, dtype, generator}]): rows of a (num, dim) table looked up by
1-based i64 indices, idx: (...) -> (..., dim). Weight from N(0, 1); the padding_idx row starts at 0 and gets no gradient.]])

--------------------------------------------------------------------------------------------
-- Normalisation

local function norm_shape(cname, s)
  if type(s) == "number" then return {pos_int(cname, "normalized_shape", s)} end
  if type(s) ~= "table" or #s == 0 then
    error(cname .. ": normalized_shape must be a positive integer or a table of them, got " .. describe(s), 4)
  end
  local t = {}
  for i, v in ipairs(s) do t[i] = pos_int(cname, "normalized_shape", v) end
  return t
end

local LayerNorm = Module:extend("LayerNorm")
nn.LayerNorm = LayerNorm
function LayerNorm:__init(shape, o)
  o = options("LayerNorm", o, {eps = true, elementwise_affine = true, bias = true, dtype = true})
  self.normalized_shape = norm_shape("LayerNorm", shape)
  self.eps = number_opt("LayerNorm", o, "eps", 1e-5)
  self.elementwise_affine = bool_opt("LayerNorm", o, "elementwise_affine", true)
  local dt = dtype_opt("LayerNorm", o.dtype)
  if self.elementwise_affine then
    self.weight = nn.Parameter(tide.ones(self.normalized_shape, {dtype = dt}))
    self:register_parameter("bias", bool_opt("LayerNorm", o, "bias", true) and tide.zeros(self.normalized_shape, {dtype = dt}) or nil)
  end
end
function LayerNorm:reset_parameters()
  if self.weight then init.ones_(self.weight) end
  if self.bias then init.zeros_(self.bias) end
end
-- x: (..., *normalized_shape) -> same shape, normalised over the trailing dims
function LayerNorm:forward(x)
  return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, {eps = self.eps})
end
function LayerNorm:extra_repr()
  return ("%s, eps=%s, elementwise_affine=%s"):format(tuple_str(self.normalized_shape), fmt_num(self.eps),
    tostring(self.elementwise_affine)) .. ((self.elementwise_affine and not self.bias) and ", bias=false" or "")
end
doc(LayerNorm, [[tide.nn.LayerNorm(shape [, {eps = 1e-5, elementwise_affine = true, bias = true, dtype}]): (x - mean) / sqrt(var + eps) * weight + bias
over the trailing dims given by shape (a number or a table), x: (..., *shape) -> same shape.]])

local RMSNorm = Module:extend("RMSNorm")
nn.RMSNorm = RMSNorm
function RMSNorm:__init(shape, o)
  o = options("RMSNorm", o, {eps = true, elementwise_affine = true, dtype = true})
  self.normalized_shape = norm_shape("RMSNorm", shape)
  self.eps = number_opt("RMSNorm", o, "eps", 1e-6)
  self.elementwise_affine = bool_opt("RMSNorm", o, "elementwise_affine", true)
  if self.elementwise_affine then
    self.weight = nn.Parameter(tide.ones(self.normalized_shape, {dtype = dtype_opt("RMSNorm", o.dtype)}))
  end
end
function RMSNorm:reset_parameters() if self.weight then init.ones_(self.weight) end end
-- x: (..., *normalized_shape) -> same shape, x / sqrt(mean(x^2) + eps) * weight
function RMSNorm:forward(x) return F.rms_norm(x, self.normalized_shape, self.weight, {eps = self.eps}) end
function RMSNorm:extra_repr()
  return ("%s, eps=%s, elementwise_affine=%s"):format(tuple_str(self.normalized_shape), fmt_num(self.eps), tostring(self.elementwise_affine))
end
doc(RMSNorm, "tide.nn.RMSNorm(shape [, {eps = 1e-6, elementwise_affine = true, dtype}]): x / sqrt(mean(x^2) + eps) * weight over the trailing dims.")

local Dropout = Module:extend("Dropout")
nn.Dropout = Dropout
function Dropout:__init(p, o)
  o = options("Dropout", o, {generator = true})
  p = p == nil and 0.5 or p
  if type(p) ~= "number" or p < 0 or p > 1 then error("Dropout: p must be a probability in [0, 1], got " .. tostring(p), 3) end
  self.p, self.generator = p, o.generator
end
-- x: any shape -> same shape; in training each element is zeroed with probability p and the rest scaled by 1/(1-p)
function Dropout:forward(x) return F.dropout(x, {p = self.p, training = self.training, generator = self.generator}) end
function Dropout:extra_repr() return "p=" .. fmt_num(self.p) end
doc(Dropout, "tide.nn.Dropout([p = 0.5] [, {generator}]): zeroes elements with probability p in training (scaling the rest by 1/(1-p)); the identity in eval().")

--------------------------------------------------------------------------------------------
-- Convolutions and pooling

local function conv_init(self, cname, nd, in_ch, out_ch, k, o, transposed)
  o = options(cname, o, {stride = true, padding = true, dilation = true, groups = true, bias = true, dtype = true,
                         generator = true, output_padding = transposed or nil})
  self.in_channels = pos_int(cname, "in_channels", in_ch)
  self.out_channels = pos_int(cname, "out_channels", out_ch)
  self.kernel_size = tuple(cname, "kernel_size", k, nd)
  self.stride = tuple(cname, "stride", o.stride or 1, nd)
  local pad = o.padding or 0
  if type(pad) == "string" and not transposed then
    if pad ~= "same" and pad ~= "valid" then error(cname .. ": padding must be a number, a table, 'same' or 'valid', got '" .. pad .. "'", 3) end
    self.padding = pad
  else
    self.padding = tuple(cname, "padding", pad, nd, true)
  end
  self.dilation = tuple(cname, "dilation", o.dilation or 1, nd)
  if transposed then self.output_padding = tuple(cname, "output_padding", o.output_padding or 0, nd, true) end
  self.groups = pos_int(cname, "groups", o.groups or 1)
  if self.in_channels % self.groups ~= 0 or self.out_channels % self.groups ~= 0 then
    error(("%s: in_channels (%d) and out_channels (%d) must be divisible by groups (%d)"):format(cname,
      self.in_channels, self.out_channels, self.groups), 3)
  end
  local dt = dtype_opt(cname, o.dtype)
  local shape = transposed and {self.in_channels, self.out_channels // self.groups}
                            or {self.out_channels, self.in_channels // self.groups}
  for i = 1, nd do shape[#shape + 1] = self.kernel_size[i] end
  self.weight = new_param(shape, dt)
  self:register_parameter("bias", bool_opt(cname, o, "bias", true) and tide.empty(self.out_channels, {dtype = dt}) or nil)
  self:reset_parameters(o)
end

local function conv_repr(self)
  local nd = #self.kernel_size
  local function all(t, v) for i = 1, nd do if t[i] ~= v then return false end end return true end
  local s = ("%d, %d, kernel_size=%s, stride=%s"):format(self.in_channels, self.out_channels, tuple_str(self.kernel_size), tuple_str(self.stride))
  if type(self.padding) == "string" then s = s .. ", padding=" .. self.padding
  elseif not all(self.padding, 0) then s = s .. ", padding=" .. tuple_str(self.padding) end
  if not all(self.dilation, 1) then s = s .. ", dilation=" .. tuple_str(self.dilation) end
  if self.output_padding and not all(self.output_padding, 0) then s = s .. ", output_padding=" .. tuple_str(self.output_padding) end
  if self.groups ~= 1 then s = s .. ", groups=" .. self.groups end
  if not self.bias then s = s .. ", bias=false" end
  return s
end

local conv_opts_doc = "{stride = 1, padding = 0 | 'same' | 'valid', dilation = 1, groups = 1, bias = true, dtype, generator}"

local Conv1d = Module:extend("Conv1d")
nn.Conv1d = Conv1d
function Conv1d:__init(in_ch, out_ch, k, o) conv_init(self, "Conv1d", 1, in_ch, out_ch, k, o) end
Conv1d.reset_parameters = reset_affine
Conv1d.extra_repr = conv_repr
-- x: (B, C_in, L) -> (B, C_out, L')
function Conv1d:forward(x)
  return F.conv1d(x, self.weight, self.bias, {stride = self.stride[1],
    padding = type(self.padding) == "string" and self.padding or self.padding[1],
    dilation = self.dilation[1], groups = self.groups})
end
doc(Conv1d, "tide.nn.Conv1d(in, out, k [, " .. conv_opts_doc .. "]): x: (B, in, L) -> (B, out, L'); weight (out, in/groups, k).")

local Conv2d = Module:extend("Conv2d")
nn.Conv2d = Conv2d
function Conv2d:__init(in_ch, out_ch, k, o) conv_init(self, "Conv2d", 2, in_ch, out_ch, k, o) end
Conv2d.reset_parameters = reset_affine
Conv2d.extra_repr = conv_repr
-- x: (B, C_in, H, W) -> (B, C_out, H', W')
function Conv2d:forward(x)
  return F.conv2d(x, self.weight, self.bias, {stride = self.stride, padding = self.padding,
    dilation = self.dilation, groups = self.groups})
end
doc(Conv2d, "tide.nn.Conv2d(in, out, k [, " .. conv_opts_doc .. "]): x: (B, in, H, W) -> (B, out, H', W'); weight (out, in/groups, kh, kw); k, stride, padding, dilation: a number or {h, w}.")

local ConvTranspose2d = Module:extend("ConvTranspose2d")
nn.ConvTranspose2d = ConvTranspose2d
function ConvTranspose2d:__init(in_ch, out_ch, k, o) conv_init(self, "ConvTranspose2d", 2, in_ch, out_ch, k, o, true) end
ConvTranspose2d.reset_parameters = reset_affine
ConvTranspose2d.extra_repr = conv_repr
-- x: (B, C_in, H, W) -> (B, C_out, H', W'), H' = (H - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1
function ConvTranspose2d:forward(x)
  return F.conv_transpose2d(x, self.weight, self.bias, {stride = self.stride, padding = self.padding,
    output_padding = self.output_padding, dilation = self.dilation, groups = self.groups})
end
doc(ConvTranspose2d, "tide.nn.ConvTranspose2d(in, out, k [, {stride, padding, output_padding, dilation, groups, bias, dtype, generator}]): the adjoint of Conv2d, (B, in, H, W) -> (B, out, H', W'); weight (in, out/groups, kh, kw).")

local MaxPool2d = Module:extend("MaxPool2d")
nn.MaxPool2d = MaxPool2d
function MaxPool2d:__init(k, o)
  o = options("MaxPool2d", o, {stride = true, padding = true, dilation = true})
  self.kernel_size = tuple("MaxPool2d", "kernel_size", k, 2)
  self.stride = tuple("MaxPool2d", "stride", o.stride or self.kernel_size, 2)
  self.padding = tuple("MaxPool2d", "padding", o.padding or 0, 2, true)
  self.dilation = tuple("MaxPool2d", "dilation", o.dilation or 1, 2)
end
-- x: (B, C, H, W) -> (B, C, H', W')
function MaxPool2d:forward(x)
  return F.max_pool2d(x, self.kernel_size, {stride = self.stride, padding = self.padding, dilation = self.dilation})
end
function MaxPool2d:extra_repr()
  return ("kernel_size=%s, stride=%s, padding=%s, dilation=%s"):format(tuple_str(self.kernel_size), tuple_str(self.stride),
    tuple_str(self.padding), tuple_str(self.dilation))
end
doc(MaxPool2d, "tide.nn.MaxPool2d(k [, {stride = k, padding = 0, dilation = 1}]): the max of each window, (B, C, H, W) -> (B, C, H', W').")

local AvgPool2d = Module:extend("AvgPool2d")
nn.AvgPool2d = AvgPool2d
function AvgPool2d:__init(k, o)
  o = options("AvgPool2d", o, {stride = true, padding = true, count_include_pad = true, divisor_override = true})
  self.kernel_size = tuple("AvgPool2d", "kernel_size", k, 2)
  self.stride = tuple("AvgPool2d", "stride", o.stride or self.kernel_size, 2)
  self.padding = tuple("AvgPool2d", "padding", o.padding or 0, 2, true)
  self.count_include_pad = bool_opt("AvgPool2d", o, "count_include_pad", true)
  if o.divisor_override ~= nil then self.divisor_override = pos_int("AvgPool2d", "divisor_override", o.divisor_override) end
end
-- x: (B, C, H, W) -> (B, C, H', W')
function AvgPool2d:forward(x)
  return F.avg_pool2d(x, self.kernel_size, {stride = self.stride, padding = self.padding,
    count_include_pad = self.count_include_pad, divisor_override = self.divisor_override})
end
function AvgPool2d:extra_repr()
  local s = ("kernel_size=%s, stride=%s, padding=%s"):format(tuple_str(self.kernel_size), tuple_str(self.stride), tuple_str(self.padding))
  if not self.count_include_pad then s = s .. ", count_include_pad=false" end
  if self.divisor_override then s = s .. ", divisor_override=" .. self.divisor_override end
  return s
end
doc(AvgPool2d, "tide.nn.AvgPool2d(k [, {stride = k, padding = 0, count_include_pad = true, divisor_override}]): the mean of each window.")

local Upsample = Module:extend("Upsample")
nn.Upsample = Upsample
function Upsample:__init(o)
  o = options("Upsample", o, {size = true, scale_factor = true, mode = true, align_corners = true})
  if (o.size == nil) == (o.scale_factor == nil) then
    error("Upsample: give exactly one of size and scale_factor", 3)
  end
  if o.size ~= nil then self.size = tuple("Upsample", "size", o.size, 2) end
  if o.scale_factor ~= nil then
    local s = o.scale_factor
    if type(s) == "number" then s = {s, s} end
    if type(s) ~= "table" or #s ~= 2 or type(s[1]) ~= "number" or type(s[2]) ~= "number" or s[1] <= 0 or s[2] <= 0 then
      error("Upsample: scale_factor must be a positive number or a table of 2, got " .. describe(o.scale_factor), 3)
    end
    self.scale_factor = {s[1], s[2]}
  end
  self.mode = o.mode or "nearest"
  if self.mode ~= "nearest" and self.mode ~= "bilinear" then
    error("Upsample: mode must be 'nearest' or 'bilinear', got '" .. tostring(self.mode) .. "'", 3)
  end
  self.align_corners = o.align_corners
end
-- x: (B, C, H, W) -> (B, C, H', W')
function Upsample:forward(x)
  return F.interpolate(x, {size = self.size, scale_factor = self.scale_factor, mode = self.mode, align_corners = self.align_corners})
end
function Upsample:extra_repr()
  local s = self.size and ("size=" .. tuple_str(self.size))
            or ("scale_factor={" .. fmt_num(self.scale_factor[1]) .. ", " .. fmt_num(self.scale_factor[2]) .. "}")
  s = s .. ", mode='" .. self.mode .. "'"
  if self.align_corners ~= nil then s = s .. ", align_corners=" .. tostring(self.align_corners) end
  return s
end
doc(Upsample, "tide.nn.Upsample{size = {h, w} | scale_factor = s, mode = 'nearest' | 'bilinear', align_corners}: resizes (B, C, H, W) maps.")

--------------------------------------------------------------------------------------------
-- Shape and activation modules

local Flatten = Module:extend("Flatten")
nn.Flatten = Flatten
function Flatten:__init(o)
  o = options("Flatten", o, {start_dim = true, end_dim = true})
  self.start_dim, self.end_dim = o.start_dim or 2, o.end_dim or -1
  for _, k in ipairs({"start_dim", "end_dim"}) do
    if math.type(self[k]) ~= "integer" or self[k] == 0 then
      error("Flatten: " .. k .. " must be a non-zero integer, got " .. tostring(self[k]), 3)
    end
  end
end
-- x: (B, C, H, W) -> (B, C H W) with the defaults
function Flatten:forward(x)
  if not tide.is_tensor(x) then error("flatten: input must be a tensor, got " .. describe(x), 2) end
  return x:flatten(self.start_dim, self.end_dim)
end
function Flatten:extra_repr() return ("start_dim=%d, end_dim=%d"):format(self.start_dim, self.end_dim) end
doc(Flatten, "tide.nn.Flatten([{start_dim = 2, end_dim = -1}]): merges dims start_dim..end_dim (keeps the batch dim).")

local function activation(name, fn, docstring)
  local C = Module:extend(name)
  nn[name] = C
  C.forward = fn
  doc(C, docstring)
  return C
end

activation("Identity", function(_, x) return x end, "tide.nn.Identity(): returns its input (a placeholder in a Sequential).")
activation("ReLU", function(_, x) return F.relu(x) end, "tide.nn.ReLU(): max(x, 0).")
activation("SiLU", function(_, x) return F.silu(x) end, "tide.nn.SiLU(): x sigmoid(x).")
activation("Tanh", function(_, x) return F.tanh(x) end, "tide.nn.Tanh(): tanh(x).")
activation("Sigmoid", function(_, x) return F.sigmoid(x) end, "tide.nn.Sigmoid(): 1 / (1 + exp(-x)).")

local GELU = activation("GELU", function(self, x) return F.gelu(x, {approximate = self.approximate}) end,
  "tide.nn.GELU([{approximate = 'none' | 'tanh'}]): x Phi(x), exact or with the tanh approximation.")
function GELU:__init(o)
  o = options("GELU", o, {approximate = true})
  self.approximate = o.approximate or "none"
  if self.approximate ~= "none" and self.approximate ~= "tanh" then
    error("GELU: approximate must be 'none' or 'tanh', got '" .. tostring(self.approximate) .. "'", 3)
  end
end
function GELU:extra_repr() return self.approximate == "none" and "" or ("approximate='" .. self.approximate .. "'") end

local LeakyReLU = activation("LeakyReLU", function(self, x) return F.leaky_relu(x, {negative_slope = self.negative_slope}) end,
  "tide.nn.LeakyReLU([{negative_slope = 0.01}]): x for x > 0, else slope x.")
function LeakyReLU:__init(o)
  o = options("LeakyReLU", o, {negative_slope = true})
  self.negative_slope = number_opt("LeakyReLU", o, "negative_slope", 0.01)
end
function LeakyReLU:extra_repr() return "negative_slope=" .. fmt_num(self.negative_slope) end

local function softmax_class(name, method)
  local C = activation(name, function(self, x) return F[method](x, self.dim) end,
    ("tide.nn.%s([dim = -1]): %s along dim."):format(name, method))
  function C:__init(dim)
    dim = dim == nil and -1 or dim
    if math.type(dim) ~= "integer" or dim == 0 then error(name .. ": dim must be a non-zero integer, got " .. tostring(dim), 3) end
    self.dim = dim
  end
  function C:extra_repr() return "dim=" .. self.dim end
end
softmax_class("Softmax", "softmax")
softmax_class("LogSoftmax", "log_softmax")
