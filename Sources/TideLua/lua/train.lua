-- train.lua: the training tools: JSON lines metrics, a progress line, saving any Lua value
-- with tensors in it (tide.save / tide.load), RNG-exact checkpoints.
--
--   local log <close> = tide.train.Logger("runs/gpt/metrics.jsonl")
--   local pr = tide.train.Progress{total = steps, label = "train"}
--   for step = 1, steps do
--     ...
--     log:write{step = step, loss = loss:item(), lr = lr}
--     pr:update(step, {loss = loss:item()})
--     if step % 500 == 0 then
--       tide.train.save_checkpoint("runs/gpt/ckpt.safetensors",
--         {model = model, optimizer = opt, scheduler = sched, step = step})
--     end
--   end
--   pr:finish()
--   local step = tide.train.load_checkpoint("runs/gpt/ckpt.safetensors", {model = model, optimizer = opt})
--
-- tide.save writes ONE .safetensors file: every tensor under a generated key ("t1", "t2", ...)
-- and the shape of the value (tables, numbers, strings, booleans, which tensor goes where) as
-- JSON in the metadata entry "tide.tree". Each node there is a JSON array [tag, payload]:
--   ["t", "t3"] or ["t", "t3", true]  tensor (true: it required grad)
--   ["i", 42]   integer               ["f", "0x1.8p+1"]  float (C99 hex: exact, also -0)
--   ["s", "text"] UTF-8 string        ["x", "ff00"]      any other byte string, hex
--   ["b", true] boolean               ["T", [[key, value], ...]]  table (keys are nodes too)
-- A tensor that appears twice is stored once and comes back as one tensor. Files are written
-- atomically (temporary file, then rename), so a crash never leaves half a checkpoint.
local tide = ...
local train = tide.train or {}
tide.train = train

---------------------------------------------------------------------------------------------
-- JSON

local escapes = {['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
                 ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t"}
local function json_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c) return escapes[c] or string.format("\\u%04x", c:byte()) end) .. '"'
end

-- Shortest decimal text that reads back as the same double; floats keep a '.' or an 'e'.
local function json_number(v)
  if math.type(v) == "integer" then return string.format("%d", v) end
  if v ~= v or v == math.huge or v == -math.huge then return "null" end
  local s = string.format("%.15g", v)
  if tonumber(s) ~= v then s = string.format("%.17g", v) end
  if not s:find("[%.eEn]") then s = s .. ".0" end
  return s
end

local type_rank = {boolean = 1, number = 2, string = 3}
local function key_less(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return (type_rank[ta] or 9) < (type_rank[tb] or 9) end
  if ta == "boolean" then return (not a) and b end
  return a < b
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, key_less)
  return keys
end

local function is_array(t)
  local n = #t
  if n == 0 then return false end
  local count = 0
  for _ in pairs(t) do count = count + 1 end
  return count == n
end

-- Lenient encoder for metrics: NaN/inf -> null, tensors -> numbers or nested lists.
local function encode_value(v, out, active, fn)
  local tv = type(v)
  if tv == "number" then out[#out + 1] = json_number(v)
  elseif tv == "string" then out[#out + 1] = json_string(v)
  elseif tv == "boolean" then out[#out + 1] = v and "true" or "false"
  elseif tide.is_tensor(v) then
    encode_value(v:dim() == 0 and v:item() or v:totable(), out, active, fn)
  elseif tv == "table" then
    if active[v] then error(fn .. ": cannot encode a table that contains itself", 0) end
    active[v] = true
    if is_array(v) then
      out[#out + 1] = "["
      for i = 1, #v do
        if i > 1 then out[#out + 1] = "," end
        encode_value(v[i], out, active, fn)
      end
      out[#out + 1] = "]"
    else
      out[#out + 1] = "{"
      local first = true
      for _, k in ipairs(sorted_keys(v)) do
        if type(k) ~= "string" and type(k) ~= "number" then
          error(fn .. ": table keys must be strings or numbers, got " .. type(k), 0)
        end
        if not first then out[#out + 1] = "," end
        first = false
        out[#out + 1] = json_string(type(k) == "number" and json_number(k) or k)
        out[#out + 1] = ":"
        encode_value(v[k], out, active, fn)
      end
      out[#out + 1] = "}"
    end
    active[v] = nil
  else
    error(fn .. ": cannot encode a " .. tv .. " as JSON (numbers, strings, booleans, tensors and tables only)", 0)
  end
end

--- tide.train.json_encode(v) -> one line of JSON (keys sorted; NaN/inf as null; tensors as numbers or lists).
function train.json_encode(v)
  local out = {}
  local ok, err = pcall(encode_value, v, out, {}, "json_encode")
  if not ok then error(err, 2) end
  return table.concat(out)
end
tide.doc(train.json_encode, "tide.train.json_encode(v) -> a JSON text on one line. Tables with keys 1..n become arrays, others objects (keys sorted); NaN/inf become null; a tensor becomes a number (0-d) or nested lists; floats keep a '.' so they read back as floats.")

-- Recursive-descent decoder; null reads as NaN (the encoder writes NaN/inf as null).
local function decoder(s, where)
  local pos = 1
  local function fail(msg) error(string.format("%s: invalid JSON at byte %d: %s", where, pos, msg), 0) end
  local function ws() pos = s:find("[^ \t\r\n]", pos) or #s + 1 end
  local value
  local function str()
    local buf = {}
    pos = pos + 1
    while true do
      local a, b = s:find('["\\%c]', pos)
      if not a then fail("unterminated string") end
      buf[#buf + 1] = s:sub(pos, a - 1)
      local c = s:sub(a, a)
      if c == '"' then pos = a + 1; return table.concat(buf) end
      if c ~= "\\" then fail("control character in a string") end
      local e = s:sub(a + 1, a + 1)
      local simple = ({['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t"})[e]
      if simple then buf[#buf + 1] = simple; pos = a + 2
      elseif e == "u" then
        local hex = s:match("^%x%x%x%x", a + 2)
        if not hex then fail("bad \\u escape") end
        local cp = tonumber(hex, 16)
        pos = a + 6
        if cp >= 0xD800 and cp <= 0xDBFF then  -- a surrogate pair
          local lo = s:match("^\\u(%x%x%x%x)", pos)
          local l = lo and tonumber(lo, 16)
          if not l or l < 0xDC00 or l > 0xDFFF then fail("unpaired surrogate") end
          cp = 0x10000 + (cp - 0xD800) * 0x400 + (l - 0xDC00)
          pos = pos + 6
        end
        buf[#buf + 1] = utf8.char(cp)
      else fail("bad escape \\" .. e) end
    end
  end
  function value()
    ws()
    local c = s:sub(pos, pos)
    if c == "{" then
      local t = {}
      pos = pos + 1; ws()
      if s:sub(pos, pos) == "}" then pos = pos + 1; return t end
      while true do
        ws()
        if s:sub(pos, pos) ~= '"' then fail("expected a string key") end
        local k = str()
        ws()
        if s:sub(pos, pos) ~= ":" then fail("expected ':'") end
        pos = pos + 1
        t[k] = value()
        ws()
        local d = s:sub(pos, pos)
        pos = pos + 1
        if d == "}" then return t end
        if d ~= "," then pos = pos - 1; fail("expected ',' or '}'") end
      end
    elseif c == "[" then
      local t, n = {}, 0
      pos = pos + 1; ws()
      if s:sub(pos, pos) == "]" then pos = pos + 1; return t end
      while true do
        n = n + 1
        t[n] = value()
        ws()
        local d = s:sub(pos, pos)
        pos = pos + 1
        if d == "]" then return t end
        if d ~= "," then pos = pos - 1; fail("expected ',' or ']'") end
      end
    elseif c == '"' then return str()
    elseif s:find("^true", pos) then pos = pos + 4; return true
    elseif s:find("^false", pos) then pos = pos + 5; return false
    elseif s:find("^null", pos) then pos = pos + 4; return 0 / 0
    else
      local m = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
      local v = m and tonumber(m)
      if not v then fail(c == "" and "unexpected end" or "unexpected '" .. c .. "'") end
      pos = pos + #m
      return v
    end
  end
  return function()
    local v = value()
    ws()
    if pos <= #s then fail("trailing characters") end
    return v
  end
end

--- tide.train.json_decode(text) -> the Lua value (null reads as NaN).
function train.json_decode(text)
  if type(text) ~= "string" then error("json_decode: expected a string, got " .. type(text), 2) end
  local ok, v = pcall(decoder(text, "json_decode"))
  if not ok then error(v, 2) end
  return v
end
tide.doc(train.json_decode, "tide.train.json_decode(text) -> the value. Objects and arrays become tables, numbers without '.'/'e' integers, null becomes NaN (the encoder writes NaN/inf as null).")

---------------------------------------------------------------------------------------------
-- Metrics logger (JSON lines)

local function parent_dir(path) return path:match("^(.*)/[^/]*$") end

local function ensure_parent(path)
  local dir = parent_dir(path)
  if dir and dir ~= "" and not tide.fs.isdir(dir) then tide.fs.mkdir_p(dir) end
end

local Logger = {}
Logger.__index = Logger
Logger.__name = "tide.train.Logger"

--- log:write{step = 10, loss = 2.3, ...}: appends one JSON object as a line and flushes.
function Logger:write(rec)
  if not self.file then error("Logger: write to " .. self.path .. " after close()", 2) end
  if type(rec) ~= "table" or tide.is_tensor(rec) then error("Logger:write expects a table of metrics, got " .. type(rec), 2) end
  local out = {}
  local ok, err = pcall(encode_value, rec, out, {}, "Logger:write")
  if not ok then error(err, 2) end
  local line = table.concat(out)
  if line:sub(1, 1) ~= "{" then error("Logger:write expects a table with named fields, got a list", 2) end
  local w, werr = self.file:write(line, "\n")
  if not w then error("Logger: cannot write " .. self.path .. " (" .. tostring(werr) .. ")", 2) end
  self.file:flush()
  self.lines = self.lines + 1
  return self
end

--- log:close(): closes the file (also done by `local log <close> = ...`).
function Logger:close()
  if self.file then self.file:close(); self.file = nil end
end
Logger.__close = Logger.close
Logger.__gc = function(self) pcall(Logger.close, self) end
function Logger:__tostring() return "tide.train.Logger(" .. self.path .. (self.file and "" or ", closed") .. ")" end

--- tide.train.Logger(path [, {append = false}]) -> a JSON lines metrics logger.
function train.Logger(path, opts)
  if type(path) ~= "string" or path == "" then error("Logger: expected a file path, got " .. type(path), 2) end
  opts = opts or {}
  ensure_parent(path)
  local f, err = io.open(path, opts.append and "ab" or "wb")
  if not f then error("Logger: cannot open " .. path .. " (" .. tostring(err) .. ")", 2) end
  return setmetatable({path = path, file = f, lines = 0}, Logger)
end
tide.doc(train.Logger, [[tide.train.Logger(path [, {append = false}]) -> log. log:write{step = 1, loss = 2.3, ...} appends one JSON object per line and flushes it (numbers, strings, booleans, nested tables, tensors; NaN/inf as null); log:close(). Parent directories are created. append = true keeps existing lines (resumed runs).]])

--- tide.train.read_jsonl(path) -> a list with one table per line.
function train.read_jsonl(path)
  if type(path) ~= "string" then error("read_jsonl: expected a file path, got " .. type(path), 2) end
  local f, err = io.open(path, "rb")
  if not f then error("read_jsonl: cannot open " .. path .. " (" .. tostring(err) .. ")", 2) end
  local out, n = {}, 0
  for line in f:lines() do
    n = n + 1
    if line:find("%S") then
      local ok, v = pcall(decoder(line, path .. ":" .. n))
      if not ok then f:close(); error("read_jsonl: " .. v, 2) end
      out[#out + 1] = v
    end
  end
  f:close()
  return out
end
tide.doc(train.read_jsonl, "tide.train.read_jsonl(path) -> {record, ...}: one decoded table per non-empty line (null values read as NaN).")

---------------------------------------------------------------------------------------------
-- Progress line

local function fmt_duration(s)
  if s ~= s or s == math.huge then return "?" end
  s = math.floor(s + 0.5)
  local h, m, sec = s // 3600, (s % 3600) // 60, s % 60
  if h > 0 then return string.format("%d:%02d:%02d", h, m, sec) end
  return string.format("%d:%02d", m, sec)
end

local function fmt_metric(v)
  if tide.is_tensor(v) then v = v:item() end
  if math.type(v) == "integer" then return tostring(v) end
  if type(v) == "number" then return string.format("%.4g", v) end
  return tostring(v)
end

local Progress = {}
Progress.__index = Progress
Progress.__name = "tide.train.Progress"

--- pr:line(step [, metrics]) -> the status text for step (what update prints).
function Progress:line(step, metrics)
  local now = tide.clock()
  local parts = {}
  if self.label then parts[#parts + 1] = self.label end
  if self.total then
    parts[#parts + 1] = string.format("%d/%d %5.1f%%", step, self.total, 100 * step / self.total)
  else
    parts[#parts + 1] = tostring(step)
  end
  local dt = now - self.t0
  local done = step - self.step0
  local rate = (dt > 0 and done > 0) and done / dt or nil
  if rate then
    parts[#parts + 1] = rate >= 1 and string.format("%.1f it/s", rate) or string.format("%.2f s/it", 1 / rate)
    if self.total then parts[#parts + 1] = "ETA " .. fmt_duration(math.max(self.total - step, 0) / rate) end
  end
  parts[#parts + 1] = "elapsed " .. fmt_duration(dt)
  if metrics then
    if type(metrics) ~= "table" then error("Progress:update: metrics must be a table, got " .. type(metrics), 3) end
    for _, k in ipairs(sorted_keys(metrics)) do parts[#parts + 1] = tostring(k) .. " " .. fmt_metric(metrics[k]) end
  end
  return table.concat(parts, "  ")
end

--- pr:update(step [, metrics]) -> true when it printed.
function Progress:update(step, metrics)
  if type(step) ~= "number" then error("Progress:update: step must be a number, got " .. type(step), 2) end
  local now = tide.clock()
  if not self.step0 then self.step0, self.t0 = step - 1, self.created end
  self.last_step, self.last_metrics = step, metrics
  if self.tty then
    if now - self.last_print < self.every_sec and step ~= self.total then return false end
    local text = self:line(step, metrics)
    local pad = math.max(0, self.width - #text)
    self.file:write("\r", text, string.rep(" ", pad))
    self.file:flush()
    self.width = #text
  elseif self.log_every_sec then
    if now - self.last_print < self.log_every_sec then return false end
    self.file:write(self:line(step, metrics), "\n")
    self.file:flush()
  else
    return false
  end
  self.last_print = now
  self.printed = true
  return true
end

--- pr:finish([metrics]) -> elapsed seconds; ends the line (prints the final state once).
function Progress:finish(metrics)
  if self.finished then return self.elapsed end
  self.finished = true
  self.elapsed = tide.clock() - self.created
  metrics = metrics or self.last_metrics
  local step = self.last_step
  if step and (self.tty or self.log_every_sec) then
    local text = self:line(step, metrics)
    if self.tty then
      self.file:write("\r", text, string.rep(" ", math.max(0, self.width - #text)), "\n")
    else
      self.file:write(text, "\n")
    end
    self.file:flush()
  end
  return self.elapsed
end

--- tide.train.Progress{total =, label =, every_sec = 0.1, log_every_sec =, tty =, file = io.stdout}
function train.Progress(o)
  o = o or {}
  if type(o) ~= "table" then error("Progress: expected an options table, got " .. type(o), 2) end
  if o.total ~= nil and (type(o.total) ~= "number" or o.total <= 0) then
    error("Progress: total must be a positive number, got " .. tostring(o.total), 2)
  end
  for _, k in ipairs({"every_sec", "log_every_sec"}) do
    if o[k] ~= nil and (type(o[k]) ~= "number" or o[k] < 0) then
      error("Progress: " .. k .. " must be a number >= 0, got " .. tostring(o[k]), 2)
    end
  end
  local file = o.file or io.stdout
  local tty = o.tty
  if tty == nil then tty = file == io.stdout and tide.isatty(1) or file == io.stderr and tide.isatty(2) end
  local now = tide.clock()
  return setmetatable({total = o.total, label = o.label and tostring(o.label), every_sec = o.every_sec or 0.1,
                       log_every_sec = o.log_every_sec, tty = tty and true or false, file = file,
                       created = now, t0 = now, last_print = -math.huge, width = 0}, Progress)
end
tide.doc(train.Progress, [[tide.train.Progress{total =, label =, every_sec = 0.1, log_every_sec =, tty =, file = io.stdout} -> pr.
pr:update(step, {loss = ..., lr = ...}) redraws one line (carriage return) with step/total, percent, it/s, ETA, elapsed time and the metrics, at most every every_sec seconds, only when the output is a terminal (tty overrides the check). When it is not, nothing is printed unless log_every_sec is given: then a full line every log_every_sec seconds. pr:finish() prints the final state and ends the line; returns the elapsed seconds.]])

---------------------------------------------------------------------------------------------
-- tide.save / tide.load

local function float_text(v)
  if v ~= v then return "nan" end
  if v == math.huge then return "inf" end
  if v == -math.huge then return "-inf" end
  return string.format("%a", v)
end

local function float_from_text(s)
  if s == "nan" then return 0 / 0 end
  if s == "inf" then return math.huge end
  if s == "-inf" then return -math.huge end
  local v = tonumber(s)
  if math.type(v) == "integer" then v = v + 0.0 end  -- (not for floats: -0.0 + 0.0 is +0.0)
  return v
end

local function key_path(where, k)
  if type(k) == "string" and k:match("^[%a_][%w_]*$") then return where .. "." .. k end
  return where .. "[" .. (type(k) == "string" and string.format("%q", k) or tostring(k)) .. "]"
end

local function encode_tree(obj)
  local out, tensors, ids, n = {}, {}, {}, 0
  local active = {}
  local function node(v, where)
    local tv = type(v)
    if tide.is_tensor(v) then
      local key = ids[v]
      if not key then
        if v:dtype() == "c128" then
          error("tide.save: " .. where .. " is a c128 tensor, which .safetensors cannot hold; convert it (x:to('c64')) or use tide.io.save with .npz", 0)
        end
        n = n + 1
        key = "t" .. n
        ids[v], tensors[key] = key, v
      end
      out[#out + 1] = v.requires_grad and '["t","' .. key .. '",true]' or '["t","' .. key .. '"]'
    elseif tv == "number" then
      if math.type(v) == "integer" then out[#out + 1] = string.format('["i",%d]', v)
      else out[#out + 1] = '["f","' .. float_text(v) .. '"]' end
    elseif tv == "string" then
      if utf8.len(v) then out[#out + 1] = '["s",' .. json_string(v) .. "]"
      else out[#out + 1] = '["x","' .. v:gsub(".", function(c) return string.format("%02x", c:byte()) end) .. '"]' end
    elseif tv == "boolean" then out[#out + 1] = v and '["b",true]' or '["b",false]'
    elseif tv == "table" then
      local mt = getmetatable(v)
      if mt ~= nil and not (type(mt) == "table" and rawget(mt, "__tide_data")) then
        error("tide.save: " .. where .. " is a table with a metatable (an object); save plain tables (e.g. its state_dict())", 0)
      end
      if active[v] then error("tide.save: " .. where .. " refers back to a table that contains it (a cycle)", 0) end
      active[v] = true
      out[#out + 1] = '["T",['
      local first = true
      for _, k in ipairs(sorted_keys(v)) do
        local tk = type(k)
        if tk ~= "string" and tk ~= "number" and tk ~= "boolean" then
          error("tide.save: " .. where .. " has a key of type " .. tk .. "; keys must be strings, numbers or booleans", 0)
        end
        if not first then out[#out + 1] = "," end
        first = false
        out[#out + 1] = "["
        node(k, where)
        out[#out + 1] = ","
        node(v[k], key_path(where, k))
        out[#out + 1] = "]"
      end
      out[#out + 1] = "]]"
      active[v] = nil
    else
      error("tide.save: " .. where .. " is a " .. (tv == "userdata" and "userdata (not a tensor)" or tv) ..
            "; tide.save stores tensors, numbers, strings, booleans and tables of them", 0)
    end
  end
  node(obj, "value")
  return table.concat(out), tensors
end

local function decode_tree(tree, tensors, path)
  local used = {}
  local function bad(msg) error("tide.load: " .. path .. ": corrupt structure (" .. msg .. ")", 0) end
  local function build(nd)
    if type(nd) ~= "table" or type(nd[1]) ~= "string" then bad("a node is not [tag, value]") end
    local tag, v = nd[1], nd[2]
    if tag == "t" then
      local t = tensors[v]
      if not t then bad("missing tensor '" .. tostring(v) .. "'") end
      used[v] = true
      if nd[3] == true and not t.requires_grad then t:requires_grad_() end
      return t
    elseif tag == "i" then
      local i = math.type(v) == "integer" and v
      if not i then bad("integer node holds " .. tostring(v)) end
      return i
    elseif tag == "f" then
      local f = type(v) == "string" and float_from_text(v)
      if not f then bad("float node holds " .. tostring(v)) end
      return f
    elseif tag == "s" then
      if type(v) ~= "string" then bad("string node holds a " .. type(v)) end
      return v
    elseif tag == "x" then
      if type(v) ~= "string" or #v % 2 ~= 0 or v:find("[^%x]") then bad("bad hex string") end
      return (v:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end))
    elseif tag == "b" then
      if type(v) ~= "boolean" then bad("boolean node holds a " .. type(v)) end
      return v
    elseif tag == "T" then
      if type(v) ~= "table" then bad("table node holds a " .. type(v)) end
      local t = {}
      for _, kv in ipairs(v) do
        if type(kv) ~= "table" or #kv ~= 2 then bad("a table entry is not [key, value]") end
        local k = build(kv[1])
        if k ~= k then bad("a NaN key") end
        t[k] = build(kv[2])
      end
      return t
    end
    bad("unknown tag '" .. tag .. "'")
  end
  return build(tree)
end

--- tide.save(obj, path): obj (tensors, numbers, strings, booleans, tables) -> one .safetensors file.
function tide.save(obj, path)
  if type(path) ~= "string" or path == "" then error("tide.save: expected a file path as argument #2, got " .. type(path), 2) end
  local ok, tree, tensors = pcall(encode_tree, obj)
  if not ok then error(tree, 2) end
  local wok, err = pcall(tide.io.save_safetensors, path, tensors,
                         {metadata = {["tide.format"] = "tide.save/1", ["tide.tree"] = tree}})
  if not wok then error("tide.save: " .. tostring(err), 2) end
end
tide.doc(tide.save, [[tide.save(obj, path): writes obj (a tensor, number, string, boolean, or nested tables of them) as one .safetensors file, atomically. Tensors go under generated keys, the structure as JSON metadata ("tide.tree"); integers stay integers, floats are exact (also NaN, inf, -0), a tensor shared between places is stored once, requires_grad is kept. Cycles, functions, non-tensor userdata, objects with metatables and c128 tensors are errors.]])

--- tide.load(path) -> the value saved by tide.save.
function tide.load(path)
  if type(path) ~= "string" then error("tide.load: expected a file path, got " .. type(path), 2) end
  local ok, tensors, meta = pcall(tide.io.load_safetensors, path)
  if not ok then error("tide.load: " .. tostring(tensors), 2) end
  local tree = meta["tide.tree"]
  if meta["tide.format"] ~= "tide.save/1" or not tree then
    error("tide.load: " .. path .. " was not written by tide.save (no 'tide.tree' metadata); read it with tide.io.load", 2)
  end
  local dok, nodes = pcall(decoder(tree, "tide.load: " .. path .. ": metadata"))
  if not dok then error(nodes, 2) end
  local bok, v = pcall(decode_tree, nodes, tensors, path)
  if not bok then error(v, 2) end
  return v
end
tide.doc(tide.load, "tide.load(path) -> the value written by tide.save(obj, path) (tables, tensors, numbers, strings, booleans as saved). Corrupt or foreign files raise errors naming the file.")

---------------------------------------------------------------------------------------------
-- Checkpoints

local parts = {"model", "optimizer", "scheduler"}

local function check_keys(fn, o, allowed)
  for k in pairs(o) do
    if not allowed[k] then
      local names = {}
      for a in pairs(allowed) do names[#names + 1] = a end
      table.sort(names)
      error(fn .. ": unknown field '" .. tostring(k) .. "' (expected " .. table.concat(names, ", ") .. ")", 3)
    end
  end
end

local function method(fn, obj, part, name)
  local ok, m = pcall(function() return obj[name] end)
  if not ok or type(m) ~= "function" then
    error(fn .. ": " .. part .. " has no " .. name .. "() method (got a " .. type(obj) .. ")", 3)
  end
  return m
end

--- tide.train.save_checkpoint(path, {model =, optimizer =, scheduler =, step =, extra =, generators =})
function train.save_checkpoint(path, o)
  local fn = "save_checkpoint"
  if type(path) ~= "string" or path == "" then error(fn .. ": expected a file path, got " .. type(path), 2) end
  if type(o) ~= "table" then error(fn .. ": expected {model =, optimizer =, ...}, got " .. type(o), 2) end
  check_keys(fn, o, {model = true, optimizer = true, scheduler = true, step = true, extra = true, generators = true})
  local step = o.step or 0
  if math.type(step) ~= "integer" then error(fn .. ": step must be an integer, got " .. tostring(step), 2) end
  local ck = {format = "tide.checkpoint", version = 1, step = step, rng = tide.get_rng_state(), extra = o.extra}
  for _, p in ipairs(parts) do
    if o[p] ~= nil then ck[p] = method(fn, o[p], p, "state_dict")(o[p]) end
  end
  if o.generators ~= nil then
    if type(o.generators) ~= "table" then error(fn .. ": generators must be a table {name = tide.Generator}, got " .. type(o.generators), 2) end
    ck.generators = {}
    for name, g in pairs(o.generators) do
      local ok, st = pcall(tide.get_rng_state, g)
      if not ok then error(fn .. ": generators." .. tostring(name) .. " is not a tide.Generator (" .. type(g) .. ")", 2) end
      ck.generators[name] = st
    end
  end
  ensure_parent(path)
  local ok, err = pcall(tide.save, ck, path)
  if not ok then error(fn .. ": " .. tostring(err), 2) end
end
tide.doc(train.save_checkpoint, [[tide.train.save_checkpoint(path, {model =, optimizer =, scheduler =, step = 0, extra =, generators = {name = g}}): writes one file (atomically, parent directories created) with each given object's state_dict(), the step, extra (any value tide.save takes), the global RNG state and the state of each named tide.Generator.]])

--- tide.train.load_checkpoint(path [, {model =, optimizer =, scheduler =, generators =, restore_rng = true}]) -> step, extra
function train.load_checkpoint(path, o)
  local fn = "load_checkpoint"
  o = o or {}
  if type(o) ~= "table" then error(fn .. ": expected {model =, optimizer =, ...}, got " .. type(o), 2) end
  check_keys(fn, o, {model = true, optimizer = true, scheduler = true, generators = true, restore_rng = true})
  local ok, ck = pcall(tide.load, path)
  if not ok then error(fn .. ": " .. tostring(ck), 2) end
  if type(ck) ~= "table" or ck.format ~= "tide.checkpoint" then
    error(fn .. ": " .. path .. " is not a checkpoint (written by tide.save, but not by save_checkpoint)", 2)
  end
  for _, p in ipairs(parts) do
    if o[p] ~= nil then
      if ck[p] == nil then error(fn .. ": " .. path .. " has no " .. p .. " state (it was saved without " .. p .. " =)", 2) end
      method(fn, o[p], p, "load_state_dict")(o[p], ck[p])
    end
  end
  if o.generators ~= nil then
    for name, g in pairs(o.generators) do
      local st = ck.generators and ck.generators[name]
      if not st then error(fn .. ": " .. path .. " has no state for generator '" .. tostring(name) .. "'", 2) end
      local gok, err = pcall(tide.set_rng_state, st, g)
      if not gok then error(fn .. ": generators." .. tostring(name) .. ": " .. tostring(err), 2) end
    end
  end
  if o.restore_rng ~= false then tide.set_rng_state(ck.rng) end
  return ck.step, ck.extra
end
tide.doc(train.load_checkpoint, [[tide.train.load_checkpoint(path [, {model =, optimizer =, scheduler =, generators = {name = g}, restore_rng = true}]) -> step, extra. Calls load_state_dict on each object given (an error if the checkpoint lacks it), restores the named generators and (unless restore_rng = false) the global RNG, so a resumed run continues bit for bit.]])

---------------------------------------------------------------------------------------------
-- evaluation of a language model on fixed windows

function train.evaluate_lm(model, tokens, o)
  local fn = "evaluate_lm"
  if type(model) ~= "table" then error(fn .. ": expected a model with a loss(x, y) method, got " .. type(model), 2) end
  if not tide.is_tensor(tokens) then error(fn .. ": tokens must be a tensor of token ids, got " .. type(tokens), 2) end
  if type(o) ~= "table" then error(fn .. ": expected {batches =, batch =, block =} as argument 3, got " .. type(o), 2) end
  check_keys(fn, o, {batches = true, batch = true, block = true, seed = true, each = true})
  for _, k in ipairs{"batches", "batch", "block"} do
    local v = o[k]
    if math.type(v) ~= "integer" or v < 1 then error(fn .. ": " .. k .. " must be a positive integer, got " .. tostring(v), 2) end
  end
  local seed = o.seed == nil and 99 or o.seed
  if math.type(seed) ~= "integer" then error(fn .. ": seed must be an integer, got " .. tostring(seed), 2) end
  if o.each ~= nil and type(o.each) ~= "function" then error(fn .. ": each must be a function, got " .. type(o.each), 2) end
  local loss = method(fn, model, "model", "loss")
  -- its own generator: the same windows on every call, and the training RNG never moves
  local g = tide.Generator(seed)
  local was_training = model.training
  model:eval()
  local total = 0
  local ok, err = pcall(tide.no_grad, function()
    for _ = 1, o.batches do
      local x, y = tide.data.random_windows(tokens, {batch = o.batch, block = o.block, generator = g})
      total = total + loss(model, x, y):item()
      if o.each then o.each(model) end
    end
  end)
  model:train(was_training ~= false)
  if not ok then error(err, 0) end
  return total / o.batches
end
tide.doc(train.evaluate_lm, [[tide.train.evaluate_lm(model, tokens, {batches =, batch =, block =, seed = 99, each =}) -> the mean of
model:loss(x, y):item() over `batches` (batch, block) windows of tokens (tide.data.random_windows) drawn
from tide.Generator(seed): the same windows on every call, without moving the global RNG. Runs in
eval mode under no_grad and restores the model's mode; each(model), when given, runs after every batch
(to read statistics a forward leaves, e.g. MoE loads).]])

tide.doc(train, "tide.train: Logger (JSON lines), read_jsonl, Progress (terminal progress line), save_checkpoint/load_checkpoint, evaluate_lm (validation loss on fixed windows); also tide.save/tide.load for any table of tensors.")
