// The optimizer update kernels of _CTideKernels (tide_optim.h) at every instruction-set level
// this CPU has, against a scalar Double reference written from the published update rules,
// on a size with a vector body and a ragged tail. (The Lua tests check the whole optimizers
// against NumPy at the best level only.)
import XCTest
import TideCore
import _CTideKernels

final class OptimKernelTests: XCTestCase {
    override func tearDown() { Kernels.level = Kernels.bestLevel }

    let n = 1037

    func values(_ seed: UInt64, scale: Double = 1) -> [Double] {
        var s = seed
        return (0 ..< n).map { _ in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return (Double(s >> 11) / Double(1 << 53) * 2 - 1) * scale
        }
    }

    /// Runs `body` at every level with fresh copies of p and state; returns p and state per level.
    func eachLevel<T: BinaryFloatingPoint>(_: T.Type, _ arrays: [[Double]],
                                            _ body: ([UnsafeMutablePointer<T>]) -> Void) -> [[[Double]]] {
        var out: [[[Double]]] = []
        for level in 0 ... Kernels.bestLevel {
            Kernels.level = level
            let bufs = arrays.map { a -> UnsafeMutablePointer<T> in
                let b = UnsafeMutablePointer<T>.allocate(capacity: a.count)
                for i in 0 ..< a.count { b[i] = T(a[i]) }
                return b
            }
            body(bufs)
            out.append(bufs.map { b in (0 ..< n).map { Double(b[$0]) } })
            bufs.forEach { $0.deallocate() }
        }
        return out
    }

    func assertClose(_ got: [Double], _ want: [Double], _ tol: Double, _ what: String) {
        for i in 0 ..< want.count {
            XCTAssertLessThanOrEqual(abs(got[i] - want[i]), tol * (1 + abs(want[i])),
                                     "\(what) at \(i): \(got[i]) vs \(want[i])")
            if abs(got[i] - want[i]) > tol * (1 + abs(want[i])) { return }
        }
    }

    func testAdamEveryLevel() {
        let p0 = values(1), g = values(2, scale: 3), m0 = values(3, scale: 0.5)
        let v0 = values(4).map { $0 * $0 }, x0 = values(5).map { $0 * $0 * 1.5 }
        for (decoupled, amsgrad, maximize) in [(false, false, false), (true, true, false), (false, true, true)] {
            let lr = 0.01, b1 = 0.8, b2 = 0.95, eps = 1e-6, wd = 0.1, t = 3.0
            let bc1 = 1 - pow(b1, t), bc2 = 1 - pow(b2, t)
            var c = tide_adam_params(sign: maximize ? -1 : 1, l2: decoupled ? 0 : wd, shrink: decoupled ? 1 - lr * wd : 1,
                                     beta1: b1, beta2: b2, neg_step_size: -lr / bc1, bc2_sqrt: bc2.squareRoot(), eps: eps)
            // reference: Kingma & Ba, Alg. 1 (amsgrad: Reddi et al.; AdamW: decoupled decay)
            var wantP = [Double](), wantM = [Double](), wantV = [Double](), wantX = [Double]()
            for i in 0 ..< n {
                var gi = maximize ? -g[i] : g[i]
                var p = p0[i]
                if decoupled { p -= lr * wd * p } else { gi += wd * p }
                let m = b1 * m0[i] + (1 - b1) * gi, v = b2 * v0[i] + (1 - b2) * gi * gi
                let x = max(x0[i], v)
                let vh = (amsgrad ? x : v) / bc2
                wantP.append(p - lr * (m / bc1) / (vh.squareRoot() + eps))
                wantM.append(m); wantV.append(v); wantX.append(x)
            }
            let what = "adam decoupled=\(decoupled) amsgrad=\(amsgrad) maximize=\(maximize)"
            for r in eachLevel(Float.self, [p0, g, m0, v0, x0], { b in
                tide_adam_f32(b[0], b[1], b[2], b[3], amsgrad ? b[4] : nil, n, &c)
            }) {
                assertClose(r[0], wantP, 2e-6, what + " f32 p"); assertClose(r[2], wantM, 2e-6, what + " f32 m")
                assertClose(r[3], wantV, 2e-6, what + " f32 v")
                if amsgrad { assertClose(r[4], wantX, 2e-6, what + " f32 vmax") }
            }
            for r in eachLevel(Double.self, [p0, g, m0, v0, x0], { b in
                tide_adam_f64(b[0], b[1], b[2], b[3], amsgrad ? b[4] : nil, n, &c)
            }) {
                assertClose(r[0], wantP, 1e-13, what + " f64 p"); assertClose(r[2], wantM, 1e-14, what + " f64 m")
                if amsgrad { assertClose(r[4], wantX, 1e-14, what + " f64 vmax") }
            }
        }
    }

    func testSGDEveryLevel() {
        let p0 = values(6), g = values(7, scale: 2), b0 = values(8)
        for (mu, nesterov, first, maximize) in [(0.0, false, false, false), (0.9, false, false, true),
                                                 (0.9, true, false, false), (0.8, true, true, false)] {
            let lr = 0.1, wd = 0.05, damp = nesterov ? 0 : 0.2
            var c = tide_sgd_params(sign: maximize ? -1 : 1, weight_decay: wd, momentum: mu, dampening: damp,
                                    lr: lr, nesterov: nesterov ? 1 : 0, first: first ? 1 : 0)
            var wantP = [Double](), wantB = [Double]()
            for i in 0 ..< n {
                let d = (maximize ? -g[i] : g[i]) + wd * p0[i]
                if mu == 0 { wantP.append(p0[i] - lr * d); wantB.append(b0[i]); continue }
                let b = first ? d : mu * b0[i] + (1 - damp) * d
                wantB.append(b)
                wantP.append(p0[i] - lr * (nesterov ? d + mu * b : b))
            }
            let what = "sgd momentum=\(mu) nesterov=\(nesterov) first=\(first) maximize=\(maximize)"
            for r in eachLevel(Float.self, [p0, g, b0], { b in tide_sgd_f32(b[0], b[1], mu == 0 ? nil : b[2], n, &c) }) {
                assertClose(r[0], wantP, 1e-6, what + " f32 p"); assertClose(r[2], wantB, 1e-6, what + " f32 buf")
            }
            for r in eachLevel(Double.self, [p0, g, b0], { b in tide_sgd_f64(b[0], b[1], mu == 0 ? nil : b[2], n, &c) }) {
                assertClose(r[0], wantP, 1e-15, what + " f64 p"); assertClose(r[2], wantB, 1e-15, what + " f64 buf")
            }
        }
    }

    func testLionEveryLevel() {
        var p0 = values(9), g = values(10), m0 = values(11)
        g[0] = 0; m0[0] = 0   // sign(0) = 0: p only decays
        p0[1] = 2
        let lr = 0.01, wd = 0.3, b1 = 0.9, b2 = 0.99
        var c = tide_lion_params(lr: lr, weight_decay: wd, beta1: b1, beta2: b2)
        var wantP = [Double](), wantM = [Double]()
        for i in 0 ..< n {
            let u = b1 * m0[i] + (1 - b1) * g[i]
            let s: Double = u > 0 ? 1 : (u < 0 ? -1 : 0)
            wantP.append(p0[i] - lr * (s + wd * p0[i]))
            wantM.append(b2 * m0[i] + (1 - b2) * g[i])
        }
        for r in eachLevel(Float.self, [p0, g, m0], { b in tide_lion_f32(b[0], b[1], b[2], n, &c) }) {
            assertClose(r[0], wantP, 1e-6, "lion f32 p"); assertClose(r[2], wantM, 1e-6, "lion f32 m")
        }
        for r in eachLevel(Double.self, [p0, g, m0], { b in tide_lion_f64(b[0], b[1], b[2], n, &c) }) {
            assertClose(r[0], wantP, 1e-15, "lion f64 p"); assertClose(r[2], wantM, 1e-15, "lion f64 m")
            XCTAssertEqual(r[0][0], p0[0] * (1 - lr * wd), accuracy: 1e-15)
        }
    }

    func testSumOfSquaresEveryLevel() {
        let x = values(12, scale: 4)
        let want = x.reduce(0) { $0 + $1 * $1 }
        for level in 0 ... Kernels.bestLevel {
            Kernels.level = level
            let f = x.map { Float($0) }, wf = f.reduce(0.0) { $0 + Double($1) * Double($1) }
            XCTAssertEqual(f.withUnsafeBufferPointer { tide_sumsq_f32($0.baseAddress, n) }, wf, accuracy: 1e-5 * wf, "level \(level)")
            XCTAssertEqual(x.withUnsafeBufferPointer { tide_sumsq_f64($0.baseAddress, n) }, want, accuracy: 1e-13 * want, "level \(level)")
            XCTAssertEqual(x.withUnsafeBufferPointer { tide_sumsq_f64($0.baseAddress, 0) }, 0)
        }
    }
}
