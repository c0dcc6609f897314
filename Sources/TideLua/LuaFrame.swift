// LuaFrame: the arguments of one call from Lua into a Swift binding, with checks that throw
// instead of raising (boundary rule 2). Messages read like lauxlib's:
//     bad argument #1 to 'zeros' (number expected, got table)
// Stack indices are the Lua argument positions (1-based).
import CLua
import _CTideShims
import TideCore

public struct LuaFrame {
    public let L: OpaquePointer
    let binding: Binding

    init(_ L: OpaquePointer, _ binding: Binding) {
        self.L = L
        self.binding = binding
    }

    public var vm: LuaVM { LuaVM.from(L) }
    public var name: String { binding.name }
    public var count: Int32 { lua_gettop(L) }

    public func type(_ i: Int32) -> Int32 { lua_type(L, i) }
    public func isNoneOrNil(_ i: Int32) -> Bool { lua_type(L, i) <= LUA_TNIL }

    /// The type name luaL_typeerror would use: __name of the metatable when set.
    public func typeName(_ i: Int32) -> String {
        if let n = tide_metaname(L, i) {
            let name = String(cString: n)
            // a table given the tensor metatable is still a table ("tensor expected, got tensor"
            // would hide what went wrong)
            if name != "tensor" || TensorUserdata.slot(L, at: i) != nil { return name }
        }
        if lua_type(L, i) == LUA_TLIGHTUSERDATA { return "light userdata" }
        if lua_type(L, i) == LUA_TNONE { return "no value" }
        return String(cString: tide_typename_at(L, i))
    }

    /// `bad argument #i to 'name' (msg)`, counting as Lua does for method calls.
    public func argError(_ i: Int32, _ msg: String) -> LuaError {
        var arg = i
        var ar = lua_Debug()
        if lua_getstack(L, 0, &ar) != 0, lua_getinfo(L, "n", &ar) != 0,
           let nw = ar.namewhat, String(cString: nw) == "method" {
            arg -= 1
            if arg == 0 { return .message("calling '\(name)' on bad self (\(msg))") }
        }
        return .message("bad argument #\(arg) to '\(name)' (\(msg))")
    }

    public func typeError(_ i: Int32, _ expected: String) -> LuaError {
        argError(i, "\(expected) expected, got \(typeName(i))")
    }

    // MARK: checks

    /// Throws when a non-nil argument follows position `m` (trailing nils are ignored, as
    /// Lua's own functions do): `bad argument #2 to 'exp' (no more arguments expected, got number)`.
    public func checkMaxArgs(_ m: Int32) throws {
        var top = count
        while top > m && type(top) <= LUA_TNIL { top -= 1 }
        if top > m { throw argError(m + 1, "no more arguments expected, got \(typeName(m + 1))") }
    }

    /// A positional boolean flag at `i` (torch's keepdim / unbiased), or nil when absent; a
    /// value of another kind (but an options table) is an error naming `what`.
    public func optFlag(_ i: Int32, _ what: String) throws -> Bool? {
        switch type(i) {
        case LUA_TBOOLEAN: return boolean(i)
        case LUA_TNONE, LUA_TNIL, LUA_TTABLE: return nil
        default: throw typeError(i, "boolean (\(what)) or options table")
        }
    }

    public func number(_ i: Int32) throws -> Double {
        var ok: Int32 = 0
        let d = lua_tonumberx(L, i, &ok)
        if ok == 0 { throw typeError(i, "number") }
        return d
    }

    public func optNumber(_ i: Int32, _ def: Double) throws -> Double {
        isNoneOrNil(i) ? def : try number(i)
    }

    public func integer(_ i: Int32) throws -> Int {
        var ok: Int32 = 0
        let v = lua_tointegerx(L, i, &ok)
        if ok == 0 {
            if lua_type(L, i) == LUA_TNUMBER || lua_type(L, i) == LUA_TSTRING {
                var isNum: Int32 = 0
                _ = lua_tonumberx(L, i, &isNum)
                if isNum != 0 { throw argError(i, "number has no integer representation") }
            }
            throw typeError(i, "number")
        }
        return Int(v)
    }

    public func optInteger(_ i: Int32, _ def: Int) throws -> Int {
        isNoneOrNil(i) ? def : try integer(i)
    }

    public func string(_ i: Int32) throws -> String {
        let t = lua_type(L, i)
        guard t == LUA_TSTRING || t == LUA_TNUMBER else { throw typeError(i, "string") }
        var len = 0
        let p = lua_tolstring(L, i, &len)!
        return String(decoding: UnsafeRawBufferPointer(start: p, count: len), as: UTF8.self)
    }

    public func optString(_ i: Int32, _ def: String?) throws -> String? {
        isNoneOrNil(i) ? def : try string(i)
    }

    public func boolean(_ i: Int32) -> Bool { lua_toboolean(L, i) != 0 }

    public func table(_ i: Int32) throws -> Int32 {
        guard lua_type(L, i) == LUA_TTABLE else { throw typeError(i, "table") }
        return lua_absindex(L, i)
    }

    public func function(_ i: Int32) throws {
        guard lua_type(L, i) == LUA_TFUNCTION else { throw typeError(i, "function") }
    }

    public func tensor(_ i: Int32) throws -> Tensor {
        guard let ud = TensorUserdata.slot(L, at: i) else {
            throw typeError(i, "tensor")
        }
        guard let p = ud.pointee else { throw argError(i, "use of a freed tensor") }
        return Unmanaged<Tensor>.fromOpaque(p).takeUnretainedValue()
    }

    public func value(_ i: Int32) -> LuaValue { LuaValue(L, at: i) }

    // MARK: options tables (raw reads; metamethods are not consulted)

    /// Raw field `key` of the table at `t`, pushed; returns its type. Pop it after use.
    @discardableResult
    public func pushField(_ t: Int32, _ key: String) -> Int32 {
        lua_pushstring(L, key)
        return lua_rawget(L, t)
    }

    // MARK: results

    public func push(_ d: Double) { lua_pushnumber(L, d) }
    public func push(_ i: Int) { lua_pushinteger(L, lua_Integer(i)) }
    public func push(_ b: Bool) { lua_pushboolean(L, b ? 1 : 0) }
    public func push(_ s: String) { lua_pushlstring(L, s, s.utf8.count) }
    public func push(_ t: Tensor) { TensorUserdata.push(L, t) }
    public func pushNil() { lua_pushnil(L) }
    /// Pushes {v1, v2, ...} (sizes, strides).
    public func push(ints: [Int]) {
        lua_createtable(L, Int32(ints.count), 0)
        for (k, v) in ints.enumerated() { lua_pushinteger(L, lua_Integer(v)); lua_rawseti(L, -2, lua_Integer(k + 1)) }
    }
    public func push(_ v: LuaValue) { vm.push(v) }

    /// Calls the function at stack index `fi` with the values at `args` (protected; a Lua
    /// error comes back as LuaError.object, unchanged, and a Swift caller rethrowing it passes
    /// the same object back to Lua).
    public func call(_ fi: Int32, args: [Int32], nresults: Int32) throws {
        lua_pushvalue(L, fi)
        for a in args { lua_pushvalue(L, a) }
        let st = tide_pcall(L, Int32(args.count), nresults, 0)
        if st != LUA_OK { throw LuaError.fromStack(L, status: st) }
    }
}
