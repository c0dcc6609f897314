// DensityMatrix: checks, the projection onto physical states, and the distances tomography
// reports (brief §4.5), on dense (d, d) c128 tensors.
//
//     let rho = try DensityMatrix.project(h, rank: nil)       // nearest density matrix to h
//     let e = try DensityMatrix.frobenius(a, b)               // ‖a − b‖_F
//     let t = try DensityMatrix.traceDistance(a, b)           // ½‖a − b‖_1
//     let f = try DensityMatrix.fidelity(a, b)                // (tr √(√a b √a))², Uhlmann
//     let ref = try TruthReference(truth)                     // fast metrics for ρ = U Uᴴ
//
// Projection: for Hermitian h = V diag(λ) Vᴴ the Frobenius-nearest density matrix is
// V diag(μ) Vᴴ with μ the Euclidean projection of λ onto the simplex {μ >= 0, Σμ = 1}
// (Smolin, Gambetta, Smith, PRL 108, 070502, 2012). With a rank, only the r largest
// eigenvalues are kept before projecting [Tide choice, for rank-matched baselines].
//
// TruthReference factors the truth once (ρ* = Σ s_j b_j b_jᴴ over its nonzero eigenvalues) so
// that for an iterate ρ = U Uᴴ (U: (d, r)) fidelity costs an r x r eigenproblem and the trace
// distance a QR of the d x (r + r*) matrix [U, B*] plus an (r + r*)-square eigenproblem, instead
// of d x d eigendecompositions each iteration.
import TideCore

public enum DensityMatrix {
    /// A square (d, d) tensor with d = 2^n, as a contiguous c128 copy or view; returns (t, d, n).
    public static func square(_ a: Tensor, _ op: String, what: String = "a density matrix") throws -> (Tensor, Int, Int) {
        guard a.dim == 2 && a.shape[0] == a.shape[1] && a.shape[0] >= 2 && a.shape[0] & (a.shape[0] - 1) == 0 else {
            throw TensorError("\(op): expected \(what) of shape (d, d) with d = 2^n >= 2, got shape \(shapeString(a.shape))")
        }
        guard a.dtype.isComplex || a.dtype.isFloatingPoint else {
            throw TensorError("\(op): expected a complex or float tensor, got \(a.dtype.rawValue)")
        }
        let d = a.shape[0]
        return (try a.to(.c128).contiguous(), d, d.trailingZeroBitCount)
    }

    /// Makes o exactly Hermitian: o <- (o + oᴴ)/2 (diagonal made real).
    public static func hermitianize(_ o: UnsafeMutablePointer<C128>, _ d: Int) {
        for i in 0 ..< d {
            o[i * d + i] = C128(o[i * d + i].real, 0)
            for j in (i + 1) ..< max(i + 1, d) {
                let a = o[i * d + j], b = o[j * d + i].conjugate
                let m = C128((a.real + b.real) / 2, (a.imaginary + b.imaginary) / 2)
                o[i * d + j] = m; o[j * d + i] = m.conjugate
            }
        }
    }

    /// Euclidean projection of v onto {μ >= 0, Σ μ = total}: μ_i = max(v_i − θ, 0).
    public static func projectSimplex(_ v: [Double], total: Double = 1) -> [Double] {
        let u = v.sorted(by: >)
        var cum = 0.0, theta = 0.0
        for (j, uj) in u.enumerated() {
            cum += uj
            let t = (cum - total) / Double(j + 1)
            if uj - t > 0 { theta = t }
        }
        return v.map { max($0 - theta, 0) }
    }

    /// The nearest density matrix to the Hermitian part of h (see the header).
    /// h: (d, d) -> (d, d) c128, Hermitian PSD with trace 1.
    public static func project(_ h: Tensor, rank: Int? = nil) throws -> Tensor {
        let (m, d, _) = try square(h, "project", what: "a matrix")
        let sym = try m.contiguous(force: true)
        hermitianize(sym.pointer(C128.self), d)
        let (w, v) = try Linalg.eigh(sym)
        var lam = try w.toDoubles()               // ascending
        if let r = rank {
            guard r >= 1 && r <= d else { throw TensorError("project: rank must be in 1...\(d), got \(r)") }
            for k in 0 ..< (d - r) { lam[k] = -Double.infinity }
        }
        let mu = projectSimplex(lam.map { $0.isFinite ? $0 : -1e300 })
        return try compose(v, mu, d)
    }

    /// V diag(μ) Vᴴ from eigenvectors V (d, d) and μ >= 0, exactly Hermitian.
    static func compose(_ v: Tensor, _ mu: [Double], _ d: Int) throws -> Tensor {
        let keep = (0 ..< d).filter { mu[$0] > 0 }
        let out = try Tensor.zeros([d, d], dtype: .c128)
        if keep.isEmpty { return out }
        // W = V[:, keep] diag(√μ); out = W Wᴴ through zgemm
        let wt = try Tensor(uninitialized: [d, keep.count], dtype: .c128)
        defer { withExtendedLifetime((wt, v)) {} }
        let vp = v.pointer(C128.self), wp = wt.pointer(C128.self)
        for i in 0 ..< d { for (c, k) in keep.enumerated() { wp[i * keep.count + c] = vp[i * d + k] * mu[k].squareRoot() } }
        ComplexBLAS.gemm(d, d, keep.count, wp, false, wp, true, out.pointer(C128.self))
        hermitianize(out.pointer(C128.self), d)
        return out
    }

    public static func checkPair(_ a: Tensor, _ b: Tensor, _ op: String) throws -> (Tensor, Tensor, Int) {
        let (x, d, _) = try square(a, op)
        let (y, d2, _) = try square(b, op)
        guard d == d2 else { throw TensorError("\(op): the two matrices differ in size: \(d)x\(d) vs \(d2)x\(d2)") }
        return (x, y, d)
    }

    /// ‖a − b‖_F.
    public static func frobenius(_ a: Tensor, _ b: Tensor) throws -> Double {
        let (x, y, d) = try checkPair(a, b, "frobenius")
        defer { withExtendedLifetime((x, y)) {} }
        let p = x.pointer(C128.self), q = y.pointer(C128.self)
        var s = 0.0
        for i in 0 ..< d * d { s += (p[i] - q[i]).lengthSquared }
        return s.squareRoot()
    }

    /// ½ Σ |eig(a − b)| for Hermitian a, b.
    public static func traceDistance(_ a: Tensor, _ b: Tensor) throws -> Double {
        let (x, y, d) = try checkPair(a, b, "trace_distance")
        let diff = try Tensor.binary(.sub, x, y).contiguous(force: true)
        hermitianize(diff.pointer(C128.self), d)
        return try Linalg.eigvalsh(diff).toDoubles().reduce(0) { $0 + abs($1) } / 2
    }

    /// Uhlmann fidelity (tr √(√a b √a))² for PSD a, b. Eigenvalues of a at or below its
    /// rank tolerance (d·eps·max λ, as numpy's matrix_rank) are dropped: a rounding-level
    /// λ ~ 1e-17 would otherwise add √λ ~ 3e-9 to the result (a pure a came out 2e-9 off).
    public static func fidelity(_ a: Tensor, _ b: Tensor) throws -> Double {
        let (x, y, d) = try checkPair(a, b, "fidelity")
        let sym = try x.contiguous(force: true)
        hermitianize(sym.pointer(C128.self), d)
        let (w, v) = try Linalg.eigh(sym)
        defer { withExtendedLifetime(v) {} }
        let lam = try w.toDoubles()
        let tol = Double(d) * Double.ulpOfOne * (lam.max() ?? 0)
        let keep = (0 ..< d).filter { lam[$0] > tol }
        if keep.isEmpty { return 0 }
        let f = try Tensor(uninitialized: [d, keep.count], dtype: .c128)
        let vp = v.pointer(C128.self), fp = f.pointer(C128.self)
        for i in 0 ..< d { for (c, k) in keep.enumerated() { fp[i * keep.count + c] = vp[i * d + k] * lam[k].squareRoot() } }
        return try sandwichFidelity(f, y)
    }

    /// (Σ √eig(Fᴴ b F))²: the fidelity of F Fᴴ with b. F: (d, k), b: (d, d).
    static func sandwichFidelity(_ f: Tensor, _ b: Tensor) throws -> Double {
        let inner = try Tensor.matmul(f.conj().transposed(0, 1), Tensor.matmul(b, f)).contiguous(force: true)
        hermitianize(inner.pointer(C128.self), inner.shape[0])
        // eigenvalues at the rank tolerance are rounding (b rank-deficient): dropped, as in fidelity
        let lam = try Linalg.eigvalsh(inner).toDoubles()
        let tol = Double(lam.count) * Double.ulpOfOne * (lam.max() ?? 0)
        let s = lam.reduce(0) { $0 + ($1 > tol ? $1.squareRoot() : 0) }
        return s * s
    }

    /// tr(a²) for Hermitian a = Σ |a_ij|².
    public static func purity(_ a: Tensor) throws -> Double {
        let (x, d, _) = try square(a, "purity")
        defer { withExtendedLifetime(x) {} }
        let p = x.pointer(C128.self)
        var s = 0.0
        for i in 0 ..< d * d { s += p[i].lengthSquared }
        return s
    }
}

/// The truth of an experiment, factored once for per-iteration metrics of ρ = s·U Uᴴ.
public struct TruthReference {
    public let truth: Tensor       // (d, d) c128
    let factor: Tensor             // (d, r*) c128: columns √|λ_j| v_j
    let signs: [Double]            // sign of λ_j
    let d: Int

    public init(_ t: Tensor) throws {
        let (m, d, _) = try DensityMatrix.square(t, "truth")
        let sym = try m.contiguous(force: true)
        DensityMatrix.hermitianize(sym.pointer(C128.self), d)
        let (w, v) = try Linalg.eigh(sym)
        defer { withExtendedLifetime(v) {} }
        let lam = try w.toDoubles()
        let big = lam.map(abs).max() ?? 0
        let keep = (0 ..< d).filter { abs(lam[$0]) > 1e-14 * max(big, 1e-300) }
        let f = try Tensor(uninitialized: [d, max(keep.count, 1)], dtype: .c128)
        let vp = v.pointer(C128.self), fp = f.pointer(C128.self)
        if keep.isEmpty { for i in 0 ..< d { fp[i] = C128(0, 0) } }
        for i in 0 ..< d { for (c, k) in keep.enumerated() { fp[i * keep.count + c] = vp[i * d + k] * abs(lam[k]).squareRoot() } }
        truth = sym; factor = f; signs = keep.isEmpty ? [1] : keep.map { lam[$0] < 0 ? -1 : 1 }; self.d = d
    }

    /// ‖s·ρ − ρ*‖_F for a dense ρ (d, d).
    public func frobenius(_ rho: UnsafePointer<C128>, scale s: Double) -> Double {
        let t = truth.pointer(C128.self)
        var acc = 0.0
        for i in 0 ..< d * d { acc += (rho[i] * s - t[i]).lengthSquared }
        return acc.squareRoot()
    }

    /// Fidelity of s·U Uᴴ with the truth. U: (d, r).
    public func fidelity(_ u: Tensor, scale s: Double) throws -> Double {
        try DensityMatrix.sandwichFidelity(u, truth) * s
    }

    /// ½‖s·U Uᴴ − ρ*‖_1 through the QR of [√s U, B*] (see the file header).
    public func traceDistance(_ u: Tensor, scale s: Double) throws -> Double {
        let r = u.shape[1], k = factor.shape[1]
        let b = try Tensor.cat([Tensor.binary(.mul, u, Tensor.scalar(s.squareRoot(), dtype: .c128)), factor], dim: 1)
        let (_, rr) = try Linalg.qr(b, mode: .reduced)       // rr: (min(d, r+k), r+k)
        let sg = try Tensor(complex: (0 ..< r).map { _ in C128(1, 0) } + signs.map { C128(-$0, 0) }, shape: [1, r + k])
        let m = try Tensor.matmul(Tensor.binary(.mul, rr, sg), rr.conj().transposed(0, 1)).contiguous(force: true)
        DensityMatrix.hermitianize(m.pointer(C128.self), m.shape[0])
        return try Linalg.eigvalsh(m).toDoubles().reduce(0) { $0 + abs($1) } / 2
    }
}
