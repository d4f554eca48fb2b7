"""Sphinx configuration of the landscapes docs site.

Build (warnings are errors, gallery examples executed)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Choices:

* Sphinx rather than MkDocs: the docstrings are numpydoc already (``numpydoc`` renders them
  without changes) and ``sphinx-gallery`` executes the tutorials during the build, so a
  tutorial that stops working fails the build.
* Theme: ``pydata-sphinx-theme``, the theme of NumPy, SciPy, pandas and Matplotlib: readers
  of this project know its navigation, it has a left section tree plus a right "on this
  page" outline (useful on the long API pages), and sphinx-gallery styles it out of the box.
* API pages: ``autosummary`` walks the packages recursively (templates in
  ``_templates/autosummary``); every object is documented once, on the page of the module
  that defines it (package pages list their submodules), so pages stay right as modules move.
"""

from __future__ import annotations

import os
import re
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Examples run in this process: one BLAS/OpenMP thread (the machines are small and shared).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import landscapes  # noqa: E402

project = "landscapes"
author = "the landscapes developers"
copyright = "the landscapes developers, MIT licence"  # noqa: A001
version = release = landscapes.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "README.md",  # how to build the docs: for the repository, not the site
    "build.sh",
    "gallery/README.txt",
    "**/GALLERY_HEADER.rst",
    "sg_execution_times.rst",
]

# -- API reference -----------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
# Packages and modules left out of the API reference: the command-line layer (documented by
# `landscapes COMMAND --help`) and entry points.
autosummary_context = {
    "skip_modules": [
        "analysis.commands",
        "analysis.cli",
        "landscapes.__main__",
        "analysis.__main__",
    ],
}
autodoc_default_options = {
    # Document each object on the page of the module that defines it (not where it is
    # re-exported), so that no object is described twice.
    "ignore-module-all": True,
    "member-order": "bysource",
}
autodoc_typehints = "none"  # the numpydoc Parameters sections say the types
autodoc_mock_imports: list[str] = []
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_attributes_as_param_list = True

# -- Markdown pages (README-style pages of the repository, the benchmark pages) -----------
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3
suppress_warnings = [
    # The included repository pages link to sibling files (e.g. `benchmarks/*.py`) that are
    # not pages of the site; MyST reports those as unresolved cross-references.
    "myst.xref_missing",
]

# -- Gallery ---------------------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "gallery",
    "gallery_dirs": "auto_gallery",
    "filename_pattern": r"\.py$",  # execute every example during the build
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": False,  # report every failing example; -W fails the build
    "only_warn_on_example_error": False,
    "matplotlib_animations": False,
    "reference_url": {"landscapes": None, "pspin": None, "analysis": None},
    "show_memory": False,
    "min_reported_time": 1,
}
warnings.filterwarnings(
    "ignore",
    category=UserWarning,
    message="Matplotlib is currently using agg, which is a non-GUI backend",
)

# -- HTML ------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"landscapes {release}"
html_static_path: list[str] = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_show_sourcelink = False


# -- Plain-text mathematics in docstrings ------------------------------------------------------
# The house style writes norms and absolute values in docstrings as plain text (``|x|``,
# ``|rgrad H|``), which reStructuredText would read as substitution references. Escape every
# bar outside inline literals, roles, and literal / directive blocks (grid tables, which would
# need bars, are not used in the docstrings).
_BACKTICKS = re.compile(r"(`+)(?:(?!\1).)*\1")


def _escape_bars(line: str) -> str:
    out, pos = [], 0
    for m in _BACKTICKS.finditer(line):
        out.append(line[pos : m.start()].replace("|", r"\|"))
        out.append(m.group(0))
        pos = m.end()
    out.append(line[pos:].replace("|", r"\|"))
    return "".join(out)


def _escape_docstring_bars(app, what, name, obj, options, lines) -> None:
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


def setup(app) -> None:
    app.connect("autodoc-process-docstring", _escape_docstring_bars)
