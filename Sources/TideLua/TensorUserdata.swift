// TensorUserdata: how a Swift Tensor lives in Lua.
//
// The userdata block holds a tag and one pointer: a retained Unmanaged<Tensor>, or NULL once
// freed (layout and tag in _CTideShims/shims.c). The collector releases it when it frees the
// block (through Tide's allocator: no __gc, see shims.c for why); `__close` and `t:free()`
// release it early and set NULL (never raising), so a later use raises "use of a freed
// tensor". The tensor's bytes live outside the Lua heap; new storage is reported to the
// collector in 1 MiB batches (LUA_GCSTEP), so a loop that makes big temporaries still
// triggers collection.
import CLua
import _CTideShims
import TideCore

public enum TensorUserdata {
    /// Bytes allocated for tensors and not yet reported to the collector (carried over
    /// between pushes until a whole MiB has accumulated).
    @exclusivity(unchecked) nonisolated(unsafe) static var pendingBytes = 0

    /// Pushes `t` as a new userdata with the tensor metatable.
    public static func push(_ L: OpaquePointer, _ t: Tensor) {
        let slot = UnsafeMutableRawPointer(tide_push_tensor(L, LuaVM.tensorMetatableRef(L))!)
            .assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
        slot.pointee = Unmanaged.passRetained(t).toOpaque()
        let fresh = Storage.takeAllocatedBytes()
        if fresh > 0 { pendingBytes += fresh }
        LuaVM.withOwner(L) { vm in
            vm.pushesSincePace &+= 1
            if pendingBytes >= 1 << 20 {
                let kb = pendingBytes >> 10
                pendingBytes = 0
                pace(L, vm)
                _ = tide_gc(L, LUA_GCSTEP, Int32(min(kb, Int(Int32.max))))
            } else if vm.pushesSincePace >= 4096 {
                pace(L, vm)
            }
        }
    }

    /// Lua heap size (KiB) under which the collector may let the heap grow to 10x before a
    /// cycle: the headroom the pause allows is about this much whatever the heap.
    static let paceHeadroomKB = 32 << 10

    /// Sets the incremental collector's pause from the Lua heap's size, like a minimum heap
    /// goal: pause = 100 + 100 * 32 MiB / live heap, kept within 200 (Lua's default) and 1000.
    ///
    /// Why: a Tide script's Lua heap is small (the library is about 0.6 MiB) while it makes
    /// many tensor userdata, and each collector cycle re-marks the whole heap; at the default
    /// pause of 200 a 16-element add spent about half its time in the collector (1.0 us per op
    /// against 0.5 us at pause 1000). A script that keeps a big Lua heap (tables of data) gets
    /// the default pause back, so its heap peak stays near twice its live size. Tensor bytes
    /// still drive collection through LUA_GCSTEP, so tensor garbage does not pile up either.
    /// Nothing changes once the script sets the collector's mode or parameters itself (the
    /// prelude's collectgarbage wrapper clears gcPause).
    ///
    /// The live heap is the lowest count seen over a window of calls: the count rises with
    /// garbage through a cycle and drops after the sweep, and it is never below the live size,
    /// so the estimate errs towards a lower pause. A count above the headroom lowers the pause
    /// at once (a small live heap at pause 1000 never gets there).
    static func pace(_ L: OpaquePointer, _ vm: LuaVM) {
        vm.pushesSincePace = 0
        guard vm.gcPause != 0 else { return }
        let kb = Int(tide_gc(L, LUA_GCCOUNT, 0))
        vm.heapLowKB = min(vm.heapLowKB, kb)
        vm.paceCalls += 1
        let live: Int
        if kb > paceHeadroomKB {
            live = kb                      // a big heap now: lower the pause without waiting
        } else if vm.paceCalls >= 8 {
            live = max(vm.heapLowKB, 1)
        } else {
            return
        }
        vm.paceCalls = 0
        vm.heapLowKB = kb
        let pause = Int32(min(1000, max(200, 100 + 100 * paceHeadroomKB / live)))
        // only when it moves by a quarter: the live estimate is rough (an incremental cycle
        // sweeps while new garbage arrives, so the count rarely falls to the live size). A new
        // pause is used when the collector next schedules a cycle; when the heap is big right
        // now, a basic step also starts that cycle at once, so the heap does not first run up
        // to the old, larger allowance.
        if 4 * pause < 3 * vm.gcPause || 4 * pause > 5 * vm.gcPause {
            _ = tide_gcinc_pause(L, pause)
            vm.gcPause = pause
            if kb > paceHeadroomKB { _ = tide_gc(L, LUA_GCSTEP, 0) }
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
