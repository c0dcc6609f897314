// RecoveryTrials: many independent recovery runs (a phase-transition grid over m and the
// outlier fraction, several seeds each), spread over the cores.
//
//     let cells = try RecoveryTrials.run(dims: [3, 3, 3, 3], ranks: [2, 2, 2], ms: [60, 80, 100],
//                                        fractions: [0.2], seeds: 6, options: RecoveryOptions())
//     cells[0].successes      // runs with final relative error < threshold (of `seeds`)
//     cells[0].errors         // the final relative error of each seed
//
// Each trial builds its own RecoveryProblem (seed = seed0 + 1000 * cell + s) and runs
// TTRecovery.run. Trials are independent, so they are dealt round-robin to one worker per core
// (Threads.parallelFor); BLAS runs single-threaded meanwhile (parallelism at one level only,
// ARCHITECTURE.md) and the thread count is restored after. Results do not depend on the
// thread count.
import COpenBLAS
import TideCore

public enum RecoveryTrials {
    public struct Cell {
        public let m: Int
        public let fraction: Double
        public let errors: [Double]
        public let iterations: [Int]
        public let threshold: Double
        public var successes: Int { errors.filter { $0 < threshold }.count }
        public var rate: Double { errors.isEmpty ? 0 : Double(successes) / Double(errors.count) }
    }

    public static func run(dims: [Int], ranks: [Int], ms: [Int], fractions: [Double], seeds: Int,
                           options: RecoveryOptions, threshold: Double = 1e-6, scale: Double = 10,
                           distribution: Outliers.Distribution = .gaussian, placement: Outliers.Placement = .random,
                           noise: Double = 0, seed0: UInt64 = 0, name: String = "tt.trials") throws -> [Cell] {
        guard seeds >= 1 else { throw TensorError("\(name): seeds must be >= 1, got \(seeds)") }
        guard !ms.isEmpty, !fractions.isEmpty else { throw TensorError("\(name): expected at least one m and one fraction") }
        for m in ms where m < 1 { throw TensorError("\(name): m must be >= 1, got \(m)") }
        _ = try TTRecovery.checkedRanks(ranks, dims: dims, name)
        try TTRecovery.validate(options, name)
        guard seeds <= 1 << 20, ms.count * fractions.count <= 1 << 20 else {
            throw TensorError("\(name): at most 2^20 seeds and 2^20 cells, got \(seeds) seeds and \(ms.count * fractions.count) cells")
        }
        let cells = ms.count * fractions.count, total = cells * seeds
        let errs = Scratch<Double>(count: total), its = Scratch<Int>(count: total)
        let threads = Threads.count
        openblas_set_num_threads(1)
        defer { Threads.count = threads }
        // worker w takes trials w, w + workers, ...: cells with large m (slow) are shared evenly
        let workers = max(1, min(threads, total))
        try Threads.parallelFor(workers, grain: 1) { lo, hi in
            for w in lo ..< hi {
              for t in stride(from: w, to: total, by: workers) {
                try Cancellation.check()
                let c = t / seeds, s = t % seeds
                let m = ms[c / fractions.count], fr = fractions[c % fractions.count]
                let p = try RecoveryProblem(dims: dims, ranks: ranks, m: m, fraction: fr, scale: scale, distribution: distribution,
                                            placement: placement, noise: noise, seed: seed0 &+ UInt64(1000 * c + s), name: name)
                var o = options
                o.generator = Generator(seed: seed0 &+ UInt64(1000 * c + s) &+ 0x5151)  // own stream per trial
                let r = try TTRecovery.run(op: p.op, y: p.y, ranks: ranks, options: o, truth: p.truthFull, name: name)
                errs.p[t] = r.history.relativeError.last ?? r.history.initRelativeError
                its.p[t] = r.history.iterations
              }
            }
        }
        return (0 ..< cells).map { c in
            Cell(m: ms[c / fractions.count], fraction: fractions[c % fractions.count],
                 errors: (0 ..< seeds).map { errs.p[c * seeds + $0] }, iterations: (0 ..< seeds).map { its.p[c * seeds + $0] },
                 threshold: threshold)
        }
    }
}
