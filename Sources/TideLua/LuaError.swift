// LuaError: errors crossing the Lua boundary in either direction.
//
// `.object` holds a registry reference to the original Lua error value, so a table raised
// with error({code = 7}) inside a Lua callback, caught by Swift, comes back out to Lua as the
// very same table. Swift code sees `description` (the value's string form).
import CLua
import _CTideShims

public enum LuaError: Error, CustomStringConvertible {
    /// A plain message; raised in Lua as a string with the caller's position prepended.
    case message(String)
    /// An original Lua error object, kept in the registry until this error is released.
    case object(LuaErrorObject)

    public var description: String {
        switch self {
        case .message(let m): return m
        case .object(let o): return o.text
        }
    }

    /// The Lua error value as a Swift value (a string, a table, ...), when it was a Lua error.
    public var value: LuaValue? {
        if case .object(let o) = self { return o.value }
        return nil
    }

    /// Pushes the error object for the trampoline to raise.
    func push(on L: OpaquePointer) {
        switch self {
        case .message(let m): lua_pushlstring(L, m, m.utf8.count)
        case .object(let o): o.push(on: L)
        }
    }

    /// Pops the error object at the stack top into a LuaError.
    static func fromStack(_ L: OpaquePointer, status: Int32) -> LuaError {
        .object(LuaErrorObject(L, status: status))
    }
}

/// An error value held in the Lua registry (released on deinit, when the VM is still alive).
public final class LuaErrorObject {
    let life: LuaLife
    let ref: Int32
    public let status: Int32
    public let text: String
    public let value: LuaValue

    init(_ L: OpaquePointer, status: Int32) {
        life = LuaVM.from(L).life
        self.status = status
        value = LuaValue(L, at: -1)
        var len = 0
        if lua_type(L, -1) == LUA_TSTRING, let p = lua_tolstring(L, -1, &len) {
            text = String(decoding: UnsafeRawBufferPointer(start: p, count: len), as: UTF8.self)
        } else if tide_tostring(L, -1) == LUA_OK, let p = lua_tolstring(L, -1, &len) {
            text = String(decoding: UnsafeRawBufferPointer(start: p, count: len), as: UTF8.self)
            tide_pop(L, 1)
        } else {
            tide_pop(L, 1)
            text = "(error object is a \(String(cString: tide_typename_at(L, -1))) value)"
        }
        ref = tide_ref(L)  // pops the object
    }

    func push(on L: OpaquePointer) { tide_getref(L, ref) }

    deinit { if life.alive { tide_unref(life.L, ref) } }
}
