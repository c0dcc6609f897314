// Tensor+TransposedRun: elementwise work where one operand is laid out as the transpose of
// the output, as in `x + y:t()` or `y:t():contiguous()`.
//
//     o (R, C) steps (ldo, 1), a (R, C) steps (lda, 1), b (R, C) steps (1, ldb)
//     o = a op b, or o = b          one pass; b is read in small blocks transposed in registers
//
// Without it b is first copied into a's layout: one more full pass over memory, which is what
// made a contiguous-plus-transposed add 3x a contiguous one. Leading (batch) dims may have
// any strides. The frame is the output's: its dims sorted by stride.
import _CTideKernels

extension Tensor {
    /// o = a op b (`kop` a TIDE_OP_*), or o = b when a is nil, when all have o's shape and, in
    /// o's stride order, o and a step 1 along the last dim while b (read with `bStrides`, which
    /// may hold broadcast zeros) steps 1 along the one before. f32 and f64 for ops; a copy takes
    /// any 4- or 8-byte element type bit for bit. Returns false, having done nothing, when the
    /// layout, dtype or size does not fit; o must not share storage with b.
    static func transposedRun(_ kop: Int32, _ a: Tensor?, _ b: Tensor, bStrides: [Int], into o: Tensor) -> Bool {
        guard o.storage !== b.storage, b.dtype == o.dtype, o.dim >= 2, kop <= Int32(TIDE_OP_MIN) else { return false }
        let size = o.dtype.itemSize
        if let a = a {
            guard a.dtype == o.dtype, a.shape == o.shape, o.dtype == .f32 || o.dtype == .f64 else { return false }
        } else {
            guard o.dtype == .f32 || o.dtype == .f64 || o.dtype == .i64 || o.dtype == .c64 else { return false }
        }
        let frame = (0 ..< o.dim).filter { o.shape[$0] != 1 }
            .sorted { o.strides[$0] != o.strides[$1] ? o.strides[$0] > o.strides[$1] : $0 < $1 }
        guard frame.count >= 2 else { return false }
        let p = frame[frame.count - 1], q = frame[frame.count - 2]
        let aStrides = a?.strides ?? o.strides
        let rows = o.shape[q], cols = o.shape[p]
        let ldo = o.strides[q], lda = aStrides[q], ldb = bStrides[p]
        guard o.strides[p] == 1, aStrides[p] == 1, bStrides[q] == 1, rows >= 8, cols >= 8,
              ldo >= cols, lda >= cols, ldb >= rows else { return false }
        // batch dims: `rows` hands out runs of n matrices, the k-th at off + k * step
        let outer = frame.dropLast(2)
        let shape = outer.map { o.shape[$0] } + [1]
        let strides = [o, a ?? o].map { t in outer.map { t.strides[$0] } + [1] } + [outer.map { bStrides[$0] } + [1]]
        StridedLoop.rows(shape, strides, [o.offset, a?.offset ?? o.offset, b.offset]) { off, n, step in
            for k in 0 ..< n {
                let (oo, ao, bo) = (off[0] + k * step[0], off[1] + k * step[1], off[2] + k * step[2])
                if size == 4 {
                    let pa = a.map { UnsafePointer($0.storage.bytes.assumingMemoryBound(to: Float.self) + ao) }
                    Kernels.binaryTransposed(kop, pa, lda: lda, b.storage.bytes.assumingMemoryBound(to: Float.self) + bo, ldb: ldb,
                                             o.storage.bytes.assumingMemoryBound(to: Float.self) + oo, ldy: ldo, rows: rows, cols: cols)
                } else {
                    let pa = a.map { UnsafePointer($0.storage.bytes.assumingMemoryBound(to: Double.self) + ao) }
                    // i64 and c64 copies move 8-byte words unchanged
                    Kernels.binaryTransposed(kop, pa, lda: lda, b.storage.bytes.assumingMemoryBound(to: Double.self) + bo, ldb: ldb,
                                             o.storage.bytes.assumingMemoryBound(to: Double.self) + oo, ldy: ldo, rows: rows, cols: cols)
                }
            }
        }
        return true
    }
}
