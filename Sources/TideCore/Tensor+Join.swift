// Tensor+Join: joining and splitting along a dim.
//
//     a: (2, 3), b: (4, 3)  ->  try Tensor.cat([a, b], dim: 0): (6, 3)
//     a, b: (2, 3)          ->  try Tensor.stack([a, b], dim: 0): (2, 2, 3)
//     x: (6, 3)             ->  try x.split(size: 4, dim: 0): [(4, 3), (2, 3)] views
extension Tensor {
    public static func cat(_ ts: [Tensor], dim d: Int) throws -> Tensor {
        guard let first = ts.first else { throw TensorError("cat: expected at least one tensor") }
        if Autograd.isRecording(ts) {
            let dn = try first.normDim(d, "cat")
            for (k, t) in ts.enumerated() where t.dim != first.dim {
                throw TensorError("cat: tensor \(k + 1) has \(t.dim) dims but tensor 1 has \(first.dim) (shapes \(shapeString(t.shape)) and \(shapeString(first.shape)))")
            }
            let sizes = ts.map { $0.shape[dn] }
            return try Autograd.op("cat", ts, forward: { try cat(ts, dim: d) }, backward: { g, _, n in
                var at = 0
                return try sizes.enumerated().map { i, s in
                    defer { at += s }
                    return n.needs(i) ? try g.narrow(dn, at, s) : nil
                }
            })
        }
        let dn = try first.normDim(d, "cat")
        var rt = first.dtype
        var total = 0
        for (k, t) in ts.enumerated() {
            guard t.dim == first.dim else {
                throw TensorError("cat: tensor \(k + 1) has \(t.dim) dims but tensor 1 has \(first.dim) (shapes \(shapeString(t.shape)) and \(shapeString(first.shape)))")
            }
            for i in 0 ..< t.dim where i != dn && t.shape[i] != first.shape[i] {
                throw TensorError("cat: tensor \(k + 1) has shape \(shapeString(t.shape)) but tensor 1 has \(shapeString(first.shape)) (dim \(i + 1) must match)")
            }
            rt = DType.promote(rt, t.dtype)
            total += t.shape[dn]
        }
        var shape = first.shape
        shape[dn] = total
        let out = try Tensor(uninitialized: shape, dtype: rt)
        var at = 0
        for t in ts {
            try out.narrow(dn, at, t.shape[dn]).copy_(from: t)
            at += t.shape[dn]
        }
        return out
    }

    public static func stack(_ ts: [Tensor], dim d: Int) throws -> Tensor {
        guard let first = ts.first else { throw TensorError("stack: expected at least one tensor") }
        for (k, t) in ts.enumerated() where t.shape != first.shape {
            throw TensorError("stack: tensor \(k + 1) has shape \(shapeString(t.shape)) but tensor 1 has \(shapeString(first.shape))")
        }
        let n = first.dim + 1
        let r = d < 0 ? d + n : d
        guard r >= 0 && r < n else { throw TensorError("stack: dim \(d) out of range for \(first.dim)-d tensors") }
        return try cat(ts.map { try $0.unsqueeze(r) }, dim: r)
    }

    /// Views of consecutive chunks of `size` along dim (the last may be shorter).
    public func split(size: Int, dim d: Int) throws -> [Tensor] {
        guard size > 0 else { throw TensorError("split: expected a chunk size > 0, got \(size)") }
        let dn = try normDim(d, "split")
        if shape[dn] == 0 { return [try narrow(dn, 0, 0)] }   // one empty piece (torch)
        return try stride(from: 0, to: shape[dn], by: size).map { try narrow(dn, $0, Swift.min(size, shape[dn] - $0)) }
    }
}
