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
        let y = try Tensor.matmul(x, weight.t())
        guard let b = bias else { return y }
        return try Tensor.binary(.add, y, b)
    }
}
