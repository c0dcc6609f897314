// The `tide` executable, driven as a user would: flags like lua5.4's, bad input, the REPL
// (through a pseudo-terminal, by Tests/repl/test_repl.py) and every example in --quick mode.
import XCTest
import Foundation

/// Locates the built `tide` next to the test bundle (same configuration).
func tideBinary() -> String {
    var dir = Bundle.main.bundleURL
    for _ in 0 ..< 4 {
        let cand = dir.appendingPathComponent("tide").path
        if FileManager.default.isExecutableFile(atPath: cand) { return cand }
        dir.deleteLastPathComponent()
    }
    for b in Bundle.allBundles {
        let cand = b.bundleURL.deletingLastPathComponent().appendingPathComponent("tide").path
        if FileManager.default.isExecutableFile(atPath: cand) { return cand }
    }
    return "tide"
}

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

struct RunResult { var status: Int32; var out: String; var err: String }

@discardableResult
func runTide(_ args: [String], stdin: String? = nil, env: [String: String] = [:], cwd: URL? = nil,
             executable: String? = nil) throws -> RunResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable ?? tideBinary())
    p.arguments = args
    var e = ProcessInfo.processInfo.environment
    for (k, v) in env { e[k] = v }
    p.environment = e
    if let c = cwd { p.currentDirectoryURL = c }
    let outPipe = Pipe(), errPipe = Pipe(), inPipe = Pipe()
    p.standardOutput = outPipe
    p.standardError = errPipe
    p.standardInput = inPipe
    try p.run()
    if let s = stdin { inPipe.fileHandleForWriting.write(s.data(using: .utf8)!) }
    try inPipe.fileHandleForWriting.close()
    let out = outPipe.fileHandleForReading.readDataToEndOfFile()
    let err = errPipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return RunResult(status: p.terminationStatus, out: String(decoding: out, as: UTF8.self),
                     err: String(decoding: err, as: UTF8.self))
}

final class RunnerTests: XCTestCase {
    var tmp: URL!
    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("tide-runner-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: tmp) }

    func write(_ name: String, _ text: String) throws -> String {
        let u = tmp.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: u.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: u, atomically: true, encoding: .utf8)
        return u.path
    }

    func testScriptArgsLikeLua() throws {
        let s = try write("args.lua", "print(arg[0], arg[1], arg[2], #arg, select('#', ...), ...)")
        let r = try runTide([s, "a", "b"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(r.out, "\(s)\ta\tb\t2\t2\ta\tb\n")
        let r2 = try runTide(["run", s, "x"])
        XCTAssertEqual(r2.out, "\(s)\tx\tnil\t1\t1\tx\n")
        let r3 = try runTide(["-e", "print(arg[-1], arg[-2] ~= nil)", s])
        XCTAssertTrue(r3.out.contains("print(arg[-1], arg[-2] ~= nil)\ttrue"), r3.out)
    }

    func testFlags() throws {
        XCTAssertEqual(try runTide(["-e", "print(1 + 2)"]).out, "3\n")
        XCTAssertTrue(try runTide(["--version"]).out.hasPrefix("Tide "))
        XCTAssertTrue(try runTide(["--help"]).out.contains("usage: tide"))
        XCTAssertEqual(try runTide(["-"], stdin: "print('from stdin')").out, "from stdin\n")
        XCTAssertEqual(try runTide(["-", "a1"], stdin: "print(...)").out, "a1\n")
        XCTAssertEqual(try runTide([], stdin: "print('piped')").out, "piped\n")
        _ = try write("mymod.lua", "return {answer = 42}")
        let r = try runTide(["-l", "mymod", "-e", "print(mymod.answer)"], env: ["TIDE_PATH": tmp.path])
        XCTAssertEqual(r.out, "42\n", r.err)
        let r2 = try runTide(["-l", "m=mymod", "-e", "print(m.answer)"], env: ["TIDE_PATH": tmp.path])
        XCTAssertEqual(r2.out, "42\n", r2.err)
        let i = try write("i.lua", "x_from_script = 5")
        let r3 = try runTide(["-i", i], stdin: "print(x_from_script * 2)\n")
        XCTAssertTrue(r3.out.contains("10"), r3.out + r3.err)
    }

    func testRequireNextToScriptAndOnTidePath() throws {
        _ = try write("proj/helper.lua", "return {name = 'helper'}")
        _ = try write("lib/other.lua", "return {name = 'other'}")
        let main = try write("proj/main.lua", "print(require('helper').name, require('other').name)")
        let r = try runTide([main], env: ["TIDE_PATH": tmp.appendingPathComponent("lib").path], cwd: tmp)
        XCTAssertEqual(r.out, "helper\tother\n", r.err)
    }

    func testBadInput() throws {
        let missing = try runTide(["/no/such/script.lua"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertEqual(missing.err, "tide: cannot open /no/such/script.lua\n")

        let syn = try write("syn.lua", "local x = \nprint(")
        let r = try runTide([syn])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("syn.lua:2:"), r.err)

        let tbl = try write("tbl.lua", "error({code = 7})")
        let r2 = try runTide([tbl])
        XCTAssertEqual(r2.status, 1)
        XCTAssertTrue(r2.err.contains("error object is a table value"), r2.err)
        XCTAssertTrue(r2.err.contains("code = 7"), r2.err)

        let rec = try write("rec.lua", "local function f() return 1 + f() end\nf()")
        let r3 = try runTide([rec])
        XCTAssertEqual(r3.status, 1)
        XCTAssertTrue(r3.err.contains("stack overflow"), r3.err)

        let big = try write("big.lua", "local ok, e = pcall(string.rep, 'x', 2e9); print(ok, e); print(pcall(string.rep, 'x', 1e12))")
        let r4 = try runTide([big])
        XCTAssertEqual(r4.status, 0, r4.err)
        XCTAssertTrue(r4.out.contains("false\tnot enough memory"), r4.out)

        let fail = try write("fail.lua", "local function inner() error('deep') end\ninner()")
        let r5 = try runTide([fail])
        XCTAssertEqual(r5.status, 1)
        XCTAssertTrue(r5.err.contains("fail.lua:1: deep"), r5.err)
        XCTAssertTrue(r5.err.contains("stack traceback"), r5.err)

        let unk = try runTide(["--bogus"])
        XCTAssertEqual(unk.status, 1)
        XCTAssertTrue(unk.err.contains("unrecognized option '--bogus'"), unk.err)
        XCTAssertTrue(unk.err.contains("usage: tide"), unk.err)
    }

    /// The REPL through a pseudo-terminal (pexpect): auto-print, multi-line, completion,
    /// errors, Ctrl-C (prompt, Lua loop, Swift kernel), history, Ctrl-D.
    func testREPLThroughPTY() throws {
        let script = repoRoot.appendingPathComponent("Tests/repl/test_repl.py").path
        let r = try runTide(["python3", script, tideBinary()], executable: "/usr/bin/env")
        XCTAssertEqual(r.status, 0, r.out + r.err)
    }

    /// Every example runs in --quick mode and writes under --out.
    func testExamplesQuick() throws {
        let dir = repoRoot.appendingPathComponent("examples")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".lua") }.sorted()
        XCTAssertFalse(files.isEmpty)
        for f in files {
            let r = try runTide([dir.appendingPathComponent(f).path, "--quick", "--out", tmp.appendingPathComponent(f).path], cwd: tmp)
            XCTAssertEqual(r.status, 0, "\(f): \(r.err)")
        }
    }
}
