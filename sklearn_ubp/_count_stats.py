"""The statistic groups of ``EventCountEmbedder``: one generator of ``(name, column)`` each.

Each generator yields the named per-user columns of one group, computed over whole
flat event arrays (``np.bincount`` over the user of each event, run boundaries of the
per-user sorted events for first/last events); there is no per-user Python loop. The
layout of an output (its feature names) is what the generators yield on an empty
frame, so no feature is listed twice. ``official_baseline`` is a configuration of
:func:`counts`, :func:`top_counts` and :func:`code_means`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from numbers import Integral
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ._arrow import US_PER_DAY
from ._bgnbd import bgnbd_features
from ._frame import EVENT_TYPE, TIME, EventView
from ._vocabulary import Vocabulary

#: One output feature: its name and its values, one per user.
Column = tuple[str, np.ndarray]
#: Fields treated as item identifiers (never summed as numbers) by ``"auto"``.
ID_FIELDS = ("sku", "category", "url")
#: Fields whose values are counted (top-k, popularity, distinct) by ``"auto"``.
ITEM_FIELDS = ("sku", "category", "price", "url")
#: The group of all events.
ANY = "any"
#: Every statistic group (``statistics="all"``).
STATISTICS = (
    "counts",
    "recency",
    "trends",
    "active",
    "decay",
    "bgnbd",
    "numeric",
    "top_k",
    "popularity",
    "distinct",
    "cart",
    "codes",
    "forecast",
)


def is_numeric(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)


def is_code(t: pa.DataType) -> bool:
    return pa.types.is_fixed_size_list(t) and pa.types.is_integer(t.value_type)


def window_name(w: int | None) -> str:
    return "all" if w is None else f"{w}d"


def value_label(v: Any) -> str:
    """A value as it appears in a feature name (``5.0`` as ``5``)."""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def dictionary(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (``-1`` for null) and the distinct values of a flat Arrow array."""
    if not pa.types.is_dictionary(values.type):
        values = pc.dictionary_encode(values)
    codes = values.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    labels = values.dictionary.to_numpy(zero_copy_only=False)
    return codes, labels


def check_statistics(statistics: str | Sequence[str]) -> list[str]:
    """The groups of ``statistics`` (``"all"`` or names), in the order of ``STATISTICS``."""
    if isinstance(statistics, str):  # "all"
        return list(STATISTICS)
    names = list(statistics)
    unknown = [g for g in names if not isinstance(g, str) or g not in STATISTICS]
    if unknown:
        raise ValueError(
            f"statistics must be 'all' or a sequence of {list(STATISTICS)}; "
            f"got unknown group(s) {unknown}."
        )
    if len(set(names)) != len(names):
        raise ValueError(f"statistics must not repeat a group; got {statistics!r}.")
    return [g for g in STATISTICS if g in names]


def _positive(w: Any) -> bool:
    return not isinstance(w, bool) and isinstance(w, Integral) and w >= 1


def check_windows(
    windows: Sequence, trend_windows: Sequence, param: str = "windows"
) -> list[int | None]:
    """Validated ``windows`` (positive integers or ``None``; named ``param`` in the
    errors); checks ``trend_windows``."""
    for w in windows:
        if w is not None and not _positive(w):
            raise ValueError(f"{param} must hold positive integers or None; got {w!r}.")
    if len(set(windows)) != len(windows):
        raise ValueError(f"{param} must not repeat a value; got {windows!r}.")
    for w in trend_windows:
        if not _positive(w):
            raise ValueError(f"trend_windows must hold positive integers; got {w!r}.")
    if len(set(trend_windows)) != len(trend_windows):
        raise ValueError(f"trend_windows must not repeat a value; got {trend_windows!r}.")
    return [None if w is None else int(w) for w in windows]


def _select_fields(param: str, value: Any, auto: list[str], columns: list[str]) -> list[str]:
    if isinstance(value, str):  # "auto"
        return auto
    fields = [str(f) for f in value]
    missing = [f for f in fields if f not in columns]
    if missing:
        raise ValueError(
            f"{param}={list(value)!r} names column(s) {missing} that the event frame "
            f"does not have; its columns are {columns}."
        )
    return fields


def fields_of(
    view: EventView, item_fields: Any, numeric_fields: Any, code_fields: Any
) -> tuple[list[str], list[str], list[str], dict[str, int]]:
    """The item, numeric and code fields (``"auto"`` or checked names), the code sizes."""
    columns = view.columns
    types = {c: view.list_array(c).type.value_type for c in columns}
    auto_items = [c for c in ITEM_FIELDS if c in columns and not is_code(types[c])]
    auto_numeric = [
        c
        for c in columns
        if c not in (TIME, EVENT_TYPE, *ID_FIELDS)
        and not c.lower().endswith("id")
        and is_numeric(types[c])
    ]
    auto_codes = [c for c in columns if is_code(types[c])]
    items = _select_fields("item_fields", item_fields, auto_items, columns)
    numbers = _select_fields("numeric_fields", numeric_fields, auto_numeric, columns)
    codes = _select_fields("code_fields", code_fields, auto_codes, columns)
    for f in numbers:
        if not is_numeric(types[f]):
            raise ValueError(f"numeric field {f!r} must hold numbers; it holds {types[f]}.")
    for f in codes:
        if not is_code(types[f]):
            raise ValueError(
                f"code field {f!r} must hold fixed-size lists of integer codes; "
                f"it holds {types[f]}."
            )
    for f in items:
        if f in (TIME, EVENT_TYPE) or is_code(types[f]):
            raise ValueError(f"item field {f!r} cannot be a timestamp, event type or code.")
    return items, numbers, codes, {f: int(types[f].list_size) for f in codes}


def _runs(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last positions of each run of equal values of a sorted array."""
    if u.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    change = u[1:] != u[:-1]
    starts = np.flatnonzero(np.concatenate(([True], change)))
    ends = np.flatnonzero(np.concatenate((change, [True])))
    return starts, ends


def _count(u: np.ndarray, n: int, weights: np.ndarray | None = None) -> np.ndarray:
    return np.bincount(u, weights=weights, minlength=n).astype(np.float64, copy=False)


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.zeros_like(num, dtype=np.float64), where=den > 0)


def _within(age: np.ndarray, w: int | None) -> np.ndarray | slice:
    return slice(None) if w is None else age < w * US_PER_DAY


@dataclass
class Events:
    """The flat events the statistics read.

    ``user`` is the user (row) of every flat event, ``age`` its microseconds before
    the reference time, ``times`` its timestamp and ``groups`` the positions of the
    events of each group (``"any"`` or an event type) that the statistics count.
    """

    view: EventView
    user: np.ndarray
    age: np.ndarray
    times: np.ndarray
    groups: dict[str, np.ndarray]

    @property
    def n(self) -> int:
        return self.view.n_users

    def item_events(self, g: str, codes: np.ndarray) -> np.ndarray:
        """Positions of the events of group ``g`` with a value (``codes >= 0``)."""
        sel = self.groups[g]
        return sel[codes[sel] >= 0]


def signed_log1p(x: np.ndarray) -> np.ndarray:
    """``sign(x) * log1p(|x|)``: the embedder's ``log1p`` scale."""
    return np.copysign(np.log1p(np.abs(x)), x)


def write(out: np.ndarray, columns: Iterable[Column], *, log: bool) -> None:
    """Write the columns, in order, into a zero-filled column-major matrix.

    With ``log=True`` each column is stored as ``sign(x) * log1p(|x|)`` (one column at
    a time, so no temporary of the whole matrix is made). Only the non-zeros of each
    contiguous column are written (most counts are sparse).
    """
    for pos, (_, values) in enumerate(columns):
        values = np.asarray(values)
        nz = np.flatnonzero(values)
        if nz.size:
            v = values[nz].astype(np.float64)
            if log:
                v = signed_log1p(v)
            out[nz, pos] = v


def counts(
    ev: Events, g: str, windows: Sequence[int | None], fmt: str = "count_{g}_{w}"
) -> Iterator[Column]:
    """``"counts"``: the number of events of group ``g`` per window."""
    sel = ev.groups[g]
    u, a = ev.user[sel], ev.age[sel]
    for w in windows:
        yield fmt.format(g=g, w=window_name(w)), _count(u[_within(a, w)], ev.n)


def recency(ev: Events, g: str, cap: float) -> Iterator[Column]:
    """``"recency"``: days since the last and the first event, whether any, mean gap."""
    sel = ev.groups[g]
    u, a, n = ev.user[sel], ev.age[sel], ev.n
    total = _count(u, n)
    starts, ends = _runs(u)
    last_age = np.full(n, cap)
    last_age[u[ends]] = a[ends] / US_PER_DAY
    first_age = np.zeros(n)
    first_age[u[starts]] = a[starts] / US_PER_DAY
    yield f"recency_{g}", np.minimum(last_age, cap)
    yield f"has_{g}", total > 0
    yield f"tenure_{g}", np.minimum(first_age, cap)
    gap = np.full(n, cap)
    two = total >= 2
    gap[two] = (first_age[two] - last_age[two]) / (total[two] - 1)
    yield f"mean_gap_{g}", np.minimum(gap, cap)


def trends(ev: Events, g: str, trend_windows: Sequence[int]) -> Iterator[Column]:
    """``"trends"``: events in the last ``w`` days minus the ``w`` days before."""
    sel = ev.groups[g]
    u, a = ev.user[sel], ev.age[sel]
    for w in trend_windows:
        recent = _count(u[a < w * US_PER_DAY], ev.n)
        both = _count(u[a < 2 * w * US_PER_DAY], ev.n)
        yield f"trend_{g}_{w}d", 2 * recent - both


def _first_in_period(u: np.ndarray, periods: np.ndarray) -> np.ndarray:
    """Whether each event (sorted by user, then time) is its user's first of its period."""
    new = np.ones(u.size, dtype=bool)
    new[1:] = (u[1:] != u[:-1]) | (periods[1:] != periods[:-1])
    return new


def active(ev: Events, g: str) -> Iterator[Column]:
    """``"active"``: distinct 1-, 7- and 30-day periods (back from ``T``) with an event."""
    sel = ev.groups[g]
    u, day = ev.user[sel], ev.age[sel] // US_PER_DAY
    for what, periods in (("days", day), ("weeks", day // 7), ("months", day // 30)):
        yield f"active_{what}_{g}", _count(u[_first_in_period(u, periods)], ev.n)


def decay(ev: Events, g: str, windows: Sequence[int | None]) -> Iterator[Column]:
    """``"decay"``: the days with an event, each weighted by ``2 ** (-age / w)``.

    ``w`` runs over the finite ``windows`` (in days, as half-lives); ``age`` is the
    day's age in whole days, so that the events of one day count once.
    """
    sel = ev.groups[g]
    u, day = ev.user[sel], ev.age[sel] // US_PER_DAY
    new = _first_in_period(u, day)
    u, day = u[new], day[new].astype(np.float64)
    for w in windows:
        if w is not None:
            yield f"decay_days_{g}_{w}d", _count(u, ev.n, np.exp2(-day / w))


def purchase_histories(ev: Events, g: str) -> tuple[np.ndarray, ...]:
    """BG/NBD's ``(x, t_x, T, buyer)`` per user, on the distinct days of group ``g``.

    ``x``: days with an event minus one; ``T``: age in whole days of the first;
    ``t_x``: days from the first to the last; ``buyer``: users with an event.
    """
    sel = ev.groups[g]
    u, day = ev.user[sel], (ev.age[sel] // US_PER_DAY).astype(np.float64)
    n = ev.n
    x = _count(u[_first_in_period(u, day)], n) - 1.0
    starts, ends = _runs(u)  # each user's events, oldest first
    first, last = np.zeros(n), np.zeros(n)
    first[u[starts]] = day[starts]
    last[u[ends]] = day[ends]
    return np.maximum(x, 0.0), first - last, first, x >= 0


def bgnbd(
    ev: Events, g: str, params: np.ndarray, windows: Sequence[int | None]
) -> Iterator[Column]:
    """``"bgnbd"``: P(alive), the purchase rate if alive and the expected purchase
    days in each finite window, under the fitted BG/NBD ``params`` (group ``g``)."""
    x, t_x, T, buyer = purchase_histories(ev, g)
    alive, rate = bgnbd_features(x, t_x, T, buyer, params)
    yield f"bgnbd_alive_{g}", alive
    yield f"bgnbd_rate_{g}", rate
    for w in windows:
        if w is not None:
            yield f"bgnbd_expected_{g}_{w}d", alive * rate * w


def numeric(
    ev: Events, g: str, f: str, values: np.ndarray, windows: Sequence[int | None]
) -> Iterator[Column]:
    """``"numeric"``: windowed sums, mean, last and max of field ``f`` in group ``g``."""
    sel = ev.groups[g]
    sel = sel[~np.isnan(values[sel])]
    u, a, v, n = ev.user[sel], ev.age[sel], values[sel], ev.n
    for w in windows:
        m = _within(a, w)
        yield f"sum_{g}_{f}_{window_name(w)}", _count(u[m], n, v[m])
    yield f"mean_{g}_{f}", _safe_div(_count(u, n, v), _count(u, n))
    _, ends = _runs(u)
    last = np.zeros(n)
    last[u[ends]] = v[ends]
    yield f"last_{g}_{f}", last
    mx = np.zeros(n)
    if u.size:
        order = np.lexsort((v, u))  # by user, then value: the last of a run is the max
        _, ends = _runs(u[order])
        mx[u[order][ends]] = v[order][ends]
    yield f"max_{g}_{f}", mx


def top_counts(
    ev: Events,
    t: str,
    item: tuple[np.ndarray, np.ndarray],
    top: Any,
    windows: Sequence[int | None],
    name: Callable[[Any, str], str],
) -> Iterator[Column]:
    """``"top_k"``: per window, the events of group ``t`` with each value of ``top``.

    ``item`` is the field's ``(codes, labels)``, ``top`` a :class:`Vocabulary` (one
    column per value, in its order) and ``name(value, window)`` names the columns.
    """
    codes, labels = item
    sel = ev.item_events(t, codes)
    u, a = ev.user[sel], ev.age[sel]
    pos = top.encode_codes(codes[sel], labels)
    hit = np.flatnonzero(pos >= 0)
    order = hit[np.argsort(pos[hit], kind="stable")]  # events of each top value
    bounds = np.searchsorted(pos[order], np.arange(len(top) + 1))
    for w in windows:
        for j, v in enumerate(top.labels_.tolist()):
            events = order[bounds[j] : bounds[j + 1]]
            if w is not None:
                events = events[a[events] < w * US_PER_DAY]
            yield name(v, window_name(w)), np.bincount(u[events], minlength=ev.n)


def popularity(
    ev: Events, t: str, f: str, item: tuple[np.ndarray, np.ndarray], fitted: tuple
) -> Column:
    """``"popularity"``: the mean of the fitted ``(values, log1p counts)`` touched."""
    codes, labels = item
    sel = ev.item_events(t, codes)
    u = ev.user[sel]
    values, logs = fitted
    pos = Vocabulary.from_labels(values).encode_codes(codes[sel], labels)
    pop = np.where(pos >= 0, np.append(logs, 0)[pos], 0.0)
    return f"popularity_{t}_{f}", _safe_div(_count(u, ev.n, pop), _count(u, ev.n))


def distinct(ev: Events, t: str, f: str, item: tuple[np.ndarray, np.ndarray]) -> Column:
    """``"distinct"``: the number of distinct values of ``f`` touched in group ``t``."""
    codes, labels = item
    sel = ev.item_events(t, codes)
    size = max(len(labels), 1)
    keys = np.sort(ev.user[sel] * size + codes[sel])  # sorted (user, value) pairs
    first = np.ones(keys.size, dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    return f"distinct_{t}_{f}", _count(keys[first] // size, ev.n)


def cart_share(
    ev: Events, f: str, item: tuple[np.ndarray, np.ndarray], purchase: str, cart: str
) -> Column:
    """``"cart"``: the share of cart events whose value was bought then or later."""
    codes, labels = item
    size = max(len(labels), 1)
    buy = ev.item_events(purchase, codes)
    key_b = ev.user[buy] * size + codes[buy]
    order = np.lexsort((ev.times[buy], key_b))
    key_b, t_b = key_b[order], ev.times[buy][order]
    _, ends = _runs(key_b)
    key_b, t_b = key_b[ends], t_b[ends]  # last purchase time per (user, value)
    carts = ev.item_events(cart, codes)
    key_c = ev.user[carts] * size + codes[carts]
    pos = np.minimum(np.searchsorted(key_b, key_c), max(key_b.size - 1, 0))
    if key_b.size:
        later = (key_b[pos] == key_c) & (t_b[pos] >= ev.times[carts])
    else:
        later = np.zeros(key_c.size, dtype=bool)
    u = ev.user[carts]
    share = _safe_div(_count(u, ev.n, later.astype(np.float64)), _count(u, ev.n))
    return f"cart_bought_share_{f}", share


def code_means(
    ev: Events, g: str, f: str, size: int, fmt: str = "mean_{f}_{j}"
) -> Iterator[Column]:
    """``"codes"``: the mean of each of ``size`` codes / 255 over the events of ``g``."""
    values = ev.view.values(f)
    keep = np.zeros(ev.view.n_events, dtype=bool)
    keep[ev.groups[g]] = True
    k = values.type.list_size
    ok = keep & np.asarray(values.is_valid()) if values.null_count else keep.copy()
    flat = values.filter(pa.array(ok)).flatten()
    if flat.null_count:
        flat = flat.fill_null(0)
    rows = flat.to_numpy(zero_copy_only=False).reshape(-1, k)
    u = ev.user[np.flatnonzero(ok)]
    total = _count(u, ev.n)
    for j in range(size):
        col = rows[:, j].astype(np.float64) if j < k else np.zeros(u.size)
        yield fmt.format(f=f, j=j), _safe_div(_count(u, ev.n, col), total) / 255.0
