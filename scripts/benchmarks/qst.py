"""NumPy side of the quantum state tomography benchmark (scripts/benchmarks/qst.lua is Tide's).

The same work in vectorized NumPy, with the same algorithm as Tide (TideSolvers/QST):
  qst_wgd_iter_n6 / _n8     one Wirtinger GD iteration, rank 2, M = 10^4 single-shot settings,
                            data grouped by distinct Pauli string and the strings by x mask:
                            v_x[c] = (U U^H)[c, c^x] from the factor; a = Walsh-Hadamard
                            transform of v_x (one vectorized butterfly pass over all masks);
                            coefficients c_P = (2d/M)(n_P a_P - S_P); the transform of
                            w_x[z] = c_P i^popcount(x&z) gives G[c^x, c]; G U by a gather.
  qst_measure_n6_M1e6_Q1    10^6 uniform settings on 6 qubits: draw, group (bincount over all
  qst_measure_n6_M1e6_Q100  4^n codes), expectations of the distinct strings, rng.binomial
                            shots per setting, sums per string
Prints "name numpy_seconds torch_seconds" as scripts/bench expects (best of several runs, 2
threads; torch is "nan": there is no PyTorch version of this work). On stderr, for reference, the brief's
prototype form of the step (dense rho = U U^H, O(K d) gathers, bincount scatter into G, G U).
"""
import sys
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
import numpy as np

try:
    from threadpoolctl import threadpool_limits
    threadpool_limits(2)
except ImportError:
    pass


def best(n, fn):
    b = float("inf")
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        b = min(b, time.perf_counter() - t0)
    return b


PARITY = np.array([bin(i).count("1") & 1 for i in range(1 << 16)], dtype=np.int64)


def parity(v):
    v = v.astype(np.int64)
    return PARITY[v & 0xFFFF] ^ PARITY[(v >> 16) & 0xFFFF]


def masks(codes, n):
    x = np.zeros_like(codes)
    z = np.zeros_like(codes)
    for b in range(n):
        dgt = (codes >> (2 * b)) & 3
        x |= ((dgt == 1) | (dgt == 2)).astype(np.int64) << b
        z |= (dgt >= 2).astype(np.int64) << b
    return x, z


def pauli_tables(codes, n):
    """rows r, columns r ^ x and values P[r, r ^ x] = i^ny (-1)^popcount((r ^ x) & z): (K, d)."""
    d = 1 << n
    x, z = masks(codes, n)
    r = np.arange(d)[None, :]
    c = r ^ x[:, None]
    ny = np.array([bin(int(v)).count("1") for v in (x & z)])
    vals = (1j ** ny)[:, None] * (1 - 2 * parity(c & z[:, None]))
    return r.repeat(len(codes), 0), c, vals


def expectations(rho, rows, cols, vals):
    return np.real(np.sum(vals * rho[cols, rows], axis=1))


def random_state(rng, n, r):
    v = (rng.standard_normal((2 ** n, r)) + 1j * rng.standard_normal((2 ** n, r))) / np.sqrt(2)
    rho = v @ v.conj().T
    return rho / np.trace(rho).real


def measure(rng, rho, n, m, q):
    codes = rng.integers(0, 4 ** n, size=m)
    full = np.bincount(codes, minlength=4 ** n)
    distinct = np.nonzero(full)[0]
    counts = full[distinct]
    slot = np.zeros(4 ** n, dtype=np.int64)
    slot[distinct] = np.arange(len(distinct))
    inverse = slot[codes]
    rows, cols, vals = pauli_tables(distinct, n)
    a = expectations(rho, rows, cols, vals)
    p = np.clip((1 + a) / 2, 0, 1)
    y = (2 * rng.binomial(q, p[inverse]) - q) / q
    return distinct, counts, np.bincount(inverse, weights=y, minlength=len(distinct))


def wgd_setup(rng, n, r, m):
    d = 1 << n
    rho = random_state(rng, n, r)
    codes, counts, sums = measure(rng, rho, n, m, 1)
    rows, cols, vals = pauli_tables(codes, n)
    flat = (rows * d + cols).ravel()
    # spectral start (not timed)
    lin = np.zeros(d * d, complex)
    w = (sums[:, None] * vals).ravel() * (d / m)
    lin = (np.bincount(flat, weights=w.real, minlength=d * d) + 1j * np.bincount(flat, weights=w.imag, minlength=d * d)).reshape(d, d)
    ev, V = np.linalg.eigh((lin + lin.conj().T) / 2)
    U = V[:, -r:] * np.sqrt(np.clip(ev[-r:], 0, None))
    mu = 0.2 / max(ev[-1], 1e-300)
    return dict(d=d, m=m, codes=codes, counts=counts, sums=sums, rows=rows, cols=cols, vals=vals, flat=flat, U=U, mu=mu)


def wgd_step(s):
    d, U = s["d"], s["U"]
    rho = U @ U.conj().T
    a = expectations(rho, s["rows"], s["cols"], s["vals"])
    c = (2 * d / s["m"]) * (s["counts"] * a - s["sums"])
    w = (c[:, None] * s["vals"]).ravel()
    G = (np.bincount(s["flat"], weights=w.real, minlength=d * d)
         + 1j * np.bincount(s["flat"], weights=w.imag, minlength=d * d)).reshape(d, d)
    G = (G + G.conj().T) / 2
    s["U"] = U - s["mu"] * (G @ U)


def fwht(v):
    """Unnormalized Walsh-Hadamard transform along the last axis (length 2^n), all rows at once."""
    rows, d = v.shape
    h = 1
    while h < d:
        w = v.reshape(rows, d // (2 * h), 2, h)
        a, b = w[:, :, 0, :], w[:, :, 1, :]
        v = np.stack((a + b, a - b), axis=2).reshape(rows, d)
        h *= 2
    return v


def fused_setup(s, n):
    """Group the distinct strings by x mask: (X, d) index arrays for the transforms."""
    d = 1 << n
    codes = s["codes"]
    x, z = masks(codes, n)
    xs, xi = np.unique(x, return_inverse=True)
    ny = np.array([bin(int(v)).count("1") for v in (x & z)])
    s.update(xs=xs, xi=xi, z=z, phase=1j ** ny, cx=np.arange(d)[None, :] ^ xs[:, None])


def fused_step(s):
    d, U, cx, xi, z = s["d"], s["U"], s["cx"], s["xi"], s["z"]
    v = np.einsum("cs,xcs->xc", U, U[cx].conj())             # (U U^H)[c, c^x]
    a = np.real(s["phase"] * fwht(v)[xi, z])
    c = (2 * d / s["m"]) * (s["counts"] * a - s["sums"])
    w = np.zeros((len(s["xs"]), d), complex)
    w[xi, z] = c * s["phase"]
    h = fwht(w)                                              # G[c^x, c] = h[x, c]
    hs = (h + h[np.arange(len(s["xs"]))[:, None], cx].conj()) / 2
    # (G U)[c'] = sum_x G[c', c'^x] U[c'^x] = sum_x hs[x, c'^x] U[c'^x]
    g = np.einsum("xc,xcs->cs", hs[np.arange(len(s["xs"]))[:, None], cx], U[cx])
    s["U"] = U - s["mu"] * g


rng = np.random.default_rng(0)
for n in (6, 8):
    s = wgd_setup(rng, n, 2, 10000)
    fused_setup(s, n)
    # both forms compute the same step
    s2 = dict(s)
    fused_step(s); wgd_step(s2)
    assert np.allclose(s["U"], s2["U"], atol=1e-12), "fused and prototype steps differ"
    steps = 20 if n == 6 else 5
    t = best(5, lambda: [fused_step(s) for _ in range(steps)]) / steps
    print(f"qst_wgd_iter_n{n} {t:.9f} nan")
    t2 = best(3, lambda: [wgd_step(s2) for _ in range(steps)]) / steps
    print(f"qst_wgd_iter_n{n}_prototype_form {t2:.9f}", file=sys.stderr)
rho6 = random_state(rng, 6, 2)
for q in (1, 100):
    print(f"qst_measure_n6_M1e6_Q{q} {best(5, lambda: measure(rng, rho6, 6, 1000000, q)):.9f} nan")
