-- The training tools: tide.plot (SVG structure, ticks, errors; Python's XML parser reads the
-- files when python3 is there), tide.train (JSONL logger round trip, progress line,
-- tide.save/tide.load round trips and corrupt files, RNG state, checkpoints that resume bit for
-- bit) and tide.data (corpus splits, byte tokenizer, random windows, unigram entropy).
local S = require "support"

local base = os.tmpname()
os.remove(base)
local dir = base .. "-tools"
tide.fs.mkdir_p(dir .. "/deep/er")
assert(tide.fs.isdir(dir .. "/deep/er") and tide.fs.exists(dir))
tide.fs.mkdir_p(dir .. "/deep/er")  -- existing: fine
local function slurp(p) local f = assert(io.open(p, "rb")); local s = f:read("a"); f:close(); return s end
local function spit(p, s) local f = assert(io.open(p, "wb")); f:write(s); f:close() end
local function same_tensor(a, b, what)
  assert(tide.is_tensor(a) and tide.is_tensor(b), what .. ": not tensors")
  assert(a:dtype() == b:dtype(), what .. ": dtype " .. a:dtype() .. " vs " .. b:dtype())
  assert(table.concat(a:shape(), "x") == table.concat(b:shape(), "x"), what .. ": shape")
  local x, y = a:reshape(-1):totable(), b:reshape(-1):totable()
  assert(#x == #y, what .. ": element count")
  local function eq(u, v) return u == v or (u ~= u and v ~= v) end
  for i = 1, #x do
    local u, v = x[i], y[i]
    if type(u) == "table" then assert(eq(u[2], v[2]), what .. ": imaginary part " .. i); u, v = u[1], v[1] end
    assert(eq(u, v), what .. ": element " .. i .. ": " .. tostring(x[i]) .. " vs " .. tostring(y[i]))
  end
end

---------------------------------------------------------------------------------------------
-- system bindings
assert(type(tide.isatty()) == "boolean" and tide.isatty(987) == false)
S.checkerror("expected a file descriptor", tide.isatty, -1)
spit(dir .. "/afile", "x")
S.checkerror("exists and is not a directory", tide.fs.mkdir_p, dir .. "/afile/sub")
S.checkerror("not a valid gzip file", tide.fs.read, dir .. "/afile", {gunzip = true})
assert(tide.fs.read(dir .. "/afile") == "x")
assert(tide.fs.source_root():sub(1, 1) == "/")

---------------------------------------------------------------------------------------------
-- tide.plot

-- A small XML well-formedness check: tags nest and close, attributes are quoted.
local function well_formed(svg)
  assert(svg:sub(1, 5) == "<?xml", "missing XML declaration")
  local stack, count = {}, 0
  local body = svg:gsub("^<%?xml.-%?>", "")
  for close, name, attrs, selfclose in body:gmatch("<(/?)([%w:_%-]+)(.-)(/?)>") do
    count = count + 1
    if close == "/" then
      assert(table.remove(stack) == name, "unbalanced </" .. name .. ">")
    elseif selfclose ~= "/" then
      stack[#stack + 1] = name
    end
    local rest = attrs:gsub('%s+[%w:_%-]+="[^"<]*"', "")
    assert(rest:match("^%s*$"), "bad attributes in <" .. name .. attrs .. ">")
  end
  assert(#stack == 0, "unclosed <" .. tostring(stack[#stack]) .. ">")
  assert(not body:gsub("<[^>]*>", ""):find("[<>]"), "stray < or > in text")
  local text = body:gsub("<[^>]*>", "")
  for amp in text:gmatch("&[^&]*") do assert(amp:match("^&%a+;") or amp:match("^&#%d+;"), "bare & in text") end
  return count
end
local function count(s, pat) local _, n = s:gsub(pat, ""); return n end

local losses = {}
for i = 1, 120 do losses[i] = 4 * math.exp(-i / 30) + 0.25 end
losses[40] = 0 / 0
losses[41] = math.huge
local p = tide.plot.line{title = "loss <train & val>", xlabel = "step", ylabel = "nats", logy = true,
  series = {{name = "train", y = losses},
            {name = "val", x = {10, 50, 100}, y = tide.tensor({3.1, 1.2, 0.5}), marker = true},
            {name = "empty", y = {}}}}
local svg = p:svg()
well_formed(svg)
assert(svg:find('<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="720" height="440"', 1, true))
assert(svg:find("loss &lt;train &amp; val&gt;", 1, true), "title escaped")
assert(count(svg, "<polyline") == 3, "train breaks at the NaN/inf run into 2 lines, val is 1")
assert(count(svg, 'r="3"') == 3, "val markers")
for _, name in ipairs({">train<", ">val<", ">empty<", ">step<", ">nats<"}) do assert(svg:find(name, 1, true), name) end
assert(svg:find("#1f77b4", 1, true) and svg:find("#ff7f0e", 1, true), "distinct colours")
-- log y: decades (and 2, 5 within two decades) covering 0.25 .. 4.2
assert(p.yaxis.lo == 0.1 and p.yaxis.hi == 10)
local labels = {}
for _, t in ipairs(p.yaxis.ticks) do labels[#labels + 1] = t.label end
assert(table.concat(labels, " ") == "0.1 0.2 0.5 1 2 5 10", table.concat(labels, " "))
-- linear x: round steps covering 1..120
local xs = {}
for _, t in ipairs(p.xaxis.ticks) do xs[#xs + 1] = t.label end
assert(table.concat(xs, " ") == "0 20 40 60 80 100 120", table.concat(xs, " "))
-- wide log ranges are labelled in decades
local q = tide.plot.line{series = {{x = {1, 1e6}, y = {1e-6, 3}}}, logx = true, logy = true}
assert(q.xaxis.lo == 1 and q.xaxis.hi == 1e6 and #q.xaxis.ticks == 7)
assert(q.yaxis.ticks[1].label == "1e-6" and q.yaxis.hi == 10)
assert(not q:svg():find(">series 1<", 1, true), "no legend for one unnamed series")
-- linear ticks: nice numbers with matching decimals
local r = tide.plot.line{series = {{y = {0.013, 0.052}}}, width = 400, height = 300}
for _, t in ipairs(r.yaxis.ticks) do assert(t.label:match("^0%.0%d%d?$") or t.label == "0.01", t.label) end
assert(r:svg():find('width="400" height="300"', 1, true))
-- empty plot
local e = tide.plot.line{series = {}}
well_formed(e:svg())
assert(e:svg():find(">no data<", 1, true))
-- errors
S.checkerror("log y axis needs positive values", tide.plot.line, {logy = true, series = {{name = "l", y = {1, 0}}}})
S.checkerror("log x axis needs positive values", tide.plot.line, {logx = true, series = {{x = {-1, 2}, y = {1, 2}}}})
S.checkerror("has 2 x values but 3 y values", tide.plot.line, {series = {{x = {1, 2}, y = {1, 2, 3}}}})
S.checkerror("series[1].y[2] must be a number", tide.plot.line, {series = {{y = {1, "a"}}}})
S.checkerror("has no y values", tide.plot.line, {series = {{name = "n"}}})
S.checkerror("width must be an integer >= 200", tide.plot.line, {series = {}, width = 10})
S.checkerror("tide.plot.line: expected an options table", tide.plot.line, nil)
-- save: atomic, no temporary left behind, directories made
p:save(dir .. "/plots/loss.svg")
assert(slurp(dir .. "/plots/loss.svg") == svg)
assert(not tide.fs.exists(dir .. "/plots/loss.svg.tmp"))
S.checkerror("cannot write", p.save, p, dir .. "/afile/x.svg")
-- bar
local b = tide.plot.bar{title = "accuracy", labels = {"linear", "mlp", "gpt <tiny>"},
                        series = {{name = "train", values = {0.8, 0.9, 0.95}}, {name = "val", values = {0.78, -0.1, 0.9}}}}
well_formed(b:svg())
assert(count(b:svg():match('<g class="bars">(.-)</g>'), "<rect ") == 6, "6 bars")
assert(count(b:svg():match('<g class="legend">(.-)</g>'), 'width="16" height="10"') == 2, "2 legend swatches")
assert(b:svg():find("gpt &lt;tiny&gt;", 1, true) and b:svg():find(">0.95<", 1, true))
local b1 = tide.plot.bar{labels = {"a", "b"}, values = {1, 2}, show_values = false}
assert(count(b1:svg(), 'font%-size="10"') == 0, "show_values = false hides the value labels")
b1:save(dir .. "/plots/bar.svg")
S.checkerror("series 1 has 1 values but there are 2 labels", tide.plot.bar, {labels = {"a", "b"}, values = {1}})
S.checkerror("log axes are not supported", tide.plot.bar, {labels = {"a"}, values = {1}, logy = true})

-- Python's XML parser (an independent reader) accepts the files, root element svg in the SVG namespace
local py = io.popen("command -v python3 2>/dev/null"):read("a")
if py ~= "" then
  local cmd = string.format([[python3 -c "import sys, xml.etree.ElementTree as E
for p in sys.argv[1:]:
    r = E.parse(p).getroot(); assert r.tag == '{http://www.w3.org/2000/svg}svg', r.tag
print('svg ok')" %s %s 2>&1]], dir .. "/plots/loss.svg", dir .. "/plots/bar.svg")
  local out = io.popen(cmd):read("a")
  assert(out:find("svg ok"), "python3 could not parse the SVG: " .. out)
else
  print("test_train_tools: python3 not found, XML check done in Lua only")
end

---------------------------------------------------------------------------------------------
-- JSON and the metrics logger
local js = tide.train.json_encode({b = 1, a = {1, 2.5, "x"}, c = 0 / 0, d = true, e = "q\"\n\1"})
assert(js == '{"a":[1,2.5,"x"],"b":1,"c":null,"d":true,"e":"q\\"\\n\\u0001"}', js)
local dj = tide.train.json_decode('{"a": [1, 2.0, -3e2, "\\u00e9\\ud83d\\ude00"], "n": null, "t": false}')
assert(math.type(dj.a[1]) == "integer" and math.type(dj.a[2]) == "float" and dj.a[3] == -300)
assert(dj.a[4] == "é😀" and dj.n ~= dj.n and dj.t == false)
S.checkerror("invalid JSON", tide.train.json_decode, '{"a": }')
S.checkerror("trailing characters", tide.train.json_decode, '1 2')
S.checkerror("contains itself", tide.train.json_encode, (function() local t = {}; t.t = t; return t end)())

local logpath = dir .. "/runs/a/metrics.jsonl"
local log = tide.train.Logger(logpath)
log:write{step = 10, loss = 2.5, lr = 3e-4, tag = "warm", ok = true, nested = {k = {1, 2}}, t = tide.tensor(1.5)}
log:write{step = 20, loss = 0 / 0, acc = math.huge, v = tide.tensor({1, 2}, "i64")}
-- each line is flushed as it is written
local lines = slurp(logpath)
assert(select(2, lines:gsub("\n", "")) == 2, lines)
log:close()
S.checkerror("after close", log.write, log, {step = 1})
local ly = tide.train.Logger(dir .. "/y.jsonl")
S.checkerror("expects a table of metrics", ly.write, ly, 3)
S.checkerror("expects a table with named fields", ly.write, ly, {1, 2})
ly:close()
local recs = tide.train.read_jsonl(logpath)
assert(#recs == 2 and recs[1].step == 10 and math.type(recs[1].step) == "integer")
assert(recs[1].loss == 2.5 and recs[1].lr == 3e-4 and recs[1].tag == "warm" and recs[1].ok == true)
assert(recs[1].nested.k[2] == 2 and recs[1].t == 1.5)
assert(recs[2].loss ~= recs[2].loss and recs[2].acc ~= recs[2].acc, "NaN/inf written as null, read as NaN")
assert(recs[2].v[1] == 1 and recs[2].v[2] == 2)
do  -- append mode keeps lines; <close> closes
  local l2 <close> = tide.train.Logger(logpath, {append = true})
  l2:write{step = 30}
end
assert(#tide.train.read_jsonl(logpath) == 3)
spit(dir .. "/bad.jsonl", '{"a": 1}\n{"a": \n')
S.checkerror("bad.jsonl:2", tide.train.read_jsonl, dir .. "/bad.jsonl")

---------------------------------------------------------------------------------------------
-- progress line
do
  local path = dir .. "/progress.txt"
  local f = assert(io.open(path, "wb"))
  local pr = tide.train.Progress{total = 50, label = "fit", tty = false, file = f}
  assert(pr:update(1, {loss = 1}) == false, "not a terminal: silent")
  pr:finish()
  local pr2 = tide.train.Progress{total = 50, label = "fit", tty = true, every_sec = 1e9, file = f}
  assert(pr2:update(1, {loss = 2.25, lr = 1e-3}) == true)
  assert(pr2:update(2, {loss = 2.0}) == false, "throttled by every_sec")
  assert(pr2:update(50, {loss = 1.5}) == true, "the last step always prints")
  pr2:finish()
  local pr3 = tide.train.Progress{total = 4, tty = false, log_every_sec = 0, file = f}
  for s = 1, 4 do pr3:update(s, {acc = tide.tensor(0.5)}) end
  assert(type(pr3:finish()) == "number")
  f:close()
  local out = slurp(path)
  assert(out:find("\rfit  1/50   2.0%", 1, true), out)
  assert(out:find("loss 2.25  lr 0.001", 1, true) and out:find("it/s") and out:find("ETA"))
  assert(out:find("\rfit  50/50 100%.0%%.-loss 1%.5 *\n"), out)
  local plain = 0
  for line in out:gmatch("[^\n]*\n") do if line:find("^%d/4 ") then plain = plain + 1 end end
  assert(plain == 5, "4 logged lines plus the final one, got " .. plain .. ":\n" .. out)
  S.checkerror("total must be a positive number", tide.train.Progress, {total = -1})
end

---------------------------------------------------------------------------------------------
-- tide.save / tide.load
tide.manual_seed(11)
local obj = {
  int = 42, neg = -7, big = math.maxinteger, small = math.mininteger, half = 0.5, third = 1 / 3,
  nz = -0.0, inf = math.huge, ninf = -math.huge, nan = 0 / 0, tiny = 5e-324,
  str = "héllo\n\"quoted\"", bin = "\0\255\128x", yes = true, no = false, empty = {},
  list = {1, 2.0, "three", {four = 4}},
  f32 = tide.randn(2, 3), f64 = tide.randn(3, {dtype = "f64"}), i64 = tide.tensor({-5, 0, 1 << 50}, "i64"),
  rng = tide.get_rng_state(tide.Generator(99)),  -- full 64-bit words (no double can hold them)
  bool = tide.tensor({true, false, true}), c64 = tide.randn(2, {dtype = "f64"}):to("c64"),
  scalar = tide.tensor(2.5, "f64"), zero = tide.zeros(0, 4), strided = tide.randn(3, 4):t(),
  grad = tide.randn(2, {dtype = "f64"}):requires_grad_(),
  [1] = "first", [2.5] = "float key", [true] = "bool key",
  nested = {a = {b = {c = {d = tide.arange(1, 5, {dtype = "i64"})}}}},
}
obj.alias = obj.f32
local sp = dir .. "/ckpt/obj.safetensors"
tide.fs.mkdir_p(dir .. "/ckpt")
tide.save(obj, sp)
assert(not tide.fs.exists(sp .. ".tmp"))
local back = tide.load(sp)
for _, k in ipairs({"int", "neg", "big", "small", "half", "third", "inf", "ninf", "tiny", "str", "bin", "yes", "no"}) do
  assert(back[k] == obj[k] and math.type(back[k]) == math.type(obj[k]), k .. ": " .. tostring(back[k]))
end
assert(1 / back.nz == -math.huge, "-0.0 keeps its sign")
assert(back.nan ~= back.nan and math.type(back.nan) == "float")
assert(next(back.empty) == nil and back.list[1] == 1 and math.type(back.list[2]) == "float" and back.list[3] == "three" and back.list[4].four == 4)
assert(back[1] == "first" and back[2.5] == "float key" and back[true] == "bool key")
for _, k in ipairs({"f32", "f64", "i64", "bool", "c64", "scalar", "zero", "strided", "grad"}) do
  same_tensor(back[k], obj[k], k)
end
same_tensor(back.nested.a.b.c.d, obj.nested.a.b.c.d, "nested")
do  -- 64-bit exactness, seen through the streams the saved states produce
  local g1, g2 = tide.Generator(0), tide.Generator(0)
  tide.set_rng_state(obj.rng, g1); tide.set_rng_state(back.rng, g2)
  same_tensor(tide.randint(0, 1 << 40, {16}, {generator = g2}), tide.randint(0, 1 << 40, {16}, {generator = g1}), "i64 state words")
end
assert(back.alias == back.f32, "a tensor saved twice comes back as one")
assert(back.grad.requires_grad and not back.f32.requires_grad)
-- a plain value at the top
tide.save(3, sp); assert(tide.load(sp) == 3)
tide.save(tide.ones(2), sp); same_tensor(tide.load(sp), tide.ones(2), "top tensor")
-- the file is an ordinary .safetensors file: tide.io reads it
local ts, meta = tide.io.load(sp)
assert(ts.t1 and meta["tide.format"] == "tide.save/1")
-- unsupported values and cycles
S.checkerror("value.f is a function", tide.save, {f = print}, sp)
S.checkerror("userdata (not a tensor)", tide.save, {g = tide.Generator(1)}, sp)
local cyc = {}; cyc.a = {b = cyc}
S.checkerror("value.a.b refers back", tide.save, cyc, sp)
S.checkerror("table with a metatable", tide.save, {m = setmetatable({}, {})}, sp)
S.checkerror("c128", tide.save, {z = tide.zeros(2, {dtype = "c128"})}, sp)
S.checkerror("keys must be strings, numbers or booleans", tide.save, {[{}] = 1}, sp)
S.checkerror("expected a file path", tide.save, {})
-- corrupt files
tide.save({w = tide.ones(4)}, sp)
local good = slurp(sp)
spit(dir .. "/trunc.safetensors", good:sub(1, #good - 3))
S.checkerror("tide.load: load_safetensors", tide.load, dir .. "/trunc.safetensors")
spit(dir .. "/junk.safetensors", "not a safetensors file at all")
S.checkerror("tide.load:", tide.load, dir .. "/junk.safetensors")
S.checkerror("cannot open", tide.load, dir .. "/missing.safetensors")
tide.io.save(dir .. "/plain.safetensors", {w = tide.ones(2)})
S.checkerror("was not written by tide.save", tide.load, dir .. "/plain.safetensors")
tide.io.save(dir .. "/tree1.safetensors", {t1 = tide.ones(2)}, {metadata = {["tide.format"] = "tide.save/1", ["tide.tree"] = '["t","t9"]'}})
S.checkerror("missing tensor 't9'", tide.load, dir .. "/tree1.safetensors")
tide.io.save(dir .. "/tree2.safetensors", {t1 = tide.ones(2)}, {metadata = {["tide.format"] = "tide.save/1", ["tide.tree"] = '["T",['}})
S.checkerror("invalid JSON", tide.load, dir .. "/tree2.safetensors")
tide.io.save(dir .. "/tree3.safetensors", {t1 = tide.ones(2)}, {metadata = {["tide.format"] = "tide.save/1", ["tide.tree"] = '["q",1]'}})
S.checkerror("unknown tag 'q'", tide.load, dir .. "/tree3.safetensors")

---------------------------------------------------------------------------------------------
-- RNG state
local function draws(g)
  local o = g and {generator = g} or nil
  return {tide.randn(3, o), tide.rand(5, o), tide.randint(0, 1000, {7}, o), tide.randperm(9, o), tide.randn(2, 2, {dtype = "f64", generator = g})}
end
tide.manual_seed(5)
tide.randn(1)  -- an odd count: the spare normal of the pair is dropped, not carried over
local st = tide.get_rng_state()
assert(st:dtype() == "i64" and st:numel() == 6)
local first = draws()
tide.manual_seed(999); tide.randn(100)
tide.set_rng_state(st)
local again = draws()
for i = 1, #first do same_tensor(again[i], first[i], "global draw " .. i) end
local g = tide.Generator(77)
tide.rand(3, {generator = g})
local gs = tide.get_rng_state(g)
local gfirst = draws(g)
tide.set_rng_state(gs, g)
local gagain = draws(g)
for i = 1, #gfirst do same_tensor(gagain[i], gfirst[i], "generator draw " .. i) end
tide.set_rng_state(gs)  -- a generator's state moved into the global stream
local moved = draws()
for i = 1, #gfirst do same_tensor(moved[i], gfirst[i], "moved draw " .. i) end
assert(g:initial_seed() == 77)
S.checkerror("bad magic word", tide.set_rng_state, tide.zeros(6, {dtype = "i64"}))
S.checkerror("expected an i64 tensor of shape {6}", tide.set_rng_state, tide.zeros(4))
local zero = st:clone(); zero[2] = 0; zero[3] = 0; zero[4] = 0; zero[5] = 0
S.checkerror("all-zero state", tide.set_rng_state, zero)
S.checkerror("tide.Generator expected", tide.get_rng_state, 3)

---------------------------------------------------------------------------------------------
-- checkpoints: fake objects following the state_dict contract; resuming is bit for bit
local function Model()
  local m = {w = tide.randn(4, 3), b = tide.zeros(3, {dtype = "f64"}), calls = 0}
  function m:state_dict() return {weight = self.w, bias = self.b, calls = self.calls, info = {name = "fake"}} end
  function m:load_state_dict(sd)
    assert(sd.info.name == "fake" and math.type(sd.calls) == "integer")
    self.w, self.b, self.calls = sd.weight:clone(), sd.bias:clone(), sd.calls
  end
  return m
end
local function Optim()
  local o = {t = 0, lr = 0.1, m = tide.zeros(4, 3)}
  function o:state_dict() return {t = self.t, lr = self.lr, state = {{exp_avg = self.m}}} end
  function o:load_state_dict(sd) self.t, self.lr, self.m = sd.t, sd.lr, sd.state[1].exp_avg:clone() end
  return o
end
local function Sched()
  local s = {last = 0}
  function s:state_dict() return {last_epoch = self.last} end
  function s:load_state_dict(sd) self.last = sd.last_epoch end
  return s
end
local tokens = tide.data.ByteTokenizer():encode(string.rep("the quick brown fox jumps over the lazy dog. ", 20))
local dg = tide.Generator(123)  -- a data generator besides the global stream
local function step(m, o, s)
  local x = tide.data.random_windows(tokens, {batch = 2, block = 4, generator = dg})
  local noise = tide.randn(4, 3) * 0.01
  o.m = o.m * 0.9 + noise + x:sum():item() * 1e-4
  m.w = m.w - o.m * o.lr
  m.b = m.b + tide.rand(3, {dtype = "f64"})
  m.calls, o.t, s.last = m.calls + 1, o.t + 1, s.last + 1
  o.lr = o.lr * 0.99
end
tide.manual_seed(2024)
local m1, o1, s1 = Model(), Optim(), Sched()
dg:manual_seed(123)
for _ = 1, 6 do step(m1, o1, s1) end
local ck = dir .. "/ck/run/ckpt.safetensors"  -- parent directories are made
tide.train.save_checkpoint(ck, {model = m1, optimizer = o1, scheduler = s1, step = 6, extra = {best = 1.25, note = "mid"}, generators = {data = dg}})
for _ = 7, 12 do step(m1, o1, s1) end
-- a fresh process-like start: other seeds, other weights, then resume
tide.manual_seed(1); dg:manual_seed(1)
local m2, o2, s2 = Model(), Optim(), Sched()
local at, extra = tide.train.load_checkpoint(ck, {model = m2, optimizer = o2, scheduler = s2, generators = {data = dg}})
assert(at == 6 and math.type(at) == "integer" and extra.best == 1.25 and extra.note == "mid")
assert(m2.calls == 6 and o2.t == 6 and s2.last == 6 and o2.lr == 0.1 * 0.99 ^ 6)
for _ = 7, 12 do step(m2, o2, s2) end
same_tensor(m2.w, m1.w, "resumed weights")
same_tensor(m2.b, m1.b, "resumed f64 bias")
same_tensor(o2.m, o1.m, "resumed optimizer state")
-- restore_rng = false leaves the global stream alone
tide.manual_seed(3); local before = tide.get_rng_state()
tide.train.load_checkpoint(ck, {restore_rng = false})
same_tensor(tide.get_rng_state(), before, "rng untouched")
-- errors
S.checkerror("unknown field 'optimiser'", tide.train.save_checkpoint, ck, {optimiser = o1})
S.checkerror("model has no state_dict() method", tide.train.save_checkpoint, ck, {model = {}})
S.checkerror("step must be an integer", tide.train.save_checkpoint, ck, {step = 1.5})
tide.train.save_checkpoint(dir .. "/ck/model_only.safetensors", {model = m1, step = 1})
S.checkerror("has no optimizer state", tide.train.load_checkpoint, dir .. "/ck/model_only.safetensors", {optimizer = o2})
S.checkerror("has no state for generator 'data'", tide.train.load_checkpoint, dir .. "/ck/model_only.safetensors", {generators = {data = dg}})
S.checkerror("is not a checkpoint", tide.train.load_checkpoint, sp)
S.checkerror("load_checkpoint: tide.load", tide.train.load_checkpoint, dir .. "/junk.safetensors")

---------------------------------------------------------------------------------------------
-- tide.data
local tok = tide.data.ByteTokenizer()
assert(tok.vocab_size == 256)
local text = "Tide\0\255 héllo\n"
local ids = tok:encode(text)
assert(ids:dtype() == "i64" and ids:numel() == #text)
assert(ids[1] == string.byte("T") + 1 and ids[5] == 1 and ids[6] == 256, "ids are byte + 1")
assert(tok:decode(ids) == text and tok:decode(ids:totable()) == text and tok:decode({}) == "")
assert(tok:encode(""):numel() == 0)
S.checkerror("expected values in 1..256", tok.decode, tok, {0})
S.checkerror("expected values in 1..256", tok.decode, tok, tide.tensor({257}, "i64"))
S.checkerror("expected an i64 tensor", tok.decode, tok, tide.ones(2))
S.checkerror("expected a string", tok.encode, tok, 5)

-- random windows: shapes, y = x shifted by one, starts uniform over the valid range, seeds
local seq = tide.arange(1, 101, {dtype = "i64"})  -- token value = its position
tide.manual_seed(8)
local x, y = tide.data.random_windows(seq, {batch = 64, block = 10})
assert(table.concat(x:shape(), "x") == "64x10" and x:dtype() == "i64" and table.concat(y:shape(), "x") == "64x10")
same_tensor(x + 1, y, "targets are the next tokens")
same_tensor(x[{{}, {2, 10}}], y[{{}, {1, 9}}], "y is x shifted by one")
local lo, hi = math.huge, -math.huge
for _, row in ipairs(x:totable()) do
  for j = 2, #row do assert(row[j] == row[j - 1] + 1, "contiguous window") end
  lo, hi = math.min(lo, row[1]), math.max(hi, row[1])
end
assert(lo >= 1 and hi <= 90, "starts in 1..n-block")
local seen = {}
tide.manual_seed(9)
local xs2 = tide.data.random_windows(tide.arange(1, 7, {dtype = "i64"}), {batch = 400, block = 4})
for _, row in ipairs(xs2:totable()) do seen[row[1]] = (seen[row[1]] or 0) + 1 end
assert(seen[1] and seen[2] and not seen[3], "6 tokens, block 4: starts 1 and 2 only (y needs one more token)")
assert(seen[1] > 150 and seen[2] > 150, "both starts are drawn about equally")
tide.manual_seed(8)
same_tensor((tide.data.random_windows(seq, {batch = 64, block = 10})), x, "tide.manual_seed reproduces")
local ga, gb = tide.Generator(4), tide.Generator(4)
same_tensor((tide.data.random_windows(seq, {batch = 5, block = 3, generator = ga})),
            (tide.data.random_windows(seq, {batch = 5, block = 3, generator = gb})), "generators reproduce")
S.checkerror("too few for block = 100", tide.data.random_windows, seq, {batch = 1, block = 100})
S.checkerror("batch must be an integer >= 1", tide.data.random_windows, seq, {batch = 0, block = 2})
S.checkerror("tokens must be a 1-d i64 tensor", tide.data.random_windows, tide.ones(10), {batch = 1, block = 2})
S.checkerror("tokens must be a 1-d i64 tensor", tide.data.random_windows, x, {batch = 1, block = 2})
S.checkerror("is out of range", tide.data.windows, seq, tide.tensor({95}, "i64"), 10)

-- unigram entropy: exact for known distributions
assert(math.abs(tide.data.unigram_entropy(tide.tensor({1, 2, 3, 4}, "i64")) - math.log(4)) < 1e-12)
assert(tide.data.unigram_entropy(tide.tensor({7, 7, 7}, "i64")) == 0)
local hm = tide.data.unigram_entropy(tide.tensor({5, 5, 5, 9}, "i64"))
assert(math.abs(hm - (-(0.75 * math.log(0.75) + 0.25 * math.log(0.25)))) < 1e-12)
S.checkerror("expected an i64 tensor", tide.data.unigram_entropy, tide.ones(3))

-- the shipped corpus: splits by document, found from this script's directory
local docs = tide.data.corpus("pydoc", {split = "val", documents = true})
assert(#docs == 25, #docs)
local val = tide.data.corpus("pydoc", {split = "val"})
local total = 0
for _, d in ipairs(docs) do total = total + #d.text; assert(d.name:match("%.rst$")) end
assert(#val == total and #val > 100000)
assert(val:sub(1, #docs[1].text) == docs[1].text)
local all = tide.data.corpus("pydoc", {split = "all", documents = true})
assert(#all == 497)
local trainlen = 0
for _, d in ipairs(all) do trainlen = trainlen + #d.text end
assert(#tide.data.corpus("pydoc") == trainlen - #val, "default split is train; train + val = all")
assert(tide.data.dir():match("data$"))
S.checkerror("unknown corpus", tide.data.corpus, "nope")
S.checkerror("split must be", tide.data.corpus, "pydoc", {split = "test"})
local hv = tide.data.unigram_entropy(tok:encode(val))
assert(hv > 2.5 and hv < 5.5, "byte entropy of English reST text: " .. hv)

-- tide.train.evaluate_lm: fixed windows, the global RNG untouched, the mode restored
do
  tide.manual_seed(3)
  local m = tide.models.GPT{vocab = 16, dim = 16, layers = 1, heads = 2, max_len = 8}
  local ids = tide.arange(1, 200):remainder(16) + 1
  local o = {batches = 3, batch = 2, block = 8, seed = 5}
  local before = tide.get_rng_state()
  local calls = 0
  local v1 = tide.train.evaluate_lm(m, ids, {batches = 3, batch = 2, block = 8, seed = 5, each = function(mm)
    assert(mm == m and not mm.training); calls = calls + 1
  end})
  assert(calls == 3 and m.training, "each runs per batch in eval mode; train mode restored")
  assert(tide.get_rng_state():eq(before):all():item(), "the global RNG did not move")
  -- the same windows as drawing them by hand
  local g, want = tide.Generator(5), 0
  m:eval()
  tide.no_grad(function()
    for _ = 1, 3 do
      local x, y = tide.data.random_windows(ids, {batch = 2, block = 8, generator = g})
      want = want + m:loss(x, y):item()
    end
  end)
  assert(math.abs(v1 - want / 3) <= 1e-12 * want, v1 .. " vs " .. want / 3)
  assert(tide.train.evaluate_lm(m, ids, o) == v1, "same windows every call")
  assert(not m.training, "an eval-mode model stays in eval mode")
  m:train()
  assert(tide.train.evaluate_lm(m, ids, {batches = 3, batch = 2, block = 8}) ~= v1, "seed 99 by default")
  S.checkerror("evaluate_lm: batches must be a positive integer, got 0", tide.train.evaluate_lm, m, ids, {batches = 0, batch = 2, block = 8})
  S.checkerror("evaluate_lm: unknown field 'batchs'", tide.train.evaluate_lm, m, ids, {batchs = 1, batch = 2, block = 8})
  S.checkerror("evaluate_lm: tokens must be a tensor", tide.train.evaluate_lm, m, {1, 2}, o)
  S.checkerror("evaluate_lm: model has no loss() method", tide.train.evaluate_lm, {}, ids, o)
  S.checkerror("evaluate_lm: each must be a function", tide.train.evaluate_lm, m, ids, {batches = 1, batch = 2, block = 8, each = 1})
  S.checkerror("boom", tide.train.evaluate_lm, m, ids, {batches = 1, batch = 2, block = 8, each = function() error("boom") end})
  assert(m.training, "the mode is restored after an error")
end

-- clean up
os.execute("rm -rf '" .. dir .. "'")
