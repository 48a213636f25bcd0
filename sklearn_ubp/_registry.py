"""One registry of the package's estimators: name -> class, imported when first used.

It serves :mod:`sklearn_ubp` (lazy public names), :class:`~sklearn_ubp.UniversalProfile`
(its default members name registry entries) and the ``ubp`` command line (``--model``).
A new member is one module, one line in :data:`ESTIMATORS` and the two hooks of
:class:`~sklearn_ubp._base.EventTransformer` (``_ubp_postprocess`` and
``_ubp_requirement``); nothing else recognises members by type.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ESTIMATORS", "EstimatorSpec", "estimator_class", "make_estimator"]


@dataclass(frozen=True)
class EstimatorSpec:
    """Where an estimator lives and how the command line builds it.

    Attributes
    ----------
    path : str
        ``"module:ClassName"``; the module is imported on first use (torch members
        import torch, seconds).
    cli_params : dict
        Constructor arguments of ``ubp ... --model NAME`` (e.g. the SVD member's item).
    """

    path: str
    cli_params: dict[str, Any] = field(default_factory=dict)

    @property
    def class_name(self) -> str:
        return self.path.partition(":")[2]


#: Registered estimators, in the order of ``ubp --model`` (the first is the default).
ESTIMATORS: dict[str, EstimatorSpec] = {
    "profile": EstimatorSpec("sklearn_ubp._profile:UniversalProfile"),
    "gru": EstimatorSpec("sklearn_ubp._gru:GRUSequenceAutoencoder"),
    "counts": EstimatorSpec("sklearn_ubp._counts:EventCountEmbedder"),
    "svd": EstimatorSpec("sklearn_ubp._svd:SVDItemEmbedder", {"item": "category"}),
}


def estimator_class(name: str) -> type:
    """The class registered as ``name`` (imported now if it is not yet)."""
    try:
        spec = ESTIMATORS[name]
    except KeyError:
        raise KeyError(
            f"no estimator is registered as {name!r}; known: {list(ESTIMATORS)}"
        ) from None
    module, _, cls = spec.path.partition(":")
    return getattr(importlib.import_module(module), cls)


def make_estimator(name: str, **params: Any) -> Any:
    """A new instance of the estimator registered as ``name`` with its CLI arguments."""
    return estimator_class(name)(**{**ESTIMATORS[name].cli_params, **params})
