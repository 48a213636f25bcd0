"""Sphinx configuration for sklearn-ubp.

Build: ``python -m sphinx -W -b html docs docs/_build/html``. The gallery
(``examples/``) is executed unless ``-D plot_gallery=0`` is given (the test suite
builds with it, and runs the examples in ``tests/test_examples.py`` instead).
"""

import importlib.util
import os
import warnings
from pathlib import Path

import sklearn_ubp

HERE = Path(__file__).resolve().parent

project = "sklearn-ubp"
author = "sklearn-ubp developers"
copyright = "sklearn-ubp developers"
release = sklearn_ubp.__version__
version = release
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
autosummary_generate = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
html_theme = (
    "pydata_sphinx_theme" if importlib.util.find_spec("pydata_sphinx_theme") else "alabaster"
)
html_title = f"sklearn-ubp {release}"
nitpicky = False

# The gallery: examples/plot_*.py -> auto_examples/. Without network access the
# intersphinx inventories are skipped (no cross-links, no warnings).
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    # No sg_execution_times.rst in the source tree (it would be an untracked file).
    "write_computation_times": False,
}
plot_gallery = os.environ.get("UBP_DOCS_PLOT_GALLERY", "True")
intersphinx_mapping = {}
if os.environ.get("UBP_DOCS_INTERSPHINX"):
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
        "pandas": ("https://pandas.pydata.org/docs", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "dask": ("https://docs.dask.org/en/stable", None),
    }

# Examples write figures with the non-interactive backend.
os.environ.setdefault("MPLBACKEND", "Agg")
warnings.filterwarnings("ignore", message="Matplotlib is currently using agg")


def _write_cli_help() -> None:
    """``ubp --help`` and each subcommand's help, included by cli.rst."""
    from sklearn_ubp._cli import build_parser

    out = HERE / "generated" / "cli"
    out.mkdir(parents=True, exist_ok=True)
    columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "88"
    try:
        parser = build_parser()
        texts = {"ubp": parser.format_help()}
        sub = next(a for a in parser._actions if a.dest == "command")
        for name, p in sub.choices.items():
            texts[name] = p.format_help()
    finally:
        if columns is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = columns
    for name, text in texts.items():
        path = out / f"{name}.txt"
        if not path.exists() or path.read_text() != text:
            path.write_text(text)


_write_cli_help()
