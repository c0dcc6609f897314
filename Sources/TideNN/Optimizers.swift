// Optimizers: fused in-place update kernels for tide.optim (SGD, Adam/AdamW, Lion).
//
//     var c = Optim.AdamConfig(lr: 1e-3, step: 1)
//     c.weightDecay = 0.01; c.decoupled = true           // AdamW
//     try Optim.adamStep_(p, grad: g, expAvg: m, expAvgSq: v, maxExpAvgSq: nil, c)
//
// Each kernel makes one pass over a parameter: it reads p, g and the optimizer state and
// writes p and the state back, in place (the tensors stay the same objects, so module
// parameters and views of them see the update). The per-parameter bookkeeping (state
// creation, step counts, param groups) is Lua: Sources/TideLua/lua/optim.lua.
//
// Memory: p and the state tensors must be contiguous f32 or f64 of one dtype and shape; the
// gradient may be strided (it is copied to a contiguous buffer first). Large tensors are
// split over the cores. Every write bumps the tensor's version, so autograd notices a
// parameter that was saved for a backward and then updated.
//
// The arithmetic follows torch.optim's single-tensor code path term by term (Adam: Kingma &
// Ba 2015, Alg. 1 with the bias corrections folded into the step size; AdamW: Loshchilov &
// Hutter 2019, decoupled decay p *= 1 - lr*wd; Lion: Chen et al. 2023, Alg. 2).
import TideCore
import _CTideKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum Optim {}

extension Optim {
    /// Elements per core below which a kernel runs on one thread.
    static let grain = 1 << 16

    /// Checks that `t` can be written in place next to the parameter `p`.
    static func checkState(_ op: String, _ name: String, _ t: Tensor, like p: Tensor) throws {
        guard t.dtype == p.dtype else {
            throw TensorError("\(op): \(name) is \(t.dtype.rawValue) but the parameter is \(p.dtype.rawValue)")
        }
        guard t.shape == p.shape else {
            throw TensorError("\(op): \(name) has shape \(shapeString(t.shape)) but the parameter has shape \(shapeString(p.shape))")
        }
        guard t.isContiguous else {
            throw TensorError("\(op): \(name) must be contiguous (optimizer updates write it in place)")
        }
    }

    /// Validates the parameter and its gradient; returns the gradient as a contiguous tensor.
    static func prepare(_ op: String, _ p: Tensor, _ grad: Tensor) throws -> Tensor {
        guard p.dtype == .f32 || p.dtype == .f64 else {
            throw TensorError("\(op): parameters must be f32 or f64, got \(p.dtype.rawValue)")
        }
        guard p.isContiguous else {
            throw TensorError("\(op): the parameter (shape \(shapeString(p.shape))) is not contiguous; optimizers update parameters in place and need contiguous ones (make it with :contiguous() before training)")
        }
        guard grad.shape == p.shape else {
            throw TensorError("\(op): the gradient has shape \(shapeString(grad.shape)) but the parameter has shape \(shapeString(p.shape))")
        }
        guard grad.dtype == p.dtype else {
            throw TensorError("\(op): the gradient is \(grad.dtype.rawValue) but the parameter is \(p.dtype.rawValue)")
        }
        return grad.isContiguous ? grad : try grad.contiguous()
    }

    /// The kernels read and write through restrict pointers: the parameter, gradient and
    /// state buffers must not overlap.
    static func checkDistinct(_ op: String, _ ts: [Tensor]) throws {
        let names = ["the parameter", "the gradient", "state tensor 1", "state tensor 2", "state tensor 3"]
        for i in 0 ..< ts.count {
            let a = ts[i].rawPointer, an = ts[i].numel * ts[i].dtype.itemSize
            for j in i + 1 ..< ts.count {
                let b = ts[j].rawPointer, bn = ts[j].numel * ts[j].dtype.itemSize
                if an > 0 && bn > 0 && a < b + bn && b < a + an {
                    throw TensorError("\(op): \(names[i]) and \(names[j]) share memory; each needs its own buffer")
                }
            }
        }
    }

    /// Runs `body(lo, hi)` over [0, n), split over the cores for large n.
    static func split(_ n: Int, _ body: (Int, Int) -> Void) {
        if n < 2 * grain { body(0, n); return }
        try? Threads.parallelFor(n, grain: grain) { lo, hi in body(lo, hi) }
    }
}

// MARK: Adam / AdamW

extension Optim {
    public struct AdamConfig: Sendable {
        public var lr: Double
        public var beta1 = 0.9, beta2 = 0.999, eps = 1e-8
        public var weightDecay = 0.0
        /// The step number after this update (1 for the first), for the bias corrections.
        public var step: Int
        /// true: AdamW's decoupled decay p *= 1 - lr*wd; false: Adam's L2 term g += wd*p.
        public var decoupled = false
        public var amsgrad = false
        public var maximize = false
        public init(lr: Double, step: Int) { self.lr = lr; self.step = step }
    }

    /// One Adam/AdamW update, in place. p, grad, expAvg, expAvgSq (and maxExpAvgSq with
    /// amsgrad): all the parameter's shape.
    ///     m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  vhat = amsgrad ? max(vmax, v) : v
    ///     p -= lr/(1-b1^t) * m / (sqrt(vhat)/sqrt(1-b2^t) + eps)
    public static func adamStep_(_ p: Tensor, grad: Tensor, expAvg: Tensor, expAvgSq: Tensor,
                                 maxExpAvgSq: Tensor?, _ c: AdamConfig) throws {
        let op = c.decoupled ? "AdamW" : "Adam"
        let g = try prepare(op, p, grad)
        try checkState(op, "exp_avg", expAvg, like: p)
        try checkState(op, "exp_avg_sq", expAvgSq, like: p)
        if c.amsgrad {
            guard let vm = maxExpAvgSq else { throw TensorError("\(op): amsgrad needs the max_exp_avg_sq state tensor") }
            try checkState(op, "max_exp_avg_sq", vm, like: p)
        }
        guard c.step >= 1 else { throw TensorError("\(op): step must be >= 1, got \(c.step)") }
        let vmax = c.amsgrad ? maxExpAvgSq : nil
        try checkDistinct(op, [p, g, expAvg, expAvgSq] + (vmax.map { [$0] } ?? []))
        let t = Double(c.step)
        let bc1 = 1 - pow(c.beta1, t), bc2 = 1 - pow(c.beta2, t)
        let k = tide_adam_params(sign: c.maximize ? -1 : 1, l2: c.decoupled ? 0 : c.weightDecay,
                                 shrink: c.decoupled ? 1 - c.lr * c.weightDecay : 1,
                                 beta1: c.beta1, beta2: c.beta2, neg_step_size: -(c.lr / bc1),
                                 bc2_sqrt: bc2.squareRoot(), eps: c.eps)
        if p.dtype == .f32 {
            let (pp, gp, mp, vp, xp) = (p.pointer(Float.self), g.pointer(Float.self), expAvg.pointer(Float.self),
                                        expAvgSq.pointer(Float.self), vmax?.pointer(Float.self))
            withUnsafePointer(to: k) { kp in split(p.numel) { lo, hi in tide_adam_f32(pp + lo, gp + lo, mp + lo, vp + lo, xp.map { $0 + lo }, hi - lo, kp) } }
        } else {
            let (pp, gp, mp, vp, xp) = (p.pointer(Double.self), g.pointer(Double.self), expAvg.pointer(Double.self),
                                        expAvgSq.pointer(Double.self), vmax?.pointer(Double.self))
            withUnsafePointer(to: k) { kp in split(p.numel) { lo, hi in tide_adam_f64(pp + lo, gp + lo, mp + lo, vp + lo, xp.map { $0 + lo }, hi - lo, kp) } }
        }
        p.bumpVersion(); expAvg.bumpVersion(); expAvgSq.bumpVersion(); vmax?.bumpVersion()
    }

}

// MARK: SGD

extension Optim {
    public struct SGDConfig: Sendable {
        public var lr: Double
        public var momentum = 0.0, dampening = 0.0, weightDecay = 0.0
        public var nesterov = false, maximize = false
        /// True on the first step with momentum: the buffer is set to the gradient (torch's
        /// buf = clone(g)) instead of being decayed.
        public var firstStep = false
        public init(lr: Double) { self.lr = lr }
    }

    /// One SGD update, in place. p, grad, momentumBuffer (needed when momentum != 0): all
    /// the parameter's shape.
    ///     g' = ±g + wd p;  b = mu b + (1-dampening) g' (b = g' on the first step)
    ///     p -= lr * (nesterov ? g' + mu b : b)       (p -= lr g' without momentum)
    public static func sgdStep_(_ p: Tensor, grad: Tensor, momentumBuffer: Tensor?, _ c: SGDConfig) throws {
        let g = try prepare("SGD", p, grad)
        var buf: Tensor? = nil
        if c.momentum != 0 {
            guard let b = momentumBuffer else { throw TensorError("SGD: momentum needs the momentum_buffer state tensor") }
            try checkState("SGD", "momentum_buffer", b, like: p)
            buf = b
        }
        try checkDistinct("SGD", [p, g] + (buf.map { [$0] } ?? []))
        let k = tide_sgd_params(sign: c.maximize ? -1 : 1, weight_decay: c.weightDecay, momentum: c.momentum,
                                dampening: c.dampening, lr: c.lr, nesterov: c.nesterov ? 1 : 0,
                                first: c.firstStep ? 1 : 0)
        if p.dtype == .f32 {
            let (pp, gp, bp) = (p.pointer(Float.self), g.pointer(Float.self), buf?.pointer(Float.self))
            withUnsafePointer(to: k) { kp in split(p.numel) { lo, hi in tide_sgd_f32(pp + lo, gp + lo, bp.map { $0 + lo }, hi - lo, kp) } }
        } else {
            let (pp, gp, bp) = (p.pointer(Double.self), g.pointer(Double.self), buf?.pointer(Double.self))
            withUnsafePointer(to: k) { kp in split(p.numel) { lo, hi in tide_sgd_f64(pp + lo, gp + lo, bp.map { $0 + lo }, hi - lo, kp) } }
        }
        p.bumpVersion(); buf?.bumpVersion()
    }

}

// MARK: Lion

extension Optim {
    public struct LionConfig: Sendable {
        public var lr: Double
        public var beta1 = 0.9, beta2 = 0.99, weightDecay = 0.0
        public init(lr: Double) { self.lr = lr }
    }

    /// One Lion update, in place. p, grad, expAvg: all the parameter's shape.
    ///     p = p (1 - lr wd) - lr sign(b1 m + (1-b1) g);  m = b2 m + (1-b2) g
    public static func lionStep_(_ p: Tensor, grad: Tensor, expAvg: Tensor, _ c: LionConfig) throws {
        let g = try prepare("Lion", p, grad)
        try checkState("Lion", "exp_avg", expAvg, like: p)
        try checkDistinct("Lion", [p, g, expAvg])
        let k = tide_lion_params(lr: c.lr, weight_decay: c.weightDecay, beta1: c.beta1, beta2: c.beta2)
        if p.dtype == .f32 {
            let (pp, gp, mp) = (p.pointer(Float.self), g.pointer(Float.self), expAvg.pointer(Float.self))
            withUnsafePointer(to: k) { kp in split(p.numel) { lo, hi in tide_lion_f32(pp + lo, gp + lo, mp + lo, hi - lo, kp) } }
        } else {
            let (pp, gp, mp) = (p.pointer(Double.self), g.pointer(Double.self), expAvg.pointer(Double.self))
            withUnsafePointer(to: k) { kp in split(p.numel) { lo, hi in tide_lion_f64(pp + lo, gp + lo, mp + lo, hi - lo, kp) } }
        }
        p.bumpVersion(); expAvg.bumpVersion()
    }
}

// MARK: gradient norms

extension Optim {
    /// Chunk size of the sum of squares: fixed whatever the thread count, chunk sums added in
    /// order, so the norm (and so clipping) does not depend on tide.set_num_threads.
    static let sumChunk = 1 << 16

    /// sum(x^2) over every element, in double. x: any shape, f32 or f64 (strided is copied).
    /// clip_grad_norm_'s 2-norm in one read pass instead of abs, square and sum.
    public static func sumOfSquares(_ x: Tensor) throws -> Double {
        guard x.dtype == .f32 || x.dtype == .f64 else {
            throw TensorError("sum of squares: expected an f32 or f64 tensor, got \(x.dtype.rawValue)")
        }
        let c = x.isContiguous ? x : try x.contiguous()
        let n = c.numel, f32 = c.dtype == .f32
        let raw = UnsafeRawPointer(c.rawPointer)
        func chunk(_ s: Int, _ e: Int) -> Double {
            f32 ? tide_sumsq_f32(raw.assumingMemoryBound(to: Float.self) + s, e - s)
                : tide_sumsq_f64(raw.assumingMemoryBound(to: Double.self) + s, e - s)
        }
        let chunks = (n + sumChunk - 1) / sumChunk
        if chunks <= 1 { return chunk(0, n) }
        let partial = UnsafeMutablePointer<Double>.allocate(capacity: chunks)
        defer { partial.deallocate() }
        try Threads.parallelFor(chunks, grain: 1) { lo, hi in
            for k in lo ..< hi { partial[k] = chunk(k * sumChunk, Swift.min(n, (k + 1) * sumChunk)) }
        }
        var total = 0.0
        for k in 0 ..< chunks { total += partial[k] }
        return total
    }
}
