// PauliObjective: the least-squares fit of Pauli data, its Wirtinger gradient, and the
// linear estimators built from the same grouped records (brief §4.4).
//
//     let f = try PauliObjective(data, scale: .rip)
//     let (loss, grad) = try f.lossAndGradient(u)        // U: (d, r) -> loss, ∇: (d, r)
//     let rho0 = try f.linearInversion()                 // unbiased, Hermitian, (d, d)
//     let ls = try f.leastSquares()                      // minimum-norm least squares, (d, d)
//
// Loss, grouped by distinct string P (n_P observations with sum S_P, weight w_P):
//     f(U) = (λ/2) Σ_obs w_P (a_P − ŷ)² = (λ/2) Σ_P w_P (n_P a_P² − 2 a_P S_P) + (λ/2) Σ w ŷ²,
//     a_P = tr(P U Uᴴ).
// Gradient, the real gradient 2 ∂f/∂Ū (brief §1.5; steepest descent is −∇):
//     ∇ = G U,   G = Σ_P 2 λ w_P (n_P a_P − S_P) P      (Hermitian d x d, built by PauliSet)
// Per evaluation: O(d r) per x mask in PauliSet's factored forms (rank <= 4), else U Uᴴ and
// G U as zgemm calls (O(d² r)); plus O(min(K d, d² log d)) for K distinct strings. Nothing
// depends on M once data is grouped.
//
// Scale λ and weights w [reconstructed: the paper's normalization is unknown]:
//   .rip  (default) λ, w of PauliData (pauli: d/M and 1; local: 1/(dM) and 3^{|P|}), so that
//         E[f] = ½‖UUᴴ − ρ*‖_F² + const and one step size fits every n and M;
//   .mean λ = 1/(number of observations), w = 1;     .sum  λ = 1, w = 1.
import TideCore

public struct PauliObjective {
    public enum Scale: String, Sendable, CaseIterable { case rip, mean, sum }

    public let data: PauliData
    public let set: PauliSet
    public let scale: Scale
    let wn: [Double]        // λ w_P n_P
    let ws: [Double]        // λ w_P S_P
    let constant: Double    // (λ/2) Σ w ŷ²

    public var dimension: Int { data.dimension }

    public init(_ data: PauliData, scale: Scale = .rip) throws {
        self.data = data
        self.scale = scale
        set = try PauliSet(n: data.n, codes: data.codes)
        let lambda: Double
        switch scale {
        case .rip: lambda = data.ripScale
        case .mean: lambda = 1 / Double(data.observations)
        case .sum: lambda = 1
        }
        let w = data.codes.map { scale == .rip ? PauliData.weight($0, n: data.n, model: data.model) : 1 }
        wn = (0 ..< w.count).map { lambda * w[$0] * Double(data.counts[$0]) }
        ws = (0 ..< w.count).map { lambda * w[$0] * data.sums[$0] }
        constant = lambda / 2 * (scale == .rip ? data.weightedSumSquares : data.sumSquares)
    }

    /// f from the expectations a (one per distinct string).
    public func loss(_ a: UnsafePointer<Double>) -> Double {
        var s = 0.0
        for i in 0 ..< wn.count { s += a[i] * (wn[i] * a[i] - 2 * ws[i]) }
        return s / 2 + constant
    }

    /// c_P = 2 λ w_P (n_P a_P − S_P): G = Σ c_P P.
    public func coefficients(_ a: UnsafePointer<Double>, into c: UnsafeMutablePointer<Double>) {
        for i in 0 ..< wn.count { c[i] = 2 * (wn[i] * a[i] - ws[i]) }
    }

    /// Ranks up to this use PauliSet's factored forms; above it U Uᴴ and G U go through zgemm,
    /// which wins once r is large enough for BLAS to pay off.
    public static let factoredMaxRank = 4

    /// a = tr(P U Uᴴ) for U (d, r). scratch: a (d, d) buffer for the dense path.
    public func expectations(factor u: UnsafePointer<C128>, rank r: Int, into a: UnsafeMutablePointer<Double>,
                             scratch: UnsafeMutablePointer<C128>) throws {
        if r <= PauliObjective.factoredMaxRank { return try set.expectations(factor: u, rank: r, into: a) }
        let d = dimension
        ComplexBLAS.gemm(d, d, r, u, false, u, true, scratch)
        try set.expectations(scratch, into: a)
    }

    /// out (d, r) = G U with G the Hermitian part of Σ c_P P. scratch: (d, d) for the dense path.
    public func applySum(_ c: UnsafePointer<Double>, factor u: UnsafePointer<C128>, rank r: Int,
                         into out: UnsafeMutablePointer<C128>, scratch: UnsafeMutablePointer<C128>) throws {
        if r <= PauliObjective.factoredMaxRank { return try set.applySum(c, factor: u, rank: r, into: out) }
        let d = dimension
        try set.weightedSum(c, into: scratch)
        DensityMatrix.hermitianize(scratch, d)
        ComplexBLAS.gemm(d, r, d, scratch, false, u, false, out)
    }

    /// Loss and real gradient at U (d, r) c128, for tests and one-off use (the solver keeps
    /// its buffers across iterations instead).
    public func lossAndGradient(_ u: Tensor) throws -> (Double, Tensor) {
        let d = dimension
        guard u.dim == 2 && u.shape[0] == d && u.shape[1] >= 1 else {
            throw TensorError("qst loss: expected U of shape (\(d), r), got shape \(shapeString(u.shape))")
        }
        let uc = try u.to(.c128).contiguous()
        defer { withExtendedLifetime(uc) {} }
        let r = u.shape[1]
        let scratch = UnsafeMutablePointer<C128>.allocate(capacity: d * d)
        let a = UnsafeMutablePointer<Double>.allocate(capacity: set.count), c = UnsafeMutablePointer<Double>.allocate(capacity: set.count)
        defer { scratch.deallocate(); a.deallocate(); c.deallocate() }
        try expectations(factor: uc.pointer(C128.self), rank: r, into: a, scratch: scratch)
        let f = loss(a)
        coefficients(a, into: c)
        let grad = try Tensor(uninitialized: [d, r], dtype: .c128)
        try applySum(c, factor: uc.pointer(C128.self), rank: r, into: grad.pointer(C128.self), scratch: scratch)
        return (f, grad)
    }

    /// Σ c_P P as a (d, d) c128 tensor, exactly Hermitian.
    func denseSum(_ coef: [Double]) throws -> Tensor {
        let d = dimension
        let out = try Tensor(uninitialized: [d, d], dtype: .c128)
        try coef.withUnsafeBufferPointer { try set.weightedSum($0.baseAddress!, into: out.pointer(C128.self)) }
        DensityMatrix.hermitianize(out.pointer(C128.self), d)
        return out
    }

    /// The unbiased linear-inversion estimate (not projected; trace 1, maybe indefinite):
    ///   ρ̂ = λ_rip Σ_P w_P S_P P                          (uniform settings, identity included)
    ///   ρ̂ = I/d + ((d² − 1)/(d M)) Σ_P S_P P             (pauli model, identity excluded:
    ///        E over the other 4^n − 1 strings of tr(Wρ)W is (dρ − I)/(d² − 1))
    /// For the local model this is the classical-shadow average of ⊗ (3 U†|b><b|U − I).
    public func linearInversion() throws -> Tensor {
        let d = Double(dimension), m = Double(data.settings)
        var coef: [Double]
        if data.model == .pauli && data.excludeIdentity {
            coef = data.codes.indices.map { data.codes[$0] == 0 ? 0 : (d * d - 1) / (d * m) * data.sums[$0] }
            let t = try denseSum(coef)
            let p = t.pointer(C128.self)
            for i in 0 ..< dimension { p[i * dimension + i] = p[i * dimension + i] + C128(1 / d, 0) }
            return t
        }
        let lambda = data.ripScale
        coef = data.codes.indices.map { lambda * PauliData.weight(data.codes[$0], n: data.n, model: data.model) * data.sums[$0] }
        return try denseSum(coef)
    }

    /// The minimum-norm least-squares solution over Hermitian matrices of trace 1:
    /// tr(Pρ) = S_P / n_P (the mean estimate) for every observed P ≠ I, 0 for unobserved ones,
    /// i.e. ρ = (I + Σ_{P observed, ≠ I} (S_P/n_P) P) / d. Not projected (maybe indefinite).
    public func leastSquares() throws -> Tensor {
        let d = Double(dimension)
        var coef = data.codes.indices.map { data.codes[$0] == 0 ? 0 : data.sums[$0] / (Double(data.counts[$0]) * d) }
        let t = try denseSum(coef)
        coef.removeAll()
        let p = t.pointer(C128.self)
        for i in 0 ..< dimension { p[i * dimension + i] = p[i * dimension + i] + C128(1 / d, 0) }
        return t
    }
}
