// Tensor+Gather: index-driven reads and writes along a dim (0-based indices in Swift).
//
//     x: (3, 4), idx: i64 (3, 2)
//     try x.gather(1, idx)                 // out[i][j] = x[i][idx[i][j]]              (3, 2)
//     try x.scatter(1, idx, src)           // copy with out[i][idx[i][j]] = src[i][j]
//     try x.scatterAdd(1, idx, src)        // ... += src[i][j] (duplicates accumulate)
//     try Tensor.oneHot(labels, classes)   // labels: i64 (...) -> (..., classes) i64
//     try x.repeatInterleave(2, dim: 0)    // each slice of dim 0 twice in a row
//
// As in torch: idx has x's rank; idx.size(d) <= x.size(d) for d != dim (and <= src.size(d)).
extension Tensor {
    /// Checks the index tensor for gather/scatter and returns it dense.
    func checkIndex(_ d: Int, _ idx: Tensor, _ op: String, src: Tensor? = nil) throws -> Tensor {
        guard idx.dtype == .i64 else { throw TensorError("\(op): index must be i64, got \(idx.dtype.rawValue)") }
        guard idx.dim == dim else {
            throw TensorError("\(op): index has \(idx.dim) dims but the tensor has \(dim) (shapes \(shapeString(idx.shape)) and \(shapeString(shape)))")
        }
        for k in 0 ..< dim where k != d && idx.shape[k] > shape[k] {
            throw TensorError("\(op): index shape \(shapeString(idx.shape)) is larger than the tensor's \(shapeString(shape)) in dim \(k + 1)")
        }
        if let s = src {
            guard s.dim == idx.dim else {
                throw TensorError("\(op): src has \(s.dim) dims but index has \(idx.dim) (shapes \(shapeString(s.shape)) and \(shapeString(idx.shape)); they must match, or src be a number)")
            }
            for k in 0 ..< dim where idx.shape[k] > (k < s.dim ? s.shape[k] : 0) {
                throw TensorError("\(op): index shape \(shapeString(idx.shape)) is larger than src's \(shapeString(s.shape)) in dim \(k + 1)")
            }
        }
        return try idx.contiguous()
    }

    /// Visits every position of `shape` in row-major order with its coordinates.
    static func forEachIndex(_ shape: [Int], _ body: (UnsafeMutablePointer<Int>, Int) throws -> Void) rethrows {
        let n = shape.reduce(1, *)
        if n == 0 { return }
        let c = UnsafeMutablePointer<Int>.allocate(capacity: max(shape.count, 1))
        defer { c.deallocate() }
        c.initialize(repeating: 0, count: max(shape.count, 1))
        for flat in 0 ..< n {
            try body(c, flat)
            var k = shape.count - 1
            while k >= 0 {
                c[k] += 1
                if c[k] < shape[k] { break }
                c[k] = 0
                k -= 1
            }
        }
    }

    func offset(of c: UnsafeMutablePointer<Int>, replacing d: Int, with v: Int) -> Int {
        var o = offset
        for k in 0 ..< dim { o += (k == d ? v : c[k]) * strides[k] }
        return o
    }

    public func gather(_ d: Int, _ index: Tensor) throws -> Tensor {
        if dim == 0 {  // as torch: one element along dim 0, read at a 0-d or 1-d index
            try checkScalarDim(d, "gather")
            guard index.dim <= 1 else {
                throw TensorError("gather: index has \(index.dim) dims but the tensor is 0-d (expected a 0-d or 1-d index)")
            }
            return try reshaped([1]).gather(0, index.reshaped([index.numel])).reshaped(index.shape)
        }
        if Autograd.isRecording(self) {
            let shp = shape, idx = index.alias()
            return try Autograd.op("gather", [self], forward: { try gather(d, index) }, backward: { g, _, _ in
                [try Tensor.zeros(shp, dtype: g.dtype).scatter(d, idx, g, add: true)]
            }, saved: [idx])
        }
        let dn = try normDim(d, "gather")
        let idx = try checkIndex(dn, index, "gather")
        let out = try Tensor(uninitialized: idx.shape, dtype: dtype)
        let ip = idx.pointer(Int64.self), isz = dtype.itemSize
        try Tensor.forEachIndex(idx.shape) { c, flat in
            let i = Int(ip[flat])
            guard i >= 0 && i < shape[dn] else {
                throw TensorError("gather: index \(i &+ 1) out of range for dim \(dn + 1) of size \(shape[dn])")
            }
            (out.rawPointer + flat * isz).copyMemory(from: storage.bytes + self.offset(of: c, replacing: dn, with: i) * isz, byteCount: isz)
        }
        return out
    }

    /// A copy of self with src's values written at the indexed places (add: accumulate).
    public func scatter(_ d: Int, _ index: Tensor, _ src: Tensor, add: Bool = false) throws -> Tensor {
        if dim == 0 {  // as torch: one element along dim 0, written at a 0-d or 1-d index
            let op = add ? "scatter_add" : "scatter"
            try checkScalarDim(d, op)
            guard index.dim <= 1, src.dim <= 1 else {
                throw TensorError("\(op): index and src have \(index.dim) and \(src.dim) dims but the tensor is 0-d (expected 0 or 1 each)")
            }
            let s = src.dim == 0 ? src : try src.reshaped([src.numel])
            return try reshaped([1]).scatter(0, index.reshaped([index.numel]), s, add: add).reshaped([])
        }
        if Autograd.isRecording(self, src) {
            // out = self with src written (or added) at index: d self = g (zeroed where written),
            // d src = g gathered at index
            let idx = index.alias(), srcShape = src.shape
            return try Autograd.op(add ? "scatter_add" : "scatter", [self, src], forward: { try scatter(d, index, src, add: add) }, backward: { g, _, n in
                var gs: Tensor? = nil
                if n.needs(1) { gs = try g.gather(d, idx).spread(over: srcShape) }
                let gx = add || !n.needs(0) ? g : try g.scatter(d, idx, g.scalarLike(0))
                return [n.needs(0) ? gx : nil, gs]
            }, saved: [idx])
        }
        let op = add ? "scatter_add" : "scatter"
        let dn = try normDim(d, op)
        let s = try src.to(dtype)
        let idx = try checkIndex(dn, index, op, src: src.dim == 0 ? nil : s)
        let out = try clone()
        let ip = idx.pointer(Int64.self), isz = dtype.itemSize
        let scalar = s.dim == 0
        try Tensor.forEachIndex(idx.shape) { c, flat in
            let i = Int(ip[flat])
            guard i >= 0 && i < shape[dn] else {
                throw TensorError("\(op): index \(i &+ 1) out of range for dim \(dn + 1) of size \(shape[dn])")
            }
            let dst = out.storage.bytes + out.offset(of: c, replacing: dn, with: i) * isz
            var so = s.offset
            if !scalar { for k in 0 ..< s.dim { so += c[k] * s.strides[k] } }
            let sp = s.storage.bytes + so * isz
            if !add { dst.copyMemory(from: sp, byteCount: isz); return }
            switch dtype {
            case .f32: dst.assumingMemoryBound(to: Float.self).pointee += sp.assumingMemoryBound(to: Float.self).pointee
            case .f64: dst.assumingMemoryBound(to: Double.self).pointee += sp.assumingMemoryBound(to: Double.self).pointee
            case .i64: dst.assumingMemoryBound(to: Int64.self).pointee &+= sp.assumingMemoryBound(to: Int64.self).pointee
            case .c64: dst.assumingMemoryBound(to: C64.self).pointee += sp.assumingMemoryBound(to: C64.self).pointee
            case .c128: dst.assumingMemoryBound(to: C128.self).pointee += sp.assumingMemoryBound(to: C128.self).pointee
            case .bool: dst.assumingMemoryBound(to: Bool.self).pointee = dst.assumingMemoryBound(to: Bool.self).pointee || sp.assumingMemoryBound(to: Bool.self).pointee
            }
        }
        return out
    }

    /// labels: i64 (...) with values in 0..<classes -> (..., classes) i64 of 0/1.
    public static func oneHot(_ labels: Tensor, classes: Int) throws -> Tensor {
        guard labels.dtype == .i64 else { throw TensorError("one_hot: labels must be i64, got \(labels.dtype.rawValue)") }
        let l = try labels.contiguous()
        let lp = l.pointer(Int64.self)
        var k = classes
        if k < 0 { k = l.numel == 0 ? 0 : Int((0 ..< l.numel).map { lp[$0] }.max()!) + 1 }
        let out = try zeros(labels.shape + [k], dtype: .i64)
        let op = out.pointer(Int64.self)
        for i in 0 ..< l.numel {
            let c = Int(lp[i])
            guard c >= 0 && c < k else { throw TensorError("one_hot: class \(c &+ 1) out of range for \(k) classes") }
            op[i * k + c] = 1
        }
        return out
    }

    /// Each slice along dim repeated `repeats` times in place (torch.repeat_interleave);
    /// with dim nil the tensor is flattened first.
    public func repeatInterleave(_ repeats: Int, dim d: Int?) throws -> Tensor {
        guard repeats >= 0 else { throw TensorError("repeat_interleave: repeats must be >= 0, got \(repeats)") }
        let x = d == nil ? try reshaped([-1]) : self
        let dn = try x.normDim(d ?? 0, "repeat_interleave")
        var sh = x.shape
        sh.insert(repeats, at: dn + 1)
        _ = try Tensor.checkedCount(sh, op: "repeat_interleave")
        let expanded = try x.unsqueeze(dn + 1).expand(sh)
        var outShape = x.shape
        outShape[dn] *= repeats
        return try expanded.contiguous(force: true).reshaped(outShape)
    }

    /// Repeats per slice given as a list (one count per slice of dim).
    public func repeatInterleave(_ repeats: [Int], dim d: Int?) throws -> Tensor {
        let x = d == nil ? try reshaped([-1]) : self
        let dn = try x.normDim(d ?? 0, "repeat_interleave")
        guard repeats.count == x.shape[dn] else {
            throw TensorError("repeat_interleave: \(repeats.count) repeat counts for dim \(dn + 1) of size \(x.shape[dn])")
        }
        if let bad = repeats.first(where: { $0 < 0 }) { throw TensorError("repeat_interleave: repeats must be >= 0, got \(bad)") }
        var pieces: [Tensor] = []
        for (i, r) in repeats.enumerated() where r > 0 {
            pieces.append(try x.narrow(dn, i, 1).repeatInterleave(r, dim: dn))
        }
        if pieces.isEmpty { var s = x.shape; s[dn] = 0; return try Tensor.zeros(s, dtype: dtype) }
        return try Tensor.cat(pieces, dim: dn)
    }
}
