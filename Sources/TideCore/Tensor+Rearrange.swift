// Tensor+Rearrange: triangles, flips and rolls (all return new tensors).
//
//     x: (..., n, m)
//     try x.tril(0), try x.triu(1)           // keep on/below (above) diagonal k, zero the rest
//     try x.flip([0])                        // reverse dim 0
//     try x.roll(1, dim: 0)                  // shift by 1 along dim 0, wrapping around
//     try x.roll(2, dim: nil)                // flatten, roll, restore the shape
extension Tensor {
    func triangle(_ k: Int, lower: Bool) throws -> Tensor {
        if Autograd.isRecording(self) {
            return try Autograd.op(lower ? "tril" : "triu", [self], forward: { try triangle(k, lower: lower) },
                                   backward: { g, _, _ in [try g.triangle(k, lower: lower)] })
        }
        guard dim >= 2 else { throw TensorError("\(lower ? "tril" : "triu"): expected at least 2 dims, got shape \(shapeString(shape))") }
        let out = try contiguous(force: true)
        let n = shape[dim - 2], m = shape[dim - 1]
        let batch = numel / max(n * m, 1)
        let isz = dtype.itemSize
        for b in 0 ..< batch {
            for i in 0 ..< n {
                for j in 0 ..< m where lower ? (j - i > k) : (j - i < k) {
                    (out.rawPointer + ((b * n + i) * m + j) * isz).initializeMemory(as: UInt8.self, repeating: 0, count: isz)
                }
            }
        }
        return out
    }

    public func tril(_ k: Int = 0) throws -> Tensor { try triangle(k, lower: true) }
    public func triu(_ k: Int = 0) throws -> Tensor { try triangle(k, lower: false) }

    public func flip(_ dims: [Int]) throws -> Tensor {
        if Autograd.isRecording(self) {
            return try Autograd.op("flip", [self], forward: { try flip(dims) }, backward: { g, _, _ in [try g.flip(dims)] })
        }
        var st = strides
        var off = offset
        for d in try reduceDims(dims, "flip") where shape[d] > 0 {
            off += (shape[d] - 1) * st[d]
            st[d] = -st[d]
        }
        return try Tensor(storage: storage, dtype: dtype, shape: shape, strides: st, offset: off).contiguous(force: true)
    }

    public func roll(_ shift: Int, dim d: Int?) throws -> Tensor {
        guard let d = d else { return try reshaped([-1]).roll(shift, dim: 0).reshaped(shape) }
        if dim == 0 { try checkScalarDim(d, "roll"); return try clone() }  // one element: nothing moves
        let dn = try normDim(d, "roll")
        let n = shape[dn]
        if n == 0 { return try clone() }
        let s = ((shift % n) + n) % n
        if s == 0 { return try clone() }
        return try Tensor.cat([narrow(dn, n - s, s), narrow(dn, 0, n - s)], dim: dn)
    }
}
