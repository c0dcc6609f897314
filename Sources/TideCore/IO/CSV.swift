// CSV: 2-D numeric data as delimited text.
//
//     try CSV.encode(t, delimiter: ",", header: ["a", "b"])     // one row per line
//     try CSV.decode(text, file: "x.csv", delimiter: ",", skipHeader: 1, dtype: .f64)
//
// Numbers are written with 17 significant digits for f64 (round-trip exact) and 9 for f32;
// i64 as integers; bool as 0/1. Reading: every row must have the same number of fields;
// empty fields and "nan" read as NaN; a non-number names its line and column.
import Foundation

public enum CSV {
    public static func encode(_ t: Tensor, delimiter: String = ",", header: [String]? = nil) throws -> [UInt8] {
        guard t.dim == 2 || t.dim == 1 else {
            throw TensorError("save_csv: expected a 1-d or 2-d tensor, got shape \(shapeString(t.shape))")
        }
        guard !t.dtype.isComplex else { throw TensorError("save_csv: complex tensors are not supported (save real() and imag())") }
        let m = t.dim == 1 ? try t.unsqueeze(1) : t
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
        let cols = m.shape[1]
        let fmt = t.dtype == .f32 ? "%.9g" : "%.17g"
        // integers straight from i64 (a double would round values beyond 2^53)
        let ints: [Int64]? = t.dtype == .i64 || t.dtype == .bool ? try m.to(.i64).contiguous().toInt64s() : nil
        let vals = ints == nil ? try m.toDoubles() : []
        for r in 0 ..< m.shape[0] {
            var line: [String] = []
            for c in 0 ..< cols {
                if let iv = ints { line.append(String(iv[r * cols + c])); continue }
                let v = vals[r * cols + c]
                line.append(v.isNaN ? "nan" : (v.isInfinite ? (v < 0 ? "-inf" : "inf") : String(format: fmt, v)))
            }
            s += line.joined(separator: delimiter) + "\n"
        }
        return Array(s.utf8)
    }

    /// Lines end in LF or CRLF; lines whose first non-blank character is '#' are comments (as
    /// np.loadtxt); blank lines are skipped. i64 columns are parsed as integers, exactly.
    public static func decode(_ bytes: [UInt8], file: String, delimiter: Character = ",", skipHeader: Int = 0, dtype: DType = .f64) throws -> Tensor {
        var values: [Double] = [], ints: [Int64] = []
        let exact = dtype == .i64
        var rows = 0, cols = -1
        // a UTF-8 byte-order mark (as some spreadsheets write) is not part of the data
        let bytes = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
        for (ln, raw) in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            if ln < skipHeader { continue }
            let body = raw.last == UInt8(ascii: "\r") ? raw.dropLast() : raw
            let line = String(decoding: body, as: UTF8.self)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let fields = line.split(separator: delimiter, omittingEmptySubsequences: false)
            if cols < 0 { cols = fields.count } else if fields.count != cols {
                throw TensorError("load_csv: \(file) line \(ln + 1) has \(fields.count) fields, expected \(cols) (as on the first data line)")
            }
            for (c, f) in fields.enumerated() {
                let s = f.trimmingCharacters(in: .whitespaces)
                if exact, let i = Int64(s) { ints.append(i); continue }
                let v: Double
                if s.isEmpty || s.lowercased() == "nan" { v = .nan } else {
                    // (a NUL would end the C string Double() parses: "2\09" must not read as 2)
                    guard !s.contains("\0"), let d = Double(s) ?? (s.lowercased() == "inf" ? .infinity : (s.lowercased() == "-inf" ? -.infinity : nil)) else {
                        throw TensorError("load_csv: \(file) line \(ln + 1), column \(c + 1): '\(s)' is not a number")
                    }
                    v = d
                }
                if exact {
                    // integral values written as floats ("2.0", "1e3") are fine when a double
                    // holds them exactly (below 2^53); 1.5, 1e30 or 9007199254740993.0 are not
                    guard abs(v) < 9007199254740992, let i = Int64(exactly: v) else {
                        throw TensorError("load_csv: \(file) line \(ln + 1), column \(c + 1): '\(s)' is not an integer in the i64 range (dtype i64)")
                    }
                    ints.append(i)
                } else {
                    values.append(v)
                }
            }
            rows += 1
        }
        let shape = [rows, max(cols, 0)]
        if exact { return try Tensor(int64s: ints, shape: shape) }
        return try Tensor(array: values, shape: shape, dtype: dtype)
    }
}
