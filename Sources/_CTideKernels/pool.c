// pool.c: Tide's worker pool. libdispatch's concurrentPerform costs about 16 us per call on
// this Linux host (a sum of 128K floats took longer on two cores than on one); these workers
// spin briefly on a generation word after each job, then sleep on a futex, so a parallel op
// that follows another starts in well under a microsecond.
//
// One job at a time. Its claim state is a single 64-bit word, generation | parts | next part,
// so a worker that wakes late for an old job can never claim a part of the next one: its
// compare-and-swap fails on the generation. The job's function and context are read only
// after a successful claim, when the caller is still waiting for that part and so cannot have
// replaced them.
#define _GNU_SOURCE
#include "tide_pool.h"
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#endif

#define TIDE_POOL_MAX_WORKERS 63

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;  // held by the running job's caller
static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;
static int pool_workers = 0;

static tide_pool_fn job_fn;
static void *job_ctx;
static _Atomic uint64_t job_ticket = 0;  // gen << 32 | parts << 16 | next
static atomic_long job_done = 0;
static atomic_uint wake_gen = 0;          // futex word: the generation workers wait on
static atomic_int sleepers = 0;
static uint32_t generation = 0;           // written by the caller under pool_lock
static const long spin_ns = 50000;       // how long an idle worker spins before it sleeps
static _Thread_local int inside_part = 0;

static inline void cpu_relax(void) {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#endif
}

static long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long)t.tv_sec * 1000000000L + t.tv_nsec;
}

static void futex_wait(atomic_uint *w, unsigned seen) {
#if defined(__linux__)
  syscall(SYS_futex, (unsigned *)w, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
#else
  (void)w; (void)seen;
  usleep(50);
#endif
}

static void futex_wake(atomic_uint *w, int count) {
#if defined(__linux__)
  syscall(SYS_futex, (unsigned *)w, FUTEX_WAKE_PRIVATE, count, NULL, NULL, 0);
#else
  (void)w; (void)count;
#endif
}

// Claims and runs parts of generation `gen` until none are left.
static void run_parts(uint32_t gen) {
  uint64_t t = atomic_load_explicit(&job_ticket, memory_order_acquire);
  for (;;) {
    if ((uint32_t)(t >> 32) != gen) return;
    long parts = (long)((t >> 16) & 0xffff), next = (long)(t & 0xffff);
    if (next >= parts) return;
    if (!atomic_compare_exchange_weak_explicit(&job_ticket, &t, t + 1, memory_order_acq_rel, memory_order_acquire))
      continue;
    inside_part = 1;
    job_fn(job_ctx, next);
    inside_part = 0;
    atomic_fetch_add_explicit(&job_done, 1, memory_order_release);
    t = atomic_load_explicit(&job_ticket, memory_order_acquire);
  }
}

static void *worker_main(void *arg) {
  (void)arg;
  // 0, not the current generation: a worker started for a job must still take part in it
  // (a claim on a finished job finds nothing to do)
  uint32_t seen = 0;
  for (;;) {
    uint32_t g = atomic_load_explicit(&wake_gen, memory_order_acquire);
    if (g == seen) {
      long limit = spin_ns;
      long start = limit > 0 ? now_ns() : 0;
      for (long k = 1; limit > 0; k++) {
        cpu_relax();
        g = atomic_load_explicit(&wake_gen, memory_order_acquire);
        if (g != seen) break;
        if ((k & 255) == 0 && now_ns() - start > limit) break;
      }
      while (g == seen) {
        atomic_fetch_add(&sleepers, 1);
        futex_wait(&wake_gen, seen);
        atomic_fetch_sub(&sleepers, 1);
        g = atomic_load_explicit(&wake_gen, memory_order_acquire);
      }
    }
    seen = g;
    run_parts(g);
  }
  return NULL;
}

static void ensure_workers(long want) {
  if (want > TIDE_POOL_MAX_WORKERS) want = TIDE_POOL_MAX_WORKERS;
  if (__atomic_load_n(&pool_workers, __ATOMIC_ACQUIRE) >= want) return;
  pthread_mutex_lock(&start_lock);
  while (pool_workers < want) {
    pthread_t th;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&th, &attr, worker_main, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) break;  // no more threads: the caller runs what the workers would have
    __atomic_store_n(&pool_workers, pool_workers + 1, __ATOMIC_RELEASE);
  }
  pthread_mutex_unlock(&start_lock);
}

void tide_pool_run(long parts, tide_pool_fn fn, void *ctx) {
  // more parts than the claim word can count (a thread count far past the cores) run inline too
  if (parts <= 1 || parts > 0xffff || inside_part || pthread_mutex_trylock(&pool_lock) != 0) {
    int was = inside_part;
    inside_part = 1;
    for (long p = 0; p < parts; p++) fn(ctx, p);
    inside_part = was;
    return;
  }
  ensure_workers(parts - 1);
  job_fn = fn;
  job_ctx = ctx;
  atomic_store_explicit(&job_done, 0, memory_order_relaxed);
  uint32_t gen = ++generation;
  atomic_store_explicit(&job_ticket, (uint64_t)gen << 32 | (uint64_t)parts << 16, memory_order_release);
  atomic_store(&wake_gen, gen);
  // wake only as many sleepers as the job has parts for the workers: after the thread count
  // was lowered, the extra workers stay asleep
  if (atomic_load(&sleepers) > 0) futex_wake(&wake_gen, parts - 1 < INT_MAX ? (int)(parts - 1) : INT_MAX);
  run_parts(gen);
  for (long k = 1; atomic_load_explicit(&job_done, memory_order_acquire) < parts; k++) {
    cpu_relax();
    if ((k & 4095) == 0) sched_yield();
  }
  pthread_mutex_unlock(&pool_lock);
}

