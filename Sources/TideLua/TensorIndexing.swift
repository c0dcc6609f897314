// TensorIndexing: t[i] and t[{...}] for reading and writing, 1-based and inclusive.
//
//     x: (4, 5)
//     x[2]               -- row 2, a (5,) view; on a 1-d tensor, a number
//     x[{2, 3}]          -- the number at row 2, column 3
//     x[{{}, {2, 4}}]    -- columns 2..4 of every row, a (4, 3) view
//     x[{-1, {1, -2}}]   -- last row, all but the last column
//     x[{{1, -1, 2}}]    -- every second row ({start, end, step})
//     x[mask]            -- a bool tensor of x's shape selects elements (a 1-d copy); a mask of
//                           x's leading dims selects slices: (n, rest...)
//     x[idx]             -- an i64 tensor of 1-based rows (negative from the end)
//     x[{{}, idx}]       -- index tensors inside the table (i64, or bool over their dims):
//                           PyTorch's x[:, idx], a copy (Tensor+AdvancedIndex.swift)
//     x[{2, 3}] = 7; x[1] = tide.ones(5); x[mask] = 0; x[idx] = v (v broadcast to the rows)
import CLua
import _CTideShims
import TideCore

enum TensorIndexing {
    /// The tensor addressed by the key at stack index 2: a view, or with index tensors in the
    /// key a copy (advanced indexing).
    static func resolve(_ f: LuaFrame, _ t: Tensor, record: ((d: Int, start: Int, count: Int, step: Int, select: Bool)) -> Void = { _ in }) throws -> Tensor {
        let (v, dims, idx) = try resolveBasic(f, t, record: record)
        return dims.isEmpty ? v : try v.advancedIndex(dims: dims, idx)
    }

    /// The view addressed by the numbers and ranges of the key at stack index 2, and the dims
    /// of that view that its index tensors address (with the 0-based indices).
    static func resolveBasic(_ f: LuaFrame, _ t: Tensor, record: ((d: Int, start: Int, count: Int, step: Int, select: Bool)) -> Void = { _ in }) throws -> (Tensor, [Int], [Tensor]) {
        let L = f.L
        switch f.type(2) {
        case LUA_TNUMBER:
            guard t.dim > 0 else { throw LuaError.message("index: cannot index a 0-d tensor with a number") }
            let i = try luaIndex(f.integer(2), size: t.shape[0], dim: 0, op: "index")
            record((0, i, 1, 1, true))
            return (try t.select(0, i), [], [])
        case LUA_TTABLE:
            let key = lua_absindex(L, 2)
            let n = Int(lua_rawlen(L, key))
            func tooMany() -> LuaError {
                LuaError.message("index: \(n) indices for a \(t.dim)-d tensor (shape \(shapeString(t.shape)))")
            }
            guard n <= t.dim else { throw tooMany() }
            var cur = t
            var d = 0    // current dim in `cur`
            var od = 0   // dim of t the entry addresses (a bool mask covers several)
            var advDims: [Int] = [], advIdx: [Tensor] = []
            for k in 1 ... max(n, 1) where n > 0 {
                lua_rawgeti(L, key, lua_Integer(k))
                defer { tide_pop(L, 1) }
                let origDim = od
                guard od < t.dim else { throw tooMany() }
                switch lua_type(L, -1) {
                case LUA_TNUMBER:
                    let i = try luaIndex(f.integer(-1), size: cur.shape[d], dim: origDim, op: "index")
                    record((d, i, 1, 1, true))
                    cur = try cur.select(d, i)
                    od += 1
                case LUA_TTABLE:
                    let r = lua_absindex(L, -1)
                    let rl = Int(lua_rawlen(L, r))
                    let size = cur.shape[d]
                    var a = 1, b = size, step = 1
                    func num(_ j: Int) throws -> Int {
                        lua_rawgeti(L, r, lua_Integer(j))
                        defer { tide_pop(L, 1) }
                        var ok: Int32 = 0
                        let v = lua_tointegerx(L, -1, &ok)
                        guard ok != 0 else { throw LuaError.message("index: range for dim \(origDim + 1) must hold integers, got \(f.typeName(-1))") }
                        return Int(v)
                    }
                    if rl >= 1 { a = try num(1); b = a }
                    if rl >= 2 { b = try num(2) }
                    if rl >= 3 { step = try num(3) }
                    guard step >= 1 else { throw LuaError.message("index: step must be >= 1, got \(step)") }
                    // {} is the whole dim, even an empty one (where {1, 0} would be out of bounds)
                    let s0 = rl == 0 ? 0 : a < 0 ? size + a : a - 1
                    let e0 = rl == 0 ? size - 1 : b < 0 ? size + b : b - 1
                    guard rl == 0 || (a != 0 && b != 0), s0 >= 0, s0 <= size, e0 < size, e0 >= -1 else {
                        throw LuaError.message("index: range {\(a), \(b)} out of bounds for dim \(origDim + 1) of size \(size)")
                    }
                    let span = e0 >= s0 ? e0 - s0 + 1 : 0   // elements a..b inclusive
                    let len = span == 0 ? 0 : (span - 1) / step + 1
                    record((d, s0, len, step, false))
                    cur = step > 1 ? try cur.sliced(d, start: s0, count: len, step: step) : try cur.narrow(d, s0, span)
                    d += 1
                    od += 1
                case LUA_TUSERDATA:
                    // an index tensor: i64 1-based indices into this dim, or a bool mask over
                    // this dim and the next ones (its true positions, one index tensor per dim)
                    let it = try f.tensor(-1)
                    switch it.dtype {
                    case .i64 where it.dim == 0:
                        // a 0-d index tensor selects like a number (torch)
                        let i = try luaIndex(Int(it.int64Item()), size: cur.shape[d], dim: origDim, op: "index")
                        record((d, i, 1, 1, true))
                        cur = try cur.select(d, i)
                        od += 1
                    case .i64:
                        advDims.append(d)
                        advIdx.append(try zeroBasedIndex(it, size: cur.shape[d], dim: origDim))
                        d += 1
                        od += 1
                    case .bool:
                        let q = it.dim
                        guard q >= 1, od + q <= t.dim, Array(cur.shape[d ..< d + q]) == it.shape else {
                            throw LuaError.message("index: a bool mask at entry \(k) must have the shape of the dims it covers, \(shapeString(Array(t.shape[Swift.min(od, t.dim)...].prefix(Swift.max(q, 1))))) (dims \(origDim + 1) to \(origDim + Swift.max(q, 1))), got \(shapeString(it.shape))")
                        }
                        for (j, c) in try it.nonzeroCoordinates().enumerated() {
                            advDims.append(d + j)
                            advIdx.append(c)
                        }
                        d += q
                        od += q
                    default:
                        throw LuaError.message("index: an index tensor at entry \(k) must be i64 (1-based indices) or bool (a mask), got \(it.dtype.rawValue)")
                    }
                default:
                    throw LuaError.message("index: entry \(k) must be a number, a range table or an index tensor, got \(f.typeName(-1))")
                }
            }
            return (cur, advDims, advIdx)
        default:
            throw LuaError.message("index: expected a number, a table of ranges or a bool mask, got \(f.typeName(2))")
        }
    }

    /// Whether the table key at stack index 2 holds an index tensor.
    static func keyHasTensor(_ f: LuaFrame) -> Bool {
        guard f.type(2) == LUA_TTABLE else { return false }
        let L = f.L, n = lua_rawlen(L, 2)
        for k in 0 ..< n where lua_rawgeti(L, 2, lua_Integer(k + 1)) >= 0 {
            defer { tide_pop(L, 1) }
            if lua_type(L, -1) == LUA_TUSERDATA { return true }
        }
        return false
    }

    /// 1-based indices into a dim of the given size (negative from the end), checked, 0-based.
    static func zeroBasedIndex(_ idx: Tensor, size n: Int, dim: Int) throws -> Tensor {
        if idx.numel > 0 {
            let lo = try idx.reduce(.amin, dims: nil).int64Item(), hi = try idx.reduce(.amax, dims: nil).int64Item()
            let zero = try Tensor.compare(.eq, idx, Tensor.scalar(0, dtype: .i64)).reduce(.any, dims: nil).item() != 0
            guard lo >= -Int64(n), hi <= Int64(n), !zero else {
                let bad = zero ? 0 : (lo < -n ? lo : hi)
                throw LuaError.message("index: index \(bad) is out of range for dim \(dim + 1) of size \(n) (expected 1 to \(n) or -\(n) to -1)")
            }
        }
        let neg = try Tensor.compare(.lt, idx, Tensor.scalar(0, dtype: .i64))
        return try Tensor.where(neg, Tensor.binary(.add, idx, Tensor.scalar(Double(n), dtype: .i64)),
                                Tensor.binary(.sub, idx, Tensor.scalar(1, dtype: .i64)))
    }

    /// An i64 index tensor with negative entries counted from the end (-1 the last row), still
    /// 1-based; x must have a dim to index.
    static func rowIndex(_ t: Tensor, _ idx: Tensor) throws -> Tensor {
        guard t.dim > 0 else { throw LuaError.message("index: a 0-d tensor has no dim to index with an i64 tensor") }
        return try Tensor.binary(.add, zeroBasedIndex(idx, size: t.shape[0], dim: 0), Tensor.scalar(1, dtype: .i64))
    }

    /// A bool mask over t's first k < t.dim dims (shape equal to them): the 0-based row-major
    /// positions of its true entries, and t's leading dims merged into one.
    static func leadingMask(_ t: Tensor, _ mask: Tensor) throws -> (rows: Tensor, merged: Tensor)? {
        let k = mask.dim
        guard mask.dtype == .bool, k >= 1, k < t.dim, Array(t.shape.prefix(k)) == mask.shape else { return nil }
        let lead = mask.shape.reduce(1, *)
        let rows = try Tensor.arange(0, Double(lead), 1, dtype: .i64).reshaped(mask.shape).maskedSelect(mask)
        return (rows, try t.reshaped([lead] + Array(t.shape.dropFirst(k))))
    }

    /// A bool mask must have the indexed tensor's shape or that of its leading dims (NumPy
    /// and torch refuse others rather than broadcast them); a 0-d mask adds a leading dim of
    /// size 1 (true) or 0 (false).
    static func checkMask(_ t: Tensor, _ mask: Tensor) throws {
        guard mask.dtype == .bool, mask.dim > 0 else { return }
        guard mask.dim <= t.dim, Array(t.shape.prefix(mask.dim)) == mask.shape else {
            throw LuaError.message("index: a bool mask of shape \(shapeString(mask.shape)) does not match the indexed tensor's shape \(shapeString(t.shape)) (expected its shape or that of its leading dims)")
        }
    }

    /// Errors of the ops an index runs on are named as the index's own (not expand: or copy_:).
    static func named<R>(_ body: () throws -> R) throws -> R {
        do { return try body() } catch let e as TensorError {
            for op in ["expand: ", "copy_: ", "index_put: ", "masked_select: "] where e.message.hasPrefix(op) {
                throw TensorError("index: " + e.message.dropFirst(op.count))
            }
            throw e
        }
    }

    static func get(_ f: LuaFrame) throws -> Int32 { try named { try getUnnamed(f) } }
    static func set(_ f: LuaFrame) throws { try named { try setUnnamed(f) } }

    static func getUnnamed(_ f: LuaFrame) throws -> Int32 {
        let t = try f.tensor(1)
        if f.type(2) == LUA_TUSERDATA {
            let idx = try f.tensor(2)
            try checkMask(t, idx)
            if idx.dtype == .bool && idx.dim == 0 {
                let one = try t.unsqueeze(0)
                f.push(try idx.item() != 0 ? one.clone() : one.narrow(0, 0, 0).clone()); return 1
            }
            if let (rows, merged) = try leadingMask(t, idx) {
                f.push(try merged.indexSelect(0, rows)); return 1
            }
            f.push(try t.indexWithTensor(idx.dtype == .i64 ? rowIndex(t, idx) : idx))
            return 1
        }
        let (v0, dims, idx) = try resolveBasic(f, t)
        if !dims.isEmpty { f.push(try v0.advancedIndex(dims: dims, idx)); return 1 }
        let v = v0
        if v.dim == 0 {
            let x = try v.toComplex()[0]
            switch v.dtype {
            case .i64: f.push(Int(v.pointer(Int64.self).pointee))   // exact: not through Double
            case .bool: f.push(x.re != 0)
            case .c64, .c128: f.push(v)
            default: f.push(x.re)
            }
        } else {
            f.push(v)
        }
        return 1
    }

    static func setUnnamed(_ f: LuaFrame) throws {
        let t = try f.tensor(1)
        if f.type(2) == LUA_TUSERDATA {
            var idx = try f.tensor(2)
            try checkMask(t, idx)
            if idx.dtype == .bool && idx.dim == 0 {
                // x[true] = v writes everything, x[false] = v nothing
                if try idx.item() != 0 { idx = try Tensor.full(t.shape, 1, dtype: .bool) } else { return }
            }
            var v = f.type(3) == LUA_TUSERDATA ? try f.tensor(3) : try f.exactInteger(3, dtype: t.dtype) ??
                Tensor.scalar(f.type(3) == LUA_TBOOLEAN ? (f.boolean(3) ? 1 : 0) : f.number(3), dtype: t.dtype)
            if let (rows, _) = try leadingMask(t, idx) {
                // slices under a leading-dims mask: the mask spread over the trailing dims, and
                // the value broadcast to one slice per selected row
                let rest = Array(t.shape.dropFirst(idx.dim))
                idx = try idx.reshaped(idx.shape + rest.map { _ in 1 }).expand(t.shape)
                if !Autograd.isRecording(t, v) {   // (recorded: where() broadcasts v itself)
                    if v.numel != 1 { v = try v.expand([rows.numel] + rest) }
                    try t.indexPut(idx, v); return
                }
            } else if idx.dtype == .i64 {
                idx = try rowIndex(t, idx)
                // broadcast the value to what x[idx] reads: idx's shape, then x's other dims
                let rows = idx.shape + Array(t.shape.dropFirst())
                if v.numel != 1 && v.shape != rows { v = try v.expand(rows) }
            }
            if Autograd.isRecording(t, v) && idx.dtype == .i64 {
                // rows written by index: scatter along dim 1 of the rows' index spread over the
                // other dims, which carries gradients to x (zero where written) and to v
                let rest = Array(t.shape.dropFirst())
                let rowShape = [idx.numel] + rest
                let zeroBased = try Tensor.binary(.sub, idx.reshaped([idx.numel] + rest.map { _ in 1 }), Tensor.scalar(1, dtype: .i64))
                let spread = try zeroBased.expand(rowShape).contiguous()
                let values = try (v.numel == 1 ? v.reshaped([]) : v.reshaped(rowShape)).to(t.dtype).expand(rowShape)
                try t.apply_("index assignment") { old in try old.scatter(0, spread, values) }
                return
            }
            if Autograd.isRecording(t, v) {
                // a mask write is where(mask, v, x): differentiable when v broadcasts over x
                guard idx.dtype == .bool, v.numel == 1 || (try? Tensor.broadcastShape(v.shape, t.shape, op: "index")) == t.shape else {
                    throw LuaError.message("index: assignment through a bool mask is differentiable only with a scalar or broadcastable value")
                }
                try t.apply_("index assignment") { old in try Tensor.where(idx, v.dim == 0 ? v : v.expand(t.shape), old) }
                return
            }
            if idx.dtype == .i64 {
                // rows by element offsets (one select and copy per row was 10x slower at 2M rows)
                try t.advancedIndexPut(dims: [0], [Tensor.binary(.sub, idx, Tensor.scalar(1, dtype: .i64))], v)
                return
            }
            try t.indexPut(idx, v)
            return
        }
        if keyHasTensor(f) {
            // x[{{}, idx}] = v: written element by element into the addressed view
            let (view, dims, idx) = try resolveBasic(f, t)
            let v: Tensor
            switch f.type(3) {
            case LUA_TNUMBER: v = try f.exactInteger(3, dtype: t.dtype) ?? Tensor.scalar(f.number(3), dtype: t.dtype)
            case LUA_TBOOLEAN: v = try Tensor.scalar(f.boolean(3) ? 1 : 0, dtype: t.dtype)
            case LUA_TUSERDATA: v = try f.tensor(3)
            case LUA_TTABLE: v = try f.nestedTable(3, dtype: t.dtype)
            default: throw f.typeError(3, "number, tensor or table")
            }
            guard !Autograd.isRecording(t, v) else {
                throw LuaError.message("index: assignment through index tensors inside an index table is not differentiable; where() or scatter() keep gradients")
            }
            // (only 0-d index tensors, which select like numbers: a plain write into the view)
            if dims.isEmpty { try view.copy_(from: v.squeezedLeading(to: view.dim)); return }
            try view.advancedIndexPut(dims: dims, idx, v)
            return
        }
        // resolve the addressed view on any tensor of t's shape (replayed on gradients)
        let key = try keyRegion(f, t)
        switch f.type(3) {
        case LUA_TNUMBER: try t.writeRegion_(key, value: f.exactInteger(3, dtype: t.dtype), scalar: f.number(3))
        case LUA_TBOOLEAN: try t.writeRegion_(key, value: nil, scalar: f.boolean(3) ? 1 : 0)
        case LUA_TUSERDATA:
            // leading size-1 dims of the value beyond the region's rank are dropped (NumPy):
            // x[{1, 1}] = tide.ones(1), x[1] = tide.ones(1, 5)
            let rank = try Autograd.noGrad { try key(t) }.dim
            let v = try f.tensor(3).squeezedLeading(to: rank)
            try t.writeRegion_(key, value: v)
        case LUA_TTABLE: try t.writeRegion_(key, value: f.nestedTable(3, dtype: t.dtype))
        default: throw f.typeError(3, "number, tensor or table")
        }
    }

    /// The key at stack index 2 as a function from a tensor (of t's shape) to its view.
    static func keyRegion(_ f: LuaFrame, _ t: Tensor) throws -> (Tensor) throws -> Tensor {
        // resolve once to validate the key, remembering each step as (dim, start, count, step)
        // or (dim, index) so the same view can be taken of a gradient later
        var steps: [(d: Int, start: Int, count: Int, step: Int, select: Bool)] = []
        _ = try Autograd.noGrad { try resolve(f, t) { steps.append($0) } }
        return { x in
            var cur = x
            for s in steps {
                cur = s.select ? try cur.select(s.d, s.start) : try cur.sliced(s.d, start: s.start, count: s.count, step: s.step)
            }
            return cur
        }
    }
}
