// Tensor+Products: vector and matrix products built on matmul (BLAS), and einsum.
//
//     try Tensor.dot(a, b)          // a, b: (n,) -> 0-d        (no conjugation)
//     try Tensor.vdot(a, b)         // conj(a) . b              (a, b flattened)
//     try Tensor.mv(m, v)           // m: (n, k), v: (k,) -> (n,)
//     try Tensor.outer(a, b)        // (n,), (m,) -> (n, m)
//     try Tensor.kron(a, b)         // (p, q), (r, s) -> (p r, q s); any equal ranks
//     try Tensor.einsum("bij,bjk->bik", [a, b])
//
// einsum contracts operands pairwise, left to right; each pair becomes one batched matmul
// (batch = labels both keep, contracted = labels shared and no longer needed). Labels that
// appear in one operand only and are not wanted later are summed first; a label repeated
// within one operand takes the diagonal. Without "->" the output is the labels that appear
// once, in alphabetical order (NumPy's rule). "..." stands for broadcast leading dims.
import Foundation

extension Tensor {
    public static func dot(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        guard a.dim == 1 && b.dim == 1 else {
            throw TensorError("dot: expected two 1-d tensors, got shapes \(shapeString(a.shape)) and \(shapeString(b.shape))")
        }
        guard a.shape == b.shape else {
            throw TensorError("dot: sizes differ: \(a.shape[0]) and \(b.shape[0])")
        }
        return try matmul(a, b)
    }

    public static func vdot(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        guard a.numel == b.numel else {
            throw TensorError("vdot: element counts differ: \(shapeString(a.shape)) (\(a.numel)) and \(shapeString(b.shape)) (\(b.numel))")
        }
        return try matmul(a.conj().reshaped([-1]), b.reshaped([-1]))
    }

    public static func mv(_ m: Tensor, _ v: Tensor) throws -> Tensor {
        guard m.dim == 2 && v.dim == 1 else {
            throw TensorError("mv: expected a 2-d matrix and a 1-d vector, got shapes \(shapeString(m.shape)) and \(shapeString(v.shape))")
        }
        return try matmul(m, v)
    }

    public static func outer(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        guard a.dim == 1 && b.dim == 1 else {
            throw TensorError("outer: expected two 1-d tensors, got shapes \(shapeString(a.shape)) and \(shapeString(b.shape))")
        }
        return try binary(.mul, a.unsqueeze(1), b.unsqueeze(0))
    }

    public static func kron(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        let n = max(a.dim, b.dim)
        let A = try a.reshaped(Array(repeating: 1, count: n - a.dim) + a.shape)
        let B = try b.reshaped(Array(repeating: 1, count: n - b.dim) + b.shape)
        // (a0, 1, a1, 1, ...) * (1, b0, 1, b1, ...) -> (a0, b0, a1, b1, ...) -> (a0 b0, a1 b1, ...)
        var sa: [Int] = [], sb: [Int] = []
        for k in 0 ..< n { sa += [A.shape[k], 1]; sb += [1, B.shape[k]] }
        let prod = try binary(.mul, A.reshaped(sa), B.reshaped(sb))
        return try prod.reshaped((0 ..< n).map { A.shape[$0] * B.shape[$0] }).freshResult()
    }
}

/// einsum over labelled operands.
extension Tensor {
    struct Labelled { var t: Tensor; var labels: [Character] }

    /// The spec with each '...' spelled out in fresh labels. An operand's ellipsis stands for
    /// its dims that no letter names; they are right-aligned against the longest one (NumPy
    /// broadcasting: size-1 dims broadcast, as for any label). The output gets them where its
    /// '...' stands, or first in implicit mode (then the labels used once, sorted).
    static func ellipsisSpec(_ s: String, _ operands: [Tensor], _ spec: String) throws -> String {
        guard s.contains(".") else { return s }
        let parts = s.components(separatedBy: "->")
        guard parts.count <= 2 else { throw TensorError("einsum: more than one '->' in '\(spec)'") }
        let inputs = parts[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard inputs.count == operands.count else {
            throw TensorError("einsum: '\(spec)' names \(inputs.count) operands but \(operands.count) were given")
        }
        func checkDots(_ term: String, _ what: String) throws -> Bool {
            let pieces = term.components(separatedBy: "...")
            guard pieces.count <= 2, !pieces.joined().contains(".") else {
                throw TensorError("einsum: \(what) '\(term)' may hold one '...' and no other '.'")
            }
            return pieces.count == 2
        }
        var ranks: [Int] = []
        for (k, term) in inputs.enumerated() {
            let letters = term.filter { $0 != "." }.count
            if try checkDots(term, "operand \(k + 1)") {
                guard operands[k].dim >= letters else {
                    throw TensorError("einsum: operand \(k + 1) has \(operands[k].dim) dims (shape \(shapeString(operands[k].shape))) but '\(term)' names \(letters) besides '...'")
                }
                ranks.append(operands[k].dim - letters)
            } else {
                ranks.append(0)
            }
        }
        let used = Set(s.filter { $0.isLetter })
        let fresh = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz").filter { !used.contains($0) }
        let rank = ranks.max() ?? 0
        guard rank <= fresh.count else { throw TensorError("einsum: '...' covers \(rank) dims, more than the free labels") }
        let batch = String(fresh.prefix(rank))  // outermost first
        let terms = zip(inputs, ranks).map { $0.replacingOccurrences(of: "...", with: String(batch.suffix($1))) }
        var out: String
        if parts.count == 2 {
            _ = try checkDots(parts[1], "the output")
            out = parts[1].replacingOccurrences(of: "...", with: batch)
        } else {
            var counts: [Character: Int] = [:]
            for t in inputs { for c in t where c.isLetter { counts[c, default: 0] += 1 } }
            out = batch + String(counts.filter { $0.value == 1 }.keys.sorted())
        }
        return terms.joined(separator: ",") + "->" + out
    }

    public static func einsum(_ spec: String, _ operands: [Tensor]) throws -> Tensor {
        let s = try ellipsisSpec(spec.filter { $0 != " " }, operands, spec)
        let parts = s.components(separatedBy: "->")
        guard parts.count <= 2 else { throw TensorError("einsum: more than one '->' in '\(spec)'") }
        let inputs = parts[0].split(separator: ",", omittingEmptySubsequences: false).map { Array($0) }
        guard inputs.count == operands.count else {
            throw TensorError("einsum: '\(spec)' names \(inputs.count) operands but \(operands.count) were given")
        }
        for (k, l) in inputs.enumerated() {
            guard l.allSatisfy({ $0.isASCII && $0.isLetter }) else { throw TensorError("einsum: operand \(k + 1) labels '\(String(l))' must be letters a-z or A-Z") }
            guard l.count == operands[k].dim else {
                throw TensorError("einsum: operand \(k + 1) has \(operands[k].dim) dims (shape \(shapeString(operands[k].shape))) but '\(String(l))' names \(l.count)")
            }
        }
        var counts: [Character: Int] = [:]
        for l in inputs { for c in l { counts[c, default: 0] += 1 } }
        let output: [Character] = parts.count == 2 ? Array(parts[1]) : counts.filter { $0.value == 1 }.keys.sorted()
        for c in output where counts[c] == nil { throw TensorError("einsum: output label '\(c)' appears in no operand") }
        guard Set(output).count == output.count else { throw TensorError("einsum: output labels repeat in '\(spec)'") }
        // sizes must agree per label
        var size: [Character: Int] = [:]
        for (k, l) in inputs.enumerated() {
            for (d, c) in l.enumerated() {
                let n = operands[k].shape[d]
                if let m = size[c], m != n, m != 1, n != 1 {
                    // labels the user did not write stand for the dims under "..."
                    let what = spec.contains(c) ? "label '\(c)'" : "a dim under '...'"
                    throw TensorError("einsum: \(what) has size \(m) in one place and \(n) in operand \(k + 1)")
                }
                size[c] = max(size[c] ?? n, n)
            }
        }
        // every operand in the result type first (NumPy), so no pair is contracted in a
        // narrower type and the order of operands cannot change the result; bool operands
        // count in i64 and the result is true where the count is above 0 (NumPy's bool einsum)
        let rt = operands.dropFirst().reduce(operands[0].dtype) { DType.promote($0, $1.dtype) }
        let work: DType = rt == .bool ? .i64 : rt
        // the result must be allocatable before any intermediate is (an outer product of many
        // operands would otherwise grow until an allocation fails, using all memory on the way)
        var outCount = 1
        for c in output {
            let (p, o) = outCount.multipliedReportingOverflow(by: size[c]!)
            guard !o, p <= Storage.maxBytes / work.itemSize else {
                throw TensorError("einsum: the result of '\(spec)' would have more than \(Storage.maxBytes / work.itemSize) elements")
            }
            outCount = p
        }
        var ops = try zip(operands, inputs).map { try diagonalize(Labelled(t: $0.to(work), labels: $1)) }
        // reduce left to right
        var acc = ops.removeFirst()
        while !ops.isEmpty {
            let next = ops.removeFirst()
            let later = Set(ops.flatMap { $0.labels } + output)
            acc = try sumOut(acc, keep: later.union(next.labels))
            let nx = try sumOut(next, keep: later.union(acc.labels))
            acc = try contract(acc, nx, keep: later, size: size)
        }
        acc = try sumOut(acc, keep: Set(output))
        // permute to the output order
        let perm = output.map { c in acc.labels.firstIndex(of: c)! }
        let r = try acc.t.permuted(perm).expand(output.map { size[$0]! }).contiguous()
        if rt == .bool { return try compare(.ne, r, Tensor.scalar(0, dtype: .i64)) }
        // a view of an internal product is a fresh result; a view of an operand ("ij->ji") is not
        return operands.contains(where: { $0.storage === r.storage }) ? r : r.freshResult()
    }

    /// Repeated labels within one operand take the diagonal (a recorded view, so the
    /// gradient reaches the operand), which moves to the last place.
    static func diagonalize(_ x: Labelled) throws -> Labelled {
        var x = x
        while let (i, j) = firstRepeat(x.labels) {
            guard x.t.shape[i] == x.t.shape[j] else {
                throw TensorError("einsum: label '\(x.labels[i])' repeats with sizes \(x.t.shape[i]) and \(x.t.shape[j])")
            }
            let c = x.labels[i]
            x.t = try x.t.diagonal(offset: 0, i, j)
            x.labels.remove(at: j); x.labels.remove(at: i); x.labels.append(c)
        }
        return x
    }

    static func firstRepeat(_ l: [Character]) -> (Int, Int)? {
        for i in 0 ..< l.count { for j in i + 1 ..< l.count where l[i] == l[j] { return (i, j) } }
        return nil
    }

    /// Sums over labels not in `keep`.
    static func sumOut(_ x: Labelled, keep: Set<Character>) throws -> Labelled {
        let drop = x.labels.indices.filter { !keep.contains(x.labels[$0]) }
        if drop.isEmpty { return x }
        let t = try x.t.reduce(.sum, dims: drop)
        return Labelled(t: t, labels: x.labels.enumerated().filter { !drop.contains($0.offset) }.map { $0.element })
    }

    /// Contracts two operands: labels in both and in `keep` are batch dims; labels in both and
    /// not in `keep` are summed through one batched matmul.
    static func contract(_ a: Labelled, _ b: Labelled, keep: Set<Character>, size: [Character: Int]) throws -> Labelled {
        let batch = a.labels.filter { b.labels.contains($0) && keep.contains($0) }
        let summed = a.labels.filter { b.labels.contains($0) && !keep.contains($0) }
        let left = a.labels.filter { !b.labels.contains($0) }
        let right = b.labels.filter { !a.labels.contains($0) }
        func arrange(_ x: Labelled, _ order: [Character], _ groups: [[Character]]) throws -> Tensor {
            let perm = order.map { x.labels.firstIndex(of: $0)! }
            let p = try x.t.permuted(perm).expand(order.map { size[$0]! })
            return try p.reshaped(groups.map { g in g.reduce(1) { $0 * size[$1]! } })
        }
        let A = try arrange(a, batch + left + summed, [batch, left, summed])   // (B, L, S)
        let B = try arrange(b, batch + summed + right, [batch, summed, right]) // (B, S, R)
        let C = try matmul(A, B)                                              // (B, L, R)
        let labels = batch + left + right
        return Labelled(t: try C.reshaped(labels.map { size[$0]! }), labels: labels)
    }
}
