// Kernels+Reduce: reductions over one axis of a dense [O][R][I] block, split over the cores.
//
//     Kernels.reduce(TIDE_RED_SUM, x, out, O, R, I)         // out: [O][I]
//     Kernels.argReduce(true, x, values, indices, O, R, I)   // max and its 0-based index
//
// The split never changes a result: each output element is reduced by one call, in the same
// order, whichever range it falls in. Outer rows are split first; a block with fewer outer
// rows than threads is split by columns; a single long row (O = I = 1) by chunks of r whose
// extremes are combined (max/min only: whole-tensor sums go through Kernels.sum).
import _CTideKernels

extension Kernels {
    /// Columns per range when a block is split by columns (a multiple of the vector width).
    static let columnStep = 64

    /// One C call: out = op over r of x ([o][r][w], rows ld apart).
    static func reduceCall<T>(_ op: Int32, _ x: UnsafePointer<T>, _ out: UnsafeMutablePointer<T>, _ o: Int, _ r: Int, _ w: Int, _ ld: Int) {
        if T.self == Float.self {
            tide_reduce_f32(op, UnsafeRawPointer(x).assumingMemoryBound(to: Float.self),
                            UnsafeMutableRawPointer(out).assumingMemoryBound(to: Float.self), o, r, w, ld)
        } else {
            tide_reduce_f64(op, UnsafeRawPointer(x).assumingMemoryBound(to: Double.self),
                            UnsafeMutableRawPointer(out).assumingMemoryBound(to: Double.self), o, r, w, ld)
        }
    }

    static func reduce<T>(_ op: Int32, _ x: UnsafePointer<T>, _ out: UnsafeMutablePointer<T>, _ O: Int, _ R: Int, _ I: Int) {
        if splitBlock(O, R, I, { c0, o0, o, w in reduceCall(op, x + o0 * R * I + c0, out + o0 * I + c0, o, R, w, I) }) { return }
        guard I == 1 && (op == Int32(TIDE_RED_MAX) || op == Int32(TIDE_RED_MIN)) else {
            reduceCall(op, x, out, O, R, I, I)
            return
        }
        // one long run: chunk extremes, then the extreme of those (NaN if any chunk has one)
        let chunks = Swift.max(1, Swift.min(Threads.count * 4, R / grain))
        let part = UnsafeMutablePointer<T>.allocate(capacity: chunks)
        defer { part.deallocate() }
        try? Threads.parallelFor(chunks, grain: 1) { lo, hi in
            for k in lo ..< hi {
                let r0 = R * k / chunks, r1 = R * (k + 1) / chunks
                reduceCall(op, x + r0, part + k, 1, r1 - r0, 1, 1)
            }
        }
        reduceCall(op, UnsafePointer(part), out, 1, chunks, 1, 1)
    }

    /// Runs body(c0, o0, o, w) (columns c0 ..< c0 + w of outer rows o0 ..< o0 + o) over a
    /// dense [O][R][I] block: small work inline, else outer rows split over the cores, else
    /// columns. false (nothing run) when big work fits neither split.
    static func splitBlock(_ O: Int, _ R: Int, _ I: Int, _ body: (Int, Int, Int, Int) -> Void) -> Bool {
        if O * R * I < 2 * grain { body(0, 0, O, I); return true }
        if O >= 2 {
            try? Threads.parallelFor(O, grain: Swift.max(1, grain / Swift.max(R * I, 1))) { lo, hi in
                if tide_cancel_requested() == 0 { body(0, lo, hi - lo, I) }
            }
            return true
        }
        guard I >= 2 * columnStep else { return false }
        let steps = (I + columnStep - 1) / columnStep
        try? Threads.parallelFor(steps, grain: 1) { lo, hi in
            let c0 = lo * columnStep, c1 = Swift.min(I, hi * columnStep)
            if tide_cancel_requested() == 0 { body(c0, 0, O, c1 - c0) }
        }
        return true
    }

    static func argReduce<T>(_ isMax: Bool, _ x: UnsafePointer<T>, _ val: UnsafeMutablePointer<T>, _ idx: UnsafeMutablePointer<Int64>,
                             _ O: Int, _ R: Int, _ I: Int) {
        func run(_ c0: Int, _ o0: Int, _ o: Int, _ w: Int) {
            let xs = x + o0 * R * I + c0, vs = val + o0 * I + c0, ix = idx + o0 * I + c0
            if T.self == Float.self {
                tide_argreduce_f32(isMax ? 1 : 0, UnsafeRawPointer(xs).assumingMemoryBound(to: Float.self),
                                   UnsafeMutableRawPointer(vs).assumingMemoryBound(to: Float.self), ix, o, R, w, I)
            } else {
                tide_argreduce_f64(isMax ? 1 : 0, UnsafeRawPointer(xs).assumingMemoryBound(to: Double.self),
                                   UnsafeMutableRawPointer(vs).assumingMemoryBound(to: Double.self), ix, o, R, w, I)
            }
        }
        if !splitBlock(O, R, I, run) { run(0, 0, O, I) }
    }

    /// Sum of squares of n contiguous elements, in fixed chunks added in order (like sum).
    static func sumOfSquares<T>(_ p: UnsafePointer<T>, _ n: Int) -> Double {
        chunkedSum(n) { s, e in
            T.self == Float.self ? tide_sumsq_f32(UnsafeRawPointer(p + s).assumingMemoryBound(to: Float.self), e - s)
                                 : tide_sumsq_f64(UnsafeRawPointer(p + s).assumingMemoryBound(to: Double.self), e - s)
        }
    }

    /// Running sum or product over r of a dense [O][R][I] block into y (same layout).
    static func scan<T>(_ product: Bool, _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ O: Int, _ R: Int, _ I: Int) {
        func run(_ c0: Int, _ o0: Int, _ o: Int, _ w: Int) {
            let off = o0 * R * I + c0
            if T.self == Float.self {
                tide_scan_f32(product ? 1 : 0, UnsafeRawPointer(x + off).assumingMemoryBound(to: Float.self),
                              UnsafeMutableRawPointer(y + off).assumingMemoryBound(to: Float.self), o, R, w, I)
            } else {
                tide_scan_f64(product ? 1 : 0, UnsafeRawPointer(x + off).assumingMemoryBound(to: Double.self),
                              UnsafeMutableRawPointer(y + off).assumingMemoryBound(to: Double.self), o, R, w, I)
            }
        }
        if !splitBlock(O, R, I, run) { run(0, 0, O, I) }
    }
}
