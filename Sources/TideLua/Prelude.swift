// Prelude: the parts of `tide` written in Lua, run once by openTide() with the tide table as
// its argument. Kept small: help text and completion candidates (both used by the REPL and
// callable from scripts).
import CLua
import Foundation
import _CTideShims

extension LuaVM {
    func runPrelude() throws {
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        try check(tide_loadbuffer(L, preludeSource, preludeSource.utf8.count, "=[tide prelude]", "t"))
        tide_getref(L, tideTableRef)
        try check(tide_pcall(L, 1, 0, 1))
        try runLuaLibrary()
    }

    /// Runs each file of the Lua library with the tide table as its argument. With
    /// TIDE_LUA_DIR set, a file there replaces the compiled-in copy (for development).
    func runLuaLibrary() throws {
        let dir = ProcessInfo.processInfo.environment["TIDE_LUA_DIR"]
        // tide._library_chunks: the library's chunk names, so its error helper can tell its own
        // stack frames from a user's (one list: this one)
        tide_getref(L, tideTableRef)
        lua_pushstring(L, "_library_chunks")
        lua_createtable(L, 0, Int32(LuaLibrary.files.count))
        for (name, _) in LuaLibrary.files {
            lua_pushstring(L, "@tide/" + name + ".lua")
            lua_pushboolean(L, 1)
            lua_rawset(L, -3)
        }
        lua_rawset(L, -3)
        lua_settop(L, lua_gettop(L) - 1)
        for (name, bytes) in LuaLibrary.files {
            var src = bytes
            if let dir = dir, let d = FileManager.default.contents(atPath: dir + "/" + name + ".lua") { src = [UInt8](d) }
            let top = lua_gettop(L)
            defer { lua_settop(L, top) }
            try src.withUnsafeBufferPointer { b in
                try b.withMemoryRebound(to: CChar.self) { c in
                    try check(tide_loadbuffer(L, c.baseAddress, c.count, "@tide/" + name + ".lua", "t"))
                }
            }
            tide_getref(L, tideTableRef)
            try check(tide_pcall(L, 1, 0, 1))
        }
    }
}

/// The compiled-in Lua library (see Package.swift's luaLibrary for the order).
enum LuaLibrary {
    static let files: [(String, [UInt8])] = [
        ("autograd", PackageResources.autograd_lua),
        ("tensor_api", PackageResources.tensor_api_lua),
        ("tensor_extras", PackageResources.tensor_extras_lua),
        ("nn", PackageResources.nn_lua),
        ("nn_containers", PackageResources.nn_containers_lua),
        ("nn_init", PackageResources.nn_init_lua),
        ("functional", PackageResources.functional_lua),
        ("nn_layers", PackageResources.nn_layers_lua),
        ("nn_moe", PackageResources.nn_moe_lua),
        ("nn_lora", PackageResources.nn_lora_lua),
        ("nn_attention", PackageResources.nn_attention_lua),
        ("optim", PackageResources.optim_lua),
        ("train", PackageResources.train_lua),
        ("plot", PackageResources.plot_lua),
        ("data", PackageResources.data_lua),
        ("models", PackageResources.models_lua),
        ("util", PackageResources.util_lua),
    ]
}

let preludeSource = #"""
local tide = ...

-- tide.help(v): prints v's doc; for a table, also the documented entries under it.
local function first_line(s) return (s:match("^[^\n]*")) end
function tide.help(v, name)
  name = name or "value"
  local d = tide.doc(v)
  local out = {}
  if d then out[#out + 1] = d end
  if type(v) == "table" then
    local keys = {}
    for k, x in pairs(v) do
      -- names starting with "_" are private helpers (e.g. the optimizers' fused kernels)
      if type(k) == "string" and k:sub(1, 1) ~= "_" and tide.doc(x) then keys[#keys + 1] = k end
    end
    table.sort(keys)
    if #keys > 0 then
      out[#out + 1] = ""
      for _, k in ipairs(keys) do
        local line = first_line(tide.doc(v[k]))
        if #line > 90 then line = line:sub(1, 87) .. "..." end  -- the full text: ?module.name
        out[#out + 1] = string.format("  %-24s %s", k, line)
      end
    end
  elseif tide.is_tensor(v) then
    out[#out + 1] = "a tensor: " .. v:dtype() .. " of shape " .. table.concat(v:shape(), "x")
    out[#out + 1] = "methods: ?tide.Tensor lists them"
  end
  if #out == 0 then out[1] = "no documentation for " .. name end
  print(table.concat(out, "\n"))
end
tide.doc(tide.help, "tide.help(value): prints the documentation of a function or module (the REPL's ?name).")

-- the tensor method table, for ?tide.Tensor and completion
tide.Tensor = getmetatable(tide.zeros(0)).__methods

-- tide.complete(text, line): completion candidates for `text` (e.g. "tide.ze", "x:ma").
local keywords = {"and", "break", "do", "else", "elseif", "end", "false", "for", "function",
  "goto", "if", "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while"}

local function fields(obj, methods_only, seen, out)
  seen = seen or {}
  out = out or {}
  if obj == nil or seen[obj] then return out end
  seen[obj] = true
  if type(obj) == "table" then
    for k, v in pairs(obj) do
      if type(k) == "string" and k:match("^[%a_][%w_]*$")
         and (not methods_only or type(v) == "function") then
        out[k] = true
      end
    end
  end
  local mt = getmetatable(obj)
  if type(mt) == "table" then
    local m = rawget(mt, "__methods")
    if m then fields(m, methods_only, seen, out) end
    local idx = rawget(mt, "__index")
    if type(idx) == "table" then fields(idx, methods_only, seen, out) end
  end
  return out
end

function tide.complete(text, line)
  local base, sep, part = text:match("^(.-)([%.:])([%w_]*)$")
  local found = {}
  if not base then
    part = text
    for k in pairs(fields(_G)) do found[#found + 1] = k end
    for _, k in ipairs(keywords) do found[#found + 1] = k end
    base, sep = "", ""
  else
    -- resolve a dotted path of plain names without calling anything
    local obj = _G
    for name in (base .. "."):gmatch("([^%.]*)%.") do
      if not name:match("^[%a_][%w_]*$") then return {} end
      if type(obj) == "table" then obj = rawget(obj, name)
      elseif tide.is_tensor(obj) then obj = nil
      else obj = nil end
      if obj == nil then return {} end
    end
    for k in pairs(fields(obj, sep == ":")) do found[#found + 1] = k end
  end
  local out = {}
  for _, k in ipairs(found) do
    if k:sub(1, #part) == part then out[#out + 1] = base .. sep .. k end
  end
  table.sort(out)
  return out
end
tide.doc(tide.complete, "tide.complete(text [, line]) -> REPL completion candidates for text.")
"""#
