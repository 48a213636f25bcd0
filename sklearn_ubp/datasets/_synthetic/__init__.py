"""Synthetic event logs (:func:`make_events`) and their true purchase probabilities.

``_model`` holds the user model once; ``_population`` and ``_events`` sample from it
(the generator, ``_generator``), ``_oracle`` computes its closed-form probabilities.
"""

from ._generator import make_events
from ._oracle import purchase_probabilities

__all__ = ["make_events", "purchase_probabilities"]
