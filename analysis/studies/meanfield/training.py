"""Mean-field gradient descent and online SGD: particle dynamics in the mean-field time scale.

Since g_N is an average, dL/dtheta_i = O(1/N); the mean-field dynamics moves every particle
by O(1) per unit time:

* **Full-batch GD** (:func:`gd`): theta_i <- theta_i - eps * N * dL/dtheta_i (step eps*N per
  particle), at time t = k * eps. This is the Euler scheme, with step eps, of the particle ODE
  d theta_i/dt = -grad Psi(theta_i; mu_t), whose N -> infinity limit is the mean-field PDE
  solved by :func:`landscapes.meanfield.meanfield_limit`.
* **Online SGD** (:func:`online_sgd`): one sample (x_k, y_k) drawn uniformly from the data
  per step, theta_i <- theta_i - (alpha/N) * N * d l_k/dtheta_i with l_k = (g_N(x_k) - y_k)^2 / 2
  (Sirignano–Spiliopoulos), at time t = k/N. Its limit is the same PDE run at speed alpha; at
  finite N it carries an extra O(1/sqrt(N)) martingale fluctuation.

In both, the training time does not depend on N. Why not :func:`analysis.dynamics.gradient_descent`
and :func:`analysis.dynamics.sgd`: these record network outputs on test inputs and particle
moments along the way, stop with a :class:`~landscapes.meanfield.DivergenceError` naming the
step when the loss explodes, step in the mean-field time unit (the particle velocity
``eps * N * norm * grad Psi`` rounded as the exact limit rounds it), and online SGD draws one
sample with replacement per step (not a shuffled epoch). Full-batch GD agrees with
``gradient_descent(net, theta0, step=eps * N, gtol=0)`` to rounding (a test checks it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from landscapes._validation import check_positive
from landscapes.meanfield import (
    DivergenceError,
    MeanFieldNet,
    activate,
    check_inputs,
    particle_field,
    preactivations,
    record_steps,
    replica_blocks,
)
from landscapes.random import SeedLike, as_generator

__all__ = ["Trajectory", "gd", "online_sgd"]


@dataclass(frozen=True, eq=False)
class Trajectory:
    """Observables of a batch of training runs at recorded times.

    Attributes
    ----------
    times : ndarray (R,)
        Training times (mean-field time: k*eps for GD, k/N for online SGD).
    loss : ndarray (R, K)
        Full-batch loss L (half MSE) of each replica.
    outputs : ndarray (R, K, m)
        Network outputs on the test inputs (m = 0 when none were given).
    mean_abs_c, mean_c2, mean_w2 : ndarray (R, K)
        Particle averages <|c|>, <c^2> and <|w|^2>.
    theta : ndarray (K, dim)
        Final parameters.
    method : str
        "gd" or "online_sgd"; ``step`` is eps or alpha and ``steps`` the number of updates.
    """

    times: np.ndarray
    loss: np.ndarray
    outputs: np.ndarray
    mean_abs_c: np.ndarray
    mean_c2: np.ndarray
    mean_w2: np.ndarray
    theta: np.ndarray
    method: str
    step: float
    steps: int


def _diverged(method: str, step_name: str, step: float, t: float, loss: np.ndarray, limit):
    bad = np.nonzero(~np.isfinite(loss) | (loss > limit))[0]
    return DivergenceError(
        f"{method} diverged at time t={t:.4g}: loss {float(loss[bad[0]]):.3g} (replicas "
        f"{bad[:10].tolist()}) exceeds {limit:.3g}; the step {step_name}={step:g} is too large "
        f"for this data, try {step_name}={step / 4:g}"
    )


def gd(
    net: MeanFieldNet,
    theta0,
    *,
    eps: float,
    T: float,
    n_records: int = 11,
    test_X=None,
) -> Trajectory:
    """Full-batch gradient descent in the mean-field time scale, on a batch of replicas.

    theta_i <- theta_i - eps * N * dL/dtheta_i for ``round(T/eps)`` steps (time t = k eps).
    Replicas are independent; they run together in blocks of array operations.

    Raises
    ------
    DivergenceError
        (a ValueError) when a loss becomes non-finite or exceeds 1e4 times its scale.
    """
    eps = check_positive(eps, "eps")
    T = check_positive(T, "T", allow_zero=True)
    steps = int(round(T / eps))
    rec = record_steps(steps, n_records)
    Th, _ = net.as_batch(theta0, "theta0")
    Th = np.array(Th, copy=True)
    K = Th.shape[0]
    Xt = np.zeros((0, net.d)) if test_X is None else check_inputs(test_X, net.d)
    R = rec.size
    out = _empty_records(R, K, Xt.shape[0])
    w = np.full(net.N, net.norm)
    limit = 1e4 * (1.0 + float(np.mean(net.y**2)))
    for sl in replica_blocks(K, net.N, net.n_samples):
        P = Th[sl].reshape(-1, net.N, net.d + 1)
        j = 0
        for k in range(steps + 1):
            r, vc, vw, _ = particle_field(P[:, :, 0], P[:, :, 1:], net.X, net.y, net.activation, w)
            loss = 0.5 * np.mean(r * r, axis=1)
            if not np.all(np.isfinite(loss) & (loss <= limit)):
                raise _diverged("gradient descent", "eps", eps, k * eps, loss, limit)
            if k == rec[j]:
                _record(out, j, sl, P, loss, net, Xt)
                j += 1
            if k == steps:
                break
            step = eps * net.speed * net.norm
            P[:, :, 0] -= step * vc
            P[:, :, 1:] -= step * vw
        Th[sl] = P.reshape(-1, net.dim)
    return Trajectory(rec * eps, *out, Th, "gd", eps, steps)


def online_sgd(
    net: MeanFieldNet,
    theta0,
    *,
    alpha: float,
    T: float,
    seed: SeedLike = None,
    n_records: int = 11,
    test_X=None,
) -> Trajectory:
    """Online SGD in the mean-field time scale: one sample per step, step alpha/N, time k/N.

    theta_i <- theta_i - (alpha/N) * N * d l_k/dtheta_i with l_k = (g_N(x_k) - y_k)^2 / 2 and
    (x_k, y_k) drawn uniformly from the data, for ``round(T N)`` steps. ``seed`` is one seed
    for all replicas, or a list of K seeds (one stream per replica: replica k of a batch then
    equals a single run given its stream).
    """
    alpha = check_positive(alpha, "alpha")
    T = check_positive(T, "T", allow_zero=True)
    Th, _ = net.as_batch(theta0, "theta0")
    Th = np.array(Th, copy=True)
    K = Th.shape[0]
    steps = int(round(T * net.N))
    rec = record_steps(steps, n_records)
    if isinstance(seed, list | tuple):
        if len(seed) != K:
            raise ValueError(f"seed must be one seed or a list of K={K} seeds; got {len(seed)}")
        idx = np.stack([as_generator(s).integers(net.n_samples, size=steps) for s in seed])
    else:
        idx = as_generator(seed).integers(net.n_samples, size=(K, steps))
    Xt = np.zeros((0, net.d)) if test_X is None else check_inputs(test_X, net.d)
    out = _empty_records(rec.size, K, Xt.shape[0])
    P = Th.reshape(K, net.N, net.d + 1)
    c, W = np.ascontiguousarray(P[:, :, 0]), np.ascontiguousarray(P[:, :, 1:])
    a = net.norm
    lr = alpha / net.N * net.speed * a
    limit = 1e4 * (1.0 + float(np.mean(net.y**2)))
    j = 0
    allk = slice(0, K)
    for k in range(steps + 1):
        if k == rec[j]:
            r = particle_field(
                c, W, net.X, net.y, net.activation, order=0, weights=np.full(net.N, a)
            )[0]
            loss = 0.5 * np.mean(r * r, axis=1)
            if not np.all(np.isfinite(loss) & (loss <= limit)):
                raise _diverged("online SGD", "alpha", alpha, k / net.N, loss, limit)
            P[:, :, 0], P[:, :, 1:] = c, W
            _record(out, j, allk, P, loss, net, Xt)
            j += 1
        if k == steps:
            break
        xs = net.X[idx[:, k]]  # (K, d)
        z = np.einsum("kid,kd->ki", W, xs)
        s, s1, _ = activate(net.activation, z, 1)
        res = a * np.sum(c * s, axis=1) - net.y[idx[:, k]]  # (K,)
        gc = res[:, None] * s
        gw = (res[:, None] * c * s1)[:, :, None] * xs[:, None, :]
        c -= lr * gc
        W -= lr * gw
    P[:, :, 0], P[:, :, 1:] = c, W
    return Trajectory(rec / net.N, *out, Th, "online_sgd", alpha, steps)


def _empty_records(R, K, m):
    return [np.empty((R, K, m)) if i == 1 else np.empty((R, K)) for i in range(5)]


def _record(out, j, sl, P, loss, net, Xt):
    loss_a, outs, mac, mc2, mw2 = out
    loss_a[j, sl] = loss
    c, W = P[:, :, 0], P[:, :, 1:]
    if Xt.shape[0]:
        S = activate(net.activation, preactivations(W, Xt), 0)[0]
        outs[j, sl] = net.norm * (c[:, None, :] @ S)[:, 0, :]
    mac[j, sl] = np.mean(np.abs(c), axis=1)
    mc2[j, sl] = np.mean(c * c, axis=1)
    mw2[j, sl] = np.mean(np.sum(W * W, axis=2), axis=1)
