// IRSALS: alternating least squares for the IRS chain (spec solvers.md 3.3 [abstract names it;
// updates reconstructed]) and the rebalancing that fixes the scaling ambiguity.
//
//     try model.solveFactor(0)      // H-step:  H = (sum_k Y_k Z_k^H)(sum_k Z_k Z_k^H)^{-1}, Z_k = D_k G X_k
//     try model.solveFactor(1)      // G-step:  [sum_k (D_k^H H^H H D_k) (x) (X_k X_k^H)^T] vec(G) = ...
//     try model.solvePhases(0)      // unknown IRS: one N x N solve per phase configuration
//     try model.rebalance()         // h_n <- c_n h_n, g_n <- g_n / c_n, B unchanged
//
// Factor step (every factor enters B_j = Lft_j F Rgt_j linearly): minimize
// sum_j ||Y_j - Lft_j F Rgt_j X_j||^2, whose normal equations are
//     sum_j (Lft_j^H Lft_j) F (Rgt_j Q_j Rgt_j^H) = sum_j Lft_j^H YX_j Rgt_j^H.
// With row-major vec, vec(A F C) = (A (x) C^T) vec(F): an (a b) x (a b) Hermitian system. For
// the first factor Lft = I and the system separates into one (a_1 x a_1) solve (the H-step).
// Each step is an exact LS solve, so F never increases (3.6 invariant 4).
//
// Phase step (unknown IRS, 3.5): with U = Lft F_l (P, N) and V = F_{l+1} ... (N, M),
// B_j = U diag(s) V is linear in s: (U^H U o (V Q_j V^H)^T) s = diag(U^H YX_j V^H), summed over
// the blocks that share the configuration.
//
// Rebalancing [reconstructed, 3.3]: H diag(s) G = (H D) diag(s) (D^{-1} G) for any invertible
// diagonal D, so after each sweep column n of the left factor and row n of the right factor are
// scaled to equal norms (c_n = sqrt(||g_n|| / ||h_n||)). Low-rank splits A B^H (identity joint,
// ambiguity A R, R^{-1} B^H) are balanced by the SVD of their product; estimated phases are
// normalized to unit RMS modulus per element. None of these changes any B_j.
import ComplexModule
import TideCore

extension IRSModel {
    /// Replaces factor l by its exact least-squares solution given the others.
    func solveFactor(_ l: Int) throws {
        let a = factors[l].rows, b = factors[l].cols
        let P = sys.P
        if l == 0 {
            // F (sum R Q R^H) = sum YX R^H  ->  (sum R Q R^H) F^H = (sum YX R^H)^H
            let A = ZMatrix(rows: b, cols: b), Bm = ZMatrix(rows: P, cols: b)
            for j in 0 ..< sys.blocks {
                if let R = right(0, j) {
                    let RQ = ZMatrix.product(R, .none, Q[j], .none)
                    A.add(ZMatrix.product(RQ, .none, R, .adjoint))
                    Bm.add(ZMatrix.product(YX[j], .none, R, .adjoint))
                } else {
                    A.add(Q[j]); Bm.add(YX[j])
                }
            }
            let bh = ZMatrix(rows: b, cols: P)
            for i in 0 ..< P { for k in 0 ..< b { bh[k, i] = Bm[i, k].conjugate } }
            let fh = try ZMatrix.solve(A, bh)
            let f = factors[l]
            for i in 0 ..< a { for k in 0 ..< b { f[i, k] = fh[k, i].conjugate } }
            return
        }
        let n = a * b
        let big = ZMatrix(rows: n, cols: n), rhs = ZMatrix(rows: n, cols: 1)
        for j in 0 ..< sys.blocks {
            let Lj = left(l, j)!
            let LL = ZMatrix.product(Lj, .adjoint, Lj, .none)
            var t = ZMatrix.product(Lj, .adjoint, YX[j], .none)     // (a, M)
            let RR: ZMatrix
            if let R = right(l, j) {
                RR = ZMatrix.product(ZMatrix.product(R, .none, Q[j], .none), .none, R, .adjoint)
                t = ZMatrix.product(t, .none, R, .adjoint)
            } else {
                RR = Q[j]
            }
            // big[(x, y), (x', y')] += LL[x, x'] RR[y', y]
            let bp = big.p, lp = LL.p, rp = RR.p
            for x in 0 ..< a {
                for xp in 0 ..< a {
                    let lv = lp[x * a + xp]
                    for y in 0 ..< b {
                        let row = (x * b + y) * n + xp * b
                        for yp in 0 ..< b { bp[row + yp] = bp[row + yp] + lv * rp[yp * b + y] }
                    }
                }
            }
            for i in 0 ..< n { rhs.p[i] = rhs.p[i] + t.p[i] }
            withExtendedLifetime((LL, RR)) {}
        }
        let sol = try ZMatrix.solve(big, rhs)
        factors[l].p.update(from: sol.p, count: n)
    }

    /// Unknown IRS: re-estimates the phases of hop h (the joint after channel h) by least squares.
    func solvePhases(_ h: Int) throws {
        guard let l = joints.firstIndex(where: { if case .phases(let k) = $0 { return k == h }; return false }) else { return }
        let N = phases[h].cols, K = phases[h].rows
        let As = (0 ..< K).map { _ in ZMatrix(rows: N, cols: N) }, bs = (0 ..< K).map { _ in ZMatrix(rows: N, cols: 1) }
        for j in 0 ..< sys.blocks {
            let k = index[j][h]
            // U = Lft F_l (P, N); V = F_{l+1} J ... (N, M)
            let U = left(l, j).map { ZMatrix.product($0, .none, factors[l], .none) } ?? factors[l].copy()
            let V = right(l + 1, j).map { ZMatrix.product(factors[l + 1], .none, $0, .none) } ?? factors[l + 1].copy()
            let UU = ZMatrix.product(U, .adjoint, U, .none)
            let VQV = ZMatrix.product(ZMatrix.product(V, .none, Q[j], .none), .none, V, .adjoint)
            let W = ZMatrix.product(ZMatrix.product(U, .adjoint, YX[j], .none), .none, V, .adjoint)
            let A = As[k], b = bs[k]
            for r in 0 ..< N {
                for c in 0 ..< N { A.p[r * N + c] = A.p[r * N + c] + UU.p[r * N + c] * VQV.p[c * N + r] }
                b.p[r] = b.p[r] + W.p[r * N + r]
            }
        }
        for k in 0 ..< K {
            let s = try ZMatrix.solve(As[k], bs[k])
            (phases[h].p + k * N).update(from: s.p, count: N)
        }
    }

    /// Removes the scale freedom between consecutive factors without changing any B_j.
    func rebalance() throws {
        for l in 0 ..< joints.count {
            let A = factors[l], B = factors[l + 1]
            switch joints[l] {
            case .identity:
                // A B = U S V^H  ->  A = U sqrt(S), B = sqrt(S) V^H (r columns)
                let r = A.cols
                let (u, s, vh) = try Linalg.svd(ZMatrix.product(A, .none, B, .none).tensor(), fullMatrices: false)
                let up = u.pointer(C128.self), sp = s.pointer(Double.self), vp = vh.pointer(C128.self)
                let uc = u.shape[1], vc = vh.shape[1]
                for i in 0 ..< A.rows { for k in 0 ..< r { A[i, k] = up[i * uc + k] * C128(sp[k].squareRoot(), 0) } }
                for k in 0 ..< r { for i in 0 ..< B.cols { B[k, i] = vp[k * vc + i] * C128(sp[k].squareRoot(), 0) } }
                withExtendedLifetime((u, s, vh)) {}
            case .phases(let h):
                let N = A.cols
                if unknownPhases {
                    // unit RMS modulus per element; the scale moves into A's column
                    let S = phases[h], K = S.rows
                    for n in 0 ..< N {
                        var ms = 0.0
                        for k in 0 ..< K { ms += S[k, n].lengthSquared }
                        let c = (ms / Double(K)).squareRoot()
                        guard c > 0 && c.isFinite else { continue }
                        for k in 0 ..< K { S[k, n] = S[k, n] * C128(1 / c, 0) }
                        for i in 0 ..< A.rows { A[i, n] = A[i, n] * C128(c, 0) }
                    }
                }
                for n in 0 ..< N {
                    var ha = 0.0, gb = 0.0
                    for i in 0 ..< A.rows { ha += A[i, n].lengthSquared }
                    for i in 0 ..< B.cols { gb += B[n, i].lengthSquared }
                    guard ha > 0 && gb > 0 else { continue }
                    let c = (gb.squareRoot() / ha.squareRoot()).squareRoot()
                    for i in 0 ..< A.rows { A[i, n] = A[i, n] * C128(c, 0) }
                    for i in 0 ..< B.cols { B[n, i] = B[n, i] * C128(1 / c, 0) }
                }
            }
        }
    }
}
