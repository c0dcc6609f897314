// TideScalar: the Swift element types behind each DType, and a visitor that turns a runtime
// DType into a statically typed (and so specialized) generic call.
//
//     struct Fill: DTypeVisitor { let t: Tensor; let v: Double
//         func visit<T: TideScalar>(_: T.Type) { ... T(tideDouble: v) ... } }
//     t.dtype.visit(Fill(t: t, v: 1))
import ComplexModule
import RealModule

public protocol TideScalar {
    static var dtype: DType { get }
    init(tideDouble: Double)
    init(tideComplex: C128)
    init(tideInt: Int64)
    var tideDouble: Double { get }
    var tideComplex: C128 { get }
    var tideInt: Int64 { get }
    static var tideZero: Self { get }
    static var tideOne: Self { get }
}

extension Float: TideScalar {
    public static var dtype: DType { .f32 }
    public init(tideDouble v: Double) { self = Float(v) }
    public init(tideComplex v: C128) { self = Float(v.re) }
    public init(tideInt v: Int64) { self = Float(v) }
    public var tideDouble: Double { Double(self) }
    public var tideComplex: C128 { C128(Double(self), 0) }
    public var tideInt: Int64 { Int64(exactly: self.rounded(.towardZero)) ?? (self.isNaN ? 0 : (self < 0 ? .min : .max)) }
    public static var tideZero: Float { 0 }
    public static var tideOne: Float { 1 }
}

extension Double: TideScalar {
    public static var dtype: DType { .f64 }
    public init(tideDouble v: Double) { self = v }
    public init(tideComplex v: C128) { self = v.re }
    public init(tideInt v: Int64) { self = Double(v) }
    public var tideDouble: Double { self }
    public var tideComplex: C128 { C128(self, 0) }
    public var tideInt: Int64 { Int64(exactly: self.rounded(.towardZero)) ?? (self.isNaN ? 0 : (self < 0 ? .min : .max)) }
    public static var tideZero: Double { 0 }
    public static var tideOne: Double { 1 }
}

extension Int64: TideScalar {
    public static var dtype: DType { .i64 }
    public init(tideDouble v: Double) { self = Double.tideIntOf(v) }
    public init(tideComplex v: C128) { self = Double.tideIntOf(v.re) }
    public init(tideInt v: Int64) { self = v }
    public var tideDouble: Double { Double(self) }
    public var tideComplex: C128 { C128(Double(self), 0) }
    public var tideInt: Int64 { self }
    public static var tideZero: Int64 { 0 }
    public static var tideOne: Int64 { 1 }
}

extension Double {
    /// Truncation toward zero, saturating (NaN -> 0), for float -> i64 casts.
    static func tideIntOf(_ v: Double) -> Int64 {
        if v.isNaN { return 0 }
        if v >= 9.223372036854775807e18 { return .max }
        if v <= -9.223372036854775808e18 { return .min }
        return Int64(v.rounded(.towardZero))
    }
}

extension Bool: TideScalar {
    public static var dtype: DType { .bool }
    public init(tideDouble v: Double) { self = v != 0 }
    public init(tideComplex v: C128) { self = v.re != 0 || v.im != 0 }
    public init(tideInt v: Int64) { self = v != 0 }
    public var tideDouble: Double { self ? 1 : 0 }
    public var tideComplex: C128 { C128(self ? 1 : 0, 0) }
    public var tideInt: Int64 { self ? 1 : 0 }
    public static var tideZero: Bool { false }
    public static var tideOne: Bool { true }
}

extension Complex: TideScalar where RealType: TideScalar & BinaryFloatingPoint {
    public static var dtype: DType { RealType.self == Float.self ? .c64 : .c128 }
    public init(tideDouble v: Double) { self.init(RealType(v), 0) }
    public init(tideComplex v: C128) { self.init(RealType(v.re), RealType(v.im)) }
    public init(tideInt v: Int64) { self.init(RealType(v), 0) }
    // the stored parts (`re`, `im`): swift-numerics' `real` reads NaN for inf + 0i
    public var tideDouble: Double { Double(re) }
    public var tideComplex: C128 { C128(Double(re), Double(im)) }
    public var tideInt: Int64 { Double.tideIntOf(Double(re)) }
    public static var tideZero: Complex<RealType> { Complex(0, 0) }
    public static var tideOne: Complex<RealType> { Complex(1, 0) }
}

/// A generic operation specialized per element type.
public protocol DTypeVisitor {
    associatedtype Result
    func visit<T: TideScalar>(_: T.Type) throws -> Result
}

extension DType {
    @inline(__always)
    public func visit<V: DTypeVisitor>(_ v: V) throws -> V.Result {
        switch self {
        case .f32: return try v.visit(Float.self)
        case .f64: return try v.visit(Double.self)
        case .i64: return try v.visit(Int64.self)
        case .bool: return try v.visit(Bool.self)
        case .c64: return try v.visit(C64.self)
        case .c128: return try v.visit(C128.self)
        }
    }
}

/// Converts one element type to another (real paths avoid the complex detour).
@inline(__always)
func convertScalar<S: TideScalar, D: TideScalar>(_ s: S, to: D.Type) -> D {
    if S.self == D.self { return unsafeBitCast(s, to: D.self) }
    // complex on either side: through C128 (complex -> bool is true when either part is nonzero)
    if D.dtype.isComplex || S.dtype.isComplex { return D(tideComplex: s.tideComplex) }
    if S.dtype == .i64 || S.dtype == .bool { return D(tideInt: s.tideInt) }
    return D(tideDouble: s.tideDouble)
}

extension Complex {
    /// The stored real part. swift-numerics' `.real` reads NaN for any infinite value; NumPy
    /// keeps the components (inf + 0j has real part inf), and so does Tide.
    @inline(__always) public var re: RealType { withUnsafeBytes(of: self) { $0.load(as: RealType.self) } }
    /// The stored imaginary part (see `re`).
    @inline(__always) public var im: RealType {
        withUnsafeBytes(of: self) { $0.load(fromByteOffset: MemoryLayout<RealType>.stride, as: RealType.self) }
    }
}
