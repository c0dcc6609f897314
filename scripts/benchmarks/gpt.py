"""PyTorch side of the GPT training-step benchmark (scripts/benchmarks/gpt.lua is Tide's).

Same config on both sides: vocab 256, 4 layers, dim 256, 4 heads, seq 256, batch 8, MLP 4x
(GELU), pre-norm LayerNorm, causal softmax attention, learned position embeddings, tied
input/output embeddings, AdamW with weight decay. Prints "gpt_train_step nan <seconds>" (median of timed steps; no NumPy
column) and "gpt_peak_rss_mb nan <MiB>".
"""
import math, resource, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(2)
torch.manual_seed(0)
V, L, D, H, T, B = 256, 4, 256, 4, 256, 8


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(D)
        self.qkv = nn.Linear(D, 3 * D)
        self.proj = nn.Linear(D, D)
        self.ln2 = nn.LayerNorm(D)
        self.fc1 = nn.Linear(D, 4 * D)
        self.fc2 = nn.Linear(4 * D, D)

    def forward(self, x):
        b, t, _ = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(D, dim=2)
        q, k, v = (z.view(b, t, H, D // H).transpose(1, 2) for z in (q, k, v))
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(a.transpose(1, 2).reshape(b, t, D))
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(V, D)
        self.pos = nn.Embedding(T, D)
        self.blocks = nn.ModuleList(Block() for _ in range(L))
        self.ln = nn.LayerNorm(D)

    def forward(self, idx):
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1]))
        for blk in self.blocks:
            x = blk(x)
        return self.ln(x) @ self.tok.weight.T


model = GPT()
opt = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.1)
x = torch.randint(0, V, (B, T))
y = torch.randint(0, V, (B, T))
times = []
for i in range(int(sys.argv[1]) if len(sys.argv) > 1 else 12):
    t0 = time.perf_counter()
    loss = F.cross_entropy(model(x).view(-1, V), y.view(-1))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    times.append(time.perf_counter() - t0)
times = sorted(times[2:])
# no NumPy version of this work: that column is nan
print("gpt_train_step nan %.6g" % times[len(times) // 2])
print("gpt_peak_rss_mb nan %.1f" % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
