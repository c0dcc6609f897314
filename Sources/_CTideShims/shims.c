// The C half of the Lua boundary; see tide_shims.h for the why.
#include "tide_shims.h"
#include "tide_kernels.h"
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

// ---- trampoline ------------------------------------------------------------------------

static tide_dispatch_fn tide_dispatcher = NULL;

void tide_set_dispatcher(tide_dispatch_fn fn) { tide_dispatcher = fn; }

static int tide_call(lua_State *L) {
  void *ctx = lua_touserdata(L, lua_upvalueindex(1));
  int n = tide_dispatcher(L, ctx);
  if (n == TIDE_ERROR) return lua_error(L);  /* the longjmp starts here, in C */
  return n;
}

void tide_push_binding(lua_State *L, void *ctx) {
  lua_pushlightuserdata(L, ctx);
  lua_pushcclosure(L, tide_call, 1);
}

// ---- tensor userdata -------------------------------------------------------------------
//
// A tensor userdata is {tag, object}: `object` is a retained Swift Tensor (NULL once freed)
// and `tag` marks the block as a tensor's. The tag is a per-process random word mixed with
// the block's own address, so a stale copy of it in reused memory never matches, and Lua
// code (which cannot read userdata bytes or choose a block's address) cannot forge one.
//
// Why not __gc: a Lua finalizer costs a protected call per object and keeps every tensor
// alive for a second collector cycle; at a 16-element add that was a third of the op. The
// tensor metatable has no __gc, and Tide's allocator releases the object when Lua frees the
// block instead (tide_alloc, below). The release only drops Swift references: a Tensor never
// holds a Lua reference, so nothing re-enters Lua from inside the allocator.

typedef struct { uint64_t tag; void *obj; } tide_tensor_ud;

static tide_release_fn tide_release = NULL;
static uint64_t tide_tensor_secret = 0;

void tide_set_release(tide_release_fn fn) { tide_release = fn; }

static inline uint64_t tide_tensor_tag(const tide_tensor_ud *u) {
  return __atomic_load_n(&tide_tensor_secret, __ATOMIC_RELAXED) ^ (uint64_t)(uintptr_t)u;
}

void **tide_push_tensor(lua_State *L, int mtref) {
  tide_tensor_ud *u = (tide_tensor_ud *)lua_newuserdatauv(L, sizeof *u, 0);
  u->obj = NULL;
  u->tag = tide_tensor_tag(u);
  lua_rawgeti(L, LUA_REGISTRYINDEX, mtref);
  lua_setmetatable(L, -2);
  return &u->obj;
}

void **tide_tensor_slot(lua_State *L, int idx) {
  tide_tensor_ud *u = (tide_tensor_ud *)lua_touserdata(L, idx);
  /* a light userdata has raw length 0 */
  if (u == NULL || lua_rawlen(L, idx) != sizeof *u || u->tag != tide_tensor_tag(u)) return NULL;
  return &u->obj;
}

static void tide_release_slot(void **slot) {
  void *obj = *slot;
  if (obj != NULL && tide_release != NULL) {
    *slot = NULL;
    tide_release(obj);
  }
}

static int tide_tensor_close(lua_State *L) {
  void **slot = tide_tensor_slot(L, 1);
  if (slot != NULL) tide_release_slot(slot);
  return 0;
}

void tide_push_tensor_close(lua_State *L) { lua_pushcfunction(L, tide_tensor_close); }

// __index: a method name is a raw lookup in the methods table (upvalue 1) without leaving C;
// anything else (properties, x[i]) goes to the Swift fallback (upvalue 2). A method call is
// the commonest thing a script does with a tensor.
static int tide_tensor_index(lua_State *L) {
  if (lua_type(L, 2) == LUA_TSTRING) {
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
    lua_pop(L, 1);
  }
  lua_settop(L, 2);
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_insert(L, 1);
  lua_call(L, 2, 1);
  return 1;
}

void tide_push_tensor_index(lua_State *L, int methods) {
  methods = lua_absindex(L, methods);
  lua_pushvalue(L, methods);
  lua_insert(L, -2);
  lua_pushcclosure(L, tide_tensor_index, 2);
}

// ---- allocator ----------------------------------------------------------------------------

typedef struct {
  size_t used, heap_limit, max_single;
  /* where a tensor's {tag, object} sits in the block Lua allocates for it, and that block's
     size; measured once per state (tide_newstate) rather than assumed from Lua's headers */
  size_t tensor_block, tensor_offset;
  int probing;
  void *probe_block;
} tide_alloc_state;

#define TIDE_ALWAYS_OK ((size_t)64 * 1024)

static void *tide_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  tide_alloc_state *st = (tide_alloc_state *)ud;
  size_t old = ptr ? osize : 0;
  if (nsize == 0) {
    if (ptr != NULL && osize == st->tensor_block) {
      tide_tensor_ud *u = (tide_tensor_ud *)((char *)ptr + st->tensor_offset);
      if (u->tag == tide_tensor_tag(u)) {
        u->tag = 0;
        tide_release_slot(&u->obj);
      }
    }
    free(ptr);
    st->used -= old;
    return NULL;
  }
  if (nsize > old && nsize >= TIDE_ALWAYS_OK) {
    if (nsize > st->max_single) return NULL;
    if (st->used - old + nsize > st->heap_limit) return NULL;
  }
  void *p = realloc(ptr, nsize);
  if (p == NULL) return NULL;
  if (st->probing && ptr == NULL) {
    st->probing = 0;
    st->probe_block = p;
    st->tensor_block = nsize;
  }
  st->used = st->used - old + nsize;
  return p;
}

static int tide_panic(lua_State *L) {
  const char *msg = lua_tostring(L, -1);
  fprintf(stderr, "tide: unprotected error in call to Lua API (%s)\n", msg ? msg : "error object is not a string");
  fflush(stderr);
  return 0;  /* Lua aborts after this */
}

static int tide_warn_on = 0;
static void tide_warnf(void *ud, const char *msg, int tocont) {
  static int continuing = 0;
  (void)ud;
  if (!continuing && !tocont && msg[0] == '@') {
    if (strcmp(msg, "@on") == 0) tide_warn_on = 1;
    else if (strcmp(msg, "@off") == 0) tide_warn_on = 0;
    return;
  }
  if (tide_warn_on) {
    if (!continuing) fputs("Lua warning: ", stderr);
    fputs(msg, stderr);
    if (!tocont) fputc('\n', stderr);
  }
  continuing = tocont;
}

static void tide_init_tensor_secret(void) {
  if (__atomic_load_n(&tide_tensor_secret, __ATOMIC_SEQ_CST) != 0) return;
  uint64_t v = 0;
  FILE *f = fopen("/dev/urandom", "rb");
  if (f != NULL) {
    if (fread(&v, sizeof v, 1, f) != 1) v = 0;
    fclose(f);
  }
  /* fallback: a mix of addresses and the clock (still never a small or zero word) */
  v ^= (uint64_t)(uintptr_t)&v * 0x9E3779B97F4A7C15ull ^ (uint64_t)time(NULL) << 32;
  uint64_t expected = 0;  /* the first state's word wins: every state must agree on it */
  __atomic_compare_exchange_n(&tide_tensor_secret, &expected, v | 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

lua_State *tide_newstate(size_t heap_limit, size_t max_single) {
  tide_alloc_state *st = (tide_alloc_state *)malloc(sizeof *st);
  if (!st) return NULL;
  memset(st, 0, sizeof *st);
  st->heap_limit = heap_limit;
  st->max_single = max_single;
  st->tensor_block = (size_t)-1;  /* matches no block until measured */
  lua_State *L = lua_newstate(tide_alloc, st);
  if (!L) { free(st); return NULL; }
  tide_init_tensor_secret();
  /* the block of a tensor-sized userdata: lua_newuserdatauv makes exactly one allocation
     (its collector step comes after) */
  st->probing = 1;
  void *probe = lua_newuserdatauv(L, sizeof(tide_tensor_ud), 0);
  st->probing = 0;
  if (st->probe_block == NULL || (char *)probe < (char *)st->probe_block) {
    st->tensor_block = (size_t)-1;
    lua_close(L); free(st); return NULL;
  }
  st->tensor_offset = (size_t)((char *)probe - (char *)st->probe_block);
  memset(probe, 0, sizeof(tide_tensor_ud));
  lua_pop(L, 1);
  lua_atpanic(L, tide_panic);
  lua_setwarnf(L, tide_warnf, NULL);
  return L;
}

static tide_alloc_state *alloc_state(lua_State *L) {
  void *ud = NULL;
  lua_getallocf(L, &ud);
  return (tide_alloc_state *)ud;
}

void tide_close(lua_State *L) {
  tide_alloc_state *st = alloc_state(L);
  lua_close(L);
  free(st);
}

size_t tide_heap_bytes(lua_State *L) { return alloc_state(L)->used; }

void tide_set_heap_limit(lua_State *L, size_t heap_limit, size_t max_single) {
  tide_alloc_state *st = alloc_state(L);
  st->heap_limit = heap_limit;
  st->max_single = max_single;
}

// ---- protected helpers ------------------------------------------------------------------

/* Renders up to 8 fields of a table error object: {code = 7, msg = "x"}.
   No luaL_Buffer here: its box would interleave with lua_next's key on the stack. */
static void scalar_repr(lua_State *L, int idx, char *out, size_t n) {
  switch (lua_type(L, idx)) {
    case LUA_TSTRING: snprintf(out, n, "\"%s\"", lua_tostring(L, idx)); break;
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx)) snprintf(out, n, "%lld", (long long)lua_tointeger(L, idx));
      else snprintf(out, n, "%.14g", (double)lua_tonumber(L, idx));
      break;
    case LUA_TBOOLEAN: snprintf(out, n, "%s", lua_toboolean(L, idx) ? "true" : "false"); break;
    default: snprintf(out, n, "%s", luaL_typename(L, idx));
  }
}

static void push_table_summary(lua_State *L, int t) {
  char key[96], val[160];
  int n = 0;
  lua_pushliteral(L, "");
  int acc = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, t) != 0) {
    if (n == 8) {
      lua_pop(L, 2);
      lua_pushfstring(L, "%s, ...", lua_tostring(L, acc));
      lua_replace(L, acc);
      break;
    }
    if (lua_type(L, -2) == LUA_TSTRING) snprintf(key, sizeof key, "%s", lua_tostring(L, -2));
    else { char k[80]; scalar_repr(L, -2, k, sizeof k); snprintf(key, sizeof key, "[%s]", k); }
    scalar_repr(L, -1, val, sizeof val);
    lua_pushfstring(L, "%s%s%s = %s", lua_tostring(L, acc), n > 0 ? ", " : "", key, val);
    lua_replace(L, acc);
    lua_pop(L, 1);
    n++;
  }
  lua_pushfstring(L, "{%s}", lua_tostring(L, acc));
  lua_remove(L, acc);
}

static int msghandler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      return 1;
    if (lua_type(L, 1) == LUA_TTABLE) {
      push_table_summary(L, 1);
      msg = lua_pushfstring(L, "(error object is a table value: %s)", lua_tostring(L, -1));
    } else {
      msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

int tide_pcall(lua_State *L, int nargs, int nresults, int traceback) {
  if (!traceback) return lua_pcall(L, nargs, nresults, 0);
  int base = lua_gettop(L) - nargs;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  int status = lua_pcall(L, nargs, nresults, base);
  lua_remove(L, base);
  return status;
}

static int p_openlibs(lua_State *L) { luaL_openlibs(L); return 0; }
int tide_openlibs(lua_State *L) {
  lua_pushcfunction(L, p_openlibs);
  return lua_pcall(L, 0, 0, 0);
}

int tide_loadbuffer(lua_State *L, const char *buf, size_t len, const char *chunkname, const char *mode) {
  return luaL_loadbufferx(L, buf, len, chunkname, mode);
}

int tide_loadfile(lua_State *L, const char *path) { return luaL_loadfilex(L, path, NULL); }

static int p_tostring(lua_State *L) { luaL_tolstring(L, 1, NULL); return 1; }
int tide_tostring(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  lua_pushcfunction(L, p_tostring);
  lua_pushvalue(L, idx);
  return lua_pcall(L, 1, 1, 0);
}

static int p_require(lua_State *L) {
  lua_getglobal(L, "require");
  lua_pushvalue(L, 1);
  lua_call(L, 1, 1);
  return 1;
}
int tide_require(lua_State *L, const char *name) {
  lua_pushcfunction(L, p_require);
  lua_pushstring(L, name);
  return lua_pcall(L, 1, 1, 0);
}

static int p_settable(lua_State *L) { lua_settable(L, 1); return 0; }
int tide_psettable(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  lua_pushcfunction(L, p_settable);
  lua_pushvalue(L, idx);
  lua_pushvalue(L, -4);
  lua_pushvalue(L, -4);
  int st = lua_pcall(L, 3, 0, 0);
  if (st == LUA_OK) { lua_pop(L, 2); return st; }
  lua_replace(L, -3);  /* error replaces key */
  lua_pop(L, 1);
  return st;
}

static int p_gettable(lua_State *L) { lua_gettable(L, 1); return 1; }
int tide_pgettable(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  lua_pushcfunction(L, p_gettable);
  lua_pushvalue(L, idx);
  lua_pushvalue(L, -3);
  int st = lua_pcall(L, 2, 1, 0);
  lua_replace(L, -2);  /* value (or error) replaces key */
  return st;
}

const char *tide_metaname(lua_State *L, int idx) {
  const char *name = NULL;
  if (lua_getmetatable(L, idx)) {
    lua_pushliteral(L, "__name");
    lua_rawget(L, -2);
    if (lua_type(L, -1) == LUA_TSTRING) name = lua_tostring(L, -1);
    lua_pop(L, 2);  /* the string stays alive: the metatable holds it */
  }
  return name;
}

// ---- interruption ---------------------------------------------------------------------

static void lstop(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  luaL_error(L, "interrupted!");
}

void tide_interrupt(lua_State *L) {
  tide_cancel_set();
  int flag = LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT;
  lua_sethook(L, lstop, flag, 1);
}
