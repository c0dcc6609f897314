// reduce_levels.h: includes reduce_body.h once per instruction-set level for the type that
// reduce_kernels.c has set (TIDE_T, TIDE_TS, TIDE_LANES), each with that level's row sum.
#define TIDE_SFX _portable
#define TIDE_TGT
#define TIDE_ROWSUM TIDE_ROWSUM_AT(_portable)
#include "reduce_body.h"
#undef TIDE_SFX
#undef TIDE_TGT
#undef TIDE_ROWSUM
#if defined(__x86_64__)
#define TIDE_SFX _avx2
#define TIDE_TGT __attribute__((target("avx2,fma")))
#define TIDE_ROWSUM TIDE_ROWSUM_AT(_avx2)
#include "reduce_body.h"
#undef TIDE_SFX
#undef TIDE_TGT
#undef TIDE_ROWSUM
#endif
