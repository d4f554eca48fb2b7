"""Units of the mean-field scaling experiments: configuration, streams, one width, combine.

Each experiment of :mod:`analysis.studies.meanfield.experiments` is a thin loop over these
public units, so that a sweep can run one width per task anywhere and still get the
experiment's result bit for bit: :func:`scaling_config` (the validated configuration),
:func:`scaling_streams` (the seed streams: one per width, the bootstrap's...),
:func:`scaling_test_inputs` and :func:`limit_solution`, :func:`scaling_width` (all seeds of
one width, batched) and :func:`lln_combine`, :func:`clt_combine`, :func:`limit_combine`
(bootstrap and fits -> :class:`ScalingResult`).
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from analysis.studies.meanfield.fits import bootstrap_slope
from analysis.studies.meanfield.training import Trajectory, gd, online_sgd
from landscapes._validation import check_int
from landscapes.meanfield import (
    MeanFieldLimit,
    MeanFieldNet,
    as_data,
    check_activation,
    meanfield_limit,
)
from landscapes.random import SeedLike, as_generator, as_seed_sequence, child, seed_info

__all__ = [
    "ScalingResult",
    "CLTResult",
    "SCALING_KINDS",
    "scaling_config",
    "scaling_streams",
    "scaling_test_inputs",
    "scaling_init",
    "scaling_width",
    "scaling_net_width",
    "scaling_width_params",
    "limit_solution",
    "lln_combine",
    "clt_combine",
    "limit_combine",
]


@dataclass(frozen=True, eq=False)
class ScalingResult:
    """A measured scaling law: tidy tables, a fitted log-log slope and its bootstrap error.

    Attributes
    ----------
    kind : str
        "lln", "clt" or "limit".
    table : pandas.DataFrame
        One row per (width, seed, observable, component): the measured value and, where
        defined, the limit it is compared with.
    summary : pandas.DataFrame
        One row per (observable, width): the statistic whose scaling is fitted (``stat``)
        with its bootstrap standard error (``stat_se``).
    slope, slope_se : float
        Fitted slope of log(stat) against log(N) for the headline observable, and its
        bootstrap standard error (seeds resampled within each width).
    theory_slope : float
        What the theory predicts (-1/2 for rms distances, -1 for variances).
    slopes : dict
        ``{observable: (slope, slope_se)}`` for every observable.
    config : dict
        Everything needed to rerun (seed record included).
    extra : dict
        Experiment-specific results (normality test, limit solution, bias slope...).
    """

    kind: str
    table: Any
    summary: Any
    slope: float
    slope_se: float
    theory_slope: float
    slopes: dict
    config: dict
    extra: dict = field(default_factory=dict)

    @property
    def z_score(self) -> float:
        """(slope - theory) / slope_se."""
        return (self.slope - self.theory_slope) / self.slope_se


CLTResult = ScalingResult


# ---------------------------------------------------------------------------- units
# Each experiment is split into units that can run anywhere (one task per width) and are
# assembled by thin loops (analysis.studies.meanfield.experiments):
#   scaling_config   -> the validated, JSON-able configuration (ScalingResult.config)
#   scaling_streams  -> the seed streams: one per width, the bootstrap's, the reference's...
#   scaling_test_inputs, limit_solution -> the fixed test inputs and the exact limit
#   scaling_width    -> all seeds of one width, batched: per-seed observables
#   lln_combine / clt_combine / limit_combine -> bootstrap + fits -> ScalingResult

SCALING_KINDS = ("lln", "clt", "limit")

# the parameters each experiment records in its configuration, in order (ref_width follows
# ref_seeds for lln); n_samples and d close every configuration
_CONFIG_PARAMS = {
    "lln": ("activation", "eps", "T", "n_test", "ref_factor", "ref_seeds", "n_records", "n_boot"),
    "clt": ("dynamics", "activation", "eps", "alpha", "T", "n_test", "n_boot"),
    "limit": ("activation", "eps", "T", "n_records", "nodes", "n_boot"),
}
_DYNAMICS = ("gd", "online_sgd")
_CLT_RECORDS = 3  # the CLT needs only the final outputs and losses
_INIT, _SAMPLES = 0, 1  # children of a seed's stream: initial particles, online-SGD samples


def _check_kind(kind) -> str:
    if kind not in SCALING_KINDS:
        raise ValueError(f"unknown scaling experiment {kind!r}; choose one of {SCALING_KINDS}")
    return kind


def _check_widths(widths) -> list[int]:
    ws = [check_int(w, "width N", minimum=1) for w in np.atleast_1d(widths).tolist()]
    if len(ws) < 2 or len(set(ws)) != len(ws):
        raise ValueError(f"widths must hold at least two distinct widths; got {ws}")
    return sorted(ws)


def check_dynamics(dynamics) -> str:
    if dynamics not in _DYNAMICS:
        raise ValueError(f"dynamics must be 'gd' or 'online_sgd'; got {dynamics!r}")
    return dynamics


def scaling_config(
    kind: str, widths, seeds: int, seed: SeedLike, *, n_samples: int, d: int, **params
) -> dict:
    """The validated configuration of one scaling experiment (``ScalingResult.config``).

    Parameters
    ----------
    kind : {"lln", "clt", "limit"}
        Which experiment (:func:`lln_experiment`, :func:`clt_experiment`,
        :func:`limit_experiment`).
    widths : sequence of int
        At least two distinct widths; recorded sorted.
    seeds : int
        Seeds per width, >= 3.
    seed : int, SeedSequence or Generator
        The experiment's root seed (recorded with :func:`~landscapes.random.seed_info`; pass
        the SeedSequence itself, not None, when the streams are also drawn from it).
    n_samples, d : int
        Shape of the training data (limit: d <= 2).
    **params
        Keyword parameters of the experiment (``activation``, ``eps``, ``T``, ``n_test``,
        ``ref_factor``, ``ref_seeds``, ``n_records``, ``nodes``, ``dynamics``, ``alpha``,
        ``n_boot``: those the experiment takes); those not given take the experiment's
        defaults. ``data`` and ``progress`` are not parameters of the configuration.

    Returns
    -------
    dict
        JSON-able: widths, seeds, seed record, the parameters (lln adds ``ref_width`` =
        ``ref_factor * max(widths)``), n_samples and d, in the order the experiment records.
    """
    kind = _check_kind(kind)
    names = _CONFIG_PARAMS[kind]
    unknown = sorted(set(params) - set(names))
    if unknown:
        raise ValueError(f"unknown {kind} parameter(s): {unknown}; expected some of {list(names)}")
    from analysis.studies.meanfield.experiments import EXPERIMENTS

    defaults = inspect.signature(EXPERIMENTS[kind]).parameters
    p = {k: params[k] if k in params else defaults[k].default for k in names}
    ws = _check_widths(widths)
    S = check_int(seeds, "seeds (how many)", minimum=3)
    root = as_seed_sequence(seed)
    n_samples = check_int(n_samples, "n_samples", minimum=1)
    d = check_int(d, "d (input dimension)", minimum=1)
    if kind == "limit" and d > 2:
        raise ValueError(f"limit_experiment needs inputs of dimension <= 2; got d={d}")
    p["activation"] = check_activation(p["activation"])
    if "dynamics" in p:
        p["dynamics"] = check_dynamics(p["dynamics"])
    if "n_test" in p:
        p["n_test"] = check_int(p["n_test"], "n_test", minimum=1)
    if kind == "lln":
        p["ref_factor"] = check_int(p["ref_factor"], "ref_factor", minimum=2)
        p["ref_seeds"] = check_int(p["ref_seeds"], "ref_seeds", minimum=2)
    p["n_boot"] = check_int(p["n_boot"], "n_boot (bootstrap resamples)", minimum=2)
    config: dict[str, Any] = dict(widths=ws, seeds=S, seed=seed_info(root))
    for k in names:
        config[k] = p[k]
        if k == "ref_seeds":
            config["ref_width"] = p["ref_factor"] * ws[-1]
    config.update(n_samples=n_samples, d=d)
    return config


def scaling_streams(kind: str, n_widths: int, seed: SeedLike) -> dict[str, Any]:
    """The seed streams of a scaling experiment, spawned from its root seed.

    Returns ``{"widths": [SeedSequence] * n_widths, "bootstrap": SeedSequence}`` plus, for
    lln, ``"reference"`` (the wide reference nets) and, for lln and clt, ``"test"`` (the
    Gaussian test inputs). Width j's seed s starts from child s of ``widths[j]`` (see
    :func:`scaling_width`), so each width can run as an independent task.
    """
    kind = _check_kind(kind)
    n = check_int(n_widths, "n_widths", minimum=1)
    named = {"lln": ("bootstrap", "reference", "test"), "clt": ("bootstrap", "test")}
    names = named.get(kind, ("bootstrap",))
    root = as_seed_sequence(seed)
    kids = [child(root, i) for i in range(n + len(names))]
    return {"widths": kids[:n], **dict(zip(names, kids[n:], strict=True))}


def scaling_test_inputs(kind: str, d: int, *, n_test: int = 8, seed: SeedLike = None) -> np.ndarray:
    """The fixed test inputs (n_test, d) at which an experiment records the outputs.

    lln and clt: ``n_test`` standard Gaussian inputs drawn from ``seed`` (the ``"test"``
    stream of :func:`scaling_streams`). limit: the four points u = -1.5, -0.5, 0.5, 1.5 of
    the line teacher (with the bias input 1 when d = 2); ``n_test`` and ``seed`` are unused.
    """
    kind = _check_kind(kind)
    d = check_int(d, "d (input dimension)", minimum=1)
    if kind == "limit":
        u = np.array([-1.5, -0.5, 0.5, 1.5])
        return np.column_stack([u, np.ones(4)]) if d == 2 else u[:, None]
    return as_generator(seed).standard_normal((check_int(n_test, "n_test", minimum=1), d))


def limit_solution(
    data,
    *,
    activation: str = "tanh",
    eps: float = 0.05,
    T: float = 2.0,
    n_records: int = 11,
    nodes: int = 20,
) -> MeanFieldLimit:
    """The exact limit that :func:`limit_experiment` compares the particles with.

    :func:`meanfield_limit` from the uniform initial law, at the test inputs
    ``scaling_test_inputs("limit", d)``, checked against ``nodes + 4`` nodes.
    """
    X, y = as_data(data)
    return meanfield_limit(
        (X, y),
        eps=eps,
        T=T,
        activation=activation,
        init="uniform",
        test_X=scaling_test_inputs("limit", X.shape[1]),
        n_records=n_records,
        nodes=nodes,
        refine=4,
    )


def _init_batch(net: MeanFieldNet, seqs) -> np.ndarray:
    return np.stack([net.random_point(np.random.Generator(np.random.PCG64(s))) for s in seqs])


def _run_width(net, seqs, dynamics, eps, alpha, T, n_records, Xt):
    """All seeds of one width in one batched call: initial particles from the seeds' streams."""
    theta0 = _init_batch(net, [child(s, _INIT) for s in seqs])
    if dynamics == "gd":
        return gd(net, theta0, eps=eps, T=T, n_records=n_records, test_X=Xt)
    sgd_seqs = [child(s, _SAMPLES) for s in seqs]
    return online_sgd(
        net, theta0, alpha=alpha, T=T, seed=list(sgd_seqs), n_records=n_records, test_X=Xt
    )


def _observables(tr: Trajectory, smooth_c: bool = False) -> dict[str, np.ndarray]:
    """Per-seed observable vectors (K, components) at the final time and along the loss curve."""
    return {
        "output": tr.outputs[-1],
        "mean_c2" if smooth_c else "mean_abs_c": (tr.mean_c2 if smooth_c else tr.mean_abs_c)[-1][
            :, None
        ],
        "mean_w2": tr.mean_w2[-1][:, None],
        "loss_curve": tr.loss.T,
    }


def scaling_width(
    kind: str,
    data,
    N: int,
    seeds: int,
    seed: SeedLike,
    test_X,
    *,
    dynamics: str = "gd",
    activation: str = "tanh",
    eps: float = 0.1,
    alpha: float = 1.0,
    T: float = 2.0,
    n_records: int = 11,
) -> dict[str, np.ndarray]:
    """One width of a scaling experiment: ``seeds`` networks of width N trained as one batch.

    Seed s starts from child s of ``seed`` (its first child draws the initial particles, its
    second the online-SGD samples). lln (also its wide reference) and clt start from the
    Gaussian law, limit from the uniform law (``MeanFieldNet(init="uniform")``). Training:
    ``dynamics`` "gd" (step eps) or "online_sgd" (step alpha/N) to time T, ``n_records``
    records (the clt experiment uses 3).

    Returns
    -------
    dict of arrays, one row per seed
        lln and limit: ``output`` (seeds, n_test) at ``test_X`` at time T, ``mean_abs_c``
        (lln) or ``mean_c2`` (limit) and ``mean_w2`` (seeds, 1), ``loss_curve`` (seeds,
        n_records). clt: ``output`` (seeds, n_test) and ``final_loss`` (seeds,).
    """
    kind = _check_kind(kind)
    net = MeanFieldNet(data, N, activation, init=scaling_init(kind))
    return scaling_net_width(
        kind,
        net,
        seeds,
        seed,
        test_X,
        dynamics=dynamics,
        eps=eps,
        alpha=alpha,
        T=T,
        n_records=n_records,
    )


def scaling_init(kind: str) -> str:
    """The initial law of an experiment's nets: "uniform" for limit, else "gaussian"."""
    return "uniform" if _check_kind(kind) == "limit" else "gaussian"


def scaling_net_width(
    kind: str,
    net: MeanFieldNet,
    seeds: int,
    seed: SeedLike,
    test_X,
    *,
    dynamics: str = "gd",
    eps: float = 0.1,
    alpha: float = 1.0,
    T: float = 2.0,
    n_records: int = 11,
) -> dict[str, np.ndarray]:
    """:func:`scaling_width` on a given net (built from a spec on a sweep worker).

    ``net`` must be the :class:`~landscapes.meanfield.MeanFieldNet` that
    :func:`scaling_width` would build (its width, activation and ``init=scaling_init(kind)``).
    """
    kind = _check_kind(kind)
    if net.init != scaling_init(kind):
        raise ValueError(
            f"the {kind} experiment's nets start from init={scaling_init(kind)!r}; got {net.init!r}"
        )
    S = check_int(seeds, "seeds (how many)", minimum=1)
    root = as_seed_sequence(seed)
    tr = _run_width(
        net,
        [child(root, s) for s in range(S)],
        check_dynamics(dynamics),
        eps,
        alpha,
        T,
        n_records,
        test_X,
    )
    if kind == "clt":
        return {"output": tr.outputs[-1], "final_loss": tr.loss[-1]}
    return _observables(tr, smooth_c=kind == "limit")


def scaling_width_params(config: dict) -> dict:
    """Keyword arguments of :func:`scaling_width` implied by an experiment's configuration.

    ``dynamics``, ``activation``, ``eps``, ``alpha``, ``T`` and ``n_records`` of a
    :func:`scaling_config` (or of any dict holding them): "gd", alpha 1 and 3 records where
    the experiment has none.
    """
    return dict(
        dynamics=config.get("dynamics", "gd"),
        activation=config["activation"],
        eps=config["eps"],
        alpha=config.get("alpha", 1.0),
        T=config["T"],
        n_records=config.get("n_records", _CLT_RECORDS),
    )


def _check_observables(config: dict, observables, names) -> list[dict]:
    obs = list(observables)
    if len(obs) != len(config["widths"]):
        raise ValueError(
            f"expected one observables dict per width ({len(config['widths'])}); got {len(obs)}"
        )
    for N, o in zip(config["widths"], obs, strict=True):
        missing = [k for k in names if k not in o]
        if missing:
            raise ValueError(f"observables of width {N} lack {missing}")
        if len(o[names[0]]) != config["seeds"]:
            raise ValueError(
                f"observables of width {N} hold {len(o[names[0]])} seeds; the configuration "
                f"says {config['seeds']}"
            )
    return obs


def _tidy_rows(name, N, v, centre) -> list[tuple]:
    return [
        (name, N, s, comp, v[s, comp], centre[comp])
        for s in range(v.shape[0])
        for comp in range(v.shape[1])
    ]


def _summary_rows(name, ws, stat, boot) -> list[tuple]:
    return [
        (name, N, stat[j], float(np.std(boot[:, j], ddof=1)), stat[j] * math.sqrt(N))
        for j, N in enumerate(ws)
    ]


def _distance_frames(rows, summ):
    import pandas as pd

    table = pd.DataFrame(
        rows, columns=["observable", "width", "seed", "component", "value", "limit"]
    )
    summary = pd.DataFrame(summ, columns=["observable", "width", "stat", "stat_se", "scaled"])
    return table, summary


def _headline(kind, table, summary, slopes, config, extra) -> ScalingResult:
    sl, se = slopes["output"]
    return ScalingResult(kind, table, summary, sl, se, -0.5, slopes, config, extra)


def lln_combine(
    config: dict, observables, reference: dict, *, bootstrap_seed: SeedLike, test_X
) -> ScalingResult:
    """The :class:`ScalingResult` of :func:`lln_experiment` from its per-width results.

    Parameters
    ----------
    config : dict
        ``scaling_config("lln", ...)``.
    observables : sequence of dict
        :func:`scaling_width` ``("lln", ...)`` of each width, in ``config["widths"]`` order.
    reference : dict
        :func:`scaling_width` of the reference (``config["ref_seeds"]`` nets of width
        ``config["ref_width"]``).
    bootstrap_seed : SeedSequence
        The ``"bootstrap"`` stream of :func:`scaling_streams`.
    test_X : array (n_test, d)
        The test inputs (recorded in ``extra``).
    """
    ws, S, R, n_boot = config["widths"], config["seeds"], config["ref_seeds"], config["n_boot"]
    obs = _check_observables(config, observables, list(reference))
    boot_rng = as_generator(bootstrap_seed)
    rows, summ, slopes = [], [], {}
    bidx = boot_rng.integers(S, size=(n_boot, S))
    ridx = boot_rng.integers(R, size=(n_boot, R))
    for name, refv in reference.items():
        rmean = refv.mean(axis=0)
        rvar = float(np.mean(refv.var(axis=0, ddof=1))) / R
        stat = np.empty(len(ws))
        boot = np.empty((n_boot, len(ws)))
        rb = refv[ridx]  # (B, R, comp)
        rbm = rb.mean(axis=1)
        rbv = np.mean(rb.var(axis=1, ddof=1), axis=1) / R
        for j, N in enumerate(ws):
            v = obs[j][name]
            msd = float(np.mean((v - rmean) ** 2)) - rvar
            stat[j] = math.sqrt(max(msd, 0.0))  # 0: not resolved (bootstrap_slope drops it)
            mb = np.mean((v[bidx] - rbm[:, None, :]) ** 2, axis=(1, 2)) - rbv
            boot[:, j] = np.sqrt(np.maximum(mb, 0.0))
            rows += _tidy_rows(name, N, v, rmean)
        slopes[name] = bootstrap_slope(ws, stat, boot)
        summ += _summary_rows(name, ws, stat, boot)
    table, summary = _distance_frames(rows, summ)
    extra = {"statistic": "rms distance to the limit", "test_X": test_X}
    return _headline("lln", table, summary, slopes, config, extra)


def clt_combine(config: dict, observables, *, bootstrap_seed: SeedLike, test_X) -> ScalingResult:
    """The :class:`ScalingResult` of :func:`clt_experiment` from its per-width results.

    ``config``: ``scaling_config("clt", ...)``; ``observables``: :func:`scaling_width`
    ``("clt", ...)`` of each width in order; ``bootstrap_seed``: the ``"bootstrap"`` stream
    of :func:`scaling_streams`; ``test_X``: the test inputs (recorded in ``extra``).
    """
    from scipy import stats

    ws, S, n_boot, n_test = config["widths"], config["seeds"], config["n_boot"], config["n_test"]
    obs = _check_observables(config, observables, ["output", "final_loss"])
    outs = {N: o["output"] for N, o in zip(ws, obs, strict=True)}
    losses = {N: o["final_loss"] for N, o in zip(ws, obs, strict=True)}
    bidx = as_generator(bootstrap_seed).integers(S, size=(n_boot, S))
    stat = np.array([float(np.mean(outs[N].var(axis=0, ddof=1))) for N in ws])
    boot = np.stack([np.mean(outs[N][bidx].var(axis=1, ddof=1), axis=1) for N in ws], axis=1)
    sl, se = bootstrap_slope(ws, stat, boot)
    top = outs[ws[-1]]
    fluct = math.sqrt(ws[-1]) * (top - top.mean(axis=0))
    pvals = np.array([float(stats.shapiro(fluct[:, i]).pvalue) for i in range(n_test)])
    import pandas as pd

    rows = [
        (N, s, i, outs[N][s, i], losses[N][s]) for N in ws for s in range(S) for i in range(n_test)
    ]
    table = pd.DataFrame(rows, columns=["width", "seed", "point", "output", "final_loss"])
    summary = pd.DataFrame(
        {
            "observable": "output",
            "width": ws,
            "stat": stat,
            "stat_se": boot.std(axis=0, ddof=1),
            "scaled": stat * np.asarray(ws),
            "mean_final_loss": [float(losses[N].mean()) for N in ws],
        }
    )
    extra = {
        "statistic": "variance over seeds",
        "normality_pvalues": pvals,
        "normality_pvalue": float(min(1.0, pvals.min() * n_test)),
        "fluctuations": fluct,
        "test_X": test_X,
    }
    return ScalingResult("clt", table, summary, sl, se, -1.0, {"output": (sl, se)}, config, extra)


def limit_combine(
    config: dict, observables, limit: MeanFieldLimit, *, bootstrap_seed: SeedLike
) -> ScalingResult:
    """The :class:`ScalingResult` of :func:`limit_experiment` from its per-width results.

    ``config``: ``scaling_config("limit", ...)``; ``observables``: :func:`scaling_width`
    ``("limit", ...)`` of each width in order; ``limit``: :func:`limit_solution`;
    ``bootstrap_seed``: the ``"bootstrap"`` stream of :func:`scaling_streams`.
    """
    ws, S, n_boot = config["widths"], config["seeds"], config["n_boot"]
    limv = {
        "output": limit.outputs[-1],
        "mean_c2": limit.mean_c2[-1:],
        "mean_w2": limit.mean_w2[-1:],
        "loss_curve": limit.loss,
    }
    obs = _check_observables(config, observables, list(limv))
    bidx = as_generator(bootstrap_seed).integers(S, size=(n_boot, S))
    rows, summ, slopes = [], [], {}
    for name, lv in limv.items():
        stat = np.empty(len(ws))
        boot = np.empty((n_boot, len(ws)))
        for j, N in enumerate(ws):
            v = obs[j][name]
            stat[j] = math.sqrt(float(np.mean((v - lv) ** 2)))
            boot[:, j] = np.sqrt(np.mean((v[bidx] - lv) ** 2, axis=(1, 2)))
            rows += _tidy_rows(name, N, v, lv)
        summ += _summary_rows(name, ws, stat, boot)
        slopes[name] = bootstrap_slope(ws, stat, boot)
    # bias of the seed mean: |mean_s o_N - o_lim|^2 - Var/S, expected b^2/N^2
    bias2 = np.empty(len(ws))
    bias_boot = np.empty((n_boot, len(ws)))
    for j in range(len(ws)):
        v = obs[j]["output"]
        bias2[j] = np.mean((v.mean(0) - limv["output"]) ** 2 - v.var(0, ddof=1) / S)
        vb = v[bidx]
        bias_boot[:, j] = np.mean(
            (vb.mean(1) - limv["output"]) ** 2 - vb.var(1, ddof=1) / S, axis=1
        )
    resolved = bias2 > 0
    if resolved.sum() >= 2:
        wsr = np.asarray(ws)[resolved]
        bb = np.sqrt(np.maximum(bias_boot[:, resolved], 1e-300))
        bias_slope, bias_se = bootstrap_slope(wsr, np.sqrt(bias2[resolved]), bb)
    else:
        bias_slope, bias_se = float("nan"), float("nan")
    table, summary = _distance_frames(rows, summ)
    extra = {
        "statistic": "rms distance to the exact limit",
        "limit": limit,
        "quadrature_error": limit.quadrature_error,
        "bias": np.sqrt(np.maximum(bias2, 0.0)),
        "bias_slope": bias_slope,
        "bias_slope_se": bias_se,
        "test_X": scaling_test_inputs("limit", config["d"]),
    }
    return _headline("limit", table, summary, slopes, config, extra)
