// Tensor+ScatterReduce: scatter with a reduction at places hit more than once
// (torch.scatter_reduce, and torch.scatter's reduce= option).
//
//     x (4,), index [1, 1, 3] (0-based), src [a, b, c]
//     x:scatter_reduce(1, index, src, "prod")  ->  [x0*a*b, x1, x2*c, x3]   (1-based in Lua)
//
// include_self = false leaves self's value out of every place that receives something; places
// that receive nothing keep self's value either way. mean divides by the number of values
// combined (self counted when included); integer means round toward minus infinity, as torch.
// amax/amin propagate NaN.
//
// Gradients follow torch for every reduction (see scatterReduceBackward): prod divides out the
// factor (a single zero at a place gets the product of the others), amax/amin share the
// gradient evenly among the values equal to the result, and without include_self self gets
// nothing at the places that received values. One deliberate difference: without include_self,
// a self equal to an amax/amin result takes no share (torch counts it and the share is lost).

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
        if dim == 0 {
            try checkScalarDim(d, op)
            let s = src.dim == 0 ? src : try src.reshaped([src.numel])
            return try reshaped([1]).scatterReduce(0, index.reshaped([index.numel]), s, reduce, includeSelf: includeSelf).reshaped([])
        }
        if Autograd.isRecording(self, src) {
            if reduce == .sum && includeSelf { return try scatter(d, index, src, add: true) }
            let dn = try normDim(d, op)
            let idx = try checkIndex(dn, index, op, src: src.dim == 0 ? nil : src)
            let x = alias(), s = src.alias(), srcShape = src.shape
            return try Autograd.op(op, [self, src], forward: {
                try scatterReduce(d, index, src, reduce, includeSelf: includeSelf)
            }, backward: { g, out, n in
                let (gx, gs) = try Tensor.scatterReduceBackward(g, out, x, dn, idx, s.sourcePart(idx.shape).to(x.dtype),
                                                                 reduce, includeSelf, needSrc: n.needs(1))
                return [n.needs(0) ? gx : nil, try gs.map { try $0.spread(over: srcShape).to(s.dtype) }]
            }, savesOutput: true, saved: [x, s, idx])
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

    // MARK: - backward

    /// The part of a scatter source that index reads: its leading corner of index's shape (a
    /// 0-d source stands for every position).
    func sourcePart(_ indexShape: [Int]) throws -> Tensor {
        if dim == 0 { return try expand(indexShape) }
        var t = self
        for k in 0 ..< indexShape.count where indexShape[k] != shape[k] { t = try t.narrow(k, 0, indexShape[k]) }
        return t
    }

    /// A gradient over a source's used part (index's shape) as a gradient of the whole
    /// source: zero outside the corner, summed for a 0-d source.
    func spread(over srcShape: [Int]) throws -> Tensor {
        if srcShape.isEmpty { return try reduce(.sum, dims: nil) }
        if srcShape == shape { return self }
        let full = try Tensor.zeros(srcShape, dtype: dtype)
        var corner = full
        for k in 0 ..< shape.count where shape[k] != srcShape[k] { corner = try corner.narrow(k, 0, shape[k]) }
        try corner.copy_(from: self)
        return full
    }

    /// out = x.scatter_reduce(d, idx, s, reduce, includeSelf) (idx 0-based, s of idx's shape):
    /// the gradients of x and s given out's gradient g (torch's formulas).
    static func scatterReduceBackward(_ g: Tensor, _ out: Tensor, _ x: Tensor, _ d: Int, _ idx: Tensor, _ s: Tensor,
                                      _ reduce: ScatterReduction, _ includeSelf: Bool,
                                      needSrc: Bool) throws -> (Tensor, Tensor?) {
        let dt = x.dtype
        let one = try Tensor.scalar(1, dtype: dt), zero = try Tensor.scalar(0, dtype: dt)
        let received = includeSelf ? nil : try Tensor.zeros(x.shape, dtype: .bool).scatter(d, idx, Tensor.scalar(1, dtype: .bool))
        var gx: Tensor, gs: Tensor? = nil
        switch reduce {
        case .sum:
            gx = g
            if needSrc { gs = try g.gather(d, idx) }
        case .mean:
            // N: the values averaged at each place (1 where none arrived, as out = x there)
            var count = try Tensor.full(x.shape, includeSelf ? 1 : 0, dtype: dt).scatter(d, idx, Tensor.ones(idx.shape, dtype: dt), add: true)
            count = try Tensor.where(compare(.eq, count, zero), one, count)
            gx = try binary(.div, g, count)
            if needSrc { gs = try gx.gather(d, idx) }
        case .prod:
            // self's factor divided out; a zero self is replaced by 1 so the others' product shows
            let xm = try Tensor.where(compare(.eq, x, zero), one, x)
            gx = try binary(.div, binary(.mul, g, xm.scatterReduce(d, idx, s, .prod, includeSelf: includeSelf)), xm)
            if needSrc {
                let sz = try compare(.eq, s, zero)
                let zerosAtPlace = try Tensor.zeros(x.shape, dtype: dt).scatter(d, idx, sz.to(dt), add: true).gather(d, idx)
                let single = try logical(.and, sz, compare(.eq, zerosAtPlace, one))
                // a lone zero's gradient is the product of everything else at its place
                let others = try x.scatterReduce(d, idx, Tensor.where(single, one, s), .prod, includeSelf: includeSelf)
                let divided = try binary(.div, binary(.mul, g, out).gather(d, idx), Tensor.where(sz, one, s))
                gs = try Tensor.where(single, binary(.mul, g, others).gather(d, idx), divided)
            }
        case .amax, .amin:
            // shared evenly among self and the sources equal to the result; an excluded self
            // takes no share (torch counts it when it happens to equal the result, and so
            // loses that share)
            var xIs = try compare(.eq, x, out).to(dt)
            if let r = received { xIs = try Tensor.where(r, zero, xIs) }
            let sIs = try compare(.eq, s, out.gather(d, idx)).to(dt)
            let share = try binary(.div, g, xIs.scatter(d, idx, sIs, add: true))
            gx = try binary(.mul, xIs, share)
            if needSrc { gs = try binary(.mul, sIs, share.gather(d, idx)) }
        }
        if let r = received { gx = try Tensor.where(r, zero, gx) }
        return (gx, gs)
    }
}
