"""The members of :class:`~sklearn_ubp.UniversalProfile`: defaults, checks, selection.

A member is a ``(name, transformer)`` pair. This module builds the default members
(:data:`DEFAULT_MEMBERS`, from the estimator registry), checks a member list, gives the
nested parameters of a list (``<member>__<param>``, as a scikit-learn composition does),
chooses the members that run on the data (the defaults adapt to the fields present,
through the members' ``_ubp_requirement`` hook), routes metadata to the members and
names their outputs.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from sklearn import get_config
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping, process_routing

from ._frame import EventView
from ._registry import estimator_class
from ._svd import SVDItemEmbedder

__all__ = ["DEFAULT_MEMBERS", "DefaultMembers", "default_members"]

#: How a profile's methods call its members (metadata routing).
_MEMBER_METHODS = (
    ("fit", "fit"),
    ("fit", "fit_transform"),
    ("fit_transform", "fit_transform"),
    ("fit_transform", "fit"),
    ("transform", "transform"),
)

#: The default members, in one place: name -> (registry name, constructor keywords); the
#: registry (:data:`sklearn_ubp._registry.ESTIMATORS`) gives the class.
#: Members that take a ``random_state`` get the profile's. The GRU is kept small so
#: that 50k users fit in minutes on a laptop CPU; see ``benchmarks/bench_profile.py``.
DEFAULT_MEMBERS: dict[str, tuple[str, dict[str, Any]]] = {
    "gru": (
        "gru",
        {
            "fields": "day_event_type",
            "max_length": 128,
            "embedding_dim": 32,
            "hidden_size": 64,
            "n_layers": 1,
            "max_epochs": 5,
            "batch_size": 256,
            "patience": 2,
        },
    ),
    "counts": ("counts", {}),
    "svd_category": ("svd", {"item": "category"}),
    "svd_url": ("svd", {"item": "url"}),
}


class DefaultMembers(list):
    """The default members as a ``transformer_list``: a list that adapts to the data.

    :meth:`UniversalProfile.set_params` materialises the defaults into one of these
    when a member parameter is set on a profile built with ``transformer_list=None``
    (``UniversalProfile().set_params(gru__hidden_size=32)``). It behaves like any list
    of ``(name, estimator)`` pairs, except that ``fit`` leaves out the members whose
    fields the data lacks, exactly as with ``transformer_list=None``. It survives
    ``clone`` and pickling.
    """

    def __repr__(self) -> str:
        return f"DefaultMembers({list.__repr__(self)})"


def default_members(random_state: Any = None) -> DefaultMembers:
    """Fresh default members (see :data:`DEFAULT_MEMBERS`), given ``random_state``."""
    members = DefaultMembers()
    for name, (registered, params) in DEFAULT_MEMBERS.items():
        est = estimator_class(registered)(**params)
        if "random_state" in est.get_params(deep=False):
            est.set_params(random_state=random_state)
        members.append((name, est))
    return members


def final_step(est: Any) -> Any:
    """The member itself, or the last step of a :class:`~sklearn.pipeline.Pipeline`."""
    while isinstance(est, Pipeline) and est.steps:
        est = est.steps[-1][1]
    return est


# ---------------------------------------------------------------- nested parameters


def well_formed(members: Any) -> list[tuple[str, Any]]:
    """The ``(name, member)`` pairs of ``members``; ``[]`` for anything malformed.

    ``get_params`` and ``set_params`` must not fail on an invalid ``transformer_list``
    (``fit`` reports it), as scikit-learn's compositions do not.
    """
    if not isinstance(members, list):
        return []
    if not all(isinstance(m, tuple) and len(m) == 2 and isinstance(m[0], str) for m in members):
        return []
    return list(members)


def nested_params(members: Any) -> dict[str, Any]:
    """``{name: member, "<name>__<param>": value}`` for every member."""
    out: dict[str, Any] = {}
    for name, est in well_formed(members):
        out[name] = est
        if hasattr(est, "get_params"):
            for key, value in est.get_params(deep=True).items():
                out[f"{name}__{key}"] = value
    return out


def replace_members(members: list, new: dict[str, Any]) -> list:
    """``members`` with the members named in ``new`` replaced; a new list of its type
    (a :class:`DefaultMembers` list stays one: it adapts to the data)."""
    out = type(members)() if isinstance(members, DefaultMembers) else []
    out.extend((name, new.get(name, est)) for name, est in members)
    return out


# ---------------------------------------------------------------- checks


def check_members(members: Any, reserved: Any) -> list[str]:
    """Check a member list (``reserved``: the profile's own parameter names); its names."""
    for item in members:
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)):
            raise TypeError(f"transformer_list must hold (name, transformer) tuples; got {item!r}.")
    names = [name for name, _ in members]
    if len(set(names)) != len(names):
        raise ValueError(f"transformer_list: names provided are not unique: {names!r}")
    if clash := sorted(set(names) & set(reserved)):
        raise ValueError(f"transformer_list: names conflict with constructor arguments: {clash}")
    if bad := [name for name in names if "__" in name]:
        raise ValueError(f"transformer_list: names must not contain __: got {bad!r}")
    for name, est in members:
        _check_member(name, est)
    return names


def _check_member(name: str, est: Any) -> None:
    if isinstance(est, str):
        if est not in ("drop", "passthrough"):
            raise ValueError(
                f"member {name!r}: a string member must be 'drop' or 'passthrough'; got {est!r}."
            )
        return
    if isinstance(est, type):
        raise TypeError(
            f"member {name!r}: expected an estimator instance ({est.__name__}()), "
            f"got the class {est.__name__}."
        )
    if not (hasattr(est, "fit") or hasattr(est, "fit_transform")) or not hasattr(est, "transform"):
        raise TypeError(
            f"member {name!r}: every member must implement fit and transform; "
            f"{type(est).__name__} does not."
        )


# ---------------------------------------------------------------- selection


def select_members(
    view: EventView, members: list[tuple[str, Any]], adaptive: bool
) -> tuple[list[tuple[str, Any]], dict[str, str]]:
    """Clones of the members that run on ``X``; the (default) members left out, with why.

    ``"drop"`` members are ignored and ``"passthrough"`` becomes a validating identity
    (arrays only). With ``adaptive`` (default members), a member whose
    ``_ubp_requirement`` the event frame fails is left out, and on a 2-D array only the
    first :class:`SVDItemEmbedder` is kept (``item`` does not apply to arrays).
    """
    active: list[tuple[str, Any]] = []
    skipped: dict[str, str] = {}
    events = view.array is None
    seen_svd = None
    for name, est in members:
        if isinstance(est, str):
            if est == "drop":
                continue
            if events:
                raise ValueError(
                    f"member {name!r} is 'passthrough', which has no meaning on an "
                    "event frame (its columns are lists of events); use 'drop'."
                )
            est = FunctionTransformer(validate=True, feature_names_out="one-to-one")
        elif adaptive:
            if events:
                hook = getattr(final_step(est), "_ubp_requirement", None)
                reason = hook(view) if callable(hook) else None
            elif isinstance(final_step(est), SVDItemEmbedder):
                reason = (
                    f"on a 2-D array it would duplicate {seen_svd!r} ('item' does not "
                    "apply to arrays)"
                    if seen_svd
                    else None
                )
                seen_svd = seen_svd or name
            else:
                reason = None
            if reason is not None:
                skipped[name] = reason
                continue
        active.append((name, clone(est)))
    return active, skipped


# ---------------------------------------------------------------- routing and names


def member_router(owner: Any, members: list[tuple[str, Any]]) -> MetadataRouter:
    """Metadata routing of ``owner`` to each member's ``fit`` and ``transform``."""
    router = MetadataRouter(owner=owner)
    for name, transformer in members:
        mapping = MethodMapping()
        for caller, callee in _MEMBER_METHODS:
            mapping.add(caller=caller, callee=callee)
        router.add(**{name: transformer}, method_mapping=mapping)
    return router


def routed_params(owner: Any, method: str, params: dict[str, Any], names: list[str]) -> dict:
    """Per member name, the metadata of its call from ``owner``'s ``method``.

    Without metadata routing, ``fit`` and ``fit_transform`` pass ``params`` to every
    member and ``transform`` accepts none.
    """
    if get_config().get("enable_metadata_routing", False):
        routed = process_routing(owner, method, **params)
        callee = "transform" if method == "transform" else "fit"
        return {name: dict(routed[name][callee]) for name in names if name in routed}
    if method != "transform":
        return {name: params for name in names}
    if params:
        raise ValueError(
            f"Passing extra keyword arguments to {type(owner).__name__}.transform is only "
            "supported if enable_metadata_routing=True, which you can set using "
            f"`sklearn.set_config`. Extra parameters passed are: {set(params)}"
        )
    return {}


def prefixed_names(pairs: list[tuple[str, Any]], verbose: bool) -> np.ndarray:
    """The members' output names: ``<member>__<name>`` with ``verbose``, else as they
    are (then they must be unique). ``pairs``: ``(member, its names)`` in output order."""
    if verbose:
        return np.asarray([f"{m}__{n}" for m, names in pairs for n in names], dtype=object)
    counts = Counter(n for _, names in pairs for n in names)
    overlap = sorted(n for n, c in counts.most_common(6) if c > 1)
    if overlap:
        shown = str(overlap[:5])[:-1] + ", ...]" if len(overlap) == 6 else str(overlap)
        raise ValueError(
            f"Output feature names: {shown} are not unique. Please set "
            "verbose_feature_names_out=True to add prefixes to feature names"
        )
    return np.concatenate([names for _, names in pairs])
