// CSV: 2-D numeric data as delimited text.
//
//     try CSV.encode(t, delimiter: ",", header: ["a", "b"])     // one row per line
//     try CSV.decode(text, file: "x.csv", delimiter: ",", skipHeader: 1, dtype: .f64)
//
// Numbers are written in the shortest form that reads back to the same value (f32 values as
// f32); i64 as integers; bool as 0/1. Reading: every row must have the same number of fields;
// empty fields and "nan" read as NaN; a non-number names its line and column. Skipped header
// records may hold quoted names with line breaks. A file with no data rows reads as 0 x 0.
import Foundation

public enum CSV {
    public static func encode(_ t: Tensor, delimiter: String = ",", header: [String]? = nil) throws -> [UInt8] {
        guard t.dim == 2 || t.dim == 1 else {
            throw TensorError("save_csv: expected a 1-d or 2-d tensor, got shape \(shapeString(t.shape))")
        }
        guard !t.dtype.isComplex else { throw TensorError("save_csv: complex tensors are not supported (save real() and imag())") }
        let m = t.dim == 1 ? try t.unsqueeze(1) : t
        // a row with no values is a blank line, which reads back as no row at all
        guard m.shape[0] == 0 || m.shape[1] > 0 else {
            throw TensorError("save_csv: expected at least one column, got shape \(shapeString(t.shape)) (rows without values cannot be written as CSV lines)")
        }
        // text takes up to ~25 bytes a value: refuse what could not be written (a huge expanded
        // view would otherwise be materialized first)
        guard m.numel <= Storage.maxBytes / 32 else {
            throw TensorError("save_csv: \(m.numel) values are too many for a text file (at most \(Storage.maxBytes / 32))")
        }
        // a delimiter that can appear inside a number would not read back
        guard !delimiter.isEmpty, !delimiter.contains(where: { "0123456789+-.eEinfaNINFA\r\n\"".contains($0) }) else {
            throw TensorError("save_csv: delimiter '\(delimiter)' can appear inside numbers or lines; use one such as ',', ';', a tab or a space")
        }
        var s = ""
        if let h = header {
            guard h.count == m.shape[1] else {
                throw TensorError("save_csv: \(h.count) header names for \(m.shape[1]) columns")
            }
            // a name holding the delimiter, a quote or a line break is quoted (RFC 4180)
            let quoted = h.map { n in
                n.contains(delimiter) || n.contains("\"") || n.contains("\n") || n.contains("\r")
                    ? "\"" + n.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : n
            }
            s += quoted.joined(separator: delimiter) + "\n"
        }
        var out = Array(s.utf8)
        let rows = m.shape[0], cols = m.shape[1]
        out.reserveCapacity(out.count + rows * cols * 20)
        let delim = Array(delimiter.utf8)
        // integers straight from i64 (a double would round values beyond 2^53); floats in
        // their shortest form that reads back to the same value (Swift's description)
        let ints: [Int64]? = t.dtype == .i64 || t.dtype == .bool ? try m.to(.i64).contiguous().toInt64s() : nil
        let vals = ints == nil ? try m.toDoubles() : []
        let f32 = t.dtype == .f32
        for r in 0 ..< rows {
            for c in 0 ..< cols {
                if c > 0 { out.append(contentsOf: delim) }
                if let iv = ints { out.append(contentsOf: String(iv[r * cols + c]).utf8); continue }
                let v = vals[r * cols + c]
                if v.isNaN { out.append(contentsOf: "nan".utf8); continue }
                out.append(contentsOf: (f32 ? Float(v).description : v.description).utf8)
            }
            out.append(UInt8(ascii: "\n"))
        }
        return out
    }

    /// Lines end in LF or CRLF; lines whose first non-blank character is '#' are comments (as
    /// np.loadtxt); blank lines are skipped. i64 columns are parsed as integers, exactly.
    /// The bytes are scanned in place: each field is trimmed of spaces and tabs and parsed
    /// by strtod from a NUL-terminated copy (no String per line or field).
    public static func decode(_ bytes: [UInt8], file: String, delimiter: Character = ",", skipHeader: Int = 0, dtype: DType = .f64) throws -> Tensor {
        var values: [Double] = [], ints: [Int64] = []
        let exact = dtype == .i64
        if exact { ints.reserveCapacity(bytes.count / 4) } else { values.reserveCapacity(bytes.count / 8) }
        var rows = 0, cols = -1
        let delim = Array(String(delimiter).utf8)
        let scratch = UnsafeMutablePointer<CChar>.allocate(capacity: 512)
        defer { scratch.deallocate() }
        try bytes.withUnsafeBufferPointer { buf in
            guard let base = buf.baseAddress else { return }
            let n = buf.count
            // a UTF-8 byte-order mark (as some spreadsheets write) is not part of the data
            var pos = n >= 3 && base[0] == 0xEF && base[1] == 0xBB && base[2] == 0xBF ? 3 : 0
            var ln = 0
            func blank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }
            // a field as error text, cut to 40 bytes (a field can be megabytes long)
            func text(_ a: Int, _ b: Int) -> String {
                let s = String(decoding: UnsafeBufferPointer(start: base + a, count: Swift.min(b - a, 40)), as: UTF8.self)
                return b - a > 40 ? s + "..." : s
            }
            func isDelim(_ i: Int, _ end: Int) -> Bool {
                guard i + delim.count <= end, base[i] == delim[0] else { return false }
                for k in 1 ..< delim.count where base[i + k] != delim[k] { return false }
                return true
            }
            var skipped = 0
            while pos <= n {
                if pos == n && (n == 0 || base[n - 1] == UInt8(ascii: "\n")) { break }
                var end = pos
                if skipped < skipHeader {
                    // a header record (RFC 4180, as the writer quotes names): a field that
                    // starts with a quote runs to its closing quote ("" inside is a quote) and
                    // may hold line breaks; a quote anywhere else is a plain character
                    let first = ln
                    var fieldStart = true
                    while end < n && base[end] != UInt8(ascii: "\n") {
                        if fieldStart && base[end] == UInt8(ascii: "\"") {
                            end += 1
                            var closed = false
                            while end < n {
                                if base[end] == UInt8(ascii: "\"") {
                                    if end + 1 < n && base[end + 1] == UInt8(ascii: "\"") { end += 2; continue }
                                    end += 1; closed = true; break
                                }
                                if base[end] == UInt8(ascii: "\n") { ln += 1 }
                                end += 1
                            }
                            guard closed else {
                                throw TensorError("load_csv: \(file) line \(first + 1): the header's quoted name is not closed (expected a closing \")")
                            }
                            fieldStart = false
                        } else if isDelim(end, n) {
                            end += delim.count; fieldStart = true
                        } else {
                            end += 1; fieldStart = false
                        }
                    }
                    skipped += 1
                    pos = end + 1; ln += 1
                    continue
                }
                while end < n && base[end] != UInt8(ascii: "\n") { end += 1 }
                let next = end + 1
                if end > pos && base[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                defer { pos = next; ln += 1 }
                var first = pos
                while first < end && blank(base[first]) { first += 1 }
                if first == end || base[first] == UInt8(ascii: "#") { continue }
                var fields = 0, a = pos
                while true {
                    var b = a
                    while b < end && !isDelim(b, end) { b += 1 }
                    // the field [a, b), trimmed
                    var lo = a, hi = b
                    while lo < hi && blank(base[lo]) { lo += 1 }
                    while hi > lo && blank(base[hi - 1]) { hi -= 1 }
                    fields += 1
                    try parseField(lo, hi, line: ln, column: fields)
                    if b >= end { break }
                    a = b + delim.count
                }
                if cols < 0 { cols = fields } else if fields != cols {
                    throw TensorError("load_csv: \(file) line \(ln + 1) has \(fields) fields, expected \(cols) (as on the first data line)")
                }
                rows += 1
            }

            func parseField(_ lo: Int, _ hi: Int, line: Int, column: Int) throws {
                let len = hi - lo
                if exact, let i = integer(lo, hi) { ints.append(i); return }
                var v = Double.nan
                if len > 0 {
                    // strtod needs a NUL-terminated copy; a NUL inside the field stops it early
                    // and is caught by the end check ("2\09" is not 2)
                    // (a field longer than the scratch, as many leading zeros, gets its own copy)
                    let buf = len < 511 ? scratch : UnsafeMutablePointer<CChar>.allocate(capacity: len + 1)
                    defer { if buf != scratch { buf.deallocate() } }
                    UnsafeMutableRawPointer(buf).copyMemory(from: base + lo, byteCount: len)
                    buf[len] = 0
                    var stop: UnsafeMutablePointer<CChar>? = nil
                    v = strtod(buf, &stop)
                    guard let s = stop, s - buf == len else { throw notANumber(lo, hi, line, column) }
                }
                if exact {
                    // integral values written as floats ("2.0", "1e3") are fine when a double
                    // holds them exactly (below 2^53); 1.5, 1e30 or 9007199254740993.0 are not
                    guard abs(v) < 9007199254740992, let i = Int64(exactly: v) else {
                        throw TensorError("load_csv: \(file) line \(line + 1), column \(column): '\(text(lo, hi))' is not an integer in the i64 range (dtype i64)")
                    }
                    ints.append(i)
                } else {
                    values.append(v)
                }
            }
            func notANumber(_ lo: Int, _ hi: Int, _ line: Int, _ column: Int) -> TensorError {
                TensorError("load_csv: \(file) line \(line + 1), column \(column): '\(text(lo, hi))' is not a number")
            }
            // an optional sign and decimal digits, within the i64 range; nil for anything else
            func integer(_ lo: Int, _ hi: Int) -> Int64? {
                var i = lo, neg = false
                if i < hi && (base[i] == UInt8(ascii: "-") || base[i] == UInt8(ascii: "+")) { neg = base[i] == UInt8(ascii: "-"); i += 1 }
                guard i < hi else { return nil }
                var m: UInt64 = 0
                while i < hi {
                    let d = base[i] &- UInt8(ascii: "0")
                    guard d < 10 else { return nil }
                    let (p, o1) = m.multipliedReportingOverflow(by: 10)
                    let (q, o2) = p.addingReportingOverflow(UInt64(d))
                    guard !o1 && !o2 else { return nil }
                    m = q; i += 1
                }
                if neg { return m <= UInt64(Int64.max) + 1 ? Int64(truncatingIfNeeded: 0 &- m) : nil }
                return m <= UInt64(Int64.max) ? Int64(m) : nil
            }
        }
        let shape = [rows, max(cols, 0)]
        if exact { return try Tensor(int64s: ints, shape: shape) }
        return try Tensor(array: values, shape: shape, dtype: dtype)
    }
}
