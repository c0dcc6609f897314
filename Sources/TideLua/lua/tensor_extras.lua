-- tensor_extras.lua: NumPy and PyTorch conveniences on top of the core ops.
--
--   x:is_complex(); tide.promote_types("i64", "f32"); tide.result_type(x, 2.5); tide.can_cast("f64", "i64")
--   x:fmax(y); x:float_power(2); x:diff(); x:unique_consecutive{return_counts = true}
--   tide.block_diag(a, b); tide.cartesian_prod(a, b); x:rot90(1, {1, 2}); x:flipud(); x:tril_()
--
-- Like tensor_api.lua, everything is a composition of tested ops (so gradients flow where
-- those carry them), dims are 1-based with negatives from the end, and each method is also
-- a function: tide.diff(x, ...) as x:diff(...).
local tide = ...
local T = tide.Tensor
local api = tide._api
local def, fail, check_opts, dim_of, tens = api.def, api.fail, api.check_opts, api.dim_of, api.tens

-- ---- dtypes --------------------------------------------------------------------------------

local complex = {c64 = true, c128 = true}
-- torch's casting categories: bool < integer < floating < complex
local category = {bool = 0, i64 = 1, f32 = 2, f64 = 2, c64 = 3, c128 = 3}

-- a dtype name (any alias tide accepts) in canonical form
local function canonical(fn, d)
  if type(d) ~= "string" then fail(fn, "expected a dtype name, got " .. type(d)) end
  local ok, t = pcall(tide.empty, 0, {dtype = d})
  if not ok then fail(fn, ("unknown dtype '%s' (expected f32, f64, i64, bool, c64 or c128)"):format(d)) end
  return t:dtype()
end

def("is_complex", function(x) return complex[x:dtype()] == true end,
    "x:is_complex() -> true for c64 and c128 tensors.")
def("is_floating_point", function(x) return x:dtype() == "f32" or x:dtype() == "f64" end,
    "x:is_floating_point() -> true for f32 and f64 tensors.")

function tide.promote_types(a, b)
  a, b = canonical("promote_types", a), canonical("promote_types", b)
  -- where() promotes its two branches by the tensor-tensor rule
  return tide.where(tide.empty(0, {dtype = "bool"}), tide.empty(0, {dtype = a}), tide.empty(0, {dtype = b})):dtype()
end
tide.doc(tide.promote_types, "tide.promote_types(d1, d2) -> the dtype two tensors of those dtypes combine to (torch.promote_types).")

function tide.result_type(a, b)
  if not tide.is_tensor(a) and not tide.is_tensor(b) then
    fail("result_type", ("expected at least one tensor, got %s and %s"):format(type(a), type(b)))
  end
  -- a number takes the tensor's type unless it is of a higher category (tensor_api's rule)
  if not tide.is_tensor(a) then a = tens(a, b, "result_type") end
  if not tide.is_tensor(b) then b = tens(b, a, "result_type") end
  return tide.promote_types(a:dtype(), b:dtype())
end
tide.doc(tide.result_type, "tide.result_type(a, b) -> the dtype of an arithmetic op on a and b (tensors or numbers).")

function tide.can_cast(from, to)
  from, to = canonical("can_cast", from), canonical("can_cast", to)
  return category[from] <= category[to]
end
tide.doc(tide.can_cast, "tide.can_cast(from, to) -> whether torch's casting rules allow from -> to (no float to integer, complex to real, or number to bool).")

-- ---- elementwise ---------------------------------------------------------------------------

-- max / min that return the other value where one is NaN (NaN only where both are). x wins
-- ties and a NaN y (so the gradient goes where torch sends it: all to x at a tie)
local function nan_ignoring(name, wins)
  return function(a, b)
    b = tens(b, a, name)
    if complex[a:dtype()] or complex[b:dtype()] then
      fail(name, ("not defined for complex tensors (got %s and %s)"):format(a:dtype(), b:dtype()))
    end
    return tide.where(wins(a, b):logical_or(b:isnan()), a, b)
  end
end
def("fmax", nan_ignoring("fmax", T.ge), "x:fmax(y) -> elementwise maximum that ignores NaN (NaN only where both are).")
def("fmin", nan_ignoring("fmin", T.le), "x:fmin(y) -> elementwise minimum that ignores NaN (NaN only where both are).")

def("float_power", function(x, y)
  local cplx = complex[x:dtype()] or (tide.is_tensor(y) and complex[y:dtype()])
  local d = cplx and "c128" or "f64"
  if tide.is_tensor(y) then y = y:to(d) elseif type(y) ~= "number" then
    fail("float_power", "expected a tensor or number exponent, got " .. type(y))
  end
  return x:to(d) ^ y
end, "x:float_power(y) -> x^y computed in f64 (c128 when either side is complex).")

-- ---- differences and runs ------------------------------------------------------------------

def("diff", function(x, n, d, o)
  if type(n) == "table" then n, d, o = nil, nil, n elseif type(d) == "table" then d, o = nil, d end
  o = check_opts("diff", o, {"n", "dim", "prepend", "append"})
  n = n or o.n or 1
  if math.type(n) ~= "integer" or n < 0 then fail("diff", "expected a non-negative integer n, got " .. tostring(n)) end
  if x:dim() == 0 then fail("diff", "expected a tensor of at least 1 dim, got 0-d") end
  d = dim_of("diff", d or o.dim or -1, x:dim())
  if n == 0 then return x end  -- NumPy and torch: x itself, prepend and append unused
  -- prepend / append: tensors (or numbers, broadcast to one slice) joined along dim first
  local function edge(v)
    if v == nil then return nil end
    if not tide.is_tensor(v) then v = tide.full({}, v, {dtype = x:dtype()}) end
    if v:dim() == 0 then local s = x:shape(); s[d] = 1; v = v:expand(s) end
    return v
  end
  local parts = {}
  for _, v in ipairs({edge(o.prepend) or false, x, edge(o.append) or false}) do if v then parts[#parts + 1] = v end end
  if #parts > 1 then x = tide.cat(parts, d) end
  for _ = 1, n do
    local len = x:size(d)
    if len == 0 then break end
    local hi, lo = x:narrow(d, 2, len - 1), x:narrow(d, 1, len - 1)
    -- bool differences are "changed or not" (torch's logical_xor, NumPy's not_equal)
    x = x:dtype() == "bool" and hi:ne(lo) or hi - lo
  end
  return x
end, "x:diff([n = 1] [, dim = -1] [, {n, dim, prepend, append}]) -> the n-th forward difference along dim.")

def("unique_consecutive", function(x, o)
  o = check_opts("unique_consecutive", o, {"return_inverse", "return_counts", "dim"})
  local d = o.dim and dim_of("unique_consecutive", o.dim, x:dim())
  -- rows: the slices compared (along dim, or the flattened elements)
  local rows = d and x:movedim(d, 1) or x:reshape(-1)
  local m = rows:size(1)
  -- (the width given, not -1: a reshape cannot infer it when m is 0)
  local width = 1
  for k = 2, rows:dim() do width = width * rows:size(k) end
  local flat = rows:reshape(m, width)
  local starts
  if m == 0 then
    starts = tide.zeros(0, {dtype = "bool"})
  else
    -- a run starts where a slice differs from the one before (NaN differs from everything)
    local changed = flat:narrow(1, 2, m - 1):ne(flat:narrow(1, 1, m - 1)):any(2)
    starts = tide.cat({tide.ones(1, {dtype = "bool"}), changed})
  end
  local pos = starts:nonzero():reshape(-1)   -- 1-based starts of the runs
  local values = rows:index_select(1, pos)
  values = d and values:movedim(1, d) or values
  local out = {values}
  if o.return_inverse then
    local inv = starts:to("i64"):cumsum(1)
    out[#out + 1] = d and inv or inv:reshape(x:shape())
  end
  if o.return_counts then
    local k = pos:numel()
    out[#out + 1] = k == 0 and tide.zeros(0, {dtype = "i64"}) or tide.cat({pos:narrow(1, 2, k - 1), tide.tensor({m + 1})}) - pos
  end
  return table.unpack(out)
end, "x:unique_consecutive([{return_inverse, return_counts, dim}]) -> values with runs of equal neighbours collapsed [, 1-based inverse] [, run lengths].")

-- ---- arrangement ---------------------------------------------------------------------------

local function tensors_of(fn, ...)
  local ts = {...}
  if #ts == 1 and type(ts[1]) == "table" and not tide.is_tensor(ts[1]) then ts = ts[1] end
  for i, t in ipairs(ts) do
    if not tide.is_tensor(t) then fail(fn, ("expected tensors, got a %s at %d"):format(type(t), i)) end
  end
  return ts
end

function tide.block_diag(...)
  local ts = tensors_of("block_diag", ...)
  local mats, rows, cols, dtype = {}, 0, 0, "bool"
  for i, t in ipairs(ts) do
    if t:dim() > 2 then fail("block_diag", ("expected tensors of at most 2 dims, got %d dims at %d"):format(t:dim(), i)) end
    local m = t:dim() == 2 and t or t:reshape(1, -1)
    mats[i] = m
    rows, cols = rows + m:size(1), cols + m:size(2)
    dtype = tide.promote_types(dtype, t:dtype())
  end
  if #mats == 0 then return tide.zeros(0, 0) end
  -- each block row: zeros left, the block, zeros right; the rows stacked (cat carries gradients)
  local blocks, left = {}, 0
  for i, m in ipairs(mats) do
    local h, w = m:size(1), m:size(2)
    blocks[i] = tide.cat({tide.zeros(h, left, {dtype = dtype}), m:to(dtype), tide.zeros(h, cols - left - w, {dtype = dtype})}, 2)
    left = left + w
  end
  return tide.cat(blocks, 1)
end
tide.doc(tide.block_diag, "tide.block_diag(a, b, ...) -> the block-diagonal matrix of 0-, 1- or 2-d tensors (1-d as one row).")

function tide.cartesian_prod(...)
  local ts = tensors_of("cartesian_prod", ...)
  for i, t in ipairs(ts) do
    if t:dim() ~= 1 then fail("cartesian_prod", ("expected 1-d tensors, got %d dims at %d"):format(t:dim(), i)) end
  end
  if #ts == 0 then fail("cartesian_prod", "expected at least one tensor") end
  if #ts == 1 then return ts[1] end
  local grids = {tide.meshgrid(table.unpack(ts))}
  for i, g in ipairs(grids) do grids[i] = g:reshape(-1) end
  return tide.stack(grids, 2)
end
tide.doc(tide.cartesian_prod, "tide.cartesian_prod(a, b, ...) -> (n, k): every combination of the 1-d inputs' elements, the last varying fastest.")

def("rot90", function(x, k, dims)
  k = k or 1
  if math.type(k) ~= "integer" then fail("rot90", "expected an integer k, got " .. tostring(k)) end
  dims = dims or {1, 2}
  if type(dims) ~= "table" or #dims ~= 2 then fail("rot90", "expected dims as a table of 2 dims") end
  if x:dim() < 2 then fail("rot90", ("expected a tensor of at least 2 dims, got %d"):format(x:dim())) end
  local a, b = dim_of("rot90", dims[1], x:dim()), dim_of("rot90", dims[2], x:dim())
  if a == b then fail("rot90", ("expected two different dims, got %d and %d"):format(dims[1], dims[2])) end
  k = k % 4  -- Lua's % is non-negative here: -1 turns three quarters
  if k == 1 then return x:flip(b):transpose(a, b) end
  if k == 2 then return x:flip({a, b}) end
  if k == 3 then return x:flip(a):transpose(a, b) end
  return x:clone()
end, "x:rot90([k = 1] [, dims = {1, 2}]) -> x turned k quarter turns from dims[1] toward dims[2].")
def("flipud", function(x)
  if x:dim() < 1 then fail("flipud", "expected a tensor of at least 1 dim, got 0-d") end
  return x:flip(1)
end, "x:flipud() -> x reversed along dim 1.")
def("fliplr", function(x)
  if x:dim() < 2 then fail("fliplr", ("expected a tensor of at least 2 dims, got %d"):format(x:dim())) end
  return x:flip(2)
end, "x:fliplr() -> x reversed along dim 2.")

for name, bound in pairs({clamp_min_ = "min", clamp_max_ = "max"}) do
  def(name, function(x, v)
    if type(v) ~= "number" and not tide.is_tensor(v) then fail(name, "expected a number or tensor bound, got " .. type(v)) end
    return x:clamp_({[bound] = v})
  end, ("x:%s(v): x:clamp_{%s = v}; returns x."):format(name, bound))
end
T.clip_ = T.clamp_
tide.clip = tide.clamp

for _, name in ipairs({"tril", "triu"}) do
  def(name .. "_", function(x, k)
    if x.requires_grad and x.is_leaf and tide.is_grad_enabled() then
      fail(name .. "_", "a leaf tensor that requires grad cannot be modified in place; use tide.no_grad or detach()")
    end
    return x:copy_(x[name](x, k))
  end,
      ("x:%s_([k = 0]): in place; returns x."):format(name))
end

-- x:where(cond, y): torch's method form of tide.where(cond, x, y)
T.where = function(x, cond, y)
  if not tide.is_tensor(x) then fail("where", "expected a tensor as argument 1, got " .. type(x)) end
  return tide.where(cond, x, y)
end
tide.doc(T.where, "x:where(cond, y) -> x where cond is true, else y (tide.where(cond, x, y)).")

-- ---- random --------------------------------------------------------------------------------

function tide.randint_like(x, lo, hi, o)
  if not tide.is_tensor(x) then fail("randint_like", "expected a tensor as argument 1, got " .. type(x)) end
  if type(hi) ~= "number" then lo, hi, o = 0, lo, hi end  -- randint_like(x, high [, opts])
  if math.type(lo) ~= "integer" or math.type(hi) ~= "integer" then
    fail("randint_like", ("expected integer bounds, got %s and %s"):format(tostring(lo), tostring(hi)))
  end
  o = check_opts("randint_like", o, {"dtype", "generator", "requires_grad"})
  return tide.randint(lo, hi, x:shape(), {dtype = o.dtype or x:dtype(), generator = o.generator, requires_grad = o.requires_grad})
end
tide.doc(tide.randint_like, "tide.randint_like(x, [low,] high [, {dtype, generator}]) -> integers uniform in [low, high) in x's shape (and dtype).")
