// Tensor+Sort: sorting, top-k, unique and running sums/products along a dim.
//
//     x: (B, N)
//     try x.sort(dim: 1, descending: false)  // (values, 0-based i64 indices), stable
//     try x.topk(3, dim: 1)                   // the 3 largest per row, largest first
//     try x.unique()                          // sorted distinct values (+ inverse, counts)
//     try x.cumsum(dim: 1), try x.cumprod(dim: 1)
//
// Order: NaN sorts after every number (as NumPy), also when descending it comes first
// (as torch). Complex tensors have no order.
import ComplexModule

extension Tensor {
    /// Moves dim d last and makes the result dense: (rows, n, moved tensor).
    func lastDimRows(_ d: Int, _ op: String) throws -> (Int, Int, Tensor, [Int]) {
        let dn = try normDim(d, op)
        var perm = Array(0 ..< dim)
        perm.remove(at: dn)
        perm.append(dn)
        let moved = try permuted(perm).contiguous()
        let n = shape[dn]
        return (n == 0 ? 0 : numel / n, n, moved, perm)
    }

    /// Puts a (rows, n)-shaped result back in place of dim d.
    func restoreDim(_ t: Tensor, _ perm: [Int], newSize n: Int, dim d: Int) throws -> Tensor {
        var movedShape = perm.map { shape[$0] }
        movedShape[movedShape.count - 1] = n
        var inverse = [Int](repeating: 0, count: perm.count)
        for (k, p) in perm.enumerated() { inverse[p] = k }
        return try t.reshaped(movedShape).permuted(inverse).contiguous()
    }

    static func lessForSort(_ a: Double, _ b: Double) -> Bool {
        if a.isNaN { return false }
        if b.isNaN { return true }
        return a < b
    }

    public func sort(dim d: Int = -1, descending: Bool = false) throws -> (Tensor, Tensor) {
        if dim == 0 {  // one element along dim 0 / -1
            try checkScalarDim(d, "sort")
            let (v, i) = try reshaped([1]).sort(dim: 0, descending: descending)
            return (try v.reshaped([]), try i.reshaped([]))
        }
        if Autograd.isRecording(self) {
            let (v, i) = try Autograd.noGrad { try sort(dim: d, descending: descending) }
            let shp = shape, dn = try normDim(d, "sort")
            Autograd.attach(v, "sort", [self]) { g, _ in
                [try Tensor.zeros(shp, dtype: g.dtype).scatter(dn, i, g)]
            }
            return (v, i)
        }
        guard !dtype.isComplex else { throw TensorError("sort: complex tensors have no order") }
        let (rows, n, moved, perm) = try lastDimRows(d, "sort")
        let keys = try moved.to(.f64)
        let kp = keys.pointer(Double.self)
        let idx = try Tensor(uninitialized: [rows, n], dtype: .i64)
        let ip = idx.pointer(Int64.self)
        var order = [Int](repeating: 0, count: n)
        for r in 0 ..< rows {
            try Cancellation.check()
            let row = kp + r * n
            for j in 0 ..< n { order[j] = j }
            if descending {
                order.sort { a, b in
                    let x = row[a], y = row[b]
                    if x.isNaN != y.isNaN { return x.isNaN }
                    return x > y || (x == y && a < b)
                }
            } else {
                order.sort { a, b in Tensor.lessForSort(row[a], row[b]) || (!Tensor.lessForSort(row[b], row[a]) && a < b) }
            }
            for j in 0 ..< n { ip[r * n + j] = Int64(order[j]) }
        }
        let vals = try moved.reshaped([rows, n]).gather(1, idx)
        let dn = try normDim(d, "sort")
        return (try restoreDim(vals, perm, newSize: n, dim: dn), try restoreDim(idx, perm, newSize: n, dim: dn))
    }

    public func topk(_ k: Int, dim d: Int = -1, largest: Bool = true) throws -> (Tensor, Tensor) {
        if dim == 0 {  // as torch: k 0 or 1 gives the element itself
            try checkScalarDim(d, "topk")
            guard k == 0 || k == 1 else { throw TensorError("topk: k = \(k) is out of range for a 0-d tensor (expected 0 or 1)") }
            return try sort(dim: d, descending: largest)
        }
        let dn = try normDim(d, "topk")
        let size = shape[dn]
        guard k >= 0 && k <= size else { throw TensorError("topk: k = \(k) is out of range for dim \(dn + 1) of size \(size)") }
        let (v, i) = try sort(dim: dn, descending: largest)
        return (try v.narrow(dn, 0, k).contiguous(), try i.narrow(dn, 0, k).contiguous())
    }

    /// Sorted distinct values of the flattened tensor, the 0-based position of each element's
    /// value in them (inverse, shaped like self), and counts.
    public func unique() throws -> (values: Tensor, inverse: Tensor, counts: Tensor) {
        guard !dtype.isComplex else { throw TensorError("unique: complex tensors have no order") }
        let flat = try reshaped([-1])
        let (sv, si) = try flat.sort(dim: 0)
        let keys = try sv.to(.f64).toDoubles()
        let sip = try si.contiguous().pointer(Int64.self)
        var firsts: [Int] = []
        var counts: [Double] = []
        let inverse = try Tensor(uninitialized: [flat.numel], dtype: .i64)
        let inv = inverse.pointer(Int64.self)
        for j in 0 ..< keys.count {
            let isNew = j == 0 || !(keys[j] == keys[j - 1] || (keys[j].isNaN && keys[j - 1].isNaN))
            if isNew { firsts.append(j); counts.append(0) }
            counts[counts.count - 1] += 1
            inv[Int(sip[j])] = Int64(firsts.count - 1)
        }
        let idx = try Tensor(array: firsts.map(Double.init), shape: [firsts.count], dtype: .i64)
        return (try sv.indexSelect(0, idx), try inverse.reshaped(shape), try Tensor(array: counts, shape: [counts.count], dtype: .i64))
    }

    /// Running sum (or product) along dim; integer inputs stay i64, bool becomes i64.
    public func scan(dim d: Int, product: Bool) throws -> Tensor {
        if dim == 0 {  // one element along dim 0 / -1
            try checkScalarDim(d, product ? "cumprod" : "cumsum")
            return try reshaped([1]).scan(dim: 0, product: product).reshaped([])
        }
        if Autograd.isRecording(self) {
            // cumsum: dx = reversed cumsum of g; cumprod: dx = reversed cumsum(g y) / x (x != 0)
            let dn = try normDim(d, product ? "cumprod" : "cumsum"), x = alias()
            return try Autograd.op(product ? "cumprod" : "cumsum", [self], forward: { try scan(dim: d, product: product) }, backward: { g, y, _ in
                if product { return [try Tensor.cumprodBackward(x, y, g, dn)] }
                return [try g.flip([dn]).scan(dim: dn, product: false).flip([dn])]
            }, savesOutput: product, saved: product ? [x] : [])
        }
        let op = product ? "cumprod" : "cumsum"
        if dtype == .f32 || dtype == .f64 {
            // a dense [outer][n][inner] block, scanned over its middle axis in place
            let dn = try normDim(d, op)
            let b = try (isContiguous ? self : try contiguous()).reduceBlock([dn], keepdim: true)
            let y = try Tensor(uninitialized: shape, dtype: dtype)
            if dtype == .f32 {
                Kernels.scan(product, UnsafePointer(b.x.pointer(Float.self)), y.pointer(Float.self), b.o, b.r, b.i)
            } else {
                Kernels.scan(product, UnsafePointer(b.x.pointer(Double.self)), y.pointer(Double.self), b.o, b.r, b.i)
            }
            try Cancellation.check()
            return y
        }
        let (rows, n, moved, perm) = try lastDimRows(d, op)
        let dn = try normDim(d, op)
        let rt: DType = dtype == .bool ? .i64 : dtype
        let x = try moved.to(rt, copy: true).reshaped([rows, n])
        func run<T: ArithScalar>(_: T.Type) {
            let p = x.pointer(T.self)
            for r in 0 ..< rows {
                let row = p + r * n
                for j in stride(from: 1, to: n, by: 1) { row[j] = product ? T.tideMul(row[j - 1], row[j]) : T.tideAdd(row[j - 1], row[j]) }
            }
        }
        switch rt {
        case .f32: run(Float.self)
        case .f64: run(Double.self)
        case .i64: run(Int64.self)
        case .c64: run(C64.self)
        case .c128: run(C128.self)
        case .bool: break
        }
        return try restoreDim(x, perm, newSize: n, dim: dn)
    }
}

extension Tensor {
    /// torch.searchsorted: for each value, the 0-based place in `sorted` (sorted ascending,
    /// NaN last) that keeps it sorted: before equal elements, or after them when `right`.
    /// sorted (n,) with values of any shape, or sorted (..., n) with values (..., m) sharing
    /// the leading dims. Binary search in f64: O(m log n).
    public static func searchsorted(_ sorted: Tensor, _ values: Tensor, right: Bool = false) throws -> Tensor {
        guard !sorted.dtype.isComplex, !values.dtype.isComplex else { throw TensorError("searchsorted: complex tensors have no order") }
        guard sorted.dim >= 1 else { throw TensorError("searchsorted: expected sorted with at least 1 dim, got a 0-d tensor") }
        let n = sorted.shape[sorted.dim - 1]
        let rows = sorted.numel / Swift.max(n, 1)
        if sorted.dim > 1 {
            guard values.dim == sorted.dim, Array(values.shape.dropLast()) == Array(sorted.shape.dropLast()) else {
                throw TensorError("searchsorted: sorted \(shapeString(sorted.shape)) and values \(shapeString(values.shape)) must share all but the last dim")
            }
        }
        let s = try sorted.to(.f64).contiguous(), v = try values.to(.f64).contiguous()
        let out = try Tensor(uninitialized: values.shape, dtype: .i64)
        let sp = s.pointer(Double.self), vp = v.pointer(Double.self), op = out.pointer(Int64.self)
        let m = sorted.dim > 1 ? (values.shape.last ?? 1) : values.numel
        // a before b in NaN-last order
        @inline(__always) func less(_ a: Double, _ b: Double) -> Bool { a < b || (!a.isNaN && b.isNaN) }
        for r in 0 ..< (sorted.dim > 1 ? rows : 1) {
            let row = sp + r * n
            for k in 0 ..< m {
                let x = vp[r * m + k]
                var lo = 0, hi = n
                while lo < hi {
                    let mid = (lo + hi) / 2
                    // left: first element not below x; right: first element above x
                    if right ? !less(x, row[mid]) : less(row[mid], x) { lo = mid + 1 } else { hi = mid }
                }
                op[r * m + k] = Int64(lo)
            }
        }
        return out
    }
}

extension Tensor {
    /// cumprod's gradient along dn: dx_i = sum over k >= i of g_k prod(x_j, j <= k, j != i).
    /// Without zeros that is revcumsum(g y)_i / x_i. Along a row whose first zero is at z, the
    /// formula still holds before z (x_i is not 0 there); at z it is
    /// y_(z-1) (g_z + g_(z+1) x_(z+1) + g_(z+2) x_(z+1) x_(z+2) + ...); after z every product
    /// holds x_z, so 0.
    static func cumprodBackward(_ x: Tensor, _ y: Tensor, _ g: Tensor, _ dn: Int) throws -> Tensor {
        let plain = try binary(.div, binary(.mul, g, y).flip([dn]).scan(dim: dn, product: false).flip([dn]), x)
        let isZero = try compare(.eq, x, x.scalarLike(0))
        guard try isZero.reduce(.any, dims: nil).item() != 0 else { return plain }
        let (rows, n, xm, perm) = try x.lastDimRows(dn, "cumprod")
        let gm = try g.to(x.dtype).permuted(perm).contiguous(), pm = try plain.permuted(perm).contiguous()
        let xd = try xm.to(.f64, copy: true), gd = try gm.to(.f64, copy: true), out = try pm.to(.f64, copy: true)
        let px = xd.pointer(Double.self), pg = gd.pointer(Double.self), po = out.pointer(Double.self)
        for r in 0 ..< rows {
            let X = px + r * n, G = pg + r * n, O = po + r * n
            guard let z = (0 ..< n).first(where: { X[$0] == 0 }) else { continue }
            var before = 1.0                       // y_(z-1): the product ahead of the zero
            for j in 0 ..< z { before *= X[j] }
            var acc = 0.0, run = 1.0               // sum of g_k prod(x_(z+1 .. k))
            for k in z ..< n {
                if k > z { run *= X[k] }
                acc += G[k] * run
            }
            O[z] = before * acc
            for k in (z + 1) ..< Swift.max(n, z + 1) { O[k] = 0 }
        }
        return try x.restoreDim(out.to(x.dtype).reshaped([rows, n]), perm, newSize: n, dim: dn)
    }
}
