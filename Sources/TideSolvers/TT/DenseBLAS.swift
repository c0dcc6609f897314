// DenseBLAS: the row-major BLAS calls the solvers make on raw buffers, and the scratch
// buffers they reuse between iterations.
//
//     BLAS.gemm(m, n, k, a, lda, b, ldb, c, ldc)                   // C = A B      (row-major)
//     BLAS.gemm(m, n, k, a, lda, b, ldb, c, ldc, transA: true)     // C = A^T B
//     BLAS.gemv(m, n, a, x, y)                                     // y = A x      (A: m x n)
//     let w = Scratch(count: 600)                                  // a reusable Double buffer
//
// Tide is row-major (like NumPy): a (rows, cols) block with leading dimension ld holds
// element (i, j) at i * ld + j. Every wrapper here passes CblasRowMajor, so TT unfoldings
// (which are plain row-major reshapes) go to BLAS without copies.
//
// Memory: Scratch owns one malloc'd block, freed on deinit; solvers allocate them once per
// call and never inside an iteration.
import COpenBLAS
import ComplexModule
import TideCore

enum BLAS {
    /// C (m, n) = alpha op(A) op(B) + beta C, all row-major, op transposes when asked.
    /// A is (m, k) (or (k, m) when transA), B is (k, n) (or (n, k) when transB).
    @inline(__always)
    static func gemm(_ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<Double>, _ lda: Int,
                     _ b: UnsafePointer<Double>, _ ldb: Int, _ c: UnsafeMutablePointer<Double>, _ ldc: Int,
                     transA: Bool = false, transB: Bool = false, alpha: Double = 1, beta: Double = 0) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            if beta == 0 { for i in 0 ..< m { (c + i * ldc).update(repeating: 0, count: n) } }
            return
        }
        cblas_dgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(max(lda, 1)), b, Int32(max(ldb, 1)), beta, c, Int32(max(ldc, 1)))
    }

    /// y (m) = alpha A x + beta y for a dense row-major A (m, n); y (n) = alpha A^T x + beta y
    /// when `trans`.
    @inline(__always)
    static func gemv(_ m: Int, _ n: Int, _ a: UnsafePointer<Double>, _ x: UnsafePointer<Double>,
                     _ y: UnsafeMutablePointer<Double>, trans: Bool = false, alpha: Double = 1, beta: Double = 0) {
        let outCount = trans ? n : m
        if outCount == 0 { return }
        if m == 0 || n == 0 { if beta == 0 { y.update(repeating: 0, count: outCount) }; return }
        cblas_dgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), alpha, a, Int32(n), x, 1, beta, y, 1)
    }

    /// The complex product C (m, n) = alpha op(A) op(B) + beta C, row-major, where op is the
    /// identity, the transpose or the conjugate transpose (BLAS 'N', 'T', 'C').
    @inline(__always)
    static func zgemm(_ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<C128>, _ lda: Int, _ opA: Op,
                      _ b: UnsafePointer<C128>, _ ldb: Int, _ opB: Op, _ c: UnsafeMutablePointer<C128>, _ ldc: Int,
                      alpha: C128 = C128(1, 0), beta: C128 = C128(0, 0)) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            if beta == C128(0, 0) { for i in 0 ..< m { (c + i * ldc).update(repeating: C128(0, 0), count: n) } }
            return
        }
        var al = alpha, be = beta
        cblas_zgemm(CblasRowMajor, opA.cblas, opB.cblas, Int32(m), Int32(n), Int32(k), &al, a, Int32(max(lda, 1)),
                    b, Int32(max(ldb, 1)), &be, c, Int32(max(ldc, 1)))
    }

    enum Op {
        case none, trans, adjoint
        var cblas: CBLAS_TRANSPOSE {
            switch self {
            case .none: return CblasNoTrans
            case .trans: return CblasTrans
            case .adjoint: return CblasConjTrans
            }
        }
    }

    /// Sum of squares of n doubles.
    @inline(__always)
    static func sumSquares(_ p: UnsafePointer<Double>, _ n: Int) -> Double {
        var s = 0.0
        for i in 0 ..< n { s += p[i] * p[i] }
        return s
    }
}

/// A reusable, uninitialized buffer of `count` elements of T (POD only).
final class Scratch<T> {
    let p: UnsafeMutablePointer<T>
    let count: Int
    init(count: Int) {
        self.count = count
        p = UnsafeMutablePointer<T>.allocate(capacity: max(count, 1))
    }
    deinit { p.deallocate() }
}

extension Tensor {
    /// This tensor as a contiguous f64 tensor (no copy when it already is one).
    func f64Contiguous(_ op: String) throws -> Tensor {
        guard !dtype.isComplex else {
            throw TensorError("\(op): expected a real tensor, got \(dtype.rawValue)")
        }
        return try (dtype == .f64 ? self : to(.f64)).contiguous()
    }

    /// A new contiguous f64 tensor of `shape` with the values at `p`.
    static func f64(_ shape: [Int], from p: UnsafePointer<Double>) throws -> Tensor {
        let t = try Tensor(uninitialized: shape, dtype: .f64)
        t.pointer(Double.self).update(from: p, count: t.numel)
        return t
    }
}
