// ComplexMath: the element rules of complex tensors, component by component as NumPy and
// PyTorch keep them.
//
//     Complex.tideEqual(a, b)         // a.re == b.re && a.im == b.im (NaN equals nothing)
//     z.tideIsTrue                    // re != 0 || im != 0 (NaN counts as true)
//     z.tideAbs, z.tideArg            // hypot(re, im), atan2(im, re)
//     Complex.tideDivide(a, b)        // NumPy's division: (1 + 0i) / 0 = inf + nan i
//     try x.complexMap(Double.self, Int32(TIDE_CX_LOG))   // one C loop over the tensor
//
// Why not swift-numerics' own operations: its Complex treats every non-finite value as one
// point at infinity. Its == makes inf equal to NaN, `length` makes 2 + nan i infinite, `phase`
// of 0 is NaN, `/` by 0 gives inf, and its elementary functions return any non-finite input
// unchanged (exp(0 + inf i) = inf instead of nan + nan i). The elementary functions are the C
// library's Annex G ones and NumPy's formulas (_CTideKernels/complex_math.c); this file holds
// the rest. Components are read through `re` / `im` (TideScalar.swift), never `real` /
// `imaginary`, which read NaN for an infinite value. `+`, `-` and `*` of swift-numerics are the
// plain component formulas, as NumPy's, and stay in use.
import ComplexModule
import RealModule
import _CTideKernels

extension Complex where RealType: BinaryFloatingPoint {
    /// IEEE equality of both components: inf + 0i equals itself, nothing equals NaN.
    @inline(__always) static func tideEqual(_ a: Complex, _ b: Complex) -> Bool { a.re == b.re && a.im == b.im }

    /// Truth of a complex value (casts to bool, any, all, nonzero, where): either part nonzero.
    @inline(__always) var tideIsTrue: Bool { re != 0 || im != 0 }

    /// inf in either part, even with NaN in the other (NumPy's isinf).
    @inline(__always) var tideIsInfinite: Bool { re.isInfinite || im.isInfinite }

    /// a / b as NumPy's divide loop (Smith's method; a zero divisor gives inf or nan in each
    /// component), through the one C definition in tide_complex.h.
    @inline(__always) static func tideDivide(_ a: Complex, _ b: Complex) -> Complex {
        if RealType.self == Float.self {
            return unsafeBitCast(tide_cdiv_f32(unsafeBitCast(a, to: tide_c64.self), unsafeBitCast(b, to: tide_c64.self)), to: Complex.self)
        }
        return unsafeBitCast(tide_cdiv_f64(unsafeBitCast(a, to: tide_c128.self), unsafeBitCast(b, to: tide_c128.self)), to: Complex.self)
    }

    /// a ^ b as NumPy's npy_cpow (see tide_complex.h).
    @inline(__always) static func tidePower(_ a: Complex, _ b: Complex) -> Complex {
        if RealType.self == Float.self {
            return unsafeBitCast(tide_cpow_f32(unsafeBitCast(a, to: tide_c64.self), unsafeBitCast(b, to: tide_c64.self)), to: Complex.self)
        }
        return unsafeBitCast(tide_cpow_f64(unsafeBitCast(a, to: tide_c128.self), unsafeBitCast(b, to: tide_c128.self)), to: Complex.self)
    }

    /// The mean of components summed over `n` values: each part divided by the real count (a
    /// complex division would mix a NaN real part into the imaginary one).
    @inline(__always) func tideScaled(by n: RealType) -> Complex { Complex(re / n, im / n) }
}

extension Complex where RealType: Real {
    /// |z| = hypot(re, im): inf when either part is inf (even with NaN), else NaN with a NaN.
    @inline(__always) var tideAbs: RealType { RealType.hypot(re, im) }
    /// arg z = atan2(im, re): 0 at 0 + 0i and inf + 0i, pi / 2 at 0 + inf i.
    @inline(__always) var tideArg: RealType { RealType.atan2(y: im, x: re) }
}

extension UnaryOp {
    /// The C loop (tide_complex.h) computing this op on complex values; nil where Swift does it.
    var complexKernelOp: Int32? {
        switch self {
        case .exp: return Int32(TIDE_CX_EXP)
        case .log: return Int32(TIDE_CX_LOG)
        case .sqrt: return Int32(TIDE_CX_SQRT)
        case .sin: return Int32(TIDE_CX_SIN)
        case .cos: return Int32(TIDE_CX_COS)
        case .tan: return Int32(TIDE_CX_TAN)
        case .sinh: return Int32(TIDE_CX_SINH)
        case .cosh: return Int32(TIDE_CX_COSH)
        case .tanh: return Int32(TIDE_CX_TANH)
        case .asin: return Int32(TIDE_CX_ASIN)
        case .acos: return Int32(TIDE_CX_ACOS)
        case .atan: return Int32(TIDE_CX_ATAN)
        case .log1p: return Int32(TIDE_CX_LOG1P)
        case .expm1: return Int32(TIDE_CX_EXPM1)
        case .log2: return Int32(TIDE_CX_LOG2)
        case .log10: return Int32(TIDE_CX_LOG10)
        case .reciprocal: return Int32(TIDE_CX_RECIPROCAL)
        case .rsqrt: return Int32(TIDE_CX_RSQRT)
        case .sigmoid: return Int32(TIDE_CX_SIGMOID)
        default: return nil
        }
    }
}

extension Tensor {
    /// op (a TIDE_CX_* loop) over every element of this c64 (R = Float) or c128 (R = Double)
    /// tensor, into a new contiguous tensor; chunks of the flat run split over the cores.
    func complexMap<R: FloatScalar>(_: R.Type, _ op: Int32) throws -> Tensor {
        let x = try contiguous()
        let out = try Tensor(uninitialized: shape, dtype: dtype)
        let src = UnsafeRawPointer(x.rawPointer).assumingMemoryBound(to: R.self)
        let dst = out.rawPointer.assumingMemoryBound(to: R.self)
        // a libm complex function costs tens of ns: chunks far smaller than the real kernels'
        try Threads.parallelFor(numel, grain: Swift.max(1, Kernels.grain / 16)) { lo, hi in
            try Cancellation.check()
            if R.self == Float.self {
                tide_cunary_f32(op, UnsafeRawPointer(src + 2 * lo).assumingMemoryBound(to: Float.self),
                                UnsafeMutableRawPointer(dst + 2 * lo).assumingMemoryBound(to: Float.self), hi - lo)
            } else {
                tide_cunary_f64(op, UnsafeRawPointer(src + 2 * lo).assumingMemoryBound(to: Double.self),
                                UnsafeMutableRawPointer(dst + 2 * lo).assumingMemoryBound(to: Double.self), hi - lo)
            }
        }
        return out
    }
}
