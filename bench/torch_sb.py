"""PyTorch CPU implementation of sbcg's network, loss, optimiser and sampler,
for the side-by-side timings of bench/speed.R.

The network is the same multilayer perceptron as sbcg's: input
[z, sin(w_k t), cos(w_k t), x], SiLU hidden layers, linear output.  Training
is the residual parameterisation of sbcg (the network F regresses
(y - z) / sqrt(1 - t) at z = t y + sqrt(t (1 - t)) eps), minibatches drawn
by a shuffled pass over the rows, Adam.  Sampling is Euler-Maruyama from
Z_0 = 0 on a uniform grid, Z_{k+1} = Z_k + h F / sqrt(1 - t_k) + sqrt(h) eps.

Two samplers: "plain" evaluates the whole network at every step, as a
PyTorch user would write it; "cached" computes the x-only part of the first
layer once and the t-only part once per step, as sbcg does.

Usage: python3 torch_sb.py train|sample [options]; prints one JSON line.
"""
import argparse
import json
import math
import time

import torch


def make_net(d, p, nfreq, hidden, dtype):
    layers = []
    w = d + 2 * nfreq + p
    for h in hidden:
        layers += [torch.nn.Linear(w, h), torch.nn.SiLU()]
        w = h
    layers.append(torch.nn.Linear(w, d))
    return torch.nn.Sequential(*layers).to(dtype)


def embed(t, freq):
    a = t[:, None] * freq[None, :]
    return torch.cat([torch.sin(a), torch.cos(a)], dim=1)


def train(args):
    dtype = getattr(torch, args.dtype)
    g = torch.Generator().manual_seed(args.seed)
    n, p, d = args.n, args.p, 1
    X = (torch.rand(n, p, generator=g, dtype=dtype) * 6 - 3)
    Y = (X[:, :1] ** 2 + torch.randn(n, 1, generator=g, dtype=dtype))
    freq = torch.logspace(0, 2, args.nfreq, dtype=dtype)
    net = make_net(d, p, args.nfreq, args.hidden, dtype)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    B = args.batch

    def run(nsteps):
        perm = torch.randperm(n, generator=g)
        pos = 0
        for _ in range(nsteps):
            if pos + B > n:
                perm = torch.randperm(n, generator=g)
                pos = 0
            idx = perm[pos:pos + B]
            pos += B
            x, y = X[idx], Y[idx]
            t = 1e-3 + (1 - 2e-3) * torch.rand(B, generator=g, dtype=dtype)
            eps = torch.randn(B, d, generator=g, dtype=dtype)
            tc = t[:, None]
            z = tc * y + torch.sqrt(tc * (1 - tc)) * eps
            target = (y - z) / torch.sqrt(1 - tc)
            out = net(torch.cat([z, embed(t, freq), x], dim=1))
            loss = torch.mean((out - target) ** 2)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

    run(args.warmup)
    times = []
    for _ in range(args.reps):
        t0 = time.perf_counter()
        run(args.steps)
        times.append(time.perf_counter() - t0)
    return times


def sample(args):
    dtype = getattr(torch, args.dtype)
    g = torch.Generator().manual_seed(args.seed)
    d, p = 1, args.p
    nx, ndraw, K = args.rows, args.draws, args.steps
    freq = torch.logspace(0, 2, args.nfreq, dtype=dtype)
    net = make_net(d, p, args.nfreq, args.hidden, dtype)
    xs = torch.rand(nx, p, generator=g, dtype=dtype) * 6 - 3
    x = xs.repeat_interleave(ndraw, dim=0)
    N = x.shape[0]
    grid = torch.linspace(0, 1 - 1e-3, K + 1, dtype=torch.float64).tolist()
    lin = [m for m in net if isinstance(m, torch.nn.Linear)]
    W0, b0 = lin[0].weight, lin[0].bias
    Wz, We, Wx = W0[:, :d], W0[:, d:d + 2 * args.nfreq], W0[:, d + 2 * args.nfreq:]
    rest = net[2:]

    @torch.no_grad()
    def run():
        z = torch.zeros(N, d, dtype=dtype)
        if args.sampler == "cached":
            cx = x @ Wx.T
        for k in range(K):
            t, h = grid[k], grid[k + 1] - grid[k]
            if args.sampler == "cached":
                tt = torch.tensor([t], dtype=dtype)
                ct = embed(tt, freq) @ We.T + b0
                a = torch.addmm(cx + ct, z, Wz.T)
                f = rest(torch.nn.functional.silu(a))
            else:
                e = embed(torch.full((N,), t, dtype=dtype), freq)
                f = net(torch.cat([z, e, x], dim=1))
            eps = torch.randn(N, d, generator=g, dtype=dtype)
            z = z + (h / math.sqrt(1 - t)) * f + math.sqrt(h) * eps
        return z

    run_times = []
    for _ in range(args.reps):
        t0 = time.perf_counter()
        z = run()
        run_times.append(time.perf_counter() - t0)
    assert torch.isfinite(z).all()
    return run_times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["train", "sample"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    ap.add_argument("--hidden", default="32,16")
    ap.add_argument("--nfreq", type=int, default=8)
    ap.add_argument("--p", type=int, default=5)
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--rows", type=int, default=500)
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--sampler", default="plain", choices=["plain", "cached"])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    args.hidden = [int(h) for h in args.hidden.split(",")]
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    times = train(args) if args.what == "train" else sample(args)
    print(json.dumps({"what": args.what, "threads": torch.get_num_threads(),
                      "dtype": args.dtype, "sampler": args.sampler,
                      "hidden": args.hidden, "batch": args.batch,
                      "steps": args.steps, "rows": args.rows,
                      "draws": args.draws, "times": times,
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
