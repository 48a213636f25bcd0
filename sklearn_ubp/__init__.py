"""sklearn-ubp: Universal Behavioral Profiles from user event logs, scikit-learn style.

The input of every estimator is an *event frame* (one row per user, list columns of
events); see :mod:`sklearn_ubp._frame` or the "Event frame" documentation page.
"""

from ._counts import EventCountEmbedder
from ._frame import EventView, check_event_frame, filter_events, is_event_frame
from ._group import group_events
from ._gru import GRUSequenceAutoencoder
from ._profile import UniversalProfile
from ._svd import SVDItemEmbedder

__version__ = "0.1.0.dev0"

__all__ = [
    "EventCountEmbedder",
    "EventView",
    "GRUSequenceAutoencoder",
    "SVDItemEmbedder",
    "UniversalProfile",
    "check_event_frame",
    "filter_events",
    "group_events",
    "is_event_frame",
]
