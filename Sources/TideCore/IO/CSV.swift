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
            s += h.joined(separator: delimiter) + "\n"
        }
        let vals = try m.toDoubles()
        let cols = m.shape[1]
        let fmt = t.dtype == .f32 ? "%.9g" : "%.17g"
        for r in 0 ..< m.shape[0] {
            var line: [String] = []
            for c in 0 ..< cols {
                let v = vals[r * cols + c]
                switch t.dtype {
                case .i64, .bool: line.append(String(Int64(v)))
                default: line.append(v.isNaN ? "nan" : (v.isInfinite ? (v < 0 ? "-inf" : "inf") : String(format: fmt, v)))
                }
            }
            s += line.joined(separator: delimiter) + "\n"
        }
        return Array(s.utf8)
    }

    public static func decode(_ bytes: [UInt8], file: String, delimiter: Character = ",", skipHeader: Int = 0, dtype: DType = .f64) throws -> Tensor {
        let text = String(decoding: bytes, as: UTF8.self)
        var rows: [[Double]] = []
        var cols = -1
        for (ln, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if ln < skipHeader { continue }
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            let fields = line.split(separator: delimiter, omittingEmptySubsequences: false)
            if cols < 0 { cols = fields.count } else if fields.count != cols {
                throw TensorError("load_csv: \(file) line \(ln + 1) has \(fields.count) fields, expected \(cols) (as on the first data line)")
            }
            var row: [Double] = []
            for (c, f) in fields.enumerated() {
                let s = f.trimmingCharacters(in: .whitespaces)
                if s.isEmpty || s.lowercased() == "nan" { row.append(.nan); continue }
                guard let v = Double(s) ?? (s.lowercased() == "inf" ? .infinity : (s.lowercased() == "-inf" ? -.infinity : nil)) else {
                    throw TensorError("load_csv: \(file) line \(ln + 1), column \(c + 1): '\(s)' is not a number")
                }
                row.append(v)
            }
            rows.append(row)
        }
        return try Tensor(array: rows.flatMap { $0 }, shape: [rows.count, max(cols, 0)], dtype: dtype)
    }
}
