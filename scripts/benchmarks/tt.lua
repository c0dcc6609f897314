-- Tide side of the TT benchmarks (issue 7): prints "name seconds" lines (best of several runs,
-- wall clock), like core.lua. The same work in NumPy / tensorly: tt.py.
--   ttsvd_8^6_r4      TT-SVD of a random order-6 tensor with modes 8, ranks 4
--   ttsvd_20^4_r5     TT-SVD of a random order-4 tensor with modes 20, ranks 5
--   psubgm_iter       one PSubGM iteration at examples/tt_outliers.lua's default size
--                     (N = 4, d = 4, r = 2, m = 600, 20% outliers): two GEMVs, one TT-SVD,
--                     the full tensor and the loss
--   frsubgm_iter      one FRSubGM iteration at the same size
local threads = tonumber(os.getenv("TIDE_BENCH_THREADS") or "2")
tide.set_num_threads(threads)
local best = require("bench_common").best
local g = tide.Generator(0)
local x6 = tide.randn({8, 8, 8, 8, 8, 8}, {dtype = "f64", generator = g})
print(("ttsvd_8^6_r4 %.9f"):format(best(10, function() return tide.tt.svd(x6, {ranks = 4}) end)))
local x4 = tide.randn({20, 20, 20, 20}, {dtype = "f64", generator = g})
print(("ttsvd_20^4_r5 %.9f"):format(best(10, function() return tide.tt.svd(x4, {ranks = 5}) end)))
local p = tide.tt.problem{dims = {4, 4, 4, 4}, ranks = 2, m = 600, fraction = 0.2, seed = 1}
for _, method in ipairs{"psubgm", "frsubgm"} do
  -- time per iteration over 200 iterations (initialization excluded), best of 5 runs
  local t = best(5, function()
    local _, h = tide.tt.recover{op = p.op, y = p.y, ranks = 2, method = method, iters = 200, tol = 0, stop_err = 0,
                                 min_step = 0, progress = false}
    return h
  end)
  local per = math.huge
  for _ = 1, 5 do
    local _, h = tide.tt.recover{op = p.op, y = p.y, ranks = 2, method = method, iters = 200, tol = 0, stop_err = 0,
                                 min_step = 0, progress = false}
    per = math.min(per, h.time_per_iter)
  end
  print(("%s_iter %.9f"):format(method, per))
  local _ = t
end
