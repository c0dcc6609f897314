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

-- awkward(extra): generators of awkward arguments (nil, NaN, huge and negative numbers, wrong
-- types, absurd option tables, empty and complex tensors), then those of the list `extra`:
-- the values the solver fuzz tests (test_tt, test_irs) throw at every function.
function M.awkward(extra)
  local vals = {
    function() return nil end, function() return true end, function() return "x" end,
    function() return 0 end, function() return -1 end, function() return 1e300 end, function() return 0/0 end,
    function() return 2^63 end, function() return math.maxinteger end, function() return 3.5 end, function() return {} end,
    function() return {1, 2} end, function() return {-1, 0} end, function() return {dtype = "bogus"} end,
    function() return {m = 2^40, dims = {2^31, 2^31}, ranks = 2^40, P = 2^40, N = {2^31, 2^31}, K = {2^31, 2^31}} end,
    function() return tide.zeros(0) end, function() return tide.ones(2, 3) end, function() return tide.tensor(5) end,
    function() return tide.ones(2, 2, "c128") end, function() return tide.zeros(3, 0) end,
  }
  for _, v in ipairs(extra or {}) do vals[#vals + 1] = v end
  return vals
end

-- fuzz(names, vals, opts): "awkward arguments never crash the host". names is a list of
-- {label, fn [, self]}; fn is called with each value of vals (generators) in turn as its first
-- argument (after self(i), a method's receiver, when given) followed by 0 to 3 values drawn at
-- random, opts.rounds (default 7) times per value; math.random is reseeded per function so a
-- failure repeats. Every call must succeed or raise a non-empty string message.
-- Returns the number of calls and of errors raised.
function M.fuzz(names, vals, opts)
  local rounds = opts and opts.rounds or 7
  local calls, errors = 0, 0
  for _, e in ipairs(names) do
    local name, fn, self = e[1], e[2], e[3]
    math.randomseed(7)
    for i = 1, #vals do
      for j = 0, rounds - 1 do
        local args = {}
        if self then args[1] = self(i) end
        args[#args + 1] = vals[i]()
        for _ = 1, j % 4 do args[#args + 1] = vals[math.random(#vals)]() end
        local ok, err = pcall(fn, table.unpack(args, 1, #args))
        calls = calls + 1
        if not ok then
          errors = errors + 1
          assert(type(err) == "string" and #err > 0, name .. ": error is not a message")
        end
      end
    end
  end
  return calls, errors
end

return M
