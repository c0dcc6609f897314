-- The host basics seen from Lua: the tide table, require, docs, creation, indexing.
local T = require "tide"
assert(T == tide, "require 'tide' returns the global tide table")
local S = require "support"

assert(type(tide.version) == "string")
assert(tide.doc(tide.zeros):find("zeros"))
local function mine() end
tide.doc(mine, "my doc")
assert(tide.doc(mine) == "my doc")

-- creation and shape queries
local x = tide.zeros(2, 3)
assert(x:dim() == 2 and x:numel() == 6 and #x == 2)
assert(x:size(1) == 2 and x:size(-1) == 3)
assert(x:dtype() == "f32")
assert(tide.zeros(2, 3, "f64"):dtype() == "f64")
assert(tide.zeros({2, 3}, {dtype = "i64"}):dtype() == "i64")
assert(tide.tensor{1, 2, 3}:dtype() == "i64")
assert(tide.tensor{1.5, 2}:dtype() == "f32")
assert(tide.tensor{true, false}:dtype() == "bool")

-- indexing: 1-based, inclusive ranges, negatives
local m = tide.tensor({{1, 2, 3}, {4, 5, 6}}, "f64")
assert(m[2][3] == 6 and m[{1, -1}] == 3)
local cols = m[{{}, {2, 3}}]
assert(cols:size(1) == 2 and cols:size(2) == 2 and cols[{2, 1}] == 5)
m[{1, {}}] = 0
assert(m[{1, 2}] == 0 and m[{2, 2}] == 5)
S.checkerror("index 3 out of range for dim 1 of size 2", function() return m[3] end)

-- arithmetic with broadcasting and scalars on either side
local a = tide.tensor({{1}, {2}}, "f64")
local b = tide.tensor({10, 20, 30}, "f64")
local c = a + b
assert(c:size(1) == 2 and c:size(2) == 3 and c[{2, 3}] == 32)
assert((2 * a)[{2, 1}] == 4 and (a - 1)[{1, 1}] == 0 and (-a)[{2, 1}] == -2)
S.checkerror("not broadcastable", function() return tide.zeros(2, 3) + tide.zeros(4) end)

-- errors name the function
S.checkerror("bad argument #1 to 'zeros' (number expected, got boolean)", tide.zeros, true)
S.checkerror("bad argument #1 to 'eye' (number expected, got no value)", tide.eye)
