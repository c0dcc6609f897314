-- tide.F convolution, pooling and resizing against NumPy references (Tests/fixtures/conv,
-- written by scripts/fixtures/gen_conv.py): forward and the gradient of sum(y * g) for every
-- input, in f64 and f32, on contiguous and strided inputs; gradcheck in f64 of every function
-- wrt every input; the threaded path against the single-threaded one; bad-input errors.
local S = require "support"
local here = debug.getinfo(1, "S").source:sub(2):match("^(.*)/") or "."
local dir = here .. "/../../fixtures/conv/"
local cases = dofile(dir .. "cases.lua")
local data = tide.io.load(dir .. "conv.npz")
local F = tide.F

local function maxdiff(a, b)
  return (a:to("f64") - b:to("f64")):abs():max():item()
end

local function same_shape(got, want, what)
  local g, w = got:shape(), want:shape()
  assert(#g == #w and table.concat(g, "x") == table.concat(w, "x"),
    ("%s: shape %s, NumPy gives %s"):format(what, table.concat(g, "x"), table.concat(w, "x")))
end

-- |got - want| <= tol * (1 + |want|) elementwise
local function check(got, want, tol, what)
  same_shape(got, want, what)
  local err = (got:to("f64") - want):abs() - (want:abs() + 1) * tol
  local worst = err:max():item()
  assert(worst <= 0, ("%s: off by %.3g beyond the tolerance %g"):format(what, worst, tol))
end

-- a strided view holding the same values as t (transposed storage, transposed back)
local function strided(t)
  local v = t:transpose(-1, -2):contiguous():transpose(-1, -2)
  assert(not v:is_contiguous() or t:size(-1) == 1 or t:size(-2) == 1)
  return v
end

-- ---------------------------------------------------------------- fixtures
local ran = 0
for _, c in ipairs(cases) do
  local fn = assert(load("local " .. table.concat(c.inputs, ", ") .. " = ...; return " .. c.expr, "=" .. c.name, "t"))
  for _, variant in ipairs{{"f64", false, 1e-10}, {"f32", false, 2e-4}, {"f64", true, 1e-10}} do
    local dtype, use_strided, tol = variant[1], variant[2], variant[3]
    local what = ("%s [%s%s]"):format(c.name, dtype, use_strided and ", strided" or "")
    local args = {}
    for i, n in ipairs(c.inputs) do
      local t = data[c.name .. "." .. n]:detach():to(dtype)
      if use_strided and t:dim() >= 2 then t = strided(t) end
      args[i] = t:requires_grad_()
    end
    local y = fn(table.unpack(args, 1, #c.inputs))
    assert(y:dtype() == dtype, what .. ": result dtype " .. y:dtype())
    check(y, data[c.name .. ".y"], tol, what .. " forward")
    y:backward(data[c.name .. ".g"]:to(dtype))
    for i, n in ipairs(c.inputs) do
      assert(args[i].grad, what .. ": no gradient for " .. n)
      check(args[i].grad, data[c.name .. ".d" .. n], tol, what .. " d" .. n)
    end
    ran = ran + 1
  end
end
assert(ran == 3 * #cases and #cases >= 40)

-- ---------------------------------------------------------------- gradcheck (f64)
local function r(...) return tide.randn({...}, {dtype = "f64"}):requires_grad_() end
local gradchecks = {
  {"conv2d", function(x, w, b) return F.conv2d(x, w, b, {stride = 2, padding = 1}) end, {r(2, 2, 5, 4), r(3, 2, 3, 2), r(3)}},
  {"conv2d groups dilation", function(x, w, b) return F.conv2d(x, w, b, {groups = 2, dilation = {2, 1}, padding = {2, 0}}) end,
    {r(1, 4, 5, 5), r(4, 2, 2, 3), r(4)}},
  {"conv2d depthwise same", function(x, w) return F.conv2d(x, w, nil, {groups = 3, padding = "same"}) end, {r(2, 3, 4, 5), r(3, 1, 2, 3)}},
  {"conv2d pointwise", function(x, w, b) return F.conv2d(x, w, b) end, {r(2, 3, 3, 2), r(2, 3, 1, 1), r(2)}},
  {"conv1d", function(x, w, b) return F.conv1d(x, w, b, {stride = 2, padding = 1, dilation = 2}) end, {r(2, 2, 9), r(3, 2, 3), r(3)}},
  {"conv_transpose2d", function(x, w, b) return F.conv_transpose2d(x, w, b, {stride = 2, padding = 1, output_padding = 1}) end,
    {r(2, 2, 3, 3), r(2, 3, 3, 2), r(3)}},
  {"conv_transpose2d groups", function(x, w, b) return F.conv_transpose2d(x, w, b, {groups = 2, dilation = 2, stride = {1, 2}}) end,
    {r(1, 4, 3, 2), r(4, 1, 2, 2), r(2)}},
  {"max_pool2d", function(x) return F.max_pool2d(x, 3, {stride = 2, padding = 1}) end, {r(2, 2, 5, 6)}},
  {"max_pool2d dilated", function(x) return F.max_pool2d(x, {2, 3}, {stride = 1, dilation = 2}) end, {r(1, 2, 5, 7)}},
  {"avg_pool2d", function(x) return F.avg_pool2d(x, 3, {stride = 2, padding = 1}) end, {r(2, 2, 5, 6)}},
  {"avg_pool2d exclude pad", function(x) return F.avg_pool2d(x, {3, 2}, {stride = 1, padding = {1, 1}, count_include_pad = false}) end,
    {r(1, 2, 4, 5)}},
  {"interpolate nearest", function(x) return F.interpolate(x, {size = {5, 7}}) end, {r(1, 2, 3, 4)}},
  {"interpolate bilinear", function(x) return F.interpolate(x, {scale_factor = 1.5, mode = "bilinear"}) end, {r(2, 1, 3, 4)}},
  {"interpolate bilinear align", function(x) return F.interpolate(x, {size = {2, 6}, mode = "bilinear", align_corners = true}) end,
    {r(1, 2, 4, 3)}},
}
for _, gc in ipairs(gradchecks) do
  local ok, report = tide.autograd.gradcheck(gc[2], gc[3])
  assert(ok, gc[1] .. ": " .. tostring(report))
end

-- ---------------------------------------------------------------- threads, batches, layouts
do
  -- enough work for the split over samples (6 x 2 groups x 16 x 72 x 256 multiply-adds, above
  -- the 2^21 threshold); results must not depend on the thread count
  local x = tide.randn(6, 16, 16, 16):requires_grad_()
  local w = tide.randn(32, 8, 3, 3):requires_grad_()
  local b = tide.randn(32):requires_grad_()
  local g = tide.randn(6, 32, 16, 16)
  local threads = tide.get_num_threads()
  local results = {}
  for k, n in ipairs{1, 2} do
    tide.set_num_threads(n)
    x.grad, w.grad, b.grad = nil, nil, nil
    local y = F.conv2d(x, w, b, {padding = 1, groups = 2})
    y:backward(g)
    results[k] = {y = y:detach(), dx = x.grad, dw = w.grad, db = b.grad}
  end
  tide.set_num_threads(threads)
  for _, key in ipairs{"y", "dx", "dw", "db"} do
    assert(maxdiff(results[1][key], results[2][key]) == 0, key .. " differs between 1 and 2 threads")
  end
  -- each sample alone gives the same result as in the batch
  for i = 1, 6 do
    local yi = F.conv2d(x[{{i, i}}]:detach(), w:detach(), b:detach(), {padding = 1, groups = 2})
    S.close(yi[1], results[1].y[i], 1e-5)  -- one sample: OpenBLAS may thread the GEMM (other rounding)
  end
  -- conv_transpose2d is the adjoint of conv2d: <conv2d(x, w), v> = <x, conv_transpose2d(v, w)>
  -- (height 10 at stride 2 needs output_padding 1 to come back to 10)
  local xd, wd = tide.randn(2, 6, 10, 8, {dtype = "f64"}), tide.randn(4, 3, 3, 2, {dtype = "f64"})
  local opts = {stride = {2, 1}, padding = {1, 1}, dilation = {1, 2}, groups = 2}
  local y = F.conv2d(xd, wd, nil, opts)
  local v = tide.randn(y:shape(), {dtype = "f64"})
  opts.output_padding = {1, 0}
  local t = F.conv_transpose2d(v, wd, nil, opts)
  same_shape(t, xd, "conv_transpose2d adjoint")
  S.close((y * v):sum():item(), (xd * t):sum():item(), 1e-10)
  -- an empty batch gives an empty result and zero weight gradients
  local e = F.conv2d(tide.zeros(0, 2, 5, 5), tide.ones(3, 2, 3, 3))
  assert(e:size(1) == 0 and e:size(2) == 3 and e:size(3) == 3)
  local we = tide.ones(3, 2, 3, 3):requires_grad_()
  F.conv2d(tide.zeros(0, 2, 5, 5), we):sum():backward()
  assert(we.grad:abs():sum():item() == 0)
end

-- ---------------------------------------------------------------- max pooling details
do
  -- a NaN in a window wins (as in torch); ties go to the first position in the window
  local x = tide.tensor{{{{1, 0 / 0}, {3, 2}}}}
  assert(F.max_pool2d(x, 2)[1][1][1]:isnan():item())
  local t = tide.tensor({{{{5, 5}, {5, 1}}}}, "f64"):requires_grad_()
  F.max_pool2d(t, 2):sum():backward()
  S.close(t.grad, {1, 0, 0, 0})
  -- padding never wins, even over negative values
  local n = tide.full({1, 1, 2, 2}, -7)
  S.close(F.max_pool2d(n, 2, {stride = 1, padding = 1}), tide.full({1, 1, 3, 3}, -7))
end

-- ---------------------------------------------------------------- bad input
local x4, w4 = tide.randn(2, 3, 8, 8), tide.randn(8, 3, 3, 3)
S.checkerror("conv2d: input has 3 channels but weight expects 4 (weight shape 8x4x3x3, groups 1)",
  F.conv2d, x4, tide.randn(8, 4, 3, 3))
S.checkerror("conv2d: input must be 4-d (B, C, H, W), got shape 3x8x8 (3-d)", F.conv2d, tide.randn(3, 8, 8), w4)
S.checkerror("conv2d: weight must be 4-d", F.conv2d, x4, tide.randn(8, 3, 3))
S.checkerror("conv2d: input has 3 channels, which groups = 2 does not divide", F.conv2d, x4, w4, nil, {groups = 2})
S.checkerror("conv2d: weight has 6 output channels, which groups = 4 does not divide",
  F.conv2d, tide.randn(1, 4, 5, 5), tide.randn(6, 1, 3, 3), {groups = 4})
S.checkerror("conv2d: input has 4 channels but weight expects 6 (weight shape 6x3x3x3, groups 2)",
  F.conv2d, tide.randn(1, 4, 5, 5), tide.randn(6, 3, 3, 3), {groups = 2})
S.checkerror("conv2d: bias must have shape (8)", F.conv2d, x4, w4, tide.randn(4))
S.checkerror("conv2d: weight is f64 but input is f32", F.conv2d, x4, w4:to("f64"))
S.checkerror("conv2d: input must be f32 or f64, got i64", F.conv2d, x4:to("i64"), w4)
S.checkerror("conv2d: weight sizes must be positive", F.conv2d, x4, tide.zeros(8, 3, 0, 3))
S.checkerror("conv2d: stride must be positive, got 0", F.conv2d, x4, w4, {stride = 0})
S.checkerror("conv2d: padding must be non-negative, got -1", F.conv2d, x4, w4, {padding = -1})
S.checkerror("conv2d: groups must be at least 1, got 0", F.conv2d, x4, w4, {groups = 0})
S.checkerror("conv2d: stride must be an integer or a table of 2 integers, got a table of 3", F.conv2d, x4, w4, {stride = {1, 2, 3}})
S.checkerror("conv2d: stride must be an integer or a table of 2 integers, got 1.5", F.conv2d, x4, w4, {stride = 1.5})
S.checkerror("conv2d: unknown option 'strides'", F.conv2d, x4, w4, {strides = 2})
S.checkerror("conv2d: padding = \"same\" needs stride 1, got stride 2x2", F.conv2d, x4, w4, {padding = "same", stride = 2})
S.checkerror("conv2d: padding must be a number, a table of 2, \"same\" or \"valid\", got \"full\"", F.conv2d, x4, w4, {padding = "full"})
S.checkerror("is smaller than the kernel's span 5x5", F.conv2d, tide.randn(1, 3, 4, 8), w4, {dilation = 2})
S.checkerror("bad argument #1 to 'conv2d' (tensor expected, got nil)", F.conv2d, nil, w4)
S.checkerror("bad argument #4 to 'conv2d' (options table expected, got number)", F.conv2d, x4, w4, nil, 3)
S.checkerror("conv1d: input must be 3-d (B, C, L), got shape 2x3x8x8 (4-d)", F.conv1d, x4, tide.randn(4, 3, 3))
S.checkerror("conv1d: input has 3 channels but weight expects 2 (weight shape 4x2x3, groups 1)",
  F.conv1d, tide.randn(2, 3, 8), tide.randn(4, 2, 3))
S.checkerror("conv1d: input length 2 (2 with padding) is smaller than the kernel's span 3",
  F.conv1d, tide.randn(2, 3, 2), tide.randn(4, 3, 3))
S.checkerror("conv_transpose2d: input has 3 channels but weight expects 4 (weight shape 4x2x3x3, groups 1)",
  F.conv_transpose2d, x4, tide.randn(4, 2, 3, 3))
S.checkerror("conv_transpose2d: output_padding must be smaller than stride or dilation",
  F.conv_transpose2d, x4, tide.randn(3, 2, 3, 3), {stride = 2, output_padding = 2})
S.checkerror("conv_transpose2d: output size would be", F.conv_transpose2d, tide.randn(1, 3, 1, 1), tide.randn(3, 2, 1, 1), {padding = 1})
S.checkerror("max_pool2d: input must be 4-d (B, C, H, W), got shape 8x8 (2-d)", F.max_pool2d, tide.randn(8, 8), 2)
S.checkerror("max_pool2d: kernel_size must be positive, got 0", F.max_pool2d, x4, 0)
S.checkerror("max_pool2d: padding must be at most half the (dilated) kernel size", F.max_pool2d, x4, 2, {padding = 2})
S.checkerror("max_pool2d: input 8x8 (8x8 with padding) is smaller than the kernel's span 9x9", F.max_pool2d, x4, 9)
S.checkerror("max_pool2d: input must be f32 or f64, got i64", F.max_pool2d, x4:to("i64"), 2)
S.checkerror("bad argument #2 to 'max_pool2d' (number or table expected, got no value)", F.max_pool2d, x4)
S.checkerror("max_pool2d: kernel_size must be an integer or a table of 2 integers, got a table of 1", F.max_pool2d, x4, {2})
S.checkerror("avg_pool2d: unknown option 'dilation'", F.avg_pool2d, x4, 2, {dilation = 2})
S.checkerror("avg_pool2d: divisor_override must be non-zero, got 0", F.avg_pool2d, x4, 2, {divisor_override = 0})
S.checkerror("interpolate: expected size or scale_factor, got neither", F.interpolate, x4, {mode = "nearest"})
S.checkerror("interpolate: expected either size or scale_factor, got both", F.interpolate, x4, {size = 4, scale_factor = 2})
S.checkerror("interpolate: size must be positive, got 0", F.interpolate, x4, {size = {0, 4}})
S.checkerror("interpolate: scale_factor must be positive and finite", F.interpolate, x4, {scale_factor = -1})
S.checkerror("interpolate: output size would be 0x0", F.interpolate, x4, {scale_factor = 0.1})
S.checkerror("interpolate: mode must be \"nearest\" or \"bilinear\", got \"bicubic\"", F.interpolate, x4, {size = 4, mode = "bicubic"})
S.checkerror("interpolate: align_corners can only be set with mode \"bilinear\"", F.interpolate, x4, {size = 4, align_corners = true})
S.checkerror("interpolate: input must be 4-d (B, C, H, W), got shape 3x8x8 (3-d)", F.interpolate, tide.randn(3, 8, 8), {size = 4})
S.checkerror("bad argument #2 to 'interpolate' (options table expected, got no value)", F.interpolate, x4)
