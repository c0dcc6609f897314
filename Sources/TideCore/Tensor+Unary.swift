// Tensor+Unary: elementwise functions of one tensor.
//
//     x: any shape -> same shape
//     try x.unary(.exp), try x.unary(.gelu), try x.clamp(min: 0, max: 1)
//
// Integer and bool inputs are computed in f32 for transcendental functions (as torch does);
// abs, neg, sign, floor/ceil/round keep integer types. Complex supports abs (-> real), exp, log,
// sqrt, sin, cos, tanh, neg.
import ComplexModule
import RealModule

public enum UnaryOp: String, CaseIterable, Sendable {
    case abs, neg, exp, log, log1p, expm1, sqrt, rsqrt, sin, cos, tan, tanh, sigmoid, relu
    case gelu, gelu_tanh, silu, softplus, sign, floor, ceil, round, trunc, square, reciprocal
    case log2, log10, asin, acos, atan, sinh, cosh, erf
}

/// Float element types with the math the unary ops need.
public protocol FloatScalar: ArithScalar, Real, BinaryFloatingPoint {}
extension Float: FloatScalar {}
extension Double: FloatScalar {}

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
    case .gelu: return x * (1 + T.erf(x / T(2).squareRoot())) / 2
    case .gelu_tanh:
        let c = (2 / T.pi).squareRoot()
        return x * (1 + T.tanh(c * (x + T(0.044715) * x * x * x))) / 2
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

    public func unary(_ op: UnaryOp) throws -> Tensor {
        if dtype == .f32, let k = op.kernelOp, let order = denseOrder() {
            // SIMD path: one flat run; the result keeps this tensor's layout
            let out = try Tensor.uninitialized(shape: shape, dtype: .f32, order: order)
            Kernels.unaryF32(k, pointer(Float.self), out.pointer(Float.self), numel)
            try Cancellation.check()
            return out
        }
        switch dtype {
        case .f32: return try mapElements(Float.self, Float.self) { applyUnary(op, $0) }
        case .f64: return try mapElements(Double.self, Double.self) { applyUnary(op, $0) }
        case .i64, .bool:
            switch op {
            case .abs: return try to(.i64).mapElements(Int64.self, Int64.self) { $0 < 0 ? 0 &- $0 : $0 }  // wraps at Int64.min, as NumPy
            case .neg: return try to(.i64).mapElements(Int64.self, Int64.self) { 0 &- $0 }
            case .sign: return try to(.i64).mapElements(Int64.self, Int64.self) { $0.signum() }
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
        switch op {
        case .abs: return try mapElements(C.self, R.self) { $0.length }
        case .neg: return try mapElements(C.self, C.self) { -$0 }
        case .exp: return try mapElements(C.self, C.self) { C.exp($0) }
        case .log: return try mapElements(C.self, C.self) { C.log($0) }
        case .sqrt: return try mapElements(C.self, C.self) { C.sqrt($0) }
        case .sin: return try mapElements(C.self, C.self) { C.sin($0) }
        case .cos: return try mapElements(C.self, C.self) { C.cos($0) }
        case .tanh: return try mapElements(C.self, C.self) { C.tanh($0) }
        case .square: return try mapElements(C.self, C.self) { $0 * $0 }
        case .reciprocal: return try mapElements(C.self, C.self) { C(1, 0) / $0 }
        default: throw TensorError("\(op.rawValue): not defined for complex tensors (\(dtype.rawValue))")
        }
    }

    /// Elements limited to [min, max] (either bound optional). NaN stays NaN.
    public func clamp(min lo: Double?, max hi: Double?) throws -> Tensor {
        guard !dtype.isComplex else { throw TensorError("clamp: not defined for complex tensors") }
        var r = self
        if let lo = lo { r = try Tensor.binary(.maximum, r, scalarLike(lo)) }
        if let hi = hi { r = try Tensor.binary(.minimum, r, scalarLike(hi)) }
        return r === self ? try clone() : r
    }

    // MARK: complex parts

    public func real() throws -> Tensor {
        guard dtype.isComplex else { return try clone() }
        return dtype == .c64 ? try mapElements(C64.self, Float.self) { $0.real } : try mapElements(C128.self, Double.self) { $0.real }
    }
    public func imag() throws -> Tensor {
        guard dtype.isComplex else { return try Tensor.zeros(shape, dtype: dtype) }
        return dtype == .c64 ? try mapElements(C64.self, Float.self) { $0.imaginary } : try mapElements(C128.self, Double.self) { $0.imaginary }
    }
    public func conj() throws -> Tensor {
        guard dtype.isComplex else { return try clone() }
        return dtype == .c64 ? try mapElements(C64.self, C64.self) { $0.conjugate } : try mapElements(C128.self, C128.self) { $0.conjugate }
    }
    public func angle() throws -> Tensor {
        switch dtype {
        case .c64: return try mapElements(C64.self, Float.self) { $0.phase }
        case .c128: return try mapElements(C128.self, Double.self) { $0.phase }
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
