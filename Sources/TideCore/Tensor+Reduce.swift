// Tensor+Reduce: reductions over one or several dims, with keepdim.
//
//     x: (B, T, C)
//     try x.reduce(.sum, dims: [2])                    // (B, T)
//     try x.reduce(.mean, dims: [1, 2], keepdim: true) // (B, 1, 1)
//     try x.reduce(.sum, dims: nil)                    // 0-d: everything
//     try x.maxWithIndices(dim: 2)                     // values and 0-based indices, (B, T)
//
// f32/f64: adjacent reduced dims of a contiguous tensor are read in place as a dense
// [outer][reduced][inner] block (Kernels+Reduce: SIMD along runs or across columns, split
// over the cores); otherwise the reduced dims are first moved to the end in a dense copy.
// f32 sums accumulate in f64 (per block of f32 partials). Integer sums stay i64; mean of
// integers is f32.
import ComplexModule
import _CTideKernels

public enum ReduceOp: String, Sendable { case sum, mean, prod, max, min, amax, amin, any, all, count_nonzero }

extension Tensor {
    /// Normalized, sorted, unique dims (nil = all).
    func reduceDims(_ dims: [Int]?, _ op: String) throws -> [Int] {
        guard let dims = dims else { return Array(0 ..< dim) }
        if dim == 0 {
            // PyTorch reduces a 0-d tensor over dim 0 / -1 to itself
            for d in dims { try checkScalarDim(d, op) }
            return []
        }
        let d = try dims.map { try normDim($0, op) }
        guard Set(d).count == d.count else { throw TensorError("\(op): dims \(d.map { $0 + 1 }) repeat a dim") }
        return d.sorted()
    }

    /// The reduction over sorted dims `ds` as a dense [O][R][I] block: this tensor read in
    /// place when the dims are adjacent and it is contiguous (I counts the elements after
    /// them), else a copy with the reduced dims moved last (I = 1). Also the output shape.
    func reduceBlock(_ ds: [Int], keepdim: Bool) throws -> (o: Int, r: Int, i: Int, x: Tensor, outShape: [Int]) {
        if let f = ds.first, let l = ds.last, l - f + 1 == ds.count, isContiguous {
            var o = 1, r = 1, i = 1
            for d in 0 ..< dim { if d < f { o *= shape[d] } else if d <= l { r *= shape[d] } else { i *= shape[d] } }
            var outShape = shape
            if keepdim { for d in ds { outShape[d] = 1 } } else { outShape.removeSubrange(f ... l) }
            return (o, r, i, self, outShape)
        }
        let (outer, inner, src, outShape) = try reduceLayout(ds, keepdim: keepdim)
        return (outer, inner, 1, src, outShape)
    }

    /// sum, mean, prod, max and min of f32/f64 through the block kernels (Kernels+Reduce).
    func reduceFloat(_ op: ReduceOp, _ ds: [Int], keepdim: Bool) throws -> Tensor {
        let b = try reduceBlock(ds, keepdim: keepdim)
        let kop: Int32
        switch op {
        case .sum: kop = Int32(TIDE_RED_SUM)
        case .mean: kop = Int32(TIDE_RED_MEAN)
        case .prod: kop = Int32(TIDE_RED_PROD)
        case .max, .amax: kop = Int32(TIDE_RED_MAX)
        default: kop = Int32(TIDE_RED_MIN)
        }
        if b.r == 0 && (kop == Int32(TIDE_RED_MAX) || kop == Int32(TIDE_RED_MIN)) {
            throw TensorError("\(op.rawValue): cannot reduce an empty dim (shape \(shapeString(shape)))")
        }
        let out = try Tensor(uninitialized: b.outShape, dtype: dtype)
        if dtype == .f32 {
            Kernels.reduce(kop, UnsafePointer(b.x.pointer(Float.self)), out.pointer(Float.self), b.o, b.r, b.i)
        } else {
            Kernels.reduce(kop, UnsafePointer(b.x.pointer(Double.self)), out.pointer(Double.self), b.o, b.r, b.i)
        }
        try Cancellation.check()
        return out
    }

    /// (outer count, inner length, dense data with reduced dims last, output shape)
    func reduceLayout(_ dims: [Int], keepdim: Bool) throws -> (Int, Int, Tensor, [Int]) {
        let keep = (0 ..< dim).filter { !dims.contains($0) }
        let moved = try permuted(keep + dims).contiguous()
        let inner = dims.reduce(1) { $0 * shape[$1] }
        let outer = keep.reduce(1) { $0 * shape[$1] }
        var outShape: [Int]
        if keepdim {
            outShape = shape
            for d in dims { outShape[d] = 1 }
        } else {
            outShape = keep.map { shape[$0] }
        }
        return (outer, inner, moved, outShape)
    }

    public func reduce(_ op: ReduceOp, dims: [Int]?, keepdim: Bool = false) throws -> Tensor {
        if Autograd.isRecording(self) { return try reduceRecorded(op, dims: dims, keepdim: keepdim) }
        let ds = try reduceDims(dims, op.rawValue)
        if (op == .sum || op == .mean) && (dtype == .f32 || dtype == .f64) && ds.count == dim, denseOrder() != nil {
            // a whole dense tensor: the SIMD sum, split over the cores
            let s = dtype == .f32 ? Kernels.sum(UnsafePointer(pointer(Float.self)), numel) : Kernels.sum(UnsafePointer(pointer(Double.self)), numel)
            let v = op == .mean ? s / Double(numel) : s
            return keepdim ? try Tensor.full(shape.map { _ in 1 }, v, dtype: dtype) : try Tensor.scalar(v, dtype: dtype)
        }
        if dtype == .f32 || dtype == .f64, !ds.isEmpty, op != .any && op != .all && op != .count_nonzero {
            return try reduceFloat(op, ds, keepdim: keepdim)
        }
        let (outer, inner, src, outShape) = try reduceLayout(ds, keepdim: keepdim)
        if inner == 0 && (op == .max || op == .min || op == .amax || op == .amin) {
            throw TensorError("\(op.rawValue): cannot reduce an empty dim (shape \(shapeString(shape)))")
        }
        switch op {
        case .any, .all, .count_nonzero:
            let b = try src.to(.bool)
            let p = b.pointer(Bool.self)
            let out = try Tensor(uninitialized: outShape, dtype: op == .count_nonzero ? .i64 : .bool)
            for o in 0 ..< outer {
                var c = 0
                for j in 0 ..< inner where p[o * inner + j] { c += 1 }
                if op == .count_nonzero { out.pointer(Int64.self)[o] = Int64(c) }
                else { out.pointer(Bool.self)[o] = op == .any ? c > 0 : c == inner }
            }
            return out
        default: break
        }
        switch src.dtype {
        case .f32, .f64:
            let x = try src.to(.f64)
            let p = x.pointer(Double.self)
            let out = try Tensor(uninitialized: outShape, dtype: .f64)
            let q = out.pointer(Double.self)
            for o in 0 ..< outer {
                try Cancellation.check()
                let row = p + o * inner
                switch op {
                case .sum, .mean:
                    let s = tide_sum_f64(row, inner)
                    q[o] = op == .mean ? s / Double(inner) : s
                case .prod:
                    var s = 1.0
                    for j in 0 ..< inner { s *= row[j] }
                    q[o] = s
                case .max, .amax, .min, .amin:
                    let isMax = op == .max || op == .amax
                    var m = row[0]
                    for j in 0 ..< inner {
                        let v = row[j]
                        if v.isNaN { m = v; break }
                        if isMax ? v > m : v < m { m = v }
                    }
                    q[o] = m
                default: break
                }
            }
            return try out.to(src.dtype)
        case .i64, .bool:
            if op == .mean { return try to(.f32).reduce(.mean, dims: dims, keepdim: keepdim) }
            let x = try src.to(.i64)
            let p = x.pointer(Int64.self)
            let out = try Tensor(uninitialized: outShape, dtype: .i64)
            let q = out.pointer(Int64.self)
            for o in 0 ..< outer {
                let row = p + o * inner
                var s: Int64 = op == .prod ? 1 : (op == .sum ? 0 : row[0])
                for j in 0 ..< inner {
                    switch op {
                    case .sum: s = s &+ row[j]
                    case .prod: s = s &* row[j]
                    case .max, .amax: s = Swift.max(s, row[j])
                    default: s = Swift.min(s, row[j])
                    }
                }
                q[o] = s
            }
            return (src.dtype == .bool && (op == .max || op == .min || op == .amax || op == .amin)) ? try out.to(.bool) : out
        case .c64, .c128:
            guard op == .sum || op == .mean || op == .prod else {
                throw TensorError("\(op.rawValue): complex tensors have no order")
            }
            let x = try src.to(.c128)
            let p = x.pointer(C128.self)
            let out = try Tensor(uninitialized: outShape, dtype: .c128)
            let q = out.pointer(C128.self)
            for o in 0 ..< outer {
                var s = op == .prod ? C128(1, 0) : C128(0, 0)
                for j in 0 ..< inner { if op == .prod { s = s * p[o * inner + j] } else { s = s + p[o * inner + j] } }
                // the mean divides each part by the count: a NaN real part leaves the imaginary mean
                q[o] = op == .mean ? s.tideScaled(by: Double(inner)) : s
            }
            return try out.to(src.dtype)
        }
    }

    /// Max or min over one dim: (values, 0-based i64 indices). Ties pick the first; NaN wins.
    public func extremeWithIndices(dim d: Int, max isMax: Bool, keepdim: Bool = false) throws -> (Tensor, Tensor) {
        if dim == 0 {  // the value itself, at index 0
            try checkScalarDim(d, isMax ? "max" : "min")
            return try reshaped([1]).extremeWithIndices(dim: 0, max: isMax)
        }
        if Autograd.isRecording(self) {
            let (v, i) = try Autograd.noGrad { try extremeWithIndices(dim: d, max: isMax, keepdim: keepdim) }
            let dn = try normDim(d, isMax ? "max" : "min"), shp = shape
            Autograd.attach(v, isMax ? "max" : "min", [self]) { g, _ in
                let gk = keepdim || shp.isEmpty ? g : try g.unsqueeze(dn)
                let ik = keepdim || shp.isEmpty ? i : try i.unsqueeze(dn)
                return [shp.isEmpty ? g : try Tensor.zeros(shp, dtype: g.dtype).scatter(dn, ik, gk)]
            }
            return (v, i)
        }
        guard !dtype.isComplex else { throw TensorError("\(isMax ? "max" : "min"): complex tensors have no order") }
        let dn = try normDim(d, isMax ? "max" : "min")
        if dtype == .f32 || dtype == .f64 {
            let b = try reduceBlock([dn], keepdim: keepdim)
            guard b.r > 0 else { throw TensorError("\(isMax ? "max" : "min"): cannot reduce an empty dim (shape \(shapeString(shape)))") }
            let out = try Tensor(uninitialized: b.outShape, dtype: dtype)
            let idx = try Tensor(uninitialized: b.outShape, dtype: .i64)
            if dtype == .f32 {
                Kernels.argReduce(isMax, UnsafePointer(b.x.pointer(Float.self)), out.pointer(Float.self), idx.pointer(Int64.self), b.o, b.r, b.i)
            } else {
                Kernels.argReduce(isMax, UnsafePointer(b.x.pointer(Double.self)), out.pointer(Double.self), idx.pointer(Int64.self), b.o, b.r, b.i)
            }
            try Cancellation.check()
            return (out, idx)
        }
        let (outer, inner, src, outShape) = try reduceLayout([dn], keepdim: keepdim)
        guard inner > 0 else { throw TensorError("\(isMax ? "argmax" : "argmin"): cannot reduce an empty dim") }
        let x = try src.to(.f64)
        let p = x.pointer(Double.self)
        let idx = try Tensor(uninitialized: outShape, dtype: .i64)
        let pi = idx.pointer(Int64.self)
        for o in 0 ..< outer {
            let row = p + o * inner
            var best = 0
            for j in 1 ..< Swift.max(inner, 1) {
                let v = row[j], m = row[best]
                if m.isNaN { break }
                if v.isNaN || (isMax ? v > m : v < m) { best = j }
            }
            pi[o] = Int64(best)
        }
        // values gathered in the source dtype (exact for i64); src is dense (outer, inner)
        let out = try Tensor(uninitialized: outShape, dtype: dtype)
        let isz = dtype.itemSize
        for o in 0 ..< outer {
            (out.rawPointer + o * isz).copyMemory(from: src.rawPointer + (o * inner + Int(pi[o])) * isz, byteCount: isz)
        }
        return (out, idx)
    }
}

// MARK: - derivative

extension Tensor {
    func reduceRecorded(_ op: ReduceOp, dims: [Int]?, keepdim: Bool) throws -> Tensor {
        let ds = try reduceDims(dims, op.rawValue), shp = shape
        var kshape = shp
        for d in ds { kshape[d] = 1 }
        let count = Double(ds.reduce(1) { $0 * shp[$1] })
        let linear = op == .sum || op == .mean
        let x: Tensor? = linear ? nil : alias()
        return try Autograd.op(op.rawValue, [self], forward: { try reduce(op, dims: dims, keepdim: keepdim) }, backward: { g, y, _ in
            let gk = try g.reshaped(kshape)
            switch op {
            case .sum: return [try gk.expand(shp)]
            case .mean: return [try Tensor.binary(.div, gk, gk.scalarLike(count)).expand(shp)]
            case .prod:
                return [try Tensor.prodBackward(x!, gk, ds)]
            case .max, .min, .amax, .amin:
                // ties share the gradient evenly (as torch's amax); max()/min() of a slice
                // holding NaN send it to the NaNs (torch), where amax's NaN gradient stays
                let yk = try y.reshaped(kshape)
                var eq = try Tensor.compare(.eq, x!, yk)
                if op == .max || op == .min { eq = try Tensor.logical(.or, eq, Tensor.logical(.and, x!.isnan(), yk.isnan())) }
                let hit = try eq.to(g.dtype)
                let n = try hit.reduce(.sum, dims: ds, keepdim: true)
                return [try Tensor.binary(.mul, hit, Tensor.binary(.div, gk, n))]
            case .any, .all, .count_nonzero: return [nil]
            }
        }, savesOutput: !linear, saved: x.map { [$0] } ?? [])
    }
}

extension Tensor {
    /// d prod(x over ds) / dx times gk (gk with ds kept as size 1). Each element's gradient is
    /// the product of the others in its slice: prod / x where the slice has no zero; where it
    /// has exactly one, the zero gets the product of the rest and the others 0; with two or
    /// more, all 0 (y / x would give NaN at every zero).
    static func prodBackward(_ x: Tensor, _ gk: Tensor, _ ds: [Int]) throws -> Tensor {
        let zero = try x.scalarLike(0), one = try x.scalarLike(1)
        let isZero = try compare(.eq, x, zero)
        let nonzero = try Tensor.where(isZero, one, x)
        let rest = try nonzero.reduce(.prod, dims: ds, keepdim: true)      // product of the nonzeros
        let zeros = try isZero.to(x.dtype).reduce(.sum, dims: ds, keepdim: true)
        let noZero = try binary(.div, rest, nonzero)
        let loneZero = try Tensor.where(logical(.and, isZero, compare(.eq, zeros, one)), rest, zero)
        return try binary(.mul, gk, Tensor.where(compare(.eq, zeros, zero), noZero, loneZero))
    }
}
