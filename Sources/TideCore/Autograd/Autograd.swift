// Autograd: reverse-mode differentiation over Tensor ops.
//
//     let w = try Tensor.randn([3, 2], dtype: .f64).requiresGrad_()
//     let y = try Tensor.matmul(x, w).unary(.tanh).reduce(.sum, dims: nil)
//     try y.backward()                       // w.grad: (3, 2)
//     let g = try Autograd.grad([y], inputs: [w])   // the same, without touching w.grad
//
// How it works: every differentiable op checks `Autograd.isRecording(inputs)` first. When it
// records, it runs its own forward with grad mode off (so nested ops do not record), then
// `attach`es a GradNode to the result: one node per result, holding edges to its inputs'
// nodes (or to leaf tensors) and a backward closure that maps the result's gradient to the
// inputs' gradients. Ops that are compositions of recorded ops need no node of their own.
//
// Ownership: a result owns its node; a node owns its input edges and the tensors it saved.
// Outputs are saved as storage-sharing aliases without a node, so nothing forms a cycle.
// backward() frees each node's closure and saved tensors as it goes unless retainGraph.
// Saved tensors remember their storage's version; an in-place write in between is reported.
import _CTideKernels

/// One recorded op: the backward of the tensor it produced.
public final class GradNode {
    public let name: String
    enum Edge { case none, leaf(Tensor), node(GradNode) }
    var edges: [Edge]
    /// (grad of the output) -> grads of the inputs, aligned with `edges` (nil = none).
    var backwardFn: ((Tensor) throws -> [Tensor?])?
    var saved: [(Storage, Int)] = []
    weak var retained: Tensor?
    let outShape: [Int]
    let outDType: DType

    init(name: String, edges: [Edge], out: Tensor) {
        self.name = name
        self.edges = edges
        self.outShape = out.shape
        self.outDType = out.dtype
    }

    /// Whether input i needs a gradient.
    public func needs(_ i: Int) -> Bool {
        if case .none = edges[i] { return false }
        return true
    }

    func release() {
        backwardFn = nil
        saved = []
        edges = []
    }

    /// Frees a chain of nodes iteratively. Letting `edges` go in the usual way would free each
    /// input node from inside this one's deinit: a graph a million ops long (a running total
    /// never backwarded) would overflow the stack.
    deinit {
        var stack: [GradNode] = []
        for e in edges { if case .node(let m) = e { stack.append(m) } }
        edges = []
        while var m = stack.popLast() {
            // only a node this chain holds the last reference to is freed here; its inputs
            // join the stack instead of being freed from inside its deinit
            guard isKnownUniquelyReferenced(&m) else { continue }
            for e in m.edges { if case .node(let c) = e { stack.append(c) } }
            m.edges = []
        }
    }
}

public enum Autograd {
    /// Whether ops record a graph on this thread (tide.no_grad turns it off).
    public static var isEnabled: Bool {
        get { tide_grad_enabled() != 0 }
        set { tide_grad_set_enabled(newValue ? 1 : 0) }
    }

    /// Runs body with recording off (or on), restoring the previous mode after.
    public static func withGrad<R>(_ on: Bool, _ body: () throws -> R) rethrows -> R {
        let old = isEnabled
        isEnabled = on
        defer { isEnabled = old }
        return try body()
    }

    public static func noGrad<R>(_ body: () throws -> R) rethrows -> R { try withGrad(false, body) }

    /// True when an op over these inputs must record a node. Fixed-arity forms: a variadic
    /// one would build an array on every op, a measurable part of a 16-element add.
    @inline(__always)
    public static func isRecording(_ a: Tensor) -> Bool {
        a.requiresGrad && tide_grad_enabled() != 0
    }

    @inline(__always)
    public static func isRecording(_ a: Tensor, _ b: Tensor) -> Bool {
        (a.requiresGrad || b.requiresGrad) && tide_grad_enabled() != 0
    }

    @inline(__always)
    public static func isRecording(_ a: Tensor, _ b: Tensor, _ c: Tensor) -> Bool {
        (a.requiresGrad || b.requiresGrad || c.requiresGrad) && tide_grad_enabled() != 0
    }

    @inline(__always)
    public static func isRecording(_ inputs: [Tensor]) -> Bool {
        for t in inputs where t.requiresGrad { return tide_grad_enabled() != 0 }
        return false
    }

    static func edge(_ t: Tensor) -> GradNode.Edge {
        guard t.requiresGrad else { return .none }
        if let n = t.gradFn { return .node(n) }
        return .leaf(t)
    }

    /// Makes `out` the result of a recorded op over `inputs`. `saved` are the tensors the
    /// backward closure reads (checked for in-place writes). Returns out.
    @discardableResult
    public static func attach(_ out: Tensor, _ name: String, _ inputs: [Tensor], saved: [Tensor] = [],
                              _ backward: @escaping (_ grad: Tensor, _ node: GradNode) throws -> [Tensor?]) -> Tensor {
        guard out.dtype == .f32 || out.dtype == .f64 else { return out }  // integer results carry no gradient
        let node = GradNode(name: name, edges: inputs.map(edge), out: out)
        node.saved = saved.map { ($0.storage, $0.storage.version) }
        node.backwardFn = { [unowned node] g in try backward(g, node) }
        out.gradFn = node
        out.requiresGrad = true
        return out
    }

    /// Runs a differentiable op: forward with recording off, then a node when recording.
    /// The backward closure gets the output as a node-free alias (safe to capture).
    public static func op(_ name: String, _ inputs: [Tensor], forward: () throws -> Tensor,
                          backward: @escaping (_ grad: Tensor, _ out: Tensor, _ node: GradNode) throws -> [Tensor?],
                          savesOutput: Bool = false, saved: [Tensor] = []) throws -> Tensor {
        guard isRecording(inputs) else { return try forward() }
        let out = try noGrad(forward)
        if inputs.contains(where: { $0 === out }) { return out }  // a no-op view: keep its history
        let alias = out.alias()
        return attach(out, name, inputs, saved: savesOutput ? saved + [alias] : saved) { g, n in
            try backward(g, alias, n)
        }
    }

    // MARK: - backward

    /// Backpropagates from `roots` (seeded with `grads`, or ones for one-element roots) into
    /// every leaf's .grad. With `inputs`, returns their gradients instead and leaves .grad
    /// alone (torch.autograd.grad).
    @discardableResult
    public static func backward(_ roots: [Tensor], grads: [Tensor?] = [], inputs: [Tensor]? = nil,
                                retainGraph: Bool = false, allowUnused: Bool = true) throws -> [Tensor?] {
        var pending: [ObjectIdentifier: Tensor] = [:]
        var leafGrads: [ObjectIdentifier: Tensor] = [:]
        let capture = inputs
        var captureNodes = Set<ObjectIdentifier>()
        var captured: [ObjectIdentifier: Tensor] = [:]
        for t in capture ?? [] {
            guard t.requiresGrad else {
                throw TensorError("autograd.grad: input of shape \(shapeString(t.shape)) does not require grad")
            }
            if let n = t.gradFn { captureNodes.insert(ObjectIdentifier(n)) }
        }

        func add(_ dict: inout [ObjectIdentifier: Tensor], _ key: ObjectIdentifier, _ g: Tensor) throws {
            if let old = dict[key] { dict[key] = try Tensor.binary(.add, old, g) } else { dict[key] = g }
        }

        var starts: [GradNode] = []
        for (i, r) in roots.enumerated() {
            guard r.requiresGrad else {
                throw TensorError("backward: the tensor (shape \(shapeString(r.shape))) does not require grad; call requires_grad_() on an input first")
            }
            var seed: Tensor
            if i < grads.count, let g = grads[i] {
                guard g.shape == r.shape else {
                    throw TensorError("backward: grad has shape \(shapeString(g.shape)) but the output has shape \(shapeString(r.shape))")
                }
                seed = try g.to(r.dtype)
            } else {
                guard r.numel == 1 else {
                    throw TensorError("backward: a gradient can be implied only for a one-element output, got shape \(shapeString(r.shape)); pass one")
                }
                seed = try Tensor.ones(r.shape, dtype: r.dtype)
            }
            if let n = r.gradFn {
                try add(&pending, ObjectIdentifier(n), seed)
                starts.append(n)
            } else {
                try add(&leafGrads, ObjectIdentifier(r), seed)
                if capture == nil { try accumulate(r, seed) } else { try add(&captured, ObjectIdentifier(r), seed) }
            }
        }

        // dependency counts over the reachable graph (iterative DFS: graphs can be deep)
        var deps: [ObjectIdentifier: Int] = [:]
        var seen = Set<ObjectIdentifier>()
        var stack = starts
        for s in starts { seen.insert(ObjectIdentifier(s)) }
        while let n = stack.popLast() {
            if n.backwardFn == nil {
                throw TensorError("backward: the graph through '\(n.name)' was already freed by an earlier backward; pass {retain_graph = true} to that call")
            }
            for e in n.edges {
                if case .node(let m) = e {
                    let id = ObjectIdentifier(m)
                    deps[id, default: 0] += 1
                    if !seen.contains(id) { seen.insert(id); stack.append(m) }
                }
            }
        }

        var ready = starts.filter { deps[ObjectIdentifier($0)] == nil }
        var done = Set<ObjectIdentifier>()
        // one consumer of m is done: m runs once all of them are
        func release(_ m: GradNode) {
            let mid = ObjectIdentifier(m)
            deps[mid]! -= 1
            if deps[mid]! == 0 { ready.append(m) }
        }
        try noGrad {
            while let n = ready.popLast() {
                let id = ObjectIdentifier(n)
                guard !done.contains(id) else { continue }
                done.insert(id)
                guard let g = pending.removeValue(forKey: id) else {
                    // no gradient reached this node, but its inputs still count it among their
                    // consumers: release them, or a node shared with another path never runs
                    let edges = n.edges
                    if !retainGraph { n.release() }
                    for e in edges { if case .node(let m) = e { release(m) } }
                    continue
                }
                if captureNodes.contains(id) { try add(&captured, id, g) }
                if let r = n.retained, capture == nil { try accumulate(r, g) }
                guard let fn = n.backwardFn else {
                    throw TensorError("backward: the graph through '\(n.name)' was already freed by an earlier backward; pass {retain_graph = true} to that call")
                }
                for (s, v) in n.saved where s.version != v {
                    throw TensorError("backward: a tensor that '\(n.name)' saved for its gradient was modified in place (version \(s.version), saved at \(v)); use an out-of-place op or clone() it")
                }
                let gs = try fn(g)
                let edges = n.edges
                if !retainGraph { n.release() }
                for (i, e) in edges.enumerated() {
                    let gi = i < gs.count ? gs[i] : nil
                    switch e {
                    case .none: continue
                    case .leaf(let t):
                        guard let gi = gi else { continue }
                        let gt = try conform(gi, t.shape, t.dtype, n.name)
                        if capture == nil { try accumulate(t, gt) } else { try add(&captured, ObjectIdentifier(t), gt) }
                    case .node(let m):
                        let mid = ObjectIdentifier(m)
                        if let gi = gi { try add(&pending, mid, conform(gi, m.outShape, m.outDType, n.name)) }
                        release(m)
                    }
                }
            }
        }
        guard let capture = capture else { return [] }
        return try capture.map { t in
            let key = t.gradFn.map { ObjectIdentifier($0) } ?? ObjectIdentifier(t)
            if let g = captured[key] { return g }
            if !allowUnused { throw TensorError("autograd.grad: an input of shape \(shapeString(t.shape)) is not reachable from the outputs") }
            return nil
        }
    }

    /// A gradient brought to the shape and dtype of the tensor it belongs to.
    static func conform(_ g: Tensor, _ shape: [Int], _ dtype: DType, _ name: String) throws -> Tensor {
        var r = g
        if r.shape != shape {
            guard r.numel == shape.reduce(1, *) || (try? Tensor.broadcastShape(shape, r.shape, op: name)) == r.shape else {
                throw TensorError("backward of '\(name)': gradient of shape \(shapeString(r.shape)) for an input of shape \(shapeString(shape))")
            }
            r = r.numel == shape.reduce(1, *) ? try r.reshaped(shape) : try r.sumTo(shape)
        }
        if r.dtype != dtype { r = try r.to(dtype) }
        return r
    }

    static func accumulate(_ t: Tensor, _ g: Tensor) throws {
        if let old = t.grad, old.shape == g.shape, old.dtype == g.dtype {
            _ = try Tensor.binary(.add, old, g, out: old)
        } else {
            t.grad = try g.contiguous(force: true)
        }
    }

    /// Rules for an in-place write into `t` while recording: a leaf that requires grad and a
    /// differentiable view of such a tensor cannot be overwritten (their gradient would be lost).
    public static func checkInPlace(_ t: Tensor, _ op: String) throws {
        guard isEnabled else { return }
        if t.requiresGrad && t.gradFn == nil {
            throw TensorError("\(op): a leaf tensor that requires grad cannot be modified in place; use tide.no_grad or detach()")
        }
        if let b = t.viewBase, b.requiresGrad {
            throw TensorError("\(op): in-place write into a view of a tensor that requires grad is not supported; write through indexing (x[i] = v) on the tensor itself, or use out-of-place ops")
        }
    }
}

extension Tensor {
    /// A tensor sharing this one's storage and layout, outside any graph.
    public func alias() -> Tensor {
        Tensor(storage: storage, dtype: dtype, shape: shape, strides: strides, offset: offset)
    }

    /// detach(): the same data, no gradient history (shares storage, like torch).
    public func detach() -> Tensor { alias() }

    /// Marks a leaf as needing gradients. Only floating-point tensors can.
    @discardableResult
    public func requiresGrad_(_ on: Bool = true) throws -> Tensor {
        if on && !(dtype == .f32 || dtype == .f64) {
            throw TensorError("requires_grad_: only f32 and f64 tensors can require gradients, got \(dtype.rawValue)")
        }
        if gradFn != nil && !on {
            throw TensorError("requires_grad_: a non-leaf tensor's requirement cannot be turned off; use detach()")
        }
        requiresGrad = on
        return self
    }

    public var isLeaf: Bool { gradFn == nil }

    /// Keep the gradient of this non-leaf in .grad after backward.
    public func retainGrad() {
        if let n = gradFn { n.retained = self; retainsGrad = true }
    }

    /// Backpropagates from this tensor into the leaves' .grad.
    public func backward(_ grad: Tensor? = nil, retainGraph: Bool = false) throws {
        try Autograd.backward([self], grads: [grad], retainGraph: retainGraph)
    }

    /// Sums a broadcast gradient down to `shape` (the inverse of broadcasting).
    public func sumTo(_ target: [Int]) throws -> Tensor {
        if shape == target { return self }
        let lead = dim - target.count
        var dims = Array(0 ..< max(lead, 0))
        for i in 0 ..< target.count where target[i] == 1 && shape[lead + i] != 1 { dims.append(lead + i) }
        if dims.isEmpty { return try reshaped(target) }
        return try reduce(.sum, dims: dims, keepdim: true).reshaped(target)
    }

    /// Marks an in-place write: bumps the version that saved tensors are checked against.
    @inline(__always)
    public func bumpVersion() { storage.version &+= 1 }
}

extension Tensor {
    /// x[region] = value (or a scalar fill when value is nil), recorded when x or value needs
    /// gradients: x's old history gets g with the region zeroed, value gets g's region.
    /// `region` maps any tensor of x's shape to the addressed view of it.
    public func writeRegion_(_ region: @escaping (Tensor) throws -> Tensor, value: Tensor?, scalar: Double = 0) throws {
        let recording = Autograd.isRecording(self) || (value.map { Autograd.isRecording($0) } ?? false)
        let target = try Autograd.noGrad { try region(self) }
        func write() throws {
            if let v = value { try target.copy_(from: v) } else { try target.fill_(scalar) }
        }
        guard recording else { return try write() }
        if requiresGrad { try Autograd.checkInPlace(self, "index assignment") }
        if let v = value { try checkPlainView("index assignment", v) }
        let old = alias()
        old.gradFn = gradFn
        old.requiresGrad = requiresGrad
        try Autograd.noGrad(write)
        let inputs = value.map { [old, $0] } ?? [old]
        Autograd.attach(self, "index_put", inputs) { g, n in
            var gOld: Tensor? = nil
            if n.needs(0) {
                let c = try g.clone()
                try region(c).fill_(0)
                gOld = c
            }
            return [gOld, inputs.count > 1 && n.needs(1) ? try region(g) : nil]
        }
    }
}
