"""Skip the doctests that write ``.skops`` files when skops (optional) is not installed."""

from __future__ import annotations

import importlib.util

import pytest

#: doctest items that need skops
_NEEDS_SKOPS = {"sklearn_ubp._persistence.load_model"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if importlib.util.find_spec("skops") is not None:
        return
    skip = pytest.mark.skip(reason="needs skops (pip install 'sklearn-ubp[skops]')")
    for item in items:
        if item.name in _NEEDS_SKOPS:
            item.add_marker(skip)
