// Cancellation: long kernels call `try Cancellation.check()` between chunks of work. The flag
// is set by the REPL's SIGINT handler (C, async-signal-safe) and cleared before each command.
import _CTideKernels

public enum Cancellation {
    @inline(__always)
    public static func check() throws {
        if tide_cancel_requested() != 0 { throw TensorError.interrupted }
    }
    public static var requested: Bool { tide_cancel_requested() != 0 }
    public static func clear() { tide_cancel_clear() }
    public static func request() { tide_cancel_set() }
}
