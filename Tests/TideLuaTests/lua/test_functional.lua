-- tide.F's fused ops against NumPy (scripts/fixtures/gen_functional.py ->
-- Tests/fixtures/functional/functional.npz). Gradients are checked in test_autograd.lua.
local S = require "support"
local F = tide.F
local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local d = tide.io.load(here .. "/../../fixtures/functional/functional.npz")
local function one(t) return t + 1 end  -- NumPy's 0-based classes -> Tide's 1-based

S.close(F.linear(d.lin_x, d.lin_w, d.lin_b), d.lin_y, 1e-12)
S.close(F.layer_norm(d.ln_x, 6, d.ln_w, d.ln_b), d.ln_y, 1e-10)
S.close(F.layer_norm(d.ln_x, {4, 6}, nil, nil, {eps = 1e-3}), d.ln2_y, 1e-10)
S.close(F.rms_norm(d.ln_x, 6, d.ln_w), d.rms_y, 1e-10)
S.close(F.cross_entropy(d.ce_z, one(d.ce_t)), d.ce_plain, 1e-10)
local ign = d.ce_ignore:item() + 1
S.close(F.cross_entropy(d.ce_z, one(d.ce_t), {weight = d.ce_w, ignore_index = ign, label_smoothing = 0.15}), d.ce_weighted, 1e-10)
S.close(F.cross_entropy(d.ce_z, one(d.ce_t), {reduction = "none", label_smoothing = 0.15}), d.ce_none, 1e-10)
S.close(F.cross_entropy(d.ce3_z, one(d.ce3_t), {reduction = "sum"}), d.ce3_sum, 1e-10)
S.close(F.cross_entropy(d.ce_z, d.ce_p), d.ce_soft, 1e-10)
S.close(F.nll_loss(d.ce_z:log_softmax(2), one(d.ce_t), {weight = d.ce_w}), d.nll, 1e-10)
S.close(F.embedding(one(d.emb_i), d.emb_w), d.emb_y, 0)
-- f32 paths agree with f64 to f32 precision
S.close(F.layer_norm(d.ln_x:to("f32"), 6, d.ln_w:to("f32"), d.ln_b:to("f32")), d.ln_y, 1e-5)
S.close(F.cross_entropy(d.ce_z:to("f32"), one(d.ce_t)), d.ce_plain, 1e-5)

-- dropout: the kept fraction and the scaling; identity when not training
tide.manual_seed(3)
local x = tide.ones(100000)
local y = F.dropout(x, {p = 0.25})
local kept = y:ne(0):sum():item() / 100000
assert(math.abs(kept - 0.75) < 0.01, "kept fraction " .. kept)
S.close(y:amax(), 1 / 0.75, 1e-6)
S.close(F.dropout(x, {p = 0.5, training = false}), x, 0)
local g1, g2 = tide.Generator(5), tide.Generator(5)
S.close(F.dropout(x, {p = 0.5, generator = g1}), F.dropout(x, {p = 0.5, generator = g2}), 0)

-- bad input names the function and says expected vs got
S.checkerror("linear: input has shape 2x3 but weight is 4x5", F.linear, tide.zeros(2, 3), tide.zeros(4, 5))
S.checkerror("layer_norm: normalized_shape 5 must match", F.layer_norm, tide.zeros(2, 3), 5)
S.checkerror("layer_norm: weight must have shape 3", F.layer_norm, tide.zeros(2, 3), 3, tide.zeros(4))
S.checkerror("cross_entropy: target 6 out of range for 5 classes", F.cross_entropy, tide.zeros(2, 5), tide.tensor({1, 6}))
S.checkerror("cross_entropy: targets have shape 3 but logits 2x5", F.cross_entropy, tide.zeros(2, 5), tide.tensor({1, 2, 3}))
S.checkerror("cross_entropy: targets must be i64", F.cross_entropy, tide.zeros(2, 5), tide.zeros(2, {dtype = "bool"}))
S.checkerror("reduction must be 'mean', 'sum' or 'none'", F.cross_entropy, tide.zeros(2, 5), tide.tensor({1, 2}), {reduction = "avg"})
S.checkerror("embedding: index 7 out of range for 6 rows", F.embedding, tide.tensor({7}), tide.zeros(6, 2))
S.checkerror("i64 index tensor expected, got f32", F.embedding, tide.zeros(2), tide.zeros(6, 2))
S.checkerror("dropout: p must be in [0, 1]", F.dropout, tide.zeros(2), {p = 1.5})
S.checkerror("nll_loss: 3 targets for 2 rows", F.nll_loss, tide.zeros(2, 4), tide.tensor({1, 2, 3}))

-- the f32 SIMD derivative kernels agree with the f64 reference path
for _, name in ipairs({"exp", "tanh", "sigmoid", "relu", "silu", "gelu"}) do
  for _, approx in ipairs(name == "gelu" and {"none", "tanh"} or {"none"}) do
    local x64 = (tide.randn(1000, {dtype = "f64"}) * 3):requires_grad_()
    local x32 = x64:detach():to("f32"):requires_grad_()
    local function f(x) return name == "gelu" and x:gelu({approximate = approx}) or x[name](x) end
    f(x64):sum():backward()
    f(x32):sum():backward()
    S.close(x32.grad, x64.grad, 2e-5)
  end
end
