// Rope: rotary position embedding (RoFormer), fused forward and backward.
//
//     x: (B, H, T, D), cos/sin: (T, R/2) with R <= D even  ->  (B, H, T, D)
//     try F.rope(x, cos: c, sin: s)
//
// Feature i < R/2 pairs with i + R/2 (the "rotate half" layout of GPT-NeoX and Llama):
// (a, b) -> (a cos - b sin, b cos + a sin). Features from R on pass through (partial rotary).
// The backward rotates the gradient by the opposite angle. When cos or sin need gradients
// (learned angles) the rotation is composed of recorded ops instead.
import TideCore

extension F {
    public static func rope(_ x: Tensor, cos: Tensor, sin: Tensor) throws -> Tensor {
        guard x.dim == 4, x.dtype == .f32 || x.dtype == .f64 else {
            throw TensorError("rope: expected an f32/f64 input of shape (B, H, T, D), got \(x.dtype.rawValue) \(shapeString(x.shape))")
        }
        let T = x.shape[2], D = x.shape[3]
        guard cos.dim == 2, cos.shape == sin.shape, cos.shape[0] == T, 2 * cos.shape[1] <= D else {
            throw TensorError("rope: cos and sin must be (T, R/2) with T = \(T) and R <= \(D), got \(shapeString(cos.shape)) and \(shapeString(sin.shape))")
        }
        let half = cos.shape[1]
        if Autograd.isRecording(cos, sin) {
            // learned angles: the same rotation from recorded ops, so cos and sin get gradients
            let c = try cos.to(x.dtype), s = try sin.to(x.dtype)
            let a = try x.narrow(3, 0, half), b = try x.narrow(3, half, half)
            var parts = [try Tensor.binary(.sub, Tensor.binary(.mul, a, c), Tensor.binary(.mul, b, s)),
                         try Tensor.binary(.add, Tensor.binary(.mul, b, c), Tensor.binary(.mul, a, s))]
            if D > 2 * half { parts.append(try x.narrow(3, 2 * half, D - 2 * half)) }
            return try Tensor.cat(parts, dim: 3)
        }
        let c = try cos.to(x.dtype).contiguous(), s = try sin.to(x.dtype).contiguous()
        func rotate(_ src: Tensor, sign: Double) throws -> Tensor {
            let v = src.strides[3] == 1 || D == 1 ? src : try src.contiguous(force: true)
            let out = try Tensor(uninitialized: x.shape, dtype: x.dtype)
            func run<S: FloatScalar>(_: S.Type) throws {
                let X = v.pointer(S.self), O = out.pointer(S.self)
                let C = UnsafePointer(c.pointer(S.self)), Sn = UnsafePointer(s.pointer(S.self))
                let (B, H) = (x.shape[0], x.shape[1])
                let sg = S(sign)
                try Threads.parallelFor(B * H, grain: Swift.max(1, 8192 / Swift.max(T * D, 1))) { lo, hi in
                    for bh in lo ..< hi {
                        let b = bh / H, h = bh % H
                        for t in 0 ..< T {
                            let xr = X + b * v.strides[0] + h * v.strides[1] + t * v.strides[2]
                            let orow = O + (bh * T + t) * D
                            let cr = C + t * half, sr = Sn + t * half
                            for i in 0 ..< half {
                                let a = xr[i], bb = xr[i + half], cs = cr[i], sn = sg * sr[i]
                                orow[i] = a * cs - bb * sn
                                orow[i + half] = bb * cs + a * sn
                            }
                            for i in 2 * half ..< D { orow[i] = xr[i] }
                        }
                    }
                }
            }
            if x.dtype == .f32 { try run(Float.self) } else { try run(Double.self) }
            return out
        }
        return try Autograd.op("rope", [x], forward: { try rotate(x, sign: 1) }, backward: { g, _, _ in
            [try rotate(g, sign: -1)]
        })
    }
}
