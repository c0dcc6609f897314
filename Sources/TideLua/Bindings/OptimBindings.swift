// OptimBindings: the Swift update kernels behind tide.optim (private helpers; the public
// optimizers and schedulers are Lua, in lua/optim.lua).
//
//     tide.optim._adam_step_(p, g, exp_avg, exp_avg_sq, {lr = 1e-3, beta1 = 0.9, beta2 = 0.999,
//         eps = 1e-8, weight_decay = 0, step = 1, decoupled = false, amsgrad = false})
//     tide.optim._sgd_step_(p, g, momentum_buffer_or_nil, {lr = 0.1, momentum = 0.9, first = true})
//     tide.optim._lion_step_(p, g, exp_avg, {lr = 1e-4, beta1 = 0.9, beta2 = 0.99})
//
// Each writes p and the state tensors in place (same objects, versions bumped) and returns p.
import CLua
import _CTideShims
import TideCore
import TideNN

enum OptimBindings {
    /// A number option that must be present.
    static func required(_ f: LuaFrame, _ o: Int32, _ key: String) throws -> Double {
        let v = try f.optField(o, key, Double.nan)
        if v.isNaN {
            f.pushField(o, key)
            defer { tide_pop(f.L, 1) }
            if lua_type(f.L, -1) == LUA_TNIL { throw LuaError.message("\(f.name): option '\(key)' is required") }
        }
        return v
    }

    static func optionsTable(_ f: LuaFrame, _ i: Int32) throws -> Int32 {
        guard f.type(i) == LUA_TTABLE else { throw f.typeError(i, "options table") }
        return lua_absindex(f.L, i)
    }

    static func open(_ vm: LuaVM, _ tide: Int32) {
        let optim = vm.subtable(tide, "optim", "Optimizers (SGD, Adam, AdamW, Lion), gradient clipping and learning-rate schedulers (tide.optim.lr_scheduler), as torch.optim.")

        vm.def(optim, "_adam_step_", "tide.optim._adam_step_(p, grad, exp_avg, exp_avg_sq, {lr, beta1, beta2, eps, weight_decay, step, decoupled, amsgrad, maximize, max_exp_avg_sq}) -> p: one fused Adam/AdamW update in place (private; used by tide.optim.Adam/AdamW).") { f in
            let p = try f.tensor(1), g = try f.tensor(2), m = try f.tensor(3), v = try f.tensor(4)
            let o = try optionsTable(f, 5)
            var c = Optim.AdamConfig(lr: try required(f, o, "lr"), step: try f.optIntField(o, "step", 0))
            c.beta1 = try f.optField(o, "beta1", c.beta1)
            c.beta2 = try f.optField(o, "beta2", c.beta2)
            c.eps = try f.optField(o, "eps", c.eps)
            c.weightDecay = try f.optField(o, "weight_decay", 0.0)
            c.decoupled = f.optField(o, "decoupled", false)
            c.amsgrad = f.optField(o, "amsgrad", false)
            c.maximize = f.optField(o, "maximize", false)
            let vmax = try f.tensorOption(o, "max_exp_avg_sq")
            try Optim.adamStep_(p, grad: g, expAvg: m, expAvgSq: v, maxExpAvgSq: vmax, c)
            lua_pushvalue(f.L, 1); return 1
        }

        vm.def(optim, "_sgd_step_", "tide.optim._sgd_step_(p, grad, momentum_buffer|nil, {lr, momentum, dampening, nesterov, weight_decay, maximize, first}) -> p: one fused SGD update in place (private; used by tide.optim.SGD). first = true sets the buffer to the gradient.") { f in
            let p = try f.tensor(1), g = try f.tensor(2)
            let buf = f.isNoneOrNil(3) ? nil : try f.tensor(3)
            let o = try optionsTable(f, 4)
            var c = Optim.SGDConfig(lr: try required(f, o, "lr"))
            c.momentum = try f.optField(o, "momentum", 0.0)
            c.dampening = try f.optField(o, "dampening", 0.0)
            c.weightDecay = try f.optField(o, "weight_decay", 0.0)
            c.nesterov = f.optField(o, "nesterov", false)
            c.maximize = f.optField(o, "maximize", false)
            c.firstStep = f.optField(o, "first", false)
            try Optim.sgdStep_(p, grad: g, momentumBuffer: buf, c)
            lua_pushvalue(f.L, 1); return 1
        }

        vm.def(optim, "_lion_step_", "tide.optim._lion_step_(p, grad, exp_avg, {lr, beta1, beta2, weight_decay}) -> p: one fused Lion update in place (private; used by tide.optim.Lion).") { f in
            let p = try f.tensor(1), g = try f.tensor(2), m = try f.tensor(3)
            let o = try optionsTable(f, 4)
            var c = Optim.LionConfig(lr: try required(f, o, "lr"))
            c.beta1 = try f.optField(o, "beta1", c.beta1)
            c.beta2 = try f.optField(o, "beta2", c.beta2)
            c.weightDecay = try f.optField(o, "weight_decay", 0.0)
            try Optim.lionStep_(p, grad: g, expAvg: m, c)
            lua_pushvalue(f.L, 1); return 1
        }

        vm.def(optim, "_sumsq", "tide.optim._sumsq(t) -> sum of t^2 over every element (a number, accumulated in double); used by clip_grad_norm_.") { f in
            f.push(try Optim.sumOfSquares(f.tensor(1))); return 1
        }

        vm.def(optim, "_tensor_id", "tide.optim._tensor_id(t) -> an integer naming the tensor object (two userdata of one tensor share it); used to find parameters listed twice.") { f in
            let t = try f.tensor(1)
            f.push(Int(bitPattern: Unmanaged.passUnretained(t).toOpaque())); return 1
        }
        lua_settop(vm.L, optim - 1)
    }
}
