// Tensor+Bitwise: bitwise and, or, xor, shifts and not on integer and bool tensors (torch's
// bitwise_* ops, and Lua's & | ~ << >> operators on tensors).
//
//     a: (2, 3) i64, b: (3,) i64 -> (2, 3) i64      broadcasting, as the other binary ops
//     bool op bool -> bool (and/or/xor are the logical ops); bool with i64 -> i64
//
// Shifts follow NumPy on 64-bit integers: a left shift by 64 or more (or by a negative
// count) gives 0, and a right shift is arithmetic, so by 64 or more it gives 0 or -1.
// Floats and complex numbers have no bits to operate on here: an error, as in torch.

public enum BitwiseOp: String, Sendable, CaseIterable {
    case and, or, xor
    case leftShift = "left_shift", rightShift = "right_shift"
}

extension Tensor {
    /// a op b elementwise with broadcasting; i64 or bool operands (bool and bool stays bool
    /// for and/or/xor).
    public static func bitwise(_ op: BitwiseOp, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        let name = "bitwise_\(op.rawValue)"
        for t in [a, b] where t.dtype != .i64 && t.dtype != .bool {
            throw TensorError("\(name): expected i64 or bool tensors, got \(a.dtype.rawValue) and \(b.dtype.rawValue)")
        }
        let shift = op == .leftShift || op == .rightShift
        if a.dtype == .bool && b.dtype == .bool && !shift {
            return try logical(op == .and ? .and : op == .or ? .or : .xor, a, b)
        }
        let shape = try broadcastShape(a.shape, b.shape, op: name)
        let A = try a.to(.i64), B = try b.to(.i64)
        let sa = try A.broadcastStrides(to: shape, op: name), sb = try B.broadcastStrides(to: shape, op: name)
        let out = try Tensor(uninitialized: shape, dtype: .i64)
        let pa = A.storage.bytes.assumingMemoryBound(to: Int64.self), pb = B.storage.bytes.assumingMemoryBound(to: Int64.self)
        let po = out.pointer(Int64.self)
        func run(_ f: (Int64, Int64) -> Int64) {
            StridedLoop.rows(shape, [out.strides, sa, sb], [0, A.offset, B.offset]) { off, n, inner in
                var x = pa + off[1], y = pb + off[2]
                let o = po + off[0]
                for j in 0 ..< n {
                    o[j] = f(x.pointee, y.pointee)
                    x += inner[1]; y += inner[2]
                }
            }
        }
        switch op {
        case .and: run { $0 & $1 }
        case .or: run { $0 | $1 }
        case .xor: run { $0 ^ $1 }
        case .leftShift: run { $1 < 0 || $1 >= 64 ? 0 : $0 << $1 }
        case .rightShift: run { $1 < 0 || $1 >= 64 ? ($0 < 0 ? -1 : 0) : $0 >> $1 }
        }
        return out
    }

    /// ~x: bit complement of i64, logical not of bool.
    public func bitwiseNot() throws -> Tensor {
        switch dtype {
        case .i64: return try mapElements(Int64.self, Int64.self) { ~$0 }
        case .bool: return try logicalNot()
        default: throw TensorError("bitwise_not: expected an i64 or bool tensor, got \(dtype.rawValue)")
        }
    }
}
