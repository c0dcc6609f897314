// Threads: how many cores Tide's kernels and OpenBLAS use, and the one parallel-for.
//
//     Threads.count = 2
//     try Threads.parallelFor(n, grain: 1 << 16) { lo, hi in ... }   // ranges split over cores
//
// Parallelism lives at one level at a time: a kernel that splits over the cores runs
// single-threaded BLAS inside; a single big GEMM lets OpenBLAS use the cores.
import COpenBLAS
import _CTideKernels
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
            _count = min(max(1, newValue), 1024)
            // OpenBLAS's LAPACK was seen to hang with 64+ threads here; its share stays <= 32
            openblas_set_num_threads(Int32(min(_count, 32)))
        }
    }

    /// Calls body(lo, hi) over [0, n) split into at most `count` ranges of at least `grain`.
    /// The ranges depend only on n, grain and count, never on which thread runs them. They run
    /// on Tide's own worker pool (_CTideKernels/pool.c); a call from inside a range runs inline.
    public static func parallelFor(_ n: Int, grain: Int, _ body: (Int, Int) throws -> Void) throws {
        let parts = min(count, max(1, n / max(grain, 1)))
        if parts <= 1 { try body(0, n); return }
        let errors = UnsafeMutablePointer<Error?>.allocate(capacity: parts)
        errors.initialize(repeating: nil, count: parts)
        defer { errors.deinitialize(count: parts); errors.deallocate() }
        withoutActuallyEscaping(body) { b in
            var job = PoolJob(n: n, parts: parts, body: b, errors: errors)
            withUnsafeMutablePointer(to: &job) { jp in
                tide_pool_run(parts, { ctx, p in
                    let job = ctx!.assumingMemoryBound(to: PoolJob.self)
                    let n = job.pointee.n, parts = job.pointee.parts, part = Int(p)
                    do { try job.pointee.body(n * part / parts, n * (part + 1) / parts) } catch { job.pointee.errors[part] = error }
                }, UnsafeMutableRawPointer(jp))
            }
        }
        for p in 0 ..< parts { if let e = errors[p] { throw e } }
    }

}

/// What the pool's C trampoline needs: read-only while the parts run (each writes only its
/// own error slot).
private struct PoolJob {
    let n: Int
    let parts: Int
    let body: (Int, Int) throws -> Void
    let errors: UnsafeMutablePointer<Error?>
}
