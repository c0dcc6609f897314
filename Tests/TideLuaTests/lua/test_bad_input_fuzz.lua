-- Bad input never crashes the host: every tide function and tensor method (and tide.linalg,
-- tide.io loaders) is called with awkward arguments (nil, NaN, huge and negative numbers,
-- wrong types, empty and complex tensors); each call must succeed or raise a Lua error
-- with a message. A crash of the host fails the test run.
local S = require "support"
local vals = {
  function() return nil end, function() return true end, function() return "x" end,
  function() return 0 end, function() return -1 end, function() return 1e300 end, function() return 0/0 end,
  function() return 2^63 end, function() return -2^63 end, function() return 3.5 end, function() return {} end,
  function() return {1, 2} end, function() return {-1, 0} end, function() return {dtype = "bogus"} end,
  function() return tide.zeros(0) end, function() return tide.ones(2, 3) end, function() return tide.tensor(5) end,
  function() return tide.tensor({1, 2, 3}) end, function() return tide.tensor({true, false}) end,
  function() return tide.ones(2, 2, "c128") end, function() return tide.zeros(3, 0) end,
  function() return tide.ones(4):lt(2) end, function() return tide.arange(0, 6):reshape(2, 3) end,
}
-- a method's receiver: one of the tensors at the end of vals
local function receiver(i) return vals[(i % 9) + 14]() end
local names = {}
for k, v in pairs(tide) do if type(v) == "function" then names[#names + 1] = {"tide." .. k, v} end end
for k, v in pairs(tide.Tensor) do if type(v) == "function" then names[#names + 1] = {"method " .. k, v, receiver} end end
for _, sub in ipairs({"linalg", "io"}) do
  for k, v in pairs(tide[sub]) do
    if type(v) == "function" and not k:match("^save") then names[#names + 1] = {"tide." .. sub .. "." .. k, v} end
  end
end
table.sort(names, function(a, b) return a[1] < b[1] end)
local skip = {["tide.set_num_threads"] = true, ["tide.manual_seed"] = false, ["tide.empty_cache"] = true,
  -- these write files named after their (fuzzed) arguments
  ["tide.save"] = true, ["tide.train.save_checkpoint"] = true, ["tide.fs.mkdir_p"] = true}
local targets = {}
for _, e in ipairs(names) do
  if not skip[e[1]] and not e[1]:match("^method free") then
    targets[#targets + 1] = e
  end
end
local calls, errors = S.fuzz(targets, vals, {rounds = 13})
print(calls, "calls,", errors, "errors, no crash")
