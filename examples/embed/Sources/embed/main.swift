// examples/embed: Tide inside your own Swift program.
//
//   swift run --package-path examples/embed
//
// It creates a host, registers a Swift function that Lua calls, runs Lua code, reads the
// results back as Swift values, and passes a tensor in and out (shared, not copied).
import TideHost
import TideCore
#if canImport(Glibc)
import Glibc
#endif

func main() throws {
    let host = try TideHost()

    // 1. A Swift function, callable from Lua, documented for ?greet in the REPL.
    host.register("greet", doc: "greet(name) -> a greeting built in Swift") { args in
        guard case .string(let name)? = args.first else { throw LuaError.message("greet: expected a name") }
        return [.string("hello, \(name), from Swift")]
    }
    let r = try host.run("return greet('Lua'), 6 * 7, {a = 1}")
    print(r[0])                                   // hello, Lua, from Swift
    print(r[1])                                   // 42
    print(r[2]["a"])                              // 1

    // 2. A tensor made in Swift, changed in Lua, seen again in Swift.
    let t = try Tensor(array: [1, 2, 3, 4], shape: [2, 2], dtype: .f64)
    host.setGlobal("t", .tensor(t))
    let out = try host.run("t[{1, 1}] = 100; return t * 2")
    guard case .tensor(let doubled) = out[0] else { throw LuaError.message("expected a tensor back") }
    print(try t.toDoubles())                      // [100.0, 2.0, 3.0, 4.0]: the same storage
    print(try doubled.toDoubles())                // [200.0, 4.0, 6.0, 8.0]

    // 3. Errors come back as Swift errors; the host stays usable.
    do {
        try host.run("error('a Lua error')")
    } catch {
        print("caught:", String(describing: error).split(separator: "\n")[0])
    }
    try host.run("print('still running')")

    // 4. Calling a Lua function defined by a script.
    try host.run("function area(w, h) return w * h end")
    print(try host.call("area", [.integer(3), .integer(4)])[0])   // 12
}

do {
    try main()
} catch {
    print("embed failed: \(error)")
    exit(1)
}
