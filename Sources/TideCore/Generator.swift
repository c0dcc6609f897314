// Generator: Tide's random number streams.
//
//     let g = Generator(seed: 42)
//     let x = try Tensor.randn([3, 4], generator: g)       // N(0, 1), f32
//     Generator.global.seed(7)                             // tide.manual_seed(7)
//
// The stream is xoshiro256** seeded through splitmix64. Numbers are drawn in row-major order
// on the calling thread, so a seed gives the same values whatever the thread count. Normals use
// the Box-Muller transform with both outputs consumed in order.
import RealModule

public final class Generator: @unchecked Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    public private(set) var initialSeed: UInt64 = 0

    public static let global = Generator(seed: 0x5EED)

    public init(seed: UInt64) { self.seed(seed) }

    public func seed(_ seed: UInt64) {
        initialSeed = seed
        var z = seed
        func splitmix() -> UInt64 {
            z &+= 0x9E3779B97F4A7C15
            var r = z
            r = (r ^ (r >> 30)) &* 0xBF58476D1CE4E5B9
            r = (r ^ (r >> 27)) &* 0x94D049BB133111EB
            return r ^ (r >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    /// The full state, for checkpoints. Normals are drawn in Box-Muller pairs inside one call
    /// and no spare is carried between calls, so these four words are the whole stream.
    public var state: [UInt64] {
        get { [s.0, s.1, s.2, s.3] }
        set { if newValue.count == 4 { s = (newValue[0], newValue[1], newValue[2], newValue[3]) } }
    }

    /// Restores a state saved from `state` (and the seed it started from). xoshiro's state
    /// must not be all zeros (the stream would stay at zero), so that is refused.
    public func restore(state words: [UInt64], initialSeed seed: UInt64) throws {
        guard words.count == 4 else { throw TensorError("set_rng_state: expected 4 state words, got \(words.count)") }
        guard words.contains(where: { $0 != 0 }) else { throw TensorError("set_rng_state: an all-zero state is not a valid xoshiro256** state") }
        s = (words[0], words[1], words[2], words[3])
        initialSeed = seed
    }

    @inline(__always)
    public func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = (s.3 << 45) | (s.3 >> 19)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    @inline(__always)
    public func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform integer in [0, n) without modulo bias (Lemire's method).
    public func below(_ n: UInt64) -> UInt64 {
        precondition(n > 0)
        var m = next().multipliedFullWidth(by: n)
        if m.low < n {
            let t = (0 &- n) % n
            while m.low < t { m = next().multipliedFullWidth(by: n) }
        }
        return m.high
    }

    /// A standard normal pair (Box-Muller).
    public func normalPair() -> (Double, Double) {
        var u1 = uniform()
        while u1 <= 0 { u1 = uniform() }
        let u2 = uniform()
        let r = (-2 * _log(u1)).squareRoot()
        return (r * _cos(2 * .pi * u2), r * _sin(2 * .pi * u2))
    }

    /// p[0 ..< n] <- i.i.d. N(0, 1) values: normalPair() results in order (the second value
    /// of the last pair is dropped when n is odd). randn and the solvers' Gaussian draws.
    public func fillNormal(_ p: UnsafeMutablePointer<Double>, count n: Int) {
        var i = 0
        while i < n {
            let (a, b) = normalPair()
            p[i] = a
            if i + 1 < n { p[i + 1] = b }
            i += 2
        }
    }
}

@inline(__always) func _log(_ x: Double) -> Double { Double.log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Double.cos(x) }
@inline(__always) func _sin(_ x: Double) -> Double { Double.sin(x) }

extension Tensor {
    static func randomFill(_ shape: [Int], dtype: DType, _ gen: (inout [Double], Int) -> Void) throws -> Tensor {
        let n = try Tensor.checkedCount(shape)
        var vals = [Double](repeating: 0, count: n)
        gen(&vals, n)
        return try Tensor(array: vals, shape: shape, dtype: dtype)
    }

    public static func randn(_ shape: [Int], dtype: DType = .f32, generator g: Generator = .global) throws -> Tensor {
        guard dtype.isFloatingPoint || dtype.isComplex else { throw TensorError("randn: expected a float dtype, got \(dtype.rawValue)") }
        return try randomFill(shape, dtype: dtype) { v, n in
            v.withUnsafeMutableBufferPointer { b in if let p = b.baseAddress { g.fillNormal(p, count: n) } }
        }
    }

    public static func rand(_ shape: [Int], dtype: DType = .f32, generator g: Generator = .global) throws -> Tensor {
        guard dtype.isFloatingPoint else { throw TensorError("rand: expected a float dtype, got \(dtype.rawValue)") }
        return try randomFill(shape, dtype: dtype) { v, n in for i in 0 ..< n { v[i] = g.uniform() } }
    }

    /// Integers uniform in [low, high).
    public static func randint(_ low: Int, _ high: Int, _ shape: [Int], dtype: DType = .i64, generator g: Generator = .global) throws -> Tensor {
        guard high > low else { throw TensorError("randint: expected low < high, got low=\(low), high=\(high)") }
        // high - low can exceed Int64.max (randint(math.mininteger, math.maxinteger)): the span
        // and the sum in wrapping arithmetic, exact modulo 2^64 since the result lies in range
        let span = UInt64(bitPattern: Int64(high &- low))
        let n = try checkedCount(shape)
        let t = try Tensor(uninitialized: shape, dtype: .i64)
        let p = t.pointer(Int64.self)
        for i in 0 ..< n { p[i] = Int64(low) &+ Int64(bitPattern: g.below(span)) }
        return dtype == .i64 ? t : try t.to(dtype)
    }

    /// A random permutation of 0..<n (Fisher-Yates).
    public static func randperm(_ n: Int, generator g: Generator = .global) throws -> Tensor {
        guard n >= 0 else { throw TensorError("randperm: expected n >= 0, got \(n)") }
        let t = try Tensor(uninitialized: [n], dtype: .i64)
        let p = t.pointer(Int64.self)
        for i in 0 ..< n { p[i] = Int64(i) }
        if n > 1 { for i in stride(from: n - 1, to: 0, by: -1) { let j = Int(g.below(UInt64(i + 1))); let tmp = p[i]; p[i] = p[j]; p[j] = tmp } }
        return t
    }

    /// Elementwise Bernoulli draws with probabilities `self` (in [0, 1]).
    public func bernoulli(generator g: Generator = .global) throws -> Tensor {
        let p = try toDoubles()
        for q in p where !(q >= 0 && q <= 1) { throw TensorError("bernoulli: probabilities must be in [0, 1], got \(q)") }
        return try Tensor(array: p.map { g.uniform() < $0 ? 1 : 0 }, shape: shape, dtype: dtype.isFloatingPoint ? dtype : .f32)
    }
}
