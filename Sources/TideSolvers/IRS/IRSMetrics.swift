// IRSMetrics: the error metric of spec solvers.md 3.4, the number of unknowns, and the
// Khatri-Rao identity of 3.2.
//
//     let e = try IRSMetrics.error(cascaded: est.cascaded, system: sys)
//     e.E          // sum_j ||B^_j - B_j||_F^2 (invariant to the diagonal ambiguity)
//     e.nmse       // E / sum_j ||B_j||_F^2
//     e.cError     // ||C^ - C||_F / ||C||_F, C(p, n, m) = H(p, n) G(n, m) (one hop, known phases)
//     e.theory     // sigma^2 dof / T, the scaling law (dof = N (P + M - 1) for the base model)
//     e.ratio      // T E / (sigma^2 dof): ~1 when the law holds [prototype: 0.99-1.12]
//
// dof (unknowns after removing the ambiguities, [reconstructed]): a full channel counts
// rows * cols, a rank-r one r (rows + cols) - r^2; each IRS hop removes N_l (the diagonal
// scaling between its neighbours); unknown phases add K_l N_l - N_l.
// Khatri-Rao (row-major vec): vec(H diag(s) G) = (H kr G^T) s, column n of H kr G^T being
// h_n (x) g_n (the spec's column-major (G^T kr H) s is the same identity transposed).
import ComplexModule
import TideCore

public enum IRSMetrics {
    public struct Report {
        public let E: Double
        public let nmse: Double
        public let cError: Double
        public let theory: Double
        public let ratio: Double
        public let dof: Int
    }

    public static func dof(system sys: IRSSystem, ranks: [Int?]? = nil, unknownPhases: Bool = false) -> Int {
        let sizes = [sys.P] + sys.elements + [sys.M]
        var d = 0
        for c in 0 ..< sizes.count - 1 {
            let rows = sizes[c], cols = sizes[c + 1]
            if let r = ranks?[c] { d += r * (rows + cols) - r * r } else { d += rows * cols }
        }
        for l in 0 ..< sys.hops {
            d -= sys.elements[l]
            if unknownPhases { d += sys.phaseCounts[l] * sys.elements[l] - sys.elements[l] }
        }
        return d
    }

    public static func error(cascaded est: Tensor, system sys: IRSSystem, channels: [Tensor]? = nil,
                             ranks: [Int?]? = nil, unknownPhases: Bool = false, name: String = "irs.error") throws -> Report {
        let truth = try sys.cascaded()
        guard est.shape == truth.shape else {
            throw TensorError("\(name): expected cascaded channels of shape \(shapeString(truth.shape)), got \(shapeString(est.shape))")
        }
        let E = try squaredDistance(est, truth)
        let nmse = E / max(try squaredNorm(truth), .leastNormalMagnitude)
        var cErr = Double.nan
        if let ch = channels, sys.hops == 1, !unknownPhases, ch.count == 2 {
            let c1 = try invariantTensor(ch[0], ch[1], name: name), c0 = try invariantTensor(sys.channels[0], sys.channels[1], name: name)
            cErr = (try squaredDistance(c1, c0) / max(try squaredNorm(c0), .leastNormalMagnitude)).squareRoot()
        }
        let d = dof(system: sys, ranks: ranks, unknownPhases: unknownPhases)
        let theory = sys.sigma2 * Double(d) / Double(sys.T)
        return Report(E: E, nmse: nmse, cError: cErr, theory: theory, ratio: theory > 0 ? E / theory : .nan, dof: d)
    }

    /// C(p, n, m) = H(p, n) G(n, m): H (P, N), G (N, M) -> (P, N, M).
    public static func invariantTensor(_ h: Tensor, _ g: Tensor, name: String = "irs.invariant") throws -> Tensor {
        guard h.dim == 2, g.dim == 2, h.shape[1] == g.shape[0] else {
            throw TensorError("\(name): expected H (P, N) and G (N, M), got \(shapeString(h.shape)) and \(shapeString(g.shape))")
        }
        let H = try ZMatrix(h), G = try ZMatrix(g)
        let (P, N, M) = (H.rows, H.cols, G.cols)
        let out = try Tensor(uninitialized: [P, N, M], dtype: .c128)
        let o = out.pointer(C128.self)
        for p in 0 ..< P { for n in 0 ..< N { let hv = H[p, n]; for m in 0 ..< M { o[(p * N + n) * M + m] = hv * G[n, m] } } }
        return out
    }

    /// The column-wise Kronecker product: A (I, R), B (J, R) -> (I J, R), column r = a_r (x) b_r.
    public static func khatriRao(_ a: Tensor, _ b: Tensor, name: String = "irs.khatri_rao") throws -> Tensor {
        guard a.dim == 2, b.dim == 2, a.shape[1] == b.shape[1] else {
            throw TensorError("\(name): expected A (I, R) and B (J, R) with the same R, got \(shapeString(a.shape)) and \(shapeString(b.shape))")
        }
        let A = try ZMatrix(a), B = try ZMatrix(b)
        let (I, J, R) = (A.rows, B.rows, A.cols)
        let out = try Tensor(uninitialized: [I * J, R], dtype: .c128)
        let o = out.pointer(C128.self)
        for i in 0 ..< I { for j in 0 ..< J { for r in 0 ..< R { o[(i * J + j) * R + r] = A[i, r] * B[j, r] } } }
        return out
    }
}
