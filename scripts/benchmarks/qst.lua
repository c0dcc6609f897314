-- Tide side of the quantum state tomography benchmark (scripts/benchmarks/qst.py is NumPy's).
-- Prints "name seconds" lines (best of several runs, wall clock, 2 threads):
--   qst_wgd_iter_n6 / _n8     one Wirtinger GD iteration (rank 2, M = 10^4 single-shot settings),
--                             set-up (grouping, spectral start) excluded (the solver's history clock)
--   qst_measure_n6_M1e6_Q1    simulating 10^6 settings (Q = 1, and Q = 100): draw, group, shots
--   qst_measure_n6_M1e6_Q100
tide.set_num_threads(2)
local q = tide.qst
local best = require("bench_common").best
for _, n in ipairs({6, 8}) do
  local g = tide.Generator(n)
  local rho = q.random_state(n, {rank = 2, generator = g})
  local data = q.measure{state = rho, settings = 10000, shots = 1, generator = g}
  local steps = n == 6 and 200 or 50
  local b = math.huge
  for _ = 1, 5 do
    -- the solver's own clock: from the first record (after grouping and the spectral start)
    -- to the last, so set-up is excluded
    local _, h = q.recover{data = data, rank = 2, steps = steps, tol = 0, progress = false}
    b = math.min(b, (h.time[#h.time] - h.time[1]) / h.iterations)
  end
  print(("qst_wgd_iter_n%d %.9f"):format(n, b))
end
local rho = q.random_state(6, {rank = 2, generator = tide.Generator(1)})
for _, Q in ipairs({1, 100}) do
  local g = tide.Generator(Q)
  print(("qst_measure_n6_M1e6_Q%d %.9f"):format(Q, best(5, function() q.measure{state = rho, settings = 1000000, shots = Q, generator = g} end)))
end
