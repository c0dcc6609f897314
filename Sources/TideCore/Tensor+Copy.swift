// Tensor+Copy: copying between layouts and element types.
//
//     let c = try x.transposed(0, 1).contiguous()   // dense row-major copy
//     let d = try x.to(.f64)                         // cast (a new tensor)
//     try y.copy_(from: x)                           // y's view gets x's values (broadcast, cast)
//
// Casts follow NumPy's unsafe casting: float -> i64 truncates toward zero (NaN -> 0, out of
// range saturates), complex -> real keeps the real part, nonzero -> true.
extension Tensor {
    /// Copies `src` (broadcast to this shape, cast to this dtype) into this view.
    /// x: any shape broadcastable to self.shape.
    public func copy_(from src: Tensor) throws {
        let bstrides = try src.broadcastStrides(to: shape, op: "copy_")
        // The same elements onto themselves: nothing to do.
        if src.storage === storage && src.dtype == dtype && src.offset == offset && bstrides == strides { return }
        // Overlap with another view of the same storage: go through a temporary.
        let source = (src.storage === storage) ? try src.contiguous(force: true) : src
        let sstr = source === src ? bstrides : try source.broadcastStrides(to: shape, op: "copy_")
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

    /// A dense row-major tensor with the same values: self when already contiguous
    /// (unless `force`), else a copy.
    public func contiguous(force: Bool = false) throws -> Tensor {
        if isContiguous && !force { return self }
        let out = try Tensor(uninitialized: shape, dtype: dtype)
        try out.copy_(from: self)
        return out
    }

    /// A copy that shares nothing with self.
    public func clone() throws -> Tensor { try contiguous(force: true) }

    /// A copy cast to `dtype` (self when already of that type and `copy` is false).
    public func to(_ dtype: DType, copy: Bool = false) throws -> Tensor {
        if dtype == self.dtype && !copy { return self }
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
    StridedLoop.rows(dst.shape, [dst.strides, sstr], [dst.offset, src.offset]) { off, n, inner in
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
