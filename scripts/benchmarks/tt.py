"""NumPy / tensorly side of the TT benchmarks: the same work as tt.lua. Prints
"name numpy_seconds torch_seconds" lines as scripts/bench expects (the reference time goes in
the NumPy column; torch is "nan": there is no PyTorch version of this work).

    .venv-bench/bin/python scripts/benchmarks/tt.py

ttsvd_*: tensorly.decomposition.tensor_train when tensorly is installed (`pip install tensorly`
into .venv-bench), else the NumPy TT-SVD below; stderr says which. psubgm_iter / frsubgm_iter:
one iteration of the same step in NumPy (residual and subgradient by GEMV, TT-SVD with
np.linalg.svd, the full tensor, the loss; FRSubGM: core gradients by einsum, Stiefel projection
and polar retraction). 2 threads, like tt.lua.
"""
import os
import sys
import time

import numpy as np

try:
    from threadpoolctl import threadpool_limits
    threadpool_limits(int(os.environ.get("TIDE_BENCH_THREADS", "2")))
except ImportError:
    pass
try:
    from tensorly.decomposition import tensor_train
    import tensorly
    impl = "tensorly %s tensor_train" % tensorly.__version__
except ImportError:
    tensor_train = None
    impl = "NumPy TT-SVD (tensorly not installed)"
print("# ttsvd: " + impl + ", NumPy " + np.__version__, file=sys.stderr)


def best(n, fn):
    b = float("inf")
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        b = min(b, time.perf_counter() - t0)
    return b


def tt_svd(x, r):
    """Oseledets' TT-SVD, C-order unfoldings, fixed ranks r (capped by the unfolding)."""
    dims = x.shape
    cores, c, rp = [], x, 1
    for i in range(len(dims) - 1):
        c = c.reshape(rp * dims[i], -1)
        u, s, vt = np.linalg.svd(c, full_matrices=False)
        k = min(r, len(s))
        cores.append(u[:, :k].reshape(rp, dims[i], k))
        c = s[:k, None] * vt[:k]
        rp = k
    cores.append(c.reshape(rp, dims[-1], 1))
    return cores


def tt_full(cores):
    t = cores[0].reshape(cores[0].shape[1], -1)
    for c in cores[1:]:
        t = (t @ c.reshape(c.shape[0], -1)).reshape(-1, c.shape[2])
    return t.reshape([c.shape[1] for c in cores])


rng = np.random.default_rng(0)
for dims, r, name in (((8,) * 6, 4, "ttsvd_8^6_r4"), ((20,) * 4, 5, "ttsvd_20^4_r5")):
    x = rng.standard_normal(dims)
    fn = (lambda: tensor_train(x, rank=r)) if tensor_train else (lambda: tt_svd(x, r))
    print("%s %.9f nan" % (name, best(10, fn)))

# one PSubGM / FRSubGM iteration at N = 4, d = 4, r = 2, m = 600, 20% outliers
dims, m = (4, 4, 4, 4), 600
D = int(np.prod(dims))
A = rng.standard_normal((m, D))
xs = tt_full([rng.standard_normal(s) for s in ((1, 4, 2), (2, 4, 2), (2, 4, 2), (2, 4, 1))])
xs /= np.linalg.norm(xs)
y = A @ xs.ravel()
idx = rng.choice(m, m // 5, replace=False)
y[idx] += 10 * rng.standard_normal(len(idx))
x = tt_full(tt_svd(xs + 0.3 * rng.standard_normal(dims), 2)).ravel()
mu = 0.05


def psubgm_step():
    e = A @ x - y
    g = A.T @ (np.sign(e) / m)
    z = (x - mu * g).reshape(dims)
    xn = tt_full(tt_svd(z, 2)).ravel()
    return np.abs(A @ xn - y).mean()


print("psubgm_iter %.9f nan" % best(200, psubgm_step))

cores = tt_svd(x.reshape(dims), 2)
sym = lambda b: 0.5 * (b + b.T)


def frsubgm_step():
    f = tt_full(cores).ravel()
    e = A @ f - y
    g = (A.T @ (np.sign(e) / m)).reshape(dims)
    grads = [np.einsum("ijkl,bjc,ckd,dle->ib", g, cores[1], cores[2], cores[3]).reshape(cores[0].shape),
             np.einsum("ijkl,aib,ckd,dle->bjc", g, cores[0], cores[2], cores[3]),
             np.einsum("ijkl,aib,bjc,dle->ckd", g, cores[0], cores[1], cores[3]),
             np.einsum("ijkl,aib,bjc,ckd->dl", g, cores[0], cores[1], cores[2]).reshape(cores[3].shape)]
    scale = mu / np.sum(cores[3] ** 2)
    new = []
    for i in range(3):
        L = cores[i].reshape(-1, cores[i].shape[2])
        G = grads[i].reshape(L.shape)
        u, s, vt = np.linalg.svd(L - scale * (G - L @ sym(L.T @ G)), full_matrices=False)
        new.append((u @ vt).reshape(cores[i].shape))
    new.append(cores[3] - mu * grads[3])
    return np.abs(A @ tt_full(new).ravel() - y).mean()


print("frsubgm_iter %.9f nan" % best(200, frsubgm_step))
