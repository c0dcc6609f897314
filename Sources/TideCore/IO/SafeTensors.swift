// SafeTensors: the .safetensors format (Hugging Face), read and written.
//
//     let bytes = try SafeTensors.encode([("w", w)], metadata: ["step": "10"])
//     let (tensors, meta) = try SafeTensors.decode(bytes, file: "m.safetensors")
//
// Layout: an 8-byte little-endian header length N, N bytes of JSON
// {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}},
// then the data. Reading accepts F64 F32 F16 BF16 I64 I32 I16 I8 U8 U16 U32 U64 BOOL C64
// (F16/BF16 widen to f32, narrow integers to i64) and checks every offset against the data
// size. Writing: f32 F32, f64 F64, i64 I64, bool BOOL, c64 C64; the format has no complex128.
// Tensors are written in name order; the header is padded with spaces to 8 bytes.
import Foundation

public enum SafeTensors {
    static func code(_ d: DType) throws -> String {
        switch d {
        case .f32: return "F32"
        case .f64: return "F64"
        case .i64: return "I64"
        case .bool: return "BOOL"
        case .c64: return "C64"
        case .c128: throw TensorError("save_safetensors: the format has no complex128 dtype; convert to c64 (x:to('c64')) or save as .npz")
        }
    }

    static func jsonString(_ s: String) -> String {
        var o = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": o += "\\\""
            case "\\": o += "\\\\"
            case "\n": o += "\\n"
            case "\r": o += "\\r"
            case "\t": o += "\\t"
            default:
                if u.value < 0x20 { o += String(format: "\\u%04x", u.value) } else { o.unicodeScalars.append(u) }
            }
        }
        return o + "\""
    }

    public static func encode(_ items: [(String, Tensor)], metadata: [String: String] = [:]) throws -> [[UInt8]] {
        let sorted = items.sorted { $0.0 < $1.0 }
        var seen = Set<String>()
        var entries: [String] = []
        if !metadata.isEmpty {
            let m = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }.joined(separator: ",")
            entries.append("\"__metadata__\":{\(m)}")
        }
        var blobs: [[UInt8]] = []
        var offset = 0
        for (name, t) in sorted {
            guard name != "__metadata__", seen.insert(name).inserted else {
                throw TensorError("save_safetensors: duplicate or reserved tensor name '\(name)'")
            }
            let b = try t.contiguousBytes()
            entries.append("\(jsonString(name)):{\"dtype\":\"\(try code(t.dtype))\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + b.count)]}")
            offset += b.count
            blobs.append(b)
        }
        var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var head: [UInt8] = []
        head.appendLE(UInt64(header.count))
        return [head + header] + blobs
    }

    public static func decode(_ bytes: [UInt8], file: String, op: String = "load_safetensors") throws -> ([(String, Tensor)], [String: String]) {
        var r = ByteReader(bytes, file: file, op: op)
        let n = try r.u64("the header length")
        guard n <= UInt64(bytes.count - 8) else {
            throw r.truncated("header length \(n) is larger than the file (\(bytes.count) bytes)")
        }
        let headerBytes = try r.take(Int(n), "the JSON header")
        let dataStart = r.pos
        let dataLen = bytes.count - dataStart
        guard let obj = try? JSONSerialization.jsonObject(with: Data(headerBytes)), let dict = obj as? [String: Any] else {
            throw TensorError("\(op): \(file): the header is not a JSON object (corrupt file?)")
        }
        var meta: [String: String] = [:]
        if let m = dict["__metadata__"] as? [String: Any] {
            for (k, v) in m { meta[k] = v as? String ?? "\(v)" }
        }
        var out: [(String, Tensor, Int, Int)] = []   // name, tensor, data start, data end
        for (name, value) in dict where name != "__metadata__" {
            guard let e = value as? [String: Any], let dt = e["dtype"] as? String,
                  let shp = e["shape"] as? [Any], let offs = e["data_offsets"] as? [Any], offs.count == 2,
                  let b = jsonInt(offs[0]), let en = jsonInt(offs[1]) else {
                throw TensorError("\(op): \(file): malformed entry for '\(name)' in the header")
            }
            let shape = try shp.map { (x: Any) -> Int in
                guard let v = jsonInt(x), v >= 0 else { throw TensorError("\(op): \(file): bad shape for '\(name)': expected non-negative integers, got \(shp)") }
                return v
            }
            guard b >= 0, en >= b, en <= dataLen else {
                throw TensorError("\(op): \(file): '\(name)' has data_offsets [\(b), \(en)] outside the \(dataLen) data bytes (truncated file?)")
            }
            let raw = bytes[(dataStart + b) ..< (dataStart + en)]
            let count = try Tensor.checkedCount(shape)
            let (kind, size): (Character, Int)
            switch dt {
            case "F64": (kind, size) = ("f", 8)
            case "F32": (kind, size) = ("f", 4)
            case "F16": (kind, size) = ("f", 2)
            case "BF16": (kind, size) = ("B", 2)
            case "I64": (kind, size) = ("i", 8)
            case "I32": (kind, size) = ("i", 4)
            case "I16": (kind, size) = ("i", 2)
            case "I8": (kind, size) = ("i", 1)
            case "U8": (kind, size) = ("u", 1)
            case "U16": (kind, size) = ("u", 2)
            case "U32": (kind, size) = ("u", 4)
            case "U64": (kind, size) = ("u", 8)
            case "BOOL": (kind, size) = ("b", 1)
            case "C64": (kind, size) = ("c", 8)
            default: throw TensorError("\(op): \(file): '\(name)' has unsupported dtype \(dt)")
            }
            let (need, over) = count.multipliedReportingOverflow(by: size)
            guard !over, raw.count == need else {
                throw TensorError("\(op): \(file): '\(name)' has \(raw.count) bytes but shape \(shapeString(shape)) of \(dt) needs \(over ? "more than \(Int.max)" : String(need))")
            }
            let t: Tensor
            if kind == "B" {
                t = try Tensor(uninitialized: shape, dtype: .f32)
                let p = t.pointer(Float.self)
                var k = raw.startIndex
                for i in 0 ..< count {
                    p[i] = Float(bitPattern: (UInt32(raw[k]) | UInt32(raw[k + 1]) << 8) << 16)
                    k += 2
                }
            } else {
                t = try NPY.decodeElements(Array(raw), kind: kind, size: size, shape: shape, file: file, op: op, descr: dt)
            }
            out.append((name, t, b, en))
        }
        // the format's rule: the tensors tile the data buffer, without overlaps or holes
        let sorted = out.sorted { ($0.2, $0.3) < ($1.2, $1.3) }   // (empty tensors first at a shared start)
        var end = 0
        for (name, _, start, stop) in sorted {
            guard start == end else {
                throw TensorError("\(op): \(file): '\(name)' starts at data byte \(start), expected \(end) (tensors overlap or leave a hole)")
            }
            end = stop
        }
        guard end == dataLen else {
            throw TensorError("\(op): \(file): the tensors cover \(end) of the \(dataLen) data bytes")
        }
        return (sorted.map { ($0.0, $0.1) }, meta)
    }

    /// An integer from the JSON header: NSNumber integers only (not 0.5, not true).
    static func jsonInt(_ x: Any) -> Int? {
        guard let n = x as? NSNumber else { return nil }
        switch String(cString: n.objCType) {
        case "i", "l", "q", "s": return n.intValue
        case "I", "L", "Q", "S": return n.uint64Value <= UInt64(Int.max) ? Int(n.uint64Value) : nil
        default: return nil
        }
    }
}
