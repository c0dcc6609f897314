-- Tide side of scripts/bench: prints "name seconds" lines (best of several runs, wall clock).
tide.set_num_threads(2)
local best = require("bench_common").best
-- one untimed warm-up product on each side first: the first GEMM of a process starts
-- OpenBLAS's threads and maps its buffers
do local w = tide.randn(256, 256); local _ = w:matmul(w) end
for _, n in ipairs({512, 1024, 2048}) do
  local a, b = tide.randn(n, n), tide.randn(n, n)
  print(("gemm_f32_%d %.9f"):format(n, best(n == 512 and 50 or n == 1024 and 20 or 5, function() return a:matmul(b) end)))
end
local x, y = tide.randn(4194304), tide.randn(4194304)
print(("add_f32_4M %.9f"):format(best(20, function() return x + y end)))
print(("gelu_f32_4M %.9f"):format(best(20, function() return x:gelu() end)))
print(("sum_f32_4M %.9f"):format(best(100, function() return x:sum() end)))
local ya = y:abs() + 0.5  -- positive, for log
print(("mul_f32_4M %.9f"):format(best(20, function() return x * y end)))
print(("maximum_f32_4M %.9f"):format(best(20, function() return tide.maximum(x, y) end)))
print(("lt_f32_4M %.9f"):format(best(20, function() return x:lt(y) end)))
print(("square_f32_4M %.9f"):format(best(20, function() return x ^ 2 end)))
print(("exp_f32_4M %.9f"):format(best(20, function() return x:exp() end)))
print(("log_f32_4M %.9f"):format(best(20, function() return ya:log() end)))
print(("sin_f32_4M %.9f"):format(best(20, function() return x:sin() end)))
print(("pow_f32_4M %.9f"):format(best(20, function() return ya ^ y end)))
local xs = x:reshape(4096, 1024)
print(("softmax_f32_4M %.9f"):format(best(20, function() return xs:softmax(2) end)))
print(("sum_dim_rows_f32_4M %.9f"):format(best(20, function() return xs:sum(2) end)))
print(("sum_dim_cols_f32_4M %.9f"):format(best(20, function() return xs:sum(1) end)))
print(("max_dim_f32_4M %.9f"):format(best(20, function() return xs:max(2) end)))
print(("cumsum_dim_f32_4M %.9f"):format(best(20, function() return xs:cumsum(2) end)))
local s1, s2 = tide.randn(16), tide.randn(16)
local reps = 100000
-- amortized: each timing spans 1M adds, so it includes the collector's work on the tensors
-- they leave behind (a best-of-100K-adds timing would pick the stretches between cycles)
local t = best(3, function() for _ = 1, 10 * reps do local _ = s1 + s2 end end)
print(("add16_per_op %.9f"):format(t / (10 * reps)))
local xt = tide.randn(2048, 2048):t()
print(("add_f32_4M_transposed %.9f"):format(best(20, function() return xt + xt end)))
local xc = tide.randn(2048, 2048)
print(("add_f32_4M_mixed_layout %.9f"):format(best(20, function() return xc + xt end)))
-- the contiguous adds the layout rows are measured against (BENCHMARKS.md's derived rows):
-- one matrix added to itself (as xt + xt), and two distinct matrices (as xc + xt)
local yc = tide.randn(2048, 2048)
print(("add_f32_4M_2d_same %.9f"):format(best(20, function() return xc + xc end)))
print(("add_f32_4M_2d_pair %.9f"):format(best(20, function() return xc + yc end)))
