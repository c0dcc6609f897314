// RecoveryObjective: the losses of robust TT sensing and their hand-written (sub)gradients
// (spec solvers.md 2.2, 2.5, 2.6).
//
//     f_l1(X) = (1/m) ||A(X) - y||_1          G = (1/m) A^T sign(A(X) - y), sign(0) := 0
//     f_l2(X) = (1/(2m)) ||A(X) - y||_2^2     G = (1/m) A^T (A(X) - y)
//
//     let obj = try RecoveryObjective(op: op, y: y, loss: .l1)
//     let f = obj.value(x)                 // x: D values; fills the weights w = sign(e)/m
//     obj.gradient(into: g)                // g = A^T w (D values), one GEMV
//     let parts = try RecoveryObjective.coreGradients(op: op, y: y, tt: tt, loss: .l2)
//
// Core gradients (2.6, chain rule through X = X_1 ... X_N): with Lft_i (d_1..d_{i-1}, r_{i-1})
// the product of the cores before i and Rgt_i (r_i, d_{i+1}..d_N) the product after it,
//     dX_i[a, s, b] = sum_{p,q} Lft_i[p, a] G[p, s, q] Rgt_i[b, q],
// two GEMMs per core. The partial products are kept in CorePartials so FRSubGM reuses them.
//
// Memory: e and w (m values each) live as long as the objective; no allocation per call.
import TideCore

final class RecoveryObjective {
    let op: MeasurementOperator
    let y: Tensor
    let loss: RecoveryOptions.Loss
    let m: Int, D: Int
    let e: Scratch<Double>, w: Scratch<Double>

    init(op: MeasurementOperator, y: Tensor, loss: RecoveryOptions.Loss, name: String = "tt.recover") throws {
        guard !op.isComplex else { throw TensorError("\(name): robust TT recovery needs a real operator, got a complex one") }
        guard y.dim == 1, y.shape[0] == op.m else {
            throw TensorError("\(name): y must have shape (\(op.m)) to match the operator, got \(shapeString(y.shape))")
        }
        self.op = op
        self.y = try y.f64Contiguous(name)
        self.loss = loss
        m = op.m; D = op.size
        e = Scratch(count: m); w = Scratch(count: m)
    }

    /// f(x) for D values x; leaves the residual in e and the gradient weights in w.
    @discardableResult
    func value(_ x: UnsafePointer<Double>) -> Double {
        BLAS.gemv(m, D, op.matrix.pointer(Double.self), x, e.p)
        let yp = y.pointer(Double.self), ep = e.p, wp = w.p
        let inv = 1 / Double(m)
        var f = 0.0
        switch loss {
        case .l1:
            for i in 0 ..< m {
                let r = ep[i] - yp[i]
                ep[i] = r
                f += abs(r)
                wp[i] = r > 0 ? inv : (r < 0 ? -inv : 0)
            }
            return f * inv
        case .l2:
            for i in 0 ..< m {
                let r = ep[i] - yp[i]
                ep[i] = r
                f += r * r
                wp[i] = r * inv
            }
            return 0.5 * f * inv
        }
    }

    /// g = A^T w (D values) for the weights of the last value() call.
    func gradient(into g: UnsafeMutablePointer<Double>) {
        BLAS.gemv(m, D, op.matrix.pointer(Double.self), w.p, g, trans: true)
    }

    // MARK: public entry points for tests and bindings

    /// f(X) for a full tensor X.
    static func loss(op: MeasurementOperator, y: Tensor, x: Tensor, loss: RecoveryOptions.Loss, name: String = "tt.loss") throws -> Double {
        let obj = try RecoveryObjective(op: op, y: y, loss: loss, name: name)
        let xc = try fullArgument(x, op, name)
        return obj.value(xc.pointer(Double.self))
    }

    /// The (sub)gradient G of f at a full tensor X: -> dims.
    static func subgradient(op: MeasurementOperator, y: Tensor, x: Tensor, loss: RecoveryOptions.Loss, name: String = "tt.subgradient") throws -> Tensor {
        let obj = try RecoveryObjective(op: op, y: y, loss: loss, name: name)
        let xc = try fullArgument(x, op, name)
        obj.value(xc.pointer(Double.self))
        let g = try Tensor(uninitialized: op.dims, dtype: .f64)
        obj.gradient(into: g.pointer(Double.self))
        return g
    }

    /// The Euclidean gradients of f(full(tt)) with respect to each core: -> core shapes.
    static func coreGradients(op: MeasurementOperator, y: Tensor, tt: TensorTrain, loss: RecoveryOptions.Loss,
                              name: String = "tt.core_gradients") throws -> [Tensor] {
        guard tt.dims == op.dims else {
            throw TensorError("\(name): the operator takes dims \(dimsText(op.dims)), the train has \(dimsText(tt.dims))")
        }
        let obj = try RecoveryObjective(op: op, y: y, loss: loss, name: name)
        let parts = CorePartials(tt)
        obj.value(parts.full)
        let g = Scratch<Double>(count: op.size)
        obj.gradient(into: g.p)
        return try (0 ..< tt.order).map { i in
            let c = tt.cores[i]
            let out = try Tensor(uninitialized: c.shape, dtype: .f64)
            parts.coreGradient(i, g.p, into: out.pointer(Double.self))
            return out
        }
    }

    static func fullArgument(_ x: Tensor, _ op: MeasurementOperator, _ name: String) throws -> Tensor {
        guard x.numel == op.size else {
            throw TensorError("\(name): expected a tensor of shape \(dimsText(op.dims)), got \(shapeString(x.shape))")
        }
        return try x.f64Contiguous(name)
    }
}

/// Left and right partial products of a train, for core gradients (2.6) and the full tensor.
/// left[i]: (d_1..d_{i}, r_i) for i = 0..N-1 (left[0] = core 1 as (d_1, r_1)); the full tensor
/// is left[N-1]. right[i]: (r_i, d_{i+1}..d_N), the product of cores i+1..N (right[N-1] = [1]).
final class CorePartials {
    let tt: TensorTrain
    let dims: [Int], ranks: [Int]
    var left: [Scratch<Double>] = []
    var right: [Scratch<Double>] = []
    /// D_<i: d_1 ... d_{i-1} (0-based: product of dims before core i).
    let before: [Int]
    /// D_>i: product of dims after core i.
    let after: [Int]

    init(_ tt: TensorTrain) {
        self.tt = tt
        dims = tt.dims; ranks = tt.ranks
        let n = dims.count
        var b = [Int](repeating: 1, count: n), a = [Int](repeating: 1, count: n)
        for i in 1 ..< max(n, 1) { b[i] = b[i - 1] * dims[i - 1] }
        if n >= 2 { for i in stride(from: n - 2, through: 0, by: -1) { a[i] = a[i + 1] * dims[i + 1] } }
        before = b; after = a
        // left partials
        for i in 0 ..< n {
            let c = tt.cores[i], rows = b[i], r0 = ranks[i], d = dims[i], r1 = ranks[i + 1]
            let s = Scratch<Double>(count: rows * d * r1)
            if i == 0 { s.p.update(from: c.pointer(Double.self), count: d * r1) } else {
                BLAS.gemm(rows, d * r1, r0, left[i - 1].p, r0, c.pointer(Double.self), d * r1, s.p, d * r1)
            }
            left.append(s)
        }
        // right partials, built from the end
        var rs = [Scratch<Double>](repeating: Scratch<Double>(count: 1), count: n)
        rs[n - 1].p[0] = 1
        if n >= 2 {
            for i in stride(from: n - 2, through: 0, by: -1) {
                let c = tt.cores[i + 1], r0 = ranks[i + 1], d = dims[i + 1], r1 = ranks[i + 2]
                let s = Scratch<Double>(count: r0 * d * a[i + 1])
                // L(X_{i+1}) (r0 d, r1) x right[i+1] (r1, D_>(i+1)) -> (r0, d D_>(i+1))
                BLAS.gemm(r0 * d, a[i + 1], r1, c.pointer(Double.self), r1, rs[i + 1].p, a[i + 1], s.p, a[i + 1])
                rs[i] = s
            }
        }
        right = rs
    }

    /// The full tensor (prod d_i values).
    var full: UnsafeMutablePointer<Double> { left[dims.count - 1].p }

    /// dX_i = Lft_i^T G Rgt_i^T with G (D) viewed as (D_<i, d_i, D_>i): -> (r_{i-1}, d_i, r_i).
    func coreGradient(_ i: Int, _ g: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>) {
        let r0 = ranks[i], d = dims[i], r1 = ranks[i + 1], pb = before[i], pa = after[i]
        // T1 = Lft^T (r0, D_<i) G (D_<i, d D_>i) -> (r0 d, D_>i)
        let t1 = Scratch<Double>(count: r0 * d * pa)
        if i == 0 {
            t1.p.update(from: g, count: d * pa)  // Lft_1 = [1]
        } else {
            BLAS.gemm(r0, d * pa, pb, left[i - 1].p, r0, g, d * pa, t1.p, d * pa, transA: true)
        }
        // dX = T1 (r0 d, D_>i) Rgt^T (D_>i, r1)
        BLAS.gemm(r0 * d, r1, pa, t1.p, pa, right[i].p, pa, out, r1, transB: true)
    }

    /// Bytes of the partial products (FRSubGM's per-iteration workspace).
    var bytes: Int { (left.reduce(0) { $0 + $1.count } + right.reduce(0) { $0 + $1.count }) * 8 }
}
