// Tensor+Norm: vector norms, lerp and multinomial sampling.
//
//     try x.norm(p: 2, dims: nil)               // over all elements (the Frobenius norm for 2)
//     try x.norm(p: .infinity, dims: [1])       // max |x| along dim 1
//     try Tensor.lerp(a, b, weight)              // a + w (b - a)
//     try probs.multinomial(3, replacement: false)  // (n,) or (B, n) -> (3,) or (B, 3), 0-based
//
// Complex inputs give real norms (of |x|).
extension Tensor {
    public func norm(p: Double, dims: [Int]?, keepdim: Bool = false) throws -> Tensor {
        if p == 2 && (dtype == .f32 || dtype == .f64) {
            // real 2-norm: squares need no abs; a whole contiguous tensor in one fused pass
            if dims == nil && !keepdim && isContiguous && !Autograd.isRecording(self) {
                let s = dtype == .f32 ? Kernels.sumOfSquares(UnsafePointer(pointer(Float.self)), numel)
                                      : Kernels.sumOfSquares(UnsafePointer(pointer(Double.self)), numel)
                return try Tensor.scalar(s.squareRoot(), dtype: dtype)
            }
            if Autograd.isRecording(self) { return try norm2Recorded(dims: dims, keepdim: keepdim) }
            return try unary(.square).reduce(.sum, dims: dims, keepdim: keepdim).unary(.sqrt)
        }
        if p.isFinite && p != 0 && p != 1 && p != 2 && Autograd.isRecording(self) && !dtype.isComplex {
            return try pnormRecorded(p, dims: dims, keepdim: keepdim)
        }
        if p == 0 && Autograd.isRecording(self) {
            // a count: in the graph with a zero gradient (torch), not cut out of it
            let shp = shape, dt = dtype
            return try Autograd.op("norm", [self], forward: { try norm(p: 0, dims: dims, keepdim: keepdim) }, backward: { _, _, _ in
                [try Tensor.zeros(shp, dtype: dt)]
            })
        }
        let a = try unary(.abs)
        let x = a.dtype.isFloatingPoint ? a : try a.to(.f32)
        switch p {
        case .infinity: return try x.reduce(.amax, dims: dims, keepdim: keepdim)
        case -.infinity: return try x.reduce(.amin, dims: dims, keepdim: keepdim)
        case 0: return try x.reduce(.count_nonzero, dims: dims, keepdim: keepdim).to(x.dtype)
        case 1: return try x.reduce(.sum, dims: dims, keepdim: keepdim)
        case 2: return try x.unary(.square).reduce(.sum, dims: dims, keepdim: keepdim).unary(.sqrt)
        default:
            let s = try Tensor.binary(.pow, x, x.scalarLike(p)).reduce(.sum, dims: dims, keepdim: keepdim)
            return try Tensor.binary(.pow, s, s.scalarLike(1 / p))
        }
    }

    /// The real 2-norm with its own backward, g x / |x|, which is 0 where the norm is 0 (torch's
    /// subgradient; sqrt's derivative there would make it 0 / 0 = NaN).
    func norm2Recorded(dims: [Int]?, keepdim: Bool) throws -> Tensor {
        let x = alias()
        return try Autograd.op("norm", [self], forward: { try norm(p: 2, dims: dims, keepdim: keepdim) }, backward: { g, n, _ in
            let (gk, nk) = try x.keptDims(g, n, dims: dims, keepdim: keepdim)
            return [try Tensor.binary(.mul, x, Tensor.zeroWhereZero(nk, Tensor.binary(.div, gk, nk)))]
        }, savesOutput: true, saved: [x])
    }

    /// Any other finite p with torch's backward, sgn(x) |x|^(p-1) g / |x|_p^(p-1): 0 where the
    /// norm is 0, and for p < 1 also 0 at zero elements (where |x|^(p-1) is infinite).
    func pnormRecorded(_ p: Double, dims: [Int]?, keepdim: Bool) throws -> Tensor {
        let x = alias()
        return try Autograd.op("norm", [self], forward: { try norm(p: p, dims: dims, keepdim: keepdim) }, backward: { g, n, _ in
            let (gk, nk) = try x.keptDims(g, n, dims: dims, keepdim: keepdim)
            let a = try x.unary(.abs)
            var shaped = try Tensor.binary(.mul, x.unary(.sign), Tensor.binary(.pow, a, a.scalarLike(p - 1)))
            if p < 1 { shaped = try Tensor.zeroWhereZero(x, shaped) }
            let scale = try Tensor.zeroWhereZero(nk, Tensor.binary(.div, gk, Tensor.binary(.pow, nk, nk.scalarLike(p - 1))))
            return [try Tensor.binary(.mul, shaped, scale)]
        }, savesOutput: true, saved: [x])
    }

    /// g and a reduction's result with the reduced dims put back as size 1 (keepdim's shape).
    func keptDims(_ g: Tensor, _ r: Tensor, dims: [Int]?, keepdim: Bool) throws -> (Tensor, Tensor) {
        if keepdim { return (g, r) }
        var gk = g, rk = r
        if let ds = dims {
            for d in ds.map({ $0 < 0 ? $0 + dim : $0 }).sorted() { gk = try gk.unsqueeze(d); rk = try rk.unsqueeze(d) }
        } else {
            gk = try gk.reshaped(shape.map { _ in 1 }); rk = try rk.reshaped(shape.map { _ in 1 })
        }
        return (gk, rk)
    }

    /// v with 0 wherever `at` is 0 (broadcast), whatever v holds there (inf or NaN included).
    static func zeroWhereZero(_ at: Tensor, _ v: Tensor) throws -> Tensor {
        try Tensor.where(compare(.eq, at, at.scalarLike(0)), v.scalarLike(0), v)
    }

    /// PyTorch's stable form: a + w (b - a) for |w| < 0.5, else b - (b - a)(1 - w), so both
    /// ends are exact (w = 1 gives b even next to a huge a, where a + (b - a) loses b).
    public static func lerp(_ a: Tensor, _ b: Tensor, _ w: Tensor) throws -> Tensor {
        let d = try binary(.sub, b, a)
        func low() throws -> Tensor { try binary(.add, a, binary(.mul, w, d)) }
        func high() throws -> Tensor { try binary(.sub, b, binary(.mul, d, binary(.sub, Tensor.scalar(1, dtype: w.dtype), w))) }
        if w.dim == 0, !w.requiresGrad, !w.dtype.isComplex {
            return try Swift.abs(w.item()) < 0.5 ? low() : high()   // one weight: one branch
        }
        let small = try compare(.lt, w.unary(.abs), Tensor.scalar(0.5, dtype: w.dtype.isComplex ? .f64 : w.dtype))
        return try Tensor.where(small, low(), high())
    }

    /// Draws `n` category indices per row from non-negative weights (normalized per row).
    public func multinomial(_ n: Int, replacement: Bool, generator g: Generator = .global) throws -> Tensor {
        guard dim == 1 || dim == 2 else { throw TensorError("multinomial: expected a 1-d or 2-d tensor of weights, got shape \(shapeString(shape))") }
        let w = try (dim == 1 ? unsqueeze(0) : self).to(.f64).contiguous()
        let rows = w.shape[0], k = w.shape[1]
        guard n >= 0, replacement || n <= k else {
            throw TensorError("multinomial: cannot draw \(n) samples without replacement from \(k) categories")
        }
        let wp = w.pointer(Double.self)
        let out = try Tensor(uninitialized: [rows, n], dtype: .i64)
        let op = out.pointer(Int64.self)
        var cur = [Double](repeating: 0, count: k)
        for r in 0 ..< rows {
            var total = 0.0
            for j in 0 ..< k {
                let v = wp[r * k + j]
                guard v >= 0, v.isFinite else { throw TensorError("multinomial: weights must be finite and >= 0, got \(v) in row \(r + 1)") }
                cur[j] = v
                total += v
            }
            guard total > 0 else { throw TensorError("multinomial: row \(r + 1) has all-zero weights") }
            for s in 0 ..< n {
                var u = g.uniform() * total
                var pick = k - 1
                for j in 0 ..< k where cur[j] > 0 {
                    if u < cur[j] { pick = j; break }
                    u -= cur[j]
                }
                while cur[pick] == 0 && pick > 0 { pick -= 1 }  // rounding at the top end
                op[r * n + s] = Int64(pick)
                if !replacement {
                    total -= cur[pick]
                    cur[pick] = 0
                    if total <= 0 && s + 1 < n {
                        throw TensorError("multinomial: row \(r + 1) has fewer than \(n) categories with nonzero weight")
                    }
                }
            }
        }
        return dim == 1 ? try out.reshaped([n]) : out
    }
}

extension Tensor {
    /// sqrt of a variance as std: its gradient g / (2 std) is 0 where std is 0 (torch), not
    /// the inf * 0 = NaN that sqrt's derivative would give for a constant slice.
    public func stdFromVariance() throws -> Tensor {
        guard Autograd.isRecording(self) else { return try unary(.sqrt) }
        return try Autograd.op("std", [self], forward: { try unary(.sqrt) }, backward: { g, y, _ in
            [try Tensor.zeroWhereZero(y, Tensor.binary(.div, g, Tensor.binary(.mul, y, y.scalarLike(2))))]
        }, savesOutput: true)
    }
}
