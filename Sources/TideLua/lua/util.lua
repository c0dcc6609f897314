-- util.lua: tide.util, what every experiment script needs around its numerics: its command
-- line (args) and plain-text tables of results (print_table).
--
--   local o = tide.util.args(arg, {
--     {"--quick", help = "tiny sizes (what the tests run)"},     -- a flag: false unless given
--     {"--out DIR", "string", "runs/demo"},                      -- a value, with its default
--     {"--steps N", "int"},                                      -- nil unless given
--     {"--set key=value", "list"},                               -- repeatable: a list of strings
--   })
--   if o.quick then ... end; print(o.out, o.steps, #o.set)
--   tide.util.print_table({"n", "error"}, {{8, "1.2e-3"}, {16, "3.1e-4"}})
--
-- args reads lua5.4's `arg` table as the tide binary fills it (arg[1..n]: the script's
-- arguments, arg[0]: the script) and is strict: an unknown option, a missing value or a value
-- of the wrong kind raises an error that names the script and lists what it takes, instead of
-- running a long experiment with a setting the user did not ask for. Pure Lua, no state.
local tide = ...
local util = tide.util or {}
tide.util = util

---------------------------------------------------------------------------------------------
-- args

local kinds = {flag = true, int = true, number = true, string = true, list = true}

-- "examples/gpt.lua" -> "gpt": the name errors are reported under.
local function script_name(argv)
  local path = type(argv) == "table" and argv[0]
  if type(path) ~= "string" then return "script" end
  return path:match("([^/]+)%.lua$") or path:match("([^/]+)$") or path
end

-- One spec entry -> {flag =, metavar =, kind =, default =, key =, help =}.
local function parse_entry(e, k)
  local function bad(msg) error(("tide.util.args: spec entry %d: %s"):format(k, msg), 4) end
  if type(e) ~= "table" then bad("expected a table {\"--name [VALUE]\", kind, default}, got " .. type(e)) end
  if type(e[1]) ~= "string" then bad("expected the option text (\"--name\" or \"--name VALUE\") first, got " .. type(e[1])) end
  local flag, metavar = e[1]:match("^(%-%-[%w][%w_%-]*)%s+(%S.*)$")
  flag = flag or e[1]:match("^(%-%-[%w][%w_%-]*)$")
  if not flag then bad("expected \"--name\" or \"--name VALUE\", got '" .. e[1] .. "'") end
  local kind = e[2] or (metavar and "string" or "flag")
  if not kinds[kind] then
    bad("kind must be one of 'flag', 'int', 'number', 'string', 'list', got '" .. tostring(kind) .. "'")
  end
  if kind == "flag" and metavar then bad(flag .. " is a flag but its text names a value (" .. metavar .. ")") end
  if kind ~= "flag" and not metavar then
    metavar = ({int = "N", number = "X", string = "VALUE", list = "VALUE"})[kind]
  end
  if e.help ~= nil and type(e.help) ~= "string" then bad("help must be a string, got " .. type(e.help)) end
  return {flag = flag, metavar = metavar, kind = kind, default = e[3], help = e.help,
          key = flag:sub(3):gsub("%-", "_")}
end

-- "--quick, --out DIR, --steps N": what the script takes, in spec order.
local function expected(entries)
  local t = {}
  for _, e in ipairs(entries) do t[#t + 1] = e.metavar and (e.flag .. " " .. e.metavar) or e.flag end
  return table.concat(t, ", ")
end

local function usage(name, entries)
  local lines = {("usage: tide %s.lua [options]"):format(name)}
  local width = 0
  for _, e in ipairs(entries) do width = math.max(width, #(e.metavar and (e.flag .. " " .. e.metavar) or e.flag)) end
  for _, e in ipairs(entries) do
    local text = e.metavar and (e.flag .. " " .. e.metavar) or e.flag
    local note = e.help or ""
    if e.default ~= nil and e.kind ~= "flag" and e.kind ~= "list" then
      note = note .. (note ~= "" and " " or "") .. "(default " .. tostring(e.default) .. ")"
    end
    lines[#lines + 1] = note == "" and "  " .. text or ("  %-" .. width .. "s  %s"):format(text, note)
  end
  return table.concat(lines, "\n")
end

function util.args(argv, spec)
  if argv ~= nil and type(argv) ~= "table" then
    error("tide.util.args: expected the script's arg table (or nil), got " .. type(argv), 2)
  end
  if type(spec) ~= "table" then error("tide.util.args: expected a spec table as argument 2, got " .. type(spec), 2) end
  local name = spec.name
  if name ~= nil and type(name) ~= "string" then error("tide.util.args: spec.name must be a string, got " .. type(name), 2) end
  name = name or script_name(argv)
  local entries, by_flag, out = {}, {}, {}
  for k, e in ipairs(spec) do
    local p = parse_entry(e, k)
    if by_flag[p.flag] then error(("tide.util.args: spec entry %d: %s is given twice"):format(k, p.flag), 2) end
    entries[k], by_flag[p.flag] = p, p
    if p.kind == "flag" then out[p.key] = p.default == true
    elseif p.kind == "list" then
      out[p.key] = {}
      for _, v in ipairs(type(p.default) == "table" and p.default or {}) do out[p.key][#out[p.key] + 1] = v end
    else out[p.key] = p.default end
  end
  local function fail(msg) error(name .. ": " .. msg, 3) end
  argv = argv or {}
  local i, n = 1, #argv
  while i <= n do
    local a = argv[i]
    local flag, inline = tostring(a):match("^(%-%-[^=]+)=(.*)$")
    flag = flag or a
    local e = by_flag[flag]
    if not e and (a == "--help" or a == "-h") then
      print(usage(name, entries))
      os.exit(0)
    end
    if not e then fail(("unknown argument '%s' (expected %s)"):format(tostring(a), expected(entries))) end
    if e.kind == "flag" then
      if inline then fail(("%s takes no value, got '%s'"):format(flag, a)) end
      out[e.key] = true
    else
      local v = inline
      if not v then
        i = i + 1
        v = argv[i]
        if i > n then fail(("%s expects %s, got nothing"):format(flag, e.metavar)) end
      end
      if e.kind == "int" then
        local x = math.tointeger(tonumber(v))
        if not x then fail(("%s expects an integer %s, got '%s'"):format(flag, e.metavar, v)) end
        out[e.key] = x
      elseif e.kind == "number" then
        local x = tonumber(v)
        if not x then fail(("%s expects a number %s, got '%s'"):format(flag, e.metavar, v)) end
        out[e.key] = x
      elseif e.kind == "list" then
        out[e.key][#out[e.key] + 1] = v
      else
        out[e.key] = v
      end
    end
    i = i + 1
  end
  return out
end
tide.doc(util.args, [[tide.util.args(arg, spec) -> options: a script's command line, checked.
spec is a list of {"--name [VALUE]", kind, default, help = "..."}; kind is
  "flag"    (no value; false unless given; the default when the text names no VALUE)
  "int"     (math.tointeger of the value)    "number" (tonumber)
  "string"  (as given; the default when the text names a VALUE)
  "list"    (repeatable; every value in order, {} when absent)
and VALUE (N, X, VALUE when left out) is only what messages show. The result has one field per
option, "--ckpt-every" -> ckpt_every, holding the value given last or the default (nil when none).
"--name=value" works too. An unknown argument, a missing value or one that is not a number
where one is expected raises "<script>: ..." listing the options; spec.name overrides the
script name (taken from arg[0]). "--help" / "-h" (unless the spec defines them) prints the
options with their help and defaults and ends the program (os.exit(0)).]])

---------------------------------------------------------------------------------------------
-- print_table

function util.print_table(header, rows, opts)
  if type(header) ~= "table" then error("tide.util.print_table: expected a list of column names as argument 1, got " .. type(header), 2) end
  if type(rows) ~= "table" then error("tide.util.print_table: expected a list of rows as argument 2, got " .. type(rows), 2) end
  if opts ~= nil and type(opts) ~= "table" then error("tide.util.print_table: expected an options table as argument 3, got " .. type(opts), 2) end
  local indent = opts and opts.indent or "  "
  local w = {}
  for c, h in ipairs(header) do w[c] = #tostring(h) end
  for r, row in ipairs(rows) do
    if type(row) ~= "table" then error(("tide.util.print_table: row %d is a %s, expected a list of cells"):format(r, type(row)), 2) end
    for c, v in ipairs(row) do w[c] = math.max(w[c] or 0, #tostring(v)) end
  end
  local function line(r)
    local parts = {}
    for c, v in ipairs(r) do parts[c] = ("%" .. w[c] .. "s"):format(tostring(v)) end
    print(indent .. table.concat(parts, "  "))
  end
  line(header)
  local sep = {}
  for c = 1, #header do sep[c] = ("-"):rep(w[c]) end
  line(sep)
  for _, r in ipairs(rows) do line(r) end
end
tide.doc(util.print_table, [[tide.util.print_table(header, rows [, {indent = "  "}]): prints a text table: the header,
a rule, then one line per row; cells go through tostring and are right-aligned in columns as
wide as their widest cell, two spaces apart.]])

tide.doc(util, "tide.util: helpers for experiment scripts: args (the command line, checked), print_table (text tables).")
