// MathBindings: views, unary math, comparisons, reductions, matmul and random numbers.
//
//     x:reshape(2, -1), x:transpose(1, 2), x:permute(3, 1, 2), x:narrow(1, 2, 3), x:select(1, 2)
//     x:exp(), x:gelu(), x:gelu({approximate = "tanh"}), x:clamp(0, 1)
//     x:lt(y) -> bool;  tide.where(cond, a, b);  x:masked_fill(mask, v)
//     x:sum(), x:sum(2, {keepdim = true}), x:mean({1, 2}), x:max(2) -> values, indices (1-based)
//     tide.matmul(a, b), a:matmul(b)
//     tide.manual_seed(7); tide.randn(2, 3); tide.rand{4}; tide.randint(1, 7, {10})
//     local g = tide.Generator(1); tide.randn(3, {generator = g})
import CLua
import _CTideShims
import TideCore

enum MathBindings {
    /// Reads dims from argument i: a number or a table of numbers (1-based) or none.
    static func dims(_ f: LuaFrame, _ i: Int32, rank: Int, op: String) throws -> [Int]? {
        switch f.type(i) {
        case LUA_TNUMBER: return [try luaDim(f.integer(i), rank: rank, op: op)]
        case LUA_TTABLE where !f.isOptionsTable(i):
            let (ds, _) = try signedList(f, i)
            return try ds.map { try luaDim($0, rank: rank, op: op) }
        case LUA_TNONE, LUA_TNIL, LUA_TTABLE: return nil
        default: throw f.typeError(i, "dims (a number or a table)")  // x:sum('a') must not sum everything
        }
    }

    /// Dims from the options table's `dim` (torch's keyword: `x:sum({dim = 2})`), or nil.
    static func optionDims(_ f: LuaFrame, _ o: Int32?, rank: Int, op: String) throws -> [Int]? {
        guard let o else { return nil }
        defer { tide_pop(f.L, 1) }
        if f.pushField(o, "dim") == LUA_TNIL { return nil }
        guard let ds = try dims(f, -1, rank: rank, op: op) else { throw LuaError.message("\(op): option dim must be a dim or a table of dims") }
        return ds
    }

    /// Positional dims at i, else the options' `dim`; both given is an error.
    static func dimsEither(_ f: LuaFrame, _ i: Int32, _ o: Int32?, rank: Int, op: String) throws -> [Int]? {
        let positional = try dims(f, i, rank: rank, op: op)
        let named = try optionDims(f, o, rank: rank, op: op)
        if positional != nil && named != nil { throw LuaError.message("\(op): dim given twice (argument and {dim =})") }
        return positional ?? named
    }

    /// Integers from a table (negatives allowed), or from consecutive number arguments.
    static func signedList(_ f: LuaFrame, _ i: Int32) throws -> ([Int], Int32) {
        let L = f.L
        if f.type(i) == LUA_TTABLE {
            let t = lua_absindex(L, i)
            var out: [Int] = []
            for k in 1 ... max(Int(lua_rawlen(L, t)), 1) where lua_rawlen(L, t) > 0 {
                lua_rawgeti(L, t, lua_Integer(k))
                defer { tide_pop(L, 1) }
                var ok: Int32 = 0
                let v = lua_tointegerx(L, -1, &ok)
                guard ok != 0 else {
                    let what = lua_type(L, -1) == LUA_TNUMBER ? "\(lua_tonumberx(L, -1, nil)), which has no integer representation" : f.typeName(-1)
                    throw f.argError(i, "integers expected, got \(what) at entry \(k)")
                }
                out.append(Int(v))
            }
            return (out, i + 1)
        }
        var out: [Int] = []
        var k = i
        while f.type(k) == LUA_TNUMBER { out.append(try f.integer(k)); k += 1 }
        return (out, k)
    }

    /// The index of the trailing options table among args from i on, if any.
    static func optionsArg(_ f: LuaFrame, from i: Int32) -> Int32? {
        var k = i
        while k <= f.count {
            if f.isOptionsTable(k) { return k }
            k += 1
        }
        return nil
    }

    /// The trailing options table (optionsArg) with its keys checked against `allowed`: a
    /// misspelt or unsupported option is an error instead of being silently ignored.
    static func options(_ f: LuaFrame, from i: Int32, _ allowed: [String]) throws -> Int32? {
        let o = optionsArg(f, from: i)
        try f.checkOptionKeys(o, allowed)
        return o
    }

    /// keepdim from a positional boolean at `i` (PyTorch's x.sum(dim, keepdim)) or from option
    /// `keepdim` of the table at o (false when neither); both at once is an error.
    static func keepdim(_ f: LuaFrame, _ i: Int32, _ o: Int32?) throws -> Bool {
        guard let k = try f.optFlag(i, "keepdim") else { return f.optField(o, "keepdim", false) }
        if let o, f.pushField(o, "keepdim") != LUA_TNIL {
            tide_pop(f.L, 1)
            throw LuaError.message("\(f.name): keepdim given twice (argument #\(i - 1) and the options table)")
        } else if o != nil { tide_pop(f.L, 1) }
        return k
    }

    /// The dtype named by option `dtype` of the table at o, or nil.
    static func dtypeField(_ f: LuaFrame, _ o: Int32?) throws -> DType? {
        guard let o, let s = try f.stringOption(o, "dtype") else { return nil }
        return try f.parseDType(s, arg: o)
    }

    /// softplus(x; beta, threshold) = log(1 + exp(beta x)) / beta, and x itself where
    /// beta x > threshold (PyTorch's definition; beta = 1, threshold = 20 by default).
    static func softplus(_ x: Tensor, beta: Double, threshold: Double) throws -> Tensor {
        guard beta != 0, beta.isFinite else { throw TensorError("softplus: expected a finite nonzero beta, got \(beta)") }
        let bx = try Tensor.binary(.mul, x, Tensor.scalar(beta, dtype: x.dtype))
        let y = try Tensor.binary(.div, bx.unary(.softplus), Tensor.scalar(beta, dtype: x.dtype))
        return try Tensor.where(Tensor.compare(.gt, bx, Tensor.scalar(threshold, dtype: x.dtype)), x, y)
    }

    /// x rounded to `decimals` digits after the point (negative: before), half to even, as
    /// round(x * 10^d) / 10^d (PyTorch's definition).
    static func round(_ x: Tensor, decimals d: Int) throws -> Tensor {
        if d < 0 && (x.dtype == .i64 || x.dtype == .bool) { return try roundInteger(x.to(.i64), decimals: d) }
        if d == 0 || !x.dtype.isFloatingPoint { return try x.unary(.round) }
        var p10 = 1.0
        for _ in 0 ..< Swift.abs(d) { p10 *= 10 }
        let scale = try Tensor.scalar(d < 0 ? 1 / p10 : p10, dtype: x.dtype)
        return try Tensor.binary(.div, Tensor.binary(.mul, x, scale).unary(.round), scale)
    }

    /// Integers rounded to a multiple of 10^-d (d < 0), half to even, exactly (NumPy's
    /// np.round(int_array, d)): 25 -> 20, 35 -> 40, -15 -> -20. Past 10^18 every value rounds to 0.
    static func roundInteger(_ x: Tensor, decimals d: Int) throws -> Tensor {
        guard d >= -18 else { return try Tensor.zeros(x.shape, dtype: .i64) }
        var p: Int64 = 1
        for _ in 0 ..< -d { p *= 10 }
        let src = try x.contiguous(), out = try Tensor(uninitialized: x.shape, dtype: .i64)
        let a = src.pointer(Int64.self), o = out.pointer(Int64.self)
        for i in 0 ..< x.numel {
            let v = a[i]
            var q = v / p, r = v % p          // truncated; no overflow (p >= 10)
            if r < 0 { q -= 1; r += p }        // floor: 0 <= r < p
            if 2 * r > p || (2 * r == p && q & 1 != 0) { q += 1 }
            o[i] = q &* p                      // wraps like NumPy near Int64's ends
        }
        return out
    }

    /// x limited to [lo, hi]; each bound a number, a tensor (broadcast) or nil.
    static func clamp(_ f: LuaFrame, _ x: Tensor, _ lo: Int32, _ hi: Int32) throws -> Tensor {
        let tl = f.type(lo) == LUA_TUSERDATA, th = f.type(hi) == LUA_TUSERDATA
        // An integer tensor's number bounds go the operators' way (as x + b): a Lua integer
        // stays exact (a double would round maxinteger up, out of the i64 range), a Lua float
        // promotes the result to f32 as in torch (clamp(0, 2.5) and clamp(0.0, 2.5) agree).
        let integral = x.dtype == .i64 || x.dtype == .bool
        if !tl && !th && !integral {
            return try x.clamp(min: f.isNoneOrNil(lo) ? nil : f.number(lo), max: f.isNoneOrNil(hi) ? nil : f.number(hi))
        }
        for i in [lo, hi] where !f.isNoneOrNil(i) && f.type(i) != LUA_TUSERDATA && f.type(i) != LUA_TNUMBER {
            throw f.typeError(i, "number or tensor")
        }
        let r = x
        let bounds = try [lo, hi].filter { f.type($0) == LUA_TUSERDATA }.map { try f.tensor($0) }
        if x.dtype.isComplex || bounds.contains(where: { $0.dtype.isComplex }) {
            // named here: maximum / minimum below would name themselves
            throw TensorError("clamp: complex tensors have no order (got \(([x] + bounds).map { $0.dtype.rawValue }.joined(separator: " and ")))")
        }
        let l = f.isNoneOrNil(lo) ? nil : try ArithmeticBindings.operand(f, lo, other: r)
        let h = f.isNoneOrNil(hi) ? nil : try ArithmeticBindings.operand(f, hi, other: r)
        return try Tensor.clamp(r, min: l, max: h)
    }

    /// clamp's arguments from `i` on: (min, max) positionally or {min =, max =}.
    static func clampArgs(_ f: LuaFrame, _ x: Tensor, from i: Int32) throws -> Tensor {
        if f.isOptionsTable(i) {
            // the bounds go to the stack slots after the table, where clamp reads arguments
            try f.checkOptionKeys(i, ["min", "max"])
            lua_settop(f.L, i)
            f.pushField(i, "min"); f.pushField(i, "max")
            return try clamp(f, x, i + 1, i + 2)
        }
        guard !(f.isNoneOrNil(i) && f.isNoneOrNil(i + 1)) else {
            throw LuaError.message("\(f.name): expected at least one of min and max, got neither")
        }
        return try clamp(f, x, i, i + 1)
    }

    static func generator(_ f: LuaFrame, _ o: Int32?) throws -> Generator {
        guard let o = o else { return .global }
        defer { tide_pop(f.L, 1) }
        if f.pushField(o, "generator") == LUA_TNIL { return .global }
        guard let g = GeneratorUserdata.generator(f.L, -1) else {
            throw LuaError.message("\(f.name): option 'generator' must be a tide.Generator, got \(f.typeName(-1))")
        }
        return g
    }

    static func open(_ vm: LuaVM, methods m: Int32, tide: Int32) {
        // ---- views
        vm.def(m, "reshape", "x:reshape(sizes...) -> a view when the layout allows, else a copy; one size may be -1.") { f in
            let t = try f.tensor(1)
            let (s, _) = try signedList(f, 2)
            f.push(try t.reshaped(s)); return 1
        }
        vm.def(m, "view", "x:view(sizes...) -> a view with a new shape; errors when the strides cannot express it.") { f in
            let t = try f.tensor(1)
            let (s, _) = try signedList(f, 2)
            f.push(try t.viewAs(s)); return 1
        }
        vm.def(m, "transpose", "x:transpose(d1, d2) -> a view with dims d1 and d2 swapped.", maxArgs: 3) { f in
            let t = try f.tensor(1)
            f.push(try t.transposed(luaDim(f.integer(2), rank: t.dim, op: "transpose"), luaDim(f.integer(3), rank: t.dim, op: "transpose")))
            return 1
        }
        vm.def(m, "t", "x:t() -> the transpose of a 2-d tensor (0-d and 1-d unchanged).", maxArgs: 1) { f in f.push(try f.tensor(1).t()); return 1 }
        vm.def(m, "permute", "x:permute(d...) -> a view with dims reordered.") { f in
            let t = try f.tensor(1)
            let (s, _) = try signedList(f, 2)
            f.push(try t.permuted(s.map { try luaDim($0, rank: t.dim, op: "permute") })); return 1
        }
        vm.def(m, "narrow", "x:narrow(dim, start, length) -> elements start..start+length-1 of dim (a view).", maxArgs: 4) { f in
            let t = try f.tensor(1)
            let d = try luaDim(f.integer(2), rank: t.dim, op: "narrow")
            // 1-based start; size + 1 is allowed for an empty narrow at the end (torch's start ==
            // size) and negatives count from the end (-1 is the last element)
            let size = t.shape[d], s = try f.integer(3)
            let start = s < 0 ? size + s : s - 1
            guard s != 0, start >= 0, start <= size else {
                let allowed = size == 0 ? "1" : "1 to \(size + 1) or -\(size) to -1"
                throw LuaError.message("narrow: start \(s) out of range for dim \(d + 1) of size \(size) (expected \(allowed))")
            }
            f.push(try t.narrow(d, start, f.integer(4))); return 1
        }
        vm.def(m, "unfold", "x:unfold(dim, size, step) -> windows of `size` along dim, `step` apart, as a new last dim (a view).", maxArgs: 4) { f in
            let t = try f.tensor(1)
            let d = try luaDim(f.integer(2), rank: Swift.max(t.dim, 1), op: "unfold")
            f.push(try t.unfold(d, size: f.integer(3), step: f.integer(4))); return 1
        }
        vm.def(m, "as_strided", "x:as_strided(size, stride [, storage_offset]) -> a view of x's storage with that geometry (storage_offset in elements, 0-based as torch; default x's own).", maxArgs: 4) { f in
            let t = try f.tensor(1)
            let (size, _) = try signedList(f, 2)
            let (stride, _) = try signedList(f, 3)
            f.push(try t.asStrided(size, stride, offset: f.isNoneOrNil(4) ? nil : f.integer(4))); return 1
        }
        vm.def(m, "stride", "x:stride([dim]) -> the strides (in elements) as a table, or dim's stride.", maxArgs: 2) { f in
            let t = try f.tensor(1)
            if f.isNoneOrNil(2) { f.push(ints: t.strides); return 1 }
            f.push(t.strides[try luaDim(f.integer(2), rank: t.dim, op: "stride")]); return 1
        }
        vm.def(m, "storage_offset", "x:storage_offset() -> the first element's offset into the storage (0-based, in elements).", maxArgs: 1) { f in
            f.push(try f.tensor(1).offset); return 1
        }
        vm.def(m, "select", "x:select(dim, i) -> index i of dim, the dim removed (a view).", maxArgs: 3) { f in
            let t = try f.tensor(1)
            let d = try luaDim(f.integer(2), rank: t.dim, op: "select")
            f.push(try t.select(d, luaIndex(f.integer(3), size: t.shape[d], dim: d, op: "select"))); return 1
        }
        vm.def(m, "squeeze", "x:squeeze([dim | {dims...}]) -> size-1 dims removed (only the given dims, when given; others of them stay).", maxArgs: 2) { f in
            let t = try f.tensor(1)
            if f.isNoneOrNil(2) { f.push(try t.squeeze()); return 1 }
            if f.type(2) == LUA_TTABLE {
                // several dims (torch 2.0): squeeze from the last so earlier positions hold
                let ds = try dims(f, 2, rank: t.dim, op: "squeeze") ?? []
                guard Set(ds).count == ds.count else { throw LuaError.message("squeeze: dims \(ds.map { $0 + 1 }) repeat a dim") }
                var r = t
                for d in ds.sorted(by: >) { r = try r.squeeze(d) }
                f.push(r); return 1
            }
            f.push(try t.squeeze(luaDim(f.integer(2), rank: t.dim, op: "squeeze"))); return 1
        }
        vm.def(m, "diagonal", "x:diagonal([offset = 0, dim1 = 1, dim2 = 2]) -> the diagonal of dims dim1 and dim2 as the last dim (a view: writes reach x; offset > 0 above the main diagonal).") { f in
            let t = try f.tensor(1)
            let off = try f.optInteger(2, 0)
            let r = Swift.max(t.dim, 2)  // (fewer dims: diagonal's own error names them)
            f.push(try t.diagonal(offset: off, luaDim(f.optInteger(3, 1), rank: r, op: "diagonal"), luaDim(f.optInteger(4, 2), rank: r, op: "diagonal")))
            return 1
        }
        vm.def(m, "unsqueeze", "x:unsqueeze(dim) -> a size-1 dim inserted at dim.", maxArgs: 2) { f in
            let t = try f.tensor(1)
            f.push(try t.unsqueeze(luaDim(f.integer(2), rank: t.dim, op: "unsqueeze", extra: 1))); return 1
        }
        vm.def(m, "expand", "x:expand(sizes...) -> a broadcast view (-1 keeps a size).") { f in
            let t = try f.tensor(1)
            let (s, _) = try signedList(f, 2)
            f.push(try t.expand(s)); return 1
        }
        vm.def(m, "flatten", "x:flatten([start [, end]]) -> dims start..end merged.") { f in
            let t = try f.tensor(1)
            let s = f.isNoneOrNil(2) ? 0 : try luaDim(f.integer(2), rank: t.dim, op: "flatten")
            let e = f.isNoneOrNil(3) ? -1 : try luaDim(f.integer(3), rank: t.dim, op: "flatten")
            f.push(try t.flatten(s, e)); return 1
        }

        // ---- unary math
        for op in UnaryOp.allCases {
            let doc = "x:\(op.rawValue)() / tide.\(op.rawValue)(x): elementwise \(op.rawValue)."
            // op(t) with its options from argument 2 on (gelu also takes approximate as a string
            // there: x:gelu('tanh'))
            let compute: (LuaFrame, Tensor) throws -> Tensor = { f, t in
                let allowed: [String] = op == .gelu ? ["approximate"] : op == .softplus ? ["beta", "threshold"]
                    : op == .round ? ["decimals"] : []
                let opts = try options(f, from: 2, allowed)
                switch op {
                case .gelu:
                    let a = f.type(2) == LUA_TSTRING ? try f.string(2) : try f.choiceOption(opts, "approximate", ["none", "tanh"])
                    guard a == nil || a == "none" || a == "tanh" else {
                        throw f.argError(2, "approximate must be 'none' or 'tanh', got '\(a!)'")
                    }
                    return try t.unary(a == "tanh" ? .gelu_tanh : .gelu)
                case .softplus where opts != nil:
                    return try softplus(t, beta: f.optField(opts, "beta", 1), threshold: f.optField(opts, "threshold", 20))
                case .round where opts != nil:
                    return try round(t, decimals: f.optIntField(opts, "decimals", 0))
                default:
                    if !f.isNoneOrNil(2) && opts == nil { throw f.typeError(2, allowed.isEmpty ? "no more arguments" : "options table") }
                    return try t.unary(op)
                }
            }
            let fn: (LuaFrame) throws -> Int32 = { f in f.push(try compute(f, f.tensorLike(1))); return 1 }
            if op != .neg { vm.def(m, op.rawValue, doc, maxArgs: 2, fn) }
            vm.def(tide, op.rawValue, doc, maxArgs: 2, fn)
            // apply_ rejects a result type the tensor cannot hold (exp_ on i64), as torch does
            vm.def(m, op.rawValue + "_", "x:\(op.rawValue)_(): in place; returns x.", maxArgs: 2) { f in
                let t = try f.tensor(1)
                try t.apply_(op.rawValue + "_") { try compute(f, $0) }; lua_pushvalue(f.L, 1); return 1
            }
        }
        let clampDoc = "x:clamp(min, max) / x:clamp{min =, max =} / tide.clamp(x, min, max) -> elements limited to [min, max]; either may be nil, a number or a tensor (broadcast)."
        let clampFn: (LuaFrame) throws -> Int32 = { f in f.push(try clampArgs(f, f.tensor(1), from: 2)); return 1 }
        vm.def(m, "clamp", clampDoc, maxArgs: 3, clampFn)
        vm.def(tide, "clamp", clampDoc, maxArgs: 3, clampFn)
        vm.def(m, "clip", "x:clip(min, max): NumPy's name for clamp.", maxArgs: 3, clampFn)
        vm.def(m, "clamp_", "x:clamp_(min, max) / x:clamp_{min =, max =}: clamp in place; returns x.", maxArgs: 3) { f in
            let t = try f.tensor(1)
            try t.apply_("clamp_") { try clampArgs(f, $0, from: 2) }; lua_pushvalue(f.L, 1); return 1
        }
        for (name, fn) in [("real", { (t: Tensor) in try t.real() }), ("imag", { try $0.imag() }),
                           ("conj", { try $0.conj() }), ("angle", { try $0.angle() })] as [(String, (Tensor) throws -> Tensor)] {
            vm.def(m, name, "x:\(name)() -> the \(name) of a complex tensor (elementwise).") { f in f.push(try fn(f.tensor(1))); return 1 }
            vm.def(tide, name, "tide.\(name)(x): elementwise \(name).") { f in f.push(try fn(f.tensor(1))); return 1 }
        }
        vm.def(m, "mH", "x:mH() -> the conjugate transpose of the last two dims.") { f in
            let t = try f.tensor(1)
            guard t.dim >= 2 else { throw LuaError.message("mH: expected at least 2 dims, got shape \(shapeString(t.shape))") }
            f.push(try t.conj().transposed(-2, -1)); return 1
        }
        vm.def(tide, "polar", "tide.polar(abs, angle) -> abs * exp(i angle), complex.") { f in
            f.push(try Tensor.polar(f.tensor(1), f.tensor(2))); return 1
        }
        vm.def(tide, "complex", "tide.complex(real, imag) -> real + i imag (broadcast): c64 from f32 parts, c128 from f64 (torch.complex); numbers are allowed next to a tensor.") { f in
            let re = try f.type(1) == LUA_TUSERDATA ? f.tensor(1) : nil, im = try f.type(2) == LUA_TUSERDATA ? f.tensor(2) : nil
            let r = try re ?? ArithmeticBindings.operand(f, 1, other: im), i = try im ?? ArithmeticBindings.operand(f, 2, other: re)
            guard r.dtype.isFloatingPoint || r.dtype == .i64, i.dtype.isFloatingPoint || i.dtype == .i64 else {
                throw LuaError.message("complex: expected real parts (f32, f64 or i64), got \(r.dtype.rawValue) and \(i.dtype.rawValue)")
            }
            // the parts are written straight in (re + im * i would turn im = inf into nan + inf i)
            let shape = try Tensor.broadcastShape(r.shape, i.shape, op: "complex")
            let wide = r.dtype == .f64 || i.dtype == .f64
            let rc = try r.to(.f64).expand(shape).contiguous(force: true), ic = try i.to(.f64).expand(shape).contiguous(force: true)
            let out = try Tensor(uninitialized: shape, dtype: wide ? .c128 : .c64)
            let pr = rc.pointer(Double.self), pi = ic.pointer(Double.self)
            if wide {
                let po = out.pointer(Double.self)
                for k in 0 ..< out.numel { po[2 * k] = pr[k]; po[2 * k + 1] = pi[k] }
            } else {
                let po = out.pointer(Float.self)
                for k in 0 ..< out.numel { po[2 * k] = Float(pr[k]); po[2 * k + 1] = Float(pi[k]) }
            }
            f.push(out); return 1
        }

        // ---- comparisons and logic
        for op in [CompareOp.eq, .ne, .lt, .le, .gt, .ge] {
            let doc = "x:\(op.rawValue)(y) -> bool tensor, elementwise with broadcasting."
            let fn: (LuaFrame) throws -> Int32 = { f in
                let (a, b) = try ArithmeticBindings.operands(f)
                f.push(try Tensor.compare(op, a, b)); return 1
            }
            vm.def(m, op.rawValue, doc, fn)
            vm.def(tide, op.rawValue, doc, fn)
        }
        for op in [LogicalOp.and, .or, .xor] {
            let fn: (LuaFrame) throws -> Int32 = { f in
                let (a, b) = try ArithmeticBindings.operands(f)
                f.push(try Tensor.logical(op, a, b)); return 1
            }
            vm.def(m, "logical_" + op.rawValue, "x:logical_\(op.rawValue)(y) -> bool tensor.", fn)
            vm.def(tide, "logical_" + op.rawValue, "tide.logical_\(op.rawValue)(x, y) -> bool tensor.", fn)
        }
        vm.def(m, "logical_not", "x:logical_not() -> bool tensor.") { f in f.push(try f.tensor(1).logicalNot()); return 1 }
        let isinf: (Tensor, Int) throws -> Tensor = { t, sign in
            let inf = try t.isinf()
            if sign == 0 { return inf }
            // a complex infinity has no sign (NumPy and PyTorch refuse these too)
            guard !t.dtype.isComplex else {
                throw TensorError("\(sign > 0 ? "isposinf" : "isneginf"): not defined for complex tensors (got \(t.dtype.rawValue))")
            }
            return try Tensor.logical(.and, inf, Tensor.compare(sign > 0 ? .gt : .lt, t, Tensor.scalar(0, dtype: t.dtype)))
        }
        let tests: [(String, String, (Tensor) throws -> Tensor)] = [
            ("isnan", "NaN", { try $0.isnan() }), ("isfinite", "finite", { try $0.isfinite() }),
            ("isinf", "+-inf", { try isinf($0, 0) }), ("isposinf", "+inf", { try isinf($0, 1) }),
            ("isneginf", "-inf", { try isinf($0, -1) }),
            ("signbit", "negative, -0.0 or a NaN with its sign bit set", { try $0.signbit() }),
        ]
        for (name, what, fn) in tests {
            let g: (LuaFrame) throws -> Int32 = { f in f.push(try fn(f.tensor(1))); return 1 }
            vm.def(m, name, "x:\(name)() -> bool tensor, true where x is \(what).", g)
            vm.def(tide, name, "tide.\(name)(x) -> bool tensor, true where x is \(what).", g)
        }
        vm.def(tide, "where", "tide.where(cond, a, b) -> a where cond is true, else b (broadcasting; a, b may be numbers or booleans). tide.where(cond) -> one 1-based i64 index tensor per dim of the true elements (as x:nonzero{as_tuple = true}).") { f in
            let c = try f.tensor(1)
            if f.count == 1 { return try IndexingBindings.pushNonzero(f, c, asTuple: true) }
            // numbers and booleans act as scalars next to the other operand
            let scalar = { (i: Int32) in f.type(i) == LUA_TNUMBER || f.type(i) == LUA_TBOOLEAN }
            let a = scalar(2) ? nil : try f.tensor(2)
            let b = scalar(3) ? nil : try f.tensor(3)
            let A = try a ?? ArithmeticBindings.operand(f, 2, other: b)
            let B = try b ?? ArithmeticBindings.operand(f, 3, other: A)
            f.push(try Tensor.where(c, A, B)); return 1
        }
        // v: a number, a boolean or a one-element tensor (a 0-d tensor in PyTorch); a tensor v is
        // cast to x's dtype, and its gradient flows through where().
        func maskedFill(_ f: LuaFrame, _ t: Tensor, _ mask: Tensor) throws -> Tensor {
            switch f.type(3) {
            case LUA_TUSERDATA:
                let v = try f.tensor(3)
                guard v.numel == 1 else {
                    throw f.argError(3, "expected a number or a one-element tensor, got a tensor of shape \(shapeString(v.shape))")
                }
                guard mask.dtype == .bool else { throw f.argError(2, "mask must be bool, got \(mask.dtype.rawValue)") }
                // (a cast would drop the imaginary part silently; torch refuses too)
                guard !v.dtype.isComplex || t.dtype.isComplex else {
                    throw f.argError(3, "a complex value cannot fill a \(t.dtype.rawValue) tensor")
                }
                return try Tensor.where(mask, v.reshaped([]).to(t.dtype), t)
            case LUA_TBOOLEAN: return try t.maskedFill(mask, f.boolean(3) ? 1 : 0)
            default: return try t.maskedFill(mask, f.number(3))
            }
        }
        vm.def(m, "masked_fill", "x:masked_fill(mask, v) -> x with v where mask (bool, broadcast) is true; v a number, boolean or one-element tensor.") { f in
            f.push(try maskedFill(f, f.tensor(1), f.tensor(2))); return 1
        }
        vm.def(m, "masked_fill_", "x:masked_fill_(mask, v): in place; returns x.") { f in
            let t = try f.tensor(1)
            let mask = try f.tensor(2)
            try t.apply_("masked_fill_") { try maskedFill(f, $0, mask) }; lua_pushvalue(f.L, 1); return 1
        }

        // ---- reductions
        for op in [ReduceOp.sum, .mean, .prod, .amax, .amin, .any, .all, .count_nonzero] {
            let casts = op == .sum || op == .mean || op == .prod
            let doc = "x:\(op.rawValue)([dims] [, keepdim] [, {dim, keepdim = false\(casts ? ", dtype" : "")}]) -> \(op.rawValue) over dims (a number or a table; all when omitted)\(casts ? "; dtype: the input is cast to it first" : "")."
            let fn: (LuaFrame) throws -> Int32 = { f in
                var t = try f.tensor(1)
                let o = try options(f, from: 2, casts ? ["dim", "keepdim", "dtype"] : ["dim", "keepdim"])
                let ds = try dimsEither(f, 2, o, rank: t.dim, op: op.rawValue)
                let keep = try keepdim(f, 3, o)
                if let d = try dtypeField(f, o) { t = try t.to(d) }
                f.push(try t.reduce(op, dims: ds, keepdim: keep)); return 1
            }
            // x:sum(dims, keepdim, {dtype}) at most
            vm.def(m, op.rawValue, doc, maxArgs: 4, fn)
            vm.def(tide, op.rawValue, doc, maxArgs: 4, fn)
        }
        for isMax in [true, false] {
            let name = isMax ? "max" : "min"
            let fn: (LuaFrame) throws -> Int32 = { f in
                let t = try f.tensor(1)
                if f.type(2) == LUA_TUSERDATA {  // elementwise form: tide.max(a, b)
                    f.push(try Tensor.binary(isMax ? .maximum : .minimum, t, f.tensor(2))); return 1
                }
                if f.type(2) == LUA_TTABLE && !f.isOptionsTable(2) {
                    throw f.argError(2, "expected one dim (a number); amax/amin reduce over several, got a table")
                }
                // x:max({dim = 2, keepdim = true}): torch's keywords
                let named = f.isOptionsTable(2) ? try options(f, from: 2, ["dim", "keepdim"]) : nil
                let od = try optionDims(f, named, rank: t.dim, op: name)
                if let od, od.count != 1 { throw LuaError.message("\(name): expected one dim, got \(od.count) (amax/amin reduce over several)") }
                guard f.type(2) == LUA_TNUMBER || od != nil else {
                    _ = try options(f, from: 2, [])
                    f.push(try t.reduce(isMax ? .max : .min, dims: nil)); return 1
                }
                let d = try od?[0] ?? luaDim(f.integer(2), rank: t.dim, op: name)
                let keep = try keepdim(f, 3, od != nil ? named : options(f, from: 3, ["keepdim"]))
                let (v, i) = try t.extremeWithIndices(dim: d, max: isMax, keepdim: keep)
                f.push(v)
                f.push(try Tensor.binary(.add, i, Tensor.scalar(1, dtype: .i64)))
                return 2
            }
            let doc = "x:\(name)() -> the \(name) element (0-d); x:\(name)(dim [, keepdim] [, {keepdim}]) -> values, 1-based indices; tide.\(name)(a, b) -> elementwise."
            vm.def(m, name, doc, maxArgs: 4, fn)
            vm.def(tide, name, doc, maxArgs: 4, fn)
            let argfn: (LuaFrame) throws -> Int32 = { f in
                let t = try f.tensor(1)
                let named = f.isOptionsTable(2) ? try options(f, from: 2, ["dim", "keepdim"]) : nil
                if let od = try optionDims(f, named, rank: t.dim, op: "arg" + name) {
                    guard od.count == 1 else { throw LuaError.message("arg\(name): expected one dim, got \(od.count)") }
                    let (_, i) = try t.extremeWithIndices(dim: od[0], max: isMax, keepdim: keepdim(f, 3, named))
                    f.push(try Tensor.binary(.add, i, Tensor.scalar(1, dtype: .i64))); return 1
                }
                if f.type(2) != LUA_TNUMBER {
                    if !f.isNoneOrNil(2) && !f.isOptionsTable(2) { throw f.typeError(2, "dim (a number) or nil") }
                    // over everything; keepdim keeps every dim as size 1 (recent PyTorch)
                    let keep = try keepdim(f, 3, options(f, from: 2, ["keepdim"]))
                    let (_, i) = try t.reshaped([-1]).extremeWithIndices(dim: 0, max: isMax)
                    let r = try Tensor.binary(.add, i, Tensor.scalar(1, dtype: .i64))
                    f.push(keep ? try r.reshaped([Int](repeating: 1, count: t.dim)) : r); return 1
                }
                let d = try luaDim(f.integer(2), rank: t.dim, op: "arg" + name)
                let keep = try keepdim(f, 3, options(f, from: 3, ["keepdim"]))
                let (_, i) = try t.extremeWithIndices(dim: d, max: isMax, keepdim: keep)
                f.push(try Tensor.binary(.add, i, Tensor.scalar(1, dtype: .i64))); return 1
            }
            let adoc = "x:arg\(name)([dim [, keepdim] [, {keepdim}]]) -> 1-based index of the \(name) (over everything when dim is omitted; keepdim then keeps every dim as size 1)."
            vm.def(m, "arg" + name, adoc, maxArgs: 4, argfn)
            vm.def(tide, "arg" + name, adoc, maxArgs: 4, argfn)
        }

        // ---- matmul
        let mm: (LuaFrame) throws -> Int32 = { f in f.push(try Tensor.matmul(f.tensor(1), f.tensor(2))); return 1 }
        vm.def(m, "matmul", "a:matmul(b): (..., n, k) x (..., k, m) -> (..., n, m), batch dims broadcast; 1-d operands as in NumPy.", mm)
        vm.def(tide, "matmul", "tide.matmul(a, b): (..., n, k) x (..., k, m) -> (..., n, m), batch dims broadcast; 1-d operands as in NumPy.", mm)

        // ---- random
        GeneratorUserdata.open(vm, tide)
        vm.def(tide, "manual_seed", "tide.manual_seed(n): seeds the global generator; every random result is reproducible.") { f in
            Generator.global.seed(UInt64(bitPattern: Int64(try f.integer(1)))); return 0
        }
        func sizedRandom(_ name: String, _ doc: String, _ make: @escaping ([Int], DType, Generator) throws -> Tensor) {
            vm.def(tide, name, doc) { f in
                let (shape, next) = try f.sizes(from: 1)
                let o = try options(f, from: next, ["dtype", "generator", "requires_grad"])
                let d = try f.dtypeOption(f.type(next) == LUA_TSTRING ? next : (o ?? next), default: .f32)
                try f.pushCreated(make(shape, d, generator(f, o)), options: o ?? next); return 1
            }
            vm.def(tide, name + "_like", "tide.\(name)_like(x [, {dtype, generator}]) -> tide.\(name) with x's shape (and dtype unless given).") { f in
                let x = try f.tensor(1)
                let o = try options(f, from: 2, ["dtype", "generator", "requires_grad"])
                let d = try f.type(2) == LUA_TSTRING ? f.dtypeOption(2, default: x.dtype) : (dtypeField(f, o) ?? x.dtype)
                guard d.isFloatingPoint || d.isComplex else { throw LuaError.message("\(name)_like: expected a float dtype, got \(d.rawValue)") }
                try f.pushCreated(make(x.shape, d, generator(f, o)), options: o ?? 2); return 1
            }
        }
        sizedRandom("randn", "tide.randn(sizes... [, {dtype, generator}]) -> standard normal samples.") { try Tensor.randn($0, dtype: $1, generator: $2) }
        sizedRandom("rand", "tide.rand(sizes... [, {dtype, generator}]) -> uniform samples in [0, 1).") { try Tensor.rand($0, dtype: $1, generator: $2) }
        vm.def(tide, "randint", "tide.randint([low,] high, sizes [, {dtype, generator}]) -> integers uniform in [low, high) (high excluded; low 0 when left out, as in torch).") { f in
            // torch.randint(high, size): a table in the second place means low was left out
            let short = f.type(2) == LUA_TTABLE && !f.isOptionsTable(2)
            let lo = short ? 0 : try f.integer(1), hi = try f.integer(short ? 1 : 2)
            let (shape, next) = try f.sizes(from: short ? 2 : 3)
            let o = try options(f, from: next, ["dtype", "generator", "requires_grad"])
            try f.pushCreated(Tensor.randint(lo, hi, shape, dtype: f.dtypeOption(o ?? next, default: .i64), generator: generator(f, o)), options: o ?? next); return 1
        }
        vm.def(tide, "randperm", "tide.randperm(n [, {generator}]) -> a random permutation of 1..n (i64).") { f in
            let o = try options(f, from: 2, ["generator", "dtype"])
            let p = try Tensor.randperm(f.integer(1), generator: generator(f, o))
            let r = try Tensor.binary(.add, p, Tensor.scalar(1, dtype: .i64))
            f.push(try dtypeField(f, o).map { try r.to($0) } ?? r); return 1
        }
        let bern: (LuaFrame) throws -> Int32 = { f in
            let x = try f.tensor(1)
            if f.type(2) == LUA_TNUMBER {
                // x:bernoulli(p): draws of probability p in x's shape (PyTorch's form)
                let p = try Tensor.full(x.shape, f.number(2), dtype: x.dtype.isFloatingPoint ? x.dtype : .f32)
                f.push(try p.bernoulli(generator: generator(f, options(f, from: 3, ["generator"])))); return 1
            }
            if f.type(2) == LUA_TUSERDATA {
                // x:bernoulli(p): a probability tensor broadcast to x's shape, x's float dtype
                let p = try f.tensor(2)
                guard (try? Tensor.broadcastShape(p.shape, x.shape, op: "bernoulli")) == x.shape else {
                    throw LuaError.message("bernoulli: probabilities of shape \(shapeString(p.shape)) do not broadcast to x's shape \(shapeString(x.shape))")
                }
                let q = try p.to(x.dtype.isFloatingPoint ? x.dtype : .f32).expand(x.shape).contiguous()
                f.push(try q.bernoulli(generator: generator(f, options(f, from: 3, ["generator"])))); return 1
            }
            guard f.isNoneOrNil(2) || f.isOptionsTable(2) else { throw f.typeError(2, "number, probability tensor or options table") }
            f.push(try x.bernoulli(generator: generator(f, options(f, from: 2, ["generator"])))); return 1
        }
        vm.def(tide, "bernoulli", "tide.bernoulli(p [, {generator}]) -> 0/1 draws with probabilities p (same shape and float dtype); x:bernoulli([p]) draws with x's values (or the number p) as probabilities.", bern)
        vm.def(m, "bernoulli", "x:bernoulli([p] [, {generator}]) -> 0/1 draws with probabilities x (or the number p) in x's shape.", bern)
    }
}

/// tide.Generator(seed): an independent random stream, usable as {generator = g}.
enum GeneratorUserdata {
    static func isGenerator(_ L: OpaquePointer, _ idx: Int32) -> Bool {
        guard lua_getmetatable(L, idx) != 0 else { return false }
        tide_getref(L, LuaVM.from(L).generatorMetatable)
        let same = lua_rawequal(L, -1, -2) != 0
        tide_pop(L, 2)
        return same
    }

    /// The live Generator at `idx`, or nil for any other value.
    static func generator(_ L: OpaquePointer, _ idx: Int32) -> Generator? {
        guard isGenerator(L, idx), let ud = lua_touserdata(L, idx),
              let p = ud.assumingMemoryBound(to: UnsafeMutableRawPointer?.self).pointee else { return nil }
        return Unmanaged<Generator>.fromOpaque(p).takeUnretainedValue()
    }

    static func open(_ vm: LuaVM, _ tide: Int32) {
        let L = vm.L
        lua_createtable(L, 0, 4)
        let mt = lua_gettop(L)
        vm.setField(mt, "__name", .string("tide.Generator"))
        vm.def(mt, "__gc", "") { f in
            if isGenerator(f.L, 1), let ud = lua_touserdata(f.L, 1) {
                let slot = ud.assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
                if let p = slot.pointee { Unmanaged<Generator>.fromOpaque(p).release(); slot.pointee = nil }
            }
            return 0
        }
        lua_createtable(L, 0, 4)
        let methods = lua_gettop(L)
        vm.def(methods, "manual_seed", "g:manual_seed(n): reseeds this generator; returns g.") { f in
            guard let g = generator(f.L, 1) else { throw f.typeError(1, "tide.Generator") }
            g.seed(UInt64(bitPattern: Int64(try f.integer(2))))
            lua_pushvalue(f.L, 1); return 1
        }
        vm.def(methods, "initial_seed", "g:initial_seed() -> the seed.") { f in
            guard let g = generator(f.L, 1) else { throw f.typeError(1, "tide.Generator") }
            f.push(Int(Int64(bitPattern: g.initialSeed))); return 1
        }
        lua_pushstring(L, "__index"); lua_pushvalue(L, methods); lua_rawset(L, mt)
        lua_pushvalue(L, mt)
        vm.generatorMetatable = tide_ref(L)
        vm.def(tide, "Generator", "tide.Generator(seed) -> an independent random stream; pass {generator = g} to random functions.") { f in
            let g = Generator(seed: UInt64(bitPattern: Int64(try f.optInteger(1, 0))))
            let slot = tide_newuserdata(f.L, 8)!.assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
            slot.pointee = nil
            tide_getref(f.L, f.vm.generatorMetatable)
            lua_setmetatable(f.L, -2)
            slot.pointee = Unmanaged.passRetained(g).toOpaque()
            return 1
        }
        lua_settop(L, mt - 1)
    }
}

/// cat, stack, split, chunk; softmax, log_softmax, logsumexp, var, std.
enum JoinBindings {
    /// The tensors in the table at argument i.
    static func tensorList(_ f: LuaFrame, _ i: Int32) throws -> [Tensor] {
        let t = try f.table(i)
        var out: [Tensor] = []
        let n = Int(lua_rawlen(f.L, t))
        for k in 1 ... max(n, 1) where n > 0 {
            lua_rawgeti(f.L, t, lua_Integer(k))
            defer { tide_pop(f.L, 1) }
            guard let x = TensorUserdata.tensor(f.L, at: -1) else {
                if f.typeName(-1) == "tensor" { throw f.argError(i, "element \(k) is a freed tensor (use of a freed tensor)") }
                throw f.argError(i, "element \(k) must be a tensor, got \(f.typeName(-1))")
            }
            out.append(x)
        }
        return out
    }

    static func open(_ vm: LuaVM, methods m: Int32, tide: Int32) {
        // the dim as a number or as {dim = d} (torch's keyword)
        func joinDim(_ f: LuaFrame) throws -> Int {
            if f.isOptionsTable(2) {
                let o = try MathBindings.options(f, from: 2, ["dim"])
                return try f.optIntField(o, "dim", 1)
            }
            return try f.optInteger(2, 1)
        }
        vm.def(tide, "cat", "tide.cat({a, b, ...} [, dim = 1 | {dim =}]) -> tensors joined along dim (other dims must match).") { f in
            let ts = try tensorList(f, 1)
            let rank = ts.first?.dim ?? 1
            f.push(try Tensor.cat(ts, dim: luaDim(joinDim(f), rank: rank, op: "cat"))); return 1
        }
        vm.def(tide, "stack", "tide.stack({a, b, ...} [, dim = 1 | {dim =}]) -> tensors of one shape stacked along a new dim.") { f in
            let ts = try tensorList(f, 1)
            let rank = ts.first?.dim ?? 0
            f.push(try Tensor.stack(ts, dim: luaDim(joinDim(f), rank: rank, op: "stack", extra: 1))); return 1
        }
        let split: (LuaFrame) throws -> Int32 = { f in
            let t = try f.tensor(1)
            let d = try luaDim(f.optInteger(3, 1), rank: t.dim, op: "split")
            var parts: [Tensor] = []
            if f.type(2) == LUA_TTABLE {
                // a list of sizes (PyTorch's split_size_or_sections): they must add up to the dim
                let (sizes, _) = try MathBindings.signedList(f, 2)
                guard sizes.allSatisfy({ $0 >= 0 }), sizes.reduce(0, +) == t.shape[d] else {
                    throw f.argError(2, "expected sizes >= 0 adding up to \(t.shape[d]) (dim \(d + 1)), got {\(sizes.map(String.init).joined(separator: ", "))}")
                }
                var at = 0
                for n in sizes { parts.append(try t.narrow(d, at, n)); at += n }
            } else {
                parts = try t.split(size: f.integer(2), dim: d)
            }
            lua_createtable(f.L, Int32(parts.count), 0)
            for (k, p) in parts.enumerated() { f.push(p); lua_rawseti(f.L, -2, lua_Integer(k + 1)) }
            return 1
        }
        vm.def(m, "split", "x:split(size | {sizes...} [, dim = 1]) -> a table of views along dim: of `size` each (the last may be shorter), or of the listed sizes.", split)
        vm.def(tide, "split", "tide.split(x, size | {sizes...} [, dim = 1]): x:split.", split)
        let chunk: (LuaFrame) throws -> Int32 = { f in
            let t = try f.tensor(1)
            let n = try f.integer(2)
            guard n > 0 else { throw f.argError(2, "expected a chunk count > 0, got \(n)") }
            let d = try luaDim(f.optInteger(3, 1), rank: t.dim, op: "chunk")
            // an empty dim gives n empty pieces (torch)
            let parts = t.shape[d] == 0 ? try (0 ..< Swift.max(n, 1)).map { _ in try t.narrow(d, 0, 0) }
                : try t.split(size: max(1, (t.shape[d] + n - 1) / n), dim: d)
            lua_createtable(f.L, Int32(parts.count), 0)
            for (k, p) in parts.enumerated() { f.push(p); lua_rawseti(f.L, -2, lua_Integer(k + 1)) }
            return 1
        }
        vm.def(m, "chunk", "x:chunk(n [, dim = 1]) -> a table of n (or fewer) nearly equal views along dim.", chunk)
        vm.def(tide, "chunk", "tide.chunk(x, n [, dim = 1]): x:chunk.", chunk)
        for (name, op) in [("softmax", 0), ("log_softmax", 1)] {
            let fn: (LuaFrame) throws -> Int32 = { f in
                var t = try f.tensor(1)
                let o = try MathBindings.options(f, from: 2, ["dim", "dtype"])
                let named = try MathBindings.optionDims(f, o, rank: Swift.max(t.dim, 1), op: name)
                if let named {
                    guard named.count == 1 else { throw LuaError.message("\(name): expected one dim, got \(named.count)") }
                    guard f.type(2) != LUA_TNUMBER else { throw LuaError.message("\(name): dim given twice (argument and {dim =})") }
                }
                let d = try named?[0] ?? luaDim(f.type(2) == LUA_TNUMBER ? f.integer(2) : -1, rank: t.dim, op: name)
                if let dt = try MathBindings.dtypeField(f, o) { t = try t.to(dt) }
                f.push(op == 0 ? try t.softmax(dim: d) : try t.logSoftmax(dim: d)); return 1
            }
            vm.def(m, name, "x:\(name)([dim = -1] [, {dtype}]) -> \(name) over dim (numerically stable; dtype: cast first).", fn)
            vm.def(tide, name, "tide.\(name)(x [, dim = -1] [, {dtype}]) -> \(name) over dim.", fn)
        }
        let lse: (LuaFrame) throws -> Int32 = { f in
            let t = try f.tensor(1)
            let o = try MathBindings.options(f, from: 2, ["dim", "keepdim"])
            // no dim: every dim (as scipy.special.logsumexp)
            let ds = try MathBindings.dimsEither(f, 2, o, rank: t.dim, op: "logsumexp") ?? Array(0 ..< t.dim)
            let keep = try MathBindings.keepdim(f, 3, o)
            if ds.isEmpty { f.push(try t.clone()); return 1 }
            let uniq = Array(Set(ds)).sorted()
            guard uniq.count == ds.count else { throw f.argError(2, "dims repeat: \(ds.map { $0 + 1 })") }
            if uniq.count == 1 { f.push(try t.logsumexp(dim: uniq[0], keepdim: keep)); return 1 }
            // several dims: move them last, merge them into one, reduce that
            let rest = (0 ..< t.dim).filter { !uniq.contains($0) }
            let merged = try t.permuted(rest + uniq).reshaped(rest.map { t.shape[$0] } + [uniq.reduce(1) { $0 * t.shape[$1] }])
            var r = try merged.logsumexp(dim: rest.count, keepdim: false)
            if keep { for d in uniq { r = try r.unsqueeze(d) } }
            f.push(r); return 1
        }
        vm.def(m, "logsumexp", "x:logsumexp(dims [, keepdim] [, {keepdim}]) -> log(sum(exp(x))) over dims (a number or a table), stably.", maxArgs: 4, lse)
        vm.def(tide, "logsumexp", "tide.logsumexp(x, dims [, keepdim] [, {keepdim}]): x:logsumexp.", maxArgs: 4, lse)
        for name in ["var", "std"] {
            let fn: (LuaFrame) throws -> Int32 = { f in
                let t = try f.tensor(1)
                let o = try MathBindings.options(f, from: 2, ["dim", "correction", "unbiased", "keepdim"])
                let ds = try MathBindings.dimsEither(f, 2, o, rank: t.dim, op: name)
                // torch.var(input, dim, unbiased, keepdim): the positional flags
                let keep = try MathBindings.keepdim(f, 4, o)
                var corr = try f.optField(o, "correction", 1)
                let positional = try f.optFlag(3, "unbiased"), named = try f.boolOption(o, "unbiased")
                if positional != nil && named != nil {
                    throw LuaError.message("\(name): unbiased given twice (argument #2 and the options table)")
                }
                if let u = positional ?? named {
                    guard try f.numberOption(o, "correction") == nil else {
                        throw LuaError.message("\(name): give correction or unbiased, not both")
                    }
                    corr = u ? 1 : 0
                }
                func variance(_ x: Tensor) throws -> Tensor {
                    if x.dtype.isComplex {
                        // PyTorch: the real variance of |z - mean|^2, the parts' variances summed
                        return try Tensor.binary(.add, variance(x.real()), variance(x.imag()))
                    }
                    guard corr.isFinite, Swift.abs(corr) < 1e15 else {
                        throw LuaError.message("\(name): correction must be a finite number of moderate size, got \(corr)")
                    }
                    if corr == corr.rounded() { return try x.variance(dims: ds, correction: Int(corr), keepdim: keep) }
                    // a fractional correction (PyTorch allows one): the biased variance times N / (N - c)
                    let n = (ds ?? Array(0 ..< x.dim)).reduce(1) { $0 * x.shape[$1] }
                    let v0 = try x.variance(dims: ds, correction: 0, keepdim: keep)
                    return try Tensor.binary(.mul, v0, Tensor.scalar(Double(n) / Swift.max(Double(n) - corr, 0), dtype: v0.dtype))
                }
                let v = try variance(t)
                f.push(name == "var" ? v : try v.stdFromVariance()); return 1
            }
            let doc = "\(name)([dims] [, unbiased [, keepdim]] [, {correction = 1, keepdim = false}]) -> \(name == "var" ? "variance" : "standard deviation") over dims (all when omitted); correction may be fractional; unbiased = false is correction = 0."
            vm.def(m, name, "x:" + doc, maxArgs: 5, fn)
            vm.def(tide, name, "tide.\(name)(x, ...): x:" + doc, maxArgs: 5, fn)
        }
    }
}
