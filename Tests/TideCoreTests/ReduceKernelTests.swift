// The block reduction kernels (Kernels+Reduce, reduce_kernels.c) at every instruction-set
// level and thread count, against a plain f64 reference over the same elements: every layout
// the kernels take (contiguous runs, columns, a column split, one long run cut into chunks, a
// permuted copy), f32 and f64, with NaNs and ties placed where the vector code must find them.
import XCTest
import TideCore

final class ReduceKernelTests: XCTestCase {
    override func tearDown() { Kernels.level = Kernels.bestLevel; Threads.count = 2 }

    /// Values with repeats (ties) from a small set; `nans` positions set to NaN.
    func data(_ shape: [Int], dtype: DType, nans: [Int] = [], seed: UInt64) throws -> (Tensor, [Double]) {
        var state = seed
        let n = shape.reduce(1, *)
        var v = (0 ..< n).map { _ -> Double in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(Int(state >> 40) % 41 - 20) / 4  // -5 ... 5 in quarters: many ties
        }
        for i in nans where i < n { v[i] = .nan }
        return (try Tensor(array: v, shape: shape, dtype: dtype), v)
    }

    /// Reference over dims `ds` of a row-major array: (values, first indices along the one dim).
    func reference(_ v: [Double], _ shape: [Int], _ ds: [Int], _ op: String, f32: Bool) -> ([Double], [Int]) {
        let keep = (0 ..< shape.count).filter { !ds.contains($0) }
        let outCount = keep.reduce(1) { $0 * shape[$1] }, r = ds.reduce(1) { $0 * shape[$1] }
        var strides = [Int](repeating: 1, count: shape.count)
        for d in stride(from: shape.count - 2, through: 0, by: -1) { strides[d] = strides[d + 1] * shape[d + 1] }
        var vals = [Double](), idxs = [Int]()
        for o in 0 ..< outCount {
            var base = 0, rem = o
            for d in keep.reversed() { base += (rem % shape[d]) * strides[d]; rem /= shape[d] }
            var run = [Double]()
            for k in 0 ..< r {
                var off = base, q = k
                for d in ds.reversed() { off += (q % shape[d]) * strides[d]; q /= shape[d] }
                run.append(v[off])
            }
            switch op {
            case "sum": vals.append(run.reduce(0, +))
            case "mean": vals.append(run.reduce(0, +) / Double(r))
            case "prod": vals.append(f32 ? Double(run.reduce(Float(1)) { $0 * Float($1) }) : run.reduce(1, *))  // overflow as in T
            default:
                let isMax = op == "max"
                var best = 0
                for j in 1 ..< run.count {
                    if run[best].isNaN { break }
                    if run[j].isNaN || (isMax ? run[j] > run[best] : run[j] < run[best]) { best = j }
                }
                vals.append(run[best]); idxs.append(best)
            }
        }
        return (vals, idxs)
    }

    func same(_ a: Double, _ b: Double, tol: Double) -> Bool {
        if a.isNaN || b.isNaN { return a.isNaN && b.isNaN }
        if a.isInfinite || b.isInfinite { return a == b }
        return abs(a - b) <= tol * (1 + abs(b))
    }

    func check(_ shape: [Int], _ ds: [Int], dtype: DType, nans: [Int] = [], permute: [Int]? = nil, seed: UInt64 = 1) throws {
        var (x, v) = try data(shape, dtype: dtype, nans: nans, seed: seed)
        var refShape = shape
        if let p = permute {  // a non-contiguous view: the reference reads the permuted values
            x = try x.permuted(p)
            refShape = p.map { shape[$0] }
            v = try x.contiguous().toDoubles()
        }
        let tol = dtype == .f32 ? 2e-5 : 1e-12
        for op in ["sum", "mean", "prod", "max", "min"] {
            let (want, wantIdx) = reference(v, refShape, ds, op, f32: dtype == .f32)
            for level in 0 ... Kernels.bestLevel {
                Kernels.level = level
                for threads in [1, 2] {
                    Threads.count = threads
                    let what = "\(op) over \(ds) of \(shape)\(permute.map { " permuted \($0)" } ?? "") \(dtype) level \(level) threads \(threads)"
                    let rop: ReduceOp = op == "sum" ? .sum : op == "mean" ? .mean : op == "prod" ? .prod : op == "max" ? .amax : .amin
                    let got = try x.reduce(rop, dims: ds).toDoubles()
                    XCTAssertEqual(got.count, want.count, what)
                    for k in 0 ..< Swift.min(got.count, want.count) where !same(got[k], want[k], tol: op == "prod" ? 1e-4 : tol) {
                        XCTFail("\(what) at \(k): got \(got[k]), want \(want[k])"); break
                    }
                    if (op == "max" || op == "min") && ds.count == 1 {
                        let (vals, idx) = try x.extremeWithIndices(dim: ds[0], max: op == "max")
                        let gv = try vals.toDoubles(), gi = try idx.toDoubles().map { Int($0) }
                        for k in 0 ..< want.count where !same(gv[k], want[k], tol: 0) || gi[k] != wantIdx[k] {
                            XCTFail("\(what) with indices at \(k): got \(gv[k]) at \(gi[k]), want \(want[k]) at \(wantIdx[k])"); break
                        }
                    }
                }
            }
        }
    }

    func testRowsAndColumnsSmall() throws {
        for dtype in [DType.f32, .f64] {
            try check([7, 37], [1], dtype: dtype)                     // rows with tails
            try check([37, 7], [0], dtype: dtype)                     // columns
            try check([3, 5, 300], [1], dtype: dtype, nans: [905])    // columns past one chunk, a NaN
            try check([4, 70], [1], dtype: dtype, nans: [3, 75, 76, 140 + 69])  // NaN first, twice, last
            try check([2, 3, 4, 5], [1, 2], dtype: dtype)             // adjacent dims in the middle
            try check([2, 3, 4, 5], [0, 2], dtype: dtype)             // not adjacent: a copy
            try check([6, 9], [1], dtype: dtype, permute: [1, 0])     // a transposed view
            try check([1, 1], [1], dtype: dtype)
        }
    }

    func testSplitsOverTheCores() throws {
        for dtype in [DType.f32, .f64] {
            try check([300, 500], [1], dtype: dtype, nans: [1234])    // outer rows split
            try check([700, 300], [0], dtype: dtype, nans: [5000])    // one outer row: columns split
            try check([1, 130, 1000], [1], dtype: dtype)              // columns split, not a multiple of 64
            try check([90000], [0], dtype: dtype, nans: [77777])      // one long run in chunks
            try check([90000], [0], dtype: dtype)
        }
    }

    func testEmptyAndErrors() throws {
        let e = try Tensor.zeros([3, 0])
        XCTAssertEqual(try e.reduce(.sum, dims: [1]).toDoubles(), [0, 0, 0])
        XCTAssertEqual(try e.reduce(.prod, dims: [1]).toDoubles(), [1, 1, 1])
        XCTAssertTrue(try e.reduce(.mean, dims: [1]).toDoubles().allSatisfy { $0.isNaN })
        XCTAssertThrowsError(try e.reduce(.amax, dims: [1]))
        XCTAssertThrowsError(try e.extremeWithIndices(dim: 1, max: true))
        XCTAssertEqual(try Tensor.zeros([0, 4]).reduce(.amax, dims: [1]).shape, [0])
    }
}

extension ReduceKernelTests {
    /// cumsum/cumprod through the scan kernels: each output in sequential order, so f32
    /// results equal a plain Float loop exactly (runs four at a time, columns, splits, views).
    func testScansMatchASequentialLoop() throws {
        for (shape, d, permute) in [([5, 37], 1, nil), ([37, 5], 0, nil), ([3, 300, 2], 1, nil), ([300, 500], 1, nil),
                                    ([700, 300], 0, nil), ([9, 6], 1, [1, 0] as [Int]?), ([6, 9], 0, [1, 0] as [Int]?)] as [([Int], Int, [Int]?)] {
            for dtype in [DType.f32, .f64] {
                var (x, _) = try data(shape, dtype: dtype, nans: [7], seed: 3)
                if let p = permute { x = try x.permuted(p) }
                let v = try x.contiguous().toDoubles(), sh = x.shape
                let inner = sh[(d + 1)...].reduce(1, *), n = sh[d], outer = v.count / Swift.max(n * inner, 1)
                for product in [false, true] {
                    var want = v
                    for o in 0 ..< outer {
                        for i in 0 ..< inner {
                            var a32: Float = product ? 1 : 0, a64: Double = product ? 1 : 0
                            for r in 0 ..< n {
                                let k = (o * n + r) * inner + i
                                if dtype == .f32 { a32 = product ? a32 * Float(v[k]) : a32 + Float(v[k]); want[k] = Double(a32) }
                                else { a64 = product ? a64 * v[k] : a64 + v[k]; want[k] = a64 }
                            }
                        }
                    }
                    for level in 0 ... Kernels.bestLevel {
                        Kernels.level = level
                        for threads in [1, 2] {
                            Threads.count = threads
                            let got = try x.scan(dim: d, product: product).toDoubles()
                            for k in 0 ..< want.count where !(got[k] == want[k] || (got[k].isNaN && want[k].isNaN)) {
                                XCTFail("\(product ? "cumprod" : "cumsum") dim \(d) of \(shape) \(dtype) level \(level) threads \(threads) at \(k): got \(got[k]), want \(want[k])"); break
                            }
                        }
                    }
                }
            }
        }
    }
}
