// Tensor+Copy: copying between layouts and element types.
//
//     let c = try x.transposed(0, 1).contiguous()   // dense row-major copy
//     let d = try x.to(.f64)                         // cast (a new tensor)
//     try y.copy_(from: x)                           // y's view gets x's values (broadcast, cast)
//
// Casts follow NumPy's unsafe casting: float -> i64 truncates toward zero (NaN -> 0, out of
// range saturates), complex -> real keeps the real part, nonzero -> true (complex: either part
// nonzero).
import COpenBLAS

extension Tensor {
    /// Copies `src` (broadcast to this shape, cast to this dtype) into this view.
    /// x: any shape broadcastable to self.shape.
    public func copy_(from src: Tensor) throws {
        try checkNoInternalOverlap("copy_")
        if Autograd.isRecording(self, src) { return try copyRecorded(src) }
        bumpVersion()
        let bstrides = try src.broadcastStrides(to: shape, op: "copy_")
        // The same elements onto themselves: nothing to do.
        if src.storage === storage && src.dtype == dtype && src.offset == offset && bstrides == strides { return }
        // Overlap with another view of the same storage: go through a temporary.
        let source = (src.storage === storage) ? try src.contiguous(force: true) : src
        let sstr = source === src ? bstrides : try source.broadcastStrides(to: shape, op: "copy_")
        if source.dtype == dtype, Tensor.transposedRun(0, nil, source, bStrides: sstr, into: self) || transposeCopy(from: source, sstr) { return }
        struct Outer: DTypeVisitor {
            let dst: Tensor, src: Tensor, sstr: [Int]
            func visit<D: TideScalar>(_: D.Type) throws {
                switch src.dtype {
                case .f32: castCopy(dst, D.self, src, Float.self, sstr)
                case .f64: castCopy(dst, D.self, src, Double.self, sstr)
                case .i64: castCopy(dst, D.self, src, Int64.self, sstr)
                case .bool: castCopy(dst, D.self, src, Bool.self, sstr)
                case .c64: castCopy(dst, D.self, src, C64.self, sstr)
                case .c128: castCopy(dst, D.self, src, C128.self, sstr)
                }
            }
        }
        try dtype.visit(Outer(dst: self, src: source, sstr: sstr))
    }

    /// The last two dims of src are a transpose of ours (src steps 1 along dim -2, ours steps 1
    /// along dim -1): OpenBLAS's ?omatcopy does it cache-blocked, several times faster than an
    /// element loop. Returns false when the layout or dtype does not fit.
    func transposeCopy(from src: Tensor, _ sstr: [Int]) -> Bool {
        guard dim >= 2, dtype != .i64, dtype != .bool else { return false }
        let R = shape[dim - 2], C = shape[dim - 1]
        let ldd = strides[dim - 2], lds = sstr[dim - 1]
        guard R >= 16, C >= 16, strides[dim - 1] == 1, sstr[dim - 2] == 1, ldd >= C, lds >= R,
              R <= Int(Int32.max), C <= Int(Int32.max), ldd <= Int(Int32.max), lds <= Int(Int32.max) else { return false }
        let outer = Array(shape[..<(dim - 2)]) + [1]
        let isz = dtype.itemSize
        // the batch dims: `rows` hands out runs of n matrices, the k-th at off + k * inner
        StridedLoop.rows(outer, [Array(strides[..<(dim - 2)]) + [1], Array(sstr[..<(dim - 2)]) + [1]], [offset, src.offset]) { off, n, inner in
            for k in 0 ..< n {
                let o0 = off[0] + k * inner[0], o1 = off[1] + k * inner[1]
                // output rows split over the cores: rows r0..<r1 of ours are columns r0..<r1 of src's
                try? Threads.parallelFor(R, grain: Swift.max(16, Kernels.grain / Swift.max(C, 1))) { r0, r1 in
                    let d = storage.bytes + (o0 + r0 * ldd) * isz, s = UnsafeRawPointer(src.storage.bytes + (o1 + r0) * isz)
                    let (r, c, a, b) = (Int32(C), Int32(r1 - r0), Int32(lds), Int32(ldd))
                    switch dtype {
                    case .f32: cblas_somatcopy(CblasRowMajor, CblasTrans, r, c, 1, s.assumingMemoryBound(to: Float.self), a, d.assumingMemoryBound(to: Float.self), b)
                    case .f64: cblas_domatcopy(CblasRowMajor, CblasTrans, r, c, 1, s.assumingMemoryBound(to: Double.self), a, d.assumingMemoryBound(to: Double.self), b)
                    case .c64:
                        var one: [Float] = [1, 0]
                        cblas_comatcopy(CblasRowMajor, CblasTrans, r, c, &one, s.assumingMemoryBound(to: Float.self), a, d.assumingMemoryBound(to: Float.self), b)
                    case .c128:
                        var one: [Double] = [1, 0]
                        cblas_zomatcopy(CblasRowMajor, CblasTrans, r, c, &one, s.assumingMemoryBound(to: Double.self), a, d.assumingMemoryBound(to: Double.self), b)
                    default: break
                    }
                }
            }
        }
        return true
    }

    /// A dense row-major tensor with the same values: self when already contiguous
    /// (unless `force`), else a copy.
    public func contiguous(force: Bool = false) throws -> Tensor {
        if isContiguous && !force { return self }
        if Autograd.isRecording(self) {
            return try Autograd.op(force ? "clone" : "contiguous", [self], forward: { try contiguous(force: force) }, backward: { g, _, _ in [g] })
        }
        let out = try Tensor(uninitialized: shape, dtype: dtype)
        try out.copy_(from: self)
        return out
    }

    /// A copy that shares nothing with self.
    public func clone() throws -> Tensor { try contiguous(force: true) }

    /// A copy cast to `dtype` (self when already of that type and `copy` is false).
    public func to(_ dtype: DType, copy: Bool = false) throws -> Tensor {
        if dtype == self.dtype && !copy { return self }
        if Autograd.isRecording(self) {
            return try Autograd.op("to", [self], forward: { try to(dtype, copy: copy) }, backward: { g, _, _ in [g] })
        }
        let out = try Tensor(uninitialized: shape, dtype: dtype)
        try out.copy_(from: self)
        return out
    }

    /// Strides that make this tensor read as `target` shape under NumPy broadcasting
    /// (0 for stretched dims). Throws naming both shapes.
    public func broadcastStrides(to target: [Int], op: String) throws -> [Int] {
        if target.count < shape.count {
            throw TensorError("\(op): cannot broadcast shape \(shapeString(shape)) to \(shapeString(target))")
        }
        var out = [Int](repeating: 0, count: target.count)
        let lead = target.count - shape.count
        for i in 0 ..< shape.count {
            let t = target[lead + i]
            if shape[i] == t {
                out[lead + i] = strides[i]
            } else if shape[i] == 1 {
                out[lead + i] = 0
            } else {
                throw TensorError("\(op): cannot broadcast shape \(shapeString(shape)) to \(shapeString(target))")
            }
        }
        return out
    }

    /// The broadcast shape of two shapes, NumPy rules; throws naming both.
    public static func broadcastShape(_ a: [Int], _ b: [Int], op: String) throws -> [Int] {
        if a == b { return a }
        let n = max(a.count, b.count)
        var out = [Int](repeating: 1, count: n)
        for i in 0 ..< n {
            let da = i < n - a.count ? 1 : a[i - (n - a.count)]
            let db = i < n - b.count ? 1 : b[i - (n - b.count)]
            if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else {
                throw TensorError("\(op): shapes \(shapeString(a)) and \(shapeString(b)) are not broadcastable (dim \(i + 1): \(da) vs \(db))")
            }
        }
        return out
    }
}

/// dst[i] = D(src[i]) over dst's shape, src read through strides `sstr`.
func castCopy<D: TideScalar, S: TideScalar>(_ dst: Tensor, _: D.Type, _ src: Tensor, _: S.Type, _ sstr: [Int]) {
    let d = dst.storage.bytes.assumingMemoryBound(to: D.self)
    let s = src.storage.bytes.assumingMemoryBound(to: S.self)
    StridedLoop.tiledRows(dst.shape, [dst.strides, sstr], [dst.offset, src.offset]) { off, n, inner in
        var pd = d + off[0], ps = s + off[1]
        let id = inner[0], isrc = inner[1]
        if S.self == D.self && id == 1 && isrc == 1 {
            UnsafeMutableRawPointer(pd).copyMemory(from: UnsafeRawPointer(ps), byteCount: n * MemoryLayout<D>.stride)
            return
        }
        for _ in 0 ..< n {
            pd.pointee = convertScalar(ps.pointee, to: D.self)
            pd += id
            ps += isrc
        }
    }
}

// MARK: - derivative

extension Tensor {
    /// copy_ while recording: this tensor's history is replaced by the copy's source.
    func copyRecorded(_ src: Tensor) throws {
        try Autograd.checkInPlace(self, "copy_")
        try checkPlainView("copy_", src)
        try Autograd.noGrad { try copy_(from: src) }
        if src.requiresGrad {
            Autograd.attach(self, "copy_", [src]) { g, _ in [g] }
        } else {
            gradFn = nil
            requiresGrad = false
        }
    }

    /// x <- f(x) in place, recorded: `f` gets a copy of x that carries x's history (so a
    /// backward that needs x's old values still has them), and x takes the result's history.
    /// Without recording, f(x) is computed and copied back.
    /// The result must have this tensor's shape and a type it can hold (torch's can_cast: an
    /// f32 result does not go into an i64 tensor, exp_ on i64 is an error, not a truncation).
    public func apply_(_ op: String, _ f: (Tensor) throws -> Tensor) throws {
        try checkNoInternalOverlap(op)
        let recording = Autograd.isEnabled && requiresGrad
        if recording { try Autograd.checkInPlace(self, op) }
        var r = try f(recording ? clone() : self)
        // a plain tensor updated from one that requires grad (buf:mul_(w)): the op saved self
        // for its gradient, and the write below would change it under the graph; redo it on
        // a copy (torch keeps the old value the same way)
        if !recording && r.requiresGrad && Autograd.isEnabled {
            try checkPlainView(op, r)
            r = try f(clone())
        }
        guard r.shape == shape else {
            throw TensorError("\(op): the result shape \(shapeString(r.shape)) does not match the in-place tensor's shape \(shapeString(shape))")
        }
        guard DType.canCast(r.dtype, to: dtype) else {
            throw TensorError("\(op): result type \(r.dtype.rawValue) can't be cast to the in-place tensor's type \(dtype.rawValue)")
        }
        try copy_(from: r)
    }

    /// Whether two elements of this view share memory: a dim of size > 1 with stride 0 (an
    /// expand). Writing such a view in place would apply an op once per alias.
    public var hasInternalOverlap: Bool {
        for (n, s) in zip(shape, strides) where s == 0 && n > 1 { return true }
        return false
    }

    /// The error PyTorch raises for an in-place write into an expanded view; every in-place
    /// entry point (apply_, copy_, the in-place binary ops, mask writes) calls this.
    public func checkNoInternalOverlap(_ op: String) throws {
        guard hasInternalOverlap else { return }
        throw TensorError("\(op): unsupported operation: more than one element of the written-to tensor refers to a single memory location (an expanded view of shape \(shapeString(shape)), strides \(strides)); clone() it first")
    }
}

extension Tensor {
    /// A value with history written into a view of a tensor without any (or into any tensor
    /// that is part of a larger storage): only the view would get the history, and its base's
    /// gradient path would be lost without a word, so it is an error.
    func checkPlainView(_ op: String, _ value: Tensor) throws {
        guard !requiresGrad, value.requiresGrad, Autograd.isEnabled else { return }
        if viewBase != nil || numel * dtype.itemSize != storage.byteCount {
            throw TensorError("\(op): in-place write of a value that requires grad into a view of a tensor that does not; clone() the base first or use out-of-place ops")
        }
    }

    /// This op's result as a tensor of its own: an op whose last step is a view of an
    /// internal result (einsum's reshaped matmul, kron, masked_fill, logsumexp) returns a
    /// tensor whose base no user can reach, so in-place ops on it are as safe as on any fresh
    /// result.
    func freshResult() -> Tensor {
        viewBase = nil
        return self
    }
}
