-- tide.util: args (a script's command line) and print_table.
local S = require "support"
local args = tide.util.args

local spec = {
  {"--quick"}, {"--resume"},
  {"--out DIR", "string", "runs/demo"},
  {"--steps N", "int"},
  {"--ckpt-every N", "int", 100},
  {"--budget SEC", "number", 2.5},
  {"--set key=value", "list"},
}
local function argv(...) return {[0] = "examples/demo.lua", ...} end

-- defaults: flags false, values their default or nil, lists empty
local o = args(argv(), spec)
assert(o.quick == false and o.resume == false and o.out == "runs/demo" and o.steps == nil)
assert(o.ckpt_every == 100 and o.budget == 2.5 and type(o.set) == "table" and #o.set == 0)
assert(args(nil, spec).out == "runs/demo")

-- every kind, both spellings, the last value wins, lists keep order
o = args(argv("--quick", "--out", "/tmp/x", "--steps", "30", "--ckpt-every=7", "--budget", "1e-1",
              "--set", "a=1", "--set=b=2", "--out", "/tmp/y"), spec)
assert(o.quick == true and o.resume == false and o.out == "/tmp/y")
assert(o.steps == 30 and math.type(o.steps) == "integer" and o.ckpt_every == 7)
assert(o.budget == 0.1 and #o.set == 2 and o.set[1] == "a=1" and o.set[2] == "b=2")
assert(args(argv("--steps", "4.0"), spec).steps == 4)   -- an integral float is an integer
assert(args(argv("--out", "--quick"), spec).out == "--quick")   -- a value is taken as given

-- the kind defaults from the text: a value makes it a string, none a flag
o = args(argv("--name", "x", "--v"), {{"--name NAME"}, {"--v"}})
assert(o.name == "x" and o.v == true)
-- a flag's default may be true
assert(args(argv(), {{"--fast", "flag", true}}).fast == true)
-- a list default is copied, not shared
local d = {"k=v"}
o = args(argv("--set", "z=1"), {{"--set KV", "list", d}})
assert(#o.set == 2 and o.set[1] == "k=v" and o.set[2] == "z=1" and #d == 1)

-- bad command lines name the script (arg[0], or spec.name) and list the options
S.checkerror("demo: unknown argument '--bogus' (expected --quick, --resume, --out DIR, --steps N, --ckpt-every N, --budget SEC, --set key=value)",
  args, argv("--bogus"), spec)
S.checkerror("demo: unknown argument 'extra'", args, argv("extra"), spec)
S.checkerror("demo: --out expects DIR, got nothing", args, argv("--out"), spec)
S.checkerror("demo: --steps expects an integer N, got 'ten'", args, argv("--steps", "ten"), spec)
S.checkerror("demo: --steps expects an integer N, got '2.5'", args, argv("--steps", "2.5"), spec)
S.checkerror("demo: --budget expects a number SEC, got '1s'", args, argv("--budget", "1s"), spec)
S.checkerror("demo: --quick takes no value, got '--quick=1'", args, argv("--quick=1"), spec)
S.checkerror("mine: unknown argument '-x'", args, argv("-x"), {name = "mine", {"--quick"}})
S.checkerror("script: unknown argument '-x'", args, {"-x"}, {{"--quick"}})
-- the error points at the script's call, not into the library
local err = S.checkerror("unknown argument", function() local r = args(argv("--nope"), spec); return r end)
assert(err:match("^[^:]*test_util%.lua:%d+: demo: unknown argument"), err)

-- bad specs
S.checkerror("tide.util.args: expected a spec table as argument 2, got nil", args, argv())
S.checkerror("tide.util.args: expected the script's arg table (or nil), got string", args, "--quick", spec)
S.checkerror("tide.util.args: spec entry 1: expected \"--name\" or \"--name VALUE\", got '-q'", args, argv(), {{"-q"}})
S.checkerror("tide.util.args: spec entry 2: kind must be one of 'flag', 'int', 'number', 'string', 'list', got 'integer'",
  args, argv(), {{"--a"}, {"--n N", "integer"}})
S.checkerror("tide.util.args: spec entry 1: --q is a flag but its text names a value (N)", args, argv(), {{"--q N", "flag"}})
S.checkerror("tide.util.args: spec entry 2: --q is given twice", args, argv(), {{"--q"}, {"--q"}})
S.checkerror("tide.util.args: spec entry 1: expected a table", args, argv(), {"--q"})
S.checkerror("tide.util.args: spec.name must be a string, got number", args, argv(), {name = 3})

-- print_table: right-aligned columns as wide as their widest cell
local lines = {}
local real_print = print
print = function(s) lines[#lines + 1] = s end
local ok, e = pcall(tide.util.print_table, {"n", "error"}, {{8, "1.2e-3"}, {1024, 0.5}})
print = real_print
assert(ok, e)
assert(#lines == 4, #lines)
assert(lines[1] == "     n   error", lines[1])
assert(lines[2] == "  ----  ------", lines[2])
assert(lines[3] == "     8  1.2e-3", lines[3])
assert(lines[4] == "  1024     0.5", lines[4])
S.checkerror("tide.util.print_table: row 1 is a number, expected a list of cells", tide.util.print_table, {"a"}, {3})
S.checkerror("tide.util.print_table: expected a list of rows as argument 2, got nil", tide.util.print_table, {"a"})

-- documented
assert(tide.doc(tide.util.args):find("tide.util.args(arg, spec)", 1, true))
assert(tide.doc(tide.util.print_table))

print("test_util: ok")
