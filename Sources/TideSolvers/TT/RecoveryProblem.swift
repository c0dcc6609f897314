// RecoveryProblem: a synthetic robust-TT-recovery instance (spec solvers.md 2.2 generator,
// [reconstructed + Tide choice]).
//
//     let p = try RecoveryProblem(dims: [4, 4, 4, 4], ranks: [2, 2, 2], m: 600, fraction: 0.2, seed: 1)
//     p.truth      // X*: left-orthogonal TT with ||X*||_F = 1
//     p.op         // Gaussian (600, 256) operator
//     p.y          // A(X*) + s (+ noise)
//     p.fStar      // f(X*) = ||y - A(X*)||_1 / m, for Polyak steps
//
// Seeds (spec 5): one seed per instance, split into independent streams for the truth, the
// operator, the outliers and the noise (each a Generator seeded by the next value of a root
// Generator(seed)). Changing the outlier fraction keeps the same truth and operator, so
// "same instance, different algorithm or corruption" comparisons are exact.
import TideCore

public struct RecoveryProblem {
    public let truth: TensorTrain
    public let truthFull: Tensor
    public let op: MeasurementOperator
    /// A(X*) (m,).
    public let clean: Tensor
    /// The measurements given to the solver (m,).
    public let y: Tensor
    public let corruption: Outliers.Corruption
    /// f_l1(X*) = ||y - A(X*)||_1 / m.
    public let fStar: Double

    public init(dims: [Int], ranks: [Int], m: Int, fraction: Double = 0, scale: Double = 10,
                distribution: Outliers.Distribution = .gaussian, placement: Outliers.Placement = .random,
                noise: Double = 0, kind: MeasurementOperator.Kind = .gaussian, operatorScale: Double = 1,
                normalize: Bool = true, seed: UInt64, name: String = "tt.problem") throws {
        guard !kind.isComplex else { throw TensorError("\(name): robust TT recovery is real; got operator kind '\(kind.rawValue)'") }
        let root = Generator(seed: seed)
        let gTruth = Generator(seed: root.next()), gOp = Generator(seed: root.next())
        let gOut = Generator(seed: root.next()), gNoise = Generator(seed: root.next())
        let raw = try TensorTrain.random(dims: dims, ranks: ranks, normalize: normalize, generator: gTruth, op: name)
        // left-orthogonal cores of the same tensor (2.2 step 2)
        let full = try raw.full()
        truth = try TTSVD.decompose(full, ranks: TensorTrain.feasibleRanks(dims: dims, ranks: ranks)).tt
        truthFull = try truth.full()
        op = try MeasurementOperator(kind: kind, m: m, dims: dims, scale: operatorScale, generator: gOp, op: name)
        clean = try op.apply(truthFull)
        corruption = try Outliers.make(clean: clean, fraction: fraction, scale: scale, distribution: distribution,
                                       placement: placement, generator: gOut, op: name)
        var yy = try Tensor.binary(.add, clean, corruption.values)
        if noise > 0 { yy = try Outliers.addNoise(yy, sigma: noise, generator: gNoise, op: name) }
        y = yy
        let yp = y.pointer(Double.self), cp = clean.pointer(Double.self)
        var s = 0.0
        for i in 0 ..< m { s += abs(yp[i] - cp[i]) }
        fStar = s / Double(m)
        withExtendedLifetime((clean, y)) {}
    }
}
