// IOBindings: tide.io, files in NumPy's and Hugging Face's formats, and CSV.
//
//     tide.io.save("x.npy", x)                       -- one tensor, any dtype
//     local y = tide.io.load("x.npy")                -- C or Fortran order
//     tide.io.save("m.npz", {w = w, b = b}, {compressed = true})
//     local t = tide.io.load("m.npz")                -- {w = ..., b = ...}
//     tide.io.save("m.safetensors", {w = w}, {metadata = {step = "10"}})
//     local ts, meta = tide.io.load("m.safetensors")
//     tide.io.save("x.csv", x, {header = {"a", "b"}}); tide.io.load("x.csv", {skip_header = 1})
//
// The format comes from the extension, or from {format = "npy" | "npz" | "safetensors" | "csv"}.
// Every write is atomic (temporary file, then rename).
import CLua
import _CTideShims
import TideCore

enum IOBindings {
    static func format(_ f: LuaFrame, path: String, opts: Int32?) throws -> String {
        if let o = opts {
            defer { tide_pop(f.L, 1) }
            if f.pushField(o, "format") == LUA_TSTRING { return try f.string(-1) }
        }
        for ext in ["npy", "npz", "safetensors", "csv"] where path.hasSuffix("." + ext) { return ext }
        throw LuaError.message("\(f.name): cannot tell the format of '\(path)': expected a .npy, .npz, .safetensors or .csv path, or {format = ...}")
    }

    /// {name = tensor, ...} at argument i, in name order.
    static func namedTensors(_ f: LuaFrame, _ i: Int32) throws -> [(String, Tensor)] {
        let t = try f.table(i)
        var out: [(String, Tensor)] = []
        lua_pushnil(f.L)
        while lua_next(f.L, t) != 0 {
            defer { tide_pop(f.L, 1) }
            guard lua_type(f.L, -2) == LUA_TSTRING else { throw f.argError(i, "keys must be strings (tensor names), got \(f.typeName(-2))") }
            var len = 0
            let k = String(decoding: UnsafeRawBufferPointer(start: lua_tolstring(f.L, -2, &len), count: len), as: UTF8.self)
            guard let x = TensorUserdata.tensor(f.L, at: -1) else { throw f.argError(i, "'\(k)' must be a tensor, got \(f.typeName(-1))") }
            out.append((k, x))
        }
        return out.sorted { $0.0 < $1.0 }
    }

    /// opts.delimiter: one character (NumPy refuses longer ones), or "," when absent.
    static func delimiter(_ f: LuaFrame, _ o: Int32?) throws -> Character {
        guard let o = o else { return "," }
        defer { tide_pop(f.L, 1) }
        let t = f.pushField(o, "delimiter")
        if t == LUA_TNIL { return "," }
        let text = t == LUA_TSTRING ? try f.string(-1) : nil
        guard let text, text.count == 1, let c = text.first, c != "\n", c != "\"" else {
            throw LuaError.message("\(f.name): option 'delimiter' must be one character other than a quote or a line break, got \(text.map { "'\($0)'" } ?? f.typeName(-1))")
        }
        return c
    }

    /// opts[key] as a strict boolean (true/false), or `def` when absent.
    static func flag(_ f: LuaFrame, _ o: Int32?, _ key: String, _ def: Bool) throws -> Bool {
        guard let o = o else { return def }
        defer { tide_pop(f.L, 1) }
        let t = f.pushField(o, key)
        if t == LUA_TNIL { return def }
        guard t == LUA_TBOOLEAN else { throw LuaError.message("\(f.name): option '\(key)' must be a boolean, got \(f.typeName(-1))") }
        return f.boolean(-1)
    }

    static func stringTable(_ f: LuaFrame, _ o: Int32?, _ key: String) throws -> [String: String] {
        guard let o = o else { return [:] }
        defer { tide_pop(f.L, 1) }
        let kind = f.pushField(o, key)
        if kind == LUA_TNIL { return [:] }
        guard kind == LUA_TTABLE else { throw LuaError.message("\(f.name): option '\(key)' must be a table of strings, got \(f.typeName(-1))") }
        let t = lua_gettop(f.L)
        var out: [String: String] = [:]
        lua_pushnil(f.L)
        while lua_next(f.L, t) != 0 {
            defer { tide_pop(f.L, 1) }
            guard lua_type(f.L, -2) == LUA_TSTRING, lua_type(f.L, -1) == LUA_TSTRING || lua_type(f.L, -1) == LUA_TNUMBER else {
                throw LuaError.message("\(f.name): option '\(key)' must map strings to strings")
            }
            var a = 0, b = 0
            let k = String(decoding: UnsafeRawBufferPointer(start: lua_tolstring(f.L, -2, &a), count: a), as: UTF8.self)
            lua_pushvalue(f.L, -1)  // convert a copy, never the key lua_next needs
            let v = String(decoding: UnsafeRawBufferPointer(start: lua_tolstring(f.L, -1, &b), count: b), as: UTF8.self)
            tide_pop(f.L, 1)
            out[k] = v
        }
        return out
    }

    static func stringList(_ f: LuaFrame, _ o: Int32?, _ key: String) throws -> [String]? {
        guard let o = o else { return nil }
        defer { tide_pop(f.L, 1) }
        guard f.pushField(o, key) == LUA_TTABLE else { return nil }
        let t = lua_gettop(f.L)
        return try (0 ..< Int(lua_rawlen(f.L, t))).map { k in
            lua_rawgeti(f.L, t, lua_Integer(k + 1))
            defer { tide_pop(f.L, 1) }
            return try f.string(-1)
        }
    }

    static func pushNamed(_ f: LuaFrame, _ items: [(String, Tensor)]) {
        lua_createtable(f.L, 0, Int32(items.count))
        for (k, t) in items { f.push(k); f.push(t); lua_rawset(f.L, -3) }
    }

    static func save(_ f: LuaFrame, fmt forced: String?) throws -> Int32 {
        let path = try f.string(1)
        let opts = try f.options(3)
        let fmt = try forced ?? format(f, path: path, opts: opts)
        let op = f.name
        // a misspelt option would otherwise be ignored
        let allowed = ["npy": [], "npz": ["compressed"], "safetensors": ["metadata"], "csv": ["delimiter", "header"]][fmt] ?? []
        try f.checkOptionKeys(opts, (forced == nil ? ["format"] : []) + allowed)
        switch fmt {
        case "npy": try FileBytes.writeAtomically(path, NPY.encode(f.tensor(2)), op: op)
        case "npz": try FileBytes.writeAtomically(path, NPZ.encode(namedTensors(f, 2), compressed: flag(f, opts, "compressed", false)), op: op)
        case "safetensors": try FileBytes.writeAtomically(path, SafeTensors.encode(namedTensors(f, 2), metadata: stringTable(f, opts, "metadata")), op: op)
        case "csv":
            let delim = try delimiter(f, opts)
            try FileBytes.writeAtomically(path, CSV.encode(f.tensor(2), delimiter: String(delim), header: stringList(f, opts, "header")), op: op)
        default: throw f.argError(3, "unknown format '\(fmt)' (expected npy, npz, safetensors or csv)")
        }
        return 0
    }

    static func load(_ f: LuaFrame, fmt forced: String?) throws -> Int32 {
        let path = try f.string(1)
        let opts = try f.options(2)
        let fmt = try forced ?? format(f, path: path, opts: opts)
        let op = f.name
        try f.checkOptionKeys(opts, (forced == nil ? ["format"] : []) + (fmt == "csv" ? ["delimiter", "skip_header", "dtype"] : []))
        let bytes = try FileBytes.read(path, op: op)
        switch fmt {
        case "npy": f.push(try NPY.decode(bytes, file: path, op: op)); return 1
        case "npz": pushNamed(f, try NPZ.decode(bytes, file: path, op: op)); return 1
        case "safetensors":
            let (items, meta) = try SafeTensors.decode(bytes, file: path, op: op)
            pushNamed(f, items)
            f.push(.table(Dictionary(uniqueKeysWithValues: meta.map { (LuaValue.string($0.key), LuaValue.string($0.value)) })))
            return 2
        case "csv":
            let delim = try delimiter(f, opts)
            let skip = try f.optIntField(opts, "skip_header", 0)
            f.push(try CSV.decode(bytes, file: path, delimiter: delim, skipHeader: skip, dtype: f.dtypeOption(2, default: .f64)))
            return 1
        default: throw f.argError(2, "unknown format '\(fmt)' (expected npy, npz, safetensors or csv)")
        }
    }

    static func open(_ vm: LuaVM, _ tide: Int32) {
        let io = vm.subtable(tide, "io", "tide.io: save/load tensors as .npy, .npz, .safetensors and CSV (atomic writes; the format comes from the extension).")
        vm.def(io, "save", "tide.io.save(path, value [, opts]): .npy (a tensor), .npz ({name = tensor}; opts.compressed), .safetensors ({name = tensor}; opts.metadata = {k = 'v'}), .csv (1-d/2-d; opts.delimiter, opts.header). Atomic.") { f in try save(f, fmt: nil) }
        vm.def(io, "load", "tide.io.load(path [, opts]) -> a tensor (.npy, .csv: opts.skip_header, opts.delimiter, opts.dtype), a {name = tensor} table (.npz), or tensors, metadata (.safetensors).") { f in try load(f, fmt: nil) }
        for fmt in ["npy", "npz", "safetensors", "csv"] {
            vm.def(io, "save_" + fmt, "tide.io.save_\(fmt)(path, value [, opts]): like tide.io.save with format \(fmt).") { f in try save(f, fmt: fmt) }
            vm.def(io, "load_" + fmt, "tide.io.load_\(fmt)(path [, opts]): like tide.io.load with format \(fmt).") { f in try load(f, fmt: fmt) }
        }
        lua_settop(vm.L, io - 1)
    }
}
