// NPZ: NumPy's .npz archives (a zip file of .npy members), read and written.
//
//     let bytes = try NPZ.encode([("w", w), ("b", b)], compressed: false)
//     let named = try NPZ.decode(bytes, file: "model.npz")     // [(name, tensor)] in archive order
//
// Reading handles stored and deflated members (np.savez and np.savez_compressed) and the
// zip64 extra fields NumPy always writes; member names lose their ".npy" suffix. CRC-32 is
// checked. Writing produces a plain zip (stored, or deflated with `compressed`), zip64 where
// a size or offset needs it.
import CZlib

public enum NPZ {
    static let localSig = 0x04034b50, centralSig = 0x02014b50, endSig = 0x06054b50
    static let zip64EndSig = 0x06064b50, zip64LocatorSig = 0x07064b50

    public static func decode(_ bytes: [UInt8], file: String, op: String = "load_npz") throws -> [(String, Tensor)] {
        // find the end-of-central-directory record (it ends with a comment of <= 65535 bytes)
        var end = -1
        var i = bytes.count - 22
        while i >= max(0, bytes.count - 22 - 65535) {
            if bytes[i] == 0x50 && bytes[i + 1] == 0x4b && bytes[i + 2] == 5 && bytes[i + 3] == 6 { end = i; break }
            i -= 1
        }
        guard end >= 0 else { throw TensorError("\(op): \(file) is not a zip/.npz file (no end-of-central-directory record)") }
        var r = ByteReader(bytes, file: file, op: op, at: end + 10)
        var count = try r.u16("the entry count")
        _ = try r.u32("the directory size")
        var cdOffset = try r.u32("the directory offset")
        if cdOffset == 0xFFFF_FFFF || count == 0xFFFF, end >= 20 {
            var loc = ByteReader(bytes, file: file, op: op, at: end - 20)
            if try loc.u32() == zip64LocatorSig {
                _ = try loc.u32()
                let recOff = try loc.int64("the zip64 record offset")
                var z = ByteReader(bytes, file: file, op: op, at: recOff)
                guard try z.u32() == zip64EndSig else { throw z.truncated("bad zip64 end record") }
                _ = try z.take(20)
                count = try z.int64("the zip64 entry count")
                _ = try z.u64()
                cdOffset = try z.int64("the zip64 directory offset")
            }
        }
        var out: [(String, Tensor)] = []
        var c = ByteReader(bytes, file: file, op: op, at: cdOffset)
        for _ in 0 ..< count {
            guard try c.u32("a directory entry") == centralSig else { throw c.truncated("bad central directory entry") }
            _ = try c.take(6)
            let method = try c.u16()
            _ = try c.take(4)
            let crc = try c.u32()
            var csize = try c.u32(), usize = try c.u32()
            let nameLen = try c.u16(), extraLen = try c.u16(), commentLen = try c.u16()
            _ = try c.take(8)
            var local = try c.u32()
            let name = String(decoding: try c.take(nameLen, "a member name"), as: UTF8.self)
            var extra = ByteReader(Array(try c.take(extraLen, "an extra field")), file: file, op: op)
            _ = try c.take(commentLen)
            while extra.pos + 4 <= extra.bytes.count {
                let id = try extra.u16(), len = try extra.u16()
                var body = ByteReader(Array(try extra.take(len)), file: file, op: op)
                if id == 1 {  // zip64: only the fields that overflowed are present, in this order
                    if usize == 0xFFFF_FFFF { usize = try body.int64() }
                    if csize == 0xFFFF_FFFF { csize = try body.int64() }
                    if local == 0xFFFF_FFFF { local = try body.int64() }
                }
            }
            var l = ByteReader(bytes, file: file, op: op, at: local)
            guard try l.u32("a member header") == localSig else { throw l.truncated("bad local header for '\(name)'") }
            _ = try l.take(22)
            let ln = try l.u16(), le = try l.u16()
            _ = try l.take(ln + le, "a member header")
            let data = try l.take(csize, "member '\(name)' (\(csize) bytes)")
            var plain: [UInt8]
            switch method {
            case 0: plain = Array(data)
            case 8:
                // deflate expands at most 1032:1, so a bigger declared size is a corrupt header
                // (checked before the buffer is allocated: a 120-byte file may declare 2^62)
                let (most, over) = csize.multipliedReportingOverflow(by: 1032)
                guard usize >= 0, over || usize <= most + 1024 else {
                    throw TensorError("\(op): \(file): member '\(name)' declares \(usize) bytes from \(csize) compressed bytes, more than deflate can expand to (corrupt file)")
                }
                plain = [UInt8](repeating: 0, count: usize)
                let rc = data.withUnsafeBytes { src in plain.withUnsafeMutableBytes { dst in
                    tide_inflate_raw(src.baseAddress, src.count, dst.baseAddress, dst.count) } }
                guard rc == 0 else { throw TensorError("\(op): \(file): member '\(name)' is corrupt (deflate data does not inflate to \(usize) bytes)") }
            default:
                throw TensorError("\(op): \(file): member '\(name)' uses zip method \(method); expected 0 (stored) or 8 (deflate)")
            }
            let got = plain.withUnsafeBytes { Int(tide_crc32($0.baseAddress, $0.count)) }
            guard got == crc else { throw TensorError("\(op): \(file): member '\(name)' fails its CRC-32 check (corrupt file)") }
            let key = name.hasSuffix(".npy") ? String(name.dropLast(4)) : name
            out.append((key, try NPY.decode(plain, file: "\(file):\(name)", op: op)))
        }
        return out
    }

    public static func encode(_ items: [(String, Tensor)], compressed: Bool = false) throws -> [UInt8] {
        var out: [UInt8] = []
        var central: [UInt8] = []
        for (name, t) in items {
            let plain = try NPY.encode(t)
            let fname = Array((name + ".npy").utf8)
            let crc = UInt32(plain.withUnsafeBytes { tide_crc32($0.baseAddress, $0.count) })
            var data = plain
            var method: UInt16 = 0
            if compressed {
                var buf = [UInt8](repeating: 0, count: tide_deflate_bound(plain.count))
                var n = buf.count
                let rc = plain.withUnsafeBytes { s in buf.withUnsafeMutableBytes { d in tide_deflate_raw(s.baseAddress, s.count, d.baseAddress, &n) } }
                guard rc == 0 else { throw TensorError("save_npz: deflate failed for '\(name)'") }
                data = Array(buf[0 ..< n])
                method = 8
            }
            let offset = out.count
            let big = data.count >= 0xFFFF_FFFF || plain.count >= 0xFFFF_FFFF || offset >= 0xFFFF_FFFF
            var z64: [UInt8] = []
            if big {
                z64.appendLE(UInt16(1)); z64.appendLE(UInt16(24))
                z64.appendLE(UInt64(plain.count)); z64.appendLE(UInt64(data.count)); z64.appendLE(UInt64(offset))
            }
            func header(central c: Bool) -> [UInt8] {
                var h: [UInt8] = []
                h.appendLE(UInt32(c ? centralSig : localSig))
                if c { h.appendLE(UInt16(big ? 45 : 20)) }
                h.appendLE(UInt16(big ? 45 : 20))   // version needed
                h.appendLE(UInt16(0x0800))          // UTF-8 names
                h.appendLE(method)
                h.appendLE(UInt16(0)); h.appendLE(UInt16(0x21))   // time, date (1980-01-01)
                h.appendLE(crc)
                h.appendLE(UInt32(big ? 0xFFFF_FFFF : data.count))
                h.appendLE(UInt32(big ? 0xFFFF_FFFF : plain.count))
                h.appendLE(UInt16(fname.count))
                h.appendLE(UInt16(z64.count))
                if c {
                    h.appendLE(UInt16(0)); h.appendLE(UInt16(0)); h.appendLE(UInt16(0)); h.appendLE(UInt32(0))
                    h.appendLE(UInt32(big ? 0xFFFF_FFFF : offset))
                }
                return h + fname + z64
            }
            out += header(central: false)
            out += data
            central += header(central: true)
        }
        let cdOffset = out.count
        out += central
        let needs64 = cdOffset >= 0xFFFF_FFFF || items.count >= 0xFFFF
        if needs64 {
            let recOff = out.count
            out.appendLE(UInt32(zip64EndSig)); out.appendLE(UInt64(44))
            out.appendLE(UInt16(45)); out.appendLE(UInt16(45)); out.appendLE(UInt32(0)); out.appendLE(UInt32(0))
            out.appendLE(UInt64(items.count)); out.appendLE(UInt64(items.count))
            out.appendLE(UInt64(central.count)); out.appendLE(UInt64(cdOffset))
            out.appendLE(UInt32(zip64LocatorSig)); out.appendLE(UInt32(0)); out.appendLE(UInt64(recOff)); out.appendLE(UInt32(1))
        }
        out.appendLE(UInt32(endSig))
        out.appendLE(UInt16(0)); out.appendLE(UInt16(0))
        out.appendLE(UInt16(min(items.count, 0xFFFF))); out.appendLE(UInt16(min(items.count, 0xFFFF)))
        out.appendLE(UInt32(central.count))
        out.appendLE(UInt32(needs64 ? 0xFFFF_FFFF : cdOffset))
        out.appendLE(UInt16(0))
        return out
    }
}
