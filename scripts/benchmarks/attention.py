"""PyTorch side of the attention benchmark (scripts/benchmarks/attention.lua is Tide's).

Prints "name numpy_seconds torch_seconds" (best of several runs, 2 threads; no NumPy versions,
so that column is nan):
  attn_sdpa_causal_fwd_N / attn_sdpa_causal_fwdbwd_N: torch.nn.functional.scaled_dot_product_attention
      with is_causal=True, B = 1, H = 8, D = 64, N in 512..4096 (fwdbwd: forward, sum, backward)
  attn_lightning_fwd_N: lightning attention forward written here in PyTorch, the blocked
      algorithm of brief A2.2 (decays as non-negative powers, all heads batched per block; the
      block size is whichever of 64, 128, 256 runs fastest here, Tide uses its default 64),
      checked against the quadratic form in float64 before timing
  attn_sdpa_causal_fwd_16384: PyTorch's fused SDPA at 16K, for reference next to Tide's.
"""
import math
import sys
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(2)
torch.manual_seed(0)
NAN = float("nan")


def best(n, fn):
    b = float("inf")
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        b = min(b, time.perf_counter() - t0)
    return b


def qkv(n):
    return torch.randn(1, 8, n, 64), torch.randn(1, 8, n, 64), torch.randn(1, 8, n, 64)


def slopes(h):
    """MiniMax-01 / ALiBi slopes for a power-of-two head count: 2^(-8 i / h), i = 1..h."""
    return torch.tensor([2.0 ** (-8.0 * i / h) for i in range(1, h + 1)])


def lightning(q, k, v, s, block=64):
    """Blocked lightning attention (A2.2): q, k (B, H, N, d), v (B, H, N, e), s (H) -> o, S.

    Per block of m rows: O = ((Q K^T) . D) V + (qdec . Q) S, S = lam^m S + (kdec . K)^T V with
    D[j, i] = lam^(j-i) for i <= j, qdec[j] = lam^(j+1), kdec[j] = lam^(m-1-j)."""
    b, h, n, d = q.shape
    e = v.shape[-1]
    o = torch.empty(b, h, n, e, dtype=q.dtype)
    S = torch.zeros(b, h, d, e, dtype=q.dtype)
    logl = (-s).to(q.dtype).view(1, h, 1, 1)

    def tables(m):
        j = torch.arange(m, dtype=q.dtype)
        diff = j.view(m, 1) - j.view(1, m)
        D = torch.where(diff >= 0, torch.exp(logl * diff.clamp(min=0)), torch.zeros((), dtype=q.dtype))
        return D, torch.exp(logl * (j + 1).view(m, 1)), torch.exp(logl * (m - 1 - j).view(m, 1)), torch.exp(logl * m)

    full = tables(block)
    for r0 in range(0, n, block):
        m = min(block, n - r0)
        D, qdec, kdec, bdec = full if m == block else tables(m)
        qb, kb, vb = q[:, :, r0:r0 + m], k[:, :, r0:r0 + m], v[:, :, r0:r0 + m]
        ob = torch.matmul(torch.matmul(qb, kb.transpose(-1, -2)).mul_(D), vb)
        ob.add_(torch.matmul(qb * qdec, S))
        o[:, :, r0:r0 + m] = ob
        S = torch.baddbmm(S.mul_(bdec).view(b * h, d, e), (kb * kdec).transpose(-1, -2).reshape(b * h, d, m),
                          vb.reshape(b * h, m, e)).view(b, h, d, e)
    return o, S


def check():
    """The blocked version against the quadratic masked-decay form, in float64."""
    q, k, v = (torch.randn(1, 4, 203, 16, dtype=torch.float64) for _ in range(3))
    s = slopes(4).double()
    t = torch.arange(203, dtype=torch.float64)
    diff = t.view(-1, 1) - t.view(1, -1)
    M = torch.where(diff >= 0, torch.exp(-s.view(4, 1, 1) * diff.clamp(min=0)), torch.zeros((), dtype=torch.float64))
    ref = torch.matmul(torch.matmul(q, k.transpose(-1, -2)) * M, v)
    o, _ = lightning(q, k, v, s, block=64)
    err = (o - ref).abs().max().item()
    assert err < 1e-10, "blocked lightning reference is wrong: max error %g" % err


rows = []
with torch.no_grad():
    check()
for n in (512, 1024, 2048, 4096):
    q, k, v = qkv(n)
    reps = 10 if n <= 2048 else 6
    with torch.no_grad():
        rows.append(("attn_sdpa_causal_fwd_%d" % n, best(reps, lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True))))
    for t in (q, k, v):
        t.requires_grad_()

    def fwdbwd():
        F.scaled_dot_product_attention(q, k, v, is_causal=True).sum().backward()
        q.grad = k.grad = v.grad = None

    rows.append(("attn_sdpa_causal_fwdbwd_%d" % n, best(reps, fwdbwd)))

s8 = slopes(8)
with torch.no_grad():
    for n in (1024, 4096, 16384, 65536):
        q, k, v = qkv(n)
        # the block size is PyTorch's best of 64, 128, 256 (one timed run each picks it)
        blk = min((64, 128, 256), key=lambda b: best(1, lambda: lightning(q, k, v, s8, block=b)))
        rows.append(("attn_lightning_fwd_%d" % n, best(10 if n <= 4096 else 3, lambda: lightning(q, k, v, s8, block=blk))))
    q, k, v = qkv(16384)
    rows.append(("attn_sdpa_causal_fwd_16384", best(1, lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True))))

for name, t in rows:
    print("%s nan %.6g" % (name, t))
sys.stdout.flush()
