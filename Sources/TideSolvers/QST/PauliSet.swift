// PauliSet: many distinct Pauli strings at once, grouped by their x mask, for the two
// operations every tomography iteration needs (brief §4.3-4.4):
//
//     let set = try PauliSet(n: 6, codes: codes)          // K distinct strings
//     set.expectations(rho, into: a)                      // a_P = tr(P rho): (d, d) -> (K,)
//     set.weightedSum(c, into: g)                         // Σ_P c_P P:        (K,) -> (d, d)
//     set.expectations(factor: u, rank: r, into: a)       // tr(P U Uᴴ), U: (d, r), no U Uᴴ
//     set.applySum(c, factor: u, rank: r, into: grad)     // (Σ_P c_P P) U, no d x d matrix
//
// Why group by x: every string with mask x has its nonzeros at the same d entries
// (c ⊕ x, c), and for fixed x
//     tr(P rho) = i^{popcount(x&z)} Σ_c (−1)^{popcount(c&z)} rho[c, c ⊕ x]
// is entry z of the Walsh-Hadamard transform of v_x[c] = rho[c, c ⊕ x]. Likewise the part of
// Σ c_P P on those entries is the transform of w_x[z] = c_P i^{popcount(x&z)}:
//     (Σ c_P P)[c ⊕ x, c] = H(w_x)[c].
// Each group takes the cheaper of k_x direct sums of length d or one fast transform
// (d log2 d), so the cost is never above the O(K d) of one pass per string, and is
// O(d^2 log d) when all 4^n strings are present. Nothing ever forms a dense Pauli matrix.
//
// The factored forms read v_x[c] = Σ_s U[c,s] conj(U[c⊕x,s]) from the d x r factor and fold
// the product with U into the same pass, so a rank-r iteration touches O(d r) memory per mask
// instead of scattered entries of two d x d matrices.
// Groups write disjoint matrix entries, so they split over the cores without locks (applySum
// keeps one accumulator per part). Arrays are built once per set; the hot loops run on unsafe
// buffers with one scratch vector per part.
import TideCore

public struct PauliSet: Sendable {
    public let n: Int
    /// The codes in the caller's order.
    public let codes: [UInt64]
    let xs: [Int]            // distinct x masks, ascending
    let start: [Int]         // group g holds entries start[g] ..< start[g + 1]
    let zs: [Int]            // z mask of each entry, in group order
    let order: [Int]         // caller index of each entry, in group order
    let transform: [Bool]    // per group: the fast transform beats direct sums
    let signs: [Double]      // (−1)^popcount(c) for c < d: the sign of (c & z) in one load

    public var count: Int { codes.count }
    public var dimension: Int { 1 << n }

    public init(n: Int, codes: [UInt64]) throws {
        guard n >= 1 && n <= 14 else { throw TensorError("qst: expected 1 to 14 qubits for dense d x d work, got \(n)") }
        let limit = PauliString.count(n)
        var keyed: [(key: UInt64, index: Int)] = []
        keyed.reserveCapacity(codes.count)
        for (k, c) in codes.enumerated() {
            guard c < limit else { throw TensorError("qst: Pauli code \(c) out of range for \(n) qubits (expected 0 to \(limit - 1))") }
            let (x, z) = PauliString.masks(code: c, n: n)
            keyed.append(((x << UInt64(n)) | z, k))
        }
        keyed.sort { $0.key < $1.key }
        var xs: [Int] = [], start: [Int] = [], zs: [Int] = [], order: [Int] = []
        zs.reserveCapacity(keyed.count); order.reserveCapacity(keyed.count)
        let zmask = (UInt64(1) << UInt64(n)) - 1
        for (e, item) in keyed.enumerated() {
            let x = Int(item.key >> UInt64(n))
            if xs.last != x { xs.append(x); start.append(e) }
            zs.append(Int(item.key & zmask)); order.append(item.index)
        }
        start.append(keyed.count)
        // direct: k_x passes over d entries (a sign-table load and a multiply-add each);
        // transform: d log2 d butterflies, about four times cheaper each (SIMD, no lookups)
        transform = (0 ..< xs.count).map { g in 4 * (start[g + 1] - start[g]) >= n }
        let d = 1 << n
        signs = (0 ..< d).map { ($0.nonzeroBitCount & 1) == 0 ? 1.0 : -1.0 }
        self.n = n; self.codes = codes; self.xs = xs; self.start = start; self.zs = zs; self.order = order
    }

    /// Groups per parallel part, so that each part has enough work to pay for a thread.
    var grain: Int { max(1, 32768 / (dimension * max(n, 1))) }

    /// In-place unnormalized Walsh-Hadamard transform of d interleaved complex values:
    /// v[z] <- Σ_c (−1)^{popcount(c&z)} v[c]. O(d log2 d). A complex stage with span h is a
    /// real stage with span 2h over the 2d doubles, so the inner loop runs over contiguous
    /// doubles (SIMD-friendly) and the re/im-mixing span-1 real stage is simply skipped.
    @inline(__always)
    static func fwht(_ v: UnsafeMutablePointer<Double>, _ d: Int) {
        let n2 = 2 &* d
        var h = 2
        while h < n2 {
            var i = 0
            while i < n2 {
                let p = v + i, q = v + (i &+ h)
                for j in 0 ..< h {
                    let a = p[j], b = q[j]
                    p[j] = a + b; q[j] = a - b
                }
                i = i &+ 2 &* h
            }
            h = h &* 2
        }
    }

    /// Re(i^k (re + i im)).
    @inline(__always)
    static func rotatedReal(_ k: Int, _ re: Double, _ im: Double) -> Double {
        switch k & 3 {
        case 0: return re
        case 1: return -im
        case 2: return -re
        default: return im
        }
    }

    /// Writes a[order[e]] for the entries of group g, from v[c] = rho[c, c ⊕ x] (d interleaved
    /// complex values; destroyed when the group uses the transform).
    @inline(__always)
    func finishExpectations(_ g: Int, _ v: UnsafeMutablePointer<Double>, _ a: UnsafeMutablePointer<Double>) {
        let d = dimension, x = xs[g]
        if transform[g] {
            PauliSet.fwht(v, d)
            for e in start[g] ..< start[g + 1] {
                let z = zs[e]
                a[order[e]] = PauliSet.rotatedReal((x & z).nonzeroBitCount, v[2 * z], v[2 * z + 1])
            }
        } else {
            signs.withUnsafeBufferPointer { sg in
                for e in start[g] ..< start[g + 1] {
                    let z = zs[e]
                    var sr = 0.0, si = 0.0
                    for c in 0 ..< d {
                        let s = sg[c & z]
                        sr += s * v[2 * c]; si += s * v[2 * c + 1]
                    }
                    a[order[e]] = PauliSet.rotatedReal((x & z).nonzeroBitCount, sr, si)
                }
            }
        }
    }

    /// a[k] = tr(P_k rho) for the Hermitian strings of the set (caller order).
    /// rho: (d, d) row-major complex, Hermitian (the real part is returned).
    public func expectations(_ rho: UnsafePointer<C128>, into a: UnsafeMutablePointer<Double>) throws {
        let d = dimension
        let r = UnsafeRawPointer(rho).assumingMemoryBound(to: Double.self)
        try Threads.parallelFor(xs.count, grain: grain) { lo, hi in
            let v = UnsafeMutablePointer<Double>.allocate(capacity: 2 * d)
            defer { v.deallocate() }
            for g in lo ..< hi {
                let x = xs[g]
                for c in 0 ..< d {  // v[c] = rho[c, c ⊕ x]
                    let s = 2 * (c * d + (c ^ x))
                    v[2 * c] = r[s]; v[2 * c + 1] = r[s + 1]
                }
                finishExpectations(g, v, a)
            }
        }
    }

    /// a[k] = tr(P_k U Uᴴ) for U: (d, rank) row-major, without forming U Uᴴ:
    /// v[c] = (U Uᴴ)[c, c ⊕ x] = Σ_s U[c, s] conj(U[c ⊕ x, s]), O(d r) per x mask, and U stays
    /// in cache where a d x d matrix would not (the factored path of WirtingerGD).
    public func expectations(factor u: UnsafePointer<C128>, rank r: Int, into a: UnsafeMutablePointer<Double>) throws {
        let d = dimension
        let up = UnsafeRawPointer(u).assumingMemoryBound(to: Double.self)
        try Threads.parallelFor(xs.count, grain: grain) { lo, hi in
            let v = UnsafeMutablePointer<Double>.allocate(capacity: 2 * d)
            defer { v.deallocate() }
            for g in lo ..< hi {
                let x = xs[g]
                for c in 0 ..< d {
                    let p = up + 2 * c * r, q = up + 2 * (c ^ x) * r
                    var re = 0.0, im = 0.0
                    for s in 0 ..< r {   // p[s] conj(q[s])
                        let pr = p[2 * s], pi = p[2 * s + 1], qr = q[2 * s], qi = q[2 * s + 1]
                        re += pr * qr + pi * qi; im += pi * qr - pr * qi
                    }
                    v[2 * c] = re; v[2 * c + 1] = im
                }
                finishExpectations(g, v, a)
            }
        }
    }

    /// Fills h (d interleaved complex) with the column values of group g of Σ c_P P:
    /// (Σ c_P P)[c ⊕ x, c] = h[c].
    @inline(__always)
    func groupColumn(_ g: Int, _ coef: UnsafePointer<Double>, _ h: UnsafeMutablePointer<Double>) {
        let d = dimension, x = xs[g]
        if transform[g] {
            h.initialize(repeating: 0, count: 2 * d)
            for e in start[g] ..< start[g + 1] {  // w[z] = c i^{popcount(x&z)}
                let z = zs[e], c = coef[order[e]]
                switch (x & z).nonzeroBitCount & 3 {
                case 0: h[2 * z] = c
                case 1: h[2 * z + 1] = c
                case 2: h[2 * z] = -c
                default: h[2 * z + 1] = -c
                }
            }
            PauliSet.fwht(h, d)
        } else {
            // h[c] = Σ_e w_e (−1)^popcount(c & z_e) with w_e = c_e i^popcount(x & z_e)
            h.initialize(repeating: 0, count: 2 * d)
            signs.withUnsafeBufferPointer { sg in
                for e in start[g] ..< start[g + 1] {
                    let z = zs[e], w = coef[order[e]]
                    let k = (x & z).nonzeroBitCount & 3
                    let wr = k == 0 ? w : (k == 2 ? -w : 0), wi = k == 1 ? w : (k == 3 ? -w : 0)
                    for c in 0 ..< d {
                        let s = sg[c & z]
                        h[2 * c] += s * wr; h[2 * c + 1] += s * wi
                    }
                }
            }
        }
    }

    /// out = Σ_k c[k] P_k as a dense (d, d) row-major complex matrix (Hermitian for real c).
    public func weightedSum(_ coef: UnsafePointer<Double>, into out: UnsafeMutablePointer<C128>) throws {
        let d = dimension
        out.initialize(repeating: C128(0, 0), count: d * d)
        let o = UnsafeMutableRawPointer(out).assumingMemoryBound(to: Double.self)
        try Threads.parallelFor(xs.count, grain: grain) { lo, hi in
            let h = UnsafeMutablePointer<Double>.allocate(capacity: 2 * d)
            defer { h.deallocate() }
            for g in lo ..< hi {
                let x = xs[g]
                groupColumn(g, coef, h)
                for c in 0 ..< d {  // (Σ c_P P)[c ⊕ x, c] = h[c]
                    let t = 2 * ((c ^ x) * d + c)
                    o[t] = h[2 * c]; o[t + 1] = h[2 * c + 1]
                }
            }
        }
    }

    /// out (d, r) = G U with G the Hermitian part of Σ_k c[k] P_k, without forming G:
    /// G[c ⊕ x, c] = (h_x[c] + conj(h_x[c ⊕ x]))/2, so (G U)[c ⊕ x, :] += that · U[c, :].
    /// O(d r) per x mask after its transform. Each parallel part accumulates into its own
    /// (d, r) buffer (every mask touches every row); the parts are added at the end.
    public func applySum(_ coef: UnsafePointer<Double>, factor u: UnsafePointer<C128>, rank r: Int,
                         into out: UnsafeMutablePointer<C128>) throws {
        let d = dimension
        let parts = max(1, min(Threads.count, xs.count / grain))
        let acc = UnsafeMutablePointer<Double>.allocate(capacity: parts * 2 * d * r)
        defer { acc.deallocate() }
        acc.initialize(repeating: 0, count: parts * 2 * d * r)
        let up = UnsafeRawPointer(u).assumingMemoryBound(to: Double.self)
        let groups = xs.count
        try Threads.parallelFor(parts, grain: 1) { plo, phi in
            let h = UnsafeMutablePointer<Double>.allocate(capacity: 2 * d)
            defer { h.deallocate() }
            for part in plo ..< phi {
                let o = acc + part * 2 * d * r
                for g in (groups * part / parts) ..< (groups * (part + 1) / parts) {
                    let x = xs[g]
                    groupColumn(g, coef, h)
                    for c in 0 ..< d {
                        let cx = c ^ x
                        let hr = (h[2 * c] + h[2 * cx]) / 2, hi = (h[2 * c + 1] - h[2 * cx + 1]) / 2
                        let src = up + 2 * c * r, dst = o + 2 * cx * r
                        for s in 0 ..< r {
                            let ur = src[2 * s], ui = src[2 * s + 1]
                            dst[2 * s] += hr * ur - hi * ui; dst[2 * s + 1] += hr * ui + hi * ur
                        }
                    }
                }
            }
        }
        let o = UnsafeMutableRawPointer(out).assumingMemoryBound(to: Double.self)
        o.update(from: acc, count: 2 * d * r)
        for part in 1 ..< parts { for i in 0 ..< 2 * d * r { o[i] += acc[part * 2 * d * r + i] } }
    }
}
