"""Fitted state as plain data: what :mod:`skops.io` can store, and pickle as well.

skops stores an object through its ``__getstate__`` and restores it with
``__setstate__``, but only dicts with ``str`` (or number) keys, lists, tuples, numpy
arrays and numbers, not ``pandas.Timestamp`` objects (unless the user trusts them)
nor dicts keyed by tuples. :class:`PortableState` converts these in the state, both
ways:

* top-level attributes holding a naive :class:`pandas.Timestamp` (``reference_time_``)
  are stored as a ``numpy.datetime64`` of the same unit;
* the dicts named in :attr:`PortableState._ubp_pair_keyed` (keyed by tuples, e.g.
  ``EventCountEmbedder.top_k_values_``) are stored as lists of ``[list(key), value]``.

A ``"_ubp_portable"`` entry of the state names the converted attributes, so that
states pickled before this conversion (without it) load unchanged.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

__all__ = ["PORTABLE_KEY", "PortableState", "portable_state", "restored_state"]

#: The state entry naming the converted attributes.
PORTABLE_KEY = "_ubp_portable"


def portable_state(state: dict[str, Any], pair_keyed: tuple[str, ...] = ()) -> dict[str, Any]:
    """``state`` with naive timestamps and tuple-keyed dicts as plain data (a copy)."""
    out = dict(state)
    times = [k for k, v in out.items() if isinstance(v, pd.Timestamp) and v.tz is None]
    for k in times:
        out[k] = out[k].to_datetime64()
    pairs = [k for k in pair_keyed if isinstance(out.get(k), dict)]
    for k in pairs:
        out[k] = [[list(key), value] for key, value in out[k].items()]
    out[PORTABLE_KEY] = {"timestamps": times, "pairs": pairs}
    return out


def restored_state(state: dict[str, Any]) -> dict[str, Any]:
    """The state :func:`portable_state` converted, back as it was (other states as is)."""
    if PORTABLE_KEY not in state:
        return state
    out = dict(state)
    converted = out.pop(PORTABLE_KEY)
    for k in converted.get("timestamps", []):
        out[k] = pd.Timestamp(np.datetime64(out[k]))
    for k in converted.get("pairs", []):
        out[k] = {tuple(key): value for key, value in out[k]}
    return out


class PortableState:
    """Mixin: ``__getstate__`` gives plain data (see the module), ``__setstate__``
    takes it back; place it before the classes whose ``__setstate__`` it extends."""

    #: Fitted attributes that are dicts keyed by tuples.
    _ubp_pair_keyed: ClassVar[tuple[str, ...]] = ()

    def __getstate__(self) -> dict[str, Any]:
        return portable_state(super().__getstate__(), self._ubp_pair_keyed)  # type: ignore[misc]

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(restored_state(state))  # type: ignore[misc]
