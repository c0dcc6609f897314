// NNBindings: tide.F, the functional ops of TideNN (each records gradients).
//
//     local y = tide.F.linear(x, w, b)                     -- x: (..., in), w: (out, in)
//     local loss = tide.F.cross_entropy(logits, targets, {ignore_index = -100})
//
// Composite functional ops written in Lua live in lua/nn.lua under the same table.
import CLua
import _CTideShims
import TideCore
import TideNN

enum NNBindings {
    /// The tensor at i, or nil when the argument is none/nil.
    static func optTensor(_ f: LuaFrame, _ i: Int32) throws -> Tensor? {
        f.isNoneOrNil(i) || f.isOptionsTable(i) ? nil : try f.tensor(i)
    }

    static func open(_ vm: LuaVM, _ tide: Int32) {
        let F = vm.subtable(tide, "F", "Functional ops (torch.nn.functional): linear, layer_norm, cross_entropy, conv2d, ...; all differentiable.")
        vm.def(F, "linear", "tide.F.linear(x, weight [, bias]) -> x weight^T + bias. x: (..., in), weight: (out, in), bias: (out).") { f in
            f.push(try TideNN.F.linear(f.tensor(1), f.tensor(2), optTensor(f, 3))); return 1
        }
        lua_settop(vm.L, F - 1)
    }
}
