// Tensor+Unary: elementwise functions of one tensor.
//
//     x: any shape -> same shape
//     try x.unary(.exp), try x.unary(.gelu), try x.clamp(min: 0, max: 1)
//
// Integer and bool inputs are computed in f32 for transcendental functions (as torch does);
// abs, neg, sign, floor/ceil/round keep integer types. Complex supports abs (-> real), neg,
// square, reciprocal, exp, expm1, log, log1p, log2, log10, sqrt, rsqrt, sigmoid, sin, cos, tan,
// sinh, cosh, tanh, asin, acos, atan (principal branches, with NumPy's values at zero, inf and
// NaN: ComplexMath.swift).
import ComplexModule
import RealModule
import _CTideKernels

public enum UnaryOp: String, CaseIterable, Sendable {
    case abs, neg, exp, log, log1p, expm1, sqrt, rsqrt, sin, cos, tan, tanh, sigmoid, relu
    case gelu, gelu_tanh, silu, softplus, sign, floor, ceil, round, trunc, square, reciprocal
    case log2, log10, asin, acos, atan, sinh, cosh, erf
}

/// Float element types with the math the unary ops need.
public protocol FloatScalar: ArithScalar, Real, BinaryFloatingPoint {}
extension Float: FloatScalar {}
extension Double: FloatScalar {}

/// 1 + tanh(a) as 2 / (1 + e), e = e^(-2|a|), times e for a < 0: no cancellation where tanh
/// is near -1 (the negative tail of GELU's tanh form).
@inline(__always)
func onePlusTanh<T: FloatScalar>(_ a: T) -> T {
    let e = T.exp(-2 * Swift.abs(a))
    let r = 2 / (1 + e)
    return a < 0 ? r * e : r
}

@inline(__always)
func applyUnary<T: FloatScalar>(_ op: UnaryOp, _ x: T) -> T {
    switch op {
    case .abs: return Swift.abs(x)
    case .neg: return -x
    case .exp: return T.exp(x)
    case .log: return T.log(x)
    case .log1p: return T.log(onePlus: x)
    case .expm1: return T.expMinusOne(x)
    case .sqrt: return x.squareRoot()
    case .rsqrt: return 1 / x.squareRoot()
    case .sin: return T.sin(x)
    case .cos: return T.cos(x)
    case .tan: return T.tan(x)
    case .tanh: return T.tanh(x)
    case .sigmoid: return x >= 0 ? 1 / (1 + T.exp(-x)) : T.exp(x) / (1 + T.exp(x))
    case .relu: return x > 0 ? x : (x.isNaN ? x : 0)
    // 1 + erf(x / sqrt 2) written erfc(-x / sqrt 2): accurate in the negative tail
    case .gelu: return x * (T.erfc(-x / T(2).squareRoot()) / 2)  // Phi first: x * 2 would overflow at 1e308
    case .gelu_tanh:
        let c = (2 / T.pi).squareRoot()
        return x * (onePlusTanh(c * (x + T(0.044715) * x * x * x)) / 2)
    case .silu: return x >= 0 ? x / (1 + T.exp(-x)) : x * T.exp(x) / (1 + T.exp(x))
    case .softplus: return x > 20 ? x : T.log(onePlus: T.exp(x))
    case .sign: return x > 0 ? 1 : (x < 0 ? -1 : x)
    case .floor: return x.rounded(.down)
    case .ceil: return x.rounded(.up)
    case .round: return x.rounded(.toNearestOrEven)
    case .trunc: return x.rounded(.towardZero)
    case .square: return x * x
    case .reciprocal: return 1 / x
    case .log2: return T.log2(x)
    case .log10: return T.log10(x)
    case .asin: return T.asin(x)
    case .acos: return T.acos(x)
    case .atan: return T.atan(x)
    case .sinh: return T.sinh(x)
    case .cosh: return T.cosh(x)
    case .erf: return T.erf(x)
    }
}

extension Tensor {
    /// Elementwise map into a new contiguous tensor of type R, reading self as S.
    func mapElements<S: TideScalar, R: TideScalar>(_: S.Type, _: R.Type, _ f: (S) -> R) throws -> Tensor {
        let out = try Tensor(uninitialized: shape, dtype: R.dtype)
        let src = storage.bytes.assumingMemoryBound(to: S.self)
        let dst = out.pointer(R.self)
        var k = 0
        try StridedLoop.rows(shape, [strides], [offset]) { off, n, inner in
            try Cancellation.check()
            var p = src + off[0]
            let s = inner[0]
            for _ in 0 ..< n { dst[k] = f(p.pointee); k += 1; p += s }
        }
        return out
    }

    /// torch's message for -x on a bool tensor.
    /// (No function name: the binding that raises it adds the one the user called.)
    public static let boolNegationMessage = "unary minus (the `-` operator) on a bool tensor is not supported; to invert a mask, use logical_not()"

    public func unary(_ op: UnaryOp) throws -> Tensor {
        if Autograd.isRecording(self) { return try unaryRecorded(op) }
        if dtype == .f32, let k = op.kernelOp, let order = denseOrder() {
            // SIMD path: one flat run; the result keeps this tensor's layout
            let out = try Tensor.uninitialized(shape: shape, dtype: .f32, order: order)
            Kernels.unaryF32(k, pointer(Float.self), out.pointer(Float.self), numel)
            try Cancellation.check()
            return out
        }
        if dtype == .f32, let k = op.kernelOp, dim >= 2, strides[dim - 1] == 1, shape[dim - 1] >= 16 {
            // rows with a unit inner stride (a narrow or select of a wider tensor): the SIMD
            // kernel row by row, rows split over the cores; the result is contiguous
            let inner = shape[dim - 1], rows = numel / inner
            let out = try Tensor(uninitialized: shape, dtype: .f32)
            let src = pointer(Float.self), dst = out.pointer(Float.self)
            let lead = Array(shape.dropLast()), leadStrides = Array(strides.dropLast())
            try Threads.parallelFor(rows, grain: Swift.max(1, Kernels.grain / inner)) { lo, hi in
                for r in lo ..< hi {
                    var rem = r, off = 0
                    for d in stride(from: lead.count - 1, through: 0, by: -1) {
                        off += (rem % lead[d]) * leadStrides[d]
                        rem /= lead[d]
                    }
                    tide_unary_f32(k, src + off, dst + r * inner, inner)
                }
            }
            try Cancellation.check()
            return out
        }
        if dtype == .f32 || dtype == .f64, numel >= 2 * Kernels.grain, let order = denseOrder() {
            // no SIMD kernel for this op: the scalar function over one flat run, split over the
            // cores (the result keeps this tensor's layout)
            let out = try Tensor.uninitialized(shape: shape, dtype: dtype, order: order)
            func run<T: FloatScalar>(_: T.Type) throws {
                let src = pointer(T.self), dst = out.pointer(T.self)
                try Threads.parallelFor(numel, grain: Kernels.grain) { lo, hi in
                    try Cancellation.check()
                    for i in lo ..< hi { dst[i] = applyUnary(op, src[i]) }
                }
            }
            if dtype == .f32 { try run(Float.self) } else { try run(Double.self) }
            return out
        }
        switch dtype {
        case .f32: return try mapElements(Float.self, Float.self) { applyUnary(op, $0) }
        case .f64: return try mapElements(Double.self, Double.self) { applyUnary(op, $0) }
        case .i64, .bool:
            switch op {
            case .abs: return try to(.i64).mapElements(Int64.self, Int64.self) { $0 < 0 ? 0 &- $0 : $0 }  // wraps at Int64.min, as NumPy
            case .neg:
                if dtype == .bool { throw TensorError(Tensor.boolNegationMessage) }
                return try mapElements(Int64.self, Int64.self) { 0 &- $0 }
            case .sign: return dtype == .bool ? try clone() : try to(.i64).mapElements(Int64.self, Int64.self) { $0.signum() }  // bool: itself (torch)
            case .floor, .ceil, .round, .trunc: return try to(.i64, copy: true)
            case .square: return try to(.i64).mapElements(Int64.self, Int64.self) { $0 &* $0 }
            case .relu: return try to(.i64).mapElements(Int64.self, Int64.self) { Swift.max($0, 0) }
            default: return try to(.f32).unary(op)
            }
        case .c64: return try complexUnary(Float.self, op)
        case .c128: return try complexUnary(Double.self, op)
        }
    }

    func complexUnary<R: FloatScalar>(_: R.Type, _ op: UnaryOp) throws -> Tensor {
        typealias C = Complex<R>
        if let k = op.complexKernelOp { return try complexMap(R.self, k) }
        switch op {
        case .abs: return try mapElements(C.self, R.self) { $0.tideAbs }
        case .neg: return try mapElements(C.self, C.self) { -$0 }
        case .square: return try mapElements(C.self, C.self) { $0 * $0 }
        default: throw TensorError("\(op.rawValue): not defined for complex tensors (\(dtype.rawValue))")
        }
    }

    /// Elements limited to [min, max] (either bound optional). NaN stays NaN.
    public func clamp(min lo: Double?, max hi: Double?) throws -> Tensor {
        guard !dtype.isComplex else { throw TensorError("clamp: complex tensors have no order (got \(dtype.rawValue))") }
        if Autograd.isRecording(self) {
            return try Tensor.clamp(self, min: lo.map { try scalarLike($0) }, max: hi.map { try scalarLike($0) })
        }
        var r = self
        if let lo = lo { r = try Tensor.binary(.maximum, r, scalarLike(lo)) }
        if let hi = hi {
            // the second bound in place on the first one's fresh result (no second buffer),
            // unless it promotes (an i64 x with a bound of 2.5 or inf gives f32)
            let h = try scalarLike(hi)
            let inPlace = r !== self && !Autograd.isRecording(r) && r.isContiguous && DType.promote(r.dtype, h.dtype) == r.dtype
            r = try Tensor.binary(.minimum, r, h, out: inPlace ? r : nil)
        }
        return r === self ? try clone() : r
    }

    /// min(max(x, lo), hi) with tensor bounds (broadcast), either optional. The gradient is
    /// torch's: x gets it where lo <= x <= hi (the whole of it on a bound), lo where it is the
    /// result (x < lo < hi), hi where it is (max(x, lo) > hi); with lo == hi and x below, none.
    public static func clamp(_ x: Tensor, min lo: Tensor?, max hi: Tensor?) throws -> Tensor {
        func forward() throws -> Tensor {
            var r = x
            if let lo = lo { r = try binary(.maximum, r, lo) }
            if let hi = hi { r = try binary(.minimum, r, hi) }
            return r === x ? try x.clone() : r
        }
        let inputs = [x] + [lo, hi].compactMap { $0 }
        guard Autograd.isRecording(inputs) else { return try forward() }
        let xs = x.alias(), ls = lo?.alias(), hs = hi?.alias()
        return try Autograd.op("clamp", inputs, forward: forward, backward: { g, _, n in
            let zero = try g.scalarLike(0)
            var inside = try Tensor.compare(.eq, xs, xs)   // false at NaN
            var lowWins: Tensor? = nil, above: Tensor? = nil
            if let l = ls {
                inside = try logical(.and, inside, compare(.ge, xs, l))
                lowWins = try compare(.lt, xs, l)
            }
            if let h = hs {
                inside = try logical(.and, inside, compare(.le, xs, h))
                let m = try ls.map { try binary(.maximum, xs, $0) } ?? xs
                above = try compare(.gt, m, h)
                if let l = ls, let w = lowWins { lowWins = try logical(.and, w, compare(.lt, l, h)) }
            }
            var out: [Tensor?] = [n.needs(0) ? try Tensor.where(inside, g, zero) : nil]
            if ls != nil { out.append(n.needs(out.count) ? try Tensor.where(lowWins!, g, zero) : nil) }
            if hs != nil { out.append(n.needs(out.count) ? try Tensor.where(above!, g, zero) : nil) }
            return out
        }, saved: [xs] + [ls, hs].compactMap { $0 })
    }

    // MARK: complex parts

    /// The real or imaginary parts of a complex tensor as a real view of the same storage (each
    /// element is (re, im), so the part is every other word): writes reach self, as in torch.
    /// A real tensor's real part is itself (a view, as torch's and NumPy's), its imaginary
    /// part zeros.
    public func real() throws -> Tensor {
        guard dtype.isComplex else { return try viewAs(shape) }
        return partView(0)
    }
    public func imag() throws -> Tensor {
        guard dtype.isComplex else { return try Tensor.zeros(shape, dtype: dtype) }
        return partView(1)
    }
    private func partView(_ part: Int) -> Tensor {
        Tensor(storage: storage, dtype: dtype == .c64 ? .f32 : .f64, shape: shape,
               strides: strides.map { $0 * 2 }, offset: offset * 2 + part)
    }
    public func conj() throws -> Tensor {
        guard dtype.isComplex else { return try clone() }
        return dtype == .c64 ? try mapElements(C64.self, C64.self) { $0.conjugate } : try mapElements(C128.self, C128.self) { $0.conjugate }
    }
    public func angle() throws -> Tensor {
        switch dtype {
        case .c64: return try mapElements(C64.self, Float.self) { $0.tideArg }
        case .c128: return try mapElements(C128.self, Double.self) { $0.tideArg }
        case .f64: return try mapElements(Double.self, Double.self) { $0 < 0 ? .pi : ($0.isNaN ? $0 : 0) }
        default: return try to(.f32).mapElements(Float.self, Float.self) { $0 < 0 ? .pi : ($0.isNaN ? $0 : 0) }
        }
    }
    /// abs * exp(i * angle): (abs, angle) real of the same type -> complex.
    public static func polar(_ abs: Tensor, _ angle: Tensor) throws -> Tensor {
        let rt = DType.promote(abs.dtype, angle.dtype) == .f64 ? DType.f64 : .f32
        let c = try binary(.mul, abs.to(rt.complexType), try angle.to(rt).unary(.cos).to(rt.complexType))
        let i = try Tensor.binary(.mul, abs.to(rt.complexType), try angle.to(rt).unary(.sin).to(rt.complexType))
        let j = try Tensor.full([], complex: C128(0, 1), dtype: rt.complexType)
        return try binary(.add, c, binary(.mul, i, j))
    }
}

// MARK: - derivative

extension Tensor {
    /// The recorded form of unary(op): d op(x) / dx applied to the incoming gradient.
    func unaryRecorded(_ op: UnaryOp) throws -> Tensor {
        guard dtype == .f32 || dtype == .f64 else {
            throw TensorError("\(op.rawValue): autograd supports f32 and f64 only, got \(dtype.rawValue)")
        }
        // ops whose derivative is a function of the output alone do not keep the input
        let outputOnly: Set<UnaryOp> = [.exp, .expm1, .sqrt, .rsqrt, .tan, .tanh, .sigmoid, .reciprocal, .neg]
        let x: Tensor? = outputOnly.contains(op) ? nil : alias()
        return try Autograd.op(op.rawValue, [self], forward: { try unary(op) }, backward: { g, y, _ in
            [try Tensor.unaryBackward(op, x: x ?? y, y: y, grad: g)]
        }, savesOutput: true, saved: x.map { [$0] } ?? [])
    }

    /// dx = g * op'(x), element by element, from x, y = op(x) and g (all the same shape).
    static func unaryBackward(_ op: UnaryOp, x: Tensor, y: Tensor, grad g: Tensor) throws -> Tensor? {
        switch op {
        // zero almost everywhere: an explicit zero, so inputs get a .grad of zeros (torch)
        case .sign, .floor, .ceil, .round, .trunc: return try Tensor.zeros(x.shape, dtype: x.dtype)
        default: break
        }
        let xc = try x.contiguous(), yc = try y.contiguous(), gc = try g.to(x.dtype).contiguous()
        let out = try Tensor(uninitialized: x.shape, dtype: x.dtype)
        let n = x.numel
        let simd: Set<UnaryOp> = [.exp, .tanh, .sigmoid, .relu, .silu, .gelu, .gelu_tanh]
        if x.dtype == .f32, simd.contains(op), let k = op.kernelOp {
            Kernels.unaryGradF32(k, xc.pointer(Float.self), yc.pointer(Float.self), gc.pointer(Float.self), out.pointer(Float.self), n)
            return out
        }
        func run<T: FloatScalar>(_: T.Type) throws {
            let X = UnsafePointer(xc.pointer(T.self)), Y = UnsafePointer(yc.pointer(T.self))
            let G = UnsafePointer(gc.pointer(T.self)), O = out.pointer(T.self)
            try Threads.parallelFor(n, grain: 1 << 16) { lo, hi in
                unaryDerivative(op, X + lo, Y + lo, G + lo, O + lo, hi - lo)
            }
        }
        if x.dtype == .f32 { try run(Float.self) } else { try run(Double.self) }
        return out
    }
}

/// o[i] = g[i] * op'(x[i]) (y = op(x) where that is cheaper). One loop per op: no per-element
/// dispatch.
@inline(__always)
private func eachElement<T: FloatScalar>(_ n: Int, _ o: UnsafeMutablePointer<T>, _ f: (Int) -> T) {
    for i in 0 ..< n { o[i] = f(i) }
}

func unaryDerivative<T: FloatScalar>(_ op: UnaryOp, _ x: UnsafePointer<T>, _ y: UnsafePointer<T>,
                                     _ g: UnsafePointer<T>, _ o: UnsafeMutablePointer<T>, _ n: Int) {
    let invSqrt2 = 1 / T(2).squareRoot(), invSqrt2Pi = 1 / (2 * T.pi).squareRoot()
    switch op {
    case .abs: eachElement(n, o) { g[$0] * (x[$0] > 0 ? 1 : (x[$0] < 0 ? -1 : 0)) }
    case .neg: eachElement(n, o) { -g[$0] }
    case .exp: eachElement(n, o) { g[$0] * y[$0] }
    case .log: eachElement(n, o) { g[$0] / x[$0] }
    case .log1p: eachElement(n, o) { g[$0] / (1 + x[$0]) }
    case .expm1: eachElement(n, o) { g[$0] * (y[$0] + 1) }
    case .sqrt: eachElement(n, o) { g[$0] / (2 * y[$0]) }
    case .rsqrt: eachElement(n, o) { -g[$0] * y[$0] * y[$0] * y[$0] / 2 }
    case .sin: eachElement(n, o) { g[$0] * T.cos(x[$0]) }
    case .cos: eachElement(n, o) { -g[$0] * T.sin(x[$0]) }
    case .tan: eachElement(n, o) { g[$0] * (1 + y[$0] * y[$0]) }
    case .tanh: eachElement(n, o) { g[$0] * (1 - y[$0] * y[$0]) }
    case .sigmoid: eachElement(n, o) { g[$0] * y[$0] * (1 - y[$0]) }
    case .relu: eachElement(n, o) { x[$0] > 0 ? g[$0] : 0 }
    case .gelu:
        eachElement(n, o) { i in
            let v = x[i]
            let cdf: T = T.erfc(-v * invSqrt2) / 2
            let pdf: T = invSqrt2Pi * T.exp(-v * v / 2)
            return g[i] * (cdf + v * pdf)
        }
    case .gelu_tanh:
        let c = (2 / T.pi).squareRoot(), a = T(0.044715)
        eachElement(n, o) { i in
            let v = x[i]
            let v2: T = v * v
            // 1 + tanh t and sech^2 t = 4e / (1 + e)^2 from e = e^(-2|t|): no cancellation in
            // either tail; once sech^2 underflows the second term is 0 (not 0 * inf)
            let t: T = c * (v + a * v2 * v)
            let e: T = T.exp(-2 * Swift.abs(t)), r: T = 2 / (1 + e)
            let p: T = t < 0 ? r * e : r
            let vs: T = v * (r * r * e)
            let d: T = p / 2 + (vs == 0 ? 0 : vs * c * (1 + 3 * a * v2) / 2)
            return g[i] * d
        }
    case .silu:
        eachElement(n, o) { i in
            let v = x[i]
            let s: T = v >= 0 ? 1 / (1 + T.exp(-v)) : T.exp(v) / (1 + T.exp(v))
            let d: T = s * (1 + v * (1 - s))
            return g[i] * d
        }
    case .softplus:
        eachElement(n, o) { i in
            let v = x[i]
            let s: T = v >= 0 ? 1 / (1 + T.exp(-v)) : T.exp(v) / (1 + T.exp(v))
            return g[i] * (v > 20 ? 1 : s)
        }
    case .square: eachElement(n, o) { 2 * x[$0] * g[$0] }
    case .reciprocal: eachElement(n, o) { -g[$0] * y[$0] * y[$0] }
    case .log2: eachElement(n, o) { g[$0] / (x[$0] * T.log(2)) }
    case .log10: eachElement(n, o) { g[$0] / (x[$0] * T.log(10)) }
    case .asin: eachElement(n, o) { g[$0] / (1 - x[$0] * x[$0]).squareRoot() }
    case .acos: eachElement(n, o) { -g[$0] / (1 - x[$0] * x[$0]).squareRoot() }
    case .atan: eachElement(n, o) { g[$0] / (1 + x[$0] * x[$0]) }
    case .sinh: eachElement(n, o) { g[$0] * T.cosh(x[$0]) }
    case .cosh: eachElement(n, o) { g[$0] * T.sinh(x[$0]) }
    case .erf:
        let c: T = 2 / T.pi.squareRoot()
        eachElement(n, o) { g[$0] * c * T.exp(-x[$0] * x[$0]) }
    case .sign, .floor, .ceil, .round, .trunc: eachElement(n, o) { _ in 0 }
    }
}
