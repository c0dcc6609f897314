// TideNN: the learning layer's Swift half: fused functional ops (tide.F) with their
// derivatives, and optimizer update kernels. Module trees, optimizers and schedulers are Lua
// (Sources/TideLua/lua) built on these.
//
//     let y = try F.linear(x, weight, bias)        // x: (..., in), weight: (out, in) -> (..., out)
//
// Every function here records an autograd node when an input requires grad (TideCore's
// Autograd.op), with the backward written next to the forward.
import TideCore

public enum F {}

extension F {
    /// y = x W^T + b.  x: (..., in), weight: (out, in), bias: (out) or nil -> (..., out).
    /// One GEMM forward (the bias rides in as beta = 1); backward: dx = g W, dW = g^T x (one
    /// GEMM over all rows, no per-batch partial sums), db = column sums of g.
    public static func linear(_ x: Tensor, _ weight: Tensor, _ bias: Tensor?) throws -> Tensor {
        guard weight.dim == 2 else {
            throw TensorError("linear: weight must be 2-d (out, in), got shape \(shapeString(weight.shape))")
        }
        guard x.dim >= 1, x.shape[x.dim - 1] == weight.shape[1] else {
            throw TensorError("linear: input has shape \(shapeString(x.shape)) but weight is \(shapeString(weight.shape)) (the last dim of the input must be \(weight.shape[1]))")
        }
        if let b = bias, b.shape != [weight.shape[0]] {
            throw TensorError("linear: bias must have shape (\(weight.shape[0])), got \(shapeString(b.shape))")
        }
        let fused = x.dtype == weight.dtype && (bias?.dtype ?? x.dtype) == x.dtype && (x.dtype == .f32 || x.dtype == .f64)
        guard fused else {
            // mixed or non-float dtypes: the general ops (promotion rules apply)
            let y = try Tensor.matmul(x, weight.t())
            return bias == nil ? y : try Tensor.binary(.add, y, bias!)
        }
        let inF = weight.shape[1], outF = weight.shape[0]
        let outShape = Array(x.shape.dropLast()) + [outF]
        let x2 = try Autograd.noGrad { try x.reshaped([-1, inF]) }
        let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
        return try Autograd.op("linear", inputs, forward: {
            try Tensor.gemm2d(x2, weight, transB: true, bias: bias).reshaped(outShape)
        }, backward: { g, _, node in
            let g2 = try g.reshaped([-1, outF])
            let dx = node.needs(0) ? try Tensor.gemm2d(g2, weight).reshaped(x.shape) : nil
            let dw = node.needs(1) ? try Tensor.gemm2d(g2, transA: true, x2) : nil
            let db = bias != nil && node.needs(2) ? try g2.reduce(.sum, dims: [0]) : nil
            return [dx, dw, db]
        }, saved: [x2, weight])
    }
}
