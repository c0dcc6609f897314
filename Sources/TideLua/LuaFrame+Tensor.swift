// LuaFrame+Tensor: argument conventions shared by every tensor binding.
//
//   sizes:   tide.zeros(2, 3) or tide.zeros{2, 3}; then an options table or a dtype string
//   dims:    1-based, negatives from the end; converted to 0-based here and only here
//   values:  a tensor, or a Lua number / boolean (a "weak" scalar)
import CLua
import _CTideShims
import TideCore

/// Converts a 1-based Lua index (negatives from the end) into a 0-based one, or throws
/// "index 5 out of range for dim 1 of size 4".
public func luaIndex(_ i: Int, size: Int, dim: Int, op: String) throws -> Int {
    let r = i < 0 ? size + i : i - 1
    guard i != 0, r >= 0, r < size else {
        throw LuaError.message("\(op): index \(i) out of range for dim \(dim + 1) of size \(size)")
    }
    return r
}

/// The ops that, as in PyTorch, take dim 1 or -1 on a 0-d tensor and treat it as one element
/// along that dim (`x:sum(1)`, `x:softmax(-1)`, `x:gather(1, i)` on a 0-d x). Every other op
/// refuses a dim on a 0-d tensor here, before its binding can index the missing dim
/// (`x:size(1)`, `x:narrow(1, ...)`, `x:chunk(2)`, `tide.cat`).
let scalarDimOps: Set<String> = [
    "sum", "mean", "prod", "amax", "amin", "any", "all", "count_nonzero", "var", "std", "norm",
    "max", "min", "argmax", "argmin", "logsumexp", "softmax", "log_softmax", "cumsum", "cumprod",
    "sort", "argsort", "topk", "flip", "roll", "squeeze", "transpose", "flatten",
    "gather", "scatter", "scatter_", "scatter_add", "scatter_add_", "index_select",
]

/// Converts a 1-based Lua dim (negatives from the end) for a tensor of rank `rank` into a
/// 0-based dim. `extra` allows one more position (unsqueeze, stack).
public func luaDim(_ d: Int, rank: Int, op: String, extra: Int = 0) throws -> Int {
    let n = rank + extra
    if n == 0 {
        guard scalarDimOps.contains(op) else {
            throw LuaError.message("\(op): expected a tensor with at least 1 dim, got a 0-d tensor")
        }
        guard d == 1 || d == -1 else {
            throw LuaError.message("\(op): dim \(d) out of range (expected 1 or -1 for a 0-d tensor)")
        }
        return 0
    }
    let r = d < 0 ? n + d : d - 1
    guard d != 0, r >= 0, r < n else {
        throw LuaError.message("\(op): dim \(d) out of range (expected 1 to \(n) or -\(n) to -1 for a \(rank)-d tensor)")
    }
    return r
}

extension LuaFrame {
    /// A 0-d i64 tensor holding the Lua integer at i exactly, when `dtype` is i64 (a Double
    /// on the way would round integers beyond 2^53); nil for any other value or dtype.
    public func exactInteger(_ i: Int32, dtype: DType) -> Tensor? {
        guard dtype == .i64, lua_type(L, i) == LUA_TNUMBER, tide_isinteger(L, i) != 0 else { return nil }
        return try? Tensor(int64s: [Int64(lua_tointegerx(L, i, nil))], shape: [])
    }

    /// Reads sizes starting at argument `i`: numbers, or one table of numbers. Returns the
    /// sizes and the index of the first argument after them.
    public func sizes(from i: Int32, allowEmpty: Bool = true) throws -> ([Int], Int32) {
        if type(i) == LUA_TTABLE && !isOptionsTable(i) {
            let t = lua_absindex(L, i)
            let n = Int(lua_rawlen(L, t))
            var out: [Int] = []
            for k in 1 ... max(n, 1) where n > 0 {
                lua_rawgeti(L, t, lua_Integer(k))
                defer { tide_pop(L, 1) }
                var ok: Int32 = 0
                let v = lua_tointegerx(L, -1, &ok)
                guard ok != 0 else {
                    if lua_type(L, -1) == LUA_TNUMBER { throw argError(i, "size \(k) has no integer representation") }
                    throw argError(i, "number expected, got \(typeName(-1))")
                }
                guard v >= 0 else { throw argError(i, "size \(k) must be non-negative, got \(v)") }
                out.append(Int(v))
            }
            return (out, i + 1)
        }
        if type(i) == LUA_TUSERDATA, let t = TensorUserdata.tensor(L, at: i), t.dim <= 1, t.dtype == .i64 {
            // a 1-d i64 tensor of sizes
            let c = try t.contiguous()
            let sizes = (0 ..< c.numel).map { Int(c.pointer(Int64.self)[$0]) }
            guard sizes.allSatisfy({ $0 >= 0 }) else { throw argError(i, "sizes must be non-negative, got \(sizes)") }
            return (sizes, i + 1)
        }
        var out: [Int] = []
        var k = i
        while type(k) == LUA_TNUMBER {
            let v = try integer(k)
            guard v >= 0 else { throw argError(k, "size must be non-negative, got \(v)") }
            out.append(v)
            k += 1
        }
        let t = type(k)
        if out.isEmpty && !(t == LUA_TNONE || t == LUA_TNIL || t == LUA_TSTRING || t == LUA_TTABLE) {
            throw typeError(k, "number")
        }
        if out.isEmpty && !allowEmpty { throw typeError(i, "number") }
        return (out, k)
    }

    /// A table whose keys are not all array indices is an options table.
    public func isOptionsTable(_ i: Int32) -> Bool {
        guard type(i) == LUA_TTABLE else { return false }
        let t = lua_absindex(L, i)
        lua_pushnil(L)
        while lua_next(L, t) != 0 {
            let isString = lua_type(L, -2) == LUA_TSTRING
            tide_pop(L, 1)  // keep the key for lua_next
            if isString { tide_pop(L, 1); return true }
        }
        return false
    }

    /// An options table at `i` (nil/none is fine). Returns its absolute index or nil.
    public func options(_ i: Int32) throws -> Int32? {
        if isNoneOrNil(i) { return nil }
        guard type(i) == LUA_TTABLE else { throw typeError(i, "options table") }
        return lua_absindex(L, i)
    }

    /// Reads the dtype from a trailing options table (`{dtype = "f64"}`) or dtype string.
    public func dtypeOption(_ i: Int32, default def: DType) throws -> DType {
        if type(i) == LUA_TSTRING { return try parseDType(string(i), arg: i) }
        guard let o = try options(i) else { return def }
        defer { tide_pop(L, 1) }
        if pushField(o, "dtype") == LUA_TNIL { return def }
        guard lua_type(L, -1) == LUA_TSTRING else { throw argError(i, "dtype must be a string, got \(typeName(-1))") }
        return try parseDType(string(-1), arg: i)
    }

    /// The dtype of a creation function (tide.zeros, tide.randn, ...) from its trailing
    /// options table or dtype string at `i`; the table's keys must be dtype, requires_grad or
    /// one of `extra`.
    public func creationDType(_ i: Int32, default def: DType?, extra: [String] = []) throws -> DType? {
        if type(i) == LUA_TTABLE { try checkOptionKeys(lua_absindex(L, i), ["dtype", "requires_grad"] + extra) }
        if let def { return try dtypeOption(i, default: def) }
        return hasDType(i) ? try dtypeOption(i, default: .f32) : nil
    }

    /// Whether the options table at i names a dtype.
    func hasDType(_ i: Int32) -> Bool {
        guard type(i) == LUA_TTABLE else { return type(i) == LUA_TSTRING }
        defer { tide_pop(L, 1) }
        return pushField(lua_absindex(L, i), "dtype") != LUA_TNIL
    }

    /// Pushes a newly created tensor, recording gradients when the options table at `i` says
    /// requires_grad = true (torch.zeros(..., requires_grad=True)).
    public func pushCreated(_ t: Tensor, options i: Int32) throws {
        if type(i) == LUA_TTABLE {
            let o = lua_absindex(L, i)
            if pushField(o, "requires_grad") != LUA_TNIL {
                defer { tide_pop(L, 1) }
                guard lua_type(L, -1) == LUA_TBOOLEAN else { throw argError(i, "requires_grad must be a boolean, got \(typeName(-1))") }
                if lua_toboolean(L, -1) != 0 { try t.requiresGrad_(true) }
            } else { tide_pop(L, 1) }
        }
        push(t)
    }

    func parseDType(_ s: String, arg: Int32) throws -> DType {
        guard let d = DType.parse(s) else {
            throw argError(arg, "unknown dtype '\(s)' (expected f32, f64, i64, bool, c64 or c128)")
        }
        return d
    }

    /// Converts the value at `i` to a tensor: tensors pass through; numbers, booleans and
    /// nested tables become new tensors.
    public func tensorLike(_ i: Int32, dtype: DType? = nil) throws -> Tensor {
        switch type(i) {
        case LUA_TUSERDATA:
            let t = try tensor(i)
            return try dtype.map { try t.to($0) } ?? t
        case LUA_TNUMBER:
            let v = try number(i)
            let d = dtype ?? (tide_isinteger(L, i) != 0 ? .i64 : .f32)
            return try Tensor.scalar(v, dtype: d)
        case LUA_TBOOLEAN:
            return try Tensor.scalar(boolean(i) ? 1 : 0, dtype: dtype ?? .bool)
        case LUA_TTABLE:
            return try nestedTable(i, dtype: dtype)
        default:
            throw typeError(i, "tensor, number or table")
        }
    }

    /// tide.tensor{{1, 2}, {3, 4}}: infers the shape; dtype from the values when not given
    /// (all integers -> i64, any float -> f32, all booleans -> bool), as torch.tensor does.
    public func nestedTable(_ i: Int32, dtype: DType?) throws -> Tensor {
        var shape: [Int] = []
        var values: [Double] = []
        var ints: [Int64] = []      // exact integers (a Double holds only 53 bits)
        var exactInts = true
        // the dtype the elements promote to: Lua integers count as i64, floats as f32,
        // booleans as bool, tensors as their own dtype (an f64 tensor keeps the result f64)
        var seen: DType? = nil
        func see(_ d: DType) { seen = seen.map { DType.promote($0, d) } ?? d }
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        // what the elements at each depth are (1 table, 2 number or boolean, 3 tensor): one
        // kind per depth, so {1, {2}} is ragged even though its count would fit a shape
        var kinds: [Int] = []
        func same(_ kind: Int, _ depth: Int, _ k: Int) throws {
            if depth == kinds.count { kinds.append(kind); return }
            if kinds[depth] != kind {
                let one = ["", "a table", "a number", "a tensor"], many = ["", "tables", "numbers", "tensors"]
                throw argError(i, "ragged nested table: \(one[kind]) at position \(k) of depth \(depth + 1) where the others are \(many[kinds[depth]])")
            }
        }
        func walk(_ t: Int32, depth: Int) throws {
            // (deeper tables would exhaust the C stack before any shape check)
            guard depth < Tensor.maxDims else { throw argError(i, "nested table deeper than \(Tensor.maxDims) levels (a tensor has at most \(Tensor.maxDims) dims)") }
            guard lua_checkstack(L, 4) != 0 else { throw argError(i, "nested table too deep") }
            let n = Int(lua_rawlen(L, t))
            if depth == shape.count { shape.append(n) } else if shape[depth] != n {
                throw argError(i, "ragged nested table: dim \(depth + 1) has sizes \(shape[depth]) and \(n)")
            }
            for k in 1 ... max(n, 1) where n > 0 {
                let ty = lua_rawgeti(L, t, lua_Integer(k))
                switch ty {
                case LUA_TTABLE:
                    try same(1, depth, k)
                    try walk(lua_gettop(L), depth: depth + 1)
                case LUA_TNUMBER:
                    try same(2, depth, k)
                    if tide_isinteger(L, -1) == 0 { see(.f32); exactInts = false } else { see(.i64); ints.append(Int64(lua_tointegerx(L, -1, nil))) }
                    values.append(lua_tonumberx(L, -1, nil))
                case LUA_TBOOLEAN:
                    try same(2, depth, k)
                    see(.bool)
                    values.append(lua_toboolean(L, -1) != 0 ? 1 : 0)
                    ints.append(lua_toboolean(L, -1) != 0 ? 1 : 0)
                case LUA_TUSERDATA:
                    guard let sub = TensorUserdata.tensor(L, at: -1) else { throw argError(i, "element \(k) is a \(typeName(-1))") }
                    guard !sub.dtype.isComplex else { throw argError(i, "complex tensors inside a table are not supported (element \(k) is \(sub.dtype.rawValue)); use tide.stack or tide.cat") }
                    // a 0-d tensor stands where a number would (torch.tensor([t, 2]))
                    try same(sub.dim == 0 ? 2 : 3, depth, k)
                    if sub.dim > 0 {
                        if depth + 1 == shape.count { shape.append(contentsOf: sub.shape) } else if Array(shape[(depth + 1)...]) != sub.shape {
                            throw argError(i, "ragged nested table: tensors of shapes \(shapeString(Array(shape[(depth + 1)...]))) and \(shapeString(sub.shape)) at depth \(depth + 1)")
                        }
                    }
                    see(sub.dtype)
                    values.append(contentsOf: try sub.toDoubles())
                    if sub.dtype.isIntegral { ints.append(contentsOf: try sub.toInt64s()) } else { exactInts = false }
                default:
                    throw argError(i, "tensor values must be numbers or booleans, got \(typeName(-1)) at position \(k)")
                }
                tide_pop(L, 1)
            }
        }
        try walk(lua_absindex(L, i), depth: 0)
        if values.isEmpty && shape == [0] { /* empty tensor */ }
        let d = dtype ?? seen ?? .f32
        if d == .i64 && exactInts && ints.count == values.count {
            let t = try Tensor(uninitialized: shape, dtype: .i64)
            guard t.numel == ints.count else { return try Tensor(array: values, shape: shape, dtype: d) }
            ints.withUnsafeBufferPointer { b in if let p = b.baseAddress { t.pointer(Int64.self).update(from: p, count: b.count) } }
            return t
        }
        if d == .i64, let bad = values.first(where: { !(abs($0) <= 9.223372036854775808e18) }) {
            throw argError(i, "cannot write \(bad) into an i64 tensor (expected finite values within the i64 range)")
        }
        return try Tensor(array: values, shape: shape, dtype: d)
    }
}
