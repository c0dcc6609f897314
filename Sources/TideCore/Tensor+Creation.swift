// Tensor+Creation: new tensors from sizes, values and Swift arrays.
//
//     try Tensor.zeros([2, 3])                       // (2, 3) f32 of 0
//     try Tensor.full([4], 2.5, dtype: .f64)         // (4,) f64 of 2.5
//     try Tensor.arange(0, 10, 2, dtype: .i64)       // [0, 2, 4, 6, 8]
//     try Tensor.linspace(0, 1, 5)                   // [0, 0.25, 0.5, 0.75, 1]
//     try Tensor.eye(3)                              // (3, 3) identity
//     try Tensor(array: [1, 2, 3, 4], shape: [2, 2])
import ComplexModule

extension Tensor {
    /// Uninitialized, except bool: a byte other than 0 or 1 is not a Bool, so those start false.
    public static func empty(_ shape: [Int], dtype: DType = .f32) throws -> Tensor {
        dtype == .bool ? try zeros(shape, dtype: dtype) : try Tensor(uninitialized: shape, dtype: dtype)
    }

    public static func zeros(_ shape: [Int], dtype: DType = .f32) throws -> Tensor {
        let t = try Tensor(uninitialized: shape, dtype: dtype)
        t.storage.bytes.initializeMemory(as: UInt8.self, repeating: 0, count: t.storage.byteCount)
        return t
    }

    public static func ones(_ shape: [Int], dtype: DType = .f32) throws -> Tensor {
        try full(shape, 1, dtype: dtype)
    }

    public static func full(_ shape: [Int], _ value: Double, dtype: DType = .f32) throws -> Tensor {
        let t = try Tensor(uninitialized: shape, dtype: dtype)
        try t.fill_(value)
        return t
    }

    public static func full(_ shape: [Int], complex value: C128, dtype: DType = .c128) throws -> Tensor {
        let t = try Tensor(uninitialized: shape, dtype: dtype)
        try t.fill_(complex: value)
        return t
    }

    /// Sets every element of this view to `value` (cast to the dtype).
    @discardableResult
    public func fill_(complex value: C128) throws -> Tensor {
        // NaN, inf or a value beyond i64 has no i64 (NumPy and torch refuse it); +-2^63 is
        // the Lua integer range's edge as a double, and saturates
        if dtype == .i64 && !(abs(value.re) <= 9.223372036854775808e18) {
            throw TensorError("cannot write \(value.re) into an i64 tensor (expected a finite value within the i64 range)")
        }
        if requiresGrad && Autograd.isEnabled {
            try Autograd.checkInPlace(self, "fill_")
            gradFn = nil        // the new values depend on nothing
            requiresGrad = false
        }
        bumpVersion()
        struct V: DTypeVisitor {
            let t: Tensor, v: C128
            func visit<T: TideScalar>(_: T.Type) {
                let x: T = T.dtype.isComplex ? T(tideComplex: v)
                    : (T.dtype == .i64 ? T(tideInt: Double.tideIntOf(v.re)) : T(tideDouble: v.re))
                let base = t.storage.bytes.assumingMemoryBound(to: T.self)
                StridedLoop.rows(t.shape, [t.strides], [t.offset]) { off, n, inner in
                    var p = base + off[0]
                    let s = inner[0]
                    if s == 1 { p.update(repeating: x, count: n); return }
                    for _ in 0 ..< n { p.pointee = x; p += s }
                }
            }
        }
        try dtype.visit(V(t: self, v: value))
        return self
    }

    @discardableResult
    public func fill_(_ value: Double) throws -> Tensor { try fill_(complex: C128(value, 0)) }

    /// Values from `start` up to (not including) `end` by `step`, as in NumPy.
    public static func arange(_ start: Double, _ end: Double, _ step: Double = 1, dtype: DType = .f32) throws -> Tensor {
        guard step != 0, step.isFinite, start.isFinite, end.isFinite else {
            throw TensorError("arange: expected a finite nonzero step and finite bounds, got start=\(start), end=\(end), step=\(step)")
        }
        let count = ((end - start) / step).rounded(.up)
        guard count < Double(Storage.maxBytes) else {
            throw TensorError("arange: \(count) elements (from \(start) to \(end) by \(step)) is too many")
        }
        let n = count > 0 ? Int(count) : 0
        // the values in f64 storage (size-checked before anything is written), then cast
        let t = try Tensor(uninitialized: [n], dtype: .f64)
        let p = t.pointer(Double.self)
        for i in 0 ..< n { p[i] = start + Double(i) * step }
        return try t.to(dtype)
    }

    /// arange over integers, exact for any i64 bounds (Doubles hold only 53 bits).
    public static func arange(integers start: Int64, _ end: Int64, _ step: Int64 = 1, dtype: DType = .i64) throws -> Tensor {
        guard step != 0 else { throw TensorError("arange: expected a nonzero step, got 0") }
        // count = ceil((end - start) / step) in 128 bits: end - start can exceed Int64
        let span = Int128(end) - Int128(start), st = Int128(step)
        var q = span / st
        if span % st != 0 && (span < 0) == (st < 0) { q += 1 }
        guard q < Int128(Storage.maxBytes) else {
            throw TensorError("arange: \(q) elements (from \(start) to \(end) by \(step)) is too many")
        }
        let n = q > 0 ? Int(q) : 0
        let t = try Tensor(uninitialized: [n], dtype: .i64)
        let p = t.pointer(Int64.self)
        for i in 0 ..< n { p[i] = start &+ Int64(i) &* step }
        return dtype == .i64 ? t : try t.to(dtype)
    }

    /// `steps` values evenly spaced from `start` to `end` inclusive.
    public static func linspace(_ start: Double, _ end: Double, _ steps: Int, dtype: DType = .f32) throws -> Tensor {
        guard steps >= 0 else { throw TensorError("linspace: expected steps >= 0, got \(steps)") }
        let t = try Tensor(uninitialized: [steps], dtype: .f64)  // size-checked first
        let vals = t.pointer(Double.self)
        let delta = steps > 1 ? (end - start) / Double(steps - 1) : 0
        for i in 0 ..< steps {
            // the second half counts down from `end` so both endpoints are exact (as NumPy does);
            // a single step is `start` (NumPy, torch)
            vals[i] = i < steps / 2 || steps == 1 ? start + Double(i) * delta : end - Double(steps - 1 - i) * delta
        }
        return try t.to(dtype)
    }

    /// (n, m) with ones on the diagonal.
    public static func eye(_ n: Int, _ m: Int? = nil, dtype: DType = .f32) throws -> Tensor {
        let cols = m ?? n
        let t = try zeros([n, cols], dtype: dtype)
        let diag = Tensor(storage: t.storage, dtype: dtype, shape: [min(n, cols)], strides: [cols + 1], offset: 0)
        try diag.fill_(1)
        return t
    }

    /// A contiguous tensor holding `array` (row-major) in `shape`, cast to `dtype`.
    public convenience init(array: [Double], shape: [Int], dtype: DType = .f32) throws {
        let n = try Tensor.checkedCount(shape)
        guard n == array.count else {
            throw TensorError("tensor: \(array.count) values do not fill shape \(shapeString(shape)) (\(n) elements)")
        }
        try self.init(uninitialized: shape, dtype: dtype)
        let src = Tensor.wrapping(array)
        try copy_(from: Tensor(storage: src, dtype: .f64, shape: shape, strides: Tensor.contiguousStrides(shape), offset: 0))
    }

    /// A contiguous i64 tensor holding `int64s` (row-major) in `shape`: exact, with no trip
    /// through Double (which rounds beyond 2^53).
    public convenience init(int64s: [Int64], shape: [Int]) throws {
        let n = try Tensor.checkedCount(shape)
        guard n == int64s.count else {
            throw TensorError("tensor: \(int64s.count) values do not fill shape \(shapeString(shape)) (\(n) elements)")
        }
        try self.init(uninitialized: shape, dtype: .i64)
        int64s.withUnsafeBufferPointer { b in if let p = b.baseAddress { pointer(Int64.self).update(from: p, count: n) } }
    }

    /// A contiguous complex tensor from `array`.
    public convenience init(complex array: [C128], shape: [Int], dtype: DType = .c128) throws {
        let n = try Tensor.checkedCount(shape)
        guard n == array.count else {
            throw TensorError("tensor: \(array.count) values do not fill shape \(shapeString(shape)) (\(n) elements)")
        }
        try self.init(uninitialized: shape, dtype: dtype)
        let s = try Storage(byteCount: n * 16)
        array.withUnsafeBytes { s.bytes.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        try copy_(from: Tensor(storage: s, dtype: .c128, shape: shape, strides: Tensor.contiguousStrides(shape), offset: 0))
    }

    /// A 0-d tensor.
    public static func scalar(_ v: Double, dtype: DType = .f32) throws -> Tensor {
        // float scalars directly: every Lua number next to a tensor (x * 0.5) makes one
        switch dtype {
        case .f32, .f64:
            let s = try Storage(byteCount: dtype.itemSize)
            if dtype == .f32 { s.bytes.storeBytes(of: Float(v), as: Float.self) } else { s.bytes.storeBytes(of: v, as: Double.self) }
            return Tensor(storage: s, dtype: dtype, shape: [], strides: [], offset: 0)
        default:
            return try full([], v, dtype: dtype)
        }
    }

    static func wrapping(_ a: [Double]) -> Storage {
        let s = try! Storage(byteCount: a.count * 8)
        a.withUnsafeBytes { if let b = $0.baseAddress { s.bytes.copyMemory(from: b, byteCount: $0.count) } }
        return s
    }
}

extension Tensor {
    /// The elements in row-major order as Doubles (complex: real parts).
    public func toDoubles() throws -> [Double] {
        let c = try to(.f64, copy: !(dtype == .f64 && isContiguous)).contiguous()
        return Array(UnsafeBufferPointer(start: c.pointer(Double.self), count: c.numel))
    }

    /// The elements in row-major order as exact integers (floats truncate, as a cast to i64).
    public func toInt64s() throws -> [Int64] {
        let c = try to(.i64, copy: !(dtype == .i64 && isContiguous)).contiguous()
        return Array(UnsafeBufferPointer(start: c.pointer(Int64.self), count: c.numel))
    }

    /// The elements in row-major order as complex doubles.
    public func toComplex() throws -> [C128] {
        let c = try to(.c128, copy: !(dtype == .c128 && isContiguous)).contiguous()
        return Array(UnsafeBufferPointer(start: c.pointer(C128.self), count: c.numel))
    }

    /// The value of a one-element tensor.
    public func item() throws -> Double {
        guard numel == 1 else {
            throw TensorError("item: expected a tensor with one element, got shape \(shapeString(shape)) (\(numel) elements)")
        }
        return try toDoubles()[0]
    }

    /// The value of a one-element tensor as a complex number (a real one has imaginary part 0).
    public func complexItem() throws -> C128 {
        guard numel == 1 else {
            throw TensorError("item: expected a tensor with one element, got shape \(shapeString(shape)) (\(numel) elements)")
        }
        return try toComplex()[0]
    }

    /// The value of a one-element integer tensor, exactly.
    public func intItem() throws -> Int64 {
        guard numel == 1 else {
            throw TensorError("item: expected a tensor with one element, got shape \(shapeString(shape)) (\(numel) elements)")
        }
        return try to(.i64).contiguous().pointer(Int64.self).pointee
    }
}
