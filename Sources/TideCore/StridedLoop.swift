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

    /// Number of rows `rows` would visit (for splitting work over threads).
    public static func rowCount(_ shape: [Int], _ strides: [[Int]]) -> (rows: Int, rowLength: Int) {
        if shape.contains(0) { return (0, 0) }
        let (sh, _) = coalesce(shape, strides)
        return (sh.dropLast().reduce(1, *), sh.last!)
    }
}
