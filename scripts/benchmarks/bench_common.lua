-- Shared by the Tide benchmark scripts (required from the script's own directory).
local M = {}

-- The least wall time of n calls of fn: on a shared machine the minimum is the stable statistic.
function M.best(n, fn)
  local b = math.huge
  for _ = 1, n do
    local t0 = tide.clock(); fn(); local t = tide.clock() - t0
    if t < b then b = t end
  end
  return b
end

return M
