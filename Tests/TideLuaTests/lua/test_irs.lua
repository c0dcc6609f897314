-- tide.irs: IRS-assisted MIMO channel estimation as TT regression. NumPy references from
-- scripts/fixtures/gen_irs.py (Tests/fixtures/irs/irs.npz); the invariants of spec
-- solvers.md 3.6 with its thresholds; finite-difference checks of the Wirtinger gradients;
-- the variants of 3.5; bad input.
local S = require "support"
local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local F = tide.io.load(here .. "/../../fixtures/irs/irs.npz")
tide.set_num_threads(1)

local function norm(t) return t:abs():pow(2):sum():sqrt():item() end
local function rel(a, b) return norm(a - b) / math.max(norm(b), 1e-300) end
local I = tide.polar(tide.ones({}, "f64"), tide.full({}, math.pi / 2, "f64"))
I = I - I:real():to("c128")  -- exactly 0 + 1i
local function cn(shape, g)  -- CN(0, 1)
  return (tide.randn(shape, {dtype = "f64", generator = g}):to("c128")
          + tide.randn(shape, {dtype = "f64", generator = g}):to("c128") * I) * math.sqrt(0.5)
end

-- the fixture as a system table (K = 4 blocks, one hop)
local fsys = {H = F.H, G = F.G, S = F.S, X = F.X, Y = F.Y, sigma2 = F.sigma2:item()}

-- ---------------------------------------------------------------- against NumPy
do
  assert(rel(tide.irs.cascaded(fsys), F.B) < 1e-13, "cascaded channels")
  assert(rel(tide.irs.cascaded({F.H, F.G}, {F.S}), F.B) < 1e-13)
  assert(rel(tide.irs.cascaded({F.F0, F.F1, F.F2}, {F.S1, F.S2}), F.B2) < 1e-13, "two-hop cascade")
  assert(math.abs(tide.irs.objective(fsys, F.H1, F.G1) - F.F:item()) < 1e-12 * F.F:item())
  local gH, gG = tide.irs.gradients(fsys, F.H1, F.G1)
  assert(rel(gH, F.gH) < 1e-12 and rel(gG, F.gG) < 1e-12, "Wirtinger gradients vs NumPy")
  -- exact LS half-steps (Tide: normal equations; NumPy: lstsq on the stacked system)
  assert(rel(tide.irs.als_step(fsys, F.H1, F.G1, 1), F.Hstep) < 1e-10, "H-step")
  assert(rel(tide.irs.als_step(fsys, {F.H1, F.G1}, 2), F.Gstep) < 1e-10, "G-step")
  -- the KRF initialization
  local est, h = tide.irs.estimate(fsys, {init = "krf", iters = 0, progress = false})
  assert(rel(est.B, F.Bkrf) < 1e-10 and h.iterations == 0, "KRF init vs NumPy")
  assert(rel(tide.irs.khatri_rao(F.H, F.G:t()), F.KR) < 1e-14)
end

-- ---------------------------------------------------------------- 3.6 invariants 1-2
do
  -- 1. vec(H diag(s) G) = (H kr G^T) s (row-major vec), and Khatri-Rao = columnwise kron
  local g = tide.Generator(1)
  local H, G, s = cn({6, 4}, g), cn({4, 3}, g), cn({4}, g)
  local lhs = (H * s:unsqueeze(1)):matmul(G):reshape(-1)
  local rhs = tide.irs.khatri_rao(H, G:t()):matmul(s)
  assert(rel(lhs, rhs) < 1e-13, "3.6.1 Khatri-Rao identity")
  -- the spec's column-major form: vec_c(H diag(s) G) = (G^T kr H) s
  local colmajor = (H * s:unsqueeze(1)):matmul(G):t():contiguous():reshape(-1)
  assert(rel(colmajor, tide.irs.khatri_rao(G:t(), H):matmul(s)) < 1e-13)
  local kr = tide.irs.khatri_rao(H, G:t())
  for n = 1, 4 do assert(rel(kr[{{}, n}], tide.kron(H[{{}, n}], G:t()[{{}, n}])) < 1e-15, "KR column = dense kron") end
  -- 2. the diagonal ambiguity leaves B unchanged; so does rebalancing
  local d = cn({4}, g)
  local HD, DG = H * d:unsqueeze(1), G / d:unsqueeze(2)
  local B1 = (H * s:unsqueeze(1)):matmul(G)
  local B2 = (HD * s:unsqueeze(1)):matmul(DG)
  assert(norm(B1 - B2) < 1e-12 * norm(B1), "3.6.2 ambiguity")
  local sys = tide.irs.simulate{P = 6, N = 4, M = 3, K = 5, T = 8, sigma2 = 0.1, seed = 3}
  local Hr, Gr = tide.irs.rebalance(sys, HD, DG)
  local Ba, Bb = tide.irs.cascaded({HD, DG}, {sys.S}), tide.irs.cascaded({Hr, Gr}, {sys.S})
  assert(rel(Bb, Ba) < 1e-12, "3.6.2 rebalancing keeps B")
  for n = 1, 4 do
    assert(math.abs(norm(Hr[{{}, n}]) - norm(Gr[n])) < 1e-12 * norm(Gr[n]), "rebalanced column norms")
  end
  -- the invariant tensor C(p, n, m) = H(p, n) G(n, m)
  assert(rel(tide.irs.invariant(HD, DG), tide.irs.invariant(H, G)) < 1e-12)
end

-- ---------------------------------------------------------------- 3.6 invariants 3-5
do
  -- 3. noiseless P=16, N=8, M=4, K=8, T=16: ALS from a random start < 1e-10 within 200 sweeps;
  --    the KRF init is exact to 1e-12
  local sys = tide.irs.simulate{P = 16, N = 8, M = 4, K = 8, T = 16, sigma2 = 0, seed = 11}
  local est, h = tide.irs.estimate(sys, {init = "random", iters = 200, generator = tide.Generator(5), progress = false})
  local e = math.sqrt(tide.irs.error(est, sys).nmse)
  assert(e < 1e-10, "3.6.3 ALS from random init: " .. e)
  assert(h.iterations <= 200)
  local k, hk = tide.irs.estimate(sys, {init = "krf", iters = 0, progress = false})
  assert(math.sqrt(hk.init_nmse) < 1e-12 and rel(k.B, sys.B) < 1e-12, "3.6.3 KRF exact")
  -- 4. each ALS half-step does not increase F (noisy data, random start)
  local ns = tide.irs.simulate{P = 16, N = 8, M = 4, K = 8, T = 16, sigma2 = 0.1, seed = 12}
  local g = tide.Generator(6)
  local H, G = cn({16, 8}, g), cn({8, 4}, g)
  local Fv = tide.irs.objective(ns, H, G)
  for sweep = 1, 10 do
    H = tide.irs.als_step(ns, H, G, 1)
    local F1 = tide.irs.objective(ns, H, G)
    assert(F1 <= Fv * (1 + 1e-12), "3.6.4 H-step increased F")
    G = tide.irs.als_step(ns, H, G, 2)
    local F2 = tide.irs.objective(ns, H, G)
    assert(F2 <= F1 * (1 + 1e-12), "3.6.4 G-step increased F")
    Fv = F2
  end
  -- 5. AGD gradients match central differences of F, real and imaginary parts separately
  local H0, G0 = cn({16, 8}, g), cn({8, 4}, g)
  local gH, gG = tide.irs.gradients(ns, H0, G0)
  local h = 1e-6
  for which, pair in ipairs{{H0, gH}, {G0, gG}} do
    local X, grad = pair[1], pair[2]
    local flat, gflat = X:view(-1), grad:view(-1)
    for k = 1, X:numel(), (which == 1 and 7 or 3) do
      for _, dir in ipairs{1, I} do
        local v = flat[{{k, k}}]:clone()
        flat[{{k, k}}] = v + dir * h
        local fp = tide.irs.objective(ns, H0, G0)
        flat[{{k, k}}] = v - dir * h
        local fm = tide.irs.objective(ns, H0, G0)
        flat[{{k, k}}] = v
        local fd = (fp - fm) / (2 * h)
        local gk = gflat[{{k, k}}]
        local want = dir == 1 and gk:real():item() or gk:imag():item()  -- grad = dF/dRe + i dF/dIm
        assert(math.abs(fd - want) <= 1e-6 * math.max(1, math.abs(want)), ("3.6.5 gradient %d entry %d: %g vs %g"):format(which, k, fd, want))
      end
    end
  end
end

-- ---------------------------------------------------------------- 3.6 invariants 6-7
do
  -- 6. scaling law: mean over 8 seeds of T E / (sigma^2 N (P + M - 1)) in [0.8, 1.4] for
  --    T in {16, 64}; E(16) / E(64) in [3, 5.5]
  local mean = {}
  for _, T in ipairs{16, 64} do
    local ratio, E = 0, 0
    for seed = 1, 8 do
      local sys = tide.irs.simulate{P = 16, N = 8, M = 4, K = 8, T = T, sigma2 = 0.1, seed = 100 + seed}
      local est = tide.irs.estimate(sys, {progress = false})
      local r = tide.irs.error(est, sys)
      assert(r.dof == 8 * (16 + 4 - 1))
      ratio = ratio + r.ratio / 8
      E = E + r.E / 8
    end
    assert(ratio >= 0.8 and ratio <= 1.4, ("3.6.6 T = %d: mean T E / (sigma^2 dof) = %.3f"):format(T, ratio))
    mean[T] = E
  end
  local q = mean[16] / mean[64]
  assert(q >= 3 and q <= 5.5, "3.6.6 E(16) / E(64) = " .. q)
  -- 7. ALS and AGD agree: 50 ALS sweeps, 1500 AGD iterations from the KRF init
  local sys = tide.irs.simulate{P = 16, N = 8, M = 4, K = 8, T = 32, sigma2 = 0.1, seed = 21}
  local a = tide.irs.estimate(sys, {method = "als", iters = 50, tol = 0, progress = false})
  local b, hb = tide.irs.estimate(sys, {method = "agd", iters = 1500, tol = 0, progress = false})
  assert(hb.iterations == 1500)
  local d = rel(b.B, sys.B) == 0 and 0 or norm(a.B - b.B) / norm(sys.B)
  assert(d < 1e-6, "3.6.7 ALS vs AGD: " .. d)
  -- the alternating AGD update reaches the same point too
  local c = tide.irs.estimate(sys, {method = "agd", update = "alternating", iters = 1500, tol = 0, progress = false})
  assert(norm(a.B - c.B) / norm(sys.B) < 1e-6)
  -- a fixed AGD step (agd_norm = 'none') takes a different path to the same point
  local _, hs = tide.irs.estimate(sys, {method = "agd", iters = 20, tol = 0, progress = false})
  local _, hn = tide.irs.estimate(sys, {method = "agd", agd_norm = "none", eta = 0.02, iters = 20, tol = 0, progress = false})
  assert(hs.objective[20] ~= hn.objective[20] and hn.objective[20] < hn.init_objective)
end

-- ---------------------------------------------------------------- variants (3.5)
do
  -- low-rank channels: fitting the rank lowers the error and the dof count drops
  local sys = tide.irs.simulate{P = 16, N = 8, M = 4, K = 8, T = 32, sigma2 = 0.1, rank_h = 2, seed = 31}
  local low = tide.irs.estimate(sys, {rank_h = 2, progress = false})
  local full = tide.irs.estimate(sys, {progress = false})
  local rl, rf = tide.irs.error(low, sys), tide.irs.error(full, sys)
  assert(rl.dof == 2 * (16 + 8) - 4 + 8 * 4 - 8 and rf.dof == 152)
  assert(rl.E < 0.6 * rf.E, ("low-rank fit %g vs full %g"):format(rl.E, rf.E))
  local Hl = low.H
  local sv = tide.linalg.svdvals(Hl)
  assert(sv[3] < 1e-10 * sv[1], "the estimated H has rank 2")
  -- noiseless low-rank recovery is exact (both channels low rank, ALS over four factors)
  local s0 = tide.irs.simulate{P = 12, N = 6, M = 4, K = 8, T = 16, sigma2 = 0, ranks = {2, 3}, seed = 32}
  local e0 = tide.irs.estimate(s0, {ranks = {2, 3}, iters = 300, progress = false})
  assert(math.sqrt(tide.irs.error(e0, s0).nmse) < 1e-8, "noiseless low-rank")
  -- unknown IRS: phases estimated as well; noiseless is exact, noisy follows the dof law
  local su = tide.irs.simulate{P = 16, N = 8, M = 4, K = 8, T = 32, sigma2 = 0, seed = 33}
  -- (ALS over H, S, G is CP-ALS on the (P, M, K) tensor B: plain ALS crawls through "swamps"
  -- from some starts; the default line-search extrapolation shortens them)
  local eu, hu = tide.irs.estimate(su, {unknown_irs = true, iters = 1000, generator = tide.Generator(1), progress = false})
  local _, hplain = tide.irs.estimate(su, {unknown_irs = true, iters = 1000, extrapolate = false, generator = tide.Generator(1), progress = false})
  assert(hu.iterations < hplain.iterations, ("extrapolation: %d sweeps, plain ALS %d"):format(hu.iterations, hplain.iterations))
  -- restarts keep the best of several random starts (the first start is the single run's)
  local noisy = tide.irs.simulate{P = 16, N = 8, M = 4, K = 8, T = 32, sigma2 = 0.1, seed = 35}
  local _, h1 = tide.irs.estimate(noisy, {unknown_irs = true, iters = 100, generator = tide.Generator(4), progress = false})
  local _, h3 = tide.irs.estimate(noisy, {unknown_irs = true, iters = 100, restarts = 3, generator = tide.Generator(4), progress = false})
  assert(h3.objective[#h3.objective] <= h1.objective[#h1.objective] * (1 + 1e-12))
  S.checkerror("restarts need init = 'random'", tide.irs.estimate, noisy, {restarts = 2})
  assert(math.sqrt(tide.irs.error(eu, su).nmse) < 1e-8, "noiseless unknown IRS: " .. math.sqrt(tide.irs.error(eu, su).nmse))
  assert(tide.irs.dof(su, {unknown_irs = true}) == 8 * (16 + 8 + 4) - 16)
  -- the phases are recovered up to a per-element complex scale and an order of the elements
  -- (B_k = sum_n s_kn h_n g_n^T is a CP decomposition: unique up to scaling and permutation)
  for n = 1, 8 do
    local found = false
    for n2 = 1, 8 do
      local col = eu.S[{{}, n}] / su.S[{{}, n2}]
      if (col - col[{{1, 1}}]):abs():max():item() < 1e-6 * col:abs():max():item() then found = true end
    end
    assert(found, "estimated phase column " .. n .. " matches no true column up to scale")
  end
  -- two hops: noiseless exact; noisy near the dof law
  local s2 = tide.irs.simulate{P = 8, N = {4, 4}, M = 4, K = {4, 4}, T = 16, sigma2 = 0, seed = 34}
  assert(s2.J == 16 and #s2.channels == 3 and s2.X:shape()[1] == 16)
  local e2 = tide.irs.estimate(s2, {iters = 500, generator = tide.Generator(3), progress = false})
  assert(math.sqrt(tide.irs.error(e2, s2).nmse) < 1e-8, "noiseless two hops")
  assert(tide.irs.dof(s2) == 8 * 4 + 4 * 4 + 4 * 4 - 8)
  local agd2 = tide.irs.estimate(s2, {method = "agd", iters = 300, generator = tide.Generator(3), progress = false})
  assert(tide.irs.error(agd2, s2).nmse < tide.irs.error(tide.irs.estimate(s2, {iters = 0, generator = tide.Generator(3), progress = false}), s2).nmse,
         "AGD on a chain reduces the error")
end

-- ---------------------------------------------------------------- simulator options
do
  local a = tide.irs.simulate{P = 4, N = 3, M = 2, K = 4, T = 8, snr_db = 10, seed = 1}
  assert(math.abs(a.sigma2 - 3 * 2 / 10) < 1e-12 and math.abs(tide.irs.sigma2(10, 3, 2) - 0.6) < 1e-12)
  local o = tide.irs.simulate{P = 4, N = 3, M = 2, K = 4, T = 8, pilots = "orthogonal", seed = 1}
  local XXh = o.X[1]:matmul(o.X[1]:conj():t())
  assert((XXh - tide.eye(2, {dtype = "c128"}) * 8):abs():max():item() < 1e-12, "orthogonal pilots: X X^H = T I")
  local qp = tide.irs.simulate{P = 4, N = 3, M = 2, K = 4, T = 8, pilots = "qpsk", shared_pilots = true, seed = 1}
  assert((qp.X:abs() - 1):abs():max():item() < 1e-15 and rel(qp.X[1], qp.X[4]) == 0, "shared QPSK pilots")
  local dft = tide.irs.simulate{P = 4, N = 4, M = 2, K = 4, T = 8, phases = "dft", seed = 1}
  local SS = dft.S:conj():t():matmul(dft.S)
  assert((SS - tide.eye(4, {dtype = "c128"}) * 4):abs():max():item() < 1e-12, "DFT phases: S^H S = K I")
  assert((a.S:abs() - 1):abs():max():item() < 1e-14, "unit-modulus phases")
  local b = tide.irs.simulate{P = 4, N = 3, M = 2, K = 4, T = 8, snr_db = 10, seed = 1}
  assert(rel(a.Y, b.Y) == 0, "reproducible from the seed")
  local c = tide.irs.simulate{P = 4, N = 3, M = 2, K = 4, T = 8, snr_db = 20, seed = 1}
  assert(rel(a.H, c.H) == 0 and rel(a.X, c.X) == 0 and rel(a.Y, c.Y) > 0, "SNR changes only the noise")
  -- progress = false and a log
  local path = os.tmpname()
  local log = tide.train.Logger(path)
  local _, h = tide.irs.estimate(a, {iters = 6, tol = 0, log = log, log_every = 2, progress = false})
  log:close()
  local recs = tide.train.read_jsonl(path)
  os.remove(path)
  assert(#recs == 3 and recs[3].iter == 6 and recs[1].method == "als" and h.iterations == 6)
  local th, dof = tide.irs.theory(a)
  assert(dof == 3 * (4 + 2 - 1) and math.abs(th - a.sigma2 * dof / 8) < 1e-15)
end

-- ---------------------------------------------------------------- bad input
do
  local sys = tide.irs.simulate{P = 4, N = 3, M = 2, K = 4, T = 8, sigma2 = 0.1, seed = 1}
  S.checkerror("bad argument #1 to 'tide.irs.estimate' (IRS system table", tide.irs.estimate, 5)
  S.checkerror("the system needs channels", tide.irs.estimate, {X = sys.X})
  S.checkerror("option 'method' must be one of 'als', 'agd'", tide.irs.estimate, sys, {method = "em"})
  S.checkerror("unknown option 'iterations'", tide.irs.estimate, sys, {iterations = 3})
  S.checkerror("solved by ALS", tide.irs.estimate, sys, {method = "agd", unknown_irs = true})
  S.checkerror("init 'krf' needs K >= N", tide.irs.estimate, tide.irs.simulate{P = 4, N = 5, M = 2, K = 3, T = 8, seed = 1}, {init = "krf"})
  S.checkerror("init 'krf' needs T >= M", tide.irs.estimate, tide.irs.simulate{P = 4, N = 3, M = 4, K = 4, T = 2, seed = 1}, {init = "krf"})
  S.checkerror("rank of channel 1 must be in 1...3", tide.irs.estimate, sys, {rank_h = 7})
  S.checkerror("expected 2 channel ranks", tide.irs.estimate, sys, {ranks = {1, 1, 1}})
  S.checkerror("give sigma2 or snr_db, not both", tide.irs.simulate, {sigma2 = 1, snr_db = 3})
  S.checkerror("orthogonal pilots need T >= M", tide.irs.simulate, {M = 4, T = 2, pilots = "orthogonal"})
  S.checkerror("option 'phases' must be one of", tide.irs.simulate, {phases = "hadamard"})
  S.checkerror("expected P, M, T >= 1", tide.irs.simulate, {P = 0})
  S.checkerror("pilots must be (4, 2, T)", tide.irs.estimate, {H = sys.H, G = sys.G, S = sys.S, X = sys.X[1], Y = sys.Y})
  S.checkerror("expected cascaded channels of shape", tide.irs.error, sys.B[1], sys)
  S.checkerror("channel 1 must be (4, 3)", tide.irs.objective, sys, sys.G, sys.H)
  S.checkerror("expected A (I, R) and B (J, R) with the same R", tide.irs.khatri_rao, sys.H, sys.G)
  S.checkerror("channel index 3 out of range", tide.irs.als_step, sys, sys.H, sys.G, 3)
  S.checkerror("tide.irs.simulate: the system needs", tide.irs.simulate, {P = 2^20, N = 2^10, T = 2^12})
  S.checkerror("has too many elements", tide.irs.simulate, {P = 2^40, N = 2^40})
  S.checkerror("prod K overflows", tide.irs.simulate, {N = {2, 2, 2}, K = {2^31, 2^31, 2^31}})
  S.checkerror("channels must be a list of tensors, got string", tide.irs.cascaded, "abc", {})
end

-- ---------------------------------------------------------------- fuzz: awkward arguments never crash
local fuzz_values = S.awkward{function() return tide.irs.simulate{P = 3, N = 2, M = 2, K = 2, T = 3, seed = 1} end}
do
  local names = {}
  for k, v in pairs(tide.irs) do if type(v) == "function" then names[#names + 1] = {"tide.irs." .. k, v} end end
  table.sort(names, function(x, y) return x[1] < y[1] end)
  print("tide.irs fuzz:", (S.fuzz(names, fuzz_values)), "calls, no crash")
end

print("test_irs: ok")
