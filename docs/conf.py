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
* API pages: written at each build by ``_ext/landscapes_docs.py`` (one page per public
  module, autodoc + numpydoc); every object is documented once, on the page of the module
  that defines it, and package pages list their public names and submodules, so the pages
  stay right as modules move.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))
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
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "landscapes_docs",  # _ext/landscapes_docs.py: generated pages, link and docstring fixes
]
# MathJax shipped with the site (the docs read offline too); without the package, the CDN.
if importlib.util.find_spec("sphinx-mathjax-offline") is not None:
    extensions.append("sphinx-mathjax-offline")

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = [
    "_build",
    "_generated",  # included by other pages, not pages themselves
    "README.md",  # how to build the docs: for the repository, not the site
    "build.sh",
    "gallery/README.txt",
    "**/GALLERY_HEADER.rst",
    "sg_execution_times.rst",
]

# -- API reference (pages written by _ext/landscapes_docs.py: api_pages) ---------------
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

# -- Gallery ---------------------------------------------------------------------------------
# Tutorials that need an optional extra are left out (with a message) when it is missing.
_NEEDS = {"plot_01_torch_hessian": "torch", "plot_05_dask_sweep": "distributed"}
_skipped = [name for name, mod in _NEEDS.items() if importlib.util.find_spec(mod) is None]
for _name in _skipped:
    print(f"docs: leaving out tutorial {_name}: {_NEEDS[_name]} is not installed")
_ignore = r"__init__\.py" + "".join(f"|{name}" for name in _skipped)

sphinx_gallery_conf = {
    "ignore_pattern": _ignore,
    "examples_dirs": "gallery",
    "gallery_dirs": "auto_gallery",
    "filename_pattern": r"\.py$",  # execute every example during the build
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": False,  # report every failing example; -W fails the build
    "only_warn_on_example_error": False,
    "matplotlib_animations": False,
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
html_static_path = ["_static"]
html_css_files = ["landscapes.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    # the tutorials use the whole width for code and figures (their sections are in the left bar)
    "secondary_sidebar_items": {
        "**": ["page-toc"],
        **{f"auto_gallery/{p.stem}": [] for p in (ROOT / "docs" / "gallery").glob("*.py")},
    },
}
html_show_sourcelink = False
