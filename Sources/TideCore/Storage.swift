// Storage: the flat buffer behind one or more Tensors (64-byte aligned above 4 KiB, 16 below).
//
//     let s = try Storage(byteCount: 1 << 20)   // views share it; freed when the last goes
//
// Ownership: a Storage is a reference-counted Swift object outside any Lua heap. Views keep
// their base's Storage alive. Buffers of every size go back to a size-bucketed cache on
// release: fresh large allocations page-fault on every 4 KiB page (about 1.3 us each here),
// a reused buffer may still be in cache, and for small ones (<= 4 KiB) a malloc/free pair is a
// large part of the cost of an op on a 16-element tensor.
//
// Accounting: every allocation is counted (takeAllocatedBytes) so the Lua layer can tell its
// collector about tensor memory it cannot see.
import Synchronization
import _CTideKernels
#if canImport(Glibc)
import Glibc
#endif

public final class Storage: @unchecked Sendable {
    public let bytes: UnsafeMutableRawPointer
    public let byteCount: Int
    private let capacity: Int
    /// Bumped by every in-place write; autograd compares it with the value it saw when it
    /// saved a tensor for backward.
    @exclusivity(unchecked) public internal(set) var version = 0

    /// Refuse a single buffer above this many bytes (default: the physical memory), so a
    /// huge request fails with a message instead of the kernel's OOM killer.
    @exclusivity(unchecked) nonisolated(unsafe) public static var maxBytes: Int = {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
        return pages > 0 && size > 0 ? pages * size : 16 << 30
    }()

    /// Tensor bytes allocated since the last call, then reset (the Lua layer reports them
    /// to its collector).
    public static func takeAllocatedBytes() -> Int { Int(tide_alloc_take()) }

    public init(byteCount: Int) throws {
        guard byteCount >= 0 else { throw TensorError("cannot allocate a negative size (\(byteCount) bytes)") }
        guard byteCount <= Storage.maxBytes else {
            throw TensorError("cannot allocate \(formatBytes(byteCount)) (\(byteCount) bytes): more than the limit of \(formatBytes(Storage.maxBytes))")
        }
        let cap = StorageCache.bucket(byteCount)
        if let p = StorageCache.shared.take(cap) {
            bytes = p
        } else {
            // small buffers through plain malloc (16-byte aligned; every kernel loads unaligned):
            // posix_memalign bypasses glibc's per-thread cache and, with the collector freeing in
            // bursts, spent most of a 16-element op in chunk splitting and consolidation
            func allocate() -> UnsafeMutableRawPointer? {
                var p: UnsafeMutableRawPointer? = nil
                if cap <= StorageCache.maxSmall { p = malloc(cap) } else if posix_memalign(&p, 64, cap) != 0 { p = nil }
                return p
            }
            // out of memory: the cached free buffers go back to the system first
            var p = allocate()
            if p == nil && StorageCache.shared.totalBytes > 0 { StorageCache.shared.drain(); p = allocate() }
            guard let q = p else {
                throw TensorError("cannot allocate \(formatBytes(byteCount)) (\(byteCount) bytes): out of memory")
            }
            bytes = q
        }
        self.byteCount = byteCount
        capacity = cap
        tide_alloc_note(byteCount)
        tide_live_add(Int64(byteCount))
    }

    /// Scratch memory for a kernel, from and back to the cache (warm pages instead of fresh
    /// ones faulted in on every call). Keep the Storage alive while using `bytes`.
    public static func scratch(bytes n: Int) throws -> Storage {
        try Storage(byteCount: n)
    }

    /// Bytes held by all live tensor storages (not counting the buffer cache).
    public static var liveBytes: Int { Int(tide_live_bytes()) }

    deinit {
        tide_live_add(-Int64(byteCount))
        if !StorageCache.shared.give(bytes, capacity) { free(bytes) }
    }
}

/// "1.5 GiB"-style sizes for messages.
public func formatBytes(_ n: Int) -> String {
    let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB"]
    var v = Double(n), i = 0
    while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
    return i == 0 ? "\(n) bytes" : String(format1(v)) + " " + units[i]
}

func format1(_ v: Double) -> String {
    let r = (v * 10).rounded() / 10
    return r == r.rounded() ? String(Int(r)) : String(r)
}

/// Size-bucketed free lists, capped in total bytes: small buffers in 64 fixed slots (one per
/// 64-byte size class, no hashing on the hot path), large ones in a dictionary by size.
public final class StorageCache: Sendable {
    public static let shared = StorageCache()
    static let maxTotal = 512 << 20
    static let maxSmall = 4096
    static let smallBucketBytes = 4 << 20  // per size class: the collector frees tensors in bursts

    private struct State {
        var lists: [Int: [UnsafeMutableRawPointer]] = [:]
        var small: [[UnsafeMutableRawPointer]] = Array(repeating: [], count: StorageCache.maxSmall / 64 + 1)
        var total = 0
    }
    private let state = Mutex(State())

    /// Rounds sizes up so that near sizes share a bucket: 64-byte classes up to 4 KiB, then
    /// 1/8 steps of a power of two.
    static func bucket(_ n: Int) -> Int {
        if n <= maxSmall { return max(64, (n + 63) & ~63) }
        let p = Int.bitWidth - (n - 1).leadingZeroBitCount  // 2^p >= n
        let step = 1 << max(p - 4, 6)
        return (n + step - 1) / step * step
    }

    func take(_ cap: Int) -> UnsafeMutableRawPointer? {
        return state.withLock { s in
            if cap <= StorageCache.maxSmall {
                guard let p = s.small[cap / 64].popLast() else { return nil }
                s.total -= cap
                return p
            }
            guard let p = s.lists[cap]?.popLast() else { return nil }  // in place: no copy of the list
            s.total -= cap
            return p
        }
    }

    func give(_ p: UnsafeMutableRawPointer, _ cap: Int) -> Bool {
        return state.withLock { s in
            if s.total + cap > StorageCache.maxTotal { return false }
            if cap <= StorageCache.maxSmall {
                if s.small[cap / 64].count * cap >= StorageCache.smallBucketBytes { return false }
                s.small[cap / 64].append(p)
                s.total += cap
                return true
            }
            s.lists[cap, default: []].append(p)
            s.total += cap
            return true
        }
    }

    public var totalBytes: Int { state.withLock { $0.total } }

    /// Frees every cached buffer (tests, and `tide.empty_cache()`).
    public func drain() {
        state.withLock { s in
            for (_, l) in s.lists { for p in l { free(p) } }
            for l in s.small { for p in l { free(p) } }
            s.lists = [:]
            s.small = Array(repeating: [], count: StorageCache.maxSmall / 64 + 1)
            s.total = 0
        }
    }
}
