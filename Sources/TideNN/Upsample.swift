// Upsample: resizing 2-d feature maps (torch.nn.functional.interpolate, modes "nearest" and
// "bilinear"), forward and backward.
//
//     let y = try F.interpolate(x, size: [64, 64], mode: .bilinear, alignCorners: false)
//     let z = try F.interpolate(x, scaleFactor: [2, 2])        // nearest, (H, W) -> (2H, 2W)
//     // x: (B, C, H, W) -> (B, C, H', W')
//
// Every output pixel reads a fixed set of input pixels with fixed weights, computed once per
// axis (torch's rules, so results match it):
//   nearest:  src = min(floor(dst * s), in - 1) in single precision, s = 1/scale_factor when
//             a scale was given, else in/out (and exactly dst, dst/2 for sizes x1, x2);
//   bilinear: src = dst * (in - 1)/(out - 1) with align_corners, else
//             max((dst + 0.5) * s - 0.5, 0), blending the two neighbours floor(src), +1.
// The backward scatters each output gradient back with the same weights. Planes (b, c) are
// independent and split over the cores.
import TideCore

extension F {
    public enum InterpolateMode: String, Sendable, CaseIterable {
        case nearest, bilinear
    }

    /// x: (B, C, H, W) -> (B, C, H', W') with (H', W') = size, or floor((H, W) * scaleFactor)
    /// (exactly one of the two). alignCorners (bilinear only; default false) maps the corner
    /// pixels' centres onto each other.
    public static func interpolate(_ x: Tensor, size: [Int]? = nil, scaleFactor: [Double]? = nil,
                                   mode: InterpolateMode = .nearest, alignCorners: Bool? = nil) throws -> Tensor {
        let name = "interpolate"
        guard x.dtype == .f32 || x.dtype == .f64 else {
            throw TensorError("\(name): input must be f32 or f64, got \(x.dtype.rawValue)")
        }
        guard x.dim == 4 else {
            throw TensorError("\(name): input must be 4-d (B, C, H, W), got shape \(shapeString(x.shape)) (\(x.dim)-d)")
        }
        guard x.shape[2] > 0 && x.shape[3] > 0 else {
            throw TensorError("\(name): input height and width must be positive, got shape \(shapeString(x.shape))")
        }
        if mode == .nearest && alignCorners != nil {
            throw TensorError("\(name): align_corners can only be set with mode \"bilinear\", got mode \"nearest\"")
        }
        let H = x.shape[2], W = x.shape[3]
        var out: [Int]
        switch (size, scaleFactor) {
        case (nil, nil): throw TensorError("\(name): expected size or scale_factor, got neither")
        case (.some, .some): throw TensorError("\(name): expected either size or scale_factor, got both")
        case (let s?, nil):
            guard s.count == 2 else { throw TensorError("\(name): size must have 2 values (h, w), got \(s.count)") }
            guard s.allSatisfy({ $0 > 0 }) else { throw TensorError("\(name): size must be positive, got \(shapeString(s))") }
            out = s
        case (nil, let f?):
            guard f.count == 2 else { throw TensorError("\(name): scale_factor must have 2 values (h, w), got \(f.count)") }
            guard f.allSatisfy({ $0 > 0 && $0.isFinite }) else {
                throw TensorError("\(name): scale_factor must be positive and finite, got \(f.map { "\($0)" }.joined(separator: "x"))")
            }
            out = [Int((Double(H) * f[0]).rounded(.down)), Int((Double(W) * f[1]).rounded(.down))]
            guard out.allSatisfy({ $0 > 0 }) else {
                throw TensorError("\(name): output size would be \(shapeString(out)) (input \(H)x\(W) times scale_factor \(f.map { "\($0)" }.joined(separator: "x"))); it must be at least 1x1")
            }
        }
        let r = Resample(planes: x.shape[0] * x.shape[1], H: H, W: W, OH: out[0], OW: out[1], mode: mode,
                         alignCorners: alignCorners ?? false, scales: scaleFactor)
        let shape = x.shape
        return try Autograd.op(name, [x], forward: {
            let y = try Tensor(uninitialized: [shape[0], shape[1], out[0], out[1]], dtype: x.dtype)
            try withConvData([x], y) { p, o in
                if x.dtype == .f32 {
                    try r.run(p[0]!.assumingMemoryBound(to: Float.self), o.assumingMemoryBound(to: Float.self), backward: false)
                } else {
                    try r.run(p[0]!.assumingMemoryBound(to: Double.self), o.assumingMemoryBound(to: Double.self), backward: false)
                }
            }
            return y
        }, backward: { g, y, _ in
            let dx = try Tensor(uninitialized: shape, dtype: y.dtype)
            try withConvData([g.to(y.dtype)], dx) { p, o in
                if y.dtype == .f32 {
                    try r.run(p[0]!.assumingMemoryBound(to: Float.self), o.assumingMemoryBound(to: Float.self), backward: true)
                } else {
                    try r.run(p[0]!.assumingMemoryBound(to: Double.self), o.assumingMemoryBound(to: Double.self), backward: true)
                }
            }
            return [dx]
        })
    }
}

/// Source indices and weights along one axis: output i reads i0[i] (weight l0[i]) and
/// i1[i] (weight l1[i]); nearest uses i0 alone.
struct ResampleAxis<T: FloatScalar> {
    var i0: [Int], i1: [Int], l0: [T], l1: [T]

    static func nearest(_ n: Int, _ m: Int, scale: Double?) -> ResampleAxis {
        // torch computes this map in single precision whatever the dtype
        let s: Float = scale.map { Float(1.0 / $0) } ?? Float(n) / Float(m)
        let i0 = (0 ..< m).map { i -> Int in
            if m == n { return i }
            if m == 2 * n { return i >> 1 }
            return min(Int((Float(i) * s).rounded(.down)), n - 1)
        }
        return ResampleAxis(i0: i0, i1: i0, l0: [], l1: [])
    }

    static func linear(_ n: Int, _ m: Int, scale: Double?, alignCorners: Bool) -> ResampleAxis {
        let s: T = alignCorners ? (m > 1 ? T(n - 1) / T(m - 1) : 0) : (scale.map { T(1.0 / $0) } ?? T(n) / T(m))
        var a = ResampleAxis(i0: [], i1: [], l0: [], l1: [])
        for i in 0 ..< m {
            let src = alignCorners ? s * T(i) : max(s * (T(i) + 0.5) - 0.5, 0)
            let j = min(Int(src.rounded(.down)), n - 1)
            let l = min(max(src - T(j), 0), 1)
            a.i0.append(j); a.i1.append(j < n - 1 ? j + 1 : j)
            a.l0.append(1 - l); a.l1.append(l)
        }
        return a
    }
}

/// One resize of `planes` planes of H x W into OH x OW.
struct Resample {
    let planes, H, W, OH, OW: Int
    let mode: F.InterpolateMode
    let alignCorners: Bool
    let scales: [Double]?

    /// Forward: y = resize(x). Backward (x = the output gradient, y = dx): the adjoint.
    func run<T: FloatScalar>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, backward: Bool) throws {
        let ah: ResampleAxis<T>, aw: ResampleAxis<T>
        if mode == .nearest {
            ah = .nearest(H, OH, scale: scales?[0]); aw = .nearest(W, OW, scale: scales?[1])
        } else {
            ah = .linear(H, OH, scale: scales?[0], alignCorners: alignCorners)
            aw = .linear(W, OW, scale: scales?[1], alignCorners: alignCorners)
        }
        let linear = mode == .bilinear
        let inPlane = backward ? OH * OW : H * W, outPlane = backward ? H * W : OH * OW
        try ah.i0.withUnsafeBufferPointer { h0 in try ah.i1.withUnsafeBufferPointer { h1 in
        try aw.i0.withUnsafeBufferPointer { w0 in try aw.i1.withUnsafeBufferPointer { w1 in
        try ah.l0.withUnsafeBufferPointer { lh0 in try ah.l1.withUnsafeBufferPointer { lh1 in
        try aw.l0.withUnsafeBufferPointer { lw0 in try aw.l1.withUnsafeBufferPointer { lw1 in
            try Threads.parallelFor(planes, grain: max(1, (1 << 15) / max(1, OH * OW))) { lo, hi in
                for p in lo ..< hi {
                    try Cancellation.check()
                    let src = x + p * inPlane, dst = y + p * outPlane
                    if backward { dst.update(repeating: 0, count: H * W) }
                    for oy in 0 ..< OH {
                        let r0 = h0[oy] * W, r1 = h1[oy] * W
                        let o = oy * OW
                        if !linear {
                            if backward {
                                for ox in 0 ..< OW { dst[r0 + w0[ox]] += src[o + ox] }
                            } else {
                                for ox in 0 ..< OW { dst[o + ox] = src[r0 + w0[ox]] }
                            }
                            continue
                        }
                        let a0 = lh0[oy], a1 = lh1[oy]
                        if backward {
                            for ox in 0 ..< OW {
                                let g = src[o + ox], b0 = lw0[ox], b1 = lw1[ox]
                                dst[r0 + w0[ox]] += a0 * b0 * g
                                dst[r0 + w1[ox]] += a0 * b1 * g
                                dst[r1 + w0[ox]] += a1 * b0 * g
                                dst[r1 + w1[ox]] += a1 * b1 * g
                            }
                        } else {
                            for ox in 0 ..< OW {
                                let b0 = lw0[ox], b1 = lw1[ox]
                                dst[o + ox] = a0 * (b0 * src[r0 + w0[ox]] + b1 * src[r0 + w1[ox]])
                                    + a1 * (b0 * src[r1 + w0[ox]] + b1 * src[r1 + w1[ox]])
                            }
                        }
                    }
                }
            }
        } } } } } } } }
    }
}
