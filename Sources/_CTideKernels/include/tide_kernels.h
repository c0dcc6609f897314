// _CTideKernels: Tide's compute kernels in C, plus the process-wide cancel flag.
// No stable API: only TideCore calls these.
//
// Why C: Swift's default x86-64 target emits SSE only and package flags cannot change that
// without unsafeFlags. Each kernel here is compiled for AVX2+FMA (and a portable fallback)
// through per-function target attributes and chosen once at run time.
#ifndef TIDE_KERNELS_H
#define TIDE_KERNELS_H
#include <stddef.h>
#include <stdint.h>

// ---- cancellation (set from a SIGINT handler; long kernels poll it) -------------------
int tide_cancel_requested(void);
void tide_cancel_clear(void);
void tide_cancel_set(void);

#endif
