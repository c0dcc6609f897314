-- Every op in the registry (scripts/fixtures/gen_ops.py -> Tests/fixtures/ops/cases.lua) against
-- NumPy, on contiguous inputs and again on non-contiguous views of the same values.
-- An optional argument names another fixture directory (the large cases written at test time).
local here = debug.getinfo(1, "S").source:sub(2):match("^(.*)/")
local dir = (... and select(1, ...):match("^/") and (select(1, ...) .. "/")) or (here .. "/../../fixtures/ops/")
local cases = dofile(dir .. "cases.lua")
local data = tide.io.load(dir .. "ops.npz")

local np_dtype = {f32 = "f32", f64 = "f64", i64 = "i64", bool = "bool", c64 = "c64", c128 = "c128"}

local function compare(name, got, want, tol)
  assert(tide.is_tensor(got), ("%s: expected a tensor result, got %s"):format(name, type(got)))
  assert(got:dtype() == np_dtype[want:dtype()],
    ("%s: dtype %s, NumPy gives %s"):format(name, got:dtype(), want:dtype()))
  local gs, ws = got:shape(), want:shape()
  assert(#gs == #ws, ("%s: shape %s, NumPy gives %s"):format(name, table.concat(gs, "x"), table.concat(ws, "x")))
  for k = 1, #gs do
    assert(gs[k] == ws[k], ("%s: shape %s, NumPy gives %s"):format(name, table.concat(gs, "x"), table.concat(ws, "x")))
  end
  -- compared with tensor ops, so large cases stay fast, part by part (real, then imaginary):
  -- |got - want| <= tol (1 + |want|) where NumPy's part is finite, the same infinity where it
  -- is infinite, and NaN exactly where NumPy has NaN (a NaN in one part says nothing about the
  -- other)
  local g, w = got:to("c128"):reshape(-1), want:to("c128"):reshape(-1)
  if g:numel() == 0 then return end
  for _, part in ipairs({"real", "imag"}) do
    local gp, wp = g[part](g), w[part](w)
    local wn, wi = wp:isnan(), wp:isinf()
    local special = wn:logical_or(wi)
    local err = (gp - wp):abs():masked_fill(special, 0)
    local bad = err:gt((wp:abs():masked_fill(special, 0) + 1) * tol)
      :logical_or(gp:isnan():logical_xor(wn))
      :logical_or(wi:logical_and(gp:ne(wp)))
    if bad:any():item() then
      local i = bad:to("i64"):argmax():item()
      local function fmt(z) return ("%.17g%+.17gi"):format(z:real():item(), z:imag():item()) end
      error(("%s: element %d is %s, NumPy gives %s (%s part; tol %g)"):format(name, i, fmt(g[i]), fmt(w[i]), part, tol), 0)
    end
  end
end

local ran, failures = 0, {}
for _, c in ipairs(cases) do
  local fn = assert(load("local " .. (#c.inputs > 0 and table.concat(c.inputs, ", ") or "_") .. " = ...; return " .. c.expr,
    "=" .. c.name, "t"))
  for _, variant in ipairs({"contiguous", "strided"}) do
    local args, any_strided = {}, false
    for i, n in ipairs(c.inputs) do
      local key = c.name .. "." .. n
      if variant == "strided" and data[key .. ".T"] then
        args[i] = data[key .. ".T"]:transpose(-2, -1)
        any_strided = true
      else
        args[i] = data[key]
      end
    end
    if variant == "contiguous" or any_strided then
      local ok, err = pcall(function()
        local results = table.pack(fn(table.unpack(args, 1, #c.inputs)))
        assert(results.n == c.nout, ("%s: %d results, expected %d"):format(c.name, results.n, c.nout))
        for k = 1, c.nout do
          compare(c.name .. " [" .. variant .. "] out" .. k, results[k], data[c.name .. ".out" .. k], c.tol)
        end
      end)
      ran = ran + 1
      if not ok then failures[#failures + 1] = tostring(err) end
    end
  end
end
if #failures > 0 then
  error(("%d of %d op checks against NumPy failed:\n%s"):format(#failures, ran, table.concat(failures, "\n")))
end
print(("test_ops_numpy: %d checks against NumPy passed"):format(ran))
