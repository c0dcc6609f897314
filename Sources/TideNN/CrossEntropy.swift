// CrossEntropy: softmax cross-entropy fused with its gradient, as torch.nn.functional.cross_entropy.
//
//     logits: (N, C) or (N, C, d1, ...); targets: i64 (N) or (N, d1, ...) with 0-based classes,
//     or float class probabilities shaped like logits.
//     try F.crossEntropy(logits, targets, weight: nil, ignoreIndex: -100, reduction: .mean, labelSmoothing: 0.1)
//
// Per row i with log-probabilities lp = log_softmax(z_i), the loss is -sum_c a_ic lp_c with
// a_ic = w_c ((1 - eps) [c = y_i] + eps / C) for class targets (w = 1 without weights), or
// a_ic = w_c ((1 - eps) t_ic + eps / C) for probability targets. "mean" divides by the number
// of non-ignored rows, or by sum_i w_{y_i} with weights (torch's rule). The gradient is
// dz_ic = s_i (softmax_ic sum_c a_ic - a_ic), computed from the saved logits and row logsumexp.
import TideCore
#if canImport(Glibc)
import Glibc
#endif

extension F {
    public enum Reduction: String, Sendable { case none, mean, sum }

    public static func crossEntropy(_ logits: Tensor, _ target: Tensor, weight: Tensor? = nil, ignoreIndex: Int = -100,
                                    reduction: Reduction = .mean, labelSmoothing eps: Double = 0) throws -> Tensor {
        let op = "cross_entropy"
        guard logits.dtype == .f32 || logits.dtype == .f64 else {
            throw TensorError("\(op): logits must be f32 or f64, got \(logits.dtype.rawValue)")
        }
        guard logits.dim >= 1 else { throw TensorError("\(op): logits must have a class dim, got a 0-d tensor") }
        guard eps >= 0 && eps <= 1 else { throw TensorError("\(op): label_smoothing must be in [0, 1], got \(eps)") }
        let soft = target.dtype.isFloatingPoint
        // class dim: 1 for (N, C, ...), 0 for a single (C) row
        let cdim = logits.dim == 1 ? 0 : 1
        let C = logits.shape[cdim]
        var rowShape = logits.shape
        rowShape.remove(at: cdim)
        if soft {
            guard target.shape == logits.shape else {
                throw TensorError("\(op): probability targets must have the logits' shape \(shapeString(logits.shape)), got \(shapeString(target.shape))")
            }
        } else {
            guard target.dtype == .i64 else { throw TensorError("\(op): targets must be i64 class indices or float probabilities, got \(target.dtype.rawValue)") }
            guard target.shape == rowShape else {
                throw TensorError("\(op): targets have shape \(shapeString(target.shape)) but logits \(shapeString(logits.shape)) need targets of shape \(shapeString(rowShape))")
            }
        }
        if let w = weight, w.shape != [C] {
            throw TensorError("\(op): weight must have shape (\(C)), got \(shapeString(w.shape))")
        }
        // rows: (M, C) with the class dim last
        func classLast(_ t: Tensor) throws -> Tensor {
            t.dim <= 2 ? try t.reshaped([-1, C]) : try t.permuted([0] + Array(2 ..< t.dim) + [1]).reshaped([-1, C])
        }
        let Z = try Autograd.noGrad { try classLast(logits).contiguous() }
        let M = Z.shape[0]
        let T = soft ? try Autograd.noGrad { try classLast(target).to(.f64).contiguous() } : try target.reshaped([-1]).contiguous()
        let W = try weight.map { try $0.to(.f64).contiguous() }
        let lse = try Tensor(uninitialized: [M], dtype: .f64)
        let rowLoss = try Tensor(uninitialized: [M], dtype: .f64)
        let rowMass = try Tensor(uninitialized: [M], dtype: .f64)   // sum_c a_ic
        var denom = 0.0
        // forward (with validation of class indices)
        if Z.dtype == .f32 {
            try ceForward(Float.self, Z, T, W, soft, ignoreIndex, eps, lse, rowLoss, rowMass, &denom)
        } else {
            try ceForward(Double.self, Z, T, W, soft, ignoreIndex, eps, lse, rowLoss, rowMass, &denom)
        }
        let dt = logits.dtype
        let lshape = logits.shape
        if soft && Autograd.isRecording(target) {
            // probability targets that need their own gradient (d loss / d t_ic is
            // -(1 - eps) w_c lp_ic, scaled by the reduction): the same loss from recorded ops
            let lp = try logits.logSoftmax(dim: cdim)
            var a = try Tensor.binary(.add, Tensor.binary(.mul, target.to(dt), Tensor.scalar(1 - eps, dtype: dt)),
                                      Tensor.scalar(eps / Double(C), dtype: dt))
            if let w = weight {
                let along = [C] + Array(repeating: 1, count: logits.dim - cdim - 1)
                a = try Tensor.binary(.mul, a, w.to(dt).reshaped(along))
            }
            let rows = try Tensor.binary(.mul, a, lp).reduce(.sum, dims: [cdim]).unary(.neg)
            switch reduction {
            case .none: return rows
            case .sum: return try rows.reduce(.sum, dims: nil)
            case .mean: return try Tensor.binary(.div, rows.reduce(.sum, dims: nil), Tensor.scalar(denom, dtype: dt))
            }
        }
        return try Autograd.op(op, [logits], forward: {
            switch reduction {
            case .none: return try rowLoss.to(dt).reshaped(rowShape)
            case .sum: return try Tensor.scalar(rowLoss.reduce(.sum, dims: nil).item(), dtype: dt)
            case .mean: return try Tensor.scalar(rowLoss.reduce(.sum, dims: nil).item() / denom, dtype: dt)
            }
        }, backward: { g, _, _ in
            // per-row scale of the incoming gradient
            let scale: Tensor
            switch reduction {
            case .none: scale = try g.to(.f64).reshaped([M]).contiguous()
            case .sum: scale = try Tensor.full([M], g.item(), dtype: .f64)
            case .mean: scale = try Tensor.full([M], g.item() / denom, dtype: .f64)
            }
            let dZ = try Tensor(uninitialized: [M, C], dtype: dt)
            if dt == .f32 {
                try ceBackward(Float.self, Z, T, W, soft, ignoreIndex, eps, lse, rowMass, scale, dZ)
            } else {
                try ceBackward(Double.self, Z, T, W, soft, ignoreIndex, eps, lse, rowMass, scale, dZ)
            }
            if lshape.count <= 2 { return [try dZ.reshaped(lshape)] }
            // back to (N, C, d1, ...)
            var moved = [lshape[0]] + Array(lshape[2...]) + [C]
            moved = moved.map { $0 }
            let back = try dZ.reshaped(moved)
            let nd = lshape.count
            return [try back.permuted([0, nd - 1] + Array(1 ..< nd - 1))]
        }, saved: [Z])
    }

    /// The weight a_ic of class c in row i, written into `a` (length C); returns sum_c a_ic,
    /// or nil for an ignored row.
    @inline(__always)
    static func ceCoefficients(_ i: Int, _ C: Int, _ T: Tensor, _ W: UnsafePointer<Double>?, _ soft: Bool,
                               _ ignore: Int, _ eps: Double, _ a: UnsafeMutablePointer<Double>) throws -> (Double, Double)? {
        if soft {
            let t = T.pointer(Double.self) + i * C
            var mass = 0.0
            for c in 0 ..< C {
                let v = (W?[c] ?? 1) * ((1 - eps) * t[c] + eps / Double(C))
                a[c] = v
                mass += v
            }
            return (mass, 1)
        }
        let y = Int(T.pointer(Int64.self)[i])
        if y == ignore { return nil }
        guard y >= 0 && y < C else {
            throw TensorError("cross_entropy: target \(y &+ 1) out of range for \(C) classes (row \(i + 1))")
        }
        var mass = 0.0
        for c in 0 ..< C {
            let v = eps / Double(C) * (W?[c] ?? 1)
            a[c] = v
            mass += v
        }
        let wy = W?[y] ?? 1
        a[y] += (1 - eps) * wy
        mass += (1 - eps) * wy
        return (mass, wy)
    }

    static func ceForward<S: GemmScalar>(_: S.Type, _ Z: Tensor, _ T: Tensor, _ Wt: Tensor?, _ soft: Bool, _ ignore: Int,
                                          _ eps: Double, _ lse: Tensor, _ rowLoss: Tensor, _ rowMass: Tensor, _ denom: inout Double) throws {
        let M = Z.shape[0], C = Z.shape[1]
        let zp = UnsafePointer(Z.pointer(S.self))
        let W = Wt.map { UnsafePointer($0.pointer(Double.self)) }
        let L = lse.pointer(Double.self), RL = rowLoss.pointer(Double.self), RM = rowMass.pointer(Double.self)
        let parts = max(1, min(Threads.count, M / 64))
        let dens = UnsafeMutablePointer<Double>.allocate(capacity: parts)
        dens.initialize(repeating: 0, count: parts)
        defer { dens.deallocate() }
        let scratch = UnsafeMutablePointer<Double>.allocate(capacity: parts * max(C, 1))
        defer { scratch.deallocate() }
        let erow = UnsafeMutablePointer<S>.allocate(capacity: parts * max(C, 1))
        defer { erow.deallocate() }
        try Threads.parallelFor(parts, grain: 1) { plo, phi in
            for p in plo ..< phi {
                let a = scratch + p * C, e = erow + p * C
                for i in M * p / parts ..< M * (p + 1) / parts {
                    let z = zp + i * C
                    // logsumexp with the SIMD exp (the row max keeps it stable)
                    e.update(from: z, count: C)
                    let m = S.maxOf(e, C)
                    let l = Double(m) + log(Double(S.expShift(e, C, m)))
                    L[i] = l
                    guard let (mass, wy) = try ceCoefficients(i, C, T, W, soft, ignore, eps, a) else {
                        RL[i] = 0; RM[i] = 0
                        continue
                    }
                    var loss = 0.0
                    for c in 0 ..< C where a[c] != 0 { loss -= a[c] * (Double(z[c]) - l) }
                    RL[i] = loss
                    RM[i] = mass
                    dens[p] += soft ? 1 : wy
                }
            }
        }
        denom = 0
        for p in 0 ..< parts { denom += dens[p] }
    }

    static func ceBackward<S: GemmScalar>(_: S.Type, _ Z: Tensor, _ T: Tensor, _ Wt: Tensor?, _ soft: Bool, _ ignore: Int,
                                           _ eps: Double, _ lse: Tensor, _ rowMass: Tensor, _ scale: Tensor, _ dZ: Tensor) throws {
        let M = Z.shape[0], C = Z.shape[1]
        let zp = UnsafePointer(Z.pointer(S.self)), dp = dZ.pointer(S.self)
        let W = Wt.map { UnsafePointer($0.pointer(Double.self)) }
        let L = lse.pointer(Double.self), RM = rowMass.pointer(Double.self), SC = scale.pointer(Double.self)
        let parts = max(1, min(Threads.count, M / 64))
        let scratch = UnsafeMutablePointer<Double>.allocate(capacity: parts * max(C, 1))
        defer { scratch.deallocate() }
        try Threads.parallelFor(parts, grain: 1) { plo, phi in
            for p in plo ..< phi {
                let a = scratch + p * C
                for i in M * p / parts ..< M * (p + 1) / parts {
                    let z = zp + i * C, d = dp + i * C
                    guard try ceCoefficients(i, C, T, W, soft, ignore, eps, a) != nil else {
                        for c in 0 ..< C { d[c] = 0 }
                        continue
                    }
                    let s = SC[i], mass = RM[i], l = L[i]
                    // softmax row into d with the SIMD exp, then the gradient in place
                    d.update(from: z, count: C)
                    _ = S.expShift(d, C, S(l))
                    for c in 0 ..< C { d[c] = S(s * (Double(d[c]) * mass - a[c])) }
                }
            }
        }
    }
}
