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
// and W3 fused). The work is a list of tasks handed to the cores largest first, each core
// taking the next one when it is free, with single-threaded BLAS inside: normally one task per
// expert; with fewer than 8 experts holding tokens (one expert = a dense layer, or a
// collapsed router) experts are split into row blocks, and their weight gradients into column
// blocks, so that every core has work. The split does not depend on the thread count. The gated rows are then combined per token (each output row written once, tokens
// split over the cores, no atomics, the sum in choice order).
// Backward: per row block, d gate = <dy_t, Y_e(row)>, dY_e = gate * dy (gathered),
// dA = dY_e W2^T, then one pass computes sigmoid(H1) once and gives A = silu(H1) H3 (for dW2),
// dH3 = dA silu(H1), dH1 = dA H3 silu'(H1); per column block dW2 = A^T dY_e and
// dW13 = X^T [dH1 dH3]; per row block dX_e = [dH1 dH3] W13^T, combined per token like the
// forward. Only X, [H1 | H3] and Y are saved; gradients that are not needed (frozen weights,
// x without grad) are not computed.
import COpenBLAS
import Synchronization
import TideCore
import _CTideKernels

/// The row operations of the expert kernels, vectorized: the C kernels (AVX2) and level-1
/// BLAS; f64 sigmoid is a scalar loop (f64 is for tests).
protocol MoEScalar: GemmScalar {
    static func sigmoidRow(_ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, _ n: Int)
    static func dot(_ x: UnsafePointer<Self>, _ y: UnsafePointer<Self>, _ n: Int) -> Self
    /// y = s * x over n elements
    static func scaledCopy(_ s: Self, _ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, _ n: Int)
    /// y += s * x over n elements
    static func axpy(_ s: Self, _ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, _ n: Int)
}

extension Float: MoEScalar {
    static func sigmoidRow(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        tide_unary_f32(Int32(TIDE_UN_SIGMOID), x, y, n)
    }
    static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> Float { cblas_sdot(Int32(n), x, 1, y, 1) }
    static func scaledCopy(_ s: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        var v = s
        tide_binary_f32(Int32(TIDE_OP_MUL), x, &v, y, n, Int32(TIDE_MODE_VS))
    }
    static func axpy(_ s: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) { cblas_saxpy(Int32(n), s, x, 1, y, 1) }
}

extension Double: MoEScalar {
    static func dot(_ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>, _ n: Int) -> Double { cblas_ddot(Int32(n), x, 1, y, 1) }
    static func scaledCopy(_ s: Double, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ n: Int) {
        var v = s
        tide_binary_f64(Int32(TIDE_OP_MUL), x, &v, y, n, Int32(TIDE_MODE_VS))
    }
    static func axpy(_ s: Double, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ n: Int) { cblas_daxpy(Int32(n), s, x, 1, y, 1) }
    static func sigmoidRow(_ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ n: Int) {
        for i in 0 ..< n {
            let v = x[i]
            if v >= 0 { y[i] = 1 / (1 + Double.exp(-v)) } else { let e = Double.exp(v); y[i] = e / (1 + e) }
        }
    }
}

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
        // top-k per token: repeated argmax with ties to the lowest index (k is small); NaN
        // never wins, so a NaN row still gets k distinct experts
        try Threads.parallelFor(T, grain: 1024) { lo, hi in
            for t in lo ..< hi {
                let row = P + t * E, out = I + t * k
                for j in 0 ..< k {
                    var best = -1
                    for e in 0 ..< E {
                        var taken = false
                        for i in 0 ..< j where Int(out[i]) == e { taken = true }
                        if taken { continue }
                        if best < 0 || row[e] > row[best] || (row[best].isNaN && !row[e].isNaN) { best = e }
                    }
                    out[j] = Int64(best)
                }
            }
        }
        let counts = try Tensor.zeros([E], dtype: .i64)
        let C = counts.pointer(Int64.self)
        var dropped = 0
        let per = T / groups
        let limit = capacity.map { global ? $0 * groups : $0 }
        var used = [Int](repeating: 0, count: E * groups)
        for j in 0 ..< k {                      // first choices before second choices
            for t in 0 ..< T {                  // in token order
                let e = Int(I[t * k + j])
                let g = global ? 0 : t / per
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
            throw TensorError("\(op): expected w13 (E, \(D), 2F) and w2 (E, F, \(D)) of dtype \(x.dtype.rawValue), got \(w13.dtype.rawValue) \(shapeString(w13.shape)) and \(w2.dtype.rawValue) \(shapeString(w2.shape))")
        }
        let E = w13.shape[0], Fh = w2.shape[1]
        guard index.dtype == .i64, index.dim == 2, index.shape[0] == T, keep.shape == index.shape, keep.dtype == .bool,
              gates.shape == index.shape, gates.dtype == .f32 || gates.dtype == .f64 else {
            throw TensorError("\(op): expected index (i64), keep (bool) and float gates of shape (\(T), k), got \(index.dtype.rawValue) \(shapeString(index.shape)), \(keep.dtype.rawValue) \(shapeString(keep.shape)), \(gates.dtype.rawValue) \(shapeString(gates.shape))")
        }
        let plan = try MoEPlan(index: index, keep: keep, experts: E, D: D, F: Fh, op: op)
        let n = plan.n
        let xc = try Autograd.noGrad { try x.contiguous() }
        let w13c = try Autograd.noGrad { try w13.contiguous() }, w2c = try Autograd.noGrad { try w2.contiguous() }
        let gc = try Autograd.noGrad { try gates.to(x.dtype).contiguous() }
        // activations (saved for backward when recording): gathered rows X (n, D),
        // H = [H1 | H3] (n, 2F), expert outputs Y (n, D)
        let X = try Tensor(uninitialized: [Swift.max(n, 1), D], dtype: x.dtype)
        let Hs = try Tensor(uninitialized: [Swift.max(n, 1), 2 * Fh], dtype: x.dtype)
        let Ys = try Tensor(uninitialized: [Swift.max(n, 1), D], dtype: x.dtype)
        return try Autograd.op(op, [x, gates, w13, w2], forward: {
            let y = try Tensor(uninitialized: [T, D], dtype: x.dtype)
            if x.dtype == .f32 { try moeForward(Float.self, plan, xc, gc, w13c, w2c, X, Hs, Ys, y) } else { try moeForward(Double.self, plan, xc, gc, w13c, w2c, X, Hs, Ys, y) }
            return y
        }, backward: { g, _, node in
            let dy = try g.contiguous()
            let want = MoEWant(x: node.needs(0), gates: node.needs(1), w13: node.needs(2), w2: node.needs(3))
            let dx = want.x ? try Tensor(uninitialized: [T, D], dtype: x.dtype) : nil
            let dg = want.gates ? try Tensor(uninitialized: [T, plan.k], dtype: x.dtype) : nil
            let dw13 = want.w13 ? try Tensor(uninitialized: w13.shape, dtype: x.dtype) : nil
            let dw2 = want.w2 ? try Tensor(uninitialized: w2.shape, dtype: x.dtype) : nil
            if x.dtype == .f32 {
                try moeBackward(Float.self, plan, want, gc, w13c, w2c, X, Hs, Ys, dy, dx, dg, dw13, dw2)
            } else {
                try moeBackward(Double.self, plan, want, gc, w13c, w2c, X, Hs, Ys, dy, dx, dg, dw13, dw2)
            }
            return [dx, try dg.map { try $0.to(gates.dtype) }, dw13, dw2]
        }, saved: [X, Hs, Ys, gc])
    }
}

/// Which gradients the backward computes.
struct MoEWant { let x, gates, w13, w2: Bool }

/// The dispatch plan: kept assignments a = t * k + j sorted by expert (stable, so in token
/// order within an expert), where each one landed, and the work split into tasks for the
/// cores. Row tasks are row blocks of one expert (forward, and the row-wise half of the
/// backward); column tasks are column blocks of one expert's weight gradients. Experts are
/// split only when fewer than 8 hold tokens (one expert = a dense layer; a collapsed router),
/// so in the usual case a task is one expert's whole block.
struct MoEPlan: @unchecked Sendable {
    let T, D, F, E, k, n: Int
    let start: [Int]    // expert e owns sorted rows start[e] ..< start[e + 1]
    let order: [Int]    // sorted row -> assignment id
    let pos: [Int]      // assignment id -> sorted row, -1 when dropped
    let rowTasks: [(e: Int, lo: Int, hi: Int)]    // sorted rows lo ..< hi of expert e, largest first
    let colTasks: [(e: Int, part: Int, parts: Int)]  // column block part of parts for expert e
    let workers: Int

    init(index: Tensor, keep: Tensor, experts E: Int, D: Int, F: Int, op: String) throws {
        let T = index.shape[0], k = index.shape[1]
        let idx = try index.contiguous(), kp = try keep.contiguous()
        let I = idx.pointer(Int64.self), KP = kp.pointer(Bool.self)
        var start = [Int](repeating: 0, count: E + 1)
        for a in 0 ..< T * k where KP[a] {
            let e = Int(I[a])
            guard e >= 0 && e < E else { throw TensorError("\(op): expert index \(e + 1) out of range for \(E) experts") }
            start[e + 1] += 1
        }
        for e in 0 ..< E { start[e + 1] += start[e] }
        let n = start[E]
        var order = [Int](repeating: 0, count: n)
        var pos = [Int](repeating: -1, count: T * k)
        var fill = start
        for a in 0 ..< T * k where KP[a] {
            let e = Int(I[a])
            order[fill[e]] = a; pos[a] = fill[e]; fill[e] += 1
        }
        var work = (0 ..< E).filter { start[$0 + 1] > start[$0] }
        work.sort { (start[$0 + 1] - start[$0], -$0) > (start[$1 + 1] - start[$1], -$1) }
        // Fewer than `quota` experts with rows: split them, into row blocks of about n / (2
        // quota) rows (at least 128, GEMM-sized; an expert near that size stays whole) and
        // weight gradients into column blocks, for at least `quota` tasks. The split does not
        // depend on the thread count, so neither do the results (GEMM rounding depends on the
        // block shapes, not on which core runs a block).
        let quota = 8
        var rows: [(e: Int, lo: Int, hi: Int)] = []
        let target = work.count >= quota ? Int.max : Swift.max(128, (n + 2 * quota - 1) / (2 * quota))
        for e in work {
            let m = start[e + 1] - start[e]
            let parts = target == Int.max ? 1 : Swift.max(1, Int((Double(m) / Double(target)).rounded()))
            for c in 0 ..< parts {
                rows.append((e, start[e] + m * c / parts, start[e] + m * (c + 1) / parts))
            }
        }
        let colParts = work.isEmpty ? 1 : Swift.max(1, (quota + work.count - 1) / work.count)
        var cols: [(e: Int, part: Int, parts: Int)] = []
        for e in work { for c in 0 ..< colParts { cols.append((e, c, colParts)) } }
        (self.T, self.D, self.F, self.E, self.k, self.n) = (T, D, F, E, k, n)
        (self.start, self.order, self.pos) = (start, order, pos)
        (rowTasks, colTasks) = (rows, cols)
        workers = Swift.max(1, Swift.min(Threads.count, rows.count))
    }
}

/// A shared "next task" counter for the cores.
private final class TaskCounter: Sendable {
    private let next = Atomic<Int>(0)
    func take() -> Int { next.wrappingAdd(1, ordering: .relaxed).oldValue }
}

extension F {
    /// body(task, scratch) for tasks 0 ..< count, each core taking the next task when it is
    /// free, single-threaded BLAS inside (also for a single task: the blocks, not the thread
    /// count, decide the rounding). scratch: `rowScratch` elements private to the core.
    static func moeTasks<T: MoEScalar>(_: T.Type, _ count: Int, workers: Int, rowScratch: Int,
                                       _ body: (Int, UnsafeMutablePointer<T>) throws -> Void) throws {
        let w = Swift.max(1, Swift.min(workers, count))
        let buf = UnsafeMutablePointer<T>.allocate(capacity: Swift.max(1, rowScratch) * w)
        defer { buf.deallocate() }
        let threads = Threads.count
        if threads > 1 { openblas_set_num_threads(1) }
        defer { if threads > 1 { openblas_set_num_threads(Int32(threads)) } }
        let counter = TaskCounter()
        try Threads.parallelFor(w, grain: 1) { lo, hi in
            for wi in lo ..< hi {
                while true {
                    try Cancellation.check()
                    let i = counter.take()
                    if i >= count { break }
                    try body(i, buf + wi * Swift.max(1, rowScratch))
                }
            }
        }
    }

    /// out[t] = sum over kept choices j (in order) of scale[t, j] * rows[pos[t, j]], or of the
    /// rows themselves without scale; tokens with nothing kept get zeros. Split over tokens.
    static func moeCombine<T: MoEScalar>(_ p: MoEPlan, rows: UnsafePointer<T>, scale: UnsafePointer<T>?, out: UnsafeMutablePointer<T>) throws {
        let (D, k) = (p.D, p.k)
        try p.pos.withUnsafeBufferPointer { pos in
            try Threads.parallelFor(p.T, grain: Swift.max(64, 32768 / Swift.max(D, 1))) { lo, hi in
                for t in lo ..< hi {
                    let dst = out + t * D
                    var first = true
                    for j in 0 ..< k {
                        let r = pos[t * k + j]
                        if r < 0 { continue }
                        let src = rows + r * D
                        let s = scale.map { $0[t * k + j] } ?? 1
                        if first { T.scaledCopy(s, src, dst, D) } else { T.axpy(s, src, dst, D) }
                        first = false
                    }
                    if first { dst.update(repeating: 0, count: D) }
                }
            }
        }
    }

    static func moeForward<T: MoEScalar>(_: T.Type, _ p: MoEPlan, _ x: Tensor, _ gates: Tensor, _ w13: Tensor, _ w2: Tensor,
                                         _ Xs: Tensor, _ Hs: Tensor, _ Ys: Tensor, _ y: Tensor) throws {
        let (D, Fh, k) = (p.D, p.F, p.k)
        let xp = x.pointer(T.self), G = gates.pointer(T.self), W13 = w13.pointer(T.self), W2 = w2.pointer(T.self)
        let X = Xs.pointer(T.self), H = Hs.pointer(T.self), Y = Ys.pointer(T.self)
        // A = silu(H1) * H3 (n, F): scratch from the tensor buffer cache
        let At = try Tensor(uninitialized: [Swift.max(p.n, 1), Fh], dtype: x.dtype)
        let A = At.pointer(T.self)
        try p.order.withUnsafeBufferPointer { order in
            try moeTasks(T.self, p.rowTasks.count, workers: p.workers, rowScratch: Fh) { i, s in
                let (e, lo, hi) = p.rowTasks[i]
                let m = hi - lo
                for r in lo ..< hi { (X + r * D).update(from: xp + (order[r] / k) * D, count: D) }
                // [H1 | H3] = X W13 ; A = silu(H1) * H3 ; Y = A W2
                T.gemm(false, false, m, 2 * Fh, D, 1, X + lo * D, D, W13 + e * D * 2 * Fh, 2 * Fh, 0, H + lo * 2 * Fh, 2 * Fh)
                for r in lo ..< hi {
                    let h = H + r * 2 * Fh, a = A + r * Fh
                    T.sigmoidRow(h, s, Fh)
                    for j in 0 ..< Fh { a[j] = h[j] * s[j] * h[Fh + j] }
                }
                T.gemm(false, false, m, D, Fh, 1, A + lo * Fh, Fh, W2 + e * Fh * D, D, 0, Y + lo * D, D)
            }
        }
        try moeCombine(p, rows: Y, scale: G, out: y.pointer(T.self))
    }

    static func moeBackward<T: MoEScalar>(_: T.Type, _ p: MoEPlan, _ want: MoEWant, _ gates: Tensor, _ w13: Tensor, _ w2: Tensor,
                                          _ Xs: Tensor, _ Hs: Tensor, _ Ys: Tensor, _ dy: Tensor,
                                          _ dx: Tensor?, _ dg: Tensor?, _ dw13: Tensor?, _ dw2: Tensor?) throws {
        let (D, Fh, k) = (p.D, p.F, p.k)
        let G = gates.pointer(T.self), W13 = w13.pointer(T.self), W2 = w2.pointer(T.self)
        let X = Xs.pointer(T.self), H = Hs.pointer(T.self), Y = Ys.pointer(T.self), DY = dy.pointer(T.self)
        let DG = dg?.pointer(T.self), DW13 = dw13?.pointer(T.self), DW2 = dw2?.pointer(T.self)
        // experts without rows get zero weight gradients; dropped choices a zero gate gradient
        for e in 0 ..< p.E where p.start[e + 1] == p.start[e] {
            DW13?.advanced(by: e * D * 2 * Fh).update(repeating: 0, count: D * 2 * Fh)
            DW2?.advanced(by: e * Fh * D).update(repeating: 0, count: Fh * D)
        }
        if let DG = DG { for a in 0 ..< p.T * k where p.pos[a] < 0 { DG[a] = 0 } }
        let needH = want.x || want.w13, needRows = needH || want.w2
        let rows = Swift.max(p.n, 1)
        // dYe (n, D), reused for dX_e once dW2 is done; dH = [dH1 | dH3] (n, 2F); A (n, F)
        let scratch = try Tensor(uninitialized: [needRows ? rows * (D + 3 * Fh) : 1], dtype: gates.dtype)
        let dYe = scratch.pointer(T.self), dH = dYe + rows * D, A = dH + rows * 2 * Fh
        try p.order.withUnsafeBufferPointer { order in
            // rows: d gate = <dy_t, Y_e row> ; dY_e rows = gate * dy_t ; dA = dY_e W2^T (into the
            // dH1 half) ; then one pass (one sigmoid per element) for A, dH3 and dH1
            try moeTasks(T.self, p.rowTasks.count, workers: p.workers, rowScratch: Fh) { i, s in
                let (e, lo, hi) = p.rowTasks[i]
                let m = hi - lo
                for r in lo ..< hi {
                    let asg = order[r], dyr = DY + (asg / k) * D
                    if let DG = DG { DG[asg] = T.dot(dyr, Y + r * D, D) }
                    if needRows { T.scaledCopy(G[asg], dyr, dYe + r * D, D) }
                }
                if !needRows { return }
                if needH { T.gemm(false, true, m, Fh, D, 1, dYe + lo * D, D, W2 + e * Fh * D, D, 0, dH + lo * 2 * Fh, 2 * Fh) }
                for r in lo ..< hi {
                    let hr = H + r * 2 * Fh, dr = dH + r * 2 * Fh, ar = A + r * Fh
                    T.sigmoidRow(hr, s, Fh)
                    if needH {
                        for j in 0 ..< Fh {
                            let h1 = hr[j], h3 = hr[Fh + j], sg = s[j], da = dr[j], u = h1 * sg
                            ar[j] = u * h3
                            dr[Fh + j] = da * u
                            dr[j] = da * h3 * sg * (1 + h1 * (1 - sg))
                        }
                    } else {
                        for j in 0 ..< Fh { ar[j] = hr[j] * s[j] * hr[Fh + j] }
                    }
                }
            }
            if !needRows { return }
            // weight gradients per expert, in column blocks: dW2 = A^T dY_e, dW13 = X^T dH
            if DW2 != nil || DW13 != nil {
                try moeTasks(T.self, p.colTasks.count, workers: p.workers, rowScratch: 0) { i, _ in
                    let (e, part, parts) = p.colTasks[i]
                    let lo = p.start[e], m = p.start[e + 1] - lo
                    if let DW2 = DW2 {
                        let c0 = D * part / parts, c1 = D * (part + 1) / parts
                        if c1 > c0 { T.gemm(true, false, Fh, c1 - c0, m, 1, A + lo * Fh, Fh, dYe + lo * D + c0, D, 0, DW2 + e * Fh * D + c0, D) }
                    }
                    if let DW13 = DW13 {
                        let c0 = 2 * Fh * part / parts, c1 = 2 * Fh * (part + 1) / parts
                        if c1 > c0 { T.gemm(true, false, D, c1 - c0, m, 1, X + lo * D, D, dH + lo * 2 * Fh + c0, 2 * Fh, 0, DW13 + e * D * 2 * Fh + c0, 2 * Fh) }
                    }
                }
            }
            // dX_e = dH W13^T, over the dY_e rows (no longer needed)
            if want.x {
                try moeTasks(T.self, p.rowTasks.count, workers: p.workers, rowScratch: 0) { i, _ in
                    let (e, lo, hi) = p.rowTasks[i]
                    T.gemm(false, true, hi - lo, D, 2 * Fh, 1, dH + lo * 2 * Fh, 2 * Fh, W13 + e * D * 2 * Fh, 2 * Fh, 0, dYe + lo * D, D)
                }
            }
        }
        if let dx = dx { try moeCombine(p, rows: dYe, scale: nil, out: dx.pointer(T.self)) }
    }
}
