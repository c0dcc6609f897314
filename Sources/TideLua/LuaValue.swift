// LuaValue: a Lua value copied into Swift (and pushed back).
//
// Tables are copied deeply (cycles stop at a depth of 64 and come back as `.opaque`).
// Tensors come across as the same Tensor object, not a copy. Functions, threads and other
// userdata are `.opaque` with their type name: they cannot outlive the stack slot they came
// from.
import CLua
import _CTideShims
import TideCore

public indirect enum LuaValue: Hashable, CustomStringConvertible {
    case `nil`
    case boolean(Bool)
    case integer(Int)
    case number(Double)
    case string(String)
    case table([LuaValue: LuaValue])
    case tensor(Tensor)
    case opaque(String)

    /// Reads the value at stack index `idx`.
    public init(_ L: OpaquePointer, at idx: Int32, depth: Int = 0) {
        switch lua_type(L, idx) {
        case LUA_TNIL, LUA_TNONE: self = .nil
        case LUA_TBOOLEAN: self = .boolean(lua_toboolean(L, idx) != 0)
        case LUA_TNUMBER:
            if tide_isinteger(L, idx) != 0 {
                self = .integer(Int(lua_tointegerx(L, idx, nil)))
            } else {
                self = .number(lua_tonumberx(L, idx, nil))
            }
        case LUA_TSTRING:
            var len = 0
            let p = lua_tolstring(L, idx, &len)!
            self = .string(String(decoding: UnsafeRawBufferPointer(start: p, count: len), as: UTF8.self))
        case LUA_TTABLE:
            if depth >= 64 { self = .opaque("table"); return }
            let t = lua_absindex(L, idx)
            var dict: [LuaValue: LuaValue] = [:]
            lua_pushnil(L)
            while lua_next(L, t) != 0 {
                let k = LuaValue(L, at: -2, depth: depth + 1)
                dict[k] = LuaValue(L, at: -1, depth: depth + 1)
                tide_pop(L, 1)
            }
            self = .table(dict)
        case LUA_TUSERDATA:
            if let t = TensorUserdata.tensor(L, at: idx) { self = .tensor(t); return }
            self = .opaque(tide_metaname(L, idx).map { String(cString: $0) } ?? "userdata")
        default:
            self = .opaque(String(cString: tide_typename_at(L, idx)))
        }
    }

    public var description: String {
        switch self {
        case .nil: return "nil"
        case .boolean(let b): return String(b)
        case .integer(let i): return String(i)
        case .number(let d): return String(d)
        case .string(let s): return s
        case .table(let d): return "table(\(d.count) entries)"
        case .tensor(let t): return t.description
        case .opaque(let n): return n
        }
    }

    /// Numeric view: integers and floats alike.
    public var doubleValue: Double? {
        switch self {
        case .integer(let i): return Double(i)
        case .number(let d): return d
        default: return nil
        }
    }

    /// A table's array part 1...n, in order.
    public var arrayValue: [LuaValue]? {
        guard case .table(let d) = self else { return nil }
        var out: [LuaValue] = []
        var i = 1
        while let v = d[.integer(i)] { out.append(v); i += 1 }
        return out
    }

    public subscript(key: String) -> LuaValue {
        if case .table(let d) = self { return d[.string(key)] ?? .nil }
        return .nil
    }
}

extension LuaVM {
    /// Copies the value at `idx` into Swift.
    public func value(at idx: Int32) -> LuaValue { LuaValue(L, at: idx) }

    /// Pushes a Swift value.
    public func push(_ v: LuaValue) {
        switch v {
        case .nil: lua_pushnil(L)
        case .boolean(let b): lua_pushboolean(L, b ? 1 : 0)
        case .integer(let i): lua_pushinteger(L, lua_Integer(i))
        case .number(let d): lua_pushnumber(L, d)
        case .string(let s): lua_pushlstring(L, s, s.utf8.count)
        case .table(let d):
            lua_createtable(L, 0, Int32(d.count))
            for (k, val) in d {
                push(k)
                push(val)
                lua_rawset(L, -3)
            }
        case .tensor(let t): TensorUserdata.push(L, t)
        case .opaque: lua_pushnil(L)
        }
    }
}
