"""The ``"forecast"`` statistics of ``EventCountEmbedder``: a forecast of each user's
next days, learned from the log itself, without labels.

In ``fit``, the other statistics are taken ``forecast_days`` before the reference time;
gradient-boosted trees learn from them, per user, the events, the days with an event
and the sum of each numeric field in the last ``forecast_days`` days (as signed
``log1p``), of all events and of the purchases when the log has several event types
(purchases alone can be too rare to learn from). ``transform`` applies the trees to the
statistics taken at the reference time: the backtest a data scientist would run, with
the log as its own label. Everything is vectorised; one model per target.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor

from ._arrow import US_PER_DAY
from ._count_stats import Column, Events, _count, _first_in_period, counts, signed_log1p

__all__ = [
    "MAX_FORECAST_USERS",
    "MIN_FORECAST_USERS",
    "fit_forecasts",
    "forecast_columns",
    "forecast_targets",
]

#: At most this many users (a random sample) fit the forecasts.
MAX_FORECAST_USERS = 100_000
#: With fewer users with a history before the backtest's start, no forecast is fitted.
MIN_FORECAST_USERS = 100


def forecast_targets(
    ev: Events, g: str, days: int, numbers: dict[str, np.ndarray]
) -> Iterator[Column]:
    """Per user, group ``g``'s events, days with an event and sum of each numeric field
    in the last ``days`` days before the reference time of ``ev``."""
    yield from counts(ev, g, [days], fmt="forecast_events_{g}_{w}")
    sel = ev.groups[g]
    recent = sel[ev.age[sel] < days * US_PER_DAY]
    u = ev.user[recent]
    new = _first_in_period(u, ev.age[recent] // US_PER_DAY)
    yield f"forecast_days_{g}_{days}d", _count(u[new], ev.n)
    for f, values in numbers.items():
        v = values[recent]
        known = ~np.isnan(v)
        yield f"forecast_{f}_{g}_{days}d", _count(u[known], ev.n, v[known])


def fit_forecasts(
    inputs: np.ndarray, seen: np.ndarray, targets: Iterable[Column]
) -> list[tuple[str, HistGradientBoostingRegressor]]:
    """One model per target, fitted on the users ``seen`` (with a history before the
    backtest's start; at most :data:`MAX_FORECAST_USERS` of them, a random sample)
    from their statistics ``inputs`` (signed ``log1p``) to the signed ``log1p`` target."""
    rows = np.flatnonzero(seen)
    if rows.size < MIN_FORECAST_USERS:
        return []
    if rows.size > MAX_FORECAST_USERS:
        rng = np.random.default_rng(0)
        rows = np.sort(rng.choice(rows, MAX_FORECAST_USERS, replace=False))
    X = inputs[rows]
    models = []
    for name, y in targets:
        model = HistGradientBoostingRegressor(early_stopping=True, random_state=0)
        models.append((name, model.fit(X, signed_log1p(y[rows]))))
    return models


def forecast_columns(
    models: list[tuple[str, HistGradientBoostingRegressor]], inputs: np.ndarray
) -> Iterator[Column]:
    """Each model's forecast from the statistics ``inputs`` (signed ``log1p``), back in
    the target's units (so that the embedder's ``log1p`` scale gives the model's output)."""
    for name, model in models:
        if len(inputs) == 0:
            yield name, np.zeros(0)
            continue
        pred = model.predict(inputs)
        yield name, np.copysign(np.expm1(np.abs(pred)), pred)
