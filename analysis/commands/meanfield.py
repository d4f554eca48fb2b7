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

import numpy as np

from analysis.tasks import SweepError, Task, add_executor_arguments, executor_from_args
from landscapes import meanfield as mf
from landscapes.random import as_seed_sequence, seed_from_info, seed_info

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
        if name == "landscape":
            q.add_argument(
                "--n-samples", type=int, default=400, help="data points on the sphere (default 400)"
            )
            q.add_argument("--d", type=int, default=6, help="3-spin dimension (default 6)")
            q.add_argument(
                "--fit-min-width",
                type=int,
                default=0,
                help="smallest width in the coupled excess-loss fit (the 1/N law is asymptotic)",
            )
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
_WIDTH_FUNC = "analysis.commands.meanfield:width_task"
_LIMIT_FUNC = "analysis.commands.meanfield:limit_solution_task"


def _data(config: dict) -> tuple[np.ndarray, np.ndarray]:
    """The training data named by a task configuration (rebuilt on the worker)."""
    if config["data"] == "one_neuron_teacher":
        return mf.as_data(mf.one_neuron_teacher(config["n_samples"], config["d"], seed=0))
    if config["data"] == "line_teacher":
        return mf.as_data(mf.line_teacher())
    raise ValueError(f"unknown data {config['data']!r}")


def _test_inputs(kind: str, d: int, n_test: int | None, test_seed) -> np.ndarray:
    if kind == "limit":
        return mf.scaling_test_inputs("limit", d)
    return mf.scaling_test_inputs(kind, d, n_test=n_test, seed=test_seed)


def width_task(config: dict, seed: np.random.SeedSequence) -> tuple[dict, dict]:
    """Sweep task: all seeds of one width of a mean-field experiment, batched.

    Config: ``kind`` (lln, clt, limit), ``width``, ``seeds`` (how many), ``data`` (and its
    ``n_samples``, ``d``), ``activation``, ``init`` (recorded; the kind implies it),
    ``dynamics``, ``eps``, ``alpha``, ``T``, ``n_records``, ``n_test`` and ``test_seed``
    (record of the test inputs' stream). Runs :func:`landscapes.meanfield.scaling_width`
    with ``seed`` as the width's stream.

    Returns no meta and its observables, one row per seed (lln, limit: ``output``,
    ``mean_abs_c`` or ``mean_c2``, ``mean_w2``, ``loss_curve``; clt: ``output``,
    ``final_loss``).
    """
    X, y = _data(config)
    test_seed = seed_from_info(config["test_seed"]) if "test_seed" in config else None
    Xt = _test_inputs(config["kind"], X.shape[1], config.get("n_test"), test_seed)
    obs = mf.scaling_width(
        config["kind"],
        (X, y),
        int(config["width"]),
        int(config["seeds"]),
        seed,
        Xt,
        **mf.scaling_width_params(config),
    )
    return {}, obs


def limit_solution_task(config: dict, seed: np.random.SeedSequence) -> tuple[dict, dict]:
    """Sweep task: the exact mean-field limit (:func:`landscapes.meanfield.limit_solution`).

    Deterministic (the seed is not used). Returns meta ``{nodes, quadrature_error}`` and
    arrays ``times``, ``loss``, ``outputs``, ``mean_c2``, ``mean_w2``.
    """
    lim = mf.limit_solution(
        _data(config),
        activation=config["activation"],
        eps=config["eps"],
        T=config["T"],
        n_records=int(config["n_records"]),
        nodes=int(config["nodes"]),
    )
    meta = {"nodes": int(lim.nodes), "quadrature_error": float(lim.quadrature_error)}
    arrays = {k: getattr(lim, k) for k in _LIMIT_ARRAYS}
    return meta, arrays


_LIMIT_ARRAYS = ("times", "loss", "outputs", "mean_c2", "mean_w2")


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
    seed=0)``, limit on ``line_teacher()``. ``config`` is the result's configuration
    (:func:`landscapes.meanfield.scaling_config`).
    """
    if kind not in mf.SCALING_KINDS:
        raise ValueError(f"unknown experiment {kind!r}; choose one of {mf.SCALING_KINDS}")
    if kind == "clt":
        kw = {**kw, "dynamics": dynamics}
    elif dynamics != "gd":
        raise ValueError(f"the {kind} experiment trains with gd; got dynamics={dynamics!r}")
    data = "line_teacher" if kind == "limit" else "one_neuron_teacher"
    X, _ = _data({"data": data, "n_samples": n_samples, "d": d})
    config = mf.scaling_config(kind, widths, seeds, seed, n_samples=X.shape[0], d=X.shape[1], **kw)
    return {
        "kind": kind,
        "seed": seed,
        "data": data,
        "n_samples": n_samples,
        "d": d,
        "config": config,
    }


def scaling_tasks(plan: dict) -> list[Task]:
    """The tasks of a :func:`scaling_plan`: one per width, in width order, then the reference
    (lln: ``ref_seeds`` nets of width ``ref_factor * max(widths)``) or the exact limit
    (limit). Seeds: the library's streams (:func:`landscapes.meanfield.scaling_streams`)."""
    kind, cfg = plan["kind"], plan["config"]
    ws, S = cfg["widths"], cfg["seeds"]
    streams = mf.scaling_streams(kind, len(ws), plan["seed"])
    base = {
        "kind": kind,
        "data": plan["data"],
        "init": "uniform" if kind == "limit" else "gaussian",
        **mf.scaling_width_params(cfg),
    }
    if plan["data"] == "one_neuron_teacher":
        base.update(n_samples=plan["n_samples"], d=plan["d"])
    if "test" in streams:
        base.update(n_test=cfg["n_test"], test_seed=seed_info(streams["test"]))
    tasks = [
        Task(_WIDTH_FUNC, {**base, "width": N, "seeds": S}, seed_info(s))
        for N, s in zip(ws, streams["widths"], strict=True)
    ]
    if kind == "lln":
        ref = {**base, "width": cfg["ref_width"], "seeds": cfg["ref_seeds"], "reference": True}
        tasks.append(Task(_WIDTH_FUNC, ref, seed_info(streams["reference"])))
    if kind == "limit":
        lcfg = {k: base[k] for k in ("data", "activation", "eps", "T", "n_records")}
        lcfg["nodes"] = cfg["nodes"]
        tasks.append(Task(_LIMIT_FUNC, lcfg, seed_info(as_seed_sequence(plan["seed"]))))
    return tasks


def scaling_combine(plan: dict, results: list[tuple[dict, dict]]) -> mf.ScalingResult:
    """The :class:`landscapes.meanfield.ScalingResult` of a plan from its tasks' results.

    ``results`` are the ``(meta, arrays)`` of :func:`scaling_tasks` in order. The
    bootstrap and fits are the library's (:func:`landscapes.meanfield.lln_combine`,
    ``clt_combine``, ``limit_combine``, with the library's streams), so the result is that
    of ``lln_experiment`` (and the others), bit for bit.
    """
    kind, cfg = plan["kind"], plan["config"]
    n = len(cfg["widths"])
    if len(results) != n + (kind != "clt"):
        raise ValueError(f"expected the results of {n + (kind != 'clt')} tasks; got {len(results)}")
    streams = mf.scaling_streams(kind, n, plan["seed"])
    obs = [arrays for _, arrays in results[:n]]
    boot = streams["bootstrap"]
    if kind == "limit":
        meta, la = results[n]
        lim = mf.MeanFieldLimit(
            *(la[k] for k in _LIMIT_ARRAYS), int(meta["nodes"]), float(meta["quadrature_error"])
        )
        return mf.limit_combine(cfg, obs, lim, bootstrap_seed=boot)
    Xt = _test_inputs(kind, cfg["d"], cfg["n_test"], streams["test"])
    if kind == "lln":
        return mf.lln_combine(cfg, obs, results[n][1], bootstrap_seed=boot, test_X=Xt)
    return mf.clt_combine(cfg, obs, bootstrap_seed=boot, test_X=Xt)


def _check_args(args) -> None:
    if args.threads is not None and args.threads < 1:
        raise ValueError(f"--threads must be >= 1; got {args.threads}")
    if args.seeds < 3:
        raise ValueError(f"--seeds must be >= 3; got {args.seeds}")


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
    for k in ("dynamics", "alpha", "n_samples", "d", "fit_min_width"):
        if hasattr(args, k):
            config[k] = getattr(args, k)
    kw = {"n_boot": args.n_boot}
    if args.T is not None:
        kw["T"] = args.T
    if args.eps is not None:
        kw["eps"] = args.eps
    if exp == "landscape":
        from analysis.meanfield_landscape import landscape_plan, landscape_tasks

        if args.seeds < 4:
            raise ValueError(
                f"meanfield landscape needs --seeds >= 4 (seed pairs for the coupled excess "
                f"estimator); got {args.seeds}"
            )
        kw.update(n_samples=args.n_samples, d=args.d, fit_min_width=args.fit_min_width)
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
    from analysis.plots.meanfield import coupled_excess_figure, scaling_figure

    folder.write_table("table.csv", res.table)
    folder.write_table("summary.csv", res.summary)
    folder.write_table("pspin.csv", res.pspin)
    meta = {
        "slope": res.slope,
        "slope_se": res.slope_se,
        "theory_slope": -1.0,
        "spread_slope": res.spread_slope,
        "spread_slope_se": res.spread_slope_se,
        "coupled_slope": res.coupled_slope,
        "coupled_slope_se": res.coupled_slope_se,
        "fit_min_width": res.config.get("fit_min_width", 0),
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
    if "coupled_excess" in summary:
        fig = coupled_excess_figure(
            summary,
            res.coupled_slope,
            res.coupled_slope_se,
            res.slope,
            res.slope_se,
            title="3-spin target: coupled excess loss D = e(N) - e(2N)",
            fit_min_width=meta["fit_min_width"],
        )
        folder.save_figure("coupled_excess.png", fig)
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
        f"excess loss slope {meta['slope']:.4f} ± {meta['slope_se']:.4f} (theory -1; "
        "plain estimator against the wide reference)",
        f"coupled excess slope {meta['coupled_slope']:.4f} ± {meta['coupled_slope_se']:.4f} "
        f"(theory -1; widths >= {meta['fit_min_width']})",
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
