// Conv: 2-d and 1-d convolution and 2-d transposed convolution (torch.nn.functional's conv2d,
// conv1d, conv_transpose2d), each with its backward for the input, the weight and the bias.
//
//     let y = try F.conv2d(x, w, b, stride: [2, 2], padding: .explicit([1, 1]))
//     // x: (B, C, H, W), w: (O, C/groups, kh, kw), b: (O) -> (B, O, H', W')
//     // H' = (H + 2 padding - dilation (kh - 1) - 1) / stride + 1 (rounded down)
//     let z = try F.convTranspose2d(y, w2, nil, stride: [2, 2])   // the adjoint of a conv2d
//
// This file holds the argument checks (messages say expected vs got), the output-size rules
// and the autograd wiring; the products themselves are im2col + one GEMM per (sample, group)
// in Conv+Im2col.swift. conv1d is conv2d on a height-1 image. Inputs of any layout are made
// contiguous once; the backward recomputes im2col instead of keeping the (large) columns.
import TideCore

extension F {
    /// The padding of a convolution: sizes per spatial dim (the same before and after), or
    /// torch's "same" (output size = input size; stride 1 only; odd totals put the extra
    /// row/column after) and "valid" (no padding).
    public enum ConvPadding: Equatable, Sendable {
        case explicit([Int])
        case same
        case valid
    }

    /// x: (B, C, H, W), weight: (O, C/groups, kh, kw), bias: (O) or nil -> (B, O, H', W')
    /// with H' = floor((H + padTop + padBottom - dilation (kh - 1) - 1) / stride) + 1.
    public static func conv2d(_ x: Tensor, _ weight: Tensor, _ bias: Tensor? = nil, stride: [Int] = [1, 1],
                              padding: ConvPadding = .explicit([0, 0]), dilation: [Int] = [1, 1],
                              groups: Int = 1) throws -> Tensor {
        try checkConvArgs("conv2d", x, weight, bias, spatial: 2, groups: groups, transposed: false)
        return try convCore("conv2d", x, weight, bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }

    /// x: (B, C, L), weight: (O, C/groups, k), bias: (O) or nil -> (B, O, L')
    /// with L' = floor((L + 2 padding - dilation (k - 1) - 1) / stride) + 1.
    public static func conv1d(_ x: Tensor, _ weight: Tensor, _ bias: Tensor? = nil, stride: Int = 1,
                              padding: ConvPadding = .explicit([0]), dilation: Int = 1, groups: Int = 1) throws -> Tensor {
        try checkConvArgs("conv1d", x, weight, bias, spatial: 1, groups: groups, transposed: false)
        let pad: ConvPadding
        switch padding {
        case .explicit(let p):
            guard p.count == 1 else { throw TensorError("conv1d: padding must have 1 value, got \(p.count)") }
            pad = .explicit([0, p[0]])
        case .same, .valid: pad = padding
        }
        let y = try convCore("conv1d", x.unsqueeze(2), weight.unsqueeze(2), bias, stride: [1, stride], padding: pad,
                             dilation: [1, dilation], groups: groups)
        return try y.squeeze(2)
    }

    /// x: (B, C_in, H, W), weight: (C_in, C_out/groups, kh, kw), bias: (C_out) or nil
    /// -> (B, C_out, H', W') with H' = (H - 1) stride - 2 padding + dilation (kh - 1) + output_padding + 1.
    /// The adjoint of conv2d with the same weight and options (torch's conv_transpose2d).
    public static func convTranspose2d(_ x: Tensor, _ weight: Tensor, _ bias: Tensor? = nil, stride: [Int] = [1, 1],
                                       padding: [Int] = [0, 0], outputPadding: [Int] = [0, 0],
                                       dilation: [Int] = [1, 1], groups: Int = 1) throws -> Tensor {
        let name = "conv_transpose2d"
        try checkConvArgs(name, x, weight, bias, spatial: 2, groups: groups, transposed: true)
        try checkPairs(name, ["stride": stride, "dilation": dilation, "padding": padding, "output_padding": outputPadding])
        for d in 0 ..< 2 where outputPadding[d] >= max(stride[d], dilation[d]) {
            throw TensorError("\(name): output_padding must be smaller than stride or dilation, got output_padding \(outputPadding[d]) with stride \(stride[d]) and dilation \(dilation[d]) (dim \(d + 1))")
        }
        let B = x.shape[0], cin = x.shape[1], H = x.shape[2], W = x.shape[3]
        let cog = weight.shape[1], kh = weight.shape[2], kw = weight.shape[3], cout = cog * groups
        let OH = (H - 1) * stride[0] - 2 * padding[0] + dilation[0] * (kh - 1) + outputPadding[0] + 1
        let OW = (W - 1) * stride[1] - 2 * padding[1] + dilation[1] * (kw - 1) + outputPadding[1] + 1
        guard OH >= 1 && OW >= 1 else {
            throw TensorError("\(name): output size would be \(OH)x\(OW) (input \(H)x\(W), kernel \(kh)x\(kw), stride \(shapeString(stride)), padding \(shapeString(padding)), dilation \(shapeString(dilation)), output_padding \(shapeString(outputPadding))); it must be at least 1x1")
        }
        // the image side is the output, the kernel grid is the input
        let geom = Conv2dGeometry(channels: cog, height: OH, width: OW, kh: kh, kw: kw, sh: stride[0], sw: stride[1],
                                  padTop: padding[0], padLeft: padding[1], dh: dilation[0], dw: dilation[1], oh: H, ow: W)
        try checkGemmSize(name, geom)
        let problem = ConvProblem(geom: geom, batch: B, groups: groups, m: cin / groups)
        return try convOp(name, x, weight, bias, problem, outShape: [B, cout, OH, OW], transposed: true)
    }
}

// MARK: - shared checks and the conv2d engine call

extension F {
    /// Rank, dtype, size and channel checks shared by conv1d, conv2d and conv_transpose2d.
    static func checkConvArgs(_ name: String, _ x: Tensor, _ weight: Tensor, _ bias: Tensor?, spatial: Int,
                              groups: Int, transposed: Bool) throws {
        let rank = spatial + 2
        let layout = spatial == 1 ? "(B, C, L)" : "(B, C, H, W)"
        let wlayout = transposed ? "(C_in, C_out/groups, kh, kw)" : (spatial == 1 ? "(O, C/groups, k)" : "(O, C/groups, kh, kw)")
        guard x.dtype == .f32 || x.dtype == .f64 else {
            throw TensorError("\(name): input must be f32 or f64, got \(x.dtype.rawValue)")
        }
        guard weight.dtype == x.dtype else {
            throw TensorError("\(name): weight is \(weight.dtype.rawValue) but input is \(x.dtype.rawValue) (expected the same dtype)")
        }
        guard x.dim == rank else {
            throw TensorError("\(name): input must be \(rank)-d \(layout), got shape \(shapeString(x.shape)) (\(x.dim)-d)")
        }
        guard weight.dim == rank else {
            throw TensorError("\(name): weight must be \(rank)-d \(wlayout), got shape \(shapeString(weight.shape)) (\(weight.dim)-d)")
        }
        guard x.shape.dropFirst().allSatisfy({ $0 > 0 }) else {
            throw TensorError("\(name): input sizes after the batch must be positive, got shape \(shapeString(x.shape))")
        }
        guard weight.shape.allSatisfy({ $0 > 0 }) else {
            throw TensorError("\(name): weight sizes must be positive, got shape \(shapeString(weight.shape))")
        }
        guard groups >= 1 else { throw TensorError("\(name): groups must be at least 1, got \(groups)") }
        let C = x.shape[1]
        guard C % groups == 0 else {
            throw TensorError("\(name): input has \(C) channels, which groups = \(groups) does not divide")
        }
        let wdesc = "weight shape \(shapeString(weight.shape)), groups \(groups)"
        let outChannels: Int
        if transposed {
            guard weight.shape[0] == C else {
                throw TensorError("\(name): input has \(C) channels but weight expects \(weight.shape[0]) (\(wdesc))")
            }
            outChannels = weight.shape[1] * groups
        } else {
            guard weight.shape[0] % groups == 0 else {
                throw TensorError("\(name): weight has \(weight.shape[0]) output channels, which groups = \(groups) does not divide")
            }
            guard weight.shape[1] * groups == C else {
                throw TensorError("\(name): input has \(C) channels but weight expects \(weight.shape[1] * groups) (\(wdesc))")
            }
            outChannels = weight.shape[0]
        }
        if let b = bias {
            guard b.dtype == x.dtype else {
                throw TensorError("\(name): bias is \(b.dtype.rawValue) but input is \(x.dtype.rawValue) (expected the same dtype)")
            }
            guard b.shape == [outChannels] else {
                throw TensorError("\(name): bias must have shape (\(outChannels)) (one per output channel), got \(shapeString(b.shape))")
            }
        }
    }

    /// Each named option has 2 values, strides/dilations >= 1 and paddings >= 0.
    static func checkPairs(_ name: String, _ opts: KeyValuePairs<String, [Int]>) throws {
        for (key, v) in opts {
            guard v.count == 2 else { throw TensorError("\(name): \(key) must have 2 values, got \(v.count)") }
            let least = key.hasSuffix("padding") ? 0 : 1
            if let bad = v.first(where: { $0 < least }) {
                throw TensorError("\(name): \(key) must be \(least == 0 ? "non-negative" : "positive"), got \(bad)")
            }
        }
    }

    /// BLAS takes 32-bit sizes.
    static func checkGemmSize(_ name: String, _ g: Conv2dGeometry) throws {
        guard g.K < Int(Int32.max) && g.N < Int(Int32.max) else {
            throw TensorError("\(name): the column matrix would be \(g.K)x\(g.N), larger than BLAS can index")
        }
    }

    /// conv2d on 4-d x and weight (already checked), also behind conv1d (height 1).
    static func convCore(_ name: String, _ x: Tensor, _ weight: Tensor, _ bias: Tensor?, stride: [Int],
                         padding: ConvPadding, dilation: [Int], groups: Int) throws -> Tensor {
        let B = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
        let O = weight.shape[0], kh = weight.shape[2], kw = weight.shape[3]
        let oned = name == "conv1d"
        func shown(_ v: [Int]) -> String { oned ? String(v[1]) : shapeString(v) }
        try checkPairs(name, ["stride": stride, "dilation": dilation])
        // padding before / after per dim
        var before = [0, 0], after = [0, 0]
        switch padding {
        case .explicit(let p):
            guard p.count == 2 else { throw TensorError("\(name): padding must have 2 values, got \(p.count)") }
            if let bad = p.first(where: { $0 < 0 }) { throw TensorError("\(name): padding must be non-negative, got \(bad)") }
            before = p; after = p
        case .valid: break
        case .same:
            guard stride == [1, 1] else {
                throw TensorError("\(name): padding = \"same\" needs stride 1, got stride \(shown(stride))")
            }
            for (d, k) in [kh, kw].enumerated() {
                let total = dilation[d] * (k - 1)
                before[d] = total / 2
                after[d] = total - before[d]
            }
        }
        let spanH = dilation[0] * (kh - 1) + 1, spanW = dilation[1] * (kw - 1) + 1
        let padH = H + before[0] + after[0], padW = W + before[1] + after[1]
        guard padH >= spanH && padW >= spanW else {
            let input = oned ? "length \(W)" : "\(H)x\(W)", padded = oned ? String(padW) : "\(padH)x\(padW)"
            let span = oned ? String(spanW) : "\(spanH)x\(spanW)"
            throw TensorError("\(name): input \(input) (\(padded) with padding) is smaller than the kernel's span \(span) (kernel \(oned ? String(kw) : "\(kh)x\(kw)"), dilation \(shown(dilation))); the output would be empty")
        }
        let OH = (padH - spanH) / stride[0] + 1, OW = (padW - spanW) / stride[1] + 1
        let geom = Conv2dGeometry(channels: C / groups, height: H, width: W, kh: kh, kw: kw, sh: stride[0], sw: stride[1],
                                  padTop: before[0], padLeft: before[1], dh: dilation[0], dw: dilation[1], oh: OH, ow: OW)
        try checkGemmSize(name, geom)
        let problem = ConvProblem(geom: geom, batch: B, groups: groups, m: O / groups)
        return try convOp(name, x, weight, bias, problem, outShape: [B, O, OH, OW], transposed: false)
    }

    /// The autograd op of conv2d (transposed: false) and conv_transpose2d (true) on a checked
    /// problem. A convolution maps the image to the kernel grid (problem.forward) and its
    /// transpose maps the grid back to the image (problem.backwardData): each is the other's
    /// input gradient. The weight gradient pairs the grid side (y) with the image side (img),
    /// which for the transpose are the output gradient and the input, the other way round.
    /// x: (B, C, H, W), weight: conv or transposed-conv layout, bias: (outShape[1]) -> outShape.
    static func convOp(_ name: String, _ x: Tensor, _ weight: Tensor, _ bias: Tensor?, _ problem: ConvProblem,
                       outShape: [Int], transposed: Bool) throws -> Tensor {
        // src -> dst through the convolution (adjoint false) or its transpose (adjoint true)
        func apply(_ t: DType, _ src: UnsafeRawPointer, _ w: UnsafeRawPointer, _ bias: UnsafeRawPointer?,
                   _ dst: UnsafeMutableRawPointer, adjoint: Bool) throws {
            if adjoint {
                try problem.backwardData(t, y: src, a: w, bias: bias, img: dst)
            } else {
                try problem.forward(t, img: src, a: w, bias: bias, y: dst)
            }
        }
        let inputs = [x, weight] + (bias.map { [$0] } ?? [])
        let xs = x.alias(), ws = weight.alias()
        return try Autograd.op(name, inputs, forward: {
            let out = try Tensor(uninitialized: outShape, dtype: x.dtype)
            try withConvData([x, weight, bias], out) { p, o in
                try apply(x.dtype, p[0]!, p[1]!, p[2], o, adjoint: transposed)
            }
            return out
        }, backward: { g, _, node in
            let gc = try g.to(xs.dtype).contiguous()
            var dx: Tensor? = nil, dw: Tensor? = nil, db: Tensor? = nil
            if node.needs(0) {
                let out = try Tensor(uninitialized: xs.shape, dtype: xs.dtype)
                try withConvData([gc, ws], out) { p, o in
                    try apply(xs.dtype, p[0]!, p[1]!, nil, o, adjoint: !transposed)
                }
                dx = out
            }
            if node.needs(1) {
                let out = try Tensor(uninitialized: ws.shape, dtype: ws.dtype)
                let (grid, image) = transposed ? (xs, gc) : (gc, xs)
                try withConvData([grid, image], out) { p, o in
                    try problem.weightGrad(xs.dtype, y: p[0]!, img: p[1]!, da: o)
                }
                dw = out
            }
            if inputs.count > 2 && node.needs(2) {
                db = try channelSum(gc, batch: outShape[0], channels: outShape[1], plane: outShape[2] * outShape[3])
            }
            return [dx, dw, db]
        }, saved: [xs, ws])
    }

    /// g: (B, C, plane...) contiguous -> (C): the sum over everything but the channel.
    static func channelSum(_ g: Tensor, batch: Int, channels: Int, plane: Int) throws -> Tensor {
        let out = try Tensor(uninitialized: [channels], dtype: g.dtype)
        try withConvData([g], out) { p, o in
            if g.dtype == .f32 {
                convChannelSum(p[0]!.assumingMemoryBound(to: Float.self), batch: batch, channels: channels, plane: plane,
                               o.assumingMemoryBound(to: Float.self))
            } else {
                convChannelSum(p[0]!.assumingMemoryBound(to: Double.self), batch: batch, channels: channels, plane: plane,
                               o.assumingMemoryBound(to: Double.self))
            }
        }
        return out
    }
}
