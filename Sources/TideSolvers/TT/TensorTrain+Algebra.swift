// TensorTrain+Algebra: orthogonalization, rounding, sums, scaling, inner products and norms,
// all on the cores (the full tensor is never formed).
//
//     let l = try tt.orthogonalized(.left)      // cores 1..N-1 left-orthogonal, scale in X_N
//     let r = try tt.orthogonalized(.right)     // cores 2..N right-orthogonal, scale in X_1
//     let s = try a.adding(b)                   // ranks add: r_i(a) + r_i(b)
//     let z = try s.rounded(ranks: [2, 2])      // recompress (TT-rounding), left-orthogonal
//     let ip = try a.dot(b)                     // <a, b> by a left-to-right sweep
//     let n = try a.norm()                      // ||a||_F = ||X_N|| after left-orthogonalization
//
// Costs (d = mode size, r = rank): orthogonalization N QRs of (r d, r); rounding adds N SVDs;
// dot N pairs of small GEMMs, O(N d r^3). QR and SVD are LAPACK through TideCore's Linalg.
import TideCore

extension TensorTrain {
    public enum Side: String, Sendable { case left, right }

    /// A train with the same full tensor in left- or right-orthogonal form (QR sweeps).
    /// Left: L(X_i)^T L(X_i) = I for i < N. Right: R(X_i) R(X_i)^T = I for i > 1.
    /// Ranks can only shrink (to min(r_{i-1} d_i, r_i) on the way).
    public func orthogonalized(_ side: Side) throws -> TensorTrain {
        if order == 1 { return try copy() }
        var cs = cores
        switch side {
        case .left:
            for i in 0 ..< order - 1 {
                let c = cs[i], r0 = c.shape[0], d = c.shape[1], r1 = c.shape[2]
                let (q, r) = try Linalg.qr(c.reshaped([r0 * d, r1]))
                let k = q.shape[1]
                cs[i] = try q.reshaped([r0, d, k])
                let nx = cs[i + 1], d2 = nx.shape[1], r2 = nx.shape[2]
                let out = try Tensor(uninitialized: [k, d2, r2], dtype: .f64)
                BLAS.gemm(k, d2 * r2, r1, r.pointer(Double.self), r1, nx.pointer(Double.self), d2 * r2, out.pointer(Double.self), d2 * r2)
                cs[i + 1] = out
            }
        case .right:
            for i in stride(from: order - 1, to: 0, by: -1) {
                let c = cs[i], r0 = c.shape[0], d = c.shape[1], r1 = c.shape[2]
                // R(X_i) = (Q R)^T with Q R the QR of R(X_i)^T (d r1, r0)
                let (q, r) = try Linalg.qr(c.reshaped([r0, d * r1]).t().contiguous())
                let k = q.shape[1]
                cs[i] = try q.t().contiguous().reshaped([k, d, r1])
                let pv = cs[i - 1], p0 = pv.shape[0], pd = pv.shape[1]
                let out = try Tensor(uninitialized: [p0, pd, k], dtype: .f64)
                // L(X_{i-1}) R^T: (p0 pd, r0) x (r0, k)
                BLAS.gemm(p0 * pd, k, r0, pv.pointer(Double.self), r0, r.pointer(Double.self), r0, out.pointer(Double.self), k, transB: true)
                cs[i - 1] = out
            }
        }
        return TensorTrain(trusted: cs)
    }

    /// TT-rounding (Oseledets): right-orthogonalize, then truncate left to right with SVDs of
    /// the left unfoldings. Same rank rule as TT-SVD (caps `ranks`, relative accuracy `eps`
    /// on ||X||_F / sqrt(N-1) per step). The result is left-orthogonal; `discarded` as in
    /// TTSVDResult bounds the error.
    public func rounded(ranks: [Int]? = nil, eps: Double? = nil, op: String = "tt:round") throws -> TTSVDResult {
        let n = order
        if let r = ranks {
            guard r.count == n - 1 else { throw TensorError("\(op): expected \(n - 1) ranks for an order-\(n) train, got \(r.count)") }
            for (i, v) in r.enumerated() where v < 1 { throw TensorError("\(op): rank r_\(i + 1) must be >= 1, got \(v)") }
        }
        if let e = eps, !(e >= 0 && e.isFinite) { throw TensorError("\(op): eps must be a finite number >= 0, got \(e)") }
        var cs = try orthogonalized(.right).cores
        let norm = BLAS.sumSquares(cs[0].pointer(Double.self), cs[0].numel).squareRoot()
        if n == 1 { return TTSVDResult(tt: TensorTrain(trusted: cs), discarded: [], norm: norm) }
        let delta = eps.map { $0 * norm / Double(n - 1).squareRoot() }
        var discarded: [Double] = []
        for i in 0 ..< n - 1 {
            let c = cs[i], r0 = c.shape[0], d = c.shape[1], r1 = c.shape[2]
            let step = try TTSVD.truncatedSVD(c.reshaped([r0 * d, r1]), cap: ranks?[i], delta: delta)
            let k = step.k
            discarded.append(step.tail)
            cs[i] = try step.u.reshaped([r0, d, k])
            // S V^T (k, r1) times R(X_{i+1}) (r1, d2 r2)
            let sp = step.sv.pointer(Double.self)
            let nx = cs[i + 1], d2 = nx.shape[1], r2 = nx.shape[2]
            let out = try Tensor(uninitialized: [k, d2, r2], dtype: .f64)
            BLAS.gemm(k, d2 * r2, r1, sp, r1, nx.pointer(Double.self), d2 * r2, out.pointer(Double.self), d2 * r2)
            withExtendedLifetime(step) {}
            cs[i + 1] = out
        }
        return TTSVDResult(tt: TensorTrain(trusted: cs), discarded: discarded, norm: norm)
    }

    /// a + b for trains of the same dims: block cores, first [A_1 B_1], middle diag(A_i, B_i),
    /// last [A_N; B_N]. Ranks add (round afterwards to recompress).
    public func adding(_ other: TensorTrain, op: String = "tt add") throws -> TensorTrain {
        guard dims == other.dims else {
            throw TensorError("\(op): the trains have different dims, \(dimsText(dims)) and \(dimsText(other.dims))")
        }
        let n = order
        if n == 1 {
            let out = try Tensor.binary(.add, cores[0], other.cores[0])
            return TensorTrain(trusted: [out])
        }
        var cs: [Tensor] = []
        for i in 0 ..< n {
            let a = cores[i], b = other.cores[i], d = a.shape[1]
            let ar0 = a.shape[0], ar1 = a.shape[2], br0 = b.shape[0], br1 = b.shape[2]
            let r0 = i == 0 ? 1 : ar0 + br0, r1 = i == n - 1 ? 1 : ar1 + br1
            let out = try Tensor.zeros([r0, d, r1], dtype: .f64)
            let o = out.pointer(Double.self), pa = a.pointer(Double.self), pb = b.pointer(Double.self)
            // A goes to the top-left block, B to the block after A's rows and columns
            let bRow = i == 0 ? 0 : ar0, bCol = i == n - 1 ? 0 : ar1
            for x in 0 ..< ar0 { for s in 0 ..< d { for y in 0 ..< ar1 { o[(x * d + s) * r1 + y] = pa[(x * d + s) * ar1 + y] } } }
            for x in 0 ..< br0 { for s in 0 ..< d { for y in 0 ..< br1 { o[((bRow + x) * d + s) * r1 + bCol + y] = pb[(x * d + s) * br1 + y] } } }
            cs.append(out)
        }
        return TensorTrain(trusted: cs)
    }

    /// alpha * X: the last core is scaled (left-orthogonal form is kept).
    public func scaled(_ alpha: Double) throws -> TensorTrain {
        var cs = cores
        let last = try cs[order - 1].clone()
        let p = last.pointer(Double.self)
        for j in 0 ..< last.numel { p[j] *= alpha }
        cs[order - 1] = last
        return TensorTrain(trusted: cs)
    }

    /// <a, b> = sum over all entries of a * b, by a left-to-right sweep of W (ra, rb):
    /// W <- L(A_i)^T reshape(W R(B_i), (ra d, rb')). -> a number.
    public func dot(_ other: TensorTrain, op: String = "tt.dot") throws -> Double {
        guard dims == other.dims else {
            throw TensorError("\(op): the trains have different dims, \(dimsText(dims)) and \(dimsText(other.dims))")
        }
        var w = Scratch<Double>(count: 1)
        w.p[0] = 1
        var ra = 1, rb = 1
        for i in 0 ..< order {
            let a = cores[i], b = other.cores[i], d = a.shape[1], ra1 = a.shape[2], rb1 = b.shape[2]
            // T = W (ra, rb) R(B_i) (rb, d rb1) -> (ra d, rb1)
            let t = Scratch<Double>(count: ra * d * rb1)
            BLAS.gemm(ra, d * rb1, rb, w.p, rb, b.pointer(Double.self), d * rb1, t.p, d * rb1)
            // W' = L(A_i)^T (ra1, ra d) T (ra d, rb1)
            let w2 = Scratch<Double>(count: ra1 * rb1)
            BLAS.gemm(ra1, rb1, ra * d, a.pointer(Double.self), ra1, t.p, rb1, w2.p, rb1, transA: true)
            w = w2
            ra = ra1; rb = rb1
        }
        return w.p[0]
    }

    /// ||X||_F without the full tensor: left-orthogonalize, then the norm of the last core
    /// (more accurate than sqrt(<X, X>) when X is a small difference of large trains).
    public func norm() throws -> Double {
        let l = try orthogonalized(.left)
        let last = l.cores[order - 1]
        return BLAS.sumSquares(last.pointer(Double.self), last.numel).squareRoot()
    }

    /// A train with i.i.d. N(0, 1) cores of the given inner ranks r_1..r_{N-1}, each capped
    /// at the largest feasible TT rank min(d_1..d_i, d_{i+1}..d_N). `normalize`: scaled to
    /// ||X||_F = 1. Draws from `generator` core by core, row-major.
    public static func random(dims: [Int], ranks: [Int], normalize: Bool = false, generator g: Generator = .global,
                              op: String = "tt.random") throws -> TensorTrain {
        guard !dims.isEmpty else { throw TensorError("\(op): expected at least one dim, got none") }
        for (i, d) in dims.enumerated() where d < 1 { throw TensorError("\(op): dim \(i + 1) must be >= 1, got \(d)") }
        guard ranks.count == dims.count - 1 else {
            throw TensorError("\(op): expected \(dims.count - 1) ranks for \(dims.count) dims, got \(ranks.count)")
        }
        for (i, r) in ranks.enumerated() where r < 1 { throw TensorError("\(op): rank r_\(i + 1) must be >= 1, got \(r)") }
        let full = [1] + feasibleRanks(dims: dims, ranks: ranks) + [1]
        var cs: [Tensor] = []
        for i in 0 ..< dims.count {
            let c = try Tensor(uninitialized: [full[i], dims[i], full[i + 1]], dtype: .f64)
            g.fillNormal(c.pointer(Double.self), count: c.numel)
            cs.append(c)
        }
        let tt = TensorTrain(trusted: cs)
        if !normalize { return tt }
        let nrm = try tt.norm()
        return nrm > 0 ? try tt.scaled(1 / nrm) : tt
    }

    /// Ranks capped at the largest feasible TT rank min(d_1...d_i, d_{i+1}...d_N).
    public static func feasibleRanks(dims: [Int], ranks: [Int]) -> [Int] {
        var out: [Int] = []
        var left = 1.0
        let total = dims.reduce(1.0) { $0 * Double($1) }
        for i in 0 ..< dims.count - 1 {
            left *= Double(dims[i])
            out.append(Int(min(Double(ranks[i]), left, (total / left).rounded())))
        }
        return out
    }
}
