"""Package versions recorded in fitted models, and the warning when one loads under others.

Every estimator of the package records, when it is fitted, the versions of the
packages its fitted state depends on (:data:`BASE_PACKAGES`, and torch for a torch
member). Unpickling it (or loading it with skops, which also calls ``__setstate__``)
where one of them has another major.minor version warns with
:class:`InconsistentVersionWarning`, once per package, as scikit-learn does for itself.
"""

from __future__ import annotations

import importlib.metadata
import re
import sys
import warnings
from typing import Any, ClassVar

from sklearn.exceptions import InconsistentVersionWarning as SklearnInconsistentVersionWarning

__all__ = [
    "BASE_PACKAGES",
    "InconsistentVersionWarning",
    "VersionedEstimator",
    "check_versions",
    "running_versions",
    "uses_torch",
]

#: Distribution name -> module name of the packages every fitted model records.
BASE_PACKAGES = {
    "sklearn-ubp": "sklearn_ubp",
    "scikit-learn": "sklearn",
    "numpy": "numpy",
    "pyarrow": "pyarrow",
}
#: Also recorded by the members that train with torch.
TORCH = {"torch": "torch"}


class InconsistentVersionWarning(SklearnInconsistentVersionWarning):
    """A model is loaded under another major.minor version of a package than at fit.

    A subclass of scikit-learn's warning of the same name (so filters of that one
    apply), for any package a model of sklearn-ubp records.

    Parameters
    ----------
    estimator_name : str
        The class of the loaded estimator.
    package : str
        The package (distribution name), e.g. ``"torch"``.
    original_version : str
        Its version when the model was fitted.
    current_version : str
        Its version now.
    """

    def __init__(
        self, *, estimator_name: str, package: str, original_version: str, current_version: str
    ) -> None:
        super().__init__(
            estimator_name=estimator_name,
            current_sklearn_version=current_version,
            original_sklearn_version=original_version,
        )
        self.package = package
        self.original_version = original_version
        self.current_version = current_version

    def __str__(self) -> str:
        return (
            f"Trying to unpickle estimator {self.estimator_name} fitted with "
            f"{self.package} {self.original_version} when using {self.package} "
            f"{self.current_version}. This might lead to breaking code or invalid results. "
            "Use at your own risk."
        )


def _version(dist: str, module: str) -> str | None:
    loaded = sys.modules.get(module)
    version = getattr(loaded, "__version__", None)
    if isinstance(version, str):
        return version
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def running_versions(packages: dict[str, str]) -> dict[str, str]:
    """Distribution name -> version of each of ``packages`` (name -> module) installed."""
    found = {dist: _version(dist, module) for dist, module in packages.items()}
    return {dist: v for dist, v in found.items() if v is not None}


def uses_torch(estimator: Any) -> bool:
    """Whether a fitted estimator recorded torch's version (it trained with torch)."""
    return "torch" in (getattr(estimator, "_fit_versions", None) or {})


def _major_minor(version: str) -> tuple[int, ...] | str:
    match = re.match(r"(\d+)(?:\.(\d+))?", version)
    return tuple(int(p or 0) for p in match.groups()) if match else version


def check_versions(estimator_name: str, saved: Any) -> None:
    """Warn for every package of ``saved`` (name -> version at fit) whose major.minor
    version differs here (or that is missing here)."""
    if not isinstance(saved, dict):
        return
    modules = {**BASE_PACKAGES, **TORCH}
    for dist, original in saved.items():
        current = _version(dist, modules.get(dist, dist.replace("-", "_")))
        if current is None or _major_minor(str(original)) != _major_minor(current):
            warnings.warn(
                InconsistentVersionWarning(
                    estimator_name=estimator_name,
                    package=dist,
                    original_version=str(original),
                    current_version=str(current) if current else "none (not installed)",
                ),
                stacklevel=3,
            )


class VersionedEstimator:
    """Mixin: records package versions at fit, warns when unpickled under others.

    ``_record_versions`` (called by ``fit``) stores :data:`_ubp_packages`' versions
    in ``_fit_versions``; unpickling checks them with :func:`check_versions`.
    """

    #: The packages (distribution -> module) this estimator's fitted state records.
    _ubp_packages: ClassVar[dict[str, str]] = BASE_PACKAGES

    def _record_versions(self, extra: dict[str, str] | None = None) -> None:
        self._fit_versions = running_versions({**self._ubp_packages, **(extra or {})})

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)  # type: ignore[misc]
        check_versions(type(self).__name__, state.get("_fit_versions"))
