// TensorError: everything the engine reports to its callers. Messages name the operation,
// what was expected and what was got, so that the Lua layer can show them as they are.
public struct TensorError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }

    /// The REPL's Ctrl-C reached a kernel that polls the cancel flag.
    public static let interrupted = TensorError("interrupted!")
}

/// "2x3x4" for error messages; "scalar" for a 0-d shape.
public func shapeString(_ shape: [Int]) -> String {
    shape.isEmpty ? "scalar" : shape.map(String.init).joined(separator: "x")
}
