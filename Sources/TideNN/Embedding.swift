// Embedding, dropout and the negative log-likelihood loss.
//
//     idx: i64 (B, T) of 0-based rows, weight: (V, D)  ->  try F.embedding(idx, weight)   // (B, T, D)
//     try F.dropout(x, p: 0.1, training: true)           // zeros with probability p, scales by 1/(1-p)
//     try F.nllLoss(logProbs, targets)                   // logProbs: (N, C), targets: i64 (N)
//
// The embedding gradient is a scatter-add of output-gradient rows into the weight rows
// (repeated indices accumulate); the padding row, when given, receives none.
import TideCore

extension F {
    public static func embedding(_ idx: Tensor, _ weight: Tensor, paddingIdx: Int? = nil) throws -> Tensor {
        guard idx.dtype == .i64 else { throw TensorError("embedding: indices must be i64, got \(idx.dtype.rawValue)") }
        guard weight.dim == 2 else { throw TensorError("embedding: weight must be 2-d (num, dim), got shape \(shapeString(weight.shape))") }
        let V = weight.shape[0], D = weight.shape[1]
        let ids = try idx.contiguous()
        let n = ids.numel
        let ip = ids.pointer(Int64.self)
        for k in 0 ..< n where ip[k] < 0 || ip[k] >= V {
            throw TensorError("embedding: index \(ip[k] &+ 1) out of range for \(V) rows")
        }
        let w = try Autograd.noGrad { try weight.contiguous() }
        let isz = weight.dtype.itemSize
        return try Autograd.op("embedding", [weight], forward: {
            let out = try Tensor(uninitialized: idx.shape + [D], dtype: weight.dtype)
            let src = w.rawPointer, dst = out.rawPointer
            try Threads.parallelFor(n, grain: max(1, 16384 / max(D, 1))) { lo, hi in
                for k in lo ..< hi {
                    (dst + k * D * isz).copyMemory(from: src + Int(ip[k]) * D * isz, byteCount: D * isz)
                }
            }
            return out
        }, backward: { g, _, _ in
            let gc = try g.contiguous()
            let dw = try Tensor.zeros([V, D], dtype: weight.dtype)
            func accumulate<T: FloatScalar>(_: T.Type) throws {
                let G = gc.pointer(T.self), W = dw.pointer(T.self)
                // split over columns: each thread owns a column range, so no two write one place
                try Threads.parallelFor(D, grain: max(1, D / Threads.count)) { lo, hi in
                    for k in 0 ..< n {
                        let r = Int(ip[k])
                        if r == paddingIdx { continue }
                        let gr = G + k * D, wr = W + r * D
                        for j in lo ..< hi { wr[j] += gr[j] }
                    }
                }
            }
            if weight.dtype == .f32 { try accumulate(Float.self) } else { try accumulate(Double.self) }
            return [dw]
        }, saved: [ids])
    }

    /// Inverted dropout: each element is zeroed with probability p and the rest scaled by
    /// 1/(1-p); the identity when not training or p = 0.
    public static func dropout(_ x: Tensor, p: Double, training: Bool, generator: Generator = .global) throws -> Tensor {
        guard p >= 0 && p <= 1 else { throw TensorError("dropout: p must be in [0, 1], got \(p)") }
        guard training && p > 0 else { return x }
        guard x.dtype == .f32 || x.dtype == .f64 else { throw TensorError("dropout: expected f32 or f64, got \(x.dtype.rawValue)") }
        if p == 1 { return try Tensor.binary(.mul, x, x.scalarLike(0)) }
        let mask = try Tensor(uninitialized: x.shape, dtype: x.dtype)
        let keep = 1 - p, scale = 1 / keep
        func fill<T: FloatScalar>(_: T.Type) {
            let m = mask.pointer(T.self)
            for i in 0 ..< mask.numel { m[i] = generator.uniform() < keep ? T(scale) : 0 }
        }
        if x.dtype == .f32 { fill(Float.self) } else { fill(Double.self) }
        return try Tensor.binary(.mul, x, mask)
    }

    /// -logProbs[i, y_i] * w_{y_i}, reduced; rows whose target is ignoreIndex count for nothing.
    /// logProbs: (N, C) or (C); targets: i64 (N) or 0-d, 0-based.
    public static func nllLoss(_ logProbs: Tensor, _ target: Tensor, weight: Tensor? = nil, ignoreIndex: Int = -100,
                               reduction: Reduction = .mean) throws -> Tensor {
        guard logProbs.dim >= 1 else {
            throw TensorError("nll_loss: expected (N, C), (C) or (N, C, d...) log-probabilities, got a 0-d tensor")
        }
        guard target.dtype == .i64 else { throw TensorError("nll_loss: targets must be i64, got \(target.dtype.rawValue)") }
        if logProbs.dim > 2 {
            // (N, C, d...): every position is a row, classes last (torch's K-dim form)
            let C = logProbs.shape[1]
            let want = [logProbs.shape[0]] + Array(logProbs.shape[2...])
            guard target.shape == want else {
                throw TensorError("nll_loss: targets have shape \(shapeString(target.shape)) but log-probabilities \(shapeString(logProbs.shape)) need \(shapeString(want))")
            }
            let rows = try logProbs.permuted([0] + Array(2 ..< logProbs.dim) + [1]).reshaped([-1, C])
            let r = try nllLoss(rows, target.reshaped([-1]), weight: weight, ignoreIndex: ignoreIndex, reduction: reduction)
            return reduction == .none ? try r.reshaped(want) : r
        }
        let lp = logProbs.dim == 1 ? try logProbs.unsqueeze(0) : logProbs
        let N = lp.shape[0], C = lp.shape[1]
        let t = try target.reshaped([-1])
        guard t.numel == N else { throw TensorError("nll_loss: \(t.numel) targets for \(N) rows") }
        if let w = weight, w.shape != [C] { throw TensorError("nll_loss: weight must have shape (\(C)), got \(shapeString(w.shape))") }
        let tp = try t.contiguous()
        let keep = try Tensor.compare(.ne, tp, Tensor.scalar(Double(ignoreIndex), dtype: .i64))
        let safe = try Tensor.where(keep, tp, Tensor.scalar(0, dtype: .i64))
        let sp = safe.pointer(Int64.self)
        for i in 0 ..< N where sp[i] < 0 || sp[i] >= C {
            throw TensorError("nll_loss: target \(sp[i] &+ 1) out of range for \(C) classes (row \(i + 1))")
        }
        let picked = try lp.gather(1, safe.unsqueeze(1)).reshaped([N])
        var w = try keep.to(lp.dtype)
        if let cw = weight { w = try Tensor.binary(.mul, w, cw.to(lp.dtype).indexSelect(0, safe)) }
        let losses = try Tensor.binary(.mul, picked.unary(.neg), w)
        switch reduction {
        case .none: return logProbs.dim == 1 ? try losses.reshaped([]) : losses
        case .sum: return try losses.reduce(.sum, dims: nil)
        case .mean:
            let total = try losses.reduce(.sum, dims: nil), mass = try w.reduce(.sum, dims: nil)
            // every row ignored: NaN as torch, with zero gradients (not 0 * (1 / 0))
            if try mass.item() == 0 { return try Tensor.binary(.add, Tensor.binary(.mul, total, total.scalarLike(0)), total.scalarLike(.nan)) }
            return try Tensor.binary(.div, total, mass)
        }
    }
}
