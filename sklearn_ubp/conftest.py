"""Skip the doctests that need an optional extra (skops, Dask) where it is not installed."""

from __future__ import annotations

import importlib.util

import pytest

#: ``sklearn_ubp.dask`` cannot even be imported without Dask: not collected then.
collect_ignore = [] if importlib.util.find_spec("dask") is not None else ["dask.py"]

#: doctest items that need skops
_NEEDS_SKOPS = {"sklearn_ubp._persistence.load_model"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if importlib.util.find_spec("skops") is not None:
        return
    skip = pytest.mark.skip(reason="needs skops (pip install 'sklearn-ubp[skops]')")
    for item in items:
        if item.name in _NEEDS_SKOPS:
            item.add_marker(skip)
