// TTBindings: tide.tt, the tensor-train toolkit and robust TT recovery (TideSolvers/TT).
//
//     local tt, info = tide.tt.svd(X, {ranks = {2, 3, 2}})     -- or {eps = 1e-8}; info.bound
//     local Y = tt:full(); print(tt:ranks(), tt:numel(), tt:norm())
//     local s = (tt + tt * 2):round{ranks = 2}                 -- sums, scaling, recompression
//     local op = tide.tt.measurements(600, {4, 4, 4, 4}, {generator = g})
//     local p = tide.tt.problem{dims = {4, 4, 4, 4}, ranks = 2, m = 600, fraction = 0.2, seed = 1}
//     local est, hist = tide.tt.recover{op = p.op, y = p.y, ranks = 2, method = "psubgm", truth = p.truth}
//
// A train is a Lua table {cores = {c1, ..., cN}} (cores: f64 tensors (r_{i-1}, d_i, r_i)) whose
// metatable is tide.tt.TT: methods full, ranks, dims, order, numel, numparams, cores, norm,
// dot, orthogonalize, round, clone, orth_error; operators + - * / and unary minus. A
// measurement operator is a table {A = (m, D) tensor, dims = {...}, kind =, m =} with metatable
// tide.tt.Operator (apply, adjoint, matrix). Both metatables live in the registry under their
// names. Ranks are given as a number (all r_i), N-1 numbers, or N+1 numbers with ones at both
// ends (tensorly's convention); tt:ranks() returns the N+1 values.
import CLua
import _CTideShims
import TideCore
import TideSolvers
import Foundation
#if canImport(Glibc)
import Glibc
#endif

enum TTBindings {
    static let trainKey = "tide.tt.TT", operatorKey = "tide.tt.Operator"

    // MARK: registry metatables

    static func pushRegistry(_ L: OpaquePointer, _ key: String) {
        lua_pushstring(L, key)
        lua_rawget(L, tide_registryindex())
    }

    /// Whether the value at i is a table whose metatable is registry[key].
    static func isInstance(_ L: OpaquePointer, _ i: Int32, _ key: String) -> Bool {
        guard lua_type(L, i) == LUA_TTABLE, lua_getmetatable(L, i) != 0 else { return false }
        pushRegistry(L, key)
        let same = lua_rawequal(L, -1, -2) != 0
        tide_pop(L, 2)
        return same
    }

    /// t[key] = (value pushed by `push`) for the table at absolute index t.
    static func set(_ L: OpaquePointer, _ t: Int32, _ key: String, _ push: () -> Void) {
        lua_pushstring(L, key)
        push()
        lua_rawset(L, t)
    }

    static func pushNumbers(_ L: OpaquePointer, _ a: [Double]) {
        lua_createtable(L, Int32(a.count), 0)
        for (i, v) in a.enumerated() { lua_pushnumber(L, v); lua_rawseti(L, -2, lua_Integer(i + 1)) }
    }

    // MARK: trains

    /// The train at argument i (a tide.tt.TT table), validated.
    static func train(_ f: LuaFrame, _ i: Int32, _ fn: String) throws -> TensorTrain {
        let L = f.L
        guard isInstance(L, i, trainKey) else { throw f.typeError(i, "tide.tt.TT") }
        let t = lua_absindex(L, i)
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        guard f.pushField(t, "cores") == LUA_TTABLE else { throw f.argError(i, "train has no 'cores' table") }
        let n = Int(lua_rawlen(L, -1))
        var cores: [Tensor] = []
        for k in 1 ... max(n, 1) where n > 0 {
            lua_rawgeti(L, -1, lua_Integer(k))
            guard let c = TensorUserdata.tensor(L, at: -1) else { throw f.argError(i, "core \(k) is not a tensor (\(f.typeName(-1)))") }
            cores.append(c)
            tide_pop(L, 1)
        }
        return try TensorTrain(cores: cores, op: fn)
    }

    static func push(_ f: LuaFrame, _ tt: TensorTrain) {
        let L = f.L
        lua_createtable(L, 0, 1)
        let t = lua_gettop(L)
        set(L, t, "cores") {
            lua_createtable(L, Int32(tt.order), 0)
            for (k, c) in tt.cores.enumerated() { TensorUserdata.push(L, c); lua_rawseti(L, -2, lua_Integer(k + 1)) }
        }
        pushRegistry(L, trainKey)
        lua_setmetatable(L, t)
    }

    /// A full tensor from argument i: a tensor, or a train (formed in full).
    static func fullArg(_ f: LuaFrame, _ i: Int32, _ fn: String) throws -> Tensor {
        if isInstance(f.L, i, trainKey) { return try train(f, i, fn).full() }
        return try f.tensor(i)
    }

    // MARK: operators

    static func measurementOperator(_ f: LuaFrame, _ i: Int32, _ fn: String) throws -> MeasurementOperator {
        let L = f.L
        guard isInstance(L, i, operatorKey) else { throw f.typeError(i, "tide.tt.Operator") }
        let t = lua_absindex(L, i), top = lua_gettop(L)
        defer { lua_settop(L, top) }
        f.pushField(t, "A")
        guard let a = TensorUserdata.tensor(L, at: -1) else { throw f.argError(i, "operator has no matrix A") }
        f.pushField(t, "dims")
        let dims = try intList(f, lua_gettop(L), "dims", fn)
        return try MeasurementOperator(matrix: a, dims: dims, op: fn)
    }

    static func push(_ f: LuaFrame, _ op: MeasurementOperator) {
        let L = f.L
        lua_createtable(L, 0, 5)
        let t = lua_gettop(L)
        set(L, t, "A") { TensorUserdata.push(L, op.matrix) }
        set(L, t, "dims") { f.push(ints: op.dims) }
        set(L, t, "m") { f.push(op.m) }
        set(L, t, "D") { f.push(op.size) }
        if let k = op.kind { set(L, t, "kind") { f.push(k.rawValue) } }
        pushRegistry(L, operatorKey)
        lua_setmetatable(L, t)
    }

    // MARK: argument helpers (shared with IRSBindings)

    /// Integers from the value at stack index i: a number or a table of numbers.
    static func intList(_ f: LuaFrame, _ i: Int32, _ what: String, _ fn: String) throws -> [Int] {
        let L = f.L
        if lua_type(L, i) == LUA_TNUMBER {
            var ok: Int32 = 0
            let v = lua_tointegerx(L, i, &ok)
            guard ok != 0 else { throw LuaError.message("\(fn): \(what) must be integers, got \(lua_tonumberx(L, i, nil))") }
            return [Int(v)]
        }
        guard lua_type(L, i) == LUA_TTABLE else { throw LuaError.message("\(fn): \(what) must be a number or a table of numbers, got \(f.typeName(i))") }
        let t = lua_absindex(L, i), n = Int(lua_rawlen(L, t))
        var out: [Int] = []
        for k in 1 ... max(n, 1) where n > 0 {
            lua_rawgeti(L, t, lua_Integer(k))
            defer { tide_pop(L, 1) }
            var ok: Int32 = 0
            let v = lua_tointegerx(L, -1, &ok)
            guard ok != 0 else { throw LuaError.message("\(fn): \(what)[\(k)] must be an integer, got \(f.typeName(-1))") }
            out.append(Int(v))
        }
        return out
    }

    /// TT ranks for `order` dims from the value at i: a number (all inner ranks), N-1 numbers,
    /// or N+1 numbers with r_0 = r_N = 1.
    static func ranks(_ f: LuaFrame, _ i: Int32, order: Int, _ fn: String) throws -> [Int] {
        let r = try intList(f, i, "ranks", fn)
        if lua_type(f.L, i) == LUA_TNUMBER { return [Int](repeating: r[0], count: max(order - 1, 0)) }
        if r.count == order - 1 { return r }
        if r.count == order + 1 && r.first == 1 && r.last == 1 { return Array(r.dropFirst().dropLast()) }
        throw LuaError.message("\(fn): expected \(order - 1) ranks (or \(order + 1) with ones at both ends) for \(order) dims, got \(r.count)")
    }

    /// Requires an options table at argument i (a table with named fields, or an empty table).
    static func optionsTable(_ f: LuaFrame, _ i: Int32, _ fn: String) throws -> Int32 {
        guard f.type(i) == LUA_TTABLE else { throw LuaError.message("\(fn): expected an options table, got \(f.typeName(i))") }
        return lua_absindex(f.L, i)
    }

    /// Pushes field `key` of the table at o; throws naming the field when it is missing.
    static func required(_ f: LuaFrame, _ o: Int32, _ key: String, _ fn: String) throws -> Int32 {
        if f.pushField(o, key) == LUA_TNIL {
            tide_pop(f.L, 1)
            throw LuaError.message("\(fn): option '\(key)' is required")
        }
        return lua_gettop(f.L)
    }

    // MARK: progress and logging

    /// A one-line progress display on a terminal (\r updates, at most 10 per second).
    final class ProgressLine {
        let enabled: Bool
        var last = -1.0, shown = false
        init(_ on: Bool) { enabled = on && isatty(1) == 1 }
        func update(_ now: Double, _ text: @autoclosure () -> String, force: Bool = false) {
            guard enabled, force || now - last >= 0.1 else { return }
            last = now
            shown = true
            fputs("\r" + text() + "\u{1B}[K", stdout)
            fflush(stdout)
        }
        func finish() {
            if shown { fputs("\r\u{1B}[K", stdout); fflush(stdout) }
        }
    }

    /// Validates option `log` (a table with a write method, e.g. tide.train.Logger); returns its
    /// absolute index or nil.
    static func logger(_ f: LuaFrame, _ o: Int32?, _ fn: String) throws -> Int32? {
        guard let o = o else { return nil }
        if f.pushField(o, "log") == LUA_TNIL { tide_pop(f.L, 1); return nil }
        let idx = lua_gettop(f.L)  // stays on the stack for the call's duration
        lua_pushstring(f.L, "write")
        let st = tide_pgettable(f.L, idx)
        if st != LUA_OK { throw LuaError.fromStack(f.L, status: st) }
        let ok = lua_type(f.L, -1) == LUA_TFUNCTION
        tide_pop(f.L, 1)
        guard ok else { throw LuaError.message("\(fn): option 'log' must have a write method (a tide.train.Logger), got \(f.typeName(idx))") }
        return idx
    }

    /// log:write(record) with numeric and string fields.
    static func writeLog(_ f: LuaFrame, _ log: Int32, numbers: [(String, Double)], strings: [(String, String)]) throws {
        let L = f.L, top = lua_gettop(L)
        defer { lua_settop(L, top) }
        lua_pushstring(L, "write")
        let st = tide_pgettable(L, log)
        if st != LUA_OK { throw LuaError.fromStack(L, status: st) }
        let fi = lua_gettop(L)
        lua_createtable(L, 0, Int32(numbers.count + strings.count))
        let r = lua_gettop(L)
        for (k, v) in numbers { set(L, r, k) { if v == v.rounded() && abs(v) < 1e15 { lua_pushinteger(L, lua_Integer(v)) } else { lua_pushnumber(L, v) } } }
        for (k, v) in strings { set(L, r, k) { f.push(v) } }
        try f.call(fi, args: [log, r], nresults: 0)
    }

    // MARK: registration

    /// vm.def with a full name for messages ("tide.tt.svd", "tt:full") and `key` as the field.
    static func def(_ vm: LuaVM, _ t: Int32, _ key: String, _ full: String, _ doc: String, _ fn: @escaping (LuaFrame) throws -> Int32) {
        let L = vm.L, abs = lua_absindex(L, t)
        lua_pushstring(L, key)
        vm.pushFunction(name: full, fn)
        vm.setDoc(forValueAt: -1, doc)
        lua_rawset(L, abs)
    }

    static func open(_ vm: LuaVM, _ tide: Int32) {
        let L = vm.L
        let tt = vm.subtable(tide, "tt", "tide.tt: tensor trains (svd, random, TT objects with full/ranks/round/norm/dot/+/*), Stiefel tools, measurement operators, outliers, robust recovery (recover: PSubGM, FRSubGM).")
        openTrainMetatable(vm, tt)
        openOperatorMetatable(vm, tt)
        openTrainFunctions(vm, tt)
        openStiefel(vm, tt)
        openMeasurements(vm, tt)
        openRecovery(vm, tt)
        lua_settop(L, tt - 1)
    }

    static func openTrainMetatable(_ vm: LuaVM, _ tt: Int32) {
        let L = vm.L
        lua_createtable(L, 0, 12)
        let mt = lua_gettop(L)
        vm.setField(mt, "__name", .string(trainKey))
        lua_createtable(L, 0, 16)
        let m = lua_gettop(L)
        def(vm, m, "full", "tt:full", "tt:full() -> the full tensor (d_1, ..., d_N), f64: the cores contracted left to right (one GEMM per core).") { f in
            f.push(try train(f, 1, "tt:full").full()); return 1
        }
        def(vm, m, "ranks", "tt:ranks", "tt:ranks() -> {1, r_1, ..., r_{N-1}, 1} (N + 1 values).") { f in
            f.push(ints: try train(f, 1, "tt:ranks").ranks); return 1
        }
        def(vm, m, "dims", "tt:dims", "tt:dims() -> {d_1, ..., d_N}.") { f in f.push(ints: try train(f, 1, "tt:dims").dims); return 1 }
        def(vm, m, "order", "tt:order", "tt:order() -> N, the number of cores.") { f in f.push(try train(f, 1, "tt:order").order); return 1 }
        def(vm, m, "numel", "tt:numel", "tt:numel() -> prod d_i, the number of entries of the full tensor (like tensor:numel()).") { f in
            let t = try train(f, 1, "tt:numel")
            if let n = t.numel { f.push(n) } else { f.push(t.numelDouble) }
            return 1
        }
        def(vm, m, "numparams", "tt:numparams", "tt:numparams() -> sum r_{i-1} d_i r_i, the number of stored values.") { f in
            f.push(try train(f, 1, "tt:numparams").parameterCount); return 1
        }
        def(vm, m, "cores", "tt:cores", "tt:cores() -> a new list of the core tensors (shared, not copied).") { f in
            let t = try train(f, 1, "tt:cores")
            lua_createtable(f.L, Int32(t.order), 0)
            for (k, c) in t.cores.enumerated() { f.push(c); lua_rawseti(f.L, -2, lua_Integer(k + 1)) }
            return 1
        }
        def(vm, m, "clone", "tt:clone", "tt:clone() -> a train with copied cores.") { f in push(f, try train(f, 1, "tt:clone").copy()); return 1 }
        def(vm, m, "norm", "tt:norm", "tt:norm() -> ||X||_F from the cores (left-orthogonalize, then the last core's norm).") { f in
            f.push(try train(f, 1, "tt:norm").norm()); return 1
        }
        def(vm, m, "dot", "tt:dot", "tt:dot(other) -> <X, Y> by a left-to-right sweep (O(N d r^3)).") { f in
            f.push(try train(f, 1, "tt:dot").dot(train(f, 2, "tt:dot"), op: "tt:dot")); return 1
        }
        def(vm, m, "orthogonalize", "tt:orthogonalize", "tt:orthogonalize([side = 'left'] | {side =}) -> the same tensor with cores 1..N-1 left-orthogonal (L^T L = I; the scale in the last core) or, for 'right', cores 2..N right-orthogonal (QR sweeps).") { f in
            let t = try train(f, 1, "tt:orthogonalize")
            let s = f.type(2) == LUA_TSTRING ? try f.string(2) : (try f.stringOption(f.options(2), "side", fn: "tt:orthogonalize") ?? "left")
            guard let side = TensorTrain.Side(rawValue: s) else { throw LuaError.message("tt:orthogonalize: side must be 'left' or 'right', got '\(s)'") }
            push(f, try t.orthogonalized(side)); return 1
        }
        def(vm, m, "orth_error", "tt:orth_error", "tt:orth_error([side = 'left']) -> max_i ||L(X_i)^T L(X_i) - I||_F over cores 1..N-1 ('right': ||R(X_i) R(X_i)^T - I||_F over cores 2..N).") { f in
            let t = try train(f, 1, "tt:orth_error")
            let s = try f.optString(2, "left") ?? "left"
            guard s == "left" || s == "right" else { throw LuaError.message("tt:orth_error: side must be 'left' or 'right', got '\(s)'") }
            f.push(s == "left" ? try t.leftOrthogonalityDefect() : try t.rightOrthogonalityDefect()); return 1
        }
        def(vm, m, "round", "tt:round", "tt:round({ranks = ...} | {eps = ...}) -> rounded train, info. TT-rounding (recompression): right-orthogonalize, then truncated SVDs left to right; the result is left-orthogonal. info = {bound = sqrt(sum eps_i^2) >= ||X - round(X)||_F, discarded = {eps_i}, norm}.") { f in
            let t = try train(f, 1, "tt:round")
            let (r, e) = try rankOrEps(f, 2, order: t.order, "tt:round")
            let res = try t.rounded(ranks: r, eps: e)
            push(f, res.tt); pushInfo(f, res); return 2
        }
        lua_pushstring(L, "__index"); lua_pushvalue(L, m); lua_rawset(L, mt)
        vm.setDoc(forValueAt: m, "tide.tt.methods: the methods of a tide.tt.TT train (full, ranks, dims, order, numel, numparams, cores, clone, norm, dot, orthogonalize, orth_error, round); operators + - * / and unary minus.")
        lua_pushstring(L, "methods"); lua_pushvalue(L, m); lua_rawset(L, tt)  // tide.tt.methods (for help)
        tide_pop(L, 1)
        vm.def(mt, "__tostring", "") { f in
            let t = try train(f, 1, "tostring")
            f.push("tide.tt.TT(dims \(t.dims.map(String.init).joined(separator: "x")), ranks \(t.ranks.map(String.init).joined(separator: "-")), \(t.parameterCount) values)")
            return 1
        }
        vm.def(mt, "__len", "") { f in f.push(try train(f, 1, "#tt").order); return 1 }
        vm.def(mt, "__add", "") { f in
            push(f, try train(f, 1, "tt + tt").adding(train(f, 2, "tt + tt"), op: "tt + tt")); return 1
        }
        vm.def(mt, "__sub", "") { f in
            push(f, try train(f, 1, "tt - tt").adding(train(f, 2, "tt - tt").scaled(-1), op: "tt - tt")); return 1
        }
        vm.def(mt, "__unm", "") { f in push(f, try train(f, 1, "-tt").scaled(-1)); return 1 }
        vm.def(mt, "__mul", "") { f in
            if f.type(1) == LUA_TNUMBER { push(f, try train(f, 2, "tt * number").scaled(f.number(1))); return 1 }
            guard f.type(2) == LUA_TNUMBER else { throw LuaError.message("tt * x: x must be a number, got \(f.typeName(2)) (use tide.tt.dot for inner products)") }
            push(f, try train(f, 1, "tt * number").scaled(f.number(2))); return 1
        }
        vm.def(mt, "__div", "") { f in
            guard f.type(2) == LUA_TNUMBER else { throw LuaError.message("tt / x: x must be a number, got \(f.typeName(2))") }
            push(f, try train(f, 1, "tt / number").scaled(1 / f.number(2))); return 1
        }
        lua_pushstring(L, trainKey); lua_pushvalue(L, mt); lua_rawset(L, tide_registryindex())
        tide_pop(L, 1)
    }

    /// {ranks = ...} / {eps = ...} at argument i (or a number / list of ranks directly).
    static func rankOrEps(_ f: LuaFrame, _ i: Int32, order: Int, _ fn: String) throws -> ([Int]?, Double?) {
        if f.type(i) == LUA_TNUMBER || (f.type(i) == LUA_TTABLE && !f.isOptionsTable(i) && lua_rawlen(f.L, i) > 0) {
            return (try ranks(f, i, order: order, fn), nil)
        }
        guard let o = try f.options(i) else { return (nil, nil) }
        try f.checkOptionKeys(o, ["ranks", "eps"], fn: fn)
        var r: [Int]? = nil
        if f.pushField(o, "ranks") != LUA_TNIL { r = try ranks(f, lua_gettop(f.L), order: order, fn) }
        tide_pop(f.L, 1)
        let e = try f.numberOption(o, "eps", fn: fn)
        return (r, e)
    }

    static func pushInfo(_ f: LuaFrame, _ r: TTSVDResult) {
        let L = f.L
        lua_createtable(L, 0, 4)
        let t = lua_gettop(L)
        set(L, t, "bound") { f.push(r.bound) }
        set(L, t, "norm") { f.push(r.norm) }
        set(L, t, "rel_bound") { f.push(r.norm > 0 ? r.bound / r.norm : 0) }
        set(L, t, "discarded") { pushNumbers(L, r.discarded) }
    }

    static func openTrainFunctions(_ vm: LuaVM, _ tt: Int32) {
        def(vm, tt, "TT", "tide.tt.TT", "tide.tt.TT(cores) -> a train from a list of 3-d tensors (r_{i-1}, d_i, r_i) with r_0 = r_N = 1 (converted to f64).") { f in
            _ = try f.table(1)
            let n = Int(lua_rawlen(f.L, 1))
            var cores: [Tensor] = []
            for k in 1 ... max(n, 1) where n > 0 {
                lua_rawgeti(f.L, 1, lua_Integer(k))
                guard let c = TensorUserdata.tensor(f.L, at: -1) else { throw f.argError(1, "core \(k) must be a tensor, got \(f.typeName(-1))") }
                cores.append(c)
                tide_pop(f.L, 1)
            }
            push(f, try TensorTrain(cores: cores, op: "tide.tt.TT")); return 1
        }
        def(vm, tt, "is_tt", "tide.tt.is_tt", "tide.tt.is_tt(v) -> true when v is a tide.tt.TT train.") { f in f.push(isInstance(f.L, 1, trainKey)); return 1 }
        def(vm, tt, "svd", "tide.tt.svd", "tide.tt.svd(X, {ranks = ...} | {eps = ...}) -> tt, info. TT-SVD (Oseledets; spec 1.3): sequential truncated SVDs of the row-major unfoldings; cores 1..N-1 left-orthogonal. ranks: a number, N-1 numbers or N+1 with ones at the ends (caps); eps: relative accuracy (each step drops at most eps ||X|| / sqrt(N-1)); neither: exact. info = {bound = sqrt(sum eps_i^2) (>= ||X - full(tt)||_F), rel_bound, discarded = {eps_i}, norm = ||X||_F}.") { f in
            let x = try f.tensor(1)
            let (r, e) = try rankOrEps(f, 2, order: x.dim, "tide.tt.svd")
            let res = try TTSVD.decompose(x, ranks: r, eps: e, op: "tide.tt.svd")
            push(f, res.tt); pushInfo(f, res); return 2
        }
        def(vm, tt, "full", "tide.tt.full", "tide.tt.full(tt) -> tt:full().") { f in f.push(try train(f, 1, "tide.tt.full").full()); return 1 }
        def(vm, tt, "dot", "tide.tt.dot", "tide.tt.dot(a, b) -> <a, b> (trains of equal dims) without forming either.") { f in
            f.push(try train(f, 1, "tide.tt.dot").dot(train(f, 2, "tide.tt.dot"))); return 1
        }
        def(vm, tt, "norm", "tide.tt.norm", "tide.tt.norm(tt) -> ||tt||_F without forming it.") { f in f.push(try train(f, 1, "tide.tt.norm").norm()); return 1 }
        def(vm, tt, "random", "tide.tt.random", "tide.tt.random(dims, ranks [, {generator =, normalize = false}]) -> a train with i.i.d. N(0, 1) cores; ranks capped at the feasible TT ranks; normalize: scaled to ||X||_F = 1.") { f in
            let dims = try intList(f, 1, "dims", "tide.tt.random")
            let r = try ranks(f, 2, order: dims.count, "tide.tt.random")
            let o = try f.options(3)
            if let o = o { try f.checkOptionKeys(o, ["generator", "normalize"], fn: "tide.tt.random") }
            push(f, try TensorTrain.random(dims: dims, ranks: r, normalize: (f.boolOption(o, "normalize", fn: "tide.tt.random") ?? false),
                                           generator: MathBindings.generator(f, o), op: "tide.tt.random"))
            return 1
        }
    }

    static func openStiefel(_ vm: LuaVM, _ tt: Int32) {
        let s = vm.subtable(tt, "stiefel", "tide.tt.stiefel: tools on St(n, k) = {L : L^T L = I} (spec 1.4): sym, project, retract (polar [Tide choice: default] or qr), polar, qf.")
        def(vm, s, "sym", "tide.tt.stiefel.sym", "tide.tt.stiefel.sym(B) -> (B + B^T) / 2.") { f in f.push(try Stiefel.sym(f.tensor(1), op: "tide.tt.stiefel.sym")); return 1 }
        def(vm, s, "project", "tide.tt.stiefel.project", "tide.tt.stiefel.project(L, G) -> P_L(G) = G - L sym(L^T G): the tangent-space projection at L (n, k) for the embedded metric.") { f in
            f.push(try Stiefel.project(f.tensor(1), f.tensor(2), op: "tide.tt.stiefel.project")); return 1
        }
        def(vm, s, "retract", "tide.tt.stiefel.retract", "tide.tt.stiefel.retract(L, xi [, {method = 'polar' | 'qr'}]) -> Retr_L(xi): polar(L + xi) = U V^T (thin SVD; the default, [Tide choice]) or qf(L + xi) with diag(R) > 0.") { f in
            let o = try f.options(3)
            let kind = try (f.choiceOption(o, "method", fn: "tide.tt.stiefel.retract") ?? Stiefel.Retraction.polar)
            f.push(try Stiefel.retract(f.tensor(1), f.tensor(2), kind, op: "tide.tt.stiefel.retract")); return 1
        }
        def(vm, s, "polar", "tide.tt.stiefel.polar", "tide.tt.stiefel.polar(A) -> U V^T from the thin SVD of A (n, k), n >= k.") { f in
            f.push(try Stiefel.polar(f.tensor(1), op: "tide.tt.stiefel.polar")); return 1
        }
        def(vm, s, "qf", "tide.tt.stiefel.qf", "tide.tt.stiefel.qf(A) -> the Q factor of A (n, k) with diag(R) > 0.") { f in
            f.push(try Stiefel.qf(f.tensor(1), op: "tide.tt.stiefel.qf")); return 1
        }
        vm.vmPop(1)
    }

    static func openOperatorMetatable(_ vm: LuaVM, _ tt: Int32) {
        let L = vm.L
        lua_createtable(L, 0, 4)
        let mt = lua_gettop(L)
        vm.setField(mt, "__name", .string(operatorKey))
        lua_createtable(L, 0, 4)
        let m = lua_gettop(L)
        def(vm, m, "apply", "op:apply", "op:apply(x) -> A(x): x of shape dims (or D values) -> (m); x (B, dims...) -> (B, m) (one GEMM); x may also be a tide.tt.TT. Real operator on real x: f64, else c128.") { f in
            let op = try measurementOperator(f, 1, "op:apply")
            if isInstance(f.L, 2, trainKey) { f.push(try op.apply(train(f, 2, "op:apply"), op: "op:apply")); return 1 }
            f.push(try op.apply(f.tensor(2), op: "op:apply")); return 1
        }
        def(vm, m, "adjoint", "op:adjoint", "op:adjoint(y) -> A*(y) = sum_i conj(A_i) y_i: (m) -> dims, (B, m) -> (B, dims...). <A x, y> = <x, A* y>.") { f in
            f.push(try measurementOperator(f, 1, "op:adjoint").adjoint(f.tensor(2), op: "op:adjoint")); return 1
        }
        def(vm, m, "matrix", "op:matrix", "op:matrix() -> the (m, D) matrix (row i = vec(A_i), row-major).") { f in
            f.push(try measurementOperator(f, 1, "op:matrix").matrix); return 1
        }
        lua_pushstring(L, "__index"); lua_pushvalue(L, m); lua_rawset(L, mt)
        tide_pop(L, 1)
        vm.def(mt, "__tostring", "") { f in
            let op = try measurementOperator(f, 1, "tostring")
            f.push("tide.tt.Operator(\(op.kind?.rawValue ?? "given"), m = \(op.m), dims \(op.dims.map(String.init).joined(separator: "x")))")
            return 1
        }
        lua_pushstring(L, operatorKey); lua_pushvalue(L, mt); lua_rawset(L, tide_registryindex())
        tide_pop(L, 1)
    }

    static func openMeasurements(_ vm: LuaVM, _ tt: Int32) {
        def(vm, tt, "measurements", "tide.tt.measurements", "tide.tt.measurements(m, dims [, {kind = 'gaussian', scale = 1, normalize = false, generator =}]) -> op. A dense (m, D) operator with i.i.d. entries: 'gaussian' N(0,1), 'rademacher' +-1, 'complex_gaussian' CN(0,1), 'complex_rademacher' (+-1 +- i)/sqrt(2); times scale (normalize = true: 1/sqrt(m)). op.A is the matrix; op:apply(x), op:adjoint(y).") { f in
            let fn = "tide.tt.measurements"
            let m = try f.integer(1)
            let dims = try intList(f, 2, "dims", fn)
            let o = try f.options(3)
            if let o = o { try f.checkOptionKeys(o, ["kind", "scale", "normalize", "generator"], fn: fn) }
            let kind = try (f.choiceOption(o, "kind", fn: fn) ?? MeasurementOperator.Kind.gaussian)
            var scale = try f.numberOption(o, "scale", fn: fn) ?? 1
            if try (f.boolOption(o, "normalize", fn: fn) ?? false) { scale /= Double(max(m, 1)).squareRoot() }
            push(f, try MeasurementOperator(kind: kind, m: m, dims: dims, scale: scale, generator: MathBindings.generator(f, o), op: fn))
            return 1
        }
        def(vm, tt, "operator", "tide.tt.operator", "tide.tt.operator(A, dims) -> an operator from a given (m, D) matrix (real or complex).") { f in
            push(f, try MeasurementOperator(matrix: f.tensor(1), dims: intList(f, 2, "dims", "tide.tt.operator"), op: "tide.tt.operator"))
            return 1
        }
        def(vm, tt, "outliers", "tide.tt.outliers", "tide.tt.outliers(clean [, {fraction = 0.1, scale = 10, distribution = 'gaussian', placement = 'random', generator =}]) -> s, idx. The outlier vector for clean measurements A(X*) (m): floor(fraction m) nonzeros at idx (1-based i64). distribution: 'gaussian' scale N(0,1) [Tide choice], 'uniform' scale U(-1,1), 'constant' +scale, 'adversarial' -<A_i,X*> + scale, 'flip' -2<A_i,X*>; placement: 'random' or 'largest' |<A_i,X*>|.") { f in
            let fn = "tide.tt.outliers"
            let o = try f.options(2)
            if let o = o { try f.checkOptionKeys(o, ["fraction", "scale", "distribution", "placement", "generator"], fn: fn) }
            let c = try Outliers.make(clean: f.tensor(1), fraction: f.numberOption(o, "fraction", fn: fn) ?? 0.1,
                                      scale: f.numberOption(o, "scale", fn: fn) ?? 10,
                                      distribution: (f.choiceOption(o, "distribution", fn: fn) ?? Outliers.Distribution.gaussian),
                                      placement: (f.choiceOption(o, "placement", fn: fn) ?? Outliers.Placement.random),
                                      generator: MathBindings.generator(f, o), op: fn)
            f.push(c.values)
            f.push(try Tensor(array: c.indices.map { Double($0 + 1) }, shape: [c.indices.count], dtype: .i64))
            return 2
        }
        def(vm, tt, "add_noise", "tide.tt.add_noise", "tide.tt.add_noise(y, sigma [, {generator =}]) -> y + sigma N(0,1) (complex y: + sigma CN(0,1)).") { f in
            f.push(try Outliers.addNoise(f.tensor(1), sigma: f.number(2), generator: MathBindings.generator(f, f.options(3)), op: "tide.tt.add_noise"))
            return 1
        }
        def(vm, tt, "problem", "tide.tt.problem", "tide.tt.problem{dims =, ranks =, m =, fraction = 0, scale = 10, distribution = 'gaussian', placement = 'random', noise = 0, kind = 'gaussian', operator_scale = 1, normalize = true, seed = 0} -> {truth = TT (||X*|| = 1 unless normalize = false, left-orthogonal), truth_full, op, clean = A(X*), y, outliers = s, outlier_idx, f_star = ||y - A(X*)||_1 / m}. Separate random streams (from seed) for truth, operator, outliers and noise.") { f in
            let fn = "tide.tt.problem"
            let o = try optionsTable(f, 1, fn)
            try f.checkOptionKeys(o, ["dims", "ranks", "m", "fraction", "scale", "distribution", "placement", "noise", "kind", "operator_scale", "normalize", "seed"], fn: fn)
            let dims = try intList(f, required(f, o, "dims", fn), "dims", fn); tide_pop(f.L, 1)
            let r = try ranks(f, required(f, o, "ranks", fn), order: dims.count, fn); tide_pop(f.L, 1)
            guard let m = try f.intOption(o, "m", fn: fn) else { throw LuaError.message("\(fn): option 'm' is required") }
            let p = try RecoveryProblem(dims: dims, ranks: r, m: m, fraction: f.numberOption(o, "fraction", fn: fn) ?? 0,
                                        scale: f.numberOption(o, "scale", fn: fn) ?? 10,
                                        distribution: (f.choiceOption(o, "distribution", fn: fn) ?? Outliers.Distribution.gaussian),
                                        placement: (f.choiceOption(o, "placement", fn: fn) ?? Outliers.Placement.random),
                                        noise: f.numberOption(o, "noise", fn: fn) ?? 0,
                                        kind: (f.choiceOption(o, "kind", fn: fn) ?? MeasurementOperator.Kind.gaussian),
                                        operatorScale: f.numberOption(o, "operator_scale", fn: fn) ?? 1,
                                        normalize: (f.boolOption(o, "normalize", fn: fn) ?? true),
                                        seed: UInt64(bitPattern: Int64(f.intOption(o, "seed", fn: fn) ?? 0)), name: fn)
            let L = f.L
            lua_createtable(L, 0, 8)
            let t = lua_gettop(L)
            set(L, t, "truth") { push(f, p.truth) }
            set(L, t, "truth_full") { f.push(p.truthFull) }
            set(L, t, "op") { push(f, p.op) }
            set(L, t, "clean") { f.push(p.clean) }
            set(L, t, "y") { f.push(p.y) }
            set(L, t, "outliers") { f.push(p.corruption.values) }
            let idx = try Tensor(array: p.corruption.indices.map { Double($0 + 1) }, shape: [p.corruption.indices.count], dtype: .i64)
            set(L, t, "outlier_idx") { f.push(idx) }
            set(L, t, "f_star") { f.push(p.fStar) }
            return 1
        }
    }

    static func lossOpt(_ f: LuaFrame, _ i: Int32, _ fn: String) throws -> RecoveryOptions.Loss {
        try (f.choiceOption(f.options(i), "loss", fn: fn) ?? RecoveryOptions.Loss.l1)
    }

    static func openRecovery(_ vm: LuaVM, _ tt: Int32) {
        def(vm, tt, "loss", "tide.tt.loss", "tide.tt.loss(X, op, y [, {loss = 'l1'}]) -> f(X): (1/m)||A(X) - y||_1, or (1/(2m))||A(X) - y||^2 for 'l2'. X: a tensor or a train.") { f in
            let fn = "tide.tt.loss"
            f.push(try TTRecovery.loss(op: measurementOperator(f, 2, fn), y: f.tensor(3), x: fullArg(f, 1, fn), loss: lossOpt(f, 4, fn), name: fn)); return 1
        }
        def(vm, tt, "subgradient", "tide.tt.subgradient", "tide.tt.subgradient(X, op, y [, {loss = 'l1'}]) -> G = (1/m) A^T sign(A(X) - y) (sign(0) = 0), or (1/m) A^T (A(X) - y) for 'l2'; shape dims.") { f in
            let fn = "tide.tt.subgradient"
            f.push(try TTRecovery.subgradient(op: measurementOperator(f, 2, fn), y: f.tensor(3), x: fullArg(f, 1, fn), loss: lossOpt(f, 4, fn), name: fn)); return 1
        }
        def(vm, tt, "core_gradients", "tide.tt.core_gradients", "tide.tt.core_gradients(tt, op, y [, {loss = 'l1'}]) -> {dX_1, ..., dX_N}: the Euclidean (sub)gradients of f(full(tt)) with respect to each core (chain rule, two GEMMs per core; what FRSubGM projects and retracts).") { f in
            let fn = "tide.tt.core_gradients"
            let gs = try TTRecovery.coreGradients(op: measurementOperator(f, 2, fn), y: f.tensor(3), tt: train(f, 1, fn), loss: lossOpt(f, 4, fn), name: fn)
            lua_createtable(f.L, Int32(gs.count), 0)
            for (k, g) in gs.enumerated() { f.push(g); lua_rawseti(f.L, -2, lua_Integer(k + 1)) }
            return 1
        }
        def(vm, tt, "spectral_init", "tide.tt.spectral_init", "tide.tt.spectral_init(op, y, ranks [, {truncation = 3, truncation_stat = 'median', rescale = true, plain = false}]) -> the truncated spectral estimate (spec 2.4, [Tide choice]): SVD^tt_r((1/m) sum_i y_i 1{|y_i| <= c median|y|} A_i), rescaled to norm median|y| / 0.6745. plain = true: no truncation.") { f in
            let fn = "tide.tt.spectral_init"
            let op = try measurementOperator(f, 1, fn)
            let r = try ranks(f, 3, order: op.dims.count, fn)
            let o = try f.options(4)
            if let o = o { try f.checkOptionKeys(o, ["truncation", "truncation_stat", "rescale", "plain"], fn: fn) }
            let plain = try (f.boolOption(o, "plain", fn: fn) ?? false)
            push(f, try TTRecovery.spectralInit(op: op, y: f.tensor(2), ranks: r, truncation: plain ? nil : (f.numberOption(o, "truncation", fn: fn) ?? 3),
                                                stat: (f.choiceOption(o, "truncation_stat", fn: fn) ?? RecoveryOptions.TruncationStat.median),
                                                rescale: (f.boolOption(o, "rescale", fn: fn) ?? true), name: fn))
            return 1
        }
        def(vm, tt, "recover", "tide.tt.recover", recoverDoc) { f in try recover(f) }
        def(vm, tt, "trials", "tide.tt.trials", trialsDoc) { f in try trials(f) }
    }

    static let recoverDoc = """
    tide.tt.recover{op =, y =, ranks =, method = 'psubgm' | 'frsubgm', ...} -> estimate (tide.tt.TT), history.
    Robust TT recovery from y = A(X*) + outliers (spec 2). Options (defaults [Tide choice] unless noted):
      loss = 'l1' | 'l2'          l2 = the least-squares (IHT) baseline
      schedule = 'geometric' | 'constant' | 'polyak'   (l1: geometric; l2: constant)
      lambda (0.5 for l1, in units of ||X_0||_F; l2: 1 (psubgm) / 0.5 (frsubgm), absolute), lambda_units = 'norm' | 'absolute'
      q (0.9 psubgm, 0.99 frsubgm), iters (200 / 1500), tol = 1e-12 (relative change), min_step = 1e-14 (of mu_0), stop_err = 1e-12 (with truth)
      init = 'spectral' | 'plain' | 'truth_noise' | a TT, init_noise = 0.1, truncation = 3, truncation_stat = 'median' | 'mean', rescale = true
      retraction = 'polar' | 'qr', fr_scale = 'norm2' [group] | 'none', fr_update = 'simultaneous' [reconstructed] | 'sequential'
      f_star (Polyak), truth (TT or tensor, for rel_err), generator (truth_noise), progress = true (a \\r line on a terminal),
      log = a tide.train.Logger (one JSON record per log_every iterations), log_every = 1, label
    history = {loss = {...}, rel_err = {...}, step = {...}, time = {...} (per iteration), init_loss, init_err, init_time,
      iterations, stop_reason, step0, iterate_bytes, workspace_bytes, operator_bytes, time_per_iter, method, loss_kind}
    """


    /// The RecoveryOptions fields shared by tide.tt.recover and tide.tt.trials.
    static func recoveryOptions(_ f: LuaFrame, _ o: Int32, _ fn: String) throws -> RecoveryOptions {
        let method = try (f.choiceOption(o, "method", fn: fn) ?? RecoveryOptions.Method.psubgm)
        let loss = try (f.choiceOption(o, "loss", fn: fn) ?? RecoveryOptions.Loss.l1)
        var opts = RecoveryOptions(method: method, loss: loss)
        opts.schedule = try (f.choiceOption(o, "schedule", fn: fn) ?? opts.schedule)
        opts.lambda = try f.numberOption(o, "lambda", fn: fn) ?? opts.lambda
        opts.lambdaUnits = try (f.choiceOption(o, "lambda_units", fn: fn) ?? opts.lambdaUnits)
        opts.q = try f.numberOption(o, "q", fn: fn) ?? opts.q
        opts.iterations = try f.intOption(o, "iters", fn: fn) ?? opts.iterations
        opts.tol = try f.numberOption(o, "tol", fn: fn) ?? opts.tol
        opts.minStep = try f.numberOption(o, "min_step", fn: fn) ?? opts.minStep
        opts.stopError = try f.numberOption(o, "stop_err", fn: fn) ?? opts.stopError
        opts.initNoise = try f.numberOption(o, "init_noise", fn: fn) ?? opts.initNoise
        opts.truncation = try f.numberOption(o, "truncation", fn: fn) ?? opts.truncation
        opts.truncationStat = try (f.choiceOption(o, "truncation_stat", fn: fn) ?? opts.truncationStat)
        opts.rescale = try (f.boolOption(o, "rescale", fn: fn) ?? opts.rescale)
        opts.retraction = try (f.choiceOption(o, "retraction", fn: fn) ?? opts.retraction)
        opts.frScale = try (f.choiceOption(o, "fr_scale", fn: fn) ?? opts.frScale)
        opts.frUpdate = try (f.choiceOption(o, "fr_update", fn: fn) ?? opts.frUpdate)
        opts.fStar = try f.numberOption(o, "f_star", fn: fn)
        opts.generator = try MathBindings.generator(f, o)
        return opts
    }

    static let recoveryKeys: Set<String> = ["method", "loss", "schedule", "lambda", "lambda_units", "q", "iters", "tol", "min_step",
                                            "stop_err", "init", "init_noise", "truncation", "truncation_stat", "rescale", "retraction",
                                            "fr_scale", "fr_update", "f_star", "generator"]

    static let trialsDoc = """
    tide.tt.trials{dims =, ranks =, m = n | {n, ...}, fraction = p | {p, ...}, seeds = 5, threshold = 1e-6, seed = 0, distribution = 'gaussian', placement = 'random', scale = 10, noise = 0, method =, ... (the options of tide.tt.recover, init given as a string)} -> {cell, ...}.
    A phase-transition grid: for every (m, fraction) cell, `seeds` independent instances (tide.tt.problem with seed = seed + 1000 cell + s) recovered with the given options, spread over the cores (one trial per worker, BLAS single-threaded meanwhile). cell = {m, fraction, successes, trials, rate, median_err, errors = {...}, iterations = {...}}; success: final relative error < threshold.
    """

    static func trials(_ f: LuaFrame) throws -> Int32 {
        let fn = "tide.tt.trials", L = f.L
        let o = try optionsTable(f, 1, fn)
        try f.checkOptionKeys(o, recoveryKeys.union(["dims", "ranks", "m", "fraction", "seeds", "threshold", "seed", "distribution",
                                                "placement", "scale", "noise"]), fn: fn)
        let dims = try intList(f, required(f, o, "dims", fn), "dims", fn); tide_pop(L, 1)
        let r = try ranks(f, required(f, o, "ranks", fn), order: dims.count, fn); tide_pop(L, 1)
        let ms = try intList(f, required(f, o, "m", fn), "m", fn); tide_pop(L, 1)
        var fractions: [Double] = [0]
        let ft = f.pushField(o, "fraction")
        if ft == LUA_TNUMBER { fractions = [lua_tonumberx(L, -1, nil)] } else if ft == LUA_TTABLE {
            let n = Int(lua_rawlen(L, -1))
            fractions = try (1 ... max(n, 1)).filter { _ in n > 0 }.map { k in
                lua_rawgeti(L, -1, lua_Integer(k)); defer { tide_pop(L, 1) }
                guard lua_type(L, -1) == LUA_TNUMBER else { throw LuaError.message("\(fn): fraction[\(k)] must be a number, got \(f.typeName(-1))") }
                return lua_tonumberx(L, -1, nil)
            }
        } else if ft != LUA_TNIL { throw LuaError.message("\(fn): option 'fraction' must be a number or a list, got \(f.typeName(-1))") }
        tide_pop(L, 1)
        var opts = try recoveryOptions(f, o, fn)
        if let s = try f.stringOption(o, "init", fn: fn) {
            guard let k = RecoveryOptions.InitKind(rawValue: s), k != .given else {
                throw LuaError.message("\(fn): option 'init' must be 'spectral', 'plain' or 'truth_noise', got '\(s)'")
            }
            opts.initKind = k
        }
        let cells = try RecoveryTrials.run(dims: dims, ranks: r, ms: ms, fractions: fractions, seeds: f.intOption(o, "seeds", fn: fn) ?? 5,
                                           options: opts, threshold: f.numberOption(o, "threshold", fn: fn) ?? 1e-6,
                                           scale: f.numberOption(o, "scale", fn: fn) ?? 10,
                                           distribution: (f.choiceOption(o, "distribution", fn: fn) ?? Outliers.Distribution.gaussian),
                                           placement: (f.choiceOption(o, "placement", fn: fn) ?? Outliers.Placement.random),
                                           noise: f.numberOption(o, "noise", fn: fn) ?? 0,
                                           seed0: UInt64(bitPattern: Int64(f.intOption(o, "seed", fn: fn) ?? 0)), name: fn)
        lua_createtable(L, Int32(cells.count), 0)
        for (i, c) in cells.enumerated() {
            lua_createtable(L, 0, 8)
            let t = lua_gettop(L)
            set(L, t, "m") { f.push(c.m) }
            set(L, t, "fraction") { f.push(c.fraction) }
            set(L, t, "successes") { f.push(c.successes) }
            set(L, t, "trials") { f.push(c.errors.count) }
            set(L, t, "rate") { f.push(c.rate) }
            let sorted = c.errors.sorted()
            set(L, t, "median_err") { f.push(sorted.count % 2 == 1 ? sorted[sorted.count / 2] : 0.5 * (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2])) }
            set(L, t, "errors") { pushNumbers(L, c.errors) }
            set(L, t, "iterations") { pushNumbers(L, c.iterations.map(Double.init)) }
            lua_rawseti(L, -2, lua_Integer(i + 1))
        }
        return 1
    }

    static func recover(_ f: LuaFrame) throws -> Int32 {
        let fn = "tide.tt.recover", L = f.L
        let o = try optionsTable(f, 1, fn)
        try f.checkOptionKeys(o, ["op", "y", "ranks", "method", "loss", "schedule", "lambda", "lambda_units", "q", "iters", "tol",
                             "min_step", "stop_err", "init", "init_noise", "truncation", "truncation_stat", "rescale", "retraction",
                             "fr_scale", "fr_update", "f_star", "truth", "generator", "progress", "log", "log_every", "label"], fn: fn)
        let op = try measurementOperator(f, required(f, o, "op", fn), fn); tide_pop(L, 1)
        guard let y = TensorUserdata.tensor(L, at: try required(f, o, "y", fn)) else {
            throw LuaError.message("\(fn): option 'y' must be a tensor, got \(f.typeName(-1))")
        }
        tide_pop(L, 1)
        let r = try ranks(f, required(f, o, "ranks", fn), order: op.dims.count, fn); tide_pop(L, 1)
        var opts = try recoveryOptions(f, o, fn)
        let method = opts.method, loss = opts.loss
        let initType = f.pushField(o, "init")
        if initType == LUA_TSTRING {
            let s = try f.string(-1)
            guard let k = RecoveryOptions.InitKind(rawValue: s), k != .given else {
                throw LuaError.message("\(fn): option 'init' must be 'spectral', 'plain', 'truth_noise' or a tide.tt.TT, got '\(s)'")
            }
            opts.initKind = k
        } else if initType != LUA_TNIL {
            opts.initTrain = try train(f, lua_gettop(L), fn)
            opts.initKind = .given
        }
        tide_pop(L, 1)
        var truth: Tensor? = nil
        if f.pushField(o, "truth") != LUA_TNIL { truth = try fullArg(f, lua_gettop(L), fn) }
        tide_pop(L, 1)
        let progress = ProgressLine(try (f.boolOption(o, "progress", fn: fn) ?? true))
        let label = try f.stringOption(o, "label", fn: fn) ?? method.rawValue
        let log = try logger(f, o, fn)
        let logEvery = max(try f.intOption(o, "log_every", fn: fn) ?? 1, 1)
        let total = opts.iterations
        let result = try TTRecovery.run(op: op, y: y, ranks: r, options: opts, truth: truth, name: fn) { it in
            progress.update(it.elapsed, "\(label) \(it.t)/\(total)  loss " + String(format: "%.3e", it.loss) + "  err "
                            + String(format: "%.3e", it.relativeError) + "  step " + String(format: "%.2e", it.step), force: it.t == total)
            if let lg = log, it.t % logEvery == 0 {
                try writeLog(f, lg, numbers: [("iter", Double(it.t)), ("loss", it.loss), ("rel_err", it.relativeError), ("step", it.step),
                                              ("time", it.elapsed)], strings: [("method", method.rawValue), ("label", label)])
            }
        }
        progress.finish()
        if log != nil { lua_settop(L, log! - 1) }
        push(f, result.estimate)
        let h = result.history
        lua_createtable(L, 0, 20)
        let t = lua_gettop(L)
        set(L, t, "loss") { pushNumbers(L, h.loss) }
        set(L, t, "rel_err") { pushNumbers(L, h.relativeError) }
        set(L, t, "step") { pushNumbers(L, h.step) }
        set(L, t, "time") { pushNumbers(L, h.time) }
        set(L, t, "init_loss") { f.push(h.initLoss) }
        set(L, t, "init_err") { f.push(h.initRelativeError) }
        set(L, t, "init_time") { f.push(h.initTime) }
        set(L, t, "iterations") { f.push(h.iterations) }
        set(L, t, "stop_reason") { f.push(h.stopReason) }
        set(L, t, "step0") { f.push(h.step0) }
        set(L, t, "iterate_bytes") { f.push(h.iterateBytes) }
        set(L, t, "workspace_bytes") { f.push(h.workspaceBytes) }
        set(L, t, "operator_bytes") { f.push(h.operatorBytes) }
        set(L, t, "time_per_iter") { f.push(h.iterations > 0 ? (h.time.last ?? 0) / Double(h.iterations) : 0) }
        set(L, t, "method") { f.push(method.rawValue) }
        set(L, t, "loss_kind") { f.push(loss.rawValue) }
        return 2
    }
}

extension LuaVM {
    /// Pops n values (after a subtable(...) that is no longer needed on the stack).
    func vmPop(_ n: Int32) { tide_pop(L, n) }
}
