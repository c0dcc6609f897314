// SystemBindings: what the training tools need from the operating system and the random
// streams: terminals, directories, (gzip) files, generator state, bytes <-> tensors.
//
//     if tide.isatty() then io.write("\r", line) end      -- progress lines only on a terminal
//     tide.fs.mkdir_p("runs/gpt/ckpt")                    -- like `mkdir -p`
//     local text = tide.fs.read("data/pydoc/pydoc.txt.gz") -- gunzipped because of .gz
//     local s = tide.get_rng_state(); tide.randn(3); tide.set_rng_state(s)  -- replays the draw
//     local ids = tide.data.bytes_to_tensor("hi", 1)      -- i64 {105, 106}
//
// RNG state layout (i64 tensor of 6, bit patterns of the UInt64 words): a magic word
// ("TIDERNG1"), the four xoshiro256** words, the initial seed. Nothing else is needed to
// resume a stream: normals are drawn in Box-Muller pairs within one call, no spare is kept.
import CLua
import CZlib
import _CTideShims
import TideCore
#if canImport(Glibc)
import Glibc
#endif

enum SystemBindings {
    static let rngMagic = Int64(bitPattern: 0x5449_4445_524E_4731)  // "TIDERNG1"

    /// The generator named by the argument at i (a tide.Generator), or the global one if absent.
    static func generatorArg(_ f: LuaFrame, _ i: Int32) throws -> Generator {
        if f.isNoneOrNil(i) { return .global }
        guard let g = GeneratorUserdata.generator(f.L, i) else { throw f.typeError(i, "tide.Generator") }
        return g
    }

    /// The raw bytes of the Lua string at argument i (no UTF-8 decoding).
    static func bytesArg(_ f: LuaFrame, _ i: Int32) throws -> UnsafeRawBufferPointer {
        guard f.type(i) == LUA_TSTRING else { throw f.typeError(i, "string") }
        var len = 0
        let p = lua_tolstring(f.L, i, &len)
        return UnsafeRawBufferPointer(start: p, count: len)
    }

    static func pushBytes(_ f: LuaFrame, _ b: [UInt8]) {
        _ = b.withUnsafeBytes { r in
            lua_pushlstring(f.L, r.baseAddress?.assumingMemoryBound(to: CChar.self), r.count)
        }
    }

    /// `mkdir -p`: every missing component is created; an existing non-directory is an error.
    static func mkdirP(_ path: String, op: String) throws {
        guard !path.isEmpty else { throw TensorError("\(op): expected a directory path, got an empty string") }
        var prefix = path.hasPrefix("/") ? "/" : ""
        for comp in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += comp
            var st = stat()
            if stat(prefix, &st) == 0 {
                guard (st.st_mode & S_IFMT) == S_IFDIR else { throw TensorError("\(op): \(prefix) exists and is not a directory") }
            } else if mkdir(prefix, 0o777) != 0 && errno != EEXIST {
                throw TensorError("\(op): cannot create \(prefix) (\(String(cString: strerror(errno))))")
            }
            prefix += "/"
        }
    }

    /// Decodes a single-member gzip file (RFC 1952) and checks its CRC-32 and length. The
    /// trailer holds the length mod 2^32, so members over 4 GiB are refused as corrupt.
    static func gunzip(_ b: [UInt8], file: String, op: String) throws -> [UInt8] {
        func corrupt(_ why: String) -> TensorError { TensorError("\(op): \(file): not a valid gzip file (\(why))") }
        guard b.count >= 18, b[0] == 0x1F, b[1] == 0x8B else { throw corrupt("bad magic bytes") }
        guard b[2] == 8 else { throw corrupt("compression method \(b[2]), expected 8 (deflate)") }
        let flags = b[3]
        var pos = 10
        if flags & 4 != 0 {  // FEXTRA
            guard pos + 2 <= b.count else { throw corrupt("truncated header") }
            pos += 2 + Int(b[pos]) + Int(b[pos + 1]) << 8
        }
        for bit: UInt8 in [8, 16] where flags & bit != 0 {  // FNAME, FCOMMENT: zero-terminated
            while pos < b.count && b[pos] != 0 { pos += 1 }
            pos += 1
        }
        if flags & 2 != 0 { pos += 2 }  // FHCRC
        guard pos + 8 <= b.count else { throw corrupt("truncated header") }
        let t = b.count - 8
        let crc = UInt32(b[t]) | UInt32(b[t + 1]) << 8 | UInt32(b[t + 2]) << 16 | UInt32(b[t + 3]) << 24
        let isize = Int(UInt32(b[t + 4]) | UInt32(b[t + 5]) << 8 | UInt32(b[t + 6]) << 16 | UInt32(b[t + 7]) << 24)
        var out = [UInt8](repeating: 0, count: isize)
        let rc = b.withUnsafeBytes { src in out.withUnsafeMutableBytes { dst in
            tide_inflate_raw(src.baseAddress! + pos, t - pos, dst.baseAddress, dst.count) } }
        guard rc == 0 else { throw corrupt("the deflate data does not inflate to the \(isize) bytes the trailer gives") }
        let got = out.withUnsafeBytes { UInt32(truncatingIfNeeded: tide_crc32($0.baseAddress, $0.count)) }
        guard got == crc else { throw corrupt("CRC-32 mismatch") }
        return out
    }

    static func open(_ vm: LuaVM, _ tide: Int32) {
        let L = vm.L
        vm.def(tide, "isatty", "tide.isatty([fd = 1]) -> true when file descriptor fd (1 = stdout, 2 = stderr) is a terminal.") { f in
            let fd = try f.optInteger(1, 1)
            guard fd >= 0 && fd <= Int(Int32.max) else { throw f.argError(1, "expected a file descriptor >= 0, got \(fd)") }
            f.push(isatty(Int32(fd)) == 1); return 1
        }

        // ---- random generator state
        vm.def(tide, "get_rng_state", "tide.get_rng_state([generator]) -> an i64 tensor of 6 holding the full state of the generator (the global one by default): magic, 4 xoshiro256** words, initial seed.") { f in
            let g = try generatorArg(f, 1)
            let t = try Tensor(uninitialized: [6], dtype: .i64)
            let p = t.pointer(Int64.self)
            p[0] = rngMagic
            for (i, w) in g.state.enumerated() { p[1 + i] = Int64(bitPattern: w) }
            p[5] = Int64(bitPattern: g.initialSeed)
            f.push(t); return 1
        }
        vm.def(tide, "set_rng_state", "tide.set_rng_state(state [, generator]): restores a state from tide.get_rng_state into the generator (the global one by default); the stream then continues bit for bit.") { f in
            let t = try f.tensor(1)
            guard t.dtype == .i64, t.shape == [6] else {
                throw f.argError(1, "expected an i64 tensor of shape {6} from tide.get_rng_state, got \(t.dtype.rawValue) of shape {\(t.shape.map(String.init).joined(separator: ", "))}")
            }
            let c = try t.contiguous()
            let p = c.pointer(Int64.self)
            guard p[0] == rngMagic else { throw f.argError(1, "not a tide RNG state (bad magic word)") }
            let g = try generatorArg(f, 2)
            try g.restore(state: (1 ... 4).map { UInt64(bitPattern: p[$0]) }, initialSeed: UInt64(bitPattern: p[5]))
            return 0
        }

        // ---- files
        let fs = vm.subtable(tide, "fs", "tide.fs: small file-system helpers (mkdir_p, exists, isdir, read, source_root).")
        vm.def(fs, "mkdir_p", "tide.fs.mkdir_p(path): creates the directory and any missing parents (like mkdir -p); fine if it exists.") { f in
            try mkdirP(f.string(1), op: "mkdir_p"); return 0
        }
        vm.def(fs, "exists", "tide.fs.exists(path) -> true when something exists at path.") { f in
            var st = stat()
            f.push(stat(try f.string(1), &st) == 0); return 1
        }
        vm.def(fs, "isdir", "tide.fs.isdir(path) -> true when path is a directory.") { f in
            var st = stat()
            f.push(stat(try f.string(1), &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR); return 1
        }
        vm.def(fs, "read", "tide.fs.read(path [, {gunzip}]) -> the file's bytes as a string; gunzip (default: path ends in .gz) decompresses gzip, checking its CRC.") { f in
            let path = try f.string(1)
            let o = try f.options(2)
            let gz = f.optField(o, "gunzip", path.hasSuffix(".gz"))
            let bytes = try FileBytes.read(path, op: "read")
            pushBytes(f, gz ? try gunzip(bytes, file: path, op: "read") : bytes)
            return 1
        }
        vm.def(fs, "source_root", "tide.fs.source_root() -> the directory of the Tide source tree this binary was built from (may no longer exist).") { f in
            var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
            parts.removeLast(4)  // Sources/TideLua/Bindings/SystemBindings.swift
            f.push(parts.joined(separator: "/")); return 1
        }
        lua_settop(L, fs - 1)

        // ---- bytes <-> tensors (tokenizers)
        let data = vm.subtable(tide, "data", "tide.data: the shipped corpus, tokenizers and batching.")
        vm.def(data, "bytes_to_tensor", "tide.data.bytes_to_tensor(s [, offset = 0]) -> i64 tensor (#s) of the bytes of s plus offset.") { f in
            let b = try bytesArg(f, 1)
            let off = Int64(try f.optInteger(2, 0))
            let t = try Tensor(uninitialized: [b.count], dtype: .i64)
            let p = t.pointer(Int64.self)
            for i in 0 ..< b.count { p[i] = Int64(b[i]) + off }
            f.push(t); return 1
        }
        vm.def(data, "tensor_to_bytes", "tide.data.tensor_to_bytes(t [, offset = 0]) -> the string whose bytes are the i64 values of t minus offset (each must land in 0..255).") { f in
            let t = try f.tensor(1)
            guard t.dtype == .i64 else { throw f.argError(1, "expected an i64 tensor, got \(t.dtype.rawValue)") }
            let off = Int64(try f.optInteger(2, 0))
            let c = try t.contiguous()
            let p = c.pointer(Int64.self)
            let n = c.numel
            var out = [UInt8](repeating: 0, count: n)
            for i in 0 ..< n {
                let v = p[i] - off
                guard v >= 0 && v <= 255 else {
                    throw LuaError.message("tensor_to_bytes: element \(i + 1) is \(p[i]); expected values in \(off)..\(255 + off) (bytes 0..255 plus offset \(off))")
                }
                out[i] = UInt8(v)
            }
            pushBytes(f, out); return 1
        }
        vm.def(data, "windows", "tide.data.windows(tokens, starts, block) -> x, y: i64 (B, block) with x[b] = tokens[starts[b] .. starts[b]+block-1] and y the same shifted by one; tokens 1-d i64, starts (B) i64 1-based.") { f in
            // tokens: (n), starts: (B) -> x, y: (B, block); B row copies, no per-element work
            let tokens = try f.tensor(1), starts = try f.tensor(2)
            let block = try f.integer(3)
            guard tokens.dim == 1, tokens.dtype == .i64 else {
                throw f.argError(1, "expected a 1-d i64 tensor, got \(tokens.dtype.rawValue) with \(tokens.dim) dims")
            }
            guard starts.dim == 1, starts.dtype == .i64 else {
                throw f.argError(2, "expected a 1-d i64 tensor of start positions, got \(starts.dtype.rawValue) with \(starts.dim) dims")
            }
            guard block >= 1 else { throw f.argError(3, "expected block >= 1, got \(block)") }
            let n = tokens.numel, b = starts.numel
            let tc = try tokens.contiguous(), sc = try starts.contiguous()
            let tp = tc.pointer(Int64.self), sp = sc.pointer(Int64.self)
            let x = try Tensor(uninitialized: [b, block], dtype: .i64)
            let y = try Tensor(uninitialized: [b, block], dtype: .i64)
            let xp = x.pointer(Int64.self), yp = y.pointer(Int64.self)
            for r in 0 ..< b {
                let s = Int(sp[r]) - 1
                guard s >= 0 && s + block < n else {
                    throw LuaError.message("windows: start \(sp[r]) (row \(r + 1)) is out of range; with \(n) tokens and block = \(block) starts must be in 1..\(n - block)")
                }
                (xp + r * block).update(from: tp + s, count: block)
                (yp + r * block).update(from: tp + s + 1, count: block)
            }
            f.push(x); f.push(y); return 2
        }
        lua_settop(L, data - 1)
    }
}
