// Tensor+Select: selecting by a bool mask or by an index tensor.
//
//     x: (3, 4), m: bool (3, 4) (or broadcastable to it)
//     try x.maskedSelect(m)        // (k,) copy of the elements where m is true, row-major
//     try x.indexSelect(0, idx)    // idx: i64 (k,) of 0-based rows -> (k, 4)
//     try x.indexWithTensor(m)     // bool -> maskedSelect, i64 -> indexSelect on dim 0
//     try x.indexPut(m, v)         // x[m] = v (v broadcast to the selected count, or a scalar)
extension Tensor {
    /// 0-based offsets (into x's element order, row-major) where the mask is true.
    func maskPositions(_ mask: Tensor, op: String) throws -> [Int] {
        guard mask.dtype == .bool else {
            throw TensorError("\(op): mask must be a bool tensor, got \(mask.dtype.rawValue)")
        }
        let m = try mask.expand(shape).contiguous()
        let p = m.pointer(Bool.self)
        var out: [Int] = []
        for i in 0 ..< m.numel where p[i] { out.append(i) }
        return out
    }

    /// The 0-based coordinates of the nonzero (true) elements in row-major order: one (n) i64
    /// tensor per dim.
    public func nonzeroCoordinates() throws -> [Tensor] {
        let mask = dtype == .bool ? self : try to(.bool)
        let flat = try Tensor.arange(0, Double(numel), 1, dtype: .i64).reshaped(shape).maskedSelect(mask)
        var coords: [Tensor] = []
        var step = 1
        for d in (0 ..< dim).reversed() {
            let q = try Tensor.binary(.floordiv, flat, Tensor.scalar(Double(step), dtype: .i64))
            coords.insert(try Tensor.binary(.rem, q, Tensor.scalar(Double(Swift.max(shape[d], 1)), dtype: .i64)), at: 0)
            step *= shape[d]
        }
        return coords
    }

    public func maskedSelect(_ mask: Tensor) throws -> Tensor {
        if Autograd.isRecording(self) {
            let shp = shape, m = mask.alias()
            return try Autograd.op("masked_select", [self], forward: { try maskedSelect(mask) }, backward: { g, _, _ in
                let z = try Tensor.zeros(shp, dtype: g.dtype)
                try z.indexPut(m.expand(shp), g)
                return [z]
            }, saved: [m])
        }
        let pos = try maskPositions(mask, op: "masked_select")
        let flat = try contiguous().reshaped([-1])
        let out = try Tensor(uninitialized: [pos.count], dtype: dtype)
        let isz = dtype.itemSize
        for (j, i) in pos.enumerated() {
            (out.rawPointer + j * isz).copyMemory(from: flat.rawPointer + i * isz, byteCount: isz)
        }
        return out
    }

    /// idx: i64 tensor of 0-based indices (any shape); result shape = x.shape with dim d
    /// replaced by idx's shape.
    public func indexSelect(_ d: Int, _ idx: Tensor) throws -> Tensor {
        if dim == 0 {  // as torch: one element along dim 0, so the index holds one entry
            try checkScalarDim(d, "index_select")
            guard idx.numel == 1 else {
                throw TensorError("index_select: an index into a 0-d tensor must have 1 element, got \(idx.numel)")
            }
            return try reshaped([1]).indexSelect(0, idx.reshaped([1])).reshaped([])
        }
        if Autograd.isRecording(self) {
            let shp = shape, dn = try normDim(d, "index_select"), ids = idx.alias()
            return try Autograd.op("index_select", [self], forward: { try indexSelect(d, idx) }, backward: { g, _, _ in
                [try Tensor.indexAdd(shp, dim: dn, ids, g)]
            }, saved: [ids])
        }
        let d = try normDim(d, "index_select")
        guard idx.dtype == .i64 else {
            throw TensorError("index_select: indices must be i64, got \(idx.dtype.rawValue)")
        }
        let ids = try idx.contiguous()
        let ip = ids.pointer(Int64.self)
        let size = shape[d]
        for k in 0 ..< ids.numel where ip[k] < 0 || Int(ip[k]) >= size {
            throw TensorError("index_select: index \(ip[k] &+ 1) out of range for dim \(d + 1) of size \(size)")
        }
        var outShape = shape
        outShape.replaceSubrange(d ... d, with: idx.shape)
        let out = try Tensor(uninitialized: outShape, dtype: dtype)
        // dense source: (outer, size, inner) -> (outer, n, inner), one block copy per index
        let src = try contiguous()
        let outer = shape[..<d].reduce(1, *), inner = shape[(d + 1)...].reduce(1, *)
        let n = ids.numel, isz = dtype.itemSize, run = inner * isz
        let sp = src.rawPointer, op = out.rawPointer
        for o in 0 ..< outer {
            for k in 0 ..< n {
                (op + (o * n + k) * run).copyMemory(from: sp + (o * size + Int(ip[k])) * run, byteCount: run)
            }
        }
        return out
    }

    public func indexWithTensor(_ idx: Tensor) throws -> Tensor {
        if idx.dtype == .i64 && dim == 0 { throw TensorError("index: a 0-d tensor has no dim to index with an i64 tensor") }
        switch idx.dtype {
        case .bool: return try maskedSelect(idx)
        case .i64: return try indexSelect(0, Tensor.binary(.sub, idx, Tensor.scalar(1, dtype: .i64)))
        default: throw TensorError("index: a tensor index must be bool (mask) or i64 (1-based indices), got \(idx.dtype.rawValue)")
        }
    }

    /// x[idx] = v: bool mask, or i64 1-based indices along dim 0.
    public func indexPut(_ idx: Tensor, _ v: Tensor) throws {
        try checkNoInternalOverlap("index assignment")
        if idx.dtype == .i64 {
            guard dim > 0 else { throw TensorError("index: a 0-d tensor has no dim to index with an i64 tensor") }
            let ids = try idx.contiguous()
            let ip = ids.pointer(Int64.self)
            let vv = v.numel == 1 ? v : try v.reshaped([ids.numel] + Array(shape.dropFirst()))
            for k in 0 ..< ids.numel {
                let i = Int(ip[k])
                guard i >= 1 && i <= (shape.first ?? 0) else {
                    throw TensorError("index: index \(i) out of range for dim 1 of size \(shape.first ?? 0)")
                }
                try select(0, i - 1).copy_(from: v.numel == 1 ? v.reshaped([]) : vv.select(0, k))
            }
            return
        }
        let pos = try maskPositions(idx, op: "index_put")
        let src = try v.to(dtype).contiguous()
        guard src.numel == 1 || src.numel == pos.count else {
            throw TensorError("index_put: \(src.numel) values for \(pos.count) selected elements")
        }
        // write through this view: walk its elements in row-major order
        let isz = dtype.itemSize
        var offsets: [Int] = []
        offsets.reserveCapacity(numel)
        StridedLoop.rows(shape, [strides], [offset]) { off, n, inner in
            for j in 0 ..< n { offsets.append(off[0] + j * inner[0]) }
        }
        for (j, i) in pos.enumerated() {
            (storage.bytes + offsets[i] * isz).copyMemory(from: src.rawPointer + (src.numel == 1 ? 0 : j) * isz, byteCount: isz)
        }
    }
}

// MARK: - derivative

extension Tensor {
    /// zeros(shape) with the slices of g (dim d replaced by idx's dims) added at idx along d:
    /// the gradient of index_select (torch's index_add into zeros).
    static func indexAdd(_ shape: [Int], dim d: Int, _ idx: Tensor, _ g: Tensor) throws -> Tensor {
        let flatIdx = try idx.reshaped([-1])
        let k = flatIdx.numel
        let g2 = try g.reshaped(Array(shape[..<d]) + [k] + Array(shape[(d + 1)...]))
        var ishape = [Int](repeating: 1, count: shape.count)
        ishape[d] = k
        let index = try flatIdx.reshaped(ishape).expand(g2.shape).contiguous()
        return try Tensor.zeros(shape, dtype: g.dtype).scatter(d, index, g2, add: true)
    }
}
