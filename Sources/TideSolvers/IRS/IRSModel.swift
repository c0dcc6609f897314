// IRSModel: the estimator's side of the IRS chain: the unknown factors, the joints between them,
// the per-block sufficient statistics, the objective and its Wirtinger gradients (spec
// solvers.md 3.3).
//
//     let model = try IRSModel(system: sys, ranks: [nil, nil], unknownPhases: false)
//     model.factors                 // [H (P, N), G (N, M)] for the base model
//     let F = try model.objective() // (1 / (2 J T)) sum_j ||Y_j - B_j X_j||_F^2
//     let g = model.gradient(0)     // 2 dF/d conj(H) = -(1/(J T)) sum_j E_j (D_j G)^H
//
// The chain: B_j = F_1 J_{j,1} F_2 J_{j,2} ... F_L, where every channel of the system is one
// factor (or two, A and B^H, with an identity joint, for a low-rank channel of 3.5) and the
// joint between consecutive channels is diag(s_{k}) of that hop's phase matrix (known, or
// estimated for the unknown-IRS variant). Every factor enters B_j linearly:
// B_j = Lft_j F_l Rgt_j, so each ALS step is a linear least-squares problem and each gradient
// is -(1/(J T)) sum_j Lft_j^H E_j Rgt_j^H with E_j = Y_j X_j^H - B_j X_j X_j^H.
//
// Sufficient statistics: Q_j = X_j X_j^H (M, M) and YX_j = Y_j X_j^H (P, M) are formed once, so
// the ALS normal equations and the gradients cost nothing in T. The objective itself is
// computed from Y and X directly (no cancellation when the fit is exact).
//
// Conventions (spec 1.5): for a real loss F of a complex matrix Z the gradient reported is
// 2 dF/d conj(Z) = dF/d Re Z + i dF/d Im Z; steepest descent is Z - eta * that.
import ComplexModule
import TideCore

final class IRSModel {
    enum Joint { case identity; case phases(hop: Int) }

    let sys: IRSSystem
    var factors: [ZMatrix]
    let joints: [Joint]
    /// Phase estimates per hop (the known truth unless unknownPhases).
    var phases: [ZMatrix]
    let unknownPhases: Bool
    /// For each channel, the factor indices that multiply to it (1, or 2 for low rank).
    let channelFactors: [[Int]]
    /// Per block: Q_j (M, M), YX_j (P, M), phase indices.
    let Q: [ZMatrix], YX: [ZMatrix]
    let index: [[Int]]

    init(system sys: IRSSystem, ranks: [Int?]? = nil, unknownPhases: Bool = false, name: String = "irs.estimate") throws {
        self.sys = sys
        let sizes = [sys.P] + sys.elements + [sys.M]
        let rks = ranks ?? [Int?](repeating: nil, count: sys.channels.count)
        guard rks.count == sys.channels.count else {
            throw TensorError("\(name): expected \(sys.channels.count) channel ranks, got \(rks.count)")
        }
        var fs: [ZMatrix] = [], js: [Joint] = [], cf: [[Int]] = []
        for c in 0 ..< sys.channels.count {
            let rows = sizes[c], cols = sizes[c + 1]
            if c > 0 { js.append(.phases(hop: c - 1)) }
            if let r = rks[c] {
                guard r >= 1 && r <= min(rows, cols) else {
                    throw TensorError("\(name): rank of channel \(c + 1) must be in 1...\(min(rows, cols)), got \(r)")
                }
                cf.append([fs.count, fs.count + 1])
                fs.append(ZMatrix(rows: rows, cols: r)); js.append(.identity); fs.append(ZMatrix(rows: r, cols: cols))
            } else {
                cf.append([fs.count])
                fs.append(ZMatrix(rows: rows, cols: cols))
            }
        }
        factors = fs; joints = js; channelFactors = cf
        phases = try sys.phases.map { try ZMatrix($0) }
        self.unknownPhases = unknownPhases
        var q: [ZMatrix] = [], yx: [ZMatrix] = [], idx: [[Int]] = []
        let xp = sys.pilots.pointer(C128.self), yp = sys.received.pointer(C128.self)
        let (P, M, T) = (sys.P, sys.M, sys.T)
        for j in 0 ..< sys.blocks {
            let Qj = ZMatrix(rows: M, cols: M), Yj = ZMatrix(rows: P, cols: M)
            BLAS.zgemm(M, M, T, xp + j * M * T, T, .none, xp + j * M * T, T, .adjoint, Qj.p, M)
            BLAS.zgemm(P, M, T, yp + j * P * T, T, .none, xp + j * M * T, T, .adjoint, Yj.p, M)
            q.append(Qj); yx.append(Yj); idx.append(sys.phaseIndices(j))
        }
        Q = q; YX = yx; index = idx
    }

    var L: Int { factors.count }

    /// The diagonal of joint l for block j (nil for an identity joint).
    func jointDiagonal(_ l: Int, _ j: Int) -> UnsafeMutablePointer<C128>? {
        switch joints[l] {
        case .identity: return nil
        case .phases(let h): return phases[h].p + index[j][h] * phases[h].cols
        }
    }

    /// Lft_j for factor l: F_1 J_1 ... F_{l-1} J_{l-1} (P, a_{l-1}); nil when l = 0 (identity).
    func left(_ l: Int, _ j: Int) -> ZMatrix? {
        if l == 0 { return nil }
        var acc = factors[0].copy()
        for i in 0 ..< l {
            if let d = jointDiagonal(i, j) { acc.scaleColumns(d) }
            if i + 1 < l { acc = ZMatrix.product(acc, .none, factors[i + 1], .none) }
        }
        return acc
    }

    /// Rgt_j for factor l: J_l F_{l+1} ... F_L (a_l, M); nil when l = L-1 (identity).
    func right(_ l: Int, _ j: Int) -> ZMatrix? {
        if l == L - 1 { return nil }
        var acc = factors[L - 1].copy()
        var i = L - 2
        while i >= l {
            if let d = jointDiagonal(i, j) { acc.scaleRows(d) }
            if i > l { acc = ZMatrix.product(factors[i], .none, acc, .none) }
            i -= 1
        }
        return acc
    }

    /// B_j (P, M).
    func cascaded(_ j: Int) -> ZMatrix {
        var acc = factors[0].copy()
        for i in 0 ..< L - 1 {
            if let d = jointDiagonal(i, j) { acc.scaleColumns(d) }
            acc = ZMatrix.product(acc, .none, factors[i + 1], .none)
        }
        return acc
    }

    /// F = (1 / (2 J T)) sum_j ||Y_j - B_j X_j||_F^2, from Y and X directly.
    func objective() -> Double {
        let (P, M, T) = (sys.P, sys.M, sys.T)
        let xp = sys.pilots.pointer(C128.self), yp = sys.received.pointer(C128.self)
        let r = Scratch<C128>(count: P * T)
        var total = 0.0
        for j in 0 ..< sys.blocks {
            let B = cascaded(j)
            r.p.update(from: yp + j * P * T, count: P * T)
            BLAS.zgemm(P, T, M, B.p, M, .none, xp + j * M * T, T, .none, r.p, T, alpha: C128(-1, 0), beta: C128(1, 0))
            for i in 0 ..< P * T { total += r.p[i].lengthSquared }
        }
        return total / (2 * Double(sys.blocks * T))
    }

    /// 2 dF/d conj(F_l) = -(1/(J T)) sum_j Lft_j^H E_j Rgt_j^H, E_j = YX_j - B_j Q_j.
    func gradient(_ l: Int) -> ZMatrix {
        let out = ZMatrix(rows: factors[l].rows, cols: factors[l].cols)
        let scale = C128(-1 / Double(sys.blocks * sys.T), 0)
        for j in 0 ..< sys.blocks {
            let E = YX[j].copy()
            let B = cascaded(j)
            BLAS.zgemm(sys.P, sys.M, sys.M, B.p, sys.M, .none, Q[j].p, sys.M, .none, E.p, sys.M, alpha: C128(-1, 0), beta: C128(1, 0))
            var t = E
            if let Lj = left(l, j) { t = ZMatrix.product(Lj, .adjoint, t, .none) }
            if let Rj = right(l, j) { t = ZMatrix.product(t, .none, Rj, .adjoint) }
            out.add(t, scale)
        }
        return out
    }

    /// Copies of the factors and phase estimates.
    func snapshot() -> [ZMatrix] { factors.map { $0.copy() } + phases.map { $0.copy() } }

    /// Sets factors and phases to s (a snapshot), or to s + alpha (s - base) when `base` is given.
    func restore(_ s: [ZMatrix], from base: [ZMatrix]? = nil, alpha: Double = 0) {
        let targets = factors + phases
        for (k, t) in targets.enumerated() {
            let a = s[k]
            if let b = base?[k] {
                let c = C128(alpha, 0)
                for i in 0 ..< t.count { t.p[i] = a.p[i] + c * (a.p[i] - b.p[i]) }
            } else {
                t.p.update(from: a.p, count: t.count)
            }
        }
    }

    /// The estimated channels (products of their factors), c128.
    func channelTensors() throws -> [Tensor] {
        try channelFactors.map { ids in
            ids.count == 1 ? try factors[ids[0]].tensor() : try ZMatrix.product(factors[ids[0]], .none, factors[ids[1]], .none).tensor()
        }
    }

    /// B_j for all blocks: (J, P, M).
    func cascadedTensor() throws -> Tensor {
        let (P, M) = (sys.P, sys.M)
        let out = try Tensor(uninitialized: [sys.blocks, P, M], dtype: .c128)
        for j in 0 ..< sys.blocks {
            let B = cascaded(j)
            withExtendedLifetime(B) { (out.pointer(C128.self) + j * P * M).update(from: B.p, count: P * M) }
        }
        return out
    }
}
