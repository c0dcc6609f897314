// StridedLoop: walks the rows of an n-d iteration space over several operands at once.
//
//     // out = a + b over broadcast strides: one call per innermost row
//     StridedLoop.rows(shape, [outStrides, aStrides, bStrides], [0, a.offset, b.offset]) { off, n, inner in
//         kernel(out + off[0], a + off[1], inner[1], b + off[2], inner[2], n)
//     }
//
// Dims that are contiguous with their neighbour for every operand are merged first, so a
// contiguous tensor is one row and a transposed one is as few rows as its layout allows.
// The odometer state lives in one small heap block allocated per call, not per row.
public enum StridedLoop {
    /// Merges adjacent dims that are mergeable for all operands; drops size-1 dims.
    public static func coalesce(_ shape: [Int], _ strides: [[Int]]) -> ([Int], [[Int]]) {
        var sh: [Int] = []
        var st: [[Int]] = Array(repeating: [], count: strides.count)
        for d in 0 ..< shape.count where shape[d] != 1 {
            if let last = sh.last {
                var ok = true
                for k in 0 ..< strides.count where st[k].last! != strides[k][d] * shape[d] { ok = false; break }
                if ok {
                    sh[sh.count - 1] = last * shape[d]
                    for k in 0 ..< strides.count { st[k][st[k].count - 1] = strides[k][d] }
                    continue
                }
            }
            sh.append(shape[d])
            for k in 0 ..< strides.count { st[k].append(strides[k][d]) }
        }
        if sh.isEmpty {
            return ([1], strides.map { _ in [1] })
        }
        return (sh, st)
    }

    /// Calls `body(offsets, n, innerStrides)` once per innermost row. `offsets[k]` is operand
    /// k's element offset at the row start; `innerStrides[k]` its stride along the row.
    /// Rows are visited in row-major order.
    public static func rows(_ shape: [Int], _ strides: [[Int]], _ offsets: [Int],
                            _ body: (UnsafePointer<Int>, Int, UnsafePointer<Int>) throws -> Void) rethrows {
        if shape.contains(0) { return }
        let (sh, st) = coalesce(shape, strides)
        let k = strides.count
        let nd = sh.count
        // scratch: [offsets k][inner k][counter nd]
        let scratch = UnsafeMutablePointer<Int>.allocate(capacity: 2 * k + nd)
        defer { scratch.deallocate() }
        let off = scratch, inner = scratch + k, counter = scratch + 2 * k
        for j in 0 ..< k { off[j] = offsets[j]; inner[j] = st[j][nd - 1] }
        for d in 0 ..< nd { counter[d] = 0 }
        let n = sh[nd - 1]
        if nd == 1 { try body(off, n, inner); return }
        // flatten strides for the outer dims into one contiguous table
        let outer = nd - 1
        let table = UnsafeMutablePointer<Int>.allocate(capacity: k * outer)
        defer { table.deallocate() }
        for j in 0 ..< k { for d in 0 ..< outer { table[j * outer + d] = st[j][d] } }
        let sizes = UnsafeMutablePointer<Int>.allocate(capacity: outer)
        defer { sizes.deallocate() }
        for d in 0 ..< outer { sizes[d] = sh[d] }
        while true {
            try body(off, n, inner)
            var d = outer - 1
            while d >= 0 {
                counter[d] += 1
                if counter[d] < sizes[d] {
                    for j in 0 ..< k { off[j] += table[j * outer + d] }
                    break
                }
                for j in 0 ..< k { off[j] -= table[j * outer + d] * (sizes[d] - 1) }
                counter[d] = 0
                d -= 1
            }
            if d < 0 { return }
        }
    }

    /// Like `rows`, but when some operand walks the last dim with a long stride while another
    /// walks it densely (a transposed operand), the last two dims are visited in 64 x 64 tiles,
    /// so both stay in cache. Rows are then tile-wide segments and the visit order is not
    /// row-major: use it only where each element's place comes from its offsets.
    public static func tiledRows(_ shape: [Int], _ strides: [[Int]], _ offsets: [Int],
                                 _ body: (UnsafePointer<Int>, Int, UnsafePointer<Int>) throws -> Void) rethrows {
        if shape.contains(0) { return }
        let (sh, st) = coalesce(shape, strides)
        let nd = sh.count
        let k = strides.count
        let mixed = nd >= 2 && st.contains { abs($0[nd - 1]) > 16 } && st.contains { abs($0[nd - 1]) <= 1 }
        guard mixed, sh[nd - 1] >= 32, sh[nd - 2] >= 32 else { return try rows(shape, strides, offsets, body) }
        let R = sh[nd - 2], C = sh[nd - 1], T = 64
        let off = UnsafeMutablePointer<Int>.allocate(capacity: 2 * k)
        defer { off.deallocate() }
        let inner = off + k
        for j in 0 ..< k { inner[j] = st[j][nd - 1] }
        // outer dims: walk them with `rows` over a shape whose last dim is a dummy of size 1
        let outerShape = Array(sh[..<(nd - 2)]) + [1]
        let outerStrides = st.map { Array($0[..<(nd - 2)]) + [1] }
        let base = UnsafeMutablePointer<Int>.allocate(capacity: k)
        defer { base.deallocate() }
        // `rows` hands out runs of n outer positions, the m-th at start + m * step
        try rows(outerShape, outerStrides, offsets) { start, n, step in
            for m in 0 ..< n {
                for j in 0 ..< k { base[j] = start[j] + m * step[j] }
                for i0 in stride(from: 0, to: R, by: T) {
                    for j0 in stride(from: 0, to: C, by: T) {
                        let w = Swift.min(T, C - j0)
                        for i in i0 ..< Swift.min(i0 + T, R) {
                            for j in 0 ..< k { off[j] = base[j] + i * st[j][nd - 2] + j0 * st[j][nd - 1] }
                            try body(off, w, inner)
                        }
                    }
                }
            }
        }
    }
}
