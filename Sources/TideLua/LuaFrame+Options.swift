// LuaFrame+Options: reading the fields of a trailing options table, one reader per kind, for
// every binding (before, tt, irs, qst, linalg, conv, nn and optim each kept their own copies).
//
//     let o = try f.options(3)                                    // nil when absent
//     try f.checkOptionKeys(o, ["ranks", "eps"])                  // typos are errors
//     let eps = try f.numberOption(o, "eps")                      // Double? (nil: not given)
//     let iters = try f.intOption(o, "iters") ?? 200
//     let method: RecoveryOptions.Method = try f.choiceOption(o, "method") ?? .psubgm
//     let lr = try f.optField(o, "lr", 1e-3)                      // with a default
//
// Every reader returns nil when there is no table (o == nil) or the field is nil, and throws
// "<fn>: option 'key' must be <kind>, got <type>" when the field holds something else; fn is
// the binding's name unless given (tt and irs pass their full "tide.tt.x" names). Fields are
// read raw (no metamethods) and popped before returning.
import CLua
import _CTideShims
import TideCore

extension LuaFrame {
    /// Runs `read` with field `key` of the table at `o` on top of the stack (its Lua type as
    /// the argument); nil when o is nil or the field is nil.
    private func withOption<T>(_ o: Int32?, _ key: String, _ read: (Int32) throws -> T) throws -> T? {
        guard let o = o else { return nil }
        defer { tide_pop(L, 1) }
        let t = pushField(o, key)
        if t == LUA_TNIL { return nil }
        return try read(t)
    }

    /// The error for the field on top of the stack not being `expected`.
    private func optionError(_ fn: String?, _ key: String, _ expected: String) -> LuaError {
        .message("\(fn ?? name): option '\(key)' must be \(expected), got \(typeName(-1))")
    }

    /// A number (or a numeric string, as Lua converts it).
    public func numberOption(_ o: Int32?, _ key: String, fn: String? = nil) throws -> Double? {
        try withOption(o, key) { _ in
            var ok: Int32 = 0
            let v = lua_tonumberx(L, -1, &ok)
            guard ok != 0 else { throw optionError(fn, key, "a number") }
            return v
        }
    }

    /// A Lua integer or an integral float.
    public func intOption(_ o: Int32?, _ key: String, fn: String? = nil) throws -> Int? {
        try withOption(o, key) { _ in
            var ok: Int32 = 0
            let v = lua_tointegerx(L, -1, &ok)
            guard ok != 0 else { throw optionError(fn, key, "an integer") }
            return Int(v)
        }
    }

    /// A string (numbers are not accepted).
    public func stringOption(_ o: Int32?, _ key: String, fn: String? = nil) throws -> String? {
        try withOption(o, key) { t in
            guard t == LUA_TSTRING else { throw optionError(fn, key, "a string") }
            return try string(-1)
        }
    }

    /// A boolean (not Lua truthiness: 0 or "no" are errors; see optField(_:_:_: Bool)).
    public func boolOption(_ o: Int32?, _ key: String, fn: String? = nil) throws -> Bool? {
        try withOption(o, key) { t in
            guard t == LUA_TBOOLEAN else { throw optionError(fn, key, "a boolean") }
            return lua_toboolean(L, -1) != 0
        }
    }

    public func tensorOption(_ o: Int32?, _ key: String, fn: String? = nil) throws -> Tensor? {
        try withOption(o, key) { _ in
            guard let t = TensorUserdata.tensor(L, at: -1) else { throw optionError(fn, key, "a tensor") }
            return t
        }
    }

    /// A string that must be one of `allowed`.
    public func choiceOption(_ o: Int32?, _ key: String, _ allowed: [String], fn: String? = nil) throws -> String? {
        guard let s = try stringOption(o, key, fn: fn) else { return nil }
        guard allowed.contains(s) else {
            throw LuaError.message("\(fn ?? name): option '\(key)' must be one of \(allowed.map { "'\($0)'" }.joined(separator: ", ")), got '\(s)'")
        }
        return s
    }

    /// A string naming a case of E (its raw value).
    public func choiceOption<E: RawRepresentable & CaseIterable>(_ o: Int32?, _ key: String, fn: String? = nil) throws -> E?
    where E.RawValue == String {
        try choiceOption(o, key, E.allCases.map(\.rawValue), fn: fn).flatMap(E.init(rawValue:))
    }

    /// Rejects keys of the table at o outside `allowed` (a typo would otherwise be ignored) and
    /// positional entries; the message lists `allowed` in the order given.
    public func checkOptionKeys(_ o: Int32?, _ allowed: [String], fn: String? = nil) throws {
        guard let o = o else { return }
        let expected = allowed.joined(separator: ", ")
        lua_pushnil(L)
        while lua_next(L, o) != 0 {
            tide_pop(L, 1)
            guard lua_type(L, -1) == LUA_TSTRING else {
                let what = typeName(-1)
                tide_pop(L, 1)
                throw LuaError.message("\(fn ?? name): options must be named (expected \(expected)), got a \(what) key")
            }
            let key = try string(-1)
            if !allowed.contains(key) {
                tide_pop(L, 1)
                if allowed.isEmpty { throw LuaError.message("\(fn ?? name): takes no options here, got '\(key)'") }
                throw LuaError.message("\(fn ?? name): unknown option '\(key)' (expected \(expected))")
            }
        }
    }

    /// checkOptionKeys with the allowed keys listed alphabetically.
    public func checkOptionKeys(_ o: Int32?, _ allowed: Set<String>, fn: String? = nil) throws {
        try checkOptionKeys(o, allowed.sorted(), fn: fn)
    }

    // MARK: with defaults

    /// Option `key` of the table at `o` as a number, or `def` when absent.
    public func optField(_ o: Int32?, _ key: String, _ def: Double) throws -> Double {
        try numberOption(o, key) ?? def
    }

    /// Option `key` as an integer (Lua integer or integral float), or `def` when absent.
    public func optIntField(_ o: Int32?, _ key: String, _ def: Int) throws -> Int {
        try intOption(o, key) ?? def
    }

    /// Option `key` by Lua truthiness (any value but nil and false is true), or `def` when absent.
    public func optField(_ o: Int32?, _ key: String, _ def: Bool) -> Bool {
        guard let o = o else { return def }
        defer { tide_pop(L, 1) }
        let t = pushField(o, key)
        if t == LUA_TNIL { return def }
        return lua_toboolean(L, -1) != 0
    }
}
