// Lapack: the LAPACK routines Linalg calls, one generic face over the four element types.
//
//     let info = Float.getrf(n, n, buf.p, n, ipiv.p)          // sgetrf_
//     let info = C128.potrf("L", n, buf.p, n)                  // zpotrf_
//     packColumnMajor(src, rows: m, cols: n, into: buf.p, ld: m)
//
// LAPACK is Fortran: it reads matrices column-major and takes every argument by pointer.
// Debian's OpenBLAS exports the Fortran symbols (no LAPACKE), declared in COpenBLAS/shim.h with
// the hidden trailing string-length arguments of the gfortran ABI spelled out; every wrapper
// here passes 1 for each. Tide tensors are row-major, so callers copy each matrix into a
// column-major buffer (packColumnMajor) and copy results back (unpackColumnMajor).
//
// Memory: LapackBuffer owns a zeroed malloc'd block for one call's matrices and workspaces
// and frees it on deinit; nothing here outlives the Linalg call that made it.
import COpenBLAS
import ComplexModule
import RealModule
#if canImport(Glibc)
import Glibc
#endif

typealias LP<T> = UnsafeMutablePointer<T>

/// An element type LAPACK works in: Float, Double, Complex<Float>, Complex<Double>.
/// Sizes are Swift Ints checked to fit LAPACK's 32-bit integers before any call (lapackInt).
protocol LapackScalar: TideScalar, AlgebraicField {
    associatedtype RealPart: FloatScalar
    /// "s", "d", "c" or "z": the routine prefix, for messages.
    static var prefix: String { get }
    init(real: RealPart)
    var realPart: RealPart { get }
    /// |x| (the Euclidean length for complex numbers).
    var modulus: RealPart { get }
    var conjugated: Self { get }

    static func getrf(_ m: Int, _ n: Int, _ a: LP<Self>, _ lda: Int, _ ipiv: LP<Int32>) -> Int32
    static func getrs(_ n: Int, _ nrhs: Int, _ a: LP<Self>, _ lda: Int, _ ipiv: LP<Int32>, _ b: LP<Self>, _ ldb: Int) -> Int32
    static func getri(_ n: Int, _ a: LP<Self>, _ lda: Int, _ ipiv: LP<Int32>, _ work: LP<Self>, _ lwork: Int) -> Int32
    static func potrf(_ uplo: UInt8, _ n: Int, _ a: LP<Self>, _ lda: Int) -> Int32
    static func geqrf(_ m: Int, _ n: Int, _ a: LP<Self>, _ lda: Int, _ tau: LP<Self>, _ work: LP<Self>, _ lwork: Int) -> Int32
    /// orgqr for real types, ungqr for complex ones.
    static func orgqr(_ m: Int, _ n: Int, _ k: Int, _ a: LP<Self>, _ lda: Int, _ tau: LP<Self>, _ work: LP<Self>, _ lwork: Int) -> Int32
    /// `rwork` is used by the complex routines only.
    static func gesdd(_ jobz: UInt8, _ m: Int, _ n: Int, _ a: LP<Self>, _ lda: Int, _ s: LP<RealPart>,
                      _ u: LP<Self>, _ ldu: Int, _ vt: LP<Self>, _ ldvt: Int, _ work: LP<Self>, _ lwork: Int,
                      _ rwork: LP<RealPart>, _ iwork: LP<Int32>) -> Int32
    /// syevd for real types, heevd for complex ones (`rwork`/`lrwork` complex only).
    static func syevd(_ jobz: UInt8, _ uplo: UInt8, _ n: Int, _ a: LP<Self>, _ lda: Int, _ w: LP<RealPart>,
                      _ work: LP<Self>, _ lwork: Int, _ rwork: LP<RealPart>, _ lrwork: Int,
                      _ iwork: LP<Int32>, _ liwork: Int) -> Int32
    static func gelsd(_ m: Int, _ n: Int, _ nrhs: Int, _ a: LP<Self>, _ lda: Int, _ b: LP<Self>, _ ldb: Int,
                      _ s: LP<RealPart>, _ rcond: RealPart, _ rank: LP<Int32>, _ work: LP<Self>, _ lwork: Int,
                      _ rwork: LP<RealPart>, _ iwork: LP<Int32>) -> Int32
}

extension LapackScalar {
    /// A workspace size returned by a query (lwork = -1) in work[0], rounded up: single
    /// precision cannot hold every integer, so the value is nudged up before truncating.
    static func workspaceSize(_ w: RealPart) -> Int {
        let d = Double(w.tideDouble)
        guard d.isFinite, d > 0 else { return 1 }
        return Swift.min(Int(d * (1 + 1e-6)) + 1, Int(Int32.max))
    }
}

@inline(__always) private func i32(_ n: Int) -> Int32 { Int32(truncatingIfNeeded: n) }

extension Float: LapackScalar {
    typealias RealPart = Float
    static var prefix: String { "s" }
    init(real: Float) { self = real }
    var realPart: Float { self }
    var modulus: Float { Swift.abs(self) }
    var conjugated: Float { self }

    static func getrf(_ m: Int, _ n: Int, _ a: LP<Float>, _ lda: Int, _ ipiv: LP<Int32>) -> Int32 {
        var m = i32(m), n = i32(n), lda = i32(lda), info: Int32 = 0
        sgetrf_(&m, &n, a, &lda, ipiv, &info); return info
    }
    static func getrs(_ n: Int, _ nrhs: Int, _ a: LP<Float>, _ lda: Int, _ ipiv: LP<Int32>, _ b: LP<Float>, _ ldb: Int) -> Int32 {
        var t = CChar(78), n = i32(n), r = i32(nrhs), lda = i32(lda), ldb = i32(ldb), info: Int32 = 0
        sgetrs_(&t, &n, &r, a, &lda, ipiv, b, &ldb, &info, 1); return info
    }
    static func getri(_ n: Int, _ a: LP<Float>, _ lda: Int, _ ipiv: LP<Int32>, _ work: LP<Float>, _ lwork: Int) -> Int32 {
        var n = i32(n), lda = i32(lda), lw = i32(lwork), info: Int32 = 0
        sgetri_(&n, a, &lda, ipiv, work, &lw, &info); return info
    }
    static func potrf(_ uplo: UInt8, _ n: Int, _ a: LP<Float>, _ lda: Int) -> Int32 {
        var u = CChar(bitPattern: uplo), n = i32(n), lda = i32(lda), info: Int32 = 0
        spotrf_(&u, &n, a, &lda, &info, 1); return info
    }
    static func geqrf(_ m: Int, _ n: Int, _ a: LP<Float>, _ lda: Int, _ tau: LP<Float>, _ work: LP<Float>, _ lwork: Int) -> Int32 {
        var m = i32(m), n = i32(n), lda = i32(lda), lw = i32(lwork), info: Int32 = 0
        sgeqrf_(&m, &n, a, &lda, tau, work, &lw, &info); return info
    }
    static func orgqr(_ m: Int, _ n: Int, _ k: Int, _ a: LP<Float>, _ lda: Int, _ tau: LP<Float>, _ work: LP<Float>, _ lwork: Int) -> Int32 {
        var m = i32(m), n = i32(n), k = i32(k), lda = i32(lda), lw = i32(lwork), info: Int32 = 0
        sorgqr_(&m, &n, &k, a, &lda, tau, work, &lw, &info); return info
    }
    static func gesdd(_ jobz: UInt8, _ m: Int, _ n: Int, _ a: LP<Float>, _ lda: Int, _ s: LP<Float>, _ u: LP<Float>, _ ldu: Int,
                      _ vt: LP<Float>, _ ldvt: Int, _ work: LP<Float>, _ lwork: Int, _ rwork: LP<Float>, _ iwork: LP<Int32>) -> Int32 {
        var j = CChar(bitPattern: jobz), m = i32(m), n = i32(n), lda = i32(lda), ldu = i32(ldu), ldvt = i32(ldvt)
        var lw = i32(lwork), info: Int32 = 0
        sgesdd_(&j, &m, &n, a, &lda, s, u, &ldu, vt, &ldvt, work, &lw, iwork, &info, 1); return info
    }
    static func syevd(_ jobz: UInt8, _ uplo: UInt8, _ n: Int, _ a: LP<Float>, _ lda: Int, _ w: LP<Float>, _ work: LP<Float>,
                      _ lwork: Int, _ rwork: LP<Float>, _ lrwork: Int, _ iwork: LP<Int32>, _ liwork: Int) -> Int32 {
        var j = CChar(bitPattern: jobz), u = CChar(bitPattern: uplo), n = i32(n), lda = i32(lda)
        var lw = i32(lwork), liw = i32(liwork), info: Int32 = 0
        ssyevd_(&j, &u, &n, a, &lda, w, work, &lw, iwork, &liw, &info, 1, 1); return info
    }
    static func gelsd(_ m: Int, _ n: Int, _ nrhs: Int, _ a: LP<Float>, _ lda: Int, _ b: LP<Float>, _ ldb: Int, _ s: LP<Float>,
                      _ rcond: Float, _ rank: LP<Int32>, _ work: LP<Float>, _ lwork: Int, _ rwork: LP<Float>, _ iwork: LP<Int32>) -> Int32 {
        var m = i32(m), n = i32(n), r = i32(nrhs), lda = i32(lda), ldb = i32(ldb), rc = rcond, lw = i32(lwork), info: Int32 = 0
        sgelsd_(&m, &n, &r, a, &lda, b, &ldb, s, &rc, rank, work, &lw, iwork, &info); return info
    }
}

extension Double: LapackScalar {
    typealias RealPart = Double
    static var prefix: String { "d" }
    init(real: Double) { self = real }
    var realPart: Double { self }
    var modulus: Double { Swift.abs(self) }
    var conjugated: Double { self }

    static func getrf(_ m: Int, _ n: Int, _ a: LP<Double>, _ lda: Int, _ ipiv: LP<Int32>) -> Int32 {
        var m = i32(m), n = i32(n), lda = i32(lda), info: Int32 = 0
        dgetrf_(&m, &n, a, &lda, ipiv, &info); return info
    }
    static func getrs(_ n: Int, _ nrhs: Int, _ a: LP<Double>, _ lda: Int, _ ipiv: LP<Int32>, _ b: LP<Double>, _ ldb: Int) -> Int32 {
        var t = CChar(78), n = i32(n), r = i32(nrhs), lda = i32(lda), ldb = i32(ldb), info: Int32 = 0
        dgetrs_(&t, &n, &r, a, &lda, ipiv, b, &ldb, &info, 1); return info
    }
    static func getri(_ n: Int, _ a: LP<Double>, _ lda: Int, _ ipiv: LP<Int32>, _ work: LP<Double>, _ lwork: Int) -> Int32 {
        var n = i32(n), lda = i32(lda), lw = i32(lwork), info: Int32 = 0
        dgetri_(&n, a, &lda, ipiv, work, &lw, &info); return info
    }
    static func potrf(_ uplo: UInt8, _ n: Int, _ a: LP<Double>, _ lda: Int) -> Int32 {
        var u = CChar(bitPattern: uplo), n = i32(n), lda = i32(lda), info: Int32 = 0
        dpotrf_(&u, &n, a, &lda, &info, 1); return info
    }
    static func geqrf(_ m: Int, _ n: Int, _ a: LP<Double>, _ lda: Int, _ tau: LP<Double>, _ work: LP<Double>, _ lwork: Int) -> Int32 {
        var m = i32(m), n = i32(n), lda = i32(lda), lw = i32(lwork), info: Int32 = 0
        dgeqrf_(&m, &n, a, &lda, tau, work, &lw, &info); return info
    }
    static func orgqr(_ m: Int, _ n: Int, _ k: Int, _ a: LP<Double>, _ lda: Int, _ tau: LP<Double>, _ work: LP<Double>, _ lwork: Int) -> Int32 {
        var m = i32(m), n = i32(n), k = i32(k), lda = i32(lda), lw = i32(lwork), info: Int32 = 0
        dorgqr_(&m, &n, &k, a, &lda, tau, work, &lw, &info); return info
    }
    static func gesdd(_ jobz: UInt8, _ m: Int, _ n: Int, _ a: LP<Double>, _ lda: Int, _ s: LP<Double>, _ u: LP<Double>, _ ldu: Int,
                      _ vt: LP<Double>, _ ldvt: Int, _ work: LP<Double>, _ lwork: Int, _ rwork: LP<Double>, _ iwork: LP<Int32>) -> Int32 {
        var j = CChar(bitPattern: jobz), m = i32(m), n = i32(n), lda = i32(lda), ldu = i32(ldu), ldvt = i32(ldvt)
        var lw = i32(lwork), info: Int32 = 0
        dgesdd_(&j, &m, &n, a, &lda, s, u, &ldu, vt, &ldvt, work, &lw, iwork, &info, 1); return info
    }
    static func syevd(_ jobz: UInt8, _ uplo: UInt8, _ n: Int, _ a: LP<Double>, _ lda: Int, _ w: LP<Double>, _ work: LP<Double>,
                      _ lwork: Int, _ rwork: LP<Double>, _ lrwork: Int, _ iwork: LP<Int32>, _ liwork: Int) -> Int32 {
        var j = CChar(bitPattern: jobz), u = CChar(bitPattern: uplo), n = i32(n), lda = i32(lda)
        var lw = i32(lwork), liw = i32(liwork), info: Int32 = 0
        dsyevd_(&j, &u, &n, a, &lda, w, work, &lw, iwork, &liw, &info, 1, 1); return info
    }
    static func gelsd(_ m: Int, _ n: Int, _ nrhs: Int, _ a: LP<Double>, _ lda: Int, _ b: LP<Double>, _ ldb: Int, _ s: LP<Double>,
                      _ rcond: Double, _ rank: LP<Int32>, _ work: LP<Double>, _ lwork: Int, _ rwork: LP<Double>, _ iwork: LP<Int32>) -> Int32 {
        var m = i32(m), n = i32(n), r = i32(nrhs), lda = i32(lda), ldb = i32(ldb), rc = rcond, lw = i32(lwork), info: Int32 = 0
        dgelsd_(&m, &n, &r, a, &lda, b, &ldb, s, &rc, rank, work, &lw, iwork, &info); return info
    }
}

extension Complex: LapackScalar where RealType: FloatScalar & TideScalar {
    typealias RealPart = RealType
    static var prefix: String { RealType.self == Float.self ? "c" : "z" }
    init(real: RealType) { self.init(real, 0) }
    var realPart: RealType { real }
    var modulus: RealType { length }
    var conjugated: Complex { conjugate }

    private static var single: Bool { RealType.self == Float.self }

    static func getrf(_ m: Int, _ n: Int, _ a: LP<Complex>, _ lda: Int, _ ipiv: LP<Int32>) -> Int32 {
        var m = i32(m), n = i32(n), lda = i32(lda), info: Int32 = 0
        if single { cgetrf_(&m, &n, a, &lda, ipiv, &info) } else { zgetrf_(&m, &n, a, &lda, ipiv, &info) }
        return info
    }
    static func getrs(_ n: Int, _ nrhs: Int, _ a: LP<Complex>, _ lda: Int, _ ipiv: LP<Int32>, _ b: LP<Complex>, _ ldb: Int) -> Int32 {
        var t = CChar(78), n = i32(n), r = i32(nrhs), lda = i32(lda), ldb = i32(ldb), info: Int32 = 0
        if single { cgetrs_(&t, &n, &r, a, &lda, ipiv, b, &ldb, &info, 1) } else { zgetrs_(&t, &n, &r, a, &lda, ipiv, b, &ldb, &info, 1) }
        return info
    }
    static func getri(_ n: Int, _ a: LP<Complex>, _ lda: Int, _ ipiv: LP<Int32>, _ work: LP<Complex>, _ lwork: Int) -> Int32 {
        var n = i32(n), lda = i32(lda), lw = i32(lwork), info: Int32 = 0
        if single { cgetri_(&n, a, &lda, ipiv, work, &lw, &info) } else { zgetri_(&n, a, &lda, ipiv, work, &lw, &info) }
        return info
    }
    static func potrf(_ uplo: UInt8, _ n: Int, _ a: LP<Complex>, _ lda: Int) -> Int32 {
        var u = CChar(bitPattern: uplo), n = i32(n), lda = i32(lda), info: Int32 = 0
        if single { cpotrf_(&u, &n, a, &lda, &info, 1) } else { zpotrf_(&u, &n, a, &lda, &info, 1) }
        return info
    }
    static func geqrf(_ m: Int, _ n: Int, _ a: LP<Complex>, _ lda: Int, _ tau: LP<Complex>, _ work: LP<Complex>, _ lwork: Int) -> Int32 {
        var m = i32(m), n = i32(n), lda = i32(lda), lw = i32(lwork), info: Int32 = 0
        if single { cgeqrf_(&m, &n, a, &lda, tau, work, &lw, &info) } else { zgeqrf_(&m, &n, a, &lda, tau, work, &lw, &info) }
        return info
    }
    static func orgqr(_ m: Int, _ n: Int, _ k: Int, _ a: LP<Complex>, _ lda: Int, _ tau: LP<Complex>, _ work: LP<Complex>, _ lwork: Int) -> Int32 {
        var m = i32(m), n = i32(n), k = i32(k), lda = i32(lda), lw = i32(lwork), info: Int32 = 0
        if single { cungqr_(&m, &n, &k, a, &lda, tau, work, &lw, &info) } else { zungqr_(&m, &n, &k, a, &lda, tau, work, &lw, &info) }
        return info
    }
    static func gesdd(_ jobz: UInt8, _ m: Int, _ n: Int, _ a: LP<Complex>, _ lda: Int, _ s: LP<RealType>, _ u: LP<Complex>, _ ldu: Int,
                      _ vt: LP<Complex>, _ ldvt: Int, _ work: LP<Complex>, _ lwork: Int, _ rwork: LP<RealType>, _ iwork: LP<Int32>) -> Int32 {
        var j = CChar(bitPattern: jobz), m = i32(m), n = i32(n), lda = i32(lda), ldu = i32(ldu), ldvt = i32(ldvt)
        var lw = i32(lwork), info: Int32 = 0
        if single {
            cgesdd_(&j, &m, &n, a, &lda, UnsafeMutableRawPointer(s).assumingMemoryBound(to: Float.self), u, &ldu, vt, &ldvt, work, &lw,
                    UnsafeMutableRawPointer(rwork).assumingMemoryBound(to: Float.self), iwork, &info, 1)
        } else {
            zgesdd_(&j, &m, &n, a, &lda, UnsafeMutableRawPointer(s).assumingMemoryBound(to: Double.self), u, &ldu, vt, &ldvt, work, &lw,
                    UnsafeMutableRawPointer(rwork).assumingMemoryBound(to: Double.self), iwork, &info, 1)
        }
        return info
    }
    static func syevd(_ jobz: UInt8, _ uplo: UInt8, _ n: Int, _ a: LP<Complex>, _ lda: Int, _ w: LP<RealType>, _ work: LP<Complex>,
                      _ lwork: Int, _ rwork: LP<RealType>, _ lrwork: Int, _ iwork: LP<Int32>, _ liwork: Int) -> Int32 {
        var j = CChar(bitPattern: jobz), u = CChar(bitPattern: uplo), n = i32(n), lda = i32(lda)
        var lw = i32(lwork), lrw = i32(lrwork), liw = i32(liwork), info: Int32 = 0
        let wr = UnsafeMutableRawPointer(w), rw = UnsafeMutableRawPointer(rwork)
        if single {
            cheevd_(&j, &u, &n, a, &lda, wr.assumingMemoryBound(to: Float.self), work, &lw,
                    rw.assumingMemoryBound(to: Float.self), &lrw, iwork, &liw, &info, 1, 1)
        } else {
            zheevd_(&j, &u, &n, a, &lda, wr.assumingMemoryBound(to: Double.self), work, &lw,
                    rw.assumingMemoryBound(to: Double.self), &lrw, iwork, &liw, &info, 1, 1)
        }
        return info
    }
    static func gelsd(_ m: Int, _ n: Int, _ nrhs: Int, _ a: LP<Complex>, _ lda: Int, _ b: LP<Complex>, _ ldb: Int, _ s: LP<RealType>,
                      _ rcond: RealType, _ rank: LP<Int32>, _ work: LP<Complex>, _ lwork: Int, _ rwork: LP<RealType>, _ iwork: LP<Int32>) -> Int32 {
        var m = i32(m), n = i32(n), r = i32(nrhs), lda = i32(lda), ldb = i32(ldb), lw = i32(lwork), info: Int32 = 0
        let sr = UnsafeMutableRawPointer(s), rw = UnsafeMutableRawPointer(rwork)
        if single {
            var rc = Float(rcond.tideDouble)
            cgelsd_(&m, &n, &r, a, &lda, b, &ldb, sr.assumingMemoryBound(to: Float.self), &rc, rank, work, &lw,
                    rw.assumingMemoryBound(to: Float.self), iwork, &info)
        } else {
            var rc = rcond.tideDouble
            zgelsd_(&m, &n, &r, a, &lda, b, &ldb, sr.assumingMemoryBound(to: Double.self), &rc, rank, work, &lw,
                    rw.assumingMemoryBound(to: Double.self), iwork, &info)
        }
        return info
    }
}

/// A zeroed, malloc'd block of `count` elements for one LAPACK call (matrix or workspace).
final class LapackBuffer<T> {
    let p: UnsafeMutablePointer<T>
    let count: Int

    init(_ count: Int, _ op: String) throws {
        let n = Swift.max(count, 1)
        let (bytes, overflow) = n.multipliedReportingOverflow(by: MemoryLayout<T>.stride)
        guard !overflow, bytes <= Storage.maxBytes, let raw = calloc(n, MemoryLayout<T>.stride) else {
            throw TensorError("\(op): cannot allocate a LAPACK workspace of \(n) elements")
        }
        p = raw.bindMemory(to: T.self, capacity: n)
        self.count = n
    }

    deinit { free(p) }
}

/// Throws when a size does not fit LAPACK's 32-bit integers.
func lapackInt(_ n: Int, _ op: String) throws -> Int {
    guard n <= Int(Int32.max) else {
        throw TensorError("\(op): size \(n) is too large for LAPACK (32-bit integers)")
    }
    return n
}

/// dst (column-major, leading dimension ld) <- the rows x cols row-major matrix at src.
func packColumnMajor<T>(_ src: UnsafePointer<T>, rows: Int, cols: Int, into dst: UnsafeMutablePointer<T>, ld: Int) {
    for i in 0 ..< rows {
        let row = src + i * cols
        for j in 0 ..< cols { dst[i + j * ld] = row[j] }
    }
}

/// dst (row-major rows x cols) <- the column-major matrix at src with leading dimension ld.
func unpackColumnMajor<T>(_ src: UnsafePointer<T>, ld: Int, rows: Int, cols: Int, into dst: UnsafeMutablePointer<T>) {
    for i in 0 ..< rows {
        let row = dst + i * cols
        for j in 0 ..< cols { row[j] = src[i + j * ld] }
    }
}

/// Calls `visit` with the Swift element type of a LAPACK dtype (f32, f64, c64, c128).
protocol LapackVisitor {
    associatedtype Result
    func visit<T: LapackScalar>(_: T.Type) throws -> Result
}

extension DType {
    func visitLapack<V: LapackVisitor>(_ v: V) throws -> V.Result {
        switch self {
        case .f32: return try v.visit(Float.self)
        case .f64: return try v.visit(Double.self)
        case .c64: return try v.visit(C64.self)
        case .c128: return try v.visit(C128.self)
        case .i64, .bool: throw TensorError("linalg: \(rawValue) is computed in f32; convert first")
        }
    }
}
