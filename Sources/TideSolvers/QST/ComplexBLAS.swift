// ComplexBLAS: the one zgemm call shape the tomography code needs, on raw row-major buffers.
//
//     ComplexBLAS.gemm(d, d, r, u, false, u, true, rho)     // rho (d, d) = U Uᴴ, U: (d, r)
//     ComplexBLAS.gemm(d, r, d, g, false, u, false, grad)   // grad (d, r) = G U
//
// op(A) is A or Aᴴ (conjugate transpose, BLAS 'C'): Aᴴ is never formed as a copy (brief §1.1).
// A single GEMM lets OpenBLAS use the cores; callers never run it inside Threads.parallelFor.
// Also: complex times real (swift-numerics defines only complex times complex).
import COpenBLAS
import TideCore

public enum ComplexBLAS {
    /// c (m, n) = alpha op(a) op(b) + beta c, op(a): (m, k), op(b): (k, n); all dense row-major.
    public static func gemm(_ m: Int, _ n: Int, _ k: Int,
                            _ a: UnsafePointer<C128>, _ conjA: Bool,
                            _ b: UnsafePointer<C128>, _ conjB: Bool,
                            _ c: UnsafeMutablePointer<C128>,
                            alpha: Double = 1, beta: Double = 0) {
        if m == 0 || n == 0 { return }
        var al = C128(alpha, 0), be = C128(beta, 0)
        let lda = conjA ? m : k, ldb = conjB ? k : n
        cblas_zgemm(CblasRowMajor, conjA ? CblasConjTrans : CblasNoTrans, conjB ? CblasConjTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), &al, a, Int32(max(lda, 1)), b, Int32(max(ldb, 1)),
                    &be, c, Int32(max(n, 1)))
    }
}

/// z s for real s (two multiplies instead of a complex product).
@inline(__always)
func * (z: C128, s: Double) -> C128 { C128(z.real * s, z.imaginary * s) }
