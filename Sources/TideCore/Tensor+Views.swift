// Tensor+Views: new shapes over the same storage (no copy) where the layout allows.
//
//     x: (2, 3, 4)
//     try x.reshaped([6, 4])        // (6, 4) view (copies only when the strides cannot express it)
//     try x.transposed(0, 2)        // (4, 3, 2) view
//     try x.permuted([2, 0, 1])     // (4, 2, 3) view
//     try x.narrow(1, 1, 2)         // (2, 2, 4): elements 1..<3 of dim 1
//     try x.select(0, 1)            // (3, 4): index 1 of dim 0, dim removed
//     try x.unsqueeze(0)            // (1, 2, 3, 4)
//     try x.expand([5, 2, 3, 4])    // stride-0 broadcast view
//
// All dims here are 0-based; negative dims count from the end.
extension Tensor {
    func view(shape: [Int], strides: [Int], offset: Int) -> Tensor {
        Tensor(storage: storage, dtype: dtype, shape: shape, strides: strides, offset: offset)
    }

    /// Resolves one -1 in a requested shape, checking the element count.
    public func inferShape(_ req: [Int], op: String) throws -> [Int] {
        var shape = req
        let minus = req.indices.filter { req[$0] == -1 }
        guard minus.count <= 1 else { throw TensorError("\(op): only one dim can be -1, got \(req)") }
        for d in req where d < -1 { throw TensorError("\(op): invalid size \(d) in \(req)") }
        let known = try Tensor.checkedCount(req.filter { $0 != -1 }, op: op)
        if let m = minus.first {
            guard known != 0, numel % known == 0 else {
                throw TensorError("\(op): cannot reshape \(shapeString(self.shape)) (\(numel) elements) into \(req)")
            }
            shape[m] = numel / known
        }
        guard shape.reduce(1, *) == numel else {
            throw TensorError("\(op): cannot reshape \(shapeString(self.shape)) (\(numel) elements) into \(shapeString(shape)) (\(shape.reduce(1, *)) elements)")
        }
        return shape
    }

    /// Strides for viewing this tensor as `newShape` without a copy, if possible
    /// (the algorithm of torch's computeStride: split/merge runs of contiguous dims).
    func viewStrides(_ newShape: [Int]) -> [Int]? {
        if numel == 0 || dim == 0 { return Tensor.contiguousStrides(newShape) }   // (0-d: one element)
        var out = [Int](repeating: 0, count: newShape.count)
        var viewD = newShape.count - 1
        var chunkBase = strides.last ?? 1
        var tensorNumel = 1, viewNumel = 1
        var td = shape.count - 1
        while td >= 0 {
            tensorNumel *= shape[td]
            if td == 0 || (shape[td - 1] != 1 && strides[td - 1] != tensorNumel * chunkBase) {
                while viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] == 1) {
                    out[viewD] = viewNumel * chunkBase
                    viewNumel *= newShape[viewD]
                    viewD -= 1
                }
                if viewNumel != tensorNumel { return nil }
                if td > 0 {
                    chunkBase = strides[td - 1]
                    tensorNumel = 1
                    viewNumel = 1
                }
            }
            td -= 1
        }
        if viewD != -1 { return nil }
        return out
    }

    /// x: any shape -> `shape` (one -1 allowed); a view when possible, else a copy.
    public func reshaped(_ req: [Int]) throws -> Tensor {
        if Autograd.isRecording(self) { return try viewRecorded("reshape", { try reshaped(req) }) { g, shp in try g.reshaped(shp) } }
        let s = try inferShape(req, op: "reshape")
        if isContiguous { return view(shape: s, strides: Tensor.contiguousStrides(s), offset: offset) }
        if let st = viewStrides(s) { return view(shape: s, strides: st, offset: offset) }
        let c = try contiguous(force: true)
        return c.view(shape: s, strides: Tensor.contiguousStrides(s), offset: c.offset)
    }

    /// Like reshaped, but throws instead of copying (torch's view).
    public func viewAs(_ req: [Int]) throws -> Tensor {
        if Autograd.isRecording(self) { return try viewRecorded("view", { try viewAs(req) }) { g, shp in try g.reshaped(shp) } }
        let s = try inferShape(req, op: "view")
        guard let st = viewStrides(s) else {
            throw TensorError("view: shape \(shapeString(s)) is not compatible with the strides of \(shapeString(shape)); use reshape (which copies) instead")
        }
        return view(shape: s, strides: st, offset: offset)
    }

    public func transposed(_ a: Int, _ b: Int) throws -> Tensor {
        if Autograd.isRecording(self) { return try viewRecorded("transpose", { try transposed(a, b) }) { g, _ in try g.transposed(a, b) } }
        if dim == 0 { try checkScalarDim(a, "transpose"); try checkScalarDim(b, "transpose"); return self }
        let a = try normDim(a, "transpose"), b = try normDim(b, "transpose")
        var sh = shape, st = strides
        sh.swapAt(a, b)
        st.swapAt(a, b)
        return view(shape: sh, strides: st, offset: offset)
    }

    public func permuted(_ order: [Int]) throws -> Tensor {
        if Autograd.isRecording(self) { return try viewRecorded("permute", { try permuted(order) }) { g, shp in try g.permuted(Tensor.inversePermutation(order.map { $0 < 0 ? $0 + shp.count : $0 })) } }
        guard order.count == dim else {
            throw TensorError("permute: expected \(dim) dims, got \(order.count)")
        }
        let o = try order.map { try normDim($0, "permute") }
        guard Set(o).count == dim else { throw TensorError("permute: dims \(o.map { $0 + 1 }) repeat a dim") }
        return view(shape: o.map { shape[$0] }, strides: o.map { strides[$0] }, offset: offset)
    }

    /// Elements start..<start+length of dim d; a negative start counts from the end (as torch).
    public func narrow(_ d: Int, _ start: Int, _ length: Int) throws -> Tensor {
        if Autograd.isRecording(self) { return try viewRecorded("narrow", { try narrow(d, start, length) }) { g, shp in try Tensor.scatterGrad(g, shp) { try $0.narrow(d, start, length) } } }
        let d = try normDim(d, "narrow")
        let size = shape[d], s = start < 0 ? start + size : start
        guard s >= 0 && s <= size else {
            throw TensorError("narrow: start \(start) out of range for dim \(d + 1) of size \(size) (0-based)")
        }
        guard length >= 0 else { throw TensorError("narrow: expected a length >= 0, got \(length)") }
        guard length <= size - s else {
            throw TensorError("narrow: \(length) elements from element \(s + 1) go past the end of dim \(d + 1) of size \(size)")
        }
        var sh = shape
        sh[d] = length
        return view(shape: sh, strides: strides, offset: offset + s * strides[d])
    }

    /// Index i of dim d; the dim is removed.
    public func select(_ d: Int, _ i: Int) throws -> Tensor {
        if Autograd.isRecording(self) { return try viewRecorded("select", { try select(d, i) }) { g, shp in try Tensor.scatterGrad(g, shp) { try $0.select(d, i) } } }
        let d = try normDim(d, "select")
        let i = i < 0 ? i + shape[d] : i
        guard i >= 0 && i < shape[d] else {
            throw TensorError("select: index \(i + 1) out of range for dim \(d + 1) of size \(shape[d])")
        }
        var sh = shape, st = strides
        sh.remove(at: d)
        st.remove(at: d)
        return view(shape: sh, strides: st, offset: offset + i * strides[d])
    }

    public func unsqueeze(_ d: Int) throws -> Tensor {
        if Autograd.isRecording(self) { return try viewRecorded("unsqueeze", { try unsqueeze(d) }) { g, shp in try g.reshaped(shp) } }
        let n = dim + 1
        let r = d < 0 ? d + n : d
        guard r >= 0 && r < n else { throw TensorError("unsqueeze: dim \(d) out of range for a \(dim)-d tensor") }
        var sh = shape, st = strides
        sh.insert(1, at: r)
        st.insert(r < dim ? strides[r] * shape[r] : 1, at: r)
        return view(shape: sh, strides: st, offset: offset)
    }

    /// Removes dim d if it has size 1, or every size-1 dim when d is nil.
    public func squeeze(_ d: Int? = nil) throws -> Tensor {
        if Autograd.isRecording(self) { return try viewRecorded("squeeze", { try squeeze(d) }) { g, shp in try g.reshaped(shp) } }
        if let d = d {
            if dim == 0 { try checkScalarDim(d, "squeeze"); return self }
            let r = try normDim(d, "squeeze")
            if shape[r] != 1 { return self }
            var sh = shape, st = strides
            sh.remove(at: r)
            st.remove(at: r)
            return view(shape: sh, strides: st, offset: offset)
        }
        let keep = shape.indices.filter { shape[$0] != 1 }
        return view(shape: keep.map { shape[$0] }, strides: keep.map { strides[$0] }, offset: offset)
    }

    /// A broadcast view with stride 0 on stretched dims; -1 keeps a size.
    public func expand(_ req: [Int]) throws -> Tensor {
        if Autograd.isRecording(self) { return try viewRecorded("expand", { try expand(req) }) { g, shp in try g.sumTo(shp) } }
        guard req.count >= dim else {
            throw TensorError("expand: target \(req) has fewer dims than \(shapeString(shape))")
        }
        let lead = req.count - dim
        var target = req
        for i in 0 ..< dim where req[lead + i] == -1 { target[lead + i] = shape[i] }
        // -1 keeps an existing dim; new leading dims need a size (torch), and the result must
        // have a countable number of elements
        guard target.allSatisfy({ $0 >= 0 }) else {
            throw TensorError("expand: sizes must be >= 0 (-1 only for an existing dim), got \(req) for shape \(shapeString(shape))")
        }
        _ = try Tensor.checkedCount(target, op: "expand")
        let st = try broadcastStrides(to: target, op: "expand")
        return view(shape: target, strides: st, offset: offset)
    }

    /// Merges dims start...end into one.
    public func flatten(_ start: Int = 0, _ end: Int = -1) throws -> Tensor {
        if dim == 0 { try checkScalarDim(start, "flatten"); try checkScalarDim(end, "flatten"); return try reshaped([1]) }
        let s = try normDim(start, "flatten"), e = try normDim(end, "flatten")
        guard s <= e else { throw TensorError("flatten: start dim \(start + 1) is after end dim \(end + 1)") }
        let merged = shape[s ... e].reduce(1, *)
        return try reshaped(Array(shape[..<s]) + [merged] + Array(shape[(e + 1)...]))
    }

    /// 2-d transpose (torch's t()): x: (n, m) -> (m, n); 0-d and 1-d come back unchanged.
    public func t() throws -> Tensor {
        guard dim <= 2 else { throw TensorError("t: expected a tensor with at most 2 dims, got \(dim) (shape \(shapeString(shape)))") }
        return dim < 2 ? self : try transposed(0, 1)
    }
}

// MARK: - derivative

extension Tensor {
    /// A recorded view: its gradient maps back through `back`; in-place writes into it are
    /// refused while its base needs gradients.
    func viewRecorded(_ name: String, _ make: () throws -> Tensor, _ back: @escaping (Tensor, [Int]) throws -> Tensor) throws -> Tensor {
        let shp = shape
        let out = try Autograd.op(name, [self], forward: make, backward: { g, _, _ in [try back(g, shp)] })
        if out !== self { out.viewBase = viewBase ?? self }
        return out
    }

    /// The gradient of a sub-view: zeros of this shape with g written into region(zeros).
    static func scatterGrad(_ g: Tensor, _ shape: [Int], _ region: (Tensor) throws -> Tensor) throws -> Tensor {
        let z = try Tensor.zeros(shape, dtype: g.dtype)
        try region(z).copy_(from: g)
        return z
    }

    static func inversePermutation(_ p: [Int]) -> [Int] {
        var inv = [Int](repeating: 0, count: p.count)
        for (i, v) in p.enumerated() { inv[v] = i }
        return inv
    }

    /// The diagonal of dims d1 and d2 (0-based; offset > 0 above the main one) as the last dim:
    /// a view, so writes reach self, as in torch.
    ///     x (..., n, ..., m, ...) -> (..., ..., k), k = the diagonal's length
    public func diagonal(offset: Int = 0, _ d1: Int = 0, _ d2: Int = 1) throws -> Tensor {
        if Autograd.isRecording(self) {
            return try viewRecorded("diagonal", { try diagonal(offset: offset, d1, d2) }) { g, shp in
                try Tensor.scatterGrad(g, shp) { try $0.diagonal(offset: offset, d1, d2) }
            }
        }
        guard dim >= 2 else { throw TensorError("diagonal: expected at least 2 dims, got \(dim)") }
        let a = try normDim(d1, "diagonal"), b = try normDim(d2, "diagonal")
        guard a != b else { throw TensorError("diagonal: dim1 and dim2 must differ, got dim \(a + 1) twice") }
        let n = shape[a], m = shape[b]
        let len = offset >= 0 ? Swift.max(0, Swift.min(n, m - offset)) : Swift.max(0, Swift.min(n + offset, m))
        let start = len == 0 ? 0 : (offset >= 0 ? offset * strides[b] : -offset * strides[a])
        var sh: [Int] = [], st: [Int] = []
        for k in 0 ..< dim where k != a && k != b { sh.append(shape[k]); st.append(strides[k]) }
        sh.append(len); st.append(strides[a] + strides[b])
        return view(shape: sh, strides: st, offset: self.offset + start)
    }

    /// Every `step`-th element of dim d from `start`, `count` of them (a view; step >= 1).
    public func sliced(_ d: Int, start: Int, count: Int, step: Int) throws -> Tensor {
        let d = try normDim(d, "slice")
        let (reach, over) = (count - 1).multipliedReportingOverflow(by: step)
        guard step >= 1, start >= 0, count >= 0, count == 0 || (!over && start < shape[d] && reach < shape[d] - start) else {
            throw TensorError("slice: \(count) elements from \(start + 1) by \(step) out of bounds for dim \(d + 1) of size \(shape[d])")
        }
        if Autograd.isRecording(self) {
            return try viewRecorded("slice", { try sliced(d, start: start, count: count, step: step) }) { g, shp in
                try Tensor.scatterGrad(g, shp) { try $0.sliced(d, start: start, count: count, step: step) }
            }
        }
        var sh = shape, st = strides
        sh[d] = count
        if count > 1 { st[d] *= step }   // (one element: the step never applies, and may be huge)
        return view(shape: sh, strides: st, offset: offset + (count > 0 ? start * strides[d] : 0))
    }
}
