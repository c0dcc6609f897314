// IRSEstimator: the constrained least-squares estimator of the cascaded IRS channel, solved by
// ALS or AGD (spec solvers.md 3.3), for the base model and the variants of 3.5.
//
//     var o = IRSOptions()                         // ALS, KRF init when possible
//     o.method = .agd                              // alternating gradient descent
//     o.ranks = [2, nil]                           // low-rank H (3.5)
//     o.unknownPhases = true                       // unknown IRS (3.5), ALS only
//     let est = try IRSEstimator.estimate(sys, o)  // multi-hop: a system with 2+ hops
//     est.cascaded      // (J, P, M) B_j estimates;  est.channels, est.phases
//     est.objective     // F after each sweep / iteration;  est.nmse  (vs the system's truth)
//
// Objective (3.3, [abstract]; normalization ours): F = (1/(2 J T)) sum_j ||Y_j - B_j X_j||_F^2.
// ALS [reconstructed]: every factor in turn by its exact LS solve (IRSALS.swift), then the
// phases when unknown, then (optionally; by default for the unknown IRS, whose ALS is CP-ALS
// with its "swamps") Bro's line-search extrapolation x + t^(1/3) (x - x_prev), kept only when
// it lowers F [Tide choice], then rebalancing. AGD [reconstructed]: for each factor
// F_l <- F_l - (eta / prod_{i != l} ||F_i||_2^2) grad_l, grad_l = 2 dF/d conj(F_l) (for the
// base model: H <- H - eta/||G||_2^2 grad_H, G <- G - eta/||H||_2^2 grad_G), eta = 0.5
// [Tide choice], all factors from one point (simultaneous) or one after another
// (alternating), then rebalancing. Stops when F decreases by less than tol relatively, or when
// F reaches 1e-26 F_0 (an exact fit), or after `iterations`.
import ComplexModule
import RealModule
import TideCore

public struct IRSOptions {
    public enum Method: String, Sendable, CaseIterable { case als, agd }
    public enum Init: String, Sendable, CaseIterable { case krf, random, given }
    public enum Update: String, Sendable, CaseIterable { case simultaneous, alternating }

    public var method: Method = .als
    /// nil: KRF when it applies (one hop, known phases, K >= N, T >= M), else random.
    public var initKind: Init? = nil
    /// Channels for init 'given'.
    public var given: [Tensor]? = nil
    /// Per channel: nil (full) or the rank of a low-rank factorization A B^H.
    public var ranks: [Int?]? = nil
    public var unknownPhases = false
    /// Default 50 sweeps (ALS) or 2000 iterations (AGD).
    public var iterations: Int? = nil
    public var tol = 1e-12
    public var eta = 0.5
    public enum AGDNorm: String, Sendable, CaseIterable {
        /// step eta / prod_{i != l} ||F_i||_2^2 (the spec's recipe) [reconstructed]
        case spectral
        /// a fixed step eta
        case none
    }
    public var agdNorm: AGDNorm = .spectral
    public var update: Update = .simultaneous
    public var rebalance = true
    /// ALS line-search extrapolation after each sweep (accepted only when F drops) [Tide
    /// choice]; nil: on for the unknown-IRS variant (CP-ALS swamps), off otherwise.
    public var extrapolate: Bool? = nil
    /// Random starts tried (the lowest final objective wins); needs the random init.
    public var restarts = 1
    public var generator: Generator = .global
    public init() {}
}

public struct IRSEstimate {
    /// Estimated channels (products of their factors), c128.
    public let channels: [Tensor]
    /// Phases used (estimated when unknown), c128 (K_l, N_l).
    public let phases: [Tensor]
    /// (J, P, M).
    public let cascaded: Tensor
    /// The raw factors (low-rank channels as A and B^H).
    public let factors: [Tensor]
    public var objective: [Double] = []
    /// Sum_j ||B^_j - B_j||^2 / sum_j ||B_j||^2 after each iteration.
    public var nmse: [Double] = []
    public var time: [Double] = []
    public var initObjective = Double.nan
    public var initNMSE = Double.nan
    public var stopReason = "iterations"
    public var iterations: Int { objective.count }
}

public enum IRSEstimator {
    /// Runs the estimator; with `restarts` > 1 (random init only) it runs from that many random
    /// starts and keeps the run with the lowest final objective.
    public static func estimate(_ sys: IRSSystem, _ o: IRSOptions, name: String = "irs.estimate",
                                callback: ((Int, Double, Double) throws -> Void)? = nil) throws -> IRSEstimate {
        guard o.tol >= 0, o.eta > 0 else { throw TensorError("\(name): expected tol >= 0 and eta > 0, got tol=\(o.tol), eta=\(o.eta)") }
        guard o.restarts >= 1 else { throw TensorError("\(name): restarts must be >= 1, got \(o.restarts)") }
        if o.method == .agd && o.unknownPhases {
            throw TensorError("\(name): the unknown-IRS variant is solved by ALS (method = 'als'); AGD needs known phases")
        }
        var best: IRSEstimate? = nil
        for r in 0 ..< o.restarts {
            let e = try estimateOnce(sys, o, name: name, callback: r == o.restarts - 1 ? callback : nil)
            if best == nil || (e.objective.last ?? e.initObjective) < (best!.objective.last ?? best!.initObjective) { best = e }
        }
        return best!
    }

    static func estimateOnce(_ sys: IRSSystem, _ o: IRSOptions, name: String,
                             callback: ((Int, Double, Double) throws -> Void)?) throws -> IRSEstimate {
        let model = try IRSModel(system: sys, ranks: o.ranks, unknownPhases: o.unknownPhases, name: name)
        let canKRF = sys.hops == 1 && !o.unknownPhases && sys.blocks >= sys.elements[0] && sys.T >= sys.M
        let kind = o.initKind ?? (canKRF ? .krf : .random)
        if o.restarts > 1 && kind != .random { throw TensorError("\(name): restarts need init = 'random'") }
        switch kind {
        case .krf: try model.initKRF(name: name)
        case .random: model.initRandom(generator: o.generator)
        case .given:
            guard let g = o.given else { throw TensorError("\(name): init 'given' needs the channels (init_channels)") }
            try model.setChannels(g.map { try ZMatrix($0) }, name: name)
            if o.unknownPhases { model.initRandom(generator: o.generator); try model.setChannels(g.map { try ZMatrix($0) }, name: name) }
        }
        if o.rebalance { try model.rebalance() }
        let iters = o.iterations ?? (o.method == .als ? 50 : 2000)
        guard iters >= 0 else { throw TensorError("\(name): iters must be >= 0, got \(iters)") }
        let truth = try sys.cascaded()
        let truthNorm2 = try squaredNorm(truth)
        func nmse() throws -> Double { try squaredDistance(model.cascadedTensor(), truth) / max(truthNorm2, .leastNormalMagnitude) }
        var out = IRSEstimate(channels: [], phases: [], cascaded: truth, factors: [])
        var F = model.objective()
        let F0 = F
        out.initObjective = F
        out.initNMSE = try nmse()
        let start = monotonicSeconds()
        for t in 1 ... max(iters, 1) where iters > 0 {
            try Cancellation.check()
            switch o.method {
            case .als:
                let before = (o.extrapolate ?? o.unknownPhases) ? model.snapshot() : nil
                for l in 0 ..< model.L { try model.solveFactor(l) }
                if o.unknownPhases { for h in 0 ..< sys.hops { try model.solvePhases(h) } }
                if let old = before {
                    // line-search extrapolation (Bro): x + t^(1/3) (x - x_prev), kept when F drops
                    let new = model.snapshot(), Fals = model.objective()
                    model.restore(new, from: old, alpha: Double.pow(Double(t), 1.0 / 3.0))
                    if !(model.objective() < Fals) { model.restore(new) }
                }
            case .agd:
                try agdStep(model, eta: o.eta, update: o.update, norm: o.agdNorm)
            }
            if o.rebalance { try model.rebalance() }
            let Fn = model.objective()
            let e = try nmse()
            out.objective.append(Fn); out.nmse.append(e); out.time.append(monotonicSeconds() - start)
            try callback?(t, Fn, e)
            if !Fn.isFinite { out.stopReason = "diverged"; break }
            if Fn <= 1e-26 * F0 { out.stopReason = "exact"; break }
            let dec = (F - Fn) / max(F, .leastNormalMagnitude)
            F = Fn
            if o.tol > 0 && dec >= 0 && dec < o.tol { out.stopReason = "tol"; break }
        }
        return IRSEstimate(channels: try model.channelTensors(), phases: try model.phases.map { try $0.tensor() },
                           cascaded: try model.cascadedTensor(), factors: try model.factors.map { try $0.tensor() },
                           objective: out.objective, nmse: out.nmse, time: out.time, initObjective: out.initObjective,
                           initNMSE: out.initNMSE, stopReason: out.stopReason)
    }

    /// One AGD iteration over all factors.
    static func agdStep(_ model: IRSModel, eta: Double, update: IRSOptions.Update, norm: IRSOptions.AGDNorm = .spectral) throws {
        let L = model.L
        func stepSize(_ l: Int) throws -> Double {
            if norm == .none { return eta }
            var p = 1.0
            for i in 0 ..< L where i != l { let s = try model.factors[i].spectralNorm(); p *= s * s }
            return eta / max(p, .leastNormalMagnitude)
        }
        switch update {
        case .simultaneous:
            let grads = (0 ..< L).map { model.gradient($0) }
            let steps = try (0 ..< L).map { try stepSize($0) }
            for l in 0 ..< L { model.factors[l].add(grads[l], C128(-steps[l], 0)) }
        case .alternating:
            for l in 0 ..< L {
                let g = model.gradient(l)
                model.factors[l].add(g, C128(-(try stepSize(l)), 0))
            }
        }
    }

    // MARK: hooks for tests and bindings (the base model's H, G)

    /// F(channels) for a system with known phases: (1/(2 J T)) sum_j ||Y_j - B_j X_j||^2.
    public static func objective(_ sys: IRSSystem, channels: [Tensor], name: String = "irs.objective") throws -> Double {
        let model = try IRSModel(system: sys, name: name)
        try model.setChannels(channels.map { try ZMatrix($0) }, name: name)
        return model.objective()
    }

    /// 2 dF/d conj(F_c) for each channel (Wirtinger gradients, spec 1.5), known phases.
    public static func gradients(_ sys: IRSSystem, channels: [Tensor], name: String = "irs.gradients") throws -> [Tensor] {
        let model = try IRSModel(system: sys, name: name)
        try model.setChannels(channels.map { try ZMatrix($0) }, name: name)
        return try (0 ..< model.L).map { try model.gradient($0).tensor() }
    }

    /// One exact ALS half-step for channel c (known phases, full rank): the new channel.
    public static func alsStep(_ sys: IRSSystem, channels: [Tensor], channel c: Int, name: String = "irs.als_step") throws -> Tensor {
        let model = try IRSModel(system: sys, name: name)
        guard c >= 0 && c < model.L else { throw TensorError("\(name): channel index \(c + 1) out of range 1...\(model.L)") }
        try model.setChannels(channels.map { try ZMatrix($0) }, name: name)
        try model.solveFactor(c)
        return try model.factors[c].tensor()
    }

    /// Channels after rebalancing (known phases, full rank): B_j unchanged.
    public static func rebalanced(_ sys: IRSSystem, channels: [Tensor], name: String = "irs.rebalance") throws -> [Tensor] {
        let model = try IRSModel(system: sys, name: name)
        try model.setChannels(channels.map { try ZMatrix($0) }, name: name)
        try model.rebalance()
        return try model.channelTensors()
    }
}

func squaredNorm(_ t: Tensor) throws -> Double {
    let c = try t.to(.c128).contiguous()
    return withExtendedLifetime(c) {
        let p = c.pointer(C128.self)
        var s = 0.0
        for i in 0 ..< c.numel { s += p[i].lengthSquared }
        return s
    }
}

func squaredDistance(_ a: Tensor, _ b: Tensor) throws -> Double {
    let x = try a.to(.c128).contiguous(), y = try b.to(.c128).contiguous()
    return withExtendedLifetime((x, y)) {
        let p = x.pointer(C128.self), q = y.pointer(C128.self)
        var s = 0.0
        for i in 0 ..< x.numel { s += (p[i] - q[i]).lengthSquared }
        return s
    }
}
