// Runs every Lua test script in Tests/TideLuaTests/lua through a fresh host, so that one
// runner (swift test) reports everything. A script fails by raising an error.
import XCTest
import TideHost

final class LuaScriptTests: XCTestCase {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("lua")

    func testLuaScripts() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.dir.path)
            .filter { $0.hasSuffix(".lua") }.sorted()
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
