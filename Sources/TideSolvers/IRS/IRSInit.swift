// IRSInit: starting points for the IRS estimators (spec solvers.md 3.3).
//
//     try model.initKRF()                 // LS + Khatri-Rao factorization (needs K >= N, T >= M)
//     model.initRandom(generator: g)      // i.i.d. CN(0, 1) factors (and random unit phases)
//     try model.setChannels([h, g])       // given channels (split by SVD for low-rank factors)
//
// KRF (standard in the IRS literature): B_k = Y_k X_k^H (X_k X_k^H)^{-1}; the columns of
// C = [vec B_1 ... vec B_K] (S^T)^+ are vec(h_n g_n^T); each is reshaped to (P, M) and its best
// rank-1 term u sigma v^H gives h_n = u sqrt(sigma), g_n^T = sqrt(sigma) v^H. Exact without noise.
// With T = M the pilot Gram matrices are ill-conditioned and the start is poor (prototype):
// use T >= 2 M or a random start.
import ComplexModule
import RealModule
import TideCore

extension IRSModel {
    /// Sets the factors from full channel matrices: a split channel A B^H gets A = U_r sqrt(S_r),
    /// B^H = sqrt(S_r) V_r^H from the truncated SVD.
    func setChannels(_ chans: [ZMatrix], name: String = "irs.estimate") throws {
        guard chans.count == channelFactors.count else {
            throw TensorError("\(name): expected \(channelFactors.count) channel matrices, got \(chans.count)")
        }
        for (c, ids) in channelFactors.enumerated() {
            let f0 = factors[ids[0]]
            let rows = f0.rows, cols = ids.count == 1 ? f0.cols : factors[ids[1]].cols
            guard chans[c].rows == rows, chans[c].cols == cols else {
                throw TensorError("\(name): channel \(c + 1) must be (\(rows), \(cols)), got (\(chans[c].rows), \(chans[c].cols))")
            }
            if ids.count == 1 { f0.p.update(from: chans[c].p, count: rows * cols); continue }
            let a = f0, b = factors[ids[1]], r = a.cols
            let (u, s, vh) = try Linalg.svd(chans[c].tensor(), fullMatrices: false)
            let up = u.pointer(C128.self), sp = s.pointer(Double.self), vp = vh.pointer(C128.self)
            let uc = u.shape[1], vc = vh.shape[1]
            for i in 0 ..< rows { for k in 0 ..< r { a[i, k] = up[i * uc + k] * C128(sp[k].squareRoot(), 0) } }
            for k in 0 ..< r { for i in 0 ..< cols { b[k, i] = vp[k * vc + i] * C128(sp[k].squareRoot(), 0) } }
            withExtendedLifetime((u, s, vh)) {}
        }
    }

    /// LS + Khatri-Rao init (one hop, known phases only).
    func initKRF(name: String = "irs.estimate") throws {
        guard sys.hops == 1, !unknownPhases else {
            throw TensorError("\(name): init 'krf' needs one hop and known phases (use init = 'random')")
        }
        let (P, M, K, N) = (sys.P, sys.M, sys.blocks, sys.elements[0])
        guard K >= N else { throw TensorError("\(name): init 'krf' needs K >= N phase configurations, got K=\(K), N=\(N)") }
        guard sys.T >= M else { throw TensorError("\(name): init 'krf' needs T >= M time slots, got T=\(sys.T), M=\(M)") }
        // Bmat (P M, K): column k = vec(B_k), B_k = YX_k Q_k^{-1} = (Q_k^{-1} YX_k^H)^H
        let bmat = try Tensor(uninitialized: [P * M, K], dtype: .c128)
        let bp = bmat.pointer(C128.self)
        for k in 0 ..< K {
            let yh = ZMatrix(rows: M, cols: P)
            for i in 0 ..< P { for m in 0 ..< M { yh[m, i] = YX[k][i, m].conjugate } }
            let z = try ZMatrix.solve(Q[k], yh)
            for i in 0 ..< P { for m in 0 ..< M { bp[(i * M + m) * K + k] = z[m, i].conjugate } }
        }
        // C (P M, N) = Bmat pinv(S^T)
        let st = try phases[0].tensor().t().contiguous()
        let c = try Tensor.matmul(bmat, Linalg.pinv(st)).contiguous()
        let cp = c.pointer(C128.self)
        let H = ZMatrix(rows: P, cols: N), G = ZMatrix(rows: N, cols: M)
        for n in 0 ..< N {
            let cn = ZMatrix(rows: P, cols: M)
            for i in 0 ..< P * M { cn.p[i] = cp[i * N + n] }
            let (u, s, vh) = try Linalg.svd(cn.tensor(), fullMatrices: false)
            let sq = s.pointer(Double.self)[0].squareRoot()
            let up = u.pointer(C128.self), vp = vh.pointer(C128.self), uc = u.shape[1]
            for i in 0 ..< P { H[i, n] = up[i * uc] * C128(sq, 0) }
            for m in 0 ..< M { G[n, m] = vp[m] * C128(sq, 0) }
            withExtendedLifetime((u, s, vh, cn)) {}
        }
        withExtendedLifetime(c) {}
        try setChannels([H, G], name: name)
    }

    /// i.i.d. CN(0, 1) factors; with unknown phases also random unit-modulus phases.
    func initRandom(generator g: Generator) {
        for f in factors {
            let z = complexGaussian(f.rows, f.cols, g)
            f.p.update(from: z.p, count: f.count)
        }
        if unknownPhases {
            for s in phases {
                for i in 0 ..< s.count {
                    let th = 2 * Double.pi * g.uniform()
                    s.p[i] = C128(Double.cos(th), Double.sin(th))
                }
            }
        }
    }
}
