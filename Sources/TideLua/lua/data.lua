-- data.lua: tide.data, the shipped text corpus, a byte tokenizer and random batches of
-- windows for language models.
--
--   local text = tide.data.corpus("pydoc", {split = "train"})  -- Python 3.11 docs (reST), ~10 MB
--   local tok = tide.data.ByteTokenizer()                       -- vocab 256, ids = byte + 1
--   local ids = tok:encode(text)                                -- i64 (n), values 1..256
--   local x, y = tide.data.random_windows(ids, {batch = 8, block = 64})  -- (8, 64) each
--   print(tide.data.unigram_entropy(ids))                       -- baseline loss in nats
--
-- Token ids are 1-based like every index in Tide: byte b has id b + 1, so ids index an
-- embedding table or a cross-entropy target directly.
--
-- Where the data lives: data/<name>/ in the Tide tree (data/pydoc/pydoc.txt.gz plus its
-- index.tsv, made by scripts/data/prepare_corpus.py). tide.data.dir() finds the data/
-- directory in this order: $TIDE_DATA (authoritative when set); data/ next to the running
-- script or any of its parent directories; data/ in the current directory or a parent; the
-- source tree the tide binary was built from (tide.fs.source_root()).
local tide = ...
local data = tide.data or {}
tide.data = data

local corpora = {
  pydoc = {file = "pydoc.txt.gz", index = "index.tsv",
           about = "the Python 3.11 documentation sources (reStructuredText, PSF licence), 497 documents, 95/5 train/val split by document"},
}

local function has(dir, name) return tide.fs.exists(dir .. "/" .. name .. "/" .. corpora[name].index) end

-- Directories of the Lua files being run (outermost first), from the call stack.
local function script_dirs()
  local dirs, seen = {}, {}
  if not debug or not debug.getinfo then return dirs end
  for level = 2, 200 do
    local info = debug.getinfo(level, "S")
    if not info then break end
    local src = info.source
    if src:sub(1, 1) == "@" and src:sub(1, 6) ~= "@tide/" then
      local dir = src:sub(2):match("^(.*)/[^/]*$") or "."
      if dir == "" then dir = "/" end
      if not seen[dir] then seen[dir] = true; table.insert(dirs, 1, dir) end
    end
  end
  return dirs
end

-- The data directory holding corpus `name`, or nil and the reason.
local function find_dir(name)
  local env = os.getenv("TIDE_DATA")
  if env and env ~= "" then
    if has(env, name) then return env end
    return nil, "tide.data: TIDE_DATA is " .. env .. " but " .. env .. "/" .. name .. "/" .. corpora[name].index .. " does not exist"
  end
  local tried = {}
  local function walk(start)
    local d = start
    for _ = 0, 6 do
      local cand = (d == "/" and "" or d) .. "/data"
      if d == "." then cand = "data" end
      tried[#tried + 1] = cand
      if has(cand, name) then return cand end
      d = d == "." and ".." or (d == "/" and "/" or d .. "/..")
    end
  end
  for _, d in ipairs(script_dirs()) do
    local found = walk(d)
    if found then return found end
  end
  local found = walk(".")
  if found then return found end
  local root = tide.fs.source_root() .. "/data"
  tried[#tried + 1] = root
  if has(root, name) then return root end
  return nil, "tide.data: cannot find the '" .. name .. "' corpus (data/" .. name .. "/" .. corpora[name].index ..
              "); set TIDE_DATA to the data directory of a Tide checkout. Tried: " .. table.concat(tried, ", ")
end

--- tide.data.dir([name = "pydoc"]) -> the data directory holding corpus `name`.
function data.dir(name)
  name = name or "pydoc"
  if not corpora[name] then error("tide.data.dir: unknown corpus '" .. tostring(name) .. "'", 2) end
  local dir, err = find_dir(name)
  if not dir then error(err, 2) end
  return dir
end
tide.doc(data.dir, "tide.data.dir([name = 'pydoc']) -> the data directory (holding <name>/): $TIDE_DATA if set, else data/ beside the running script or a parent of it, else in the current directory or a parent, else in the source tree tide was built from.")

local cache = {}

local function load_corpus(name)
  if cache[name] then return cache[name] end
  local c = corpora[name]
  local found, err = find_dir(name)
  if not found then error(err, 0) end
  local dir = found .. "/" .. name
  local text = tide.fs.read(dir .. "/" .. c.file)
  local docs = {}
  local f = assert(io.open(dir .. "/" .. c.index, "rb"))
  local n, total = 0, 0
  for line in f:lines() do
    n = n + 1
    if line:sub(1, 1) ~= "#" and line ~= "" then
      local path, split, off, len = line:match("^([^\t]+)\t(%a+)\t(%d+)\t(%d+)$")
      off, len = tonumber(off), tonumber(len)
      if not path or (split ~= "train" and split ~= "val") or off + len > #text then
        f:close()
        error("tide.data.corpus: " .. dir .. "/" .. c.index .. ":" .. n .. ": bad index line (expected path, train|val, offset, bytes within the " .. #text .. "-byte text)", 0)
      end
      docs[#docs + 1] = {name = path, split = split, offset = off, bytes = len}
      total = total + len
    end
  end
  f:close()
  if total ~= #text then
    error(string.format("tide.data.corpus: %s: the index covers %d bytes but the text has %d (stale or corrupt files; rerun scripts/data/prepare_corpus.py)", dir, total, #text), 0)
  end
  cache[name] = {text = text, docs = docs, dir = dir}
  return cache[name]
end

--- tide.data.corpus(name [, {split = "train", documents = false}]) -> text (or a list of documents)
function data.corpus(name, opts)
  if type(name) ~= "string" or not corpora[name] then
    local names = {}
    for k in pairs(corpora) do names[#names + 1] = k end
    table.sort(names)
    error("tide.data.corpus: unknown corpus " .. tostring(name) .. " (available: " .. table.concat(names, ", ") .. ")", 2)
  end
  opts = opts or {}
  if type(opts) ~= "table" then error("tide.data.corpus: options must be a table, got " .. type(opts), 2) end
  local split = opts.split or "train"
  if split ~= "train" and split ~= "val" and split ~= "all" then
    error("tide.data.corpus: split must be 'train', 'val' or 'all', got " .. tostring(split), 2)
  end
  local ok, c = pcall(load_corpus, name)
  if not ok then error(c, 2) end
  local parts = {}
  for _, d in ipairs(c.docs) do
    if split == "all" or d.split == split then
      local t = c.text:sub(d.offset + 1, d.offset + d.bytes)
      parts[#parts + 1] = opts.documents and {name = d.name, text = t} or t
    end
  end
  if opts.documents then return parts end
  return table.concat(parts)
end
tide.doc(data.corpus, [[tide.data.corpus(name [, {split = "train" | "val" | "all", documents = false}]) -> the text of the split: its documents concatenated in path order (a Lua string of UTF-8 bytes). documents = true returns {{name =, text =}, ...} instead.
Corpora: "pydoc" = the Python 3.11 documentation sources from Debian's python3.11-doc (PSF licence; see data/pydoc/SOURCE.md): 497 documents, 472 train (10.5 MB) / 25 val (0.5 MB).]])

---------------------------------------------------------------------------------------------
-- Byte tokenizer

local ByteTokenizer = {}
ByteTokenizer.__index = ByteTokenizer
ByteTokenizer.__name = "tide.data.ByteTokenizer"

--- tok:encode(str) -> i64 tensor (#str) of ids byte + 1 (1..256).
function ByteTokenizer:encode(s)
  if type(s) ~= "string" then error("ByteTokenizer:encode: expected a string, got " .. type(s), 2) end
  return data.bytes_to_tensor(s, 1)
end

--- tok:decode(ids) -> the string; ids an i64 tensor or a table of integers in 1..256.
function ByteTokenizer:decode(ids)
  if type(ids) == "table" then
    if #ids == 0 then return "" end
    for i = 1, #ids do
      local v = ids[i]
      if math.type(v) ~= "integer" and not (type(v) == "number" and v == math.floor(v)) then
        error("ByteTokenizer:decode: ids[" .. i .. "] must be an integer, got " .. tostring(v), 2)
      end
    end
    ids = tide.tensor(ids, "i64")
  elseif not tide.is_tensor(ids) then
    error("ByteTokenizer:decode: expected an i64 tensor or a table of ids, got " .. type(ids), 2)
  elseif ids:dtype() ~= "i64" then
    error("ByteTokenizer:decode: expected an i64 tensor, got " .. ids:dtype(), 2)
  end
  local ok, s = pcall(data.tensor_to_bytes, ids, 1)
  if not ok then error("ByteTokenizer:decode: " .. tostring(s):gsub("^.-tensor_to_bytes: ", "") .. " (ids are bytes + 1)", 2) end
  return s
end

function ByteTokenizer:__tostring() return "tide.data.ByteTokenizer(vocab_size = 256, ids = byte + 1)" end

--- tide.data.ByteTokenizer() -> tok with tok.vocab_size = 256.
function data.ByteTokenizer()
  return setmetatable({vocab_size = 256}, ByteTokenizer)
end
tide.doc(data.ByteTokenizer, "tide.data.ByteTokenizer() -> tok: tok:encode(str) -> i64 tensor of ids byte + 1 (1..256, 1-based like all Tide indices: ready for embeddings and cross-entropy targets); tok:decode(ids) -> str (ids: i64 tensor or table); tok.vocab_size = 256.")

---------------------------------------------------------------------------------------------
-- Batches

local function posint(fn, o, k)
  local v = o[k]
  if math.type(v) ~= "integer" and not (type(v) == "number" and v == math.floor(v)) or v < 1 then
    error(fn .. ": " .. k .. " must be an integer >= 1, got " .. tostring(v), 3)
  end
  return math.tointeger(v)
end

--- tide.data.random_windows(tokens, {batch =, block =, generator =}) -> x, y (batch, block) i64
function data.random_windows(tokens, o)
  local fn = "tide.data.random_windows"
  if not tide.is_tensor(tokens) then error(fn .. ": tokens must be a 1-d i64 tensor, got " .. type(tokens), 2) end
  if tokens:dim() ~= 1 or tokens:dtype() ~= "i64" then
    error(fn .. ": tokens must be a 1-d i64 tensor, got " .. tokens:dtype() .. " of shape {" .. table.concat(tokens:shape(), ", ") .. "}", 2)
  end
  if type(o) ~= "table" then error(fn .. ": expected {batch =, block =}, got " .. type(o), 2) end
  local batch, block = posint(fn, o, "batch"), posint(fn, o, "block")
  local n = tokens:numel()
  if n < block + 1 then
    error(string.format("%s: %d tokens are too few for block = %d (need at least block + 1)", fn, n, block), 2)
  end
  -- starts uniform over 1..n-block, so that the target window (start+1 .. start+block) fits
  local starts = tide.randint(1, n - block + 1, {batch}, {generator = o.generator})
  return data.windows(tokens, starts, block)  -- one row copy per window (Swift)
end
tide.doc(data.random_windows, "tide.data.random_windows(tokens, {batch =, block =, generator =}) -> x, y: i64 (batch, block). Each row is tokens[s .. s+block-1] for a start s uniform over 1..n-block; y is the same window shifted by one (next-token targets). Reproducible with tide.manual_seed or a tide.Generator.")

--- tide.data.unigram_entropy(tokens) -> entropy of the token frequencies in nats.
function data.unigram_entropy(tokens)
  local fn = "tide.data.unigram_entropy"
  if not tide.is_tensor(tokens) or tokens:dtype() ~= "i64" then
    error(fn .. ": expected an i64 tensor of token ids, got " .. (tide.is_tensor(tokens) and tokens:dtype() .. " tensor" or type(tokens)), 2)
  end
  local n = tokens:numel()
  if n == 0 then error(fn .. ": no tokens", 2) end
  local flat = tokens:reshape(-1)
  local lo, hi = flat:min():item(), flat:max():item()
  if hi - lo >= 1 << 26 then error(fn .. ": token ids span " .. (hi - lo + 1) .. " values; expected a vocabulary under 2^26", 2) end
  local counts = tide.zeros(hi - lo + 1, {dtype = "f64"}):scatter_add_(1, flat - (lo - 1), tide.ones(n, {dtype = "f64"}))
  local h = 0
  for _, c in ipairs(counts:totable()) do
    if c > 0 then
      local p = c / n
      h = h - p * math.log(p)
    end
  end
  return h
end
tide.doc(data.unigram_entropy, "tide.data.unigram_entropy(tokens) -> H = -sum p log p (nats) of the token frequencies: the loss of the best model that ignores context (a language model should beat it).")

tide.doc(data, "tide.data: the shipped pydoc corpus (corpus, dir), ByteTokenizer, random_windows for next-token batches, unigram_entropy.")
