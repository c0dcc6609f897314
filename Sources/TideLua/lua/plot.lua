-- plot.lua: tide.plot, line and bar charts written as SVG 1.1 text (pure Lua, no
-- dependencies), for training curves and tables of results.
--
--   local p = tide.plot.line{title = "loss", xlabel = "step", ylabel = "nats", logy = true,
--                            series = {{name = "train", y = train_losses},
--                                      {name = "val", x = val_steps, y = val_losses}}}
--   p:save("runs/loss.svg")          -- atomic: written to path .. ".tmp", then renamed
--   local text = p:svg()
--   tide.plot.bar{title = "accuracy", labels = {"a", "b"}, values = {0.91, 0.87}}:save("acc.svg")
--
-- The SVG is built once, when the plot is made, so bad input fails at the call that gave it.
-- Axis ticks are "nice" numbers (1, 2 or 5 times a power of ten; decades on log axes).
-- NaN and infinite points are skipped (a line breaks there); a log axis refuses values <= 0.
local tide = ...
local plot = tide.plot or {}
tide.plot = plot

-- Colours (a colour-blind friendly qualitative palette); series beyond ten reuse them.
local palette = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"}
plot.palette = palette

local function fail(fn, msg) error("tide.plot." .. fn .. ": " .. msg, 3) end

local function esc(s)
  return (tostring(s):gsub("[&<>\"']", {["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;",
                                        ['"'] = "&quot;", ["'"] = "&apos;"}))
end

local function finite(v) return v == v and v ~= math.huge and v ~= -math.huge end

-- A list of numbers from a Lua array or a tensor (any shape, flattened).
local function numbers(fn, what, v)
  if tide.is_tensor(v) then return v:to("f64"):reshape(-1):totable() end
  if type(v) ~= "table" then fail(fn, what .. " must be a table of numbers or a tensor, got " .. type(v)) end
  for i = 1, #v do
    if type(v[i]) ~= "number" then
      fail(fn, what .. "[" .. i .. "] must be a number, got " .. type(v[i]))
    end
  end
  return v
end

-- Tick label text: short and exact enough for the step between ticks.
local function fmt_tick(v, step)
  if v == 0 then return "0" end
  local a = math.abs(v)
  if a >= 1e5 or a < 1e-4 then
    local s = string.format("%.3g", v)
    return (s:gsub("e%+?(%-?)0*(%d)", "e%1%2"))
  end
  local dec = math.max(0, -math.floor(math.log(step, 10) + 1e-9))
  return string.format("%." .. math.min(dec, 10) .. "f", v)
end

-- Heckbert's "nice numbers": a round step (1, 2, 5 x 10^k) giving about n ticks over [lo, hi].
local function nice_step(range, n)
  local raw = range / math.max(n - 1, 1)
  local mag = 10 ^ math.floor(math.log(raw, 10))
  local f = raw / mag
  local m = f < 1.5 and 1 or f < 3 and 2 or f < 7 and 5 or 10
  return m * mag
end

-- Linear axis: the data range widened to whole steps, and the tick values in it.
local function linear_axis(lo, hi, n)
  if lo == hi then
    local pad = lo == 0 and 1 or math.abs(lo) * 0.1
    lo, hi = lo - pad, hi + pad
  end
  local step = nice_step(hi - lo, n)
  local a, b = math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step
  local ticks = {}
  for k = 0, math.floor((b - a) / step + 0.5) do
    local v = a + k * step
    if math.abs(v) < step * 1e-9 then v = 0 end
    ticks[#ticks + 1] = {v = v, label = fmt_tick(v, step)}
  end
  return {lo = a, hi = b, ticks = ticks, log = false}
end

-- Log axis: whole decades; with less than ~two decades also 2x and 5x ticks.
local function log_axis(lo, hi)
  local a, b = math.floor(math.log(lo, 10) + 1e-9), math.ceil(math.log(hi, 10) - 1e-9)
  if a == b then b = a + 1 end
  local ticks = {}
  local mults = (b - a) <= 2 and {1, 2, 5} or {1}
  local every = math.max(1, math.ceil((b - a) / 10))  -- at most ~10 labelled decades
  for e = a, b do
    for _, m in ipairs(mults) do
      if e < b or m == 1 then
        local v = m * 10.0 ^ e
        local label
        if (e - a) % every == 0 or m ~= 1 then
          if e >= -3 and e <= 4 then label = fmt_tick(v, 10.0 ^ math.min(e, 0))
          else label = (m == 1 and "1e" or m .. "e") .. e end
        end
        ticks[#ticks + 1] = {v = v, label = label or ""}
      end
    end
  end
  return {lo = 10.0 ^ a, hi = 10.0 ^ b, ticks = ticks, log = true}
end

-- Maps a data value to a pixel coordinate between p0 and p1.
local function scaler(axis, p0, p1)
  if axis.log then
    local l0, l1 = math.log(axis.lo, 10), math.log(axis.hi, 10)
    return function(v) return p0 + (math.log(v, 10) - l0) / (l1 - l0) * (p1 - p0) end
  end
  return function(v) return p0 + (v - axis.lo) / (axis.hi - axis.lo) * (p1 - p0) end
end

local function num(v) return string.format("%.2f", v) end

local Plot = {}
Plot.__index = Plot
Plot.__name = "tide.plot"

--- p:svg() -> the SVG document as a string.
function Plot:svg() return self._svg end

--- p:save(path): writes the SVG atomically (path .. ".tmp", then renamed over path).
function Plot:save(path)
  if type(path) ~= "string" or path == "" then
    error("tide.plot: save expects a file path string, got " .. (path == "" and "an empty string" or type(path)), 2)
  end
  local dir = path:match("^(.*)/[^/]*$")
  if dir and dir ~= "" and not tide.fs.isdir(dir) then
    local ok, err = pcall(tide.fs.mkdir_p, dir)
    if not ok then error("tide.plot: cannot write " .. path .. " (" .. tostring(err) .. ")", 2) end
  end
  local tmp = path .. ".tmp"
  local f, err = io.open(tmp, "wb")
  if not f then error("tide.plot: cannot write " .. path .. " (" .. tostring(err) .. ")", 2) end
  local ok, werr = f:write(self._svg)
  local closed, cerr = f:close()
  if not ok or not closed then
    os.remove(tmp)
    error("tide.plot: cannot write " .. path .. " (" .. tostring(werr or cerr) .. ")", 2)
  end
  local renamed, rerr = os.rename(tmp, path)
  if not renamed then
    os.remove(tmp)
    error("tide.plot: cannot rename " .. tmp .. " to " .. path .. " (" .. tostring(rerr) .. ")", 2)
  end
  return self
end

function Plot:__tostring()
  return string.format("tide.plot %s (%d series, %dx%d)", self.kind, self.nseries, self.width, self.height)
end

-- Shared page layout: the frame, title, axis labels; returns the plotting rectangle.
local function page(o, out)
  local W, H = o.width, o.height
  out[#out + 1] = '<?xml version="1.0" encoding="UTF-8" standalone="no"?>'
  out[#out + 1] = string.format('<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="%d" height="%d" viewBox="0 0 %d %d" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">', W, H, W, H)
  out[#out + 1] = string.format('<rect x="0" y="0" width="%d" height="%d" fill="#ffffff"/>', W, H)
  local left, right = 70, 20
  local top = o.title and 40 or 20
  local bottom = o.xlabel and 62 or 44
  if o.title then
    out[#out + 1] = string.format('<text x="%s" y="24" text-anchor="middle" font-size="15" font-weight="bold">%s</text>', num(W / 2), esc(o.title))
  end
  if o.xlabel then
    out[#out + 1] = string.format('<text x="%s" y="%s" text-anchor="middle">%s</text>', num((left + W - right) / 2), num(H - 14), esc(o.xlabel))
  end
  if o.ylabel then
    local cy = (top + H - bottom) / 2
    out[#out + 1] = string.format('<text x="18" y="%s" text-anchor="middle" transform="rotate(-90 18 %s)">%s</text>', num(cy), num(cy), esc(o.ylabel))
  end
  return left, top, W - right, H - bottom
end

local function check_common(fn, o)
  if type(o) ~= "table" then fail(fn, "expected an options table {series = ...}, got " .. type(o)) end
  for _, k in ipairs({"title", "xlabel", "ylabel"}) do
    if o[k] ~= nil and type(o[k]) ~= "string" and type(o[k]) ~= "number" then
      fail(fn, k .. " must be a string, got " .. type(o[k]))
    end
  end
  local function size(k, def, min)
    local v = o[k] == nil and def or o[k]
    if type(v) ~= "number" or v ~= math.floor(v) or v < min then
      fail(fn, string.format("%s must be an integer >= %d, got %s", k, min, tostring(v)))
    end
    return math.tointeger(v)
  end
  local w, h = size("width", 720, 200), size("height", 440, 150)
  return {title = o.title, xlabel = o.xlabel, ylabel = o.ylabel, width = w, height = h}
end

local function legend(out, entries, x1, y0, swatch)
  if #entries == 0 then return end
  local wmax = 0
  for _, e in ipairs(entries) do wmax = math.max(wmax, #e.name) end
  local w, h = 34 + wmax * 7, 8 + 18 * #entries
  local x = x1 - w - 8
  out[#out + 1] = string.format('<g class="legend"><rect x="%s" y="%s" width="%s" height="%s" fill="#ffffff" fill-opacity="0.85" stroke="#999999"/>', num(x), num(y0 + 8), num(w), num(h))
  for i, e in ipairs(entries) do
    local y = y0 + 8 + 4 + 18 * (i - 1) + 9
    out[#out + 1] = swatch(x + 6, y, e.color)
    out[#out + 1] = string.format('<text x="%s" y="%s">%s</text>', num(x + 28), num(y + 4), esc(e.name))
  end
  out[#out + 1] = '</g>'
end

--- tide.plot.line{series = {{name =, x =, y =, color =, marker =}, ...}, title =, xlabel =,
--- ylabel =, logx = false, logy = false, width = 720, height = 440} -> a plot.
-- the y axis' tick marks and their labels, left of the frame at x0 (line and bar charts)
local function y_tick_marks(out, ya, sy, x0)
  for _, t in ipairs(ya.ticks) do
    local py = sy(t.v)
    out[#out + 1] = string.format('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#333333"/><text x="%s" y="%s">%s</text>', num(x0 - 5), num(py), num(x0), num(py), num(x0 - 8), num(py + 4), esc(t.label))
  end
end

function plot.line(o)
  local c = check_common("line", o)
  local series = o.series
  if type(series) ~= "table" then fail("line", "series must be a table of {name =, y = ...} tables, got " .. type(series)) end
  local logx, logy = o.logx and true or false, o.logy and true or false
  local ss = {}
  local xlo, xhi, ylo, yhi = math.huge, -math.huge, math.huge, -math.huge
  for i, s in ipairs(series) do
    if type(s) ~= "table" then fail("line", "series[" .. i .. "] must be a table, got " .. type(s)) end
    local name = s.name ~= nil and tostring(s.name) or ("series " .. i)
    if s.y == nil then fail("line", "series[" .. i .. "] ('" .. name .. "') has no y values") end
    local y = numbers("line", "series[" .. i .. "].y", s.y)
    local x
    if s.x ~= nil then
      x = numbers("line", "series[" .. i .. "].x", s.x)
      if #x ~= #y then
        fail("line", string.format("series[%d] ('%s') has %d x values but %d y values", i, name, #x, #y))
      end
    end
    local pts = {}
    for k = 1, #y do
      local xv, yv = x and x[k] or k, y[k]
      if finite(xv) and finite(yv) then
        if logx and xv <= 0 then
          fail("line", string.format("series[%d] ('%s') has x = %s at point %d; a log x axis needs positive values", i, name, tostring(xv), k))
        end
        if logy and yv <= 0 then
          fail("line", string.format("series[%d] ('%s') has y = %s at point %d; a log y axis needs positive values", i, name, tostring(yv), k))
        end
        pts[#pts + 1] = {xv, yv}
        xlo, xhi = math.min(xlo, xv), math.max(xhi, xv)
        ylo, yhi = math.min(ylo, yv), math.max(yhi, yv)
      else
        pts[#pts + 1] = false  -- a break in the line
      end
    end
    local color = s.color or palette[(i - 1) % #palette + 1]
    if type(color) ~= "string" then fail("line", "series[" .. i .. "].color must be a string, got " .. type(color)) end
    ss[#ss + 1] = {name = name, pts = pts, color = color, marker = s.marker and true or false}
  end
  local empty = xlo > xhi
  if empty then xlo, xhi, ylo, yhi = 1, 1, 1, 1 end
  local xa = logx and log_axis(xlo, xhi) or linear_axis(xlo, xhi, 7)
  local ya = logy and log_axis(ylo, yhi) or linear_axis(ylo, yhi, 6)

  local out = {}
  local x0, y0, x1, y1 = page(c, out)
  local sx, sy = scaler(xa, x0, x1), scaler(ya, y1, y0)
  out[#out + 1] = string.format('<defs><clipPath id="plot-area"><rect x="%s" y="%s" width="%s" height="%s"/></clipPath></defs>', num(x0), num(y0), num(x1 - x0), num(y1 - y0))
  -- grid and ticks
  out[#out + 1] = '<g class="grid" stroke="#e5e5e5" stroke-width="1">'
  for _, t in ipairs(xa.ticks) do out[#out + 1] = string.format('<line x1="%s" y1="%s" x2="%s" y2="%s"/>', num(sx(t.v)), num(y0), num(sx(t.v)), num(y1)) end
  for _, t in ipairs(ya.ticks) do out[#out + 1] = string.format('<line x1="%s" y1="%s" x2="%s" y2="%s"/>', num(x0), num(sy(t.v)), num(x1), num(sy(t.v))) end
  out[#out + 1] = '</g>'
  out[#out + 1] = '<g class="xticks" text-anchor="middle">'
  for _, t in ipairs(xa.ticks) do
    local px = sx(t.v)
    out[#out + 1] = string.format('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#333333"/><text x="%s" y="%s">%s</text>', num(px), num(y1), num(px), num(y1 + 5), num(px), num(y1 + 19), esc(t.label))
  end
  out[#out + 1] = '</g><g class="yticks" text-anchor="end">'
  y_tick_marks(out, ya, sy, x0)
  out[#out + 1] = '</g>'
  out[#out + 1] = string.format('<rect class="frame" x="%s" y="%s" width="%s" height="%s" fill="none" stroke="#333333"/>', num(x0), num(y0), num(x1 - x0), num(y1 - y0))
  if empty then
    out[#out + 1] = string.format('<text x="%s" y="%s" text-anchor="middle" fill="#999999">no data</text>', num((x0 + x1) / 2), num((y0 + y1) / 2))
  end
  -- the series: one polyline per unbroken run; lone points (and markers) as circles
  for i, s in ipairs(ss) do
    out[#out + 1] = string.format('<g class="series" id="series-%d" clip-path="url(#plot-area)">', i)
    local run = {}
    local function flush()
      if #run >= 2 then
        out[#out + 1] = string.format('<polyline fill="none" stroke="%s" stroke-width="1.8" stroke-linejoin="round" points="%s"/>', esc(s.color), table.concat(run, " "))
      elseif #run == 1 and not s.marker then
        local px, py = run[1]:match("([^,]+),([^,]+)")
        out[#out + 1] = string.format('<circle cx="%s" cy="%s" r="2.5" fill="%s"/>', px, py, esc(s.color))
      end
      run = {}
    end
    for _, p in ipairs(s.pts) do
      if p then run[#run + 1] = num(sx(p[1])) .. "," .. num(sy(p[2])) else flush() end
    end
    flush()
    if s.marker then
      for _, p in ipairs(s.pts) do
        if p then out[#out + 1] = string.format('<circle cx="%s" cy="%s" r="3" fill="%s"/>', num(sx(p[1])), num(sy(p[2])), esc(s.color)) end
      end
    end
    out[#out + 1] = '</g>'
  end
  if #ss > 1 or (#ss == 1 and series[1].name ~= nil) then
    legend(out, ss, x1, y0, function(x, y, color)
      return string.format('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="2.5"/>', num(x), num(y), num(x + 16), num(y), esc(color))
    end)
  end
  out[#out + 1] = '</svg>\n'
  return setmetatable({kind = "line", nseries = #ss, width = c.width, height = c.height,
                       xaxis = xa, yaxis = ya, _svg = table.concat(out, "\n")}, Plot)
end
tide.doc(plot.line, [[tide.plot.line{series = {{name =, x =, y =, color =, marker =}, ...}, title =, xlabel =, ylabel =, logx = false, logy = false, width = 720, height = 440} -> a plot (p:svg(), p:save(path)).
Each series: y (numbers or a tensor), x (default 1..#y), name (legend), color (default: the palette), marker (draw points).
NaN/inf points are skipped and break the line; on a log axis values <= 0 are an error. Ticks are round numbers (decades on log axes).]])

--- tide.plot.bar{labels = {...}, values = {...} | series = {{name =, values =}, ...}, title =,
--- xlabel =, ylabel =, show_values = true, width =, height =} -> a plot of (grouped) bars.
function plot.bar(o)
  local c = check_common("bar", o)
  if o.logy or o.logx then fail("bar", "log axes are not supported for bar charts") end
  local labels = o.labels
  if type(labels) ~= "table" then fail("bar", "labels must be a table of category names, got " .. type(labels)) end
  local groups
  if o.values ~= nil and o.series ~= nil then fail("bar", "give values (one series) or series, not both") end
  if o.values ~= nil then
    groups = {{name = nil, values = numbers("bar", "values", o.values)}}
  elseif type(o.series) == "table" then
    groups = {}
    for i, s in ipairs(o.series) do
      if type(s) ~= "table" then fail("bar", "series[" .. i .. "] must be a table, got " .. type(s)) end
      groups[i] = {name = s.name ~= nil and tostring(s.name) or ("series " .. i),
                   values = numbers("bar", "series[" .. i .. "].values", s.values), color = s.color}
    end
  else
    fail("bar", "expected values = {...} or series = {{name =, values =}, ...}")
  end
  local n = #labels
  for i, g in ipairs(groups) do
    if #g.values ~= n then
      fail("bar", string.format("series %d has %d values but there are %d labels", i, #g.values, n))
    end
    g.color = g.color or palette[(i - 1) % #palette + 1]
  end
  local lo, hi = 0, 0
  for _, g in ipairs(groups) do
    for _, v in ipairs(g.values) do if finite(v) then lo, hi = math.min(lo, v), math.max(hi, v) end end
  end
  if lo == hi then hi = 1 end
  -- headroom for the value labels above (below) the tallest (lowest) bar
  local span = hi - lo
  if hi > 0 then hi = hi + 0.06 * span end
  if lo < 0 then lo = lo - 0.06 * span end
  local ya = linear_axis(lo, hi, 6)
  local out = {}
  local x0, y0, x1, y1 = page(c, out)
  local rotate = false
  local slot = (x1 - x0) / math.max(n, 1)
  for _, l in ipairs(labels) do if #tostring(l) * 7 > slot then rotate = true end end
  if rotate then y1 = y1 - 30 end
  local sy = scaler(ya, y1, y0)
  out[#out + 1] = '<g class="grid" stroke="#e5e5e5" stroke-width="1">'
  for _, t in ipairs(ya.ticks) do out[#out + 1] = string.format('<line x1="%s" y1="%s" x2="%s" y2="%s"/>', num(x0), num(sy(t.v)), num(x1), num(sy(t.v))) end
  out[#out + 1] = '</g><g class="yticks" text-anchor="end">'
  y_tick_marks(out, ya, sy, x0)
  out[#out + 1] = '</g>'
  local show = o.show_values
  if show == nil then show = n * #groups <= 40 end
  local bw = slot * 0.8 / #groups
  local base = sy(0)
  out[#out + 1] = '<g class="bars">'
  for k = 1, n do
    local gx = x0 + (k - 1) * slot + slot * 0.1
    for gi, g in ipairs(groups) do
      local v = g.values[k]
      if finite(v) then
        local top = sy(v)
        local bx = gx + (gi - 1) * bw
        out[#out + 1] = string.format('<rect x="%s" y="%s" width="%s" height="%s" fill="%s"/>', num(bx), num(math.min(top, base)), num(bw * 0.92), num(math.abs(base - top)), esc(g.color))
        if show then
          local ty = v >= 0 and top - 4 or top + 13
          out[#out + 1] = string.format('<text x="%s" y="%s" text-anchor="middle" font-size="10">%s</text>', num(bx + bw * 0.46), num(ty), esc(string.format("%.4g", v)))
        end
      end
    end
  end
  out[#out + 1] = '</g><g class="xticks">'
  for k, l in ipairs(labels) do
    local cx = x0 + (k - 0.5) * slot
    if rotate then
      out[#out + 1] = string.format('<text x="%s" y="%s" text-anchor="end" transform="rotate(-35 %s %s)">%s</text>', num(cx), num(y1 + 16), num(cx), num(y1 + 16), esc(l))
    else
      out[#out + 1] = string.format('<text x="%s" y="%s" text-anchor="middle">%s</text>', num(cx), num(y1 + 18), esc(l))
    end
  end
  out[#out + 1] = '</g>'
  out[#out + 1] = string.format('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#333333"/>', num(x0), num(base), num(x1), num(base))
  out[#out + 1] = string.format('<rect class="frame" x="%s" y="%s" width="%s" height="%s" fill="none" stroke="#333333"/>', num(x0), num(y0), num(x1 - x0), num(y1 - y0))
  if #groups > 1 then
    legend(out, groups, x1, y0, function(x, y, color)
      return string.format('<rect x="%s" y="%s" width="16" height="10" fill="%s"/>', num(x), num(y - 5), esc(color))
    end)
  end
  out[#out + 1] = '</svg>\n'
  return setmetatable({kind = "bar", nseries = #groups, width = c.width, height = c.height,
                       yaxis = ya, _svg = table.concat(out, "\n")}, Plot)
end
tide.doc(plot.bar, [[tide.plot.bar{labels = {...}, values = {...}, title =, xlabel =, ylabel =, show_values = (true up to 40 bars), width = 720, height = 440} -> a bar chart.
Grouped bars: series = {{name =, values = {...}, color =}, ...} instead of values (one value per label each; a legend is drawn).]])

tide.doc(plot, "tide.plot: SVG charts (line with several series and log axes, bar). p:svg() -> text, p:save(path) writes atomically.")
