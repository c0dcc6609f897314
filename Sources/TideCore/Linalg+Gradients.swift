// Linalg+Gradients: the backward of the tide.linalg routines. Every routine that returns a
// float result either carries gradients or says it cannot (a wide qr), never silently cuts
// the graph.
//
//     Y = inv(A)            gA = -Y^H G Y^H
//     d = det(A)            gA = g conj(d) A^{-H}; singular A: g adj(A)^T from the SVD
//     l = slogdet(A).logabs gA = g A^{-H}                  (real l; the sign has no gradient)
//     X = solve(A, B)       gB = A^{-H} G,   gA = -gB X^H
//     L = cholesky(A)       gA = sym(L^{-H} Phi(L^H G) L^{-1}), Phi: the lower triangle with a
//                           halved diagonal (Murray 2016); upper: the same on U^H
//     w, V = eigh(A)        gA = sym(V (diag(gw) + F o (V^H gV)) V^H), F_ij = 1 / (w_j - w_i)
//     w = eigvalsh(A)       gA = V diag(gw) V^H
//     s = svdvals(A)        gA = U diag(gs) V^H
//     U, s, Vh = svd(A)     see svdRecorded (real, distinct nonzero singular values)
//     Q, R = qr(A)          see qrRecorded (m >= n)
//     lstsq(A, B)           pinv(A) B, built from the above
//
// sym(X) = (X + X^H) / 2: the gradient of a routine that reads one triangle of a Hermitian
// input, given on the Hermitian matrices (as torch). eigh's gradient is defined for distinct
// eigenvalues and for losses that do not depend on the eigenvectors' phases.
extension Linalg {
    /// The conjugate transpose of the last two dims.
    static func mH(_ t: Tensor) throws -> Tensor { try t.conj().transposed(-2, -1) }

    static func hermitianPart(_ t: Tensor) throws -> Tensor {
        try Tensor.binary(.mul, Tensor.binary(.add, t, mH(t)), Tensor.scalar(0.5, dtype: t.dtype.realType))
    }

    /// F_ij = 1 / d_ij off the diagonal and 0 on it, for d (..., n, n) of eigenvalue or
    /// singular-value gaps (the diagonal, where d is 0, is shifted by 1 before dividing).
    static func offDiagonalReciprocal(_ d: Tensor) throws -> Tensor {
        let eye = try Tensor.eye(d.shape.last ?? 0, nil, dtype: d.dtype)
        return try Tensor.where(Tensor.compare(.ne, eye, Tensor.scalar(0, dtype: eye.dtype)), Tensor.zeros([], dtype: d.dtype),
                                Tensor.binary(.add, d, eye).unary(.reciprocal))
    }

    static func invRecorded(_ a: Tensor) throws -> Tensor {
        try Autograd.op("inv", [a], forward: { try inv(a) }, backward: { g, y, _ in
            let yh = try mH(y)
            return [try Tensor.matmul(Tensor.matmul(yh, g), yh).unary(.neg)]
        }, savesOutput: true)
    }

    static func detRecorded(_ a: Tensor) throws -> Tensor {
        let A = a.alias()
        return try Autograd.op("det", [a], forward: { try det(a) }, backward: { g, d, _ in
            // d det / dA = adj(A)^T: det(A) A^-T when A is invertible; for a singular A the
            // adjugate from the SVD, det(U) det(Vh) U diag(prod_{j != i} s_j) Vh (transposed)
            if let ai = try? inv(A) {
                let scale = try Tensor.binary(.mul, g, d.conj()).unsqueeze(-1).unsqueeze(-1)
                return [try Tensor.binary(.mul, scale, mH(ai))]
            }
            let (u, s, vh) = try svd(A, fullMatrices: false)
            let n = s.shape.last ?? 0
            let eye = try Tensor.eye(n, nil, dtype: s.dtype)
            let others = try Tensor.where(Tensor.compare(.ne, eye, Tensor.scalar(0, dtype: s.dtype)),
                                          Tensor.scalar(1, dtype: s.dtype), s.unsqueeze(-2).expand(s.shape + [n]))
            let adjS = try others.reduce(.prod, dims: [-1])
            let c = try Tensor.binary(.mul, Tensor.binary(.mul, det(u), det(vh)), g).unsqueeze(-1).unsqueeze(-1)
            let adjT = try Tensor.matmul(Tensor.binary(.mul, u, adjS.unsqueeze(-2)), vh)   // adj(A)^T
            return [try Tensor.binary(.mul, c, adjT)]
        }, savesOutput: true, saved: [A])
    }

    static func logabsdetRecorded(_ a: Tensor) throws -> Tensor {
        let A = a.alias()
        return try Autograd.op("slogdet", [a], forward: { try slogdet(a).logabsdet }, backward: { g, _, _ in
            let ai = try mH(inv(A))
            return [try Tensor.binary(.mul, g.unsqueeze(-1).unsqueeze(-1).to(ai.dtype), ai)]
        }, saved: [A])
    }

    static func solveRecorded(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        let A = a.alias(), B = b.alias()
        return try Autograd.op("solve", [a, b], forward: { try solve(a, b) }, backward: { g, x, n in
            // as matrices: a vector b (..., n) is the column (..., n, 1)
            let vector = B.dim == 1 || (B.dim == A.dim - 1 && B.shape == Array(A.shape.dropLast()))
            let G = vector ? try g.unsqueeze(-1) : g, X = vector ? try x.unsqueeze(-1) : x
            let gB = try solve(mH(A), G)
            var ga: Tensor? = nil, gb: Tensor? = nil
            if n.needs(0) { ga = try Tensor.matmul(gB, mH(X)).unary(.neg).sumTo(A.shape) }
            if n.needs(1) { gb = try (vector ? gB.squeeze(-1) : gB).sumTo(B.shape) }
            return [ga, gb]
        }, savesOutput: true, saved: [A, B])
    }

    static func choleskyRecorded(_ a: Tensor, upper: Bool) throws -> Tensor {
        try Autograd.op("cholesky", [a], forward: { try cholesky(a, upper: upper) }, backward: { g, f, _ in
            let L = upper ? try mH(f) : f, gL = upper ? try mH(g) : g
            let lh = try mH(L)
            // Phi(L^H gL): the lower triangle, diagonal halved
            let p = try Tensor.matmul(lh, gL).tril()
            let phi = try Tensor.binary(.sub, p, Tensor.binary(.mul, p.diagonal(offset: 0, -2, -1).diagEmbedded(), Tensor.scalar(0.5, dtype: p.dtype.realType)))
            // L^{-H} phi L^{-1} by two solves: S = L^{-H} phi, then (L^{-H} S^H)^H = S L^{-1}
            let s = try solve(lh, phi)
            let t = try mH(solve(lh, mH(s)))
            return [try hermitianPart(t)]
        }, savesOutput: true)
    }

    /// eigh with gradients: both outputs are views of one recorded (..., n + 1, n) result (the
    /// eigenvectors, then the eigenvalues as a last row), so one backward sees both gradients.
    static func eighRecorded(_ a: Tensor, uplo: Triangle) throws -> (Tensor, Tensor) {
        guard !a.dtype.isComplex else {
            throw TensorError("eigh: gradients of complex eigh are not supported yet; detach() the input")
        }
        let n = a.shape.last ?? 0
        let packed = try Autograd.op("eigh", [a], forward: {
            let (w, v) = try eigh(a, uplo: uplo)
            return try Tensor.cat([v, w.unsqueeze(-2)], dim: -2)
        }, backward: { g, p, _ in
            let v = try p.narrow(-2, 0, n), w = try p.narrow(-2, n, 1)   // w: (..., 1, n)
            let gV = try g.narrow(-2, 0, n), gw = try g.narrow(-2, n, 1).squeeze(-2)
            let f = try offDiagonalReciprocal(Tensor.binary(.sub, w, w.transposed(-2, -1)))   // 1 / (w_j - w_i)
            let inner = try Tensor.binary(.add, Tensor.binary(.mul, f, Tensor.matmul(mH(v), gV)), gw.diagEmbedded())
            return [try hermitianPart(Tensor.matmul(Tensor.matmul(v, inner), mH(v)))]
        }, savesOutput: true)
        return (try packed.narrow(-2, n, 1).squeeze(-2), try packed.narrow(-2, 0, n))
    }

    /// svd with gradients (real inputs, distinct nonzero singular values), after Townsend
    /// (2016): with k = min(m, n), F_ij = 1 / (s_j^2 - s_i^2) off the diagonal,
    ///     J = F o (U^T gU), K = F o (V^T gV)
    ///     gA = U ((J + J^T) S + diag(gs) + S (K + K^T)) V^T
    ///          + (I - U U^T) gU S^-1 V^T + U S^-1 gV^T (I - V V^T)
    /// The three outputs are views of one recorded flat result, so one backward sees all
    /// their gradients. With full matrices the columns past k get no gradient (as torch).
    static func svdRecorded(_ a: Tensor, fullMatrices: Bool) throws -> (Tensor, Tensor, Tensor) {
        guard !a.dtype.isComplex else {
            throw TensorError("svd: gradients of complex svd are not supported yet; detach() the input")
        }
        let m = a.shape[a.dim - 2], n = a.shape[a.dim - 1], k = min(m, n)
        let batch = Array(a.shape.dropLast(2))
        let uc = fullMatrices ? m : k, vr = fullMatrices ? n : k
        let sizes = [m * uc, k, vr * n]
        let packed = try Autograd.op("svd", [a], forward: {
            let (u, s, vh) = try svd(a, fullMatrices: fullMatrices)
            return try Tensor.cat([u.reshaped(batch + [sizes[0]]), s, vh.reshaped(batch + [sizes[2]])], dim: -1)
        }, backward: { g, p, _ in
            let u = try p.narrow(-1, 0, sizes[0]).reshaped(batch + [m, uc]).narrow(-1, 0, k)
            let s = try p.narrow(-1, sizes[0], k)
            let v = try mH(p.narrow(-1, sizes[0] + k, sizes[2]).reshaped(batch + [vr, n]).narrow(-2, 0, k))
            let gU = try g.narrow(-1, 0, sizes[0]).reshaped(batch + [m, uc]).narrow(-1, 0, k)
            let gs = try g.narrow(-1, sizes[0], k)
            let gV = try mH(g.narrow(-1, sizes[0] + k, sizes[2]).reshaped(batch + [vr, n]).narrow(-2, 0, k))
            let s2 = try Tensor.binary(.mul, s, s)
            let f = try offDiagonalReciprocal(Tensor.binary(.sub, s2.unsqueeze(-2), s2.unsqueeze(-1)))   // 1 / (s_j^2 - s_i^2)
            let j = try Tensor.binary(.mul, f, Tensor.matmul(mH(u), gU))
            let kk = try Tensor.binary(.mul, f, Tensor.matmul(mH(v), gV))
            let sRow = try s.unsqueeze(-2), sCol = try s.unsqueeze(-1)
            var inner = try Tensor.binary(.mul, Tensor.binary(.add, j, mH(j)), sRow)          // (J + J^T) S
            inner = try Tensor.binary(.add, inner, gs.diagEmbedded())
            inner = try Tensor.binary(.add, inner, Tensor.binary(.mul, sCol, Tensor.binary(.add, kk, mH(kk))))
            var ga = try Tensor.matmul(Tensor.matmul(u, inner), mH(v))
            let sinv = try s.unary(.reciprocal)
            if m > k {
                // (I - U U^T) gU S^-1 V^T
                let proj = try Tensor.binary(.sub, gU, Tensor.matmul(u, Tensor.matmul(mH(u), gU)))
                ga = try Tensor.binary(.add, ga, Tensor.matmul(Tensor.binary(.mul, proj, sinv.unsqueeze(-2)), mH(v)))
            }
            if n > k {
                // U S^-1 gV^T (I - V V^T)
                let proj = try Tensor.binary(.sub, gV, Tensor.matmul(v, Tensor.matmul(mH(v), gV)))
                ga = try Tensor.binary(.add, ga, Tensor.matmul(Tensor.binary(.mul, u, sinv.unsqueeze(-2)), mH(proj)))
            }
            return [ga]
        }, savesOutput: true)
        let u = try packed.narrow(-1, 0, sizes[0]).reshaped(batch + [m, uc])
        let s = try packed.narrow(-1, sizes[0], k)
        let vh = try packed.narrow(-1, sizes[0] + k, sizes[2]).reshaped(batch + [vr, n])
        return (u, s, vh)
    }

    /// Reduced qr with gradients for m >= n (full column rank), as torch's:
    ///     M = R gR^T - gQ^T Q,  gA = (gQ + Q copyltu(M)) R^-T
    /// copyltu(M): M's strict lower triangle mirrored above it, M's diagonal kept. Q and R are
    /// views of one recorded flat result.
    static func qrRecorded(_ a: Tensor, mode: QRMode) throws -> (Tensor, Tensor) {
        let m = a.shape[a.dim - 2], n = a.shape[a.dim - 1]
        guard mode != .complete || m == n, m >= n else {
            throw TensorError("qr: gradients need m >= n and mode 'reduced' or 'r' (got \(m)x\(n), mode '\(mode.rawValue)'); detach() the input")
        }
        let batch = Array(a.shape.dropLast(2))
        let packed = try Autograd.op("qr", [a], forward: {
            let (q, r) = try qr(a, mode: .reduced)
            return try Tensor.cat([q.reshaped(batch + [m * n]), r.reshaped(batch + [n * n])], dim: -1)
        }, backward: { g, p, _ in
            let q = try p.narrow(-1, 0, m * n).reshaped(batch + [m, n]), r = try p.narrow(-1, m * n, n * n).reshaped(batch + [n, n])
            let gQ = try g.narrow(-1, 0, m * n).reshaped(batch + [m, n]), gR = try g.narrow(-1, m * n, n * n).reshaped(batch + [n, n])
            let mm = try Tensor.binary(.sub, Tensor.matmul(r, mH(gR)), Tensor.matmul(mH(gQ), q))
            let low = try mm.tril(-1)
            let copyltu = try Tensor.binary(.add, Tensor.binary(.add, low, mH(low)), mm.diagonal(offset: 0, -2, -1).diagEmbedded())
            let b = try Tensor.binary(.add, gQ, Tensor.matmul(q, copyltu))
            // b R^-T = (R^-1 b^T)^T
            return [try mH(solve(r, mH(b)))]
        }, savesOutput: true)
        let q = try packed.narrow(-1, 0, m * n).reshaped(batch + [m, n]), r = try packed.narrow(-1, m * n, n * n).reshaped(batch + [n, n])
        return (mode == .r ? try Tensor.zeros([0], dtype: q.dtype) : q, r)
    }

    /// s = svdvals(A): gA = U diag(gs) V^H (distinct, nonzero singular values).
    static func svdvalsRecorded(_ a: Tensor) throws -> Tensor {
        let A = a.alias()
        return try Autograd.op("svdvals", [a], forward: { try svdvals(a) }, backward: { g, _, _ in
            let (u, _, vh) = try svd(A, fullMatrices: false)
            return [try Tensor.matmul(Tensor.binary(.mul, u, g.unsqueeze(-2).to(u.dtype)), vh)]
        }, saved: [A])
    }

    static func eigvalshRecorded(_ a: Tensor, uplo: Triangle) throws -> Tensor {
        let A = a.alias()
        return try Autograd.op("eigvalsh", [a], forward: { try eigvalsh(a, uplo: uplo) }, backward: { g, _, _ in
            let v = try eigh(A, uplo: uplo).eigenvectors
            return [try hermitianPart(Tensor.matmul(Tensor.binary(.mul, v, g.unsqueeze(-2).to(v.dtype)), mH(v)))]
        }, saved: [A])
    }
}

extension Tensor {
    /// (..., n) -> (..., n, n) with the values on the diagonal.
    func diagEmbedded() throws -> Tensor {
        let n = shape.last ?? 0
        let z = try Tensor.zeros(shape + [n], dtype: dtype)
        try z.diagonal(offset: 0, -2, -1).copy_(from: self)
        return z
    }
}
