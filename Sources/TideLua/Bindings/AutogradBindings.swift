// AutogradBindings: gradients from Lua.
//
//     local w = tide.randn(3, 2):requires_grad_()
//     local loss = (x:matmul(w)):tanh():sum()
//     loss:backward()                    -- w.grad: (3, 2); accumulates across calls
//     tide.no_grad(function() w:sub_(w.grad * 0.1) end)
//     local gw = tide.autograd.grad(loss2, w)          -- a table of gradients, .grad untouched
//     w.grad = nil                                     -- clears it
//
// Tensor properties (read with t.name): grad, requires_grad, is_leaf, grad_fn (the op name).
// tide.no_grad, tide.enable_grad and tide.autograd.gradcheck are Lua (lua/autograd.lua).
import CLua
import _CTideShims
import TideCore

enum AutogradBindings {
    /// t.<key> for the tensor properties; false when key is not one of them.
    static func property(_ f: LuaFrame, _ t: Tensor, _ key: String) -> Bool {
        switch key {
        case "grad": if let g = t.grad { f.push(g) } else { f.pushNil() }
        case "requires_grad": f.push(t.requiresGrad)
        case "is_leaf": f.push(t.isLeaf)
        case "grad_fn": if let n = t.gradFn { f.push(n.name) } else { f.pushNil() }
        default: return false
        }
        return true
    }

    /// t.<key> = value for the writable properties; false when key is not one of them.
    static func setProperty(_ f: LuaFrame, _ t: Tensor, _ key: String) throws -> Bool {
        switch key {
        case "grad":
            if f.isNoneOrNil(3) { t.grad = nil; return true }
            let g = try f.tensor(3)
            guard g.shape == t.shape else {
                throw LuaError.message("grad: assigned gradient has shape \(shapeString(g.shape)) but the tensor has shape \(shapeString(t.shape))")
            }
            t.grad = g
        case "requires_grad": try t.requiresGrad_(f.boolean(3))
        default: return false
        }
        return true
    }

    /// outputs: one tensor or a table of tensors at stack index i.
    static func tensors(_ f: LuaFrame, _ i: Int32, _ what: String) throws -> [Tensor] {
        if f.type(i) == LUA_TUSERDATA { return [try f.tensor(i)] }
        guard f.type(i) == LUA_TTABLE else { throw f.typeError(i, "tensor or table of tensors (\(what))") }
        let L = f.L, t = lua_absindex(L, i)
        var out: [Tensor] = []
        let n = Int(lua_rawlen(L, t))
        for k in 0 ..< n {
            lua_rawgeti(L, t, lua_Integer(k + 1))
            defer { tide_pop(L, 1) }
            guard let x = TensorUserdata.tensor(L, at: -1) else {
                throw f.argError(i, "\(what)[\(k + 1)] must be a tensor, got \(f.typeName(-1))")
            }
            out.append(x)
        }
        return out
    }

    /// Tensors (or nils) of the table field `key` of the options at o, aligned with n outputs.
    static func optionalTensors(_ f: LuaFrame, _ o: Int32?, _ key: String, count n: Int) throws -> [Tensor?] {
        guard let o = o else { return [] }
        defer { tide_pop(f.L, 1) }
        switch f.pushField(o, key) {
        case LUA_TNIL: return []
        case LUA_TUSERDATA: return [try f.tensor(-1)]
        case LUA_TTABLE:
            let L = f.L, t = lua_absindex(L, -1)
            return try (0 ..< n).map { k in
                lua_rawgeti(L, t, lua_Integer(k + 1))
                defer { tide_pop(L, 1) }
                return lua_type(L, -1) == LUA_TNIL ? nil : try f.tensor(-1)
            }
        default: throw LuaError.message("\(f.name): option '\(key)' must be a tensor or a table of tensors, got \(f.typeName(-1))")
        }
    }

    static func open(_ vm: LuaVM, methods m: Int32, tide: Int32) {
        vm.def(m, "requires_grad_", "x:requires_grad_([flag = true]) -> x, now recording gradients (f32/f64 leaves).") { f in
            try f.tensor(1).requiresGrad_(f.isNoneOrNil(2) ? true : f.boolean(2))
            lua_pushvalue(f.L, 1); return 1
        }
        vm.def(m, "detach", "x:detach() -> the same data (shared storage) outside any graph.") { f in
            f.push(try f.tensor(1).detach()); return 1
        }
        vm.def(m, "retain_grad", "x:retain_grad(): keep this non-leaf's gradient in x.grad after backward.") { f in
            try f.tensor(1).retainGrad(); return 0
        }
        // a misspelt option is an error; create_graph = true (higher-order gradients) is refused
        // rather than ignored, since the gradients it returns would carry no graph
        func checkGraphOptions(_ f: LuaFrame, _ o: Int32?, _ allowed: [String]) throws {
            try f.checkOptionKeys(o, allowed)
            if try f.boolOption(o, "create_graph") == true {
                throw LuaError.message("\(f.name): create_graph = true (higher-order gradients) is not supported; gradients are computed without a graph")
            }
        }
        vm.def(m, "backward", "y:backward([grad] [, {retain_graph = false}]): accumulates dy/dleaf into every leaf's .grad. grad defaults to 1 for a one-element y. The graph is freed unless retain_graph.") { f in
            let y = try f.tensor(1)
            let g = f.type(2) == LUA_TUSERDATA ? try f.tensor(2) : nil
            let o = MathBindings.optionsArg(f, from: 2)
            try checkGraphOptions(f, o, ["retain_graph", "create_graph"])
            try Autograd.backward([y], grads: [g], retainGraph: f.optField(o, "retain_graph", false))
            return 0
        }
        let ag = vm.subtable(tide, "autograd", "Reverse-mode autograd: tide.autograd.grad, tide.autograd.gradcheck; x:backward(), x.grad.")
        vm.def(ag, "grad", "tide.autograd.grad(outputs, inputs [, {grad_outputs, retain_graph, allow_unused = true}]) -> table of d(outputs)/d(inputs) (nil for unreachable inputs). Leaves' .grad are untouched.") { f in
            let outs = try tensors(f, 1, "outputs"), ins = try tensors(f, 2, "inputs")
            let o = MathBindings.optionsArg(f, from: 3)
            try checkGraphOptions(f, o, ["grad_outputs", "retain_graph", "allow_unused", "create_graph"])
            let gouts = try optionalTensors(f, o, "grad_outputs", count: outs.count)
            let gs = try Autograd.backward(outs, grads: gouts, inputs: ins,
                                           retainGraph: f.optField(o, "retain_graph", false),
                                           allowUnused: f.optField(o, "allow_unused", true))
            lua_createtable(f.L, Int32(gs.count), 0)
            for (k, g) in gs.enumerated() {
                if let g = g { f.push(g) } else { f.pushNil() }
                lua_rawseti(f.L, -2, lua_Integer(k + 1))
            }
            return 1
        }
        vm.def(tide, "is_grad_enabled", "tide.is_grad_enabled() -> whether ops record gradients (false inside tide.no_grad).") { f in
            f.push(Autograd.isEnabled); return 1
        }
        vm.def(tide, "set_grad_enabled", "tide.set_grad_enabled(flag) -> the previous setting; turns recording on or off.") { f in
            let old = Autograd.isEnabled
            Autograd.isEnabled = f.boolean(1)
            f.push(old); return 1
        }
        lua_settop(vm.L, ag - 1)
    }
}
