-- examples/tour.lua: the first thing to run. A quick walk through what Tide's host does today.
--
--   scripts/run examples/tour.lua            (full)
--   tide examples/tour.lua --quick           (what the tests run)
--   tide examples/tour.lua --out DIR         (where its record goes; default runs/tour)
--
-- It prints each step and writes a JSONL record of the numbers it computed.

local o = tide.util.args(arg, {{"--quick"}, {"--out DIR", "string", "runs/tour"}})
local quick, out = o.quick, o.out

local function section(title) print(("\n== %s %s"):format(title, ("="):rep(60 - #title))) end

section("tensors")
local x = tide.tensor({{1, 2, 3}, {4, 5, 6}}, "f64")
print(x)
print("shape", table.concat(x:shape(), "x"), "dtype", x:dtype(), "numel", x:numel())

section("1-based indexing, inclusive ranges, negatives")
print("x[2][3] =", x[2][3], " x[{1, -1}] =", x[{1, -1}])
print(x[{{}, {2, 3}}])
x[{1, {}}] = 0
print("after x[{1, {}}] = 0:\n" .. tostring(x))

section("broadcasting and scalars on either side")
local col = tide.tensor({{10}, {20}}, "f64")
local y = x + col * 2 - 1
print(y)

section("dtypes and promotion")
local ints = tide.arange(1, 6)
print("arange(1, 6) ->", ints:dtype(), table.concat(ints:totable(), " "))
print("ints / 2 ->", (ints / 2):dtype(), "   ints + 0.5 ->", (ints + 0.5):dtype())

section("reductions, sorting, softmax")
local r = tide.tensor({{3, 1, 2}, {9, 7, 8}}, "f64")
local v, idx = r:max(2)
print("row max", table.concat(v:totable(), " "), "at (1-based)", table.concat(idx:totable(), " "))
print("sorted row 1:", table.concat(r[1]:sort():totable(), " "), "  softmax row 2 sums to", r:softmax(2)[2]:sum():item())

section("random numbers, reproducibly")
tide.manual_seed(42)
local a1 = tide.randn(3):totable()
tide.manual_seed(42)
local a2 = tide.randn(3):totable()
print(("randn after manual_seed(42), twice: %.4f %.4f | %.4f %.4f"):format(a1[1], a1[2], a2[1], a2[2]))

section("linear algebra (LAPACK)")
local A = tide.tensor({{4, 1}, {1, 3}}, "f64")
local L, V = tide.linalg.eigh(A)
print("eigenvalues of [[4,1],[1,3]]:", table.concat(L:totable(), " "))
local xsol = tide.linalg.solve(A, tide.tensor({1, 2}, "f64"))
print("solve A x = [1, 2]: x =", table.concat(xsol:totable(), " "), " residual", (A:matmul(xsol) - tide.tensor({1, 2}, "f64")):norm():item())

section("files (NumPy .npy/.npz, safetensors, CSV)")
os.execute("mkdir -p '" .. out .. "'")
tide.io.save(out .. "/A.npy", A)
print("saved and loaded back:", tide.io.load(out .. "/A.npy"):eq(A):all():item())

section("sizes")
local n = quick and 256 or 2048
local big <close> = tide.ones(n, n)
local s = (big * 3)[{n, n}]
print(("a %dx%d tensor of ones times 3, last element = %g (freed at scope exit)"):format(n, n, s))

section("help")
tide.help(tide.linspace)

-- a record of what was computed, as every example writes
local tmp = out .. "/tour.jsonl.tmp"
local f = assert(io.open(tmp, "w"))
f:write(('{"example":"tour","n":%d,"last":%g,"y22":%g,"eig1":%.17g,"eig2":%.17g}\n'):format(
  n, s, y[{2, 2}], L[1], L[2]))
f:close()
assert(os.rename(tmp, out .. "/tour.jsonl"))
print("\nwrote " .. out .. "/tour.jsonl")
