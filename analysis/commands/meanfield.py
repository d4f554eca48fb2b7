"""``landscapes meanfield``: the law of large numbers, the CLT and the limit of mean-field networks.

``landscapes meanfield lln|clt|limit|landscape [--widths ...] [--seeds S] [--seed K] [--out DIR]``
runs one experiment of :mod:`analysis.studies.meanfield` as a sweep of per-width tasks
(:func:`~analysis.studies.meanfield.plan_experiment`,
:func:`~analysis.studies.meanfield.run_experiment`) and writes a run folder: the tidy table
(``table.csv``), the per-width summary (``summary.csv``), the fitted slopes with their
bootstrap standard errors (``result.json``), a short ``report.md`` and log-log figures with the
fit, its band and the theoretical slope.

The tables are those of the library functions (``lln_experiment`` and the others), bit for
bit, whichever executor runs the tasks (``--scheduler local:N`` or ``tcp://HOST:PORT`` for
Dask, ``--executor processes``). Every task is stored as it completes: ``--resume DIR`` runs
only the missing widths, then recomputes the (cheap) bootstrap and fits from the stored
observables.
"""

from __future__ import annotations

import argparse

import numpy as np

from analysis.commands._options import (
    add_list,
    add_run_options,
    add_step_options,
    check_range,
    check_run_options,
    command_context,
    open_run_folder,
)
from analysis.studies.meanfield import DEFAULT_WIDTHS, plan_experiment, run_experiment
from analysis.sweep import SweepError, add_executor_arguments, executor_from_args

__all__ = ["register", "run"]


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
        add_list(
            q,
            "--widths",
            int,
            metavar="N",
            default=None,
            help=f"widths N (default {' '.join(map(str, DEFAULT_WIDTHS[name]))})",
        )
        q.add_argument("--seeds", type=int, default=40, help="seeds per width (default 40)")
        q.add_argument("--T", type=float, default=None, help="training time (mean-field units)")
        add_step_options(
            q, step_help="GD step (time per step; default per experiment)", step_aliases=("--eps",)
        )
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
        add_run_options(q, seed=0)
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


def _check_args(args) -> None:
    check_run_options(args)
    check_range(args.seeds, "--seeds", low=3, integer=True)
    check_range(args.n_boot, "--n-boot", low=1, integer=True)
    if args.widths is not None and any(w < 1 for w in args.widths):
        raise ValueError(f"--widths must be positive integers; got {args.widths}")
    if args.T is not None:
        check_range(args.T, "--T", low=0, low_open=True)
    if args.step is not None:
        check_range(args.step, "--step", low=0, low_open=True)


def run(args: argparse.Namespace) -> int:
    """Run one mean-field experiment (a sweep of per-width tasks) and write its run folder."""
    from analysis.plots import use_agg

    exp = args.experiment
    widths = args.widths or DEFAULT_WIDTHS[exp]
    _check_args(args)
    spec = executor_from_args(args)
    config = {
        "experiment": exp,
        "widths": widths,
        "seeds": args.seeds,
        "seed": args.seed,
        "T": args.T,
        "eps": args.step,
        "n_boot": args.n_boot,
    }
    options = {}
    for k in ("dynamics", "alpha", "n_samples", "d", "fit_min_width"):
        if hasattr(args, k):
            config[k] = options[k] = getattr(args, k)
    plan = plan_experiment(
        exp, widths, args.seeds, args.seed, T=args.T, eps=args.step, n_boot=args.n_boot, **options
    )
    folder = open_run_folder(args, f"meanfield-{exp}", config, label=f"meanfield {exp}")
    use_agg()
    with command_context(args):
        try:
            results, sweep = run_experiment(plan, folder, spec, threads=args.threads)
        except SweepError as exc:
            print(str(exc))
            print(f"run folder: {folder.path}")
            return 1
        return _write(folder, exp, args, widths, results, sweep)


def _write(folder, exp, args, widths, results, sweep) -> int:
    from analysis.report import write_run_report

    tables, figures = [], []
    lines = [f"# meanfield {exp}", "", f"widths {widths}, {args.seeds} seeds, seed {args.seed}", ""]
    lines += [f"tasks: {sweep.summary()}", ""]
    if exp == "landscape":
        return _write_landscape(folder, results["landscape"], lines)
    for tag, res in results.items():
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
        folder.write_json(f"tables/{tag}/result.json", meta)
        if arrays:
            folder.write_arrays(f"{tag}/arrays.npz", **arrays)
        summary = folder.read_table(f"{tag}/summary.csv")
        _figures(folder, exp, tag, meta, summary, arrays)
        lines += _report_lines(tag, meta, summary)
        tables.append(f"{tag}/summary.csv")
    figures = sorted(
        str(f.relative_to(folder.path / "figures"))
        for f in (folder.path / "figures").rglob("*.png")
    )
    write_run_report(
        folder,
        title=f"meanfield {exp}",
        tables=tables,
        figures=figures,
        markdown="\n".join(lines) + "\n",
    )
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
    folder.write_json("tables/result.json", meta)
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
    from analysis.report import write_run_report

    figures = sorted(f.name for f in (folder.path / "figures").glob("*.png"))
    write_run_report(
        folder,
        title="meanfield landscape",
        tables=["summary.csv", "pspin.csv"],
        figures=figures,
        markdown="\n".join(lines) + "\n",
    )
    print("\n".join(lines))
    print(f"run folder: {folder.path}")
    return 0
