// Core tensor tests that need no Lua: layout, views, copies, broadcasting, cancellation.
import XCTest
import Dispatch
import TideCore

final class TensorBasicsTests: XCTestCase {
    func testContiguousStridesAndViews() throws {
        let x = try Tensor(array: (0 ..< 24).map(Double.init), shape: [2, 3, 4], dtype: .f64)
        XCTAssertEqual(x.strides, [12, 4, 1])
        let t = try x.transposed(0, 2)
        XCTAssertEqual(t.shape, [4, 3, 2])
        XCTAssertFalse(t.isContiguous)
        XCTAssertEqual(try t.contiguous().toDoubles()[0 ..< 4], [0, 12, 4, 16])
        let n = try x.narrow(2, 1, 2)
        XCTAssertEqual(try n.toDoubles()[0 ..< 4], [1, 2, 5, 6])
        let s = try x.select(1, 2)
        XCTAssertEqual(try s.toDoubles(), [8, 9, 10, 11, 20, 21, 22, 23])
        // reshape of a non-contiguous view copies; of a contiguous one it shares storage
        XCTAssertTrue(try x.reshaped([6, 4]).storage === x.storage)
        XCTAssertFalse(try t.reshaped([24]).storage === x.storage)
        XCTAssertThrowsError(try t.viewAs([24]))
    }

    /// 0-d tensors reshape (this once recursed without end), and pow keeps negative bases.
    func testScalarReshapeAndPow() throws {
        let s = try Tensor.scalar(3, dtype: .f64)
        XCTAssertEqual(try s.reshaped([-1]).shape, [1])
        XCTAssertEqual(try s.reshaped([1, 1]).toDoubles(), [3])
        let x = try Tensor(array: [-2, 3], shape: [2], dtype: .f64)
        XCTAssertEqual(try Tensor.binary(.pow, x, Tensor.scalar(2, dtype: .f64)).toDoubles(), [4, 9])
    }

    func testCastsFollowNumPy() throws {
        let x = try Tensor(array: [-1.7, 2.9, .nan, 0], shape: [4], dtype: .f64)
        XCTAssertEqual(try x.to(.i64).toDoubles(), [-1, 2, 0, 0])
        XCTAssertEqual(try x.to(.bool).toDoubles(), [1, 1, 1, 0])
    }

    func testBroadcastShapes() throws {
        XCTAssertEqual(try Tensor.broadcastShape([3, 1], [4], op: "t"), [3, 4])
        XCTAssertThrowsError(try Tensor.broadcastShape([2, 3], [4], op: "add")) { e in
            XCTAssertEqual("\(e)", "add: shapes 2x3 and 4 are not broadcastable (dim 2: 3 vs 4)")
        }
    }

    func testArithmeticPromotion() throws {
        let a = try Tensor(array: [1, 2, 3], shape: [3], dtype: .i64)
        let b = try Tensor(array: [2, 2, 2], shape: [3], dtype: .i64)
        XCTAssertEqual(try Tensor.binary(.div, a, b).dtype, .f32)
        XCTAssertEqual(try Tensor.binary(.rem, try Tensor(array: [-3], shape: [1], dtype: .i64), try Tensor(array: [2], shape: [1], dtype: .i64)).toDoubles(), [1])
        XCTAssertEqual(DType.promote(.f32, .f64), .f64)
        XCTAssertEqual(DType.promote(.f64, .c64), .c128)
        XCTAssertEqual(DType.promote(.bool, .i64), .i64)
        // a fractional or infinite clamp bound promotes an i64 tensor (it was once stored into
        // the i64 result of the other bound, truncating 2.5 to 2)
        let c = try Tensor(array: [-5, 0, 3, 7], shape: [4], dtype: .i64)
        let k = try c.clamp(min: 0, max: 2.5)
        XCTAssertEqual(k.dtype, .f32)
        XCTAssertEqual(try k.toDoubles(), [0, 0, 2.5, 2.5])
        XCTAssertEqual(try c.clamp(min: 0, max: 5).dtype, .i64)
        XCTAssertEqual(try c.clamp(min: 0, max: .infinity).toDoubles(), [0, 0, 3, 7])
    }

    /// A long kernel polls the cancel flag: setting it from another thread stops the op.
    func testLongKernelIsCancellable() throws {
        Cancellation.clear()
        let a = try Tensor.ones([8000, 1]), b = try Tensor.ones([1, 8000])
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.001) { Cancellation.request(); done.signal() }
        var interrupted = false
        for _ in 0 ..< 200 {
            do { _ = try Tensor.binary(.add, a, b) } catch let e as TensorError where e == .interrupted {
                interrupted = true
                break
            }
        }
        done.wait()
        Cancellation.clear()
        XCTAssertTrue(interrupted)
    }
}
