"""The exact N -> infinity limit of mean-field gradient descent (the mean-field PDE).

Given the residuals r_t, the particles of :class:`~landscapes.meanfield.net.MeanFieldNet`
move independently along the characteristic flow d theta/dt = -grad Psi(theta; mu_t),
Psi(theta; mu) = (1/n) sum_m (g_mu(x_m) - y_m) c s(w.x_m), so mu_t is the push-forward of the
initial law mu_0 and every observable <f, mu_t> is an integral over mu_0. For inputs of
dimension d <= 2 that integral is computed to high accuracy by a tensor quadrature rule
(:func:`meanfield_limit`), with weighted particles moved by the same Euler scheme as the
particle system, so that a comparison isolates the N-dependence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from landscapes._validation import check_int, check_positive
from landscapes.meanfield.data import as_data
from landscapes.meanfield.net import (
    INITS,
    DivergenceError,
    activate,
    check_activation,
    check_inputs,
    particle_field,
)

__all__ = ["MeanFieldLimit", "meanfield_limit", "record_steps"]


def record_steps(steps: int, n_records: int) -> np.ndarray:
    """The step numbers (sorted, unique) of ``n_records`` records spread evenly over 0..steps."""
    n_records = check_int(n_records, "n_records", minimum=2)
    return np.unique(np.rint(np.linspace(0, steps, n_records)).astype(int))


@dataclass(frozen=True, eq=False)
class MeanFieldLimit:
    """The N -> infinity limit of mean-field GD, solved by quadrature of the initial law.

    Attributes
    ----------
    times : ndarray (R,)
    loss, mean_c2, mean_w2 : ndarray (R,)
        Limit observables (<|c|> is omitted: not smooth, so quadrature would be inexact).
    outputs : ndarray (R, m)
        Limit outputs on the test inputs.
    nodes : int
        Gauss–Hermite nodes per dimension; ``quadrature_error`` is the largest change of any
        observable when the rule is refined by ``refine`` nodes per dimension.
    """

    times: np.ndarray
    loss: np.ndarray
    outputs: np.ndarray
    mean_c2: np.ndarray
    mean_w2: np.ndarray
    nodes: int
    quadrature_error: float


def _limit_once(X, y, act, c_scale, w_scale, init, eps, steps, rec, Xt, q):
    d = X.shape[1]
    if init == "gaussian":
        z, wq = np.polynomial.hermite_e.hermegauss(q)
        wq = wq / math.sqrt(2 * math.pi)
    else:
        z, wq = np.polynomial.legendre.leggauss(q)
        z, wq = z * math.sqrt(3.0), wq / 2.0
    grids = np.meshgrid(*([z] * (d + 1)), indexing="ij")
    wts = np.ones_like(grids[0])
    for ax in range(d + 1):
        shape = [1] * (d + 1)
        shape[ax] = q
        wts = wts * wq.reshape(shape)
    c = (c_scale * grids[0].ravel())[None, :]
    W = np.stack([g.ravel() for g in grids[1:]], axis=1)[None] * (w_scale / math.sqrt(d))
    wts = wts.ravel()
    R = rec.size
    res = {k: np.empty(R) for k in ("loss", "mean_c2", "mean_w2")}
    outs = np.empty((R, Xt.shape[0]))
    j = 0
    for k in range(steps + 1):
        r, vc, vw, _ = particle_field(c, W, X, y, act, wts)
        if k == rec[j]:
            res["loss"][j] = 0.5 * np.mean(r * r)
            res["mean_c2"][j] = np.sum(wts * c[0] ** 2)
            res["mean_w2"][j] = np.sum(wts * np.sum(W[0] ** 2, axis=1))
            if Xt.shape[0]:
                S = activate(act, W[0] @ Xt.T, 0)[0]
                outs[j] = (wts * c[0]) @ S
            j += 1
        if k == steps:
            break
        c = c - eps * vc
        W = W - eps * vw
    return res, outs


def meanfield_limit(
    data,
    *,
    eps: float,
    T: float,
    activation: str = "tanh",
    c_scale: float = 1.0,
    w_scale: float = 1.0,
    init: str = "uniform",
    test_X=None,
    n_records: int = 11,
    nodes: int = 24,
    refine: int = 6,
) -> MeanFieldLimit:
    """The mean-field PDE's solution for GD with step eps, for inputs of dimension d <= 2.

    Given the residuals r_t, particles move independently along
    d theta/dt = -grad_theta (1/n) sum_m r_t(x_m) c s(w.x_m), so mu_t is the push-forward
    of mu_0 (the law of :meth:`MeanFieldNet.random_point` with the same ``init``) by this
    flow, and every observable <f, mu_t> is an integral over mu_0. It is computed by a tensor
    Gauss–Legendre rule (``init="uniform"``: geometric convergence) or Gauss–Hermite rule
    (``init="gaussian"``: slower, the integrands' poles limit it) with
    ``nodes`` points per dimension (weighted particles at the nodes, moved by the same
    Euler scheme with step eps as the particle system, so the time discretisation is common
    to both and the comparison isolates the N-dependence). The rule is checked against one
    with ``nodes + refine`` points: ``quadrature_error``.
    """
    X, y = as_data(data)
    d = X.shape[1]
    if d > 2:
        raise ValueError(
            f"meanfield_limit solves the PDE by quadrature over (c, w) in R^(1+d) and needs "
            f"input dimension d <= 2; got d={d}"
        )
    act = check_activation(activation)
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}; got {init!r}")
    eps = check_positive(eps, "eps")
    T = check_positive(T, "T", allow_zero=True)
    nodes = check_int(nodes, "nodes", minimum=4)
    steps = int(round(T / eps))
    rec = record_steps(steps, n_records)
    Xt = np.zeros((0, d)) if test_X is None else check_inputs(test_X, d)
    args = (X, y, act, c_scale, w_scale, init, eps, steps, rec, Xt)
    res, outs = _limit_once(*args, nodes)
    res2, outs2 = _limit_once(*args, nodes + check_int(refine, "refine", minimum=1))
    err = max(float(np.max(np.abs(res[k] - res2[k]))) for k in res)
    if outs.size:
        err = max(err, float(np.max(np.abs(outs - outs2))))
    if not np.isfinite(err):
        raise DivergenceError(f"the limit dynamics diverged; the step eps={eps:g} is too large")
    return MeanFieldLimit(
        rec * eps, res2["loss"], outs2, res2["mean_c2"], res2["mean_w2"], nodes + refine, err
    )
