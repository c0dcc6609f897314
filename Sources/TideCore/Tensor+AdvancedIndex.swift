// Tensor+AdvancedIndex: index tensors on several dims at once, PyTorch's x[:, idx] and
// x[i_idx, j_idx], for reading and writing.
//
//     x: (a, b, c), i: i64 (k,), j: i64 (k,), 0-based here (the Lua layer converts)
//     try x.advancedIndex(dims: [1], [i])          // (a, k, c): dim 1 replaced by i's shape
//     try x.advancedIndex(dims: [0, 1], [i, j])    // (k, c): x[i[n], j[n], :] for each n
//     try x.advancedIndex(dims: [0, 2], [i, j])    // (k, b): dims not side by side go first
//     try x.advancedIndexPut(dims: [1], [i], v)     // x[:, i] = v (v broadcast to (a, k, c))
//
// The index tensors broadcast together to a shape B. When the indexed dims are side by side,
// B takes their place in the result; otherwise B comes first, then the other dims in order
// (NumPy's and PyTorch's rule). Reads are built from reshape and index_select, so they carry
// gradients; writes go element by element through the strides, so they reach the storage of
// a view. With repeated indices the last write wins.
extension Tensor {
    /// The shape B of the index tensors broadcast together, and where B goes in the result
    /// (the first indexed dim, or 0 when the indexed dims are not side by side).
    func advancedLayout(_ dims: [Int], _ idx: [Tensor], op: String) throws -> (b: [Int], at: Int) {
        guard !dims.isEmpty, dims.count == idx.count else {
            throw TensorError("\(op): expected one index tensor per indexed dim, got \(idx.count) for \(dims.count) dims")
        }
        for (k, d) in dims.enumerated() {
            guard d >= 0, d < dim, k == 0 || d > dims[k - 1] else {
                throw TensorError("\(op): indexed dims must be increasing dims of a \(dim)-d tensor, got \(dims.map { $0 + 1 })")
            }
            guard idx[k].dtype == .i64 else { throw TensorError("\(op): index tensors must be i64, got \(idx[k].dtype.rawValue)") }
        }
        var b = idx[0].shape
        for t in idx.dropFirst() { b = try Tensor.broadcastShape(b, t.shape, op: op) }
        let together = dims.last! - dims[0] == dims.count - 1
        return (b, together ? dims[0] : 0)
    }

    /// x with dims `dims` indexed by the (0-based, in range) i64 tensors `idx`.
    public func advancedIndex(dims: [Int], _ idx: [Tensor]) throws -> Tensor {
        let (b, at) = try advancedLayout(dims, idx, op: "index")
        if dims.count == 1 { return try indexSelect(dims[0], idx[0]) }
        // the indexed dims side by side at `at`, merged into one dim of their product, and one
        // linear index into it: sum_k idx_k * (product of the later indexed sizes)
        let m = dims.count
        let rest = (0 ..< dim).filter { !dims.contains($0) }
        let w = dims.last! - dims[0] == m - 1 ? self : try permuted(dims + rest)
        let sizes = dims.map { shape[$0] }
        var lin = try idx[m - 1].expand(b)
        var mult = sizes[m - 1]
        for k in stride(from: m - 2, through: 0, by: -1) {
            lin = try Tensor.binary(.add, lin, Tensor.binary(.mul, idx[k].expand(b), Tensor.scalar(Double(mult), dtype: .i64)))
            mult *= sizes[k]
        }
        let merged = try w.reshaped(Array(w.shape[..<at]) + [mult] + Array(w.shape[(at + m)...]))
        return try merged.indexSelect(at, lin)
    }

    /// x[..., idx..., ...] = v, v broadcast to what advancedIndex would return.
    public func advancedIndexPut(dims: [Int], _ idx: [Tensor], _ v: Tensor) throws {
        try checkNoInternalOverlap("index assignment")
        let (b, at) = try advancedLayout(dims, idx, op: "index")
        let m = dims.count
        let rest = (0 ..< dim).filter { !dims.contains($0) }
        // the result's shape, then the value in (B, rest...) order to match the walk below
        let restShape = rest.map { shape[$0] }
        var resultShape = restShape
        resultShape.insert(contentsOf: b, at: at)
        let value = try v.dim > resultShape.count ? v.squeezedLeading(to: resultShape.count) : v
        guard (try? Tensor.broadcastShape(value.shape, resultShape, op: "index")) == resultShape else {
            throw TensorError("index: a value of shape \(shapeString(value.shape)) cannot be written to the indexed shape \(shapeString(resultShape))")
        }
        var vb = try value.to(dtype).expand(resultShape)
        if at > 0 {
            let nb = b.count, order = Array(at ..< at + nb) + Array(0 ..< at) + Array((at + nb) ..< resultShape.count)
            vb = try vb.permuted(order)
        }
        let src = try vb.contiguous()
        let ids = try idx.map { try $0.expand(b).contiguous() }
        for (k, t) in ids.enumerated() where t.numel > 0 {
            let lo = try t.reduce(.amin, dims: nil).int64Item(), hi = try t.reduce(.amax, dims: nil).int64Item()
            guard lo >= 0, hi < Int64(shape[dims[k]]) else {
                throw TensorError("index: index \((lo < 0 ? lo : hi) &+ 1) out of range for dim \(dims[k] + 1) of size \(shape[dims[k]])")
            }
        }
        // element offsets of one (rest...) slice, relative to its start
        var roff: [Int] = []
        roff.reserveCapacity(restShape.reduce(1, *))
        if rest.isEmpty { roff.append(0) } else {
            StridedLoop.rows(restShape, [rest.map { strides[$0] }], [0]) { off, n, inner in
                for j in 0 ..< n { roff.append(off[0] + j * inner[0]) }
            }
        }
        let nb = b.reduce(1, *), nr = roff.count, isz = dtype.itemSize
        let base = storage.bytes, sp = src.rawPointer
        // the index pointers and the indexed dims' strides, out of Swift arrays for the loop
        let ptrs = UnsafeMutablePointer<UnsafePointer<Int64>>.allocate(capacity: m)
        let adv = UnsafeMutablePointer<Int>.allocate(capacity: m)
        defer { ptrs.deallocate(); adv.deallocate() }
        for k in 0 ..< m { ptrs[k] = UnsafePointer(ids[k].pointer(Int64.self)); adv[k] = strides[dims[k]] }
        roff.withUnsafeBufferPointer { ro in
            for n in 0 ..< nb {
                var o = offset
                for k in 0 ..< m { o += Int(ptrs[k][n]) * adv[k] }
                for r in 0 ..< nr {
                    (base + (o + ro[r]) * isz).copyMemory(from: sp + (n * nr + r) * isz, byteCount: isz)
                }
            }
        }
    }

    /// Leading size-1 dims dropped until the rank is r (NumPy's rule for assigned values).
    public func squeezedLeading(to r: Int) throws -> Tensor {
        var v = self
        while v.dim > r && v.shape[0] == 1 { v = try v.squeeze(0) }
        return v
    }
}
