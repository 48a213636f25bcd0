"""Data sets: the RecSys Challenge 2025 folder layout, real purchase logs, synthetic event logs."""

from ._realdata import load_cdnow, load_tafeng
from ._recsys import EVENT_TABLES, build_event_frame, load_recsys2025, write_recsys2025
from ._synthetic import make_events, purchase_probabilities

__all__ = [
    "EVENT_TABLES",
    "build_event_frame",
    "load_cdnow",
    "load_recsys2025",
    "load_tafeng",
    "make_events",
    "purchase_probabilities",
    "write_recsys2025",
]
