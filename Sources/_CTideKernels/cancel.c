// The process-wide cancel flag. Async-signal-safe to set; polled by long Swift kernels
// between chunks of work, so Ctrl-C in the REPL interrupts a 30-second op too.
#include "tide_kernels.h"
#include <stdatomic.h>

static atomic_int tide_cancel_flag = 0;

int tide_cancel_requested(void) { return atomic_load_explicit(&tide_cancel_flag, memory_order_relaxed); }
void tide_cancel_clear(void) { atomic_store(&tide_cancel_flag, 0); }
void tide_cancel_set(void) { atomic_store(&tide_cancel_flag, 1); }
