// TensorUserdata: how a Swift Tensor lives in Lua.
//
// The userdata block holds one pointer: a retained Unmanaged<Tensor>, or NULL once freed.
// `__gc`, `__close` and `t:free()` release it and set NULL (never raising), so a later use
// raises "use of a freed tensor". The tensor's bytes live outside the Lua heap; new storage
// is reported to the collector in 1 MiB batches (LUA_GCSTEP), so a loop that makes big
// temporaries still triggers collection.
import CLua
import _CTideShims
import TideCore

public enum TensorUserdata {
    /// Bytes allocated for tensors and not yet reported to the collector (carried over
    /// between pushes until a whole MiB has accumulated).
    nonisolated(unsafe) static var pendingBytes = 0

    /// Pushes `t` as a new userdata with the tensor metatable.
    public static func push(_ L: OpaquePointer, _ t: Tensor) {
        let block = tide_newuserdata(L, MemoryLayout<UnsafeMutableRawPointer?>.size)!
        let slot = block.assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
        slot.pointee = nil  // closed first, then set: a memory error in between leaves a valid object
        tide_getref(L, LuaVM.tensorMetatableRef(L))
        lua_setmetatable(L, -2)
        slot.pointee = Unmanaged.passRetained(t).toOpaque()
        let fresh = Storage.takeAllocatedBytes()
        if fresh > 0 { pendingBytes += fresh }
        if pendingBytes >= 1 << 20 {
            let kb = pendingBytes >> 10
            pendingBytes = 0
            _ = tide_gc(L, LUA_GCSTEP, Int32(min(kb, Int(Int32.max))))
        }
    }

    /// The pointer slot of a tensor userdata at `idx`, or nil for any other value.
    static func slot(_ L: OpaquePointer, at idx: Int32) -> UnsafeMutablePointer<UnsafeMutableRawPointer?>? {
        guard let s = tide_tensor_slot(L, idx, LuaVM.tensorMetatableRef(L)) else { return nil }
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
