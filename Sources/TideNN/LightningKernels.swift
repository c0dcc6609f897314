// The f32 forward of lightning attention (Lightning.swift has the op, the decays and the
// generic BLAS path) on Tide's attention microkernel (_CTideKernels/attn_kernels.c): the same
// A2.2 blocks, with the operands of each 64-row block packed once and the masked upper
// triangle of Q K^T skipped. At block 64 OpenBLAS spent most of each call packing; this path
// does the same products with a third of the calls' overhead.
//
//     per block of m rows:  A = (Q K^T) . D      (m, m), lower triangle only
//                           O = A V + (qdec . Q) S          (m, e)
//                           S = lam^m S + (kdec . K)^T V    (d, e)
import TideCore
import _CTideKernels

extension F {
    static func lightningForwardF32(_ g: LightningGeometry, _ Q: Tensor, _ K: Tensor, _ V: Tensor,
                                    _ S0: Tensor?, _ O: Tensor, _ final: Tensor) throws {
        let bs = Swift.min(g.block, Swift.max(g.N, 1))
        let tasks = g.B * g.H, workers = Swift.max(1, Swift.min(Threads.count, tasks))
        let (d, e, N) = (g.d, g.e, g.N)
        let per = bs * bs + bs * d + pad16(bs) * d + pad16(e) * bs + pad16(e) * d + d
        let buffer = try Storage.scratch(bytes: workers * per * 4)
        let scratch = buffer.bytes.assumingMemoryBound(to: Float.self)
        defer { withExtendedLifetime(buffer) {} }
        let (out, kend, none) = (Int32(TIDE_ATTN_TRI_OUT), Int32(TIDE_ATTN_TRI_KEND), Int32(TIDE_ATTN_TRI_NONE))
        try parallelBLAS(workers) { w in
            var dec = Decay<Float>(capacity: bs)
            defer { dec.free() }
            let A = scratch + w * per, X = A + bs * bs, Kp = X + bs * d
            let Vp = Kp + pad16(bs) * d, Sp = Vp + pad16(e) * bs, bdec = Sp + pad16(e) * d
            for task in tasks * w / workers ..< tasks * (w + 1) / workers {
                let h = task % g.H
                let (q, k, v, o, S) = lightningTask(Float.self, g, task, Q, K, V, O, S0, final)
                var filled = -1
                var r0 = 0
                while r0 < N {
                    let m = Swift.min(bs, N - r0)
                    if m != filled {
                        dec.fill(g.lams[h], m); filled = m
                        for i in 0 ..< d { bdec[i] = dec.bdec }
                    }
                    let qb = q + r0 * d, kb = k + r0 * d, vb = v + r0 * e, ob = o + r0 * e
                    // intra: A (m, m) = Q K^T on and below the diagonal, times D; O = A V
                    tide_attn_pack_f32(kb, 1, d, d, m, Kp)            // K^T: (d, m)
                    tide_attn_gemm_f32(m, m, d, 1, qb, d, 1, Kp, 16 * d, 0, nil, A, m, out, 0)
                    for i in 0 ..< m * m { A[i] *= dec.D[i] }
                    tide_attn_pack_f32(vb, e, 1, m, e, Vp)            // V: (m, e)
                    tide_attn_gemm_f32(m, e, m, 1, A, m, 1, Vp, 16 * m, 0, nil, ob, e, kend, 0)
                    // inter: O += (qdec . Q) S
                    scaleRows(X, qb, dec.qdec, m, d)
                    tide_attn_pack_f32(S, e, 1, d, e, Sp)             // S: (d, e)
                    tide_attn_gemm_f32(m, e, d, 1, X, d, 1, Sp, 16 * d, 1, nil, ob, e, none, 0)
                    // state: S = lam^m S + (kdec . K)^T V
                    scaleRows(X, kb, dec.kdec, m, d)
                    tide_attn_gemm_f32(d, e, m, 1, X, 1, d, Vp, 16 * m, 1, bdec, S, e, none, 0)
                    r0 += m
                }
            }
        }
    }
}
