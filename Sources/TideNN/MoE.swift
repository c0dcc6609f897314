// MoE: top-k routing with capacity (MiniMax-01 brief A6) and the fused expert computation.
//
//     probs: (T, E) router probabilities (softmax of the logits, fp32 or fp64)
//     let r = try F.moeRoute(probs, topK: 2, capacity: 512, groups: 4, global: true)
//     //   r.index (T, k) i64 0-based experts, r.keep (T, k) bool, r.counts (E) kept per expert
//     x: (T, D), gates: (T, k), w13: (E, D, 2F) = [W1 | W3], w2: (E, F, D)
//     let y = try F.moeExperts(x, index: r.index, keep: r.keep, gates: g, w13: w13, w2: w2)   // (T, D)
//
// Routing: top-k per token by probability, ties to the lowest expert index. Capacity
// (GShard/Switch convention, brief A6.2): all first choices fill before second choices, each in
// token order; an assignment past its expert's capacity is dropped (contributes zero, the kept
// gate is not renormalized). With G groups, "local" enforces the capacity per group of T/G
// consecutive tokens, "global" enforces G times it on the summed count. capacity nil = dropless.
//
// Experts: the kept assignments are sorted by expert (counting sort), each expert's rows are
// gathered into one block and run through SwiGLU, (SiLU(X W1) * (X W3)) W2, as two GEMMs (W1
// and W3 fused), and the gated rows are scatter-added back. Experts run in parallel over the
// cores with single-threaded BLAS. The backward reuses the saved hidden activations:
// dA = dY W2^T, dW2 = A^T dY, dH1 = dA H3 silu'(H1), dH3 = dA silu(H1), dX = [dH1 dH3] W13^T,
// dW13 = X^T [dH1 dH3], and d gate[t, k] = <dy_t, Y_e(row)>.
import TideCore
import _CTideKernels

extension F {
    public struct MoERouting {
        public let index: Tensor    // (T, k) i64, 0-based expert per choice
        public let keep: Tensor     // (T, k) bool
        public let counts: Tensor   // (E) i64 kept assignments per expert
        public let dropped: Int     // assignments dropped by the capacity
    }

    public static func moeRoute(_ probs: Tensor, topK k: Int, capacity: Int?, groups: Int = 1, global: Bool = false) throws -> MoERouting {
        let op = "moe_route"
        guard probs.dim == 2, probs.dtype == .f32 || probs.dtype == .f64 else {
            throw TensorError("\(op): expected float probabilities of shape (T, E), got \(probs.dtype.rawValue) \(shapeString(probs.shape))")
        }
        let T = probs.shape[0], E = probs.shape[1]
        guard k >= 1 && k <= E else { throw TensorError("\(op): top_k must be in 1...\(E), got \(k)") }
        guard groups >= 1, T % groups == 0 else {
            throw TensorError("\(op): \(T) tokens do not split into \(groups) equal groups")
        }
        if let c = capacity, c < 0 { throw TensorError("\(op): capacity must be >= 0, got \(c)") }
        let p = try probs.to(.f64).contiguous()
        let P = p.pointer(Double.self)
        let index = try Tensor(uninitialized: [T, k], dtype: .i64), keep = try Tensor(uninitialized: [T, k], dtype: .bool)
        let I = index.pointer(Int64.self), K = keep.pointer(Bool.self)
        // top-k per token: repeated argmax with ties to the lowest index (k is small)
        for t in 0 ..< T {
            let row = P + t * E
            for j in 0 ..< k {
                var best = -1
                for e in 0 ..< E {
                    var taken = false
                    for i in 0 ..< j where Int(I[t * k + i]) == e { taken = true }
                    if taken { continue }
                    if best < 0 || row[e] > row[best] { best = e }
                }
                I[t * k + j] = Int64(best)
            }
        }
        let counts = try Tensor.zeros([E], dtype: .i64)
        let C = counts.pointer(Int64.self)
        var dropped = 0
        let per = T / groups
        var used = [Int](repeating: 0, count: E * groups)
        for j in 0 ..< k {                      // first choices before second choices
            for t in 0 ..< T {                  // in token order
                let e = Int(I[t * k + j])
                let g = global ? 0 : t / per
                let limit = capacity.map { global ? $0 * groups : $0 }
                if let lim = limit, used[g * E + e] >= lim {
                    K[t * k + j] = false
                    dropped += 1
                } else {
                    K[t * k + j] = true
                    used[g * E + e] += 1
                    C[e] += 1
                }
            }
        }
        return MoERouting(index: index, keep: keep, counts: counts, dropped: dropped)
    }

    public static func moeExperts(_ x: Tensor, index: Tensor, keep: Tensor, gates: Tensor, w13: Tensor, w2: Tensor) throws -> Tensor {
        let op = "moe_experts"
        guard x.dim == 2, x.dtype == .f32 || x.dtype == .f64 else {
            throw TensorError("\(op): expected x of shape (T, D) in f32/f64, got \(x.dtype.rawValue) \(shapeString(x.shape))")
        }
        let T = x.shape[0], D = x.shape[1]
        guard w13.dim == 3, w13.shape[1] == D, w13.shape[2] % 2 == 0, w2.dim == 3, w2.shape[0] == w13.shape[0],
              w2.shape[1] == w13.shape[2] / 2, w2.shape[2] == D, w13.dtype == x.dtype, w2.dtype == x.dtype else {
            throw TensorError("\(op): expected w13 (E, \(D), 2F) and w2 (E, F, \(D)) of dtype \(x.dtype.rawValue), got \(shapeString(w13.shape)) and \(shapeString(w2.shape))")
        }
        let E = w13.shape[0], Fh = w2.shape[1]
        guard index.dtype == .i64, index.dim == 2, index.shape[0] == T, keep.shape == index.shape, keep.dtype == .bool,
              gates.shape == index.shape else {
            throw TensorError("\(op): expected index (i64), keep (bool) and gates of shape (\(T), k), got \(shapeString(index.shape)), \(shapeString(keep.shape)), \(shapeString(gates.shape))")
        }
        let k = index.shape[1]
        let idx = try index.contiguous(), kp = try keep.contiguous()
        let I = idx.pointer(Int64.self), KP = kp.pointer(Bool.self)
        // counting sort of the kept assignments by expert: order[start[e] ..< start[e+1]]
        var start = [Int](repeating: 0, count: E + 1)
        for a in 0 ..< T * k where KP[a] {
            let e = Int(I[a])
            guard e >= 0 && e < E else { throw TensorError("\(op): expert index \(e + 1) out of range for \(E) experts") }
            start[e + 1] += 1
        }
        for e in 0 ..< E { start[e + 1] += start[e] }
        let n = start[E]
        var order = [Int](repeating: 0, count: n)   // assignment id a = t * k + j
        var fill = start
        for a in 0 ..< T * k where KP[a] { order[fill[Int(I[a])]] = a; fill[Int(I[a])] += 1 }
        let plan = MoEPlan(T: T, D: D, F: Fh, E: E, k: k, start: start, order: order)
        let xc = try Autograd.noGrad { try x.contiguous() }
        let w13c = try Autograd.noGrad { try w13.contiguous() }, w2c = try Autograd.noGrad { try w2.contiguous() }
        let gc = try Autograd.noGrad { try gates.to(x.dtype).contiguous() }
        // saved activations: gathered rows X (n, D), H = [H1 | H3] (n, 2F), expert outputs Y (n, D)
        let X = try Tensor(uninitialized: [Swift.max(n, 1), D], dtype: x.dtype)
        let Hs = try Tensor(uninitialized: [Swift.max(n, 1), 2 * Fh], dtype: x.dtype)
        let Ys = try Tensor(uninitialized: [Swift.max(n, 1), D], dtype: x.dtype)
        return try Autograd.op(op, [x, gates, w13, w2], forward: {
            let y = try Tensor.zeros([T, D], dtype: x.dtype)
            if x.dtype == .f32 { try moeForward(Float.self, plan, xc, gc, w13c, w2c, X, Hs, Ys, y) } else { try moeForward(Double.self, plan, xc, gc, w13c, w2c, X, Hs, Ys, y) }
            return y
        }, backward: { g, _, node in
            let dy = try g.contiguous()
            let dx = try Tensor.zeros([T, D], dtype: x.dtype), dg = try Tensor.zeros([T, k], dtype: x.dtype)
            let dw13 = try Tensor.zeros(w13.shape, dtype: x.dtype), dw2 = try Tensor.zeros(w2.shape, dtype: x.dtype)
            if x.dtype == .f32 {
                try moeBackward(Float.self, plan, gc, w13c, w2c, X, Hs, Ys, dy, dx, dg, dw13, dw2)
            } else {
                try moeBackward(Double.self, plan, gc, w13c, w2c, X, Hs, Ys, dy, dx, dg, dw13, dw2)
            }
            return [node.needs(0) ? dx : nil, node.needs(1) ? dg : nil, dw13, dw2]
        }, saved: [X, Hs, Ys, gc])
    }
}

struct MoEPlan {
    let T, D, F, E, k: Int
    let start: [Int]
    let order: [Int]
}


extension F {
    static func moeForward<T: GemmScalar>(_: T.Type, _ p: MoEPlan, _ x: Tensor, _ gates: Tensor, _ w13: Tensor, _ w2: Tensor,
                                          _ Xs: Tensor, _ Hs: Tensor, _ Ys: Tensor, _ y: Tensor) throws {
        let (D, Fh) = (p.D, p.F)
        let xp = x.pointer(T.self), G = gates.pointer(T.self), W13 = w13.pointer(T.self), W2 = w2.pointer(T.self)
        let X = Xs.pointer(T.self), H = Hs.pointer(T.self), Y = Ys.pointer(T.self), out = y.pointer(T.self)
        // scratch from the tensor buffer cache (fresh large allocations page-fault)
        let At = try Tensor(uninitialized: [Swift.max(p.order.count, 1), Fh], dtype: x.dtype)
        let A = At.pointer(T.self)
        try p.order.withUnsafeBufferPointer { order in
            let workers = Swift.max(1, Swift.min(Threads.count, p.E))
            try parallelBLAS(workers) { w in
                for e in p.E * w / workers ..< p.E * (w + 1) / workers {
                    let lo = p.start[e], m = p.start[e + 1] - lo
                    if m == 0 { continue }
                    for r in 0 ..< m { (X + (lo + r) * D).update(from: xp + (order[lo + r] / p.k) * D, count: D) }
                    // [H1 | H3] = X W13 ; A = silu(H1) * H3 ; Y = A W2
                    T.gemm(false, false, m, 2 * Fh, D, 1, X + lo * D, D, W13 + e * D * 2 * Fh, 2 * Fh, 0, H + lo * 2 * Fh, 2 * Fh)
                    for r in 0 ..< m {
                        let h = H + (lo + r) * 2 * Fh, a = A + (lo + r) * Fh
                        T.siluRow(h, a, Fh)
                        for j in 0 ..< Fh { a[j] *= h[Fh + j] }
                    }
                    T.gemm(false, false, m, D, Fh, 1, A + lo * Fh, Fh, W2 + e * Fh * D, D, 0, Y + lo * D, D)
                }
            }
            // scatter-add the gated rows in assignment order (sequential: rows of one token may
            // come from two experts)
            for (pos, a) in order.enumerated() {
                let t = a / p.k, gv = G[a]
                let src = Y + pos * D, dst = out + t * D
                for c in 0 ..< D { dst[c] += gv * src[c] }
            }
        }
    }

    static func moeBackward<T: GemmScalar>(_: T.Type, _ p: MoEPlan, _ gates: Tensor, _ w13: Tensor, _ w2: Tensor,
                                           _ Xs: Tensor, _ Hs: Tensor, _ Ys: Tensor, _ dy: Tensor,
                                           _ dx: Tensor, _ dg: Tensor, _ dw13: Tensor, _ dw2: Tensor) throws {
        let (D, Fh) = (p.D, p.F)
        let n = p.order.count
        let G = gates.pointer(T.self), W13 = w13.pointer(T.self), W2 = w2.pointer(T.self)
        let X = Xs.pointer(T.self), H = Hs.pointer(T.self), Y = Ys.pointer(T.self), DY = dy.pointer(T.self)
        let DX = dx.pointer(T.self), DG = dg.pointer(T.self), DW13 = dw13.pointer(T.self), DW2 = dw2.pointer(T.self)
        let rows = Swift.max(n, 1)
        let scratch = try Tensor(uninitialized: [rows * (2 * D + 4 * Fh)], dtype: gates.dtype)
        let dYe = scratch.pointer(T.self), dXe = dYe + rows * D, A = dXe + rows * D, dH = A + rows * Fh
        let S1 = dH + rows * 2 * Fh   // silu(H1), then silu'(H1) dA
        try p.order.withUnsafeBufferPointer { order in
            // gate gradients and the gated output gradient rows
            for (pos, a) in order.enumerated() {
                let t = a / p.k, gv = G[a]
                let dyr = DY + t * D, yr = Y + pos * D, dst = dYe + pos * D
                var dot: T = 0
                for c in 0 ..< D { dot += dyr[c] * yr[c]; dst[c] = gv * dyr[c] }
                DG[a] = dot
            }
            let workers = Swift.max(1, Swift.min(Threads.count, p.E))
            try parallelBLAS(workers) { w in
                for e in p.E * w / workers ..< p.E * (w + 1) / workers {
                    let lo = p.start[e], m = p.start[e + 1] - lo
                    if m == 0 { continue }
                    let h = H + lo * 2 * Fh, a = A + lo * Fh, dh = dH + lo * 2 * Fh, s1 = S1 + lo * Fh
                    for r in 0 ..< m {
                        T.siluRow(h + r * 2 * Fh, s1 + r * Fh, Fh)
                        for j in 0 ..< Fh { a[r * Fh + j] = s1[r * Fh + j] * h[r * 2 * Fh + Fh + j] }
                    }
                    // dW2 = A^T dY ; dA = dY W2^T (into the dH1 half, then split)
                    T.gemm(true, false, Fh, D, m, 1, a, Fh, dYe + lo * D, D, 0, DW2 + e * Fh * D, D)
                    T.gemm(false, true, m, Fh, D, 1, dYe + lo * D, D, W2 + e * Fh * D, D, 0, dh, 2 * Fh)
                    for r in 0 ..< m {
                        let hr = h + r * 2 * Fh, dr = dh + r * 2 * Fh, sr = s1 + r * Fh
                        // dH3 = dA silu(H1); dH1 = silu'(H1) (dA H3)
                        for j in 0 ..< Fh { let da = dr[j]; dr[Fh + j] = da * sr[j]; dr[j] = da * hr[Fh + j] }
                        T.siluGradRow(hr, dr, dr, Fh)
                    }
                    // dW13 = X^T dH ; dX = dH W13^T
                    T.gemm(true, false, D, 2 * Fh, m, 1, X + lo * D, D, dh, 2 * Fh, 0, DW13 + e * D * 2 * Fh, 2 * Fh)
                    T.gemm(false, true, m, D, 2 * Fh, 1, dh, 2 * Fh, W13 + e * D * 2 * Fh, 2 * Fh, 0, dXe + lo * D, D)
                }
            }
            for (pos, a) in order.enumerated() {
                let t = a / p.k
                let src = dXe + pos * D, dst = DX + t * D
                for c in 0 ..< D { dst[c] += src[c] }
            }
        }
    }
}
