// Tensor+Arithmetic: elementwise binary ops with NumPy broadcasting and type promotion.
//
//     a: (3, 1), b: (4,)  ->  a + b: (3, 4)
//     try Tensor.binary(.pow, a, b)
//     x + 1.0, 2 * x, -x                  (Swift operators; they trap on error, use binary() to catch)
//
// Result dtype: DType.promote(a, b); bool with bool stays bool for + and maximum (logical or)
// and * and minimum (logical and), subtracting two bools is an error, other bool arithmetic is
// done in i64 (all as NumPy and torch); `/` on integers gives f32 (true division, as in torch). Contiguous same-shape f32/f64 operands take the SIMD kernels;
// everything else takes the strided loop.
import ComplexModule
import _CTideKernels

public enum BinaryOp: String, Sendable {
    case add, sub, mul, div, pow, maximum, minimum
    case rem = "remainder", floordiv = "floor_divide"  // the Lua names, so errors name the function called
}

extension Tensor {
    /// The result dtype of `op` on operands of types a and b.
    public static func resultType(_ op: BinaryOp, _ a: DType, _ b: DType) -> DType {
        var rt = DType.promote(a, b)
        if rt == .bool {
            switch op {
            case .add, .mul, .maximum, .minimum: return .bool
            default: rt = .i64
            }
        }
        if op == .div && rt == .i64 { rt = .f32 }
        return rt
    }

    public static func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, out: Tensor? = nil) throws -> Tensor {
        if out == nil, let r = try flatBinary(op, a, b) { return r }
        if let o = out {
            if Autograd.isRecording(a, b, o) {
                throw TensorError("\(op.rawValue)_: in-place op on tensors that require grad must go through apply_ (autograd)")
            }
            o.bumpVersion()
        } else if Autograd.isRecording(a, b) {
            return try binaryRecorded(op, a, b)
        }
        let shape = try broadcastShape(a.shape, b.shape, op: op.rawValue)
        if op == .sub && a.dtype == .bool && b.dtype == .bool {
            throw TensorError("sub: expected a number or non-bool tensor operand, got two bool tensors (use logical_xor)")
        }
        let rt = resultType(op, a.dtype, b.dtype)
        if op == .pow, rt == .i64, b.dtype != .bool,
           try Tensor.compare(.lt, b, Tensor.scalar(0, dtype: .i64)).reduce(.any, dims: nil).item() != 0 {
            // no integer result (NumPy raises too); an integer loop would truncate to 0
            throw TensorError("pow: integers to negative integer powers are not allowed (use a float base or exponent)")
        }
        if rt == .bool {  // bool with bool: or (+, maximum) / and (*, minimum)
            let r = try logical(op == .add || op == .maximum ? .or : .and, a, b)
            guard let out = out else { return r }
            guard out.shape == shape else {
                throw TensorError("\(op.rawValue): output has shape \(shapeString(out.shape)) but the result is \(shapeString(shape))")
            }
            try out.copy_(from: r)
            return out
        }
        if rt.isComplex && (op == .rem || op == .floordiv) {
            throw TensorError("\(op.rawValue): not defined for complex tensors")
        }
        if rt.isComplex && (op == .maximum || op == .minimum) {
            throw TensorError("\(op.rawValue): complex tensors have no order (got \(a.dtype.rawValue) and \(b.dtype.rawValue))")
        }
        let A = try a.to(rt), B = try b.to(rt)
        if let kop = op.kernelOp, rt == .f32 || rt == .f64 {
            if let r = try denseBinary(kop, A, B, shape: shape, out: out) { return r }
            // same shape, b laid out as a's transpose (x + y:t()): one fused pass
            if A.shape == shape, B.shape == shape, A.strides != B.strides {
                if let o = out {
                    if o.dtype == rt, o.shape == shape, transposedRun(kop, A, B, bStrides: B.strides, into: o) { try Cancellation.check(); return o }
                } else if let order = A.denseOrder() {
                    let o = try Tensor.uninitialized(shape: shape, dtype: rt, order: order)
                    if transposedRun(kop, A, B, bStrides: B.strides, into: o) { try Cancellation.check(); return o }
                }
            }
            // other mixed dense layouts: one blocked copy of b into a's layout, then the flat run
            if A.shape == shape, B.shape == shape, A.strides != B.strides, let order = A.denseOrder(), B.denseOrder() != nil {
                let B2 = try Tensor.uninitialized(shape: shape, dtype: rt, order: order)
                try B2.copy_(from: B)
                if let r = try denseBinary(kop, A, B2, shape: shape, out: out) { return r }
            }
        }
        let o: Tensor
        if let out = out {
            guard out.shape == shape else {
                throw TensorError("\(op.rawValue): output has shape \(shapeString(out.shape)) but the result is \(shapeString(shape))")
            }
            o = out.dtype == rt ? out : try Tensor(uninitialized: shape, dtype: rt)
        } else {
            o = try Tensor(uninitialized: shape, dtype: rt)
        }
        let sa = try A.broadcastStrides(to: shape, op: op.rawValue)
        let sb = try B.broadcastStrides(to: shape, op: op.rawValue)
        switch rt {
        case .f32: try runBinary(Float.self, op, A, sa, B, sb, o)
        case .f64: try runBinary(Double.self, op, A, sa, B, sb, o)
        case .i64: try runBinary(Int64.self, op, A, sa, B, sb, o)
        case .c64: try runBinary(C64.self, op, A, sa, B, sb, o)
        case .c128: try runBinary(C128.self, op, A, sa, B, sb, o)
        case .bool: fatalError("bool with bool is handled above")
        }
        if let out = out, out !== o { try out.copy_(from: o) ; return out }
        return o
    }

    /// The SIMD path: both operands dense in the same layout (or one a single element), so
    /// the op is one flat run over memory. The result keeps the operands' layout (a transposed
    /// input gives a transposed output, as in torch). nil when the layouts do not allow it.
    /// The common cases, first and cheapest (same float dtype, nothing to record, contiguous
    /// operands of one shape, or one of them 0-d as a Lua number becomes): no promotion,
    /// broadcasting or casts to work out, which is most of the cost of an op on a small tensor.
    /// nil when the general path is needed.
    @inline(__always)
    static func flatBinary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor) throws -> Tensor? {
        if op == .pow, a.dtype == b.dtype, b.shape.isEmpty, !b.requiresGrad {
            if a.dtype == .f32 { return try powerByConstant(a, Double(b.pointer(Float.self).pointee)) }
            if a.dtype == .f64 { return try powerByConstant(a, b.pointer(Double.self).pointee) }
        }
        guard a.dtype == b.dtype, a.dtype == .f32 || a.dtype == .f64, let kop = op.kernelOp,
              !a.requiresGrad, !b.requiresGrad, let (mode, lead) = flatLayout(a, b) else { return nil }
        // a contiguous lead lends its shape and strides arrays (no allocation)
        let o = Tensor(storage: try Storage(byteCount: lead.numel * a.dtype.itemSize), dtype: a.dtype,
                       shape: lead.shape, strides: lead.strides, offset: 0)
        if a.dtype == .f32 {
            Kernels.binary(kop, a.pointer(Float.self), b.pointer(Float.self), o.pointer(Float.self), lead.numel, mode: mode)
        } else {
            Kernels.binary(kop, a.pointer(Double.self), b.pointer(Double.self), o.pointer(Double.self), lead.numel, mode: mode)
        }
        try Cancellation.check()
        return o
    }

    /// The kernel mode and the operand whose shape the result takes, when a and b can be read
    /// as one flat run each: contiguous and of one shape, or one of them 0-d. nil otherwise.
    @inline(__always)
    static func flatLayout(_ a: Tensor, _ b: Tensor) -> (Int32, Tensor)? {
        if a.shape == b.shape && a.isContiguous && b.isContiguous { return (Int32(TIDE_MODE_VV), a) }
        if b.shape.isEmpty && a.isContiguous { return (Int32(TIDE_MODE_VS), a) }
        if a.shape.isEmpty && b.isContiguous { return (Int32(TIDE_MODE_SV), b) }
        return nil
    }

    /// `t op v` (or `v op t` when `scalarFirst`) for a number v next to a contiguous f32/f64
    /// tensor with nothing to record: a weak scalar (it keeps t's dtype), read in place
    /// instead of becoming a 0-d tensor. nil when the general path is needed.
    public static func flatBinary(_ op: BinaryOp, _ t: Tensor, scalar v: Double, scalarFirst: Bool) throws -> Tensor? {
        if op == .pow && !scalarFirst { return try powerByConstant(t, v) }
        guard t.dtype == .f32 || t.dtype == .f64, let kop = op.kernelOp, !t.requiresGrad, t.isContiguous else { return nil }
        let o = Tensor(storage: try Storage(byteCount: t.numel * t.dtype.itemSize), dtype: t.dtype,
                       shape: t.shape, strides: t.strides, offset: 0)
        let mode = Int32(scalarFirst ? TIDE_MODE_SV : TIDE_MODE_VS)
        if t.dtype == .f32 {
            var s = Float(v)
            withUnsafeMutablePointer(to: &s) { sp in
                Kernels.binary(kop, scalarFirst ? sp : t.pointer(Float.self), scalarFirst ? t.pointer(Float.self) : sp,
                               o.pointer(Float.self), t.numel, mode: mode)
            }
        } else {
            var s = v
            withUnsafeMutablePointer(to: &s) { sp in
                Kernels.binary(kop, scalarFirst ? sp : t.pointer(Double.self), scalarFirst ? t.pointer(Double.self) : sp,
                               o.pointer(Double.self), t.numel, mode: mode)
            }
        }
        try Cancellation.check()
        return o
    }

    /// x ^ c for the exponents scripts use most, through the SIMD kernels; each gives pow's
    /// own result (x^2 = x*x and x^-1 = 1/x are correctly rounded, as pow is; x^0 = 1 even for
    /// NaN). nil for other exponents and layouts.
    static func powerByConstant(_ t: Tensor, _ c: Double) throws -> Tensor? {
        guard t.dtype == .f32 || t.dtype == .f64, !t.requiresGrad, t.isContiguous, c == 2 || c == -1 || c == 1 || c == 0 else { return nil }
        if c == 0 { return try Tensor.full(t.shape, 1, dtype: t.dtype) }
        if c == 1 { return try t.clone() }
        if c == 2 { return t.dtype == .f32 ? try t.unary(.square) : try flatBinary(.mul, t, t) }  // f32: reads x once
        return try flatBinary(.div, t, scalar: 1, scalarFirst: true)
    }

    static func denseBinary(_ kop: Int32, _ A: Tensor, _ B: Tensor, shape: [Int], out: Tensor?) throws -> Tensor? {
        let mode: Int32
        let lead: Tensor
        if A.shape == shape && B.shape == shape && A.strides == B.strides { mode = Int32(TIDE_MODE_VV); lead = A }
        else if A.shape == shape && B.numel == 1 { mode = Int32(TIDE_MODE_VS); lead = A }
        else if B.shape == shape && A.numel == 1 { mode = Int32(TIDE_MODE_SV); lead = B }
        else { return nil }
        let o: Tensor
        if let out = out {
            guard out.dtype == lead.dtype, out.shape == shape, out.strides == lead.strides, lead.denseOrder() != nil else { return nil }
            o = out
        } else if lead.isContiguous {
            // the common case: share the lead operand's shape and strides arrays (no allocation)
            o = Tensor(storage: try Storage(byteCount: lead.numel * lead.dtype.itemSize), dtype: lead.dtype,
                       shape: lead.shape, strides: lead.strides, offset: 0)
        } else {
            guard let order = lead.denseOrder() else { return nil }
            o = try Tensor.uninitialized(shape: shape, dtype: lead.dtype, order: order)
        }
        let n = lead.numel
        if lead.dtype == .f32 {
            Kernels.binary(kop, A.pointer(Float.self), B.pointer(Float.self), o.pointer(Float.self), n, mode: mode)
        } else {
            Kernels.binary(kop, A.pointer(Double.self), B.pointer(Double.self), o.pointer(Double.self), n, mode: mode)
        }
        try Cancellation.check()
        return o
    }

    static func runBinary<T: ArithScalar>(_: T.Type, _ op: BinaryOp, _ a: Tensor, _ sa: [Int], _ b: Tensor, _ sb: [Int], _ o: Tensor) throws {
        let pa = a.storage.bytes.assumingMemoryBound(to: T.self)
        let pb = b.storage.bytes.assumingMemoryBound(to: T.self)
        let po = o.storage.bytes.assumingMemoryBound(to: T.self)
        let kop = (T.self == Float.self || T.self == Double.self) ? op.kernelOp : nil
        @inline(__always)
        func apply(_ f: (T, T) -> T) throws {
            try StridedLoop.tiledRows(o.shape, [o.strides, sa, sb], [o.offset, a.offset, b.offset]) { off, n, inner in
                try Cancellation.check()
                if let k = kop, inner[0] == 1, inner[1] <= 1, inner[2] <= 1, inner[1] + inner[2] >= 1 {
                    // a broadcast row: one SIMD call (vector-vector, vector-scalar or scalar-vector)
                    let mode = inner[1] == 1 && inner[2] == 1 ? TIDE_MODE_VV : (inner[1] == 1 ? TIDE_MODE_VS : TIDE_MODE_SV)
                    let x = UnsafeRawPointer(pa + off[1]), y = UnsafeRawPointer(pb + off[2]), z = UnsafeMutableRawPointer(po + off[0])
                    if T.self == Float.self {
                        tide_binary_f32(k, x.assumingMemoryBound(to: Float.self), y.assumingMemoryBound(to: Float.self), z.assumingMemoryBound(to: Float.self), n, Int32(mode))
                    } else {
                        tide_binary_f64(k, x.assumingMemoryBound(to: Double.self), y.assumingMemoryBound(to: Double.self), z.assumingMemoryBound(to: Double.self), n, Int32(mode))
                    }
                    return
                }
                var x = pa + off[1], y = pb + off[2], z = po + off[0]
                let ix = inner[1], iy = inner[2], iz = inner[0]
                if ix == 1 && iy == 1 && iz == 1 {
                    for j in 0 ..< n { z[j] = f(x[j], y[j]) }
                    return
                }
                for _ in 0 ..< n {
                    z.pointee = f(x.pointee, y.pointee)
                    x += ix; y += iy; z += iz
                }
            }
        }
        switch op {
        case .add: try apply { T.tideAdd($0, $1) }
        case .sub: try apply { T.tideSub($0, $1) }
        case .mul: try apply { T.tideMul($0, $1) }
        case .div: try apply { T.tideDiv($0, $1) }
        case .pow: try apply { T.tidePow($0, $1) }
        case .rem: try apply { T.tideRem($0, $1) }
        case .maximum: try apply { T.tideMax($0, $1) }
        case .minimum: try apply { T.tideMin($0, $1) }
        case .floordiv: try apply { T.tideFloorDiv($0, $1) }
        }
    }

    /// A 0-d tensor for a Lua/Swift number next to this tensor (a "weak" scalar: it does not
    /// widen this tensor's float type).
    public func scalarLike(_ v: Double) throws -> Tensor {
        let isInt = v == v.rounded() && abs(v) < 9e15
        return try Tensor.scalar(v, dtype: DType.promote(dtype, scalarIsIntegral: isInt))
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor { try! binary(.add, a, b) }
    public static func - (a: Tensor, b: Tensor) -> Tensor { try! binary(.sub, a, b) }
    public static func * (a: Tensor, b: Tensor) -> Tensor { try! binary(.mul, a, b) }
    public static func / (a: Tensor, b: Tensor) -> Tensor { try! binary(.div, a, b) }
    public static func + (a: Tensor, b: Double) -> Tensor { try! binary(.add, a, a.scalarLike(b)) }
    public static func - (a: Tensor, b: Double) -> Tensor { try! binary(.sub, a, a.scalarLike(b)) }
    public static func * (a: Tensor, b: Double) -> Tensor { try! binary(.mul, a, a.scalarLike(b)) }
    public static func / (a: Tensor, b: Double) -> Tensor { try! binary(.div, a, a.scalarLike(b)) }
    public static func * (a: Double, b: Tensor) -> Tensor { try! binary(.mul, b.scalarLike(a), b) }
    public static prefix func - (a: Tensor) -> Tensor { try! binary(.sub, a.scalarLike(0), a) }
}

// MARK: - derivative

extension Tensor {
    /// The recorded form of binary(op, a, b). Gradients come back in the broadcast shape; the
    /// engine sums them down to each input's shape.
    static func binaryRecorded(_ op: BinaryOp, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        let A = a.alias(), B = b.alias()
        let saved: [Tensor]
        switch op {
        case .add, .sub, .floordiv: saved = []
        // each factor is needed only for the other's gradient: an in-place write into a
        // factor whose partner needs no gradient does not touch the graph
        case .mul: saved = (b.requiresGrad ? [A] : []) + (a.requiresGrad ? [B] : [])
        default: saved = [A, B]
        }
        return try Autograd.op(op.rawValue, [a, b], forward: { try binary(op, a, b) }, backward: { g, y, n in
            switch op {
            case .add: return [g, g]
            case .sub: return [g, n.needs(1) ? try g.unary(.neg) : nil]
            case .mul:
                return [n.needs(0) ? try binary(.mul, g, B) : nil, n.needs(1) ? try binary(.mul, g, A) : nil]
            case .div:
                let ga = try binary(.div, g, B)
                return [ga, n.needs(1) ? try binary(.mul, ga, y).unary(.neg) : nil]
            case .pow:
                // d/da = b a^(b-1), 0 where b = 0 (a^0 is constant; 0 * 0^-1 would be NaN);
                // d/db = a^b log a (0 where a = 0), both as torch
                var ga: Tensor? = nil
                if n.needs(0) {
                    let d = try binary(.mul, B, binary(.pow, A, binary(.sub, B, B.scalarLike(1))))
                    ga = try binary(.mul, g, Tensor.where(compare(.eq, B, B.scalarLike(0)), d.scalarLike(0), d))
                }
                var gb: Tensor? = nil
                if n.needs(1) {
                    let safeLog = try Tensor.where(compare(.eq, A, A.scalarLike(0)), A.scalarLike(0).to(y.dtype), A.to(y.dtype).unary(.log))
                    gb = try binary(.mul, g, binary(.mul, y, safeLog))
                }
                return [ga, gb]
            case .maximum, .minimum:
                // ties split the gradient evenly (as torch)
                let win = try compare(op == .maximum ? .gt : .lt, A, B), tie = try compare(.eq, A, B)
                let half = try binary(.mul, g, g.scalarLike(0.5))
                let zero = try g.scalarLike(0)
                let ga = try Tensor.where(win, g, Tensor.where(tie, half, zero))
                let gb = try Tensor.where(win, zero, Tensor.where(tie, half, g))
                return [ga, gb]
            case .rem:
                let q = try binary(.floordiv, A, B)
                return [g, n.needs(1) ? try binary(.mul, g, q).unary(.neg) : nil]
            case .floordiv:  // a step function: zero gradients (torch), even where g is inf or NaN
                let zeros = try Tensor.zeros(g.shape, dtype: g.dtype)
                return [n.needs(0) ? zeros : nil, n.needs(1) ? zeros : nil]
            }
        }, savesOutput: op == .div || op == .pow, saved: saved)
    }
}
