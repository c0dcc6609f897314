// LuaVM+Tide: opening the `tide` library in a VM.
//
//     let vm = try LuaVM()
//     try vm.openStandardLibraries()
//     try vm.openTide()          // global `tide`, and require "tide"
//
// The `tide` table is built by the binding files (one per Swift module area), then the Lua
// prelude (help, REPL completion, pure-Lua helpers) runs on top of it.
import CLua
import _CTideShims
import TideCore

public enum TideVersion {
    public static let string = "0.1.0"
}

extension LuaVM {
    /// Creates the global `tide` table and registers it as package.loaded.tide.
    public func openTide() throws {
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        lua_createtable(L, 0, 64)
        let tide = lua_gettop(L)
        tideTableRef = tide_ref_copy(tide)
        // docs registry: weak-keyed table value -> doc string
        lua_createtable(L, 0, 256)
        lua_createtable(L, 0, 1)
        lua_pushstring(L, "__mode"); lua_pushstring(L, "k"); lua_rawset(L, -3)
        lua_setmetatable(L, -2)
        docsRef = tide_ref(L)

        setField(tide, "version", .string(TideVersion.string))
        TensorBindings.open(self, tide)
        CoreBindings.open(self, tide)
        IOBindings.open(self, tide)
        LinalgBindings.open(self, tide)
        QSTBindings.open(self, tide)
        NNBindings.open(self, tide)
        SystemBindings.open(self, tide)
        OptimBindings.open(self, tide)
        ConvBindings.open(self, tide)
        TTBindings.open(self, tide)
        IRSBindings.open(self, tide)

        // global and package.loaded
        tide_pushglobaltable(L)
        lua_pushstring(L, "tide"); lua_pushvalue(L, tide); lua_rawset(L, -3)
        lua_pushstring(L, "package"); lua_rawget(L, -2)
        if lua_type(L, -1) == LUA_TTABLE {
            lua_pushstring(L, "loaded"); lua_rawget(L, -2)
            if lua_type(L, -1) == LUA_TTABLE {
                lua_pushstring(L, "tide"); lua_pushvalue(L, tide); lua_rawset(L, -3)
            }
        }
        lua_settop(L, tide)
        try runPrelude()
    }

    func tide_ref_copy(_ idx: Int32) -> Int32 {
        lua_pushvalue(L, idx)
        return tide_ref(L)
    }

    /// t[name] = v (raw) for the table at `t`.
    public func setField(_ t: Int32, _ name: String, _ v: LuaValue) {
        let abs = lua_absindex(L, t)
        lua_pushstring(L, name)
        push(v)
        lua_rawset(L, abs)
    }

    /// Registers a documented function `name` in the table at `t`; with `maxArgs`, a call
    /// with more non-nil arguments (self included) is an error naming the function.
    public func def(_ t: Int32, _ name: String, _ doc: String, maxArgs: Int32? = nil, _ fn: @escaping (LuaFrame) throws -> Int32) {
        let abs = lua_absindex(L, t)
        lua_pushstring(L, name)
        pushFunction(name: name, maxArgs: maxArgs, fn)
        setDoc(forValueAt: -1, doc)
        lua_rawset(L, abs)
    }

    /// Creates (or reuses) sub-table `name` of the table at `t`, documents it, and leaves it
    /// on the stack; returns its index.
    @discardableResult
    public func subtable(_ t: Int32, _ name: String, _ doc: String) -> Int32 {
        let abs = lua_absindex(L, t)
        lua_pushstring(L, name)
        if lua_rawget(L, abs) != LUA_TTABLE {
            tide_pop(L, 1)
            lua_createtable(L, 0, 16)
            lua_pushstring(L, name); lua_pushvalue(L, -2); lua_rawset(L, abs)
        }
        setDoc(forValueAt: -1, doc)
        return lua_gettop(L)
    }

    /// docs[value at idx] = doc.
    public func setDoc(forValueAt idx: Int32, _ doc: String) {
        let v = lua_absindex(L, idx)
        tide_getref(L, docsRef)
        lua_pushvalue(L, v)
        lua_pushstring(L, doc)
        lua_rawset(L, -3)
        tide_pop(L, 1)
    }
}
