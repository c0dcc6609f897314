// ZMatrix: a small dense complex matrix (row-major Complex<Double>) for the IRS estimators,
// with products through zgemm and Hermitian solves through TideCore's Linalg.
//
//     let a = ZMatrix(rows: 4, cols: 3)                  // zeros
//     let c = ZMatrix.product(a, .adjoint, b, .none)     // A^H B   (zgemm, 'C' for A)
//     let x = try ZMatrix.solve(h, rhs)                  // h X = rhs, h Hermitian PD (ridge on failure)
//     let t = try a.tensor()                             // (4, 3) c128
//
// The IRS matrices are tiny (<= 256 x 256, spec 1.7), so products allocate their results;
// no allocation happens inside element loops.
import ComplexModule
import TideCore

final class ZMatrix {
    let rows: Int, cols: Int
    let p: UnsafeMutablePointer<C128>
    var count: Int { rows * cols }

    init(rows: Int, cols: Int) {
        self.rows = rows; self.cols = cols
        p = UnsafeMutablePointer<C128>.allocate(capacity: max(rows * cols, 1))
        p.initialize(repeating: C128(0, 0), count: max(rows * cols, 1))
    }
    deinit { p.deallocate() }

    /// A copy of a 2-d tensor (any dtype; real ones get zero imaginary parts).
    convenience init(_ t: Tensor) throws {
        guard t.dim == 2 else { throw TensorError("expected a matrix, got shape \(shapeString(t.shape))") }
        self.init(rows: t.shape[0], cols: t.shape[1])
        let c = try t.to(.c128).contiguous()
        p.update(from: c.pointer(C128.self), count: count)
    }

    /// A copy of rows*cols values at q.
    convenience init(rows: Int, cols: Int, from q: UnsafePointer<C128>) {
        self.init(rows: rows, cols: cols)
        p.update(from: q, count: rows * cols)
    }

    static func identity(_ n: Int) -> ZMatrix {
        let z = ZMatrix(rows: n, cols: n)
        for i in 0 ..< n { z.p[i * n + i] = C128(1, 0) }
        return z
    }

    func copy() -> ZMatrix { ZMatrix(rows: rows, cols: cols, from: p) }

    subscript(i: Int, j: Int) -> C128 {
        get { p[i * cols + j] }
        set { p[i * cols + j] = newValue }
    }

    func tensor() throws -> Tensor {
        let t = try Tensor(uninitialized: [rows, cols], dtype: .c128)
        t.pointer(C128.self).update(from: p, count: count)
        return t
    }

    /// op(a) op(b) with op in {none, trans, adjoint}.
    static func product(_ a: ZMatrix, _ opA: BLAS.Op, _ b: ZMatrix, _ opB: BLAS.Op) -> ZMatrix {
        let m = opA == .none ? a.rows : a.cols, k = opA == .none ? a.cols : a.rows
        let n = opB == .none ? b.cols : b.rows
        let c = ZMatrix(rows: m, cols: n)
        BLAS.zgemm(m, n, k, a.p, a.cols, opA, b.p, b.cols, opB, c.p, n)
        return c
    }

    /// self += alpha * other (same shape).
    func add(_ other: ZMatrix, _ alpha: C128 = C128(1, 0)) {
        for i in 0 ..< count { p[i] = p[i] + alpha * other.p[i] }
    }

    /// diag(d) self: row i times d[i].
    func scaleRows(_ d: UnsafePointer<C128>) {
        for i in 0 ..< rows { let s = d[i]; for j in 0 ..< cols { p[i * cols + j] = s * p[i * cols + j] } }
    }

    /// self diag(d): column j times d[j].
    func scaleColumns(_ d: UnsafePointer<C128>) {
        for i in 0 ..< rows { for j in 0 ..< cols { p[i * cols + j] = p[i * cols + j] * d[j] } }
    }

    /// ||self||_F^2.
    var normSquared: Double {
        var s = 0.0
        for i in 0 ..< count { s += p[i].lengthSquared }
        return s
    }

    /// The spectral norm ||self||_2 (largest singular value, gesdd).
    func spectralNorm() throws -> Double {
        if count == 0 { return 0 }
        let s = try Linalg.svdvals(tensor())
        return s.pointer(Double.self)[0]
    }

    /// X with a X = b for Hermitian positive (semi)definite a (n, n), b (n, k): LU solve through
    /// Linalg.solve; when a is singular a ridge of 1e-12 trace(a)/n is added (spec 5, guards).
    static func solve(_ a: ZMatrix, _ b: ZMatrix) throws -> ZMatrix {
        do {
            return try ZMatrix(Linalg.solve(a.tensor(), b.tensor()))
        } catch {
            let r = a.copy()
            var tr = 0.0
            for i in 0 ..< a.rows { tr += a[i, i].real }
            let ridge = max(1e-12 * tr / Double(max(a.rows, 1)), 1e-300)
            for i in 0 ..< a.rows { r[i, i] = r[i, i] + C128(ridge, 0) }
            return try ZMatrix(Linalg.solve(r.tensor(), b.tensor()))
        }
    }
}
