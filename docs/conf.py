"""Sphinx configuration of stackfold's documentation site (``make docs``: docs/_build/html).

Pages are Markdown (MyST). The reference is generated at build time by ``_ext/stackfold_docs``: the Python API
from docstrings (autodoc), the command line from the Typer application, the configuration keys from ``RunConfig``
and the declared parameters, a parameter table per model and stacker, and the quickstart notebook as code. The
build is strict (``-W -n``): a warning or a cross-reference that does not resolve fails it.
"""

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
os.environ.pop("STACKFOLD_N_JOBS", None)  # the documented default of n_jobs, whatever the building shell sets
sys.path[:0] = [str(DOCS.parent), str(DOCS / "_ext")]

from stackfold import __version__  # noqa: E402

project = "stackfold"
author = "stackfold"
copyright = "stackfold's authors, MIT licence"
version = release = __version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "stackfold_docs",
]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_ext", "README.md"]
templates_path: list[str] = []

smartquotes_action = "qe"  # curly quotes, but "--no-images" in a help text stays two hyphens
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 4  # [text](page.md#a-heading) links resolve (and fail the build when the heading is gone)

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": False}
autodoc_type_aliases = {  # annotations written as strings under TYPE_CHECKING in stackfold.api
    "Run": "stackfold.api.Run",
    "Prediction": "stackfold.predict.Prediction",
    "TuningResult": "stackfold.tune.TuningResult",
    "Comparison": "stackfold.report.compare.Comparison",
    "RunSummary": "stackfold.pipeline.RunSummary",
    "FinalStep": "stackfold.pipeline.FinalStep",
}
napoleon_google_docstring = True
napoleon_numpy_docstring = False

nitpicky = True
nitpick_ignore_regex = [
    # Names of other libraries and of the standard library: no inventory of theirs is fetched (the build is offline).
    (r"py:(class|obj|data|exc|func|meth|mod)", r"(?!stackfold\b).*"),
]

html_theme = "pydata_sphinx_theme"
html_title = f"stackfold {release}"
html_static_path: list[str] = []
html_show_sourcelink = False
html_copy_source = False
html_context = {"default_mode": "auto"}  # light or dark as the reader's system; unset, the theme logs an error
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_align": "left",
    "header_links_before_dropdown": 6,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
}
