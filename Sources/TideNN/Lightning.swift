// Lightning attention (MiniMax-01, brief A2): causal linear attention with a per-head decay,
// blocked so that every product is a GEMM and no negative power of the decay is ever formed.
//
//     q, k: (B, H, N, d), v: (B, H, N, e), slopes: (H), state S0: (B, H, d, e) or nil
//     let (o, s) = try F.lightningAttention(q, k, v, slopes: sl, block: 64, state: nil)
//     o: (B, H, N, e) with o_t = q_t S_t, S_t = lam S_{t-1} + k_t^T v_t, lam = exp(-slope);
//     s: (B, H, d, e), the state after the last token (feed it to lightningStep to decode)
//
// Forward per block of m rows (A2.2): O = ((Q K^T) . D) V + (qdec . Q) S, then
// S = lam^m S + (kdec . K)^T V, with D[j, i] = lam^(j-i) (i <= j), qdec[j] = lam^(j+1),
// kdec[j] = lam^(m-1-j): all non-negative powers. Backward (A2.5): the intra-block products,
// a forward sweep that recomputes S for dQ, and a reverse sweep carrying the gradient state
// G = dL/dS for dK and dV; G at the start is dL/dS0. Only q, k, v are saved.
// The final state is a second output with its own (closed-form) backward:
// S_N = lam^N S0 + sum_t lam^(N-1-t) k_t^T v_t.
// (batch, head) pairs are split over the cores with single-threaded BLAS inside (A2.4).
// The f32 forward runs on the attention microkernel (LightningKernels.swift); f64 and the
// backward go through BLAS.
import TideCore

extension F {
    /// Decays for one head and block length m: qdec (m), kdec (m), D (m x m), lam^m.
    struct Decay<T: GemmScalar> {
        let qdec, kdec, D: UnsafeMutablePointer<T>
        var bdec: T = 1
        init(capacity b: Int) {
            qdec = .allocate(capacity: b); kdec = .allocate(capacity: b); D = .allocate(capacity: b * b)
        }
        func free() { qdec.deallocate(); kdec.deallocate(); D.deallocate() }
        /// Fills the tables for decay lam over m rows: powers by repeated multiplication.
        mutating func fill(_ lam: Double, _ m: Int) {
            var p = 1.0
            var pw = [Double](repeating: 1, count: m + 1)
            for j in 0 ... m { pw[j] = p; p *= lam }
            for j in 0 ..< m {
                qdec[j] = T(pw[j + 1])
                kdec[j] = T(pw[m - 1 - j])
                for i in 0 ..< m { D[j * m + i] = i <= j ? T(pw[j - i]) : 0 }
            }
            bdec = T(pw[m])
        }
    }

    public static func lightningAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor, slopes: Tensor, block: Int = 64,
                                          state: Tensor? = nil) throws -> (Tensor, Tensor) {
        let op = "lightning_attention"
        guard q.dim == 4, k.shape == q.shape, v.dim == 4, Array(v.shape.prefix(3)) == Array(q.shape.prefix(3)) else {
            throw TensorError("\(op): expected q, k (B, H, N, d) and v (B, H, N, e), got \(shapeString(q.shape)), \(shapeString(k.shape)), \(shapeString(v.shape))")
        }
        guard q.dtype == k.dtype, k.dtype == v.dtype, q.dtype == .f32 || q.dtype == .f64 else {
            throw TensorError("\(op): q, k, v must share one float dtype, got \(q.dtype.rawValue), \(k.dtype.rawValue), \(v.dtype.rawValue)")
        }
        let (B, H, N, d) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3]), e = v.shape[3]
        guard slopes.numel == H else { throw TensorError("\(op): expected \(H) slopes (one per head), got \(slopes.numel)") }
        guard block >= 1 else { throw TensorError("\(op): block must be >= 1, got \(block)") }
        if let s = state, s.shape != [B, H, d, e] || s.dtype != q.dtype {
            throw TensorError("\(op): state must be \(q.dtype.rawValue) of shape \(shapeString([B, H, d, e])), got \(s.dtype.rawValue) \(shapeString(s.shape))")
        }
        let sl = try slopes.to(.f64).contiguous().toDoubles()
        for (i, s) in sl.enumerated() where !(s >= 0 && s.isFinite) {
            throw TensorError("\(op): slope \(i + 1) must be finite and >= 0, got \(s)")
        }
        let lams = sl.map { Foundation_exp(-$0) }
        let (Q, K, V) = try Autograd.noGrad { (try q.contiguous(), try k.contiguous(), try v.contiguous()) }
        let S0 = try state.map { s in try Autograd.noGrad { try s.contiguous() } }
        let geo = LightningGeometry(B: B, H: H, N: N, d: d, e: e, block: block, lams: lams)
        let final = try Tensor(uninitialized: [B, H, d, e], dtype: q.dtype)
        let inputs = [q, k, v] + (state.map { [$0] } ?? [])
        let o = try Autograd.op(op, inputs, forward: {
            let o = try Tensor(uninitialized: [B, H, N, e], dtype: q.dtype)
            if q.dtype == .f32 { try lightningForwardF32(geo, Q, K, V, S0, o, final) } else { try lightningForward(Double.self, geo, Q, K, V, S0, o, final) }
            return o
        }, backward: { g, _, node in
            let dq = try Tensor.zeros(q.shape, dtype: q.dtype), dk = try Tensor.zeros(k.shape, dtype: q.dtype)
            let dv = try Tensor.zeros(v.shape, dtype: q.dtype)
            let ds0 = S0 != nil && node.needs(3) ? try Tensor.zeros([B, H, d, e], dtype: q.dtype) : nil
            let gc = try g.contiguous()
            if q.dtype == .f32 {
                try lightningBackward(Float.self, geo, Q, K, V, S0, gc, nil, dq, dk, dv, ds0)
            } else {
                try lightningBackward(Double.self, geo, Q, K, V, S0, gc, nil, dq, dk, dv, ds0)
            }
            return [dq, dk, dv, ds0]
        }, saved: [Q, K, V] + (S0.map { [$0] } ?? []))
        // the final state: S_N = lam^N S0 + sum_t lam^(N-1-t) k_t^T v_t, differentiable in k, v, S0
        let sInputs = [k, v] + (state.map { [$0] } ?? [])
        let s = try Autograd.op(op + " state", sInputs, forward: { final }, backward: { g, _, node in
            let dk = try Tensor.zeros(k.shape, dtype: q.dtype), dv = try Tensor.zeros(v.shape, dtype: q.dtype)
            let ds0 = S0 != nil && node.needs(2) ? try Tensor.zeros([B, H, d, e], dtype: q.dtype) : nil
            let gc = try g.contiguous()
            if q.dtype == .f32 {
                try lightningBackward(Float.self, geo, Q, K, V, S0, nil, gc, nil, dk, dv, ds0)
            } else {
                try lightningBackward(Double.self, geo, Q, K, V, S0, nil, gc, nil, dk, dv, ds0)
            }
            return [dk, dv, ds0]
        }, saved: [K, V])
        return (o, s)
    }

    /// The chunk-parallel prefill of brief A2.4 (LASP+ on one machine): the sequence is cut
    /// into `chunks` equal pieces (zeros padded in front, exact with a zero start state), all
    /// pieces run from a zero state at once (as extra batch entries, so the cores share them),
    /// then a prefix scan over the pieces' end states G_i = lam^L G_{i-1} + E_i gives each
    /// piece its incoming state, added as (q . lam^(j+1)) G_{i-1}. An initial state S0 enters
    /// in closed form: o += (q . lam^(t+1)) S0, S_N += lam^N S0. Built from differentiable ops.
    public static func lightningAttentionChunked(_ q: Tensor, _ k: Tensor, _ v: Tensor, slopes: Tensor, block: Int = 64,
                                                 state: Tensor? = nil, chunks c: Int) throws -> (Tensor, Tensor) {
        guard c >= 1 else { throw TensorError("lightning_attention: chunks must be >= 1, got \(c)") }
        if c == 1 { return try lightningAttention(q, k, v, slopes: slopes, block: block, state: state) }
        guard q.dim == 4, v.dim == 4 else { return try lightningAttention(q, k, v, slopes: slopes, block: block, state: state) }
        let (B, H, N, d) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3]), e = v.shape[3]
        guard slopes.numel == H else { throw TensorError("lightning_attention: expected \(H) slopes (one per head), got \(slopes.numel)") }
        let L = (N + c - 1) / c, pad = c * L - N
        func padded(_ t: Tensor) throws -> Tensor {
            guard pad > 0 else { return t }
            return try Tensor.cat([Tensor.zeros([B, H, pad, t.shape[3]], dtype: t.dtype), t], dim: 2)
        }
        // (B, H, cL, x) -> (B c, H, L, x): pieces as batch entries
        func pieces(_ t: Tensor) throws -> Tensor {
            let x = t.shape[3]
            return try padded(t).reshaped([B, H, c, L, x]).permuted([0, 2, 1, 3, 4]).reshaped([B * c, H, L, x])
        }
        let (oLoc, eLoc) = try lightningAttention(pieces(q), pieces(k), pieces(v), slopes: slopes, block: block, state: nil)
        let oP = try oLoc.reshaped([B, c, H, L, e]), eP = try eLoc.reshaped([B, c, H, d, e])
        let logLam = try slopes.to(q.dtype).reshaped([1, H, 1, 1]).unary(.neg)          // log lam per head
        let lamL = try Tensor.binary(.mul, logLam, logLam.scalarLike(Double(L))).unary(.exp)
        let qP = try pieces(q).reshaped([B, c, H, L, d])
        // decay lam^(j+1) for row j of a piece: (1, H, L, 1)
        let rows = try Tensor.arange(1, Double(L) + 1, 1, dtype: q.dtype).reshaped([1, 1, L, 1])
        let qdec = try Tensor.binary(.mul, logLam, rows).unary(.exp)
        var outs: [Tensor] = [try oP.select(1, 0)]
        var G = try eP.select(1, 0)
        for i in 1 ..< c {
            let corr = try Tensor.matmul(Tensor.binary(.mul, qP.select(1, i), qdec), G)
            outs.append(try Tensor.binary(.add, oP.select(1, i), corr))
            G = try Tensor.binary(.add, Tensor.binary(.mul, lamL, G), eP.select(1, i))
        }
        var o = try Tensor.cat(outs, dim: 2)
        if pad > 0 { o = try o.narrow(2, pad, N) }
        var final = G
        if let s0 = state {
            let t1 = try Tensor.arange(1, Double(N) + 1, 1, dtype: q.dtype).reshaped([1, 1, N, 1])
            let dec = try Tensor.binary(.mul, logLam, t1).unary(.exp)
            o = try Tensor.binary(.add, o, Tensor.matmul(Tensor.binary(.mul, q, dec), s0))
            let lamN = try Tensor.binary(.mul, logLam, logLam.scalarLike(Double(N))).unary(.exp)
            final = try Tensor.binary(.add, final, Tensor.binary(.mul, lamN, s0))
        }
        return (o, final)
    }

    /// One decoding step per head in O(d e): S = lam S + k^T v, o = q S.
    /// q, k: (B, H, d), v: (B, H, e), state: (B, H, d, e) -> o (B, H, e), new state.
    /// Built from differentiable tensor ops.
    public static func lightningStep(_ q: Tensor, _ k: Tensor, _ v: Tensor, slopes: Tensor, state: Tensor) throws -> (Tensor, Tensor) {
        guard q.dim == 3, k.shape == q.shape, v.dim == 3, Array(v.shape.prefix(2)) == Array(q.shape.prefix(2)),
              state.shape == q.shape + [v.shape[2]] else {
            throw TensorError("lightning_step: expected q, k (B, H, d), v (B, H, e) and state (B, H, d, e), got \(shapeString(q.shape)), \(shapeString(k.shape)), \(shapeString(v.shape)), \(shapeString(state.shape))")
        }
        let H = q.shape[1]
        guard slopes.numel == H else { throw TensorError("lightning_step: expected \(H) slopes, got \(slopes.numel)") }
        let lam = try slopes.to(q.dtype).reshaped([1, H, 1, 1]).unary(.neg).unary(.exp)
        let kv = try Tensor.binary(.mul, k.unsqueeze(3), v.unsqueeze(2))            // (B, H, d, e)
        let s = try Tensor.binary(.add, Tensor.binary(.mul, lam, state), kv)
        let o = try Tensor.matmul(q.unsqueeze(2), s).squeeze(2)                      // (B, H, e)
        return (o, s)
    }
}

struct LightningGeometry {
    let B, H, N, d, e, block: Int
    let lams: [Double]
}

extension F {
    static func lightningForward<T: GemmScalar>(_: T.Type, _ g: LightningGeometry, _ Q: Tensor, _ K: Tensor, _ V: Tensor,
                                                _ S0: Tensor?, _ O: Tensor, _ final: Tensor) throws {
        let bs = Swift.min(g.block, Swift.max(g.N, 1))
        let tasks = g.B * g.H, workers = Swift.max(1, Swift.min(Threads.count, tasks))
        let (d, e, N) = (g.d, g.e, g.N)
        try parallelBLAS(workers) { w in
            var dec = Decay<T>(capacity: bs)
            let A = UnsafeMutablePointer<T>.allocate(capacity: bs * bs), Qd = UnsafeMutablePointer<T>.allocate(capacity: bs * d)
            defer { dec.free(); A.deallocate(); Qd.deallocate() }
            for task in tasks * w / workers ..< tasks * (w + 1) / workers {
                let h = task % g.H
                let (q, k, v, o, S) = lightningTask(T.self, g, task, Q, K, V, O, S0, final)
                var filled = -1
                var r0 = 0
                while r0 < N {
                    let m = Swift.min(bs, N - r0)
                    if m != filled { dec.fill(g.lams[h], m); filled = m }
                    let qb = q + r0 * d, kb = k + r0 * d, vb = v + r0 * e, ob = o + r0 * e
                    // intra: O = ((Q K^T) . D) V
                    T.gemm(false, true, m, m, d, 1, qb, d, kb, d, 0, A, m)
                    for i in 0 ..< m * m { A[i] *= dec.D[i] }
                    T.gemm(false, false, m, e, m, 1, A, m, vb, e, 0, ob, e)
                    // inter: O += (qdec . Q) S
                    scaleRows(Qd, qb, dec.qdec, m, d)
                    T.gemm(false, false, m, e, d, 1, Qd, d, S, e, 1, ob, e)
                    // state: S = lam^m S + (kdec . K)^T V
                    scaleRows(Qd, kb, dec.kdec, m, d)
                    T.gemm(true, false, d, e, m, 1, Qd, d, vb, e, dec.bdec, S, e)
                    r0 += m
                }
            }
        }
    }

    /// Gradients of o (when dO is given) or of the final state (when dS is given) into dq,
    /// dk, dv and dS0. A2.5 with G started at dS (or 0).
    static func lightningBackward<T: GemmScalar>(_: T.Type, _ g: LightningGeometry, _ Q: Tensor, _ K: Tensor, _ V: Tensor,
                                                 _ S0: Tensor?, _ dO: Tensor?, _ dSN: Tensor?,
                                                 _ dq: Tensor?, _ dk: Tensor, _ dv: Tensor, _ ds0: Tensor?) throws {
        let bs = Swift.min(g.block, Swift.max(g.N, 1))
        let tasks = g.B * g.H, workers = Swift.max(1, Swift.min(Threads.count, tasks))
        let (d, e, N) = (g.d, g.e, g.N)
        try parallelBLAS(workers) { w in
            var dec = Decay<T>(capacity: bs)
            let A = UnsafeMutablePointer<T>.allocate(capacity: bs * bs), P = UnsafeMutablePointer<T>.allocate(capacity: bs * bs)
            let X = UnsafeMutablePointer<T>.allocate(capacity: bs * Swift.max(d, e)), Y = UnsafeMutablePointer<T>.allocate(capacity: bs * Swift.max(d, e))
            let S = UnsafeMutablePointer<T>.allocate(capacity: d * e), G = UnsafeMutablePointer<T>.allocate(capacity: d * e)
            defer { dec.free(); A.deallocate(); P.deallocate(); X.deallocate(); Y.deallocate(); S.deallocate(); G.deallocate() }
            for task in tasks * w / workers ..< tasks * (w + 1) / workers {
                let h = task % g.H
                let q = Q.pointer(T.self) + task * N * d, k = K.pointer(T.self) + task * N * d, v = V.pointer(T.self) + task * N * e
                let gdk = dk.pointer(T.self) + task * N * d, gdv = dv.pointer(T.self) + task * N * e
                var filled = -1
                func decay(_ m: Int) { if m != filled { dec.fill(g.lams[h], m); filled = m } }
                if let dOt = dO, let dqt = dq {
                    let go = dOt.pointer(T.self) + task * N * e, gdq = dqt.pointer(T.self) + task * N * d
                    // intra-block parts and the forward sweep for dQ
                    if let s0 = S0 { S.update(from: s0.pointer(T.self) + task * d * e, count: d * e) } else { S.update(repeating: 0, count: d * e) }
                    var r0 = 0
                    while r0 < N {
                        let m = Swift.min(bs, N - r0)
                        decay(m)
                        let qb = q + r0 * d, kb = k + r0 * d, vb = v + r0 * e, gb = go + r0 * e
                        // P = (dO V^T) . D ; dQ = P K ; dK = P^T Q
                        T.gemm(false, true, m, m, e, 1, gb, e, vb, e, 0, P, m)
                        for i in 0 ..< m * m { P[i] *= dec.D[i] }
                        T.gemm(false, false, m, d, m, 1, P, m, kb, d, 0, gdq + r0 * d, d)
                        T.gemm(true, false, m, d, m, 1, P, m, qb, d, 1, gdk + r0 * d, d)
                        // A = (Q K^T) . D ; dV = A^T dO
                        T.gemm(false, true, m, m, d, 1, qb, d, kb, d, 0, A, m)
                        for i in 0 ..< m * m { A[i] *= dec.D[i] }
                        T.gemm(true, false, m, e, m, 1, A, m, gb, e, 1, gdv + r0 * e, e)
                        // dQ += qdec . (dO S^T)
                        T.gemm(false, true, m, d, e, 1, gb, e, S, e, 0, X, d)
                        addScaledRows(gdq + r0 * d, X, dec.qdec, m, d)
                        // S = lam^m S + (kdec . K)^T V
                        scaleRows(X, kb, dec.kdec, m, d)
                        T.gemm(true, false, d, e, m, 1, X, d, vb, e, dec.bdec, S, e)
                        r0 += m
                    }
                }
                // reverse sweep: G = dL/dS at the end of each block
                if let ds = dSN { G.update(from: ds.pointer(T.self) + task * d * e, count: d * e) } else { G.update(repeating: 0, count: d * e) }
                let blocks = (N + bs - 1) / bs
                for bi in stride(from: blocks - 1, through: 0, by: -1) {
                    let r0 = bi * bs, m = Swift.min(bs, N - r0)
                    decay(m)
                    let qb = q + r0 * d, kb = k + r0 * d, vb = v + r0 * e
                    // dK += kdec . (V G^T) ; dV += kdec . (K G)
                    T.gemm(false, true, m, d, e, 1, vb, e, G, e, 0, X, d)
                    addScaledRows(gdk + r0 * d, X, dec.kdec, m, d)
                    T.gemm(false, false, m, e, d, 1, kb, d, G, e, 0, Y, e)
                    addScaledRows(gdv + r0 * e, Y, dec.kdec, m, e)
                    // G = lam^m G + (qdec . Q)^T dO
                    if let dOt = dO {
                        let gb = dOt.pointer(T.self) + task * N * e + r0 * e
                        scaleRows(X, qb, dec.qdec, m, d)
                        T.gemm(true, false, d, e, m, 1, X, d, gb, e, dec.bdec, G, e)
                    } else {
                        for i in 0 ..< d * e { G[i] *= dec.bdec }
                    }
                }
                if let ds0 = ds0 { (ds0.pointer(T.self) + task * d * e).update(from: G, count: d * e) }
            }
        }
    }
}

/// Row j of dst (m rows of n, packed) = row j of src times scale[j]. Row pointers keep the
/// inner loop free of index arithmetic (and its overflow checks), so it vectorizes: with
/// 64 x 64 blocks these passes cost a sizeable fraction of the GEMMs next to them.
@inline(__always)
func scaleRows<T: GemmScalar>(_ dst: UnsafeMutablePointer<T>, _ src: UnsafePointer<T>, _ scale: UnsafePointer<T>, _ m: Int, _ n: Int) {
    var d = dst, s = src
    for j in 0 ..< m {
        let c = scale[j]
        for i in 0 ..< n { d[i] = s[i] * c }
        d += n; s += n
    }
}

/// Row j of dst (m rows of n, packed) += row j of src times scale[j].
@inline(__always)
private func addScaledRows<T: GemmScalar>(_ dst: UnsafeMutablePointer<T>, _ src: UnsafePointer<T>, _ scale: UnsafePointer<T>, _ m: Int, _ n: Int) {
    var d = dst, s = src
    for j in 0 ..< m {
        let c = scale[j]
        for i in 0 ..< n { d[i] += s[i] * c }
        d += n; s += n
    }
}

#if canImport(Glibc)
import Glibc
#endif
@inline(__always)
private func Foundation_exp(_ x: Double) -> Double { exp(x) }

extension F {
    /// One (batch, head) task of the lightning forward: its rows of Q, K, V and O, and its
    /// running state S, which lives in the `final` output and starts as S0's slice (or zero).
    @inline(__always)
    static func lightningTask<T: GemmScalar>(_: T.Type, _ g: LightningGeometry, _ task: Int, _ Q: Tensor, _ K: Tensor,
                                             _ V: Tensor, _ O: Tensor, _ S0: Tensor?, _ final: Tensor)
        -> (UnsafeMutablePointer<T>, UnsafeMutablePointer<T>, UnsafeMutablePointer<T>, UnsafeMutablePointer<T>, UnsafeMutablePointer<T>) {
        let (N, d, e) = (g.N, g.d, g.e)
        let S = final.pointer(T.self) + task * d * e
        if let s0 = S0 { S.update(from: s0.pointer(T.self) + task * d * e, count: d * e) } else { S.update(repeating: 0, count: d * e) }
        return (Q.pointer(T.self) + task * N * d, K.pointer(T.self) + task * N * d,
                V.pointer(T.self) + task * N * e, O.pointer(T.self) + task * N * e, S)
    }
}
