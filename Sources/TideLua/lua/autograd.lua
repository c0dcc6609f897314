-- autograd.lua: the Lua half of tide.autograd (the engine is Swift: TideCore/Autograd).
--
--   local y = tide.no_grad(function() return w * 2 end)   -- nothing recorded
--   local ok, report = tide.autograd.gradcheck(function(a, b) return (a * b):sin() end,
--                                               {tide.randn(3, {dtype = "f64"}):requires_grad_(),
--                                                tide.randn(3, {dtype = "f64"}):requires_grad_()})
local tide = ...
local autograd = tide.autograd

local function with_grad(on, fn, ...)
  local prev = tide.set_grad_enabled(on)
  local r = table.pack(pcall(fn, ...))
  tide.set_grad_enabled(prev)
  if not r[1] then error(r[2], 0) end
  return table.unpack(r, 2, r.n)
end

function tide.no_grad(fn, ...)
  if type(fn) ~= "function" then error("bad argument #1 to 'no_grad' (function expected, got " .. type(fn) .. ")", 2) end
  return with_grad(false, fn, ...)
end
tide.doc(tide.no_grad, "tide.no_grad(fn, ...) -> fn(...) with gradient recording off (restored after, also on error).")

function tide.enable_grad(fn, ...)
  if type(fn) ~= "function" then error("bad argument #1 to 'enable_grad' (function expected, got " .. type(fn) .. ")", 2) end
  return with_grad(true, fn, ...)
end
tide.doc(tide.enable_grad, "tide.enable_grad(fn, ...) -> fn(...) with gradient recording on.")

local function as_list(v)
  if tide.is_tensor(v) then return {v} end
  return v
end

-- gradcheck: for each input element, a central difference of <f(x), v> against the
-- analytic vector-Jacobian product, for a random projection v of every output.
function autograd.gradcheck(fn, inputs, opts)
  opts = opts or {}
  local eps, atol, rtol = opts.eps or 1e-6, opts.atol or 1e-5, opts.rtol or 1e-3
  inputs = as_list(inputs)
  for i, x in ipairs(inputs) do
    if not tide.is_tensor(x) then error("gradcheck: input " .. i .. " is not a tensor", 2) end
    if x.requires_grad and x:dtype() ~= "f64" then
      error("gradcheck: input " .. i .. " requires grad but is " .. x:dtype() .. "; use f64 inputs", 2)
    end
  end
  local gen = tide.Generator(opts.seed or 1234)
  local outs = as_list(fn(table.unpack(inputs)))
  local proj = {}
  for k, y in ipairs(outs) do proj[k] = tide.randn(y:shape(), {dtype = y:dtype(), generator = gen}) end
  local function objective()
    local ys = as_list(fn(table.unpack(inputs)))
    local s = 0
    for k, y in ipairs(ys) do s = s + (y:detach() * proj[k]):sum():item() end
    return s
  end
  -- analytic
  local total
  for k, y in ipairs(outs) do
    if y.requires_grad then
      local t = (y * proj[k]):sum()
      total = total and (total + t) or t
    end
  end
  local wanted = {}
  for i, x in ipairs(inputs) do if x.requires_grad then wanted[#wanted + 1] = i end end
  if #wanted == 0 then error("gradcheck: no input requires grad", 2) end
  local analytic = {}
  if total then
    local xs = {}
    for j, i in ipairs(wanted) do xs[j] = inputs[i] end
    local gs = autograd.grad(total, xs)
    for j, i in ipairs(wanted) do analytic[i] = gs[j] end
  end
  local worst, where = 0, nil
  for _, i in ipairs(wanted) do
    local x = inputs[i]
    local flat = x:detach():view(-1)
    local ga = analytic[i] and analytic[i]:contiguous():view(-1) or tide.zeros(x:numel(), {dtype = "f64"})
    for e = 1, x:numel() do
      local orig = flat[e]
      flat[e] = orig + eps
      local fp = tide.no_grad(objective)
      flat[e] = orig - eps
      local fm = tide.no_grad(objective)
      flat[e] = orig
      local num = (fp - fm) / (2 * eps)
      local ana = ga[e]
      local err = math.abs(num - ana)
      local tol = atol + rtol * math.abs(num)
      if err > tol or err ~= err then
        local msg = string.format("gradcheck: input %d element %d: numerical %.8g vs analytic %.8g (|diff| %.3g > tol %.3g)",
                                  i, e, num, ana, err, tol)
        if opts.raise == false then return false, msg end
        error(msg, 2)
      end
      if err > worst then worst, where = err, {i, e} end
    end
  end
  return true, string.format("gradcheck: ok (max |diff| %.3g)", worst)
end
tide.doc(autograd.gradcheck, "tide.autograd.gradcheck(fn, inputs [, {eps = 1e-6, atol = 1e-5, rtol = 1e-3, raise = true, seed}]) -> true, report. Compares autograd against central differences (f64 inputs), projecting outputs on random directions. Raises on mismatch unless raise = false (then returns false, message).")
