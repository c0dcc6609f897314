// Tensor+Description: NumPy-style printing, summarized for large tensors.
//
//     print(try Tensor.eye(2))
//     // [[1.0000, 0.0000],
//     //  [0.0000, 1.0000]]
//     // [tide.Tensor f32 2x2]
//
// Options (`PrintOptions.current`): precision (digits after the point), threshold (element
// count above which dims are summarized), edgeitems (items kept at each end when summarized),
// linewidth (characters per line before a row wraps, as NumPy's and torch's).
import Foundation
import ComplexModule

public struct PrintOptions: Sendable {
    public var precision = 4
    public var threshold = 1000
    public var edgeitems = 3
    public var linewidth = 80
    nonisolated(unsafe) public static var current = PrintOptions()
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let footer = "[tide.Tensor \(dtype.rawValue) \(shape.isEmpty ? "scalar" : shapeString(shape))]"
        // read in place through the strides: a summarized view (an expand of billions of
        // elements, a transpose) prints its edges without being copied whole
        let c = self
        var opts = PrintOptions.current
        // PrintOptions is public and unchecked: out-of-range values must not trap here
        opts.edgeitems = Swift.min(Swift.max(opts.edgeitems, 0), 1 << 20)
        opts.precision = Swift.min(Swift.max(opts.precision, 0), 30)
        opts.linewidth = Swift.max(opts.linewidth, 1)
        // a raised threshold or edgeitems must not print (or allocate) billions of elements:
        // past 1M printed elements the tensor is summarized, with edgeitems halved until the
        // printed part fits
        var summarize = numel > opts.threshold
        func printedCount(_ e: Int, _ summarized: Bool) -> Double {
            shape.reduce(1.0) { $0 * Double(summarized && $1 > 2 * e ? 2 * e : $1) }
        }
        if printedCount(opts.edgeitems, summarize) > 1e6 {
            summarize = true
            while opts.edgeitems > 1 && printedCount(opts.edgeitems, true) > 1e6 { opts.edgeitems /= 2 }
        }
        // Collect the printed elements' texts first, so that columns can be aligned.
        var out = ""
        if shape.isEmpty {
            out = ElementFormatter(c, opts: opts, probe: [0]).text(0)
        } else if numel == 0 {
            out = "[]"
        } else {
            let fmt = ElementFormatter(c, opts: opts, probe: Tensor.printedOffsets(shape, strides: strides, summarize: summarize, e: opts.edgeitems))
            out = render(c, dim: 0, base: 0, indent: 1, fmt: fmt, summarize: summarize, e: opts.edgeitems, width: opts.linewidth, trailing: 0)
        }
        return out + "\n" + footer
    }

    /// The indices printed along a dim of size n (nil stands for "..."): all of them, or the
    /// first and last e when summarizing and n > 2e.
    static func printedIndices(_ n: Int, summarize: Bool, e: Int) -> [Int?] {
        summarize && n > 2 * e ? Array(0 ..< e) + [nil] + Array(n - e ..< n) : Array(0 ..< n)
    }

    /// Offsets (through `strides`, from the tensor's first element) of every element that
    /// prints: style and width come from exactly these, so a summarized tensor is never
    /// converted whole.
    static func printedOffsets(_ shape: [Int], strides: [Int], summarize: Bool, e: Int) -> [Int] {
        var offsets = [0]
        for (n, s) in zip(shape, strides) {
            let idx = printedIndices(n, summarize: summarize, e: e).compactMap { $0 }
            offsets = offsets.flatMap { o in idx.map { o + $0 * s } }
        }
        return offsets
    }

    private func render(_ c: Tensor, dim d: Int, base: Int, indent: Int, fmt: ElementFormatter,
                        summarize: Bool, e: Int, width: Int, trailing: Int) -> String {
        // trailing: the characters that follow this block's "]" on its last line (outer
        // brackets and a comma), counted so the last line also fits the width
        let idx = Tensor.printedIndices(c.shape[d], summarize: summarize, e: e)
        if d == c.dim - 1 {
            // a row wraps before `width` columns; continuation lines start under its first item
            let items = idx.map { i in i.map { fmt.padded(base + $0 * c.strides[d]) } ?? "..." }
            var out = "[", col = indent   // the row's "[" is at column indent - 1
            for (k, item) in items.enumerated() {
                let piece = item + (k + 1 < items.count ? "," : "]")
                let after = k + 1 < items.count ? 0 : trailing
                if k > 0 {
                    if col + 1 + piece.count + after > width {
                        out += "\n" + String(repeating: " ", count: indent)
                        col = indent
                    } else {
                        out += " "
                        col += 1
                    }
                }
                out += piece
                col += piece.count
            }
            return out
        }
        let sep = "," + String(repeating: "\n", count: c.dim - 1 - d) + String(repeating: " ", count: indent)
        let parts = idx.enumerated().map { (k, i) -> String in
            guard let i = i else { return "..." }
            let last = k + 1 == idx.count
            return render(c, dim: d + 1, base: base + i * c.strides[d], indent: indent + 1, fmt: fmt,
                          summarize: summarize, e: e, width: width, trailing: last ? trailing + 1 : 1)
        }
        return "[" + parts.joined(separator: sep) + "]"
    }
}

/// Formats elements of a tensor (offsets from its first element, through its strides) with
/// one common style and width.
struct ElementFormatter {
    let t: Tensor
    let precision: Int
    let scientific: Bool
    let integral: Bool
    var width = 0

    /// probe: the offsets of the elements that will print (style and width come from them).
    init(_ t: Tensor, opts: PrintOptions, probe: [Int]) {
        self.t = t
        precision = opts.precision
        integral = t.dtype.isIntegral
        var maxAbs = 0.0, minAbs = Double.infinity
        if !integral {
            for i in probe {
                let v = ElementFormatter.value(t, i)
                for x in [v.re, v.im] where x.isFinite && x != 0 {
                    maxAbs = max(maxAbs, abs(x))
                    minAbs = min(minAbs, abs(x))
                }
            }
        }
        scientific = maxAbs >= 1e8 || (minAbs < 1e-4 && minAbs > 0) || (maxAbs / max(minAbs, 1e-300) > 1e6 && minAbs < 1)
        var w = 0
        for i in probe { w = max(w, text(i).count) }
        width = w
    }

    static func value(_ t: Tensor, _ i: Int) -> C128 {
        switch t.dtype {
        case .f32: return C128(Double(t.pointer(Float.self)[i]), 0)
        case .f64: return C128(t.pointer(Double.self)[i], 0)
        case .c64: let z = t.pointer(C64.self)[i]; return C128(Double(z.re), Double(z.im))
        case .c128: return t.pointer(C128.self)[i]
        case .i64: return C128(Double(t.pointer(Int64.self)[i]), 0)
        case .bool: return C128(t.pointer(Bool.self)[i] ? 1 : 0, 0)
        }
    }

    func text(_ i: Int) -> String {
        switch t.dtype {
        case .bool: return t.pointer(Bool.self)[i] ? "true" : "false"
        case .i64: return String(t.pointer(Int64.self)[i])
        case .f32: return real(Double(t.pointer(Float.self)[i]))
        case .f64: return real(t.pointer(Double.self)[i])
        case .c64:
            let z = t.pointer(C64.self)[i]
            return complex(Double(z.re), Double(z.im))
        case .c128:
            let z = t.pointer(C128.self)[i]
            return complex(z.re, z.im)
        }
    }

    func padded(_ i: Int) -> String {
        let s = text(i)
        return s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
    }

    private func real(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x < 0 ? "-inf" : "inf" }
        return String(format: scientific ? "%.\(precision)e" : "%.\(precision)f", x)
    }

    private func complex(_ re: Double, _ im: Double) -> String {
        let sign = im < 0 || (im == 0 && im.sign == .minus) ? "-" : "+"
        return real(re) + sign + real(abs(im)) + "j"
    }
}
