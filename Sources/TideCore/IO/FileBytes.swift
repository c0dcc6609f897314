// FileBytes: reading whole files and writing them atomically, plus a bounds-checked reader
// for the binary formats (.npy, .npz, .safetensors).
//
//     let bytes = try FileBytes.read("/tmp/x.npy", op: "load_npy")
//     var r = ByteReader(bytes, file: "/tmp/x.npy", op: "load_npy")
//     let magic = try r.take(6)
//     try FileBytes.writeAtomically("/tmp/y.npy", bytes, op: "save_npy")
//
// Atomic writes: the data goes to "<path>.tmp-<pid>" in the same directory, is flushed, and
// is renamed over the target, so a crash never leaves a half-written file under the real name.
#if canImport(Glibc)
import Glibc
#endif

public enum FileBytes {
    public static func read(_ path: String, op: String) throws -> [UInt8] {
        guard let f = fopen(path, "rb") else {
            throw TensorError("\(op): cannot open \(path) (\(String(cString: strerror(errno))))")
        }
        defer { fclose(f) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = fread(&buf, 1, buf.count, f)
            if n > 0 { out.append(contentsOf: buf[0 ..< n]) }
            if n < buf.count {
                if ferror(f) != 0 { throw TensorError("\(op): error reading \(path)") }
                break
            }
        }
        return out
    }

    public static func writeAtomically(_ path: String, _ parts: [[UInt8]], op: String) throws {
        let tmp = "\(path).tmp-\(getpid())"
        guard let f = fopen(tmp, "wb") else {
            throw TensorError("\(op): cannot write \(path) (\(String(cString: strerror(errno))))")
        }
        var ok = true
        for p in parts where !p.isEmpty {
            if p.withUnsafeBytes({ fwrite($0.baseAddress, 1, $0.count, f) }) != p.count { ok = false; break }
        }
        if fflush(f) != 0 { ok = false }
        if fsync(fileno(f)) != 0 { ok = false }
        fclose(f)
        guard ok, rename(tmp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(tmp)
            throw TensorError("\(op): cannot write \(path) (\(reason))")
        }
    }

    public static func writeAtomically(_ path: String, _ bytes: [UInt8], op: String) throws {
        try writeAtomically(path, [bytes], op: op)
    }
}

/// Little-endian, bounds-checked reads from a byte array; errors name the file and the op.
public struct ByteReader {
    public let bytes: [UInt8]
    public var pos = 0
    let file: String, op: String

    public init(_ bytes: [UInt8], file: String, op: String, at pos: Int = 0) {
        self.bytes = bytes
        self.file = file
        self.op = op
        self.pos = pos
    }

    public func truncated(_ what: String) -> TensorError {
        TensorError("\(op): \(file) is truncated or corrupt: \(what)")
    }

    public mutating func take(_ n: Int, _ what: String = "data") throws -> ArraySlice<UInt8> {
        guard n >= 0, pos <= bytes.count, n <= bytes.count - pos else {
            throw truncated("expected \(n) bytes of \(what) at offset \(pos), found \(max(0, bytes.count - pos))")
        }
        defer { pos += n }
        return bytes[pos ..< pos + n]
    }

    public mutating func u16(_ what: String = "a field") throws -> Int {
        let s = try take(2, what)
        return Int(s[s.startIndex]) | Int(s[s.startIndex + 1]) << 8
    }

    public mutating func u32(_ what: String = "a field") throws -> Int {
        let s = try take(4, what)
        var v = 0
        for k in 0 ..< 4 { v |= Int(s[s.startIndex + k]) << (8 * k) }
        return v
    }

    /// A u64 that must fit in Int (sizes and offsets).
    public mutating func int64(_ what: String = "a field") throws -> Int {
        let v = try u64(what)
        guard let i = Int(exactly: v) else { throw truncated("\(what) is \(v), too large") }
        return i
    }

    public mutating func u64(_ what: String = "a field") throws -> UInt64 {
        let s = try take(8, what)
        var v: UInt64 = 0
        for k in 0 ..< 8 { v |= UInt64(s[s.startIndex + k]) << (8 * UInt64(k)) }
        return v
    }
}

extension Array where Element == UInt8 {
    mutating func appendLE<T: FixedWidthInteger>(_ v: T) {
        var x = v.littleEndian
        Swift.withUnsafeBytes(of: &x) { append(contentsOf: $0) }
    }
}

extension Tensor {
    /// The raw bytes of this tensor in row-major order (native little-endian).
    public func contiguousBytes() throws -> [UInt8] {
        let c = try contiguous()
        return Array(UnsafeRawBufferPointer(start: c.rawPointer, count: c.numel * dtype.itemSize))
    }

    /// A tensor whose bytes are `bytes` (row-major, little-endian) for `shape` and `dtype`.
    public static func fromBytes<C: Collection>(_ bytes: C, shape: [Int], dtype: DType) throws -> Tensor where C.Element == UInt8 {
        let t = try Tensor(uninitialized: shape, dtype: dtype)
        let n = t.numel * dtype.itemSize
        guard bytes.count == n else {
            throw TensorError("fromBytes: \(bytes.count) bytes for shape \(shapeString(shape)) of \(dtype.rawValue) (expected \(n))")
        }
        let dst = UnsafeMutableRawBufferPointer(start: t.rawPointer, count: n)
        dst.copyBytes(from: bytes)
        if dtype == .bool {  // only 0/1 are valid Swift Bools
            let p = t.rawPointer.assumingMemoryBound(to: UInt8.self)
            for i in 0 ..< t.numel where p[i] > 1 { p[i] = 1 }
        }
        return t
    }
}
