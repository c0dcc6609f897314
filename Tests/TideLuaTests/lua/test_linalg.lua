-- tide.linalg against NumPy (fixtures_linalg.lua, written by scripts/fixtures/gen_linalg.py)
-- for the results that are unique, and by their defining identities for the factorizations
-- that are unique only up to signs or phases (SVD, QR, eigh vectors).
local S = require "support"
local F = require "fixtures_linalg"
local L = tide.linalg

local function T(v, dtype) return tide.tensor(v, dtype or "f64") end
-- exactly 0 + 1i (polar(1, pi/2) has a real part of 6e-17; subtract it)
local i0 = tide.polar(tide.ones({}, "f64"), tide.full({}, math.pi / 2, "f64"))
local IM = i0 - i0:real():to("c128")
assert(IM:real():item() == 0 and IM:imag():item() == 1)
-- {re =, im =} -> c128
local function C(v) return T(v.re):to("c128") + T(v.im):to("c128") * IM end

local function close(t, e, tol)
  S.close(t, type(e) == "table" and T(e) or e, tol or 1e-10)
end
local function cclose(t, e, tol)
  close(t:real(), e.re, tol)
  close(t:imag(), e.im, tol)
end
local function maxabs(t) return t:abs():amax():item() end
local function eye(n, dtype) return tide.eye(n, {dtype = dtype}) end
local function same_shape(t, want)
  local s = t:shape()
  assert(#s == #want, ("rank %d, expected %d"):format(#s, #want))
  for k = 1, #want do assert(s[k] == want[k], ("dim %d is %d, expected %d"):format(k, s[k], want[k])) end
end
-- 1.0 strictly below the diagonal of an r x c matrix, else 0
local function strict_lower(r, c)
  local rows = {}
  for i = 1, r do
    rows[i] = {}
    for j = 1, c do rows[i][j] = i > j and 1 or 0 end
  end
  return T(rows)
end
local real_of = {f32 = "f32", f64 = "f64", c64 = "f32", c128 = "f64"}

-- a = U diag(S) Vh with orthonormal U and V, full and thin; S descending and real
local function check_svd(a, tol, svals)
  local m, n = a:size(-2), a:size(-1)
  local k = math.min(m, n)
  for _, full in ipairs{true, false} do
    local U, Sv, Vh = L.svd(a, {full_matrices = full})
    assert(Sv:dtype() == real_of[a:dtype()] and U:dtype() == a:dtype())
    assert(U:size(-1) == (full and m or k) and Vh:size(-2) == (full and n or k) and Sv:size(-1) == k)
    local R = (U:narrow(-1, 1, k) * Sv:unsqueeze(-2)):matmul(Vh:narrow(-2, 1, k))
    assert(maxabs(R - a) <= tol, "svd does not reconstruct a")
    assert(maxabs(U:mH():matmul(U) - eye(U:size(-1), a:dtype())) <= tol, "U is not orthonormal")
    assert(maxabs(Vh:matmul(Vh:mH()) - eye(Vh:size(-2), a:dtype())) <= tol, "V is not orthonormal")
    if svals then close(Sv, svals, tol) end
  end
  close(L.svdvals(a), (select(2, L.svd(a))), tol)
end

-- a = Q R with orthonormal Q and upper triangular R, reduced and complete
local function check_qr(a, tol)
  local m, n = a:size(-2), a:size(-1)
  local k = math.min(m, n)
  for _, mode in ipairs{"reduced", "complete"} do
    local Q, R = L.qr(a, {mode = mode})
    local qc = mode == "complete" and m or k
    assert(Q:size(-1) == qc and R:size(-2) == qc and R:size(-1) == n)
    assert(maxabs(Q:matmul(R) - a) <= tol, "Q R ~= a")
    assert(maxabs(Q:mH():matmul(Q) - eye(qc, a:dtype())) <= tol, "Q is not orthonormal")
    assert((R:abs() * strict_lower(qc, n):to(real_of[a:dtype()])):amax():item() == 0, "R is not upper triangular")
  end
  local _, R = L.qr(a, "r")
  assert(R:size(-2) == k)
end

-- h V = V diag(w), V^H V = I, w ascending (and NumPy's eigenvalues); h is the Hermitian
-- matrix whose `uplo` triangle a holds (a itself by default)
local function check_eigh(a, tol, w_expected, opts, h)
  h = h or a
  local w, V = L.eigh(a, opts)
  assert(w:dtype() == real_of[a:dtype()])
  local n = a:size(-1)
  assert(maxabs(h:matmul(V) - V * w:unsqueeze(-2)) <= tol, "h V ~= V diag(w)")
  assert(maxabs(V:mH():matmul(V) - eye(n, a:dtype())) <= tol, "V is not orthonormal")
  if w_expected then close(w, w_expected, tol) end
  close(L.eigvalsh(a, opts), w, tol)
end

local NORMS = {fro = "fro", nuc = "nuc", p2 = 2, m2 = -2, p1 = 1, m1 = -1, pinf = math.huge, minf = -math.huge}
local function check_norms(a, expected, tol)
  for key, ord in pairs(NORMS) do
    local v = L.matrix_norm(a, ord)
    assert(v:dim() == 0 and v:dtype() == real_of[a:dtype()])
    close(v, expected[key], tol)
  end
  close(L.matrix_norm(a), expected.fro, tol)
end

-- ---- real square (f64)
do
  local f = F.square
  local a = T(f.a)
  local d = L.det(a)
  assert(d:dim() == 0 and d:dtype() == "f64")
  close(d, f.det)
  close(L.det(T(f.swapped)), f.det_swapped)
  local sign, logabs = L.slogdet(a)
  close(sign, f.sign); close(logabs, f.logabsdet)
  close(L.inv(a), f.inv)
  close(L.inv(a:t()), f.inv_t)                      -- a non-contiguous view
  local x = L.solve(a, T(f.b_vec))
  same_shape(x, {4}); close(x, f.solve_vec)
  close(L.solve(a, T(f.b_mat)), f.solve_mat)
  check_svd(a, 1e-10, f.svals)
  check_qr(a, 1e-10)
  check_norms(a, f.norms)
  -- singular: det 0, slogdet (0, -inf)
  local sing = T{{1, 2}, {2, 4}}
  assert(L.det(sing):item() == 0)
  local s0, l0 = L.slogdet(sing)
  assert(s0:item() == 0 and l0:item() == -math.huge)
end

-- ---- f32 (computed in single precision) and integers (computed in f32)
do
  local f = F.square
  local a = T(f.a, "f32")
  local d = L.det(a)
  assert(d:dtype() == "f32")
  close(d, f.det, 1e-4)
  close(L.inv(a), f.inv, 1e-4)
  close(L.solve(a, T(f.b_mat, "f32")), f.solve_mat, 1e-4)
  check_svd(a, 1e-4, f.svals)
  check_qr(a, 1e-4)
  check_eigh(T(F.spd.a, "f32"), 1e-3, F.spd.eigvalsh)
  close(L.cholesky(T(F.spd.a, "f32")), F.spd.chol_lower, 1e-4)
  check_norms(a, f.norms, 1e-4)
  local di = L.det(tide.tensor{{2, 1}, {1, 3}})
  assert(di:dtype() == "f32")
  close(di, 5, 1e-6)
end

-- ---- symmetric positive definite: Cholesky and eigh, both triangles
do
  local f = F.spd
  local a, up = T(f.a), T(f.upper_only)
  local Lo = L.cholesky(a)
  close(Lo, f.chol_lower)
  assert(maxabs(Lo:matmul(Lo:t()) - a) <= 1e-10)
  close(L.cholesky(a, {upper = true}), f.chol_upper)
  close(L.cholesky(up, {upper = true}), f.chol_upper)   -- only the upper triangle is read
  check_eigh(a, 1e-10, f.eigvalsh)
  check_eigh(up, 1e-10, f.eigvalsh, {uplo = "U"}, a)
  close(L.eigvalsh(up, {uplo = "U"}), f.eigvalsh)
  -- the lower triangle of `up` is noise: reading it gives other eigenvalues
  assert(maxabs(L.eigvalsh(up) - T(f.eigvalsh)) > 1e-3)
end

-- ---- rectangular: least squares, pseudo-inverse, SVD, QR, norms
do
  local f = F.tall
  local a = T(f.a)
  local x, rank, sv = L.lstsq(a, T(f.b_vec))
  same_shape(x, {3}); close(x, f.lstsq_vec)
  assert(rank:dtype() == "i64" and rank:item() == f.rank)
  close(sv, f.lstsq_sv)
  close(L.lstsq(a, T(f.b_mat)), f.lstsq_mat)
  close(L.pinv(a), f.pinv)
  check_svd(a, 1e-10, f.svals)
  check_qr(a, 1e-10)
  check_norms(a, f.norms)
  local w = T(F.wide.a)
  same_shape(L.pinv(w), {5, 3}); close(L.pinv(w), F.wide.pinv)
  check_svd(w, 1e-10, F.wide.svals)
  check_qr(w, 1e-10)

  local g = F.deficient
  local xd, rd, sd = L.lstsq(T(g.a), T(g.b))
  close(xd, g.lstsq, 1e-8)
  assert(rd:item() == g.rank)
  close(sd, g.lstsq_sv)
  close(L.pinv(T(g.a), {rtol = 1e-10}), g.pinv, 1e-8)
end

-- ---- a batch of two 3x3 matrices
do
  local f = F.batch
  local a = T(f.a)
  local d = L.det(a)
  same_shape(d, {2}); close(d, f.det)
  close(L.inv(a), f.inv)
  local xv = L.solve(a, T(f.b_vec))                    -- (2, 3): a batch of vectors
  same_shape(xv, {2, 3}); close(xv, f.solve_vec)
  close(L.solve(a, T(f.b_mat)), f.solve_mat)
  -- b without batch dims broadcasts over a's batch
  local b = T(f.b_mat):select(1, 1)
  local xb = L.solve(a, b)
  for k = 1, 2 do close(xb:select(1, k), L.solve(a:select(1, k), b), 1e-12) end
  local spd = T(f.spd)
  check_eigh(spd, 1e-10, f.eigvalsh)
  close(L.cholesky(spd), f.cholesky)
  check_svd(a, 1e-10)
  check_qr(a, 1e-10)
  close(L.matrix_norm(a), f.norm_fro)
  close(L.matrix_norm(a, 2), f.norm_2)
  same_shape(L.matrix_norm(a, "fro", {keepdim = true}), {2, 1, 1})
  local sign, logabs = L.slogdet(a)
  close(sign * logabs:exp(), f.det)
end

-- ---- complex (c128)
do
  local f = F.complex
  local a = C(f.a)
  local d = L.det(a)
  assert(d:dtype() == "c128")
  cclose(d, f.det)
  local sign, logabs = L.slogdet(a)
  assert(sign:dtype() == "c128" and logabs:dtype() == "f64")
  cclose(sign, f.sign); close(logabs, f.logabsdet)
  cclose(L.inv(a), f.inv)
  cclose(L.solve(a, C(f.b)), f.solve)
  cclose(L.pinv(a), f.pinv)
  check_svd(a, 1e-10, f.svals)
  check_qr(a, 1e-10)
  check_norms(a, f.norms)
  local h = C(f.hpd)
  check_eigh(h, 1e-10, f.eigvalsh)
  check_eigh(h, 1e-10, f.eigvalsh, {uplo = "U"})
  local Lo = L.cholesky(h)
  cclose(Lo, f.chol_lower)
  assert(maxabs(Lo:matmul(Lo:mH()) - h) <= 1e-10)
  local U = L.cholesky(h, {upper = true})
  assert(maxabs(U:mH():matmul(U) - h) <= 1e-10)
  local x, rank, sv = L.lstsq(C(f.tall), C(f.tall_b))
  cclose(x, f.lstsq); close(sv, f.lstsq_sv)
  assert(rank:item() == f.rank)
  -- c64: single precision complex
  local a64 = a:to("c64")
  assert(L.svdvals(a64):dtype() == "f32")
  check_svd(a64, 1e-4, f.svals)
  cclose(L.det(a64), f.det, 1e-4)
end

-- ---- bad input
S.checkerror("det: expected square matrices (..., n, n), got shape 2x3", L.det, tide.zeros(2, 3))
S.checkerror("svd: expected a (..., m, n) tensor with at least 2 dims, got shape 3", L.svd, tide.zeros(3))
S.checkerror("solve: a is singular (U[2,2] is exactly zero)", L.solve, T{{1, 2}, {2, 4}}, T{1, 1})
S.checkerror("inv: the matrix is singular (U[2,2] is exactly zero)", L.inv, T{{1, 2}, {2, 4}})
S.checkerror("cholesky: the matrix is not positive definite (leading minor 2 is not positive)", L.cholesky, T{{1, 2}, {2, 1}})
S.checkerror("(matrix 2 of the batch)", L.cholesky, tide.stack{tide.eye(2, {dtype = "f64"}), T{{1, 2}, {2, 1}}})
S.checkerror("solve: a is 3x3 but b is 4x2", L.solve, tide.eye(3), tide.ones(4, 2))
S.checkerror("solve: a is 3x3 but b is 4", L.solve, tide.eye(3), tide.ones(4))
S.checkerror("solve: shapes 2 and 3 are not broadcastable", L.solve, tide.ones(2, 3, 3), tide.ones(3, 3, 1))
S.checkerror("lstsq: a is 5x3 but b is 4", L.lstsq, tide.ones(5, 3), tide.ones(4))
S.checkerror("matrix_norm: ord must be 'fro', 'nuc', 2, -2, 1, -1, math.huge or -math.huge, got 3", L.matrix_norm, tide.eye(2), 3)
S.checkerror("matrix_norm: ord must be", L.matrix_norm, tide.eye(2), "max")
S.checkerror("qr: mode must be 'reduced', 'complete' or 'r', got 'full'", L.qr, tide.eye(2), {mode = "full"})
S.checkerror("eigh: uplo must be 'L' or 'U', got 'X'", L.eigh, tide.eye(2), {uplo = "X"})
S.checkerror("bad argument #1 to 'inv' (tensor expected, got no value)", L.inv)

-- non-finite input to the SVD/eigen routines: a clear error naming the function, not LAPACK's
-- "rejected argument 4" (and its stderr print)
do
  local bad = tide.tensor({{1, 0 / 0}, {1, 2}}, "f64")
  for _, name in ipairs({"svdvals", "svd", "pinv", "eigh", "eigvalsh"}) do
    S.checkerror(name .. ": expected finite values, got NaN or inf in the input", L[name], bad)
  end
  S.checkerror("lstsq: expected finite values", L.lstsq, bad, tide.tensor({1, 2}, "f64"))
  S.checkerror("matrix_norm: expected finite values", L.matrix_norm, bad, 2)
  S.checkerror("matrix_norm: expected finite values", L.matrix_norm, tide.tensor({{1, 1 / 0}, {1, 2}}, "f64"), "nuc")
  assert(L.matrix_norm(bad, "fro"):item() ~= L.matrix_norm(bad, "fro"):item())   -- fro: NaN, no LAPACK
end

-- solve {left = false}: x a = b (torch)
do
  local a = tide.tensor({{2, 1}, {0, 1}, }, "f64")
  local b = tide.tensor({{1, 2}, {3, 4}, {5, 6}}, "f64")
  local x = L.solve(a, b, {left = false})
  assert(x:size(1) == 3 and x:size(2) == 2)
  assert((x:matmul(a) - b):abs():amax():item() < 1e-12)
  local v = L.solve(a, tide.tensor({1, 2}, "f64"), {left = false})
  assert((tide.matmul(v, a) - tide.tensor({1, 2}, "f64")):abs():amax():item() < 1e-12)
  S.checkerror("solve: unknown option 'lft' (expected left)", L.solve, a, b, {lft = false})
end

-- non-finite pivots in slogdet follow NumPy (audit F); lstsq with no right-hand sides; bool matmul
do
  local s, l = tide.linalg.slogdet(tide.tensor({{1, math.huge}, {2, 4}}, "f64"))
  assert(s:item() == -1 and l:item() == math.huge)
  local cs, cl = tide.linalg.slogdet(tide.tensor({{1, 0 / 0}, {2, 4}}, "f64"):to("c128"))
  local re, im = cs:item()
  assert(re ~= re and im ~= im and cl:item() ~= cl:item())
  local x = tide.linalg.lstsq(tide.ones(3, 2, {dtype = "f64"}), tide.zeros(3, 0, {dtype = "f64"}))
  assert(x:size(1) == 2 and x:size(2) == 0)
  local b = tide.matmul(tide.tensor({{true, false}, {false, false}}), tide.tensor({{true, false}, {true, true}}))
  assert(b:dtype() == "bool" and b[{1, 1}] == true and b[{1, 2}] == false and b[{2, 1}] == false)
end

-- gradients: inv, det, slogdet, solve (both sides, vector b, batch), cholesky (both triangles),
-- eigh (a phase-free loss, a projector), eigvalsh, svdvals, svd, pinv, lstsq and qr (m >= n) pass a finite-difference check in
-- f64; a wide qr says it is not differentiable instead of dropping the graph
do
  local L = tide.linalg
  tide.manual_seed(3)
  local eye = tide.eye(3, {dtype = "f64"})
  local function spd(x) local s = (x + x:mT()) * 0.5; return s:matmul(s:mT()) + eye * 3 end
  local function sym(x) return (x + x:mT()) * 0.5 end
  local a = tide.randn(2, 3, 3, {dtype = "f64", requires_grad = true})
  local b = tide.randn(2, 3, 2, {dtype = "f64", requires_grad = true})
  local v = tide.randn(3, {dtype = "f64", requires_grad = true})
  local checks = {
    inv = {function(x) return L.inv(x) end, {a}},
    det = {function(x) return L.det(x) end, {a}},
    slogdet = {function(x) local _, l = L.slogdet(x); return l end, {a}},
    solve = {function(x, y) return L.solve(x, y) end, {a, b}},
    solve_vector = {function(x, y) return L.solve(x[1], y) end, {a, v}},
    solve_right = {function(x, y) return L.solve(x, y:mT(), {left = false}) end, {a, b}},
    cholesky = {function(x) return L.cholesky(spd(x)) end, {a}},
    cholesky_upper = {function(x) return L.cholesky(spd(x), {upper = true}) end, {a}},
    eigvalsh = {function(x) return L.eigvalsh(sym(x)) end, {a}},
    eigh = {function(x) local w, V = L.eigh(sym(x)); return w:sum() + (V * V:sign()[{{}, {1, 1}, {}}]):sum() end, {a}},
    eigh_projector = {function(x) local _, V = L.eigh(sym(x)); local p = V[{{}, {}, {3, 3}}]; return p:matmul(p:mT()) end, {a}},
    svdvals = {function(x) return L.svdvals(x) end, {a}},
    matrix_norm_nuc = {function(x) return L.matrix_norm(x, "nuc") end, {a}},
    -- svd through losses that do not depend on the singular vectors' signs, thin and full,
    -- tall and wide; pinv is built on it
    svd_values = {function(x) local _, s = L.svd(x); return s end, {b}},
    svd_product = {function(x) local U, s, Vh = L.svd(x, {full_matrices = false}); return (U * s:unsqueeze(-2)):matmul(Vh) end, {b}},
    svd_left_projector = {function(x) local U = L.svd(x); local u = U:narrow(-1, 1, 2); return u:matmul(u:mT()) end, {b}},
    svd_right_projector = {function(x) local _, _, Vh = L.svd(x:mT()); local v = Vh:narrow(-2, 1, 2); return v:mT():matmul(v) end, {b}},
    pinv = {function(x) return L.pinv(x) end, {b}},
    qr_q = {function(x) local q = L.qr(x); return q end, {tide.randn(2, 4, 3, {dtype = "f64", requires_grad = true})}},
    qr_r = {function(x) local _, r = L.qr(x); return r end, {a}},
    lstsq = {function(x, y) return (L.lstsq(x, y)) end, {b, tide.randn(2, 3, 2, {dtype = "f64", requires_grad = true})}},
    lstsq_wide = {function(x, y) return (L.lstsq(x:mT(), y)) end, {b, tide.randn(2, 2, {dtype = "f64", requires_grad = true})}},
  }
  for name, c in pairs(checks) do
    local ok, report = tide.autograd.gradcheck(c[1], c[2])
    assert(ok, "linalg gradient " .. name .. ": " .. tostring(report))
  end
  S.checkerror("qr: gradients need m >= n", L.qr, b:mT())
  -- detached inputs work as before
  assert(L.svd(a:detach()):size(1) == 2)
end
