"""Hand-made RFM features: the simplest strong baseline a profile must beat."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._arrow import US_PER_DAY, timestamp_to_us
from .._frame import TIME, EventView, checked_view
from ._future import _amounts, _baskets, _distinct_per_user, _field, _purchases, _top_categories

__all__ = ["rfm_features"]


def _sum_by_user(view: EventView, name: str, user: np.ndarray, keep: np.ndarray) -> np.ndarray:
    return np.bincount(user[keep], weights=_amounts(view, name)[keep], minlength=view.n_users)


def rfm_features(
    X: Any,
    *,
    reference_time: Any = None,
    purchase: str | None = "product_buy",
    amount: str | None = None,
    quantity: str | None = None,
    basket: str | None = None,
    item: str | None = None,
    category: str | None = None,
    n_categories: int = 20,
) -> pd.DataFrame:
    """Recency, frequency, monetary value and tenure of each user, ``log1p``-scaled.

    The columns a data scientist would hand-make from a purchase log, computed from the
    purchases (events of type ``purchase``; every event without ``event_type``):

    ``frequency``
        Number of baskets (distinct values of ``basket`` per user) or, without
        ``basket``, of purchase events.
    ``recency``, ``tenure``
        Days from the last purchase, and from the first event of any type, to
        ``reference_time``. A user without purchases gets the tenure of the whole log
        (the longest possible recency) and ``frequency`` 0.
    ``lines``, ``events``
        Numbers of purchase events and of events of any type (``events`` only when
        the frame has other event types).
    ``monetary``, ``units``, ``distinct_items``
        Sum of ``amount`` and of ``quantity`` over purchases, number of distinct
        ``item`` values bought; each only when its field is given.
    ``category=<value>``
        With ``category``: the purchase events of each of the ``n_categories``
        categories bought by most users ("RFM + per-category history").

    Parameters
    ----------
    X : event frame
    reference_time : datetime-like, optional
        Defaults to just after the last event of ``X``.
    purchase : str, default="product_buy"
    amount, quantity, basket, item, category : str, optional
        Fields of ``X``; see above.
    n_categories : int, default=20

    Returns
    -------
    features : pandas.DataFrame of float32, indexed like ``X``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn_ubp import group_events
    >>> from sklearn_ubp.evaluation import rfm_features
    >>> log = pd.DataFrame({"client_id": [1, 1, 2],
    ...     "timestamp": pd.to_datetime(["2022-01-01", "2022-01-08", "2022-01-05"]),
    ...     "amount": [3.0, 1.0, 7.0]})
    >>> f = rfm_features(group_events(log), reference_time="2022-01-11", amount="amount")
    >>> f.columns.tolist()
    ['frequency', 'recency', 'tenure', 'lines', 'monetary']
    >>> np.expm1(f).round(3).to_numpy().tolist()
    [[2.0, 3.0, 10.0, 2.0, 4.0], [1.0, 6.0, 6.0, 1.0, 7.0]]
    """
    view = checked_view(X, required=(TIME,))
    times, user = view.times(), view.user_of_event()
    is_buy = _purchases(view, purchase)
    ref = int(times.max()) + 1 if reference_time is None else timestamp_to_us(reference_time)
    columns = _rfm_columns(view, times, user, is_buy, ref, basket)
    columns.update(_field_columns(view, user, is_buy, amount, quantity, item))
    if category is not None:
        columns.update(_category_lines(view, category, n_categories, user, is_buy))
    values = np.log1p(np.maximum(np.column_stack(list(columns.values())), 0.0))
    return pd.DataFrame(values.astype(np.float32), index=view.index, columns=list(columns))


def _rfm_columns(
    view: EventView,
    times: np.ndarray,
    user: np.ndarray,
    is_buy: np.ndarray,
    ref: int,
    basket: str | None,
) -> dict[str, np.ndarray]:
    """``frequency``, ``recency``, ``tenure``, ``lines`` (and ``events``), unscaled."""
    n = view.n_users
    span = (ref - times.min()) / US_PER_DAY if times.size else 0.0
    first = np.full(n, ref, dtype=np.int64)
    np.minimum.at(first, user, times)
    last = np.full(n, np.iinfo(np.int64).min)
    np.maximum.at(last, user[is_buy], times[is_buy])
    lines = np.bincount(user[is_buy], minlength=n).astype(np.float64)
    frequency = (
        _distinct_per_user(user[is_buy], _baskets(view, basket)[is_buy], n)
        if basket is not None
        else lines
    )
    columns: dict[str, np.ndarray] = {
        "frequency": frequency,
        "recency": np.where(lines > 0, (ref - last) / US_PER_DAY, span),
        "tenure": (ref - first) / US_PER_DAY,
        "lines": lines,
    }
    if not is_buy.all():
        columns["events"] = view.lengths.astype(np.float64)
    return columns


def _field_columns(
    view: EventView,
    user: np.ndarray,
    is_buy: np.ndarray,
    amount: str | None,
    quantity: str | None,
    item: str | None,
) -> dict[str, np.ndarray]:
    """``monetary``, ``units`` and ``distinct_items``, each when its field is given."""
    columns: dict[str, np.ndarray] = {}
    if amount is not None:
        columns["monetary"] = _sum_by_user(view, amount, user, is_buy)
    if quantity is not None:
        columns["units"] = _sum_by_user(view, quantity, user, is_buy)
    if item is not None:
        _field(view, item, "item")
        codes, _ = view.categories(item)
        ok = is_buy & (codes >= 0)
        columns["distinct_items"] = _distinct_per_user(user[ok], codes[ok], view.n_users)
    return columns


def _category_lines(
    view: EventView, category: str, n_categories: int, user: np.ndarray, is_buy: np.ndarray
) -> dict[str, np.ndarray]:
    _field(view, category, "category")
    codes, labels = view.categories(category)
    top = _top_categories(user[is_buy], codes[is_buy], labels, n_categories)
    pos = top.encode_codes(codes, labels)
    out = {}
    for j, label in enumerate(top.labels_.tolist()):
        hit = is_buy & (pos == j)
        out[f"category={label}"] = np.bincount(user[hit], minlength=view.n_users)
    return out
