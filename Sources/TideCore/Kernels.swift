// Kernels: the Swift face of _CTideKernels, with the split over cores.
//
//     Kernels.binaryF32(TIDE_OP_ADD, a, b, y, n, mode: TIDE_MODE_VV)
//
// Work below `grain` elements runs on the calling thread; larger work is cut into one range
// per thread (Threads.count). Each range is a plain call into C, which picks the instruction
// set (AVX2+FMA or portable) once. Ranges are disjoint, so results do not depend on the
// thread count, except sums, whose partial sums are added in range order.
import _CTideKernels

public enum Kernels {
    /// Elements per range below which splitting costs more than it saves.
    public static let grain = 1 << 15

    /// The instruction-set level in use (0 portable, 1 AVX2+FMA, 2 AVX-512); settable for tests.
    public static var level: Int {
        get { Int(tide_kernel_level()) }
        set { _ = tide_set_kernel_level(Int32(newValue)) }
    }
    public static var bestLevel: Int { Int(tide_kernel_best_level()) }

    static func split(_ n: Int, _ body: (Int, Int) -> Void) {
        if n < 2 * grain { body(0, n); return }  // small work: no thread-count lookup at all
        try? Threads.parallelFor(n, grain: grain) { lo, hi in
            if tide_cancel_requested() == 0 { body(lo, hi) }
        }
    }

    /// Working-set bytes (inputs and output of one op) from which outputs are written with
    /// streaming stores: the last-level cache of the machines Tide is tuned on (32 MiB L3).
    /// Below it, a cached result is what the next op reads; above it, caching the result only
    /// evicts the inputs (see TIDE_MODE_STREAM).
    /// Settable so tests can drive both store paths with small tensors.
    nonisolated(unsafe) public static var streamingBytes = 32 << 20

    /// Whether an op writing `outBytes` at y, next to `inBytes` of inputs, streams its output:
    /// a working set over the cache, and y not one of the inputs (in place, the line is
    /// already cached). A 4M-element f32 add (48 MiB) streams; a unary op on it (32 MiB) and
    /// x + x do not: plain stores were faster for them here.
    @inline(__always)
    static func streams(outBytes: Int, inBytes: Int, _ y: UnsafeMutableRawPointer, _ a: UnsafeRawPointer, _ b: UnsafeRawPointer? = nil) -> Bool {
        outBytes + inBytes > streamingBytes && UnsafeRawPointer(y) != a && UnsafeRawPointer(y) != b
    }

    /// y = a op b over n elements (T is Float or Double); a scalar side does not advance.
    static func binary<T>(_ op: Int32, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ n: Int, mode: Int32) {
        // x + x reads one buffer
        let size = MemoryLayout<T>.stride, vectors = mode == Int32(TIDE_MODE_VV) && a != b ? 2 : 1
        let mode = streams(outBytes: n * size, inBytes: n * size * vectors, UnsafeMutableRawPointer(y), UnsafeRawPointer(a), UnsafeRawPointer(b))
            ? mode | Int32(TIDE_MODE_STREAM) : mode
        split(n) { lo, hi in
            let vm = mode & ~Int32(TIDE_MODE_STREAM)
            let x = vm == Int32(TIDE_MODE_SV) ? a : a + lo, z = vm == Int32(TIDE_MODE_VS) ? b : b + lo
            let (rx, rz, ry) = (UnsafeRawPointer(x), UnsafeRawPointer(z), UnsafeMutableRawPointer(y + lo))
            if T.self == Float.self {
                tide_binary_f32(op, rx.assumingMemoryBound(to: Float.self), rz.assumingMemoryBound(to: Float.self), ry.assumingMemoryBound(to: Float.self), hi - lo, mode)
            } else {
                tide_binary_f64(op, rx.assumingMemoryBound(to: Double.self), rz.assumingMemoryBound(to: Double.self), ry.assumingMemoryBound(to: Double.self), hi - lo, mode)
            }
        }
    }

    /// y[i, j] = a[i, j] op b[j, i] over a rows x cols tile (T is Float or Double; leading
    /// dimensions in elements); a == nil copies b transposed. Split over the cores in
    /// 16-row panels, the kernel's block height.
    static func binaryTransposed<T>(_ op: Int32, _ a: UnsafePointer<T>?, lda: Int, _ b: UnsafePointer<T>, ldb: Int,
                                    _ y: UnsafeMutablePointer<T>, ldy: Int, rows: Int, cols: Int) {
        let panels = (rows + 15) / 16
        let run = { (lo: Int, hi: Int) in
            let r0 = lo * 16, r1 = Swift.min(rows, hi * 16)
            let pa = a.map { UnsafeRawPointer($0 + r0 * lda) }, pb = UnsafeRawPointer(b + r0), py = UnsafeMutableRawPointer(y + r0 * ldy)
            if T.self == Float.self {
                tide_binary_tr_f32(op, pa?.assumingMemoryBound(to: Float.self), lda, pb.assumingMemoryBound(to: Float.self), ldb,
                                   py.assumingMemoryBound(to: Float.self), ldy, r1 - r0, cols)
            } else {
                tide_binary_tr_f64(op, pa?.assumingMemoryBound(to: Double.self), lda, pb.assumingMemoryBound(to: Double.self), ldb,
                                   py.assumingMemoryBound(to: Double.self), ldy, r1 - r0, cols)
            }
        }
        if rows * cols < 2 * grain { run(0, panels); return }
        try? Threads.parallelFor(panels, grain: Swift.max(1, grain / Swift.max(16 * cols, 1))) { lo, hi in
            if tide_cancel_requested() == 0 { run(lo, hi) }
        }
    }

    /// y = (a op b) as 0/1 bytes over n elements (T is Float or Double), modes as for binary.
    static func compare<T>(_ op: Int32, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ y: UnsafeMutablePointer<UInt8>, _ n: Int, mode: Int32) {
        split(n) { lo, hi in
            let x = mode == Int32(TIDE_MODE_SV) ? a : a + lo, z = mode == Int32(TIDE_MODE_VS) ? b : b + lo
            let (rx, rz) = (UnsafeRawPointer(x), UnsafeRawPointer(z))
            if T.self == Float.self {
                tide_compare_f32(op, rx.assumingMemoryBound(to: Float.self), rz.assumingMemoryBound(to: Float.self), y + lo, hi - lo, mode)
            } else {
                tide_compare_f64(op, rx.assumingMemoryBound(to: Double.self), rz.assumingMemoryBound(to: Double.self), y + lo, hi - lo, mode)
            }
        }
    }

    static func unaryGradF32(_ op: Int32, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ g: UnsafePointer<Float>,
                             _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        split(n) { lo, hi in tide_unary_grad_f32(op, x + lo, y + lo, g + lo, out + lo, hi - lo) }
    }

    static func unaryF32(_ op: Int32, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        if streams(outBytes: 4 * n, inBytes: 4 * n, UnsafeMutableRawPointer(y), UnsafeRawPointer(x)) {
            split(n) { lo, hi in tide_unary_f32_stream(op, x + lo, y + lo, hi - lo) }
        } else {
            split(n) { lo, hi in tide_unary_f32(op, x + lo, y + lo, hi - lo) }
        }
    }

    /// Sum of n contiguous elements. The data is cut into fixed chunks whatever the thread
    /// count, and the chunk sums are added in order, so the result does not depend on
    /// tide.set_num_threads (the same seed gives the same sum on 1 or 2 cores).
    static let sumChunk = 1 << 16

    static func sum<T>(_ p: UnsafePointer<T>, _ n: Int) -> Double {
        chunkedSum(n) { s, e in
            T.self == Float.self ? tide_sum_f32(UnsafeRawPointer(p + s).assumingMemoryBound(to: Float.self), e - s)
                                 : tide_sum_f64(UnsafeRawPointer(p + s).assumingMemoryBound(to: Double.self), e - s)
        }
    }

    /// chunk(s, e) over fixed chunks of [0, n) split over the cores, added in chunk order.
    static func chunkedSum(_ n: Int, _ chunk: (Int, Int) -> Double) -> Double {
        let chunks = (n + sumChunk - 1) / sumChunk
        if chunks <= 1 { return chunk(0, n) }
        let partial = UnsafeMutablePointer<Double>.allocate(capacity: chunks)
        defer { partial.deallocate() }
        try? Threads.parallelFor(chunks, grain: 1) { lo, hi in
            for k in lo ..< hi { partial[k] = chunk(k * sumChunk, Swift.min(n, (k + 1) * sumChunk)) }
        }
        var s = 0.0
        for k in 0 ..< chunks { s += partial[k] }
        return s
    }

    static func softmaxRowsF32(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, n: Int, log: Bool) {
        let rowGrain = max(1, grain / max(n, 1))
        try? Threads.parallelFor(rows, grain: rowGrain) { lo, hi in
            tide_softmax_rows_f32(x + lo * n, y + lo * n, hi - lo, n, log ? 1 : 0)
        }
    }
}

extension BinaryOp {
    var kernelOp: Int32? {
        switch self {
        case .add: return Int32(TIDE_OP_ADD)
        case .sub: return Int32(TIDE_OP_SUB)
        case .mul: return Int32(TIDE_OP_MUL)
        case .div: return Int32(TIDE_OP_DIV)
        case .maximum: return Int32(TIDE_OP_MAX)
        case .minimum: return Int32(TIDE_OP_MIN)
        case .pow: return Int32(TIDE_OP_POW)
        default: return nil
        }
    }
}

extension UnaryOp {
    var kernelOp: Int32? {
        switch self {
        case .exp: return Int32(TIDE_UN_EXP)
        case .tanh: return Int32(TIDE_UN_TANH)
        case .sigmoid: return Int32(TIDE_UN_SIGMOID)
        case .silu: return Int32(TIDE_UN_SILU)
        case .gelu: return Int32(TIDE_UN_GELU)
        case .gelu_tanh: return Int32(TIDE_UN_GELU_TANH)
        case .relu: return Int32(TIDE_UN_RELU)
        case .neg: return Int32(TIDE_UN_NEG)
        case .abs: return Int32(TIDE_UN_ABS)
        case .sqrt: return Int32(TIDE_UN_SQRT)
        case .square: return Int32(TIDE_UN_SQUARE)
        case .log: return Int32(TIDE_UN_LOG)
        case .sin: return Int32(TIDE_UN_SIN)
        case .cos: return Int32(TIDE_UN_COS)
        default: return nil
        }
    }
}

extension Tensor {
    /// The dim order in which this view is dense (outermost first), if it is a permutation of
    /// a contiguous tensor (no gaps, no overlap, no broadcast).
    func denseOrder() -> [Int]? {
        if isContiguous { return Array(0 ..< dim) }
        let order = (0 ..< dim).sorted { strides[$0] != strides[$1] ? strides[$0] > strides[$1] : $0 < $1 }
        var expected = 1
        for d in order.reversed() where shape[d] != 1 {
            if strides[d] != expected { return nil }
            expected *= shape[d]
        }
        return order
    }

    /// A new tensor of this shape laid out in the given dense dim order (a permuted view of a
    /// contiguous buffer), so an elementwise result keeps its inputs' layout.
    static func uninitialized(shape: [Int], dtype: DType, order: [Int]) throws -> Tensor {
        if order.indices.allSatisfy({ order[$0] == $0 }) { return try Tensor(uninitialized: shape, dtype: dtype) }
        let base = try Tensor(uninitialized: order.map { shape[$0] }, dtype: dtype)
        var inverse = [Int](repeating: 0, count: order.count)
        for (k, d) in order.enumerated() { inverse[d] = k }
        return try base.permuted(inverse)
    }
}
