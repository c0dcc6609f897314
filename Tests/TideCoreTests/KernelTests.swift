// The C kernels at every instruction-set level this CPU has (portable, AVX2+FMA), each checked
// against an f64 reference computed with libm, on sizes that exercise vector bodies and tails.
import XCTest
import Foundation
import TideCore

final class KernelTests: XCTestCase {
    override func tearDown() { Kernels.level = Kernels.bestLevel }

    func inputs(_ n: Int, scale: Double) -> [Double] {
        var g = SystemRandomNumberGenerator()
        var v = (0 ..< n).map { _ in Double.random(in: -scale ... scale, using: &g) }
        v += [0, -0.0, 1e-6, -1e-6, 30, -30, 100, -100]
        return v
    }

    func check(_ op: UnaryOp, _ ref: (Double) -> Double, tol: Double, scale: Double = 6) throws {
        let vals = inputs(1037, scale: scale)
        let x = try Tensor(array: vals, shape: [vals.count], dtype: .f32)
        for level in 0 ... Kernels.bestLevel {
            Kernels.level = level
            let y = try x.unary(op).toDoubles()
            for (i, v) in vals.enumerated() {
                let xv = Double(Float(v))
                let want = Double(Float(ref(xv)))  // the f32 result (overflow is inf)
                if want.isNaN { XCTAssertTrue(y[i].isNaN, "\(op) level \(level) at x = \(xv): got \(y[i]), want NaN"); continue }
                if want.isInfinite { XCTAssertEqual(y[i], want, "\(op) level \(level) at x = \(xv)"); continue }
                XCTAssertLessThanOrEqual(abs(y[i] - want), tol * (1 + abs(want)),
                                         "\(op) level \(level) at x = \(xv): got \(y[i]), want \(want)")
            }
        }
    }

    func testTranscendentalsEveryLevel() throws {
        try check(.exp, { exp($0) }, tol: 4e-7, scale: 80)
        try check(.tanh, { tanh($0) }, tol: 4e-7)
        try check(.sigmoid, { 1 / (1 + exp(-$0)) }, tol: 4e-7)
        try check(.silu, { $0 / (1 + exp(-$0)) }, tol: 4e-7)
        try check(.gelu, { 0.5 * $0 * (1 + erf($0 / 2.0.squareRoot())) }, tol: 4e-7)
        try check(.gelu_tanh, { 0.5 * $0 * (1 + tanh((2 / Double.pi).squareRoot() * ($0 + 0.044715 * $0 * $0 * $0))) }, tol: 4e-7)
        try check(.relu, { max($0, 0) }, tol: 0)
        // log over negatives (NaN), zero (-inf), tiny and huge values; the whole float range
        // was swept once against libm: at most 0.87 ulp
        try check(.log, { log($0) }, tol: 2e-7, scale: 100)
        // sin/cos: a sweep of every 193rd float against libm gave at most 1.55 ulp; here small,
        // mid-range and huge arguments (|x| > 1e6 goes to libm)
        for scale in [4.0, 3e4, 1e9] {
            try check(.sin, { sin($0) }, tol: 3e-7, scale: scale)
            try check(.cos, { cos($0) }, tol: 3e-7, scale: scale)
        }
        let specials: [Double] = [1e-45, 1e-40, 1.17549435e-38, 3.4e38, .infinity, -.infinity, .nan, 0, -0.0, 1, 2, 0.5]
        for level in 0 ... Kernels.bestLevel {
            Kernels.level = level
            let y = try Tensor(array: specials, shape: [specials.count], dtype: .f32).unary(.log).toDoubles()
            for (i, v) in specials.enumerated() {
                let want = Double(Float(log(Double(Float(v)))))
                XCTAssertTrue(y[i] == want || (y[i].isNaN && want.isNaN) || abs(y[i] - want) <= 2e-7 * abs(want),
                              "log(\(v)) level \(level): got \(y[i]), want \(want)")
            }
        }
    }

    func testExpSpecialValues() throws {
        let x = try Tensor(array: [.nan, .infinity, -.infinity, 89, -104], shape: [5], dtype: .f32)
        for level in 0 ... Kernels.bestLevel {
            Kernels.level = level
            let y = try x.unary(.exp).toDoubles()
            XCTAssertTrue(y[0].isNaN)
            XCTAssertEqual(y[1], .infinity)
            XCTAssertEqual(y[2], 0)
            XCTAssertEqual(y[3], .infinity)
            XCTAssertEqual(y[4], 0)
        }
    }

    /// exp near the overflow boundary (finite up to ln(FLT_MAX) = 88.7228) and in the
    /// subnormal range (down to 2^-149 near -103.3), within 1 ulp of libm at the result's own
    /// scale (2^-149 below 2^-126), in vector bodies and tails; the activations built on exp
    /// keep their subnormal negative tails; softmax (expf_nonpos) too.
    func testExpOverflowAndSubnormalsEveryLevel() throws {
        var vals: [Double] = [88.5, 88.72, 88.7228, 88.7229, 88.73, -88, -100, -103, -103.97, -104, -110]
        for k in 0 ..< 200 { vals.append(88.0 + 0.0036 * Double(k)) }     // 88 ... 88.72
        for k in 0 ..< 300 { vals.append(-87.0 - 0.056 * Double(k)) }      // -87 ... -103.8
        let x = try Tensor(array: vals, shape: [vals.count], dtype: .f32)
        func ulp(_ w: Double) -> Double { w == 0 ? 0x1p-149 : max(Double(Float(w).ulp), 0x1p-149) }
        for level in 0 ... Kernels.bestLevel {
            Kernels.level = level
            let y = try x.unary(.exp).toDoubles()
            for (i, v) in vals.enumerated() {
                let want = Double(Float(exp(Double(Float(v)))))
                if want.isInfinite { XCTAssertEqual(y[i], want, "exp level \(level) at \(v)"); continue }
                XCTAssertLessThanOrEqual(abs(y[i] - want), ulp(want), "exp level \(level) at \(Float(v)): got \(y[i]), want \(want)")
            }
            XCTAssertEqual(Float(y[0]), 2.7231e38, accuracy: 0.0001e38)
            XCTAssertTrue(y[2].isFinite && y[3].isInfinite, "exp overflows at 88.7228 (level \(level))")
            XCTAssertEqual(Float(y[5]), 6.0546e-39, accuracy: 0.0001e-39)
            XCTAssertEqual(Float(y[6]), 3.7835e-44, accuracy: 0.01e-44)
            XCTAssertEqual(y[10], 0)
            let neg = try Tensor(array: [Double](repeating: -100, count: 37), shape: [37], dtype: .f32)
            // silu = x sigmoid(x): the subnormal sigmoid's rounding (half of 2^-149) times |x|
            for (op, want, tol) in [(UnaryOp.sigmoid, exp(-100.0), 0x1p-149), (.silu, -100 * exp(-100.0), 100 * 0x1p-150)] {
                let r = try neg.unary(op).toDoubles()
                XCTAssertTrue(r.allSatisfy { abs($0 - Double(Float(want))) <= tol && $0 != 0 },
                              "\(op)(-100) level \(level): got \(r[0]), want \(Float(want))")
            }
            let sm = try Tensor(array: [0, -100], shape: [1, 2], dtype: .f32).softmax(dim: 1).toDoubles()
            XCTAssertEqual(sm[0], 1)
            XCTAssertEqual(Float(sm[1]), 3.7835e-44, accuracy: 0.01e-44)
        }
    }

    /// softmax of a row holding +inf is NaN everywhere (inf - inf in x - max), as PyTorch; a
    /// row of -inf too; sin(-0) keeps its sign.
    func testSoftmaxInfRowsAndSignedZero() throws {
        for level in 0 ... Kernels.bestLevel {
            Kernels.level = level
            for vals: [Double] in [[.infinity, 1, 2], [-.infinity, -.infinity, -.infinity]] {
                let x = try Tensor(array: vals, shape: [1, 3], dtype: .f32)
                XCTAssertTrue(try x.softmax(dim: 1).toDoubles().allSatisfy { $0.isNaN }, "softmax \(vals) level \(level)")
                XCTAssertTrue(try x.logSoftmax(dim: 1).toDoubles().allSatisfy { $0.isNaN }, "log_softmax \(vals) level \(level)")
            }
            let z = try Tensor(array: [Double](repeating: -0.0, count: 19), shape: [19], dtype: .f32).unary(.sin).toDoubles()
            XCTAssertTrue(z.allSatisfy { $0 == 0 && $0.sign == .minus }, "sin(-0) level \(level)")
        }
        let d = try Tensor(array: [.infinity, 1], shape: [2], dtype: .f64)
        XCTAssertTrue(try d.softmax(dim: 0).toDoubles().allSatisfy { $0.isNaN })
        XCTAssertTrue(try d.logSoftmax(dim: 0).toDoubles().allSatisfy { $0.isNaN })
    }

    func testBinaryAndSumAgreeAcrossLevels() throws {
        let n = 100_003  // several ranges per thread and a ragged tail
        let a = try Tensor.randn([n]), b = try Tensor.randn([n]).unary(.exp)
        var results: [[Double]] = []
        var sums: [Double] = []
        for level in 0 ... Kernels.bestLevel {
            Kernels.level = level
            var r: [Double] = []
            for op in [BinaryOp.add, .sub, .mul, .div, .maximum, .minimum] {
                r += try Tensor.binary(op, a, b).toDoubles()
            }
            results.append(r)
            sums.append(try a.reduce(.sum, dims: nil).item())
        }
        let ref = try a.toDoubles().reduce(0, +)
        for k in results.indices {
            XCTAssertEqual(results[k], results[0], "binary ops differ between level 0 and \(k)")
            XCTAssertEqual(sums[k], ref, accuracy: 1e-9 * Double(n))
        }
    }

    /// The softmax kernel's row max: the largest value anywhere in the row (vector lanes and
    /// the tail), NaN rows stay NaN, every level agrees with the f64 reference.
    func testSoftmaxRowsEveryLevel() throws {
        for n in [1, 7, 8, 13, 64, 1000] {
            var vals = (0 ..< 3 * n).map { Double($0 % 17) * 0.37 - 3 }
            vals[n - 1] = 50  // row 1: the max sits in the tail
            vals[n + n / 2] = .nan  // row 2 has a NaN
            let x = try Tensor(array: vals, shape: [3, n], dtype: .f32)
            for level in 0 ... Kernels.bestLevel {
                Kernels.level = level
                let y = try x.softmax(dim: 1).toDoubles()
                for r in [0, 2] {
                    let row = vals[(r * n) ..< ((r + 1) * n)].map { Double(Float($0)) }
                    let m = row.max()!
                    let e = row.map { exp($0 - m) }
                    let s = e.reduce(0, +)
                    for j in 0 ..< n {
                        XCTAssertEqual(y[r * n + j], e[j] / s, accuracy: 2e-6, "level \(level) n \(n) row \(r)")
                    }
                }
                XCTAssertTrue(y[n ..< 2 * n].allSatisfy { $0.isNaN }, "a NaN row must give NaN (level \(level), n \(n))")
            }
        }
    }
}

extension KernelTests {
    /// Comparisons (the byte kernel, every mode), maximum/minimum on both store paths
    /// (streaming and plain) and the constant powers, each against a plain Swift loop, with NaNs.
    func testCompareExtremaAndPowersEveryLevel() throws {
        var g = SystemRandomNumberGenerator()
        let n = (1 << 20) + 37
        var av = (0 ..< n).map { _ in Double(Int.random(in: -8 ... 8, using: &g)) / 2 }
        let bv = (0 ..< n).map { _ in Double(Int.random(in: -8 ... 8, using: &g)) / 2 }
        for i in stride(from: 5, to: n, by: 9973) { av[i] = .nan }
        for dtype in [DType.f32, .f64] {
            let a = try Tensor(array: av, shape: [n], dtype: dtype), b = try Tensor(array: bv, shape: [n], dtype: dtype)
            let s = try Tensor.scalar(0.5, dtype: dtype)
            for level in 0 ... Kernels.bestLevel {
                Kernels.level = level
                let ops: [(CompareOp, (Double, Double) -> Bool)] = [(.eq, { $0 == $1 }), (.ne, { $0 != $1 }), (.lt, { $0 < $1 }),
                                                                     (.le, { $0 <= $1 }), (.gt, { $0 > $1 }), (.ge, { $0 >= $1 })]
                for (op, f) in ops {
                    let vv = try Tensor.compare(op, a, b).toDoubles(), vs = try Tensor.compare(op, a, s).toDoubles()
                    let sv = try Tensor.compare(op, s, b).toDoubles()
                    for i in 0 ..< n {
                        let w1: Double = f(av[i], bv[i]) ? 1 : 0, w2: Double = f(av[i], 0.5) ? 1 : 0, w3: Double = f(0.5, bv[i]) ? 1 : 0
                        if vv[i] != w1 || vs[i] != w2 || sv[i] != w3 {
                            XCTFail("\(op) \(dtype) level \(level) at \(i): \(av[i]) vs \(bv[i])"); break
                        }
                    }
                }
                for stream in [false, true] {
                let saved = Kernels.streamingBytes
                Kernels.streamingBytes = stream ? 0 : Int.max
                defer { Kernels.streamingBytes = saved }
                let mx = try Tensor.binary(.maximum, a, b).toDoubles(), mn = try Tensor.binary(.minimum, a, b).toDoubles()
                for i in 0 ..< n {
                    let wantMax = av[i].isNaN ? Double.nan : Swift.max(av[i], bv[i])
                    let wantMin = av[i].isNaN ? Double.nan : Swift.min(av[i], bv[i])
                    if !(mx[i] == wantMax || (mx[i].isNaN && wantMax.isNaN)) || !(mn[i] == wantMin || (mn[i].isNaN && wantMin.isNaN)) {
                        XCTFail("maximum/minimum \(dtype) level \(level) stream \(stream) at \(i): \(av[i]), \(bv[i]) -> \(mx[i]), \(mn[i])"); break
                    }
                }
                }
                for c in [0.0, 1, 2, -1] {
                    let p = try Tensor.binary(.pow, a, Tensor.scalar(c, dtype: dtype)).toDoubles()
                    for i in 0 ..< n {
                        let x = dtype == .f32 ? Double(Float(av[i])) : av[i]
                        let want = dtype == .f32 ? Double(Float(Foundation.pow(x, c))) : Foundation.pow(x, c)
                        if !(p[i] == want || (p[i].isNaN && want.isNaN)) { XCTFail("pow(\(x), \(c)) \(dtype): got \(p[i]), want \(want)"); break }
                    }
                }
            }
        }
        // ops without a SIMD kernel run their scalar function split over the cores
        let big = try Tensor(array: av, shape: [n], dtype: .f32)
        let t = try big.unary(.atan).toDoubles()
        for i in stride(from: 0, to: n, by: 101) where !(t[i] == Double(atanf(Float(av[i]))) || (t[i].isNaN && av[i].isNaN)) {
            XCTFail("atan at \(i)"); break
        }
    }
}

extension KernelTests {
    /// The cheap unary ops stream big outputs (kernels.c tide_unary_f32_stream); the result
    /// must not change, whatever the output's alignment.
    func testStreamedUnaryOutputs() throws {
        let saved = Kernels.streamingBytes
        Kernels.streamingBytes = 0
        defer { Kernels.streamingBytes = saved }
        let n = (1 << 20) + 77
        var g = SystemRandomNumberGenerator()
        var v = (0 ..< n + 3).map { _ in Double(Float.random(in: -4 ... 4, using: &g)) }
        v[100] = .nan; v[n / 2] = -0.0
        let base = try Tensor(array: v, shape: [n + 3], dtype: .f32)
        for start in [0, 1, 3] {
            let x = try base.narrow(0, start, n).contiguous()  // a fresh buffer; outputs land at varied offsets
            let xs = try x.toDoubles()
            for level in 0 ... Kernels.bestLevel {
                Kernels.level = level
                let cases: [(UnaryOp, (Float) -> Float)] = [(.neg, { -$0 }), (.abs, { Swift.abs($0) }), (.relu, { $0 > 0 || $0.isNaN ? $0 : 0 }),
                                                            (.sqrt, { $0.squareRoot() }), (.square, { $0 * $0 })]
                for (op, f) in cases {
                    let y = try x.unary(op).toDoubles()
                    for i in 0 ..< n {
                        let want = Double(f(Float(xs[i])))
                        if !(y[i] == want || (y[i].isNaN && want.isNaN)) { XCTFail("\(op) level \(level) at \(i): \(xs[i]) -> \(y[i]), want \(want)"); break }
                    }
                }
            }
        }
    }
}

extension KernelTests {
    /// Elementwise ops where one operand is the other's transpose (transpose_body.h): every op,
    /// f32 and f64, both operand orders, tile edges, batch dims, NaN, in place and the
    /// transposed copies of every 4- and 8-byte dtype, at every level, against index math.
    func testTransposedOperandEveryLevel() throws {
        var g = SystemRandomNumberGenerator()
        let ops: [(BinaryOp, (Double, Double) -> Double)] = [
            (.add, { $0 + $1 }), (.sub, { $0 - $1 }), (.mul, { $0 * $1 }), (.div, { $0 / $1 }),
            (.maximum, { $0.isNaN || $1.isNaN ? .nan : Swift.max($0, $1) }),
            (.minimum, { $0.isNaN || $1.isNaN ? .nan : Swift.min($0, $1) })]
        for level in 0 ... Kernels.bestLevel {
            Kernels.level = level
            for (B, R, C) in [(1, 8, 8), (1, 13, 29), (2, 9, 17), (1, 130, 270), (1, 1030, 1030)] {
                for dtype in [DType.f32, .f64] {
                    let n = B * R * C
                    var av = (0 ..< n).map { _ in Double(Float.random(in: -3 ... 3, using: &g)) }
                    let bv = (0 ..< n).map { _ in Double(Float.random(in: -3 ... 3, using: &g)) }
                    av[n / 3] = .nan
                    let a = try Tensor(array: av, shape: [B, R, C], dtype: dtype)
                    // bt is (B, R, C) with element (k, i, j) at bv[(k*C + j)*R + i]
                    let bt = try Tensor(array: bv, shape: [B, C, R], dtype: dtype).transposed(1, 2)
                    let want = { (op: (Double, Double) -> Double, k: Int, i: Int, j: Int, swap: Bool) -> Double in
                        let x = av[(k * R + i) * C + j], y = bv[(k * C + j) * R + i]
                        return swap ? op(y, x) : op(x, y)
                    }
                    for (op, f) in (n > 100_000 ? Array(ops.prefix(1)) : ops) {
                        for swap in [false, true] {
                            let y = try (swap ? Tensor.binary(op, bt, a) : Tensor.binary(op, a, bt)).contiguous().toDoubles()
                            var bad = 0
                            for k in 0 ..< B { for i in 0 ..< R { for j in 0 ..< C {
                                let w = want(f, k, i, j, swap), got = y[(k * R + i) * C + j]
                                let ok = got == w || (got.isNaN && w.isNaN) || abs(got - w) <= 1e-6 * abs(w)
                                if !ok && bad < 3 { bad += 1; XCTFail("\(op) swap \(swap) \(dtype) level \(level) (\(B),\(R),\(C)) at \(k),\(i),\(j): \(got) want \(w)") }
                            } } }
                        }
                    }
                    // in place: a += bt
                    let inPlace = try a.clone()
                    _ = try Tensor.binary(.add, inPlace, bt, out: inPlace)
                    let ip = try inPlace.toDoubles()
                    for q in stride(from: 0, to: n, by: 7) {
                        let k = q / (R * C), i = (q / C) % R, j = q % C, w = want({ $0 + $1 }, k, i, j, false)
                        if !(ip[q] == w || (ip[q].isNaN && w.isNaN) || abs(ip[q] - w) <= 1e-6 * abs(w)) { XCTFail("add_ \(dtype) at \(q)"); break }
                    }
                }
                // transposed copies move bits, whatever the dtype
                for dtype in [DType.f32, .f64, .i64, .c64, .c128] {
                    let src = try Tensor(array: (0 ..< B * C * R).map { Double($0) - 7 }, shape: [B, C, R], dtype: dtype)
                    let c = try src.transposed(1, 2).contiguous()
                    XCTAssertEqual(c.shape, [B, R, C])
                    let cv = try c.toComplex(), sv = try src.toComplex()
                    var ok = true
                    for k in 0 ..< B { for i in 0 ..< R { for j in 0 ..< C where cv[(k * R + i) * C + j] != sv[(k * C + j) * R + i] { ok = false } } }
                    XCTAssertTrue(ok, "transposed copy \(dtype) level \(level) (\(B),\(R),\(C))")
                }
            }
        }
    }
}

extension KernelTests {
    /// f32 tensor ^ tensor (pow_body.h): within 1 ulp of pow done in double, and exactly powf
    /// on the special lanes (zero, negative, infinite and NaN bases; infinite and NaN
    /// exponents), in every mode and at every level, tails included.
    func testPowEveryLevel() throws {
        var g = SystemRandomNumberGenerator()
        let specials: [Float] = [0, -0.0, 1, -1, 2, -2, 0.5, -3, .infinity, -.infinity, .nan, 1e-30, 3e38, .leastNonzeroMagnitude]
        var xs: [Float] = [], ys: [Float] = []
        for a in specials { for b in specials { xs.append(a); ys.append(b) } }
        for _ in 0 ..< 3000 {
            xs.append(Float.random(in: 0 ... 30, using: &g) * (Bool.random(using: &g) ? 1 : 1e-3))
            ys.append(Float.random(in: -12 ... 12, using: &g))
        }
        xs.append(contentsOf: [2, 10, 0.999, 1.001]); ys.append(contentsOf: [127.9, 38.5, 1e5, -1e5])  // near overflow / underflow
        // the hardest case for the log's truncation: x near 1 with a huge exponent, so
        // y log2 x reaches the ends of the float range; and subnormal results (2^-127 ... 2^-149)
        for _ in 0 ..< 2000 {
            xs.append(1 + Float.random(in: -0.04 ... 0.04, using: &g)); ys.append(Float.random(in: -3500 ... 3500, using: &g))
        }
        for k in 0 ..< 60 { xs.append(0.5); ys.append(120 + Float(k) * 0.5) }
        let n = xs.count
        let x = try Tensor(array: xs.map(Double.init), shape: [n], dtype: .f32)
        let y = try Tensor(array: ys.map(Double.init), shape: [n], dtype: .f32)
        func want(_ a: Float, _ b: Float) -> Float {
            if !(a > 0 && a.isFinite) || !b.isFinite { return powf(a, b) }
            return Float(Foundation.pow(Double(a), Double(b)))
        }
        func close(_ got: Float, _ w: Float) -> Bool {
            if got.isNaN || w.isNaN { return got.isNaN && w.isNaN }
            if got == w { return true }
            if got.isInfinite || w.isInfinite { return false }
            return abs(got - w) <= w.magnitude.ulp.nextUp  // one ulp
        }
        var byLevel: [[Double]] = []
        for level in 0 ... Kernels.bestLevel {
            Kernels.level = level
            let vv = try Tensor.binary(.pow, x, y).toDoubles()
            byLevel.append(vv)
            for i in 0 ..< n where !close(Float(vv[i]), want(xs[i], ys[i])) {
                XCTFail("pow level \(level): \(xs[i]) ^ \(ys[i]) = \(vv[i]), want \(want(xs[i], ys[i]))"); break
            }
            for (k, c) in [Float(2.5), -0.5, 3, 0].enumerated() {
                let vs = try Tensor.binary(.pow, x, Tensor.scalar(Double(c))).toDoubles()
                let sv = try Tensor.binary(.pow, Tensor.scalar(Double(c + 1)), y).toDoubles()
                for i in 0 ..< n where !close(Float(vs[i]), want(xs[i], c)) || !close(Float(sv[i]), want(c + 1, ys[i])) {
                    XCTFail("pow scalar case \(k) level \(level) at \(i): \(vs[i]) / \(sv[i])"); break
                }
            }
        }
        // the AVX-512 kernel (permutes, scalef) computes the same values as the AVX2 one
        if byLevel.count > 2 {
            for i in 0 ..< n where !(byLevel[2][i] == byLevel[1][i] || (byLevel[2][i].isNaN && byLevel[1][i].isNaN)) {
                XCTFail("pow levels 1 and 2 differ at \(xs[i]) ^ \(ys[i]): \(byLevel[1][i]) vs \(byLevel[2][i])"); break
            }
        }
    }
}

extension KernelTests {
    /// Binary ops on both store paths (streaming, plain) and in place (y is an input, which
    /// the explicit-vector loops allow), every mode, f32 and f64, an odd length, inputs and
    /// an output at odd offsets.
    func testBinaryStorePathsAndInPlace() throws {
        var g = SystemRandomNumberGenerator()
        let n = 4099
        let av = (0 ..< n + 3).map { _ in Double(Float.random(in: -4 ... 4, using: &g)) }
        let bv = (0 ..< n + 3).map { _ in Double(Float.random(in: 0.5 ... 4, using: &g)) }
        let saved = Kernels.streamingBytes
        defer { Kernels.streamingBytes = saved }
        let ops: [(BinaryOp, (Double, Double) -> Double)] = [(.add, { $0 + $1 }), (.sub, { $0 - $1 }), (.mul, { $0 * $1 }),
                                                             (.div, { $0 / $1 }), (.maximum, { Swift.max($0, $1) }), (.minimum, { Swift.min($0, $1) })]
        for dtype in [DType.f32, .f64] {
            let round: (Double) -> Double = dtype == .f32 ? { Double(Float($0)) } : { $0 }
            for level in 0 ... Kernels.bestLevel {
                Kernels.level = level
                for stream in [false, true] {
                    Kernels.streamingBytes = stream ? 0 : Int.max
                    for start in [0, 1, 3] {
                        let a = try Tensor(array: av, shape: [n + 3], dtype: dtype).narrow(0, start, n).contiguous()
                        let b = try Tensor(array: bv, shape: [n + 3], dtype: dtype).narrow(0, start, n).contiguous()
                        let x = try a.toDoubles(), y = try b.toDoubles()
                        let s = try Tensor.scalar(1.5, dtype: dtype)
                        for (op, f) in ops {
                            let vv = try Tensor.binary(op, a, b).toDoubles(), vs = try Tensor.binary(op, a, s).toDoubles()
                            let sv = try Tensor.binary(op, s, b).toDoubles()
                            let inPlace = try a.clone()
                            _ = try Tensor.binary(op, inPlace, b, out: inPlace)
                            let ip = try inPlace.toDoubles()
                            // an output at an odd offset: the streaming path's unaligned head
                            let outView = try Tensor.zeros([n + 3], dtype: dtype).narrow(0, start, n)
                            _ = try Tensor.binary(op, a, b, out: outView)
                            let ov = try outView.toDoubles()
                            for i in 0 ..< n {
                                let w1 = round(f(x[i], y[i])), w2 = round(f(x[i], 1.5)), w3 = round(f(1.5, y[i]))
                                if vv[i] != w1 || vs[i] != w2 || sv[i] != w3 || ip[i] != w1 || ov[i] != w1 {
                                    XCTFail("\(op) \(dtype) level \(level) stream \(stream) start \(start) at \(i)"); break
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
