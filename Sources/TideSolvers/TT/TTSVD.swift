// TTSVD: Oseledets' sequential truncated SVD, SVD^tt_r(Z) of spec solvers.md 1.3.
//
//     let r = try TTSVD.decompose(z, ranks: [2, 3, 2])     // z: (4, 5, 6, 3) -> left-orthogonal TT
//     r.tt.ranks          // [1, 2, 3, 2, 1] (or smaller where the unfolding has lower rank)
//     r.discarded         // eps_i: Frobenius norm of the singular values dropped at step i
//     r.bound             // sqrt(sum eps_i^2) >= ||Z - TT||_F (equal up to rounding)
//     let e = try TTSVD.decompose(z, eps: 1e-8)            // ranks from a relative accuracy
//
// Algorithm (1.3): C <- Z as a (d_1, d_2...d_N) matrix; for i = 1..N-1 reshape C to
// (r_{i-1} d_i, d_{i+1}...d_N), thin SVD C = U S V^T, keep k columns, core X_i = U[:, :k] as
// (r_{i-1}, d_i, k), C <- S[:k] V^T[:k, :]; the rest is X_N. All reshapes are row-major (see
// TensorTrain.swift), so every core except the last is left-orthogonal: L(X_i)^T L(X_i) = I.
//
// Rank choice at step i: k = min(cap_i, rank of C) with the caps `ranks`; with `eps`, also the
// smallest k whose dropped tail sqrt(sum_{j>k} s_j^2) is at most eps ||Z||_F / sqrt(N-1)
// (Oseledets' rule, giving ||Z - TT||_F <= eps ||Z||_F). k >= 1 always. The SVDs are LAPACK
// gesdd through TideCore's Linalg.svd.
//
// Memory: one working matrix of prod d_i values plus the SVD factors of one step.
import TideCore

public struct TTSVDResult {
    /// The left-orthogonal train.
    public let tt: TensorTrain
    /// eps_i, i = 1..N-1: the Frobenius norm of the singular values dropped at step i.
    public let discarded: [Double]
    /// ||Z||_F.
    public let norm: Double
    /// sqrt(sum_i eps_i^2): the bound ||Z - SVD^tt_r(Z)||_F <= bound (1.3).
    public var bound: Double { discarded.reduce(0) { $0 + $1 * $1 }.squareRoot() }
}

public enum TTSVD {
    /// The TT-SVD of z (any shape with at least one dim, real). `ranks`: N-1 caps r_1..r_{N-1}
    /// (nil: no cap). `eps`: relative accuracy (nil: no eps rule). Neither: exact (full ranks).
    public static func decompose(_ z: Tensor, ranks: [Int]? = nil, eps: Double? = nil, op: String = "tt.svd") throws -> TTSVDResult {
        guard z.dim >= 1 else { throw TensorError("\(op): expected a tensor with at least 1 dim, got a 0-d tensor") }
        guard z.numel > 0 else { throw TensorError("\(op): expected a non-empty tensor, got shape \(shapeString(z.shape))") }
        let dims = z.shape, n = dims.count
        if let r = ranks {
            guard r.count == n - 1 else {
                throw TensorError("\(op): expected \(n - 1) ranks for an order-\(n) tensor (r_1..r_\(n - 1)), got \(r.count)")
            }
            for (i, v) in r.enumerated() where v < 1 {
                throw TensorError("\(op): rank r_\(i + 1) must be >= 1, got \(v)")
            }
        }
        if let e = eps, !(e >= 0 && e.isFinite) { throw TensorError("\(op): eps must be a finite number >= 0, got \(e)") }
        let zc = try z.f64Contiguous(op)
        return try decompose(values: zc.pointer(Double.self), dims: dims, ranks: ranks, eps: eps)
    }

    /// The same on prod(dims) row-major values at `p` (not modified).
    static func decompose(values p: UnsafePointer<Double>, dims: [Int], ranks: [Int]?, eps: Double?) throws -> TTSVDResult {
        let n = dims.count, total = dims.reduce(1, *)
        let norm = BLAS.sumSquares(p, total).squareRoot()
        if n == 1 {
            return TTSVDResult(tt: TensorTrain(trusted: [try Tensor.f64([1, dims[0], 1], from: p)]), discarded: [], norm: norm)
        }
        let delta = eps.map { $0 * norm / Double(n - 1).squareRoot() }
        var cores: [Tensor] = []
        var discarded: [Double] = []
        var rPrev = 1, rest = total
        var c = try Tensor.f64([dims[0], total / dims[0]], from: p)
        for i in 0 ..< n - 1 {
            let rows = rPrev * dims[i]
            rest /= dims[i]
            if c.shape != [rows, rest] { c = try c.reshaped([rows, rest]) }
            let step = try truncatedSVD(c, cap: ranks?[i], delta: delta)
            discarded.append(step.tail)
            cores.append(try step.u.reshaped([rPrev, dims[i], step.k]))
            c = step.sv
            rPrev = step.k
        }
        cores.append(try c.reshaped([rPrev, dims[n - 1], 1]))
        return TTSVDResult(tt: TensorTrain(trusted: cores), discarded: discarded, norm: norm)
    }

    /// One truncation step: c (rows, cols) = U S V^T -> u = U[:, :k] (rows, k), sv = S[:k] V^T[:k, :]
    /// (k, cols), tail = the norm of the dropped singular values.
    ///
    /// A wide c (cols >= 2 rows and rows * cols >= 512: the first steps of a TT-SVD) goes through the QR of
    /// its transpose, c^T = Q R (geqrf only: Q is never formed), then the small SVD
    /// R^T = U S W^T, so c = U S (Q W)^T and S V^T = U^T c is one GEMM. This is the QR
    /// preprocessing of LAPACK's dgesvd, as accurate as the SVD of c itself and several times
    /// faster than gesdd on the wide matrix. Tall and square c use gesdd directly.
    /// Signs follow scikit-learn's / tensorly's svd_flip: the largest-magnitude entry of each
    /// kept column of U is positive, so cores are deterministic and match tensorly's.
    static func truncatedSVD(_ c: Tensor, cap: Int?, delta: Double?) throws -> (u: Tensor, sv: Tensor, k: Int, tail: Double) {
        let rows = c.shape[0], cols = c.shape[1]
        // the QR detour pays off from about 8 x 64 on (measured); tiny ones take one gesdd call
        let wide = 2 * rows <= cols && rows * cols >= 512
        let a: Tensor, s: Tensor, b: Tensor
        if wide {
            let r = try Linalg.qr(c.t(), mode: .r).r                       // (rows, rows)
            (a, s, b) = try Linalg.svd(r.t(), fullMatrices: false)         // R^T = a diag(s) b
        } else {
            (a, s, b) = try Linalg.svd(c, fullMatrices: false)             // c = a diag(s) b
        }
        let sp = s.pointer(Double.self), full = s.numel
        let k = truncationRank(sp, full, cap: cap, delta: delta)
        var tail = 0.0
        for j in k ..< full { tail += sp[j] * sp[j] }
        let u = try Tensor(uninitialized: [rows, k], dtype: .f64), sv = try Tensor(uninitialized: [k, cols], dtype: .f64)
        let up = u.pointer(Double.self), vp = sv.pointer(Double.self), ap = a.pointer(Double.self)
        for r in 0 ..< rows { (up + r * k).update(from: ap + r * full, count: k) }
        // svd_flip (u-based): the first entry of largest |U[:, j]| becomes positive
        var signs = [Double](repeating: 1, count: k)
        for j in 0 ..< k {
            var best = 0.0
            for r in 0 ..< rows { let v = abs(up[r * k + j]); if v > best { best = v; signs[j] = up[r * k + j] < 0 ? -1 : 1 } }
            if signs[j] < 0 { for r in 0 ..< rows { up[r * k + j] = -up[r * k + j] } }
        }
        if wide {
            // S V^T = U^T c: (k, rows) x (rows, cols)
            BLAS.gemm(k, cols, rows, up, k, c.pointer(Double.self), cols, vp, cols, transA: true)
        } else {
            let bp = b.pointer(Double.self)
            for j in 0 ..< k {
                let scale = signs[j] * sp[j], src = bp + j * cols, dst = vp + j * cols
                for q in 0 ..< cols { dst[q] = scale * src[q] }
            }
        }
        withExtendedLifetime((a, s, b, c)) {}
        return (u, sv, k, tail.squareRoot())
    }

    /// The rank kept from descending singular values s[0..<n]: at most `cap`, and with a
    /// tolerance `delta` the smallest k whose dropped tail has norm <= delta; at least 1.
    static func truncationRank(_ s: UnsafePointer<Double>, _ n: Int, cap: Int?, delta: Double?) -> Int {
        var k = min(cap ?? n, n)
        if let d = delta {
            // walk from the end while the tail stays within delta
            var tail = 0.0, keep = n
            while keep > 1 {
                let t = tail + s[keep - 1] * s[keep - 1]
                if t.squareRoot() > d { break }
                tail = t
                keep -= 1
            }
            k = min(k, keep)
        }
        return max(k, 1)
    }
}
