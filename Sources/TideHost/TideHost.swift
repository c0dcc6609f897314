// TideHost: Tide embedded in a Swift program.
//
//     import TideHost
//     let host = try TideHost()
//     host.register("twice") { args in [.number((args.first?.doubleValue ?? 0) * 2)] }
//     let r = try host.run("return twice(21), tide.ones(2, 2)")
//     // r[0] == .number(42); r[1] is .tensor(t), a TideCore.Tensor
//     try host.setGlobal("x", .tensor(try Tensor.zeros([3])))
//
// Ownership: a host owns one Lua state (a LuaVM); it is single-threaded. Tensors passed in or
// out are shared, not copied: Lua and Swift see the same storage.
// Errors: every entry point runs in protected mode and throws LuaError; nothing here can
// reach Lua's panic function.
import CLua
import _CTideShims
import TideCore
@_exported import TideLua
#if canImport(Glibc)
import Glibc
#endif

public final class TideHost {
    public let vm: LuaVM

    /// Creates a Lua state with the standard libraries and `tide` open.
    /// - useEnvironment: add the directories of TIDE_PATH (colon-separated) to `require`'s path.
    public init(useEnvironment: Bool = true, heapLimit: Int = LuaVM.defaultHeapLimit) throws {
        vm = try LuaVM(heapLimit: heapLimit)
        try vm.openStandardLibraries()
        try vm.openTide()
        if useEnvironment, let p = getenv("TIDE_PATH") {
            for dir in String(cString: p).split(separator: ":").reversed() where !dir.isEmpty {
                addSearchPath(String(dir))
            }
        }
    }

    /// Registers a global Lua function implemented in Swift: values in, values out. A thrown
    /// error becomes a Lua error with its message.
    public func register(_ name: String, doc: String? = nil, _ fn: @escaping ([LuaValue]) throws -> [LuaValue]) {
        let L = vm.L
        tide_pushglobaltable(L)
        lua_pushstring(L, name)
        vm.pushFunction(name: name) { f in
            let args = (1 ... max(f.count, 1)).prefix(Int(f.count)).map { f.value($0) }
            let results = try fn(args)
            for r in results { f.push(r) }
            return Int32(results.count)
        }
        if let d = doc { vm.setDoc(forValueAt: -1, d) }
        lua_rawset(L, -3)
        tide_pop(L, 1)
    }

    /// Runs Lua source; returns its results.
    @discardableResult
    public func run(_ code: String, chunkName: String = "=(host)") throws -> [LuaValue] {
        try vm.run(string: code, chunkName: chunkName)
    }

    /// Runs a Lua file with `args` as `...`; `require` also searches the file's directory.
    @discardableResult
    public func run(file path: String, args: [String] = []) throws -> [LuaValue] {
        addSearchPath(directory(of: path))
        return try vm.run(file: path, args: args)
    }

    /// Calls global function `name` with `args` (protected).
    @discardableResult
    public func call(_ name: String, _ args: [LuaValue] = []) throws -> [LuaValue] {
        let L = vm.L
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        tide_pushglobaltable(L)
        lua_pushstring(L, name)
        lua_rawget(L, -2)
        guard lua_type(L, -1) == LUA_TFUNCTION else {
            throw LuaError.message("call: global '\(name)' is not a function (got \(String(cString: tide_typename_at(L, -1))))")
        }
        for a in args { vm.push(a) }
        try vm.pcall(nargs: Int32(args.count), nresults: LUA_MULTRET, traceback: true)
        // stack: [top+1] globals, [top+2 ...] results
        let first = top + 2
        return (0 ..< Int(lua_gettop(L) - first + 1)).map { vm.value(at: first + Int32($0)) }
    }

    public func setGlobal(_ name: String, _ value: LuaValue) { vm.setGlobal(name, value) }
    public func global(_ name: String) -> LuaValue { vm.global(name) }

    /// Prepends dir/?.lua and dir/?/init.lua to package.path.
    public func addSearchPath(_ dir: String) {
        let L = vm.L
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        tide_pushglobaltable(L)
        lua_pushstring(L, "package")
        guard lua_rawget(L, -2) == LUA_TTABLE else { return }
        lua_pushstring(L, "path")
        lua_rawget(L, -2)
        var len = 0
        let old = lua_type(L, -1) == LUA_TSTRING ? String(cString: lua_tolstring(L, -1, &len)) : ""
        let d = dir.isEmpty ? "." : dir
        let entry = "\(d)/?.lua;\(d)/?/init.lua;"
        if old.hasPrefix(entry) { return }
        tide_pop(L, 1)
        lua_pushstring(L, "path")
        lua_pushstring(L, entry + old)
        lua_rawset(L, -3)
    }

    private func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return String(path[..<slash])
    }
}
