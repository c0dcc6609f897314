// IRSBindings: tide.irs, IRS-assisted MIMO channel estimation as TT regression (TideSolvers/IRS).
//
//     local sys = tide.irs.simulate{P = 16, N = 8, M = 4, K = 8, T = 32, sigma2 = 0.1, seed = 1}
//     local est, hist = tide.irs.estimate(sys, {method = "als"})       -- or "agd"
//     local r = tide.irs.error(est, sys)        -- r.E, r.nmse, r.c_err, r.theory, r.ratio, r.dof
//     local two = tide.irs.simulate{P = 8, N = {4, 4}, M = 4, K = {4, 4}, T = 16, sigma2 = 0.1}
//
// A system is a plain table: P, M, T, N, K, hops, sigma2, channels = {F_0, ..., F_h} (c128),
// phases = {S^(1), ...} (K_l, N_l), X = pilots (J, M, T), Y = received (J, P, T), B = true
// cascaded channels (J, P, M); for one hop also H, G, S. Functions read channels/phases (or
// H, G, S), X, Y and sigma2 back, so a table built by hand works too. An estimate is a table
// with channels (H, G for one hop), phases (S), B, factors, and the ranks / unknown_irs it
// was fitted with (tide.irs.error picks them up for the dof count).
import CLua
import _CTideShims
import TideCore
import TideSolvers
import Foundation

enum IRSBindings {
    typealias A = TTBindings

    /// The tensors of the list field `key` of the table at t (nil when absent).
    static func tensorList(_ f: LuaFrame, _ t: Int32, _ key: String, _ fn: String) throws -> [Tensor]? {
        let L = f.L
        defer { tide_pop(L, 1) }
        let ty = f.pushField(t, key)
        if ty == LUA_TNIL { return nil }
        guard ty == LUA_TTABLE else { throw LuaError.message("\(fn): field '\(key)' must be a list of tensors, got \(f.typeName(-1))") }
        return try listOfTensors(f, lua_gettop(L), key, fn)
    }

    static func listOfTensors(_ f: LuaFrame, _ i: Int32, _ what: String, _ fn: String) throws -> [Tensor] {
        guard f.type(i) == LUA_TTABLE else { throw LuaError.message("\(fn): \(what) must be a list of tensors, got \(f.typeName(i))") }
        let L = f.L, t = lua_absindex(L, i), n = Int(lua_rawlen(L, t))
        var out: [Tensor] = []
        for k in 1 ... max(n, 1) where n > 0 {
            lua_rawgeti(L, t, lua_Integer(k))
            defer { tide_pop(L, 1) }
            guard let x = TensorUserdata.tensor(L, at: -1) else { throw LuaError.message("\(fn): \(what)[\(k)] must be a tensor, got \(f.typeName(-1))") }
            out.append(x)
        }
        return out
    }

    static func tensorField(_ f: LuaFrame, _ t: Int32, _ key: String, _ fn: String) throws -> Tensor? {
        defer { tide_pop(f.L, 1) }
        if f.pushField(t, key) == LUA_TNIL { return nil }
        guard let x = TensorUserdata.tensor(f.L, at: -1) else { throw LuaError.message("\(fn): field '\(key)' must be a tensor, got \(f.typeName(-1))") }
        return x
    }

    /// The system table at argument i.
    static func system(_ f: LuaFrame, _ i: Int32, _ fn: String) throws -> IRSSystem {
        guard f.type(i) == LUA_TTABLE else { throw f.typeError(i, "IRS system table (from tide.irs.simulate)") }
        let t = lua_absindex(f.L, i)
        var chans = try tensorList(f, t, "channels", fn)
        if chans == nil, let h = try tensorField(f, t, "H", fn), let g = try tensorField(f, t, "G", fn) { chans = [h, g] }
        var phases = try tensorList(f, t, "phases", fn)
        if phases == nil, let s = try tensorField(f, t, "S", fn) { phases = [s] }
        guard let c = chans, let p = phases, let x = try tensorField(f, t, "X", fn), let y = try tensorField(f, t, "Y", fn) else {
            throw LuaError.message("\(fn): the system needs channels (or H, G), phases (or S), X and Y")
        }
        let s2 = try f.numberOption(t, "sigma2", fn: fn) ?? 0
        return try IRSSystem(channels: c, phases: p, pilots: x, received: y, sigma2: s2, name: fn)
    }

    /// Channel ranks from options: ranks = {r_1, ..., r_{h+1}} (0 = full), or rank_h / rank_g (one hop).
    static func channelRanks(_ f: LuaFrame, _ o: Int32?, channels: Int, _ fn: String) throws -> [Int?]? {
        guard let o = o else { return nil }
        var out: [Int?]? = nil
        if f.pushField(o, "ranks") != LUA_TNIL {
            let r = try A.intList(f, lua_gettop(f.L), "ranks", fn)
            guard r.count == channels else {
                tide_pop(f.L, 1)
                throw LuaError.message("\(fn): expected \(channels) channel ranks (0 = full rank), got \(r.count)")
            }
            out = r.map { $0 <= 0 ? nil : $0 }
        }
        tide_pop(f.L, 1)
        let rh = try f.intOption(o, "rank_h", fn: fn), rg = try f.intOption(o, "rank_g", fn: fn)
        if rh != nil || rg != nil {
            guard channels == 2 else { throw LuaError.message("\(fn): rank_h / rank_g apply to one hop; use ranks = {...} for \(channels) channels") }
            out = [rh.flatMap { $0 > 0 ? $0 : nil }, rg.flatMap { $0 > 0 ? $0 : nil }]
        }
        return out
    }

    static func pushSystem(_ f: LuaFrame, _ s: IRSSystem) throws {
        let L = f.L
        lua_createtable(L, 0, 20)
        let t = lua_gettop(L)
        A.set(L, t, "P") { f.push(s.P) }
        A.set(L, t, "M") { f.push(s.M) }
        A.set(L, t, "T") { f.push(s.T) }
        A.set(L, t, "hops") { f.push(s.hops) }
        A.set(L, t, "J") { f.push(s.blocks) }
        if s.hops == 1 {
            A.set(L, t, "N") { f.push(s.elements[0]) }
            A.set(L, t, "K") { f.push(s.phaseCounts[0]) }
            A.set(L, t, "H") { f.push(s.channels[0]) }
            A.set(L, t, "G") { f.push(s.channels[1]) }
            A.set(L, t, "S") { f.push(s.phases[0]) }
        } else {
            A.set(L, t, "N") { f.push(ints: s.elements) }
            A.set(L, t, "K") { f.push(ints: s.phaseCounts) }
        }
        A.set(L, t, "sigma2") { f.push(s.sigma2) }
        A.set(L, t, "channels") { pushList(f, s.channels) }
        A.set(L, t, "phases") { pushList(f, s.phases) }
        A.set(L, t, "X") { f.push(s.pilots) }
        A.set(L, t, "Y") { f.push(s.received) }
        let b = try s.cascaded()
        A.set(L, t, "B") { f.push(b) }
    }

    static func pushList(_ f: LuaFrame, _ ts: [Tensor]) {
        lua_createtable(f.L, Int32(ts.count), 0)
        for (k, x) in ts.enumerated() { f.push(x); lua_rawseti(f.L, -2, lua_Integer(k + 1)) }
    }

    /// Channels from argument i: a list table, or (for one hop) two tensors H, G.
    /// Returns the channels and the next argument index.
    static func channelsArg(_ f: LuaFrame, _ i: Int32, _ fn: String) throws -> ([Tensor], Int32) {
        if f.type(i) == LUA_TTABLE { return (try listOfTensors(f, i, "channels", fn), i + 1) }
        return ([try f.tensor(i), try f.tensor(i + 1)], i + 2)
    }

    static func open(_ vm: LuaVM, _ tide: Int32) {
        let L = vm.L
        let irs = vm.subtable(tide, "irs", "tide.irs: IRS-assisted MIMO channel estimation as TT tensor-on-tensor regression (paper B): simulate, estimate (ALS / AGD; low-rank, unknown-IRS and multi-hop variants), error, theory, dof, cascaded, khatri_rao, objective, gradients.")
        A.def(vm, irs, "simulate", "tide.irs.simulate", simulateDoc) { f in
            let fn = "tide.irs.simulate"
            let o = try A.optionsTable(f, 1, fn)
            try f.checkOptionKeys(o, ["P", "N", "M", "K", "T", "sigma2", "snr_db", "pilots", "shared_pilots", "phases", "rank_h", "rank_g", "ranks", "seed"], fn: fn)
            let P = try f.intOption(o, "P", fn: fn) ?? 16, M = try f.intOption(o, "M", fn: fn) ?? 4, T = try f.intOption(o, "T", fn: fn) ?? 32
            var N = [8], K = [8]
            if f.pushField(o, "N") != LUA_TNIL { N = try A.intList(f, lua_gettop(f.L), "N", fn) }
            tide_pop(f.L, 1)
            if f.pushField(o, "K") != LUA_TNIL { K = try A.intList(f, lua_gettop(f.L), "K", fn) }
            tide_pop(f.L, 1)
            if K.count == 1 && N.count > 1 { K = [Int](repeating: K[0], count: N.count) }
            let s2 = try f.numberOption(o, "sigma2", fn: fn), snr = try f.numberOption(o, "snr_db", fn: fn)
            guard !(s2 != nil && snr != nil) else { throw LuaError.message("\(fn): give sigma2 or snr_db, not both") }
            let sigma2 = s2 ?? snr.map { IRSSystem.sigma2(snrDB: $0, elements: N, M: M) } ?? 0.1
            let sys = try IRSSystem.simulate(P: P, elements: N, M: M, phaseCounts: K, T: T, sigma2: sigma2,
                                             pilots: (f.choiceOption(o, "pilots", fn: fn) ?? IRSSystem.Pilots.gaussian),
                                             sharedPilots: (f.boolOption(o, "shared_pilots", fn: fn) ?? false),
                                             phases: (f.choiceOption(o, "phases", fn: fn) ?? IRSSystem.Phases.random),
                                             ranks: channelRanks(f, o, channels: N.count + 1, fn),
                                             seed: UInt64(bitPattern: Int64(f.intOption(o, "seed", fn: fn) ?? 0)), name: fn)
            try pushSystem(f, sys)
            return 1
        }
        A.def(vm, irs, "estimate", "tide.irs.estimate", estimateDoc) { f in try estimate(f) }
        A.def(vm, irs, "error", "tide.irs.error", "tide.irs.error(est | B, sys [, {ranks =, rank_h =, rank_g =, unknown_irs =}]) -> {E = sum_j ||B^_j - B_j||_F^2, nmse = E / sum_j ||B_j||^2, c_err = ||C^ - C|| / ||C|| (one hop, known phases; NaN otherwise), theory = sigma^2 dof / T, ratio = E / theory, dof} (spec 3.4). With an estimate table the ranks and unknown_irs it was fitted with are used.") { f in
            let fn = "tide.irs.error"
            let sys = try system(f, 2, fn)
            var B: Tensor, chans: [Tensor]? = nil
            var ranks: [Int?]? = nil, unknown = false
            if f.type(1) == LUA_TTABLE {
                guard let b = try tensorField(f, 1, "B", fn) else { throw LuaError.message("\(fn): the estimate has no field B") }
                B = b
                chans = try tensorList(f, 1, "channels", fn)
                ranks = try channelRanks(f, 1, channels: sys.channels.count, fn)
                unknown = try (f.boolOption(1, "unknown_irs", fn: fn) ?? false)
            } else {
                B = try f.tensor(1)
            }
            let o = try f.options(3)
            if let o = o {
                try f.checkOptionKeys(o, ["ranks", "rank_h", "rank_g", "unknown_irs"], fn: fn)
                ranks = try channelRanks(f, o, channels: sys.channels.count, fn) ?? ranks
                unknown = try (f.boolOption(o, "unknown_irs", fn: fn) ?? unknown)
            }
            let r = try IRSMetrics.error(cascaded: B, system: sys, channels: chans, ranks: ranks, unknownPhases: unknown, name: fn)
            let L = f.L
            lua_createtable(L, 0, 6)
            let t = lua_gettop(L)
            A.set(L, t, "E") { f.push(r.E) }
            A.set(L, t, "nmse") { f.push(r.nmse) }
            A.set(L, t, "c_err") { f.push(r.cError) }
            A.set(L, t, "theory") { f.push(r.theory) }
            A.set(L, t, "ratio") { f.push(r.ratio) }
            A.set(L, t, "dof") { f.push(r.dof) }
            return 1
        }
        A.def(vm, irs, "dof", "tide.irs.dof", "tide.irs.dof(sys [, {ranks =, rank_h =, rank_g =, unknown_irs = false}]) -> the number of unknowns after the ambiguities: N (P + M - 1) for the base model (spec 3.4/3.5).") { f in
            let fn = "tide.irs.dof"
            let sys = try system(f, 1, fn)
            let o = try f.options(2)
            f.push(IRSMetrics.dof(system: sys, ranks: try channelRanks(f, o, channels: sys.channels.count, fn),
                                  unknownPhases: try (f.boolOption(o, "unknown_irs", fn: fn) ?? false)))
            return 1
        }
        A.def(vm, irs, "theory", "tide.irs.theory", "tide.irs.theory(sys [, {ranks =, unknown_irs =}]) -> sigma^2 dof / T, dof: the error law E ~ sigma^2 N (P + M - 1) / T of spec 3.4 (independent of K).") { f in
            let fn = "tide.irs.theory"
            let sys = try system(f, 1, fn)
            let o = try f.options(2)
            let d = IRSMetrics.dof(system: sys, ranks: try channelRanks(f, o, channels: sys.channels.count, fn),
                                   unknownPhases: try (f.boolOption(o, "unknown_irs", fn: fn) ?? false))
            f.push(sys.sigma2 * Double(d) / Double(sys.T)); f.push(d); return 2
        }
        A.def(vm, irs, "sigma2", "tide.irs.sigma2", "tide.irs.sigma2(snr_db, N, M) -> the noise variance giving a received SNR per entry of (prod N) M / sigma^2 (N: a number or a list of hop sizes).") { f in
            let fn = "tide.irs.sigma2"
            f.push(IRSSystem.sigma2(snrDB: try f.number(1), elements: try A.intList(f, 2, "N", fn), M: try f.integer(3))); return 1
        }
        A.def(vm, irs, "cascaded", "tide.irs.cascaded", "tide.irs.cascaded(sys) -> the true B (J, P, M); tide.irs.cascaded(channels, phases) -> B_j = F_0 diag(s^(1)_{k_1}) F_1 ... for lists of channels and phase matrices.") { f in
            let fn = "tide.irs.cascaded"
            if f.type(2) == LUA_TTABLE {
                let ch = try listOfTensors(f, 1, "channels", fn), ph = try listOfTensors(f, 2, "phases", fn)
                guard ch.count == ph.count + 1, ph.allSatisfy({ $0.dim == 2 }) else {
                    throw LuaError.message("\(fn): expected h+1 channels and h phase matrices, got \(ch.count) and \(ph.count)")
                }
                for (l, p) in ph.enumerated() where ch[l].dim != 2 || ch[l + 1].dim != 2 || ch[l].shape[1] != p.shape[1] || ch[l + 1].shape[0] != p.shape[1] {
                    throw LuaError.message("\(fn): phases \(l + 1) (\(shapeString(p.shape))) do not match channels \(l + 1) and \(l + 2)")
                }
                f.push(try IRSSystem.cascaded(channels: ch, phases: ph, phaseCounts: ph.map { $0.shape[0] })); return 1
            }
            f.push(try system(f, 1, fn).cascaded()); return 1
        }
        A.def(vm, irs, "khatri_rao", "tide.irs.khatri_rao", "tide.irs.khatri_rao(A, B) -> the column-wise Kronecker product (I J, R) of A (I, R), B (J, R): column r = a_r (x) b_r. Row-major: vec(H diag(s) G) = khatri_rao(H, G^T) s.") { f in
            f.push(try IRSMetrics.khatriRao(f.tensor(1), f.tensor(2), name: "tide.irs.khatri_rao")); return 1
        }
        A.def(vm, irs, "invariant", "tide.irs.invariant", "tide.irs.invariant(H, G) -> C (P, N, M), C(p, n, m) = H(p, n) G(n, m): unchanged by H -> H D, G -> D^-1 G.") { f in
            f.push(try IRSMetrics.invariantTensor(f.tensor(1), f.tensor(2), name: "tide.irs.invariant")); return 1
        }
        A.def(vm, irs, "objective", "tide.irs.objective", "tide.irs.objective(sys, H, G | channels) -> F = (1/(2 J T)) sum_j ||Y_j - B_j X_j||_F^2 (known phases).") { f in
            let fn = "tide.irs.objective"
            f.push(try IRSEstimator.objective(system(f, 1, fn), channels: channelsArg(f, 2, fn).0, name: fn)); return 1
        }
        A.def(vm, irs, "gradients", "tide.irs.gradients", "tide.irs.gradients(sys, H, G | channels) -> grad_1, grad_2, ...: the Wirtinger gradients 2 dF/d conj(F_c) = dF/dRe + i dF/dIm (spec 1.5), e.g. grad_H = -(1/(K T)) sum_k R_k X_k^H G^H D_k^H.") { f in
            let fn = "tide.irs.gradients"
            let gs = try IRSEstimator.gradients(system(f, 1, fn), channels: channelsArg(f, 2, fn).0, name: fn)
            for g in gs { f.push(g) }
            return Int32(gs.count)
        }
        A.def(vm, irs, "als_step", "tide.irs.als_step", "tide.irs.als_step(sys, H, G | channels, c) -> channel c (1-based; 1 = H) replaced by its exact least-squares solution with the others fixed (one ALS half-step).") { f in
            let fn = "tide.irs.als_step"
            let sys = try system(f, 1, fn)
            let (ch, next) = try channelsArg(f, 2, fn)
            f.push(try IRSEstimator.alsStep(sys, channels: ch, channel: f.integer(next) - 1, name: fn)); return 1
        }
        A.def(vm, irs, "rebalance", "tide.irs.rebalance", "tide.irs.rebalance(sys, H, G | channels) -> the channels with column n of each left factor and row n of the right one scaled to equal norms (B unchanged; spec 3.3).") { f in
            let fn = "tide.irs.rebalance"
            let out = try IRSEstimator.rebalanced(system(f, 1, fn), channels: channelsArg(f, 2, fn).0, name: fn)
            for c in out { f.push(c) }
            return Int32(out.count)
        }
        lua_settop(L, irs - 1)
    }

    static let simulateDoc = """
    tide.irs.simulate{P = 16, N = 8, M = 4, K = 8, T = 32, sigma2 = 0.1 | snr_db =, pilots = 'gaussian' | 'qpsk' | 'orthogonal', shared_pilots = false, phases = 'random' | 'dft', rank_h =, rank_g =, ranks =, seed = 0} -> sys.
    Y_k = H diag(s_k) G X_k + W_k, W ~ CN(0, sigma^2) (spec 3.2; Rayleigh channels, unit-modulus phases [Tide choice]). N = {N_1, N_2}, K = {K_1, K_2}: a multi-hop IRS (blocks for every (k_1, k_2)). rank_h / rank_g / ranks (0 = full): low-rank channels A B^H / sqrt(r). snr_db sets sigma^2 = (prod N) M / 10^(snr/10).
    """

    static let estimateDoc = """
    tide.irs.estimate(sys, {method = 'als' | 'agd', init = 'krf' | 'random' | 'given', init_channels =, ranks = | rank_h =, rank_g =, unknown_irs = false, iters =, tol = 1e-12, eta = 0.5, agd_norm = 'spectral' | 'none', update = 'simultaneous' | 'alternating', rebalance = true, extrapolate = (unknown_irs), restarts = 1, generator =, progress = true, log =, log_every = 1, label =}) -> est, history.
    Constrained LS F = (1/(2 J T)) sum_j ||Y_j - B_j X_j||^2 (spec 3.3). ALS: exact LS per factor (50 sweeps); AGD: F_l -= eta / prod_{i != l} ||F_i||_2^2 * grad_l (2000 iterations). Default init: KRF (LS + Khatri-Rao) when it applies, else random. Variants (3.5): ranks (low-rank channels), unknown_irs (phases estimated too; ALS), multi-hop systems. extrapolate: Bro's line search after each ALS sweep (default on for unknown_irs) [Tide choice]; restarts: random starts tried, the lowest final F kept.
    est = {channels, H, G, phases, S, B, factors, ranks, unknown_irs}; history = {objective, nmse, time (per iteration), init_objective, init_nmse, iterations, stop_reason}.
    """

    static func estimate(_ f: LuaFrame) throws -> Int32 {
        let fn = "tide.irs.estimate", L = f.L
        let sys = try system(f, 1, fn)
        let o = try f.options(2)
        if let o = o {
            try f.checkOptionKeys(o, ["method", "init", "init_channels", "ranks", "rank_h", "rank_g", "unknown_irs", "iters", "tol", "eta", "agd_norm",
                                   "update", "rebalance", "extrapolate", "restarts", "generator", "progress", "log", "log_every", "label"], fn: fn)
        }
        var opts = IRSOptions()
        opts.method = try (f.choiceOption(o, "method", fn: fn) ?? IRSOptions.Method.als)
        if let s = try f.stringOption(o, "init", fn: fn) {
            guard let k = IRSOptions.Init(rawValue: s) else { throw LuaError.message("\(fn): option 'init' must be 'krf', 'random' or 'given', got '\(s)'") }
            opts.initKind = k
        }
        if let o = o {
            opts.given = try tensorList(f, o, "init_channels", fn)
            if opts.given != nil && opts.initKind == nil { opts.initKind = .given }
        }
        opts.ranks = try channelRanks(f, o, channels: sys.channels.count, fn)
        opts.unknownPhases = try (f.boolOption(o, "unknown_irs", fn: fn) ?? false)
        opts.iterations = try f.intOption(o, "iters", fn: fn)
        opts.tol = try f.numberOption(o, "tol", fn: fn) ?? opts.tol
        opts.eta = try f.numberOption(o, "eta", fn: fn) ?? opts.eta
        opts.update = try (f.choiceOption(o, "update", fn: fn) ?? opts.update)
        opts.agdNorm = try (f.choiceOption(o, "agd_norm", fn: fn) ?? opts.agdNorm)
        opts.rebalance = try (f.boolOption(o, "rebalance", fn: fn) ?? true)
        opts.restarts = try f.intOption(o, "restarts", fn: fn) ?? 1
        if let o = o, f.pushField(o, "extrapolate") != LUA_TNIL { tide_pop(f.L, 1); opts.extrapolate = try (f.boolOption(o, "extrapolate", fn: fn) ?? false) } else if o != nil { tide_pop(f.L, 1) }
        opts.generator = try MathBindings.generator(f, o)
        let progress = A.ProgressLine(try (f.boolOption(o, "progress", fn: fn) ?? true))
        let label = try f.stringOption(o, "label", fn: fn) ?? opts.method.rawValue
        let log = try A.logger(f, o, fn)
        let every = max(try f.intOption(o, "log_every", fn: fn) ?? 1, 1)
        let total = opts.iterations ?? (opts.method == .als ? 50 : 2000)
        let start = Date.timeIntervalSinceReferenceDate
        let est = try IRSEstimator.estimate(sys, opts, name: fn) { t, F, e in
            progress.update(Date.timeIntervalSinceReferenceDate - start, "\(label) \(t)/\(total)  F " + String(format: "%.4e", F) + "  nmse " + String(format: "%.3e", e))
            if let lg = log, t % every == 0 {
                try A.writeLog(f, lg, numbers: [("iter", Double(t)), ("objective", F), ("nmse", e)], strings: [("method", opts.method.rawValue), ("label", label)])
            }
        }
        progress.finish()
        if let lg = log { lua_settop(L, lg - 1) }
        lua_createtable(L, 0, 10)
        let t = lua_gettop(L)
        A.set(L, t, "channels") { pushList(f, est.channels) }
        A.set(L, t, "phases") { pushList(f, est.phases) }
        A.set(L, t, "factors") { pushList(f, est.factors) }
        A.set(L, t, "B") { f.push(est.cascaded) }
        if sys.hops == 1 {
            A.set(L, t, "H") { f.push(est.channels[0]) }
            A.set(L, t, "G") { f.push(est.channels[1]) }
            A.set(L, t, "S") { f.push(est.phases[0]) }
        }
        if let r = opts.ranks { A.set(L, t, "ranks") { f.push(ints: r.map { $0 ?? 0 }) } }
        A.set(L, t, "unknown_irs") { f.push(opts.unknownPhases) }
        lua_createtable(L, 0, 8)
        let h = lua_gettop(L)
        A.set(L, h, "objective") { A.pushNumbers(L, est.objective) }
        A.set(L, h, "nmse") { A.pushNumbers(L, est.nmse) }
        A.set(L, h, "time") { A.pushNumbers(L, est.time) }
        A.set(L, h, "init_objective") { f.push(est.initObjective) }
        A.set(L, h, "init_nmse") { f.push(est.initNMSE) }
        A.set(L, h, "iterations") { f.push(est.iterations) }
        A.set(L, h, "stop_reason") { f.push(est.stopReason) }
        A.set(L, h, "method") { f.push(opts.method.rawValue) }
        return 2
    }
}
