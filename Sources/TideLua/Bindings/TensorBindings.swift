// TensorBindings: the tensor metatable, its methods, and tide's creation functions.
//
//     local x = tide.zeros(2, 3, {dtype = "f64"})
//     print(x:shape()[2], x:numel(), #x)     --> 3  6  2
//     local y <close> = tide.ones{4}         -- freed at scope exit
//
// Methods live in one table (the metatable's __methods); __index looks strings up there and
// sends everything else to the indexer.
import CLua
import _CTideShims
import TideCore

enum TensorBindings {
    static func open(_ vm: LuaVM, _ tide: Int32) {
        let L = vm.L
        // metatable
        lua_createtable(L, 0, 32)
        let mt = lua_gettop(L)
        vm.setField(mt, "__name", .string("tensor"))
        lua_pushvalue(L, mt)
        vm.tensorMetatable = tide_ref(L)

        lua_createtable(L, 0, 128)
        let methods = lua_gettop(L)
        vm.setDoc(forValueAt: methods, "Tensor methods. `x:method(...)`; dims are 1-based, negatives count from the end.")
        lua_pushstring(L, "__methods"); lua_pushvalue(L, methods); lua_rawset(L, mt)

        // no __gc: Tide's allocator releases a tensor when the collector frees its block
        // (shims.c). __close is C, like that release: no trampoline into Swift.
        tide_set_release { p in if let p = p { Unmanaged<Tensor>.fromOpaque(p).release() } }
        lua_pushstring(L, "__close")
        tide_push_tensor_close(L)
        lua_rawset(L, mt)
        vm.def(mt, "__tostring", "") { f in
            guard let s = TensorUserdata.slot(f.L, at: 1) else { f.push("tensor"); return 1 }
            guard let p = s.pointee else { f.push("[freed tensor]"); return 1 }
            f.push(Unmanaged<Tensor>.fromOpaque(p).takeUnretainedValue().description)
            return 1
        }
        vm.def(mt, "__len", "") { f in f.push(try f.tensor(1).shape.first ?? 0); return 1 }
        // __index: methods are found in C (tide_push_tensor_index); this is the rest
        lua_pushstring(L, "__index")
        vm.pushFunction(name: "__index") { f in
            if f.type(2) == LUA_TSTRING {
                if let key = lua_tolstring(f.L, 2, nil), AutogradBindings.property(f, try f.tensor(1), String(cString: key)) {
                    return 1
                }
                f.pushNil(); return 1
            }
            return try TensorIndexing.get(f)
        }
        tide_push_tensor_index(L, methods)
        lua_rawset(L, mt)
        vm.def(mt, "__newindex", "") { f in
            if f.type(2) == LUA_TSTRING {
                let key = try f.string(2)
                guard try AutogradBindings.setProperty(f, f.tensor(1), key) else {
                    throw LuaError.message("tensor: cannot set field '\(key)' (settable: grad, requires_grad)")
                }
                return 0
            }
            try TensorIndexing.set(f); return 0
        }

        defineMethods(vm, methods)
        ArithmeticBindings.open(vm, metatable: mt, methods: methods, tide: tide)
        MathBindings.open(vm, methods: methods, tide: tide)
        JoinBindings.open(vm, methods: methods, tide: tide)
        IndexingBindings.open(vm, methods: methods, tide: tide)
        AutogradBindings.open(vm, methods: methods, tide: tide)
        lua_settop(L, mt - 1)
        defineCreation(vm, tide)
    }

    static func defineMethods(_ vm: LuaVM, _ m: Int32) {
        vm.def(m, "free", "x:free(): releases this tensor now; later use raises 'use of a freed tensor'. Freeing twice is fine.") { f in
            guard TensorUserdata.slot(f.L, at: 1) != nil else { throw f.typeError(1, "tensor") }
            TensorUserdata.release(f.L, at: 1)
            return 0
        }
        vm.def(m, "shape", "x:shape() -> table of sizes, e.g. {2, 3}.") { f in
            f.push(ints: try f.tensor(1).shape)
            return 1
        }
        vm.def(m, "size", "x:size([d]) -> the size of dim d (1-based, negatives from the end), or all sizes as a table.") { f in
            let t = try f.tensor(1)
            if f.isNoneOrNil(2) {
                f.push(ints: t.shape)
            } else {
                f.push(t.shape[try luaDim(f.integer(2), rank: t.dim, op: "size")])
            }
            return 1
        }
        vm.def(m, "dim", "x:dim() -> number of dims.", maxArgs: 1) { f in f.push(try f.tensor(1).dim); return 1 }
        vm.def(m, "numel", "x:numel() -> number of elements.", maxArgs: 1) { f in f.push(try f.tensor(1).numel); return 1 }
        vm.def(m, "dtype", "x:dtype() -> 'f32', 'f64', 'i64', 'bool', 'c64' or 'c128'.") { f in
            f.push(try f.tensor(1).dtype.rawValue); return 1
        }
        vm.def(m, "stride", "x:stride([d]) -> element strides (table) or the stride of dim d.") { f in
            let t = try f.tensor(1)
            if f.isNoneOrNil(2) {
                f.push(ints: t.strides)
            } else {
                f.push(t.strides[try luaDim(f.integer(2), rank: t.dim, op: "stride")])
            }
            return 1
        }
        vm.def(m, "is_contiguous", "x:is_contiguous() -> true when dense row-major.", maxArgs: 1) { f in
            f.push(try f.tensor(1).isContiguous); return 1
        }
        vm.def(m, "item", "x:item() -> the number in a one-element tensor; re, im (two numbers) for a complex one.", maxArgs: 1) { f in
            let t = try f.tensor(1)
            if t.dtype == .i64 { f.push(Int(try t.intItem())); return 1 }
            if t.dtype.isComplex {
                // Lua has no complex number: both parts, so the imaginary one is not dropped
                let z = try t.complexItem()
                f.push(z.re); f.push(z.im); return 2
            }
            let v = try t.item()
            if t.dtype == .bool { f.push(v != 0) } else { f.push(v) }
            return 1
        }
        vm.def(m, "totable", "x:totable() -> nested Lua tables (numbers; booleans for bool; {re, im} for complex).") { f in
            try pushTable(f, try f.tensor(1))
            return 1
        }
        vm.def(m, "clone", "x:clone() -> a contiguous copy sharing nothing.") { f in f.push(try f.tensor(1).clone()); return 1 }
        vm.def(m, "contiguous", "x:contiguous() -> x if dense row-major, else a dense copy.", maxArgs: 1) { f in
            f.push(try f.tensor(1).contiguous()); return 1
        }
        vm.def(m, "to", "x:to(dtype) -> a copy cast to dtype ('f32', 'f64', 'i64', 'bool', 'c64', 'c128'); x itself if already that type.") { f in
            let t = try f.tensor(1)
            f.push(try t.to(f.dtypeOption(2, default: t.dtype)))
            return 1
        }
        vm.def(m, "type", "x:type([dtype]) -> the dtype name, or a cast copy when dtype is given.") { f in
            let t = try f.tensor(1)
            if f.isNoneOrNil(2) { f.push(t.dtype.rawValue) } else { f.push(try t.to(f.dtypeOption(2, default: t.dtype))) }
            return 1
        }
        vm.def(m, "fill_", "x:fill_(v) -> x with every element set to v.", maxArgs: 2) { f in
            let t = try f.tensor(1)
            if f.type(2) == LUA_TBOOLEAN { try t.fill_(f.boolean(2) ? 1 : 0) }
            else if let v = f.exactInteger(2, dtype: t.dtype) { try t.copy_(from: v) } else { try t.fill_(f.number(2)) }
            lua_pushvalue(f.L, 1)
            return 1
        }
        vm.def(m, "copy_", "x:copy_(src) -> x with src's values written in (src broadcast to x's shape and cast to its dtype; a number fills).") { f in
            let t = try f.tensor(1)
            switch f.type(2) {
            case LUA_TNUMBER: if let v = f.exactInteger(2, dtype: t.dtype) { try t.copy_(from: v) } else { try t.fill_(f.number(2)) }
            case LUA_TBOOLEAN: try t.fill_(f.boolean(2) ? 1 : 0)
            default: try t.copy_(from: f.tensor(2))
            }
            lua_pushvalue(f.L, 1)
            return 1
        }
        vm.def(m, "zero_", "x:zero_() -> x filled with zeros.", maxArgs: 1) { f in
            try f.tensor(1).fill_(0); lua_pushvalue(f.L, 1); return 1
        }
    }

    /// Pushes the tensor's values as nested tables.
    static func pushTable(_ f: LuaFrame, _ t: Tensor) throws {
        let L = f.L
        if t.dtype.isComplex {
            let vals = try t.toComplex()
            var k = 0
            func rec(_ d: Int) {
                if d == t.dim {
                    lua_createtable(L, 2, 0)
                    lua_pushnumber(L, vals[k].re); lua_rawseti(L, -2, 1)
                    lua_pushnumber(L, vals[k].im); lua_rawseti(L, -2, 2)
                    k += 1
                    return
                }
                lua_createtable(L, Int32(t.shape[d]), 0)
                for i in 0 ..< t.shape[d] { rec(d + 1); lua_rawseti(L, -2, lua_Integer(i + 1)) }
            }
            if t.dim == 0 { lua_pushnumber(L, vals[0].re); return }
            rec(0)
            return
        }
        let vals = t.dtype == .i64 ? [] : try t.toDoubles()
        let ivals = t.dtype == .i64 ? try t.contiguous() : t   // i64 read exactly, not through Double
        let ip = ivals.pointer(Int64.self)
        var k = 0
        func pushScalar() {
            switch t.dtype {
            case .i64: lua_pushinteger(L, lua_Integer(ip[k]))
            case .bool: lua_pushboolean(L, vals[k] != 0 ? 1 : 0)
            default: lua_pushnumber(L, vals[k])
            }
            k += 1
        }
        func rec(_ d: Int) {
            if d == t.dim { pushScalar(); return }
            lua_createtable(L, Int32(t.shape[d]), 0)
            for i in 0 ..< t.shape[d] { rec(d + 1); lua_rawseti(L, -2, lua_Integer(i + 1)) }
        }
        rec(0)
    }

    static func defineCreation(_ vm: LuaVM, _ tide: Int32) {
        vm.def(tide, "tensor", "tide.tensor(values [, dtype | {dtype=}]) -> a tensor from a number or nested table (integers -> i64, floats -> f32, booleans -> bool).") { f in
            let d = try f.creationDType(2, default: nil)
            let t = try f.tensorLike(1, dtype: d)
            try f.pushCreated(f.type(1) == LUA_TUSERDATA ? t.clone() : t, options: 2)
            return 1
        }
        func sized(_ name: String, _ doc: String, _ make: @escaping ([Int], DType, LuaFrame, Int32) throws -> Tensor) {
            vm.def(tide, name, doc) { f in
                let (shape, next) = try f.sizes(from: 1)
                let d = try f.creationDType(next, default: .f32)!
                try f.pushCreated(make(shape, d, f, next), options: next)
                return 1
            }
        }
        sized("zeros", "tide.zeros(sizes... [, opts]) -> tensor of zeros. Sizes as numbers or one table; opts.dtype (default f32).") { s, d, _, _ in try Tensor.zeros(s, dtype: d) }
        sized("ones", "tide.ones(sizes... [, opts]) -> tensor of ones.") { s, d, _, _ in try Tensor.ones(s, dtype: d) }
        sized("empty", "tide.empty(sizes... [, opts]) -> uninitialized tensor.") { s, d, _, _ in try Tensor.empty(s, dtype: d) }
        vm.def(tide, "full", "tide.full(sizes, value [, opts]) -> tensor filled with value.") { f in
            let (shape, next) = try f.sizes(from: 1)
            let v = f.type(next) == LUA_TBOOLEAN ? (f.boolean(next) ? 1 : 0) : try f.number(next)
            let def: DType = f.type(next) == LUA_TBOOLEAN ? .bool : .f32
            let d = try f.creationDType(next + 1, default: def)!
            let t = try Tensor.full(shape, v, dtype: d)
            if let exact = f.exactInteger(next, dtype: d) { try t.copy_(from: exact) }
            try f.pushCreated(t, options: next + 1)
            return 1
        }
        for (name, fill) in [("zeros_like", 0.0), ("ones_like", 1.0), ("empty_like", .nan)] {
            vm.def(tide, name, "tide.\(name)(x [, opts]) -> a new tensor with x's shape (and dtype unless opts.dtype).") { f in
                let x = try f.tensor(1)
                let d = try f.creationDType(2, default: x.dtype)!
                try f.pushCreated(fill.isNaN ? Tensor.empty(x.shape, dtype: d) : Tensor.full(x.shape, fill, dtype: d), options: 2)
                return 1
            }
        }
        vm.def(tide, "full_like", "tide.full_like(x, value [, opts]) -> a tensor with x's shape filled with value.") { f in
            let x = try f.tensor(1)
            try f.pushCreated(Tensor.full(x.shape, f.number(2), dtype: f.creationDType(3, default: x.dtype)!), options: 3)
            return 1
        }
        vm.def(tide, "arange", "tide.arange([start,] end [, step] [, opts]) -> values start, start+step, ... below end (end excluded, as in NumPy). Integer arguments give i64.") { f in
            var nums: [Double] = []
            var allInt = true
            var k: Int32 = 1
            while f.type(k) == LUA_TNUMBER && nums.count < 3 {
                nums.append(try f.number(k))
                if tide_isinteger(f.L, k) == 0 { allInt = false }
                k += 1
            }
            guard !nums.isEmpty else { throw f.typeError(1, "number") }
            let (s, e, st) = nums.count == 1 ? (0, nums[0], 1) : (nums[0], nums[1], nums.count > 2 ? nums[2] : 1)
            let dtype = try f.creationDType(k, default: allInt ? .i64 : .f32)!
            if allInt {
                // exact beyond 2^53: the integers as Lua holds them
                let ints = (1 ... Int32(nums.count)).map { Int64(lua_tointegerx(f.L, $0, nil)) }
                let (si, ei, sti): (Int64, Int64, Int64) = ints.count == 1 ? (0, ints[0], 1) : (ints[0], ints[1], ints.count > 2 ? ints[2] : 1)
                try f.pushCreated(Tensor.arange(integers: si, ei, sti, dtype: dtype), options: k)
                return 1
            }
            try f.pushCreated(Tensor.arange(s, e, st, dtype: dtype), options: k)
            return 1
        }
        vm.def(tide, "linspace", "tide.linspace(start, end, steps [, opts]) -> steps values from start to end inclusive.") { f in
            try f.pushCreated(Tensor.linspace(f.number(1), f.number(2), f.integer(3), dtype: f.creationDType(4, default: .f32)!), options: 4)
            return 1
        }
        vm.def(tide, "eye", "tide.eye(n [, m] [, opts]) -> (n, m) identity.") { f in
            let n = try f.integer(1)
            let m = f.type(2) == LUA_TNUMBER ? try f.integer(2) : nil
            let k: Int32 = m == nil ? 2 : 3
            try f.pushCreated(Tensor.eye(n, m, dtype: f.creationDType(k, default: .f32)!), options: k)
            return 1
        }
        vm.def(tide, "is_tensor", "tide.is_tensor(v) -> true when v is a live tensor.") { f in
            f.push(TensorUserdata.tensor(f.L, at: 1) != nil); return 1
        }
    }
}
