// Tensor+Softmax: softmax, log_softmax, logsumexp, var and std over a dim.
//
//     x: (B, T, V) -> try x.softmax(dim: -1): (B, T, V), rows sum to 1
//     try x.logsumexp(dim: 1, keepdim: false): (B, V)
//     try x.variance(dims: [1], correction: 1)   // Bessel-corrected, as torch.var
//
// Stable forms: the max is subtracted before exp; logsumexp of an all -inf row is -inf.
import RealModule

extension Tensor {
    func floatInput(_ op: String) throws -> Tensor {
        guard !dtype.isComplex else { throw TensorError("\(op): not defined for complex tensors") }
        return dtype.isFloatingPoint ? self : try to(.f32)
    }

    public func logsumexp(dim d: Int, keepdim: Bool = false) throws -> Tensor {
        let x = try floatInput("logsumexp")
        if dim == 0 { try checkScalarDim(d, "logsumexp"); return try x.reshaped([1]).logsumexp(dim: 0).reshaped([]) }
        let dn = try x.normDim(d, "logsumexp")
        var kshape = x.shape
        kshape[dn] = 1
        // an empty dim has no max; its sum of no exps is 0, so logsumexp is -inf (as torch) and
        // softmax over it is empty
        let m = x.shape[dn] == 0 ? try Tensor.zeros(kshape, dtype: x.dtype) : try x.reduce(.amax, dims: [dn], keepdim: true)
        let finiteM = try Tensor.where(try m.isfinite(), m, Tensor.scalar(0, dtype: m.dtype))
        let s = try Tensor.binary(.sub, x, finiteM).unary(.exp).reduce(.sum, dims: [dn], keepdim: true)
        let r = try Tensor.binary(.add, s.unary(.log), finiteM)
        return keepdim ? r : try r.squeeze(dn).freshResult()
    }

    /// f32 along a dense last dim: the fused SIMD kernel (one pass per row, rows over cores).
    func softmaxKernel(dim d: Int, log: Bool) throws -> Tensor? {
        guard dtype == .f32, dim >= 1, try normDim(d, "softmax") == dim - 1, isContiguous else { return nil }
        let out = try Tensor(uninitialized: shape, dtype: .f32)
        let n = shape[dim - 1]
        if n > 0 { Kernels.softmaxRowsF32(pointer(Float.self), out.pointer(Float.self), rows: numel / n, n: n, log: log) }
        return out
    }

    public func logSoftmax(dim d: Int) throws -> Tensor {
        if dim == 0 { try checkScalarDim(d, "log_softmax"); return try reshaped([1]).logSoftmax(dim: 0).reshaped([]) }
        if Autograd.isRecording(self) { return try softmaxRecorded(dim: d, log: true) }
        if let k = try softmaxKernel(dim: d, log: true) { return k }
        let x = try floatInput("log_softmax")
        // lse + (lse - lse): NaN where lse is +inf (a +inf in the row), so the whole row is NaN
        // as in PyTorch (x - max has inf - inf), not [nan, -inf, ...]; finite lse is unchanged
        let lse = try x.logsumexp(dim: d, keepdim: true)
        return try Tensor.binary(.sub, x, Tensor.binary(.add, lse, Tensor.binary(.sub, lse, lse)))
    }

    public func softmax(dim d: Int) throws -> Tensor {
        // checked here, before log_softmax does the work, so the error names softmax
        guard !dtype.isComplex else { throw TensorError("softmax: not defined for complex tensors (got \(dtype.rawValue))") }
        if dim == 0 { try checkScalarDim(d, "softmax"); return try reshaped([1]).softmax(dim: 0).reshaped([]) }
        if Autograd.isRecording(self) { return try softmaxRecorded(dim: d, log: false) }
        if let k = try softmaxKernel(dim: d, log: false) { return k }
        return try logSoftmax(dim: d).unary(.exp)
    }

    /// Variance over dims with `correction` subtracted from the count (1 = sample variance).
    public func variance(dims: [Int]?, correction: Int = 1, keepdim: Bool = false) throws -> Tensor {
        let x = try floatInput("var")
        let ds = try x.reduceDims(dims, "var")
        let n = ds.reduce(1) { $0 * x.shape[$1] }
        let mean = try x.reduce(.mean, dims: ds, keepdim: true)
        let sq = try Tensor.binary(.sub, x, mean).unary(.square).reduce(.sum, dims: ds, keepdim: keepdim)
        return try Tensor.binary(.div, sq, x.scalarLike(Double(Swift.max(n - correction, 0))))
    }
}

// MARK: - derivative

extension Tensor {
    /// softmax: dx = y (g - sum(g y)); log_softmax: dx = g - exp(y) sum(g), sums over dim.
    func softmaxRecorded(dim d: Int, log: Bool) throws -> Tensor {
        let dn = try normDim(d, log ? "log_softmax" : "softmax")
        return try Autograd.op(log ? "log_softmax" : "softmax", [self], forward: {
            log ? try logSoftmax(dim: d) : try softmax(dim: d)
        }, backward: { g, y, _ in
            if log {
                let s = try g.reduce(.sum, dims: [dn], keepdim: true)
                return [try Tensor.binary(.sub, g, Tensor.binary(.mul, y.unary(.exp), s))]
            }
            let gy = try Tensor.binary(.mul, g, y)
            return [try Tensor.binary(.sub, gy, Tensor.binary(.mul, y, gy.reduce(.sum, dims: [dn], keepdim: true)))]
        }, savesOutput: true)
    }
}
