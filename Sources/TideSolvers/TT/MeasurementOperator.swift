// MeasurementOperator: a dense linear map A: R^{d_1 x ... x d_N} (or C^...) -> R^m (or C^m),
// A(X)_i = <A_i, X>, stored as the (m, D) matrix whose row i is vec(A_i) (D = prod d_i,
// row-major vec). Spec solvers.md 2.2 (real Gaussian) and 3.1 (complex subgaussian).
//
//     let op = try MeasurementOperator(kind: .gaussian, m: 600, dims: [4, 4, 4, 4], generator: g)
//     let y = try op.apply(x)              // x: (4, 4, 4, 4) -> (600,)     one GEMV
//     let xs = try op.apply(batch)         // batch: (B, 4, 4, 4, 4) -> (B, 600)   one GEMM
//     let g = try op.adjoint(y)            // (600,) -> (4, 4, 4, 4): A* y = sum_i conj(A_i) y_i
//
// Kinds (entries i.i.d., times `scale`):
//   gaussian            N(0, 1)                       real
//   rademacher          +-1 with probability 1/2       real
//   complex_gaussian    CN(0, 1) = (a + i b) / sqrt(2) complex
//   complex_rademacher  (+-1 +- i) / sqrt(2)           complex (QPSK symbols)
// All have E|A_ij|^2 = 1. With N(0, 1) entries E|<A_i, X>| = sqrt(2/pi) ||X||_F, the constant
// of the l1/l2-RIP (2.3). `scale = 1/sqrt(m)` is the other common normalization.
//
// The inner product is <A, X> = sum conj(A) X for complex operators, so the adjoint is
// <A x, y> = <x, A* y> with A* the conjugate transpose.
//
// Sampling: the matrix is filled in chunks of 64K entries; chunk c draws from its own
// Generator seeded by the c-th value of the caller's generator, so the values do not depend
// on the thread count while the chunks fill on all cores (Threads.parallelFor).
//
// Memory: the operator owns the (m, D) matrix (8 or 16 bytes per entry: m = 600, D = 256 is
// 1.2 MB real; keep m D under ~50 MB in tests, spec 5).
import COpenBLAS
import ComplexModule
import TideCore

public final class MeasurementOperator: @unchecked Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case gaussian, rademacher
        case complexGaussian = "complex_gaussian"
        case complexRademacher = "complex_rademacher"
        public var isComplex: Bool { self == .complexGaussian || self == .complexRademacher }
    }

    /// nil for an operator made from a given matrix.
    public let kind: Kind?
    public let dims: [Int]
    /// (m, D): f64 for real operators, c128 for complex ones; contiguous.
    public let matrix: Tensor
    public var m: Int { matrix.shape[0] }
    public var size: Int { matrix.shape[1] }
    public var isComplex: Bool { matrix.dtype == .c128 }

    static let chunk = 1 << 16

    public init(kind: Kind, m: Int, dims: [Int], scale: Double = 1, generator g: Generator = .global,
                op: String = "tt.measurements") throws {
        guard m >= 1 else { throw TensorError("\(op): expected m >= 1 measurements, got \(m)") }
        guard !dims.isEmpty, dims.allSatisfy({ $0 >= 1 }) else {
            throw TensorError("\(op): expected dims >= 1, got \(dimsText(dims))")
        }
        guard scale.isFinite else { throw TensorError("\(op): scale must be finite, got \(scale)") }
        let D = try Tensor.checkedCount(dims)
        let (total, o) = m.multipliedReportingOverflow(by: D)
        if o { throw TensorError("\(op): an m x D = \(m) x \(D) matrix is too large") }
        self.kind = kind
        self.dims = dims
        let reals = kind.isComplex ? 2 * total : total
        matrix = try Tensor(uninitialized: [m, D], dtype: kind.isComplex ? .c128 : .f64)
        let base = matrix.rawPointer.assumingMemoryBound(to: Double.self)
        let chunks = (reals + Self.chunk - 1) / Self.chunk
        let seeds = Scratch<UInt64>(count: chunks)
        for c in 0 ..< chunks { seeds.p[c] = g.next() }
        try Threads.parallelFor(chunks, grain: 1) { lo, hi in
            for c in lo ..< hi {
                let start = c * Self.chunk, n = min(Self.chunk, reals - start)
                Self.fill(base + start, n, kind, scale, Generator(seed: seeds.p[c]))
            }
        }
    }

    /// Wraps a given (m, D) matrix (f64 or c128; other real types become f64) for `dims`.
    public init(matrix a: Tensor, dims: [Int], op: String = "tt.operator") throws {
        guard a.dim == 2 else { throw TensorError("\(op): expected an (m, D) matrix, got shape \(shapeString(a.shape))") }
        let D = try Tensor.checkedCount(dims)
        guard a.shape[1] == D, !dims.isEmpty else {
            throw TensorError("\(op): the matrix has \(a.shape[1]) columns but dims \(dimsText(dims)) have \(D) entries")
        }
        kind = nil
        self.dims = dims
        matrix = a.dtype.isComplex ? try a.to(.c128).contiguous() : try a.f64Contiguous(op)
    }

    /// n reals of the given kind (complex kinds: n/2 interleaved (re, im) pairs).
    static func fill(_ p: UnsafeMutablePointer<Double>, _ n: Int, _ kind: Kind, _ scale: Double, _ g: Generator) {
        switch kind {
        case .gaussian:
            g.fillNormal(p, count: n)
            if scale != 1 { for i in 0 ..< n { p[i] *= scale } }
        case .complexGaussian:
            g.fillNormal(p, count: n)
            let s = scale * 0.5.squareRoot()
            for i in 0 ..< n { p[i] *= s }
        case .rademacher:
            for i in 0 ..< n { p[i] = g.next() >> 63 == 0 ? scale : -scale }
        case .complexRademacher:
            let s = scale * 0.5.squareRoot()
            for i in 0 ..< n { p[i] = g.next() >> 63 == 0 ? s : -s }
        }
    }

    /// How many D-sized items x holds: 0 for one item shaped like dims (or D values), B for
    /// (B, ...) with D values per row. Throws otherwise.
    func batchCount(_ x: Tensor, _ op: String) throws -> Int {
        let D = size
        if x.shape == dims || (x.dim == 1 && x.numel == D) { return 0 }
        if x.dim >= 2, x.shape.dropFirst().reduce(1, *) == D { return x.shape[0] }
        throw TensorError("\(op): expected a tensor of shape \(dimsText(dims)) (or \(D) values, or (B, \(D))), got shape \(shapeString(x.shape))")
    }

    /// A(x): x of dims (or D values) -> (m,); x (B, ...) with D values per row -> (B, m).
    /// Real operator and real x: f64; otherwise c128.
    public func apply(_ x: Tensor, op: String = "apply") throws -> Tensor {
        let b = try batchCount(x, op), rows = max(b, 1), D = size, m = self.m
        let outShape = b == 0 ? [m] : [rows, m]
        if !isComplex && !x.dtype.isComplex {
            let xc = try x.f64Contiguous(op)
            let out = try Tensor(uninitialized: outShape, dtype: .f64)
            if b == 0 {
                BLAS.gemv(m, D, matrix.pointer(Double.self), xc.pointer(Double.self), out.pointer(Double.self))
            } else {
                // (rows, D) x A^T (D, m)
                BLAS.gemm(rows, m, D, xc.pointer(Double.self), D, matrix.pointer(Double.self), D, out.pointer(Double.self), m, transB: true)
            }
            return out
        }
        let xc = try x.to(.c128).contiguous()
        let out = try Tensor(uninitialized: outShape, dtype: .c128)
        if isComplex {
            BLAS.zgemm(rows, m, D, xc.pointer(C128.self), D, .none, matrix.pointer(C128.self), D, .trans, out.pointer(C128.self), m)
        } else {
            // real A on complex x: each row of x is a (D, 2) real matrix of (re, im) pairs
            let xr = xc.rawPointer.assumingMemoryBound(to: Double.self), or = out.rawPointer.assumingMemoryBound(to: Double.self)
            for r in 0 ..< rows {
                BLAS.gemm(m, 2, D, matrix.pointer(Double.self), D, xr + r * 2 * D, 2, or + r * 2 * m, 2)
            }
            withExtendedLifetime(xc) {}
        }
        return out
    }

    /// A*(y) = sum_i conj(A_i) y_i: y (m,) -> dims; y (B, m) -> (B, dims...).
    public func adjoint(_ y: Tensor, op: String = "adjoint") throws -> Tensor {
        let m = self.m, D = size
        let b: Int
        if y.dim == 1 && y.shape[0] == m { b = 0 } else if y.dim == 2 && y.shape[1] == m { b = y.shape[0] } else {
            throw TensorError("\(op): expected a tensor of shape (\(m)) or (B, \(m)), got shape \(shapeString(y.shape))")
        }
        let rows = max(b, 1)
        let outShape = b == 0 ? dims : [rows] + dims
        if !isComplex && !y.dtype.isComplex {
            let yc = try y.f64Contiguous(op)
            let out = try Tensor(uninitialized: outShape, dtype: .f64)
            if b == 0 {
                BLAS.gemv(m, D, matrix.pointer(Double.self), yc.pointer(Double.self), out.pointer(Double.self), trans: true)
            } else {
                // (rows, m) x A (m, D)
                BLAS.gemm(rows, D, m, yc.pointer(Double.self), m, matrix.pointer(Double.self), D, out.pointer(Double.self), D)
            }
            return out
        }
        let yc = try y.to(.c128).contiguous()
        let out = try Tensor(uninitialized: outShape, dtype: .c128)
        if isComplex {
            // out^T (D, rows) = A^H (D, m) y^T (m, rows)
            let t = Scratch<C128>(count: D * rows)
            BLAS.zgemm(D, rows, m, matrix.pointer(C128.self), D, .adjoint, yc.pointer(C128.self), m, .trans, t.p, rows)
            let o = out.pointer(C128.self)
            for d in 0 ..< D { for r in 0 ..< rows { o[r * D + d] = t.p[d * rows + r] } }
        } else {
            let yr = yc.rawPointer.assumingMemoryBound(to: Double.self), or = out.rawPointer.assumingMemoryBound(to: Double.self)
            for r in 0 ..< rows {
                BLAS.gemm(D, 2, m, matrix.pointer(Double.self), D, yr + r * 2 * m, 2, or + r * 2 * D, 2, transA: true)
            }
            withExtendedLifetime(yc) {}
        }
        return out
    }

    /// A(X) of a train (formed in full first: the rows of A are dense).
    public func apply(_ tt: TensorTrain, op: String = "apply") throws -> Tensor {
        guard tt.dims == dims else {
            throw TensorError("\(op): the operator takes dims \(dimsText(dims)), the train has \(dimsText(tt.dims))")
        }
        return try apply(tt.full(), op: op)
    }
}
