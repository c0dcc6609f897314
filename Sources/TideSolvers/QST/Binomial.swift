// Binomial: exact Binomial(n, p) draws from a Tide Generator, fast for any n (brief §1.6).
//
//     let g = Generator(seed: 1)
//     let k = Binomial.sample(1_000_000, 0.3, g)            // one draw, O(1) expected time
//     let b = Binomial(1_000_000, 0.3); b.draw(g)            // constants computed once
//     let counts = Binomial.multinomial(q, probs, g)        // a Multinomial by conditional binomials
//
// Algorithm, chosen by the mean of the smaller tail, m = n·min(p, 1 − p):
//   - n = 1: one Bernoulli comparison.
//   - m < 10: sequential inversion. With s = p/q, the pmf ratio P(k+1)/P(k) = s (n − k)/(k + 1)
//     walks the CDF from P(0) = q^n; expected O(1 + m) steps.
//   - m >= 10: BTRS, Hörmann's transformed rejection with squeeze ("The generation of
//     binomial random variates", J. Statist. Comput. Simul. 46, 1993). A proposal
//     k = ⌊(2a/u_s + b)u + c⌋ from two uniforms; most candidates are accepted by the squeeze
//     test, the rest by comparing log v with the exact log pmf ratio to the mode,
//     log f(k) − log f(m) = lgamma terms + (k − m) log(p/q). Expected O(1) uniforms (about 2.3
//     per draw) whatever n is, so Q = 10^6 shots cost the same as Q = 100.
// Both are exact: they sample the Binomial law itself up to the rounding of log and log k!,
// with no normal approximation. p > 1/2 is drawn as n − Binomial(n, 1 − p). p is clipped to [0, 1]
// (rounding in tr(Wρ) can step outside by an ulp); p = 0 gives 0 and p = 1 gives n.
import TideCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public struct Binomial: Sendable {
    enum Kind: Sendable { case constant, bernoulli, inversion, btrs }
    public let n: Int
    public let p: Double
    let kind: Kind
    let flip: Bool                  // drawn as n − Binomial(n, 1 − p)
    let value: Int                  // .constant
    // inversion: P(0) = q^n and the ratio s = p/q; BTRS: its constants
    let p0, s: Double
    let a, b, c, vr, alpha, lpq, m, h: Double

    /// The sampler for Binomial(n, p), its constants computed once (a simulator draws many
    /// settings of the same Pauli string with one sampler).
    public init(_ n: Int, _ p: Double) {
        self.n = n; self.p = p
        var kind = Kind.constant, flip = false, value = 0
        var p0 = 0.0, s = 0.0, a = 0.0, b = 0.0, c = 0.0, vr = 0.0, alpha = 0.0, lpq = 0.0, m = 0.0, h = 0.0
        if n <= 0 || !(p > 0) { value = 0 }
        else if p >= 1 { value = n }
        else if n == 1 { kind = .bernoulli }
        else {
            flip = p > 0.5
            let pp = flip ? 1 - p : p, q = 1 - pp, nd = Double(n)
            if nd * pp < 10 {
                kind = .inversion
                p0 = exp(nd * log1p(-pp))       // q^n without underflow for large n
                s = pp / q
            } else {
                kind = .btrs
                let spq = (nd * pp * q).squareRoot()
                b = 1.15 + 2.53 * spq
                a = -0.0873 + 0.0248 * b + 0.01 * pp
                c = nd * pp + 0.5
                vr = 0.92 - 4.2 / b
                alpha = (2.83 + 5.1 / b) * spq
                lpq = log(pp / q)
                m = floor((nd + 1) * pp)
                h = Binomial.logFactorial(m) + Binomial.logFactorial(nd - m)
            }
        }
        self.kind = kind; self.flip = flip; self.value = value
        self.p0 = p0; self.s = s; self.a = a; self.b = b; self.c = c; self.vr = vr
        self.alpha = alpha; self.lpq = lpq; self.m = m; self.h = h
    }

    /// One draw of Binomial(n, p).
    public static func sample(_ n: Int, _ p: Double, _ g: Generator) -> Int { Binomial(n, p).draw(g) }

    /// One draw.
    @inline(__always)
    public func draw(_ g: Generator) -> Int {
        switch kind {
        case .constant: return value
        case .bernoulli: return g.uniform() < p ? 1 : 0
        case .inversion: let k = inversion(g); return flip ? n - k : k
        case .btrs: let k = btrs(g); return flip ? n - k : k
        }
    }

    /// Sequential inversion for small means: walk the CDF from P(0) with
    /// P(k)/P(k−1) = s (n − k + 1)/k; expected O(1 + n p) steps.
    func inversion(_ g: Generator) -> Int {
        while true {
            var u = g.uniform(), f = p0, k = 0
            while u > f {
                u -= f
                k += 1
                if k > n { break }              // rounding left mass beyond n: draw again
                f *= s * Double(n - k + 1) / Double(k)
                if f == 0 { k = n + 1; break }
            }
            if k <= n { return k }
        }
    }

    /// BTRS (p <= 1/2 here, n p >= 10).
    func btrs(_ g: Generator) -> Int {
        let nd = Double(n)
        while true {
            let u = g.uniform() - 0.5
            var v = g.uniform()
            let us = 0.5 - abs(u)
            let kf = floor((2 * a / us + b) * u + c)
            if kf < 0 || kf > nd { continue }
            if us >= 0.07 && v <= vr { return Int(kf) }   // squeeze: inside the hat for sure
            if v <= 0 { continue }
            v = log(v * alpha / (a / (us * us) + b))
            if v <= h - Binomial.logFactorial(kf) - Binomial.logFactorial(nd - kf) + (kf - m) * lpq { return Int(kf) }
        }
    }

    /// log k! for k >= 0 integral: a table below 256, Stirling's series above (its truncation
    /// error, below 1/(1680 x^7) for x = k + 1 > 256, is far under one ulp).
    @inline(__always)
    static func logFactorial(_ k: Double) -> Double {
        if k < 256 { return logFactorialTable[Int(k)] }
        let x = k + 1, x2 = x * x
        return (x - 0.5) * log(x) - x + 0.91893853320467274178        // ½ log 2π
            + (1.0 / 12 - (1.0 / 360 - (1.0 / 1260) / x2) / x2) / x
    }

    static let logFactorialTable: [Double] = {
        var t = [Double](repeating: 0, count: 256)
        for k in 1 ..< 256 { t[k] = lgamma(Double(k) + 1) }
        return t
    }()

    /// Counts of n draws over categories with probabilities `probs` (summing to 1; negatives
    /// count as 0), by conditional binomials: k_j ~ Binomial(n − Σ_{i<j} k_i, p_j / Σ_{i>=j} p_i).
    /// Writes `count` counts into `out`. Exact; O(count) plus the binomial draws.
    public static func multinomial(_ n: Int, _ probs: UnsafePointer<Double>, count: Int,
                                   into out: UnsafeMutablePointer<Int>, _ g: Generator) {
        var total = 0.0
        for j in 0 ..< count { total += max(probs[j], 0) }
        if n == 1 {  // one shot: a single categorical draw by inversion
            let u = g.uniform() * total
            var cum = 0.0, hit = -1
            for j in 0 ..< count where probs[j] > 0 {
                hit = j                      // rounding past the end falls on the last positive
                cum += probs[j]
                if u < cum { break }
            }
            for j in 0 ..< count { out[j] = 0 }
            out[hit < 0 ? count - 1 : hit] = 1
            return
        }
        var left = n, mass = total
        for j in 0 ..< count {
            if left == 0 { out[j] = 0; continue }
            if j == count - 1 { out[j] = left; left = 0; continue }  // the conditional p is 1
            let pj = max(probs[j], 0)
            let k = mass > 0 ? sample(left, min(1, pj / mass), g) : 0
            out[j] = k
            left -= k
            mass -= pj
        }
    }
}
