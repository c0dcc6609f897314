// Threads: how many cores Tide's kernels and OpenBLAS use, and the one parallel-for.
//
//     Threads.count = 2
//     try Threads.parallelFor(n, grain: 1 << 16) { lo, hi in ... }   // ranges split over cores
//
// Parallelism lives at one level at a time: a kernel that splits over the cores runs
// single-threaded BLAS inside; a single big GEMM lets OpenBLAS use the cores.
import Dispatch
import COpenBLAS
#if canImport(Glibc)
import Glibc
#endif

public enum Threads {
    nonisolated(unsafe) private static var _count: Int = {
        let n = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        return max(1, n)
    }()

    /// Threads for Tide kernels and OpenBLAS together.
    public static var count: Int {
        get { _count }
        set {
            _count = max(1, newValue)
            openblas_set_num_threads(Int32(_count))
        }
    }

    /// Calls body(lo, hi) over [0, n) split into at most `count` ranges of at least `grain`.
    public static func parallelFor(_ n: Int, grain: Int, _ body: (Int, Int) throws -> Void) throws {
        let parts = min(count, max(1, n / max(grain, 1)))
        if parts <= 1 { try body(0, n); return }
        let errors = UnsafeMutablePointer<Error?>.allocate(capacity: parts)
        errors.initialize(repeating: nil, count: parts)
        defer { errors.deinitialize(count: parts); errors.deallocate() }
        withoutActuallyEscaping(body) { b in
            DispatchQueue.concurrentPerform(iterations: parts) { p in
                let lo = n * p / parts, hi = n * (p + 1) / parts
                do { try b(lo, hi) } catch { errors[p] = error }
            }
        }
        for p in 0 ..< parts { if let e = errors[p] { throw e } }
    }
}
