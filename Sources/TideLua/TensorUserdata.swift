// TensorUserdata: how a Swift Tensor lives in Lua.
//
// The userdata block holds a tag and one pointer: a retained Unmanaged<Tensor>, or NULL once
// freed (layout and tag in _CTideShims/shims.c). The collector releases it when it frees the
// block (through Tide's allocator: no __gc, see shims.c for why); `__close` and `t:free()`
// release it early and set NULL (never raising), so a later use raises "use of a freed
// tensor". The tensor's bytes live outside the Lua heap; new storage drives collections of
// its own (collectForTensors), so a loop that makes big temporaries still frees them.
import CLua
import _CTideShims
import TideCore

public enum TensorUserdata {
    /// Pushes `t` as a new userdata with the tensor metatable.
    public static func push(_ L: OpaquePointer, _ t: Tensor) {
        let slot = UnsafeMutableRawPointer(tide_push_tensor(L, LuaVM.tensorMetatableRef(L))!)
            .assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
        slot.pointee = Unmanaged.passRetained(t).toOpaque()
        let fresh = Storage.takeAllocatedBytes()
        if fresh == 0 { return }
        LuaVM.withOwner(L) { vm in
            vm.tensorBytesSinceYoung &+= fresh
            vm.tensorBytesSinceFull &+= fresh
            if vm.tensorBytesSinceYoung >= youngCollectionBytes { vm.collectionDue = true }
        }
    }

    /// Tensor bytes between two young collections Tide asks for (an op that makes more gets
    /// one after each call).
    static let youngCollectionBytes = 4 << 20
    /// Tensor bytes between two full collections: at least 64 MiB, doubling up to 256 MiB
    /// while full collections find little (see collectForTensors).
    static let minFullCollectionBytes = 64 << 20
    static let maxFullCollectionBytes = 256 << 20

    /// Frees the tensor garbage made since the last call: a young collection every 4 MiB of
    /// new tensor bytes (or every big op), a full one every max(64 MiB, 16 x the Lua heap),
    /// doubling up to 256 MiB while the full ones free less than an eighth of the interval.
    /// The heap term is capped at max(256 MiB, 2 x the live tensor bytes): a script with a big
    /// Lua heap (a 1 GiB table) would otherwise let 16 GiB of old tensors pile up.
    /// A push only marks the collection due; it runs when the next Swift binding is entered
    /// (LuaVM's dispatch), before that op allocates. There the last op's result is garbage
    /// unless something holds it, so its buffer is what the next op gets from the Storage
    /// cache, still in the caches: a loop of `x^2` reuses one buffer as a reference-counted
    /// library does. (At push time the previous result still sits in the Lua register the
    /// new one replaces, so each would be caught alive twice and turn old.)
    ///
    /// Why both: tensor bytes live outside the Lua heap, so the collector's own pacing never
    /// sees them, and a tensor is freed only when its userdata is swept. A young collection
    /// costs microseconds whatever the heap (it does not re-mark the library's ~0.9 MiB). A
    /// tensor that outlives two young collections (a forward pass's activations, kept to the
    /// backward) turns old and only a full collection frees it; those re-mark the whole heap
    /// (~0.15 ms for the library alone), so they come only after tens of MiB of new tensor
    /// bytes, a few percent of the time it takes to write them. A script
    /// that stops the collector is left alone; one that switches to incremental mode gets a
    /// basic step instead of a young collection.
    static func collectForTensors(_ L: OpaquePointer, _ vm: LuaVM) {
        // -1: inside a finalizer, where lua_gc does nothing; the collection stays due for the
        // next binding outside it. 0: the script stopped the collector.
        let running = tide_gc(L, LUA_GCISRUNNING, 0)
        if running < 0 { return }
        vm.collectionDue = false
        vm.tensorBytesSinceYoung = 0
        guard running > 0 else { return }
        if vm.tensorBytesSinceFull >= vm.fullCollectionBytes {
            vm.tensorBytesSinceFull = 0
            let live = Storage.liveBytes
            _ = tide_gc(L, LUA_GCCOLLECT, 0)
            let freed = live - Storage.liveBytes
            let kb = Int(tide_gc(L, LUA_GCCOUNT, 0))
            let base = max(minFullCollectionBytes, min(16 * kb * 1024, max(maxFullCollectionBytes, 2 * Storage.liveBytes)))
            // little old garbage (the young collections freed the temporaries): wait longer
            // next time; old garbage found: back to the base interval
            vm.fullCollectionBytes = freed < vm.fullCollectionBytes / 8
                ? max(base, min(2 * vm.fullCollectionBytes, maxFullCollectionBytes)) : base
        } else {
            _ = tide_gc(L, LUA_GCSTEP, 0)
        }
    }

    /// The pointer slot of a tensor userdata at `idx`, or nil for any other value.
    static func slot(_ L: OpaquePointer, at idx: Int32) -> UnsafeMutablePointer<UnsafeMutableRawPointer?>? {
        guard let s = tide_tensor_slot(L, idx) else { return nil }
        return UnsafeMutableRawPointer(s).assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
    }

    /// The live tensor at `idx`, or nil (not a tensor, or freed).
    public static func tensor(_ L: OpaquePointer, at idx: Int32) -> Tensor? {
        guard let s = slot(L, at: idx), let p = s.pointee else { return nil }
        return Unmanaged<Tensor>.fromOpaque(p).takeUnretainedValue()
    }

    /// Releases the tensor held at `idx` (idempotent, never throws).
    static func release(_ L: OpaquePointer, at idx: Int32) {
        guard let s = slot(L, at: idx), let p = s.pointee else { return }
        s.pointee = nil
        Unmanaged<Tensor>.fromOpaque(p).release()
    }
}
