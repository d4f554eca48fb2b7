"""The HTML report of a run folder: figures, captions, theory lines, tables, warnings.

``report.html`` is a single static page next to the figures it shows (relative links), so the
run folder can be copied or served as is. Every figure links to its full-size PNG. Warnings
are gathered in one table at the top (:func:`render_report`'s ``warnings``), not scattered
as banners. A tiny inline script marks every image with ``data-loaded="1"`` once it has
decoded (``naturalWidth > 0``) or ``"0"`` when it failed, which lets a headless browser check
the page (tests/test_report_browser.py). :func:`render_markdown` / :func:`write_report_md`
write the same content as ``report.md`` for terminals and version control.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "ReportFigure",
    "ReportSection",
    "render_report",
    "write_report",
    "render_markdown",
    "write_report_md",
    "write_run_report",
]

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5em auto;
       max-width: 1400px; color: #222; line-height: 1.4; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.6em; }
.meta { color: #666; font-size: 0.9em; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 1.2em; }
.grid.one { grid-template-columns: 1fr; max-width: 1150px; }
figure a { display: block; }
table.warnings td, table.warnings th { text-align: left; }
table.warnings { border-left: 4px solid #f0b400; }
figure { margin: 0; background: #fafafa; border: 1px solid #e4e4e4; border-radius: 6px;
         padding: 0.6em; }
figure img { width: 100%; height: auto; display: block; }
figcaption { font-size: 0.9em; color: #333; margin-top: 0.4em; }
figcaption b { display: block; margin-bottom: 0.2em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.6em 0; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; }
th { background: #f0f0f0; }
ul.theory li { margin: 0.15em 0; }
.note { background: #fff8e1; border-left: 4px solid #f0b400; padding: 0.4em 0.8em; }
"""

_SCRIPT = """
<script>
(function () {
  function mark(img) {
    img.setAttribute("data-loaded", img.complete && img.naturalWidth > 0 ? "1" : "0");
  }
  var imgs = document.querySelectorAll("img");
  imgs.forEach(function (img) {
    img.addEventListener("load", function () { mark(img); });
    img.addEventListener("error", function () { mark(img); });
    if (img.complete) { mark(img); }
  });
})();
</script>
"""


@dataclass(frozen=True)
class ReportFigure:
    """One figure of the report: a PNG inside the run folder and its caption.

    Attributes
    ----------
    path : str
        Path of the PNG relative to the run folder (e.g. ``"figures/energies.png"``).
    title : str
        Short bold title.
    caption : str
        One or two sentences: what is plotted and what to look for.
    """

    path: str
    title: str
    caption: str = ""


@dataclass(frozen=True)
class ReportSection:
    """A titled group of figures with an optional paragraph and table.

    ``columns=2`` (default) shows figures side by side on a wide screen; ``columns=1`` shows
    each figure at the full report width (for figures of two panels side by side, which stay
    readable only at full width). ``table_md`` is the Markdown twin of ``table_html`` for
    report.md.
    """

    title: str
    figures: tuple = ()
    text: str = ""
    table_html: str = ""
    notes: tuple = field(default_factory=tuple)
    columns: int = 2
    table_md: str = ""


def _table_html(table) -> str:
    """HTML of a DataFrame (or list of dicts), floats with 4 significant digits."""
    import pandas as pd

    df = table if isinstance(table, pd.DataFrame) else pd.DataFrame(table)
    return df.to_html(index=False, float_format=lambda v: f"{v:.4g}", border=0, na_rep="–")


def _cell(v) -> str:
    if isinstance(v, float):
        return "–" if v != v else f"{v:.4g}"
    return str(v).replace("|", "\\|").replace("\n", " ")


def markdown_table(table) -> str:
    """A DataFrame (or list of dicts) as a GitHub Markdown table (floats to 4 digits)."""
    import pandas as pd

    df = table if isinstance(table, pd.DataFrame) else pd.DataFrame(table)
    if not len(df.columns):
        return ""
    head = "| " + " | ".join(map(str, df.columns)) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    rows = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, rule, *rows])


def _warnings_frame(warnings):
    """Warnings as a DataFrame: rows of (where, warning) pairs, dicts, or a DataFrame."""
    import pandas as pd

    if isinstance(warnings, pd.DataFrame):
        return warnings
    rows = [w if isinstance(w, dict) else {"where": w[0], "warning": w[1]} for w in warnings]
    return pd.DataFrame(rows)


def render_report(
    *,
    title: str,
    subtitle: str = "",
    theory: Sequence[tuple[str, str]] = (),
    protocol: Sequence[tuple[str, str]] = (),
    summary=None,
    sections: Sequence[ReportSection] = (),
    notes: Sequence[str] = (),
    warnings=(),
) -> str:
    """The report page as a string.

    Parameters
    ----------
    title, subtitle : str
        Page heading and a line under it (e.g. the command and run folder).
    theory : sequence of (name, value) pairs
        Theory lines drawn in the figures (e.g. ``("-E_inf (p=3 threshold)", "-1.63299")``).
    protocol : sequence of (name, value) pairs
        What was run (budgets, tolerances, schedules), shown under "Protocol".
    summary : DataFrame or list of dicts, optional
        The summary table.
    sections : sequence of ReportSection
        Figure groups, each shown as a responsive grid (two figures side by side on a wide
        screen).
    notes : sequence of str
        Highlighted remarks (e.g. unconverged replicas).
    warnings : sequence of (where, warning) pairs or dicts, or a DataFrame
        Shown as ONE table under the heading "Warnings", before the content.
    """
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
    ]
    if subtitle:
        parts.append(f'<p class="meta">{esc(subtitle)}</p>')
    for n in notes:
        parts.append(f'<p class="note">{esc(n)}</p>')
    if len(warnings):
        wf = _warnings_frame(warnings)
        parts.append(f"<h2>Warnings ({len(wf)})</h2>")
        parts.append(_table_html(wf).replace('class="dataframe"', 'class="dataframe warnings"'))
    if theory:
        parts.append("<h2>Theory lines</h2><ul class='theory'>")
        parts += [f"<li><b>{esc(k)}</b>: {esc(v)}</li>" for k, v in theory]
        parts.append("</ul>")
    if protocol:
        parts.append("<h2>Protocol</h2><ul class='theory'>")
        parts += [f"<li><b>{esc(k)}</b>: {esc(v)}</li>" for k, v in protocol]
        parts.append("</ul>")
    if summary is not None:
        parts.append("<h2>Summary</h2>")
        parts.append(_table_html(summary))
    for sec in sections:
        parts.append(f"<h2>{esc(sec.title)}</h2>")
        if sec.text:
            parts.append(f"<p>{esc(sec.text)}</p>")
        for n in sec.notes:
            parts.append(f'<p class="note">{esc(n)}</p>')
        if sec.figures:
            parts.append('<div class="grid one">' if sec.columns == 1 else '<div class="grid">')
            for f in sec.figures:
                src = esc(f.path, quote=True)
                parts.append(
                    f'<figure><a href="{src}" title="open full size">'
                    f'<img src="{src}" alt="{esc(f.title, quote=True)}"></a>'
                    f"<figcaption><b>{esc(f.title)}</b>{esc(f.caption)}</figcaption></figure>"
                )
            parts.append("</div>")
        if sec.table_html:
            parts.append(sec.table_html)
    parts.append(_SCRIPT)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_report(run, name: str = "report.html", **kwargs) -> Path:
    """Render the report (see :func:`render_report`) and write it atomically into ``run``.

    Every figure path must exist in the run folder; a missing one is a ValueError (a report
    never links to an image that is not there).
    """
    root = Path(run.path)
    missing = [
        f.path
        for sec in kwargs.get("sections", ())
        for f in sec.figures
        if not (root / f.path).is_file()
    ]
    if missing:
        raise ValueError(f"report figures missing from {root}: {', '.join(missing)}")
    return run.write_text(name, render_report(**kwargs))


def render_markdown(
    *,
    title: str,
    subtitle: str = "",
    theory: Sequence[tuple[str, str]] = (),
    protocol: Sequence[tuple[str, str]] = (),
    summary=None,
    sections: Sequence[ReportSection] = (),
    notes: Sequence[str] = (),
    warnings=(),
) -> str:
    """The report as Markdown (report.md): the same content as :func:`render_report`.

    Figures become image links with their captions, tables GitHub Markdown tables (a
    section's ``table_md``; its HTML table is left out when it has no Markdown twin).
    """
    out = [f"# {title}", ""]
    if subtitle:
        out += [subtitle, ""]
    out += [f"> {n}" for n in notes] + ([""] if notes else [])
    if len(warnings):
        wf = _warnings_frame(warnings)
        out += [f"## Warnings ({len(wf)})", "", markdown_table(wf), ""]
    for head, items in (("Theory lines", theory), ("Protocol", protocol)):
        if items:
            out += [f"## {head}", ""] + [f"- **{k}**: {v}" for k, v in items] + [""]
    if summary is not None:
        out += ["## Summary", "", markdown_table(summary), ""]
    for sec in sections:
        out += [f"## {sec.title}", ""]
        if sec.text:
            out += [sec.text, ""]
        out += [f"> {n}" for n in sec.notes] + ([""] if sec.notes else [])
        for f in sec.figures:
            out += [f"[![{f.title}]({f.path})]({f.path})", "", f"**{f.title}.**{f.caption}", ""]
        if sec.table_md:
            out += [sec.table_md, ""]
    return "\n".join(out).rstrip() + "\n"


def write_report_md(run, name: str = "report.md", **kwargs) -> Path:
    """Render :func:`render_markdown` and write it atomically into ``run``."""
    return run.write_text(name, render_markdown(**kwargs))


_MAX_ROWS = 40  # rows of a table shown in a generic report (the CSV holds all of them)


def _figure_item(run, f) -> ReportFigure:
    if isinstance(f, ReportFigure):
        return f
    if isinstance(f, tuple):
        name, title, *cap = f
    else:
        name, title, cap = f, "", []
    rel = run.name_of("figure", name)
    return ReportFigure(rel, title or Path(rel).stem.replace("_", " "), cap[0] if cap else "")


def write_run_report(
    run,
    *,
    title: str,
    subtitle: str | None = None,
    text: str = "",
    tables: Sequence = (),
    figures: Sequence = (),
    sections: Sequence[ReportSection] = (),
    notes: Sequence[str] = (),
    warnings=(),
    protocol: Sequence[tuple[str, str]] = (),
    markdown: str | None = None,
) -> tuple[Path, Path]:
    """Write ``report.html`` and ``report.md`` of a run folder from its tables and figures.

    The generic report of a command without a bespoke one: a title, an optional paragraph,
    one section per table (the first rows; a link to the full CSV) and one section with every
    figure, each clickable to its full-size PNG.

    Parameters
    ----------
    run : analysis.store.RunFolder
        The run folder (tables and figures are read from its layout).
    title, subtitle, text : str
        Heading, the line under it (default: the run folder) and a paragraph.
    tables : sequence of str or (str, DataFrame)
        Table names under ``tables/`` (read back from the folder), or (name, table) pairs.
    figures : sequence of str, (name, title[, caption]) or ReportFigure
        Figures under ``figures/``.
    sections : sequence of ReportSection
        Extra sections, after the tables and figures.
    notes, warnings, protocol
        As for :func:`render_report`.
    markdown : str or None
        A command's own report.md text (default: the Markdown twin of the HTML page).

    Returns
    -------
    (Path, Path)
        The paths of report.html and report.md.
    """
    secs = []
    if text:
        secs.append(ReportSection(title="About this run", text=text))
    for t in tables:
        name, df = (t, run.read_table(t)) if isinstance(t, str) else t
        rel = run.name_of("table", name)
        shown = df.head(_MAX_ROWS)
        more = f" (first {_MAX_ROWS} of {len(df)} rows)" if len(df) > _MAX_ROWS else ""
        link = f'<p class="meta"><a href="{html.escape(rel, quote=True)}">{html.escape(rel)}</a>'
        secs.append(
            ReportSection(
                title=f"Table {Path(rel).name}{more}",
                table_html=link + "</p>" + _table_html(shown),
                table_md=f"[{rel}]({rel})\n\n" + markdown_table(shown),
            )
        )
    figs = tuple(_figure_item(run, f) for f in figures)
    if figs:
        secs.append(ReportSection(title="Figures", figures=figs))
    secs.extend(sections)
    kw = dict(
        title=title,
        subtitle=str(run.path) if subtitle is None else subtitle,
        sections=secs,
        notes=tuple(notes),
        warnings=warnings,
        protocol=tuple(protocol),
    )
    html_path = write_report(run, "report.html", **kw)
    if markdown is not None:
        return html_path, run.write_text("report.md", markdown)
    return html_path, write_report_md(run, "report.md", **kw)
