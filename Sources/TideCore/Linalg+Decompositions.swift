// Linalg+Decompositions: SVD, QR, the Hermitian eigendecomposition, least squares and the
// pseudo-inverse (everything built on an orthogonal factorization).
//
//     let (u, s, vh) = try Linalg.svd(a)                    // a = u diag(s) vh, full u and vh
//     let (q, r) = try Linalg.qr(a, mode: .reduced)         // a = q r
//     let (w, v) = try Linalg.eigh(h, uplo: .lower)         // h v = v diag(w), w ascending
//     let (x, rank, sv) = try Linalg.lstsq(a, b)            // min |a x - b|
//     let p = try Linalg.pinv(a)                            // Moore-Penrose inverse
//
// Signs (phases, for complex) of singular vectors, eigenvectors and Q's columns are whatever
// LAPACK returns: these factorizations are unique only up to them. Conventions of Linalg.swift
// apply (batches loop; i64/bool compute in f32; real-valued results have the real type).
import ComplexModule
import RealModule

extension Linalg {
    // MARK: SVD

    /// The singular value decomposition a = u diag(s) vh by divide and conquer (gesdd).
    /// a: (..., m, n) -> u: (..., m, k), s: (..., k), vh: (..., k, n) with k = min(m, n);
    /// with `fullMatrices` (the default, as in torch) u: (..., m, m) and vh: (..., n, n).
    /// s is real, descending; the columns of u and the rows of vh are orthonormal.
    public static func svd(_ a: Tensor, fullMatrices: Bool = true) throws -> (u: Tensor, s: Tensor, vh: Tensor) {
        if Autograd.isRecording(a) {
            guard a.dim >= 2 else { throw TensorError("svd: expected a (..., m, n) tensor, got shape \(shapeString(a.shape))") }
            return try svdRecorded(a, fullMatrices: fullMatrices)
        }
        let m = try matrices(a, "svd")
        try requireFinite(m.data, "svd")
        let r = try m.data.dtype.visitLapack(SVD(m: m, jobz: fullMatrices ? 65 : 83, op: "svd"))  // "A" / "S"
        return (r.u!, r.s, r.vh!)
    }

    /// The singular values alone: a (..., m, n) -> (..., min(m, n)) real, descending.
    public static func svdvals(_ a: Tensor) throws -> Tensor {
        if Autograd.isRecording(a) { return try svdvalsRecorded(a) }
        let m = try matrices(a, "svdvals")
        try requireFinite(m.data, "svdvals")
        return try m.data.dtype.visitLapack(SVD(m: m, jobz: 78, op: "svdvals")).s  // "N"
    }

    struct SVD: LapackVisitor {
        let m: Matrices, jobz: UInt8, op: String

        func visit<T: LapackScalar>(_: T.Type) throws -> (u: Tensor?, s: Tensor, vh: Tensor?) {
            let rows = m.rows, cols = m.cols, k = min(rows, cols), big = max(rows, cols)
            let full = jobz == 65, vectors = jobz != 78
            let ucols = full ? rows : k, vrows = full ? cols : k
            let s = try Tensor(uninitialized: m.batch + [k], dtype: T.RealPart.dtype)
            let u = vectors ? try Tensor.zeros(m.batch + [rows, ucols], dtype: T.dtype) : nil
            let vh = vectors ? try Tensor.zeros(m.batch + [vrows, cols], dtype: T.dtype) : nil
            if k == 0 {  // nothing to factor: full u and vh are identities
                if full, let u = u, let vh = vh {
                    try u.copy_(from: Tensor.eye(rows, dtype: T.dtype))
                    try vh.copy_(from: Tensor.eye(cols, dtype: T.dtype))
                }
                return (u, s, vh)
            }
            let lda = max(1, rows), ldu = max(1, rows), ldvt = max(1, vrows)
            let abuf = try LapackBuffer<T>(lda * cols, op)
            let ubuf = try LapackBuffer<T>(vectors ? ldu * ucols : 1, op)
            let vbuf = try LapackBuffer<T>(vectors ? ldvt * cols : 1, op)
            let sbuf = try LapackBuffer<T.RealPart>(k, op)
            let iwork = try LapackBuffer<Int32>(8 * k, op)
            // rwork of the complex routines (LAPACK's documented minimum; the query does not report it)
            let lrwork = !T.dtype.isComplex ? 1 : (vectors ? max(5 * k * k + 5 * k, 2 * big * k + 2 * k * k + k) : 7 * k)
            let rwork = try LapackBuffer<T.RealPart>(lrwork, op)
            let query = try LapackBuffer<T>(1, op)
            var info = T.gesdd(jobz, rows, cols, abuf.p, lda, sbuf.p, ubuf.p, ldu, vbuf.p, ldvt, query.p, -1, rwork.p, iwork.p)
            if info != 0 { throw Linalg.badArgument(op, T.prefix + "gesdd", info) }
            let work = try LapackBuffer<T>(T.workspaceSize(query.p[0].realPart), op)
            for b in 0 ..< m.count {
                try Cancellation.check()
                packColumnMajor(m.pointer(T.self, b), rows: rows, cols: cols, into: abuf.p, ld: lda)
                info = T.gesdd(jobz, rows, cols, abuf.p, lda, sbuf.p, ubuf.p, ldu, vbuf.p, ldvt, work.p, work.count, rwork.p, iwork.p)
                if info < 0 { throw Linalg.badArgument(op, T.prefix + "gesdd", info) }
                if info > 0 {
                    throw TensorError("\(op): the SVD did not converge (LAPACK \(T.prefix)gesdd info = \(info))\(Linalg.which(b, m.count))")
                }
                (s.pointer(T.RealPart.self) + b * k).update(from: sbuf.p, count: k)
                if let u = u, let vh = vh {
                    unpackColumnMajor(ubuf.p, ld: ldu, rows: rows, cols: ucols, into: u.pointer(T.self) + b * rows * ucols)
                    unpackColumnMajor(vbuf.p, ld: ldvt, rows: vrows, cols: cols, into: vh.pointer(T.self) + b * vrows * cols)
                }
            }
            return (u, s, vh)
        }
    }

    // MARK: QR

    public enum QRMode: String, Sendable {
        /// q: (..., m, k), r: (..., k, n), k = min(m, n)
        case reduced
        /// q: (..., m, m), r: (..., m, n)
        case complete
        /// r only, as reduced; q is an empty (0,) tensor
        case r
    }

    /// The QR factorization a = q r by Householder reflections (geqrf, then orgqr/ungqr for q).
    /// a: (..., m, n) -> q: (..., m, k), r: (..., k, n) in the default reduced mode (k = min(m, n));
    /// complete: q (..., m, m), r (..., m, n). q has orthonormal columns, r is upper triangular.
    public static func qr(_ a: Tensor, mode: QRMode = .reduced) throws -> (q: Tensor, r: Tensor) {
        if Autograd.isRecording(a) {
            guard a.dim >= 2 else { throw TensorError("qr: expected a (..., m, n) tensor, got shape \(shapeString(a.shape))") }
            return try qrRecorded(a, mode: mode)
        }
        struct V: LapackVisitor {
            let m: Matrices, mode: QRMode
            func visit<T: LapackScalar>(_: T.Type) throws -> (q: Tensor, r: Tensor) {
                let rows = m.rows, cols = m.cols, k = min(rows, cols)
                let qcols = mode == .complete ? rows : k, rrows = mode == .complete ? rows : k
                let wantQ = mode != .r
                let q = wantQ ? try Tensor(uninitialized: m.batch + [rows, qcols], dtype: T.dtype) : try Tensor.zeros([0], dtype: T.dtype)
                let r = try Tensor(uninitialized: m.batch + [rrows, cols], dtype: T.dtype)
                let lda = max(1, rows)
                // room for m columns when the complete q is wider than a
                let abuf = try LapackBuffer<T>(lda * max(cols, qcols), "qr")
                let tau = try LapackBuffer<T>(k, "qr"), query = try LapackBuffer<T>(1, "qr")
                var info = T.geqrf(rows, cols, abuf.p, lda, tau.p, query.p, -1)
                if info != 0 { throw Linalg.badArgument("qr", T.prefix + "geqrf", info) }
                var lwork = T.workspaceSize(query.p[0].realPart)
                if wantQ {
                    info = T.orgqr(rows, qcols, k, abuf.p, lda, tau.p, query.p, -1)
                    if info != 0 { throw Linalg.badArgument("qr", T.prefix + (T.dtype.isComplex ? "ungqr" : "orgqr"), info) }
                    lwork = max(lwork, T.workspaceSize(query.p[0].realPart))
                }
                let work = try LapackBuffer<T>(lwork, "qr")
                for b in 0 ..< m.count {
                    try Cancellation.check()
                    packColumnMajor(m.pointer(T.self, b), rows: rows, cols: cols, into: abuf.p, ld: lda)
                    info = T.geqrf(rows, cols, abuf.p, lda, tau.p, work.p, work.count)
                    if info != 0 { throw Linalg.badArgument("qr", T.prefix + "geqrf", info) }
                    let pr = r.pointer(T.self) + b * rrows * cols
                    for i in 0 ..< rrows {
                        for j in 0 ..< cols { pr[i * cols + j] = i <= j ? abuf.p[i + j * lda] : 0 }
                    }
                    guard wantQ else { continue }
                    info = T.orgqr(rows, qcols, k, abuf.p, lda, tau.p, work.p, work.count)
                    if info != 0 { throw Linalg.badArgument("qr", T.prefix + (T.dtype.isComplex ? "ungqr" : "orgqr"), info) }
                    unpackColumnMajor(abuf.p, ld: lda, rows: rows, cols: qcols, into: q.pointer(T.self) + b * rows * qcols)
                }
                return (q, r)
            }
        }
        let m = try matrices(a, "qr")
        return try m.data.dtype.visitLapack(V(m: m, mode: mode))
    }

    // MARK: Hermitian eigendecomposition

    public enum Triangle: String, Sendable {
        case lower = "L", upper = "U"
        var lapack: UInt8 { self == .lower ? 76 : 85 }
    }

    /// Eigenvalues and eigenvectors of real symmetric / complex Hermitian matrices by divide
    /// and conquer (syevd / heevd), reading only the `uplo` triangle (lower by default).
    /// a: (..., n, n) -> w: (..., n) real ascending, v: (..., n, n) with a v = v diag(w) and
    /// orthonormal columns.
    public static func eigh(_ a: Tensor, uplo: Triangle = .lower) throws -> (eigenvalues: Tensor, eigenvectors: Tensor) {
        if Autograd.isRecording(a) { return try eighRecorded(a, uplo: uplo) }
        let m = try matrices(a, "eigh", square: true)
        try requireFinite(m.data, "eigh")
        let r = try m.data.dtype.visitLapack(Eigh(m: m, vectors: true, uplo: uplo, op: "eigh"))
        return (r.w, r.v!)
    }

    /// The eigenvalues alone: a (..., n, n) -> (..., n) real ascending (syevd / heevd).
    public static func eigvalsh(_ a: Tensor, uplo: Triangle = .lower) throws -> Tensor {
        if Autograd.isRecording(a) { return try eigvalshRecorded(a, uplo: uplo) }
        let m = try matrices(a, "eigvalsh", square: true)
        try requireFinite(m.data, "eigvalsh")
        return try m.data.dtype.visitLapack(Eigh(m: m, vectors: false, uplo: uplo, op: "eigvalsh")).w
    }

    struct Eigh: LapackVisitor {
        let m: Matrices, vectors: Bool, uplo: Triangle, op: String

        func visit<T: LapackScalar>(_: T.Type) throws -> (w: Tensor, v: Tensor?) {
            let n = m.rows, ld = max(1, n), jobz: UInt8 = vectors ? 86 : 78  // "V" / "N"
            let routine = T.prefix + (T.dtype.isComplex ? "heevd" : "syevd")
            let w = try Tensor(uninitialized: m.batch + [n], dtype: T.RealPart.dtype)
            let v = vectors ? try Tensor(uninitialized: m.batch + [n, n], dtype: T.dtype) : nil
            let abuf = try LapackBuffer<T>(ld * n, op), wbuf = try LapackBuffer<T.RealPart>(n, op)
            let q = try LapackBuffer<T>(1, op), qr = try LapackBuffer<T.RealPart>(1, op), qi = try LapackBuffer<Int32>(1, op)
            var info = T.syevd(jobz, uplo.lapack, n, abuf.p, ld, wbuf.p, q.p, -1, qr.p, -1, qi.p, -1)
            if info != 0 { throw Linalg.badArgument(op, routine, info) }
            let work = try LapackBuffer<T>(T.workspaceSize(q.p[0].realPart), op)
            let rwork = try LapackBuffer<T.RealPart>(T.dtype.isComplex ? T.workspaceSize(qr.p[0]) : 1, op)
            let iwork = try LapackBuffer<Int32>(max(Int(qi.p[0]), 1), op)
            for b in 0 ..< m.count {
                try Cancellation.check()
                packColumnMajor(m.pointer(T.self, b), rows: n, cols: n, into: abuf.p, ld: ld)
                info = T.syevd(jobz, uplo.lapack, n, abuf.p, ld, wbuf.p, work.p, work.count, rwork.p, rwork.count, iwork.p, iwork.count)
                if info < 0 { throw Linalg.badArgument(op, routine, info) }
                if info > 0 {
                    throw TensorError("\(op): the eigenvalue algorithm did not converge (LAPACK \(routine) info = \(info))\(Linalg.which(b, m.count))")
                }
                (w.pointer(T.RealPart.self) + b * n).update(from: wbuf.p, count: n)
                if let v = v { unpackColumnMajor(abuf.p, ld: ld, rows: n, cols: n, into: v.pointer(T.self) + b * n * n) }
            }
            return (w, v)
        }
    }

    // MARK: least squares and the pseudo-inverse

    /// The minimum-norm least-squares solution of a x = b by the SVD (gelsd).
    /// a: (..., m, n), b: (..., m, k) -> solution (..., n, k), rank (...) i64, singular values
    /// (..., min(m, n)) real; b (..., m) (1-d, or a's batch dims exactly) -> solution (..., n).
    /// Singular values at or below rcond * s_max count as zero; rcond defaults to
    /// eps * max(m, n) (torch's and NumPy's default). Batch dims broadcast.
    public static func lstsq(_ a: Tensor, _ b: Tensor, rcond: Double? = nil) throws -> (solution: Tensor, rank: Tensor, singularValues: Tensor) {
        if Autograd.isRecording(a, b) {
            // with gradients: the same minimum-norm solution as pinv(a) b (same cutoff), whose
            // ops carry them; rank and singular values come from gelsd
            let r = try Autograd.noGrad { try lstsq(a, b, rcond: rcond) }
            let vector = b.dim == 1 || (b.dim == a.dim - 1 && b.shape == Array(a.shape.dropLast()))
            let dt = computeType(DType.promote(a.dtype, b.dtype))
            let x = try Tensor.matmul(pinv(a.to(dt), rtol: rcond), (vector ? b.unsqueeze(-1) : b).to(dt))
            return (vector ? try x.squeeze(-1) : x, r.rank, r.singularValues)
        }
        let (A, B, vector) = try leftRight(a, b, "lstsq", square: false)
        if !vector && B.cols == 0 {
            // no right-hand sides: gelsd refuses nrhs = 0, so solve for one zero column (for
            // rank and singular values) and keep none of it
            var zshape = b.shape
            zshape[zshape.count - 1] = 1
            let r = try lstsq(a, Tensor.zeros(zshape, dtype: b.dtype), rcond: rcond)
            return (try r.solution.narrow(-1, 0, 0).contiguous(), r.rank, r.singularValues)
        }
        try requireFinite(A.data, "lstsq")
        try requireFinite(B.data, "lstsq")
        struct V: LapackVisitor {
            let a: Matrices, b: Matrices, rcond: Double?
            func visit<T: LapackScalar>(_: T.Type) throws -> (Tensor, Tensor, Tensor) {
                let rows = a.rows, cols = a.cols, k = b.cols, mn = min(rows, cols)
                let lda = max(1, rows), ldb = max(1, rows, cols)
                let eps = T.RealPart.ulpOfOne * T.RealPart(max(rows, cols))
                let rc = rcond.map { T.RealPart($0) } ?? eps
                let x = try Tensor(uninitialized: a.batch + [cols, k], dtype: T.dtype)
                let rank = try Tensor(uninitialized: a.batch, dtype: .i64)
                let sv = try Tensor(uninitialized: a.batch + [mn], dtype: T.RealPart.dtype)
                let abuf = try LapackBuffer<T>(lda * cols, "lstsq"), bbuf = try LapackBuffer<T>(ldb * k, "lstsq")
                let sbuf = try LapackBuffer<T.RealPart>(mn, "lstsq"), r = try LapackBuffer<Int32>(1, "lstsq")
                let q = try LapackBuffer<T>(1, "lstsq"), qr = try LapackBuffer<T.RealPart>(1, "lstsq"), qi = try LapackBuffer<Int32>(1, "lstsq")
                var info = T.gelsd(rows, cols, k, abuf.p, lda, bbuf.p, ldb, sbuf.p, rc, r.p, q.p, -1, qr.p, qi.p)
                if info != 0 { throw Linalg.badArgument("lstsq", T.prefix + "gelsd", info) }
                let work = try LapackBuffer<T>(T.workspaceSize(q.p[0].realPart), "lstsq")
                let rwork = try LapackBuffer<T.RealPart>(T.dtype.isComplex ? T.workspaceSize(qr.p[0]) : 1, "lstsq")
                let iwork = try LapackBuffer<Int32>(max(Int(qi.p[0]), 1), "lstsq")
                for i in 0 ..< a.count {
                    try Cancellation.check()
                    packColumnMajor(a.pointer(T.self, i), rows: rows, cols: cols, into: abuf.p, ld: lda)
                    packColumnMajor(b.pointer(T.self, i), rows: rows, cols: k, into: bbuf.p, ld: ldb)
                    info = T.gelsd(rows, cols, k, abuf.p, lda, bbuf.p, ldb, sbuf.p, rc, r.p, work.p, work.count, rwork.p, iwork.p)
                    if info < 0 { throw Linalg.badArgument("lstsq", T.prefix + "gelsd", info) }
                    if info > 0 {
                        throw TensorError("lstsq: the SVD did not converge (LAPACK \(T.prefix)gelsd info = \(info))\(Linalg.which(i, a.count))")
                    }
                    unpackColumnMajor(bbuf.p, ld: ldb, rows: cols, cols: k, into: x.pointer(T.self) + i * cols * k)
                    rank.pointer(Int64.self)[i] = Int64(mn == 0 ? 0 : r.p[0])
                    (sv.pointer(T.RealPart.self) + i * mn).update(from: sbuf.p, count: mn)
                }
                return (x, rank, sv)
            }
        }
        let (x, rank, sv) = try A.data.dtype.visitLapack(V(a: A, b: B, rcond: rcond))
        return (vector ? try x.reshaped(Array(x.shape.dropLast())) : x, rank, sv)
    }

    /// The Moore-Penrose pseudo-inverse by the SVD: a (..., m, n) -> (..., n, m).
    /// Singular values at or below max(atol, rtol * s_max) are treated as zero. As in torch,
    /// rtol defaults to eps * max(m, n) when atol is not given (or is 0), and to 0 otherwise.
    /// hermitian: a is taken as Hermitian (its lower triangle read, as eigh) and inverted by
    /// its eigendecomposition, |eigenvalues| against the cutoff (torch's hermitian=True).
    public static func pinv(_ a: Tensor, atol: Double? = nil, rtol: Double? = nil, hermitian: Bool = false) throws -> Tensor {
        let (batch, m, n) = try matrixShape(a, "pinv")
        try requireFinite(a, "pinv")
        let dt = computeType(a.dtype)
        if hermitian && m != n { throw TensorError("pinv: hermitian needs square matrices, got \(m)x\(n)") }
        if min(m, n) == 0 { return try Tensor.zeros(batch + [n, m], dtype: dt) }
        let eps = dt.realType == .f32 ? Double(Float.ulpOfOne) : Double.ulpOfOne
        let rt = rtol ?? ((atol ?? 0) > 0 ? 0 : eps * Double(max(m, n)))
        // pinv = left diag(1/d) right^H over the values d with |d| above max(atol, rtol max|d|):
        // the singular values (left = v, right = u) or, hermitian, the eigenvalues (v, v)
        func assemble(_ d: Tensor, _ left: Tensor, _ right: Tensor) throws -> Tensor {
            let mag = try d.unary(.abs), rs = d.dtype
            let dmax = try mag.reduce(.amax, dims: [-1], keepdim: true)
            let cutoff = try Tensor.binary(.maximum, Tensor.binary(.mul, dmax, Tensor.scalar(rt, dtype: rs)),
                                           Tensor.scalar(atol ?? 0, dtype: rs))
            let dinv = try Tensor.where(Tensor.compare(.gt, mag, cutoff), d.unary(.reciprocal), Tensor.zeros([], dtype: rs))
            let scaled = try Tensor.binary(.mul, left, dinv.unsqueeze(-2).to(dt))
            return try Tensor.matmul(scaled, right.conj().transposed(-2, -1))
        }
        if hermitian {
            let (w, v) = try eigh(a)
            return try assemble(w, v, v)
        }
        let (u, s, vh) = try svd(a, fullMatrices: false)
        return try assemble(s, vh.conj().transposed(-2, -1), u)
    }
}
