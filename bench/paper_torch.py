"""The paper's recipe in PyTorch, on data written by bench/paper_check.R.

Network: multilayer perceptron on [z, sin(w_k t), cos(w_k t), x] (the same
input as sbcg's), SiLU hidden layers, PyTorch's default initialisation.
Training: the denoiser D(z, t, x) regresses y at z = t y + sqrt(t (1 - t)) eps,
t uniform on [1e-3, 1 - 1e-3], Adam at lr 1e-3, batch 1000, 10,000 steps,
no standardisation.  Sampling: Euler-Maruyama from Z_0 = 0 on the uniform
grid of `--em` steps over [0, 1] (the grid of sbcg's "em" sampler),
Z_{k+1} = Z_k + h (D - Z_k) / (1 - t_k) + sqrt(h) eps.

Usage: python3 paper_torch.py TRAIN.csv TEST.csv OUT.csv [options]
TRAIN.csv has columns x1..xp, y; TEST.csv x1..xp; OUT.csv gets one row of
draws per test row.
"""
import argparse
import math

import torch


def read_csv(path):
    with open(path) as f:
        next(f)
        return [[float(v) for v in line.split(",")] for line in f if line.strip()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("train")
    ap.add_argument("test")
    ap.add_argument("out")
    ap.add_argument("--hidden", default="32,16")
    ap.add_argument("--nfreq", type=int, default=8)
    ap.add_argument("--steps", type=int, default=10000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--em", type=int, default=999)
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    dtype = getattr(torch, a.dtype)
    tr = torch.tensor(read_csv(a.train), dtype=dtype)
    Xt = torch.tensor(read_csv(a.test), dtype=dtype)
    X, Y = tr[:, :-1], tr[:, -1:]
    n, p = X.shape
    hidden = [int(h) for h in a.hidden.split(",")]
    freq = torch.logspace(0, 2, a.nfreq, dtype=dtype)
    layers, w = [], 1 + 2 * a.nfreq + p
    for h in hidden:
        layers += [torch.nn.Linear(w, h), torch.nn.SiLU()]
        w = h
    layers.append(torch.nn.Linear(w, 1))
    net = torch.nn.Sequential(*layers).to(dtype)

    def emb(t):
        u = t[:, None] * freq[None, :]
        return torch.cat([torch.sin(u), torch.cos(u)], dim=1)

    opt = torch.optim.Adam(net.parameters(), lr=a.lr)
    B = min(a.batch, n)
    perm, pos = torch.randperm(n), 0
    for _ in range(a.steps):
        if pos + B > n:
            perm, pos = torch.randperm(n), 0
        idx = perm[pos:pos + B]
        pos += B
        x, y = X[idx], Y[idx]
        t = 1e-3 + (1 - 2e-3) * torch.rand(B, dtype=dtype)
        tc = t[:, None]
        z = tc * y + torch.sqrt(tc * (1 - tc)) * torch.randn(B, 1, dtype=dtype)
        loss = torch.mean((net(torch.cat([z, emb(t), x], dim=1)) - y) ** 2)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    x = Xt.repeat_interleave(a.draws, dim=0)
    N = x.shape[0]
    grid = [k / a.em for k in range(a.em + 1)]
    z = torch.zeros(N, 1, dtype=dtype)
    with torch.no_grad():
        for k in range(a.em):
            t, h = grid[k], grid[k + 1] - grid[k]
            d = net(torch.cat([z, emb(torch.full((N,), t, dtype=dtype)), x], dim=1))
            z = z + h * (d - z) / (1 - t) + math.sqrt(h) * torch.randn(N, 1, dtype=dtype)
    with open(a.out, "w") as f:
        for row in z.reshape(Xt.shape[0], a.draws).tolist():
            f.write(",".join(repr(v) for v in row) + "\n")


if __name__ == "__main__":
    main()
