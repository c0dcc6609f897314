// DType: the element types of a Tensor and the rules for mixing them.
//
//     DType.promote(.i64, .f32)   // .f32
//     DType.promote(.f32, .c128)  // .c128
//
// Promotion (torch's lattice, written down here and tested against NumPy fixtures):
//   bool < i64 < f32 < f64, and c64 < c128. Unlike NumPy, i64 with f32 gives f32 (NumPy: f64).
//   A real with a complex gives the complex type wide enough for both:
//   f64 with c64 -> c128; f32 or i64 or bool with c64 -> c64.
//   A Lua number (a "weak" scalar) does not widen a tensor's float type: f32 + 2.5 stays f32,
//   as in PyTorch; an integer tensor with a non-integral scalar becomes f32 (the default).
import ComplexModule
import RealModule

public enum DType: String, CaseIterable, Sendable {
    case f32, f64, i64, bool, c64, c128

    /// Bytes per element.
    public var itemSize: Int {
        switch self {
        case .f32: return 4
        case .f64, .i64, .c64: return 8
        case .bool: return 1
        case .c128: return 16
        }
    }

    public var isFloatingPoint: Bool { self == .f32 || self == .f64 }
    public var isComplex: Bool { self == .c64 || self == .c128 }
    public var isIntegral: Bool { self == .i64 || self == .bool }

    /// The real type underlying a complex one (c64 -> f32, c128 -> f64); itself otherwise.
    public var realType: DType {
        switch self {
        case .c64: return .f32
        case .c128: return .f64
        default: return self
        }
    }

    /// The complex type holding this real type (f32 -> c64, everything else -> c128).
    public var complexType: DType {
        switch self {
        case .f32, .c64, .i64, .bool: return .c64
        default: return .c128
        }
    }

    private var rank: Int {
        switch self {
        case .bool: return 0
        case .i64: return 1
        case .f32: return 2
        case .f64: return 3
        case .c64: return 4
        case .c128: return 5
        }
    }

    /// The result type of a binary op on two tensors of types a and b.
    public static func promote(_ a: DType, _ b: DType) -> DType {
        if a == b { return a }
        if a.isComplex || b.isComplex {
            let wide = (a == .c128 || b == .c128 || a == .f64 || b == .f64)
            return wide ? .c128 : .c64
        }
        return a.rank >= b.rank ? a : b
    }

    /// Whether an in-place op may store a result of type `from` in a tensor of type `to`
    /// (torch's can_cast): only toward a wider kind, bool < integer < float < complex.
    public static func canCast(_ from: DType, to: DType) -> Bool {
        func kind(_ d: DType) -> Int { d == .bool ? 0 : d == .i64 ? 1 : d.isFloatingPoint ? 2 : 3 }
        return kind(from) <= kind(to)
    }

    /// The result type of a tensor of type `a` with a Lua number.
    public static func promote(_ a: DType, scalarIsIntegral: Bool) -> DType {
        if a.isIntegral && !scalarIsIntegral { return .f32 }
        if a == .bool { return .i64 }
        return a
    }

    /// Parses "f32", "float32", "float", "double", "int64", "long", "complex128", ...
    public static func parse(_ s: String) -> DType? {
        switch s.lowercased() {
        case "f32", "float32", "float": return .f32
        case "f64", "float64", "double": return .f64
        case "i64", "int64", "long", "int": return .i64
        case "bool", "boolean": return .bool
        case "c64", "complex64", "cfloat": return .c64
        case "c128", "complex128", "cdouble", "complex": return .c128
        default: return nil
        }
    }

    /// NumPy's name, used by printing and the .npy writer.
    public var numpyName: String {
        switch self {
        case .f32: return "float32"
        case .f64: return "float64"
        case .i64: return "int64"
        case .bool: return "bool"
        case .c64: return "complex64"
        case .c128: return "complex128"
        }
    }
}

public typealias C64 = Complex<Float>
public typealias C128 = Complex<Double>
