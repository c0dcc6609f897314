// Tensor+Compare: comparisons and logic, returning bool tensors (broadcasting).
//
//     a: (3, 1), b: (4,)  ->  try Tensor.compare(.lt, a, b): bool (3, 4)
//     try x.isnan(), try Tensor.logical(.and, m1, m2), try Tensor.where(cond, a, b)
//
// Complex tensors support eq/ne only (an order is not defined), comparing both parts; a complex
// value is true when either part is nonzero (logical ops, where). Contiguous f32/f64 operands
// of one shape (or with a 0-d one) take the SIMD compare kernel.
import _CTideKernels
public enum CompareOp: String, Sendable { case eq, ne, lt, le, gt, ge }
public enum LogicalOp: String, Sendable { case and, or, xor }

extension Tensor {
    /// Same float dtype, and contiguous operands of one shape or one of them 0-d: the SIMD
    /// compare kernel over one flat run (split over the cores). nil otherwise.
    static func flatCompare(_ op: CompareOp, _ a: Tensor, _ b: Tensor) throws -> Tensor? {
        guard a.dtype == b.dtype, a.dtype == .f32 || a.dtype == .f64, let (mode, lead) = flatLayout(a, b) else { return nil }
        let kop: Int32
        switch op {
        case .eq: kop = Int32(TIDE_CMP_EQ)
        case .ne: kop = Int32(TIDE_CMP_NE)
        case .lt: kop = Int32(TIDE_CMP_LT)
        case .le: kop = Int32(TIDE_CMP_LE)
        case .gt: kop = Int32(TIDE_CMP_GT)
        case .ge: kop = Int32(TIDE_CMP_GE)
        }
        let out = Tensor(storage: try Storage(byteCount: lead.numel), dtype: .bool, shape: lead.shape, strides: lead.strides, offset: 0)
        let y = out.storage.bytes.assumingMemoryBound(to: UInt8.self)
        if a.dtype == .f32 {
            Kernels.compare(kop, a.pointer(Float.self), b.pointer(Float.self), y, lead.numel, mode: mode)
        } else {
            Kernels.compare(kop, a.pointer(Double.self), b.pointer(Double.self), y, lead.numel, mode: mode)
        }
        try Cancellation.check()
        return out
    }

    public static func compare(_ op: CompareOp, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        if let r = try flatCompare(op, a, b) { return r }
        let shape = try broadcastShape(a.shape, b.shape, op: op.rawValue)
        let rt = DType.promote(a.dtype, b.dtype)
        if rt.isComplex && op != .eq && op != .ne {
            throw TensorError("\(op.rawValue): complex tensors have no order (only eq and ne)")
        }
        let A = try a.to(rt), B = try b.to(rt)
        let sa = try A.broadcastStrides(to: shape, op: op.rawValue)
        let sb = try B.broadcastStrides(to: shape, op: op.rawValue)
        let out = try Tensor(uninitialized: shape, dtype: .bool)
        func run<T: TideScalar>(_: T.Type, _ f: (T, T) -> Bool) {
            let pa = A.storage.bytes.assumingMemoryBound(to: T.self)
            let pb = B.storage.bytes.assumingMemoryBound(to: T.self)
            let po = out.pointer(Bool.self)
            StridedLoop.rows(shape, [out.strides, sa, sb], [0, A.offset, B.offset]) { off, n, inner in
                var x = pa + off[1], y = pb + off[2]
                let z = po + off[0]
                for j in 0 ..< n { z[j] = f(x.pointee, y.pointee); x += inner[1]; y += inner[2] }
            }
        }
        func ordered<T: TideScalar & Comparable>(_ t: T.Type) {
            switch op {
            case .eq: run(T.self) { $0 == $1 }
            case .ne: run(T.self) { $0 != $1 }
            case .lt: run(T.self) { $0 < $1 }
            case .le: run(T.self) { $0 <= $1 }
            case .gt: run(T.self) { $0 > $1 }
            case .ge: run(T.self) { $0 >= $1 }
            }
        }
        switch rt {
        case .f32: ordered(Float.self)
        case .f64: ordered(Double.self)
        case .i64: ordered(Int64.self)
        case .bool: try Tensor.compare(op, a.to(.i64), b.to(.i64)).copyInto(out)
        // component-wise IEEE (swift-numerics' == makes every non-finite value equal)
        case .c64: op == .eq ? run(C64.self) { C64.tideEqual($0, $1) } : run(C64.self) { !C64.tideEqual($0, $1) }
        case .c128: op == .eq ? run(C128.self) { C128.tideEqual($0, $1) } : run(C128.self) { !C128.tideEqual($0, $1) }
        }
        return out
    }

    func copyInto(_ out: Tensor) throws { try out.copy_(from: self) }

    public static func logical(_ op: LogicalOp, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        let shape = try broadcastShape(a.shape, b.shape, op: "logical_\(op.rawValue)")
        let A = try a.to(.bool), B = try b.to(.bool)
        let sa = try A.broadcastStrides(to: shape, op: op.rawValue), sb = try B.broadcastStrides(to: shape, op: op.rawValue)
        let out = try Tensor(uninitialized: shape, dtype: .bool)
        let pa = A.storage.bytes.assumingMemoryBound(to: Bool.self), pb = B.storage.bytes.assumingMemoryBound(to: Bool.self)
        let po = out.pointer(Bool.self)
        StridedLoop.rows(shape, [out.strides, sa, sb], [0, A.offset, B.offset]) { off, n, inner in
            var x = pa + off[1], y = pb + off[2]
            for j in 0 ..< n {
                let u = x.pointee, v = y.pointee
                po[off[0] + j] = op == .and ? (u && v) : (op == .or ? (u || v) : (u != v))
                x += inner[1]; y += inner[2]
            }
        }
        return out
    }

    public func logicalNot() throws -> Tensor { try to(.bool).mapElements(Bool.self, Bool.self) { !$0 } }

    public func isnan() throws -> Tensor {
        switch dtype {
        case .f32: return try mapElements(Float.self, Bool.self) { $0.isNaN }
        case .f64: return try mapElements(Double.self, Bool.self) { $0.isNaN }
        case .c64: return try mapElements(C64.self, Bool.self) { $0.re.isNaN || $0.im.isNaN }
        case .c128: return try mapElements(C128.self, Bool.self) { $0.re.isNaN || $0.im.isNaN }
        default: return try Tensor.zeros(shape, dtype: .bool)
        }
    }

    /// True where the sign bit is set: negative numbers, -0.0 and NaNs with the sign bit (as
    /// NumPy's signbit; a comparison cannot see the sign of -0.0 or of a NaN).
    public func signbit() throws -> Tensor {
        switch dtype {
        case .f32: return try mapElements(Float.self, Bool.self) { $0.sign == .minus }
        case .f64: return try mapElements(Double.self, Bool.self) { $0.sign == .minus }
        case .i64: return try mapElements(Int64.self, Bool.self) { $0 < 0 }
        case .bool: return try Tensor.zeros(shape, dtype: .bool)
        case .c64, .c128: throw TensorError("signbit: expected a real tensor, got \(dtype.rawValue)")
        }
    }

    /// +-inf; complex: inf in either part, whatever the other holds (inf + nan i is infinite).
    public func isinf() throws -> Tensor {
        switch dtype {
        case .f32: return try mapElements(Float.self, Bool.self) { $0.isInfinite }
        case .f64: return try mapElements(Double.self, Bool.self) { $0.isInfinite }
        case .c64: return try mapElements(C64.self, Bool.self) { $0.tideIsInfinite }
        case .c128: return try mapElements(C128.self, Bool.self) { $0.tideIsInfinite }
        default: return try Tensor.zeros(shape, dtype: .bool)
        }
    }

    public func isfinite() throws -> Tensor {
        switch dtype {
        case .f32: return try mapElements(Float.self, Bool.self) { $0.isFinite }
        case .f64: return try mapElements(Double.self, Bool.self) { $0.isFinite }
        case .c64: return try mapElements(C64.self, Bool.self) { $0.re.isFinite && $0.im.isFinite }
        case .c128: return try mapElements(C128.self, Bool.self) { $0.re.isFinite && $0.im.isFinite }
        default: return try Tensor.ones(shape, dtype: .bool)
        }
    }

    /// cond ? a : b elementwise, broadcasting all three.
    public static func `where`(_ cond: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        if Autograd.isRecording(a, b) {
            let c = cond.alias()
            return try Autograd.op("where", [a, b], forward: { try Tensor.where(cond, a, b) }, backward: { g, _, n in
                let zero = try g.scalarLike(0)
                return [n.needs(0) ? try Tensor.where(c, g, zero) : nil, n.needs(1) ? try Tensor.where(c, zero, g) : nil]
            }, saved: [c])
        }
        let s1 = try broadcastShape(cond.shape, a.shape, op: "where")
        let shape = try broadcastShape(s1, b.shape, op: "where")
        let rt = DType.promote(a.dtype, b.dtype)
        let out = try a.to(rt).expand(shape).contiguous(force: true)
        let c = try cond.to(.bool).expand(shape).contiguous()
        let bb = try b.to(rt).expand(shape).contiguous()
        let isz = rt.itemSize
        let pc = c.pointer(Bool.self)
        for i in 0 ..< out.numel where !pc[i] {
            (out.rawPointer + i * isz).copyMemory(from: bb.rawPointer + i * isz, byteCount: isz)
        }
        return out
    }

    /// x with `value` where mask is true (mask broadcast to x's shape).
    public func maskedFill(_ mask: Tensor, _ value: Double) throws -> Tensor {
        guard mask.dtype == .bool else { throw TensorError("masked_fill: mask must be bool, got \(mask.dtype.rawValue)") }
        _ = try mask.broadcastStrides(to: shape, op: "masked_fill")
        // (a value i64 cannot hold is an error, not a saturated cast)
        let v = dtype == .i64 ? try Tensor.scalar(value, dtype: .i64) : try scalarLike(value).to(dtype)
        return try Tensor.where(mask, v, self).expand(shape).contiguous().freshResult()
    }
}
