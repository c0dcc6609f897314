// IRSSystem: a simulated uplink IRS-assisted MIMO channel-estimation problem (spec
// solvers.md 3.2, paper B: Qin & Zhu, arXiv 2412.16827), as a tensor-train chain.
//
//     let sys = try IRSSystem.simulate(P: 16, elements: [8], M: 4, phaseCounts: [8], T: 32,
//                                      sigma2: 0.1, seed: 1)
//     sys.channels     // [H (16, 8), G (8, 4)]: the truth, c128
//     sys.phases       // [S (8, 8)]: row k = IRS phase vector s_k of block k
//     sys.pilots       // (K, M, T) = X_k;   sys.received  // (K, P, T) = Y_k
//
// Model [third-party + reconstructed]: Y_k = H diag(s_k) G X_k + W_k, W_k i.i.d. CN(0, sigma^2).
// The cascaded channel B_k = H diag(s_k) G, i.e. B(p, k, m) = sum_n H(p, n) S(k, n) G(n, m):
// a 3-core TT with a known diagonal middle core, and Y = B x_k X_k is the tensor-on-tensor
// regression. A multi-hop IRS (3.5) is the longer chain
//     B_{k_1..k_h} = F_0 diag(s^(1)_{k_1}) F_1 diag(s^(2)_{k_2}) ... F_h,
// with F_0 (P, N_1), F_l (N_l, N_{l+1}), F_h (N_h, M) and one block per combination of phase
// indices (k_1 varies slowest). One hop (elements = [N]) is the base model.
//
// Synthetic choices [Tide choice]: Rayleigh channels (i.i.d. CN(0, 1)); low-rank channels
// (3.5) F = A B^H / sqrt(r) with CN(0, 1) factors (unit-variance entries); IRS phases e^{i theta},
// theta ~ U[0, 2 pi), or DFT rows S(k, n) = e^{-2 pi i k n / K}; pilots CN(0, 1), QPSK
// (+-1 +- i)/sqrt(2) (the complex Rademacher of MeasurementOperator) or orthogonal (first M rows
// of the T-point DFT, X X^H = T I, needs T >= M), fresh per block unless shared. The received
// SNR per entry is (prod N_l) M / sigma^2 (snrDB sets sigma^2 from it).
//
// Seeds: channels, phases, pilots and noise come from separate streams of one seed, so an
// SNR or T sweep over one seed keeps the same channels and phases.
import ComplexModule
import RealModule
import TideCore

public struct IRSSystem {
    public enum Pilots: String, Sendable, CaseIterable { case gaussian, qpsk, orthogonal }
    public enum Phases: String, Sendable, CaseIterable { case random, dft }

    public let P: Int, M: Int, T: Int
    /// N_1..N_h (IRS elements per hop).
    public let elements: [Int]
    /// K_1..K_h (phase configurations per hop).
    public let phaseCounts: [Int]
    /// The true channels F_0..F_h, c128.
    public let channels: [Tensor]
    /// S^(l) (K_l, N_l) per hop, c128 unit modulus.
    public let phases: [Tensor]
    /// (J, M, T), J = prod K_l.
    public let pilots: Tensor
    /// (J, P, T).
    public let received: Tensor
    public let sigma2: Double

    public var hops: Int { elements.count }
    public var blocks: Int { phaseCounts.reduce(1, *) }

    /// The phase index of each hop for block j (k_1 slowest).
    public func phaseIndices(_ j: Int) -> [Int] {
        var out = [Int](repeating: 0, count: hops), r = j
        for l in stride(from: hops - 1, through: 0, by: -1) { out[l] = r % phaseCounts[l]; r /= phaseCounts[l] }
        return out
    }

    /// Builds a system from given parts (checks every shape).
    public init(channels: [Tensor], phases: [Tensor], pilots: Tensor, received: Tensor, sigma2: Double, name: String = "irs.system") throws {
        guard channels.count >= 2, phases.count == channels.count - 1 else {
            throw TensorError("\(name): expected h+1 channels and h phase matrices (h >= 1), got \(channels.count) and \(phases.count)")
        }
        for (i, c) in channels.enumerated() where c.dim != 2 {
            throw TensorError("\(name): channel \(i + 1) must be a matrix, got shape \(shapeString(c.shape))")
        }
        for i in 1 ..< channels.count where channels[i - 1].shape[1] != channels[i].shape[0] {
            throw TensorError("\(name): channel \(i) is \(shapeString(channels[i - 1].shape)) but channel \(i + 1) is \(shapeString(channels[i].shape))")
        }
        var els: [Int] = [], ks: [Int] = []
        for (l, s) in phases.enumerated() {
            let n = channels[l].shape[1]
            guard s.dim == 2, s.shape[1] == n, s.shape[0] >= 1 else {
                throw TensorError("\(name): phases \(l + 1) must be (K, \(n)), got shape \(shapeString(s.shape))")
            }
            els.append(n); ks.append(s.shape[0])
        }
        var J = 1
        for k in ks {
            let (v, o) = J.multipliedReportingOverflow(by: k)
            if o { throw TensorError("\(name): the number of blocks prod K overflows") }
            J = v
        }
        let P = channels[0].shape[0], M = channels[channels.count - 1].shape[1]
        guard pilots.dim == 3, pilots.shape[0] == J, pilots.shape[1] == M, pilots.shape[2] >= 1 else {
            throw TensorError("\(name): pilots must be (\(J), \(M), T), got shape \(shapeString(pilots.shape))")
        }
        let T = pilots.shape[2]
        guard received.shape == [J, P, T] else {
            throw TensorError("\(name): received must be (\(J), \(P), \(T)), got shape \(shapeString(received.shape))")
        }
        guard sigma2 >= 0 && sigma2.isFinite else { throw TensorError("\(name): sigma2 must be >= 0, got \(sigma2)") }
        self.P = P; self.M = M; self.T = T
        elements = els; phaseCounts = ks
        self.channels = try channels.map { try $0.to(.c128).contiguous() }
        self.phases = try phases.map { try $0.to(.c128).contiguous() }
        self.pilots = try pilots.to(.c128).contiguous()
        self.received = try received.to(.c128).contiguous()
        self.sigma2 = sigma2
    }

    /// Simulates a system. ranks: per channel (h+1 entries), nil = full rank.
    public static func simulate(P: Int, elements: [Int], M: Int, phaseCounts: [Int], T: Int, sigma2: Double,
                                pilots pilotKind: Pilots = .gaussian, sharedPilots: Bool = false,
                                phases phaseKind: Phases = .random, ranks: [Int?]? = nil, seed: UInt64,
                                name: String = "irs.simulate") throws -> IRSSystem {
        guard P >= 1, M >= 1, T >= 1 else { throw TensorError("\(name): expected P, M, T >= 1, got P=\(P), M=\(M), T=\(T)") }
        guard !elements.isEmpty, elements.count == phaseCounts.count else {
            throw TensorError("\(name): expected one N and one K per hop, got \(elements.count) and \(phaseCounts.count)")
        }
        for (l, n) in elements.enumerated() where n < 1 { throw TensorError("\(name): N of hop \(l + 1) must be >= 1, got \(n)") }
        for (l, k) in phaseCounts.enumerated() where k < 1 { throw TensorError("\(name): K of hop \(l + 1) must be >= 1, got \(k)") }
        guard sigma2 >= 0 && sigma2.isFinite else { throw TensorError("\(name): sigma2 must be a finite number >= 0, got \(sigma2)") }
        if pilotKind == .orthogonal && T < M {
            throw TensorError("\(name): orthogonal pilots need T >= M, got T=\(T), M=\(M)")
        }
        let sizes = [P] + elements + [M]
        // every buffer is checked before anything is allocated (ZMatrix allocates unchecked)
        var J = 1
        for k in phaseCounts {
            let (v, o) = J.multipliedReportingOverflow(by: k)
            if o { throw TensorError("\(name): the number of blocks prod K overflows") }
            J = v
        }
        var bytes = 0.0
        for c in 0 ..< sizes.count - 1 { bytes += Double(try Tensor.checkedCount([sizes[c], sizes[c + 1]])) * 16 }
        for l in 0 ..< elements.count { bytes += Double(try Tensor.checkedCount([phaseCounts[l], elements[l]])) * 16 }
        bytes += Double(try Tensor.checkedCount([J, M, T])) * 16 + Double(try Tensor.checkedCount([J, P, T])) * 16
        guard bytes <= Double(Storage.maxBytes) else {
            throw TensorError("\(name): the system needs \(formatBytes(Int(min(bytes, 9e18)))), more than the limit of \(formatBytes(Storage.maxBytes))")
        }
        let rks = ranks ?? [Int?](repeating: nil, count: sizes.count - 1)
        guard rks.count == sizes.count - 1 else { throw TensorError("\(name): expected \(sizes.count - 1) channel ranks, got \(rks.count)") }
        let root = Generator(seed: seed)
        let gCh = Generator(seed: root.next()), gPh = Generator(seed: root.next())
        let gPi = Generator(seed: root.next()), gNo = Generator(seed: root.next())
        var channels: [Tensor] = []
        for c in 0 ..< sizes.count - 1 {
            let rows = sizes[c], cols = sizes[c + 1]
            if let r = rks[c] {
                guard r >= 1 && r <= min(rows, cols) else {
                    throw TensorError("\(name): rank of channel \(c + 1) must be in 1...\(min(rows, cols)), got \(r)")
                }
                let a = complexGaussian(rows, r, gCh), b = complexGaussian(cols, r, gCh)
                let f = ZMatrix.product(a, .none, b, .adjoint)
                let s = C128(1 / Double(r).squareRoot(), 0)
                for i in 0 ..< f.count { f.p[i] = s * f.p[i] }
                channels.append(try f.tensor())
            } else {
                channels.append(try complexGaussian(rows, cols, gCh).tensor())
            }
        }
        var phases: [Tensor] = []
        for l in 0 ..< elements.count {
            let K = phaseCounts[l], N = elements[l]
            let s = ZMatrix(rows: K, cols: N)
            for k in 0 ..< K {
                for n in 0 ..< N {
                    let th = phaseKind == .random ? 2 * Double.pi * gPh.uniform() : -2 * Double.pi * Double(k * n) / Double(K)
                    s[k, n] = C128(Double.cos(th), Double.sin(th))
                }
            }
            phases.append(try s.tensor())
        }
        let X = try Tensor(uninitialized: [J, M, T], dtype: .c128)
        let xp = X.pointer(C128.self)
        for j in 0 ..< J {
            if sharedPilots && j > 0 { (xp + j * M * T).update(from: xp, count: M * T); continue }
            fillPilots(xp + j * M * T, M, T, pilotKind, gPi)
        }
        // Y_j = B_j X_j + W_j
        let Y = try Tensor(uninitialized: [J, P, T], dtype: .c128)
        let yp = Y.pointer(C128.self)
        let chain = try channels.map { try ZMatrix($0) }
        let ph = try phases.map { try ZMatrix($0) }
        let noise = Scratch<Double>(count: 2 * P * T)
        let sd = (sigma2 / 2).squareRoot()
        var idx = [Int](repeating: 0, count: elements.count)
        for j in 0 ..< J {
            var r = j
            for l in stride(from: elements.count - 1, through: 0, by: -1) { idx[l] = r % phaseCounts[l]; r /= phaseCounts[l] }
            let B = cascade(chain, ph, idx)
            withExtendedLifetime(B) { BLAS.zgemm(P, T, M, B.p, M, .none, xp + j * M * T, T, .none, yp + j * P * T, T) }
            gNo.fillNormal(noise.p, count: 2 * P * T)
            let yr = UnsafeMutableRawPointer(yp + j * P * T).assumingMemoryBound(to: Double.self)
            for i in 0 ..< 2 * P * T { yr[i] += sd * noise.p[i] }
        }
        return try IRSSystem(channels: channels, phases: phases, pilots: X, received: Y, sigma2: sigma2, name: name)
    }

    /// sigma^2 for a received SNR in dB: the signal power per entry is (prod N_l) M.
    public static func sigma2(snrDB: Double, elements: [Int], M: Int) -> Double {
        elements.reduce(Double(M)) { $0 * Double($1) } / Double.pow(10, snrDB / 10)
    }

    /// B = F_0 diag(s^(1)_{k_1}) F_1 ... F_h for phase indices idx.
    static func cascade(_ chain: [ZMatrix], _ phases: [ZMatrix], _ idx: [Int]) -> ZMatrix {
        var acc = chain[0].copy()
        for l in 0 ..< phases.count {
            let s = phases[l]
            acc.scaleColumns(s.p + idx[l] * s.cols)
            acc = ZMatrix.product(acc, .none, chain[l + 1], .none)
        }
        return acc
    }

    /// The true cascaded channels B_j: (J, P, M) c128.
    public func cascaded() throws -> Tensor {
        try IRSSystem.cascaded(channels: channels, phases: phases, phaseCounts: phaseCounts)
    }

    /// B_j for given channels and phases (the phase matrices fix the block order): (J, P, M).
    public static func cascaded(channels: [Tensor], phases: [Tensor], phaseCounts: [Int]) throws -> Tensor {
        let chain = try channels.map { try ZMatrix($0) }, ph = try phases.map { try ZMatrix($0) }
        let P = chain[0].rows, M = chain[chain.count - 1].cols, J = phaseCounts.reduce(1, *)
        let out = try Tensor(uninitialized: [J, P, M], dtype: .c128)
        var idx = [Int](repeating: 0, count: phaseCounts.count)
        for j in 0 ..< J {
            var r = j
            for l in stride(from: phaseCounts.count - 1, through: 0, by: -1) { idx[l] = r % phaseCounts[l]; r /= phaseCounts[l] }
            let B = cascade(chain, ph, idx)
            withExtendedLifetime(B) { (out.pointer(C128.self) + j * P * M).update(from: B.p, count: P * M) }
        }
        return out
    }
}

/// rows x cols i.i.d. CN(0, 1).
func complexGaussian(_ rows: Int, _ cols: Int, _ g: Generator) -> ZMatrix {
    let z = ZMatrix(rows: rows, cols: cols)
    let raw = UnsafeMutableRawPointer(z.p).assumingMemoryBound(to: Double.self)
    g.fillNormal(raw, count: 2 * rows * cols)
    let s = 0.5.squareRoot()
    for i in 0 ..< 2 * rows * cols { raw[i] *= s }
    return z
}

/// One pilot block (M, T).
func fillPilots(_ p: UnsafeMutablePointer<C128>, _ M: Int, _ T: Int, _ kind: IRSSystem.Pilots, _ g: Generator) {
    let raw = UnsafeMutableRawPointer(p).assumingMemoryBound(to: Double.self)
    switch kind {
    case .gaussian:
        g.fillNormal(raw, count: 2 * M * T)
        let s = 0.5.squareRoot()
        for i in 0 ..< 2 * M * T { raw[i] *= s }
    case .qpsk:
        MeasurementOperator.fill(raw, 2 * M * T, .complexRademacher, 1, g)
    case .orthogonal:
        // rows m of the T-point DFT: X X^H = T I
        for m in 0 ..< M {
            for t in 0 ..< T {
                let th = -2 * Double.pi * Double(m * t) / Double(T)
                p[m * T + t] = C128(Double.cos(th), Double.sin(th))
            }
        }
    }
}
