// ArithmeticBindings: operators and elementwise binary methods on tensors.
//
//     local c = a + b          -- broadcasting; numbers on either side
//     local d = 2 ^ a          -- __pow with the number first
//     a:add_(b)                -- in place, returns a
//     tide.maximum(a, b), a:pow(2), a:remainder(3), a:floor_divide(2)
//
// A Lua number next to a tensor is a weak scalar: it does not widen the tensor's float type
// (f32 + 0.1 stays f32); an integer tensor with a fractional number becomes f32.
import CLua
import _CTideShims
import TideCore

enum ArithmeticBindings {
    /// The operand at `i` as a tensor; numbers take their dtype from `other`.
    static func operand(_ f: LuaFrame, _ i: Int32, other: Tensor?) throws -> Tensor {
        switch f.type(i) {
        case LUA_TUSERDATA: return try f.tensor(i)
        case LUA_TNUMBER:
            let v = try f.number(i)
            let d = other.map { DType.promote($0.dtype, scalarIsIntegral: tide_isinteger(f.L, i) != 0) } ?? (tide_isinteger(f.L, i) != 0 ? .i64 : .f32)
            return try f.exactInteger(i, dtype: d) ?? Tensor.scalar(v, dtype: d)
        case LUA_TBOOLEAN: return try Tensor.scalar(f.boolean(i) ? 1 : 0, dtype: .bool)
        default: throw f.typeError(i, "tensor or number")
        }
    }

    /// tensor op number or number op tensor, when the number can be read in place
    /// (Tensor.flatBinary(_:_:scalar:scalarFirst:)); nil otherwise.
    @inline(__always)
    static func numberOperand(_ f: LuaFrame, _ op: BinaryOp) throws -> Tensor? {
        let t1 = f.type(1), t2 = f.type(2)
        if t1 == LUA_TUSERDATA && t2 == LUA_TNUMBER {
            return try Tensor.flatBinary(op, f.tensor(1), scalar: lua_tonumberx(f.L, 2, nil), scalarFirst: false)
        }
        if t1 == LUA_TNUMBER && t2 == LUA_TUSERDATA {
            return try Tensor.flatBinary(op, f.tensor(2), scalar: lua_tonumberx(f.L, 1, nil), scalarFirst: true)
        }
        return nil
    }

    static func operands(_ f: LuaFrame) throws -> (Tensor, Tensor) {
        let ta = f.type(1) == LUA_TUSERDATA ? try f.tensor(1) : nil
        let tb = f.type(2) == LUA_TUSERDATA ? try f.tensor(2) : nil
        guard ta != nil || tb != nil else { throw f.typeError(1, "tensor") }
        return (try ta ?? operand(f, 1, other: tb), try tb ?? operand(f, 2, other: ta))
    }

    /// div's rounding modes (PyTorch): nil is true division; "trunc" rounds toward zero and
    /// "floor" toward -inf, keeping integer inputs integral.
    static func divide(_ a: Tensor, _ b: Tensor, rounding mode: String?) throws -> Tensor {
        switch mode {
        case nil: return try Tensor.binary(.div, a, b)
        case "floor": return try Tensor.binary(.floordiv, a, b)
        default:
            if a.dtype.isFloatingPoint || b.dtype.isFloatingPoint { return try Tensor.binary(.div, a, b).unary(.trunc) }
            // integers: floor division, plus one where the remainder is nonzero and the signs differ
            let q = try Tensor.binary(.floordiv, a, b), r = try Tensor.binary(.rem, a, b)
            let zero = try Tensor.scalar(0, dtype: .i64)
            let signs = try Tensor.logical(.xor, Tensor.compare(.lt, a, zero), Tensor.compare(.lt, b, zero))
            let fix = try Tensor.logical(.and, signs, Tensor.compare(.ne, r, zero))
            return try Tensor.binary(.add, q, fix.to(q.dtype))
        }
    }

    /// The options a binary method takes (add/sub: alpha; div: rounding_mode), applied.
    static func binaryWithOptions(_ f: LuaFrame, _ op: BinaryOp, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        let allowed = op == .add || op == .sub ? ["alpha"] : op == .div ? ["rounding_mode"] : []
        let o = try MathBindings.options(f, from: 3, allowed)
        if op == .div {
            return try divide(a, b, rounding: f.choiceOption(o, "rounding_mode", ["trunc", "floor"]))
        }
        if let alpha = try f.numberOption(o, "alpha") {
            // a + alpha b: alpha is a weak scalar like a Lua number operand
            let w = try Tensor.scalar(alpha, dtype: DType.promote(b.dtype, scalarIsIntegral: alpha == alpha.rounded()))
            return try Tensor.binary(op, a, Tensor.binary(.mul, b, w))
        }
        return try Tensor.binary(op, a, b)
    }

    static func open(_ vm: LuaVM, metatable mt: Int32, methods m: Int32, tide: Int32) {
        let ops: [(String, BinaryOp)] = [("add", .add), ("sub", .sub), ("mul", .mul), ("div", .div),
                                          ("pow", .pow), ("remainder", .rem),
                                          ("maximum", .maximum), ("minimum", .minimum),
                                          ("floor_divide", .floordiv)]
        let meta: [BinaryOp: String] = [.add: "__add", .sub: "__sub", .mul: "__mul", .div: "__div",
                                        .pow: "__pow", .rem: "__mod", .floordiv: "__idiv"]
        for (name, op) in ops {
            let doc = "x:\(name)(y) / tide.\(name)(x, y): elementwise \(op.rawValue) with broadcasting; y may be a number."
            let fn: (LuaFrame) throws -> Int32 = { f in
                let (a, b) = try operands(f)
                f.push(try binaryWithOptions(f, op, a, b))
                return 1
            }
            let metafn: (LuaFrame) throws -> Int32 = { f in
                if let r = try numberOperand(f, op) { f.push(r); return 1 }
                let (a, b) = try operands(f)
                f.push(try Tensor.binary(op, a, b))
                return 1
            }
            let extra = op == .add || op == .sub ? " Options: {alpha} (x + alpha y)." : op == .div ? " Options: {rounding_mode = 'trunc' | 'floor'}." : ""
            vm.def(m, name, doc + extra, maxArgs: 3, fn)
            vm.def(tide, name, doc + extra, maxArgs: 3, fn)
            if let mm = meta[op] { vm.def(mt, mm, "", metafn) }
            vm.def(m, name + "_", "x:\(name)_(y): in-place \(op.rawValue); returns x.", maxArgs: 3) { f in
                let a = try f.tensor(1)
                try a.checkNoInternalOverlap(name + "_")
                var b = try operand(f, 2, other: a)
                if f.count >= 3 {
                    // alpha / rounding_mode: computed out of place, then written back (apply_
                    // checks the shape and that the result's type fits)
                    try a.apply_(name + "_") { x in try binaryWithOptions(f, op, x, b) }
                    lua_pushvalue(f.L, 1); return 1
                }
                // a source that overlaps the destination in another layout would be read after
                // parts of it were written: read a copy (NumPy's result, not an order-dependent one)
                if b.storage === a.storage && (b.offset != a.offset || b.strides != a.strides || b.shape != a.shape) {
                    b = try b.clone()
                }
                let rt = Tensor.resultType(op, a.dtype, b.dtype)
                guard DType.canCast(rt, to: a.dtype) else {
                    throw LuaError.message("\(name)_: result type \(rt.rawValue) can't be cast to the in-place tensor's type \(a.dtype.rawValue)")
                }
                let shape = try Tensor.broadcastShape(a.shape, b.shape, op: name + "_")
                guard shape == a.shape else {
                    throw LuaError.message("\(name)_: the result shape \(shapeString(shape)) does not match the in-place tensor's shape \(shapeString(a.shape))")
                }
                if Autograd.isRecording(a, b) {
                    try a.apply_(name + "_") { try Tensor.binary(op, $0, b) }
                } else {
                    _ = try Tensor.binary(op, a, b, out: a)
                }
                lua_pushvalue(f.L, 1)
                return 1
            }
        }
        // bitwise ops, as functions, methods, in-place methods and Lua's & | ~ << >> operators
        let bitMeta: [BitwiseOp: String] = [.and: "__band", .or: "__bor", .xor: "__bxor", .leftShift: "__shl", .rightShift: "__shr"]
        for op in BitwiseOp.allCases {
            let name = "bitwise_\(op.rawValue)"
            let doc = "x:\(name)(y) / tide.\(name)(x, y): elementwise bitwise \(op.rawValue.replacingOccurrences(of: "_", with: " ")) of i64 or bool tensors with broadcasting; y may be an integer."
            let fn: (LuaFrame) throws -> Int32 = { f in
                // a float tensor named as itself (the number beside it would take its type)
                for i: Int32 in 1 ... 2 where f.type(i) == LUA_TUSERDATA {
                    let d = try f.tensor(i).dtype
                    if d != .i64 && d != .bool { throw LuaError.message("\(name): expected i64 or bool tensors, got \(d.rawValue) (argument \(i))") }
                }
                let (a, b) = try operands(f)
                f.push(try Tensor.bitwise(op, a, b)); return 1
            }
            vm.def(m, name, doc, maxArgs: 2, fn)
            vm.def(tide, name, doc, maxArgs: 2, fn)
            vm.def(mt, bitMeta[op]!, "", fn)
            vm.def(m, name + "_", "x:\(name)_(y): in place; returns x.", maxArgs: 2) { f in
                let a = try f.tensor(1)
                let b = try operand(f, 2, other: a)
                try a.apply_(name + "_") { try Tensor.bitwise(op, $0, b) }
                lua_pushvalue(f.L, 1); return 1
            }
        }
        let bnot: (LuaFrame) throws -> Int32 = { f in f.push(try f.tensor(1).bitwiseNot()); return 1 }
        vm.def(m, "bitwise_not", "x:bitwise_not() -> ~x: the bit complement of i64, the logical not of bool.", maxArgs: 1, bnot)
        vm.def(tide, "bitwise_not", "tide.bitwise_not(x) -> ~x: the bit complement of i64, the logical not of bool.", maxArgs: 1, bnot)
        vm.def(mt, "__bnot", "", bnot)
        vm.def(m, "bitwise_not_", "x:bitwise_not_(): in place; returns x.", maxArgs: 1) { f in
            let a = try f.tensor(1)
            try a.apply_("bitwise_not_") { try $0.bitwiseNot() }
            lua_pushvalue(f.L, 1); return 1
        }
        // -x on bool is an error, as in torch (it is not the logical not a mask wants)
        let negate: (LuaFrame) throws -> Int32 = { f in
            let a = try f.tensor(1)
            if a.dtype == .bool { throw TensorError(Tensor.boolNegationMessage) }
            f.push(try Tensor.binary(.sub, Tensor.scalar(0, dtype: a.dtype), a))
            return 1
        }
        vm.def(mt, "__unm", "", negate)
        vm.def(m, "neg", "x:neg() -> -x.", maxArgs: 1, negate)
    }
}
