// RecoveryOptions: every knob of robust TT recovery (spec solvers.md 2.4-2.7), with the tag of
// each default, and the history a run returns.
//
//     var o = RecoveryOptions(method: .frsubgm)     // defaults depend on method and loss
//     o.schedule = .constant; o.lambda = 0.01       // the error-floor baseline of 2.7
//     o.loss = .l2                                  // the least-squares (IHT) baseline of 2.8.4
//
// Defaults [Tide choice, prototype-calibrated, 2.7]:
//   l1, psubgm:  geometric, lambda = 0.5 ||X_0||_F, q = 0.90, 200 iterations
//   l1, frsubgm: geometric, lambda = 0.5 ||X_0||_F, q = 0.99, 1500 iterations
//   l2 (IHT baseline): constant steps, lambda = 1.0 (psubgm) / 0.5 (frsubgm), absolute units
// Spectral init: truncation c_tau = 3 on median |y|, rescale by median|y| / 0.6745 [Tide
// choice, 2.4]. FRSubGM: orthonormal-core steps divided by ||X_N||_F^2 [group], all cores
// updated simultaneously [reconstructed], polar retraction [Tide choice]. Each has an option
// below so the paper's exact variant can be selected once known.
import TideCore

public struct RecoveryOptions {
    public enum Method: String, Sendable, CaseIterable { case psubgm, frsubgm }
    public enum Loss: String, Sendable, CaseIterable { case l1, l2 }
    public enum Schedule: String, Sendable, CaseIterable { case geometric, constant, polyak }
    public enum LambdaUnits: String, Sendable, CaseIterable {
        /// mu_0 = lambda ||X_0||_F (the spec's "lambda in units of ||X*||_F").
        case norm
        /// mu_0 = lambda.
        case absolute
    }
    public enum InitKind: String, Sendable, CaseIterable {
        /// Truncated spectral method (2.4).
        case spectral
        /// Untruncated spectral method (the 2.4 comparison).
        case plain
        /// X* plus a random perturbation of relative size `initNoise` (needs the truth).
        case truthNoise = "truth_noise"
        /// A given train (`initTrain`).
        case given
    }
    public enum TruncationStat: String, Sendable, CaseIterable {
        /// tau = c_tau median_i |y_i| [Tide choice]
        case median
        /// tau = c_tau mean_i |y_i| (the truncated-Wirtinger-flow style rule)
        case mean
    }
    public enum FRScale: String, Sendable, CaseIterable {
        /// orthonormal-core steps divided by ||X_N||_F^2 (estimate of ||X*||_F^2) [group]
        case norm2
        /// plain mu_t on every core
        case none
    }
    public enum FRUpdate: String, Sendable, CaseIterable {
        /// all cores from the subgradient at iteration t [reconstructed]
        case simultaneous
        /// core by core, each with a fresh subgradient (Gauss-Seidel; N times the work)
        case sequential
    }

    public var method: Method
    public var loss: Loss
    public var schedule: Schedule
    public var lambda: Double
    public var lambdaUnits: LambdaUnits
    public var q: Double
    public var iterations: Int
    /// Stop when ||X_{t+1} - X_t||_F / ||X_t||_F < tol (0 disables).
    public var tol = 1e-12
    /// Stop when mu_t < minStep * mu_0 (0 disables).
    public var minStep = 1e-14
    /// With a truth: stop when the relative error is below this (0 disables).
    public var stopError = 1e-12
    public var initKind: InitKind = .spectral
    public var initTrain: TensorTrain? = nil
    public var initNoise = 0.1
    public var truncation = 3.0
    public var truncationStat: TruncationStat = .median
    public var rescale = true
    public var retraction: Stiefel.Retraction = .polar
    public var frScale: FRScale = .norm2
    public var frUpdate: FRUpdate = .simultaneous
    /// f(X*) for Polyak steps (in simulation ||s||_1 / m for l1).
    public var fStar: Double? = nil
    /// Random numbers for the truth_noise init.
    public var generator: Generator = .global

    public init(method: Method = .psubgm, loss: Loss = .l1) {
        self.method = method
        self.loss = loss
        switch loss {
        case .l1:
            schedule = .geometric
            lambda = 0.5
            lambdaUnits = .norm
        case .l2:
            schedule = .constant
            lambda = method == .psubgm ? 1.0 : 0.5
            lambdaUnits = .absolute
        }
        q = method == .psubgm ? 0.9 : 0.99
        iterations = method == .psubgm ? 200 : 1500
    }
}

/// One iteration as reported to a progress callback.
public struct IterationInfo {
    /// 1-based iteration number.
    public let t: Int
    /// f(X_t) after the update.
    public let loss: Double
    /// ||X_t - X*||_F / ||X*||_F, NaN without a truth.
    public let relativeError: Double
    /// The step mu used in this iteration.
    public let step: Double
    /// ||X_t - X_{t-1}||_F / ||X_{t-1}||_F.
    public let change: Double
    /// Seconds since the start of the iterations.
    public let elapsed: Double
}

/// Per-iteration records (index t-1 holds iteration t) and the start point.
public struct RecoveryHistory {
    public var loss: [Double] = []
    public var relativeError: [Double] = []
    public var step: [Double] = []
    /// Seconds since the first iteration began, after each iteration.
    public var time: [Double] = []
    public var initLoss = Double.nan
    public var initRelativeError = Double.nan
    /// Seconds spent in the initialization.
    public var initTime = 0.0
    /// "iterations", "rel_err", "tol", "min_step" or "diverged".
    public var stopReason = "iterations"
    /// mu_0.
    public var step0 = 0.0
    /// Bytes of the iterate the method keeps (full tensor for PSubGM, cores for FRSubGM).
    public var iterateBytes = 0
    /// Bytes of the per-iteration work buffers (subgradient, partial products, ...).
    public var workspaceBytes = 0
    /// Bytes of the dense measurement matrix (shared by both methods).
    public var operatorBytes = 0
    public var iterations: Int { loss.count }
}

public struct RecoveryResult {
    public let estimate: TensorTrain
    public let history: RecoveryHistory
}
