"""sklearn-ubp: Universal Behavioral Profiles from user event logs, scikit-learn style.

The input of every estimator is an *event frame* (one row per user, list columns of
events); see :mod:`sklearn_ubp._frame` or the "Event frame" documentation page.
"""

from ._counts import EventCountEmbedder
from ._frame import EventView, check_event_frame, filter_events, is_event_frame
from ._group import group_events
from ._profile import UniversalProfile
from ._svd import SVDItemEmbedder
from ._versions import InconsistentVersionWarning
from ._vocabulary import Vocabulary

__version__ = "0.1.0.dev0"

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from ._gru import GRUSequenceAutoencoder

__all__ = [
    "EventCountEmbedder",
    "EventView",
    "GRUSequenceAutoencoder",
    "InconsistentVersionWarning",
    "SVDItemEmbedder",
    "UniversalProfile",
    "Vocabulary",
    "check_event_frame",
    "filter_events",
    "group_events",
    "is_event_frame",
]


def __getattr__(name: str) -> object:
    # Registered estimators not imported above load on first use: the GRU imports torch
    # (seconds), so ``import sklearn_ubp`` stays quick for the statistics and SVD
    # members, the CLI's help and workers that never run the GRU.
    from ._registry import ESTIMATORS, estimator_class

    for key, spec in ESTIMATORS.items():
        if spec.class_name == name:
            return estimator_class(key)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
