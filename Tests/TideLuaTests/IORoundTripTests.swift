// Files written by Tide are read by NumPy and the safetensors package (the writer PyTorch's
// safetensors uses) and compared with what Tide recorded: scripts/fixtures/check_io.py.
import XCTest
import Foundation

final class IORoundTripTests: XCTestCase {
    func testNumPyAndSafetensorsReadTideFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tide-io-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = """
            local dir = ...
            tide.manual_seed(3)
            local ts = {
              f32 = tide.randn(3, 4), f64 = tide.randn(2, 3, 2, "f64"), i64 = tide.randint(-1000000, 1000000, {5}),
              bool = tide.rand(2, 3):gt(0.5), c64 = tide.randn(3, "f64"):to("c64"),
              c128 = tide.randn(2, 2, "f64"):to("c128"), scalar = tide.tensor(3.25, "f64"),
              strided = tide.randn(4, 3, "f64"):t(), empty = tide.zeros(0, 3),
            }
            local spec = {npy = {}, safetensors = {}}
            local function entry(t)
              local vals = {}
              local flat = t:to(t:dtype() == "c64" and "c64" or t:dtype()):reshape(-1)
              for k, v in ipairs(flat:totable()) do
                if type(v) == "table" then v = v[1] elseif type(v) == "boolean" then v = v and 1 or 0 end
                vals[k] = string.format("%.17g", v)
              end
              return string.format('{"dtype": "%s", "shape": [%s], "values": [%s]}', t:dtype(),
                table.concat(t:shape(), ","), table.concat(vals, ","))
            end
            local parts = {}
            for name, t in pairs(ts) do
              tide.io.save(dir .. "/" .. name .. ".npy", t)
              parts[#parts + 1] = string.format('"%s": %s', name, entry(t))
            end
            tide.io.save(dir .. "/all.npz", ts)
            tide.io.save(dir .. "/allc.npz", ts, {compressed = true})
            tide.io.save(dir .. "/m.safetensors", {w = ts.f32, n = ts.i64, b = ts.bool, d = ts.f64},
                         {metadata = {step = "12", note = "tide"}})
            local sp = {}
            for _, k in ipairs({"w", "n", "b", "d"}) do
              local t = ({w = ts.f32, n = ts.i64, b = ts.bool, d = ts.f64})[k]
              sp[#sp + 1] = string.format('"%s": %s', k, entry(t))
            end
            local f = assert(io.open(dir .. "/spec.json", "w"))
            f:write('{"npy": {', table.concat(parts, ", "), '}, "safetensors": {', table.concat(sp, ", "), '}}')
            f:close()
            """
        let scriptPath = dir.appendingPathComponent("write.lua").path
        try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        let w = try runTide([scriptPath, dir.path])
        XCTAssertEqual(w.status, 0, w.err)
        let checker = repoRoot.appendingPathComponent("scripts/fixtures/check_io.py").path
        let r = try runTide(["python3", checker, dir.path], executable: "/usr/bin/env")
        XCTAssertEqual(r.status, 0, r.out + r.err)
        XCTAssertTrue(r.out.contains("all files read back"), r.out + r.err)
    }
}

/// The op registry's large cases (threaded, SIMD and tiled paths), drawn and computed by NumPy
/// at test time (scripts/fixtures/gen_ops.py --large), then checked by the Lua runner.
final class LargeOpsTests: XCTestCase {
    func testLargeOpsAgainstNumPy() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tide-large-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let gen = repoRoot.appendingPathComponent("scripts/fixtures/gen_ops.py").path
        let g = try runTide(["python3", gen, "--large", dir.path], executable: "/usr/bin/env")
        XCTAssertEqual(g.status, 0, g.out + g.err)
        let script = repoRoot.appendingPathComponent("Tests/TideLuaTests/lua/test_ops_numpy.lua").path
        let r = try runTide([script, dir.path])
        XCTAssertEqual(r.status, 0, r.out + r.err)
        XCTAssertTrue(r.out.contains("checks against NumPy passed"), r.out)
    }
}
