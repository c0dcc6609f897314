// Conv+Im2col: the lowering of 2-d convolution to matrix products (the engine behind
// F.conv2d, F.conv1d and F.conv_transpose2d; the shape checks and autograd are in Conv.swift).
//
//     im2col:  image (Cg, H, W) -> columns (Cg*kh*kw, OH*OW), one row per (channel, ki, kj),
//              one column per kernel position; padding reads as 0
//     col2im:  the adjoint: columns (Cg*kh*kw, OH*OW) summed back into an image (Cg, H, W)
//
// With A a group's weight as a matrix (M, K = Cg*kh*kw), every convolution product is one of
// three GEMMs per (sample, group):
//
//     forward      Y (M, N)  = A · im2col(img)             conv2d forward, conv_transpose2d dx
//     backwardData img       = col2im(A^T · Y)             conv2d dx, conv_transpose2d forward
//     weightGrad   dA (M, K) = sum_b Y · im2col(img)^T     dweight of both
//
// At stride 1, backwardData runs as a forward product over Y with the kernel reversed
// (`swapped`), which is faster than the col2im scatter.
//
// Parallelism (one level at a time): samples are split over the cores with OpenBLAS set to one
// thread for the duration; a single sample (or small work) runs on the calling thread and lets
// OpenBLAS thread its GEMM (whose rounding then depends on the thread count, as matmul's does).
// The weight gradient is summed in fixed chunks of samples, added in chunk order, so on the
// split path every result is bit-for-bit the same on 1 or 2 threads.
//
// Memory: each thread holds one (K, N) column buffer (from the Storage cache); a 1x1 kernel
// with stride 1 and no padding needs none (the image already is its column matrix).
import COpenBLAS
import TideCore

/// One group's convolution: an image (channels, height, width) seen through a kh x kw kernel
/// at every point of an (oh, ow) grid. padTop/padLeft place the grid; padding at the bottom
/// and right only shows in oh/ow.
struct Conv2dGeometry {
    var channels, height, width: Int
    var kh, kw: Int
    var sh, sw: Int
    var padTop, padLeft: Int
    var dh, dw: Int
    var oh, ow: Int

    var K: Int { channels * kh * kw }
    var N: Int { oh * ow }
    var imageSize: Int { channels * height * width }
    /// The image is its own column matrix (1x1 kernel, stride 1, no padding).
    var isPointwise: Bool {
        kh == 1 && kw == 1 && sh == 1 && sw == 1 && padTop == 0 && padLeft == 0 && oh == height && ow == width
    }
}

/// Grid positions p in [0, count) with 0 <= p * stride + offset < size, as a half-open range.
@inline(__always)
func convValidRange(offset: Int, stride s: Int, size: Int, count: Int) -> (Int, Int) {
    let lo = offset >= 0 ? 0 : (-offset + s - 1) / s
    let last = size - 1 - offset
    let hi = last < 0 ? 0 : last / s + 1
    let l = min(lo, count)
    return (l, min(max(hi, l), count))
}

/// cols (K, N) = the kernel-position columns of img (channels, height, width).
func im2col<T: FloatScalar>(_ g: Conv2dGeometry, _ img: UnsafePointer<T>, _ cols: UnsafeMutablePointer<T>) {
    let H = g.height, W = g.width, OH = g.oh, OW = g.ow
    var row = cols
    for c in 0 ..< g.channels {
        let plane = img + c * H * W
        for ki in 0 ..< g.kh {
            for kj in 0 ..< g.kw {
                let off = kj * g.dw - g.padLeft
                let (lo, hi) = convValidRange(offset: off, stride: g.sw, size: W, count: OW)
                for oy in 0 ..< OH {
                    let ih = oy * g.sh - g.padTop + ki * g.dh
                    let dst = row + oy * OW
                    guard ih >= 0 && ih < H else { dst.update(repeating: 0, count: OW); continue }
                    let src = plane + ih * W + off
                    if lo > 0 { dst.update(repeating: 0, count: lo) }
                    if g.sw == 1 {
                        (dst + lo).update(from: src + lo, count: hi - lo)
                    } else {
                        let s = g.sw
                        for ox in lo ..< hi { dst[ox] = src[ox * s] }
                    }
                    if hi < OW { (dst + hi).update(repeating: 0, count: OW - hi) }
                }
                row += OH * OW
            }
        }
    }
}

/// img (channels, height, width) += col2im(cols (K, N)): each column entry goes back to the
/// pixel it was read from; entries that were padding are dropped.
func col2imAdd<T: FloatScalar>(_ g: Conv2dGeometry, _ cols: UnsafePointer<T>, _ img: UnsafeMutablePointer<T>) {
    let H = g.height, W = g.width, OH = g.oh, OW = g.ow
    var row = cols
    for c in 0 ..< g.channels {
        let plane = img + c * H * W
        for ki in 0 ..< g.kh {
            for kj in 0 ..< g.kw {
                let off = kj * g.dw - g.padLeft
                let (lo, hi) = convValidRange(offset: off, stride: g.sw, size: W, count: OW)
                for oy in 0 ..< OH {
                    let ih = oy * g.sh - g.padTop + ki * g.dh
                    guard ih >= 0 && ih < H else { continue }
                    let src = row + oy * OW
                    let dst = plane + ih * W + off
                    if g.sw == 1 {
                        for ox in lo ..< hi { dst[ox] += src[ox] }
                    } else {
                        let s = g.sw
                        for ox in lo ..< hi { dst[ox * s] += src[ox] }
                    }
                }
                row += OH * OW
            }
        }
    }
}

/// C (m, n) = op(A) op(B) + beta C, row-major, T = Float or Double.
@inline(__always)
func convGemm<T: FloatScalar>(transA: Bool, transB: Bool, _ m: Int, _ n: Int, _ k: Int,
                              _ a: UnsafePointer<T>, _ lda: Int, _ b: UnsafePointer<T>, _ ldb: Int,
                              beta: T, _ c: UnsafeMutablePointer<T>, _ ldc: Int) {
    let ta = transA ? CblasTrans : CblasNoTrans, tb = transB ? CblasTrans : CblasNoTrans
    if T.self == Float.self {
        cblas_sgemm(CblasRowMajor, ta, tb, Int32(m), Int32(n), Int32(k), 1,
                    UnsafeRawPointer(a).assumingMemoryBound(to: Float.self), Int32(lda),
                    UnsafeRawPointer(b).assumingMemoryBound(to: Float.self), Int32(ldb), Float(beta.tideDouble),
                    UnsafeMutableRawPointer(c).assumingMemoryBound(to: Float.self), Int32(ldc))
    } else {
        cblas_dgemm(CblasRowMajor, ta, tb, Int32(m), Int32(n), Int32(k), 1,
                    UnsafeRawPointer(a).assumingMemoryBound(to: Double.self), Int32(lda),
                    UnsafeRawPointer(b).assumingMemoryBound(to: Double.self), Int32(ldb), beta.tideDouble,
                    UnsafeMutableRawPointer(c).assumingMemoryBound(to: Double.self), Int32(ldc))
    }
}

/// A batched grouped convolution product: `batch` samples of `groups` groups, each group an
/// image of `geom` against a matrix A of `m` rows and geom.K columns. Pointer layouts:
///   img: (batch, groups * geom.channels, height, width)   Y: (batch, groups * m, oh * ow)
///   A:   (groups * m, geom.K)
struct ConvProblem {
    var geom: Conv2dGeometry
    var batch: Int
    var groups: Int
    var m: Int

    var imageStride: Int { groups * geom.imageSize }
    var yStride: Int { groups * m * geom.N }
    /// Multiply-adds of one pass, to decide whether splitting over the cores pays.
    var work: Int { batch * groups * m * geom.K * geom.N }

    /// Runs body(lo, hi) over [0, n) ranges of samples (or chunks): on the cores with OpenBLAS
    /// single-threaded inside when there is enough work, else on this thread.
    func split(_ n: Int, _ body: (Int, Int) throws -> Void) throws {
        if n < 2 || Threads.count < 2 || work < 1 << 21 { try body(0, n); return }
        let blasThreads = openblas_get_num_threads()
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(blasThreads) }
        try Threads.parallelFor(n, grain: 1, body)
    }

    /// Runs body with a scratch (K, N) column buffer, or nil when the image is its own column
    /// matrix. The buffer comes from the Storage cache (no page faults when reused).
    func withColumns<T>(_: T.Type, _ body: (UnsafeMutablePointer<T>?) throws -> Void) throws {
        if geom.isPointwise { return try body(nil) }
        let s = try Storage(byteCount: geom.K * geom.N * MemoryLayout<T>.size)
        try withExtendedLifetime(s) { try body(s.bytes.assumingMemoryBound(to: T.self)) }
    }

    /// Y[b, g] = A_g · im2col(img[b, g]) (+ bias[g * m + r] on row r).
    func forward<T: FloatScalar>(img: UnsafePointer<T>, a: UnsafePointer<T>, bias: UnsafePointer<T>?,
                                 y: UnsafeMutablePointer<T>) throws {
        let K = geom.K, N = geom.N
        try split(batch) { lo, hi in
            try withColumns(T.self) { cols in
                for b in lo ..< hi {
                    try Cancellation.check()
                    for g in 0 ..< groups {
                        let src = img + b * imageStride + g * geom.imageSize
                        let dst = y + b * yStride + g * m * N
                        if let bias = bias {
                            for r in 0 ..< m { (dst + r * N).update(repeating: bias[g * m + r], count: N) }
                        }
                        let B: UnsafePointer<T>
                        if let cols = cols { im2col(geom, src, cols); B = UnsafePointer(cols) } else { B = src }
                        convGemm(transA: false, transB: false, m, N, K, a + g * m * K, K, B, N,
                                 beta: bias == nil ? 0 : 1, dst, N)
                    }
                }
            }
        }
    }

    /// At stride 1, the same product read backwards: its grid is this one's image and its
    /// kernel taps run the other way, so backwardData here is forward there, with each
    /// group's weight transposed and turned by 180 degrees (convFlipTranspose). That form has
    /// the GEMM's long side inside (as in forward) and needs no col2im scatter.
    var swapped: ConvProblem? {
        let g = geom
        guard g.sh == 1 && g.sw == 1 else { return nil }
        let s = Conv2dGeometry(channels: m, height: g.oh, width: g.ow, kh: g.kh, kw: g.kw, sh: 1, sw: 1,
                               padTop: g.dh * (g.kh - 1) - g.padTop, padLeft: g.dw * (g.kw - 1) - g.padLeft,
                               dh: g.dh, dw: g.dw, oh: g.height, ow: g.width)
        return ConvProblem(geom: s, batch: batch, groups: groups, m: g.channels)
    }

    /// img[b, g] = col2im(A_g^T · Y[b, g]) (+ bias[g * channels + c] on image channel c);
    /// img is overwritten.
    func backwardData<T: FloatScalar>(y: UnsafePointer<T>, a: UnsafePointer<T>, bias: UnsafePointer<T>?,
                                      img: UnsafeMutablePointer<T>) throws {
        if let s = swapped {
            let flipped = try Storage(byteCount: groups * m * geom.K * MemoryLayout<T>.size)
            return try withExtendedLifetime(flipped) {
                let f = flipped.bytes.assumingMemoryBound(to: T.self)
                convFlipTranspose(a, groups: groups, m: m, channels: geom.channels, taps: geom.kh * geom.kw, f)
                try s.forward(img: y, a: f, bias: bias, y: img)
            }
        }
        let K = geom.K, N = geom.N, plane = geom.height * geom.width, C = geom.channels
        try split(batch) { lo, hi in
            try withColumns(T.self) { cols in
                for b in lo ..< hi {
                    try Cancellation.check()
                    for g in 0 ..< groups {
                        let src = y + b * yStride + g * m * N
                        let dst = img + b * imageStride + g * geom.imageSize
                        for c in 0 ..< C {
                            let v: T = bias.map { $0[g * C + c] } ?? 0
                            (dst + c * plane).update(repeating: v, count: plane)
                        }
                        if let cols = cols {
                            convGemm(transA: true, transB: false, K, N, m, a + g * m * K, K, src, N, beta: 0, cols, N)
                            col2imAdd(geom, UnsafePointer(cols), dst)
                        } else {
                            convGemm(transA: true, transB: false, K, N, m, a + g * m * K, K, src, N,
                                     beta: bias == nil ? 0 : 1, dst, N)
                        }
                    }
                }
            }
        }
    }

    /// dA (groups * m, K) = sum over samples of Y[b, g] · im2col(img[b, g])^T, summed per
    /// fixed chunk of samples and then over chunks in order (the same sums on any thread count).
    func weightGrad<T: FloatScalar>(y: UnsafePointer<T>, img: UnsafePointer<T>, da: UnsafeMutablePointer<T>) throws {
        let K = geom.K, N = geom.N, size = groups * m * K
        let chunks = min(batch, 4)
        guard chunks > 0 else { da.update(repeating: 0, count: size); return }
        // chunk 0 sums into da, chunk c > 0 into partial slot c - 1
        let partial = try Storage(byteCount: (chunks - 1) * size * MemoryLayout<T>.size)
        try withExtendedLifetime(partial) {
            let parts = partial.bytes.assumingMemoryBound(to: T.self)
            try split(chunks) { lo, hi in
                try withColumns(T.self) { cols in
                    for c in lo ..< hi {
                        let acc = c == 0 ? da : parts + (c - 1) * size
                        let first = batch * c / chunks
                        for b in first ..< batch * (c + 1) / chunks {
                            try Cancellation.check()
                            for g in 0 ..< groups {
                                let src = img + b * imageStride + g * geom.imageSize
                                let B: UnsafePointer<T>
                                if let cols = cols { im2col(geom, src, cols); B = UnsafePointer(cols) } else { B = src }
                                convGemm(transA: false, transB: true, m, K, N, y + b * yStride + g * m * N, N, B, N,
                                         beta: b == first ? 0 : 1, acc + g * m * K, K)
                            }
                        }
                    }
                }
            }
            for c in 1 ..< chunks {
                let p = parts + (c - 1) * size
                for i in 0 ..< size { da[i] += p[i] }
            }
        }
    }
}

/// w: (groups * m, channels, kh, kw) -> (groups * channels, m, kh, kw), each kernel reversed
/// (taps = kh * kw, read in reverse order).
func convFlipTranspose<T>(_ w: UnsafePointer<T>, groups: Int, m: Int, channels: Int, taps: Int,
                          _ out: UnsafeMutablePointer<T>) {
    for g in 0 ..< groups {
        for r in 0 ..< m {
            for c in 0 ..< channels {
                let src = w + ((g * m + r) * channels + c) * taps
                let dst = out + ((g * channels + c) * m + r) * taps
                for t in 0 ..< taps { dst[taps - 1 - t] = src[t] }
            }
        }
    }
}

/// out[c] = sum of y[b, c, :] over b and the plane (the bias gradient). y: (batch, C, plane).
func convChannelSum<T: FloatScalar>(_ y: UnsafePointer<T>, batch: Int, channels: Int, plane: Int,
                                    _ out: UnsafeMutablePointer<T>) {
    for c in 0 ..< channels {
        var s: T = 0
        for b in 0 ..< batch {
            let p = y + (b * channels + c) * plane
            var t: T = 0
            for i in 0 ..< plane { t += p[i] }
            s += t
        }
        out[c] = s
    }
}

// MARK: - dtype dispatch (raw pointers from contiguous f32 or f64 tensors)

extension ConvProblem {
    func forward(_ t: DType, img: UnsafeRawPointer, a: UnsafeRawPointer, bias: UnsafeRawPointer?,
                 y: UnsafeMutableRawPointer) throws {
        func run<T: FloatScalar>(_: T.Type) throws {
            try forward(img: img.assumingMemoryBound(to: T.self), a: a.assumingMemoryBound(to: T.self),
                        bias: bias?.assumingMemoryBound(to: T.self), y: y.assumingMemoryBound(to: T.self))
        }
        if t == .f32 { try run(Float.self) } else { try run(Double.self) }
    }

    func backwardData(_ t: DType, y: UnsafeRawPointer, a: UnsafeRawPointer, bias: UnsafeRawPointer?,
                      img: UnsafeMutableRawPointer) throws {
        func run<T: FloatScalar>(_: T.Type) throws {
            try backwardData(y: y.assumingMemoryBound(to: T.self), a: a.assumingMemoryBound(to: T.self),
                             bias: bias?.assumingMemoryBound(to: T.self), img: img.assumingMemoryBound(to: T.self))
        }
        if t == .f32 { try run(Float.self) } else { try run(Double.self) }
    }

    func weightGrad(_ t: DType, y: UnsafeRawPointer, img: UnsafeRawPointer, da: UnsafeMutableRawPointer) throws {
        func run<T: FloatScalar>(_: T.Type) throws {
            try weightGrad(y: y.assumingMemoryBound(to: T.self), img: img.assumingMemoryBound(to: T.self),
                           da: da.assumingMemoryBound(to: T.self))
        }
        if t == .f32 { try run(Float.self) } else { try run(Double.self) }
    }
}

/// Runs body with the data pointers of contiguous versions of `inputs` (nil stays nil) and of
/// `out`, keeping every tensor alive until body returns.
func withConvData(_ inputs: [Tensor?], _ out: Tensor,
                  _ body: ([UnsafeRawPointer?], UnsafeMutableRawPointer) throws -> Void) throws {
    let cs = try inputs.map { try $0?.contiguous() }
    try withExtendedLifetime((cs, out)) {
        try body(cs.map { $0.map { UnsafeRawPointer($0.rawPointer) } }, out.rawPointer)
    }
}
