"""PyTorch side of the MoE benchmark (scripts/benchmarks/moe.lua is Tide's).

One MoE layer, forward + backward: 4096 tokens, dim 256, 8 SwiGLU experts of hidden 512,
top-2, fp32 softmax router without bias, renormalized top-2 gates, dropless, Switch/Mixtral aux
loss (coef 0.01) added to sum(y * g). The experts are the usual gather/scatter loop: for each
expert, the rows routed to it are gathered (index_select), run through SwiGLU with two matmuls
(W1 and W3 fused) and scatter-added back with their gates (index_add_). Also a dense SwiGLU
FFN with the same active FLOPs (hidden 2 * 512) for the routing overhead. Prints
"moe_fwd_bwd nan <seconds>" and "moe_dense_fwd_bwd nan <seconds>" (best of the timed runs after
two warm-up runs; no NumPy version: nan).
"""
import sys, time
import torch
import torch.nn.functional as F

torch.set_num_threads(2)
torch.manual_seed(0)
T, D, H, E, K = 4096, 256, 512, 8, 2
reps = int(sys.argv[1]) if len(sys.argv) > 1 else 12

wr = (torch.randn(E, D) / D ** 0.5).requires_grad_()
w13 = (torch.randn(E, D, 2 * H) / D ** 0.5).requires_grad_()
w2 = (torch.randn(E, H, D) / H ** 0.5).requires_grad_()
x = torch.randn(T, D, requires_grad=True)
g = torch.randn(T, D)


def moe(x):
    logits = (x @ wr.t()).float()
    probs = logits.softmax(-1)
    topv, topi = probs.topk(K, dim=-1)
    gates = topv / topv.sum(-1, keepdim=True)
    y = torch.zeros_like(x)
    flat_e = topi.reshape(-1)
    flat_g = gates.reshape(-1)
    tok = torch.arange(T).repeat_interleave(K)
    order = flat_e.argsort(stable=True)
    counts = torch.bincount(flat_e, minlength=E).tolist()
    start = 0
    for e in range(E):
        n = counts[e]
        if n == 0:
            continue
        sel = order[start:start + n]
        start += n
        t = tok[sel]
        xe = x.index_select(0, t)
        h1, h3 = (xe @ w13[e]).chunk(2, dim=-1)
        ye = (F.silu(h1) * h3) @ w2[e]
        y.index_add_(0, t, ye * flat_g[sel].unsqueeze(1))
    f = torch.zeros(K, E)
    for j in range(K):
        f[j] = torch.bincount(topi[:, j], minlength=E).float() / T
    aux = E * (f * probs.mean(0)).sum()
    return y, aux


wd13 = (torch.randn(D, 2 * K * H) / D ** 0.5).requires_grad_()
wd2 = (torch.randn(K * H, D) / H ** 0.5).requires_grad_()


def dense(x):
    h1, h3 = (x @ wd13).chunk(2, dim=-1)
    return (F.silu(h1) * h3) @ wd2


def bench(fn):
    times = []
    for _ in range(reps):
        for p in (x, wr, w13, w2, wd13, wd2):
            p.grad = None
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times[2:])


def step_moe():
    y, aux = moe(x)
    ((y * g).sum() + 0.01 * aux).backward()


def step_dense():
    (dense(x) * g).sum().backward()


print("moe_fwd_bwd nan %.6g" % bench(step_moe))
print("moe_dense_fwd_bwd nan %.6g" % bench(step_dense))
print("moe_dense1_fwd_bwd nan nan")  # Tide's fused single-expert dense: no PyTorch counterpart
