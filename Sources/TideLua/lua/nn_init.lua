-- nn_init.lua: tide.nn.init, in-place initialisers for parameters (torch.nn.init).
--
--   local w = tide.nn.Parameter(tide.empty(256, 128))
--   tide.nn.init.kaiming_normal_(w, {mode = "fan_out", nonlinearity = "relu"})
--   tide.nn.init.xavier_uniform_(w, {gain = tide.nn.init.calculate_gain("tanh")})
--   tide.nn.init.normal_(w, {std = 0.02, generator = tide.Generator(1)})
--
-- Each function fills its tensor in place under no_grad (so parameters that require grad can
-- be filled), keeps the dtype, and returns the tensor. Random ones draw from the global
-- generator or from opts.generator. Fans follow torch: for a weight (out, in, k1, k2, ...),
-- fan_in = in * k1 * k2 * ..., fan_out = out * k1 * k2 * ... (Glorot & Bengio 2010;
-- He et al. 2015 for the kaiming variants).
local tide = ...
local nn = tide.nn
local init = {}
nn.init = init
local doc = tide.doc
local shape_str = nn._impl.shape_str

local function check_tensor(fname, t)
  if not tide.is_tensor(t) then
    error(("%s: a tensor expected, got %s"):format(fname, nn._impl.describe(t)), 3)
  end
  local dt = t:dtype()
  if dt ~= "f32" and dt ~= "f64" then error(("%s: tensor must be f32 or f64, got %s"):format(fname, dt), 3) end
end

-- opts with unknown keys rejected (a typo like {stdev = 2} would otherwise do nothing)
local function options(fname, o, allowed) return (tide.nn._impl.options(fname, o, allowed, 3)) end

local number_opt = nn._impl.number_opt

local function fill(t, src)
  tide.no_grad(function() t[{}] = src end)
  return t
end

function init.calculate_gain(nonlinearity, param)
  if nonlinearity == "linear" or nonlinearity == "sigmoid" or nonlinearity == "identity"
     or (type(nonlinearity) == "string" and nonlinearity:match("^conv")) then
    return 1
  elseif nonlinearity == "tanh" then return 5 / 3
  elseif nonlinearity == "relu" then return math.sqrt(2)
  elseif nonlinearity == "leaky_relu" then
    local slope = param == nil and 0.01 or param
    if type(slope) ~= "number" then error("calculate_gain: negative_slope must be a number, got " .. type(slope), 2) end
    return math.sqrt(2 / (1 + slope * slope))
  elseif nonlinearity == "selu" then return 3 / 4
  end
  error("calculate_gain: unknown nonlinearity '" .. tostring(nonlinearity) ..
        "' (expected linear, conv1d, conv2d, sigmoid, tanh, relu, leaky_relu, selu)", 2)
end
doc(init.calculate_gain, [[tide.nn.init.calculate_gain(nonlinearity [, param]) -> the recommended gain: 1 for linear, conv*
and sigmoid, 5/3 for tanh, sqrt(2) for relu, sqrt(2 / (1 + slope^2)) for leaky_relu (param =
slope, default 0.01), 3/4 for selu.]])

function init.fans(t, fname)
  fname = type(fname) == "string" and fname or "fans"
  check_tensor(fname, t)
  if t:dim() < 2 then
    error(fname .. ": fan in and fan out need a tensor with at least 2 dims, got shape " .. shape_str(t), 3)
  end
  local receptive = 1
  for d = 3, t:dim() do receptive = receptive * t:size(d) end
  return t:size(2) * receptive, t:size(1) * receptive
end
doc(init.fans, "tide.nn.init.fans(t) -> fan_in, fan_out of a weight (out, in, k...): in * prod(k), out * prod(k).")

function init.uniform_(t, o)
  check_tensor("uniform_", t)
  o = options("uniform_", o, {a = true, b = true, generator = true})
  local a, b = number_opt("uniform_", o, "a", 0), number_opt("uniform_", o, "b", 1)
  if not (a <= b) then error(("uniform_: a must be <= b, got a = %g, b = %g"):format(a, b), 2) end
  return fill(t, tide.rand(t:shape(), {dtype = t:dtype(), generator = o.generator}) * (b - a) + a)
end
doc(init.uniform_, "tide.nn.init.uniform_(t [, {a = 0, b = 1, generator}]) -> t filled from U(a, b).")

function init.normal_(t, o)
  check_tensor("normal_", t)
  o = options("normal_", o, {mean = true, std = true, generator = true})
  local mean, std = number_opt("normal_", o, "mean", 0), number_opt("normal_", o, "std", 1)
  if not (std >= 0) then error(("normal_: std must be >= 0, got %g"):format(std), 2) end
  return fill(t, tide.randn(t:shape(), {dtype = t:dtype(), generator = o.generator}) * std + mean)
end
doc(init.normal_, "tide.nn.init.normal_(t [, {mean = 0, std = 1, generator}]) -> t filled from N(mean, std^2).")

function init.constant_(t, v)
  check_tensor("constant_", t)
  if type(v) ~= "number" then error("constant_: value must be a number, got " .. type(v), 2) end
  tide.no_grad(function() t:fill_(v) end)
  return t
end
doc(init.constant_, "tide.nn.init.constant_(t, value) -> t filled with value.")

function init.zeros_(t) check_tensor("zeros_", t); return init.constant_(t, 0) end
doc(init.zeros_, "tide.nn.init.zeros_(t) -> t filled with 0.")

function init.ones_(t) check_tensor("ones_", t); return init.constant_(t, 1) end
doc(init.ones_, "tide.nn.init.ones_(t) -> t filled with 1.")

function init.xavier_uniform_(t, o)
  check_tensor("xavier_uniform_", t)
  o = options("xavier_uniform_", o, {gain = true, generator = true})
  local fan_in, fan_out = init.fans(t, "xavier_uniform_")
  local std = number_opt("xavier_uniform_", o, "gain", 1) * math.sqrt(2 / (fan_in + fan_out))
  local bound = math.sqrt(3) * std   -- U(-b, b) has std b / sqrt(3)
  return init.uniform_(t, {a = -bound, b = bound, generator = o.generator})
end
doc(init.xavier_uniform_, "tide.nn.init.xavier_uniform_(t [, {gain = 1, generator}]) -> t from U(-b, b), b = gain sqrt(6 / (fan_in + fan_out)).")

function init.xavier_normal_(t, o)
  check_tensor("xavier_normal_", t)
  o = options("xavier_normal_", o, {gain = true, generator = true})
  local fan_in, fan_out = init.fans(t, "xavier_normal_")
  local std = number_opt("xavier_normal_", o, "gain", 1) * math.sqrt(2 / (fan_in + fan_out))
  return init.normal_(t, {mean = 0, std = std, generator = o.generator})
end
doc(init.xavier_normal_, "tide.nn.init.xavier_normal_(t [, {gain = 1, generator}]) -> t from N(0, std^2), std = gain sqrt(2 / (fan_in + fan_out)).")

local function kaiming_std(fname, t, o)
  local mode = o.mode or "fan_in"
  if mode ~= "fan_in" and mode ~= "fan_out" then
    error(("%s: mode must be 'fan_in' or 'fan_out', got '%s'"):format(fname, tostring(mode)), 3)
  end
  local fan_in, fan_out = init.fans(t, fname)
  local fan = mode == "fan_in" and fan_in or fan_out
  if fan == 0 then error(fname .. ": cannot initialise a tensor with a zero fan (shape " .. shape_str(t) .. ")", 3) end
  local gain = init.calculate_gain(o.nonlinearity or "leaky_relu", number_opt(fname, o, "a", 0))
  return gain / math.sqrt(fan)
end

function init.kaiming_uniform_(t, o)
  check_tensor("kaiming_uniform_", t)
  o = options("kaiming_uniform_", o, {a = true, mode = true, nonlinearity = true, generator = true})
  local bound = math.sqrt(3) * kaiming_std("kaiming_uniform_", t, o)
  return init.uniform_(t, {a = -bound, b = bound, generator = o.generator})
end
doc(init.kaiming_uniform_, [[tide.nn.init.kaiming_uniform_(t [, {a = 0, mode = "fan_in", nonlinearity = "leaky_relu", generator}])
-> t from U(-b, b), b = gain sqrt(3 / fan), gain = calculate_gain(nonlinearity, a). With a = sqrt(5)
(the Linear and Conv default) b = 1 / sqrt(fan_in).]])

function init.kaiming_normal_(t, o)
  check_tensor("kaiming_normal_", t)
  o = options("kaiming_normal_", o, {a = true, mode = true, nonlinearity = true, generator = true})
  return init.normal_(t, {mean = 0, std = kaiming_std("kaiming_normal_", t, o), generator = o.generator})
end
doc(init.kaiming_normal_, [[tide.nn.init.kaiming_normal_(t [, {a = 0, mode = "fan_in", nonlinearity = "leaky_relu", generator}])
-> t from N(0, std^2), std = gain / sqrt(fan).]])

doc(init, "tide.nn.init: in-place initialisers (uniform_, normal_, constant_, zeros_, ones_, xavier_*, kaiming_*), each taking {generator = g}.")
