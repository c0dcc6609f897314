-- Shared helpers for the Lua test scripts (required as "support").
local M = {}

-- checkerror(pattern, fn, ...): fn(...) must fail with a message containing `pattern` (plain).
function M.checkerror(pattern, fn, ...)
  local ok, err = pcall(fn, ...)
  assert(not ok, "expected an error matching '" .. pattern .. "', but the call succeeded")
  err = tostring(err)
  assert(err:find(pattern, 1, true), "expected error containing '" .. pattern .. "', got: " .. err)
  return err
end

-- close(a, b, tol): elementwise closeness of two tensors / tables / numbers.
function M.close(a, b, tol)
  tol = tol or 1e-6
  local ta = type(a) == "userdata" and a:to("f64"):reshape(-1):totable() or a
  local tb = type(b) == "userdata" and b:to("f64"):reshape(-1):totable() or b
  if type(ta) == "number" then ta = {ta} end
  if type(tb) == "number" then tb = {tb} end
  assert(#ta == #tb, ("length mismatch: %d vs %d"):format(#ta, #tb))
  for i = 1, #ta do
    local d = math.abs(ta[i] - tb[i])
    assert(d <= tol * (1 + math.abs(tb[i])), ("element %d: %s vs %s"):format(i, ta[i], tb[i]))
  end
  return true
end

return M
