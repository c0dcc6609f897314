// Linalg: linear algebra on batches of matrices (torch.linalg's names and conventions),
// computed by LAPACK.
//
//     let a = try Tensor(array: [4, 1, 1, 3], shape: [2, 2], dtype: .f64)
//     let x = try Linalg.solve(a, b)                      // a x = b
//     let d = try Linalg.det(a)                           // 0-d: 11
//     let l = try Linalg.cholesky(a)                      // lower: l l^H = a
//     let (u, s, vh) = try Linalg.svd(a, fullMatrices: false)
//     let (w, v) = try Linalg.eigh(a)                     // ascending w, a v = v diag(w)
//     let n = try Linalg.matrixNorm(a, ord: .nuc)
//
// Every function takes (..., m, n) tensors: the last two dims are the matrix and any leading
// dims are a batch, looped over one matrix at a time (solve and lstsq broadcast the batch dims
// of their two operands, as torch does). f32, f64, c64 and c128 are computed in their own type;
// i64 and bool are computed in f32, torch's default float. Real-valued results of complex
// inputs (singular values, eigenvalues, norms, log|det|) have the matching real type.
//
// Layout: Tide is row-major and LAPACK column-major, so each matrix is copied into a
// column-major buffer before the call and results are copied back (Lapack.swift). Errors
// LAPACK reports through `info` become TensorErrors naming the op and what went wrong.
//
// Memory: inputs are never modified; every result is a new contiguous tensor.
import ComplexModule
import RealModule

public enum Linalg {
    /// The dtype an op computes in: f32, f64, c64, c128 as given; i64 and bool in f32.
    public static func computeType(_ d: DType) -> DType { d.isIntegral ? .f32 : d }

    /// A batch of matrices converted to the compute type, dense row-major.
    struct Matrices {
        let data: Tensor
        let batch: [Int]
        let rows: Int, cols: Int
        var count: Int { batch.reduce(1, *) }
        var size: Int { rows * cols }
        func pointer<T>(_: T.Type, _ b: Int) -> UnsafeMutablePointer<T> { data.pointer(T.self) + b * size }
    }

    /// Checks that `a` is (..., m, n) (square when asked) and converts it to `dtype`.
    static func matrices(_ a: Tensor, _ op: String, square: Bool = false, dtype: DType? = nil) throws -> Matrices {
        let (batch, m, n) = try matrixShape(a, op, square: square)
        let data = try a.to(dtype ?? computeType(a.dtype)).contiguous()
        return Matrices(data: data, batch: batch, rows: m, cols: n)
    }

    /// The iterative LAPACK routines (gesdd, gelsd, syevd/heevd) fail on NaN or inf with a
    /// bogus "illegal argument" and print to stderr; this names the op instead (as torch does).
    static func requireFinite(_ t: Tensor, _ op: String) throws {
        guard t.numel > 0, !t.dtype.isIntegral else { return }
        if try t.isfinite().reduce(.all, dims: nil).item() == 0 {
            throw TensorError("\(op): expected finite values, got NaN or inf in the input")
        }
    }

    /// (batch dims, rows, cols) of a (..., m, n) tensor, or throws naming the op and the shape.
    static func matrixShape(_ a: Tensor, _ op: String, square: Bool = false) throws -> ([Int], Int, Int) {
        guard a.dim >= 2 else {
            let want = square ? "(..., n, n)" : "(..., m, n)"
            throw TensorError("\(op): expected a \(want) tensor with at least 2 dims, got shape \(shapeString(a.shape))")
        }
        let m = a.shape[a.dim - 2], n = a.shape[a.dim - 1]
        if square && m != n {
            throw TensorError("\(op): expected square matrices (..., n, n), got shape \(shapeString(a.shape))")
        }
        _ = try lapackInt(m, op)
        _ = try lapackInt(n, op)
        return (Array(a.shape.dropLast(2)), m, n)
    }

    /// " (matrix 3 of the batch)" when there is more than one matrix, for error messages.
    static func which(_ b: Int, _ count: Int) -> String { count > 1 ? " (matrix \(b + 1) of the batch)" : "" }

    /// A negative `info`: LAPACK rejected an argument, which is a bug in Tide.
    static func badArgument(_ op: String, _ routine: String, _ info: Int32) -> TensorError {
        TensorError("\(op): LAPACK \(routine) rejected argument \(-info) (an internal error; please report it)")
    }

    // MARK: LU: det, slogdet, inv, solve

    /// det of each matrix: a (..., n, n) -> (...), by LU factorization (getrf): the product of
    /// U's diagonal times the sign of the row permutation. A singular matrix gives 0.
    public static func det(_ a: Tensor) throws -> Tensor {
        if Autograd.isRecording(a) { return try detRecorded(a) }
        return try luDeterminants(a, "det").det
    }

    /// sign and log|det| of each matrix: a (..., n, n) -> sign (...), logabsdet (...).
    /// For complex a, sign is the phase det/|det| (complex) and logabsdet is real.
    /// A singular matrix gives sign 0 and logabsdet -inf.
    public static func slogdet(_ a: Tensor) throws -> (sign: Tensor, logabsdet: Tensor) {
        if Autograd.isRecording(a) {
            return (try Autograd.noGrad { try slogdet(a).sign }, try logabsdetRecorded(a))
        }
        let r = try luDeterminants(a, "slogdet")
        return (r.sign, r.logabs)
    }

    static func luDeterminants(_ a: Tensor, _ op: String) throws -> (det: Tensor, sign: Tensor, logabs: Tensor) {
        struct V: LapackVisitor {
            let m: Matrices, op: String
            func visit<T: LapackScalar>(_: T.Type) throws -> (det: Tensor, sign: Tensor, logabs: Tensor) {
                let n = m.rows, ld = max(1, n)
                let det = try Tensor(uninitialized: m.batch, dtype: T.dtype)
                let sign = try Tensor(uninitialized: m.batch, dtype: T.dtype)
                let logabs = try Tensor(uninitialized: m.batch, dtype: T.RealPart.dtype)
                let pd = det.pointer(T.self), ps = sign.pointer(T.self), pl = logabs.pointer(T.RealPart.self)
                let buf = try LapackBuffer<T>(ld * n, op), ipiv = try LapackBuffer<Int32>(n, op)
                for b in 0 ..< m.count {
                    try Cancellation.check()
                    packColumnMajor(m.pointer(T.self, b), rows: n, cols: n, into: buf.p, ld: ld)
                    let info = T.getrf(n, n, buf.p, ld, ipiv.p)
                    if info < 0 { throw Linalg.badArgument(op, T.prefix + "getrf", info) }
                    if info > 0 {  // U[info, info] is exactly zero
                        pd[b] = 0; ps[b] = 0; pl[b] = -T.RealPart.infinity
                        continue
                    }
                    // non-finite pivots as NumPy: a real sign comes from u < 0 (NaN leaves it), a
                    // complex one is NaN; |u| is NaN for NaN parts unless a part is infinite
                    // (swift-numerics' modulus would call every non-finite value infinite)
                    let complex = T.precision == .c || T.precision == .z
                    var d: T = 1, s: T = 1, l: T.RealPart = 0, nanSign = false
                    for i in 0 ..< n {
                        let u = buf.p[i + i * ld], re = u.realPart, im = u.imagPart
                        let r: T.RealPart = re.isInfinite || im.isInfinite ? .infinity : re.isNaN || im.isNaN ? .nan : u.modulus
                        d = d * u
                        if !complex { if re < 0 { s = -s } } else if r.isFinite && r > 0 { s = s * (u / T(real: r)) } else { nanSign = true }
                        l += T.RealPart.log(r)
                        if ipiv.p[i] != Int32(i + 1) { d = -d; s = -s }
                    }
                    pd[b] = d; ps[b] = nanSign ? T(re: .nan, im: .nan) : s; pl[b] = l
                }
                return (det, sign, logabs)
            }
        }
        let m = try matrices(a, op, square: true)
        return try m.data.dtype.visitLapack(V(m: m, op: op))
    }

    /// The inverse of each matrix: a (..., n, n) -> (..., n, n), by LU (getrf + getri).
    /// Throws when a matrix is singular.
    public static func inv(_ a: Tensor) throws -> Tensor {
        if Autograd.isRecording(a) { return try invRecorded(a) }
        struct V: LapackVisitor {
            let m: Matrices
            func visit<T: LapackScalar>(_: T.Type) throws -> Tensor {
                let n = m.rows, ld = max(1, n)
                let out = try Tensor(uninitialized: m.batch + [n, n], dtype: T.dtype)
                let buf = try LapackBuffer<T>(ld * n, "inv"), ipiv = try LapackBuffer<Int32>(n, "inv")
                let query = try LapackBuffer<T>(1, "inv")
                var info = T.getri(n, buf.p, ld, ipiv.p, query.p, -1)
                if info < 0 { throw Linalg.badArgument("inv", T.prefix + "getri", info) }
                let work = try LapackBuffer<T>(max(T.workspaceSize(query.p[0].realPart), n), "inv")
                for b in 0 ..< m.count {
                    try Cancellation.check()
                    packColumnMajor(m.pointer(T.self, b), rows: n, cols: n, into: buf.p, ld: ld)
                    info = T.getrf(n, n, buf.p, ld, ipiv.p)
                    if info < 0 { throw Linalg.badArgument("inv", T.prefix + "getrf", info) }
                    if info > 0 { throw TensorError("inv: the matrix is singular (U[\(info),\(info)] is exactly zero)\(Linalg.which(b, m.count))") }
                    info = T.getri(n, buf.p, ld, ipiv.p, work.p, work.count)
                    if info != 0 { throw Linalg.badArgument("inv", T.prefix + "getri", info) }
                    unpackColumnMajor(buf.p, ld: ld, rows: n, cols: n, into: out.pointer(T.self) + b * n * n)
                }
                return out
            }
        }
        let m = try matrices(a, "inv", square: true)
        return try m.data.dtype.visitLapack(V(m: m))
    }

    /// The solution x of a x = b: a (..., n, n), b (..., n, k) -> x (..., n, k), or
    /// b (..., n) -> x (..., n) when b is 1-d or has exactly a's batch dims (torch's rule).
    /// Batch dims broadcast. LU with partial pivoting (getrf + getrs); throws when a is singular.
    public static func solve(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        if Autograd.isRecording(a, b) { return try solveRecorded(a, b) }
        let (A, B, vector) = try leftRight(a, b, "solve", square: true)
        struct V: LapackVisitor {
            let a: Matrices, b: Matrices
            func visit<T: LapackScalar>(_: T.Type) throws -> Tensor {
                let n = a.rows, k = b.cols, ld = max(1, n)
                let out = try Tensor(uninitialized: b.batch + [n, k], dtype: T.dtype)
                let abuf = try LapackBuffer<T>(ld * n, "solve"), bbuf = try LapackBuffer<T>(ld * k, "solve")
                let ipiv = try LapackBuffer<Int32>(n, "solve")
                for i in 0 ..< a.count {
                    try Cancellation.check()
                    packColumnMajor(a.pointer(T.self, i), rows: n, cols: n, into: abuf.p, ld: ld)
                    var info = T.getrf(n, n, abuf.p, ld, ipiv.p)
                    if info < 0 { throw Linalg.badArgument("solve", T.prefix + "getrf", info) }
                    if info > 0 { throw TensorError("solve: a is singular (U[\(info),\(info)] is exactly zero)\(Linalg.which(i, a.count))") }
                    packColumnMajor(b.pointer(T.self, i), rows: n, cols: k, into: bbuf.p, ld: ld)
                    info = T.getrs(n, k, abuf.p, ld, ipiv.p, bbuf.p, ld)
                    if info != 0 { throw Linalg.badArgument("solve", T.prefix + "getrs", info) }
                    unpackColumnMajor(bbuf.p, ld: ld, rows: n, cols: k, into: out.pointer(T.self) + i * n * k)
                }
                return out
            }
        }
        let x = try A.data.dtype.visitLapack(V(a: A, b: B))
        return vector ? try x.reshaped(Array(x.shape.dropLast())) : x
    }

    /// The operands of a x = b problem (solve, lstsq) with broadcast batch dims, in one compute
    /// type; `vector` says b was (..., m) and the result drops its last dim.
    static func leftRight(_ a: Tensor, _ b: Tensor, _ op: String, square: Bool) throws -> (Matrices, Matrices, vector: Bool) {
        let dt = computeType(DType.promote(a.dtype, b.dtype))
        let (abatch, m, n) = try matrixShape(a, op, square: square)
        let vector = b.dim == 1 || (b.dim == a.dim - 1 && b.shape == Array(a.shape.dropLast()))
        guard b.dim >= 1 else {
            throw TensorError("\(op): b must be (..., m) or (..., m, k), got shape \(shapeString(b.shape)) (a is \(shapeString(a.shape)))")
        }
        let B = vector ? try b.unsqueeze(b.dim) : b
        let k = B.shape[B.dim - 1]
        guard B.shape[B.dim - 2] == m else {
            let what = vector ? "b's size" : "dim -2 of b"
            throw TensorError("\(op): a is \(shapeString(a.shape)) but b is \(shapeString(b.shape)) (\(what) must equal a's row count \(m))")
        }
        _ = try lapackInt(k, op)
        let batch = try Tensor.broadcastShape(abatch, Array(B.shape.dropLast(2)), op: op)
        let Ad = try a.to(dt).expand(batch + [m, n]).contiguous()
        let Bd = try B.to(dt).expand(batch + [m, k]).contiguous()
        return (Matrices(data: Ad, batch: batch, rows: m, cols: n), Matrices(data: Bd, batch: batch, rows: m, cols: k), vector)
    }

    // MARK: Cholesky

    /// The Cholesky factor of each Hermitian positive-definite matrix: a (..., n, n) -> (..., n, n),
    /// lower l with a = l l^H (or upper u with a = u^H u when `upper`), by potrf. Only the
    /// chosen triangle of a is read; the other triangle of the result is zero. Throws when a
    /// matrix is not positive definite.
    public static func cholesky(_ a: Tensor, upper: Bool = false) throws -> Tensor {
        if Autograd.isRecording(a) { return try choleskyRecorded(a, upper: upper) }
        struct V: LapackVisitor {
            let m: Matrices, upper: Bool
            func visit<T: LapackScalar>(_: T.Type) throws -> Tensor {
                let n = m.rows, ld = max(1, n)
                let out = try Tensor(uninitialized: m.batch + [n, n], dtype: T.dtype)
                let buf = try LapackBuffer<T>(ld * n, "cholesky")
                for b in 0 ..< m.count {
                    try Cancellation.check()
                    packColumnMajor(m.pointer(T.self, b), rows: n, cols: n, into: buf.p, ld: ld)
                    let info = T.potrf(upper ? 85 : 76, n, buf.p, ld)  // "U" / "L"
                    if info < 0 { throw Linalg.badArgument("cholesky", T.prefix + "potrf", info) }
                    if info > 0 {
                        throw TensorError("cholesky: the matrix is not positive definite (leading minor \(info) is not positive)\(Linalg.which(b, m.count))")
                    }
                    let o = out.pointer(T.self) + b * n * n
                    for i in 0 ..< n {
                        for j in 0 ..< n {
                            let keep = upper ? i <= j : i >= j
                            o[i * n + j] = keep ? buf.p[i + j * ld] : 0
                        }
                    }
                }
                return out
            }
        }
        let m = try matrices(a, "cholesky", square: true)
        return try m.data.dtype.visitLapack(V(m: m, upper: upper))
    }

    // MARK: matrix norms

    /// The orders matrix_norm accepts (torch.linalg.matrix_norm's `ord`).
    public enum NormOrder: Equatable, Sendable {
        /// sqrt of the sum of |a_ij|^2
        case fro
        /// the sum of the singular values
        case nuc
        /// 2: the largest singular value; -2: the smallest; 1 / -1: the largest / smallest
        /// column sum of |a_ij|; inf / -inf: the largest / smallest row sum.
        case p(Double)

        /// The numeric orders: 2, -2, 1, -1, inf, -inf.
        public static let numeric: [Double] = [2, -2, 1, -1, .infinity, -.infinity]

        public init?(_ p: Double) {
            guard NormOrder.numeric.contains(p) else { return nil }
            self = .p(p)
        }
        /// "2", "-1", "inf", "2.5": a numeric order as a message shows it.
        public static func describe(_ p: Double) -> String {
            if p.isInfinite { return p > 0 ? "inf" : "-inf" }
            return p == p.rounded() && Swift.abs(p) < 1e15 ? String(Int(p)) : String(p)
        }

        public init?(_ s: String) {
            switch s {
            case "fro": self = .fro
            case "nuc": self = .nuc
            default: return nil
            }
        }
    }

    /// A matrix norm over the last two dims: a (..., m, n) -> (...) real (keepdim: (..., 1, 1)).
    /// The 2, -2 and nuclear norms come from the singular values (gesdd without vectors).
    public static func matrixNorm(_ a: Tensor, ord: NormOrder = .fro, keepdim: Bool = false) throws -> Tensor {
        let m = try matrices(a, "matrix_norm")
        let x = m.data
        if ord == .nuc || ord == .p(2) || ord == .p(-2) { try requireFinite(x, "matrix_norm") }  // the SVD ones
        let r: Tensor
        switch ord {
        case .fro:
            // (real: the 2-norm op, whose gradient is 0 at a zero matrix rather than NaN)
            r = x.dtype.isComplex ? try x.unary(.abs).unary(.square).reduce(.sum, dims: [-2, -1]).unary(.sqrt)
                : try x.norm(p: 2, dims: [-2, -1])
        case .nuc:
            r = try svdvals(x).reduce(.sum, dims: [-1])
        case .p(let p):
            guard NormOrder(p) != nil else {
                throw TensorError("matrix_norm: ord must be 'fro', 'nuc', 2, -2, 1, -1, inf or -inf, got \(NormOrder.describe(p))")
            }
            if m.rows * m.cols == 0 {
                throw TensorError("matrix_norm: ord \(NormOrder.describe(p)) is not defined for an empty matrix (shape \(shapeString(a.shape)))")
            }
            let extreme: ReduceOp = p > 0 ? .amax : .amin
            if p == 2 || p == -2 {
                r = try svdvals(x).reduce(extreme, dims: [-1])
            } else if p == 1 || p == -1 {
                r = try x.unary(.abs).reduce(.sum, dims: [-2]).reduce(extreme, dims: [-1])
            } else {
                r = try x.unary(.abs).reduce(.sum, dims: [-1]).reduce(extreme, dims: [-1])
            }
        }
        return keepdim ? try r.reshaped(m.batch + [1, 1]) : r
    }
}
