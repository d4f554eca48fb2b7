"""``landscapes meanfield``: the law of large numbers, the CLT and the limit of mean-field networks.

``landscapes meanfield lln|clt|limit|landscape [--widths ...] [--seeds S] [--seed K] [--out DIR]``
runs one experiment of :mod:`landscapes.meanfield` (or
:func:`analysis.meanfield_landscape.landscape_experiment`) and writes a run folder: the tidy
table (``table.csv``), the per-width summary (``summary.csv``), the fitted slopes with their
bootstrap standard errors (``result.json``), a short ``report.md`` and log-log figures with the
fit, its band and the theoretical slope.

Each experiment is a sweep of :class:`analysis.tasks.Task` s, one per width (all seeds of a
width batched in one task; for ``clt`` one per (dynamics, width); for ``lln`` and
``landscape`` one more for the wide reference, for ``limit`` one for the exact limit, for
``landscape`` one per p-spin size). Task *j* gets the same seed stream that
:func:`landscapes.meanfield.lln_experiment` (and the others) give width *j*, so the tables are
those of the library functions, bit for bit, whichever executor runs the tasks
(``--scheduler local:N`` or ``tcp://HOST:PORT`` for Dask, ``--executor processes``).
Every task is stored as it completes: ``--resume DIR`` runs only the missing widths, then
recomputes the (cheap) bootstrap and fits from the stored observables.
"""

from __future__ import annotations

import argparse
import inspect
import math

import numpy as np

from analysis.tasks import SweepError, Task, add_executor_arguments, executor_from_args
from landscapes import meanfield as mf
from landscapes._validation import check_int
from landscapes.random import as_generator, as_seed_sequence, seed_from_info, seed_info

__all__ = [
    "register",
    "run",
    "scaling_plan",
    "scaling_tasks",
    "scaling_combine",
    "width_task",
    "limit_solution_task",
]

_DEFAULT_WIDTHS = {
    "lln": [25, 50, 100, 200, 400],
    "clt": [50, 100, 200, 400, 800],
    "limit": [16, 32, 64, 128, 256, 512],
    "landscape": [16, 32, 64, 128],
}


def register(subparsers) -> None:
    """Add ``meanfield lln|clt|limit|landscape`` to the CLI."""
    p = subparsers.add_parser(
        "meanfield",
        help="mean-field networks: LLN (N^-1/2), CLT (Var ~ 1/N), exact limit, p-spin target",
        description=__doc__.split("\n\n")[0],
    )
    sub = p.add_subparsers(dest="experiment", metavar="EXPERIMENT")
    sub.required = True
    helps = {
        "lln": "rms distance of observables to the limit ~ N^-1/2 (reference 16x wider)",
        "clt": "variance over seeds of the trained output ~ 1/N, GD and online SGD; normality",
        "limit": "particles approach the exactly solved mean-field PDE (1-D teacher + bias)",
        "landscape": "learning the spherical 3-spin energy: excess loss ~ 1/N, beside the p-spin",
    }
    for name, h in helps.items():
        q = sub.add_parser(name, help=h, description=h)
        q.add_argument(
            "--widths",
            type=int,
            nargs="+",
            default=None,
            help=f"widths N (default {' '.join(map(str, _DEFAULT_WIDTHS[name]))})",
        )
        q.add_argument("--seeds", type=int, default=40, help="seeds per width (default 40)")
        q.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
        q.add_argument("--T", type=float, default=None, help="training time (mean-field units)")
        q.add_argument("--eps", type=float, default=None, help="GD step (time per step)")
        q.add_argument("--n-boot", type=int, default=500, help="bootstrap resamples (default 500)")
        if name == "clt":
            q.add_argument(
                "--dynamics",
                nargs="+",
                choices=("gd", "online_sgd"),
                default=["gd", "online_sgd"],
                help="dynamics (default both)",
            )
            q.add_argument("--alpha", type=float, default=1.0, help="online SGD step alpha")
        if name in ("lln", "clt"):
            q.add_argument("--n-samples", type=int, default=200, help="data points (default 200)")
            q.add_argument("--d", type=int, default=5, help="input dimension (default 5)")
        q.add_argument("--out", default=None, help="run folder (default runs/meanfield-...)")
        q.add_argument(
            "--resume",
            default=None,
            metavar="DIR",
            help="resume the run folder DIR (finished widths are not redone)",
        )
        q.add_argument(
            "--threads",
            type=int,
            default=None,
            help="BLAS threads of in-process tasks (default: leave as is; 1 gives the bits of "
            "Dask and process-pool workers, which run one BLAS thread each)",
        )
        add_executor_arguments(q)
        q.set_defaults(func=run)


def _scalar_extra(extra: dict) -> dict:
    out = {}
    for k, v in extra.items():
        if isinstance(v, int | float | str | np.floating | np.integer):
            out[k] = v
        elif isinstance(v, np.ndarray) and v.ndim == 1 and v.size < 64:
            out[k] = v
    return out


# ---------------------------------------------------------------------------- the sweep
_EXPERIMENTS = {"lln": mf.lln_experiment, "clt": mf.clt_experiment, "limit": mf.limit_experiment}
_WIDTH_FUNC = "analysis.commands.meanfield:width_task"
_LIMIT_FUNC = "analysis.commands.meanfield:limit_solution_task"


def _defaults(fn) -> dict:
    """Keyword defaults of a library experiment (the sweep uses the same ones)."""
    return {
        k: p.default
        for k, p in inspect.signature(fn).parameters.items()
        if p.default is not inspect.Parameter.empty
    }


def _child(root: np.random.SeedSequence, i: int) -> np.random.SeedSequence:
    """Child ``i`` of ``root.spawn(...)`` for a fresh root (computed without spawning)."""
    return np.random.SeedSequence(root.entropy, spawn_key=tuple(root.spawn_key) + (i,))


def _data(config: dict) -> tuple[np.ndarray, np.ndarray]:
    """The training data named by a task configuration (rebuilt on the worker)."""
    if config["data"] == "one_neuron_teacher":
        return mf.as_data(mf.one_neuron_teacher(config["n_samples"], config["d"], seed=0))
    if config["data"] == "line_teacher":
        return mf.as_data(mf.line_teacher())
    raise ValueError(f"unknown data {config['data']!r}")


def _limit_test_points(d: int) -> np.ndarray:
    u = np.array([-1.5, -0.5, 0.5, 1.5])
    return np.column_stack([u, np.ones(4)]) if d == 2 else u[:, None]


def _task_test_points(config: dict, d: int) -> np.ndarray:
    if config["kind"] == "limit":
        return _limit_test_points(d)
    return mf._test_points(seed_from_info(config["test_seed"]), d, config["n_test"])


def width_task(config: dict, seed: np.random.SeedSequence) -> tuple[dict, dict]:
    """Sweep task: all seeds of one width of a mean-field experiment, batched.

    Config: ``kind`` (lln, clt, limit), ``width``, ``seeds`` (how many), ``data`` (and its
    ``n_samples``, ``d``), ``activation``, ``init``, ``dynamics``, ``eps``, ``alpha``, ``T``,
    ``n_records``, ``n_test`` and ``test_seed`` (record of the test inputs' stream). Seed s of
    the width starts from child s of ``seed``, as in :mod:`landscapes.meanfield`.

    Returns no meta and the observables at the final time (``_observables``: ``output``,
    ``mean_abs_c`` or ``mean_c2``, ``mean_w2``, ``loss_curve``; for ``clt`` the outputs and
    the final losses), one row per seed.
    """
    X, y = _data(config)
    net = mf.MeanFieldNet((X, y), int(config["width"]), config["activation"], init=config["init"])
    Xt = _task_test_points(config, X.shape[1])
    tr = mf._run_width(
        net,
        seed.spawn(int(config["seeds"])),
        config["dynamics"],
        config["eps"],
        config["alpha"],
        config["T"],
        int(config["n_records"]),
        Xt,
    )
    if config["kind"] == "clt":
        return {}, {"output": tr.outputs[-1], "final_loss": tr.loss[-1]}
    return {}, mf._observables(tr, smooth_c=config["kind"] == "limit")


def limit_solution_task(config: dict, seed: np.random.SeedSequence) -> tuple[dict, dict]:
    """Sweep task: the exact mean-field limit (:func:`landscapes.meanfield.meanfield_limit`).

    Deterministic (the seed is not used). Returns meta ``{nodes, quadrature_error}`` and
    arrays ``times``, ``loss``, ``outputs``, ``mean_c2``, ``mean_w2``.
    """
    X, y = _data(config)
    lim = mf.meanfield_limit(
        (X, y),
        eps=config["eps"],
        T=config["T"],
        activation=config["activation"],
        init="uniform",
        test_X=_limit_test_points(X.shape[1]),
        n_records=int(config["n_records"]),
        nodes=int(config["nodes"]),
        refine=4,
    )
    meta = {"nodes": int(lim.nodes), "quadrature_error": float(lim.quadrature_error)}
    arrays = {k: getattr(lim, k) for k in ("times", "loss", "outputs", "mean_c2", "mean_w2")}
    return meta, arrays


def scaling_plan(
    kind: str,
    widths,
    seeds: int,
    seed: int,
    *,
    dynamics: str = "gd",
    n_samples: int = 200,
    d: int = 5,
    **kw,
) -> dict:
    """Validated parameters of one lln / clt / limit experiment, as the library would run it.

    ``kw`` overrides the keyword defaults of the library function (``eps``, ``T``,
    ``n_boot``, ``alpha``...). lln and clt train on ``one_neuron_teacher(n_samples, d,
    seed=0)``, limit on ``line_teacher()``.
    """
    fn = _EXPERIMENTS[kind]
    params = _defaults(fn)
    unknown = set(kw) - (set(params) - {"data", "dynamics", "progress"})
    if unknown:
        raise ValueError(f"unknown {kind} parameter(s): {sorted(unknown)}")
    params.update(kw)
    ws = mf._check_widths(widths)
    S = check_int(seeds, "seeds (how many)", minimum=3)
    if kind == "clt" and dynamics not in ("gd", "online_sgd"):
        raise ValueError(f"dynamics must be 'gd' or 'online_sgd'; got {dynamics!r}")
    plan = {
        "kind": kind,
        "widths": ws,
        "seeds": S,
        "seed": seed,
        "params": params,
        "dynamics": dynamics if kind == "clt" else "gd",
        "data": "line_teacher" if kind == "limit" else "one_neuron_teacher",
        "n_samples": n_samples,
        "d": d,
    }
    return plan


def _plan_root(plan: dict) -> np.random.SeedSequence:
    return as_seed_sequence(plan["seed"])


def scaling_tasks(plan: dict) -> list[Task]:
    """The tasks of a :func:`scaling_plan`: one per width, in width order, then the reference
    (lln: ``ref_seeds`` nets of width ``ref_factor * max(widths)``) or the exact limit
    (limit). Seeds: the library's streams (child j of the root seed for width j)."""
    kind, ws, S, pr = plan["kind"], plan["widths"], plan["seeds"], plan["params"]
    root = _plan_root(plan)
    n = len(ws)
    base = {
        "kind": kind,
        "data": plan["data"],
        "activation": pr["activation"],
        "init": "uniform" if kind == "limit" else "gaussian",
        "dynamics": plan["dynamics"],
        "eps": pr["eps"],
        "alpha": pr.get("alpha", 1.0),
        "T": pr["T"],
    }
    if plan["data"] == "one_neuron_teacher":
        base.update(n_samples=plan["n_samples"], d=plan["d"])
    if kind == "lln":
        base.update(
            n_records=pr["n_records"], n_test=pr["n_test"], test_seed=seed_info(_child(root, n + 2))
        )
    elif kind == "clt":
        base.update(n_records=3, n_test=pr["n_test"], test_seed=seed_info(_child(root, n + 1)))
    else:
        base.update(n_records=pr["n_records"])
    tasks = [
        Task(_WIDTH_FUNC, {**base, "width": N, "seeds": S}, seed_info(_child(root, j)))
        for j, N in enumerate(ws)
    ]
    if kind == "lln":
        M = pr["ref_factor"] * ws[-1]
        cfg = {**base, "width": M, "seeds": pr["ref_seeds"], "reference": True}
        tasks.append(Task(_WIDTH_FUNC, cfg, seed_info(_child(root, n + 1))))
    if kind == "limit":
        cfg = {k: base[k] for k in ("data", "activation", "eps", "T", "n_records")}
        cfg["nodes"] = pr["nodes"]
        tasks.append(Task(_LIMIT_FUNC, cfg, seed_info(root)))
    return tasks


def scaling_combine(plan: dict, results: list[tuple[dict, dict]]) -> mf.ScalingResult:
    """The :class:`landscapes.meanfield.ScalingResult` of a plan from its tasks' results.

    ``results`` are the ``(meta, arrays)`` of :func:`scaling_tasks` in order. The
    statistics, bootstrap (its stream: the library's) and fits are those of
    :func:`landscapes.meanfield.lln_experiment`, ``clt_experiment`` and
    ``limit_experiment``, so the result is theirs, bit for bit.
    """
    kind = plan["kind"]
    fn = {"lln": _combine_lln, "clt": _combine_clt, "limit": _combine_limit}[kind]
    return fn(plan, results)


def _combine_lln(plan, results):
    import pandas as pd

    ws, S, pr = plan["widths"], plan["seeds"], plan["params"]
    root = _plan_root(plan)
    X, _ = _data({"data": plan["data"], "n_samples": plan["n_samples"], "d": plan["d"]})
    R, n_boot, ref_factor = pr["ref_seeds"], pr["n_boot"], pr["ref_factor"]
    M = ref_factor * ws[-1]
    obs = {N: results[j][1] for j, N in enumerate(ws)}
    ref = results[len(ws)][1]
    boot_rng = as_generator(_child(root, len(ws)))
    names = list(ref)
    rows, summ, slopes = [], [], {}
    bidx = boot_rng.integers(S, size=(n_boot, S))
    ridx = boot_rng.integers(R, size=(n_boot, R))
    for name in names:
        refv = ref[name]
        rmean = refv.mean(axis=0)
        rvar = float(np.mean(refv.var(axis=0, ddof=1))) / R
        stat = np.empty(len(ws))
        boot = np.empty((n_boot, len(ws)))
        rb = refv[ridx]
        rbm = rb.mean(axis=1)
        rbv = np.mean(rb.var(axis=1, ddof=1), axis=1) / R
        for j, N in enumerate(ws):
            v = obs[N][name]
            msd = float(np.mean((v - rmean) ** 2)) - rvar
            stat[j] = math.sqrt(max(msd, 1e-300))
            vb = v[bidx]
            mb = np.mean((vb - rbm[:, None, :]) ** 2, axis=(1, 2)) - rbv
            boot[:, j] = np.sqrt(np.maximum(mb, 1e-300))
            for s in range(S):
                for comp in range(v.shape[1]):
                    rows.append((name, N, s, comp, v[s, comp], rmean[comp]))
        sl = mf.fit_loglog(ws, stat)[0]
        se = float(np.std(mf._slopes_rows(ws, boot), ddof=1))
        slopes[name] = (sl, se)
        for j, N in enumerate(ws):
            summ.append(
                (name, N, stat[j], float(np.std(boot[:, j], ddof=1)), stat[j] * math.sqrt(N))
            )
    table = pd.DataFrame(
        rows, columns=["observable", "width", "seed", "component", "value", "limit"]
    )
    summary = pd.DataFrame(summ, columns=["observable", "width", "stat", "stat_se", "scaled"])
    config = dict(
        widths=ws,
        seeds=S,
        seed=seed_info(root),
        activation=pr["activation"],
        eps=pr["eps"],
        T=pr["T"],
        n_test=pr["n_test"],
        ref_factor=ref_factor,
        ref_seeds=R,
        ref_width=M,
        n_records=pr["n_records"],
        n_boot=n_boot,
        n_samples=int(X.shape[0]),
        d=int(X.shape[1]),
    )
    Xt = mf._test_points(_child(root, len(ws) + 2), X.shape[1], pr["n_test"])
    return mf.ScalingResult(
        "lln",
        table,
        summary,
        slopes["output"][0],
        slopes["output"][1],
        -0.5,
        slopes,
        config,
        {"statistic": "rms distance to the limit", "test_X": Xt},
    )


def _combine_clt(plan, results):
    import pandas as pd
    from scipy import stats

    ws, S, pr = plan["widths"], plan["seeds"], plan["params"]
    root = _plan_root(plan)
    X, _ = _data({"data": plan["data"], "n_samples": plan["n_samples"], "d": plan["d"]})
    n_boot, n_test = pr["n_boot"], pr["n_test"]
    outs = {N: results[j][1]["output"] for j, N in enumerate(ws)}
    losses = {N: results[j][1]["final_loss"] for j, N in enumerate(ws)}
    boot_rng = as_generator(_child(root, len(ws)))
    bidx = boot_rng.integers(S, size=(n_boot, S))
    stat = np.array([float(np.mean(outs[N].var(axis=0, ddof=1))) for N in ws])
    boot = np.stack([np.mean(outs[N][bidx].var(axis=1, ddof=1), axis=1) for N in ws], axis=1)
    sl = mf.fit_loglog(ws, stat)[0]
    se = float(np.std(mf._slopes_rows(ws, boot), ddof=1))
    top = outs[ws[-1]]
    fluct = math.sqrt(ws[-1]) * (top - top.mean(axis=0))
    pvals = np.array([float(stats.shapiro(fluct[:, i]).pvalue) for i in range(n_test)])
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
    config = dict(
        widths=ws,
        seeds=S,
        seed=seed_info(root),
        dynamics=plan["dynamics"],
        activation=pr["activation"],
        eps=pr["eps"],
        alpha=pr["alpha"],
        T=pr["T"],
        n_test=n_test,
        n_boot=n_boot,
        n_samples=int(X.shape[0]),
        d=int(X.shape[1]),
    )
    extra = {
        "statistic": "variance over seeds",
        "normality_pvalues": pvals,
        "normality_pvalue": float(min(1.0, pvals.min() * n_test)),
        "fluctuations": fluct,
        "test_X": mf._test_points(_child(root, len(ws) + 1), X.shape[1], n_test),
    }
    return mf.ScalingResult(
        "clt", table, summary, sl, se, -1.0, {"output": (sl, se)}, config, extra
    )


def _combine_limit(plan, results):
    import pandas as pd

    ws, S, pr = plan["widths"], plan["seeds"], plan["params"]
    root = _plan_root(plan)
    X, _ = _data({"data": plan["data"]})
    d = X.shape[1]
    n_boot = pr["n_boot"]
    lmeta, la = results[len(ws)]
    lim = mf.MeanFieldLimit(
        la["times"],
        la["loss"],
        la["outputs"],
        la["mean_c2"],
        la["mean_w2"],
        int(lmeta["nodes"]),
        float(lmeta["quadrature_error"]),
    )
    limv = {
        "output": lim.outputs[-1],
        "mean_c2": lim.mean_c2[-1:],
        "mean_w2": lim.mean_w2[-1:],
        "loss_curve": lim.loss,
    }
    obs = {N: results[j][1] for j, N in enumerate(ws)}
    bidx = as_generator(_child(root, len(ws))).integers(S, size=(n_boot, S))
    rows, summ, slopes = [], [], {}
    for name, lv in limv.items():
        stat = np.empty(len(ws))
        boot = np.empty((n_boot, len(ws)))
        for j, N in enumerate(ws):
            v = obs[N][name]
            stat[j] = math.sqrt(float(np.mean((v - lv) ** 2)))
            boot[:, j] = np.sqrt(np.mean((v[bidx] - lv) ** 2, axis=(1, 2)))
            for s in range(S):
                for comp in range(v.shape[1]):
                    rows.append((name, N, s, comp, v[s, comp], lv[comp]))
            summ.append(
                (name, N, stat[j], float(np.std(boot[:, j], ddof=1)), stat[j] * math.sqrt(N))
            )
        slopes[name] = (
            mf.fit_loglog(ws, stat)[0],
            float(np.std(mf._slopes_rows(ws, boot), ddof=1)),
        )
    bias2 = np.empty(len(ws))
    bias_boot = np.empty((n_boot, len(ws)))
    for j, N in enumerate(ws):
        v = obs[N]["output"]
        bias2[j] = np.mean((v.mean(0) - limv["output"]) ** 2 - v.var(0, ddof=1) / S)
        vb = v[bidx]
        bias_boot[:, j] = np.mean(
            (vb.mean(1) - limv["output"]) ** 2 - vb.var(1, ddof=1) / S, axis=1
        )
    resolved = bias2 > 0
    if resolved.sum() >= 2:
        wsr = np.asarray(ws)[resolved]
        bias_slope = mf.fit_loglog(wsr, np.sqrt(bias2[resolved]))[0]
        bb = np.sqrt(np.maximum(bias_boot[:, resolved], 1e-300))
        bias_se = float(np.std(mf._slopes_rows(wsr, bb), ddof=1))
    else:
        bias_slope, bias_se = float("nan"), float("nan")
    table = pd.DataFrame(
        rows, columns=["observable", "width", "seed", "component", "value", "limit"]
    )
    summary = pd.DataFrame(summ, columns=["observable", "width", "stat", "stat_se", "scaled"])
    config = dict(
        widths=ws,
        seeds=S,
        seed=seed_info(root),
        activation=pr["activation"],
        eps=pr["eps"],
        T=pr["T"],
        n_records=pr["n_records"],
        nodes=pr["nodes"],
        n_boot=n_boot,
        n_samples=int(X.shape[0]),
        d=int(d),
    )
    extra = {
        "statistic": "rms distance to the exact limit",
        "limit": lim,
        "quadrature_error": lim.quadrature_error,
        "bias": np.sqrt(np.maximum(bias2, 0.0)),
        "bias_slope": bias_slope,
        "bias_slope_se": bias_se,
        "test_X": _limit_test_points(d),
    }
    return mf.ScalingResult(
        "limit",
        table,
        summary,
        slopes["output"][0],
        slopes["output"][1],
        -0.5,
        slopes,
        config,
        extra,
    )


def _check_args(args) -> None:
    if args.threads is not None and args.threads < 1:
        raise ValueError(f"--threads must be >= 1; got {args.threads}")
    if args.seeds < 3:
        raise ValueError(f"--seeds must be >= 3; got {args.seeds}")
    mf._check_widths(args.widths or _DEFAULT_WIDTHS[args.experiment])


def run(args: argparse.Namespace) -> int:
    """Run one mean-field experiment (a sweep of per-width tasks) and write its run folder."""
    from analysis.plots import use_agg
    from analysis.store import RunFolder
    from analysis.tasks import load_results

    exp = args.experiment
    widths = args.widths or _DEFAULT_WIDTHS[exp]
    _check_args(args)
    spec = executor_from_args(args)
    config = {
        "experiment": exp,
        "widths": widths,
        "seeds": args.seeds,
        "seed": args.seed,
        "T": args.T,
        "eps": args.eps,
        "n_boot": args.n_boot,
    }
    for k in ("dynamics", "alpha", "n_samples", "d"):
        if hasattr(args, k):
            config[k] = getattr(args, k)
    kw = {"n_boot": args.n_boot}
    if args.T is not None:
        kw["T"] = args.T
    if args.eps is not None:
        kw["eps"] = args.eps
    if exp == "landscape":
        from analysis.meanfield_landscape import landscape_plan, landscape_tasks

        plans = {"landscape": landscape_plan(widths, args.seeds, args.seed, **kw)}
        tasks = {"landscape": landscape_tasks(plans["landscape"])}
    else:
        data_kw = {"n_samples": args.n_samples, "d": args.d} if exp in ("lln", "clt") else {}
        tags = list(dict.fromkeys(args.dynamics)) if exp == "clt" else [exp]
        plans = {}
        for tag in tags:
            extra = {"dynamics": tag, "alpha": args.alpha} if exp == "clt" else {}
            dyn = extra.pop("dynamics", "gd")
            plans[tag] = scaling_plan(
                exp, widths, args.seeds, args.seed, dynamics=dyn, **data_kw, **kw, **extra
            )
        tasks = {tag: scaling_tasks(plan) for tag, plan in plans.items()}
    out = args.resume or args.out
    folder = RunFolder(out, f"meanfield-{exp}", config, resume=args.resume is not None)
    use_agg()
    every = [t for ts in tasks.values() for t in ts]
    limiter = None
    if args.threads is not None:
        from threadpoolctl import threadpool_limits

        limiter = threadpool_limits(args.threads)
    try:
        sweep = spec.run(every, folder, desc=f"meanfield {exp}")
    except SweepError as exc:
        print(str(exc))
        print(f"run folder: {folder.path}")
        return 1
    finally:
        if limiter is not None:
            limiter.unregister()
    lines = [f"# meanfield {exp}", "", f"widths {widths}, {args.seeds} seeds, seed {args.seed}", ""]
    lines += [f"tasks: {sweep.summary()}", ""]
    if exp == "landscape":
        from analysis.meanfield_landscape import landscape_combine

        res = landscape_combine(plans["landscape"], load_results(folder, tasks["landscape"]))
        return _write_landscape(folder, res, lines)
    for tag, plan in plans.items():
        res = scaling_combine(plan, load_results(folder, tasks[tag]))
        folder.write_table(f"{tag}/table.csv", res.table)
        folder.write_table(f"{tag}/summary.csv", res.summary)
        arrays = {}
        if exp == "clt":
            arrays["fluctuations"] = res.extra["fluctuations"]
        if exp == "limit":
            lim = res.extra["limit"]
            arrays.update(times=lim.times, limit_loss=lim.loss, limit_outputs=lim.outputs)
        meta = {
            "slope": res.slope,
            "slope_se": res.slope_se,
            "theory_slope": res.theory_slope,
            "z_score": res.z_score,
            "slopes": res.slopes,
            "config": res.config,
            "extra": _scalar_extra(res.extra),
        }
        folder.write_json(f"{tag}/result.json", meta)
        if arrays:
            folder.write_arrays(f"{tag}/arrays.npz", **arrays)
        summary = folder.read_table(f"{tag}/summary.csv")
        _figures(folder, exp, tag, meta, summary, arrays)
        lines += _report_lines(tag, meta, summary)
    folder.write_text("report.md", "\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"run folder: {folder.path}")
    return 0


def _report_lines(tag, meta, summary):
    z = meta["z_score"]
    lines = [
        f"## {tag}",
        "",
        f"slope {meta['slope']:.4f} ± {meta['slope_se']:.4f} (bootstrap s.e.), theory "
        f"{meta['theory_slope']:g}, z = {z:.2f}",
        "",
    ]
    for name, (s, se) in meta["slopes"].items():
        lines.append(f"- {name}: slope {s:.4f} ± {se:.4f}")
    ex = meta.get("extra", {})
    for k in ("normality_pvalue", "quadrature_error", "bias_slope", "bias_slope_se"):
        if k in ex:
            v = ex[k]
            lines.append(f"- {k}: {v:.4g}" if isinstance(v, int | float) else f"- {k}: {v}")
    lines += ["", summary.to_string(index=False), ""]
    return lines


def _figures(folder, exp, tag, meta, summary, arrays):
    from analysis.plots.meanfield import limit_figure, normality_figure, scaling_figure

    slopes = {k: tuple(v) for k, v in meta["slopes"].items()}
    fig = scaling_figure(
        summary,
        slopes,
        meta["theory_slope"],
        "clt" if exp == "clt" else exp,
        title=f"meanfield {exp} ({tag})" if exp == "clt" else "",
    )
    folder.save_figure(f"{tag}/scaling.png", fig)
    if exp == "clt" and "fluctuations" in arrays:
        fig = normality_figure(
            arrays["fluctuations"],
            int(summary["width"].max()),
            meta["extra"]["normality_pvalue"],
            label=tag,
        )
        folder.save_figure(f"{tag}/normality.png", fig)
    if exp == "limit":
        table = folder.read_table(f"{tag}/table.csv")
        lc = table[table["observable"] == "loss_curve"]
        curves = {
            int(N): g.groupby("component")["value"].mean().to_numpy()
            for N, g in lc.groupby("width")
        }
        fig = limit_figure(arrays["times"], arrays["limit_loss"], curves)
        folder.save_figure(f"{tag}/limit.png", fig)


def _write_landscape(folder, res, lines):
    from analysis.plots.meanfield import scaling_figure

    folder.write_table("table.csv", res.table)
    folder.write_table("summary.csv", res.summary)
    folder.write_table("pspin.csv", res.pspin)
    meta = {
        "slope": res.slope,
        "slope_se": res.slope_se,
        "theory_slope": -1.0,
        "spread_slope": res.spread_slope,
        "spread_slope_se": res.spread_slope_se,
        "config": res.config,
        "extra": res.extra,
    }
    folder.write_json("result.json", meta)
    folder.write_arrays("spectra.npz", **{k.replace(" ", "_"): v for k, v in res.spectra.items()})
    summary = folder.read_table("summary.csv")
    pspin = folder.read_table("pspin.csv")
    ok = summary[summary["stat"] > 0]
    fig = scaling_figure(
        ok,
        {"excess_loss": (meta["slope"], meta["slope_se"])},
        -1.0,
        "excess",
        title="3-spin target: excess loss over the wide reference",
    )
    folder.save_figure("excess_loss.png", fig)
    sp = summary.assign(
        observable="loss_spread", stat=summary["spread"], stat_se=summary["spread_se"]
    )
    fig = scaling_figure(
        sp,
        {"loss_spread": (meta["spread_slope"], meta["spread_slope_se"])},
        -0.5,
        "spread",
        title="3-spin target: spread of final losses over seeds",
    )
    folder.save_figure("loss_spread.png", fig)
    lines += [
        f"excess loss slope {meta['slope']:.4f} ± {meta['slope_se']:.4f} (theory -1)",
        f"spread slope {meta['spread_slope']:.4f} ± {meta['spread_slope_se']:.4f}",
        "",
        summary.to_string(index=False),
        "",
        "p-spin gradient-descent endpoints:",
        "",
        pspin.to_string(index=False),
        "",
    ]
    folder.write_text("report.md", "\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"run folder: {folder.path}")
    return 0
