-- tide.io against files NumPy and safetensors wrote (Tests/fixtures/io, made by
-- scripts/fixtures/gen_io.py), round trips, atomic writes, and corrupt or truncated files.
local S = require "support"
local here = debug.getinfo(1, "S").source:sub(2):match("^(.*)/")
local dir = here .. "/../../fixtures/io/"
local expected = dofile(dir .. "expected.lua")

local function flat(t)
  local v = t:reshape(-1):totable()
  return v
end

local function same(name, t, e)
  assert(t:dtype() == e.dtype, name .. ": dtype " .. t:dtype() .. ", expected " .. e.dtype)
  local shape = t:shape()
  assert(#shape == #e.shape, name .. ": rank")
  for k = 1, #shape do assert(shape[k] == e.shape[k], name .. ": shape") end
  local got = flat(t)
  assert(#got == #e.values, name .. ": element count")
  for k = 1, #got do
    local g, x = got[k], e.values[k]
    if type(x) == "table" then
      assert(g[1] == x[1] and g[2] == x[2], ("%s: element %d"):format(name, k))
    elseif x ~= x then
      assert(g ~= g, name .. ": NaN expected")
    else
      assert(g == x, ("%s: element %d is %s, expected %s"):format(name, k, tostring(g), tostring(x)))
    end
  end
end

-- every .npy NumPy wrote reads back exactly (C and Fortran order, big-endian, f16, u8)
for name, e in pairs(expected) do
  same(name, tide.io.load(dir .. name .. ".npy"), e)
end

-- .npz, stored and deflated
local z = tide.io.load(dir .. "stored.npz")
same("stored.npz:a", z.a, expected.f32)
same("stored.npz:b", z.b, expected.i64)
local zc = tide.io.load(dir .. "deflated.npz")
same("deflated.npz:a", zc.a, expected.f64)
same("deflated.npz:b", zc.b, expected.bool)

-- .safetensors with metadata
local st, meta = tide.io.load(dir .. "st.safetensors")
same("st:w", st.w, expected.f32)
same("st:n", st.n, expected.i64)
same("st:m", st.m, expected.bool)
assert(meta.source == "numpy" and meta.step == "7")

-- round trips through Tide's writers, every dtype
local base = os.tmpname()
for name, e in pairs(expected) do
  local t = tide.io.load(dir .. name .. ".npy")
  tide.io.save(base .. ".npy", t)
  same("roundtrip:" .. name, tide.io.load(base .. ".npy"), e)
end
local all = {}
for name in pairs(expected) do all[name] = tide.io.load(dir .. name .. ".npy") end
tide.io.save(base .. ".npz", all, {compressed = true})
local back = tide.io.load(base .. ".npz")
for name, e in pairs(expected) do same("npz-roundtrip:" .. name, back[name], e) end
tide.io.save(base .. ".safetensors", {w = all.f32, n = all.i64, c = all.c64}, {metadata = {k = "v"}})
local st2, meta2 = tide.io.load(base .. ".safetensors")
same("st-roundtrip:w", st2.w, expected.f32)
same("st-roundtrip:c", st2.c, expected.c64)
assert(meta2.k == "v")
S.checkerror("no complex128", tide.io.save, base .. ".safetensors", {x = all.c128})

-- CSV
local m = tide.tensor({{1.5, -2}, {3, 1e-20}}, "f64")
tide.io.save(base .. ".csv", m, {header = {"a", "b"}})
local mc = tide.io.load(base .. ".csv", {skip_header = 1})
S.close(mc, m, 0)
local f = assert(io.open(base .. ".bad.csv", "w")); f:write("1,2\n3\n"); f:close()
S.checkerror("line 2 has 1 fields, expected 2", tide.io.load, base .. ".bad.csv")
f = assert(io.open(base .. ".bad2.csv", "w")); f:write("1,x\n"); f:close()
S.checkerror("line 1, column 2: 'x' is not a number", tide.io.load, base .. ".bad2.csv")
-- header names holding the delimiter, quotes or a line break are quoted and skipped as one record
tide.io.save(base .. ".q.csv", m, {header = {"x, \"y\"", "two\nlines"}})
local q = assert(io.open(base .. ".q.csv", "rb")):read("a")
assert(q:sub(1, 23) == '"x, ""y""","two\nlines"\n', "quoted header: " .. q:sub(1, 23))
S.close(tide.io.load(base .. ".q.csv", {skip_header = 1}), m, 0)
-- error lines count physical lines, the header's inner break included
f = assert(io.open(base .. ".q.csv", "ab")); f:write("1,y\n"); f:close()
S.checkerror("line 5, column 2: 'y' is not a number", tide.io.load, base .. ".q.csv", {skip_header = 1})
-- a quote inside an unquoted header name is a plain character (it once swallowed the file)
f = assert(io.open(base .. ".q.csv", "wb")); f:write('height (5"),width\n1,2\n3,4\n'); f:close()
local hq = tide.io.load(base .. ".q.csv", {skip_header = 1})
assert(hq:size(1) == 2 and hq:size(2) == 2 and hq[{2, 2}] == 4, "stray quote in a header")
f = assert(io.open(base .. ".q.csv", "wb")); f:write('"open,b\n1,2\n'); f:close()
S.checkerror("line 1: the header's quoted name is not closed", tide.io.load, base .. ".q.csv", {skip_header = 1})
os.remove(base .. ".q.csv")
-- rows without values would be blank lines, which read back as nothing: refused
S.checkerror("save_csv: expected at least one column, got shape 3x0", tide.io.save, base .. ".e.csv", tide.zeros(3, 0))
tide.io.save(base .. ".e.csv", tide.zeros(0, 3))
local e = tide.io.load(base .. ".e.csv")
assert(e:size(1) == 0 and e:size(2) == 0, "an empty CSV reads as 0 x 0")
os.remove(base .. ".e.csv")

-- writes are atomic: no temporary file is left behind, and a failed save keeps the old file
tide.io.save(base .. ".npy", tide.ones(3))
assert(io.open(base .. ".npy.tmp-" .. "x") == nil)
S.checkerror("cannot write", tide.io.save, "/nonexistent-dir/x.npy", tide.ones(2))

-- corrupt and truncated files give clear errors
local function write_bytes(path, s) local h = assert(io.open(path, "wb")); h:write(s); h:close() end
local good = assert(io.open(dir .. "f64.npy", "rb")):read("a")
write_bytes(base .. ".trunc.npy", good:sub(1, #good - 5))
S.checkerror("is truncated or corrupt", tide.io.load, base .. ".trunc.npy")
write_bytes(base .. ".junk.npy", "hello world, not numpy")
S.checkerror("is not a .npy file", tide.io.load, base .. ".junk.npy")
local npz = assert(io.open(dir .. "stored.npz", "rb")):read("a")
write_bytes(base .. ".trunc.npz", npz:sub(1, 100))
S.checkerror("no end-of-central-directory record", tide.io.load, base .. ".trunc.npz")
-- flip one data byte inside the first member: the CRC check catches it
local pos = 80
write_bytes(base .. ".crc.npz", npz:sub(1, pos - 1) .. string.char((npz:byte(pos) + 1) % 256) .. npz:sub(pos + 1))
S.checkerror("fails its CRC-32 check (corrupt file)", tide.io.load, base .. ".crc.npz")
local stb = assert(io.open(dir .. "st.safetensors", "rb")):read("a")
write_bytes(base .. ".trunc.safetensors", stb:sub(1, #stb - 4))
S.checkerror("outside the", tide.io.load, base .. ".trunc.safetensors")
write_bytes(base .. ".hdr.safetensors", "\255\255\255\255\0\0\0\0{}")
S.checkerror("larger than the file", tide.io.load, base .. ".hdr.safetensors")
S.checkerror("cannot open", tide.io.load, base .. ".missing.npy")
S.checkerror("cannot tell the format", tide.io.load, base .. ".bin")

-- CSV: CRLF lines, '#' comments, exact i64 beyond 2^53, unknown options
f = assert(io.open(base .. ".crlf.csv", "wb")); f:write("a,b\r\n# note\r\n1,2\r\n3,4\r\n"); f:close()
local crlf = tide.io.load(base .. ".crlf.csv", {skip_header = 1})
assert(crlf:size(1) == 2 and crlf:size(2) == 2 and crlf[{2, 2}] == 4, "CRLF csv")
local big = tide.tensor({{9007199254740993, -9007199254740993}}, "i64")
tide.io.save(base .. ".i64.csv", big)
local bigback = tide.io.load(base .. ".i64.csv", {dtype = "i64"})
assert(bigback[{1, 1}] == 9007199254740993 and bigback[{1, 2}] == -9007199254740993, "i64 csv is exact")
S.checkerror("unknown option 'bogus'", tide.io.save, base .. ".x.npy", big, {bogus = 1})
S.checkerror("unknown option 'delimitr'", tide.io.load, base .. ".i64.csv", {delimitr = ";"})
S.checkerror("unknown option 'precison'", tide.set_printoptions, {precison = 2})
-- a structured .npy names what it cannot read
write_bytes(base .. ".struct.npy", "\147NUMPY\1\0" .. string.pack("<I2", 70) ..
  ("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,), }"):rep(1) .. (" "):rep(70 - 67) .. "\n")
S.checkerror("structured", tide.io.load, base .. ".struct.npy")

for _, ext in ipairs({".crlf.csv", ".i64.csv", ".struct.npy"}) do os.remove(base .. ext) end
for _, ext in ipairs({".npy", ".npz", ".safetensors", ".csv", ".bad.csv", ".bad2.csv", ".trunc.npy",
                      ".junk.npy", ".trunc.npz", ".crc.npz", ".trunc.safetensors", ".hdr.safetensors"}) do
  os.remove(base .. ext)
end
os.remove(base)

-- crafted headers (audit F): sizes that overflow or exceed the file are errors, never a crash
do
  local function npy(header)
    header = header .. string.rep(" ", (64 - (10 + #header + 1) % 64) % 64) .. "\n"
    return "\147NUMPY\1\0" .. string.char(#header % 256, #header // 256) .. header
  end
  local function write(p, bytes) local f = assert(io.open(p, "wb")); f:write(bytes); f:close() end
  local p = base .. "-crafted.npy"
  write(p, npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2305843009213693952,), }"))
  S.checkerror("needs more than", tide.io.load, p)
  write(p, npy("{'descr': '>c5', 'fortran_order': False, 'shape': (2,), }") .. string.rep("\0", 10))
  S.checkerror("unsupported dtype '>c5'", tide.io.load, p)
  write(p, npy("{'descr': '<f8', 'fortran_order': 1, 'shape': (1,), }") .. string.rep("\0", 8))
  S.checkerror("'fortran_order' must be True or False", tide.io.load, p)
  -- np.load reads the header as a Python literal, so double quotes are fine
  write(p, npy('{"descr": "<f8", "fortran_order": False, "shape": (1,), }') .. string.pack("<d", 2.5))
  assert(tide.io.load(p)[1] == 2.5)
  -- safetensors: a huge shape, offsets that are not integers, overlapping tensors
  local function st(header, data)
    return string.pack("<I8", #header) .. header .. data
  end
  local q = base .. "-crafted.safetensors"
  write(q, st('{"w":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,8]}}', string.rep("\0", 8)))
  S.checkerror("needs more than", tide.io.load, q)
  write(q, st('{"w":{"dtype":"F64","shape":[1],"data_offsets":[0.5,8.7]}}', string.rep("\0", 8)))
  S.checkerror("malformed entry for 'w'", tide.io.load, q)
  write(q, st('{"w":{"dtype":"F64","shape":[true],"data_offsets":[0,8]}}', string.rep("\0", 8)))
  S.checkerror("bad shape for 'w'", tide.io.load, q)
  write(q, st('{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},"b":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}', string.rep("\0", 8)))
  S.checkerror("tensors overlap or leave a hole", tide.io.load, q)
  -- npz: a 120-byte file whose zip64 field declares a 2^62-byte member
  local name, data = "a.npy", "\3\0"
  local extra = string.pack("<I2I2I8", 1, 8, 1 << 62)
  local loc = string.pack("<I4I2I2I2I2I2I4I4I4I2I2", 0x04034b50, 20, 0, 8, 0, 0x21, 0, #data, 0xFFFFFFFF, #name, 0) .. name
  local cen = string.pack("<I4I2I2I2I2I2I2I4I4I4I2I2I2I2I2I4I4", 0x02014b50, 20, 20, 0, 8, 0, 0x21, 0, #data, 0xFFFFFFFF, #name, #extra, 0, 0, 0, 0, 0) .. name .. extra
  local eocd = string.pack("<I4I2I2I2I2I4I4I2", 0x06054b50, 0, 0, 1, 1, #cen, #loc + #data, 0)
  local z = base .. "-crafted.npz"
  write(z, loc .. data .. cen .. eocd)
  S.checkerror("more than deflate can expand to", tide.io.load, z)
  os.remove(p); os.remove(q); os.remove(z)
end

-- CSV details (audit F): i64 fields must be integers, one-character delimiters, quoted header
-- names, NUL bytes, a UTF-8 byte-order mark; option types are checked
do
  local c = base .. "-details.csv"
  local function write(bytes) local f = assert(io.open(c, "wb")); f:write(bytes); f:close() end
  write("1.5,2\n1e30,-7\n")
  S.checkerror("'1.5' is not an integer in the i64 range", tide.io.load, c, {dtype = "i64"})
  write("2.0,1e3\n")
  S.close(tide.io.load(c, {dtype = "i64"}), {2, 1000})
  S.checkerror("'delimiter' must be one character", tide.io.save, c, tide.ones(2, 2), {delimiter = ";;"})
  S.checkerror("'delimiter' must be one character", tide.io.load, c, {delimiter = ";;"})
  tide.io.save(c, tide.ones(1, 2), {header = {"a,b", 'c"d'}})
  local f = assert(io.open(c)); local text = f:read("a"); f:close()
  assert(text:sub(1, 12) == '"a,b","c""d"', text)
  write("2\0009,1\n")
  S.checkerror("is not a number", tide.io.load, c)
  write("\239\187\1912,3\n")
  S.close(tide.io.load(c), {2, 3})
  S.checkerror("option 'compressed' must be a boolean", tide.io.save, base .. ".npz", {a = tide.ones(1)}, {compressed = "yes"})
  S.checkerror("option 'metadata' must be a table of strings", tide.io.save, base .. ".safetensors", {a = tide.ones(1)}, {metadata = "x"})
  os.remove(c)
end

-- the byte-level CSV reader: BOM, tabs and spaces, blank and comment lines, a multi-byte
-- delimiter, specials, i64 edges, no final newline; writing is shortest-exact for f32 and f64
do
  local p = os.tmpname()
  local function load_text(t, o)
    local f = assert(io.open(p, "wb")); f:write(t); f:close()
    return tide.io.load(p, o or {format = "csv"})
  end
  local t = load_text("\239\187\191 1 ,\t2\n\n  # c\n3,  -inf\n,NaN\n+4,1e3")
  assert(t:size(1) == 4 and t:size(2) == 2 and t[{1, 2}] == 2 and t[{2, 2}] == -math.huge, "spaces, tabs, specials")
  assert(t[{3, 1}] ~= t[{3, 1}] and t[{3, 2}] ~= t[{3, 2}] and t[{4, 1}] == 4 and t[{4, 2}] == 1000, "empty is NaN; +4; 1e3")
  local u = load_text("1\194\1672\n3\194\1674\n", {format = "csv", delimiter = "\194\167"})
  assert(u[{2, 2}] == 4, "a two-byte delimiter")
  local i = load_text("-9223372036854775808,9223372036854775807,+7,2.0\n", {format = "csv", dtype = "i64"})
  assert(i[{1, 1}] == math.mininteger and i[{1, 2}] == math.maxinteger and i[{1, 3}] == 7 and i[{1, 4}] == 2, "i64 edges")
  S.checkerror("'9223372036854775808' is not an integer", load_text, "9223372036854775808\n", {format = "csv", dtype = "i64"})
  S.checkerror("line 1, column 1: '2\0009' is not a number", load_text, "2\0009\n")
  S.checkerror("is not a number", load_text, string.rep("1", 600) .. "x\n")
  S.checkerror("'1e' is not a number", load_text, "1e\n")
  -- shortest round trip: every f32 and f64 value reads back exactly
  for _, dt in ipairs({"f32", "f64"}) do
    local x = tide.randn(50, 3, {dtype = dt}) * 1e-5 + tide.randn(50, 3, {dtype = dt}) * 1e20
    tide.io.save(p, x, {format = "csv"})
    assert(tide.io.load(p, {format = "csv", dtype = dt}):eq(x):all():item(), dt .. " CSV round trip")
  end
  os.remove(p)
end
