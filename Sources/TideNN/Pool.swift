// Pool: 2-d max and average pooling (torch's max_pool2d and avg_pool2d), forward and backward.
//
//     let y = try F.maxPool2d(x, kernelSize: [2, 2])                       // stride = kernel
//     let z = try F.avgPool2d(x, kernelSize: [3, 3], stride: [1, 1], padding: [1, 1])
//     // x: (B, C, H, W) -> (B, C, H', W'),  H' = floor((H + 2 pad - dil (k - 1) - 1) / stride) + 1
//
// Max pooling keeps, for every output, the flat position of the window's maximum (the first
// one on ties; a NaN wins and propagates, as in torch); its gradient goes to that position only.
// Padding never wins a max (it acts as -inf) and counts as 0 in an average, whose divisor is the
// full window (count_include_pad), the in-image part of it, or a given divisor.
// Planes (b, c) are independent: both directions split them over the cores.
import TideCore

extension F {
    /// x: (B, C, H, W) -> (B, C, H', W'), the maximum of each kh x kw window (with dilation).
    /// stride defaults to the kernel size; padding (at most half the dilated kernel) acts as -inf.
    public static func maxPool2d(_ x: Tensor, kernelSize: [Int], stride: [Int]? = nil, padding: [Int] = [0, 0],
                                 dilation: [Int] = [1, 1]) throws -> Tensor {
        let name = "max_pool2d"
        let w = try PoolWindow(name, x, kernel: kernelSize, stride: stride ?? kernelSize, padding: padding, dilation: dilation)
        // the argmax positions, kept for the backward only
        let indices = Autograd.isRecording(x) ? try Tensor(uninitialized: w.outShape, dtype: .i64) : nil
        let xs = x.alias()
        return try Autograd.op(name, [x], forward: {
            let out = try Tensor(uninitialized: w.outShape, dtype: x.dtype)
            try withConvData([x], out) { p, o in
                let idx = indices?.pointer(Int64.self)
                if x.dtype == .f32 {
                    try w.maxForward(p[0]!.assumingMemoryBound(to: Float.self), o.assumingMemoryBound(to: Float.self), idx)
                } else {
                    try w.maxForward(p[0]!.assumingMemoryBound(to: Double.self), o.assumingMemoryBound(to: Double.self), idx)
                }
            }
            return out
        }, backward: { g, _, _ in
            let dx = try Tensor(uninitialized: xs.shape, dtype: xs.dtype)
            try withConvData([g.to(xs.dtype)], dx) { p, o in
                let idx = UnsafePointer(indices!.pointer(Int64.self))
                if xs.dtype == .f32 {
                    try w.maxBackward(p[0]!.assumingMemoryBound(to: Float.self), idx, o.assumingMemoryBound(to: Float.self))
                } else {
                    try w.maxBackward(p[0]!.assumingMemoryBound(to: Double.self), idx, o.assumingMemoryBound(to: Double.self))
                }
            }
            return [dx]
        }, saved: [xs])
    }

    /// x: (B, C, H, W) -> (B, C, H', W'), the mean of each kh x kw window. stride defaults to the
    /// kernel size; padding is at most half the kernel and counts as 0. The divisor is
    /// `divisorOverride` when given, else kh*kw (countIncludePad) or the window's in-image size.
    public static func avgPool2d(_ x: Tensor, kernelSize: [Int], stride: [Int]? = nil, padding: [Int] = [0, 0],
                                 countIncludePad: Bool = true, divisorOverride: Int? = nil) throws -> Tensor {
        let name = "avg_pool2d"
        if let d = divisorOverride, d == 0 { throw TensorError("\(name): divisor_override must be non-zero, got 0") }
        var w = try PoolWindow(name, x, kernel: kernelSize, stride: stride ?? kernelSize, padding: padding, dilation: [1, 1])
        w.countIncludePad = countIncludePad
        w.divisor = divisorOverride
        let shape = x.shape
        return try Autograd.op(name, [x], forward: {
            let out = try Tensor(uninitialized: w.outShape, dtype: x.dtype)
            try withConvData([x], out) { p, o in
                if x.dtype == .f32 {
                    try w.avg(p[0]!.assumingMemoryBound(to: Float.self), o.assumingMemoryBound(to: Float.self), backward: false)
                } else {
                    try w.avg(p[0]!.assumingMemoryBound(to: Double.self), o.assumingMemoryBound(to: Double.self), backward: false)
                }
            }
            return out
        }, backward: { g, out, _ in
            let dx = try Tensor(uninitialized: shape, dtype: out.dtype)
            try withConvData([g.to(out.dtype)], dx) { p, o in
                if out.dtype == .f32 {
                    try w.avg(p[0]!.assumingMemoryBound(to: Float.self), o.assumingMemoryBound(to: Float.self), backward: true)
                } else {
                    try w.avg(p[0]!.assumingMemoryBound(to: Double.self), o.assumingMemoryBound(to: Double.self), backward: true)
                }
            }
            return [dx]
        })
    }
}

/// The windows of a 2-d pooling over x (B, C, H, W): checked options and output size.
struct PoolWindow {
    let planes, H, W, OH, OW: Int
    let kh, kw, sh, sw, ph, pw, dh, dw: Int
    let outShape: [Int]
    var countIncludePad = true
    var divisor: Int? = nil

    init(_ name: String, _ x: Tensor, kernel: [Int], stride: [Int], padding: [Int], dilation: [Int]) throws {
        guard x.dtype == .f32 || x.dtype == .f64 else {
            throw TensorError("\(name): input must be f32 or f64, got \(x.dtype.rawValue)")
        }
        guard x.dim == 4 else {
            throw TensorError("\(name): input must be 4-d (B, C, H, W), got shape \(shapeString(x.shape)) (\(x.dim)-d)")
        }
        guard x.shape.dropFirst(2).allSatisfy({ $0 > 0 }) else {
            throw TensorError("\(name): input height and width must be positive, got shape \(shapeString(x.shape))")
        }
        for (key, v, least) in [("kernel_size", kernel, 1), ("stride", stride, 1), ("padding", padding, 0), ("dilation", dilation, 1)] {
            guard v.count == 2 else { throw TensorError("\(name): \(key) must have 2 values, got \(v.count)") }
            if let bad = v.first(where: { $0 < least }) {
                throw TensorError("\(name): \(key) must be \(least == 0 ? "non-negative" : "positive"), got \(bad)")
            }
        }
        for d in 0 ..< 2 {
            let span = dilation[d] * (kernel[d] - 1) + 1
            guard padding[d] <= span / 2 else {
                throw TensorError("\(name): padding must be at most half the (dilated) kernel size, got padding \(padding[d]) for kernel span \(span) (dim \(d + 1))")
            }
        }
        planes = x.shape[0] * x.shape[1]
        H = x.shape[2]; W = x.shape[3]
        kh = kernel[0]; kw = kernel[1]; sh = stride[0]; sw = stride[1]
        ph = padding[0]; pw = padding[1]; dh = dilation[0]; dw = dilation[1]
        let spanH = dh * (kh - 1) + 1, spanW = dw * (kw - 1) + 1
        guard H + 2 * ph >= spanH && W + 2 * pw >= spanW else {
            throw TensorError("\(name): input \(H)x\(W) (\(H + 2 * ph)x\(W + 2 * pw) with padding) is smaller than the kernel's span \(spanH)x\(spanW); the output would be empty")
        }
        OH = (H + 2 * ph - spanH) / sh + 1
        OW = (W + 2 * pw - spanW) / sw + 1
        outShape = [x.shape[0], x.shape[1], OH, OW]
    }

    /// Runs body over ranges of planes, split over the cores for large work.
    func eachPlanes(_ body: (Int, Int) throws -> Void) throws {
        let perPlane = max(1, OH * OW * kh * kw)
        try Threads.parallelFor(planes, grain: max(1, (1 << 16) / perPlane), body)
    }

    /// First in-image tap of a window starting at `start` (negative = in the padding).
    @inline(__always)
    static func firstTap(_ start: Int, _ dil: Int) -> Int {
        start >= 0 ? start : start + ((-start + dil - 1) / dil) * dil
    }

    /// y = window maxima of x; idx (when given) = their flat positions in the plane.
    func maxForward<T: FloatScalar>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ idx: UnsafeMutablePointer<Int64>?) throws {
        try eachPlanes { lo, hi in
            for p in lo ..< hi {
                try Cancellation.check()
                let src = x + p * H * W, dst = y + p * OH * OW, ind = idx.map { $0 + p * OH * OW }
                for oy in 0 ..< OH {
                    let h0 = oy * sh - ph, hStart = PoolWindow.firstTap(h0, dh), hEnd = min(h0 + (kh - 1) * dh + 1, H)
                    for ox in 0 ..< OW {
                        let w0 = ox * sw - pw, wStart = PoolWindow.firstTap(w0, dw), wEnd = min(w0 + (kw - 1) * dw + 1, W)
                        var best = -T.infinity, at = hStart * W + wStart
                        var ih = hStart
                        while ih < hEnd {
                            let row = src + ih * W
                            var iw = wStart
                            while iw < wEnd {
                                let v = row[iw]
                                if v > best || v.isNaN { best = v; at = ih * W + iw; if v.isNaN { break } }
                                iw += dw
                            }
                            if best.isNaN { break }
                            ih += dh
                        }
                        dst[oy * OW + ox] = best
                        ind?[oy * OW + ox] = Int64(at)
                    }
                }
            }
        }
    }

    func maxBackward<T: FloatScalar>(_ g: UnsafePointer<T>, _ idx: UnsafePointer<Int64>, _ dx: UnsafeMutablePointer<T>) throws {
        try eachPlanes { lo, hi in
            for p in lo ..< hi {
                let dst = dx + p * H * W, src = g + p * OH * OW, ind = idx + p * OH * OW
                dst.update(repeating: 0, count: H * W)
                for o in 0 ..< OH * OW { dst[Int(ind[o])] += src[o] }
            }
        }
    }

    /// Forward: y = window means of x. Backward (x = the output gradient, y = dx): each output
    /// gradient spread evenly over its window.
    func avg<T: FloatScalar>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, backward: Bool) throws {
        try eachPlanes { lo, hi in
            for p in lo ..< hi {
                try Cancellation.check()
                let inPlane = backward ? OH * OW : H * W, outPlane = backward ? H * W : OH * OW
                let src = x + p * inPlane, dst = y + p * outPlane
                if backward { dst.update(repeating: 0, count: H * W) }
                for oy in 0 ..< OH {
                    let h0 = oy * sh - ph, hEnd0 = min(h0 + kh, H + ph)
                    let hs = max(h0, 0), he = min(hEnd0, H)
                    for ox in 0 ..< OW {
                        let w0 = ox * sw - pw, wEnd0 = min(w0 + kw, W + pw)
                        let ws = max(w0, 0), we = min(wEnd0, W)
                        let count = divisor ?? (countIncludePad ? (hEnd0 - h0) * (wEnd0 - w0) : (he - hs) * (we - ws))
                        let div = T(count)
                        if backward {
                            let v = src[oy * OW + ox] / div
                            for ih in hs ..< he { for iw in ws ..< we { dst[ih * W + iw] += v } }
                        } else {
                            var s: T = 0
                            for ih in hs ..< he { for iw in ws ..< we { s += src[ih * W + iw] } }
                            dst[oy * OW + ox] = s / div
                        }
                    }
                }
            }
        }
    }
}
