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
        default: return nil
        }
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
                guard ok != 0 else { throw f.argError(i, "number expected, got \(f.typeName(-1))") }
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
        vm.def(m, "transpose", "x:transpose(d1, d2) -> a view with dims d1 and d2 swapped.") { f in
            let t = try f.tensor(1)
            f.push(try t.transposed(luaDim(f.integer(2), rank: t.dim, op: "transpose"), luaDim(f.integer(3), rank: t.dim, op: "transpose")))
            return 1
        }
        vm.def(m, "t", "x:t() -> the transpose of a 2-d tensor (0-d and 1-d unchanged).") { f in f.push(try f.tensor(1).t()); return 1 }
        vm.def(m, "permute", "x:permute(d...) -> a view with dims reordered.") { f in
            let t = try f.tensor(1)
            let (s, _) = try signedList(f, 2)
            f.push(try t.permuted(s.map { try luaDim($0, rank: t.dim, op: "permute") })); return 1
        }
        vm.def(m, "narrow", "x:narrow(dim, start, length) -> elements start..start+length-1 of dim (a view).") { f in
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
        vm.def(m, "select", "x:select(dim, i) -> index i of dim, the dim removed (a view).") { f in
            let t = try f.tensor(1)
            let d = try luaDim(f.integer(2), rank: t.dim, op: "select")
            f.push(try t.select(d, luaIndex(f.integer(3), size: t.shape[d], dim: d, op: "select"))); return 1
        }
        vm.def(m, "squeeze", "x:squeeze([dim]) -> size-1 dims removed (only dim when given).") { f in
            let t = try f.tensor(1)
            f.push(f.isNoneOrNil(2) ? try t.squeeze() : try t.squeeze(luaDim(f.integer(2), rank: t.dim, op: "squeeze"))); return 1
        }
        vm.def(m, "unsqueeze", "x:unsqueeze(dim) -> a size-1 dim inserted at dim.") { f in
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
            let fn: (LuaFrame) throws -> Int32 = { f in
                let t = try f.tensorLike(1)
                var o = op
                if op == .gelu, let opts = try f.options(2) {
                    defer { tide_pop(f.L, 1) }
                    if f.pushField(opts, "approximate") == LUA_TSTRING, try f.string(-1) == "tanh" { o = .gelu_tanh }
                }
                f.push(try t.unary(o)); return 1
            }
            if op != .neg { vm.def(m, op.rawValue, doc, fn) }
            vm.def(tide, op.rawValue, doc, fn)
            vm.def(m, op.rawValue + "_", "x:\(op.rawValue)_(): in place; returns x.") { f in
                let t = try f.tensor(1)
                try t.apply_(op.rawValue + "_") { try $0.unary(op) }; lua_pushvalue(f.L, 1); return 1
            }
        }
        vm.def(m, "clamp", "x:clamp(min, max) -> elements limited to [min, max]; either may be nil.") { f in
            let t = try f.tensor(1)
            f.push(try t.clamp(min: f.isNoneOrNil(2) ? nil : f.number(2), max: f.isNoneOrNil(3) ? nil : f.number(3))); return 1
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
        vm.def(m, "isnan", "x:isnan() -> bool tensor.") { f in f.push(try f.tensor(1).isnan()); return 1 }
        vm.def(m, "isfinite", "x:isfinite() -> bool tensor.") { f in f.push(try f.tensor(1).isfinite()); return 1 }
        vm.def(tide, "where", "tide.where(cond, a, b) -> a where cond is true, else b (broadcasting; a, b may be numbers).") { f in
            let c = try f.tensor(1)
            let a = f.type(2) == LUA_TNUMBER ? nil : try f.tensor(2)
            let b = f.type(3) == LUA_TNUMBER ? nil : try f.tensor(3)
            let A = try a ?? ArithmeticBindings.operand(f, 2, other: b)
            let B = try b ?? ArithmeticBindings.operand(f, 3, other: A)
            f.push(try Tensor.where(c, A, B)); return 1
        }
        vm.def(m, "masked_fill", "x:masked_fill(mask, v) -> x with v where mask (bool, broadcast) is true.") { f in
            f.push(try f.tensor(1).maskedFill(f.tensor(2), f.number(3))); return 1
        }
        vm.def(m, "masked_fill_", "x:masked_fill_(mask, v): in place; returns x.") { f in
            let t = try f.tensor(1)
            let mask = try f.tensor(2), v = try f.number(3)
            try t.apply_("masked_fill_") { try $0.maskedFill(mask, v) }; lua_pushvalue(f.L, 1); return 1
        }

        // ---- reductions
        for op in [ReduceOp.sum, .mean, .prod, .amax, .amin, .any, .all, .count_nonzero] {
            let doc = "x:\(op.rawValue)([dims] [, {keepdim = false}]) -> \(op.rawValue) over dims (a number or a table; all when omitted)."
            let fn: (LuaFrame) throws -> Int32 = { f in
                let t = try f.tensor(1)
                let ds = try dims(f, 2, rank: t.dim, op: op.rawValue)
                let keep = f.optField(optionsArg(f, from: 2), "keepdim", false)
                f.push(try t.reduce(op, dims: ds, keepdim: keep)); return 1
            }
            vm.def(m, op.rawValue, doc, fn)
            vm.def(tide, op.rawValue, doc, fn)
        }
        for isMax in [true, false] {
            let name = isMax ? "max" : "min"
            let fn: (LuaFrame) throws -> Int32 = { f in
                let t = try f.tensor(1)
                if f.type(2) == LUA_TUSERDATA {  // elementwise form: tide.max(a, b)
                    f.push(try Tensor.binary(isMax ? .maximum : .minimum, t, f.tensor(2))); return 1
                }
                guard f.type(2) == LUA_TNUMBER else { f.push(try t.reduce(isMax ? .max : .min, dims: nil)); return 1 }
                let d = try luaDim(f.integer(2), rank: t.dim, op: name)
                let keep = f.optField(optionsArg(f, from: 3), "keepdim", false)
                let (v, i) = try t.extremeWithIndices(dim: d, max: isMax, keepdim: keep)
                f.push(v)
                f.push(try Tensor.binary(.add, i, Tensor.scalar(1, dtype: .i64)))
                return 2
            }
            let doc = "x:\(name)() -> the \(name) element (0-d); x:\(name)(dim [, {keepdim}]) -> values, 1-based indices; tide.\(name)(a, b) -> elementwise."
            vm.def(m, name, doc, fn)
            vm.def(tide, name, doc, fn)
            let argfn: (LuaFrame) throws -> Int32 = { f in
                let t = try f.tensor(1)
                if f.type(2) != LUA_TNUMBER {
                    let (_, i) = try t.reshaped([-1]).extremeWithIndices(dim: 0, max: isMax)
                    f.push(try Tensor.binary(.add, i, Tensor.scalar(1, dtype: .i64))); return 1
                }
                let d = try luaDim(f.integer(2), rank: t.dim, op: "arg" + name)
                let keep = f.optField(optionsArg(f, from: 3), "keepdim", false)
                let (_, i) = try t.extremeWithIndices(dim: d, max: isMax, keepdim: keep)
                f.push(try Tensor.binary(.add, i, Tensor.scalar(1, dtype: .i64))); return 1
            }
            let adoc = "x:arg\(name)([dim [, {keepdim}]]) -> 1-based index of the \(name) (over everything when dim is omitted)."
            vm.def(m, "arg" + name, adoc, argfn)
            vm.def(tide, "arg" + name, adoc, argfn)
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
                let o = optionsArg(f, from: next)
                let d = try f.dtypeOption(f.type(next) == LUA_TSTRING ? next : (o ?? next), default: .f32)
                f.push(try make(shape, d, generator(f, o))); return 1
            }
        }
        sizedRandom("randn", "tide.randn(sizes... [, {dtype, generator}]) -> standard normal samples.") { try Tensor.randn($0, dtype: $1, generator: $2) }
        sizedRandom("rand", "tide.rand(sizes... [, {dtype, generator}]) -> uniform samples in [0, 1).") { try Tensor.rand($0, dtype: $1, generator: $2) }
        vm.def(tide, "randint", "tide.randint(low, high, sizes [, {dtype, generator}]) -> integers uniform in [low, high) (high excluded, as in torch).") { f in
            let lo = try f.integer(1), hi = try f.integer(2)
            let (shape, next) = try f.sizes(from: 3)
            let o = optionsArg(f, from: next)
            f.push(try Tensor.randint(lo, hi, shape, dtype: f.dtypeOption(o ?? next, default: .i64), generator: generator(f, o))); return 1
        }
        vm.def(tide, "randperm", "tide.randperm(n [, {generator}]) -> a random permutation of 1..n (i64).") { f in
            let p = try Tensor.randperm(f.integer(1), generator: generator(f, optionsArg(f, from: 2)))
            f.push(try Tensor.binary(.add, p, Tensor.scalar(1, dtype: .i64))); return 1
        }
        vm.def(tide, "bernoulli", "tide.bernoulli(p [, {generator}]) -> 0/1 draws with probabilities p.") { f in
            f.push(try f.tensor(1).bernoulli(generator: generator(f, optionsArg(f, from: 2)))); return 1
        }
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
                throw f.argError(i, "element \(k) must be a tensor, got \(f.typeName(-1))")
            }
            out.append(x)
        }
        return out
    }

    static func open(_ vm: LuaVM, methods m: Int32, tide: Int32) {
        vm.def(tide, "cat", "tide.cat({a, b, ...} [, dim = 1]) -> tensors joined along dim (other dims must match).") { f in
            let ts = try tensorList(f, 1)
            let rank = ts.first?.dim ?? 1
            f.push(try Tensor.cat(ts, dim: luaDim(f.optInteger(2, 1), rank: rank, op: "cat"))); return 1
        }
        vm.def(tide, "stack", "tide.stack({a, b, ...} [, dim = 1]) -> tensors of one shape stacked along a new dim.") { f in
            let ts = try tensorList(f, 1)
            let rank = ts.first?.dim ?? 0
            f.push(try Tensor.stack(ts, dim: luaDim(f.optInteger(2, 1), rank: rank, op: "stack", extra: 1))); return 1
        }
        let split: (LuaFrame) throws -> Int32 = { f in
            let t = try f.tensor(1)
            let d = try luaDim(f.optInteger(3, 1), rank: t.dim, op: "split")
            let parts = try t.split(size: f.integer(2), dim: d)
            lua_createtable(f.L, Int32(parts.count), 0)
            for (k, p) in parts.enumerated() { f.push(p); lua_rawseti(f.L, -2, lua_Integer(k + 1)) }
            return 1
        }
        vm.def(m, "split", "x:split(size [, dim = 1]) -> a table of views of `size` along dim (the last may be shorter).", split)
        vm.def(m, "chunk", "x:chunk(n [, dim = 1]) -> a table of n (or fewer) nearly equal views along dim.") { f in
            let t = try f.tensor(1)
            let n = try f.integer(2)
            guard n > 0 else { throw f.argError(2, "expected a chunk count > 0, got \(n)") }
            let d = try luaDim(f.optInteger(3, 1), rank: t.dim, op: "chunk")
            let parts = try t.split(size: max(1, (t.shape[d] + n - 1) / n), dim: d)
            lua_createtable(f.L, Int32(parts.count), 0)
            for (k, p) in parts.enumerated() { f.push(p); lua_rawseti(f.L, -2, lua_Integer(k + 1)) }
            return 1
        }
        for (name, op) in [("softmax", 0), ("log_softmax", 1)] {
            let fn: (LuaFrame) throws -> Int32 = { f in
                let t = try f.tensor(1)
                let d = try luaDim(f.optInteger(2, -1), rank: t.dim, op: name)
                f.push(op == 0 ? try t.softmax(dim: d) : try t.logSoftmax(dim: d)); return 1
            }
            vm.def(m, name, "x:\(name)([dim = -1]) -> \(name) over dim (numerically stable).", fn)
            vm.def(tide, name, "tide.\(name)(x [, dim = -1]) -> \(name) over dim.", fn)
        }
        vm.def(m, "logsumexp", "x:logsumexp(dim [, {keepdim}]) -> log(sum(exp(x))) over dim, stably.") { f in
            let t = try f.tensor(1)
            let keep = f.optField(MathBindings.optionsArg(f, from: 3), "keepdim", false)
            f.push(try t.logsumexp(dim: luaDim(f.integer(2), rank: t.dim, op: "logsumexp"), keepdim: keep)); return 1
        }
        for name in ["var", "std"] {
            vm.def(m, name, "x:\(name)([dims] [, {correction = 1, keepdim = false}]) -> \(name == "var" ? "variance" : "standard deviation") over dims (all when omitted).") { f in
                let t = try f.tensor(1)
                let ds = try MathBindings.dims(f, 2, rank: t.dim, op: name)
                let o = MathBindings.optionsArg(f, from: 2)
                let corr = try f.optIntField(o, "correction", 1)
                let v = try t.variance(dims: ds, correction: corr, keepdim: f.optField(o, "keepdim", false))
                f.push(name == "var" ? v : try v.unary(.sqrt)); return 1
            }
        }
    }
}
