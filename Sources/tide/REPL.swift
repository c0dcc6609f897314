// The interactive REPL: lua.c's semantics plus trepl's extras.
//
//   > 1 + 1                 auto-print (a trailing ';' suppresses it); `_` holds the result
//   > function f(x)         incomplete chunks continue on a '>>' prompt
//   >>   return x end
//   > ?tide.zeros           doc of a documented function or module
//   > tide.ze<TAB>          completion through tables and tensor methods (x:ma<TAB>)
//   Ctrl-C                  abandons the line, or interrupts the running command (also long
//                           Swift kernels, which poll a cancel flag); Ctrl-D exits.
//
// The loop itself is Lua (below); line reading, history and the SIGINT handler are C
// (_CTideREPL); the Swift here only connects them.
import CLua
import TideHost
import TideCore
import _CTideREPL
import _CTideShims
#if canImport(Glibc)
import Glibc
#endif

enum REPL {
    static func historyPath() -> String {
        if let p = getenv("TIDE_HISTORY") { return String(cString: p) }
        let home = getenv("HOME").map { String(cString: $0) } ?? "."
        return home + "/.tide_history"
    }

    static func run(_ host: TideHost) -> Int32 {
        let vm = host.vm
        let L = vm.L
        let hist = historyPath()
        _ = tide_repl_read_history(hist)
        // registry["tide.repl.complete"] = tide.complete
        lua_pushstring(L, "tide.repl.complete")
        tide_pushglobaltable(L)
        lua_pushstring(L, "tide"); lua_rawget(L, -2)
        lua_pushstring(L, "complete"); lua_rawget(L, -2)
        tide_replace(L, -3)
        tide_pop(L, 1)
        lua_rawset(L, tide_registryindex())
        lua_settop(L, 0)
        tide_repl_init(L)

        lua_createtable(L, 0, 4)
        let io = lua_gettop(L)
        vm.register(name: "readline", in: io) { f in
            let prompt = try f.string(1)
            var line: UnsafeMutablePointer<CChar>? = nil
            let r = tide_repl_readline(prompt, &line)
            if r == 1, let l = line {
                f.push(String(cString: l))
                tide_repl_free(l)
            } else if r == 0 {
                f.pushNil()
            } else {
                f.push(false)
            }
            return 1
        }
        vm.register(name: "add_history", in: io) { f in
            let s = try f.string(1)
            if !s.allSatisfy({ $0 == " " || $0 == "\t" }) {
                tide_repl_add_history(s)
                _ = tide_repl_append_history(hist, 1000)
            }
            return 0
        }
        vm.register(name: "reset_interrupt", in: io) { f in
            lua_sethook(f.L, nil, 0, 0)
            Cancellation.clear()
            return 0
        }
        do {
            try vm.check(tide_loadbuffer(L, replSource, replSource.utf8.count, "=[tide repl]", "t"))
            lua_pushvalue(L, io)
            lua_pushstring(L, "Tide \(TideVersion.string)  ?name for help, Tab completes, Ctrl-D exits")
            try vm.check(tide_pcall(L, 2, 0, 1))
        } catch {
            fputs("tide: \(error)\n", stderr)
            return 1
        }
        return 0
    }
}

let replSource = #"""
local R, banner = ...
print((banner:gsub("Tide (%S+)", "Tide %1 (" .. _VERSION .. ")", 1)))

local function render(v, depth)
  if type(v) == "string" then return string.format("%q", v) end
  if type(v) ~= "table" or getmetatable(v) ~= nil or (depth or 0) > 0 then return tostring(v) end
  local parts, n = {}, 0
  for i = 1, #v do
    n = n + 1
    if n > 20 then parts[#parts + 1] = "..."; return "{" .. table.concat(parts, ", ") .. "}" end
    parts[#parts + 1] = render(v[i], 1)
  end
  local keys = {}
  for k in pairs(v) do
    if not (math.type(k) == "integer" and k >= 1 and k <= #v) then keys[#keys + 1] = k end
  end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  for _, k in ipairs(keys) do
    n = n + 1
    if n > 20 then parts[#parts + 1] = "..."; break end
    local key = (type(k) == "string" and k:match("^[%a_][%w_]*$")) and k or ("[" .. render(k, 1) .. "]")
    parts[#parts + 1] = key .. " = " .. render(v[k], 1)
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

local function msgh(e)
  if type(e) ~= "string" then
    local mt = getmetatable(e)
    if mt and mt.__tostring then
      e = tostring(e)
    else
      e = "(error object is a " .. type(e) .. " value: " .. render(e) .. ")"
    end
  end
  return debug.traceback(e, 2)
end

local function incomplete(err)
  return err and err:sub(-5) == "<eof>"
end

local function show(res, suppress)
  if res.n > 1 then
    _G._ = res[2]
    if not suppress then
      local out = {}
      for i = 2, res.n do out[#out + 1] = render(res[i]) end
      print(table.concat(out, "\t"))
    end
  end
end

while true do
  R.reset_interrupt()
  local line = R.readline("> ")
  if line == nil then io.write("\n"); break end
  if line ~= false then
    local q = line:match("^%s*%?%s*(.-)%s*$")
    if q then
      R.add_history(line)
      if q == "" then q = "tide" end
      local fn = load("return " .. q, "=stdin")
      local ok, v = false, nil
      if fn then ok, v = pcall(fn) end
      if ok and v ~= nil then tide.help(v, q) else print("no documentation for " .. q) end
    else
      local code = line
      local fn, err = load("return " .. code, "=stdin")
      if not fn then
        fn, err = load(code, "=stdin")
        while not fn and incomplete(err) do
          local more = R.readline(">> ")
          if more == nil or more == false then code = nil; break end
          code = code .. "\n" .. more
          fn, err = load(code, "=stdin")
        end
      end
      if code then
        R.add_history(code)
        if not fn then
          io.stderr:write(err, "\n")
        else
          local res = table.pack(xpcall(fn, msgh))
          if res[1] then
            show(res, code:match(";%s*$") ~= nil)
          else
            io.stderr:write(tostring(res[2]), "\n")
          end
        end
      end
    end
  end
end
"""#
