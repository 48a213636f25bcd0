"""Data sets: the RecSys Challenge 2025 folder layout, and realistic synthetic event logs."""

from ._recsys import EVENT_TABLES, build_event_frame, load_recsys2025, write_recsys2025
from ._synthetic import make_events, purchase_probabilities

__all__ = [
    "EVENT_TABLES",
    "build_event_frame",
    "load_recsys2025",
    "make_events",
    "purchase_probabilities",
    "write_recsys2025",
]
