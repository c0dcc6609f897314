// The process-wide cancel flag. Async-signal-safe to set; polled by long Swift kernels
// between chunks of work, so Ctrl-C in the REPL interrupts a 30-second op too.
#include "tide_kernels.h"
#include <stdatomic.h>

static atomic_int tide_cancel_flag = 0;

// Tensor bytes allocated and not yet reported to a Lua collector. Plain C so the allocation
// path pays no Swift exclusivity check; relaxed atomics since kernels may allocate off-thread.
static atomic_size_t tide_alloc_pending = 0;
void tide_alloc_note(size_t bytes) { atomic_fetch_add_explicit(&tide_alloc_pending, bytes, memory_order_relaxed); }
size_t tide_alloc_take(void) { return atomic_exchange_explicit(&tide_alloc_pending, 0, memory_order_relaxed); }

static atomic_llong tide_live = 0;
void tide_live_add(long long delta) { atomic_fetch_add_explicit(&tide_live, delta, memory_order_relaxed); }
long long tide_live_bytes(void) { return atomic_load_explicit(&tide_live, memory_order_relaxed); }

int tide_cancel_requested(void) { return atomic_load_explicit(&tide_cancel_flag, memory_order_relaxed); }
void tide_cancel_clear(void) { atomic_store(&tide_cancel_flag, 0); }
void tide_cancel_set(void) { atomic_store(&tide_cancel_flag, 1); }

// Autograd's grad mode, per thread (a kernel worker never records; a host thread running its
// own VM has its own mode).
static _Thread_local int tide_grad_disabled = 0;
int tide_grad_enabled(void) { return !tide_grad_disabled; }
void tide_grad_set_enabled(int on) { tide_grad_disabled = !on; }
