"""The mean-field scaling experiments: law of large numbers, CLT, approach to the exact limit.

Each takes ``widths``, ``seeds`` (how many) and ``seed``; all seeds of a width run as one
batched array computation (:func:`~analysis.studies.meanfield.scaling.scaling_width`), and
per-seed streams are children of the width's stream:

* :func:`lln_experiment` — law of large numbers: rms distance of smooth observables to the
  limit ~ N^(-1/2), the limit estimated by an averaged reference 16x wider whose own
  variance is subtracted;
* :func:`clt_experiment` — central limit theorem: Var over seeds of the trained output
  ~ 1/N for GD and online SGD, and a normality test of sqrt(N)(g_N - mean);
* :func:`limit_experiment` — the limit itself: for inputs of dimension <= 2 the mean-field
  PDE is solved to high accuracy (:func:`landscapes.meanfield.meanfield_limit`) and the
  particle system's observables approach it at rate N^(-1/2), with a bias of the seed mean
  ~ 1/N.
"""

from __future__ import annotations

from analysis.studies.meanfield.scaling import (
    ScalingResult,
    check_dynamics,
    clt_combine,
    limit_combine,
    limit_solution,
    lln_combine,
    scaling_config,
    scaling_streams,
    scaling_test_inputs,
    scaling_width,
    scaling_width_params,
)
from landscapes.meanfield import as_data, line_teacher, one_neuron_teacher
from landscapes.progress import Progress
from landscapes.random import SeedLike, as_seed_sequence

__all__ = ["EXPERIMENTS", "lln_experiment", "clt_experiment", "limit_experiment"]


def _widths_observables(kind, data, config, streams, Xt, pr) -> list[dict]:
    """Every width of an experiment, one after the other (the thin loop of the experiments)."""
    out = []
    for N, s in zip(config["widths"], streams["widths"], strict=True):
        out.append(
            scaling_width(kind, data, N, config["seeds"], s, Xt, **scaling_width_params(config))
        )
        pr.update(width=N)
    pr.close()
    return out


def _setup(kind, widths, seeds, seed, data, default, **params):
    """Data, configuration, streams and test inputs of an experiment (its first steps)."""
    X, y = as_data(default() if data is None else data)
    root = as_seed_sequence(seed)
    d = X.shape[1]
    config = scaling_config(kind, widths, seeds, root, n_samples=X.shape[0], d=d, **params)
    streams = scaling_streams(kind, len(config["widths"]), root)
    Xt = scaling_test_inputs(kind, d, n_test=config.get("n_test", 1), seed=streams.get("test"))
    return (X, y), config, streams, Xt


def lln_experiment(
    widths=(25, 50, 100, 200, 400, 800),
    seeds: int = 40,
    seed: SeedLike = 0,
    *,
    data=None,
    activation: str = "tanh",
    eps: float = 0.1,
    T: float = 2.0,
    n_test: int = 8,
    ref_factor: int = 16,
    ref_seeds: int = 4,
    n_records: int = 11,
    n_boot: int = 500,
    progress: bool | None = None,
) -> ScalingResult:
    """Law of large numbers: the rms distance of smooth observables to the limit ~ N^(-1/2).

    Observables after GD to time T: the outputs on ``n_test`` fixed test inputs, <|c|>,
    <|w|^2> and the loss curve (``n_records`` times). The limit is estimated by the mean of
    ``ref_seeds`` independent references of width ``ref_factor * max(widths)``; its own
    variance (estimated from the references, divided by ``ref_seeds``) is subtracted from the
    mean squared distance, so the reference's randomness does not bias the slope:

        msd_N = mean_seeds |o_N - o_ref|^2 - Var(o_ref) / ref_seeds  ~  C / N.

    ``slope`` is the fitted slope of log rms (= sqrt msd) against log N for the outputs
    (theory -1/2); ``slopes`` has every observable. Bootstrap: seeds and references are
    resampled ``n_boot`` times.

    Runs :func:`scaling_width` for the reference and each width, then :func:`lln_combine`.
    """
    data, config, streams, Xt = _setup(
        "lln",
        widths,
        seeds,
        seed,
        data,
        lambda: one_neuron_teacher(seed=0),
        activation=activation,
        eps=eps,
        T=T,
        n_test=n_test,
        ref_factor=ref_factor,
        ref_seeds=ref_seeds,
        n_records=n_records,
        n_boot=n_boot,
    )
    pr = Progress(len(config["widths"]) + 1, "meanfield lln", enabled=progress)
    ref = scaling_width(
        "lln",
        data,
        config["ref_width"],
        config["ref_seeds"],
        streams["reference"],
        Xt,
        **scaling_width_params(config),
    )
    pr.update()
    obs = _widths_observables("lln", data, config, streams, Xt, pr)
    return lln_combine(config, obs, ref, bootstrap_seed=streams["bootstrap"], test_X=Xt)


def clt_experiment(
    widths=(50, 100, 200, 400, 800, 1600),
    seeds: int = 40,
    seed: SeedLike = 0,
    *,
    dynamics: str = "gd",
    data=None,
    activation: str = "tanh",
    eps: float = 0.1,
    alpha: float = 1.0,
    T: float = 2.0,
    n_test: int = 8,
    n_boot: int = 500,
    progress: bool | None = None,
) -> ScalingResult:
    """Central limit theorem: Var over seeds of the trained output at time T ~ C/N.

    ``dynamics`` is "gd" (step eps) or "online_sgd" (step alpha/N, time k/N); the SGD
    constant is larger (its martingale term). ``stat`` is the variance over seeds averaged
    over ``n_test`` fixed test inputs; ``scaled`` = N * stat estimates C. ``extra`` holds a
    Shapiro–Wilk test of sqrt(N)(g_N - mean) at the largest width: the p-value at each test
    point and ``normality_pvalue`` (the smallest, Bonferroni-corrected).

    Runs :func:`scaling_width` for each width, then :func:`clt_combine`.
    """
    check_dynamics(dynamics)
    data, config, streams, Xt = _setup(
        "clt",
        widths,
        seeds,
        seed,
        data,
        lambda: one_neuron_teacher(seed=0),
        dynamics=dynamics,
        activation=activation,
        eps=eps,
        alpha=alpha,
        T=T,
        n_test=n_test,
        n_boot=n_boot,
    )
    pr = Progress(len(config["widths"]), f"meanfield clt ({dynamics})", enabled=progress)
    obs = _widths_observables("clt", data, config, streams, Xt, pr)
    return clt_combine(config, obs, bootstrap_seed=streams["bootstrap"], test_X=Xt)


def limit_experiment(
    widths=(16, 32, 64, 128, 256, 512),
    seeds: int = 40,
    seed: SeedLike = 0,
    *,
    data=None,
    activation: str = "tanh",
    eps: float = 0.05,
    T: float = 2.0,
    n_records: int = 11,
    nodes: int = 20,
    n_boot: int = 500,
    progress: bool | None = None,
) -> ScalingResult:
    """The particle system approaches the exactly solved mean-field limit.

    The data (default :func:`line_teacher`: x = (u, 1), a one-neuron teacher) has input
    dimension <= 2 and the particles start from the uniform law (``init="uniform"``), so
    :func:`meanfield_limit` solves the PDE to quadrature accuracy. The rms distance of the
    outputs on 4 test inputs (and of <c^2>, <|w|^2> and the loss curve) to the limit scales
    as N^(-1/2) (``slope``, theory -1/2); ``extra["bias_slope"]`` fits the distance of the
    seed mean of the outputs to the limit, whose expectation is O(1/N) (a noise floor
    C/(N seeds) is subtracted; fitted only where the bias is resolved).

    Runs :func:`limit_solution` and :func:`scaling_width` for each width, then
    :func:`limit_combine`.
    """
    data, config, streams, Xt = _setup(
        "limit",
        widths,
        seeds,
        seed,
        data,
        line_teacher,
        activation=activation,
        eps=eps,
        T=T,
        n_records=n_records,
        nodes=nodes,
        n_boot=n_boot,
    )
    lim = limit_solution(
        data, activation=config["activation"], eps=eps, T=T, n_records=n_records, nodes=nodes
    )
    pr = Progress(len(config["widths"]), "meanfield limit", enabled=progress)
    obs = _widths_observables("limit", data, config, streams, Xt, pr)
    return limit_combine(config, obs, lim, bootstrap_seed=streams["bootstrap"])


#: The experiment of each kind (their keyword defaults are the configurations' defaults).
EXPERIMENTS = {"lln": lln_experiment, "clt": clt_experiment, "limit": limit_experiment}
