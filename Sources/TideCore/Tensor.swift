// Tensor: an n-dimensional view (shape, strides, offset) of a typed Storage.
//
//     let x = try Tensor.zeros([2, 3])               // f32, contiguous
//     let y = try x.transposed(0, 1)                 // a view: same storage, swapped strides
//     let z = try Tensor(array: [1, 2, 3, 4], shape: [2, 2], dtype: .f64)
//
// Ownership and memory: a Tensor is a reference type (like torch.Tensor): views share the
// Storage of their base and keep it alive; in-place ops write through to every view.
// Strides and offset count elements, not bytes. Dims are 0-based in Swift; the Lua layer
// converts from 1-based in one place.
import ComplexModule

public final class Tensor: @unchecked Sendable {
    public let storage: Storage
    public let dtype: DType
    public let shape: [Int]
    public let strides: [Int]
    public let offset: Int

    // Autograd state (Autograd/Autograd.swift). Tensors outside a graph never set these.
    // Every op reads requiresGrad, and no access to these fields is held across a call that
    // could touch them again, so the runtime's dynamic exclusivity checks are left out.
    /// True for a leaf marked with requiresGrad_() and for every result computed from one.
    @exclusivity(unchecked) public internal(set) var requiresGrad = false
    /// The accumulated gradient of a leaf (and of a non-leaf after retainGrad()).
    @exclusivity(unchecked) public var grad: Tensor?
    /// The node that computed this tensor; nil for leaves.
    @exclusivity(unchecked) public internal(set) var gradFn: GradNode?
    /// For a differentiable view: the tensor it views (in-place writes through it are refused).
    @exclusivity(unchecked) var viewBase: Tensor?
    @exclusivity(unchecked) var retainsGrad = false

    /// Wraps existing storage (no copy). Callers guarantee the view fits.
    public init(storage: Storage, dtype: DType, shape: [Int], strides: [Int], offset: Int) {
        self.storage = storage
        self.dtype = dtype
        self.shape = shape
        self.strides = strides
        self.offset = offset
    }

    /// An uninitialized contiguous tensor.
    public convenience init(uninitialized shape: [Int], dtype: DType = .f32) throws {
        let n = try Tensor.checkedCount(shape)
        let (bytes, overflow) = n.multipliedReportingOverflow(by: dtype.itemSize)
        if overflow { throw TensorError("cannot allocate a tensor of shape \(shapeString(shape)): size overflows") }
        let s = try Storage(byteCount: bytes)
        self.init(storage: s, dtype: dtype, shape: shape, strides: Tensor.contiguousStrides(shape), offset: 0)
    }

    /// Element count of `shape`, checking for negative sizes and overflow.
    /// The value of a one-element tensor as an exact Int64 (i64 read directly; a float must be
    /// integral and in range).
    public func int64Item() throws -> Int64 {
        guard numel == 1 else { throw TensorError("item: expected one element, got \(numel)") }
        if dtype == .i64 { return try contiguous().pointer(Int64.self).pointee }
        let v = try item()
        guard let i = Int64(exactly: v) else { throw TensorError("item: \(v) is not an integer in the i64 range") }
        return i
    }

    public static func checkedCount(_ shape: [Int], op: String? = nil) throws -> Int {
        var n = 1
        let who = op.map { $0 + ": " } ?? ""
        // NumPy's limit: more dims help no real use and make printing and strides quadratic
        if shape.count > Tensor.maxDims { throw TensorError("\(who)a tensor has at most \(Tensor.maxDims) dims, got \(shape.count)") }
        let zero = shape.contains(0)
        for d in shape {
            if d < 0 { throw TensorError("\(who)invalid shape \(shape.map(String.init).joined(separator: "x")): sizes must be non-negative") }
            let (m, o) = n.multipliedReportingOverflow(by: d)
            if o && !zero { throw TensorError("\(who)shape \(shapeString(shape)) has too many elements") }
            n = m
        }
        return n
    }

    public static let maxDims = 64

    public static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            s[i] = acc
            acc = acc &* max(shape[i], 1)   // (wraps only for empty shapes, which address nothing)
        }
        return s
    }

    // (wrapping: a shape whose product overflows is refused when made, unless it holds a 0,
    // and then the product is exactly 0 however it wraps on the way)
    public var numel: Int { shape.reduce(1, &*) }
    public var dim: Int { shape.count }

    /// True when the elements are laid out densely in row-major order.
    public var isContiguous: Bool {
        if shape.contains(0) { return true }   // no element to misplace (torch)
        var expected = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) where shape[i] != 1 {
            if strides[i] != expected { return false }
            expected *= shape[i]
        }
        return true
    }

    /// Typed pointer to element 0 of this view.
    @inline(__always)
    public func pointer<T>(_: T.Type) -> UnsafeMutablePointer<T> {
        storage.bytes.assumingMemoryBound(to: T.self) + offset
    }

    /// Raw pointer to element 0 of this view.
    public var rawPointer: UnsafeMutableRawPointer { storage.bytes + offset * dtype.itemSize }

    /// Normalizes a possibly negative 0-based dim, or throws naming `op`. A 0-d tensor has no
    /// dim to name, so this throws for it: ops that PyTorch defines on a 0-d tensor along dim
    /// 0 / -1 (reductions, softmax, sort, gather, ...) handle it first with `checkScalarDim`.
    public func normDim(_ d: Int, _ op: String) throws -> Int {
        guard dim > 0 else {
            throw TensorError("\(op): expected a tensor with at least 1 dim, got a 0-d tensor")
        }
        let r = d < 0 ? d + dim : d
        guard r >= 0 && r < dim else {
            throw TensorError("\(op): dim \(d) out of range for a tensor with \(dim) dims")
        }
        return r
    }

    /// For a 0-d tensor, which PyTorch treats as one element along dim 0 (or -1): checks d
    /// is one of those, or throws naming `op`.
    func checkScalarDim(_ d: Int, _ op: String) throws {
        guard d == 0 || d == -1 else {
            throw TensorError("\(op): dim \(d) out of range for a 0-d tensor (expected 0 or -1)")
        }
    }
}

extension Tensor: Hashable {
    public static func == (a: Tensor, b: Tensor) -> Bool { a === b }
    public func hash(into h: inout Hasher) { h.combine(ObjectIdentifier(self)) }
}
