-- Autograd: every differentiable op through gradcheck (f64, central differences), plus the
-- engine's rules: accumulation, retain_graph, in-place detection, no_grad, autograd.grad.
local S = require "support"
local F = tide.F
tide.manual_seed(7)

local function r(...) return tide.randn({...}, {dtype = "f64"}):requires_grad_() end
local function pos(...) return (tide.rand({...}, {dtype = "f64"}) + 0.5):requires_grad_() end
local function check(name, fn, inputs, opts)
  local ok, rep = pcall(tide.autograd.gradcheck, fn, inputs, opts)
  assert(ok, name .. ": " .. tostring(rep))
end

-- the op registry: name, function, inputs
local idx = tide.tensor({{2, 1, 3}, {1, 3, 3}})
local mask = tide.tensor({{true, false, true}, {false, false, true}})
local ops = {
  -- elementwise binary with broadcasting, scalars on either side
  {"add", function(a, b) return a + b end, {r(2, 3), r(3)}},
  {"sub", function(a, b) return a - b end, {r(2, 1), r(1, 3)}},
  {"mul", function(a, b) return a * b end, {r(2, 3), r(2, 3)}},
  {"div", function(a, b) return a / b end, {r(2, 3), pos(3)}},
  {"pow", function(a, b) return a ^ b end, {pos(2, 3), r(2, 3)}},
  {"pow scalar", function(a) return a ^ 3 + 2 ^ a end, {r(4)}},
  {"scalar left", function(a) return 1 - a * 2 / (3 + a * a) end, {r(5)}},
  {"maximum", function(a, b) return tide.maximum(a, b) end, {r(3, 3), r(3)}},
  {"minimum", function(a, b) return tide.minimum(a, b) end, {r(3, 3), r(3, 3)}},
  {"remainder", function(a) return a:remainder(0.7) end, {r(6)}},
  {"unm", function(a) return -a end, {r(3)}},
  {"lerp", function(a, b) return tide.lerp(a, b, 0.3) end, {r(3), r(3)}},
  -- unary
  {"abs", function(a) return a:abs() end, {r(5)}},
  {"exp", function(a) return a:exp() end, {r(5)}},
  {"log", function(a) return a:log() end, {pos(5)}},
  {"log1p", function(a) return a:log1p() end, {pos(5)}},
  {"expm1", function(a) return a:expm1() end, {r(5)}},
  {"sqrt", function(a) return a:sqrt() end, {pos(5)}},
  {"rsqrt", function(a) return a:rsqrt() end, {pos(5)}},
  {"sin", function(a) return a:sin() end, {r(5)}},
  {"cos", function(a) return a:cos() end, {r(5)}},
  {"tan", function(a) return a:tan() end, {r(5) * 0.3}},
  {"tanh", function(a) return a:tanh() end, {r(5)}},
  {"sigmoid", function(a) return a:sigmoid() end, {r(5)}},
  {"relu", function(a) return a:relu() end, {r(5)}},
  {"gelu", function(a) return a:gelu() end, {r(7)}},
  {"gelu tanh", function(a) return a:gelu({approximate = "tanh"}) end, {r(7)}},
  {"silu", function(a) return a:silu() end, {r(7)}},
  {"softplus", function(a) return a:softplus() end, {r(7)}},
  {"square", function(a) return a:square() end, {r(5)}},
  {"reciprocal", function(a) return a:reciprocal() end, {pos(5)}},
  {"erf", function(a) return a:erf() end, {r(5)}},
  {"atan asinh", function(a) return a:atan() + a:sinh() + a:cosh() end, {r(5)}},
  {"asin acos", function(a) return a:asin() + a:acos() * 2 end, {(tide.rand(5, {dtype = "f64"}) - 0.5):requires_grad_()}},
  {"log2 log10", function(a) return a:log2() + a:log10() end, {pos(5)}},
  {"clamp", function(a) return a:clamp(-0.5, 0.5) end, {r(9)}},
  -- reductions
  {"sum", function(a) return a:sum() end, {r(2, 3)}},
  {"sum dims", function(a) return a:sum({1, 3}, {keepdim = true}) end, {r(2, 3, 4)}},
  {"mean", function(a) return a:mean(2) end, {r(2, 3, 4)}},
  {"prod", function(a) return a:prod(2) end, {pos(3, 4)}},
  {"amax", function(a) return a:amax(1) end, {r(4, 3)}},
  {"amin", function(a) return a:amin() end, {r(4, 3)}},
  {"max all", function(a) return a:max() end, {r(4, 3)}},
  {"max dim", function(a) local v = a:max(2); return v end, {r(4, 3)}},
  {"min dim keepdim", function(a) local v = a:min(1, {keepdim = true}); return v end, {r(4, 3)}},
  {"var", function(a) return a:var(2) end, {r(3, 5)}},
  {"std", function(a) return a:std() end, {r(3, 5)}},
  {"norm 2", function(a) return a:norm() end, {r(3, 4)}},
  {"norm 1 dim", function(a) return a:norm(1, 2) end, {r(3, 4)}},
  {"norm 3", function(a) return a:norm(3) end, {r(3, 4)}},
  {"logsumexp", function(a) return a:logsumexp(2) end, {r(3, 4)}},
  {"softmax", function(a) return a:softmax(2) end, {r(3, 4)}},
  {"softmax dim1", function(a) return a:softmax(1) end, {r(3, 4)}},
  {"log_softmax", function(a) return a:log_softmax(-1) end, {r(3, 4)}},
  {"cumsum", function(a) return a:cumsum(2) end, {r(3, 4)}},
  {"cumprod", function(a) return a:cumprod(1) end, {pos(3, 4)}},
  {"topk", function(a) local v = a:topk(2, 2); return v end, {r(3, 5)}},
  {"sort", function(a) local v = a:sort(1, {descending = true}); return v end, {r(4, 3)}},
  -- views
  {"reshape", function(a) return a:reshape(3, 4) * 2 end, {r(2, 6)}},
  {"view", function(a) return a:view(12) end, {r(2, 6)}},
  {"transpose", function(a) return a:transpose(1, 2):contiguous() end, {r(2, 3)}},
  {"t", function(a) return a:t():matmul(a) end, {r(3, 2)}},
  {"permute", function(a) return a:permute(3, 1, 2) end, {r(2, 3, 4)}},
  {"narrow", function(a) return a:narrow(2, 2, 2) end, {r(3, 4)}},
  {"select", function(a) return a:select(1, 2) end, {r(3, 4)}},
  {"squeeze unsqueeze", function(a) return a:unsqueeze(2):squeeze() end, {r(3, 1, 4)}},
  {"expand", function(a) return a:expand(3, 4) end, {r(1, 4)}},
  {"flatten", function(a) return a:flatten() end, {r(2, 3, 2)}},
  {"index read", function(a) return a[{{1, 3, 2}, {2, 3}}] end, {r(3, 4)}},
  {"index row", function(a) return a[2] end, {r(3, 4)}},
  {"clone", function(a) return a:clone() end, {r(3)}},
  {"to f32 and back", function(a) return a:to("f32"):to("f64") * 1 end, {r(3)}, {eps = 1e-2, atol = 1e-3}},
  -- joins, gathers, masks
  {"cat", function(a, b) return tide.cat({a, b}, 2) end, {r(2, 3), r(2, 2)}},
  {"stack", function(a, b) return tide.stack({a, b}, 1) end, {r(2, 3), r(2, 3)}},
  {"split", function(a) local p = a:split(2, 2); return p[2] * 3 + p[1]:sum() end, {r(2, 4)}},
  {"chunk", function(a) local p = a:chunk(2, 1); return p[1] - p[2] end, {r(4, 2)}},
  {"gather", function(a) return a:gather(2, idx) end, {r(2, 3)}},
  {"scatter", function(a, b) return a:scatter(2, idx:narrow(2, 1, 1), b:narrow(2, 1, 1)) end, {r(2, 3), r(2, 3)}},
  {"scatter_add", function(a, b) return a:scatter_add(2, idx, b) end, {r(2, 3), r(2, 3)}},
  {"scatter_reduce prod", function(a, b) return a:scatter_reduce(2, idx, b, "prod") end, {r(2, 3), r(2, 3)}},
  {"scatter_reduce mean", function(a, b) return a:scatter_reduce(2, idx, b, "mean", {include_self = false}) end, {r(2, 3), r(2, 3)}},
  {"scatter_reduce amax", function(a, b) return a:scatter_reduce(2, idx, b, "amax") end, {r(2, 3), r(2, 3)}},
  {"scatter_reduce amin", function(a, b) return a:scatter_reduce(-1, idx, b, "amin", {include_self = false}) end, {r(2, 3), r(2, 4)}},
  {"scatter_reduce sum", function(a, b) return a:scatter_reduce(2, idx, b, "sum", {include_self = false}) end, {r(2, 3), r()}},
  {"scatter multiply", function(a, b) return a:scatter(2, idx, b, {reduce = "multiply"}) end, {r(2, 3), r(2, 3)}},
  -- prod and cumprod are multilinear, so central differences are exact even at zeros
  {"prod one zero", function(a) return a:prod(2) end, {tide.tensor({{2, 0, 3}, {1, -2, 4}}, "f64"):requires_grad_()}},
  {"prod two zeros", function(a) return a:prod() end, {tide.tensor({0, 5, 0}, "f64"):requires_grad_()}},
  {"cumprod zeros", function(a) return a:cumprod(2) end, {tide.tensor({{2, 0, 3, 0}, {1, 0, -2, 4}, {1, 2, 3, 4}}, "f64"):requires_grad_()}},
  {"einsum trace", function(a) return tide.einsum("ii->", a) + tide.einsum("iij->j", a:unsqueeze(3):expand(3, 3, 2)):sum() end, {r(3, 3)}},
  {"einsum diag", function(a, b) return tide.einsum("ii,ij->ij", a, b) end, {r(3, 3), r(3, 2)}},
  {"norm p=3", function(a) return a:norm(3, 2) end, {r(2, 4)}},
  {"norm p=0.5", function(a) return a:norm(0.5) end, {pos(5)}},
  {"clamp tensor bounds", function(a, lo, hi) return a:clamp(lo, hi) end, {r(3, 4), r(4) - 0.5, r(3, 1) + 0.5}},
  {"F activations", function(a) return tide.F.elu(a) + tide.F.selu(a) + tide.F.celu(a, {alpha = 2}) + tide.F.mish(a)
    + tide.F.softsign(a) + tide.F.hardswish(a * 2) end, {r(3, 4)}},
  {"F robust losses", function(a, b) return tide.F.smooth_l1_loss(a, b, {beta = 0.5}) + tide.F.huber_loss(a, b, {delta = 0.7}) end, {r(3, 4), r(3, 4)}},
  {"index_select", function(a) return a:index_select(1, tide.tensor({3, 1, 3})) end, {r(3, 2)}},
  {"masked_select", function(a) return a[mask] end, {r(2, 3)}},
  {"masked_fill", function(a) return a:masked_fill(mask, 0.5) end, {r(2, 3)}},
  {"where", function(a, b) return tide.where(mask, a, b) end, {r(2, 3), r(3)}},
  {"tril triu", function(a) return a:tril() + a:triu(1) * 3 end, {r(3, 3)}},
  {"flip", function(a) return a:flip(1) end, {r(3, 2)}},
  {"roll", function(a) return a:roll(1, 2) end, {r(2, 3)}},
  {"repeat_interleave", function(a) return a:repeat_interleave(2, 1) end, {r(2, 3)}},
  -- products
  {"matmul", function(a, b) return a:matmul(b) end, {r(3, 4), r(4, 2)}},
  {"matmul batched broadcast", function(a, b) return tide.matmul(a, b) end, {r(2, 1, 3, 4), r(5, 4, 2)}},
  {"matmul vector", function(a, b) return tide.matmul(a, b) end, {r(4), r(4, 3)}},
  {"matmul mv", function(a, b) return tide.matmul(a, b) end, {r(3, 4), r(4)}},
  {"dot", function(a, b) return tide.dot(a, b) end, {r(4), r(4)}},
  {"outer", function(a, b) return tide.outer(a, b) end, {r(3), r(2)}},
  {"einsum", function(a, b) return tide.einsum("bij,bjk->bik", a, b) end, {r(2, 3, 4), r(2, 4, 2)}},
  {"einsum trace-like", function(a) return tide.einsum("ij,ij->i", a, a) end, {r(3, 4)}},
  {"kron", function(a, b) return tide.kron(a, b) end, {r(2, 2), r(2, 3)}},
  -- functional
  {"linear", function(x, w, b) return F.linear(x, w, b) end, {r(2, 3, 4), r(5, 4), r(5)}},
  {"layer_norm", function(x, w, b) return F.layer_norm(x, 4, w, b) end, {r(2, 3, 4), r(4), r(4)}},
  {"layer_norm 2 dims", function(x) return F.layer_norm(x, {3, 4}) end, {r(2, 3, 4)}},
  {"rms_norm", function(x, w) return F.rms_norm(x, 4, w) end, {r(3, 4), r(4)}},
  {"cross_entropy", function(x) return F.cross_entropy(x, tide.tensor({1, 4, 2})) end, {r(3, 4)}},
  {"cross_entropy smoothing ignore", function(x)
    return F.cross_entropy(x, tide.tensor({1, -100, 2}), {label_smoothing = 0.2, weight = tide.tensor({1, 2, 3, 4}, "f64")})
  end, {r(3, 4)}},
  {"cross_entropy (N, C, d)", function(x) return F.cross_entropy(x, tide.tensor({{1, 2, 3}, {4, 1, 1}}), {reduction = "sum"}) end, {r(2, 4, 3)}},
  {"cross_entropy probabilities", function(x) return F.cross_entropy(x, tide.tensor({{0.2, 0.8, 0, 0}, {0.25, 0.25, 0.25, 0.25}}, "f64")) end, {r(2, 4)}},
  {"nll_loss", function(x) return F.nll_loss(x:log_softmax(2), tide.tensor({2, 1, 3}), {reduction = "none"}) end, {r(3, 4)}},
  {"embedding", function(w) return F.embedding(tide.tensor({{1, 3}, {3, 3}}), w) end, {r(4, 2)}},
  {"scaled_dot_product_attention causal gqa", function(q, k, v) return F.scaled_dot_product_attention(q, k, v, {causal = true}) end,
   {r(1, 4, 5, 3), r(1, 2, 7, 3), r(1, 2, 7, 2)}},
  {"scaled_dot_product_attention blocks and mask", function(q, k, v)
    return F.scaled_dot_product_attention(q, k, v, {mask = tide.ones(1, 1, 130, 131, {dtype = "bool"}):tril(5), scale = 0.5})
  end, {r(1, 1, 130, 2), r(1, 1, 131, 2), r(1, 1, 131, 2)}},
  {"rope partial", function(x) return F.rope(x, tide.ones(5, 2, {dtype = "f64"}):cos(), tide.ones(5, 2, {dtype = "f64"}):sin()) end, {r(2, 3, 5, 6)}},
  {"dropout eval", function(x) return F.dropout(x, {p = 0.3, training = false}) end, {r(4)}},
}

for _, op in ipairs(ops) do check(op[1], op[2], op[3], op[4]) end

-- dropout in training: a fixed mask (same generator seed every call) so differences are defined
check("dropout train", function(x) return F.dropout(x, {p = 0.4, generator = tide.Generator(3)}) end, {r(20)})

-- index writes are differentiable for both the target and the value
check("index write", function(a, v)
  local c = a * 1
  c[{2, {1, 2}}] = v * 2
  c[{{1, 2}, 3}] = 0
  return c
end, {r(3, 3), r(2)})
check("mask write", function(a)
  local c = a * 1
  c[mask] = 7
  return c
end, {r(2, 3)})
check("in-place on a non-leaf", function(a, b)
  local c = a * 1
  c:mul_(b)
  c:add_(1):exp_()
  return c
end, {r(3), r(3)})

-- gradients accumulate across backward calls, and the graph is freed unless retained
do
  local x = tide.tensor({1, 2, 3}, "f64"):requires_grad_()
  local y = (x * x):sum()
  y:backward({}) -- options only
  S.close(x.grad, {2, 4, 6})
  S.checkerror("already freed", function() y:backward() end)
  local z = (x * 3):sum()
  z:backward(nil, {retain_graph = true})
  z:backward()
  S.close(x.grad, {8, 10, 12})
  x.grad = nil
  assert(x.grad == nil)
end

-- in-place change of a saved tensor is detected
do
  local x = tide.randn(3):requires_grad_()
  local a = x * 2
  local b = a:log_softmax(1)   -- saves its output
  b:add_(1)
  S.checkerror("modified in place", function() b:sum():backward() end)
  S.checkerror("leaf tensor that requires grad", function() x:mul_(2) end)
  local v = x * 1
  local view = v:narrow(1, 1, 2)
  S.checkerror("view of a tensor that requires grad", function() view:fill_(0) end)
end

-- no_grad, detach, requires_grad rules, autograd.grad
do
  local x = tide.randn(3):requires_grad_()
  local y = tide.no_grad(function() return x * 2 end)
  assert(not y.requires_grad and y.is_leaf)
  assert(tide.is_grad_enabled())
  local ok = pcall(tide.no_grad, function() error("inner") end)
  assert(not ok and tide.is_grad_enabled(), "no_grad restores the mode after an error")
  assert(not x:detach().requires_grad)
  S.checkerror("only f32 and f64", function() tide.tensor({1, 2}):requires_grad_() end)
  S.checkerror("does not require grad", function() tide.ones(2):sum():backward() end)
  S.checkerror("implied only for a one-element", function() (x * 2):backward() end)
  local w = tide.randn(3, {dtype = "f64"}):requires_grad_()
  local out = (w * w * w):sum()
  local g = tide.autograd.grad(out, {w})
  S.close(g[1], (w:detach() ^ 2) * 3, 1e-12)
  assert(w.grad == nil, "autograd.grad leaves .grad alone")
  local h = (x * 2):sum()
  local gw = tide.autograd.grad(h, {x, tide.ones(1):requires_grad_()})
  assert(gw[2] == nil, "unused inputs give nil")
  -- backward with an explicit gradient
  local q = x * 3
  q:backward(tide.ones(3) * 2)
  S.close(x.grad, {6, 6, 6})
  -- grad_fn names the op; retain_grad keeps a non-leaf gradient
  local m = x * 2
  assert(m.grad_fn == "mul" and not m.is_leaf)
  m:retain_grad()
  m:sum():backward()
  S.close(m.grad, {1, 1, 1})
end

-- a small regression trained by hand: the loss falls
do
  tide.manual_seed(1)
  local X = tide.randn(64, 3)
  local wtrue = tide.tensor({{1.5}, {-2}, {0.5}})
  local Y = X:matmul(wtrue) + 0.1
  local w = tide.zeros(3, 1):requires_grad_()
  local b = tide.zeros(1):requires_grad_()
  local first, last
  for step = 1, 100 do
    local loss = ((X:matmul(w) + b - Y) ^ 2):mean()
    if step == 1 then first = loss:item() end
    last = loss:item()
    w.grad, b.grad = nil, nil
    loss:backward()
    tide.no_grad(function()
      w:sub_(w.grad * 0.1)
      b:sub_(b.grad * 0.1)
    end)
  end
  assert(last < first * 1e-3, ("loss %g -> %g"):format(first, last))
end
print("autograd: " .. #ops + 4 .. " gradchecks ok")

-- rows written through an i64 index carry gradients to the tensor (zero where written) and to
-- the values (a scalar value too)
do
  local rows = tide.randn(2, 3, {dtype = "f64", requires_grad = true})
  local ok, report = tide.autograd.gradcheck(function(x, y)
    local c = x * 1; c[tide.tensor({3, 1})] = y; return c
  end, {tide.randn(4, 3, {dtype = "f64", requires_grad = true}), rows})
  assert(ok, report)
  ok, report = tide.autograd.gradcheck(function(x, y)
    local c = x * 1; c[tide.tensor({-1})] = y:sum(); return c
  end, {tide.randn(4, 3, {dtype = "f64", requires_grad = true}), rows})
  assert(ok, report)
end

-- d f(x) / dx for an f64 x made from the table v
local function grad_of(f, v)
  local x = tide.tensor(v, "f64"):requires_grad_()
  f(x):backward()
  return x.grad
end

-- audit J: gradients at the points where formulas divide by zero, the engine's handling of
-- ops with no gradient, long graphs, and the options it refuses
do
  -- a node reached by no gradient still releases its inputs: x's other path counts
  local x = tide.tensor({1.0, -2.0, 3.0}, "f64"):requires_grad_()
  local a = x * 2
  ((a * 3):sign():sum() + a:sum()):backward()
  S.close(x.grad, tide.tensor({2, 2, 2}, "f64"), 0)
  -- step functions give zero gradients (not nil), as torch
  S.close(grad_of(function(t) return (t:floor() + t:round() + t:div(2, {rounding_mode = "floor"})):sum() end, {0.5, -1.5}), tide.zeros(2, "f64"), 0)
  -- zeros and constants: torch's subgradients
  S.close(grad_of(function(t) return t:std(2):sum() end, {{1, 1, 1}, {1, 2, 4}}):narrow(1, 1, 1), tide.zeros(1, 3, "f64"), 0)
  S.close(grad_of(function(t) return t:norm(3) end, {0, 0, 0}), tide.zeros(3, "f64"), 0)
  S.close(grad_of(function(t) return t:norm(0.5) end, {0, 1, 4}), tide.tensor({0, 3, 1.5}, "f64"), 1e-12)
  S.close(grad_of(function(t) return (t ^ 0):sum() end, {0, 2}), tide.zeros(2, "f64"), 0)
  S.close(grad_of(function(t) return tide.atan2(t, t * 0):sum() end, {0}), tide.zeros(1, "f64"), 0)
  S.close(grad_of(function(t) return t:fmod(0.7):sum() end, {0, -0.0, 0.3}), tide.ones(3, "f64"), 0)
  S.close(grad_of(function(t) return tide.F.normalize(t):sum() end, {{0, 0, 0}}), tide.full({1, 3}, 1e12, {dtype = "f64"}), 1e-3)
  -- a bound reached exactly passes the whole gradient to x (torch)
  S.close(grad_of(function(t) return t:clamp(-0.5, 0.5):sum() end, {-0.5, 0, 0.5, 0.9}), tide.tensor({1, 1, 1, 0}, "f64"), 0)
  -- the median's gradient is shared among equal values (torch), as max's is
  S.close(grad_of(function(t) return t:median() end, {1, 2, 2, 3, 2}), tide.tensor({0, 1 / 3, 1 / 3, 0, 1 / 3}, "f64"), 1e-15)
  -- a plain buffer updated in place from a tensor that requires grad
  local w = tide.tensor({1.0, 2.0, 3.0}, "f64"):requires_grad_()
  local buf = tide.ones(3, "f64")
  buf:mul_(w)
  buf:sum():backward()
  S.close(w.grad, tide.ones(3, "f64"), 0)
  -- dropping a graph a hundred thousand ops deep (never backwarded) frees it without
  -- recursing once per node
  local total = tide.zeros(1, "f64")
  for _ = 1, 100000 do total = total + w:narrow(1, 1, 1) end
  total = nil
  collectgarbage(); collectgarbage()
  -- higher-order gradients are refused, not silently wrong; misspelt options are errors
  local y = (w ^ 3):sum()
  S.checkerror("create_graph = true (higher-order gradients) is not supported", tide.autograd.grad, y, {w}, {create_graph = true})
  S.checkerror("unknown option 'retain_grpah'", function() y:backward(nil, {retain_grpah = true}) end)
  -- F.dropout's p positionally
  local kept = tide.F.dropout(tide.ones(1000), 0.1, {generator = tide.Generator(3)}):count_nonzero():item()
  assert(kept > 850 and kept < 950, "dropout p = 0.1 keeps about 900, kept " .. kept)
end

-- in place on an op's fresh result that happens to be a view of an internal tensor (einsum's
-- reshaped matmul, logsumexp) is allowed; on a view the user can still reach it is refused
do
  local ok, report = tide.autograd.gradcheck(function(a, b)
    local y = tide.einsum("ij,kj->ik", a, b); y:mul_(2)
    local z = a:logsumexp(2); z:add_(1)
    return y:sum() + z:sum()
  end, {tide.randn(3, 4, {dtype = "f64", requires_grad = true}), tide.randn(2, 4, {dtype = "f64", requires_grad = true})})
  assert(ok, report)
  local x = tide.randn(3, {dtype = "f64", requires_grad = true})
  local y = x * 1
  local v = y:narrow(1, 1, 2)
  S.checkerror("in-place write into a view of a tensor that requires grad", function() v:add_(1) end)
  -- probability targets get their own gradient (torch): -(1 - eps) w lp, reduced
  ok, report = tide.autograd.gradcheck(function(z, t)
    return tide.F.cross_entropy(z, t, {label_smoothing = 0.1, weight = tide.tensor({1.0, 2.0, 0.5}, "f64")})
  end, {tide.randn(4, 3, {dtype = "f64", requires_grad = true}), tide.rand(4, 3, {dtype = "f64", requires_grad = true})})
  assert(ok, report)
end

-- audit L: NaN-holding slices, NaN-ignoring max/min, the count norm, broadcast cosine
do
  local nan = 0 / 0
  S.close(grad_of(function(t) return t:max() end, {1, nan, 2}), tide.tensor({0, 1, 0}, "f64"), 0)
  S.close(grad_of(function(t) return t:min() end, {1, nan, 2}), tide.tensor({0, 1, 0}, "f64"), 0)
  S.close(grad_of(function(t) return t:median() end, {1, nan, 2}), tide.tensor({0, 1, 0}, "f64"), 0)
  -- fmax / fmin: x takes a tie and a NaN partner (torch)
  local a = tide.tensor({1, 2, nan}, "f64"):requires_grad_()
  local b = tide.tensor({1, nan, nan}, "f64"):requires_grad_()
  a:fmax(b):sum():backward()
  S.close(a.grad, tide.ones(3, "f64"), 0); S.close(b.grad, tide.zeros(3, "f64"), 0)
  -- norm(0) counts: in the graph, with a zero gradient
  S.close(grad_of(function(t) return t:norm(0) end, {1, 0, 2}), tide.zeros(3, "f64"), 0)
  -- cosine similarity broadcasts before taking norms
  local c = tide.F.cosine_similarity(tide.tensor({{1, 2, 3}}, "f64"), tide.tensor({{1}}, "f64"), {dim = 2})
  S.close(c, tide.tensor({6 / math.sqrt(14 * 3)}, "f64"), 1e-12)
end
