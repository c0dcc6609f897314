// PauliData: Pauli measurement records grouped by distinct string (brief §4.2-4.3).
//
//     let data = try PauliMeasurement.simulate(rho, options, generator: g)
//     data.codes, data.counts, data.sums      // per distinct string P: n_P and S_P = Σ ŷ
//     data.budget                             // M·Q state copies
//
// Every estimator depends on the records only through, per distinct string P, the number of
// observations n_P and the sum S_P of their estimates ŷ (plus Σ ŷ² for the loss constant), so
// that is what is kept: a million single-shot settings on 6 qubits become at most 4096 rows.
//
// Two measurement models [reconstructed; the paper's exact model was not retrievable]:
//   .pauli  (default) each setting is one Pauli string W measured as a two-outcome observable;
//           one observation per setting, ŷ = (2·Binomial(Q, (1 + tr Wρ)/2) − Q)/Q.
//   .local  each setting is a string of X/Y/Z bases, every qubit measured in its basis (2^n
//           outcomes per shot); each setting yields estimates of all 2^n strings obtained by
//           replacing letters with I, so one setting gives d observations.
// Weights w_P and the scale λ of the loss (λ/2) Σ_obs w_P (tr(Pρ) − ŷ)² make both models
// isotropic in expectation, E[loss] = ½‖ρ − ρ*‖_F² + const ("rip" scale):
//   .pauli: λ = d/M, w_P = 1;      .local: λ = 1/(d M), w_P = 3^{|P|} (|P| = weight).
// The same weights give the unbiased linear-inversion estimate ρ̂ = λ Σ_P w_P S_P P.
import TideCore

public enum MeasurementModel: String, Sendable, CaseIterable {
    case pauli, local
}

public struct PauliData: Sendable {
    public var n: Int
    public var model: MeasurementModel
    /// M: number of measurement settings.
    public var settings: Int
    /// Q: shots per setting; 0 means exact expectations (no shot noise).
    public var shots: Int
    /// Settings were drawn from the 4^n − 1 non-identity strings (pauli model).
    public var excludeIdentity: Bool
    /// Distinct observed strings, ascending codes.
    public var codes: [UInt64]
    /// n_P: observations of each string.
    public var counts: [Int]
    /// S_P: the sum of the estimates ŷ of each string.
    public var sums: [Double]
    /// Σ over observations of ŷ², and of w_P ŷ² (equal in the pauli model).
    public var sumSquares: Double
    public var weightedSumSquares: Double
    /// Per setting (when kept): the setting's code, and its outcome: ŷ (pauli model) or the
    /// counts of the d outcome bit strings (local model, row-major (M, d)).
    public var settingCodes: [UInt64]?
    public var outcomes: [Double]?

    public var exact: Bool { shots == 0 }
    public var dimension: Int { 1 << n }
    /// Total state copies M·Q (infinite for exact expectations).
    public var budget: Double { exact ? .infinity : Double(settings) * Double(shots) }

    /// Records from their grouped form. Duplicate codes are merged; codes are sorted.
    public init(n: Int, model: MeasurementModel, settings: Int, shots: Int, excludeIdentity: Bool,
                codes: [UInt64], counts: [Int], sums: [Double], sumSquares: Double?, weightedSumSquares: Double?,
                settingCodes: [UInt64]? = nil, outcomes: [Double]? = nil) throws {
        guard n >= 1 && n <= 14 else { throw TensorError("qst data: expected 1 to 14 qubits, got \(n)") }
        guard codes.count == counts.count && codes.count == sums.count else {
            throw TensorError("qst data: codes, counts and sums must have one entry per string, got \(codes.count), \(counts.count) and \(sums.count)")
        }
        guard !codes.isEmpty else { throw TensorError("qst data: no observations") }
        let limit = PauliString.count(n)
        let order = (0 ..< codes.count).sorted { codes[$0] < codes[$1] }
        var c: [UInt64] = [], k: [Int] = [], s: [Double] = []
        for i in order {
            guard codes[i] < limit else { throw TensorError("qst data: Pauli code \(codes[i]) out of range for \(n) qubits (expected 0 to \(limit - 1))") }
            guard counts[i] >= 1 else { throw TensorError("qst data: counts must be >= 1, got \(counts[i]) for code \(codes[i])") }
            guard sums[i].isFinite else { throw TensorError("qst data: sums must be finite, got \(sums[i]) for code \(codes[i])") }
            if c.last == codes[i] { k[k.count - 1] += counts[i]; s[s.count - 1] += sums[i] }
            else { c.append(codes[i]); k.append(counts[i]); s.append(sums[i]) }
        }
        guard settings >= 1 else { throw TensorError("qst data: settings must be >= 1, got \(settings)") }
        guard shots >= 0 else { throw TensorError("qst data: shots must be >= 0 (0 = exact), got \(shots)") }
        self.n = n; self.model = model; self.settings = settings; self.shots = shots
        self.excludeIdentity = excludeIdentity
        self.codes = c; self.counts = k; self.sums = s
        // without Σ ŷ², the bound Σ ŷ² >= Σ_P S_P²/n_P (Cauchy-Schwarz; equality for exact data)
        var lower = 0.0, wlower = 0.0
        for i in 0 ..< c.count {
            let v = s[i] * s[i] / Double(k[i])
            lower += v
            wlower += v * PauliData.weight(c[i], n: n, model: model)
        }
        self.sumSquares = sumSquares ?? lower
        self.weightedSumSquares = weightedSumSquares ?? (model == .pauli ? self.sumSquares : wlower)
        self.settingCodes = settingCodes; self.outcomes = outcomes
    }

    /// w_P of the "rip" loss: 1 (pauli model) or 3^{|P|} (local model).
    @inline(__always)
    public static func weight(_ code: UInt64, n: Int, model: MeasurementModel) -> Double {
        if model == .pauli { return 1 }
        let (x, z) = PauliString.masks(code: code, n: n)
        var w = 1.0
        for _ in 0 ..< (x | z).nonzeroBitCount { w *= 3 }
        return w
    }

    /// λ of the "rip" loss: d/M (pauli) or 1/(d M) (local).
    public var ripScale: Double {
        model == .pauli ? Double(dimension) / Double(settings) : 1 / (Double(dimension) * Double(settings))
    }

    /// Total observations Σ n_P.
    public var observations: Int { counts.reduce(0, +) }
}
