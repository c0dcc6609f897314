// Tensor+Matmul: matrix products through BLAS.
//
//     a: (..., n, k), b: (..., k, m) -> (..., n, m)    batch dims broadcast (NumPy matmul)
//     a: (k,), b: (k,) -> 0-d (dot);  a: (n, k), b: (k,) -> (n,);  a: (k,), b: (k, m) -> (m,)
//
// f32/f64/c64/c128 go to cblas_?gemm (one call per batch matrix; a single big GEMM lets
// OpenBLAS use the cores). i64/bool are computed in f64 and cast back when exact.
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
        let integral = rt.isIntegral
        if integral { rt = .f64 }
        let Ac = try A.to(rt).expand(batch + [n, k]).contiguous()
        let Bc = try B.to(rt).expand(batch + [k, m]).contiguous()
        let out = try Tensor(uninitialized: batch + [n, m], dtype: rt)
        let count = batch.reduce(1, *)
        if n * m > 0 {
            for i in 0 ..< count {
                try Cancellation.check()
                gemm(rt, n, m, k, Ac.rawPointer + i * n * k * rt.itemSize, Bc.rawPointer + i * k * m * rt.itemSize,
                     out.rawPointer + i * n * m * rt.itemSize)
            }
        }
        var shape = batch + [n, m]
        if b.dim == 1 { shape.removeLast() }
        if a.dim == 1 { shape.remove(at: shape.count - (b.dim == 1 ? 1 : 2)) }
        let r = try out.reshaped(shape)
        return integral ? try r.to(.i64) : r
    }

    /// C (n, m) = A (n, k) * B (k, m), all dense row-major.
    static func gemm(_ t: DType, _ n: Int, _ m: Int, _ k: Int, _ a: UnsafeMutableRawPointer,
                     _ b: UnsafeMutableRawPointer, _ c: UnsafeMutableRawPointer) {
        let N = Int32(n), M = Int32(m), K = Int32(k)
        if k == 0 { c.initializeMemory(as: UInt8.self, repeating: 0, count: n * m * t.itemSize); return }
        switch t {
        case .f32:
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, M, K, 1, a.assumingMemoryBound(to: Float.self), K,
                        b.assumingMemoryBound(to: Float.self), M, 0, c.assumingMemoryBound(to: Float.self), M)
        case .f64:
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, M, K, 1, a.assumingMemoryBound(to: Double.self), K,
                        b.assumingMemoryBound(to: Double.self), M, 0, c.assumingMemoryBound(to: Double.self), M)
        case .c64:
            var one = C64(1, 0), zero = C64(0, 0)
            cblas_cgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, M, K, &one, a, K, b, M, &zero, c, M)
        case .c128:
            var one = C128(1, 0), zero = C128(0, 0)
            cblas_zgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, M, K, &one, a, K, b, M, &zero, c, M)
        default:
            fatalError("gemm: integral types are computed in f64 by matmul")
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
