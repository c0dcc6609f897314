// TTRecovery: robust recovery of a low-rank tensor train from measurements with outliers,
// y = A(X*) + s, with the l1 loss (spec solvers.md 2, paper A: Qin & Zhu, arXiv 2410.15224).
//
//     var o = RecoveryOptions(method: .psubgm)
//     let r = try TTRecovery.run(op: op, y: y, ranks: [2, 2, 2], options: o, truth: xStar) { it in
//         print(it.t, it.relativeError)                     // progress hook, once per iteration
//     }
//     r.estimate          // TensorTrain (left-orthogonal)
//     r.history.loss      // f(X_t), t = 1..T;  also relativeError, step, time
//
// Methods:
//   PSubGM [abstract + reconstructed, 2.5]: X_{t+1} = SVD^tt_r(X_t - mu_t G_t), G_t the
//     subgradient on the full tensor. Two GEMVs and one TT-SVD per iteration.
//   FRSubGM [abstract + group + reconstructed, 2.6]: cores X_1..X_{N-1} on Stiefel manifolds,
//     X_N free. Core gradients by the chain rule; for i < N
//     L(X_i) <- Retr(-(mu_t / ||X_N||^2) P_L(L(dX_i))), and X_N <- X_N - mu_t dX_N.
//   The l2 loss turns either into least-squares TT recovery (PSubGM + l2 = IHT), the baseline
//   that breaks down under outliers (2.8.4).
// Step sizes (2.7): geometric mu_t = mu_0 q^t ("diminishing" [abstract]), constant mu_t = mu_0
// (the error floor), or Polyak mu_t = (f(X_t) - f_*) / ||G_t||^2 [reconstructed].
// Initialization (2.4): the truncated spectral method (see spectralInit), the untruncated one,
// the truth plus noise, or a given train.
//
// Memory: PSubGM keeps the full iterate (D values) and two more D-buffers; FRSubGM keeps the
// cores and the partial products (history.iterateBytes / workspaceBytes report both). The dense
// operator (m D values) dominates both, as 2.6 warns for Gaussian measurements.
import COpenBLAS
import TideCore
#if canImport(Glibc)
import Glibc
#endif

public enum TTRecovery {
    /// The truncated spectral estimate (2.4) [Tide choice, calibrated by prototype]:
    /// tau = c_tau * stat_i |y_i| (stat = median or mean); Y_0 = (1/m) sum_i y_i 1{|y_i| <= tau} A_i;
    /// X_0 = SVD^tt_r(Y_0); then (rescale) X_0 <- (median|y| / 0.6745) X_0 / ||X_0||_F, since
    /// median |<A_i, X*>| = 0.6745 ||X*||_F for Gaussian rows. truncation = nil: no truncation.
    public static func spectralInit(op: MeasurementOperator, y: Tensor, ranks: [Int], truncation: Double? = 3,
                                    stat: RecoveryOptions.TruncationStat = .median, rescale: Bool = true,
                                    name: String = "tt.spectral_init") throws -> TensorTrain {
        let obj = try RecoveryObjective(op: op, y: y, loss: .l1, name: name)
        let ranks = try checkedRanks(ranks, dims: op.dims, name)
        let m = op.m, yp = obj.y.pointer(Double.self)
        var absY = (0 ..< m).map { abs(yp[$0]) }
        absY.sort()
        let median = m % 2 == 1 ? absY[m / 2] : 0.5 * (absY[m / 2 - 1] + absY[m / 2])
        let mean = absY.reduce(0, +) / Double(m)
        let tau = truncation.map { $0 * (stat == .median ? median : mean) } ?? .infinity
        let w = obj.w.p, inv = 1 / Double(m)
        for i in 0 ..< m { w[i] = abs(yp[i]) <= tau ? yp[i] * inv : 0 }
        let g = Scratch<Double>(count: op.size)
        obj.gradient(into: g.p)
        var tt = try TTSVD.decompose(values: g.p, dims: op.dims, ranks: ranks, eps: nil).tt
        if rescale {
            let n = try tt.norm()
            if n > 0 { tt = try tt.scaled((median / 0.6745) / n) }
        }
        return tt
    }

    /// f(X) = (1/m)||A(X) - y||_1 (l1) or (1/(2m))||A(X) - y||^2 (l2) at a full tensor X.
    public static func loss(op: MeasurementOperator, y: Tensor, x: Tensor, loss: RecoveryOptions.Loss,
                            name: String = "tt.loss") throws -> Double {
        try RecoveryObjective.loss(op: op, y: y, x: x, loss: loss, name: name)
    }

    /// The hand-written (sub)gradient (1/m) A^T sign(A(X) - y) (l1, sign(0) = 0) or
    /// (1/m) A^T (A(X) - y) (l2): -> dims.
    public static func subgradient(op: MeasurementOperator, y: Tensor, x: Tensor, loss: RecoveryOptions.Loss,
                                   name: String = "tt.subgradient") throws -> Tensor {
        try RecoveryObjective.subgradient(op: op, y: y, x: x, loss: loss, name: name)
    }

    /// The per-core Euclidean (sub)gradients of f(full(tt)) (2.6 chain rule): -> core shapes.
    public static func coreGradients(op: MeasurementOperator, y: Tensor, tt: TensorTrain, loss: RecoveryOptions.Loss,
                                     name: String = "tt.core_gradients") throws -> [Tensor] {
        try RecoveryObjective.coreGradients(op: op, y: y, tt: tt, loss: loss, name: name)
    }

    /// Checks N-1 ranks >= 1 for `dims` and caps them at the feasible TT ranks.
    static func checkedRanks(_ ranks: [Int], dims: [Int], _ name: String) throws -> [Int] {
        guard ranks.count == dims.count - 1 else {
            throw TensorError("\(name): expected \(dims.count - 1) ranks for \(dims.count) dims, got \(ranks.count)")
        }
        for (i, r) in ranks.enumerated() where r < 1 { throw TensorError("\(name): rank r_\(i + 1) must be >= 1, got \(r)") }
        return TensorTrain.feasibleRanks(dims: dims, ranks: ranks)
    }

    /// Runs PSubGM or FRSubGM (options.method) from the options' initialization.
    /// truth: the full X* (dims or D values) for the relative error, or nil.
    public static func run(op: MeasurementOperator, y: Tensor, ranks given: [Int], options o: RecoveryOptions,
                           truth: Tensor? = nil, name: String = "tt.recover",
                           callback: ((IterationInfo) throws -> Void)? = nil) throws -> RecoveryResult {
        let obj = try RecoveryObjective(op: op, y: y, loss: o.loss, name: name)
        let dims = op.dims, D = op.size
        let ranks = try checkedRanks(given, dims: dims, name)
        try validate(o, name)
        var truthFull: Tensor? = nil, truthNorm = 1.0
        if let t = truth {
            guard t.numel == D else { throw TensorError("\(name): truth must have shape \(dimsText(dims)), got \(shapeString(t.shape))") }
            let tc = try t.f64Contiguous(name)
            truthFull = tc
            truthNorm = BLAS.sumSquares(tc.pointer(Double.self), D).squareRoot()
            if truthNorm == 0 { truthNorm = 1 }
        }
        var h = RecoveryHistory()
        h.operatorBytes = op.m * D * 8
        // Small operators: the GEMVs are too short for OpenBLAS's threads to pay off (measured
        // at m = 600, D = 256: 0.46 ms per iteration on two threads, 0.15 ms on one), so BLAS
        // runs single-threaded for the call; the thread count is restored on exit.
        // (Inside RecoveryTrials BLAS is already single-threaded and nothing changes here.)
        let blasThreads = openblas_get_num_threads()
        let single = op.m * D <= 1 << 20 && blasThreads > 1
        if single { openblas_set_num_threads(1) }
        defer { if single { openblas_set_num_threads(blasThreads) } }
        let start = monotonicSeconds()

        // ---- initialization
        var tt: TensorTrain
        switch o.initKind {
        case .spectral, .plain:
            tt = try spectralInit(op: op, y: y, ranks: ranks, truncation: o.initKind == .spectral ? o.truncation : nil,
                                  stat: o.truncationStat, rescale: o.rescale, name: name)
        case .truthNoise:
            guard let tf = truthFull else { throw TensorError("\(name): init 'truth_noise' needs the truth") }
            let z = Scratch<Double>(count: D)
            o.generator.fillNormal(z.p, count: D)
            let zn = BLAS.sumSquares(z.p, D).squareRoot()
            let tp = tf.pointer(Double.self), c = o.initNoise * truthNorm / max(zn, .leastNormalMagnitude)
            for i in 0 ..< D { z.p[i] = tp[i] + c * z.p[i] }
            withExtendedLifetime(tf) {}
            tt = try TTSVD.decompose(values: z.p, dims: dims, ranks: ranks, eps: nil).tt
        case .given:
            guard let g = o.initTrain else { throw TensorError("\(name): init 'given' needs a train") }
            guard g.dims == dims else { throw TensorError("\(name): the init train has dims \(dimsText(g.dims)), expected \(dimsText(dims))") }
            let f = try g.full()
            tt = try TTSVD.decompose(values: f.pointer(Double.self), dims: dims, ranks: ranks, eps: nil).tt
        }
        var x = Scratch<Double>(count: D), xNew = Scratch<Double>(count: D)
        try tt.fullInto(x.p)
        var f = obj.value(x.p)
        h.initLoss = f
        h.initRelativeError = truthFull.map { relativeDistance(x.p, $0.pointer(Double.self), D) / truthNorm } ?? .nan
        let x0Norm = BLAS.sumSquares(x.p, D).squareRoot()
        let mu0 = o.lambda * (o.lambdaUnits == .norm ? x0Norm : 1)
        h.step0 = mu0
        let iterStart = monotonicSeconds()
        h.initTime = iterStart - start

        // ---- iterations
        let g = Scratch<Double>(count: D)
        let z = Scratch<Double>(count: o.method == .psubgm ? D : 1)
        var partials = o.method == .frsubgm ? CorePartials(tt) : nil
        h.iterateBytes = o.method == .psubgm ? D * 8 : tt.parameterCount * 8
        h.workspaceBytes = o.method == .psubgm ? 3 * D * 8 : (2 * D * 8 + (partials?.bytes ?? 0))
        for t in 1 ... max(o.iterations, 1) where o.iterations > 0 {
            try Cancellation.check()
            obj.gradient(into: g.p)
            var mu: Double
            switch o.schedule {
            case .geometric: mu = mu0 * pow(o.q, Double(t - 1))
            case .constant: mu = mu0
            case .polyak:
                let gg = BLAS.sumSquares(g.p, D)
                mu = gg > 0 ? max(f - (o.fStar ?? 0), 0) / gg : 0
            }
            switch o.method {
            case .psubgm:
                for i in 0 ..< D { z.p[i] = x.p[i] - mu * g.p[i] }
                tt = try TTSVD.decompose(values: z.p, dims: dims, ranks: ranks, eps: nil).tt
                try tt.fullInto(xNew.p)
            case .frsubgm:
                tt = try frStep(tt, partials!, obj: obj, g: g, mu: mu, options: o)
                partials = CorePartials(tt)
                xNew.p.update(from: partials!.full, count: D)
            }
            let change = relativeDistance(xNew.p, x.p, D) / max(BLAS.sumSquares(x.p, D).squareRoot(), .leastNormalMagnitude)
            swap(&x, &xNew)
            f = obj.value(x.p)
            let err = truthFull.map { relativeDistance(x.p, $0.pointer(Double.self), D) / truthNorm } ?? .nan
            let now = monotonicSeconds() - iterStart
            h.loss.append(f); h.relativeError.append(err); h.step.append(mu); h.time.append(now)
            try callback?(IterationInfo(t: t, loss: f, relativeError: err, step: mu, change: change, elapsed: now))
            if !f.isFinite { h.stopReason = "diverged"; break }
            if o.stopError > 0 && err < o.stopError { h.stopReason = "rel_err"; break }
            if o.tol > 0 && change < o.tol { h.stopReason = "tol"; break }
            if o.minStep > 0 && o.schedule != .polyak && mu < o.minStep * mu0 { h.stopReason = "min_step"; break }
            if o.schedule == .polyak && mu == 0 && t > 1 { h.stopReason = "min_step"; break }
        }
        return RecoveryResult(estimate: tt, history: h)
    }

    static func validate(_ o: RecoveryOptions, _ name: String) throws {
        guard o.lambda > 0 && o.lambda.isFinite else { throw TensorError("\(name): lambda must be a positive number, got \(o.lambda)") }
        guard o.q > 0 && o.q <= 1 else { throw TensorError("\(name): q must be in (0, 1], got \(o.q)") }
        guard o.iterations >= 0 else { throw TensorError("\(name): iters must be >= 0, got \(o.iterations)") }
        guard o.truncation > 0 else { throw TensorError("\(name): truncation must be > 0, got \(o.truncation)") }
        guard o.initNoise >= 0 else { throw TensorError("\(name): init_noise must be >= 0, got \(o.initNoise)") }
        if o.schedule == .polyak && o.fStar == nil {
            throw TensorError("\(name): schedule 'polyak' needs f_star (the optimal loss, ||s||_1 / m in simulation)")
        }
    }

    /// One FRSubGM iteration from `tt` (left-orthogonal cores 1..N-1) whose partial products
    /// and objective weights are current; g receives the full subgradient.
    static func frStep(_ tt: TensorTrain, _ parts: CorePartials, obj: RecoveryObjective, g: Scratch<Double>,
                       mu: Double, options o: RecoveryOptions) throws -> TensorTrain {
        let n = tt.order
        var cores = tt.cores
        let lastNorm2 = BLAS.sumSquares(cores[n - 1].pointer(Double.self), cores[n - 1].numel)
        let coreStep = o.frScale == .norm2 ? mu / max(lastNorm2, .leastNormalMagnitude) : mu
        switch o.frUpdate {
        case .simultaneous:
            // every gradient from the cores of this iteration, then every update
            let grads = try (0 ..< n).map { i -> Tensor in
                let gi = try Tensor(uninitialized: cores[i].shape, dtype: .f64)
                parts.coreGradient(i, g.p, into: gi.pointer(Double.self))
                return gi
            }
            for i in 0 ..< n { cores[i] = try updatedCore(cores[i], grads[i], last: i == n - 1, coreStep: coreStep, mu: mu, o.retraction) }
        case .sequential:
            var p = parts
            for i in 0 ..< n {
                if i > 0 {
                    p = CorePartials(TensorTrain(trusted: cores))
                    obj.value(p.full)
                    obj.gradient(into: g.p)
                }
                let gi = try Tensor(uninitialized: cores[i].shape, dtype: .f64)
                p.coreGradient(i, g.p, into: gi.pointer(Double.self))
                cores[i] = try updatedCore(cores[i], gi, last: i == n - 1, coreStep: coreStep, mu: mu, o.retraction)
            }
        }
        return TensorTrain(trusted: cores)
    }

    /// A core after one step: Stiefel step + retraction for i < N, plain step for X_N.
    static func updatedCore(_ c: Tensor, _ grad: Tensor, last: Bool, coreStep: Double, mu: Double,
                            _ retraction: Stiefel.Retraction) throws -> Tensor {
        let r0 = c.shape[0], d = c.shape[1], r1 = c.shape[2]
        if last {
            let out = try Tensor(uninitialized: c.shape, dtype: .f64)
            let o = out.pointer(Double.self), cp = c.pointer(Double.self), gp = grad.pointer(Double.self)
            for j in 0 ..< c.numel { o[j] = cp[j] - mu * gp[j] }
            withExtendedLifetime((c, grad)) {}
            return out
        }
        // xi = -coreStep P_L(L(dX)); L <- Retr_L(xi)
        let gp = grad.pointer(Double.self)
        Stiefel.projectInPlace(c.pointer(Double.self), gp, r0 * d, r1)
        let a = try Tensor(uninitialized: [r0 * d, r1], dtype: .f64)
        let ap = a.pointer(Double.self), cp = c.pointer(Double.self)
        for j in 0 ..< a.numel { ap[j] = cp[j] - coreStep * gp[j] }
        withExtendedLifetime((c, grad)) {}
        let q = retraction == .polar ? try Stiefel.polarFactor(a) : try Stiefel.qFactor(a)
        return try q.reshaped([r0, d, r1])
    }
}

/// ||a - b||_2 over n values.
func relativeDistance(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ n: Int) -> Double {
    var s = 0.0
    for i in 0 ..< n { let d = a[i] - b[i]; s += d * d }
    return s.squareRoot()
}

/// Seconds from a monotonic clock.
func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}
