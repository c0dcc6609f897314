// TensorTrain: an order-N tensor stored as N cores X_i of shape (r_{i-1}, d_i, r_i), r_0 = r_N = 1
// (spec solvers.md 1.2):
//
//     X(s_1, ..., s_N) = X_1(:, s_1, :) X_2(:, s_2, :) ... X_N(:, s_N, :)
//
//     let tt = try TensorTrain(cores: [a, b, c])        // a (1, 4, 2), b (2, 5, 3), c (3, 6, 1)
//     let x = try tt.full()                             // (4, 5, 6)
//     tt.dims      // [4, 5, 6]      tt.ranks  // [1, 2, 3, 1]     tt.numel  // 120
//     let y = try TTSVD.decompose(x, ranks: [2, 3]).tt  // back from the full tensor
//
// Unfolding order (one for everything, spec 1.1): Tide is row-major like NumPy, so the full
// tensor's flat index is ((s_1 d_2 + s_2) d_3 + s_3) ... (the first index varies slowest), a
// core's left unfolding L(X_i) is its row-major reshape to (r_{i-1} d_i, r_i) and its right
// unfolding R(X_i) the reshape to (r_{i-1}, d_i r_i). This is NumPy's C order and the order of
// tensorly's tensor_train, so cores compare with theirs up to the usual signs of SVD vectors.
// The round-trip tests (full -> TT-SVD -> full) pin it down.
//
// Memory: a TensorTrain is immutable; its cores are contiguous f64 tensors it owns (the
// initializer copies anything else). Every operation returns a new train.
import TideCore

public final class TensorTrain: @unchecked Sendable {
    /// Core i: (r_{i-1}, d_i, r_i), contiguous f64.
    public let cores: [Tensor]

    /// Checks the chain of shapes and converts the cores to contiguous f64.
    public init(cores given: [Tensor], op: String = "tt") throws {
        guard !given.isEmpty else { throw TensorError("\(op): expected at least one core, got none") }
        var cs: [Tensor] = []
        for (i, c) in given.enumerated() {
            guard c.dim == 3 else {
                throw TensorError("\(op): core \(i + 1) must be 3-d (r_prev, d, r_next), got shape \(shapeString(c.shape))")
            }
            guard !c.dtype.isComplex else {
                throw TensorError("\(op): core \(i + 1) must be real (f64), got \(c.dtype.rawValue)")
            }
            guard c.shape[1] >= 1, c.shape[0] >= 1, c.shape[2] >= 1 else {
                throw TensorError("\(op): core \(i + 1) has an empty dim, shape \(shapeString(c.shape))")
            }
            cs.append(try c.f64Contiguous(op))
        }
        guard cs[0].shape[0] == 1 else {
            throw TensorError("\(op): the first core must have r_0 = 1, got shape \(shapeString(cs[0].shape))")
        }
        guard cs[cs.count - 1].shape[2] == 1 else {
            throw TensorError("\(op): the last core must have r_N = 1, got shape \(shapeString(cs[cs.count - 1].shape))")
        }
        for i in 1 ..< cs.count where cs[i - 1].shape[2] != cs[i].shape[0] {
            throw TensorError("\(op): core \(i) ends with rank \(cs[i - 1].shape[2]) but core \(i + 1) starts with rank \(cs[i].shape[0]) (shapes \(shapeString(cs[i - 1].shape)) and \(shapeString(cs[i].shape)))")
        }
        cores = cs
    }

    /// Wraps cores already known to be valid contiguous f64 tensors (internal fast path).
    init(trusted: [Tensor]) { cores = trusted }

    public var order: Int { cores.count }
    /// d_1, ..., d_N.
    public var dims: [Int] { cores.map { $0.shape[1] } }
    /// r_0 = 1, r_1, ..., r_{N-1}, r_N = 1 (N + 1 values, tensorly's convention).
    public var ranks: [Int] { [1] + cores.map { $0.shape[2] } }
    /// The number of entries of the full tensor, prod d_i (nil when it overflows Int: trains
    /// can represent tensors far larger than memory).
    public var numel: Int? {
        var n = 1
        for d in dims {
            let (v, o) = n.multipliedReportingOverflow(by: d)
            if o { return nil }
            n = v
        }
        return n
    }
    /// prod d_i as a Double (never overflows).
    public var numelDouble: Double { dims.reduce(1.0) { $0 * Double($1) } }
    /// The number of stored values, sum r_{i-1} d_i r_i.
    public var parameterCount: Int { cores.reduce(0) { $0 + $1.numel } }

    /// The full tensor: contract the cores left to right, one GEMM per core
    /// (T (d_1..d_i, r_i) <- T (d_1..d_{i-1}, r_{i-1}) R(X_i)). -> (d_1, ..., d_N).
    public func full() throws -> Tensor {
        let out = try Tensor(uninitialized: dims, dtype: .f64)
        try fullInto(out.pointer(Double.self))
        return out
    }

    /// Writes the full tensor (prod d_i values) to `dst`. Intermediate products
    /// (d_1..d_i, r_i) alternate between two temporaries (they can be larger than the result
    /// when a rank exceeds the product of the remaining dims); the last GEMM writes dst.
    func fullInto(_ dst: UnsafeMutablePointer<Double>) throws {
        guard numel != nil else { throw TensorError("tt:full: the full tensor of dims \(dimsText(dims)) has too many entries") }
        let n = order
        if n == 1 { dst.update(from: cores[0].pointer(Double.self), count: cores[0].numel); return }
        var biggest = 1, rows = cores[0].shape[1]
        for i in 1 ..< n - 1 { rows *= cores[i].shape[1]; biggest = max(biggest, rows * cores[i].shape[2]) }
        let a = Scratch<Double>(count: n > 2 ? biggest : 1), b = Scratch<Double>(count: n > 3 ? biggest : 1)
        var cur = UnsafeMutablePointer<Double>(mutating: cores[0].pointer(Double.self))
        rows = cores[0].shape[1]
        for i in 1 ..< n {
            let c = cores[i]
            let r0 = c.shape[0], d = c.shape[1], r1 = c.shape[2]
            let target = i == n - 1 ? dst : (i % 2 == 1 ? a.p : b.p)
            BLAS.gemm(rows, d * r1, r0, cur, r0, c.pointer(Double.self), d * r1, target, d * r1)
            cur = target
            rows *= d
        }
    }

    /// Core i's left unfolding L(X_i) (r_{i-1} d_i, r_i) as a view.
    public func leftUnfolding(_ i: Int) throws -> Tensor {
        let c = cores[i]
        return try c.reshaped([c.shape[0] * c.shape[1], c.shape[2]])
    }

    /// Core i's right unfolding R(X_i) (r_{i-1}, d_i r_i) as a view.
    public func rightUnfolding(_ i: Int) throws -> Tensor {
        let c = cores[i]
        return try c.reshaped([c.shape[0], c.shape[1] * c.shape[2]])
    }

    /// A copy with every core copied (so callers may write the copies).
    public func copy() throws -> TensorTrain {
        TensorTrain(trusted: try cores.map { try $0.clone() })
    }

    /// ||G - I||_F of the r x r Gram matrix at g.
    private func distanceFromIdentity(_ g: UnsafePointer<Double>, _ r: Int) -> Double {
        var s = 0.0
        for a in 0 ..< r { for b in 0 ..< r { let v = g[a * r + b] - (a == b ? 1 : 0); s += v * v } }
        return s.squareRoot()
    }

    /// max_i ||L(X_i)^T L(X_i) - I||_F over cores 1..N-1: how far the train is from
    /// left-orthogonal form (0 for TT-SVD output up to rounding).
    public func leftOrthogonalityDefect() throws -> Double {
        var worst = 0.0
        for i in 0 ..< order - 1 {
            let c = cores[i]
            let rows = c.shape[0] * c.shape[1], r = c.shape[2]
            let g = Scratch<Double>(count: r * r)
            BLAS.gemm(r, r, rows, c.pointer(Double.self), r, c.pointer(Double.self), r, g.p, r, transA: true)
            worst = max(worst, distanceFromIdentity(g.p, r))
        }
        return worst
    }

    /// max_i ||R(X_i) R(X_i)^T - I||_F over cores 2..N (0 for right-orthogonal form).
    public func rightOrthogonalityDefect() throws -> Double {
        var worst = 0.0
        for i in 1 ..< order {
            let c = cores[i]
            let r = c.shape[0], cols = c.shape[1] * c.shape[2]
            let g = Scratch<Double>(count: r * r)
            BLAS.gemm(r, r, cols, c.pointer(Double.self), cols, c.pointer(Double.self), cols, g.p, r, transB: true)
            worst = max(worst, distanceFromIdentity(g.p, r))
        }
        return worst
    }
}

/// "(4, 5, 6)"-style text for messages.
func dimsText(_ d: [Int]) -> String { "(" + d.map(String.init).joined(separator: ", ") + ")" }
