#!/usr/bin/python3
"""E||L(Z)||^2 of the Gaussian-mixture case study (paper Section 6.3, Appendix K) by plain float64 Monte Carlo
in NumPy: the comparison point for `fa gmm` (docs/gmm/README.md, "Timing against NumPy"). Benchmark only, not
part of CI. Needs Debian's python3-numpy (with libopenblas0-pthread for the matrix products).

The estimator is the library's generic Monte Carlo one, vectorised: plain mixture draws; the Fisher information
I(U*) = E[s s^T] from the score s_i = -gamma_i(z) (z - u_i); a(x) = J_psi(x)^T theta* by the reverse-mode formula of
`GaussianMixture.adjointGradientIn` (eigenbasis of S(U*)); the features psi on their span; G = E[a a^T] -
E[a psi^T] E[psi psi^T]^-1 E[psi a^T]; E||L(Z)||^2 = tr(I^-1 G) (Theorem 5.1, eq. (5.2)). The standard error is
the delete-one-batch jackknife over the batches, as in `GaussianMixturePretraining.estimate`.

Usage: gmm_moments.py [K d beta fisher_draws gram_draws batches seed]  (defaults 4 20 2 2000000 1000000 20 1)
Prints one JSON line: the estimate, its standard error and the wall time of the computation (import excluded).
"""
import json
import sys
import time

import numpy as np


def setup(k, d, beta):
    u = np.zeros((d, k))
    u[np.arange(k), np.arange(k)] = beta
    raw = np.concatenate([np.full(d + 1, 1.0 / (i + 1)) for i in range(k)])
    theta = raw / np.linalg.norm(raw)
    c = u - u.mean(axis=1, keepdims=True)
    lam, v = np.linalg.eigh(c @ c.T)
    order = np.argsort(lam)[::-1]
    lam, v = lam[order], v[:, order]
    th = theta.reshape(k, d + 1)
    return u, lam, v, (v.T @ u).T, (v.T @ th[:, :d].T).T, th[:, d], (v.T @ c)


def draw(u, n, rng):
    labels = rng.integers(0, u.shape[1], n)
    return u[:, labels].T + rng.standard_normal((n, u.shape[0]))


def softmax(s):
    s = s - s.max(axis=1, keepdims=True)
    np.exp(s, out=s)
    return s / s.sum(axis=1, keepdims=True)


def fisher_sums(u, z):
    k = u.shape[1]
    gamma = softmax(z @ u - 0.5 * (u * u).sum(axis=0))
    score = -(gamma[:, :, None] * (z[:, None, :] - u.T[None, :, :])).reshape(len(z), -1)
    return score.T @ score


def gram_sums(lam, v, ut, tt, b, ct, x, r):
    n, d = x.shape
    k = ut.shape[0]
    xt = x @ v
    y = xt[:, :r]
    pis = softmax(y @ ut[:, :r].T - 0.5 * (ut[:, :r] ** 2).sum(axis=1))
    diff = y[:, None, :] - ut[None, :, :r]                                   # (n, K, r)
    g = (diff * tt[None, :, :r]).sum(axis=2) + b
    f = (pis * g).sum(axis=1, keepdims=True)
    c = pis * (g - f)
    gt = np.zeros((n, k, d))
    gt[:, :, :r] = -pis[:, :, None] * tt[None, :, :r] + c[:, :, None] * diff
    xb = xt[:, r:]                                                           # (n, d-r)
    # N[b, a] = sum_i pi_i (T_ib (x_a - U_ia) + T_ia (x_b - U_ib)) + c_i (U_ib (x_a - U_ia/2) + U_ia (x_b - U_ib/2))
    half = y[:, None, :] - 0.5 * ut[None, :, :r]
    nmat = (np.einsum('ni,ib,nia->nba', pis, tt[:, r:], diff)
            + np.einsum('ni,ia,nib->nba', pis, tt[:, :r], xb[:, None, :] - ut[None, :, r:])
            + np.einsum('ni,ib,nia->nba', c, ut[:, r:], half)
            + np.einsum('ni,ia,nib->nba', c, ut[:, :r], xb[:, None, :] - 0.5 * ut[None, :, r:]))
    nmat /= (lam[None, :r] - lam[r:, None])[None, :, :]
    gt[:, :, r:] = np.einsum('nba,ai->nib', nmat, ct[:r, :])
    gt[:, :, :r] += np.einsum('nba,bi->nia', nmat, ct[r:, :])
    a = gt.reshape(n, -1)
    phi = np.concatenate([pis[:, :, None] * diff, pis[:, :, None]], axis=2).reshape(n, -1)
    return a.T @ a, a.T @ phi, phi.T @ phi


def trace_vg(k, d, v, fisher, aa, ap, pp):
    rot = np.kron(np.eye(k), v)
    fisher_rot = rot.T @ fisher @ rot
    g = aa - ap @ np.linalg.solve(pp, ap.T)
    return float(np.trace(np.linalg.solve(fisher_rot, g)))


def main():
    args = [float(a) for a in sys.argv[1:]]
    k, d, beta, nf, ng, batches, seed = (args + [4, 20, 2, 2e6, 1e6, 20, 1][len(args):])[:7]
    k, d, nf, ng, batches, seed = int(k), int(d), int(nf), int(ng), int(batches), int(seed)
    t0 = time.perf_counter()
    u, lam, v, ut, tt, b, ct = setup(k, d, beta)
    r = k - 1
    rng = np.random.default_rng(seed)
    chunk = 50_000
    per_batch = []
    for _ in range(batches):
        sums = [0.0, 0.0, 0.0, 0.0]
        for n in np.diff(np.linspace(0, nf // batches, max(1, nf // batches // chunk) + 1).astype(int)):
            sums[0] = sums[0] + fisher_sums(u, draw(u, n, rng))
        for n in np.diff(np.linspace(0, ng // batches, max(1, ng // batches // chunk) + 1).astype(int)):
            aa, ap, pp = gram_sums(lam, v, ut, tt, b, ct, draw(u, n, rng), r)
            sums[1], sums[2], sums[3] = sums[1] + aa, sums[2] + ap, sums[3] + pp
        per_batch.append(sums)
    tot = [sum(s[j] for s in per_batch) for j in range(4)]
    nfb, ngb = nf // batches, ng // batches

    def stat(f, a, c, p, nfs, ngs):
        return trace_vg(k, d, v, f / nfs, a / ngs, c / ngs, p / ngs)

    est = stat(*tot, nfb * batches, ngb * batches)
    loo = np.array([stat(*[tot[j] - s[j] for j in range(4)], nfb * (batches - 1), ngb * (batches - 1)) for s in per_batch])
    se = float(np.sqrt((batches - 1) / batches * ((loo - loo.mean()) ** 2).sum()))
    print(json.dumps({"K": k, "d": d, "beta": beta, "fisherDraws": nfb * batches, "gramDraws": ngb * batches,
                      "pretrainMean": est, "pretrainMeanStdErr": se, "relativeStdErr": se / est,
                      "seconds": time.perf_counter() - t0}))


if __name__ == "__main__":
    main()
