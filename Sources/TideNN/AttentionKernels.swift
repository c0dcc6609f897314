// The f32 path of the fused attention (Attention.swift holds the op, its geometry and the
// BLAS path used for f64 and for a handful of query rows): the same blocked online softmax,
// with the block products in Tide's own 6 x 16 AVX2 microkernel (_CTideKernels/attn_kernels.c).
//
// The microkernel reads its right operand from packed 16-column panels. Per (batch, head) task,
// keys are taken in chunks of up to `keyChunk`, and each chunk of K^T and V (and in the
// backward K and V^T) is packed once, then used by every query block; the query-side right
// operands of the backward (Q_i, dO_i) are packed once per query block. The left operands (Q,
// dO, and the P / dS scratch, plain or transposed) are read in place. The running max m, sum l
// and output O of every query row persist across chunks, so a chunk boundary changes nothing
// but the size of the scratch.
//
// Scores are kept in base-2 units (s log2(e) Q K^T, masks times log2(e)) so the kernels'
// exponential is 2^x; the saved log-sum-exp L is natural-log, as the BLAS path writes it.
//
//     forward:  S = s Q_i K_j^T (+ masks);  m, l, alpha <- online softmax;  O_i = alpha O_i + P V_j
//     backward: P = exp(s Q_i K_j^T - L_i);  dV_j += P^T dO_i;  dS = P (dO_i V_j^T - D_i);
//               dQ_i += s dS K_j;  dK_j += s dS^T Q_i        with D_i = rowsum(dO_i o O_i)
import TideCore
import _CTideKernels
#if canImport(Glibc)
import Glibc
#endif

@inline(__always) func pad16(_ n: Int) -> Int { (n + 15) / 16 * 16 }

/// log2(e): natural-log scores times this are base-2 scores.
private let log2e = 1.4426950408889634

/// The causal triangle of the block of query rows from i0 against keys j0..<j0+cols, as the
/// microkernel's (TRI_OUT, TRI_KEND, TRI_KBEG) modes and d (row r sees column c when
/// c <= r + d): all TRI_NONE for a block the mask does not cut, so it is computed whole.
@inline(__always)
private func triangle(_ g: AttnGeometry, _ i0: Int, _ j0: Int, _ cols: Int) -> (Int32, Int32, Int32, Int) {
    let d = i0 + g.offset - j0
    guard g.causal, cols - 1 > d else { return (0, 0, 0, 0) }
    return (Int32(TIDE_ATTN_TRI_OUT), Int32(TIDE_ATTN_TRI_KEND), Int32(TIDE_ATTN_TRI_KBEG), d)
}

extension F {
    /// Keys per transposed chunk: D x 4096 floats is 1 MiB at D = 64, within L2 + L3 reach.
    static let keyChunk = 4096

    /// The microkernel path pays one transpose of K per head; below this many query rows (decode
    /// steps) that copy costs as much as the product, and BLAS's GEMV-shaped calls win.
    static func attnUsesKernels(_ g: AttnGeometry, _ dtype: DType) -> Bool {
        dtype == .f32 && g.N >= 16
    }

    static func attnForwardF32(_ g: AttnGeometry, _ Q: Tensor, _ K: Tensor, _ V: Tensor,
                               _ out: Tensor, _ lse: Tensor) throws {
        let bq = attnBlockQ, bk = attnBlockK
        let tasks = g.B * g.H
        let workers = Swift.min(Threads.count, tasks)
        let chunk = Swift.min(keyChunk, g.M)
        let per = bq * bk + pad16(chunk) * g.D + pad16(g.Dv) * chunk + 2 * g.N + bq
        let buffer = try Storage.scratch(bytes: Swift.max(workers, 1) * per * 4)
        let scratch = buffer.bytes.assumingMemoryBound(to: Float.self)
        defer { withExtendedLifetime(buffer) {} }
        let L = lse.pointer(Double.self)
        let scale = Float(g.scale * log2e), unit = Float(log2e)
        try parallelBLAS(workers) { w in
            let S = scratch + w * per, Ktp = S + bq * bk, Vp = Ktp + pad16(chunk) * g.D
            let mrow = Vp + pad16(g.Dv) * chunk, lrow = mrow + g.N
            let alpha = lrow + g.N
            for task in tasks * w / workers ..< tasks * (w + 1) / workers {
                let b = task / g.H, h = task % g.H, hk = h / g.group
                let (q, ldq) = mat(Q, b, h, Float.self), (k, ldk) = mat(K, b, hk, Float.self)
                let (v, ldv) = mat(V, b, hk, Float.self), (o, ldo) = mat(out, b, h, Float.self)
                // Each query block's running state and output rows are set up when the first key
                // chunk reaches them and normalized after the last one, while they are in cache
                // (a separate pass over O at the end of the head was 3% of the forward). The chunk
                // loop runs at least once, so rows that see no key still get zeros and L = -inf.
                let visible = keyEnd(g, g.N)
                var kc0 = 0
                repeat {
                    let kc1 = Swift.min(kc0 + chunk, visible), nk = kc1 - kc0
                    tide_attn_pack_f32(k + kc0 * ldk, 1, ldk, g.D, nk, Ktp)    // K^T: (D, nk)
                    tide_attn_pack_f32(v + kc0 * ldv, ldv, 1, nk, g.Dv, Vp)    // V: (nk, Dv)
                    var i0 = 0
                    while i0 < g.N {
                        let rows = Swift.min(bq, g.N - i0)
                        if kc0 == 0 {
                            for r in i0 ..< i0 + rows {
                                mrow[r] = -.infinity; lrow[r] = 0
                                (o + r * ldo).update(repeating: 0, count: g.Dv)
                            }
                        }
                        let jEnd = Swift.min(keyEnd(g, i0 + rows), kc1)
                        var j0 = kc0
                        while j0 < jEnd {
                            let cols = Swift.min(bk, jEnd - j0)
                            let (out, kend, _, d) = triangle(g, i0, j0, cols)
                            // S (rows, cols) = s log2(e) Q_i K_j^T
                            tide_attn_gemm_f32(rows, cols, g.D, scale, q + i0 * ldq, ldq, 1,
                                               Ktp + (j0 - kc0) * g.D, 16 * g.D, 0, nil, S, cols, out, d)
                            applyMasks(g, S, b, h, i0, rows, j0, cols, unit: unit)
                            tide_attn_online_softmax_f32(S, rows, cols, cols, mrow + i0, lrow + i0, alpha)
                            // O_i (rows, Dv) = alpha O_i + P V_j
                            tide_attn_gemm_f32(rows, g.Dv, cols, 1, S, cols, 1, Vp + (j0 - kc0) * 16, 16 * nk, 1,
                                               alpha, o + i0 * ldo, ldo, kend, d)
                            j0 += cols
                        }
                        if kc1 == visible {
                            for r in i0 ..< i0 + rows {
                                let orow = o + r * ldo
                                let l = lrow[r]
                                let inv: Float = l > 0 ? 1 / l : 0
                                for c in 0 ..< g.Dv { orow[c] *= inv }
                                L[(b * g.H + h) * g.N + r] = l > 0 ? Double(mrow[r]) / log2e + log(Double(l)) : -.infinity
                            }
                        }
                        i0 += rows
                    }
                    kc0 = kc1
                } while kc0 < visible
            }
        }
    }

    static func attnBackwardF32(_ g: AttnGeometry, _ Q: Tensor, _ K: Tensor, _ V: Tensor,
                                _ O: Tensor, _ dO: Tensor, _ lse: Tensor,
                                _ dq: Tensor, _ dk: Tensor, _ dv: Tensor) throws {
        let bq = attnBlockQ, bk = attnBlockK
        let tasks = g.B * g.Hk
        let workers = Swift.min(Threads.count, tasks)
        let chunk = Swift.min(keyChunk, g.M)
        let packs = (pad16(chunk) * (g.D + g.Dv) + pad16(g.D) * chunk) + (pad16(g.D) + pad16(g.Dv)) * bq
        let per = 2 * bq * bk + packs + g.group * g.N + bq
        let buffer = try Storage.scratch(bytes: Swift.max(workers, 1) * per * 4)
        let scratch = buffer.bytes.assumingMemoryBound(to: Float.self)
        defer { withExtendedLifetime(buffer) {} }
        let L = UnsafePointer(lse.pointer(Double.self))
        let s = Float(g.scale), s2 = Float(g.scale * log2e), unit = Float(log2e)
        try parallelBLAS(workers) { w in
            let P = scratch + w * per, dS = P + bq * bk
            let Ktp = dS + bq * bk, Vtp = Ktp + pad16(chunk) * g.D, Kp = Vtp + pad16(chunk) * g.Dv
            let Qp = Kp + pad16(g.D) * chunk, dOp = Qp + pad16(g.D) * bq
            let Drows = dOp + pad16(g.Dv) * bq, shift = Drows + g.group * g.N
            for task in tasks * w / workers ..< tasks * (w + 1) / workers {
                let b = task / g.Hk, hk = task % g.Hk
                let (k, ldk) = mat(K, b, hk, Float.self), (v, ldv) = mat(V, b, hk, Float.self)
                let (dkp, lddk) = mat(dk, b, hk, Float.self), (dvp, lddv) = mat(dv, b, hk, Float.self)
                // D_i = rowsum(dO_i o O_i) for every head of the group
                for hg in 0 ..< g.group {
                    let h = hk * g.group + hg
                    let (o, ldo) = mat(O, b, h, Float.self), (go, ldg) = mat(dO, b, h, Float.self)
                    let Drow = Drows + hg * g.N
                    for i in 0 ..< g.N {
                        var acc: Float = 0
                        let orow = o + i * ldo, grow = go + i * ldg
                        for c in 0 ..< g.Dv { acc += orow[c] * grow[c] }
                        Drow[i] = acc
                    }
                }
                let visible = keyEnd(g, g.N)
                var kc0 = 0
                while kc0 < visible {
                    let kc1 = Swift.min(kc0 + chunk, visible), nk = kc1 - kc0
                    tide_attn_pack_f32(k + kc0 * ldk, 1, ldk, g.D, nk, Ktp)    // K^T: (D, nk)
                    tide_attn_pack_f32(v + kc0 * ldv, 1, ldv, g.Dv, nk, Vtp)   // V^T: (Dv, nk)
                    tide_attn_pack_f32(k + kc0 * ldk, ldk, 1, nk, g.D, Kp)     // K: (nk, D)
                    for hg in 0 ..< g.group {
                        let h = hk * g.group + hg
                        let (q, ldq) = mat(Q, b, h, Float.self), (go, ldg) = mat(dO, b, h, Float.self)
                        let (dqp, lddq) = mat(dq, b, h, Float.self)
                        let lrow = L + (b * g.H + h) * g.N, Drow = Drows + hg * g.N
                        var i0 = 0
                        while i0 < g.N {
                            let rows = Swift.min(bq, g.N - i0)
                            let jEnd = Swift.min(keyEnd(g, i0 + rows), kc1)
                            if jEnd <= kc0 { i0 += rows; continue }
                            for r in 0 ..< rows { shift[r] = Float(lrow[i0 + r] * log2e) }
                            tide_attn_pack_f32(q + i0 * ldq, ldq, 1, rows, g.D, Qp)     // Q_i: (rows, D)
                            tide_attn_pack_f32(go + i0 * ldg, ldg, 1, rows, g.Dv, dOp)  // dO_i: (rows, Dv)
                            var j0 = kc0
                            while j0 < jEnd {
                                let cols = Swift.min(bk, jEnd - j0)
                                let jt = j0 - kc0
                                let (out, kend, kbeg, d) = triangle(g, i0, j0, cols)
                                // P (rows, cols) = 2^(log2(e) (s Q_i K_j^T + masks - L_i))
                                tide_attn_gemm_f32(rows, cols, g.D, s2, q + i0 * ldq, ldq, 1, Ktp + jt * g.D, 16 * g.D, 0, nil, P, cols, out, d)
                                applyMasks(g, P, b, h, i0, rows, j0, cols, unit: unit)
                                tide_attn_exp_rows_f32(P, rows, cols, cols, shift)
                                // dV_j (cols, Dv) += P^T dO_i
                                tide_attn_gemm_f32(cols, g.Dv, rows, 1, P, 1, cols, dOp, 16 * rows, 1, nil,
                                                   dvp + j0 * lddv, lddv, kbeg, d)
                                // dP (rows, cols) = dO_i V_j^T, then dS = P (dP - D_i)
                                tide_attn_gemm_f32(rows, cols, g.Dv, 1, go + i0 * ldg, ldg, 1, Vtp + jt * g.Dv, 16 * g.Dv, 0, nil, dS, cols, out, d)
                                for r in 0 ..< rows {
                                    let d = Drow[i0 + r]
                                    let pr = P + r * cols, sr = dS + r * cols
                                    for c in 0 ..< cols { sr[c] = pr[c] * (sr[c] - d) }
                                }
                                // dQ_i (rows, D) += s dS K_j ;  dK_j (cols, D) += s dS^T Q_i
                                tide_attn_gemm_f32(rows, g.D, cols, s, dS, cols, 1, Kp + jt * 16, 16 * nk, 1, nil,
                                                   dqp + i0 * lddq, lddq, kend, d)
                                tide_attn_gemm_f32(cols, g.D, rows, s, dS, 1, cols, Qp, 16 * rows, 1, nil,
                                                   dkp + j0 * lddk, lddk, kbeg, d)
                                j0 += cols
                            }
                            i0 += rows
                        }
                    }
                    kc0 = kc1
                }
            }
        }
    }
}
