// NPY: NumPy's .npy format (versions 1.0, 2.0 and 3.0), read and written.
//
//     let bytes = try NPY.encode(t)                  // version 1.0 (2.0 for huge headers)
//     let t = try NPY.decode(bytes, file: "x.npy")   // C or Fortran order
//
// Reading accepts little- and big-endian f2/f4/f8, i1/i2/i4/i8, u1/u2/u4/u8, b1, c8/c16:
// f4/f8/i8/b1/c8/c16 map to f32/f64/i64/bool/c64/c128 exactly; f2 widens to f32; the other
// integer widths widen to i64 (u8 values above 2^63-1 are an error). Writing uses the native
// Tide dtypes ('<f4', '<f8', '<i8', '|b1', '<c8', '<c16') and pads the header to 64 bytes as
// NumPy does. Object and structured arrays are refused with a message.
import Foundation

public enum NPY {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY

    public static func descr(_ d: DType) -> String {
        switch d {
        case .f32: return "<f4"
        case .f64: return "<f8"
        case .i64: return "<i8"
        case .bool: return "|b1"
        case .c64: return "<c8"
        case .c128: return "<c16"
        }
    }

    public static func encode(_ t: Tensor) throws -> [UInt8] {
        let shapeText = t.shape.isEmpty ? "()" : (t.shape.count == 1 ? "(\(t.shape[0]),)" : "(" + t.shape.map(String.init).joined(separator: ", ") + ")")
        var header = "{'descr': '\(descr(t.dtype))', 'fortran_order': False, 'shape': \(shapeText), }"
        var version: UInt8 = 1
        var prefix = 10
        if header.utf8.count + 1 + prefix > 65535 { version = 2; prefix = 12 }
        let total = header.utf8.count + 1 + prefix
        header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
        var out = magic
        out.append(version)
        out.append(0)
        if version == 1 { out.appendLE(UInt16(header.utf8.count)) } else { out.appendLE(UInt32(header.utf8.count)) }
        out.append(contentsOf: Array(header.utf8))
        out.append(contentsOf: try t.contiguousBytes())
        return out
    }

    /// The parsed header: element descr, Fortran order, shape; `dataStart` is the offset of the data.
    struct Header { var descr: String; var fortran: Bool; var shape: [Int]; var dataStart: Int }

    static func parseHeader(_ bytes: [UInt8], file: String, op: String) throws -> Header {
        var r = ByteReader(bytes, file: file, op: op)
        guard Array(try r.take(6, "the magic string")) == magic else {
            throw TensorError("\(op): \(file) is not a .npy file (no \\x93NUMPY magic string)")
        }
        let v = try r.take(2, "the version")
        let major = v[v.startIndex]
        let hlen: Int
        switch major {
        case 1: hlen = try r.u16("the header length")
        case 2, 3: hlen = try r.u32("the header length")
        default: throw TensorError("\(op): \(file) has .npy version \(major).\(v[v.startIndex + 1]); expected 1.0, 2.0 or 3.0")
        }
        let text = String(decoding: try r.take(hlen, "the header"), as: UTF8.self)
        // (keys and strings in either quote: np.load reads the header as a Python literal)
        func field(_ key: String) -> Substring? {
            guard let k = text.range(of: "'\(key)'") ?? text.range(of: "\"\(key)\"") else { return nil }
            var rest = text[k.upperBound...].drop { $0 == " " || $0 == ":" }
            if rest.first == "(" {
                guard let close = rest.firstIndex(of: ")") else { return nil }
                return rest[rest.startIndex ... close]
            }
            if let quote = rest.first, quote == "'" || quote == "\"" {
                rest = rest.dropFirst()
                guard let q = rest.firstIndex(of: quote) else { return nil }
                return rest[..<q]
            }
            return rest.prefix { $0.isLetter || $0.isNumber }
        }
        guard let d = field("descr"), !d.isEmpty, !d.hasPrefix("[") else {  // a list: structured
            throw TensorError("\(op): \(file): unsupported or missing 'descr' in the header (structured and object arrays are not supported): \(text)")
        }
        guard let fo = field("fortran_order"), let sh = field("shape") else {
            throw TensorError("\(op): \(file): malformed .npy header: \(text)")
        }
        guard fo == "True" || fo == "False" else {
            throw TensorError("\(op): \(file): 'fortran_order' must be True or False, got \(fo)")
        }
        let dims = sh.dropFirst().dropLast().split(separator: ",").map { $0.filter { $0 != " " && $0 != "L" } }.filter { !$0.isEmpty }
        var shape: [Int] = []
        for s in dims {
            guard let n = Int(s), n >= 0 else { throw TensorError("\(op): \(file): bad shape \(sh) in the header") }
            shape.append(n)
        }
        return Header(descr: String(d), fortran: fo == "True", shape: shape, dataStart: r.pos)
    }

    public static func decode(_ bytes: [UInt8], file: String, op: String = "load_npy") throws -> Tensor {
        let h = try parseHeader(bytes, file: file, op: op)
        let d = h.descr
        guard d.count >= 3, let order = d.first, "<>|=".contains(order), let size = Int(d.dropFirst(2)) else {
            throw TensorError("\(op): \(file): unsupported dtype '\(d)'")
        }
        let kind = d[d.index(after: d.startIndex)]
        // the element type first: the byte swap below steps by it
        guard supported(kind: kind, size: size) else {
            throw TensorError("\(op): \(file): unsupported dtype '\(d)' (expected float16/32/64, int8-64, uint8-64, bool, complex64/128)")
        }
        let n = try Tensor.checkedCount(h.shape)
        let (total, over) = n.multipliedReportingOverflow(by: size)
        guard !over, total <= bytes.count - h.dataStart else {
            throw TensorError("\(op): \(file) is truncated or corrupt: shape \(shapeString(h.shape)) of \(size)-byte elements needs \(over ? "more than \(Int.max)" : String(total)) bytes of data, the file has \(bytes.count - h.dataStart)")
        }
        var r = ByteReader(bytes, file: file, op: op, at: h.dataStart)
        var raw = Array(try r.take(total, "the array data (\(n) elements of \(size) bytes, shape \(shapeString(h.shape)))"))
        if order == ">" && size > 1 {
            let unit = kind == "c" ? size / 2 : size
            for e in stride(from: 0, to: raw.count, by: unit) { raw[e ..< e + unit].reverse() }
        }
        // Fortran order: read as the reversed shape, then reverse the dims back.
        let readShape = h.fortran ? Array(h.shape.reversed()) : h.shape
        let t = try decodeElements(raw, kind: kind, size: size, shape: readShape, file: file, op: op, descr: d)
        if h.fortran && h.shape.count > 1 {
            return try t.permuted(Array((0 ..< h.shape.count).reversed())).contiguous()
        }
        return t
    }

    /// Whether decodeElements reads this NumPy kind and item size.
    static func supported(kind: Character, size: Int) -> Bool {
        switch (kind, size) {
        case ("f", 2), ("f", 4), ("f", 8), ("c", 8), ("c", 16), ("b", 1),
             ("i", 1), ("i", 2), ("i", 4), ("i", 8), ("u", 1), ("u", 2), ("u", 4), ("u", 8): return true
        default: return false
        }
    }

    static func decodeElements(_ raw: [UInt8], kind: Character, size: Int, shape: [Int], file: String, op: String, descr: String) throws -> Tensor {
        switch (kind, size) {
        case ("f", 4): return try Tensor.fromBytes(raw, shape: shape, dtype: .f32)
        case ("f", 8): return try Tensor.fromBytes(raw, shape: shape, dtype: .f64)
        case ("i", 8): return try Tensor.fromBytes(raw, shape: shape, dtype: .i64)
        case ("b", 1): return try Tensor.fromBytes(raw, shape: shape, dtype: .bool)
        case ("c", 8): return try Tensor.fromBytes(raw, shape: shape, dtype: .c64)
        case ("c", 16): return try Tensor.fromBytes(raw, shape: shape, dtype: .c128)
        case ("f", 2):
            let t = try Tensor(uninitialized: shape, dtype: .f32)
            let p = t.pointer(Float.self)
            for i in 0 ..< t.numel { p[i] = halfToFloat(UInt16(raw[2 * i]) | UInt16(raw[2 * i + 1]) << 8) }
            return t
        case ("i", 1), ("i", 2), ("i", 4), ("u", 1), ("u", 2), ("u", 4), ("u", 8):
            let t = try Tensor(uninitialized: shape, dtype: .i64)
            let p = t.pointer(Int64.self)
            for i in 0 ..< t.numel {
                var u: UInt64 = 0
                for k in 0 ..< size { u |= UInt64(raw[i * size + k]) << (8 * UInt64(k)) }
                if kind == "i" {
                    let shift = UInt64(64 - 8 * size)
                    p[i] = Int64(bitPattern: u << shift) >> Int64(shift)  // sign-extend
                } else {
                    guard u <= UInt64(Int64.max) else {
                        throw TensorError("\(op): \(file): uint64 value \(u) does not fit in i64")
                    }
                    p[i] = Int64(u)
                }
            }
            return t
        default:
            throw TensorError("\(op): \(file): unsupported dtype '\(descr)' (expected a float, int, uint, bool or complex type)")
        }
    }

    /// IEEE half -> float, including subnormals, infinities and NaN.
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h >> 15) << 31
        let exp = Int((h >> 10) & 0x1F), frac = UInt32(h & 0x3FF)
        if exp == 0 {
            let v = Float(frac) * Float(sign: .plus, exponent: -24, significand: 1)
            return sign != 0 ? -v : v
        }
        if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (frac << 13)) }
        return Float(bitPattern: sign | UInt32(exp - 15 + 127) << 23 | frac << 13)
    }
}
