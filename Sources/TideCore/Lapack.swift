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

/// LAPACK's four precisions: the letter each routine's name starts with.
enum LapackPrecision: String { case s, d, c, z }

/// An element type LAPACK works in: Float, Double, Complex<Float>, Complex<Double>.
/// Sizes are Swift Ints checked to fit LAPACK's 32-bit integers before any call (lapackInt).
protocol LapackScalar: TideScalar, AlgebraicField {
    associatedtype RealPart: FloatScalar
    /// Which of the four routines of a family serves this type (sgetrf_ ... zgetrf_).
    static var precision: LapackPrecision { get }
    init(real: RealPart)
    /// re + i im (im is dropped by the real types)
    init(re: RealPart, im: RealPart)
    var realPart: RealPart { get }
    var imagPart: RealPart { get }
    /// |x| (the Euclidean length for complex numbers).
    var modulus: RealPart { get }
    var conjugated: Self { get }
}

extension Float: LapackScalar {
    typealias RealPart = Float
    static var precision: LapackPrecision { .s }
}

extension Double: LapackScalar {
    typealias RealPart = Double
    static var precision: LapackPrecision { .d }
}

/// A real type is its own real part.
extension LapackScalar where Self: FloatScalar, RealPart == Self {
    init(real: Self) { self = real }
    init(re: Self, im: Self) { self = re }
    var realPart: Self { self }
    var imagPart: Self { 0 }
    var modulus: Self { Swift.abs(self) }
    var conjugated: Self { self }
}

extension Complex: LapackScalar where RealType: FloatScalar & TideScalar {
    typealias RealPart = RealType
    static var precision: LapackPrecision { RealType.self == Float.self ? .c : .z }
    init(real: RealType) { self.init(real, 0) }
    init(re: RealType, im: RealType) { self.init(re, im) }
    var realPart: RealType { real }
    var imagPart: RealType { imaginary }
    var modulus: RealType { length }
    var conjugated: Complex { conjugate }
}

@inline(__always) private func i32(_ n: Int) -> Int32 { Int32(truncatingIfNeeded: n) }
// The same memory typed as a C prototype wants it (float * or double *). Each wrapper's switch
// on `precision` has established the element type first; complex matrices go in as void *.
@inline(__always) private func fp<T>(_ p: LP<T>) -> LP<Float> { UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self) }
@inline(__always) private func dp<T>(_ p: LP<T>) -> LP<Double> { UnsafeMutableRawPointer(p).assumingMemoryBound(to: Double.self) }

/// The wrappers: one per routine family, one call per precision. Arguments are converted to
/// the Fortran ABI once (32-bit integers by address, 1 for each hidden string length).
extension LapackScalar {
    /// "s", "d", "c" or "z": the routine prefix, for messages.
    static var prefix: String { precision.rawValue }

    /// A workspace size returned by a query (lwork = -1) in work[0], rounded up: single
    /// precision cannot hold every integer, so the value is nudged up before truncating.
    static func workspaceSize(_ w: RealPart) -> Int {
        let d = Double(w.tideDouble)
        guard d.isFinite, d > 0 else { return 1 }
        return Swift.min(Int(d * (1 + 1e-6)) + 1, Int(Int32.max))
    }

    static func getrf(_ m: Int, _ n: Int, _ a: LP<Self>, _ lda: Int, _ ipiv: LP<Int32>) -> Int32 {
        var m = i32(m), n = i32(n), lda = i32(lda), info: Int32 = 0
        switch precision {
        case .s: sgetrf_(&m, &n, fp(a), &lda, ipiv, &info)
        case .d: dgetrf_(&m, &n, dp(a), &lda, ipiv, &info)
        case .c: cgetrf_(&m, &n, a, &lda, ipiv, &info)
        case .z: zgetrf_(&m, &n, a, &lda, ipiv, &info)
        }
        return info
    }

    static func getrs(_ n: Int, _ nrhs: Int, _ a: LP<Self>, _ lda: Int, _ ipiv: LP<Int32>, _ b: LP<Self>, _ ldb: Int) -> Int32 {
        var t = CChar(78), n = i32(n), r = i32(nrhs), lda = i32(lda), ldb = i32(ldb), info: Int32 = 0
        switch precision {
        case .s: sgetrs_(&t, &n, &r, fp(a), &lda, ipiv, fp(b), &ldb, &info, 1)
        case .d: dgetrs_(&t, &n, &r, dp(a), &lda, ipiv, dp(b), &ldb, &info, 1)
        case .c: cgetrs_(&t, &n, &r, a, &lda, ipiv, b, &ldb, &info, 1)
        case .z: zgetrs_(&t, &n, &r, a, &lda, ipiv, b, &ldb, &info, 1)
        }
        return info
    }

    static func getri(_ n: Int, _ a: LP<Self>, _ lda: Int, _ ipiv: LP<Int32>, _ work: LP<Self>, _ lwork: Int) -> Int32 {
        var n = i32(n), lda = i32(lda), lw = i32(lwork), info: Int32 = 0
        switch precision {
        case .s: sgetri_(&n, fp(a), &lda, ipiv, fp(work), &lw, &info)
        case .d: dgetri_(&n, dp(a), &lda, ipiv, dp(work), &lw, &info)
        case .c: cgetri_(&n, a, &lda, ipiv, work, &lw, &info)
        case .z: zgetri_(&n, a, &lda, ipiv, work, &lw, &info)
        }
        return info
    }

    static func potrf(_ uplo: UInt8, _ n: Int, _ a: LP<Self>, _ lda: Int) -> Int32 {
        var u = CChar(bitPattern: uplo), n = i32(n), lda = i32(lda), info: Int32 = 0
        switch precision {
        case .s: spotrf_(&u, &n, fp(a), &lda, &info, 1)
        case .d: dpotrf_(&u, &n, dp(a), &lda, &info, 1)
        case .c: cpotrf_(&u, &n, a, &lda, &info, 1)
        case .z: zpotrf_(&u, &n, a, &lda, &info, 1)
        }
        return info
    }

    static func geqrf(_ m: Int, _ n: Int, _ a: LP<Self>, _ lda: Int, _ tau: LP<Self>, _ work: LP<Self>, _ lwork: Int) -> Int32 {
        var m = i32(m), n = i32(n), lda = i32(lda), lw = i32(lwork), info: Int32 = 0
        switch precision {
        case .s: sgeqrf_(&m, &n, fp(a), &lda, fp(tau), fp(work), &lw, &info)
        case .d: dgeqrf_(&m, &n, dp(a), &lda, dp(tau), dp(work), &lw, &info)
        case .c: cgeqrf_(&m, &n, a, &lda, tau, work, &lw, &info)
        case .z: zgeqrf_(&m, &n, a, &lda, tau, work, &lw, &info)
        }
        return info
    }

    /// orgqr for real types, ungqr for complex ones.
    static func orgqr(_ m: Int, _ n: Int, _ k: Int, _ a: LP<Self>, _ lda: Int, _ tau: LP<Self>, _ work: LP<Self>, _ lwork: Int) -> Int32 {
        var m = i32(m), n = i32(n), k = i32(k), lda = i32(lda), lw = i32(lwork), info: Int32 = 0
        switch precision {
        case .s: sorgqr_(&m, &n, &k, fp(a), &lda, fp(tau), fp(work), &lw, &info)
        case .d: dorgqr_(&m, &n, &k, dp(a), &lda, dp(tau), dp(work), &lw, &info)
        case .c: cungqr_(&m, &n, &k, a, &lda, tau, work, &lw, &info)
        case .z: zungqr_(&m, &n, &k, a, &lda, tau, work, &lw, &info)
        }
        return info
    }

    /// `rwork` is used by the complex routines only.
    static func gesdd(_ jobz: UInt8, _ m: Int, _ n: Int, _ a: LP<Self>, _ lda: Int, _ s: LP<RealPart>,
                      _ u: LP<Self>, _ ldu: Int, _ vt: LP<Self>, _ ldvt: Int, _ work: LP<Self>, _ lwork: Int,
                      _ rwork: LP<RealPart>, _ iwork: LP<Int32>) -> Int32 {
        var j = CChar(bitPattern: jobz), m = i32(m), n = i32(n), lda = i32(lda), ldu = i32(ldu), ldvt = i32(ldvt)
        var lw = i32(lwork), info: Int32 = 0
        switch precision {
        case .s: sgesdd_(&j, &m, &n, fp(a), &lda, fp(s), fp(u), &ldu, fp(vt), &ldvt, fp(work), &lw, iwork, &info, 1)
        case .d: dgesdd_(&j, &m, &n, dp(a), &lda, dp(s), dp(u), &ldu, dp(vt), &ldvt, dp(work), &lw, iwork, &info, 1)
        case .c: cgesdd_(&j, &m, &n, a, &lda, fp(s), u, &ldu, vt, &ldvt, work, &lw, fp(rwork), iwork, &info, 1)
        case .z: zgesdd_(&j, &m, &n, a, &lda, dp(s), u, &ldu, vt, &ldvt, work, &lw, dp(rwork), iwork, &info, 1)
        }
        return info
    }

    /// syevd for real types, heevd for complex ones (`rwork`/`lrwork` complex only).
    static func syevd(_ jobz: UInt8, _ uplo: UInt8, _ n: Int, _ a: LP<Self>, _ lda: Int, _ w: LP<RealPart>,
                      _ work: LP<Self>, _ lwork: Int, _ rwork: LP<RealPart>, _ lrwork: Int,
                      _ iwork: LP<Int32>, _ liwork: Int) -> Int32 {
        var j = CChar(bitPattern: jobz), u = CChar(bitPattern: uplo), n = i32(n), lda = i32(lda)
        var lw = i32(lwork), lrw = i32(lrwork), liw = i32(liwork), info: Int32 = 0
        switch precision {
        case .s: ssyevd_(&j, &u, &n, fp(a), &lda, fp(w), fp(work), &lw, iwork, &liw, &info, 1, 1)
        case .d: dsyevd_(&j, &u, &n, dp(a), &lda, dp(w), dp(work), &lw, iwork, &liw, &info, 1, 1)
        case .c: cheevd_(&j, &u, &n, a, &lda, fp(w), work, &lw, fp(rwork), &lrw, iwork, &liw, &info, 1, 1)
        case .z: zheevd_(&j, &u, &n, a, &lda, dp(w), work, &lw, dp(rwork), &lrw, iwork, &liw, &info, 1, 1)
        }
        return info
    }

    /// `rwork` is used by the complex routines only.
    static func gelsd(_ m: Int, _ n: Int, _ nrhs: Int, _ a: LP<Self>, _ lda: Int, _ b: LP<Self>, _ ldb: Int,
                      _ s: LP<RealPart>, _ rcond: RealPart, _ rank: LP<Int32>, _ work: LP<Self>, _ lwork: Int,
                      _ rwork: LP<RealPart>, _ iwork: LP<Int32>) -> Int32 {
        var m = i32(m), n = i32(n), r = i32(nrhs), lda = i32(lda), ldb = i32(ldb), lw = i32(lwork), info: Int32 = 0
        var rcf = Float(rcond.tideDouble), rcd = rcond.tideDouble
        switch precision {
        case .s: sgelsd_(&m, &n, &r, fp(a), &lda, fp(b), &ldb, fp(s), &rcf, rank, fp(work), &lw, iwork, &info)
        case .d: dgelsd_(&m, &n, &r, dp(a), &lda, dp(b), &ldb, dp(s), &rcd, rank, dp(work), &lw, iwork, &info)
        case .c: cgelsd_(&m, &n, &r, a, &lda, b, &ldb, fp(s), &rcf, rank, work, &lw, fp(rwork), iwork, &info)
        case .z: zgelsd_(&m, &n, &r, a, &lda, b, &ldb, dp(s), &rcd, rank, work, &lw, dp(rwork), iwork, &info)
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
