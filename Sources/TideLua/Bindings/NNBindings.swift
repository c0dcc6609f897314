// NNBindings: tide.F, the functional ops of TideNN (each records gradients).
//
//     local y = tide.F.linear(x, w, b)                     -- x: (..., in), w: (out, in)
//     local loss = tide.F.cross_entropy(logits, targets, {ignore_index = -100})
//
// Composite functional ops written in Lua live in lua/nn.lua under the same table.
import CLua
import _CTideShims
import TideCore
import TideNN

enum NNBindings {
    /// The tensor at i, or nil when the argument is none/nil.
    static func optTensor(_ f: LuaFrame, _ i: Int32) throws -> Tensor? {
        f.isNoneOrNil(i) || f.isOptionsTable(i) ? nil : try f.tensor(i)
    }

    static func open(_ vm: LuaVM, _ tide: Int32) {
        let F = vm.subtable(tide, "F", "Functional ops (torch.nn.functional): linear, layer_norm, cross_entropy, conv2d, ...; all differentiable.")
        vm.def(F, "linear", "tide.F.linear(x, weight [, bias]) -> x weight^T + bias. x: (..., in), weight: (out, in), bias: (out).") { f in
            f.push(try TideNN.F.linear(f.tensor(1), f.tensor(2), optTensor(f, 3))); return 1
        }
        vm.def(F, "layer_norm", "tide.F.layer_norm(x, normalized_shape [, weight [, bias]] [, {eps = 1e-5}]) -> x normalized over its trailing dims (normalized_shape: a number or a table), times weight plus bias.") { f in
            let x = try f.tensor(1)
            let ns = try normalizedShape(f, 2)
            let o = MathBindings.optionsArg(f, from: 3)
            try f.checkOptionKeys(o, ["eps"])
            f.push(try TideNN.F.layerNorm(x, normalizedShape: ns, weight: optTensor(f, 3), bias: optTensor(f, 4),
                                          eps: f.optField(o, "eps", 1e-5)))
            return 1
        }
        vm.def(F, "rms_norm", "tide.F.rms_norm(x, normalized_shape [, weight] [, {eps = 1e-6}]) -> x / sqrt(mean(x^2) + eps) * weight over the trailing dims.") { f in
            let x = try f.tensor(1)
            let ns = try normalizedShape(f, 2)
            let o = MathBindings.optionsArg(f, from: 3)
            try f.checkOptionKeys(o, ["eps"])
            f.push(try TideNN.F.rmsNorm(x, normalizedShape: ns, weight: optTensor(f, 3), eps: f.optField(o, "eps", 1e-6)))
            return 1
        }
        vm.def(F, "embedding", "tide.F.embedding(idx, weight [, {padding_idx}]) -> rows of weight (num, dim) at 1-based i64 idx (any shape): (idx..., dim). The padding row gets no gradient.") { f in
            let o = MathBindings.optionsArg(f, from: 3)
            try f.checkOptionKeys(o, ["padding_idx"])
            let pad = try f.optIntField(o, "padding_idx", Int.min)
            let w = try f.tensor(2)
            let rows = w.dim == 2 ? w.shape[0] : 0
            // 1-based, or negative from the end (-1 is the last row), as the other indices
            if pad != Int.min && (pad == 0 || pad > rows || pad < -rows) {
                throw LuaError.message("embedding: padding_idx must be in 1..\(rows) or -\(rows)..-1, got \(pad)")
            }
            f.push(try TideNN.F.embedding(oneBased(f, 1, "embedding"), w, paddingIdx: pad == Int.min ? nil : (pad < 0 ? rows + pad : pad - 1)))
            return 1
        }
        vm.def(F, "dropout", "tide.F.dropout(x [, p] [, {p = 0.5, training = true, generator}]) -> x with elements zeroed with probability p and the rest scaled by 1/(1-p); x itself when not training.") { f in
            let o = MathBindings.optionsArg(f, from: 2)
            try f.checkOptionKeys(o, ["p", "training", "generator"])
            // torch's F.dropout(x, 0.1): p positionally
            let p = f.type(2) == LUA_TNUMBER ? try f.number(2) : try f.optField(o, "p", 0.5)
            f.push(try TideNN.F.dropout(f.tensor(1), p: p, training: f.optField(o, "training", true),
                                        generator: MathBindings.generator(f, o)))
            return 1
        }
        vm.def(F, "cross_entropy", "tide.F.cross_entropy(logits, targets [, {weight, ignore_index = -100, reduction = 'mean', label_smoothing = 0}]) -> the softmax cross-entropy. logits: (N, C) or (N, C, d...); targets: 1-based i64 classes (N) / (N, d...), or probabilities shaped like logits.") { f in
            let logits = try f.tensor(1), t = try f.tensor(2)
            let o = MathBindings.optionsArg(f, from: 3)
            try f.checkOptionKeys(o, ["weight", "ignore_index", "reduction", "label_smoothing"])
            let target = t.dtype == .i64 ? try Tensor.binary(.sub, t, Tensor.scalar(1, dtype: .i64)) : t
            f.push(try TideNN.F.crossEntropy(logits, target, weight: f.tensorOption(o, "weight"),
                                             ignoreIndex: f.optIntField(o, "ignore_index", -100) &- 1,
                                             reduction: reduction(f, o), labelSmoothing: f.optField(o, "label_smoothing", 0)))
            return 1
        }
        vm.def(F, "nll_loss", "tide.F.nll_loss(log_probs, targets [, {weight, ignore_index = -100, reduction = 'mean'}]) -> mean of -log_probs[i, targets[i]] (1-based i64 targets).") { f in
            let o = MathBindings.optionsArg(f, from: 3)
            try f.checkOptionKeys(o, ["weight", "ignore_index", "reduction"])
            f.push(try TideNN.F.nllLoss(f.tensor(1), oneBased(f, 2, "nll_loss"), weight: f.tensorOption(o, "weight"),
                                        ignoreIndex: f.optIntField(o, "ignore_index", -100) &- 1, reduction: reduction(f, o)))
            return 1
        }
        vm.def(F, "scaled_dot_product_attention", "tide.F.scaled_dot_product_attention(q, k, v [, {causal = false, mask, scale = 1/sqrt(D)}]) -> softmax(q k^T scale + mask) v. q: (B, H, N, D); k, v: (B, Hk, M, D|Dv) with H a multiple of Hk (MQA/GQA); mask: bool (true = attend) or float (added), broadcastable to (B, H, N, M); causal aligns at the bottom right (key j visible to query i when j <= i + M - N). Fused and blocked: the N x M matrix is never formed.") { f in
            let o = try f.options(4)
            try f.checkOptionKeys(o, ["causal", "mask", "scale"])
            let sc = try f.optField(o, "scale", .nan)
            f.push(try TideNN.F.scaledDotProductAttention(f.tensor(1), f.tensor(2), f.tensor(3), causal: f.optField(o, "causal", false),
                                                          mask: f.tensorOption(o, "mask"), scale: sc.isNaN ? nil : sc))
            return 1
        }
        vm.def(F, "rope", "tide.F.rope(x, cos, sin) -> x with rotary position embedding. x: (B, H, T, D); cos, sin: (T, R/2), R <= D even; feature i pairs with i + R/2, features from R on pass through.") { f in
            f.push(try TideNN.F.rope(f.tensor(1), cos: f.tensor(2), sin: f.tensor(3))); return 1
        }
        vm.def(F, "lightning_attention", "tide.F.lightning_attention(q, k, v, slopes [, {block = 64, state}]) -> o, final_state. Causal linear attention with per-head decay lam = exp(-slope) (MiniMax-01): o_t = q_t S_t, S_t = lam S_{t-1} + k_t^T v_t. q, k: (B, H, N, d); v: (B, H, N, e); slopes: (H); state: (B, H, d, e) to continue from; chunks: pieces of the sequence computed in parallel (A2.4; default: the core count when B*H is smaller and N >= 4 blocks). Blocked: every product is a GEMM, no negative decay powers.") { f in
            let o = try f.options(5)
            try f.checkOptionKeys(o, ["block", "state", "chunks"])
            let q = try f.tensor(1)
            // chunks: pieces of the sequence run in parallel (A2.4); by default only when the
            // (batch, head) pairs alone cannot keep every core busy on a long sequence
            let block = try f.optIntField(o, "block", 64)
            let bh = q.dim == 4 ? q.shape[0] * q.shape[1] : 1, n = q.dim == 4 ? q.shape[2] : 0
            let auto = bh < Threads.count && n >= 4 * block ? Threads.count : 1
            let (out, s) = try TideNN.F.lightningAttentionChunked(q, f.tensor(2), f.tensor(3), slopes: f.tensor(4), block: block,
                                                                 state: f.tensorOption(o, "state"), chunks: f.optIntField(o, "chunks", auto))
            f.push(out); f.push(s)
            return 2
        }
        vm.def(F, "lightning_step", "tide.F.lightning_step(q_t, k_t, v_t, slopes, state) -> o_t, new_state. One decoding step per head in O(d e): S = lam S + k^T v, o = q S. q_t, k_t: (B, H, d); v_t: (B, H, e); state: (B, H, d, e).") { f in
            let (out, s) = try TideNN.F.lightningStep(f.tensor(1), f.tensor(2), f.tensor(3), slopes: f.tensor(4), state: f.tensor(5))
            f.push(out); f.push(s)
            return 2
        }
        vm.def(F, "moe_route", "tide.F.moe_route(probs [, {top_k = 2, capacity, groups = 1, global = false}]) -> index, keep, counts, dropped. probs: (T, E) router probabilities. index: (T, k) 1-based experts by falling probability (ties to the lowest index); keep: (T, k) bool after the capacity (first choices fill before second choices, in token order; per group of T/groups tokens, or on the summed count when global); counts: (E) kept per expert; dropped: the number of dropped assignments. No capacity: dropless.") { f in
            let o = try f.options(2)
            try f.checkOptionKeys(o, ["top_k", "capacity", "groups", "global"])
            let cap = try f.optIntField(o, "capacity", -1)
            let r = try TideNN.F.moeRoute(f.tensor(1), topK: f.optIntField(o, "top_k", 2), capacity: cap < 0 ? nil : cap,
                                          groups: f.optIntField(o, "groups", 1), global: f.optField(o, "global", false))
            f.push(try Tensor.binary(.add, r.index, Tensor.scalar(1, dtype: .i64)))
            f.push(r.keep); f.push(r.counts); f.push(r.dropped)
            return 4
        }
        vm.def(F, "moe_experts", "tide.F.moe_experts(x, index, keep, gates, w13, w2) -> y. SwiGLU experts on routed tokens: y_t = sum over kept choices j of gates[t, j] * (SiLU(x_t W1_e) * (x_t W3_e)) W2_e with e = index[t, j]. x: (T, D); index: (T, k) 1-based i64; keep: (T, k) bool; gates: (T, k); w13: (E, D, 2F) = [W1 | W3]; w2: (E, F, D). Sorted by expert, one GEMM pair per expert, experts over the cores; differentiable in x, gates, w13, w2.") { f in
            f.push(try TideNN.F.moeExperts(f.tensor(1), index: oneBased(f, 2, "moe_experts"), keep: f.tensor(3), gates: f.tensor(4),
                                           w13: f.tensor(5), w2: f.tensor(6)))
            return 1
        }
        lua_settop(vm.L, F - 1)
    }

    /// A 1-based i64 index tensor argument, shifted to 0-based.
    static func oneBased(_ f: LuaFrame, _ i: Int32, _ op: String) throws -> Tensor {
        let t = try f.tensor(i)
        guard t.dtype == .i64 else { throw f.argError(i, "i64 index tensor expected, got \(t.dtype.rawValue)") }
        return try Tensor.binary(.sub, t, Tensor.scalar(1, dtype: .i64))
    }

    /// normalized_shape: a number or a table of sizes.
    static func normalizedShape(_ f: LuaFrame, _ i: Int32) throws -> [Int] {
        if f.type(i) == LUA_TNUMBER { return [try f.integer(i)] }
        guard f.type(i) == LUA_TTABLE else { throw f.typeError(i, "number or table (normalized_shape)") }
        return try MathBindings.signedList(f, i).0
    }

    static func reduction(_ f: LuaFrame, _ o: Int32?) throws -> TideNN.F.Reduction {
        guard let o = o else { return .mean }
        defer { tide_pop(f.L, 1) }
        if f.pushField(o, "reduction") == LUA_TNIL { return .mean }
        let s = try f.string(-1)
        guard let r = TideNN.F.Reduction(rawValue: s) else {
            throw LuaError.message("\(f.name): reduction must be 'mean', 'sum' or 'none', got '\(s)'")
        }
        return r
    }
}
