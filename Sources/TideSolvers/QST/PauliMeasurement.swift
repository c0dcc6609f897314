// PauliMeasurement: the shot-noise simulator (brief §4.2): M settings, Q shots each, from a
// seeded Generator, returned grouped by distinct Pauli string (PauliData).
//
//     var o = MeasureOptions(settings: .uniform(100_000)); o.shots = 10
//     let data = try PauliMeasurement.simulate(rho, o, generator: Generator(seed: 1))
//
// Order of random draws (so a seed reproduces a data set): first the M setting codes, then the
// shots setting by setting in that order.
//
// Cost, pauli model: O(M) to draw and group the settings, O(min(K d, d² log d)) for the K
// distinct expectations (PauliSet), then O(1) expected per setting for its Binomial draw
// (a Binomial sampler per distinct string, O(1) per draw for any Q).
// Local model: per distinct X/Y/Z setting the 2^n outcome probabilities are the inverse
// Walsh-Hadamard transform of its 2^n sub-string expectations,
//     p_b = (1/d) Σ_T (−1)^{popcount(b & T)} tr(P_{s,T} ρ),
// each setting draws a Multinomial(Q, p) histogram, and the transform of that histogram over
// Q gives the estimates of all its sub-strings; O(d log d) per setting.
//
// [Tide choice] settings are drawn uniformly from all 4^n strings with replacement, identity
// included (it keeps the linear-inversion estimate unbiased); `excludeIdentity` draws from the
// 4^n − 1 others and `replacement = false` draws M distinct strings.
import TideCore

public struct MeasureOptions: Sendable {
    public enum Settings: Sendable {
        case uniform(Int)        // M settings drawn at random
        case given([UInt64])     // explicit codes (pauli model: any string; local: X/Y/Z only)
    }
    public var settings: Settings
    public var shots = 1
    /// ŷ = tr(Wρ) exactly (no shot noise).
    public var exact = false
    public var model = MeasurementModel.pauli
    public var excludeIdentity = false
    public var replacement = true
    /// Keep each setting's code and outcome (PauliData.settingCodes / outcomes).
    public var keepSettings = false
    public init(settings: Settings) { self.settings = settings }
}

/// Dense indices for codes seen in first-seen order (a table when 4^n is small, else a hash).
struct CodeIndex {
    private var table: [Int32]
    private var dict: [UInt64: Int32] = [:]
    private(set) var codes: [UInt64] = []

    init(limit: UInt64, expected: Int) {
        table = limit <= (1 << 22) || limit <= UInt64(expected) * 4 ? [Int32](repeating: -1, count: Int(limit)) : []
        codes.reserveCapacity(min(expected, Int(min(limit, 1 << 24))))
    }

    mutating func slot(_ c: UInt64) -> Int {
        if !table.isEmpty {
            let s = table[Int(c)]
            if s >= 0 { return Int(s) }
            table[Int(c)] = Int32(codes.count)
        } else {
            if let s = dict[c] { return Int(s) }
            dict[c] = Int32(codes.count)
        }
        codes.append(c)
        return codes.count - 1
    }
}

public enum PauliMeasurement {
    public static func simulate(_ state: Tensor, _ o: MeasureOptions, generator g: Generator) throws -> PauliData {
        let (rho, d, n) = try DensityMatrix.square(state, "measure", what: "a state")
        guard n <= 14 else { throw TensorError("measure: expected at most 14 qubits, got \(n)") }
        try checkState(rho, d)
        guard o.exact || (o.shots >= 1 && o.shots <= 1 << 40) else { throw TensorError("measure: shots must be in 1...2^40, got \(o.shots)") }
        let settings = try drawSettings(o, n: n, g)
        switch o.model {
        case .pauli: return try pauliModel(rho, n: n, settings: settings, o, g)
        case .local: return try localModel(rho, n: n, settings: settings, o, g)
        }
    }

    /// Hermitian to 1e-8 and trace 1 to 1e-6 (probabilities are clipped to [0, 1] afterwards,
    /// so a slightly indefinite state still measures).
    static func checkState(_ rho: Tensor, _ d: Int) throws {
        let p = rho.pointer(C128.self)
        var tr = 0.0, asym = 0.0
        for i in 0 ..< d {
            tr += p[i * d + i].real
            for j in i ..< d { asym = max(asym, (p[i * d + j] - p[j * d + i].conjugate).length) }
        }
        guard asym <= 1e-8 else { throw TensorError("measure: the state must be Hermitian, got max |ρ − ρᴴ| = \(asym)") }
        guard abs(tr - 1) <= 1e-6 else { throw TensorError("measure: the state must have trace 1, got \(tr)") }
    }

    /// The M setting codes in draw order.
    static func drawSettings(_ o: MeasureOptions, n: Int, _ g: Generator) throws -> [UInt64] {
        let limit = PauliString.count(n)
        switch o.settings {
        case .given(let list):
            guard !list.isEmpty else { throw TensorError("measure: expected at least one setting, got an empty list") }
            for c in list {
                guard c < limit else { throw TensorError("measure: setting code \(c) out of range for \(n) qubits (expected 0 to \(limit - 1))") }
                if o.model == .local {
                    for b in 0 ..< n where (c >> UInt64(2 * b)) & 3 == 0 {
                        throw TensorError("measure: local-model settings need X, Y or Z on every qubit, got '\(try PauliString(code: c, n: n).letters)'")
                    }
                }
            }
            return list
        case .uniform(let m):
            guard m >= 1 else { throw TensorError("measure: settings must be >= 1, got \(m)") }
            var pool: UInt64 = limit, offset: UInt64 = 0
            if o.model == .local { pool = 1; for _ in 0 ..< n { pool *= 3 } }
            else if o.excludeIdentity { pool -= 1; offset = 1 }
            func code(_ i: UInt64) -> UInt64 {
                if o.model == .pauli { return i + offset }
                var c: UInt64 = 0, t = i
                for b in 0 ..< n { c |= (1 + t % 3) << UInt64(2 * b); t /= 3 }
                return c
            }
            var out = [UInt64](repeating: 0, count: m)
            if o.replacement {
                for k in 0 ..< m { out[k] = code(g.below(pool)) }
            } else {
                guard UInt64(m) <= pool else {
                    throw TensorError("measure: cannot draw \(m) distinct settings from \(pool) (replacement = false)")
                }
                // Floyd's algorithm: M distinct values of [0, pool) with M draws
                var chosen = Set<UInt64>(minimumCapacity: m)
                var k = 0
                for j in (pool - UInt64(m)) ..< pool {
                    let t = g.below(j + 1)
                    let v = chosen.contains(t) ? j : t
                    chosen.insert(v)
                    out[k] = code(v); k += 1
                }
            }
            return out
        }
    }

    /// Settings grouped: each setting's slot and the distinct codes (first-seen order).
    static func group(_ settings: [UInt64], n: Int) -> ([Int32], [UInt64]) {
        var index = CodeIndex(limit: PauliString.count(n), expected: settings.count)
        var slot = [Int32](repeating: 0, count: settings.count)
        for (k, c) in settings.enumerated() { slot[k] = Int32(index.slot(c)) }
        return (slot, index.codes)
    }

    static func pauliModel(_ rho: Tensor, n: Int, settings: [UInt64], _ o: MeasureOptions, _ g: Generator) throws -> PauliData {
        let m = settings.count, q = o.shots
        let (slot, distinct) = group(settings, n: n)
        let k = distinct.count
        let set = try PauliSet(n: n, codes: distinct)
        var a = [Double](repeating: 0, count: k)
        try a.withUnsafeMutableBufferPointer { try set.expectations(rho.pointer(C128.self), into: $0.baseAddress!) }
        var counts = [Int](repeating: 0, count: k), sums = [Double](repeating: 0, count: k)
        var outcomes: [Double]? = o.keepSettings ? [Double](repeating: 0, count: m) : nil
        var sq = 0.0
        // one sampler per distinct string: its constants are computed once, not per setting
        let samplers = o.exact ? [] : a.map { Binomial(q, min(max((1 + $0) / 2, 0), 1)) }
        try counts.withUnsafeMutableBufferPointer { cnt in
            try sums.withUnsafeMutableBufferPointer { sum in
                for kk in 0 ..< m {
                    if kk & 0xFFFF == 0 { try Cancellation.check() }
                    let s = Int(slot[kk])
                    let y: Double
                    if o.exact { y = a[s] } else { y = Double(2 * samplers[s].draw(g) - q) / Double(q) }
                    cnt[s] += 1; sum[s] += y; sq += y * y
                    if outcomes != nil { outcomes![kk] = y }
                }
            }
        }
        return try PauliData(n: n, model: .pauli, settings: m, shots: o.exact ? 0 : q, excludeIdentity: o.excludeIdentity,
                             codes: distinct, counts: counts, sums: sums, sumSquares: sq, weightedSumSquares: sq,
                             settingCodes: o.keepSettings ? settings : nil, outcomes: outcomes)
    }

    /// In-place unnormalized Walsh-Hadamard transform of d reals.
    static func fwhtReal(_ v: UnsafeMutablePointer<Double>, _ d: Int) {
        var h = 1
        while h < d {
            var i = 0
            while i < d {
                for j in i ..< i + h { let a = v[j], b = v[j + h]; v[j] = a + b; v[j + h] = a - b }
                i += 2 * h
            }
            h *= 2
        }
    }

    static func localModel(_ rho: Tensor, n: Int, settings: [UInt64], _ o: MeasureOptions, _ g: Generator) throws -> PauliData {
        let d = 1 << n, m = settings.count, q = o.shots
        let (slot, distinct) = group(settings, n: n)
        let ks = distinct.count
        guard ks * d <= 1 << 26 else {
            throw TensorError("measure: \(ks) distinct local settings on \(n) qubits need \(ks * d) sub-string slots (at most 2^26); use fewer settings")
        }
        // sub-string T of setting s keeps the letters of the qubits in T: s & spread(T)
        var spread = [UInt64](repeating: 0, count: d), pow3 = [Double](repeating: 1, count: d)
        for t in 0 ..< d {
            for b in 0 ..< n where (t >> b) & 1 == 1 { spread[t] |= 3 << UInt64(2 * b); pow3[t] *= 3 }
        }
        var subIndex = CodeIndex(limit: PauliString.count(n), expected: ks * d)
        var subSlot = [Int32](repeating: 0, count: ks * d)
        for s in 0 ..< ks { for t in 0 ..< d { subSlot[s * d + t] = Int32(subIndex.slot(distinct[s] & spread[t])) } }
        let subs = subIndex.codes, k = subs.count
        let set = try PauliSet(n: n, codes: subs)
        var a = [Double](repeating: 0, count: k)
        try a.withUnsafeMutableBufferPointer { try set.expectations(rho.pointer(C128.self), into: $0.baseAddress!) }

        let probs = UnsafeMutablePointer<Double>.allocate(capacity: o.exact ? 1 : ks * d)
        defer { probs.deallocate() }
        if !o.exact {
            for s in 0 ..< ks {
                let p = probs + s * d
                for t in 0 ..< d { p[t] = a[Int(subSlot[s * d + t])] }
                fwhtReal(p, d)
                var tot = 0.0
                for b in 0 ..< d { p[b] = max(p[b], 0); tot += p[b] }
                for b in 0 ..< d { p[b] /= tot }
            }
        }
        var counts = [Int](repeating: 0, count: k), sums = [Double](repeating: 0, count: k)
        var outcomes: [Double]? = o.keepSettings && !o.exact ? [Double](repeating: 0, count: m * d) : nil
        var sq = 0.0, wsq = 0.0
        let hist = UnsafeMutablePointer<Int>.allocate(capacity: d), y = UnsafeMutablePointer<Double>.allocate(capacity: d)
        defer { hist.deallocate(); y.deallocate() }
        for kk in 0 ..< m {
            if kk & 0xFFF == 0 { try Cancellation.check() }
            let s = Int(slot[kk])
            if o.exact {
                for t in 0 ..< d { y[t] = a[Int(subSlot[s * d + t])] }
            } else {
                Binomial.multinomial(q, probs + s * d, count: d, into: hist, g)
                for b in 0 ..< d { y[b] = Double(hist[b]) }
                if outcomes != nil { for b in 0 ..< d { outcomes![kk * d + b] = y[b] } }
                fwhtReal(y, d)
                let inv = 1 / Double(q)
                for t in 0 ..< d { y[t] *= inv }
            }
            for t in 0 ..< d {
                let j = Int(subSlot[s * d + t])
                counts[j] += 1; sums[j] += y[t]
                sq += y[t] * y[t]; wsq += pow3[t] * y[t] * y[t]
            }
        }
        return try PauliData(n: n, model: .local, settings: m, shots: o.exact ? 0 : q, excludeIdentity: false,
                             codes: subs, counts: counts, sums: sums, sumSquares: sq, weightedSumSquares: wsq,
                             settingCodes: o.keepSettings ? settings : nil, outcomes: outcomes)
    }
}
