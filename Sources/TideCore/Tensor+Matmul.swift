// Tensor+Matmul: matrix products through BLAS.
//
//     a: (..., n, k), b: (..., k, m) -> (..., n, m)    batch dims broadcast (NumPy matmul)
//     a: (k,), b: (k,) -> 0-d (dot);  a: (n, k), b: (k,) -> (n,);  a: (k,), b: (k, m) -> (m,)
//
// f32/f64/c64/c128 go to cblas_?gemm (one call per batch matrix; a single big GEMM lets
// OpenBLAS use the cores). i64 is computed in f64 and cast back when that is exact (every
// partial sum below 2^53: max|a| max|b| k < 2^53), else by an integer loop that wraps on
// overflow as NumPy does; bool @ bool in f64 too, true where the count is above 0 (NumPy's
// logical matmul).
import COpenBLAS
import ComplexModule

extension Tensor {
    public static func matmul(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        if Autograd.isRecording(a, b) { return try matmulRecorded(a, b) }
        guard a.dim >= 1 && b.dim >= 1 else {
            throw TensorError("matmul: both operands need at least 1 dim, got \(shapeString(a.shape)) and \(shapeString(b.shape))")
        }
        let A = a.dim == 1 ? try a.unsqueeze(0) : a
        let B = b.dim == 1 ? try b.unsqueeze(1) : b
        let n = A.shape[A.dim - 2], k = A.shape[A.dim - 1]
        let k2 = B.shape[B.dim - 2], m = B.shape[B.dim - 1]
        guard k == k2 else {
            throw TensorError("matmul: a is \(shapeString(a.shape)) but b is \(shapeString(b.shape)) (last dim of a must equal \(b.dim == 1 ? "the size" : "dim -2") of b: \(k) vs \(k2))")
        }
        let batch = try broadcastShape(Array(A.shape.dropLast(2)), Array(B.shape.dropLast(2)), op: "matmul")
        var rt = DType.promote(a.dtype, b.dtype)
        let integral = rt.isIntegral, logical = rt == .bool
        if rt == .i64, let exact = try integerMatmul(A, B, batch: batch, n: n, k: k, m: m) {
            return try exact.reshaped(productShape(batch, n, m, a.dim, b.dim))
        }
        if integral { rt = .f64 }
        // operands as BLAS sees them: any view whose matrices have a unit stride in one of the
        // last two dims goes in as is (transposed or not); others are copied once
        func operand(_ t: Tensor, _ rows: Int, _ cols: Int) throws -> (Tensor, Bool, Int) {
            let v = try t.to(rt).expand(batch + [rows, cols])
            if let (tr, ld) = blasLayout(v) { return (v, tr, ld) }
            let c = try v.contiguous(force: true)
            return (c, false, Swift.max(cols, 1))
        }
        let (Av, ta, lda) = try operand(A, n, k)
        let (Bv, tb, ldb) = try operand(B, k, m)
        let out = try Tensor(uninitialized: batch + [n, m], dtype: rt)
        let count = batch.reduce(1, *)
        let isz = rt.itemSize
        if n * m > 0 && count > 0 {
            let bd = batch.count
            if !ta, bd > 0, Bv.strides[..<bd].allSatisfy({ $0 == 0 }), rowsFold(Av, bd, lda) {
                // one shared right matrix and left rows that form one strided run: a single GEMM
                gemm(rt, count * n, m, k, Av.rawPointer, false, lda, Bv.rawPointer, tb, ldb, out.rawPointer, m)
            } else {
                var idx = [Int](repeating: 0, count: bd)
                for i in 0 ..< count {
                    try Cancellation.check()
                    var oa = 0, ob = 0
                    for d in 0 ..< bd { oa += idx[d] * Av.strides[d]; ob += idx[d] * Bv.strides[d] }
                    gemm(rt, n, m, k, Av.rawPointer + oa * isz, ta, lda, Bv.rawPointer + ob * isz, tb, ldb,
                         out.rawPointer + i * n * m * isz, m)
                    var d = bd - 1
                    while d >= 0 { idx[d] += 1; if idx[d] < batch[d] { break }; idx[d] = 0; d -= 1 }
                }
            }
        }
        let r = try out.reshaped(productShape(batch, n, m, a.dim, b.dim))
        // bool @ bool is bool, as NumPy: true where any product is true (a count above 0)
        if logical { return try Tensor.compare(.gt, r, Tensor.scalar(0, dtype: .f64)) }
        return integral ? try r.to(.i64) : r
    }

    /// matmul's result shape: batch + (n, m) without the dims a 1-d operand did not have.
    static func productShape(_ batch: [Int], _ n: Int, _ m: Int, _ aDim: Int, _ bDim: Int) -> [Int] {
        var shape = batch + [n, m]
        if bDim == 1 { shape.removeLast() }
        if aDim == 1 { shape.remove(at: shape.count - (bDim == 1 ? 1 : 2)) }
        return shape
    }

    /// i64 products that f64 would not hold exactly: (batch, n, k) @ (batch, k, m) with
    /// wrapping integer arithmetic (NumPy's i64 matmul). nil when f64 is exact (every partial
    /// sum is at most max|a| max|b| k < 2^53), so BLAS can do it.
    static func integerMatmul(_ A: Tensor, _ B: Tensor, batch: [Int], n: Int, k: Int, m: Int) throws -> Tensor? {
        func maxAbs(_ t: Tensor) throws -> Double {
            let c = try t.to(.i64).contiguous()
            let p = c.pointer(Int64.self)
            var best: UInt64 = 0
            for i in 0 ..< c.numel { best = Swift.max(best, p[i].magnitude) }
            return Double(best)
        }
        // the bound from the operands as given (before any broadcast copy)
        if try maxAbs(A) * maxAbs(B) * Double(k) < 9007199254740992 { return nil }
        let a = try A.to(.i64).expand(batch + [n, k]).contiguous()
        let b = try B.to(.i64).expand(batch + [k, m]).contiguous()
        let out = try Tensor.zeros(batch + [n, m], dtype: .i64)
        let pa = a.pointer(Int64.self), pb = b.pointer(Int64.self), pc = out.pointer(Int64.self)
        for bi in 0 ..< batch.reduce(1, *) {
            try Cancellation.check()
            let ab = pa + bi * n * k, bb = pb + bi * k * m, cb = pc + bi * n * m
            for i in 0 ..< n {
                if i & 63 == 63 { try Cancellation.check() }
                let row = cb + i * m
                for p in 0 ..< k {
                    let x = ab[i * k + p], brow = bb + p * m
                    for j in 0 ..< m { row[j] &+= x &* brow[j] }
                }
            }
        }
        return out
    }

    /// out (n, m) = op(a) op(b) [+ bias broadcast over rows]: 2-d, same float dtype, one BLAS
    /// call (bias enters as beta = 1 on rows prefilled with it). No autograd: a building block
    /// for fused layers. op transposes when the flag is set.
    public static func gemm2d(_ a: Tensor, transA: Bool = false, _ b: Tensor, transB: Bool = false, bias: Tensor? = nil) throws -> Tensor {
        guard a.dim == 2, b.dim == 2, a.dtype == b.dtype, a.dtype.isFloatingPoint || a.dtype.isComplex else {
            throw TensorError("gemm: expected two 2-d float tensors of one dtype, got \(shapeString(a.shape)) \(a.dtype.rawValue) and \(shapeString(b.shape)) \(b.dtype.rawValue)")
        }
        var A = transA ? try a.transposed(0, 1) : a, B = transB ? try b.transposed(0, 1) : b
        let n = A.shape[0], k = A.shape[1], m = B.shape[1]
        guard B.shape[0] == k else {
            throw TensorError("gemm: op(a) is \(shapeString(A.shape)) but op(b) is \(shapeString(B.shape))")
        }
        if blasLayout(A) == nil { A = try A.contiguous(force: true) }
        if blasLayout(B) == nil { B = try B.contiguous(force: true) }
        let (ta, lda) = blasLayout(A)!, (tb, ldb) = blasLayout(B)!
        let out = try Tensor(uninitialized: [n, m], dtype: a.dtype)
        var beta = 0.0
        if let bias = bias {
            guard bias.numel == m else { throw TensorError("gemm: bias has \(bias.numel) elements for \(m) columns") }
            try out.copy_(from: bias.reshaped([1, m]).to(a.dtype))
            beta = 1
        }
        if n * m > 0 {
            gemm(a.dtype, n, m, k, A.rawPointer, ta, lda, B.rawPointer, tb, ldb, out.rawPointer, m, beta: beta)
        }
        return out
    }

    /// (transposed, leading dimension) when the last two dims of t are a BLAS matrix.
    static func blasLayout(_ t: Tensor) -> (Bool, Int)? {
        let r = t.shape[t.dim - 2], c = t.shape[t.dim - 1]
        let sr = r == 1 ? Swift.max(c, 1) : t.strides[t.dim - 2]
        let sc = c == 1 ? 1 : t.strides[t.dim - 1]
        if sc == 1 && sr >= Swift.max(c, 1) { return (false, sr) }
        let sc2 = c == 1 ? Swift.max(r, 1) : t.strides[t.dim - 1], sr2 = r == 1 ? 1 : t.strides[t.dim - 2]
        if sr2 == 1 && sc2 >= Swift.max(r, 1) { return (true, sc2) }
        return nil
    }

    /// Whether the batch dims and the row dim of a non-transposed operand form one run of
    /// rows `ld` apart (so all its matrices stack into one tall matrix).
    static func rowsFold(_ t: Tensor, _ bd: Int, _ ld: Int) -> Bool {
        var expect = ld * t.shape[bd]
        for d in stride(from: bd - 1, through: 0, by: -1) {
            if t.shape[d] != 1 && t.strides[d] != expect { return false }
            expect *= t.shape[d]
        }
        return true
    }

    /// C (n, m) = op(A) (n, k) * op(B) (k, m); op transposes when ta/tb. C is dense, ldc = m.
    static func gemm(_ t: DType, _ n: Int, _ m: Int, _ k: Int, _ a: UnsafeMutableRawPointer, _ ta: Bool, _ lda: Int,
                     _ b: UnsafeMutableRawPointer, _ tb: Bool, _ ldb: Int, _ c: UnsafeMutableRawPointer, _ ldc: Int,
                     beta: Double = 0) {
        let N = Int32(n), M = Int32(m), K = Int32(k)
        if k == 0 { if beta == 0 { c.initializeMemory(as: UInt8.self, repeating: 0, count: n * m * t.itemSize) }; return }
        if (n == 1 || m == 1) && (t == .f32 || t == .f64) {
            // a single row or column: GEMV. GEMM would pack the whole matrix operand for one
            // vector (that packing was a third of a decode step's time).
            gemv(t, n, m, k, a, ta, lda, b, tb, ldb, c, ldc, beta: beta)
            return
        }
        let TA = ta ? CblasTrans : CblasNoTrans, TB = tb ? CblasTrans : CblasNoTrans
        let LA = Int32(lda), LB = Int32(ldb), LC = Int32(ldc)
        switch t {
        case .f32:
            cblas_sgemm(CblasRowMajor, TA, TB, N, M, K, 1, a.assumingMemoryBound(to: Float.self), LA,
                        b.assumingMemoryBound(to: Float.self), LB, Float(beta), c.assumingMemoryBound(to: Float.self), LC)
        case .f64:
            cblas_dgemm(CblasRowMajor, TA, TB, N, M, K, 1, a.assumingMemoryBound(to: Double.self), LA,
                        b.assumingMemoryBound(to: Double.self), LB, beta, c.assumingMemoryBound(to: Double.self), LC)
        case .c64:
            var one = C64(1, 0), zero = C64(Float(beta), 0)
            cblas_cgemm(CblasRowMajor, TA, TB, N, M, K, &one, a, LA, b, LB, &zero, c, LC)
        case .c128:
            var one = C128(1, 0), zero = C128(beta, 0)
            cblas_zgemm(CblasRowMajor, TA, TB, N, M, K, &one, a, LA, b, LB, &zero, c, LC)
        default:
            fatalError("gemm: integral types are computed in f64 by matmul")
        }
    }
}

extension Tensor {
    /// gemm's n == 1 or m == 1 case for f32/f64 as one GEMV on the matrix operand.
    ///     n == 1: c (m) = op(B)^T x, x = the row of op(A) (stride lda when A is transposed)
    ///     m == 1: c (n) = op(A) x, x = the column of op(B) (stride ldb unless B is transposed),
    ///             written ldc apart
    static func gemv(_ t: DType, _ n: Int, _ m: Int, _ k: Int, _ a: UnsafeMutableRawPointer, _ ta: Bool, _ lda: Int,
                     _ b: UnsafeMutableRawPointer, _ tb: Bool, _ ldb: Int, _ c: UnsafeMutableRawPointer, _ ldc: Int,
                     beta: Double) {
        let (mat, trans, rows, cols, ld, x, incx, incy): (UnsafeMutableRawPointer, Bool, Int, Int, Int, UnsafeMutableRawPointer, Int, Int)
        if n == 1 {
            // op(B) is (k, m): stored (k, m) row-major when !tb (use its transpose), (m, k) when tb
            (mat, trans, rows, cols, ld) = tb ? (b, false, m, k, ldb) : (b, true, k, m, ldb)
            (x, incx, incy) = (a, ta ? lda : 1, 1)
        } else {
            // op(A) is (n, k): stored (n, k) when !ta, (k, n) when ta (use its transpose)
            (mat, trans, rows, cols, ld) = ta ? (a, true, k, n, lda) : (a, false, n, k, lda)
            (x, incx, incy) = (b, tb ? 1 : ldb, ldc)
        }
        let T = trans ? CblasTrans : CblasNoTrans
        if t == .f32 {
            cblas_sgemv(CblasRowMajor, T, Int32(rows), Int32(cols), 1, mat.assumingMemoryBound(to: Float.self), Int32(Swift.max(ld, 1)),
                        x.assumingMemoryBound(to: Float.self), Int32(incx), Float(beta), c.assumingMemoryBound(to: Float.self), Int32(incy))
        } else {
            cblas_dgemv(CblasRowMajor, T, Int32(rows), Int32(cols), 1, mat.assumingMemoryBound(to: Double.self), Int32(Swift.max(ld, 1)),
                        x.assumingMemoryBound(to: Double.self), Int32(incx), beta, c.assumingMemoryBound(to: Double.self), Int32(incy))
        }
    }
}

// MARK: - derivative

extension Tensor {
    /// C = A B: dA = dC B^T, dB = A^T dC, summed over broadcast batch dims; 1-d operands are
    /// lifted to matrices as in the forward.
    static func matmulRecorded(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        let A = a.alias(), B = b.alias()
        return try Autograd.op("matmul", [a, b], forward: { try matmul(a, b) }, backward: { g, _, n in
            let A2 = A.dim == 1 ? try A.unsqueeze(0) : A
            let B2 = B.dim == 1 ? try B.unsqueeze(1) : B
            var gs = g
            if B.dim == 1 { gs = try gs.unsqueeze(-1) }
            if A.dim == 1 { gs = try gs.unsqueeze(gs.dim - 1) }
            var ga: Tensor? = nil, gb: Tensor? = nil
            if n.needs(0) { ga = try matmul(gs, B2.transposed(-1, -2)).sumTo(A2.shape).reshaped(A.shape) }
            if n.needs(1) { gb = try matmul(A2.transposed(-1, -2), gs).sumTo(B2.shape).reshaped(B.shape) }
            return [ga, gb]
        }, saved: [A, B])
    }
}
