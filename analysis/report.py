"""The HTML report of a run folder: figures side by side, captions, theory lines, tables.

``report.html`` is a single static page next to the figures it shows (relative links), so the
run folder can be copied or served as is. A tiny inline script marks every image with
``data-loaded="1"`` once it has decoded (``naturalWidth > 0``) or ``"0"`` when it failed,
which lets a headless browser check the page (tests/test_report_browser.py).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ReportFigure", "ReportSection", "render_report", "write_report"]

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5em auto;
       max-width: 1400px; color: #222; line-height: 1.4; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.6em; }
.meta { color: #666; font-size: 0.9em; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 1.2em; }
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
    """A titled group of figures shown side by side, with an optional paragraph and table."""

    title: str
    figures: tuple = ()
    text: str = ""
    table_html: str = ""
    notes: tuple = field(default_factory=tuple)


def _table_html(table) -> str:
    """HTML of a DataFrame (or list of dicts), floats with 4 significant digits."""
    import pandas as pd

    df = table if isinstance(table, pd.DataFrame) else pd.DataFrame(table)
    return df.to_html(index=False, float_format=lambda v: f"{v:.4g}", border=0, na_rep="–")


def render_report(
    *,
    title: str,
    subtitle: str = "",
    theory: Sequence[tuple[str, str]] = (),
    protocol: Sequence[tuple[str, str]] = (),
    summary=None,
    sections: Sequence[ReportSection] = (),
    notes: Sequence[str] = (),
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
            parts.append('<div class="grid">')
            for f in sec.figures:
                parts.append(
                    f'<figure><img src="{esc(f.path, quote=True)}" alt="{esc(f.title, quote=True)}">'
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
