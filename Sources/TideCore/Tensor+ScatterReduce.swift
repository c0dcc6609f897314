// Tensor+ScatterReduce: scatter with a reduction at places hit more than once
// (torch.scatter_reduce, and torch.scatter's reduce= option).
//
//     x (4,), index [1, 1, 3] (0-based), src [a, b, c]
//     x:scatter_reduce(1, index, src, "prod")  ->  [x0*a*b, x1, x2*c, x3]   (1-based in Lua)
//
// include_self = false leaves self's value out of every place that receives something; places
// that receive nothing keep self's value either way. mean divides by the number of values
// combined (self counted when included); integer means round toward minus infinity, as torch.
// amax/amin propagate NaN. Only sum with include_self is differentiable (it is scatter_add).

public enum ScatterReduction: String, CaseIterable, Sendable {
    case sum, prod, mean, amax, amin
}

/// The element types scatter_reduce combines in place.
protocol ScatterElement: Comparable {
    static func plus(_ a: Self, _ b: Self) -> Self
    static func times(_ a: Self, _ b: Self) -> Self
    static func divided(_ a: Self, by n: Int) -> Self
    var isNaNValue: Bool { get }
}
extension Float: ScatterElement {
    static func plus(_ a: Float, _ b: Float) -> Float { a + b }
    static func times(_ a: Float, _ b: Float) -> Float { a * b }
    static func divided(_ a: Float, by n: Int) -> Float { a / Float(n) }
    var isNaNValue: Bool { isNaN }
}
extension Double: ScatterElement {
    static func plus(_ a: Double, _ b: Double) -> Double { a + b }
    static func times(_ a: Double, _ b: Double) -> Double { a * b }
    static func divided(_ a: Double, by n: Int) -> Double { a / Double(n) }
    var isNaNValue: Bool { isNaN }
}
extension Int64: ScatterElement {
    static func plus(_ a: Int64, _ b: Int64) -> Int64 { a &+ b }  // wraps, as NumPy and torch
    static func times(_ a: Int64, _ b: Int64) -> Int64 { a &* b }
    static func divided(_ a: Int64, by n: Int) -> Int64 {
        let q = a / Int64(n)
        return (a % Int64(n) != 0 && a < 0) ? q - 1 : q
    }
    var isNaNValue: Bool { false }
}

extension Tensor {
    /// A copy of self with src's values reduced into the places index names along d.
    /// index: i64, 0-based, self's rank; src: a tensor at least index's size in every dim, or 0-d.
    public func scatterReduce(_ d: Int, _ index: Tensor, _ src: Tensor, _ reduce: ScatterReduction,
                              includeSelf: Bool = true) throws -> Tensor {
        let op = "scatter_reduce"
        if Autograd.isRecording(self, src) {
            if reduce == .sum && includeSelf { return try scatter(d, index, src, add: true) }
            throw TensorError("\(op): reduce '\(reduce.rawValue)'\(includeSelf ? "" : " without self") is not differentiable (sum with include_self is); detach the inputs or use tide.no_grad")
        }
        if dim == 0 {
            try checkScalarDim(d, op)
            let s = src.dim == 0 ? src : try src.reshaped([src.numel])
            return try reshaped([1]).scatterReduce(0, index.reshaped([index.numel]), s, reduce, includeSelf: includeSelf).reshaped([])
        }
        let dn = try normDim(d, op)
        let s = try src.to(dtype)
        let idx = try checkIndex(dn, index, op, src: s.dim == 0 ? nil : s)
        let out = try clone()
        switch dtype {
        case .f32: try out.scatterReduceRun(Float.self, dn, idx, s, reduce, includeSelf)
        case .f64: try out.scatterReduceRun(Double.self, dn, idx, s, reduce, includeSelf)
        case .i64: try out.scatterReduceRun(Int64.self, dn, idx, s, reduce, includeSelf)
        default: throw TensorError("\(op): expected an f32, f64 or i64 tensor, got \(dtype.rawValue)")
        }
        return out
    }

    /// The reduction into self (a fresh contiguous clone, so an element's offset is its place).
    private func scatterReduceRun<T: ScatterElement>(_: T.Type, _ dn: Int, _ idx: Tensor, _ s: Tensor,
                                                     _ reduce: ScatterReduction, _ includeSelf: Bool) throws {
        let op = "scatter_reduce"
        let p = pointer(T.self), sp = s.storage.bytes.assumingMemoryBound(to: T.self), ip = idx.pointer(Int64.self)
        // values combined per place: 0 = untouched (self's value stands until the first arrival)
        let counts = UnsafeMutablePointer<Int32>.allocate(capacity: Swift.max(numel, 1))
        defer { counts.deallocate() }
        counts.initialize(repeating: 0, count: Swift.max(numel, 1))
        let scalar = s.dim == 0
        try Tensor.forEachIndex(idx.shape) { c, flat in
            let i = Int(ip[flat])
            guard i >= 0 && i < shape[dn] else {
                throw TensorError("\(op): index \(i &+ 1) out of range for dim \(dn + 1) of size \(shape[dn])")
            }
            let place = self.offset(of: c, replacing: dn, with: i)
            var so = s.offset
            if !scalar { for k in 0 ..< s.dim { so += c[k] * s.strides[k] } }
            let v = sp[so]
            if counts[place] == 0 && !includeSelf {
                p[place] = v
            } else {
                let u = p[place]
                switch reduce {
                case .sum, .mean: p[place] = T.plus(u, v)
                case .prod: p[place] = T.times(u, v)
                case .amax: p[place] = u.isNaNValue || v.isNaNValue ? (u.isNaNValue ? u : v) : Swift.max(u, v)
                case .amin: p[place] = u.isNaNValue || v.isNaNValue ? (u.isNaNValue ? u : v) : Swift.min(u, v)
                }
            }
            counts[place] += 1
        }
        if reduce == .mean {
            for place in 0 ..< numel where counts[place] > 0 {
                p[place] = T.divided(p[place], by: Int(counts[place]) + (includeSelf ? 1 : 0))
            }
        }
    }
}
