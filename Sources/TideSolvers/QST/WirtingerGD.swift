// WirtingerGD: low-rank state tomography by gradient descent on the factor U of ρ = U Uᴴ
// (brief §4.4; the abstract's algorithm, details [reconstructed]).
//
//     var o = WirtingerGD.Options(rank: 2)               // 300 steps, c = 0.2, spectral init
//     let r = try WirtingerGD.run(data, o, truth: rho, generator: g) { rec in true }
//     r.estimate        // (d, d) c128: Hermitian, PSD, trace 1 (normalize_trace)
//     r.history         // loss, Frobenius error, trace distance, fidelity, step, time per record
//
// Iteration (U: (d, r)):  ρ = U Uᴴ;  a_P = tr(Pρ);  G = Σ_P 2λ w_P (n_P a_P − S_P) P;
//                         ∇ = G U;   U ← U − μ ∇.
// Cost per iteration: O(d r) per present x mask plus O(min(K d, d² log d)) for the K distinct
// strings (PauliSet's factored forms; for rank > 4 the dense path: two zgemm, U Uᴴ and G U,
// O(d² r)), independent of M. The stopping test uses r x r Gram matrices only.
//
// Choices, each an option ([Tide choice] / [reconstructed] in the brief):
//   initialization  .spectral (default): top-r eigenpairs of the unbiased linear-inversion
//                   estimate, negative eigenvalues clipped to 0, U0 = V_r Λ_r^{1/2};
//                   .random: U0 i.i.d. CN(0, initScale), initScale = 1/(d r) by default;
//                   .given(U0).
//   step rule       .scaled (default): μ = c / ‖U0‖₂² (c / 1 after random init, as the brief
//                   prescribes), c = stepSize = 0.2 [Tide choice, prototype-calibrated];
//                   .constant: μ = c; .armijo: backtracking from the scaled step (halve until
//                   f(U − μ∇) <= f(U) − 1e-4 μ ‖∇‖², then try 2μ next iteration).
//   stopping        `steps` iterations (300) or ‖ρ_t − ρ_{t−1}‖_F < tol ‖ρ_{t−1}‖_F (1e-12; 0 never stops early).
//   output          U Uᴴ divided by its trace when normalizeTrace (default), else U Uᴴ as is.
//   loss scale      PauliObjective.Scale (.rip default).
// History records describe the estimate the solver would return at that iteration (so they
// respect normalizeTrace); record 0 is the initial point.
import Dispatch
import TideCore

public enum WirtingerGD {
    public enum Initialization { case spectral, random, given(Tensor) }
    public enum StepRule: String, Sendable, CaseIterable { case scaled, constant, armijo }

    public struct Options {
        public var rank: Int
        public var steps = 300
        public var stepSize = 0.2
        public var stepRule = StepRule.scaled
        public var initialization = Initialization.spectral
        public var initScale: Double? = nil
        public var tol = 1e-12
        public var normalizeTrace = true
        public var scale = PauliObjective.Scale.rip
        /// Truth metrics every this many iterations (and at the first and last).
        public var metricsEvery = 1
        public init(rank: Int) { self.rank = rank }
    }

    public struct Record: Sendable {
        public var iteration: Int
        public var loss: Double
        public var step: Double
        public var time: Double
        public var trace: Double
        /// NaN without a truth.
        public var frobenius = Double.nan, traceDistance = Double.nan, fidelity = Double.nan
    }

    public struct Result {
        public var estimate: Tensor
        public var factor: Tensor
        public var history: [Record]
        public var iterations: Int
        public var converged: Bool
        /// The base step μ0 the rule started from.
        public var stepSize: Double
    }

    /// Runs the solver. `observe` sees every record; returning false stops early.
    public static func run(_ data: PauliData, _ o: Options, truth: Tensor? = nil, generator g: Generator = .global,
                           observe: ((Record) throws -> Bool)? = nil) throws -> Result {
        let d = data.dimension, r = o.rank
        guard r >= 1 && r <= d else { throw TensorError("wirtinger_gd: rank must be in 1...\(d) for \(data.n) qubits, got \(r)") }
        guard o.steps >= 0 else { throw TensorError("wirtinger_gd: steps must be >= 0, got \(o.steps)") }
        guard o.stepSize > 0 && o.stepSize.isFinite else { throw TensorError("wirtinger_gd: step_size must be a positive number, got \(o.stepSize)") }
        guard o.tol >= 0 else { throw TensorError("wirtinger_gd: tol must be >= 0, got \(o.tol)") }
        guard o.metricsEvery >= 1 else { throw TensorError("wirtinger_gd: metrics_every must be >= 1, got \(o.metricsEvery)") }
        let reference = try truth.map { t -> TruthReference in
            let ref = try TruthReference(t)
            guard ref.d == d else { throw TensorError("wirtinger_gd: truth is \(ref.d)x\(ref.d) but the data are on \(data.n) qubits (\(d)x\(d))") }
            return ref
        }
        let f = try PauliObjective(data, scale: o.scale)
        let k = f.set.count
        let start = DispatchTime.now().uptimeNanoseconds

        // buffers for the whole run
        let dr = d * r
        var u = UnsafeMutablePointer<C128>.allocate(capacity: dr), un = UnsafeMutablePointer<C128>.allocate(capacity: dr)
        let grad = UnsafeMutablePointer<C128>.allocate(capacity: dr)
        let rho = UnsafeMutablePointer<C128>.allocate(capacity: d * d)
        var a = UnsafeMutablePointer<Double>.allocate(capacity: k), an = UnsafeMutablePointer<Double>.allocate(capacity: k)
        let c = UnsafeMutablePointer<Double>.allocate(capacity: k)
        let gram = UnsafeMutablePointer<C128>.allocate(capacity: 4 * r * r)
        defer {
            u.deallocate(); un.deallocate(); grad.deallocate(); rho.deallocate()
            a.deallocate(); an.deallocate(); c.deallocate(); gram.deallocate()
        }

        // initialization and base step
        let initNorm2 = try initialize(u, d: d, r: r, o, f, g)
        var mu: Double
        switch (o.stepRule, o.initialization) {
        case (.constant, _): mu = o.stepSize
        case (_, .random): mu = o.stepSize
        default: mu = o.stepSize / max(initNorm2, 1e-300)
        }
        let mu0 = mu

        /// a = tr(P U Uᴴ); returns the loss.
        func evaluate(_ u: UnsafeMutablePointer<C128>, _ a: UnsafeMutablePointer<Double>) throws -> Double {
            try f.expectations(factor: u, rank: r, into: a, scratch: rho)
            return f.loss(a)
        }
        /// ‖X‖_F² for r x r X = Aᴴ B (one small zgemm).
        func gramNorm2(_ x: UnsafePointer<C128>, _ y: UnsafePointer<C128>) -> Double {
            ComplexBLAS.gemm(r, r, d, x, true, y, false, gram)
            var s = 0.0
            for i in 0 ..< r * r { s += gram[i].lengthSquared }
            return s
        }
        var history: [Record] = []
        func record(_ it: Int, _ loss: Double, _ step: Double, metrics: Bool) throws -> Bool {
            var tr = 0.0
            for i in 0 ..< dr { tr += u[i].lengthSquared }      // tr(U Uᴴ) = ‖U‖_F²
            var rec = Record(iteration: it, loss: loss, step: step,
                             time: Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9, trace: tr)
            if metrics, let ref = reference {
                let s = o.normalizeTrace ? 1 / tr : 1
                let ut = try Tensor(uninitialized: [d, r], dtype: .c128)
                ut.pointer(C128.self).update(from: u, count: dr)
                ComplexBLAS.gemm(d, d, r, u, false, u, true, rho)   // dense, so a tiny error has no cancellation
                rec.frobenius = ref.frobenius(rho, scale: s)
                rec.fidelity = try ref.fidelity(ut, scale: s)
                rec.traceDistance = try ref.traceDistance(ut, scale: s)
            }
            history.append(rec)
            return try observe?(rec) ?? true
        }

        var loss = try evaluate(u, a)
        var converged = false, iterations = 0
        var keepGoing = try record(0, loss, 0, metrics: true)
        var t = 0
        while keepGoing && t < o.steps {
            t += 1
            try Cancellation.check()
            f.coefficients(a, into: c)
            try f.applySum(c, factor: u, rank: r, into: grad, scratch: rho)   // ∇ = G U
            var g2 = 0.0
            for i in 0 ..< dr { g2 += grad[i].lengthSquared }

            var newLoss: Double
            var step = mu
            var tries = 0
            while true {
                for i in 0 ..< dr { un[i] = u[i] - grad[i] * step }
                newLoss = try evaluate(un, an)
                if o.stepRule != .armijo { break }
                if newLoss <= loss - 1e-4 * step * g2 || tries >= 50 { break }
                step /= 2; tries += 1
            }
            if o.stepRule == .armijo { mu = min(2 * step, 1e6 * mu0) }
            guard newLoss.isFinite else {
                throw TensorError("wirtinger_gd: diverged at iteration \(t) (loss \(newLoss)); lower step_size (now \(o.stepSize)) or use step_rule = 'armijo'")
            }
            // ‖U'U'ᴴ − UUᴴ‖_F with Δ = U' − U: U'U'ᴴ − UUᴴ = Δ U'ᴴ + U Δᴴ, whose squared norm is
            // tr(ΔᴴΔ U'ᴴU') + tr(UᴴU ΔᴴΔ) + 2 Re tr(ΔᴴU ΔᴴU'): r x r products only, and no
            // cancellation between O(1) terms (all are O(‖Δ‖²)).
            for i in 0 ..< dr { grad[i] = un[i] - u[i] }           // grad is free now: Δ
            let change2 = changeNorm2(delta: grad, old: u, new: un, d: d, r: r, gram)
            let base2 = gramNorm2(u, u)                            // ‖UUᴴ‖_F² = ‖UᴴU‖_F²
            swap(&u, &un); swap(&a, &an)
            loss = newLoss
            iterations = t
            converged = change2.squareRoot() < o.tol * max(base2.squareRoot(), 1e-300)
            let last = converged || t == o.steps
            keepGoing = try record(t, loss, step, metrics: last || t % o.metricsEvery == 0)
            if converged { break }
        }

        // the estimate: U Uᴴ, exactly Hermitian, divided by its trace when asked
        let est = try Tensor(uninitialized: [d, d], dtype: .c128)
        let e = est.pointer(C128.self)
        ComplexBLAS.gemm(d, d, r, u, false, u, true, e)
        DensityMatrix.hermitianize(e, d)
        if o.normalizeTrace {
            var tr = 0.0
            for i in 0 ..< d { tr += e[i * d + i].real }
            for i in 0 ..< d * d { e[i] = e[i] * (1 / tr) }
        }
        let factor = try Tensor(uninitialized: [d, r], dtype: .c128)
        factor.pointer(C128.self).update(from: u, count: dr)
        return Result(estimate: est, factor: factor, history: history, iterations: iterations, converged: converged, stepSize: mu0)
    }

    /// ‖Δ U'ᴴ + U Δᴴ‖_F² from r x r Gram matrices (see the loop). work: 4 r² entries.
    static func changeNorm2(delta: UnsafePointer<C128>, old u: UnsafePointer<C128>, new un: UnsafePointer<C128>,
                            d: Int, r: Int, _ work: UnsafeMutablePointer<C128>) -> Double {
        let dd = work, nn = work + r * r, du = work + 2 * r * r, dn = work + 3 * r * r
        ComplexBLAS.gemm(r, r, d, delta, true, delta, false, dd)   // ΔᴴΔ
        ComplexBLAS.gemm(r, r, d, un, true, un, false, nn)         // U'ᴴU'
        ComplexBLAS.gemm(r, r, d, delta, true, u, false, du)       // ΔᴴU
        ComplexBLAS.gemm(r, r, d, delta, true, un, false, dn)      // ΔᴴU'
        var t1 = 0.0, t3 = 0.0
        for i in 0 ..< r { for j in 0 ..< r {
            t1 += (dd[i * r + j] * nn[j * r + i]).real               // tr(ΔᴴΔ U'ᴴU')
            t3 += (du[i * r + j] * dn[j * r + i]).real               // Re tr(ΔᴴU ΔᴴU')
        } }
        // tr(UᴴU ΔᴴΔ) = ‖U Δᴴ‖²: reuse nn for UᴴU
        ComplexBLAS.gemm(r, r, d, u, true, u, false, nn)
        var t2 = 0.0
        for i in 0 ..< r { for j in 0 ..< r { t2 += (nn[i * r + j] * dd[j * r + i]).real } }
        return max(t1 + t2 + 2 * t3, 0)
    }

    /// Fills U0 (d, r) and returns ‖U0‖₂² (the largest eigenvalue of U0ᴴ U0).
    static func initialize(_ u: UnsafeMutablePointer<C128>, d: Int, r: Int, _ o: Options, _ f: PauliObjective, _ g: Generator) throws -> Double {
        switch o.initialization {
        case .spectral:
            let (w, v) = try Linalg.eigh(f.linearInversion())
            defer { withExtendedLifetime(v) {} }
            let lam = try w.toDoubles()          // ascending: the top r are the last r
            let vp = v.pointer(C128.self)
            for i in 0 ..< d {
                for j in 0 ..< r {
                    let col = d - 1 - j
                    u[i * r + j] = vp[i * d + col] * max(lam[col], 0).squareRoot()
                }
            }
            return max(lam[d - 1], 0)
        case .random:
            let variance = o.initScale ?? 1 / Double(d * r)
            guard variance > 0 && variance.isFinite else { throw TensorError("wirtinger_gd: init_scale must be a positive number, got \(variance)") }
            let s = (variance / 2).squareRoot()
            for i in 0 ..< d * r { let (x, y) = g.normalPair(); u[i] = C128(x * s, y * s) }
        case .given(let t):
            guard t.dim == 2 && t.shape[0] == d && t.shape[1] == r else {
                throw TensorError("wirtinger_gd: init must be a (\(d), \(r)) factor U0, got shape \(shapeString(t.shape))")
            }
            let tc = try t.to(.c128).contiguous()
            withExtendedLifetime(tc) { u.update(from: tc.pointer(C128.self), count: d * r) }
        }
        let ut = try Tensor(uninitialized: [d, r], dtype: .c128)
        ut.pointer(C128.self).update(from: u, count: d * r)
        let gram = try Tensor.matmul(ut.conj().transposed(0, 1), ut)
        return try Linalg.eigvalsh(gram).toDoubles().max() ?? 0
    }
}
