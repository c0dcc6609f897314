// LinalgBindings: tide.linalg, torch.linalg's names over TideCore's Linalg.
//
//     local x = tide.linalg.solve(a, b)                   -- a x = b
//     local U, S, Vh = tide.linalg.svd(a, {full_matrices = false})
//     local Q, R = tide.linalg.qr(a)
//     local L, V = tide.linalg.eigh(h)                    -- ascending eigenvalues, vectors as columns
//     local sign, logabsdet = tide.linalg.slogdet(a)
//     print(tide.linalg.matrix_norm(a, "nuc"), tide.linalg.matrix_norm(a, math.huge))
//
// Every function takes (..., m, n) tensors: leading dims are a batch. Results are new tensors;
// functions with several results return them as several Lua values.
import CLua
import _CTideShims
import TideCore

enum LinalgBindings {

    /// A string option given either positionally (argument i is a string) or as `key` in an
    /// options table at i.
    static func stringArg(_ f: LuaFrame, _ i: Int32, _ key: String, _ def: String) throws -> String {
        if f.type(i) == LUA_TSTRING { return try f.string(i) }
        let o = try f.options(i)
        try f.checkOptionKeys(o, [key])
        return try (f.stringOption(o, key) ?? def)
    }

    /// The triangle read: "L" or "U", positional or {uplo =} ({UPLO =}, torch's spelling).
    static func uplo(_ f: LuaFrame, _ i: Int32) throws -> Linalg.Triangle {
        var s = "L"
        if f.type(i) == LUA_TSTRING { s = try f.string(i) } else {
            let o = try f.options(i)
            try f.checkOptionKeys(o, ["uplo", "UPLO"])
            s = try f.stringOption(o, "uplo") ?? f.stringOption(o, "UPLO") ?? "L"
        }
        guard let t = Linalg.Triangle(rawValue: s.uppercased()) else {
            throw LuaError.message("\(f.name): uplo must be 'L' or 'U', got '\(s)'")
        }
        return t
    }

    /// matrix_norm's ord: a number (2, -2, 1, -1, math.huge, -math.huge) or "fro" / "nuc".
    static func normOrder(_ f: LuaFrame, _ i: Int32) throws -> Linalg.NormOrder {
        let expected = "ord must be 'fro', 'nuc', 2, -2, 1, -1, math.huge or -math.huge"
        switch f.type(i) {
        case LUA_TNUMBER:
            let p = try f.number(i)
            guard let o = Linalg.NormOrder(p) else { throw LuaError.message("matrix_norm: \(expected), got \(Linalg.NormOrder.describe(p))") }
            return o
        case LUA_TSTRING:
            let s = try f.string(i)
            guard let o = Linalg.NormOrder(s) else { throw LuaError.message("matrix_norm: \(expected), got '\(s)'") }
            return o
        case LUA_TNONE, LUA_TNIL, LUA_TTABLE:
            return .fro
        default:
            throw f.typeError(i, "number or string")
        }
    }

    static func open(_ vm: LuaVM, _ tide: Int32) {
        let L = vm.L
        let t = vm.subtable(tide, "linalg", "tide.linalg: linear algebra on (..., m, n) tensors (leading dims are a batch) through LAPACK; torch.linalg's names. i64/bool inputs compute in f32.")

        vm.def(t, "det", "tide.linalg.det(a) -> det: a (..., n, n) -> (...), by LU; 0 for a singular matrix.") { f in
            f.push(try Linalg.det(f.tensor(1))); return 1
        }
        vm.def(t, "slogdet", "tide.linalg.slogdet(a) -> sign, logabsdet: a (..., n, n) -> (...), (...); det = sign * exp(logabsdet). sign is complex (a phase) for complex a; singular: 0, -inf.") { f in
            let (s, l) = try Linalg.slogdet(f.tensor(1))
            f.push(s); f.push(l); return 2
        }
        vm.def(t, "inv", "tide.linalg.inv(a) -> the inverse: a (..., n, n) -> (..., n, n); errors when a is singular.") { f in
            f.push(try Linalg.inv(f.tensor(1))); return 1
        }
        vm.def(t, "solve", "tide.linalg.solve(a, b [, {left = true}]) -> x with a x = b: a (..., n, n), b (..., n, k) -> (..., n, k); b (n) or (..., n) with a's batch dims -> (..., n). Batch dims broadcast. left = false solves x a = b: b (..., k, n) -> x (..., k, n) (torch).", maxArgs: 3) { f in
            let a = try f.tensor(1), b = try f.tensor(2)
            let o = try f.options(3)
            try f.checkOptionKeys(o, ["left"])
            if try f.boolOption(o, "left") == false {
                // x a = b is a^T x^T = b^T (plain transposes, also for complex)
                let at = try a.transposed(-2, -1)
                f.push(b.dim == 1 ? try Linalg.solve(at, b) : try Linalg.solve(at, b.transposed(-2, -1)).transposed(-2, -1))
                return 1
            }
            f.push(try Linalg.solve(a, b)); return 1
        }
        vm.def(t, "cholesky", "tide.linalg.cholesky(a [, {upper = false}]) -> L with a = L L^H (lower), or U with a = U^H U: a (..., n, n) Hermitian positive definite -> (..., n, n).") { f in
            let a = try f.tensor(1)
            let o = f.type(2) == LUA_TBOOLEAN ? nil : try f.options(2)
            try f.checkOptionKeys(o, ["upper"])
            let upper = f.type(2) == LUA_TBOOLEAN ? f.boolean(2) : f.optField(o, "upper", false)
            f.push(try Linalg.cholesky(a, upper: upper)); return 1
        }
        vm.def(t, "svd", "tide.linalg.svd(a [, {full_matrices = true}]) -> U, S, Vh with a = U diag(S) Vh: a (..., m, n) -> U (..., m, m), S (..., k) real descending, Vh (..., n, n); thin (full_matrices = false): U (..., m, k), Vh (..., k, n), k = min(m, n).") { f in
            let a = try f.tensor(1)
            let o = f.type(2) == LUA_TBOOLEAN ? nil : try f.options(2)
            try f.checkOptionKeys(o, ["full_matrices"])
            let full = f.type(2) == LUA_TBOOLEAN ? f.boolean(2) : f.optField(o, "full_matrices", true)
            let (u, s, vh) = try Linalg.svd(a, fullMatrices: full)
            f.push(u); f.push(s); f.push(vh); return 3
        }
        vm.def(t, "svdvals", "tide.linalg.svdvals(a) -> the singular values: a (..., m, n) -> (..., min(m, n)) real, descending.") { f in
            f.push(try Linalg.svdvals(f.tensor(1))); return 1
        }
        vm.def(t, "qr", "tide.linalg.qr(a [, {mode = \"reduced\"}]) -> Q, R with a = Q R: a (..., m, n) -> Q (..., m, k), R (..., k, n), k = min(m, n); mode \"complete\": Q (..., m, m), R (..., m, n); mode \"r\": R only (Q empty).") { f in
            let a = try f.tensor(1)
            let s = try stringArg(f, 2, "mode", "reduced")
            guard let mode = Linalg.QRMode(rawValue: s) else {
                throw LuaError.message("qr: mode must be 'reduced', 'complete' or 'r', got '\(s)'")
            }
            let (q, r) = try Linalg.qr(a, mode: mode)
            f.push(q); f.push(r); return 2
        }
        vm.def(t, "eigh", "tide.linalg.eigh(a [, {uplo = \"L\"}]) -> L, V: eigenvalues (..., n) real ascending and eigenvectors as the columns of V (..., n, n), a V = V diag(L), for symmetric / Hermitian a; only the uplo triangle is read.") { f in
            let a = try f.tensor(1)
            let (w, v) = try Linalg.eigh(a, uplo: uplo(f, 2))
            f.push(w); f.push(v); return 2
        }
        vm.def(t, "eigvalsh", "tide.linalg.eigvalsh(a [, {uplo = \"L\"}]) -> the eigenvalues of symmetric / Hermitian a: (..., n, n) -> (..., n) real ascending.") { f in
            let a = try f.tensor(1)
            f.push(try Linalg.eigvalsh(a, uplo: uplo(f, 2))); return 1
        }
        vm.def(t, "lstsq", "tide.linalg.lstsq(a, b [, {rcond}]) -> solution, rank, singular values: the minimum-norm x minimizing |a x - b| (SVD, gelsd). a (..., m, n), b (..., m, k) -> x (..., n, k) (b (..., m) -> x (..., n)), rank (...) i64, S (..., min(m, n)). rcond defaults to eps * max(m, n).") { f in
            let a = try f.tensor(1), b = try f.tensor(2)
            let o = try f.options(3)
            try f.checkOptionKeys(o, ["rcond"])
            let rcond = try f.numberOption(o, "rcond")
            let (x, rank, s) = try Linalg.lstsq(a, b, rcond: rcond)
            f.push(x); f.push(rank); f.push(s); return 3
        }
        vm.def(t, "pinv", "tide.linalg.pinv(a [, {rtol, atol, hermitian = false}]) -> the Moore-Penrose pseudo-inverse: a (..., m, n) -> (..., n, m), by the SVD (hermitian: by eigh, reading the lower triangle); singular values (|eigenvalues|) <= max(atol, rtol * max(S)) count as zero (rtol defaults to eps * max(m, n) when atol is not given).") { f in
            let a = try f.tensor(1)
            let o = try f.options(2)
            try f.checkOptionKeys(o, ["atol", "rtol", "hermitian"])
            f.push(try Linalg.pinv(a, atol: f.numberOption(o, "atol"), rtol: f.numberOption(o, "rtol"), hermitian: f.optField(o, "hermitian", false))); return 1
        }
        vm.def(t, "matrix_norm", "tide.linalg.matrix_norm(a [, ord = \"fro\"] [, {dim = {-2, -1}, keepdim = false}]) -> a norm over two dims (the matrices' rows and columns, the last two by default): (..., m, n) -> (...) real. ord: \"fro\", \"nuc\", 2, -2 (largest / smallest singular value), 1, -1 (max / min column sum of |a|), math.huge, -math.huge (max / min row sum).") { f in
            let a = try f.tensor(1)
            let ord = try normOrder(f, 2)
            let o = try MathBindings.options(f, from: 2, ["dim", "keepdim"])
            let keep = f.optField(o, "keepdim", false)
            var given: [Int]? = nil
            if let o {
                if f.pushField(o, "dim") != LUA_TNIL { given = try MathBindings.signedList(f, lua_gettop(f.L)).0 }
                tide_pop(f.L, 1)
            }
            guard let pair = given else { f.push(try Linalg.matrixNorm(a, ord: ord, keepdim: keep)); return 1 }
            // dim = {r, c}: move that pair last (rows, then columns), reduce, then put kept dims back
            guard pair.count == 2 else { throw LuaError.message("matrix_norm: option 'dim' must hold two dims, got \(pair.count)") }
            let r = try luaDim(pair[0], rank: a.dim, op: "matrix_norm"), c = try luaDim(pair[1], rank: a.dim, op: "matrix_norm")
            guard r != c else { throw LuaError.message("matrix_norm: option 'dim' names dim \(r + 1) twice") }
            let rest = (0 ..< a.dim).filter { $0 != r && $0 != c }
            var out = try Linalg.matrixNorm(a.permuted(rest + [r, c]), ord: ord)
            if keep { for d in [r, c].sorted() { out = try out.unsqueeze(d) } }
            f.push(out); return 1
        }
        lua_settop(L, t - 1)
    }
}
