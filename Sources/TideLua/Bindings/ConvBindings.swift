// ConvBindings: tide.F's convolution, pooling and resizing ops (TideNN's Conv, Pool, Upsample),
// all differentiable.
//
//     local y = tide.F.conv2d(x, w, b, {stride = 2, padding = 1})     -- x: (B, C, H, W)
//     local z = tide.F.conv_transpose2d(y, w2, nil, {stride = 2, output_padding = 1})
//     local p = tide.F.max_pool2d(x, 2)                                -- stride = kernel_size
//     local u = tide.F.interpolate(x, {scale_factor = 2, mode = "bilinear"})
//
// Sizes given per spatial dim (stride, padding, dilation, kernel_size, size, ...) take a number
// (the same for every dim) or a table with one value per dim ({h, w}). Unknown option keys
// are errors, so a misspelt option is not silently ignored.
import CLua
import _CTideShims
import TideCore
import TideNN

enum ConvBindings {
    static func open(_ vm: LuaVM, _ tide: Int32) {
        let F = vm.subtable(tide, "F", "Functional ops (torch.nn.functional): linear, layer_norm, cross_entropy, conv2d, ...; all differentiable.")
        vm.def(F, "conv2d", """
            tide.F.conv2d(x, weight [, bias] [, {stride = 1, padding = 0, dilation = 1, groups = 1}]) -> y.
            x: (B, C, H, W), weight: (O, C/groups, kh, kw), bias: (O) -> (B, O, H', W'),
            H' = floor((H + 2 padding - dilation (kh - 1) - 1) / stride) + 1.
            stride, padding, dilation: a number or {h, w}; padding may also be "same" (stride 1) or "valid".
            """) { f in
            let x = try f.tensor(1), w = try f.tensor(2)
            let (bias, o) = try biasAndOptions(f)
            try f.checkOptionKeys(o, ["stride", "padding", "dilation", "groups"])
            f.push(try TideNN.F.conv2d(x, w, bias, stride: ints(f, o, "stride", 2, least: 1, def: 1),
                                       padding: convPadding(f, o, 2), dilation: ints(f, o, "dilation", 2, least: 1, def: 1),
                                       groups: f.optIntField(o, "groups", 1)))
            return 1
        }
        vm.def(F, "conv1d", """
            tide.F.conv1d(x, weight [, bias] [, {stride = 1, padding = 0, dilation = 1, groups = 1}]) -> y.
            x: (B, C, L), weight: (O, C/groups, k), bias: (O) -> (B, O, L'),
            L' = floor((L + 2 padding - dilation (k - 1) - 1) / stride) + 1. padding may be "same" or "valid".
            """) { f in
            let x = try f.tensor(1), w = try f.tensor(2)
            let (bias, o) = try biasAndOptions(f)
            try f.checkOptionKeys(o, ["stride", "padding", "dilation", "groups"])
            f.push(try TideNN.F.conv1d(x, w, bias, stride: ints(f, o, "stride", 1, least: 1, def: 1)[0],
                                       padding: convPadding(f, o, 1), dilation: ints(f, o, "dilation", 1, least: 1, def: 1)[0],
                                       groups: f.optIntField(o, "groups", 1)))
            return 1
        }
        vm.def(F, "conv_transpose2d", """
            tide.F.conv_transpose2d(x, weight [, bias] [, {stride = 1, padding = 0, output_padding = 0, groups = 1, dilation = 1}]) -> y.
            x: (B, C_in, H, W), weight: (C_in, C_out/groups, kh, kw), bias: (C_out) -> (B, C_out, H', W'),
            H' = (H - 1) stride - 2 padding + dilation (kh - 1) + output_padding + 1. The adjoint (gradient) of conv2d.
            """) { f in
            let x = try f.tensor(1), w = try f.tensor(2)
            let (bias, o) = try biasAndOptions(f)
            try f.checkOptionKeys(o, ["stride", "padding", "output_padding", "groups", "dilation"])
            f.push(try TideNN.F.convTranspose2d(x, w, bias, stride: ints(f, o, "stride", 2, least: 1, def: 1),
                                                padding: ints(f, o, "padding", 2, least: 0, def: 0),
                                                outputPadding: ints(f, o, "output_padding", 2, least: 0, def: 0),
                                                dilation: ints(f, o, "dilation", 2, least: 1, def: 1),
                                                groups: f.optIntField(o, "groups", 1)))
            return 1
        }
        vm.def(F, "max_pool2d", """
            tide.F.max_pool2d(x, kernel_size [, {stride = kernel_size, padding = 0, dilation = 1}]) -> y.
            x: (B, C, H, W) -> (B, C, H', W'), the maximum of each window; H' = floor((H + 2 padding - dilation (k - 1) - 1) / stride) + 1.
            Padding (at most half the kernel) never wins; the gradient goes to each window's argmax.
            """) { f in
            let x = try f.tensor(1)
            let k = try kernelSize(f)
            let o = try f.options(3)
            try f.checkOptionKeys(o, ["stride", "padding", "dilation"])
            f.push(try TideNN.F.maxPool2d(x, kernelSize: k, stride: ints(f, o, "stride", 2, least: 1, def: nil) ?? k,
                                          padding: ints(f, o, "padding", 2, least: 0, def: 0),
                                          dilation: ints(f, o, "dilation", 2, least: 1, def: 1)))
            return 1
        }
        vm.def(F, "avg_pool2d", """
            tide.F.avg_pool2d(x, kernel_size [, {stride = kernel_size, padding = 0, count_include_pad = true, divisor_override}]) -> y.
            x: (B, C, H, W) -> (B, C, H', W'), the mean of each window (padding counts as 0; with count_include_pad = false
            the divisor is the number of in-image elements; divisor_override replaces the divisor).
            """) { f in
            let x = try f.tensor(1)
            let k = try kernelSize(f)
            let o = try f.options(3)
            try f.checkOptionKeys(o, ["stride", "padding", "count_include_pad", "divisor_override"])
            let divisor: Int? = try optionIsSet(f, o, "divisor_override") ? f.optIntField(o, "divisor_override", 0) : nil
            f.push(try TideNN.F.avgPool2d(x, kernelSize: k, stride: ints(f, o, "stride", 2, least: 1, def: nil) ?? k,
                                          padding: ints(f, o, "padding", 2, least: 0, def: 0),
                                          countIncludePad: (f.boolOption(o, "count_include_pad") ?? true),
                                          divisorOverride: divisor))
            return 1
        }
        vm.def(F, "interpolate", """
            tide.F.interpolate(x, {size = {h, w} | scale_factor = s, mode = "nearest" | "bilinear", align_corners = false}) -> y.
            x: (B, C, H, W) -> (B, C, H', W') with (H', W') = size or floor((H, W) * scale_factor) (a number or {sh, sw}).
            As torch's interpolate; align_corners only with "bilinear".
            """) { f in
            let x = try f.tensor(1)
            guard f.type(2) == LUA_TTABLE else { throw f.typeError(2, "options table") }
            let o: Int32? = 2
            try f.checkOptionKeys(o, ["size", "scale_factor", "mode", "align_corners"])
            let modeName = try f.stringOption(o, "mode") ?? "nearest"
            guard let mode = TideNN.F.InterpolateMode(rawValue: modeName) else {
                throw LuaError.message("interpolate: mode must be \"nearest\" or \"bilinear\", got \"\(modeName)\"")
            }
            let align: Bool? = try optionIsSet(f, o, "align_corners") ? (f.boolOption(o, "align_corners") ?? false) : nil
            f.push(try TideNN.F.interpolate(x, size: ints(f, o, "size", 2, least: 1, def: nil),
                                            scaleFactor: numbers(f, o, "scale_factor", 2), mode: mode, alignCorners: align))
            return 1
        }
        lua_settop(vm.L, F - 1)
    }

    // MARK: - argument helpers

    /// f(x, weight [, bias] [, opts]): the bias (a tensor, or nil) and the options table's index.
    static func biasAndOptions(_ f: LuaFrame) throws -> (Tensor?, Int32?) {
        if f.type(3) == LUA_TTABLE {
            guard f.isNoneOrNil(4) else { throw f.argError(4, "nothing expected after the options table, got \(f.typeName(4))") }
            return (nil, 3)
        }
        let bias = f.isNoneOrNil(3) ? nil : try f.tensor(3)
        return (bias, try f.options(4))
    }

    /// The positional kernel_size (argument 2) of the pools: a number or {kh, kw}.
    static func kernelSize(_ f: LuaFrame) throws -> [Int] {
        guard f.type(2) == LUA_TNUMBER || f.type(2) == LUA_TTABLE else { throw f.typeError(2, "number or table") }
        return try ints(f, at: 2, 2, what: "kernel_size", least: 1)
    }

    static func optionIsSet(_ f: LuaFrame, _ o: Int32?, _ key: String) -> Bool {
        guard let o = o else { return false }
        defer { tide_pop(f.L, 1) }
        return f.pushField(o, key) != LUA_TNIL
    }

    /// The value at stack index idx as n integers >= least: a number (used for every dim) or a
    /// table of n numbers.
    static func ints(_ f: LuaFrame, at idx: Int32, _ n: Int, what: String, least: Int) throws -> [Int] {
        let idx = lua_absindex(f.L, idx)
        let expected = n == 1 ? "an integer or a table of 1 integer" : "an integer or a table of \(n) integers"
        func one(_ i: Int32) throws -> Int {
            var ok: Int32 = 0
            let v = lua_tointegerx(f.L, i, &ok)
            guard ok != 0, lua_type(f.L, i) == LUA_TNUMBER else {
                let got = lua_type(f.L, i) == LUA_TNUMBER ? "\(lua_tonumberx(f.L, i, nil))" : f.typeName(i)
                throw LuaError.message("\(f.name): \(what) must be \(expected), got \(got)")
            }
            guard v >= least else {
                throw LuaError.message("\(f.name): \(what) must be \(least == 0 ? "non-negative" : "positive"), got \(v)")
            }
            return Int(v)
        }
        if lua_type(f.L, idx) == LUA_TTABLE {
            let len = Int(lua_rawlen(f.L, idx))
            guard len == n else { throw LuaError.message("\(f.name): \(what) must be \(expected), got a table of \(len)") }
            return try (1 ... n).map { k in
                lua_rawgeti(f.L, idx, lua_Integer(k))
                defer { tide_pop(f.L, 1) }
                return try one(-1)
            }
        }
        return Array(repeating: try one(idx), count: n)
    }

    /// Option `key` as n integers (see ints(at:)), or `def` for every dim when absent (nil when def is nil).
    static func ints(_ f: LuaFrame, _ o: Int32?, _ key: String, _ n: Int, least: Int, def: Int?) throws -> [Int]? {
        guard let o = o else { return def.map { Array(repeating: $0, count: n) } }
        defer { tide_pop(f.L, 1) }
        if f.pushField(o, key) == LUA_TNIL { return def.map { Array(repeating: $0, count: n) } }
        return try ints(f, at: -1, n, what: key, least: least)
    }

    static func ints(_ f: LuaFrame, _ o: Int32?, _ key: String, _ n: Int, least: Int, def: Int) throws -> [Int] {
        try ints(f, o, key, n, least: least, def: Optional(def))!
    }

    /// Option `key` as n numbers: a number or a table of n; nil when absent.
    static func numbers(_ f: LuaFrame, _ o: Int32?, _ key: String, _ n: Int) throws -> [Double]? {
        guard let o = o else { return nil }
        defer { tide_pop(f.L, 1) }
        let t = f.pushField(o, key)
        if t == LUA_TNIL { return nil }
        let idx = lua_gettop(f.L)
        let bad = LuaError.message("\(f.name): \(key) must be a number or a table of \(n) numbers, got \(f.typeName(idx))")
        if t == LUA_TNUMBER { return Array(repeating: lua_tonumberx(f.L, idx, nil), count: n) }
        guard t == LUA_TTABLE, Int(lua_rawlen(f.L, idx)) == n else { throw bad }
        return try (1 ... n).map { k in
            defer { tide_pop(f.L, 1) }
            guard lua_rawgeti(f.L, idx, lua_Integer(k)) == LUA_TNUMBER else { throw bad }
            return lua_tonumberx(f.L, -1, nil)
        }
    }

    /// The padding option of a convolution: a number, a table of n, "same" or "valid".
    static func convPadding(_ f: LuaFrame, _ o: Int32?, _ n: Int) throws -> TideNN.F.ConvPadding {
        if let o = o {
            defer { tide_pop(f.L, 1) }
            if f.pushField(o, "padding") == LUA_TSTRING {
                switch try f.string(-1) {
                case "same": return .same
                case "valid": return .valid
                case let s: throw LuaError.message("\(f.name): padding must be a number, a table of \(n), \"same\" or \"valid\", got \"\(s)\"")
                }
            }
        }
        return .explicit(try ints(f, o, "padding", n, least: 0, def: 0))
    }
}
