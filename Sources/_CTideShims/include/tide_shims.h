// _CTideShims: the C side of Tide's Lua boundary. No stable API: only TideLua, TideHost and
// the `tide` executable use it.
//
// Why C: Lua raises errors with longjmp, and a jump through Swift frames is undefined
// behaviour. So Lua only ever calls `tide_call` (a C trampoline); the Swift binding behind it
// catches every Swift error, leaves the error object on the stack and returns TIDE_ERROR; the
// trampoline then raises it here, in C. Everything that may raise and that Swift needs
// (opening libraries, loading and running chunks, tostring with metamethods) is a C helper
// run under lua_pcall.
#ifndef TIDE_SHIMS_H
#define TIDE_SHIMS_H

#include <stddef.h>
#include <stdint.h>
#include <lua5.4/lua.h>
#include <lua5.4/lauxlib.h>
#include <lua5.4/lualib.h>

#define TIDE_ERROR (-1)

// ---- the trampoline ------------------------------------------------------------------
// The Swift dispatcher: runs the binding whose context is `ctx`; returns the number of
// results, or TIDE_ERROR with the error object on top of the stack.
typedef int (*tide_dispatch_fn)(lua_State *L, void *ctx);
void tide_set_dispatcher(tide_dispatch_fn fn);
// Pushes a C closure that calls the dispatcher with `ctx`.
void tide_push_binding(lua_State *L, void *ctx);

// ---- tensor userdata ------------------------------------------------------------------
// A tensor userdata holds {tag, retained Swift object pointer}; see shims.c for why the
// tensor metatable has no __gc and the allocator releases the object when Lua frees the
// block. `release` is set once from Swift and never raises.
typedef void (*tide_release_fn)(void *object);
void tide_set_release(tide_release_fn fn);
// Pushes a new tensor userdata (object slot NULL) with the metatable at registry[mtref];
// returns its object slot. Cannot raise under Tide's allocator (small requests always succeed).
void **tide_push_tensor(lua_State *L, int mtref);
// The object slot of the tensor userdata at idx, or NULL when the value is not a tensor.
void **tide_tensor_slot(lua_State *L, int idx);
// Pushes the __close function: releases the object and clears the slot. Never raises.
void tide_push_tensor_close(lua_State *L);
// Replaces the function on top with the __index closure: string keys found in the methods
// table at `methods` are returned from C; other keys go to that function (index, key).
void tide_push_tensor_index(lua_State *L, int methods);

// ---- state, allocator -----------------------------------------------------------------
// Creates a state with Tide's allocator. Policy: a request larger than `max_single` bytes, or
// one that would take the Lua heap past `heap_limit`, is refused (Lua then raises "not enough
// memory", a normal catchable error), except that requests under 64 KiB are never refused by
// the policy, so the small pushes Swift makes cannot raise. Returns NULL on failure.
lua_State *tide_newstate(size_t heap_limit, size_t max_single);
void tide_close(lua_State *L);
size_t tide_heap_bytes(lua_State *L);
void tide_set_heap_limit(lua_State *L, size_t heap_limit, size_t max_single);

// ---- protected entry points (return a lua_pcall status; on error the message or object
// is on top) ---------------------------------------------------------------------------
int tide_openlibs(lua_State *L);
// Loads a chunk (text or binary as `mode` allows). Never raises.
int tide_loadbuffer(lua_State *L, const char *buf, size_t len, const char *chunkname, const char *mode);
int tide_loadfile(lua_State *L, const char *path);
// Calls the function below `nargs` arguments. When `traceback` is set, a message handler
// adds a traceback to string errors and renders non-string errors with __tostring (as
// lua.c's msghandler does); otherwise the error object comes back unchanged.
int tide_pcall(lua_State *L, int nargs, int nresults, int traceback);
// tostring(v) with metamethods, protected; pushes the result string (or the error).
int tide_tostring(lua_State *L, int idx);
// require(name) protected; leaves the module value on top.
int tide_require(lua_State *L, const char *name);
// t[k] = v and v = t[k] with metamethods, protected. set: table at idx, key and value on
// top (popped). get: table at idx, key on top (replaced by the value).
int tide_psettable(lua_State *L, int idx);
int tide_pgettable(lua_State *L, int idx);

// ---- interruption ---------------------------------------------------------------------
// Async-signal-safe: sets the cancel flag that long Swift kernels poll and installs a hook
// that raises "interrupted!" at the next Lua instruction (lua.c's laction/lstop).
void tide_interrupt(lua_State *L);

// ---- macro wrappers Swift cannot import --------------------------------------------------
static inline int tide_registryindex(void) { return LUA_REGISTRYINDEX; }
static inline int tide_upvalueindex(int i) { return lua_upvalueindex(i); }
static inline void tide_pop(lua_State *L, int n) { lua_pop(L, n); }
static inline void tide_newtable(lua_State *L) { lua_newtable(L); }
static inline void tide_insert(lua_State *L, int idx) { lua_insert(L, idx); }
static inline void tide_remove(lua_State *L, int idx) { lua_remove(L, idx); }
static inline void tide_replace(lua_State *L, int idx) { lua_replace(L, idx); }
static inline void tide_pushglobaltable(lua_State *L) { lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS); }
static inline void *tide_newuserdata(lua_State *L, size_t size) { return lua_newuserdatauv(L, size, 0); }
static inline int tide_ref(lua_State *L) { return luaL_ref(L, LUA_REGISTRYINDEX); }
static inline void tide_unref(lua_State *L, int ref) { luaL_unref(L, LUA_REGISTRYINDEX, ref); }
static inline void tide_getref(lua_State *L, int ref) { lua_rawgeti(L, LUA_REGISTRYINDEX, ref); }
static inline int tide_gc(lua_State *L, int what, int arg) { return lua_gc(L, what, arg); }
static inline int tide_gcgen(lua_State *L) { return lua_gc(L, LUA_GCGEN, 0, 0); }
static inline void **tide_extraspace(lua_State *L) { return (void **)lua_getextraspace(L); }
static inline int tide_isinteger(lua_State *L, int idx) { return lua_isinteger(L, idx); }
static inline const char *tide_typename_at(lua_State *L, int idx) { return lua_typename(L, lua_type(L, idx)); }
// The __name of a value's metatable (raw lookup), or NULL.
const char *tide_metaname(lua_State *L, int idx);

#endif
