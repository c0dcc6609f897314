-- tensor_api.lua: the rest of PyTorch's everyday tensor API, written in Lua over the core ops.
--
--   local a, b = tide.meshgrid(tide.arange(3), tide.arange(2))     -- (3, 2) each, 'ij'
--   x:tile({2, 1}); x["repeat"](x, 2, 1); x:unbind(1); x:movedim(1, -1); x:mT()
--   x:diag(); x:trace(); x:index_add_(1, idx, src); tide.isclose(a, b); tide.tensordot(a, b, 2)
--
-- Everything here is a composition of ops that are tested against NumPy on their own (views,
-- gather/scatter, where, matmul, ...), so gradients flow wherever those ops carry them. Dims
-- are 1-based with negatives from the end, and indices given or returned are 1-based, as in
-- the rest of Tide. Each name is also a function, tide.name(x, ...), as torch.name is.
local tide = ...
local T = tide.Tensor

-- the chunk names of Tide's own Lua library (set by the host before it loads the library), so
-- a user's script that happens to live in a directory named tide/ is not mistaken for it
local library_chunk = tide._library_chunks or {}

-- raises "fn: msg" at the caller's line: the first stack frame outside Tide's own Lua
-- library, however deep inside it the check sits
local function fail(fn, msg)
  local level = 2
  while true do
    local info = debug.getinfo(level, "S")
    if not info then level = 2; break end
    if info.what ~= "C" and not library_chunk[info.source] then break end
    level = level + 1
  end
  error(fn .. ": " .. msg, level)
end

-- a 1-based dim (negatives from the end) as a positive 1-based dim of a rank-r tensor
local function dim_of(fn, d, r)
  if math.type(d) ~= "integer" then fail(fn, "expected an integer dim, got " .. tostring(d)) end
  local p = d < 0 and r + d + 1 or d
  if p < 1 or p > r then fail(fn, ("dim %d out of range for a %d-d tensor"):format(d, r)) end
  return p
end

-- an options table's keys must be among `allowed` (a typo is an error, as in the Swift bindings)
local function check_opts(fn, o, allowed)
  if o == nil then return {} end
  if type(o) ~= "table" or tide.is_tensor(o) then fail(fn, "expected an options table, got " .. type(o)) end
  local ok = {}
  for _, k in ipairs(allowed) do ok[k] = true end
  for k in pairs(o) do
    if not ok[k] then fail(fn, ("unknown option '%s' (expected %s)"):format(tostring(k), table.concat(allowed, ", "))) end
  end
  return o
end

-- sizes given as numbers or as one table
local function size_list(...)
  local first = ...
  if type(first) == "table" then return first end
  return {...}
end

-- defines x:name(...) and tide.name(x, ...); a first argument that is not a tensor is an error
-- naming the function (not a raw "attempt to call a nil value" from inside it)
local function def(name, fn, doc)
  local checked = function(x, ...)
    if not tide.is_tensor(x) then fail(name, "expected a tensor as argument 1, got " .. type(x)) end
    return fn(x, ...)
  end
  T[name] = checked
  tide[name] = checked
  if doc then tide.doc(checked, doc) end
end

-- fn with the errors of the ops it is built on named as its own: a failing x:index_add should
-- not report "scatter_add: ..." (the internal position is dropped; the caller's is added)
local function renamed(name, inner, fn)
  return function(...)
    local r = table.pack(pcall(fn, ...))
    if r[1] then return table.unpack(r, 2, r.n) end
    if type(r[2]) ~= "string" then error(r[2], 0) end
    -- (drop the position the inner error carries: the caller's is added below)
    local msg = r[2]:gsub("^[^\n]-:%d+: ", "", 1)
    for _, op in ipairs(inner) do
      if msg:sub(1, #op + 2) == op .. ": " then msg = name .. msg:sub(#op + 1); break end
    end
    error(msg, 2)
  end
end

-- a zero that carries g's gradient: value + (g - g:detach()) keeps value exact and lets the
-- gradient of g flow where g is finite (elsewhere g - g is NaN: a plain zero is added instead)
local function with_grad_of(value, g)
  if not tide.is_grad_enabled() or not g.requires_grad then return value end
  return value + tide.where(g:isfinite(), g - g:detach(), tide.zeros({}, {dtype = g:dtype()}))
end

-- ---- shape and layout ---------------------------------------------------------------------

local function tile(x, ...)
  local reps = size_list(...)
  if #reps > 64 then fail("tile", ("at most 64 repeat counts (a tensor has at most 64 dims), got %d"):format(#reps)) end
  local shp = x:shape()
  -- pad the shorter of the two with leading 1s (torch.tile / Tensor.repeat)
  while #shp < #reps do table.insert(shp, 1, 1) end
  local r = {}
  for i = 1, #shp - #reps do r[i] = 1 end
  for _, v in ipairs(reps) do r[#r + 1] = v end
  -- view as (1, s1, 1, s2, ...), expand to (r1, s1, r2, s2, ...), then merge the pairs
  local inter, big, out = {}, {}, {}
  for i = 1, #shp do
    if math.type(r[i]) ~= "integer" or r[i] < 0 then fail("tile", "expected non-negative integer repeats, got " .. tostring(r[i])) end
    inter[#inter + 1] = 1; inter[#inter + 1] = shp[i]
    big[#big + 1] = r[i]; big[#big + 1] = shp[i]
    out[i] = r[i] * shp[i]
  end
  return x:reshape(inter):expand(big):contiguous():reshape(out)
end
def("tile", tile, "x:tile(reps) -> x repeated reps[i] times along each dim (reps padded with leading 1s; torch.tile).")
T["repeat"] = function(x, ...)
  local reps = size_list(...)
  if #reps < x:dim() then fail("repeat", ("expected at least %d repeats (one per dim), got %d"):format(x:dim(), #reps)) end
  return tile(x, reps)
end
tide.doc(T["repeat"], "x[\"repeat\"](x, sizes...) -> x tiled sizes[i] times along each dim (torch.Tensor.repeat; `repeat` is a Lua keyword, so call it by name or use x:tile).")

def("unbind", function(x, d)
  d = dim_of("unbind", d or 1, x:dim())
  local out = {}
  for i = 1, x:size(d) do out[i] = x:select(d, i) end
  return out
end, "x:unbind([dim = 1]) -> a table of the slices along dim (each with dim removed).")

def("expand_as", function(x, o) return x:expand(o:shape()) end, "x:expand_as(o) -> x expanded to o's shape.")
def("view_as", function(x, o) return x:view(o:shape()) end, "x:view_as(o) -> x viewed with o's shape.")
def("reshape_as", function(x, o) return x:reshape(o:shape()) end, "x:reshape_as(o) -> x reshaped to o's shape.")
def("type_as", function(x, o) return x:to(o:dtype()) end, "x:type_as(o) -> x cast to o's dtype.")

local function as_list(v) return type(v) == "table" and v or {v} end
local function movedim(x, src, dst)
  local r = x:dim()
  src, dst = as_list(src), as_list(dst)
  if #src ~= #dst then fail("movedim", ("expected as many destinations as sources, got %d and %d"):format(#src, #dst)) end
  local order, used = {}, {}
  for i = 1, #src do
    local s, t = dim_of("movedim", src[i], r), dim_of("movedim", dst[i], r)
    if used[s] or order[t] then fail("movedim", "repeated dim") end
    order[t], used[s] = s, true
  end
  -- the remaining dims keep their order in the free places
  local rest = {}
  for d = 1, r do if not used[d] then rest[#rest + 1] = d end end
  local k = 1
  for t = 1, r do if not order[t] then order[t] = rest[k]; k = k + 1 end end
  return x:permute(order)
end
def("movedim", movedim, "x:movedim(src, dst) -> x with dims src (a dim or a table) moved to dst; the rest keep their order.")
def("moveaxis", movedim)
def("swapaxes", renamed("swapaxes", {"transpose"}, function(x, a, b) return x:transpose(a, b) end), "x:swapaxes(a, b) -> x:transpose(a, b).")
def("swapdims", function(x, a, b) return x:transpose(a, b) end)
T.mT = function(x)
  if x:dim() < 2 then fail("mT", "expected at least 2 dims, got " .. x:dim()) end
  return x:transpose(-2, -1)
end
tide.doc(T.mT, "x:mT() -> the last two dims swapped (a view).")
T.T = function(x)
  local order = {}
  for d = x:dim(), 1, -1 do order[#order + 1] = d end
  return x:permute(order)
end
tide.doc(T.T, "x:T() -> every dim reversed (a view).")

for name, dt in pairs({float = "f32", double = "f64", long = "i64", int = "i64", bool = "bool", cfloat = "c64", cdouble = "c128"}) do
  T[name] = function(x) return x:to(dt) end
  tide.doc(T[name], ("x:%s() -> x:to(%q)."):format(name, dt))
end
T.tolist = T.totable

-- new_* take x's dtype unless opts.dtype says otherwise
local function new_opts(x, ...)
  local args = {...}
  local o = type(args[#args]) == "table" and (args[#args].dtype or next(args[#args]) == nil) and table.remove(args) or {}
  local opts = {dtype = o.dtype or x:dtype()}
  return args, opts
end
T.new_zeros = function(x, ...) local a, o = new_opts(x, ...); return tide.zeros(size_list(table.unpack(a)), o) end
T.new_ones = function(x, ...) local a, o = new_opts(x, ...); return tide.ones(size_list(table.unpack(a)), o) end
T.new_empty = function(x, ...) local a, o = new_opts(x, ...); return tide.empty(size_list(table.unpack(a)), o) end
T.new_full = function(x, size, v, o) return tide.full(size, v, {dtype = (o and o.dtype) or x:dtype()}) end
T.new_tensor = function(x, v, o) return tide.tensor(v, (o and o.dtype) or x:dtype()) end
tide.doc(T.new_zeros, "x:new_zeros(sizes... [, {dtype}]) -> zeros of x's dtype (new_ones, new_empty, new_full(size, v), new_tensor(values) alike).")

local function need_tensor(fn, x)
  if not tide.is_tensor(x) then error(fn .. ": expected a tensor, got " .. type(x), 3) end
end
function tide.atleast_1d(x) need_tensor("atleast_1d", x); return x:dim() >= 1 and x or x:reshape(1) end
function tide.atleast_2d(x)
  need_tensor("atleast_2d", x)
  if x:dim() >= 2 then return x end
  return x:reshape(1, x:numel())
end
function tide.atleast_3d(x)
  need_tensor("atleast_3d", x)
  if x:dim() >= 3 then return x end
  if x:dim() == 2 then return x:unsqueeze(3) end
  return x:reshape(1, x:numel(), 1)
end
local function mapped(ts, f) local o = {}; for i, t in ipairs(ts) do o[i] = f(t) end; return o end
function tide.hstack(ts)
  ts = mapped(ts, tide.atleast_1d)
  return tide.cat(ts, ts[1]:dim() == 1 and 1 or 2)
end
function tide.vstack(ts) return tide.cat(mapped(ts, tide.atleast_2d), 1) end
tide.row_stack = tide.vstack
function tide.dstack(ts) return tide.cat(mapped(ts, tide.atleast_3d), 3) end
function tide.column_stack(ts)
  return tide.cat(mapped(ts, function(t) return t:dim() <= 1 and t:reshape(t:numel(), 1) or t end), 2)
end
tide.doc(tide.hstack, "tide.hstack / vstack / dstack / column_stack({tensors}) -> joined along dim 2 (1 for 1-d) / 1 / 3 / 2 after atleast_1d/2d/3d, as NumPy.")

function tide.meshgrid(...)
  local ts, o = {...}, {}
  if type(ts[1]) == "table" and not tide.is_tensor(ts[1]) then ts = ts[1] end
  if type(ts[#ts]) == "table" and not tide.is_tensor(ts[#ts]) then o = table.remove(ts) end
  check_opts("meshgrid", o, {"indexing"})
  if #ts == 0 then fail("meshgrid", "expected at least one tensor") end
  local indexing = o.indexing or "ij"
  if indexing ~= "ij" and indexing ~= "xy" then fail("meshgrid", "expected indexing 'ij' or 'xy', got " .. tostring(indexing)) end
  local n = #ts
  local sizes = {}
  for i, t in ipairs(ts) do
    if t:dim() > 1 then fail("meshgrid", ("expected 0-d or 1-d tensors, got %d dims at %d"):format(t:dim(), i)) end
    sizes[i] = t:numel()
  end
  -- 'xy' swaps the first two output dims (NumPy's default)
  local swap = indexing == "xy" and n >= 2
  local full = {table.unpack(sizes)}
  if swap then full[1], full[2] = full[2], full[1] end
  local out = {}
  for i, t in ipairs(ts) do
    local shp = {}
    for k = 1, n do shp[k] = 1 end
    local at = i
    if swap and i <= 2 then at = 3 - i end
    shp[at] = sizes[i]
    out[i] = t:reshape(shp):expand(full)
  end
  return table.unpack(out)
end
tide.doc(tide.meshgrid, "tide.meshgrid(a, b, ... [, {indexing = 'ij' | 'xy'}]) -> one expanded grid per input (as separate return values).")

-- ---- diagonals and index updates -----------------------------------------------------------

-- x:diagonal is a view, in Swift (writes reach x, as in torch)
local diagonal = T.diagonal
tide.diagonal = function(x, ...) return diagonal(x, ...) end
def("diag", function(x, k)
  k = k or 0
  if x:dim() == 1 then
    local n = x:numel() + math.abs(k)
    local out = tide.zeros({n, n}, {dtype = x:dtype()})
    if x:numel() == 0 then return out end
    local rows = tide.arange(1, x:numel() + 1) + (k < 0 and -k or 0)
    local cols = tide.arange(1, x:numel() + 1) + (k > 0 and k or 0)
    local flat = (rows - 1) * n + cols
    return out:reshape(n * n):scatter(1, flat, x):reshape(n, n)
  elseif x:dim() == 2 then
    return diagonal(x, k):clone()  -- a new tensor, as torch.diag
  end
  fail("diag", "expected a 1-d or 2-d tensor, got " .. x:dim() .. " dims")
end, "x:diag([k = 0]) -> a 1-d x on the k-th diagonal of a square matrix, or a matrix's k-th diagonal.")
def("trace", function(x)
  if x:dim() ~= 2 then fail("trace", "expected a 2-d tensor, got " .. x:dim() .. " dims") end
  return diagonal(x):sum()
end, "x:trace() -> the sum of a matrix's main diagonal.")

local function tri_indices(fn, rows, cols, offset, upper)
  offset = offset or 0
  for _, v in ipairs({rows, cols, offset}) do
    if math.type(v) ~= "integer" then fail(fn, "expected integer rows, cols and offset, got " .. tostring(v)) end
  end
  if rows < 0 or cols < 0 then fail(fn, ("expected non-negative sizes, got %d and %d"):format(rows, cols)) end
  -- the positions of a (rows, cols) mask, row by row (nonzero's order); tensors, not Lua loops,
  -- so a huge size fails to allocate instead of looping for ever
  tide.empty({rows, cols}, {dtype = "bool"})  -- the mask's size: a huge one fails here, at once
  local diff = tide.arange(1, cols + 1):reshape(1, cols) - tide.arange(1, rows + 1):reshape(rows, 1)
  local mask = upper and diff:ge(offset) or diff:le(offset)
  return mask:nonzero():t():contiguous()
end
function tide.tril_indices(rows, cols, offset) return tri_indices("tril_indices", rows, cols, offset, false) end
function tide.triu_indices(rows, cols, offset) return tri_indices("triu_indices", rows, cols, offset, true) end
tide.doc(tide.tril_indices, "tide.tril_indices(rows, cols [, offset = 0]) -> (2, n) i64 1-based row and column indices of the lower triangle (triu_indices: the upper).")

-- an index along dim d spread over src's shape, for scatter
local function spread(fn, x, d, index, src)
  if index:dim() ~= 1 then fail(fn, "expected a 1-d i64 index, got " .. index:dim() .. " dims") end
  local shp = src:shape()
  if #shp ~= x:dim() or shp[d] ~= index:numel() then
    fail(fn, ("expected src of x's rank with %d slices along dim %d, got shape (%s)"):format(index:numel(), d, table.concat(shp, ", ")))
  end
  local view = {}
  for k = 1, #shp do view[k] = k == d and index:numel() or 1 end
  return index:reshape(view):expand(shp)
end
local function index_add(x, d, index, src, o)
  d = dim_of("index_add", d, x:dim())
  if o and o.alpha then src = src * o.alpha end
  return x:scatter_add(d, spread("index_add", x, d, index, src), src)
end
local function index_copy(x, d, index, src)
  d = dim_of("index_copy", d, x:dim())
  return x:scatter(d, spread("index_copy", x, d, index, src), src)
end
local function index_fill(x, d, index, v)
  d = dim_of("index_fill", d, x:dim())
  local shp = x:shape()
  shp[d] = index:numel()
  return x:scatter(d, spread("index_fill", x, d, index, tide.zeros(shp)), v)
end
index_add = renamed("index_add", {"scatter_add", "scatter"}, index_add)
index_copy = renamed("index_copy", {"scatter"}, index_copy)
index_fill = renamed("index_fill", {"scatter"}, index_fill)
def("index_add", index_add, "x:index_add(dim, index, src [, {alpha}]) -> x with src's slices added at the 1-based index along dim (repeats accumulate).")
def("index_copy", index_copy, "x:index_copy(dim, index, src) -> x with src's slices written at the 1-based index along dim.")
def("index_fill", index_fill, "x:index_fill(dim, index, value) -> x with the slices at the 1-based index along dim set to value.")
for name, f in pairs({index_add_ = index_add, index_copy_ = index_copy, index_fill_ = index_fill}) do
  T[name] = function(x, ...) return x:copy_(f(x, ...)) end
  tide.doc(T[name], "x:" .. name .. "(...): in place; returns x.")
end

def("take_along_dim", renamed("take_along_dim", {"gather", "expand"}, function(x, index, d)
  if d == nil then return x:reshape(-1):gather(1, index:reshape(-1)) end
  d = dim_of("take_along_dim", d, x:dim())
  -- broadcast x and index against each other except along dim
  local xs, is = x:shape(), index:shape()
  if #xs ~= #is then fail("take_along_dim", ("expected index of x's rank %d, got %d"):format(#xs, #is)) end
  local xe, ie = {}, {}
  for k = 1, #xs do
    if k == d then xe[k], ie[k] = xs[k], is[k] else
      -- broadcasting: a size of 1 takes the other's (also 0)
      local b = xs[k] == 1 and is[k] or xs[k]
      if is[k] ~= b and is[k] ~= 1 then
        fail("take_along_dim", ("shapes do not broadcast in dim %d: %d and %d"):format(k, xs[k], is[k]))
      end
      xe[k], ie[k] = b, b
    end
  end
  return x:expand(xe):gather(d, index:expand(ie))
end), "x:take_along_dim(index [, dim]) -> values at the 1-based index along dim (index broadcast over the other dims; flat when dim is nil).")

-- ---- order statistics --------------------------------------------------------------------

local function keep_or_squeeze(v, d, keep) if keep then return v end return v:squeeze(d) end
def("kthvalue", function(x, k, d, keepdim)
  if math.type(k) ~= "integer" then fail("kthvalue", "expected an integer k, got " .. tostring(k)) end
  if type(keepdim) == "table" then keepdim = check_opts("kthvalue", keepdim, {"keepdim"}).keepdim end
  d = dim_of("kthvalue", d or -1, math.max(x:dim(), 1))
  local n = x:dim() == 0 and 1 or x:size(d)
  if k < 1 or k > n then fail("kthvalue", ("k = %d out of range for a dim of size %d"):format(k, n)) end
  local v, i = x:sort(d)
  return keep_or_squeeze(v:narrow(d, k, 1), d, keepdim), keep_or_squeeze(i:narrow(d, k, 1), d, keepdim)
end, "x:kthvalue(k [, dim = -1, keepdim]) -> the k-th smallest values along dim and their 1-based indices.")
def("median", function(x, d, keepdim)
  if type(keepdim) == "table" then keepdim = check_opts("median", keepdim, {"keepdim"}).keepdim end
  if d == nil then
    local f = x:reshape(-1)
    local n = f:numel()
    -- empty: NaN, as torch and NumPy (an integer tensor has no NaN to give)
    if n == 0 then
      if x:dtype() == "i64" or x:dtype() == "bool" then fail("median", "expected a non-empty tensor") end
      -- NaN that stays in the graph (a zero gradient for the no elements)
      return x:sum() * 0 + 0 / 0
    end
    local v = f:sort()
    -- torch: the lower of the two middle values; NaN when any value is NaN (sort puts it last)
    local m = v[n] ~= v[n] and v:narrow(1, n, 1):reshape({}) or v:narrow(1, (n - 1) // 2 + 1, 1):reshape({})
    if not (x.requires_grad and tide.is_grad_enabled()) then return m end
    -- the gradient shared evenly among the elements equal to the median (torch)
    local fd, md = f:detach(), m:detach()
    local tie = fd:eq(md):logical_or(fd:isnan():logical_and(md:isnan()))
    -- the tied elements' mean: only they enter it (0 * inf elsewhere would be NaN)
    local share = f:masked_fill(tie:logical_not(), 0):sum() / tie:sum()
    -- an infinite or NaN median: share is that value too, with the gradient on the ties
    -- (with_grad_of keeps only finite surrogates)
    local mv = md:item()
    if mv ~= mv or mv == math.huge or mv == -math.huge then return share end
    return with_grad_of(md, share)
  end
  d = dim_of("median", d, x:dim())
  if x:dim() > 0 and x:size(d) == 0 then fail("median", ("dim %d is empty: there is no median along it"):format(d)) end
  local v, i = T.kthvalue(x, (x:size(d) - 1) // 2 + 1, d, keepdim)
  if x:dtype() ~= "f32" and x:dtype() ~= "f64" then return v, i end
  -- a slice holding NaN has median NaN, at its first NaN (torch)
  local isnan = x:isnan()
  local has = isnan:any(d, {keepdim = keepdim})
  local first = isnan:to("i64"):argmax(d, {keepdim = keepdim})
  return tide.where(has, tide.full({}, 0 / 0, {dtype = x:dtype()}), v), tide.where(has, first, i)
end, "x:median([dim, keepdim]) -> the lower median (a 0-d tensor, or values and 1-based indices along dim).")
def("msort", function(x) return (x:sort(1)) end, "x:msort() -> x sorted along dim 1.")

-- running max / min along a dim by doubling (log2(n) whole-tensor steps): after the step of
-- width s each position holds the extreme of the s positions ending there. The earlier
-- candidate wins only when strictly better, or NaN where the current one is not, so ties and
-- NaN runs keep the latest index, as torch's cummax
local function cumextreme(fn, better)
  return function(x, d)
    if x:dtype() == "c64" or x:dtype() == "c128" then fail(fn, "complex tensors have no order") end
    if x:dim() == 0 then return x:clone(), tide.ones({}, {dtype = "i64"}) end
    d = dim_of(fn, d, x:dim())
    local n = x:size(d)
    local shp = {}
    for k = 1, x:dim() do shp[k] = k == d and n or 1 end
    local v = x:detach()
    local i = tide.arange(1, n + 1):reshape(shp):expand(x:shape()):contiguous()
    local s = 1
    while s < n do
      local pv, pi = v:narrow(d, 1, n - s), i:narrow(d, 1, n - s)
      local cv, ci = v:narrow(d, s + 1, n - s), i:narrow(d, s + 1, n - s)
      local take = better(pv, cv)
      if x:dtype() == "f32" or x:dtype() == "f64" then
        take = take:logical_or(pv:isnan():logical_and(cv:isnan():logical_not()))
      end
      v = tide.cat({v:narrow(d, 1, s), tide.where(take, pv, cv)}, d)
      i = tide.cat({i:narrow(d, 1, s), tide.where(take, pi, ci)}, d)
      s = s * 2
    end
    -- the values gathered from x, so gradients reach the chosen elements
    return x:gather(d, i), i
  end
end
def("cummax", cumextreme("cummax", function(a, b) return a:gt(b) end),
  "x:cummax(dim) -> running maxima along dim and their 1-based indices (ties and NaN: the latest).")
def("cummin", cumextreme("cummin", function(a, b) return a:lt(b) end),
  "x:cummin(dim) -> running minima along dim and their 1-based indices (ties and NaN: the latest).")

-- quantiles from the sorted values at 0-based position q (n - 1), n the slice's count (of
-- non-NaN values for nanquantile); torch's five interpolations
local interpolations = {linear = true, lower = true, higher = true, nearest = true, midpoint = true}
local function quantiles(fn, skipnan)
  return function(x, q, d, keepdim, o)
    if type(d) == "table" then o, d, keepdim = d, d.dim, d.keepdim end
    if type(keepdim) == "table" then o, keepdim = keepdim, keepdim.keepdim end
    o = check_opts(fn, o, {"dim", "keepdim", "interpolation"})
    local how = o.interpolation or "linear"
    if not interpolations[how] then
      fail(fn, "interpolation must be linear, lower, higher, nearest or midpoint, got " .. tostring(how))
    end
    if x:dtype() ~= "f32" and x:dtype() ~= "f64" then fail(fn, "expected an f32 or f64 tensor, got " .. x:dtype()) end
    if x:numel() == 0 then fail(fn, "expected a non-empty tensor") end
    local flat = d == nil
    local src = flat and x:reshape(-1) or x
    d = flat and 1 or dim_of(fn, d, x:dim())
    local qs = tide.is_tensor(q) and q:to("f64"):reshape(-1):totable() or {q}
    for _, p in ipairs(qs) do
      if type(p) ~= "number" or not (p >= 0 and p <= 1) then fail(fn, "q must be in [0, 1], got " .. tostring(p)) end
    end
    local sorted = src:sort(d)                 -- NaN last
    local nanmask = src:isnan()
    local count = skipnan and nanmask:logical_not():sum(d, {keepdim = true}):to("f64")
      or tide.full({}, src:size(d), {dtype = "f64"})
    local out = {}
    for k, p in ipairs(qs) do
      local pos = (count - 1):clamp({min = 0}) * p
      local lo, hi = pos:floor(), pos:ceil()
      if how == "lower" then hi = lo elseif how == "higher" then lo = hi
      elseif how == "nearest" then lo = pos:round(); hi = lo end
      local shp = sorted:shape(); shp[d] = 1
      local vlo = sorted:gather(d, (lo:to("i64") + 1):expand(shp))
      local vhi = sorted:gather(d, (hi:to("i64") + 1):expand(shp))
      local w = how == "midpoint" and 0.5 or (pos - lo):to(x:dtype())
      local v = vlo + (vhi - vlo) * w
      -- NaN where the slice holds NaN (quantile) or nothing else (nanquantile)
      local bad = skipnan and count:eq(0) or nanmask:any(d, {keepdim = true})
      v = tide.where(bad, tide.full({}, 0 / 0, {dtype = x:dtype()}), v)
      if flat then v = keepdim and v:reshape(tide.full({x:dim()}, 1):totable()) or v:reshape({})
      elseif not keepdim then v = v:squeeze(d) end
      out[k] = v
    end
    if tide.is_tensor(q) and q:dim() > 0 then return tide.stack(out, 1) end
    return out[1]
  end
end
def("quantile", quantiles("quantile", false),
  "x:quantile(q [, dim, keepdim] [, {interpolation}]) -> the q-quantiles (q a number or 1-d tensor: a leading dim) over all values or along dim; NaN where a slice holds NaN.")
def("nanquantile", quantiles("nanquantile", true),
  "x:nanquantile(q [, dim, keepdim] [, {interpolation}]) -> quantile over the non-NaN values.")
def("nanmedian", function(x, d, keepdim)
  if type(keepdim) == "table" then keepdim = check_opts("nanmedian", keepdim, {"keepdim"}).keepdim end
  if d == nil then return T.nanquantile(x, 0.5, nil, false, {interpolation = "lower"}) end
  d = dim_of("nanmedian", d, x:dim())
  -- the lower median of each slice's non-NaN values (sort puts NaN last), with its index
  local sv, si = x:sort(d)
  local count = x:isnan():logical_not():sum(d, {keepdim = true})
  local at = ((count - 1):clamp({min = 0}) // 2) + 1
  local v, i = sv:gather(d, at), si:gather(d, at)
  if not keepdim then v, i = v:squeeze(d), i:squeeze(d) end
  return v, i
end, "x:nanmedian([dim, keepdim]) -> the lower median of the non-NaN values; along dim, values and 1-based indices (torch).")

-- counting
def("bincount", function(x, o)
  if tide.is_tensor(o) then o = {weights = o} end
  o = check_opts("bincount", o, {"weights", "minlength"})
  if x:dtype() ~= "i64" or x:dim() ~= 1 then
    fail("bincount", ("expected a 1-d i64 tensor of non-negative values, got %s of %d dims"):format(x:dtype(), x:dim()))
  end
  local minlength = o.minlength or 0
  if math.type(minlength) ~= "integer" or minlength < 0 then fail("bincount", "minlength must be an integer >= 0") end
  local n = minlength
  if x:numel() > 0 then
    if x:min():item() < 0 then fail("bincount", "values must be non-negative, got " .. x:min():item()) end
    n = math.max(n, x:max():item() + 1)
  end
  local w = o.weights
  if w ~= nil and (not tide.is_tensor(w) or w:numel() ~= x:numel()) then
    fail("bincount", "weights must be a tensor with one value per element of x")
  end
  local src = w and w:reshape(-1) or tide.ones({x:numel()}, {dtype = "i64"})
  return tide.zeros({n}, {dtype = src:dtype()}):scatter_add(1, x + 1, src)
end, "x:bincount([{weights, minlength}]) -> counts of each value 0, 1, ... of a 1-d i64 tensor: bin k (1-based) counts the value k - 1, as torch's bin k - 1.")
def("histc", function(x, bins, lo, hi)
  if type(bins) == "table" then bins, lo, hi = bins.bins, bins.min, bins.max end
  bins, lo, hi = bins or 100, lo or 0, hi or 0
  if math.type(bins) ~= "integer" or bins < 1 then fail("histc", "bins must be an integer >= 1, got " .. tostring(bins)) end
  if x:dtype() ~= "f32" and x:dtype() ~= "f64" then fail("histc", "expected an f32 or f64 tensor, got " .. x:dtype()) end
  local f = x:reshape(-1)
  if lo == hi and f:numel() > 0 then lo, hi = f:min():item(), f:max():item() end
  if lo == hi then lo, hi = lo - 1, hi + 1 end
  if not (lo < hi) then fail("histc", ("max must be larger than min, got min = %g, max = %g"):format(lo, hi)) end
  local inside = f:ge(lo):logical_and(f:le(hi))
  local v = f[inside]
  -- the bin in f64: an f32 product can land a value on an edge one bin low
  local b = ((v:to("f64") - lo) * (bins / (hi - lo))):floor():to("i64"):clamp(0, bins - 1)
  return tide.zeros({bins}, {dtype = x:dtype()}):scatter_add(1, b + 1, tide.ones({v:numel()}, {dtype = x:dtype()}))
end, "x:histc([bins = 100, min = 0, max = 0]) -> a histogram of equal-width bins over [min, max] (the data's range when min = max); values outside are ignored.")

-- ---- in-place random fills (torch's x.normal_(), x.uniform_(), ...) ----------------------------

-- (numbers..., {generator}) with the numbers defaulted; the options table may come early
local function random_args(fn, x, defaults, ...)
  local args, o = table.pack(...), nil
  for k = 1, args.n do
    if type(args[k]) == "table" and not tide.is_tensor(args[k]) then o = args[k]; args[k] = nil; break end
  end
  o = check_opts(fn, o, {"generator"})
  for k, v in ipairs(defaults) do
    if args[k] == nil then args[k] = v end
  end
  for k = 1, #defaults do
    local v = args[k]
    if type(v) ~= "number" and not (fn == "bernoulli_" and tide.is_tensor(v)) then
      -- (level 3: the caller of x:normal_(), past random_args and the fill itself)
      error(("%s: expected a number as argument %d, got %s"):format(fn, k, tide.is_tensor(v) and "a tensor" or type(v)), 3)
    end
  end
  if fn ~= "bernoulli_" and fn ~= "random_" and x:dtype() ~= "f32" and x:dtype() ~= "f64" then
    fail(fn, "expected an f32 or f64 tensor, got " .. x:dtype())
  end
  return args, {dtype = x:dtype(), generator = o.generator}
end
def("normal_", function(x, ...)
  local a, o = random_args("normal_", x, {0, 1}, ...)
  if not (a[2] >= 0) then fail("normal_", "std must be >= 0, got " .. tostring(a[2])) end
  return x:copy_(tide.randn(x:shape(), o) * a[2] + a[1])
end, "x:normal_([mean = 0, std = 1] [, {generator}]) -> x filled with normal samples.")
def("uniform_", function(x, ...)
  local a, o = random_args("uniform_", x, {0, 1}, ...)
  if not (a[1] <= a[2]) then fail("uniform_", ("from must be <= to, got %g and %g"):format(a[1], a[2])) end
  return x:copy_(tide.rand(x:shape(), o) * (a[2] - a[1]) + a[1])
end, "x:uniform_([from = 0, to = 1] [, {generator}]) -> x filled with uniform samples in [from, to).")
def("exponential_", function(x, ...)
  local a, o = random_args("exponential_", x, {1}, ...)
  if not (a[1] > 0) then fail("exponential_", "lambd must be > 0, got " .. tostring(a[1])) end
  -- -log(1 - U) / lambda, U in [0, 1): never log(0)
  return x:copy_((-tide.rand(x:shape(), o)):log1p() * (-1 / a[1]))
end, "x:exponential_([lambd = 1] [, {generator}]) -> x filled with exponential samples of rate lambd.")
def("bernoulli_", function(x, ...)
  local a, o = random_args("bernoulli_", x, {0.5}, ...)
  return x:copy_(x:bernoulli(a[1], {generator = o.generator}))
end, "x:bernoulli_([p = 0.5] [, {generator}]) -> x filled with 0/1 draws of probability p (a number or a tensor broadcast to x).")
def("random_", function(x, ...)
  local a, o = random_args("random_", x, {}, ...)
  local lo, hi = a[1], a[2]
  if hi == nil then lo, hi = 0, lo end
  if math.type(lo) ~= "integer" or math.type(hi) ~= "integer" then fail("random_", "expected integer bounds [from,] to") end
  return x:copy_(tide.randint(lo, hi, x:shape(), {generator = o.generator}))
end, "x:random_([from,] to [, {generator}]) -> x filled with integers uniform in [from, to) (from 0 when left out).")

-- ---- NaN-aware and paired reductions -------------------------------------------------------

local function nan_zeroed(x) return tide.where(x:isnan(), tide.zeros({}, {dtype = x:dtype()}), x) end
def("nansum", function(x, ...) return nan_zeroed(x):sum(...) end, "x:nansum([dims, opts]) -> sum treating NaN as 0.")
def("nanmean", function(x, ...)
  local ok = x:isnan():logical_not():to(x:dtype())
  return nan_zeroed(x):sum(...) / ok:sum(...)
end, "x:nanmean([dims, opts]) -> mean over the non-NaN values.")
def("aminmax", function(x, o)
  local d = o and o.dim
  local keep = o and o.keepdim
  if d then return x:amin(d, {keepdim = keep}), x:amax(d, {keepdim = keep}) end
  return x:amin(), x:amax()
end, "x:aminmax([{dim, keepdim}]) -> min, max.")
-- var's arguments for the mean: the same, less var's own options (correction, unbiased)
local function mean_args(...)
  local args, n = {...}, select("#", ...)
  for i = 1, n do
    local a = args[i]
    if type(a) == "table" and (a.correction ~= nil or a.unbiased ~= nil) then
      local c = {}
      for k, v in pairs(a) do if k ~= "correction" and k ~= "unbiased" then c[k] = v end end
      args[i] = c
    end
  end
  return table.unpack(args, 1, n)
end
def("var_mean", function(x, ...) return x:var(...), x:mean(mean_args(...)) end, "x:var_mean(dims, opts) -> var, mean (opts as var's: correction, keepdim).")
def("std_mean", function(x, ...) return x:std(...), x:mean(mean_args(...)) end, "x:std_mean(dims, opts) -> std, mean (opts as std's: correction, keepdim).")

-- ---- elementwise -------------------------------------------------------------------------

-- a Lua number as the 0-d tensor it acts as next to `like` (Tide's tensor-number rule: an
-- integer keeps like's type, a float makes an integer or bool tensor f32)
local function tens(v, like, fn)
  if tide.is_tensor(v) then return v end
  if type(v) ~= "number" and type(v) ~= "boolean" then
    fail(fn, "expected a tensor or number operand, got " .. type(v))
  end
  local d = like:dtype()
  if math.type(v) == "float" and (d == "i64" or d == "bool") then d = "f32" end
  if d == "bool" then d = "i64" end
  return tide.full({}, v, {dtype = d})
end
local function float_of(x) if x:dtype() == "i64" or x:dtype() == "bool" then return x:to("f32") end return x end
-- the dtype a op b would have (promotion only: two empty operands)
local function result_dtype(a, b)
  return (a:reshape(-1):narrow(1, 1, 0) + b:reshape(-1):narrow(1, 1, 0)):dtype()
end

local signbit
def("fmod", function(x, y)
  -- C's fmod is |x| mod |y| (exact: both operands non-negative) with x's sign; remainder
  -- alone takes the divisor's sign
  y = tens(y, x, "fmod")
  if x:is_complex() or y:is_complex() then
    fail("fmod", ("not defined for complex tensors (got %s and %s)"):format(x:dtype(), y:dtype()))
  end
  if (x:dtype() == "i64" or x:dtype() == "bool") and (y:dtype() == "i64" or y:dtype() == "bool") then
    -- exact, even for math.mininteger; an integer divisor of 0 gives 0 (as NumPy, and as % here)
    local r = x - y * x:div(y, {rounding_mode = "trunc"})
    return tide.where(y:eq(0), tide.zeros({}, {dtype = r:dtype()}), r)
  end
  local xd, yd = x:detach(), y:detach()
  local r = xd:abs():remainder(yd:abs())
  r = tide.where(signbit(xd), -r, r)
  if not (x.requires_grad or y.requires_grad) or not tide.is_grad_enabled() then return r end
  -- gradients of x - trunc(x / y) y with the quotient held: 1 for x (at 0 too, where the
  -- exact path's abs would give 0) and -trunc(x / y) for y
  local q = (xd / yd):trunc()
  q = tide.where(q:isfinite(), q, tide.zeros({}, {dtype = q:dtype()}))
  return with_grad_of(r, x - y * q)
end, "x:fmod(y) -> x - trunc(x / y) * y, computed exactly (the sign of x, as C fmod and torch.fmod).")
def("atan2", renamed("atan2", {"complex"}, function(y, x)
  y = float_of(y)
  x = float_of(tens(x, y, "atan2"))
  local xd, yd = x:detach(), y:detach()
  local v = tide.complex(xd, yd):angle()
  if not (x.requires_grad or y.requires_grad) or not tide.is_grad_enabled() then return v end
  -- d atan2 = (x dy - y dx) / (x^2 + y^2), 0 at the origin (torch): the gradient of
  -- (xd y - yd x) / r2, whose value is exactly 0 (the same two products)
  local r2 = xd * xd + yd * yd
  r2 = tide.where(r2:eq(0), tide.ones({}, {dtype = r2:dtype()}), r2)
  return with_grad_of(v, (xd * y - yd * x) / r2)
end), "y:atan2(x) -> the angle of (x, y) in (-pi, pi].")
T.arctan2 = T.atan2; tide.arctan2 = tide.atan2
def("hypot", renamed("hypot", {"complex"}, function(x, y)
  x = float_of(x)
  y = float_of(tens(y, x, "hypot"))
  local v = tide.complex(x:detach(), y:detach()):abs()
  if x.requires_grad or y.requires_grad then v = with_grad_of(v, (x * x + y * y):sqrt()) end
  return v
end), "x:hypot(y) -> sqrt(x^2 + y^2) without overflow.")
def("logaddexp", function(a, b)
  a = float_of(a); b = tens(b, a, "logaddexp")
  local m = tide.maximum(a, b)
  local d = (a - b):abs()
  -- equal infinities give d = NaN: the result is m itself
  return tide.where(d:isnan():logical_and(m:isinf()), m, m + (-d):exp():log1p())
end, "a:logaddexp(b) -> log(exp(a) + exp(b)) without overflow.")
def("exp2", function(x)
  if x:dtype() == "c64" or x:dtype() == "c128" then
    -- exp(z ln 2) with ln 2 real: a complex ln 2 + 0i would make inf * 0 = NaN parts
    local ln2 = math.log(2)
    return tide.complex(x:real() * ln2, x:imag() * ln2):exp()
  end
  return tide.pow(2, float_of(x))
end, "x:exp2() -> 2^x.")
local function clamp_bound(fn, v)
  if type(v) ~= "number" and not tide.is_tensor(v) then
    error(("%s: expected a number or tensor bound, got %s"):format(fn, type(v)), 3)
  end
  return v
end
def("clamp_min", function(x, lo) return x:clamp({min = clamp_bound("clamp_min", lo)}) end, "x:clamp_min(lo) -> x:clamp{min = lo}.")
def("clamp_max", function(x, hi) return x:clamp({max = clamp_bound("clamp_max", hi)}) end, "x:clamp_max(hi) -> x:clamp{max = hi}.")
-- native: reads the sign bit itself, so -0.0 and a negative NaN count as negative
function signbit(x) return x:signbit() end
def("copysign", function(x, y)
  y = tens(y, x, "copysign")
  -- to the float result first: abs of the i64 minimum would wrap to itself
  local a = x:to(result_dtype(float_of(x), float_of(y))):abs()
  -- y's gradient is zero, but it is one (torch), so y.grad is zeros rather than nil
  return with_grad_of(tide.where(signbit(y), -a, a), y * 0)
end, "x:copysign(y) -> |x| with y's sign (-0.0 counts as negative).")
def("sgn", function(x)
  if x:dtype() == "c64" or x:dtype() == "c128" then
    local a = x:abs()
    return tide.where(a:eq(0), x * 0, x / a:to(x:dtype()))
  end
  return x:sign()
end, "x:sgn() -> x / |x| for complex (0 at 0), sign(x) otherwise.")
local function nan_to_num(x, o, posinf, neginf)
  -- torch's positional form: nan_to_num(nan, posinf, neginf)
  if type(o) == "number" or (o == nil and (posinf ~= nil or neginf ~= nil)) then
    o = {nan = o, posinf = posinf, neginf = neginf}
  end
  o = check_opts("nan_to_num", o, {"nan", "posinf", "neginf"})
  if x:dtype() == "c64" or x:dtype() == "c128" then  -- each part (torch)
    return tide.complex(nan_to_num(x:real(), o), nan_to_num(x:imag(), o))
  end
  if x:dtype() ~= "f32" and x:dtype() ~= "f64" then return x:clone() end
  local big = x:dtype() == "f32" and 3.4028234663852886e38 or 1.7976931348623157e308
  local r = tide.where(x:isnan(), tens(o.nan or 0, x, "nan_to_num"), x)
  r = tide.where(r:isposinf(), tens(o.posinf or big, x, "nan_to_num"), r)
  return tide.where(r:isneginf(), tens(o.neginf or -big, x, "nan_to_num"), r)
end
def("nan_to_num", nan_to_num, "x:nan_to_num([{nan = 0, posinf, neginf}] | [nan, posinf, neginf]) -> NaN and infinities replaced (by default with 0 and the dtype's largest finite values).")
tide.logical_not = T.logical_not

local function isclose(a, b, o)
  o = check_opts("isclose", o, {"rtol", "atol", "equal_nan"})
  local rtol, atol = o.rtol or 1e-5, o.atol or 1e-8
  b = tens(b, a, "isclose")
  -- integers compare in f64 (f32 would merge neighbours above 2^24)
  local function wide(t) return (t:dtype() == "i64" or t:dtype() == "bool") and t:to("f64") or t end
  local af, bf = wide(a), wide(b)
  local close = (af - bf):abs():le((bf:abs() * rtol) + atol):logical_and(af:isfinite()):logical_and(bf:isfinite())
  close = close:logical_or(a:eq(b))   -- equal infinities
  if o.equal_nan then close = close:logical_or(af:isnan():logical_and(bf:isnan())) end
  return close
end
def("isclose", isclose, "a:isclose(b [, {rtol = 1e-5, atol = 1e-8, equal_nan = false}]) -> |a - b| <= atol + rtol |b| elementwise.")
def("allclose", function(a, b, o) return isclose(a, b, o):all():item() end, "a:allclose(b [, opts]) -> whether every element isclose.")
def("equal", function(a, b)
  local sa, sb = a:shape(), b:shape()
  if #sa ~= #sb then return false end
  for i = 1, #sa do if sa[i] ~= sb[i] then return false end end
  return a:eq(b):all():item()
end, "a:equal(b) -> true when a and b have one shape and equal elements.")

-- ---- products ------------------------------------------------------------------------------

def("mm", function(a, b)
  if a:dim() ~= 2 or b:dim() ~= 2 then fail("mm", ("expected two 2-d tensors, got %d-d and %d-d"):format(a:dim(), b:dim())) end
  return a:matmul(b)
end, "a:mm(b) -> a matrix product of two 2-d tensors.")
def("bmm", function(a, b)
  if a:dim() ~= 3 or b:dim() ~= 3 then fail("bmm", ("expected two 3-d tensors, got %d-d and %d-d"):format(a:dim(), b:dim())) end
  if a:size(1) ~= b:size(1) then fail("bmm", ("batch sizes differ: %d and %d"):format(a:size(1), b:size(1))) end
  return a:matmul(b)
end, "a:bmm(b) -> batched matrix products of (B, n, k) and (B, k, m).")

local function tensordot(a, b, dims)
  dims = dims == nil and 2 or dims
  if type(dims) ~= "number" and (type(dims) ~= "table" or dims[1] == nil or dims[2] == nil) then
    fail("tensordot", "expected dims as a number or {dims_a, dims_b}, got " .. type(dims))
  end
  local da, db = {}, {}
  if type(dims) == "number" then
    if math.type(dims) ~= "integer" or dims < 0 or dims > math.min(a:dim(), b:dim()) then
      fail("tensordot", ("expected 0 to %d dims to contract, got %s"):format(math.min(a:dim(), b:dim()), tostring(dims)))
    end
    for i = 1, dims do da[i] = a:dim() - dims + i; db[i] = i end
  else
    for i, d in ipairs(as_list(dims[1])) do da[i] = dim_of("tensordot", d, a:dim()) end
    for i, d in ipairs(as_list(dims[2])) do db[i] = dim_of("tensordot", d, b:dim()) end
  end
  if #da ~= #db then fail("tensordot", "expected as many dims of a as of b") end
  local ina, inb = {}, {}
  for _, d in ipairs(da) do ina[d] = true end
  for _, d in ipairs(db) do inb[d] = true end
  -- a as (free, contracted), b as (contracted, free): one matmul
  local pa, pb, fa, fb, k = {}, {}, {}, {}, 1
  for d = 1, a:dim() do if not ina[d] then pa[#pa + 1] = d; fa[#fa + 1] = a:size(d) end end
  for i, d in ipairs(da) do
    pa[#pa + 1] = d
    if a:size(d) ~= b:size(db[i]) then fail("tensordot", ("contracted sizes differ: %d and %d"):format(a:size(d), b:size(db[i]))) end
    k = k * a:size(d)
  end
  for _, d in ipairs(db) do pb[#pb + 1] = d end
  for d = 1, b:dim() do if not inb[d] then pb[#pb + 1] = d; fb[#fb + 1] = b:size(d) end end
  local m, n = 1, 1
  for _, s in ipairs(fa) do m = m * s end
  for _, s in ipairs(fb) do n = n * s end
  local r = a:permute(pa):reshape(m, k):matmul(b:permute(pb):reshape(k, n))
  local out = {}
  for _, s in ipairs(fa) do out[#out + 1] = s end
  for _, s in ipairs(fb) do out[#out + 1] = s end
  return r:reshape(out)
end
def("tensordot", tensordot, "tide.tensordot(a, b [, dims = 2 | {dims_a, dims_b}]) -> a and b contracted over the last dims of a and the first of b (or the listed 1-based dims), through one matmul.")
def("inner", function(a, b)
  if a:dim() == 0 or b:dim() == 0 then return a * b end
  return tensordot(a, b, {{-1}, {-1}})
end, "a:inner(b) -> the sum over the last dims of a and b of their products.")
local function cross(a, b, o)
  local d = o and (type(o) == "table" and check_opts("cross", o, {"dim"}).dim or o)
  if d == nil then
    d = nil
    for k = 1, a:dim() do if a:size(k) == 3 then d = k; break end end
    if d == nil then fail("cross", "no dim of size 3") end
  end
  d = dim_of("cross", d, a:dim())
  if a:size(d) ~= 3 or b:dim() ~= a:dim() or b:size(d) ~= 3 then
    fail("cross", ("expected size 3 along dim %d in both, got %d and %s"):format(d, a:size(d), b:dim() == a:dim() and b:size(d) or "a different rank"))
  end
  local function c(t, i) return t:select(d, i) end
  return tide.stack({c(a, 2) * c(b, 3) - c(a, 3) * c(b, 2), c(a, 3) * c(b, 1) - c(a, 1) * c(b, 3),
                     c(a, 1) * c(b, 2) - c(a, 2) * c(b, 1)}, d)
end
def("cross", cross, "a:cross(b [, dim | {dim}]) -> the cross product of 3-vectors along dim (the first size-3 dim by default).")

-- ---- sequences and search -----------------------------------------------------------------

function tide.logspace(a, b, steps, o)
  if type(o) == "number" then o = {base = o} end  -- torch.logspace(start, end, steps, base)
  o = check_opts("logspace", o, {"base", "dtype", "requires_grad"})
  if type(a) ~= "number" or type(b) ~= "number" then
    fail("logspace", ("expected numbers start and end, got %s and %s"):format(type(a), type(b)))
  end
  if not (type(steps) == "number" and math.tointeger(steps)) then fail("logspace", "expected an integer steps, got " .. tostring(steps)) end
  local base = o.base or 10
  local e = tide.linspace(a, b, steps, {dtype = "f64"})
  local r = tide.pow(base, e):to(o.dtype or "f32")
  if o.requires_grad then r:requires_grad_() end
  return r
end
tide.doc(tide.logspace, "tide.logspace(start, end, steps [, {base = 10, dtype, requires_grad}]) -> base^linspace(start, end, steps).")

function tide.bucketize(values, boundaries, o)
  return tide.searchsorted(boundaries, values, o)
end
tide.doc(tide.bucketize, "tide.bucketize(values, boundaries [, {right = false}]) -> torch.bucketize's bucket positions, 1-based as every index Tide returns (1 .. #boundaries + 1; searchsorted(boundaries, values)).")

-- ---- function forms of methods -----------------------------------------------------------

for _, name in ipairs({"reshape", "transpose", "permute", "t", "narrow", "select", "squeeze", "unsqueeze",
                       "flatten", "clone", "masked_fill", "numel", "clip", "square", "trunc", "erf"}) do
  if tide[name] == nil and T[name] ~= nil then
    local m = T[name]
    tide[name] = function(x, ...) return m(x, ...) end
  end
end

-- ---- tide.linalg additions -----------------------------------------------------------------

local linalg = tide.linalg
function linalg.vector_norm(x, ord, o)
  o = check_opts("vector_norm", o, {"dim", "keepdim"})
  if ord ~= nil and type(ord) ~= "number" then fail("vector_norm", "expected a number ord, got " .. type(ord)) end
  return x:norm(ord or 2, o.dim, {keepdim = o.keepdim})
end
tide.doc(linalg.vector_norm, "tide.linalg.vector_norm(x [, ord = 2, {dim, keepdim}]) -> the vector norm over dim (all elements by default).")
function linalg.norm(x, ord, o)
  o = check_opts("norm", o, {"dim", "keepdim"})
  -- torch: an ord without dims is only defined for vectors and matrices
  if ord ~= nil and o.dim == nil and x:dim() > 2 then
    fail("norm", ("an ord with no dim needs a 1-d or 2-d tensor, got shape %s (pass {dim = ...})"):format(table.concat(x:shape(), "x")))
  end
  if type(ord) == "string" or (o.dim and type(o.dim) == "table" and #o.dim == 2) or (ord ~= nil and o.dim == nil and x:dim() == 2) then
    return linalg.matrix_norm(x, ord or "fro", o.dim and {dim = o.dim, keepdim = o.keepdim} or nil)
  end
  return linalg.vector_norm(x, ord, o)
end
tide.doc(linalg.norm, "tide.linalg.norm(x [, ord, {dim, keepdim}]) -> a matrix norm for string ords, 2-d x with an ord, or two dims; a vector norm otherwise (torch.linalg.norm).")
function linalg.matrix_rank(a, o)
  o = check_opts("matrix_rank", o, {"atol", "rtol", "tol", "hermitian"})
  if a:dim() >= 2 and (a:size(-1) == 0 or a:size(-2) == 0) then
    local shp = a:shape(); shp[#shp] = nil; shp[#shp] = nil
    return tide.zeros(shp, {dtype = "i64"})
  end
  local s = linalg.svdvals(a)
  local eps = (a:dtype() == "f32" or a:dtype() == "c64") and 1.1920928955078125e-07 or 2.220446049250313e-16
  local smax = s:amax(-1, {keepdim = true})
  -- torch: max(atol, rtol * smax), rtol defaulting to max(m, n) eps when no atol is given
  local atol = o.atol or o.tol
  local rtol = o.rtol or (atol == nil and math.max(a:size(-1), a:size(-2)) * eps or 0)
  local bound = tide.maximum(smax * rtol, tens(atol or 0, s, "matrix_rank"))
  return s:gt(bound):to("i64"):sum(-1)
end
tide.doc(linalg.matrix_rank, "tide.linalg.matrix_rank(a [, {atol, rtol}]) -> the number of singular values above max(s) * max(m, n) * eps (or the given tolerances).")
function linalg.cond(a, p)
  if p == nil or p == 2 then
    local s = linalg.svdvals(a)
    return s:amax(-1) / s:amin(-1)
  end
  local ok, inv = pcall(linalg.inv, a)
  if not ok then
    if tostring(inv):find("singular") then return tide.full({}, math.huge, {dtype = (a:dtype() == "f32" or a:dtype() == "c64") and "f32" or "f64"}) end
    error(inv, 0)
  end
  return linalg.matrix_norm(a, p) * linalg.matrix_norm(inv, p)
end
tide.doc(linalg.cond, "tide.linalg.cond(a [, p = 2]) -> the condition number (ratio of extreme singular values for p = 2).")
function linalg.matrix_power(a, n)
  if math.type(n) ~= "integer" then fail("matrix_power", "expected an integer power, got " .. tostring(n)) end
  if a:dim() < 2 or a:size(-1) ~= a:size(-2) then fail("matrix_power", "expected square matrices") end
  if n < 0 then a, n = linalg.inv(a), -n end
  local r = nil
  local p = a
  while n > 0 do
    if n % 2 == 1 then r = r and r:matmul(p) or p end
    n = n // 2
    if n > 0 then p = p:matmul(p) end
  end
  if r == nil then
    local e = tide.eye(a:size(-1), {dtype = a:dtype()})
    return e:expand(a:shape()):contiguous()
  end
  return r == a and r:clone() or r  -- a new tensor even for n = 1 (torch)
end
tide.doc(linalg.matrix_power, "tide.linalg.matrix_power(a, n) -> a^n by repeated squaring (n < 0 inverts first; n = 0 the identity).")
function linalg.multi_dot(ts)
  if type(ts) ~= "table" or #ts < 2 then fail("multi_dot", "expected a table of at least 2 tensors") end
  local r = ts[1]
  for i = 2, #ts do r = r:matmul(ts[i]) end
  return r
end
tide.doc(linalg.multi_dot, "tide.linalg.multi_dot({a, b, c, ...}) -> a @ b @ c ... (left to right).")
function linalg.vecdot(a, b, o)
  local d = o and o.dim or -1
  return (a:conj() * b):sum(d)
end
tide.doc(linalg.vecdot, "tide.linalg.vecdot(a, b [, {dim = -1}]) -> sum of conj(a) * b over dim.")
function linalg.cross(a, b, o)  -- torch.linalg.cross: dim -1 by default
  o = check_opts("cross", o, {"dim"})
  return cross(a, b, {dim = o.dim or -1})
end

-- the helpers tensor_extras.lua builds on
tide._api = {def = def, fail = fail, check_opts = check_opts, dim_of = dim_of, tens = tens}
