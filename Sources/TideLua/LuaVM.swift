// LuaVM: one Lua 5.4 state and the Swift side of the Lua boundary.
//
//     let vm = try LuaVM()
//     try vm.openStandardLibraries()
//     vm.register(name: "twice", in: nil) { f in
//         f.push(try f.number(1) * 2); return 1
//     }
//     let values = try vm.run(string: "return twice(21)")   // [.integer(42)] or [.number(42)]
//
// Ownership: the VM owns the lua_State and every Binding registered on it; both die with the
// VM. A LuaVM is single-threaded: use it from one thread at a time.
//
// The boundary rules (ARCHITECTURE.md, "The Lua boundary"):
//   1. Lua calls only the C trampoline `tide_call`; `dispatch` below catches every Swift error
//      and returns TIDE_ERROR so that C raises it.
//   2. Swift calls no Lua API that can raise, except allocation ('m') of small objects, which
//      Tide's allocator never refuses (see tide_newstate).
//   3. Swift → Lua calls go through lua_pcall; a Lua error object comes back unchanged
//      (`LuaError.object` keeps a registry reference to it).
//   4. __gc / __close bindings are written never to throw.
//   5. Opening libraries, require and running files are protected (C helpers under pcall).
import CLua
import _CTideShims
import TideCore
#if canImport(Glibc)
import Glibc
#endif

/// A Swift function exposed to Lua. `fn` returns how many values it pushed.
public final class Binding {
    public let name: String
    /// The most arguments (self included) the function reads; more non-nil ones are an error
    /// raised before `fn` runs (nil: any number). A typo'd or misplaced argument would
    /// otherwise be silently ignored (x:exp(5)).
    let maxArgs: Int32?
    let fn: (LuaFrame) throws -> Int32
    init(name: String, maxArgs: Int32? = nil, fn: @escaping (LuaFrame) throws -> Int32) {
        self.name = name
        self.maxArgs = maxArgs
        self.fn = fn
    }
}

/// The single @convention(c) entry Lua reaches through the trampoline.
private let dispatch: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Int32 = { L, ctx in
    let binding = Unmanaged<Binding>.fromOpaque(ctx!).takeUnretainedValue()
    let frame = LuaFrame(L!, binding)
    LuaVM.withOwner(L!) { vm in if vm.collectionDue { TensorUserdata.collectForTensors(L!, vm) } }
    do {
        if let m = binding.maxArgs { try frame.checkMaxArgs(m) }
        return try binding.fn(frame)
    } catch let e as LuaError where e.value != nil {
        e.push(on: L!)  // an original Lua error object: raised unchanged
        return TIDE_ERROR
    } catch {
        // A Swift error: render it like luaL_error does, with the caller's position. A tensor
        // op's message from inside a binding that does not name it (lerp's "sub: shapes ...")
        // gets the called function's name in front, so the error names what the user called.
        // Other errors (an embedder's own) pass unchanged.
        var ar = lua_Debug()
        var message = "\(error)"
        let name = binding.name
        if error is TensorError, !name.hasPrefix("__"), !message.prefix(name.count + 48).contains(name) {
            message = name + ": " + message
        }
        // the calling line, as luaL_error gives it (level 1); tensor __index reaches its Swift
        // fallback through a C function (tide_tensor_index), so that fallback looks one further
        let level: Int32 = name == "__index" ? 2 : 1
        if lua_getstack(L, level, &ar) != 0, lua_getinfo(L, "Sl", &ar) != 0, ar.currentline > 0 {
            let src = withUnsafeBytes(of: &ar.short_src) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            message = "\(src):\(ar.currentline): " + message
        }
        lua_pushlstring(L, message, message.utf8.count)
        return TIDE_ERROR
    }
}

/// Whether a VM's state is still open; objects that outlive their VM (error values) check it.
final class LuaLife {
    let L: OpaquePointer
    var alive = true
    init(_ L: OpaquePointer) { self.L = L }
}

public final class LuaVM {
    public let L: OpaquePointer
    let life: LuaLife
    private var bindings: [Binding] = []
    /// Registry references to the tensor metatable, the tide table and the docs table.
    // Read on every tensor push; the VM is single-threaded, so no dynamic exclusivity checks.
    @exclusivity(unchecked) public internal(set) var tensorMetatable: Int32 = LUA_NOREF
    public internal(set) var tideTableRef: Int32 = LUA_NOREF
    /// Tensor bytes allocated since Tide last asked for a young and for a full collection,
    /// and how many start the next full one (TensorUserdata.collectForTensors).
    @exclusivity(unchecked) var tensorBytesSinceYoung = 0
    @exclusivity(unchecked) var tensorBytesSinceFull = 0
    /// Set by a tensor push when a collection is due; run at the next binding's entry.
    @exclusivity(unchecked) var collectionDue = false
    @exclusivity(unchecked) var fullCollectionBytes = TensorUserdata.minFullCollectionBytes
    var docsRef: Int32 = LUA_NOREF
    public internal(set) var generatorMetatable: Int32 = LUA_NOREF
    /// Bytes the Lua heap may grow to, and the largest single allocation it grants.
    /// Default: half the physical memory.
    public static let defaultHeapLimit: Int = Storage.maxBytes / 2

    /// Largest single Lua allocation (1 GiB): a bigger string or table is refused with
    /// "not enough memory". Big data belongs in tensors, which live outside the Lua heap.
    public static let defaultMaxAllocation: Int = 1 << 30

    public init(heapLimit: Int = LuaVM.defaultHeapLimit, maxAllocation: Int = LuaVM.defaultMaxAllocation) throws {
        tide_set_dispatcher(dispatch)
        guard let L = tide_newstate(heapLimit, maxAllocation) else {
            throw LuaError.message("cannot create a Lua state (out of memory)")
        }
        self.L = L
        life = LuaLife(L)
        tide_extraspace(L).pointee = Unmanaged.passUnretained(self).toOpaque()
        // Stop the collector while building the state, as lua.c does.
        _ = tide_gc(L, LUA_GCSTOP, 0)
    }

    deinit {
        life.alive = false
        tide_close(L)
    }

    /// The VM that owns state `L` (also for coroutines of it).
    public static func from(_ L: OpaquePointer) -> LuaVM {
        Unmanaged<LuaVM>.fromOpaque(tide_extraspace(L).pointee!).takeUnretainedValue()
    }

    /// Runs body with the VM that owns L, without retaining it (the tensor push path).
    @inline(__always)
    static func withOwner<R>(_ L: OpaquePointer, _ body: (LuaVM) -> R) -> R {
        Unmanaged<LuaVM>.fromOpaque(tide_extraspace(L).pointee!)._withUnsafeGuaranteedRef(body)
    }

    /// The registry reference of the tensor metatable of L's VM, read without retaining the VM
    /// (this is on the path of every tensor argument check).
    @inline(__always)
    static func tensorMetatableRef(_ L: OpaquePointer) -> Int32 {
        Unmanaged<LuaVM>.fromOpaque(tide_extraspace(L).pointee!)._withUnsafeGuaranteedRef { $0.tensorMetatable }
    }

    /// Bytes currently held by the Lua heap (not counting tensor memory).
    public var heapBytes: Int { tide_heap_bytes(L) }

    public func setHeapLimit(_ limit: Int, maxAllocation: Int = LuaVM.defaultMaxAllocation) {
        tide_set_heap_limit(L, limit, maxAllocation)
    }

    public func openStandardLibraries() throws {
        try check(tide_openlibs(L))
        _ = tide_gc(L, LUA_GCRESTART, 0)
        // Generational: a tensor userdata is tiny on the Lua heap but may hold a big buffer,
        // and a young collection frees the temporaries without re-marking the library (a
        // 65K-element add took 18 us in incremental mode against 9 us here; see
        // TensorUserdata.collectForTensors for the tensor-driven collections, young and full).
        _ = tide_gcgen(L)
    }

    // MARK: bindings

    /// Pushes a Lua function backed by `fn` (the VM keeps `fn` alive).
    public func pushFunction(name: String, maxArgs: Int32? = nil, _ fn: @escaping (LuaFrame) throws -> Int32) {
        let b = Binding(name: name, maxArgs: maxArgs, fn: fn)
        bindings.append(b)
        tide_push_binding(L, Unmanaged.passUnretained(b).toOpaque())
    }

    /// Registers `fn` as field `name` of the table at `table` (a stack index), or as a global
    /// when `table` is nil.
    public func register(name: String, in table: Int32? = nil, _ fn: @escaping (LuaFrame) throws -> Int32) {
        if let t = table {
            let abs = lua_absindex(L, t)
            lua_pushstring(L, name)
            pushFunction(name: name, fn)
            lua_rawset(L, abs)
        } else {
            tide_pushglobaltable(L)
            lua_pushstring(L, name)
            pushFunction(name: name, fn)
            lua_rawset(L, -3)
            tide_pop(L, 1)
        }
    }

    // MARK: running code

    /// Compiles and runs `code`; returns its results. Errors come back as LuaError with a
    /// traceback when `traceback` is set.
    @discardableResult
    public func run(string code: String, chunkName: String? = nil, args: [String] = [],
                    traceback: Bool = true) throws -> [LuaValue] {
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        let name = chunkName ?? "=(string)"
        let status = tide_loadbuffer(L, code, code.utf8.count, name, "t")
        try check(status)
        for a in args { lua_pushstring(L, a) }
        try check(tide_pcall(L, Int32(args.count), LUA_MULTRET, traceback ? 1 : 0))
        return (top + 1 ..< lua_gettop(L) + 1).map { value(at: $0) }
    }

    /// Loads and runs a Lua file with `args` as `...`.
    @discardableResult
    public func run(file path: String, args: [String] = [], traceback: Bool = true) throws -> [LuaValue] {
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        try check(tide_loadfile(L, path))
        for a in args { lua_pushstring(L, a) }
        try check(tide_pcall(L, Int32(args.count), LUA_MULTRET, traceback ? 1 : 0))
        return (top + 1 ..< lua_gettop(L) + 1).map { value(at: $0) }
    }

    /// Calls the function at the top of the stack below `nargs` pushed arguments,
    /// protected. Leaves `nresults` results (LUA_MULTRET for all) on success.
    public func pcall(nargs: Int32, nresults: Int32, traceback: Bool = false) throws {
        try check(tide_pcall(L, nargs, nresults, traceback ? 1 : 0))
    }

    /// `require(name)`, protected; returns the module value.
    @discardableResult
    public func require(_ name: String) throws -> LuaValue {
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        try check(tide_require(L, name))
        return value(at: -1)
    }

    /// Throws LuaError for a non-OK status, taking the error object from the stack top.
    public func check(_ status: Int32) throws {
        if status == LUA_OK { return }
        throw LuaError.fromStack(L, status: status)
    }

    // MARK: globals

    public func setGlobal(_ name: String, _ v: LuaValue) {
        tide_pushglobaltable(L)
        lua_pushstring(L, name)
        push(v)
        lua_rawset(L, -3)
        tide_pop(L, 1)
    }

    public func global(_ name: String) -> LuaValue {
        tide_pushglobaltable(L)
        lua_pushstring(L, name)
        lua_rawget(L, -2)
        let v = value(at: -1)
        tide_pop(L, 2)
        return v
    }
}
