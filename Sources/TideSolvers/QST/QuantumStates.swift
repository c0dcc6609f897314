// QuantumStates: the density matrices tomography is tested on (brief §4.2), all as dense
// (d, d) c128 tensors with d = 2^n, qubit 1 the most significant bit of a basis index.
//
//     let rho = try QuantumStates.random(n: 4, rank: 2, purity: nil, generator: g)
//     let ghz = try QuantumStates.ghz(n: 5)                   // (|0…0> + |1…1>)/√2, projector
//     let w = try QuantumStates.wState(n: 3, vector: true)    // (|100> + |010> + |001>)/√3, (d,)
//     let prod = try QuantumStates.product(["0", "+", "r"])   // |0> ⊗ |+> ⊗ |+i>
//
// Random states:
//   - purity nil: ρ = V Vᴴ / tr(V Vᴴ) with V (d, r) i.i.d. CN(0, 1), the brief's generator
//     [reconstructed]; its spectrum is random.
//   - purity given (in [1/r, 1]): Haar-random eigenvectors (Gram-Schmidt of a complex Gaussian
//     d x r matrix) with the spectrum λ = (1 − t)/r + t δ_{i1}, t = √((purity − 1/r)/(1 − 1/r)),
//     the mix of a pure state with the maximally mixed state of its rank-r support [Tide choice].
// Every result is Hermitian, PSD and of trace 1 (pure states: exact projectors |ψ><ψ|).
import TideCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum QuantumStates {
    static func checkQubits(_ n: Int, _ op: String) throws -> Int {
        guard n >= 1 && n <= 12 else { throw TensorError("\(op): expected 1 to 12 qubits, got \(n)") }
        return 1 << n
    }

    /// |ψ><ψ| for a state vector psi (d values).
    public static func projector(_ psi: [C128]) throws -> Tensor {
        let d = psi.count
        let out = try Tensor(uninitialized: [d, d], dtype: .c128)
        let o = out.pointer(C128.self)
        for i in 0 ..< d { for j in 0 ..< d { o[i * d + j] = psi[i] * psi[j].conjugate } }
        return out
    }

    static func result(_ psi: [C128], vector: Bool) throws -> Tensor {
        vector ? try Tensor(complex: psi, shape: [psi.count]) : try projector(psi)
    }

    /// GHZ: (|0…0> + |1…1>)/√2. -> (d, d), or (d,) with vector.
    public static func ghz(n: Int, vector: Bool = false) throws -> Tensor {
        let d = try checkQubits(n, "ghz")
        var psi = [C128](repeating: C128(0, 0), count: d)
        psi[0] = C128(0.5.squareRoot(), 0); psi[d - 1] = C128(0.5.squareRoot(), 0)
        return try result(psi, vector: vector)
    }

    /// W: the uniform superposition of the n basis states with one excitation. -> (d, d) or (d,).
    public static func wState(n: Int, vector: Bool = false) throws -> Tensor {
        let d = try checkQubits(n, "w_state")
        var psi = [C128](repeating: C128(0, 0), count: d)
        let amp = 1 / Double(n).squareRoot()
        for q in 0 ..< n { psi[1 << q] = C128(amp, 0) }
        return try result(psi, vector: vector)
    }

    /// One qubit's state from a name: "0", "1", "+", "-", "r" (+i, (|0> + i|1>)/√2), "l" (−i).
    public static func qubit(named s: String) throws -> (C128, C128) {
        let h = 0.5.squareRoot()
        switch s {
        case "0": return (C128(1, 0), C128(0, 0))
        case "1": return (C128(0, 0), C128(1, 0))
        case "+": return (C128(h, 0), C128(h, 0))
        case "-": return (C128(h, 0), C128(-h, 0))
        case "r", "+i": return (C128(h, 0), C128(0, h))
        case "l", "-i": return (C128(h, 0), C128(0, -h))
        default: throw TensorError("product_state: unknown qubit state '\(s)' (expected 0, 1, +, -, r or l)")
        }
    }

    /// cos(θ/2)|0> + e^{iφ} sin(θ/2)|1>: the Bloch-sphere point (θ, φ).
    public static func qubit(theta: Double, phi: Double) -> (C128, C128) {
        (C128(cos(theta / 2), 0), C128(cos(phi), sin(phi)) * sin(theta / 2))
    }

    /// The product state of single-qubit states (qubit 1 first). -> (d, d) or (d,).
    public static func product(_ qubits: [(C128, C128)], vector: Bool = false) throws -> Tensor {
        let d = try checkQubits(qubits.count, "product_state")
        var psi = [C128](repeating: C128(1, 0), count: d)
        let n = qubits.count
        for j in 0 ..< d {
            var amp = C128(1, 0)
            for q in 0 ..< n { amp = amp * ((j >> (n - 1 - q)) & 1 == 0 ? qubits[q].0 : qubits[q].1) }
            psi[j] = amp
        }
        var norm = 0.0
        for a in psi { norm += a.lengthSquared }
        guard norm > 0 else { throw TensorError("product_state: a qubit state has zero norm") }
        let s = 1 / norm.squareRoot()
        return try result(psi.map { $0 * s }, vector: vector)
    }

    /// A random rank-r density matrix (see the file header). -> (d, d) c128.
    public static func random(n: Int, rank r: Int, purity: Double?, generator g: Generator) throws -> Tensor {
        let d = try checkQubits(n, "random_state")
        guard r >= 1 && r <= d else { throw TensorError("random_state: rank must be in 1...\(d) for \(n) qubits, got \(r)") }
        if let p = purity {
            let lo = 1 / Double(r)
            guard p >= lo - 1e-12 && p <= 1 + 1e-12 else {
                throw TensorError("random_state: purity must be in [1/rank, 1] = [\(lo), 1] for rank \(r), got \(p)")
            }
            if r == 1 && abs(p - 1) > 1e-12 { throw TensorError("random_state: a rank-1 state has purity 1, got \(p)") }
        }
        // V: (d, r) i.i.d. CN(0, 1), column-major here so columns are contiguous
        var v = [C128](repeating: C128(0, 0), count: d * r)
        let s = 0.5.squareRoot()
        for k in 0 ..< d * r { let (a, b) = g.normalPair(); v[k] = C128(a * s, b * s) }
        var weights = [Double](repeating: 1, count: r)
        if let p = purity {
            // Gram-Schmidt (twice, for orthogonality to rounding): Haar-distributed columns
            for col in 0 ..< r {
                for _ in 0 ..< 2 {
                    for prev in 0 ..< col {
                        var dot = C128(0, 0)
                        for i in 0 ..< d { dot = dot + v[prev * d + i].conjugate * v[col * d + i] }
                        for i in 0 ..< d { v[col * d + i] = v[col * d + i] - dot * v[prev * d + i] }
                    }
                }
                var nrm = 0.0
                for i in 0 ..< d { nrm += v[col * d + i].lengthSquared }
                let inv = 1 / nrm.squareRoot()
                for i in 0 ..< d { v[col * d + i] = v[col * d + i] * inv }
            }
            let t = r == 1 ? 1 : max(0, (p - 1 / Double(r)) / (1 - 1 / Double(r))).squareRoot()
            for k in 0 ..< r { weights[k] = (1 - t) / Double(r) + (k == 0 ? t : 0) }
        }
        let out = try Tensor.zeros([d, d], dtype: .c128)
        let o = out.pointer(C128.self)
        for k in 0 ..< r {
            let w = weights[k]
            for i in 0 ..< d {
                let vi = v[k * d + i] * w
                for j in 0 ..< d { o[i * d + j] = o[i * d + j] + vi * v[k * d + j].conjugate }
            }
        }
        var tr = 0.0
        for i in 0 ..< d { tr += o[i * d + i].real }
        let inv = 1 / tr
        for i in 0 ..< d * d { o[i] = o[i] * inv }
        DensityMatrix.hermitianize(o, d)
        return out
    }
}
