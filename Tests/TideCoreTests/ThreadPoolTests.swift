// Threads.parallelFor on Tide's worker pool (_CTideKernels/pool.c): every index is covered
// exactly once, the ranges depend only on n, grain and the thread count, errors from a range
// reach the caller, nested and concurrent calls run (inline) instead of deadlocking, and the
// streaming-store path of the binary kernels matches the cached one.
import XCTest
import Foundation
import TideCore

final class ThreadPoolTests: XCTestCase {
    var saved = Threads.count
    override func setUp() { saved = Threads.count }
    override func tearDown() { Threads.count = saved }

    /// Runs parallelFor and returns how often each index was visited and the ranges seen.
    func visit(_ n: Int, grain: Int) throws -> ([Int], [ClosedRange<Int>]) {
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: max(n, 1))
        counts.initialize(repeating: 0, count: max(n, 1))
        defer { counts.deallocate() }
        let lock = NSLock()
        var ranges: [ClosedRange<Int>] = []
        try Threads.parallelFor(n, grain: grain) { lo, hi in
            for i in lo ..< hi { counts[i] += 1 }
            lock.lock(); if hi > lo { ranges.append(lo ... hi - 1) }; lock.unlock()
        }
        return (Array(UnsafeBufferPointer(start: counts, count: n)), ranges.sorted { $0.lowerBound < $1.lowerBound })
    }

    func testCoversEveryIndexOnceWithFixedRanges() throws {
        for threads in [1, 2, 3, 4] {
            Threads.count = threads
            for (n, grain) in [(0, 1), (1, 1), (7, 1), (1000, 1), (1000, 300), (100_003, 1024)] {
                let (counts, ranges) = try visit(n, grain: grain)
                XCTAssertTrue(counts.allSatisfy { $0 == 1 }, "threads \(threads), n \(n): some index not visited exactly once")
                let parts = min(threads, max(1, n / max(grain, 1)))
                let want = (0 ..< parts).compactMap { p -> ClosedRange<Int>? in
                    let lo = n * p / parts, hi = n * (p + 1) / parts
                    return hi > lo ? lo ... hi - 1 : nil
                }
                XCTAssertEqual(ranges, want, "threads \(threads), n \(n), grain \(grain)")
            }
        }
    }

    func testErrorsReachTheCaller() {
        Threads.count = 2
        XCTAssertThrowsError(try Threads.parallelFor(1000, grain: 1) { lo, _ in
            if lo > 0 { throw TensorError("range starting at \(lo) failed") }
        }) { e in XCTAssertTrue("\(e)".contains("range starting at 500 failed"), "\(e)") }
    }

    func testNestedCallsRunInline() throws {
        Threads.count = 2
        let total = UnsafeMutablePointer<Int>.allocate(capacity: 2)
        total.initialize(repeating: 0, count: 2)
        defer { total.deallocate() }
        try Threads.parallelFor(2, grain: 1) { lo, _ in
            var inner = 0
            try Threads.parallelFor(10_000, grain: 1) { a, b in inner += b - a }  // inline: no race on inner
            total[lo] = inner
        }
        XCTAssertEqual(total[0], 10_000)
        XCTAssertEqual(total[1], 10_000)
    }

    func testConcurrentCallersFromTwoThreads() throws {
        Threads.count = 2
        let group = DispatchGroup()
        final class Sums: @unchecked Sendable {  // each thread writes its own slot
            let v = UnsafeMutablePointer<Double>.allocate(capacity: 2)
            deinit { v.deallocate() }
        }
        let sums = Sums()
        let x = try Tensor(array: (0 ..< 300_000).map { Double($0 % 97) }, shape: [300_000], dtype: .f32)
        let want = (0 ..< 300_000).reduce(0.0) { $0 + Double($1 % 97) }
        for t in 0 ..< 2 {
            group.enter()
            Thread {
                var s = 0.0
                for _ in 0 ..< 50 { s = (try? x.reduce(.sum, dims: nil).toDoubles()[0]) ?? -1 }
                sums.v[t] = s
                group.leave()
            }.start()
        }
        group.wait()
        XCTAssertEqual(sums.v[0], want)
        XCTAssertEqual(sums.v[1], want)
    }

    func testStreamingStoresMatchCachedStores() throws {
        // 3M elements: the vector-vector ops' working set (36 MiB) is over
        // Kernels.streamingBytes, so both ranges stream; an odd offset view makes the output's
        // first elements unaligned
        let n = 3_000_001
        let a = try Tensor(array: (0 ..< n).map { Double($0 % 1013) * 0.5 }, shape: [n], dtype: .f32)
        let b = try Tensor(array: (0 ..< n).map { Double($0 % 17) - 8 }, shape: [n], dtype: .f32)
        let last = try a.toDoubles()[n - 1]
        for threads in [1, 2] {
            Threads.count = threads
            for op in [BinaryOp.add, .sub, .mul, .div] {
                let big = try Tensor.binary(op, a, b).toDoubles()
                // the same op in small pieces (below the threshold: ordinary stores)
                for start in Array(stride(from: 1, to: n, by: 499_999)) + [n - 1000] {
                    let len = min(1000, n - start)
                    let sa = try a.narrow(0, start, len), sb = try b.narrow(0, start, len)
                    let small = try Tensor.binary(op, sa, sb).toDoubles()
                    for i in 0 ..< len where big[start + i] != small[i] && !(big[start + i].isNaN && small[i].isNaN) {
                        XCTFail("\(op) threads \(threads) at \(start + i): \(big[start + i]) vs \(small[i])"); break
                    }
                }
                let s = try Tensor.binary(op, a, Tensor.scalar(3, dtype: .f32)).toDoubles()
                let x = Float(last)
                let want: Float = op == .add ? x + 3 : op == .sub ? x - 3 : op == .mul ? x * 3 : x / 3
                XCTAssertEqual(s[n - 1], Double(want), "\(op) vector-scalar tail")
            }
        }
    }
}
