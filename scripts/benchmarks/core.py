"""NumPy and PyTorch side of scripts/bench: the same work as core.lua.

Prints "name numpy_seconds torch_seconds" per line (torch is "nan" when PyTorch is not
installed; `scripts/bench --install` puts both in .venv-bench). 2 threads for both libraries.
"""
import math
import os
import time

import numpy as np

try:
    from threadpoolctl import threadpool_limits
    threadpool_limits(2)
except ImportError:
    pass
try:
    import torch
    torch.set_num_threads(2)
except ImportError:
    torch = None
try:
    import scipy.special as sp
    np_erf = sp.erf
except ImportError:
    np_erf = np.vectorize(math.erf, otypes=[np.float32])


def best(n, fn):
    b = float("inf")
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        b = min(b, time.perf_counter() - t0)
    return b


rows = {}


def bench(name, n, np_fn, torch_fn=None):
    t_np = best(n, np_fn)
    t_t = best(n, torch_fn) if (torch is not None and torch_fn is not None) else float("nan")
    rows[name] = (t_np, t_t)


rng = np.random.default_rng(0)
_w = rng.standard_normal((256, 256), dtype=np.float32)  # untimed warm-up, as in core.lua
_w @ _w
if torch:
    torch.from_numpy(_w) @ torch.from_numpy(_w)
for n in (512, 1024, 2048):
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    ta, tb = (torch.from_numpy(a), torch.from_numpy(b)) if torch else (None, None)
    bench(f"gemm_f32_{n}", 50 if n == 512 else 20 if n == 1024 else 5, lambda: a @ b, lambda: ta @ tb)
x = rng.standard_normal(4194304, dtype=np.float32)
y = rng.standard_normal(4194304, dtype=np.float32)
tx, ty = (torch.from_numpy(x), torch.from_numpy(y)) if torch else (None, None)
ya = np.abs(y) + np.float32(0.5)  # positive, for log
tya = torch.from_numpy(ya) if torch else None
bench("add_f32_4M", 20, lambda: x + y, lambda: tx + ty)
bench("gelu_f32_4M", 20, lambda: 0.5 * x * (1 + np_erf(x / np.float32(math.sqrt(2)))),
      lambda: torch.nn.functional.gelu(tx))
bench("sum_f32_4M", 100, lambda: x.sum(), lambda: tx.sum())
# more elementwise ops over the same 4M f32 vectors
bench("mul_f32_4M", 20, lambda: x * y, lambda: tx * ty)
bench("maximum_f32_4M", 20, lambda: np.maximum(x, y), lambda: torch.maximum(tx, ty))
bench("lt_f32_4M", 20, lambda: x < y, lambda: tx < ty)
bench("square_f32_4M", 20, lambda: x ** 2, lambda: tx ** 2)
bench("exp_f32_4M", 20, lambda: np.exp(x), lambda: tx.exp())
bench("log_f32_4M", 20, lambda: np.log(ya), lambda: tya.log())
bench("sin_f32_4M", 20, lambda: np.sin(x), lambda: tx.sin())
bench("pow_f32_4M", 20, lambda: ya ** y, lambda: tya ** ty)
xs = x.reshape(4096, 1024)
txs = tx.reshape(4096, 1024) if torch else None
bench("softmax_f32_4M", 20, lambda: (lambda e: e / e.sum(1, keepdims=True))(np.exp(xs - xs.max(1, keepdims=True))),
      lambda: torch.softmax(txs, 1))
# reductions over one dim of a (4096, 1024) f32 matrix: along rows, down columns, max with its index
bench("sum_dim_rows_f32_4M", 20, lambda: xs.sum(1), lambda: txs.sum(1))
bench("sum_dim_cols_f32_4M", 20, lambda: xs.sum(0), lambda: txs.sum(0))
bench("max_dim_f32_4M", 20, lambda: (xs.max(1), xs.argmax(1)), lambda: txs.max(1))
bench("cumsum_dim_f32_4M", 20, lambda: xs.cumsum(1), lambda: txs.cumsum(1))
s1 = rng.standard_normal(16, dtype=np.float32)
s2 = rng.standard_normal(16, dtype=np.float32)
ts1, ts2 = (torch.from_numpy(s1), torch.from_numpy(s2)) if torch else (None, None)
reps = 100000


def loop_np():
    for _ in range(10 * reps):
        s1 + s2


def loop_t():
    for _ in range(10 * reps):
        ts1 + ts2


# amortized over 1M adds per timing, as core.lua does (Tide's collector work is included)
t_np = best(3, loop_np) / (10 * reps)
t_t = best(3, loop_t) / (10 * reps) if torch else float("nan")
rows["add16_per_op"] = (t_np, t_t)
xt = rng.standard_normal((2048, 2048), dtype=np.float32).T
txt = torch.from_numpy(np.ascontiguousarray(xt.T)).T if torch else None
bench("add_f32_4M_transposed", 20, lambda: xt + xt, lambda: txt + txt)
xc = rng.standard_normal((2048, 2048), dtype=np.float32)
txc = torch.from_numpy(xc) if torch else None
bench("add_f32_4M_mixed_layout", 20, lambda: xc + xt, lambda: txc + txt)
yc = rng.standard_normal((2048, 2048), dtype=np.float32)
tyc = torch.from_numpy(yc) if torch else None
bench("add_f32_4M_2d_same", 20, lambda: xc + xc, lambda: txc + txc)
bench("add_f32_4M_2d_pair", 20, lambda: xc + yc, lambda: txc + tyc)
for name, (a, b) in rows.items():
    print(f"{name} {a:.9f} {b:.9f}")
