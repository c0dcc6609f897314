// QSTBindings: tide.qst, quantum state tomography from Pauli measurements (TideSolvers/QST).
//
//     local rho = tide.qst.random_state(4, {rank = 2, generator = g})       -- (16, 16) c128
//     local p = tide.qst.pauli("XIZY")                                       -- bit masks, no dense matrix
//     print(p:expectation(rho), p * p)                                       -- tr(W ρ), "IIII"
//     local data = tide.qst.measure{state = rho, settings = 10000, shots = 10, generator = g}
//     local est, hist = tide.qst.recover{data = data, rank = 2, truth = rho}
//
// Pauli objects are Lua tables {n, x, z, phase, code, label} sharing one metatable (methods
// apply, expectation, dense, commutes; operators *, ==, tostring). Measurement data are plain
// tables of tensors (codes, counts, sums per distinct string) so real experiments can be fed in
// the same way. Every density matrix is a (d, d) c128 tensor, d = 2^n, qubit 1 the most
// significant bit. Pauli codes are base-4 numbers (I = 0, X = 1, Y = 2, Z = 3, qubit 1 first):
// they are values, not positions, so they start at 0 (the identity).
import CLua
import _CTideShims
import TideCore
import TideSolvers
import Foundation

enum QSTBindings {
    // MARK: small helpers

    static func set(_ L: OpaquePointer, _ t: Int32, _ k: String, _ push: () -> Void) {
        lua_pushstring(L, k); push(); lua_rawset(L, t)
    }
    static func setNumber(_ f: LuaFrame, _ t: Int32, _ k: String, _ v: Double) { set(f.L, t, k) { f.push(v) } }
    static func setInt(_ f: LuaFrame, _ t: Int32, _ k: String, _ v: Int) { set(f.L, t, k) { f.push(v) } }
    static func setBool(_ f: LuaFrame, _ t: Int32, _ k: String, _ v: Bool) { set(f.L, t, k) { f.push(v) } }
    static func setString(_ f: LuaFrame, _ t: Int32, _ k: String, _ v: String) { set(f.L, t, k) { f.push(v) } }
    static func setTensor(_ f: LuaFrame, _ t: Int32, _ k: String, _ v: Tensor) { set(f.L, t, k) { f.push(v) } }
    static func setList(_ f: LuaFrame, _ t: Int32, _ k: String, _ v: [Double]) {
        set(f.L, t, k) {
            lua_createtable(f.L, Int32(v.count), 0)
            for (i, x) in v.enumerated() { lua_pushnumber(f.L, x); lua_rawseti(f.L, -2, lua_Integer(i + 1)) }
        }
    }

    /// Integer values of a 1-d tensor or a Lua list at stack index i (named `what` in errors).
    static func integers(_ f: LuaFrame, _ i: Int32, _ what: String) throws -> [Int64] {
        if let t = TensorUserdata.tensor(f.L, at: i) {
            guard t.dim <= 1, t.dtype == .i64 else {
                throw LuaError.message("\(f.name): \(what) must be a 1-d i64 tensor, got \(t.dtype.rawValue) of shape \(shapeString(t.shape))")
            }
            let c = try t.contiguous()
            return withExtendedLifetime(c) { Array(UnsafeBufferPointer(start: c.pointer(Int64.self), count: c.numel)) }
        }
        guard f.type(i) == LUA_TTABLE else { throw LuaError.message("\(f.name): \(what) must be an i64 tensor or a list, got \(f.typeName(i))") }
        let t = lua_absindex(f.L, i), n = Int(lua_rawlen(f.L, t))
        var out: [Int64] = []
        for k in 0 ..< n {
            lua_rawgeti(f.L, t, lua_Integer(k + 1))
            defer { tide_pop(f.L, 1) }
            var ok: Int32 = 0
            let v = lua_tointegerx(f.L, -1, &ok)
            guard ok != 0 else { throw LuaError.message("\(f.name): \(what)[\(k + 1)] must be an integer, got \(f.typeName(-1))") }
            out.append(Int64(v))
        }
        return out
    }

    /// Float values of a 1-d tensor or a Lua list at stack index i.
    static func doubles(_ f: LuaFrame, _ i: Int32, _ what: String) throws -> [Double] {
        if let t = TensorUserdata.tensor(f.L, at: i) {
            guard t.dim <= 1, !t.dtype.isComplex else {
                throw LuaError.message("\(f.name): \(what) must be a 1-d real tensor, got \(t.dtype.rawValue) of shape \(shapeString(t.shape))")
            }
            return try t.toDoubles()
        }
        guard f.type(i) == LUA_TTABLE else { throw LuaError.message("\(f.name): \(what) must be a tensor or a list of numbers, got \(f.typeName(i))") }
        let t = lua_absindex(f.L, i), n = Int(lua_rawlen(f.L, t))
        var out: [Double] = []
        for k in 0 ..< n {
            lua_rawgeti(f.L, t, lua_Integer(k + 1))
            defer { tide_pop(f.L, 1) }
            var ok: Int32 = 0
            let v = lua_tonumberx(f.L, -1, &ok)
            guard ok != 0 else { throw LuaError.message("\(f.name): \(what)[\(k + 1)] must be a number, got \(f.typeName(-1))") }
            out.append(v)
        }
        return out
    }

    // MARK: Pauli objects

    /// The PauliString of a Pauli object at i (nil when i is not one).
    static func pauliObject(_ f: LuaFrame, _ i: Int32, meta: Int32) throws -> PauliString? {
        let L = f.L
        guard f.type(i) == LUA_TTABLE, lua_getmetatable(L, i) != 0 else { return nil }
        tide_getref(L, meta)
        let same = lua_rawequal(L, -1, -2) != 0
        tide_pop(L, 2)
        guard same else { return nil }
        let t = lua_absindex(L, i)
        func field(_ k: String) throws -> Int64 {
            defer { tide_pop(L, 1) }
            f.pushField(t, k)
            var ok: Int32 = 0
            let v = lua_tointegerx(L, -1, &ok)
            guard ok != 0 else { throw LuaError.message("\(f.name): a Pauli object's field '\(k)' must be an integer, got \(f.typeName(-1))") }
            return Int64(v)
        }
        let n = try field("n"), x = try field("x"), z = try field("z"), k = try field("phase")
        guard x >= 0 && z >= 0 else { throw LuaError.message("\(f.name): a Pauli object's masks must be >= 0") }
        return try PauliString(n: Int(n), x: UInt64(x), z: UInt64(z), phase: Int(k))
    }

    /// A Pauli string from a label, a Pauli object, or a code (needs n).
    static func pauliArg(_ f: LuaFrame, _ i: Int32, meta: Int32, n: Int? = nil, what: String = "Pauli string") throws -> PauliString {
        if let p = try pauliObject(f, i, meta: meta) { return p }
        switch f.type(i) {
        case LUA_TSTRING: return try PauliString(f.string(i))
        case LUA_TNUMBER:
            guard let n = n else { throw LuaError.message("\(f.name): a Pauli code needs the qubit count n") }
            let c = try f.integer(i)
            guard c >= 0 else { throw LuaError.message("\(f.name): Pauli codes are >= 0, got \(c)") }
            return try PauliString(code: UInt64(c), n: n)
        default:
            throw LuaError.message("\(f.name): expected a \(what) (label like 'XIZ', tide.qst.pauli object or code), got \(f.typeName(i))")
        }
    }

    /// Codes of a list of Pauli strings (labels, objects, codes) or an i64 tensor of codes.
    /// Returns the codes and the qubit count (from labels/objects, or `n`).
    static func pauliList(_ f: LuaFrame, _ i: Int32, meta: Int32, n: Int?, what: String) throws -> ([UInt64], Int) {
        if TensorUserdata.tensor(f.L, at: i) != nil {
            guard let n = n else { throw LuaError.message("\(f.name): \(what) given as codes need the qubit count n") }
            let v = try integers(f, i, what)
            for c in v where c < 0 { throw LuaError.message("\(f.name): Pauli codes are >= 0, got \(c)") }
            return (v.map { UInt64($0) }, n)
        }
        guard f.type(i) == LUA_TTABLE else { throw LuaError.message("\(f.name): \(what) must be a list of Pauli strings or an i64 tensor of codes, got \(f.typeName(i))") }
        let t = lua_absindex(f.L, i), count = Int(lua_rawlen(f.L, t))
        guard count > 0 else { throw LuaError.message("\(f.name): \(what) is an empty list") }
        var codes: [UInt64] = [], qubits = n
        for k in 0 ..< count {
            lua_rawgeti(f.L, t, lua_Integer(k + 1))
            defer { tide_pop(f.L, 1) }
            let p = try pauliArg(f, -1, meta: meta, n: qubits, what: "\(what)[\(k + 1)]")
            if let q = qubits, q != p.n {
                throw LuaError.message("\(f.name): \(what)[\(k + 1)] ('\(p.letters)') has \(p.n) qubits, expected \(q)")
            }
            qubits = p.n
            codes.append(p.code)
        }
        return (codes, qubits!)
    }

    static func pushPauli(_ f: LuaFrame, _ p: PauliString, meta: Int32) {
        let L = f.L
        lua_createtable(L, 0, 8)
        let t = lua_gettop(L)
        setInt(f, t, "n", p.n); setInt(f, t, "x", Int(p.x)); setInt(f, t, "z", Int(p.z)); setInt(f, t, "phase", p.phase)
        setInt(f, t, "code", Int(p.code)); setString(f, t, "label", p.description); setString(f, t, "letters", p.letters)
        setInt(f, t, "weight", p.weight); setBool(f, t, "hermitian", p.isHermitian)
        tide_getref(L, meta)
        lua_setmetatable(L, t)
    }

    static func openPauli(_ vm: LuaVM, _ q: Int32) -> Int32 {
        let L = vm.L
        lua_createtable(L, 0, 8)
        let mt = lua_gettop(L)
        vm.setField(mt, "__name", .string("tide.qst.Pauli"))
        lua_pushvalue(L, mt)
        let meta = tide_ref(L)
        lua_pushstring(L, "__index"); lua_pushvalue(L, mt); lua_rawset(L, mt)
        func this(_ f: LuaFrame) throws -> PauliString {
            guard let p = try pauliObject(f, 1, meta: meta) else { throw f.typeError(1, "tide.qst.Pauli") }
            return p
        }
        vm.def(mt, "apply", "p:apply(a [, {side = 'left'}]) -> W a for a (d,) or (d, m), or a W for side = 'right' (a: (m, d)); O(d m) by permuting and scaling, no dense W.") { f in
            let p = try this(f)
            let o = try f.options(3)
            try f.checkOptionKeys(o, ["side"])
            let side = try (f.choiceOption(o, "side", ["left", "right"]) ?? "left")
            f.push(try p.apply(f.tensor(2), right: side == "right")); return 1
        }
        vm.def(mt, "expectation", "p:expectation(rho) -> tr(W rho) (real part), and its imaginary part; O(d). rho: (d, d).") { f in
            let v = try this(f).expectation(f.tensor(2))
            f.push(v.real); f.push(v.imaginary); return 2
        }
        vm.def(mt, "dense", "p:dense() -> the (d, d) c128 matrix, built as kron(σ_1, ..., σ_n) (a test reference; O(4^n)).") { f in
            f.push(try this(f).dense()); return 1
        }
        vm.def(mt, "commutes", "p:commutes(q) -> whether W_p W_q = W_q W_p.") { f in
            let a = try this(f), b = try pauliArg(f, 2, meta: meta, n: a.n)
            guard a.n == b.n else { throw LuaError.message("commutes: \(a.n) vs \(b.n) qubits") }
            f.push(a.commutes(with: b)); return 1
        }
        vm.def(mt, "__mul", "p * q -> the product Pauli string, phase tracked (label '-iXY', ...).") { f in
            guard let a = try pauliObject(f, 1, meta: meta) else { throw f.typeError(1, "tide.qst.Pauli") }
            let b = try pauliArg(f, 2, meta: meta, n: a.n)
            guard a.n == b.n else { throw LuaError.message("pauli product: \(a.n) vs \(b.n) qubits") }
            pushPauli(f, a * b, meta: meta); return 1
        }
        vm.def(mt, "__eq", "p == q: same qubits, masks and phase.") { f in
            let a = try pauliObject(f, 1, meta: meta), b = try pauliObject(f, 2, meta: meta)
            f.push(a != nil && a == b); return 1
        }
        vm.def(mt, "__tostring", "tostring(p) -> its label.") { f in
            f.push(try this(f).description); return 1
        }
        lua_settop(L, mt - 1)
        vm.def(q, "pauli", "tide.qst.pauli(label | code, [n]) -> a Pauli string object: label 'XIZY' (optional prefix '-', 'i', '-i'), or a base-4 code (I=0, X=1, Y=2, Z=3, qubit 1 first) with n qubits. Fields n, x, z (bit masks, qubit 1 = most significant bit), phase (W = i^phase X^x Z^z), code, label, letters, weight, hermitian.") { f in
            let n = f.isNoneOrNil(2) ? nil : try f.integer(2)
            pushPauli(f, try pauliArg(f, 1, meta: meta, n: n), meta: meta); return 1
        }
        return meta
    }

    // MARK: measurement data <-> Lua

    static func pushData(_ f: LuaFrame, _ d: PauliData) throws {
        let L = f.L
        lua_createtable(L, 0, 16)
        let t = lua_gettop(L)
        setInt(f, t, "n", d.n); setString(f, t, "model", d.model.rawValue)
        setInt(f, t, "settings", d.settings); setInt(f, t, "shots", d.shots)
        setBool(f, t, "exact", d.exact); setNumber(f, t, "budget", d.budget)
        setBool(f, t, "exclude_identity", d.excludeIdentity)
        let k = d.codes.count
        let codes = try Tensor(uninitialized: [k], dtype: .i64), counts = try Tensor(uninitialized: [k], dtype: .i64)
        for i in 0 ..< k { codes.pointer(Int64.self)[i] = Int64(d.codes[i]); counts.pointer(Int64.self)[i] = Int64(d.counts[i]) }
        setTensor(f, t, "codes", codes); setTensor(f, t, "counts", counts)
        setTensor(f, t, "sums", try Tensor(array: d.sums, shape: [k], dtype: .f64))
        setNumber(f, t, "sum_sq", d.sumSquares); setNumber(f, t, "weighted_sum_sq", d.weightedSumSquares)
        if let s = d.settingCodes {
            let sc = try Tensor(uninitialized: [s.count], dtype: .i64)
            for i in 0 ..< s.count { sc.pointer(Int64.self)[i] = Int64(s[i]) }
            setTensor(f, t, "setting_codes", sc)
        }
        if let o = d.outcomes {
            let shape = d.model == .pauli ? [d.settings] : [d.settings, d.dimension]
            setTensor(f, t, "outcomes", try Tensor(array: o, shape: shape, dtype: .f64))
        }
    }

    /// PauliData from a data table (as measure returns, or built by hand: n, codes, counts,
    /// sums; or n, setting_codes, outcomes for the pauli model).
    static func readData(_ f: LuaFrame, _ t: Int32) throws -> PauliData {
        let L = f.L
        func has(_ k: String) -> Bool { let ty = f.pushField(t, k); tide_pop(L, 1); return ty != LUA_TNIL }
        let n = try f.optIntField(t, "n", -1)
        guard n >= 1 else { throw LuaError.message("\(f.name): data.n (the qubit count) must be an integer >= 1") }
        let modelName = try (f.choiceOption(t, "model", MeasurementModel.allCases.map(\.rawValue)) ?? "pauli")
        let model = MeasurementModel(rawValue: modelName)!
        let exclude = f.optField(t, "exclude_identity", false)
        let exact = f.optField(t, "exact", false)
        var codes: [UInt64], counts: [Int], sums: [Double], sq: Double? = nil, wsq: Double? = nil
        if has("codes") {
            f.pushField(t, "codes"); defer { tide_pop(L, 1) }
            codes = try integers(f, -1, "data.codes").map { c in
                guard c >= 0 else { throw LuaError.message("\(f.name): data.codes must be >= 0, got \(c)") }
                return UInt64(c)
            }
            f.pushField(t, "counts"); defer { tide_pop(L, 1) }
            guard lua_type(L, -1) != LUA_TNIL else { throw LuaError.message("\(f.name): data.counts is missing (one count per code)") }
            counts = try integers(f, -1, "data.counts").map { Int($0) }
            f.pushField(t, "sums"); defer { tide_pop(L, 1) }
            guard lua_type(L, -1) != LUA_TNIL else { throw LuaError.message("\(f.name): data.sums is missing (the sum of the estimates per code)") }
            sums = try doubles(f, -1, "data.sums")
            if has("sum_sq") { sq = try f.optField(t, "sum_sq", 0) }
            if has("weighted_sum_sq") { wsq = try f.optField(t, "weighted_sum_sq", 0) }
        } else if has("setting_codes") && has("outcomes") && model == .pauli {
            f.pushField(t, "setting_codes"); defer { tide_pop(L, 1) }
            let sc = try integers(f, -1, "data.setting_codes")
            f.pushField(t, "outcomes"); defer { tide_pop(L, 1) }
            let y = try doubles(f, -1, "data.outcomes")
            guard sc.count == y.count else { throw LuaError.message("\(f.name): data.setting_codes has \(sc.count) entries but data.outcomes has \(y.count)") }
            codes = sc.map { UInt64(max($0, 0)) }
            for c in sc where c < 0 { throw LuaError.message("\(f.name): data.setting_codes must be >= 0, got \(c)") }
            counts = [Int](repeating: 1, count: sc.count); sums = y
            sq = y.reduce(0) { $0 + $1 * $1 }; wsq = sq
        } else {
            throw LuaError.message("\(f.name): data needs codes, counts and sums (as tide.qst.measure returns), or setting_codes and outcomes (pauli model)")
        }
        for c in counts where c < 1 || c > 1 << 40 { throw LuaError.message("\(f.name): data.counts must be in 1...2^40, got \(c)") }
        let observations = counts.reduce(0, +)
        let identityCount = zip(codes, counts).filter { $0.0 == 0 }.map(\.1).reduce(0, +)
        let m = try f.optIntField(t, "settings", model == .pauli ? observations : identityCount)
        guard m >= 1 else { throw LuaError.message("\(f.name): data.settings (M) must be >= 1, got \(m)") }
        let q = exact ? 0 : try f.optIntField(t, "shots", 1)
        return try PauliData(n: n, model: model, settings: m, shots: q, excludeIdentity: exclude, codes: codes, counts: counts,
                             sums: sums, sumSquares: sq, weightedSumSquares: wsq)
    }

    static func dataArg(_ f: LuaFrame, _ o: Int32, _ key: String = "data") throws -> PauliData {
        let L = f.L
        guard f.pushField(o, key) == LUA_TTABLE else {
            let got = f.typeName(-1); tide_pop(L, 1)
            throw LuaError.message("\(f.name): option '\(key)' must be a measurement data table (from tide.qst.measure), got \(got)")
        }
        defer { tide_pop(L, 1) }
        return try readData(f, lua_gettop(L))
    }

    // MARK: registration

    static func open(_ vm: LuaVM, _ tide: Int32) {
        let L = vm.L
        let q = vm.subtable(tide, "qst", "tide.qst: quantum state tomography from Pauli measurements: states, Pauli strings as bit masks, the shot-noise simulator (measure), and estimators (recover: Wirtinger gradient descent on rho = U U^H, linear inversion, least squares). See docs/qst.md.")
        let meta = openPauli(vm, q)
        QSTStateBindings.open(vm, q, meta: meta)
        QSTSolverBindings.open(vm, q, meta: meta)
        lua_settop(L, q - 1)
    }
}

// MARK: - states, Pauli batches, distances, the Binomial sampler

enum QSTStateBindings {
    static func vectorOption(_ f: LuaFrame, _ i: Int32) throws -> Bool {
        let o = try f.options(i)
        try f.checkOptionKeys(o, ["vector"])
        return f.optField(o, "vector", false)
    }

    /// One qubit of a product_state spec: a name ("0", "+", ...), or {theta, phi} / {theta =, phi =}.
    static func qubitSpec(_ f: LuaFrame, _ idx: Int32, _ k: Int) throws -> (C128, C128) {
        let L = f.L
        switch f.type(idx) {
        case LUA_TSTRING: return try QuantumStates.qubit(named: f.string(idx))
        case LUA_TTABLE:
            let t = lua_absindex(L, idx)
            func num(_ key: String, _ pos: Int) throws -> Double {
                defer { tide_pop(L, 1) }
                if f.pushField(t, key) == LUA_TNIL { tide_pop(L, 1); lua_rawgeti(L, t, lua_Integer(pos)) }
                var ok: Int32 = 0
                let v = lua_tonumberx(L, -1, &ok)
                guard ok != 0 else { throw LuaError.message("product_state: qubit \(k) needs {theta, phi} numbers, got \(f.typeName(-1)) for \(key)") }
                return v
            }
            return QuantumStates.qubit(theta: try num("theta", 1), phi: try num("phi", 2))
        default:
            throw LuaError.message("product_state: qubit \(k) must be a name ('0', '1', '+', '-', 'r', 'l') or {theta, phi}, got \(f.typeName(idx))")
        }
    }

    static func open(_ vm: LuaVM, _ q: Int32, meta: Int32) {
        vm.def(q, "random_state", "tide.qst.random_state(n [, {rank = 1, purity, generator}]) -> a random rank-r density matrix (d, d) c128. Without purity: V V^H / tr with V (d, r) complex Gaussian [reconstructed generator]; with purity in [1/r, 1]: Haar eigenvectors and spectrum (1-t)/r + t e_1 [Tide choice].") { f in
            let o = try f.options(2)
            try f.checkOptionKeys(o, ["rank", "purity", "generator"])
            let purity = try f.numberOption(o, "purity")
            f.push(try QuantumStates.random(n: f.integer(1), rank: f.optIntField(o, "rank", 1), purity: purity,
                                            generator: MathBindings.generator(f, o)))
            return 1
        }
        vm.def(q, "ghz", "tide.qst.ghz(n [, {vector = false}]) -> the GHZ state (|0..0> + |1..1>)/sqrt(2) as a density matrix (d, d), or its state vector (d,).") { f in
            f.push(try QuantumStates.ghz(n: f.integer(1), vector: vectorOption(f, 2))); return 1
        }
        vm.def(q, "w_state", "tide.qst.w_state(n [, {vector = false}]) -> the W state (|10..0> + |01..0> + ... + |0..01>)/sqrt(n), density matrix (d, d) or vector (d,).") { f in
            f.push(try QuantumStates.wState(n: f.integer(1), vector: vectorOption(f, 2))); return 1
        }
        vm.def(q, "product_state", "tide.qst.product_state(spec [, {vector = false}]) -> a product state, qubit 1 first. spec: a string of '0', '1', '+', '-', 'r' (+i), 'l' (-i), or a list of names and {theta, phi} Bloch angles.") { f in
            var qubits: [(C128, C128)] = []
            if f.type(1) == LUA_TSTRING {
                for ch in try f.string(1) { qubits.append(try QuantumStates.qubit(named: String(ch))) }
            } else if f.type(1) == LUA_TTABLE {
                let t = lua_absindex(f.L, 1)
                for k in 1 ... max(1, Int(lua_rawlen(f.L, t))) where lua_rawlen(f.L, t) > 0 {
                    lua_rawgeti(f.L, t, lua_Integer(k))
                    defer { tide_pop(f.L, 1) }
                    qubits.append(try qubitSpec(f, -1, k))
                }
            } else {
                throw f.typeError(1, "string or table")
            }
            guard !qubits.isEmpty else { throw LuaError.message("product_state: expected at least one qubit, got an empty spec") }
            f.push(try QuantumStates.product(qubits, vector: vectorOption(f, 2))); return 1
        }
        vm.def(q, "expectations", "tide.qst.expectations(rho, paulis) -> (K,) f64 of tr(P rho) for K Pauli strings (labels, objects, or an i64 tensor of codes); grouped by x mask with fast Walsh-Hadamard transforms, no dense Paulis.") { f in
            let (rho, d, n) = try DensityMatrix.square(f.tensor(1), "expectations")
            _ = d
            let (codes, _) = try QSTBindings.pauliList(f, 2, meta: meta, n: n, what: "paulis")
            let set = try PauliSet(n: n, codes: codes)
            let out = try Tensor(uninitialized: [codes.count], dtype: .f64)
            try withExtendedLifetime(rho) { try set.expectations(rho.pointer(C128.self), into: out.pointer(Double.self)) }
            f.push(out); return 1
        }
        vm.def(q, "pauli_sum", "tide.qst.pauli_sum(paulis, coeffs [, n]) -> sum_k coeffs[k] P_k as a dense (d, d) c128 matrix (Hermitian; one Walsh-Hadamard transform per x mask). paulis: labels, objects, or an i64 tensor of codes (then n is needed).") { f in
            let n = f.isNoneOrNil(3) ? nil : try f.integer(3)
            let (codes, qubits) = try QSTBindings.pauliList(f, 1, meta: meta, n: n, what: "paulis")
            let c = try QSTBindings.doubles(f, 2, "coeffs")
            guard c.count == codes.count else { throw LuaError.message("pauli_sum: \(codes.count) Pauli strings but \(c.count) coefficients") }
            let set = try PauliSet(n: qubits, codes: codes)
            let d = 1 << qubits
            let out = try Tensor(uninitialized: [d, d], dtype: .c128)
            try c.withUnsafeBufferPointer { try set.weightedSum($0.baseAddress!, into: out.pointer(C128.self)) }
            f.push(out); return 1
        }
        vm.def(q, "project", "tide.qst.project(h [, {rank}]) -> the nearest density matrix to the Hermitian part of h in Frobenius norm: eigenvalues projected onto the simplex (with rank: the top r kept first).") { f in
            let o = try f.options(2)
            try f.checkOptionKeys(o, ["rank"])
            let r = try f.optIntField(o, "rank", 0)
            f.push(try DensityMatrix.project(f.tensor(1), rank: r > 0 ? r : nil)); return 1
        }
        vm.def(q, "fidelity", "tide.qst.fidelity(a, b) -> the Uhlmann fidelity (tr sqrt(sqrt(a) b sqrt(a)))^2 of two density matrices.") { f in
            f.push(try DensityMatrix.fidelity(f.tensor(1), f.tensor(2))); return 1
        }
        vm.def(q, "trace_distance", "tide.qst.trace_distance(a, b) -> 1/2 ||a - b||_1 (sum of |eigenvalues| of a - b, halved).") { f in
            f.push(try DensityMatrix.traceDistance(f.tensor(1), f.tensor(2))); return 1
        }
        vm.def(q, "frobenius", "tide.qst.frobenius(a, b) -> ||a - b||_F.") { f in
            f.push(try DensityMatrix.frobenius(f.tensor(1), f.tensor(2))); return 1
        }
        vm.def(q, "purity", "tide.qst.purity(rho) -> tr(rho^2).") { f in
            f.push(try DensityMatrix.purity(f.tensor(1))); return 1
        }
        vm.def(q, "is_physical", "tide.qst.is_physical(rho [, {tol = 1e-10}]) -> ok, info: whether rho is Hermitian, PSD and of trace 1 to tol; info = {hermitian_error, min_eigenvalue, trace}.") { f in
            let o = try f.options(2)
            try f.checkOptionKeys(o, ["tol"])
            let tol = try f.optField(o, "tol", 1e-10)
            let (m, d, _) = try DensityMatrix.square(f.tensor(1), "is_physical")
            let p = m.pointer(C128.self)
            var herm = 0.0, tr = 0.0
            withExtendedLifetime(m) {
                for i in 0 ..< d { tr += p[i * d + i].real; for j in 0 ..< d { herm = max(herm, (p[i * d + j] - p[j * d + i].conjugate).length) } }
            }
            let sym = try m.contiguous(force: true)
            DensityMatrix.hermitianize(sym.pointer(C128.self), d)
            let minEig = try Linalg.eigvalsh(sym).toDoubles().min() ?? 0
            f.push(herm <= tol && minEig >= -tol && abs(tr - 1) <= tol)
            lua_createtable(f.L, 0, 3)
            let t = lua_gettop(f.L)
            QSTBindings.setNumber(f, t, "hermitian_error", herm)
            QSTBindings.setNumber(f, t, "min_eigenvalue", minEig)
            QSTBindings.setNumber(f, t, "trace", tr)
            return 2
        }
        vm.def(q, "binomial", "tide.qst.binomial(n, p [, count] [, {generator}]) -> exact Binomial(n, p) draws: one integer, or an i64 tensor of count draws; p may be a tensor (one draw per element). Inversion for n min(p, 1-p) < 10, else Hörmann's BTRS; O(1) expected per draw for any n.") { f in
            let n = try f.integer(1)
            guard n >= 0 && n <= 1 << 53 else { throw f.argError(1, "expected 0 <= n <= 2^53, got \(n)") }
            let o = MathBindings.optionsArg(f, from: 3)
            let g = try MathBindings.generator(f, o)
            func check(_ p: Double) throws -> Double {
                guard p >= 0 && p <= 1 else { throw LuaError.message("binomial: p must be in [0, 1], got \(p)") }
                return p
            }
            if let pt = TensorUserdata.tensor(f.L, at: 2) {
                let ps = try pt.toDoubles()
                let out = try Tensor(uninitialized: pt.shape, dtype: .i64)
                for (i, p) in ps.enumerated() { out.pointer(Int64.self)[i] = Int64(Binomial.sample(n, try check(p), g)) }
                f.push(out); return 1
            }
            let p = try check(f.number(2))
            if f.type(3) == LUA_TNUMBER {
                let count = try f.integer(3)
                guard count >= 0 && count <= 100_000_000 else { throw f.argError(3, "expected 0 <= count <= 1e8, got \(count)") }
                let out = try Tensor(uninitialized: [count], dtype: .i64)
                for i in 0 ..< count { out.pointer(Int64.self)[i] = Int64(Binomial.sample(n, p, g)) }
                f.push(out); return 1
            }
            f.push(Binomial.sample(n, p, g)); return 1
        }
    }
}

// MARK: - measure, recover, loss

enum QSTSolverBindings {
    static let measureKeys: Set<String> = ["state", "settings", "shots", "generator", "model", "exclude_identity",
                                           "replacement", "exact", "keep_settings"]
    static let recoverKeys: Set<String> = ["data", "method", "rank", "truth", "steps", "step_size", "step_rule", "init",
                                           "init_scale", "tol", "normalize_trace", "loss_scale", "metrics_every",
                                           "generator", "project", "progress", "callback", "log"]

    static func open(_ vm: LuaVM, _ q: Int32, meta: Int32) {
        vm.def(q, "measure", "tide.qst.measure{state =, settings = M | list, shots = 1, generator, model = 'pauli', exclude_identity = false, replacement = true, exact = false, keep_settings = false} -> data: simulated Pauli measurements grouped by distinct string {n, model, settings = M, shots = Q, budget = M*Q, exact, codes, counts, sums, sum_sq, ...}. See docs/qst.md.") { f in
            let o = try f.table(1)
            try f.checkOptionKeys(o, measureKeys)
            guard let state = try f.tensorOption(o, "state") else {
                throw LuaError.message("measure: option 'state' must be a density matrix tensor (d, d)")
            }
            let (_, _, n) = try DensityMatrix.square(state, "measure", what: "a state")
            let L = f.L
            var opts: MeasureOptions
            switch f.pushField(o, "settings") {
            case LUA_TNUMBER:
                let m = try f.integer(-1); tide_pop(L, 1)
                guard m >= 1 && m <= 100_000_000 else { throw LuaError.message("measure: settings must be in 1...1e8, got \(m)") }
                opts = MeasureOptions(settings: .uniform(m))
            case LUA_TTABLE, LUA_TUSERDATA:
                defer { tide_pop(L, 1) }
                let (codes, _) = try QSTBindings.pauliList(f, -1, meta: meta, n: n, what: "settings")
                opts = MeasureOptions(settings: .given(codes))
            default:
                let got = f.typeName(-1); tide_pop(L, 1)
                throw LuaError.message("measure: option 'settings' must be a count M or a list of Pauli strings, got \(got)")
            }
            opts.shots = try f.optIntField(o, "shots", 1)
            guard opts.shots <= 1 << 40 else { throw LuaError.message("measure: shots must be <= 2^40, got \(opts.shots)") }
            opts.exact = f.optField(o, "exact", false)
            opts.model = MeasurementModel(rawValue: try (f.choiceOption(o, "model", MeasurementModel.allCases.map(\.rawValue)) ?? "pauli"))!
            opts.excludeIdentity = f.optField(o, "exclude_identity", false)
            opts.replacement = f.optField(o, "replacement", true)
            opts.keepSettings = f.optField(o, "keep_settings", false)
            let data = try PauliMeasurement.simulate(state, opts, generator: MathBindings.generator(f, o))
            try QSTBindings.pushData(f, data)
            return 1
        }

        vm.def(q, "loss", "tide.qst.loss(U, data [, {loss_scale = 'rip'}]) -> f(U), grad: the least-squares loss of rho = U U^H on the data and its real (Wirtinger) gradient 2 df/dconj(U), (d, r) c128.") { f in
            let u = try f.tensor(1)
            let dt = try f.table(2)
            let data = try QSTBindings.readData(f, dt)
            let o = try f.options(3)
            try f.checkOptionKeys(o, ["loss_scale"])
            let scale = PauliObjective.Scale(rawValue: try (f.choiceOption(o, "loss_scale", PauliObjective.Scale.allCases.map(\.rawValue)) ?? "rip"))!
            let (loss, g) = try PauliObjective(data, scale: scale).lossAndGradient(u)
            f.push(loss); f.push(g); return 2
        }

        vm.def(q, "recover", "tide.qst.recover{data =, method = 'wirtinger_gd' | 'linear_inversion' | 'least_squares', rank, truth, steps = 300, step_size = 0.2, step_rule = 'scaled' | 'constant' | 'armijo', init = 'spectral' | 'random' | U0, init_scale, tol = 1e-12, normalize_trace = true, loss_scale = 'rip' | 'mean' | 'sum', metrics_every = 1, generator, project = true, progress = true, callback, log} -> estimate (d, d) c128, history. See docs/qst.md.") { f in
            let o = try f.table(1)
            try f.checkOptionKeys(o, recoverKeys)
            let data = try QSTBindings.dataArg(f, o)
            let method = try (f.choiceOption(o, "method", ["wirtinger_gd", "linear_inversion", "least_squares"]) ?? "wirtinger_gd")
            let truth = try f.tensorOption(o, "truth")
            if let t = truth {
                let (_, d, _) = try DensityMatrix.square(t, "recover", what: "a truth")
                guard d == data.dimension else { throw LuaError.message("recover: truth is \(d)x\(d) but the data are on \(data.n) qubits (\(data.dimension)x\(data.dimension))") }
            }
            let scale = PauliObjective.Scale(rawValue: try (f.choiceOption(o, "loss_scale", PauliObjective.Scale.allCases.map(\.rawValue)) ?? "rip"))!
            if method != "wirtinger_gd" { return try baseline(f, o, data, method, truth, scale) }
            return try wirtinger(f, o, data, truth, scale)
        }
    }

    static func metricsTable(_ f: LuaFrame, _ t: Int32, _ est: Tensor, _ truth: Tensor?) throws {
        guard let truth = truth else { return }
        QSTBindings.setList(f, t, "frobenius", [try DensityMatrix.frobenius(est, truth)])
        QSTBindings.setList(f, t, "trace_distance", [try DensityMatrix.traceDistance(est, truth)])
        QSTBindings.setList(f, t, "fidelity", [try DensityMatrix.fidelity(est, truth)])
    }

    static func baseline(_ f: LuaFrame, _ o: Int32, _ data: PauliData, _ method: String, _ truth: Tensor?,
                         _ scale: PauliObjective.Scale) throws -> Int32 {
        let start = DispatchTime.now().uptimeNanoseconds
        let obj = try PauliObjective(data, scale: scale)
        let raw = method == "linear_inversion" ? try obj.linearInversion() : try obj.leastSquares()
        let rank = try f.optIntField(o, "rank", 0)
        let est = f.optField(o, "project", true) ? try DensityMatrix.project(raw, rank: rank > 0 ? rank : nil) : raw
        let time = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        f.push(est)
        lua_createtable(f.L, 0, 10)
        let t = lua_gettop(f.L)
        QSTBindings.setString(f, t, "method", method)
        QSTBindings.setInt(f, t, "iterations", 0)
        QSTBindings.setBool(f, t, "converged", true)
        QSTBindings.setTensor(f, t, "raw", raw)
        QSTBindings.setList(f, t, "iteration", [0])
        QSTBindings.setList(f, t, "time", [time])
        try metricsTable(f, t, est, truth)
        return 2
    }

    /// Pushes the function obj.name (a raw field, else in the metatable or its __index table);
    /// returns false with the stack unchanged when there is none.
    static func pushMethod(_ f: LuaFrame, _ obj: Int32, _ name: String) -> Bool {
        let L = f.L, base = lua_gettop(L)
        if f.type(obj) == LUA_TTABLE {
            if f.pushField(obj, name) == LUA_TFUNCTION { return true }
            lua_settop(L, base)
        }
        guard lua_getmetatable(L, obj) != 0 else { return false }
        let mt = lua_gettop(L)
        var fn: Int32 = 0
        if f.pushField(mt, name) == LUA_TFUNCTION { fn = lua_gettop(L) }
        else if f.pushField(mt, "__index") == LUA_TTABLE, f.pushField(lua_gettop(L), name) == LUA_TFUNCTION { fn = lua_gettop(L) }
        if fn == 0 { lua_settop(L, base); return false }
        tide_replace(L, base + 1)   // the function takes the metatable's slot
        lua_settop(L, base + 1)
        return true
    }

    /// "1.234e-03"
    static func sci(_ v: Double) -> String { v.isFinite ? String(format: "%.3e", v) : "\(v)" }

    static func wirtinger(_ f: LuaFrame, _ o: Int32, _ data: PauliData, _ truth: Tensor?, _ scale: PauliObjective.Scale) throws -> Int32 {
        let L = f.L
        var rank = try f.optIntField(o, "rank", 0)
        var opts = WirtingerGD.Options(rank: 1)
        switch f.pushField(o, "init") {
        case LUA_TNIL: tide_pop(L, 1)
        case LUA_TSTRING:
            let s = try f.string(-1); tide_pop(L, 1)
            switch s {
            case "spectral": opts.initialization = .spectral
            case "random": opts.initialization = .random
            default: throw LuaError.message("recover: option 'init' must be 'spectral', 'random' or a (d, r) tensor U0, got '\(s)'")
            }
        default:
            guard let u0 = TensorUserdata.tensor(L, at: -1) else {
                let got = f.typeName(-1); tide_pop(L, 1)
                throw LuaError.message("recover: option 'init' must be 'spectral', 'random' or a (d, r) tensor U0, got \(got)")
            }
            tide_pop(L, 1)
            if rank == 0 && u0.dim == 2 { rank = u0.shape[1] }
            opts.initialization = .given(u0)
        }
        guard rank >= 1 else { throw LuaError.message("recover: option 'rank' (an integer >= 1) is required for method 'wirtinger_gd'") }
        opts.rank = rank
        opts.steps = try f.optIntField(o, "steps", 300)
        opts.stepSize = try f.optField(o, "step_size", 0.2)
        opts.stepRule = WirtingerGD.StepRule(rawValue: try (f.choiceOption(o, "step_rule", WirtingerGD.StepRule.allCases.map(\.rawValue)) ?? "scaled"))!
        opts.initScale = try f.numberOption(o, "init_scale")
        opts.tol = try f.optField(o, "tol", 1e-12)
        opts.normalizeTrace = f.optField(o, "normalize_trace", true)
        opts.scale = scale
        opts.metricsEvery = try f.optIntField(o, "metrics_every", 1)
        let g = try MathBindings.generator(f, o)

        // observers: callback(record) -> false stops; log:write(record); a progress line on a tty
        let top = lua_gettop(L)     // restored before the results are pushed
        var callback: Int32? = nil, logger: Int32? = nil, writer: Int32? = nil
        let cbType = f.pushField(o, "callback")
        if cbType == LUA_TFUNCTION { callback = lua_gettop(L) } else if cbType != LUA_TNIL {
            throw LuaError.message("recover: option 'callback' must be a function, got \(f.typeName(-1))")
        }
        if f.pushField(o, "log") != LUA_TNIL {
            logger = lua_gettop(L)
            guard pushMethod(f, logger!, "write") else {
                throw LuaError.message("recover: option 'log' must have a write method (tide.train.Logger), got \(f.typeName(logger!))")
            }
            writer = lua_gettop(L)
        }
        let progress = f.optField(o, "progress", true) && isatty(1) == 1
        var lastPrint = -1.0, printed = false
        func line(_ r: WirtingerGD.Record) -> String {
            var s = "wirtinger_gd \(r.iteration)/\(opts.steps)  loss \(sci(r.loss))"
            if !r.frobenius.isNaN { s += "  error \(sci(r.frobenius))" }
            return s + String(format: "  %.1fs", r.time)
        }
        let observe: ((WirtingerGD.Record) throws -> Bool)? = (callback == nil && writer == nil && !progress) ? nil : { r in
            if progress && (r.time - lastPrint >= 0.1 || r.iteration == opts.steps) {
                lastPrint = r.time; printed = true
                fputs("\r" + line(r) + "\u{1B}[K", stdout); fflush(stdout)
            }
            guard callback != nil || writer != nil else { return true }
            let base = lua_gettop(L)
            defer { lua_settop(L, base) }
            lua_createtable(L, 0, 8)
            let t = lua_gettop(L)
            QSTBindings.setInt(f, t, "iteration", r.iteration)
            QSTBindings.setNumber(f, t, "loss", r.loss); QSTBindings.setNumber(f, t, "step", r.step)
            QSTBindings.setNumber(f, t, "time", r.time); QSTBindings.setNumber(f, t, "trace", r.trace)
            if !r.frobenius.isNaN {
                QSTBindings.setNumber(f, t, "frobenius", r.frobenius)
                QSTBindings.setNumber(f, t, "trace_distance", r.traceDistance)
                QSTBindings.setNumber(f, t, "fidelity", r.fidelity)
            }
            if let w = writer, let lg = logger { try f.call(w, args: [lg, t], nresults: 0) }
            if let cb = callback {
                try f.call(cb, args: [t], nresults: 1)
                if lua_type(L, -1) == LUA_TBOOLEAN && lua_toboolean(L, -1) == 0 { return false }
            }
            return true
        }
        let result: WirtingerGD.Result
        do {
            result = try WirtingerGD.run(data, opts, truth: truth, generator: g, observe: observe)
        } catch {
            if printed { fputs("\n", stdout); fflush(stdout) }
            throw error
        }
        if printed {
            if let r = result.history.last { fputs("\r" + line(r) + "\u{1B}[K", stdout) }
            fputs("\n", stdout); fflush(stdout)
        }
        lua_settop(L, top)
        f.push(result.estimate)
        lua_createtable(L, 0, 16)
        let t = lua_gettop(L)
        let h = result.history
        QSTBindings.setString(f, t, "method", "wirtinger_gd")
        QSTBindings.setInt(f, t, "iterations", result.iterations)
        QSTBindings.setBool(f, t, "converged", result.converged)
        QSTBindings.setNumber(f, t, "step_size", result.stepSize)
        QSTBindings.setInt(f, t, "rank", rank)
        QSTBindings.setTensor(f, t, "factor", result.factor)
        QSTBindings.setList(f, t, "iteration", h.map { Double($0.iteration) })
        QSTBindings.setList(f, t, "loss", h.map(\.loss))
        QSTBindings.setList(f, t, "step", h.map(\.step))
        QSTBindings.setList(f, t, "time", h.map(\.time))
        QSTBindings.setList(f, t, "trace", h.map(\.trace))
        if truth != nil {
            QSTBindings.setList(f, t, "frobenius", h.map(\.frobenius))
            QSTBindings.setList(f, t, "trace_distance", h.map(\.traceDistance))
            QSTBindings.setList(f, t, "fidelity", h.map(\.fidelity))
        }
        return 2
    }
}
