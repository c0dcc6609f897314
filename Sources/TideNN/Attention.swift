// Attention: fused scaled dot-product attention with an online softmax (FlashAttention-2
// style), forward and backward, over (batch, head) pairs split across the cores.
//
//     q: (B, H, N, D), k: (B, Hk, M, D), v: (B, Hk, M, Dv), H a multiple of Hk (MQA/GQA)
//     try F.scaledDotProductAttention(q, k, v, causal: true)     // (B, H, N, Dv)
//
// The N x M score matrix is never built: query rows go in blocks of 128 against key blocks of
// 128; each block's scores live in a 128 x 128 scratch, and a running max and sum per row rescale
// the partial output (softmax(S) V = sum_j exp(S_j - m) V_j / sum_j exp(S_j - m)). The forward
// keeps only the row logsumexp L for the backward, which recomputes P = exp(S - L) block by
// block: dV += P^T dO, dS = P (dO V^T - rowsum(dO o O)), dQ += dS K s, dK += dS^T Q s.
// This file has the op and the BLAS path (f64, and f32 decode steps); AttentionKernels.swift
// the f32 path on Tide's own microkernel, which also skips the masked half of diagonal blocks.
//
// causal: key j is visible to query i when j <= i + (M - N), i.e. the mask is aligned at the
// bottom right, so one new query against a cache of M keys sees them all (equal to torch's
// top-left alignment when N = M). mask: bool (true = attend) or float (added to the scores),
// broadcastable to (B, H, N, M). A row that sees no key gives zeros.
//
// Threads: each task owns one (batch, kv head) group, so the dK/dV it accumulates are its own;
// BLAS runs single-threaded inside (one level of parallelism at a time).
import COpenBLAS
import TideCore
import _CTideKernels
#if canImport(Glibc)
import Glibc
#endif

/// Float types with a BLAS GEMM.
public protocol GemmScalar: FloatScalar {
    /// x[i] = exp(x[i] - shift) over n elements, returning their sum.
    static func expShift(_ x: UnsafeMutablePointer<Self>, _ n: Int, _ shift: Self) -> Self
    /// The largest of n elements.
    static func maxOf(_ x: UnsafePointer<Self>, _ n: Int) -> Self
    /// y = silu(x) over n elements.
    static func siluRow(_ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, _ n: Int)
    /// out = g * silu'(x) over n elements.
    static func siluGradRow(_ x: UnsafePointer<Self>, _ g: UnsafePointer<Self>, _ out: UnsafeMutablePointer<Self>, _ n: Int)
    /// C (m, n) = alpha op(A) op(B) + beta C, row-major, leading dimensions given.
    static func gemm(_ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Self,
                     _ a: UnsafePointer<Self>, _ lda: Int, _ b: UnsafePointer<Self>, _ ldb: Int,
                     _ beta: Self, _ c: UnsafeMutablePointer<Self>, _ ldc: Int)
}

extension Float: GemmScalar {
    public static func expShift(_ x: UnsafeMutablePointer<Float>, _ n: Int, _ shift: Float) -> Float { tide_exp_shift_f32(x, n, shift) }
    public static func maxOf(_ x: UnsafePointer<Float>, _ n: Int) -> Float { tide_max_f32(x, n) }
    public static func siluRow(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        tide_unary_f32(Int32(TIDE_UN_SILU), x, y, n)
    }
    public static func siluGradRow(_ x: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        tide_unary_grad_f32(Int32(TIDE_UN_SILU), x, x, g, out, n)
    }
    public static func gemm(_ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
                            _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                            _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

extension Double: GemmScalar {
    public static func expShift(_ x: UnsafeMutablePointer<Double>, _ n: Int, _ shift: Double) -> Double {
        var s = 0.0
        for i in 0 ..< n { let e = Double.exp(x[i] - shift); x[i] = e; s += e }
        return s
    }
    public static func maxOf(_ x: UnsafePointer<Double>, _ n: Int) -> Double {
        var m = -Double.infinity
        for i in 0 ..< n where x[i] > m { m = x[i] }
        return m
    }
    public static func siluRow(_ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ n: Int) {
        for i in 0 ..< n { let v = x[i]; y[i] = v >= 0 ? v / (1 + Double.exp(-v)) : v * Double.exp(v) / (1 + Double.exp(v)) }
    }
    public static func siluGradRow(_ x: UnsafePointer<Double>, _ g: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Double>, _ n: Int) {
        for i in 0 ..< n {
            let v = x[i]
            let s = v >= 0 ? 1 / (1 + Double.exp(-v)) : Double.exp(v) / (1 + Double.exp(v))
            out[i] = g[i] * s * (1 + v * (1 - s))
        }
    }
    public static func gemm(_ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Double,
                            _ a: UnsafePointer<Double>, _ lda: Int, _ b: UnsafePointer<Double>, _ ldb: Int,
                            _ beta: Double, _ c: UnsafeMutablePointer<Double>, _ ldc: Int) {
        cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

extension F {
    /// Query rows and keys per block: 128 x 128 scores (64 KiB) stay in L2 with the packed
    /// operands; 64..256 measured within noise of each other at D = 64.
    static let attnBlockQ = 128
    static let attnBlockK = 128

    /// Runs body over `tasks` split across the cores with BLAS held to one thread inside.
    static func parallelBLAS(_ tasks: Int, _ body: (Int) throws -> Void) throws {
        let threads = Threads.count
        if threads > 1 && tasks > 1 { openblas_set_num_threads(1) }
        defer { if threads > 1 && tasks > 1 { openblas_set_num_threads(Int32(threads)) } }
        try Threads.parallelFor(tasks, grain: 1) { lo, hi in
            for t in lo ..< hi { try Cancellation.check(); try body(t) }
        }
    }

    public static func scaledDotProductAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor, causal: Bool = false,
                                                 mask: Tensor? = nil, scale: Double? = nil) throws -> Tensor {
        let op = "scaled_dot_product_attention"
        guard q.dim == 4, k.dim == 4, v.dim == 4 else {
            throw TensorError("\(op): expected q, k, v of shape (B, H, N, D), got \(shapeString(q.shape)), \(shapeString(k.shape)), \(shapeString(v.shape))")
        }
        guard q.dtype == k.dtype, k.dtype == v.dtype, q.dtype == .f32 || q.dtype == .f64 else {
            throw TensorError("\(op): q, k, v must share one float dtype (f32 or f64), got \(q.dtype.rawValue), \(k.dtype.rawValue), \(v.dtype.rawValue)")
        }
        let (B, H, N, D) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3])
        let (Hk, M, Dv) = (k.shape[1], k.shape[2], v.shape[3])
        guard k.shape[0] == B, v.shape[0] == B, v.shape[1] == Hk, v.shape[2] == M, k.shape[3] == D else {
            throw TensorError("\(op): shapes do not fit: q \(shapeString(q.shape)), k \(shapeString(k.shape)), v \(shapeString(v.shape)) (k must be (B, Hk, M, D) and v (B, Hk, M, Dv))")
        }
        guard Hk >= 1, H % Hk == 0 else {
            throw TensorError("\(op): q has \(H) heads, which is not a multiple of k/v's \(Hk) heads")
        }
        var maskT: Tensor? = nil
        if let m = mask {
            guard m.dtype == .bool || m.dtype.isFloatingPoint else {
                throw TensorError("\(op): mask must be bool (true = attend) or a float tensor (added to the scores), got \(m.dtype.rawValue)")
            }
            let target = [B, H, N, M]
            guard (try? Tensor.broadcastShape(m.shape, target, op: op)) == target else {
                throw TensorError("\(op): mask of shape \(shapeString(m.shape)) does not broadcast to (B, H, N, M) = \(shapeString(target))")
            }
            maskT = m.dtype == .bool ? try m.expand(target) : try m.to(q.dtype).expand(target)
        }
        let s = scale ?? 1 / Double(D).squareRoot()
        if let m = mask, m.dtype.isFloatingPoint, Autograd.isRecording(m) {
            // a learned additive mask (position biases): recorded ops, so the mask gets its
            // gradient; this forms the (N, M) scores the fused path avoids
            func heads(_ t: Tensor) throws -> Tensor {
                H == Hk ? t : try t.unsqueeze(2).expand([B, Hk, H / Hk, M, t.shape[3]]).reshaped([B, H, M, t.shape[3]])
            }
            var scores = try Tensor.binary(.add, Tensor.binary(.mul, Tensor.matmul(q, heads(k).transposed(2, 3)), Tensor.scalar(s, dtype: q.dtype)), m.to(q.dtype))
            if causal {
                // key j visible to query i when j <= i + M - N (aligned at the bottom right)
                let i = try Tensor.arange(integers: 0, Int64(N)).reshaped([N, 1]), j = try Tensor.arange(integers: 0, Int64(M)).reshaped([1, M])
                let visible = try Tensor.compare(.le, j, Tensor.binary(.add, i, Tensor.scalar(Double(M - N), dtype: .i64)))
                scores = try Tensor.where(visible, scores, Tensor.scalar(-.infinity, dtype: q.dtype))
            }
            // a query that sees no key (a row of -inf scores) gets zeros, as in the fused path;
            // a NaN from the inputs stays NaN
            let unseen = try Tensor.compare(.eq, scores, Tensor.scalar(-.infinity, dtype: q.dtype)).reduce(.all, dims: [3], keepdim: true)
            let probs = try Tensor.where(unseen, Tensor.scalar(0, dtype: q.dtype), scores.softmax(dim: 3))
            return try Tensor.matmul(probs, heads(v))
        }
        // operands with unit inner stride go in as they are (row stride = their stride)
        func unitInner(_ t: Tensor) throws -> Tensor { t.strides[3] == 1 || t.shape[3] == 1 ? t : try t.contiguous(force: true) }
        let (Q, K, V) = try Autograd.noGrad { (try unitInner(q), try unitInner(k), try unitInner(v)) }
        let lse = try Tensor(uninitialized: [B, H, N], dtype: .f64)
        let geo = AttnGeometry(B: B, H: H, Hk: Hk, N: N, M: M, D: D, Dv: Dv, scale: s, causal: causal, mask: maskT)
        return try Autograd.op(op, [q, k, v], forward: {
            // output laid out (B, N, H, Dv) and returned as a (B, H, N, Dv) view: merging heads
            // afterwards (transpose + reshape) is free
            let store = try Tensor(uninitialized: [B, N, H, Dv], dtype: q.dtype)
            let out = try store.permuted([0, 2, 1, 3])
            if attnUsesKernels(geo, q.dtype) {
                try attnForwardF32(geo, Q, K, V, out, lse)
            } else if q.dtype == .f32 {
                try attnForward(Float.self, geo, Q, K, V, out, lse)
            } else {
                try attnForward(Double.self, geo, Q, K, V, out, lse)
            }
            return out
        }, backward: { g, o, _ in
            let dq = try Tensor.zeros([B, H, N, D], dtype: q.dtype)
            let dk = try Tensor.zeros([B, Hk, M, D], dtype: q.dtype)
            let dv = try Tensor.zeros([B, Hk, M, Dv], dtype: q.dtype)
            let go = try unitInner(g)
            if attnUsesKernels(geo, q.dtype) {
                try attnBackwardF32(geo, Q, K, V, o, go, lse, dq, dk, dv)
            } else if q.dtype == .f32 {
                try attnBackward(Float.self, geo, Q, K, V, o, go, lse, dq, dk, dv)
            } else {
                try attnBackward(Double.self, geo, Q, K, V, o, go, lse, dq, dk, dv)
            }
            return [dq, dk, dv]
        }, savesOutput: true, saved: [Q, K, V])
    }
}

struct AttnGeometry {
    let B, H, Hk, N, M, D, Dv: Int
    let scale: Double
    let causal: Bool
    let mask: Tensor?
    var group: Int { H / Hk }
    var offset: Int { M - N }   // causal alignment: key j visible to query i when j <= i + offset
}

/// Element pointer and row stride of matrix (b, h) of a 4-d tensor with unit inner stride.
@inline(__always)
func mat<T>(_ t: Tensor, _ b: Int, _ h: Int, _: T.Type) -> (UnsafeMutablePointer<T>, Int) {
    (t.pointer(T.self) + b * t.strides[0] + h * t.strides[1], t.shape[2] == 1 ? t.shape[3] : t.strides[2])
}

/// Scores S (rows x cols, ld cols) of query rows i0..<i0+rows against keys j0..<j0+cols get
/// the causal and user masks: hidden entries become -inf, float masks are added (times `unit`,
/// log2(e) when the scores are in base-2 units).
@inline(__always)
func applyMasks<T: GemmScalar>(_ g: AttnGeometry, _ S: UnsafeMutablePointer<T>, _ b: Int, _ h: Int,
                                       _ i0: Int, _ rows: Int, _ j0: Int, _ cols: Int, unit: T = 1) {
    if g.causal {
        for r in 0 ..< rows {
            let last = i0 + r + g.offset   // last visible key
            if last >= j0 + cols - 1 { continue }
            let from = Swift.max(0, last - j0 + 1)
            for c in from ..< cols { S[r * cols + c] = -T.infinity }
        }
    }
    guard let m = g.mask else { return }
    let st = m.strides
    let base = b * st[0] + h * st[1]
    if m.dtype == .bool {
        let p = m.pointer(Bool.self)
        for r in 0 ..< rows {
            let rb = base + (i0 + r) * st[2]
            for c in 0 ..< cols where !p[rb + (j0 + c) * st[3]] { S[r * cols + c] = -T.infinity }
        }
    } else {
        let p = m.pointer(T.self)
        for r in 0 ..< rows {
            let rb = base + (i0 + r) * st[2]
            for c in 0 ..< cols { S[r * cols + c] += unit * p[rb + (j0 + c) * st[3]] }
        }
    }
}

/// The key blocks query rows i0..<i1 can see under the causal mask: keys below `end`.
@inline(__always)
func keyEnd(_ g: AttnGeometry, _ i1: Int) -> Int {
    g.causal ? Swift.min(g.M, Swift.max(0, i1 - 1 + g.offset + 1)) : g.M
}

extension F {
    static func attnForward<T: GemmScalar>(_: T.Type, _ g: AttnGeometry, _ Q: Tensor, _ K: Tensor, _ V: Tensor,
                                           _ out: Tensor, _ lse: Tensor) throws {
        let bs = attnBlockQ, bk = attnBlockK
        let tasks = g.B * g.H
        let scratch = UnsafeMutablePointer<T>.allocate(capacity: Threads.count * bs * bk)
        let rowStats = UnsafeMutablePointer<T>.allocate(capacity: Threads.count * 2 * bs)
        defer { scratch.deallocate(); rowStats.deallocate() }
        let L = lse.pointer(Double.self)
        // tasks are handed to at most Threads.count workers in contiguous ranges: worker w
        // uses scratch slot w
        let workers = Swift.min(Threads.count, tasks)
        try parallelBLAS(workers) { w in
            let S = scratch + w * bs * bk
            let mrow = rowStats + w * 2 * bs, lrow = mrow + bs
            for task in tasks * w / workers ..< tasks * (w + 1) / workers {
                let b = task / g.H, h = task % g.H, hk = h / g.group
                let (q, ldq) = mat(Q, b, h, T.self), (k, ldk) = mat(K, b, hk, T.self), (v, ldv) = mat(V, b, hk, T.self)
                let (o, ldo) = mat(out, b, h, T.self)
                var i0 = 0
                while i0 < g.N {
                    let rows = Swift.min(bs, g.N - i0)
                    for r in 0 ..< rows {
                        mrow[r] = -T.infinity; lrow[r] = 0
                        let orow = o + (i0 + r) * ldo
                        for c in 0 ..< g.Dv { orow[c] = 0 }
                    }
                    let jEnd = keyEnd(g, i0 + rows)
                    var j0 = 0
                    while j0 < jEnd {
                        let cols = Swift.min(bk, jEnd - j0)
                        T.gemm(false, true, rows, cols, g.D, T(g.scale), q + i0 * ldq, ldq, k + j0 * ldk, ldk, 0, S, cols)
                        applyMasks(g, S, b, h, i0, rows, j0, cols)
                        for r in 0 ..< rows {
                            let sr = S + r * cols
                            let mx = Swift.max(mrow[r], T.maxOf(sr, cols))
                            if mx == -T.infinity { for c in 0 ..< cols { sr[c] = 0 }; continue }
                            let alpha = T.exp(mrow[r] - mx)
                            let sum = T.expShift(sr, cols, mx)
                            lrow[r] = lrow[r] * alpha + sum
                            mrow[r] = mx
                            if alpha != 1 {
                                let orow = o + (i0 + r) * ldo
                                for c in 0 ..< g.Dv { orow[c] *= alpha }
                            }
                        }
                        T.gemm(false, false, rows, g.Dv, cols, 1, S, cols, v + j0 * ldv, ldv, 1, o + i0 * ldo, ldo)
                        j0 += cols
                    }
                    for r in 0 ..< rows {
                        let orow = o + (i0 + r) * ldo
                        let l = lrow[r]
                        let inv: T = l > 0 ? 1 / l : 0
                        for c in 0 ..< g.Dv { orow[c] *= inv }
                        L[(b * g.H + h) * g.N + i0 + r] = l > 0 ? Double(mrow[r]) + Foundation_log(Double(l)) : -.infinity
                    }
                    i0 += rows
                }
            }
        }
    }

    static func attnBackward<T: GemmScalar>(_: T.Type, _ g: AttnGeometry, _ Q: Tensor, _ K: Tensor, _ V: Tensor,
                                            _ O: Tensor, _ dO: Tensor, _ lse: Tensor,
                                            _ dq: Tensor, _ dk: Tensor, _ dv: Tensor) throws {
        let bs = attnBlockQ, bk = attnBlockK
        let tasks = g.B * g.Hk
        let workers = Swift.min(Threads.count, tasks)
        let per = 2 * bs * bk + g.N
        let scratch = UnsafeMutablePointer<T>.allocate(capacity: Swift.max(workers, 1) * per)
        defer { scratch.deallocate() }
        let L = UnsafePointer(lse.pointer(Double.self))
        let s = T(g.scale)
        try parallelBLAS(workers) { w in
            let P = scratch + w * per, dS = P + bs * bk, Drow = dS + bs * bk
            for task in tasks * w / workers ..< tasks * (w + 1) / workers {
                let b = task / g.Hk, hk = task % g.Hk
                let (k, ldk) = mat(K, b, hk, T.self), (v, ldv) = mat(V, b, hk, T.self)
                let (dkp, lddk) = mat(dk, b, hk, T.self), (dvp, lddv) = mat(dv, b, hk, T.self)
                for h in hk * g.group ..< (hk + 1) * g.group {
                    let (q, ldq) = mat(Q, b, h, T.self), (o, ldo) = mat(O, b, h, T.self)
                    let (go, ldg) = mat(dO, b, h, T.self), (dqp, lddq) = mat(dq, b, h, T.self)
                    let lrow = L + (b * g.H + h) * g.N
                    for i in 0 ..< g.N {
                        var acc: T = 0
                        let orow = o + i * ldo, grow = go + i * ldg
                        for c in 0 ..< g.Dv { acc += orow[c] * grow[c] }
                        Drow[i] = acc
                    }
                    var i0 = 0
                    while i0 < g.N {
                        let rows = Swift.min(bs, g.N - i0)
                        let jEnd = keyEnd(g, i0 + rows)
                        var j0 = 0
                        while j0 < jEnd {
                            let cols = Swift.min(bk, jEnd - j0)
                            // P = exp(S - L) with the masks
                            T.gemm(false, true, rows, cols, g.D, s, q + i0 * ldq, ldq, k + j0 * ldk, ldk, 0, P, cols)
                            applyMasks(g, P, b, h, i0, rows, j0, cols)
                            for r in 0 ..< rows {
                                let l = lrow[i0 + r]
                                let pr = P + r * cols
                                if l == -.infinity { for c in 0 ..< cols { pr[c] = 0 }; continue }
                                _ = T.expShift(pr, cols, T(l))
                            }
                            // dV_j += P^T dO_i
                            T.gemm(true, false, cols, g.Dv, rows, 1, P, cols, go + i0 * ldg, ldg, 1, dvp + j0 * lddv, lddv)
                            // dP = dO_i V_j^T, then dS = P (dP - D)
                            T.gemm(false, true, rows, cols, g.Dv, 1, go + i0 * ldg, ldg, v + j0 * ldv, ldv, 0, dS, cols)
                            for r in 0 ..< rows {
                                let d = Drow[i0 + r]
                                let pr = P + r * cols, sr = dS + r * cols
                                for c in 0 ..< cols { sr[c] = pr[c] * (sr[c] - d) }
                            }
                            // dQ_i += s dS K_j ; dK_j += s dS^T Q_i
                            T.gemm(false, false, rows, g.D, cols, s, dS, cols, k + j0 * ldk, ldk, 1, dqp + i0 * lddq, lddq)
                            T.gemm(true, false, cols, g.D, rows, s, dS, cols, q + i0 * ldq, ldq, 1, dkp + j0 * lddk, lddk)
                            j0 += cols
                        }
                        i0 += rows
                    }
                }
            }
        }
    }
}

@inline(__always)
private func Foundation_log(_ x: Double) -> Double { log(x) }
