"""Independent references of the neighbourhoods (docs/method.md §1),
written without the library: loops over samples and plain dense tensors."""
import math

import numpy as np
import torch


def reference_conaff(feats, k, k1, k2, num_layers=2):
    """docs/method.md §1 written as loops over samples, in float64."""
    z = feats.double()
    z = z / z.norm(dim=1, keepdim=True)
    n = z.shape[0]
    sim = [[float(z[i] @ z[j]) for j in range(n)] for i in range(n)]
    ranks, weights = [], []
    for i in range(n):
        others = sorted((j for j in range(n) if j != i),
                        key=lambda j: -sim[i][j])
        row = [i] + others[:k1 - 1]
        ranks.append(row)
        weights.append([1.0] + [sim[i][j]**2 for j in row[1:]])
    a = np.zeros((n, n))
    for i in range(n):
        for j in ranks[i]:
            a[i, j] = 1.0
    if k2 > 1:
        for _ in range(num_layers):
            sym = np.zeros((n, n))
            for i in range(n):
                for j in range(n):
                    sym[i, j] = a[i, j] + a[j, i]
            new = np.zeros((n, n))
            for i in range(n):
                for t in range(k2):
                    new[i] += weights[i][t] * sym[ranks[i][t]]
                new[i] /= math.sqrt(sum(v * v for v in new[i]))
            a = new
    ctx = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            ctx[i, j] = sum(a[i, t] * a[j, t] for t in range(n))
    return a, ctx


def dense_reference_neighbors(feats, k, k1, k2, num_layers=2):
    """docs/method.md §1 on dense (B, B) tensors, written independently of the
    library, with equal contextual similarities ranked by index."""
    z = feats.double()
    z = z / z.norm(dim=1, keepdim=True)
    n = z.shape[0]
    sim = z @ z.t()
    sim.fill_diagonal_(float('inf'))
    _, ranks = torch.sort(sim, dim=1, descending=True, stable=True)
    ranks = ranks[:, :k1]
    sims = torch.gather(z @ z.t(), 1, ranks)
    sims[:, 0] = 1.0
    weights = sims**2
    a = torch.zeros(n, n, dtype=torch.float64)
    a[torch.arange(n)[:, None], ranks] = 1.0
    if k2 > 1:
        for _ in range(num_layers):
            sym = a + a.t()
            a = sum(weights[:, j:j + 1] * sym[ranks[:, j]] for j in range(k2))
            a = a / a.norm(dim=1, keepdim=True)
    ctx = a @ a.t()
    ctx.fill_diagonal_(float('inf'))
    return torch.sort(ctx, dim=1, descending=True, stable=True)[1][:, :k]
