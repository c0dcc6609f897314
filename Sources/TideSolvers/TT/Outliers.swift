// Outliers: the corruption model y = A(X*) + s (+ noise) of spec solvers.md 2.2, step 4-5.
//
//     let c = try Outliers.make(clean: y0, fraction: 0.2, scale: 10, distribution: .gaussian,
//                               placement: .random, generator: g)
//     c.values     // s (m,): zero except at c.indices
//     c.indices    // floor(fraction m) distinct 0-based positions, ascending
//     let noisy = try Outliers.addNoise(y, sigma: 1e-3, generator: g)
//
// Distributions of the nonzero s_i ("arbitrary values" in the abstract; the default
// 10 N(0, 1) is a [Tide choice], the others are the variants the spec asks for):
//   gaussian     scale * N(0, 1)
//   uniform      scale * U(-1, 1)
//   constant     +scale (all outliers of one sign)
//   adversarial  -<A_i, X*> + scale: the corrupted measurement is the constant `scale`
//   flip         -2 <A_i, X*>: the corrupted measurement is <A_i, -X*>, so at fraction 1/2
//                X* and -X* explain the data equally well (recovery must break down there)
// Placement: random (uniform without replacement, partial Fisher-Yates) or largest (the
// measurements with the largest |<A_i, X*>|, the most informative ones).
import TideCore

public enum Outliers {
    public enum Distribution: String, Sendable, CaseIterable { case gaussian, uniform, constant, adversarial, flip }
    public enum Placement: String, Sendable, CaseIterable { case random, largest }

    public struct Corruption {
        /// s: (m,) f64, zero outside `indices`.
        public let values: Tensor
        /// 0-based positions of the outliers, ascending.
        public let indices: [Int]
    }

    /// The outlier vector for clean measurements `clean` (m,) (real).
    public static func make(clean: Tensor, fraction: Double, scale: Double = 10, distribution: Distribution = .gaussian,
                            placement: Placement = .random, generator g: Generator = .global,
                            op: String = "tt.outliers") throws -> Corruption {
        guard clean.dim == 1 else { throw TensorError("\(op): expected clean measurements of shape (m), got \(shapeString(clean.shape))") }
        guard fraction >= 0 && fraction <= 1 else { throw TensorError("\(op): fraction must be in [0, 1], got \(fraction)") }
        guard scale.isFinite else { throw TensorError("\(op): scale must be finite, got \(scale)") }
        let y = try clean.f64Contiguous(op), m = y.numel, yp = y.pointer(Double.self)
        let k = Int((fraction * Double(m)).rounded(.down))
        var idx: [Int]
        switch placement {
        case .random:
            // partial Fisher-Yates: the first k entries of a random permutation
            var perm = Array(0 ..< m)
            for i in 0 ..< k {
                let j = i + Int(g.below(UInt64(m - i)))
                perm.swapAt(i, j)
            }
            idx = Array(perm[0 ..< k])
        case .largest:
            idx = Array((0 ..< m).sorted { abs(yp[$0]) > abs(yp[$1]) || (abs(yp[$0]) == abs(yp[$1]) && $0 < $1) }.prefix(k))
        }
        idx.sort()
        defer { withExtendedLifetime(y) {} }
        let s = try Tensor.zeros([m], dtype: .f64)
        let sp = s.pointer(Double.self)
        for i in idx {
            switch distribution {
            case .gaussian: sp[i] = scale * g.normalPair().0
            case .uniform: sp[i] = scale * (2 * g.uniform() - 1)
            case .constant: sp[i] = scale
            case .adversarial: sp[i] = -yp[i] + scale
            case .flip: sp[i] = -2 * yp[i]
            }
        }
        return Corruption(values: s, indices: idx)
    }

    /// y + sigma N(0, 1) (real y) or y + sigma CN(0, 1) (complex y: variance sigma^2 per entry).
    public static func addNoise(_ y: Tensor, sigma: Double, generator g: Generator = .global, op: String = "tt.add_noise") throws -> Tensor {
        guard sigma >= 0 && sigma.isFinite else { throw TensorError("\(op): sigma must be a finite number >= 0, got \(sigma)") }
        if y.dtype.isComplex {
            let out = try y.to(.c128).clone()
            let p = out.rawPointer.assumingMemoryBound(to: Double.self), n = 2 * out.numel
            let noise = Scratch<Double>(count: n)
            g.fillNormal(noise.p, count: n)
            let s = sigma * 0.5.squareRoot()
            for i in 0 ..< n { p[i] += s * noise.p[i] }
            return out
        }
        let out = try y.f64Contiguous(op).clone()
        let p = out.pointer(Double.self), n = out.numel
        let noise = Scratch<Double>(count: n)
        g.fillNormal(noise.p, count: n)
        for i in 0 ..< n { p[i] += sigma * noise.p[i] }
        return out
    }
}
