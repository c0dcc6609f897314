// ArithScalar: element types that support arithmetic (f32, f64, i64, c64, c128), with the
// per-type rules that differ: integer division and modulo, integer powers.
import ComplexModule
import RealModule
#if canImport(Glibc)
import Glibc
#endif

public protocol ArithScalar: TideScalar, Numeric {
    /// +, - and * that wrap on integer overflow (as NumPy's int64 does) instead of trapping.
    static func tideAdd(_ a: Self, _ b: Self) -> Self
    static func tideSub(_ a: Self, _ b: Self) -> Self
    static func tideMul(_ a: Self, _ b: Self) -> Self
    static func tideDiv(_ a: Self, _ b: Self) -> Self
    /// Floor division as Python and NumPy define it (`//`, torch.floor_divide).
    static func tideFloorDiv(_ a: Self, _ b: Self) -> Self
    /// Python-style modulo: the result has the sign of the divisor (NumPy, torch `%`).
    static func tideRem(_ a: Self, _ b: Self) -> Self
    static func tidePow(_ a: Self, _ b: Self) -> Self
    static func tideMax(_ a: Self, _ b: Self) -> Self
    static func tideMin(_ a: Self, _ b: Self) -> Self
}

extension ArithScalar {
    @inline(__always) public static func tideAdd(_ a: Self, _ b: Self) -> Self { a + b }
    @inline(__always) public static func tideSub(_ a: Self, _ b: Self) -> Self { a - b }
    @inline(__always) public static func tideMul(_ a: Self, _ b: Self) -> Self { a * b }
}

/// Python's float floor division (NumPy's npy_divmod, torch's div_floor_floating): from fmod,
/// so 1 // 0.1 is 9 (floor(1 / 0.1) would round up to 10) and inf // 2 is NaN (fmod(inf, 2) is
/// NaN), as NumPy gives; a zero divisor gives a / b.
@inline(__always)
func floatFloorDiv<T: BinaryFloatingPoint>(_ a: T, _ b: T) -> T {
    if b == 0 { return a / b }
    let mod = a.truncatingRemainder(dividingBy: b)
    var div = (a - mod) / b
    if mod != 0 && (b < 0) != (mod < 0) { div -= 1 }
    guard div != 0 else { return (a / b).sign == .minus ? -0.0 : 0 }
    var q = div.rounded(.down)
    if div - q > 0.5 { q += 1 }
    return q
}

extension Float: ArithScalar {
    @inline(__always) public static func tideDiv(_ a: Float, _ b: Float) -> Float { a / b }
    @inline(__always) public static func tideFloorDiv(_ a: Float, _ b: Float) -> Float { floatFloorDiv(a, b) }
    @inline(__always) public static func tideRem(_ a: Float, _ b: Float) -> Float {
        let r = a.truncatingRemainder(dividingBy: b)
        return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r
    }
    @inline(__always) public static func tidePow(_ a: Float, _ b: Float) -> Float { powf(a, b) }  // C pow: negative bases with integral exponents
    @inline(__always) public static func tideMax(_ a: Float, _ b: Float) -> Float { (a.isNaN || b.isNaN) ? .nan : Swift.max(a, b) }
    @inline(__always) public static func tideMin(_ a: Float, _ b: Float) -> Float { (a.isNaN || b.isNaN) ? .nan : Swift.min(a, b) }
}

extension Double: ArithScalar {
    @inline(__always) public static func tideDiv(_ a: Double, _ b: Double) -> Double { a / b }
    @inline(__always) public static func tideFloorDiv(_ a: Double, _ b: Double) -> Double { floatFloorDiv(a, b) }
    @inline(__always) public static func tideRem(_ a: Double, _ b: Double) -> Double {
        let r = a.truncatingRemainder(dividingBy: b)
        return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r
    }
    @inline(__always) public static func tidePow(_ a: Double, _ b: Double) -> Double { Glibc.pow(a, b) }
    @inline(__always) public static func tideMax(_ a: Double, _ b: Double) -> Double { (a.isNaN || b.isNaN) ? .nan : Swift.max(a, b) }
    @inline(__always) public static func tideMin(_ a: Double, _ b: Double) -> Double { (a.isNaN || b.isNaN) ? .nan : Swift.min(a, b) }
}

extension Int64: ArithScalar {
    @inline(__always) public static func tideAdd(_ a: Int64, _ b: Int64) -> Int64 { a &+ b }
    @inline(__always) public static func tideSub(_ a: Int64, _ b: Int64) -> Int64 { a &- b }
    @inline(__always) public static func tideMul(_ a: Int64, _ b: Int64) -> Int64 { a &* b }
    /// Floor division (used only by `//`-style callers; `/` promotes integers to float).
    /// b = -1 is special-cased: Int64.min / -1 and Int64.min % -1 trap in Swift, and NumPy
    /// gives the wrapped quotient (Int64.min) and remainder 0.
    @inline(__always) public static func tideDiv(_ a: Int64, _ b: Int64) -> Int64 {
        if b == 0 { return 0 }
        if b == -1 { return 0 &- a }
        let q = a / b
        return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q
    }
    @inline(__always) public static func tideFloorDiv(_ a: Int64, _ b: Int64) -> Int64 { tideDiv(a, b) }
    @inline(__always) public static func tideRem(_ a: Int64, _ b: Int64) -> Int64 {
        if b == 0 || b == -1 { return 0 }
        let r = a % b
        return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r
    }
    @inline(__always) public static func tidePow(_ a: Int64, _ b: Int64) -> Int64 {
        if b < 0 { return a == 1 ? 1 : (a == -1 ? (b & 1 == 0 ? 1 : -1) : 0) }
        var r: Int64 = 1, base = a, e = b
        while e > 0 {
            if e & 1 == 1 { r = r &* base }
            base = base &* base
            e >>= 1
        }
        return r
    }
    @inline(__always) public static func tideMax(_ a: Int64, _ b: Int64) -> Int64 { Swift.max(a, b) }
    @inline(__always) public static func tideMin(_ a: Int64, _ b: Int64) -> Int64 { Swift.min(a, b) }
}

extension Complex: ArithScalar where RealType: TideScalar & BinaryFloatingPoint {
    // NumPy's division and power (ComplexMath.swift), not swift-numerics' (whose 1 / 0 is inf
    // and whose 0 ^ -1 is 0)
    @inline(__always) public static func tideDiv(_ a: Complex, _ b: Complex) -> Complex { tideDivide(a, b) }
    public static func tideRem(_ a: Complex, _ b: Complex) -> Complex { Complex(.nan, .nan) }
    public static func tideFloorDiv(_ a: Complex, _ b: Complex) -> Complex { Complex(.nan, .nan) }  // rejected before any loop
    @inline(__always) public static func tidePow(_ a: Complex, _ b: Complex) -> Complex { tidePower(a, b) }
    // Complex numbers have no order: Tensor.binary rejects maximum / minimum (and remainder)
    // of complex tensors before any element is read, so these only satisfy the protocol.
    public static func tideMax(_ a: Complex, _ b: Complex) -> Complex { Complex(.nan, .nan) }
    public static func tideMin(_ a: Complex, _ b: Complex) -> Complex { Complex(.nan, .nan) }
}
