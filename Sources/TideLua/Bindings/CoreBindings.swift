// CoreBindings: tide-wide functions that are not about one tensor: docs, threads, printing
// options, the allocator cache.
//
//     tide.help(tide.zeros)           -- prints the doc string
//     tide.doc(myfn, "my docs")       -- documents a Lua function for ?myfn in the REPL
//     tide.set_num_threads(2)
//     tide.set_printoptions{precision = 6}
import CLua
import _CTideShims
import TideCore
#if canImport(Glibc)
import Glibc
#endif

enum CoreBindings {
    static func open(_ vm: LuaVM, _ tide: Int32) {
        vm.setDoc(forValueAt: tide, "Tide: tensors, autograd, layers and solvers for Lua. Type ?tide.zeros for a function's doc; tide.<TAB> lists everything.")
        vm.def(tide, "doc", "tide.doc(value [, text]) -> the doc string of value; with text, sets it.") { f in
            let L = f.L
            let setting = !f.isNoneOrNil(2)
            if setting { _ = try f.string(2) }
            lua_settop(L, 2)
            tide_getref(L, f.vm.docsRef)
            let docs = lua_gettop(L)
            if setting {
                lua_pushvalue(L, 1); lua_pushvalue(L, 2); lua_rawset(L, docs)
                lua_pushvalue(L, 1)
                return 1
            }
            lua_pushvalue(L, 1)
            lua_rawget(L, docs)
            return 1
        }
        vm.def(tide, "set_num_threads", "tide.set_num_threads(n): threads for Tide kernels and OpenBLAS together.") { f in
            let n = try f.integer(1)
            guard n >= 1 && n <= 1024 else { throw f.argError(1, "expected a thread count from 1 to 1024, got \(n)") }
            Threads.count = n
            return 0
        }
        vm.def(tide, "get_num_threads", "tide.get_num_threads() -> the thread count.") { f in
            f.push(Threads.count); return 1
        }
        vm.def(tide, "set_kernel_level", "tide.set_kernel_level(level) -> the level set: the instruction-set level of Tide's C kernels, 0 portable, 1 AVX2+FMA or 2 AVX-512 (for the compute-bound f32 ops and pow; AVX2 elsewhere), clamped to what the CPU supports (-1: the best one). For comparing the variants; the best level is chosen at startup.") { f in
            let n = try f.integer(1)
            guard n >= -1 && n <= 2 else { throw f.argError(1, "expected a level -1, 0, 1 or 2, got \(n)") }
            Kernels.level = n < 0 ? Kernels.bestLevel : n
            f.push(Kernels.level); return 1
        }
        vm.def(tide, "kernel_level", "tide.kernel_level() -> the instruction-set level in use (0 portable, 1 AVX2+FMA, 2 AVX-512).") { f in
            f.push(Kernels.level); return 1
        }
        vm.def(tide, "set_printoptions", "tide.set_printoptions{precision =, threshold =, edgeitems =, linewidth =}: how tensors print (defaults 4, 1000, 3, 80).") { f in
            let o = try f.table(1)
            try f.checkOptionKeys(o, ["precision", "threshold", "edgeitems", "linewidth"])
            var p = PrintOptions.current
            p.precision = try f.optIntField(o, "precision", p.precision)
            p.threshold = try f.optIntField(o, "threshold", p.threshold)
            p.edgeitems = try f.optIntField(o, "edgeitems", p.edgeitems)
            p.linewidth = try f.optIntField(o, "linewidth", p.linewidth)
            guard p.precision >= 0 && p.precision <= 30, p.threshold >= 0, p.edgeitems >= 1 && p.edgeitems <= 1 << 20, p.linewidth >= 1 else {
                throw f.argError(1, "expected precision 0..30, threshold >= 0, edgeitems 1..1048576, linewidth >= 1")
            }
            PrintOptions.current = p
            return 0
        }
        vm.def(tide, "clock", "tide.clock() -> wall-clock seconds from a monotonic clock (for timing).") { f in
            var ts = timespec()
            clock_gettime(CLOCK_MONOTONIC, &ts)
            f.push(Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9); return 1
        }
        vm.def(tide, "empty_cache", "tide.empty_cache(): returns cached tensor buffers to the system.") { _ in
            StorageCache.shared.drain(); return 0
        }
        vm.def(tide, "memory_allocated", "tide.memory_allocated() -> bytes held by live tensors.") { f in
            f.push(Storage.liveBytes); return 1
        }
        vm.def(tide, "memory_cached", "tide.memory_cached() -> bytes held in the tensor buffer cache.") { f in
            f.push(StorageCache.shared.totalBytes); return 1
        }
    }
}
