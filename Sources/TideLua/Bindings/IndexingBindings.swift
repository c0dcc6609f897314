// IndexingBindings: index-driven ops, sorting, scans, products and norms from Lua.
// Every index a Lua user passes or gets back is 1-based; the shift to 0-based is here.
//
//     x:gather(2, idx), x:scatter(2, idx, src), x:scatter_add(2, idx, src), x:index_select(1, idx)
//     tide.one_hot(labels, 10), x:repeat_interleave(2 [, dim])
//     x:tril(), x:triu(1), x:flip(1), x:roll(1, 1)
//     local v, i = x:sort(2, {descending = true}); x:argsort(); x:topk(3); x:unique()
//     x:cumsum(1), x:cumprod(1)
//     tide.dot(a, b), tide.vdot(a, b), tide.mv(m, v), tide.outer(a, b), tide.kron(a, b)
//     tide.einsum("ij,jk->ik", a, b)
//     x:norm(), x:norm(1, 2, {keepdim = true}), x:norm("fro"), x:norm(math.huge)
//     tide.lerp(a, b, 0.3), tide.multinomial(p, 5, {replacement = true})
import CLua
import _CTideShims
import TideCore

enum IndexingBindings {
    static func oneBased(_ t: Tensor) throws -> Tensor { try Tensor.binary(.add, t, Tensor.scalar(1, dtype: .i64)) }

    /// A 1-based i64 index tensor at argument i, returned 0-based.
    static func zeroBased(_ f: LuaFrame, _ i: Int32) throws -> Tensor {
        let t = try f.tensor(i)
        guard t.dtype == .i64 else { throw f.argError(i, "index tensor must be i64, got \(t.dtype.rawValue)") }
        // math.mininteger - 1 would wrap to the largest index
        if t.numel > 0, try t.reduce(.amin, dims: nil).int64Item() == Int64.min {
            throw LuaError.message("\(f.name): index \(Int64.min) is out of range (indices are 1-based)")
        }
        return try Tensor.binary(.sub, t, Tensor.scalar(1, dtype: .i64))
    }

    /// The 1-based coordinates of x's nonzero (true) elements in row-major order: an (n, dim)
    /// i64 tensor, or with asTuple one (n) tensor per dim as separate results.
    static func pushNonzero(_ f: LuaFrame, _ x: Tensor, asTuple: Bool) throws -> Int32 {
        let coords = try x.nonzeroCoordinates().map(oneBased)
        if asTuple {
            for c in coords { f.push(c) }
            return Int32(coords.count)
        }
        var n = coords.first?.numel ?? 0
        if x.dim == 0 { n = try x.to(.bool).item() != 0 ? 1 : 0 }   // a 0-d x: one row or none
        f.push(coords.isEmpty ? try Tensor.zeros([n, 0], dtype: .i64) : try Tensor.stack(coords, dim: 1))
        return 1
    }

    /// The distinct slices of x along d in lexicographic order, with each slice's 0-based
    /// group (inverse) and the group sizes (counts); NaN sorts last, and slices holding NaN
    /// are never merged.
    static func uniqueSlices(_ x: Tensor, dim d: Int) throws -> (Tensor, Tensor, Tensor) {
        guard !x.dtype.isComplex else { throw TensorError("unique: dim is not supported for complex tensors (no order)") }
        let n = x.shape[d]
        let rest = (0 ..< x.dim).filter { $0 != d }
        let width = rest.reduce(1) { $0 * x.shape[$1] }
        if n == 0 || width == 0 {
            let idx = try Tensor.arange(0, Double(Swift.min(n, 1)), 1, dtype: .i64)
            return (try x.indexSelect(d, idx), try Tensor.zeros([n], dtype: .i64), try Tensor.full([idx.numel], Double(n), dtype: .i64))
        }
        let rows = try x.permuted([d] + rest).reshaped([n, width])
        let isInt = x.dtype == .i64
        let data = try rows.to(isInt ? .i64 : .f64).contiguous(force: true)
        func less(_ a: Int, _ b: Int) -> Bool {   // a's slice before b's
            if isInt {
                let p = data.pointer(Int64.self)
                for j in 0 ..< width where p[a * width + j] != p[b * width + j] { return p[a * width + j] < p[b * width + j] }
            } else {
                let p = data.pointer(Double.self)
                for j in 0 ..< width {
                    let u = p[a * width + j], v = p[b * width + j]
                    if u == v || (u.isNaN && v.isNaN) { continue }
                    if u.isNaN { return false }
                    if v.isNaN { return true }
                    return u < v
                }
            }
            return false
        }
        // one group per run of equal slices; a slice holding NaN equals nothing, not even
        // its own copy (NumPy and torch keep each such slice)
        func equal(_ a: Int, _ b: Int) -> Bool {
            if isInt {
                let p = data.pointer(Int64.self)
                for j in 0 ..< width where p[a * width + j] != p[b * width + j] { return false }
            } else {
                let p = data.pointer(Double.self)
                for j in 0 ..< width where !(p[a * width + j] == p[b * width + j]) { return false }
            }
            return true
        }
        let order = (0 ..< n).sorted { less($0, $1) || (!less($1, $0) && $0 < $1) }
        var firsts: [Double] = [], counts: [Double] = []
        var inverse = [Double](repeating: 0, count: n)
        for (k, i) in order.enumerated() {
            if k == 0 || !equal(order[k - 1], i) { firsts.append(Double(i)); counts.append(0) }
            counts[counts.count - 1] += 1
            inverse[i] = Double(firsts.count - 1)
        }
        let values = try x.indexSelect(d, Tensor(array: firsts, shape: [firsts.count], dtype: .i64))
        return (values, try Tensor(array: inverse, shape: [n], dtype: .i64), try Tensor(array: counts, shape: [counts.count], dtype: .i64))
    }

    static func pushList(_ f: LuaFrame, _ ts: [Tensor]) {
        lua_createtable(f.L, Int32(ts.count), 0)
        for (k, t) in ts.enumerated() { f.push(t); lua_rawseti(f.L, -2, lua_Integer(k + 1)) }
    }

    static func open(_ vm: LuaVM, methods m: Int32, tide: Int32) {
        func both(_ name: String, _ doc: String, maxArgs: Int32? = nil, _ fn: @escaping (LuaFrame) throws -> Int32) {
            vm.def(m, name, "x:" + doc, maxArgs: maxArgs, fn)
            vm.def(tide, name, "tide." + doc.replacingOccurrences(of: name + "(", with: name + "(x, ").replacingOccurrences(of: "(x, )", with: "(x)"), maxArgs: maxArgs, fn)
        }
        both("gather", "gather(dim, index) -> out[..i..] = x[..index[..i..]..] along dim; index: i64, 1-based.") { f in
            let x = try f.tensor(1)
            f.push(try x.gather(luaDim(f.integer(2), rank: x.dim, op: "gather"), zeroBased(f, 3))); return 1
        }
        // scatter's reduce= option (torch): "add" or "multiply" at places hit more than once
        func scatterOp(_ f: LuaFrame, _ name: String, _ add: Bool, _ x: Tensor, _ d: Int, _ idx: Tensor, _ src: Tensor) throws -> Tensor {
            let o = try MathBindings.options(f, from: 5, add ? [] : ["reduce"])
            switch try f.stringOption(o, "reduce") {
            case nil: return try x.scatter(d, idx, src, add: add)
            case "add": return try x.scatter(d, idx, src, add: true)
            case "multiply": return try x.scatterReduce(d, idx, src, .prod)
            case let r?: throw LuaError.message("\(name): unknown reduce '\(r)' (expected add or multiply)")
            }
        }
        for (name, add) in [("scatter", false), ("scatter_add", true)] {
            both(name, "\(name)(dim, index, src\(add ? "" : " [, {reduce = \"add\" | \"multiply\"}]")) -> a copy of x with src \(add ? "added" : "written") at 1-based index along dim (src may be a number).") { f in
                let x = try f.tensor(1)
                let d = try luaDim(f.integer(2), rank: x.dim, op: name)
                let src = try ArithmeticBindings.operand(f, 4, other: x)
                f.push(try scatterOp(f, name, add, x, d, zeroBased(f, 3), src)); return 1
            }
            vm.def(m, name + "_", "x:\(name)_(dim, index, src\(add ? "" : " [, {reduce =}]")): in place; returns x.") { f in
                let x = try f.tensor(1)
                let d = try luaDim(f.integer(2), rank: x.dim, op: name + "_")
                let src = try ArithmeticBindings.operand(f, 4, other: x)
                let idx = try zeroBased(f, 3)
                try x.apply_(name + "_") { try scatterOp(f, name + "_", add, $0, d, idx, src) }
                lua_pushvalue(f.L, 1); return 1
            }
        }
        // torch.scatter_reduce(input, dim, index, src, reduce, *, include_self=True)
        func scatterReduce(_ f: LuaFrame, _ name: String, _ x: Tensor) throws -> Tensor {
            let d = try luaDim(f.integer(2), rank: x.dim, op: name)
            let src = try ArithmeticBindings.operand(f, 4, other: x)
            let r = try f.string(5)
            guard let reduce = ScatterReduction(rawValue: r) else {
                throw LuaError.message("\(name): unknown reduce '\(r)' (expected sum, prod, mean, amax or amin)")
            }
            let o = try MathBindings.options(f, from: 6, ["include_self"])
            return try x.scatterReduce(d, zeroBased(f, 3), src, reduce, includeSelf: f.optField(o, "include_self", true))
        }
        both("scatter_reduce", "scatter_reduce(dim, index, src, reduce [, {include_self = true}]) -> a copy of x with src reduced (\"sum\", \"prod\", \"mean\", \"amax\", \"amin\") into the places at 1-based index along dim.") { f in
            f.push(try scatterReduce(f, "scatter_reduce", f.tensor(1))); return 1
        }
        vm.def(m, "scatter_reduce_", "x:scatter_reduce_(dim, index, src, reduce [, {include_self = true}]): in place; returns x.") { f in
            let x = try f.tensor(1)
            try x.apply_("scatter_reduce_") { try scatterReduce(f, "scatter_reduce_", $0) }
            lua_pushvalue(f.L, 1); return 1
        }
        both("index_select", "index_select(dim, index) -> the slices of dim at 1-based i64 index (any shape).") { f in
            let x = try f.tensor(1)
            f.push(try x.indexSelect(luaDim(f.integer(2), rank: x.dim, op: "index_select"), zeroBased(f, 3))); return 1
        }
        both("masked_select", "masked_select(mask) -> 1-d copy of the elements where the bool mask (broadcast) is true.") { f in
            f.push(try f.tensor(1).maskedSelect(f.tensor(2))); return 1
        }
        vm.def(tide, "one_hot", "tide.one_hot(labels [, classes]) -> (..., classes) i64; labels are 1-based i64 (classes defaults to the largest label).") { f in
            let labels = try zeroBased(f, 1)
            let k = try f.optInteger(2, -1)
            guard k >= 0 || k == -1 else { throw f.argError(2, "classes must be >= 0, or -1 for the largest label, got \(k)") }
            f.push(try Tensor.oneHot(labels, classes: k)); return 1
        }
        both("repeat_interleave", "repeat_interleave(repeats [, dim]) -> each slice repeated; repeats is a number, a table of counts or an i64 tensor of them; without dim the tensor is flattened.") { f in
            let x = try f.tensor(1)
            let d = f.isNoneOrNil(3) ? nil : try luaDim(f.integer(3), rank: x.dim, op: "repeat_interleave")
            if f.type(2) == LUA_TUSERDATA {
                let r = try f.tensor(2)
                guard r.dtype == .i64, r.dim <= 1 else {
                    throw f.argError(2, "expected repeats as an i64 tensor of 0 or 1 dims, got \(r.dtype.rawValue) of shape \(shapeString(r.shape))")
                }
                let c = try r.contiguous(force: true)
                let counts = (0 ..< c.numel).map { Int(c.pointer(Int64.self)[$0]) }
                // a one-element repeats tensor applies to every slice (torch broadcasts it)
                f.push(r.numel == 1 ? try x.repeatInterleave(counts[0], dim: d) : try x.repeatInterleave(counts, dim: d))
            } else if f.type(2) == LUA_TTABLE {
                let (r, _) = try MathBindings.signedList(f, 2)
                f.push(try x.repeatInterleave(r, dim: d))
            } else {
                f.push(try x.repeatInterleave(f.integer(2), dim: d))
            }
            return 1
        }
        both("tril", "tril([k = 0]) -> elements on and below diagonal k of the last two dims; the rest zero.") { f in
            f.push(try f.tensor(1).tril(f.optInteger(2, 0))); return 1
        }
        both("triu", "triu([k = 0]) -> elements on and above diagonal k of the last two dims; the rest zero.") { f in
            f.push(try f.tensor(1).triu(f.optInteger(2, 0))); return 1
        }
        both("flip", "flip(dims) -> a copy reversed along dims (a number or a table).") { f in
            let x = try f.tensor(1)
            guard let ds = try MathBindings.dims(f, 2, rank: x.dim, op: "flip") else { throw f.typeError(2, "number or table of dims") }
            f.push(try x.flip(ds)); return 1
        }
        both("roll", "roll(shift [, dim]) -> elements shifted along dim, wrapping around (flattened when dim is omitted); roll({s1, s2, ...}, {d1, d2, ...}) shifts several dims.") { f in
            let x = try f.tensor(1)
            if f.type(2) == LUA_TTABLE {
                let (shifts, _) = try MathBindings.signedList(f, 2)
                guard f.type(3) == LUA_TTABLE else { throw f.argError(3, "expected a table of dims to go with the table of shifts, got \(f.typeName(3))") }
                let (ds, _) = try MathBindings.signedList(f, 3)
                guard ds.count == shifts.count else {
                    throw f.argError(3, "expected as many dims as shifts (\(shifts.count)), got \(ds.count)")
                }
                var r = x
                for (s, dd) in zip(shifts, ds) { r = try r.roll(s, dim: luaDim(dd, rank: x.dim, op: "roll")) }
                f.push(r); return 1
            }
            let d = f.isNoneOrNil(3) ? nil : try luaDim(f.integer(3), rank: x.dim, op: "roll")
            f.push(try x.roll(f.integer(2), dim: d)); return 1
        }
        both("nonzero", "nonzero([{as_tuple = false}]) -> (n, dim) i64 1-based coordinates of the nonzero elements in row-major order; as_tuple: one (n) tensor per dim instead.") { f in
            let o = try MathBindings.options(f, from: 2, ["as_tuple"])
            return try pushNonzero(f, f.tensor(1), asTuple: f.optField(o, "as_tuple", false))
        }
        both("argwhere", "argwhere() -> nonzero(): (n, dim) 1-based coordinates.") { f in
            try pushNonzero(f, f.tensor(1), asTuple: false)
        }
        // sort(dim, descending) as PyTorch's positional form, or {descending, stable} (always stable)
        func sortArgs(_ f: LuaFrame, _ x: Tensor, _ op: String) throws -> (Int, Bool) {
            if f.type(2) == LUA_TBOOLEAN { return (-1, f.boolean(2)) }   // sort(descending): the last dim
            let d = f.type(2) == LUA_TNUMBER ? try luaDim(f.integer(2), rank: x.dim, op: op) : -1
            let o = try MathBindings.options(f, from: 2, ["descending", "stable", "dim"])
            if let od = try f.intOption(o, "dim") {
                guard f.type(2) != LUA_TNUMBER else { throw LuaError.message("\(op): dim given twice") }
                return (try luaDim(od, rank: x.dim, op: op), f.optField(o, "descending", false))
            }
            if f.type(3) == LUA_TBOOLEAN { return (d, f.boolean(3)) }
            return (d, f.optField(o, "descending", false))
        }
        vm.def(tide, "searchsorted", "tide.searchsorted(sorted, values [, {right = false, side = 'left' | 'right'}]) -> the 1-based insertion points that keep each row of sorted in order (torch's index + 1; NaN sorts last); binary search.") { f in
            let s = try f.tensor(1)
            let v = try ArithmeticBindings.operand(f, 2, other: s)
            let o = try MathBindings.options(f, from: 3, ["right", "side"])
            var right = try f.boolOption(o, "right")
            if let side = try f.stringOption(o, "side") {
                guard side == "left" || side == "right" else { throw LuaError.message("searchsorted: side must be 'left' or 'right', got '\(side)'") }
                if let r = right, r != (side == "right") { throw LuaError.message("searchsorted: right and side disagree") }
                right = side == "right"
            }
            f.push(try oneBased(Tensor.searchsorted(s, v, right: right ?? false))); return 1
        }
        both("sort", "sort([dim = -1] [, descending] [, {descending = false, stable}]) -> values, 1-based indices (stable; NaN last).") { f in
            let x = try f.tensor(1)
            let (d, desc) = try sortArgs(f, x, "sort")
            let (v, i) = try x.sort(dim: d, descending: desc)
            f.push(v); f.push(try oneBased(i)); return 2
        }
        both("argsort", "argsort([dim = -1] [, descending] [, {descending = false, stable}]) -> 1-based indices that sort x along dim.") { f in
            let x = try f.tensor(1)
            let (d, desc) = try sortArgs(f, x, "argsort")
            f.push(try oneBased(x.sort(dim: d, descending: desc).1)); return 1
        }
        both("topk", "topk(k [, dim = -1] [, largest = true [, sorted = true]] [, {largest, sorted}]) -> values, 1-based indices of the k largest (smallest) along dim, in order (always sorted).") { f in
            let x = try f.tensor(1)
            let d = f.type(3) == LUA_TNUMBER ? try luaDim(f.integer(3), rank: x.dim, op: "topk") : -1
            let o = try MathBindings.options(f, from: 3, ["largest", "sorted", "dim"])
            var dim = d
            if let od = try f.intOption(o, "dim") { dim = try luaDim(od, rank: x.dim, op: "topk") }
            // topk(k, largest) without a dim, or topk(k, dim, largest)
            let flag: Int32 = f.type(3) == LUA_TBOOLEAN ? 3 : 4
            let largest = f.type(flag) == LUA_TBOOLEAN ? f.boolean(flag) : f.optField(o, "largest", true)
            let (v, i) = try x.topk(f.integer(2), dim: dim, largest: largest)
            f.push(v); f.push(try oneBased(i)); return 2
        }
        both("unique", "unique([{sorted = true, return_inverse = false, return_counts = false, dim}]) -> sorted distinct values (or, with dim, distinct slices along dim in lexicographic order) [, 1-based inverse] [, counts].") { f in
            let x = try f.tensor(1)
            let o = try MathBindings.options(f, from: 2, ["sorted", "return_inverse", "return_counts", "dim"])
            let (v, inv, c) = try f.intOption(o, "dim").map { try uniqueSlices(x, dim: luaDim($0, rank: x.dim, op: "unique")) } ?? x.unique()
            f.push(v)
            var n: Int32 = 1
            if f.optField(o, "return_inverse", false) { f.push(try oneBased(inv)); n += 1 }
            if f.optField(o, "return_counts", false) { f.push(c); n += 1 }
            return n
        }
        for (name, prod) in [("cumsum", false), ("cumprod", true)] {
            both(name, "\(name)(dim | {dim} [, {dtype}]) -> running \(prod ? "product" : "sum") along dim (dtype: cast first).") { f in
                var x = try f.tensor(1)
                let o = try MathBindings.options(f, from: 2, ["dim", "dtype"])
                if let dt = try MathBindings.dtypeField(f, o) { x = try x.to(dt) }
                // the dim positionally or as torch's keyword
                let named = try MathBindings.optionDims(f, o, rank: Swift.max(x.dim, 1), op: name)
                if let named, named.count != 1 { throw LuaError.message("\(name): expected one dim, got \(named.count)") }
                let d = try named?[0] ?? luaDim(f.integer(2), rank: x.dim, op: name)
                f.push(try x.scan(dim: d, product: prod)); return 1
            }
        }
        let products: [(String, String, (Tensor, Tensor) throws -> Tensor)] = [
            ("dot", "tide.dot(a, b) -> 0-d sum of a * b for 1-d a, b (no conjugation).", Tensor.dot),
            ("vdot", "tide.vdot(a, b) -> 0-d sum of conj(a) * b over all elements.", Tensor.vdot),
            ("mv", "tide.mv(m, v): (n, k) x (k,) -> (n,).", Tensor.mv),
            ("outer", "tide.outer(a, b): (n,), (m,) -> (n, m).", Tensor.outer),
            ("kron", "tide.kron(a, b) -> the Kronecker product.", Tensor.kron),
        ]
        for (name, doc, fn) in products {
            let g: (LuaFrame) throws -> Int32 = { f in f.push(try fn(f.tensor(1), f.tensor(2))); return 1 }
            vm.def(tide, name, doc, g)
            vm.def(m, name, doc.replacingOccurrences(of: "tide.\(name)(a, b)", with: "a:\(name)(b)"), g)
        }
        vm.def(tide, "einsum", "tide.einsum(spec, a, b, ...) -> the Einstein sum, e.g. 'ij,jk->ik', 'bij,bjk->bik', 'ii->i', 'ij->' (contracted through BLAS).") { f in
            let spec = try f.string(1)
            var ops: [Tensor] = []
            if f.type(2) == LUA_TTABLE { ops = try JoinBindings.tensorList(f, 2) } else {
                var k: Int32 = 2
                while k <= f.count { ops.append(try f.tensor(k)); k += 1 }
            }
            f.push(try Tensor.einsum(spec, ops)); return 1
        }
        both("norm", "norm([p = 2 | 'fro' | 'nuc' | math.huge | -math.huge] [, dims] [, keepdim] [, {keepdim}]) -> the vector p-norm over dims (all when omitted); 'nuc' is the nuclear norm of the matrices over two dims (default the last two).", maxArgs: 5) { f in
            let x = try f.tensor(1)
            var p = 2.0
            let ds = try MathBindings.dims(f, 3, rank: x.dim, op: "norm")
            let keep = try MathBindings.keepdim(f, 4, MathBindings.options(f, from: 3, ["keepdim"]))  // torch.norm(x, p, dim, keepdim)
            if f.type(2) == LUA_TSTRING {
                let s = try f.string(2)
                if s == "nuc" {
                    // the nuclear norm of the matrices spanned by two dims (default: the last two)
                    let pair = ds ?? [x.dim - 2, x.dim - 1]
                    guard pair.count == 2, pair[0] != pair[1], x.dim >= 2 else {
                        throw f.argError(3, "'nuc' needs two dims (a matrix), got \(ds.map { "\($0.count) dims" } ?? "a \(x.dim)-d tensor")")
                    }
                    let rest = (0 ..< x.dim).filter { !pair.contains($0) }
                    var r = try Linalg.matrixNorm(x.permuted(rest + pair), ord: .nuc)
                    if keep { for d in pair.sorted() { r = try r.unsqueeze(d) } }
                    f.push(r); return 1
                }
                guard s == "fro" else { throw f.argError(2, "expected a number, 'fro' or 'nuc', got '\(s)'") }
            } else if !f.isNoneOrNil(2) { p = try f.number(2) }
            f.push(try x.norm(p: p, dims: ds, keepdim: keep)); return 1
        }
        both("lerp", "lerp(end, weight) -> x + weight * (end - x) (as b - (b - x)(1 - weight) for |weight| >= 0.5, exact at weight = 1); weight a number or tensor.", maxArgs: 3) { f in
            let a = try f.tensor(1)
            let b = try ArithmeticBindings.operand(f, 2, other: a)
            let w = try ArithmeticBindings.operand(f, 3, other: a)
            f.push(try Tensor.lerp(a, b, w)); return 1
        }
        both("multinomial", "multinomial(n [, replacement] [, {replacement = false, generator}]) -> n 1-based category draws per row from weights x ((k,) or (B, k)).") { f in
            let x = try f.tensor(1)
            let o = try MathBindings.options(f, from: 3, ["replacement", "generator"])
            let g = try MathBindings.generator(f, o)
            // torch.multinomial(input, n, replacement=False): a positional boolean works too
            let positional = f.type(3) == LUA_TBOOLEAN ? f.boolean(3) : nil
            let replacement = positional ?? f.optField(o, "replacement", false)
            f.push(try oneBased(x.multinomial(f.integer(2), replacement: replacement, generator: g))); return 1
        }
    }
}
