// Tensor+Strided: views with explicit geometry, PyTorch's unfold and as_strided.
//
//     x: (..., n, ...)
//     try x.unfold(d, size: k, step: s)           // (..., (n - k) / s + 1, ..., k): windows of
//                                                 // k along d, s apart, as a new last dim
//     try x.asStrided([2, 2], [1, 2], offset: 0)  // any shape/strides over x's storage
//
// Both are views: writes reach x, and an unfold with step < size has elements in several
// windows. unfold carries gradients (the windows' gradients add up); as_strided does not.
extension Tensor {
    public func unfold(_ d: Int, size k: Int, step s: Int) throws -> Tensor {
        let d = try dim == 0 ? 0 : normDim(d, "unfold")
        let n = dim == 0 ? 1 : shape[d]
        guard k >= 0, k <= n else { throw TensorError("unfold: size must be in 0...\(n) (the size of dim \(d + 1)), got \(k)") }
        guard s >= 1 else { throw TensorError("unfold: step must be >= 1, got \(s)") }
        if Autograd.isRecording(self) {
            let shp = shape
            return try viewRecorded("unfold", { try unfold(d, size: k, step: s) }) { g, _ in
                // window w covers d's elements w s ..< w s + k: add each one's gradient there
                let z = try Tensor.zeros(shp, dtype: g.dtype)
                if shp.isEmpty { return try g.reduce(.sum, dims: nil).to(g.dtype) }
                for w in 0 ..< g.shape[d] {
                    let part = try g.select(d, w).movedLastDim(to: d)
                    let slot = try z.narrow(d, w * s, k)
                    try slot.copy_(from: Tensor.binary(.add, slot, part))
                }
                return z
            }
        }
        var sh = shape, st = strides
        let windows = (n - k) / s + 1
        if dim == 0 { return view(shape: [k], strides: [0], offset: offset) }   // torch: (k,) for k <= 1
        sh[d] = windows
        if windows > 1 { st[d] = strides[d] * s }   // (one window: the step never applies, and may be huge)
        return view(shape: sh + [k], strides: st + [strides[d]], offset: offset)
    }

    /// The last dim moved to d (the inverse of unfold's layout for one window).
    func movedLastDim(to d: Int) throws -> Tensor {
        guard dim > 1 else { return self }
        var order = Array(0 ..< dim - 1)
        order.insert(dim - 1, at: d)
        return try permuted(order)
    }

    /// A view of this tensor's storage with the given shape, strides and element offset
    /// (offset nil: this tensor's own). Every element reached must lie inside the storage.
    public func asStrided(_ shp: [Int], _ st: [Int], offset off: Int? = nil) throws -> Tensor {
        guard !Autograd.isRecording(self) else {
            throw TensorError("as_strided: not differentiable; detach() the tensor or use unfold/expand/narrow views")
        }
        guard shp.count == st.count else {
            throw TensorError("as_strided: expected one stride per dim, got \(st.count) strides for \(shp.count) dims")
        }
        guard shp.allSatisfy({ $0 >= 0 }), st.allSatisfy({ $0 >= 0 }) else {
            throw TensorError("as_strided: sizes and strides must be >= 0, got size \(shp) and stride \(st)")
        }
        _ = try Tensor.checkedCount(shp, op: "as_strided")
        let o = off ?? offset
        let elements = storage.byteCount / dtype.itemSize
        var last = o
        if !shp.contains(0) {
            for (n, s) in zip(shp, st) {
                let (m, o1) = (n - 1).multipliedReportingOverflow(by: s)
                let (l, o2) = last.addingReportingOverflow(m)
                guard !o1, !o2 else { throw TensorError("as_strided: size \(shp) with stride \(st) overflows") }
                last = l
            }
        }
        guard o >= 0, shp.contains(0) || last < elements else {
            throw TensorError("as_strided: size \(shp), stride \(st) and offset \(o) reach element \(last &+ 1) of a storage of \(elements)")
        }
        return view(shape: shp, strides: st, offset: o)
    }
}
