// PauliString: an n-qubit Pauli operator i^k X^x Z^z held as two bit masks and a phase, never
// as a dense 2^n x 2^n matrix (brief §4.3).
//
//     let w = try PauliString("XIZY")          // n = 4, x = 0b1001, z = 0b0011, one Y
//     let a = try w.expectation(rho)           // tr(W rho) in O(d), rho: (d, d)
//     let wr = try w.apply(rho)                // W rho in O(d^2), no dense W
//     let p = w * PauliString("ZZZZ")          // products stay Pauli strings (phase tracked)
//     let dense = try w.dense()                // kron(σ_X, σ_I, σ_Z, σ_Y): the test reference
//
// Bit mapping: qubit 1 is the most significant bit of x, z and of a basis index j, so the masks
// match kron(σ_{c_1}, ..., σ_{c_n}). Since Y = iXZ, the operator i^k X^x Z^z has exactly one
// nonzero per row:
//     W[r, r ⊕ x] = i^k (−1)^{popcount((r ⊕ x) & z)}
// The Hermitian string spelled by a label has k = popcount(x & z) (one i per Y); other phases
// are written as a prefix of the label: "-XY", "iZ", "-iXX".
//
// Codes: the base-4 number whose digits (I = 0, X = 1, Y = 2, Z = 3) spell the label, qubit 1
// most significant; code 0 is the identity. Codes ignore the phase.
//
// Value type; no storage beyond three words.
import TideCore

public struct PauliString: Hashable, Sendable, CustomStringConvertible {
    /// The largest qubit count whose codes fit in a UInt64 (4^31 < 2^63).
    public static let maxQubits = 31

    public let n: Int
    /// Qubits carrying X or Y (qubit 1 = bit n-1).
    public let x: UInt64
    /// Qubits carrying Z or Y.
    public let z: UInt64
    /// k in 0..<4: the operator is i^k X^x Z^z.
    public let phase: Int

    public init(n: Int, x: UInt64, z: UInt64, phase: Int) throws {
        guard n >= 1 && n <= PauliString.maxQubits else {
            throw TensorError("pauli: expected 1 to \(PauliString.maxQubits) qubits, got \(n)")
        }
        let mask: UInt64 = (1 << UInt64(n)) - 1
        guard x & ~mask == 0 && z & ~mask == 0 else {
            throw TensorError("pauli: masks x = \(x), z = \(z) have bits beyond \(n) qubits")
        }
        self.n = n; self.x = x; self.z = z
        self.phase = ((phase % 4) + 4) % 4
    }

    /// The Hermitian string with masks (x, z): phase i^{popcount(x & z)}.
    public init(n: Int, x: UInt64, z: UInt64) throws {
        try self.init(n: n, x: x, z: z, phase: (x & z).nonzeroBitCount)
    }

    /// Parses "XIZY", optionally prefixed by "+", "-", "i", "+i" or "-i" (a phase relative to
    /// the Hermitian string). Letters are I, X, Y, Z (either case).
    public init(_ label: String) throws {
        var s = Substring(label)
        var rel = 0
        for (prefix, r) in [("-i", 3), ("+i", 1), ("-", 2), ("+", 0), ("i", 1)] where s.hasPrefix(prefix) {
            rel = r; s = s.dropFirst(prefix.count); break
        }
        guard !s.isEmpty else { throw TensorError("pauli: expected a label of I, X, Y, Z letters, got '\(label)'") }
        var x: UInt64 = 0, z: UInt64 = 0
        for ch in s {
            x <<= 1; z <<= 1
            switch ch {
            case "I", "i": break
            case "X", "x": x |= 1
            case "Y", "y": x |= 1; z |= 1
            case "Z", "z": z |= 1
            default: throw TensorError("pauli: expected the letters I, X, Y, Z in '\(label)', got '\(ch)'")
            }
        }
        try self.init(n: s.count, x: x, z: z, phase: (x & z).nonzeroBitCount + rel)
    }

    /// The Hermitian string with base-4 code `code` on n qubits.
    public init(code: UInt64, n: Int) throws {
        guard n >= 1 && n <= PauliString.maxQubits else {
            throw TensorError("pauli: expected 1 to \(PauliString.maxQubits) qubits, got \(n)")
        }
        guard code < PauliString.count(n) else {
            throw TensorError("pauli: code \(code) out of range for \(n) qubits (expected 0 to \(PauliString.count(n) - 1))")
        }
        let (x, z) = PauliString.masks(code: code, n: n)
        try self.init(n: n, x: x, z: z)
    }

    /// 4^n, the number of strings on n qubits.
    public static func count(_ n: Int) -> UInt64 { UInt64(1) << UInt64(2 * n) }

    /// (x, z) masks of a base-4 code: digit 1 = X, 2 = Y, 3 = Z.
    @inline(__always)
    public static func masks(code: UInt64, n: Int) -> (UInt64, UInt64) {
        var x: UInt64 = 0, z: UInt64 = 0
        for b in 0 ..< n {
            let digit = (code >> UInt64(2 * b)) & 3
            if digit == 1 || digit == 2 { x |= 1 << UInt64(b) }
            if digit >= 2 { z |= 1 << UInt64(b) }
        }
        return (x, z)
    }

    /// The base-4 code of masks (x, z).
    @inline(__always)
    public static func code(x: UInt64, z: UInt64, n: Int) -> UInt64 {
        var c: UInt64 = 0
        for b in 0 ..< n {
            let xb = (x >> UInt64(b)) & 1, zb = (z >> UInt64(b)) & 1
            let digit: UInt64 = xb == 1 ? (zb == 1 ? 2 : 1) : (zb == 1 ? 3 : 0)
            c |= digit << UInt64(2 * b)
        }
        return c
    }

    public var code: UInt64 { PauliString.code(x: x, z: z, n: n) }
    public var dimension: Int { 1 << n }
    /// Number of non-identity factors.
    public var weight: Int { (x | z).nonzeroBitCount }
    public var isIdentity: Bool { x == 0 && z == 0 }
    /// Phase relative to the Hermitian string of the same letters: i^relativePhase.
    public var relativePhase: Int { ((phase - (x & z).nonzeroBitCount) % 4 + 4) % 4 }
    /// Whether W = W^H (relative phase ±1).
    public var isHermitian: Bool { relativePhase % 2 == 0 }

    public var letters: String {
        var s = ""
        for q in 0 ..< n {
            let b = UInt64(n - 1 - q)
            let xb = (x >> b) & 1, zb = (z >> b) & 1
            s.append(xb == 1 ? (zb == 1 ? "Y" : "X") : (zb == 1 ? "Z" : "I"))
        }
        return s
    }

    /// The label with its relative phase: "XIZY", "-XY", "iZ", "-iXX".
    public var description: String { ["", "i", "-", "-i"][relativePhase] + letters }

    /// i^k as a complex number.
    @inline(__always)
    static func unit(_ k: Int) -> C128 {
        switch k & 3 {
        case 0: return C128(1, 0)
        case 1: return C128(0, 1)
        case 2: return C128(-1, 0)
        default: return C128(0, -1)
        }
    }

    /// The matrix element W[r, r ⊕ x] of row r.
    @inline(__always)
    func element(row r: Int) -> C128 {
        let c = UInt64(r) ^ x
        let sign = (c & z).nonzeroBitCount & 1
        return PauliString.unit(phase + 2 * sign)
    }

    /// (i^a X^x1 Z^z1)(i^b X^x2 Z^z2) = i^{a+b} (−1)^{popcount(z1 & x2)} X^{x1⊕x2} Z^{z1⊕z2}.
    public static func * (a: PauliString, b: PauliString) -> PauliString {
        precondition(a.n == b.n, "pauli product: \(a.n) vs \(b.n) qubits")
        let k = a.phase + b.phase + 2 * (a.z & b.x).nonzeroBitCount
        return try! PauliString(n: a.n, x: a.x ^ b.x, z: a.z ^ b.z, phase: k)
    }

    /// Whether the two operators commute: the symplectic form popcount(x1&z2) + popcount(z1&x2) is even.
    public func commutes(with o: PauliString) -> Bool {
        ((x & o.z).nonzeroBitCount + (z & o.x).nonzeroBitCount) % 2 == 0
    }

    // MARK: dense reference

    /// The dense d x d matrix as kron(σ_{c_1}, ..., σ_{c_n}) times the relative phase, built by
    /// Kronecker products of 2 x 2 matrices (independent of the bit-mask formula, for tests).
    /// -> (d, d) c128. Costs O(4^n): a test reference only.
    public func dense() throws -> Tensor {
        guard n <= 12 else { throw TensorError("pauli dense: refusing a dense matrix for \(n) qubits (at most 12)") }
        let i = C128(0, 1), one = C128(1, 0), zero = C128(0, 0)
        let sigma: [Character: [C128]] = [
            "I": [one, zero, zero, one], "X": [zero, one, one, zero],
            "Y": [zero, -i, i, zero], "Z": [one, zero, zero, -one],
        ]
        var m = try Tensor(complex: [PauliString.unit(relativePhase)], shape: [1, 1])
        for ch in letters { m = try Tensor.kron(m, Tensor(complex: sigma[ch]!, shape: [2, 2])) }
        return try m.contiguous()
    }

    // MARK: O(d) and O(d^2) actions

    /// W a: a (d,) or (d, m) -> same shape, by permuting and scaling rows; O(d m).
    /// With `right`, a W instead: a (m, d) -> (m, d), permuting and scaling columns.
    public func apply(_ a: Tensor, right: Bool = false) throws -> Tensor {
        let d = dimension
        let op = right ? "apply (right)" : "apply"
        guard a.dim == 1 || a.dim == 2 else {
            throw TensorError("pauli \(op): expected a vector (d,) or a matrix, got shape \(shapeString(a.shape))")
        }
        let rows = a.shape[0], cols = a.dim == 2 ? a.shape[1] : 1
        if right {
            guard a.dim == 2 && cols == d else {
                throw TensorError("pauli \(op): expected a (m, \(d)) matrix for \(n) qubits, got shape \(shapeString(a.shape))")
            }
        } else {
            guard rows == d else {
                throw TensorError("pauli \(op): expected \(d) rows for \(n) qubits, got shape \(shapeString(a.shape))")
            }
        }
        let src = try a.to(.c128).contiguous()
        defer { withExtendedLifetime(src) {} }   // s points into its storage
        let out = try Tensor(uninitialized: src.shape, dtype: .c128)
        let s = src.pointer(C128.self), o = out.pointer(C128.self)
        let xi = Int(x)
        if right {
            // (a W)[:, c] = a[:, c ⊕ x] W[c ⊕ x, c]
            for c in 0 ..< d {
                let w = element(row: c ^ xi)
                let sc = c ^ xi
                for r in 0 ..< rows { o[r * d + c] = s[r * d + sc] * w }
            }
        } else {
            // (W a)[r, :] = W[r, r ⊕ x] a[r ⊕ x, :]
            for r in 0 ..< d {
                let w = element(row: r)
                let src = s + (r ^ xi) * cols, dst = o + r * cols
                for j in 0 ..< cols { dst[j] = src[j] * w }
            }
        }
        return out
    }

    /// tr(W a) = Σ_c W[c ⊕ x, c] a[c, c ⊕ x] for a (d, d); O(d). Real for Hermitian W and a.
    public func expectation(_ a: Tensor) throws -> C128 {
        let d = dimension
        guard a.dim == 2 && a.shape[0] == d && a.shape[1] == d else {
            throw TensorError("pauli expectation: expected a (\(d), \(d)) matrix for \(n) qubits, got shape \(shapeString(a.shape))")
        }
        let m = try a.to(.c128).contiguous()
        defer { withExtendedLifetime(m) {} }
        let p = m.pointer(C128.self)
        let xi = Int(x)
        var acc = C128(0, 0)
        for c in 0 ..< d { acc = acc + element(row: c ^ xi) * p[c * d + (c ^ xi)] }
        return acc
    }
}
