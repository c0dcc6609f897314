"""NumPy side of scripts/bench: the same work as core.lua, printed as "name seconds"."""
import time
import numpy as np

try:
    from threadpoolctl import threadpool_limits
    threadpool_limits(2)
except ImportError:
    pass


def best(n, fn):
    b = float("inf")
    for _ in range(n):
        t0 = time.perf_counter(); fn(); b = min(b, time.perf_counter() - t0)
    return b


rng = np.random.default_rng(0)
for n in (512, 1024, 2048):
    a = rng.standard_normal((n, n), dtype=np.float32); b = rng.standard_normal((n, n), dtype=np.float32)
    print(f"gemm_f32_{n} {best(5, lambda: a @ b):.6f}")
x = rng.standard_normal(4194304, dtype=np.float32); y = rng.standard_normal(4194304, dtype=np.float32)
print(f"add_f32_4M {best(10, lambda: x + y):.6f}")
from math import sqrt
import scipy.special as sp
print(f"gelu_f32_4M {best(5, lambda: 0.5 * x * (1 + sp.erf(x / np.float32(sqrt(2))))):.6f}")
print(f"sum_f32_4M {best(10, lambda: x.sum()):.6f}")
s1 = rng.standard_normal(16, dtype=np.float32); s2 = rng.standard_normal(16, dtype=np.float32)
reps = 100000
def loop():
    for _ in range(reps):
        s1 + s2
print(f"add16_per_op {best(3, loop) / reps:.9f}")
xt = rng.standard_normal((2048, 2048), dtype=np.float32).T
print(f"add_f32_4M_transposed {best(5, lambda: xt + xt):.6f}")
