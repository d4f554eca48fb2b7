"""Build-time helpers of the landscapes docs (a local Sphinx extension, loaded by conf.py).

* Benchmark pages: ``benchmarks/*.md`` of the repository become pages of the site
  (copied to ``docs/benchmarks/`` at each build with their links pointed at the site, so a
  new benchmark page appears by itself).
* Theory table: the constants of :mod:`pspin.theory`, computed by the package at build time
  (``docs/_generated/theory_values.md``).
* API reference: one page per public module of ``landscapes``, ``pspin`` and ``analysis``
  (``docs/api/generated/``), written at each build.
* Optional pages: ``architecture`` and ``reliability`` join the "Design" toctree of the index
  when their files exist.
* Links: repository-relative links of the Markdown pages (``../benchmarks/X.md`` in
  ``docs/distributed.md``) are pointed at the site's copies.
* Docstrings: plain-text bars (``|x|``) are escaped so that reStructuredText does not read them
  as substitutions.
"""

from __future__ import annotations

import inspect
import re
import shutil
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent
ROOT = DOCS.parent
OPTIONAL_PAGES = ("architecture", "reliability")
OPTIONAL_MARKER = "   optional-design-pages"


# --------------------------------------------------------------------------- generated files
def _write_if_changed(path: Path, text: str) -> None:
    """Write ``text`` unless the file already holds it (keeps Sphinx's incremental builds)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


_LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]+)\)")


def _site_links(text: str, page: str, out: Path) -> str:
    """Point the links of a ``benchmarks/*.md`` page at what the site has.

    Sibling pages stay (they are pages of the site); other existing files next to the page
    (figures, data) are copied beside the generated page; repository paths outside
    ``benchmarks/`` become literal text; a link to a file that does not exist becomes plain
    text and is reported on the console (the page's owner should fix it).
    """
    src = ROOT / "benchmarks"

    def fix(m: re.Match) -> str:
        bang, label, target = m.groups()
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            return m.group(0)
        path = target.split("#")[0]
        here = (src / path).resolve()
        if path.endswith(".md") and here.parent == src and here.exists():
            return m.group(0)
        if here.is_relative_to(DOCS) and here.exists():
            return f"{bang}[{label}]({Path('..', here.relative_to(DOCS)).as_posix()})"
        if here.is_file() and here.parent == src:
            shutil.copy2(here, out / here.name)
            return m.group(0)
        if here.exists() and here.is_relative_to(ROOT):
            return f"{label} (`{here.relative_to(ROOT).as_posix()}`)"
        print(f"docs: benchmarks/{page}.md links to {target}, which does not exist")
        return label

    return _LINK.sub(fix, text)


def benchmark_pages() -> list[str]:
    """Generate ``docs/benchmarks/``: the README as index, one page per result page."""
    out = DOCS / "benchmarks"
    src = ROOT / "benchmarks"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    pages = sorted(p.stem for p in src.glob("*.md") if p.stem != "README")
    readme = _site_links((src / "README.md").read_text(encoding="utf-8"), "README", out)
    toctree = ["", "```{toctree}", ":hidden:", "", *pages, "```", ""]
    _write_if_changed(out / "index.md", readme.rstrip("\n") + "\n" + "\n".join(toctree))
    for name in pages:
        text = (src / f"{name}.md").read_text(encoding="utf-8")
        _write_if_changed(out / f"{name}.md", _site_links(text, name, out))
    return pages


def theory_values() -> None:
    """Generate the table of theory constants (computed by :mod:`pspin.theory`)."""
    from pspin import theory

    rows = [
        "| quantity (function of `pspin.theory`) "
        "| p = 3, ABC | p = 3, CS | p = 4, ABC | p = 4, CS |",
        "|---|---|---|---|---|",
    ]

    def row(name, func, values):
        rows.append(f"| {name} ({func}) | " + " | ".join(f"{v:.6f}" for v in values) + " |")

    cases = [(p, c) for p in (3, 4) for c in ("abc", "cs")]
    row("$E_\\infty$", "`threshold_energy`", [theory.threshold_energy(p, c) for p, c in cases])
    row("$E_0$", "`ground_state_energy`", [theory.ground_state_energy(p, c) for p, c in cases])
    row("$E_1$", "`layer_energy(p, 1)`", [theory.layer_energy(p, 1, c) for p, c in cases])
    dyn = [theory.dynamical_transition(p, convention=c) for p, c in cases]
    sta = [theory.static_transition(p, convention=c) for p, c in cases]
    row("$T_d$", "`dynamical_transition`", [t.temperature for t in dyn])
    row("$q_d$", "`dynamical_transition`", [t.overlap for t in dyn])
    row("$T_s$", "`static_transition`", [t.temperature for t in sta])
    row("$q_s$", "`static_transition`", [t.overlap for t in sta])
    row("$e(T_s)$", "`static_transition`", [t.energy for t in sta])
    row(
        "$\\tfrac12\\log(p-1)$",
        "`total_complexity`",
        [theory.total_complexity(p, c) for p, c in cases],
    )
    row(
        "Hessian semicircle radius",
        "`hessian_spectrum`",
        [theory.hessian_spectrum(-theory.threshold_energy(p, c), p, c).radius for p, c in cases],
    )
    text = (
        "\n".join(rows) + "\n\nEnergies and temperatures per spin; the $E$ constants are positive "
        "(the energies are $-E$).\n"
    )
    _write_if_changed(DOCS / "_generated" / "theory_values.md", text)


# --------------------------------------------------------------------------- API reference
API_PACKAGES = ("landscapes", "pspin", "analysis")
# Left out of the API reference: the command-line layer (documented by ``landscapes COMMAND
# --help``); private modules (leading underscore, ``__main__`` included) are never walked.
API_SKIP = ("analysis.commands", "analysis.cli")


def _skipped(name: str) -> bool:
    return any(name == s or name.startswith(s + ".") for s in API_SKIP)


def _summary(obj) -> str:
    doc = inspect.getdoc(obj) or ""
    return _escape_bars(doc.strip().splitlines()[0]) if doc.strip() else ""


def _public_names(mod, name: str) -> list[tuple[str, str]]:
    """The ``__all__`` names of a package and the dotted path where each is documented."""
    rows = []
    for attr in getattr(mod, "__all__", []):
        obj = getattr(mod, attr, None)
        if inspect.ismodule(obj):
            rows.append((attr, obj.__name__))
            continue
        home = getattr(obj, "__module__", None) if callable(obj) else None
        ok = home and home.split(".")[0] in API_PACKAGES
        rows.append((attr, f"{home}.{attr}" if ok else ""))
    return rows


def api_pages() -> list[str]:
    """Write ``docs/api/generated/<module>.rst`` for every public module; return the names.

    Each object is documented once, on the page of the module that defines it (autodoc with
    ``ignore-module-all``); a package page adds its re-exported public names, linked to those
    pages, and its submodules. (Pages are written here rather than by autosummary, which
    resolves ``analysis.critical.verify`` to the function ``verify`` that the package
    re-exports, not to the module of that name.)
    """
    import importlib
    import pkgutil

    out = DOCS / "api" / "generated"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    written = []
    todo = list(API_PACKAGES)
    while todo:
        name = todo.pop(0)
        mod = importlib.import_module(name)
        subs = []
        if hasattr(mod, "__path__"):
            subs = [
                f"{name}.{m.name}"
                for m in pkgutil.iter_modules(mod.__path__)
                if not m.name.startswith("_") and not _skipped(f"{name}.{m.name}")
            ]
            todo += subs
        title = f"``{name}``"
        lines = [title, "=" * len(title), "", f".. automodule:: {name}", "   :members:"]
        lines += ["   :show-inheritance:", ""]
        names = _public_names(mod, name) if subs else []
        if names:
            lines += [".. rubric:: Public names", ""]
            lines += [f"Importable from ``{name}`` (``from {name} import NAME``); each is"]
            lines += ["documented on the page of the module that defines it.", ""]
            for attr, target in names:
                lines.append(f"* :py:obj:`{attr} <{target}>`" if target else f"* ``{attr}``")
            lines.append("")
        if subs:
            lines += [".. rubric:: Modules", ""]
            for sub in subs:
                summary = _summary(importlib.import_module(sub))
                lines.append(f"* :doc:`{sub}` — {summary}" if summary else f"* :doc:`{sub}`")
            lines += ["", ".. toctree::", "   :hidden:", ""] + [f"   {sub}" for sub in subs]
            lines.append("")
        (out / f"{name}.rst").write_text("\n".join(lines), encoding="utf-8")
        written.append(name)
    return written


# --------------------------------------------------------------------------- source rewrites
def _source_read(app, docname: str, source: list[str]) -> None:
    text = source[0]
    if docname == "index" and OPTIONAL_MARKER in text:
        present = [
            p for p in OPTIONAL_PAGES if (DOCS / f"{p}.md").exists() or (DOCS / f"{p}.rst").exists()
        ]
        text = text.replace(OPTIONAL_MARKER, "\n".join(f"   {p}" for p in present))
    if "/" not in docname:  # Markdown pages at the top of docs/ that link into the repository
        text = re.sub(r"\]\(\.\./benchmarks/([\w-]+)\.md", r"](benchmarks/\1.md", text)
    source[0] = text


# --------------------------------------------------------------------------- docstrings
_BACKTICKS = re.compile(r"(`+)(?:(?!\1).)*\1")


def _escape_bars(line: str) -> str:
    out, pos = [], 0
    for m in _BACKTICKS.finditer(line):
        out.append(line[pos : m.start()].replace("|", r"\|"))
        out.append(m.group(0))
        pos = m.end()
    out.append(line[pos:].replace("|", r"\|"))
    return "".join(out)


def _escape_docstring_bars(app, what, name, obj, options, lines: list[str]) -> None:
    """Escape bars outside inline literals and outside literal / directive blocks.

    The house style writes norms and absolute values in plain text (``|x|``, ``|rgrad H|``),
    which reStructuredText would read as substitution references. Grid tables, which need
    bars, are not used in the docstrings.
    """
    block_indent = None  # indentation of the line that opened a literal / directive block
    for i, line in enumerate(lines):
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if block_indent is not None:
            if stripped and indent <= block_indent:
                block_indent = None
            else:
                continue
        if "|" in line:
            lines[i] = _escape_bars(line)
        if stripped.endswith("::"):
            block_indent = indent


def setup(app) -> dict:
    # The API pages are regenerated at every build, so that a module that moved or left
    # leaves no stale page behind (an orphan page would fail the build under -W).
    api_pages()
    benchmark_pages()
    theory_values()
    app.connect("source-read", _source_read)
    # the index's toctree depends on which optional pages exist: read it again every time
    app.connect("env-get-outdated", lambda app, env, added, changed, removed: ["index"])
    app.connect("autodoc-process-docstring", _escape_docstring_bars)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
