// Runs every Lua test script in Tests/TideLuaTests/lua through a fresh host, so that one
// runner (swift test) reports everything. A script fails by raising an error.
import XCTest
import TideHost

final class LuaScriptTests: XCTestCase {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("lua")

    func testLuaScripts() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.dir.path)
            .filter { $0.hasPrefix("test_") && $0.hasSuffix(".lua") }.sorted()  // support.lua, fixtures_*.lua are required by them
        XCTAssertFalse(files.isEmpty, "no Lua test scripts found in \(Self.dir.path)")
        for f in files {
            let host = try TideHost(useEnvironment: false)
            do {
                try host.run(file: Self.dir.appendingPathComponent(f).path)
            } catch {
                XCTFail("\(f): \(error)")
            }
        }
    }
}

/// Every ```lua block in docs/*.md runs (each file's blocks in order, in one fresh host).
final class DocSnippetTests: XCTestCase {
    func testDocSnippetsRun() throws {
        let docs = LuaScriptTests.dir.deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs")
        let files = try FileManager.default.contentsOfDirectory(atPath: docs.path).filter { $0.hasSuffix(".md") }.sorted()
        XCTAssertFalse(files.isEmpty)
        var blocks = 0
        for f in files {
            let text = try String(contentsOf: docs.appendingPathComponent(f), encoding: .utf8)
            let host = try TideHost(useEnvironment: false)
            var inBlock = false, code = "", start = 0
            for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                if !inBlock && line.hasPrefix("```lua") { inBlock = true; code = ""; start = n + 2; continue }
                if inBlock && line.hasPrefix("```") {
                    inBlock = false
                    blocks += 1
                    do { try host.run(code, chunkName: "=\(f):\(start)") } catch { XCTFail("\(f):\(start): \(error)") }
                    continue
                }
                if inBlock { code += line + "\n" }
            }
        }
        XCTAssertGreaterThan(blocks, 3)
    }
}
