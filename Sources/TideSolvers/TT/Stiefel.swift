// Stiefel: tools on St(n, k) = {L in R^{n x k} : L^T L = I}, for FRSubGM's left-orthogonal cores
// (spec solvers.md 1.4).
//
//     let xi = try Stiefel.project(l, g)               // P_L(G) = G - L sym(L^T G)
//     let l2 = try Stiefel.retract(l, xi, .polar)      // polar(L + xi) = U V^T  [Tide choice: default]
//     let l3 = try Stiefel.retract(l, xi, .qr)         // qf(L + xi), diag(R) > 0
//
// The projection is the orthogonal projection onto the tangent space at L for the embedded
// (Euclidean) metric: sym(L^T P_L(G)) = 0 and P_L is idempotent. The polar retraction uses the
// thin SVD rather than (A^T A)^{-1/2}, which stays accurate when L + xi is nearly rank
// deficient (spec 5, numerical guards). Sizes here are tiny (r d x r), so everything is one
// LAPACK call (TideCore's Linalg) and a few GEMMs.
import TideCore

public enum Stiefel {
    public enum Retraction: String, Sendable, CaseIterable { case polar, qr }

    /// (B + B^T) / 2 of a square (k, k) tensor.
    public static func sym(_ b: Tensor, op: String = "stiefel.sym") throws -> Tensor {
        guard b.dim == 2, b.shape[0] == b.shape[1] else {
            throw TensorError("\(op): expected a square (k, k) matrix, got shape \(shapeString(b.shape))")
        }
        let c = try b.f64Contiguous(op), k = b.shape[0]
        let out = try Tensor(uninitialized: [k, k], dtype: .f64)
        let p = c.pointer(Double.self), o = out.pointer(Double.self)
        for i in 0 ..< k { for j in 0 ..< k { o[i * k + j] = 0.5 * (p[i * k + j] + p[j * k + i]) } }
        withExtendedLifetime(c) {}
        return out
    }

    /// Checks L (n, k) with n >= k and returns it contiguous f64.
    static func point(_ l: Tensor, _ op: String) throws -> Tensor {
        guard l.dim == 2, l.shape[0] >= l.shape[1], l.shape[1] >= 1 else {
            throw TensorError("\(op): expected a point L of shape (n, k) with n >= k >= 1, got shape \(shapeString(l.shape))")
        }
        return try l.f64Contiguous(op)
    }

    static func sameShape(_ l: Tensor, _ g: Tensor, _ what: String, _ op: String) throws -> Tensor {
        guard g.shape == l.shape else {
            throw TensorError("\(op): \(what) must have L's shape \(shapeString(l.shape)), got \(shapeString(g.shape))")
        }
        return try g.f64Contiguous(op)
    }

    /// P_L(G) = G - L sym(L^T G): L, G (n, k) -> (n, k).
    public static func project(_ l: Tensor, _ g: Tensor, op: String = "stiefel.project") throws -> Tensor {
        let L = try point(l, op), G = try sameShape(L, g, "G", op)
        let out = try G.clone()
        projectInPlace(L.pointer(Double.self), out.pointer(Double.self), L.shape[0], L.shape[1])
        return out
    }

    /// g <- g - L sym(L^T g) for L, g (n, k) row-major.
    static func projectInPlace(_ l: UnsafePointer<Double>, _ g: UnsafeMutablePointer<Double>, _ n: Int, _ k: Int) {
        let b = Scratch<Double>(count: k * k)
        BLAS.gemm(k, k, n, l, k, g, k, b.p, k, transA: true)
        for i in 0 ..< k {
            for j in i ..< k {
                let s = 0.5 * (b.p[i * k + j] + b.p[j * k + i])
                b.p[i * k + j] = s; b.p[j * k + i] = s
            }
        }
        BLAS.gemm(n, k, k, l, k, b.p, k, g, k, alpha: -1, beta: 1)
    }

    /// Retr_L(xi): L, xi (n, k) -> a point of St(n, k).
    public static func retract(_ l: Tensor, _ xi: Tensor, _ kind: Retraction = .polar, op: String = "stiefel.retract") throws -> Tensor {
        let L = try point(l, op), X = try sameShape(L, xi, "xi", op)
        let a = try Tensor.binary(.add, L, X)
        switch kind {
        case .polar: return try polarFactor(a)
        case .qr: return try qFactor(a)
        }
    }

    /// The orthogonal polar factor U V^T of a (n, k), n >= k, from its thin SVD.
    public static func polar(_ a: Tensor, op: String = "stiefel.polar") throws -> Tensor {
        try polarFactor(point(a, op))
    }

    /// The Q factor of a (n, k), n >= k, with the signs fixed so that diag(R) > 0.
    public static func qf(_ a: Tensor, op: String = "stiefel.qf") throws -> Tensor {
        try qFactor(point(a, op))
    }

    /// polar() on a contiguous f64 (n, k) tensor, n >= k (unchecked).
    static func polarFactor(_ a: Tensor) throws -> Tensor {
        let (u, _, vh) = try Linalg.svd(a, fullMatrices: false)
        let n = a.shape[0], k = a.shape[1]
        let out = try Tensor(uninitialized: [n, k], dtype: .f64)
        BLAS.gemm(n, k, k, u.pointer(Double.self), k, vh.pointer(Double.self), k, out.pointer(Double.self), k)
        return out
    }

    /// qf() on a contiguous f64 (n, k) tensor (geqrf + orgqr, unchecked).
    static func qFactor(_ a: Tensor) throws -> Tensor {
        let (q, r) = try Linalg.qr(a)
        let n = q.shape[0], k = q.shape[1]
        let qp = q.pointer(Double.self), rp = r.pointer(Double.self), rc = r.shape[1]
        for j in 0 ..< k where rp[j * rc + j] < 0 {
            for i in 0 ..< n { qp[i * k + j] = -qp[i * k + j] }
        }
        withExtendedLifetime(r) {}
        return q
    }
}
