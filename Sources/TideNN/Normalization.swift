// Normalization: layer norm and RMS norm over the trailing dims, fused forward and backward.
//
//     x: (B, T, C), weight/bias: (C)
//     try F.layerNorm(x, normalizedShape: [C], weight: w, bias: b, eps: 1e-5)   // (B, T, C)
//     try F.rmsNorm(x, normalizedShape: [C], weight: w, eps: 1e-6)              // (B, T, C)
//
// Rows (everything before the normalized dims) are independent and split over the cores.
// Statistics accumulate in Double. The backward recomputes x-hat from the saved input and the
// per-row mean and 1/std, so nothing of size x is kept besides x itself.
import TideCore

extension F {
    /// Rows and row length of x for `normalizedShape` (the trailing dims), or a named error.
    static func normRows(_ op: String, _ x: Tensor, _ ns: [Int], _ params: [(String, Tensor?)]) throws -> (Int, Int) {
        guard x.dtype == .f32 || x.dtype == .f64 else { throw TensorError("\(op): expected an f32 or f64 input, got \(x.dtype.rawValue)") }
        guard !ns.isEmpty, ns.count <= x.dim, Array(x.shape.suffix(ns.count)) == ns else {
            throw TensorError("\(op): normalized_shape \(shapeString(ns)) must match the trailing dims of the input, got input shape \(shapeString(x.shape))")
        }
        for (name, p) in params {
            if let p = p, p.shape != ns {
                throw TensorError("\(op): \(name) must have shape \(shapeString(ns)), got \(shapeString(p.shape))")
            }
        }
        let n = ns.reduce(1, *)
        return (n == 0 ? 0 : x.numel / n, n)
    }

    /// LayerNorm: (x - mean) / sqrt(var + eps) * weight + bias over the trailing dims.
    /// x: (..., *normalizedShape) -> same shape.
    public static func layerNorm(_ x: Tensor, normalizedShape ns: [Int], weight: Tensor?, bias: Tensor?, eps: Double = 1e-5) throws -> Tensor {
        try normalize("layer_norm", x, ns, weight, bias, eps, rms: false)
    }

    /// RMSNorm: x / sqrt(mean(x^2) + eps) * weight over the trailing dims.
    public static func rmsNorm(_ x: Tensor, normalizedShape ns: [Int], weight: Tensor?, eps: Double = 1e-6) throws -> Tensor {
        try normalize("rms_norm", x, ns, weight, nil, eps, rms: true)
    }

    static func normalize(_ op: String, _ x: Tensor, _ ns: [Int], _ w: Tensor?, _ b: Tensor?, _ eps: Double, rms: Bool) throws -> Tensor {
        let (rows, n) = try normRows(op, x, ns, [("weight", w), ("bias", b)])
        let xc = try x.contiguous()
        let wc = try w?.to(x.dtype).contiguous(), bc = try b?.to(x.dtype).contiguous()
        let stats = try Tensor(uninitialized: [rows, 2], dtype: .f64)   // (mean, 1/std) per row
        let inputs = [x] + (w.map { [$0] } ?? []) + (b.map { [$0] } ?? [])
        let xs = xc.alias()
        return try Autograd.op(op, inputs, forward: {
            let y = try Tensor(uninitialized: x.shape, dtype: x.dtype)
            if x.dtype == .f32 {
                try normForward(Float.self, xc, wc, bc, y, stats, rows, n, eps, rms)
            } else {
                try normForward(Double.self, xc, wc, bc, y, stats, rows, n, eps, rms)
            }
            return y
        }, backward: { g, _, node in
            let gc = try g.contiguous()
            let dx = try Tensor(uninitialized: x.shape, dtype: x.dtype)
            let dw = try wc.map { _ in try Tensor.zeros(ns, dtype: x.dtype) }
            let db = try bc.map { _ in try Tensor.zeros(ns, dtype: x.dtype) }
            if x.dtype == .f32 {
                try normBackward(Float.self, xs, wc, gc, stats, dx, dw, db, rows, n, rms)
            } else {
                try normBackward(Double.self, xs, wc, gc, stats, dx, dw, db, rows, n, rms)
            }
            var out: [Tensor?] = [dx]
            if w != nil { out.append(node.needs(1) ? dw : nil) }
            if b != nil { out.append(node.needs(out.count) ? db : nil) }
            return out
        }, saved: [xs])
    }

    static func normForward<T: FloatScalar>(_: T.Type, _ x: Tensor, _ w: Tensor?, _ b: Tensor?, _ y: Tensor,
                                            _ stats: Tensor, _ rows: Int, _ n: Int, _ eps: Double, _ rms: Bool) throws {
        let X = UnsafePointer(x.pointer(T.self)), Y = y.pointer(T.self), S = stats.pointer(Double.self)
        let W = w.map { UnsafePointer($0.pointer(T.self)) }, B = b.map { UnsafePointer($0.pointer(T.self)) }
        try Threads.parallelFor(rows, grain: max(1, 32768 / max(n, 1))) { lo, hi in
            for r in lo ..< hi {
                let xr = X + r * n, yr = Y + r * n
                var mean = 0.0
                if !rms {
                    for j in 0 ..< n { mean += Double(xr[j]) }
                    mean /= Double(n)
                }
                var ss = 0.0
                for j in 0 ..< n { let d = Double(xr[j]) - mean; ss += d * d }
                let rstd = 1 / (ss / Double(n) + eps).squareRoot()
                S[2 * r] = mean
                S[2 * r + 1] = rstd
                let m = T(mean), s = T(rstd)
                switch (W, B) {
                case let (w?, b?): for j in 0 ..< n { yr[j] = (xr[j] - m) * s * w[j] + b[j] }
                case let (w?, nil): for j in 0 ..< n { yr[j] = (xr[j] - m) * s * w[j] }
                case let (nil, b?): for j in 0 ..< n { yr[j] = (xr[j] - m) * s + b[j] }
                default: for j in 0 ..< n { yr[j] = (xr[j] - m) * s }
                }
            }
        }
    }

    /// dx = rstd (dxh - mean(dxh) - xh mean(dxh xh)) with dxh = g w (layer norm; rms drops the
    /// mean(dxh) term); dw = sum over rows of g xh; db = sum of g. Per-thread partial sums for
    /// dw and db are added at the end (fixed split, so results do not depend on timing).
    static func normBackward<T: FloatScalar>(_: T.Type, _ x: Tensor, _ w: Tensor?, _ g: Tensor, _ stats: Tensor,
                                             _ dx: Tensor, _ dw: Tensor?, _ db: Tensor?, _ rows: Int, _ n: Int, _ rms: Bool) throws {
        let X = UnsafePointer(x.pointer(T.self)), G = UnsafePointer(g.pointer(T.self)), S = UnsafePointer(stats.pointer(Double.self))
        let DX = dx.pointer(T.self)
        let W = w.map { UnsafePointer($0.pointer(T.self)) }
        let parts = max(1, min(Threads.count, rows / max(1, 32768 / max(n, 1))))
        let needParams = dw != nil || db != nil
        let partial = UnsafeMutablePointer<Double>.allocate(capacity: needParams ? parts * 2 * n : 1)
        defer { partial.deallocate() }
        if needParams { partial.initialize(repeating: 0, count: parts * 2 * n) }
        let scratch = UnsafeMutablePointer<Double>.allocate(capacity: parts * n)
        defer { scratch.deallocate() }
        try Threads.parallelFor(parts, grain: 1) { plo, phi in
            for p in plo ..< phi {
                let lo = rows * p / parts, hi = rows * (p + 1) / parts
                let pw = partial + p * 2 * n, pb = pw + n
                let dxh = scratch + p * n
                for r in lo ..< hi {
                    let xr = X + r * n, gr = G + r * n, dr = DX + r * n
                    let mean = S[2 * r], rstd = S[2 * r + 1]
                    var sumD = 0.0, sumDX = 0.0
                    for j in 0 ..< n {
                        let xh = (Double(xr[j]) - mean) * rstd
                        let gj = Double(gr[j])
                        let d = W.map { gj * Double($0[j]) } ?? gj
                        dxh[j] = d
                        sumD += d
                        sumDX += d * xh
                        if needParams { pw[j] += gj * xh; pb[j] += gj }
                    }
                    let mD = rms ? 0 : sumD / Double(n), mDX = sumDX / Double(n)
                    for j in 0 ..< n {
                        let xh = (Double(xr[j]) - mean) * rstd
                        dr[j] = T((dxh[j] - mD - xh * mDX) * rstd)
                    }
                }
            }
        }
        if let dw = dw {
            let o = dw.pointer(T.self)
            for j in 0 ..< n { var s = 0.0; for p in 0 ..< parts { s += partial[p * 2 * n + j] }; o[j] = T(s) }
        }
        if let db = db {
            let o = db.pointer(T.self)
            for j in 0 ..< n { var s = 0.0; for p in 0 ..< parts { s += partial[p * 2 * n + n + j] }; o[j] = T(s) }
        }
    }
}
