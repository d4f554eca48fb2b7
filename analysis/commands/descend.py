"""``landscapes descend``: gradient descent, SGD or Langevin dynamics over many replicas.

``landscapes descend pspin --N 200 --p 3 --replicas 256 --seed 0 [--method gd|langevin]``
and ``landscapes descend mlp --dataset digits|teacher_student --hidden 32 --method gd|sgd``
write a run folder with ``config.json``, ``final.csv`` (final energy, H/N, gradient norms,
steps, convergence and halting times per replica), ``trajectories.npz`` (energy per spin and
gradient norm against step, and final points), ``summary.json`` and two figures: the
histogram of the final H/N with -E_inf and -E_0 drawn, and H/N against time.

Seeds: the root seed spawns two children, one for the couplings (one stream per coupling
sample, ``--samples``) and one for the replicas (one stream per replica, itself split into an
initial-point stream and a dynamics stream). Replicas are split evenly over the coupling
samples (fresh couplings per sample, shared by that sample's replicas) and processed in
chunks of ``--chunk`` replicas. Each chunk is one task of a sweep (:mod:`analysis.tasks`,
function :func:`descend_chunk_task`): ``--scheduler local:N`` runs the chunks on a local Dask
cluster, ``--scheduler tcp://HOST:PORT`` on an existing one, ``--executor processes`` on a
local process pool; workers rebuild each sample's model from its parameters and seed (and
check its fingerprint), the tables are identical wherever the chunks run, and ``--resume``
continues an interrupted run without redoing finished chunks.

``descend mlp`` trains replicas of a fully connected network (``landscapes.nn.MLPLoss``) on
one dataset (``landscapes.datasets``: scikit-learn's digits, or a teacher-student regression
whose teacher is a network of the student's architecture, so the global minimum is 0). The
root seed spawns one stream for the data and one per replica (initialization + SGD order);
the tables and figures report the mean loss per sample (the loss is intensive).
"""

from __future__ import annotations

import argparse
import functools
import json

import numpy as np

from analysis.tasks import add_executor_arguments, executor_from_args

__all__ = ["descend_chunk_task", "register", "run"]


def _common(q, *, step: float, max_steps: int, gtol: float, methods: tuple[str, ...]) -> None:
    q.add_argument("--replicas", type=int, default=256, help="number of replicas (default 256)")
    q.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    q.add_argument(
        "--method",
        choices=methods,
        default="gd",
        help=f"dynamics (default gd; {'|'.join(methods)})",
    )
    q.add_argument("--step", type=float, default=step, help=f"step size (default {step})")
    q.add_argument(
        "--schedule",
        choices=("fixed", "decay", "armijo"),
        default="fixed",
        help="step schedule (default fixed; armijo for GD only)",
    )
    q.add_argument(
        "--decay",
        type=float,
        default=1e-3,
        help="c of the decaying step step/(1 + c t) (default 1e-3)",
    )
    q.add_argument(
        "--max-steps", type=int, default=max_steps, help=f"GD step limit (default {max_steps})"
    )
    q.add_argument(
        "--gtol",
        type=float,
        default=gtol,
        help=f"GD stops when |rgrad|/sqrt(dim) <= gtol (default {gtol:g})",
    )
    q.add_argument(
        "--record-every",
        type=int,
        default=10,
        help="record the trajectory every this many steps (default 10)",
    )
    q.add_argument("--chunk", type=int, default=64, help="replicas per stored task (default 64)")
    q.add_argument("--out", default=None, help="run folder (default runs/descend-...)")
    q.add_argument(
        "--resume",
        nargs="?",
        const=True,
        default=False,
        metavar="RUN_DIR",
        help="continue an existing run folder (given here or by --out)",
    )
    add_executor_arguments(q)
    q.set_defaults(func=run)


def register(subparsers) -> None:
    """Add ``descend pspin`` and ``descend mlp`` to the CLI."""
    p = subparsers.add_parser(
        "descend",
        help="GD / SGD / Langevin over many replicas (Sagun et al. experiment)",
        description=__doc__.split("\n\n")[0],
    )
    sub = p.add_subparsers(dest="target", metavar="TARGET")
    sub.required = True
    q = sub.add_parser(
        "pspin",
        help="replicas of GD or Langevin on the spherical p-spin glass",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    q.add_argument("--N", type=int, default=200, help="number of spins (default 200)")
    q.add_argument("--p", type=int, default=3, help="interaction order (default 3)")
    q.add_argument(
        "--couplings",
        default="gaussian",
        choices=("gaussian", "rademacher", "uniform", "exponential"),
        help="law of the iid couplings (default gaussian)",
    )
    q.add_argument(
        "--samples",
        type=int,
        default=1,
        help="coupling samples; replicas are split evenly over them (default 1)",
    )
    q.add_argument("--temperature", type=float, default=0.5, help="Langevin temperature")
    q.add_argument("--n-steps", type=int, default=2000, help="Langevin steps (default 2000)")
    q.add_argument("--adjusted", action="store_true", help="Metropolis-adjusted Langevin")
    _common(q, step=0.1, max_steps=20000, gtol=1e-5, methods=("gd", "sgd", "langevin"))

    m = sub.add_parser(
        "mlp",
        help="replicas of GD or SGD training a fully connected network",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    m.add_argument(
        "--dataset",
        choices=("digits", "teacher_student"),
        default="digits",
        help="training data (default digits)",
    )
    m.add_argument("--hidden", type=int, nargs="+", default=[32], help="hidden widths (default 32)")
    m.add_argument(
        "--activation",
        choices=("tanh", "relu", "softplus", "gelu", "linear"),
        default="tanh",
        help="hidden nonlinearity (default tanh)",
    )
    m.add_argument(
        "--loss",
        choices=("cross_entropy", "mse"),
        default=None,
        help="default: cross_entropy for digits, mse for teacher_student",
    )
    m.add_argument("--weight-decay", type=float, default=0.0, help="coefficient of |theta|^2/2")
    m.add_argument(
        "--n-train",
        type=int,
        default=None,
        help="training samples (digits: stratified subsample; teacher_student: default 500)",
    )
    m.add_argument("--input-dim", type=int, default=10, help="teacher_student input dim")
    m.add_argument(
        "--teacher-hidden",
        type=int,
        nargs="+",
        default=None,
        help="teacher_student: the teacher's hidden widths (default: --hidden)",
    )
    m.add_argument("--noise", type=float, default=0.0, help="teacher_student label noise")
    m.add_argument("--batch-size", type=int, default=32, help="SGD minibatch (default 32)")
    m.add_argument("--epochs", type=int, default=20, help="SGD epochs (default 20)")
    _common(m, step=0.1, max_steps=2000, gtol=1e-6, methods=("gd", "sgd"))


def _theory_lines(p: int) -> dict[str, float]:
    try:
        from pspin import theory

        return {
            "-E_inf (threshold)": -float(theory.threshold_energy(p)),
            "-E_0 (ground state)": -float(theory.ground_state_energy(p)),
        }
    except Exception:  # theory module absent: the closed form of the threshold only
        return {"-E_inf (threshold)": -2.0 * np.sqrt((p - 1) / p)}


def _check_common(args) -> None:
    if args.replicas < 1 or args.chunk < 1:
        raise ValueError("--replicas and --chunk must be >= 1")
    if args.step <= 0:
        raise ValueError(f"--step must be > 0; got {args.step}")
    if args.record_every < 1:
        raise ValueError(f"--record-every must be >= 1; got {args.record_every}")


def _gd_config(args) -> dict:
    return dict(schedule=args.schedule, decay=args.decay, max_steps=args.max_steps, gtol=args.gtol)


def _config(args) -> dict:
    if args.target == "mlp":
        return _mlp_config(args)
    _check_common(args)
    if args.N < 2 or args.p < 2:
        raise ValueError(f"--N and --p must be >= 2; got N={args.N}, p={args.p}")
    if args.samples < 1:
        raise ValueError("--samples must be >= 1")
    if args.replicas % args.samples:
        raise ValueError(
            f"--replicas ({args.replicas}) must be a multiple of --samples ({args.samples})"
        )
    if args.method == "sgd":
        raise ValueError(
            "--method sgd needs a finite-sum energy (a loss averaged over data samples); the "
            "p-spin is not one: use gd or langevin (or descend mlp)"
        )
    cfg = dict(
        target="pspin",
        N=args.N,
        p=args.p,
        couplings=args.couplings,
        replicas=args.replicas,
        samples=args.samples,
        seed=args.seed,
        method=args.method,
        step=args.step,
        record_every=args.record_every,
        chunk=args.chunk,
    )
    if args.method == "gd":
        cfg.update(_gd_config(args))
    else:
        cfg.update(temperature=args.temperature, n_steps=args.n_steps, adjusted=args.adjusted)
    return cfg


def _mlp_config(args) -> dict:
    _check_common(args)
    loss = args.loss or ("cross_entropy" if args.dataset == "digits" else "mse")
    if loss == "cross_entropy" and args.dataset != "digits":
        raise ValueError("--loss cross_entropy needs a classification dataset (digits)")
    if args.schedule == "armijo" and args.method == "sgd":
        raise ValueError("--schedule armijo is for GD only; SGD takes fixed or decay")
    cfg = dict(
        target="mlp",
        dataset=args.dataset,
        hidden=list(args.hidden),
        activation=args.activation,
        loss=loss,
        weight_decay=args.weight_decay,
        n_train=args.n_train,
        replicas=args.replicas,
        samples=1,
        seed=args.seed,
        method=args.method,
        step=args.step,
        record_every=args.record_every,
        chunk=args.chunk,
    )
    if args.dataset == "teacher_student":
        cfg.update(
            input_dim=args.input_dim,
            teacher_hidden=list(args.teacher_hidden or args.hidden),
            noise=args.noise,
        )
    if args.method == "gd":
        cfg.update(_gd_config(args))
    else:
        cfg.update(
            batch_size=args.batch_size, epochs=args.epochs, schedule=args.schedule, decay=args.decay
        )
    return cfg


def _mlp_model(cfg, data_seed):
    """The network loss of an ``mlp`` configuration (data drawn from ``data_seed``)."""
    from landscapes import datasets
    from landscapes.nn import MLPLoss

    if cfg["dataset"] == "digits":
        data = datasets.digits(seed=data_seed, n_train=cfg["n_train"])
    else:
        data = datasets.teacher_student(
            n_samples=cfg["n_train"] or 500,
            dim=cfg["input_dim"],
            hidden=tuple(cfg["teacher_hidden"]),
            activation=cfg["activation"],
            noise=cfg["noise"],
            seed=data_seed,
        )
    return MLPLoss(
        data,
        hidden=tuple(cfg["hidden"]),
        activation=cfg["activation"],
        loss=cfg["loss"],
        weight_decay=cfg["weight_decay"],
    )


def _tasks(cfg):
    per = cfg["replicas"] // cfg["samples"]
    for s in range(cfg["samples"]):
        for a in range(0, per, cfg["chunk"]):
            yield s, s * per + a, s * per + min(per, a + cfg["chunk"])


def _descent_arrays(r) -> dict:
    out = dict(
        energies=r.energies,
        intensive=r.intensive,
        grad_norms=r.grad_norms,
        intensive_grad_norms=r.intensive_grad_norms,
        steps=r.steps,
        converged=r.converged,
        diverged=r.diverged,
        halting_times=r.halting_times,
        ladder=r.ladder,
        x=r.x,
        traj_steps=r.trajectory_steps,
        traj_energies=r.trajectory_energies,
        traj_grad_norms=r.trajectory_grad_norms,
    )
    if r.method == "sgd":  # no stopping rule, hence no halting times
        del out["halting_times"], out["ladder"]
    return out


def _run_chunk(cfg, model, streams):
    """Run one chunk of replicas (replica j of the chunk from ``streams[j]``)."""
    from analysis.dynamics import gradient_descent, langevin, sgd

    lo, hi = 0, len(streams)
    inits, dyns = [], []
    for ss in streams:
        a, b = ss.spawn(2)
        inits.append(model.random_point(a))
        dyns.append(b)
    x0 = np.stack(inits)
    if cfg["method"] == "gd":
        r = gradient_descent(
            model,
            x0,
            step=cfg["step"],
            max_steps=cfg["max_steps"],
            gtol=cfg["gtol"],
            schedule=cfg["schedule"],
            decay=cfg["decay"],
            record_every=cfg["record_every"],
            on_divergence="flag",
        )
        arrays = _descent_arrays(r)
    elif cfg["method"] == "sgd":
        r = sgd(
            model,
            x0,
            batch_size=cfg["batch_size"],
            step=cfg["step"],
            epochs=cfg["epochs"],
            seed=dyns,
            schedule=cfg["schedule"],
            decay=cfg["decay"],
            record_every=cfg["record_every"],
            on_divergence="flag",
        )
        arrays = _descent_arrays(r)
    else:
        r = langevin(
            model,
            x0,
            temperature=cfg["temperature"],
            step=cfg["step"],
            n_steps=cfg["n_steps"],
            seed=dyns,
            adjusted=cfg["adjusted"],
            record_every=cfg["record_every"],
            on_divergence="flag",
        )
        g = model.rgrad(r.x)
        gn = np.linalg.norm(g, axis=1)
        arrays = dict(
            energies=r.energies,
            intensive=r.intensive,
            grad_norms=gn,
            intensive_grad_norms=gn / np.sqrt(model.dim),
            steps=np.full(hi - lo, r.n_steps),
            converged=np.zeros(hi - lo, dtype=bool),
            diverged=r.diverged,
            acceptance=r.acceptance,
            x=r.x,
            traj_steps=r.trace_steps,
            traj_energies=r.trace,
        )
    if cfg["target"] == "mlp" and model.data.task == "classification":
        arrays["train_accuracy"] = np.asarray(model.accuracy(r.x, "train"), dtype=float)
        if model.data.X_test is not None:
            arrays["test_accuracy"] = np.asarray(model.accuracy(r.x, "test"), dtype=float)
    return arrays


_TASK_FUNC = "analysis.commands.descend:descend_chunk_task"


@functools.lru_cache(maxsize=1)
def _mlp_cached(cfg_json: str, seed_json: str):
    from landscapes.random import seed_from_info

    return _mlp_model(json.loads(cfg_json), seed_from_info(json.loads(seed_json)))


def _model_spec(cfg: dict, model, stream) -> dict:
    """What a worker needs to rebuild a sample's model: parameters, seed, fingerprint."""
    from analysis.tasks import model_spec
    from landscapes.random import seed_info

    if cfg["target"] == "pspin":
        return model_spec(model)
    return {"model": "mlp", "data_seed": seed_info(stream), "fingerprint": model.fingerprint}


def _build(cfg: dict, spec: dict):
    """The model of a spec, built on the worker (once per process), fingerprint checked."""
    from analysis.tasks import build_model

    if spec.get("model") != "mlp":
        return build_model(spec)
    model = _mlp_cached(json.dumps(cfg, sort_keys=True), json.dumps(spec["data_seed"]))
    if model.fingerprint != spec["fingerprint"]:
        raise ValueError(
            f"model fingerprint mismatch: the spec says {spec['fingerprint'][:16]}..., the "
            f"model built on this worker is {model.fingerprint[:16]}... (different versions of "
            "numpy, scikit-learn or landscapes on the workers?)"
        )
    return model


def descend_chunk_task(config: dict, seed: np.random.SeedSequence) -> tuple[dict, dict]:
    """One chunk of replicas of ``descend`` (a sweep task; runs on a worker).

    ``config``: ``run`` (the command's configuration), ``sample`` (coupling sample or data
    set), ``lo``/``hi`` (the chunk's replicas) and ``model`` (the sample's model spec: the
    model is built here from its parameters and seed, and its fingerprint checked).
    ``seed`` is the run's replica SeedSequence: replica ``j`` uses its child ``j`` (what
    ``seed.spawn(replicas)[j]`` gives), split into an initial-point and a dynamics stream.

    Returns meta ``{sample, lo, hi, fingerprint}`` and the chunk's arrays (final energies,
    gradient norms, steps, flags, halting times, final points, trajectories).
    """
    cfg, lo, hi = config["run"], int(config["lo"]), int(config["hi"])
    model = _build(cfg, config["model"])
    base = tuple(seed.spawn_key)
    streams = [np.random.SeedSequence(seed.entropy, spawn_key=base + (j,)) for j in range(lo, hi)]
    arrays = _run_chunk(cfg, model, streams)
    meta = {"sample": int(config["sample"]), "lo": lo, "hi": hi, "fingerprint": model.fingerprint}
    return meta, arrays


def _on_grid(steps, values, grid):
    """Values at grid times: the last recorded value at or before each time."""
    i = np.searchsorted(steps, grid, side="right") - 1
    return values[np.clip(i, 0, len(steps) - 1)]


def _describe(cfg) -> dict:
    """Names, labels and theory lines of a configuration's target."""
    if cfg["target"] == "pspin":
        return dict(
            what="H/N (energy per spin)",
            column="final_energy_per_spin",
            lines=_theory_lines(cfg["p"]),
            energy_definition="H/N, ABC normalization (E[H(s)H(s')] = N q^p)",
            model=(
                f"p={cfg['p']}, N={cfg['N']}, {{n}} replicas, "
                f"{cfg['samples']} coupling sample(s) ({cfg['couplings']})"
            ),
        )
    arch = "-".join(str(h) for h in cfg["hidden"])
    lines = {}
    if cfg["dataset"] == "teacher_student" and cfg["noise"] == 0 and cfg["weight_decay"] == 0:
        if cfg["teacher_hidden"] == cfg["hidden"]:
            lines = {"teacher (global minimum)": 0.0}
    return dict(
        what="mean loss per sample",
        column="final_mean_loss",
        lines=lines,
        energy_definition=f"mean {cfg['loss']} loss per training sample"
        + (f" + {cfg['weight_decay']} |theta|^2/2" if cfg["weight_decay"] else ""),
        model=(
            f"MLP hidden {arch} ({cfg['activation']}, {cfg['loss']}) on {cfg['dataset']}, "
            "{n} replicas"
        ),
    )


def run(args) -> int:
    """Run ``descend pspin`` or ``descend mlp``; returns the exit status."""
    from analysis.plots import use_agg
    from analysis.plots.dynamics import energy_vs_time, final_energy_histogram
    from analysis.store import RunFolder
    from analysis.tasks import SweepError, Task
    from landscapes.random import seed_info

    cfg = _config(args)
    spec = executor_from_args(args)  # checked before any folder is written
    out = args.out
    if isinstance(args.resume, str):
        if out is not None and out != args.resume:
            raise ValueError(f"--out {out} and --resume {args.resume} name different folders")
        out = args.resume
    folder = RunFolder(out, "descend", cfg, resume=bool(args.resume))
    root = np.random.SeedSequence(cfg["seed"])
    coup_root, rep_root = root.spawn(2)
    coup_streams = coup_root.spawn(cfg["samples"])

    def make_model(s):
        if cfg["target"] == "mlp":
            return _mlp_model(cfg, coup_streams[s])
        from pspin import SphericalPSpin

        return SphericalPSpin(cfg["N"], cfg["p"], seed=coup_streams[s], couplings=cfg["couplings"])

    chunks = list(_tasks(cfg))
    # one model spec per sample (parameters, seed, fingerprint): the client builds each model
    # once, one at a time, for its fingerprint; workers rebuild it and check the fingerprint
    specs = {}
    for s in sorted({s for s, _, _ in chunks}):
        specs[s] = _model_spec(cfg, make_model(s), coup_streams[s])
    rep_seed = seed_info(rep_root)
    tasks = [
        Task(_TASK_FUNC, {"run": cfg, "sample": s, "lo": lo, "hi": hi, "model": specs[s]}, rep_seed)
        for s, lo, hi in chunks
    ]
    try:
        spec.run(tasks, folder, desc=f"descend {cfg['target']} ({cfg['method']})")
    except SweepError as exc:
        print(str(exc))
        return 1
    fingerprints = {}
    # ------------------------------------------------------------------ gather
    d = _describe(cfg)
    col = d["column"]
    rows, finals, trajs = [], [], []
    for task in tasks:
        rec, a = folder.load_task(task.key)
        meta = rec["result"]
        s, lo, hi = meta["sample"], meta["lo"], meta["hi"]
        fingerprints[s] = meta["fingerprint"]
        for j in range(hi - lo):
            row = dict(sample=s, replica=lo + j, final_energy=float(a["energies"][j]))
            row[col] = float(a["intensive"][j])
            row.update(
                grad_norm=float(a["grad_norms"][j]),
                grad_norm_rms=float(a["intensive_grad_norms"][j]),
                steps=int(a["steps"][j]),
                converged=bool(a["converged"][j]),
                diverged=bool(a["diverged"][j]),
            )
            if "halting_times" in a:
                for lv, ht in zip(a["ladder"], a["halting_times"][j], strict=True):
                    row[f"halting_step_g{lv:.0e}"] = int(ht)
            for extra in ("acceptance", "train_accuracy", "test_accuracy"):
                if extra in a:
                    row[extra] = float(a[extra][j])
            rows.append(row)
        finals.append(a["x"])
        trajs.append((a["traj_steps"], a["traj_energies"]))
    folder.write_table("final.csv", rows)
    tmax = max(int(t[-1]) for t, _ in trajs)
    grid = np.unique(np.concatenate([np.arange(0, tmax + 1, cfg["record_every"]), [tmax]]))
    E = np.concatenate([_on_grid(t, e, grid) for t, e in trajs], axis=1)
    traj_name = "energy_per_spin" if cfg["target"] == "pspin" else "mean_loss"
    folder.write_arrays(
        "trajectories.npz",
        steps=grid,
        **{traj_name: E},
        final_x=np.concatenate(finals),
        sample=np.array([r["sample"] for r in rows]),
    )
    vals = np.array([r[col] for r in rows])
    lines = d["lines"]
    summary = dict(
        replicas=len(rows),
        quantity=d["what"],
        mean=float(vals.mean()),
        std=float(vals.std(ddof=1)) if len(vals) > 1 else 0.0,
        min=float(vals.min()),
        max=float(vals.max()),
        converged=int(sum(r["converged"] for r in rows)),
        diverged=int(sum(r["diverged"] for r in rows)),
        theory=lines,
        fingerprints={str(k): v for k, v in fingerprints.items()},
        seeds={
            "root": seed_info(root),
            ("couplings" if cfg["target"] == "pspin" else "data"): [
                seed_info(c) for c in coup_streams
            ],
        },
        energy_definition=d["energy_definition"],
        gtol_definition="|rgrad| / sqrt(dim)",
    )
    for extra in ("train_accuracy", "test_accuracy"):
        if rows and extra in rows[0]:
            summary[f"mean_{extra}"] = float(np.mean([r[extra] for r in rows]))
    folder.write_json("summary.json", summary)
    use_agg()
    if cfg["method"] == "langevin":
        what = f"{'MALA' if cfg['adjusted'] else 'Langevin'} T={cfg['temperature']}"
    elif cfg["method"] == "sgd":
        what = f"SGD (batch {cfg['batch_size']})"
    else:
        what = "GD"
    title = f"{what}, " + d["model"].format(n=len(rows))
    folder.save_figure(
        "final_energy_hist.png",
        final_energy_histogram(vals, label=f"final {d['what']}", lines=lines, title=title),
    )
    folder.save_figure(
        "energy_vs_time.png",
        energy_vs_time(grid, E, label=d["what"], lines=lines, title=title),
    )
    acc = "".join(
        f"; mean {k.replace('_', ' ')} {summary['mean_' + k]:.4f}"
        for k in ("train_accuracy", "test_accuracy")
        if "mean_" + k in summary
    )
    folder.write_text(
        "report.md",
        f"# descend {cfg['target']} {cfg['method']}\n\n{title}\n\nfinal {d['what']}: "
        f"mean {summary['mean']:.5f}, std {summary['std']:.5f}, min {summary['min']:.5f}, "
        f"max {summary['max']:.5f}; converged {summary['converged']}/{len(rows)}, "
        f"diverged {summary['diverged']}{acc}\n\n"
        + "".join(f"- {k} = {v:.6f}\n" for k, v in lines.items()),
    )
    print(
        f"descend: {len(rows)} replicas, mean final {d['what']} {summary['mean']:.5f} "
        f"(std {summary['std']:.5f}); results in {folder.path}"
    )
    return 0
