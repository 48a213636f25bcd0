"""Sphinx configuration for sklearn-ubp."""

import sklearn_ubp

project = "sklearn-ubp"
author = "sklearn-ubp developers"
release = sklearn_ubp.__version__
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "numpydoc",
]
autosummary_generate = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
exclude_patterns = ["_build", "auto_examples"]
html_theme = (
    "pydata_sphinx_theme"
    if __import__("importlib").util.find_spec("pydata_sphinx_theme")
    else "alabaster"
)
nitpicky = False
