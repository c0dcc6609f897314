// tide_pool: the persistent worker threads behind Threads.parallelFor.
// No stable API: only TideCore calls these.
#ifndef TIDE_POOL_H
#define TIDE_POOL_H

typedef void (*tide_pool_fn)(void *ctx, long part);

// Runs fn(ctx, p) for p in [0, parts) on the calling thread and up to parts - 1 workers, and
// returns when every part has finished. Parts are claimed dynamically, so a worker that is
// slow to wake costs nothing: the caller runs its parts. A call from inside a part, or while
// another thread is using the pool, runs every part on the calling thread.
void tide_pool_run(long parts, tide_pool_fn fn, void *ctx);
#endif
