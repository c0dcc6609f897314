// One test per Lua boundary rule (ARCHITECTURE.md, "The Lua boundary"), plus the bad-input
// cases of the host: stack overflow, huge strings, freed tensors.
import XCTest
import TideHost
import TideCore

final class BoundaryTests: XCTestCase {
    var host: TideHost!
    override func setUpWithError() throws { host = try TideHost(useEnvironment: false) }
    override func tearDown() { host = nil }

    struct Boom: Error, CustomStringConvertible { var description: String { "boom from Swift" } }

    /// Rule 1: a throwing Swift binding becomes a Lua error with its message (and position).
    func testThrowingBindingBecomesLuaError() throws {
        host.register("explode") { _ in throw Boom() }
        let r = try host.run("local ok, e = pcall(explode); return ok, e")
        XCTAssertEqual(r[0], .boolean(false))
        XCTAssertEqual(r[1], .string("boom from Swift"))
        let r2 = try host.run("local ok, e = pcall(function() explode() end); return e", chunkName: "=chunk")
        XCTAssertEqual(r2[0], .string("chunk:1: boom from Swift"))
    }

    /// Rule 3: a Lua error raised in a Lua callback that Swift called comes back out
    /// unchanged; a table keeps its identity through pcall.
    func testLuaErrorThroughSwiftKeepsIdentity() throws {
        host.vm.register(name: "call_back") { f in
            try f.function(1)
            try f.call(1, args: [], nresults: 0)
            return 0
        }
        let r = try host.run("""
            local err = {code = 7}
            local ok, e = pcall(call_back, function() error(err) end)
            return ok, rawequal(e, err), e.code
            """)
        XCTAssertEqual(r, [.boolean(false), .boolean(true), .integer(7)])
        // A string error passes unchanged too (no second position prefix).
        let r2 = try host.run("return select(2, pcall(call_back, function() error('plain', 0) end))")
        XCTAssertEqual(r2, [.string("plain")])
    }

    /// Rule 2: argument errors read like Lua's own.
    func testArgumentErrorsReadLikeLua() throws {
        let r = try host.run("return select(2, pcall(tide.zeros, {{2}}))")
        XCTAssertEqual(r, [.string("bad argument #1 to 'zeros' (number expected, got table)")])
        let r2 = try host.run("return select(2, pcall(tide.zeros, true))")
        XCTAssertEqual(r2, [.string("bad argument #1 to 'zeros' (number expected, got boolean)")])
        let r3 = try host.run("return select(2, pcall(tide.linspace, 0, 1, {}))")
        XCTAssertEqual(r3, [.string("bad argument #3 to 'linspace' (number expected, got table)")])
        // method calls count like Lua's: self is not argument #1
        let r4 = try host.run("local x = tide.zeros(2); return select(2, pcall(function() return x:size({}) end))", chunkName: "=m")
        XCTAssertEqual(r4, [.string("m:1: bad argument #1 to 'size' (number expected, got table)")])
    }

    /// Rule 4: __gc and __close never raise; a freed tensor raises on use.
    func testGcAndCloseNeverRaise() throws {
        let r = try host.run("""
            do local t <close> = tide.ones(3) end
            local x = tide.ones(2)
            x:free()
            x:free()                                   -- idempotent
            local mt = getmetatable(x)
            assert(mt.__gc == nil)                     -- the allocator releases tensors
            mt.__close(x); mt.__close(42); mt.__close({}); mt.__close(io.stdout)  -- never raise
            collectgarbage(); collectgarbage()
            return select(2, pcall(function() return x + 1 end))
            """, chunkName: "=gc")
        guard case .string(let msg) = r[0] else { return XCTFail("expected a message, got \(r)") }
        XCTAssertTrue(msg.contains("use of a freed tensor"), msg)
    }

    /// Tensors still referenced when a VM closes are released with it (the allocator frees
    /// every block at lua_close), and tensors the collector frees are released as it sweeps.
    func testClosingTheVMReleasesItsTensors() throws {
        let before = Storage.liveBytes
        var other: TideHost? = try TideHost(useEnvironment: false)
        _ = try other!.run("keep = {tide.zeros(1000000), tide.ones(10)}; local y <close> = tide.zeros(7)", chunkName: "=keep")
        XCTAssertGreaterThanOrEqual(Storage.liveBytes - before, 4_000_000)
        _ = try other!.run("keep = nil; collectgarbage(); collectgarbage()", chunkName: "=drop")
        XCTAssertLessThan(Storage.liveBytes - before, 4096)
        _ = try other!.run("keep = {tide.zeros(1000000)}", chunkName: "=keep2")
        XCTAssertGreaterThanOrEqual(Storage.liveBytes - before, 4_000_000)
        other = nil
        XCTAssertLessThan(Storage.liveBytes - before, 4096)
    }

    /// Rule 5: opening libraries, require and running a file run in protected mode.
    func testEntryPointsAreProtected() throws {
        XCTAssertThrowsError(try host.vm.require("no_such_module_xyz")) { e in
            XCTAssertTrue("\(e)".contains("module 'no_such_module_xyz' not found"), "\(e)")
        }
        XCTAssertThrowsError(try host.run(file: "/nonexistent/file.lua")) { e in
            XCTAssertTrue("\(e)".contains("cannot open"), "\(e)")
        }
        XCTAssertThrowsError(try host.run("error('x')"))
        XCTAssertThrowsError(try host.run("syntax error here", chunkName: "=src")) { e in
            XCTAssertTrue("\(e)".hasPrefix("src:1:"), "\(e)")
        }
        // the host is still usable after each error
        XCTAssertEqual(try host.run("return 1 + 1"), [.integer(2)])
    }

    func testStackOverflowIsALuaError() throws {
        XCTAssertThrowsError(try host.run("local function f() return 1 + f() end return f()")) { e in
            XCTAssertTrue("\(e)".contains("stack overflow"), "\(e)")
        }
        XCTAssertEqual(try host.run("return 2"), [.integer(2)])
    }

    /// Allocator policy: one Lua allocation above 1 GiB is refused ("not enough memory").
    /// Lua 5.4.4's string.rep itself rejects 1e12 before allocating ("resulting string too
    /// large"); 2e9 reaches the allocator and is refused there. Either way the host goes on.
    func testHugeStringIsNotEnoughMemory() throws {
        XCTAssertThrowsError(try host.run("return string.rep('x', 1e12)")) { e in
            XCTAssertTrue("\(e)".contains("too large") || "\(e)".contains("not enough memory"), "\(e)")
        }
        XCTAssertThrowsError(try host.run("return #string.rep('x', 2e9)")) { e in
            XCTAssertTrue("\(e)".contains("not enough memory"), "\(e)")
        }
        XCTAssertEqual(try host.run("return #string.rep('x', 1000)"), [.integer(1000)])
    }

    func testHugeTensorIsAClearError() throws {
        let r = try host.run("return select(2, pcall(tide.zeros, 1e7, 1e7))")
        guard case .string(let msg) = r[0] else { return XCTFail("\(r)") }
        XCTAssertTrue(msg.contains("cannot allocate"), msg)
        XCTAssertTrue(msg.contains("400000000000000 bytes"), msg)
    }

    func testTensorsCrossBothWays() throws {
        let t = try Tensor(array: [1, 2, 3], shape: [3])
        host.setGlobal("x", .tensor(t))
        let r = try host.run("x[2] = 20; return x * 2")
        guard case .tensor(let y) = r[0] else { return XCTFail("\(r)") }
        XCTAssertEqual(try y.toDoubles(), [2, 40, 6])
        XCTAssertEqual(try t.toDoubles(), [1, 20, 3])  // the same storage was written
    }
}
