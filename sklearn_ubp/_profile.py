"""``UniversalProfile``: the ensemble of members, concatenated, as in the paper.

The 2nd-place solution of the RecSys Challenge 2025 ("Encode Me If You Can") built each
user's profile by concatenating several members: GRU sequence autoencoders, count
statistics and matrix-factorisation embeddings. Each member was L2-normalised (the
statistics got a uniform quantile transform instead), optionally reduced by PCA, then
all were concatenated. :class:`UniversalProfile` is that recipe (by default without the
quantile transform: our statistics are log-scaled already and are standardised, which
scored better) as a scikit-learn :class:`~sklearn.pipeline.FeatureUnion`: standard ``transformer_list`` semantics,
nested parameters (``gru__hidden_size``) for ``GridSearchCV``, per-member
post-processing and weights, and a chunked ``transform`` whose peak memory does not
grow with the number of users.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from numbers import Integral, Real
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import _fit_context, clone
from sklearn.decomposition import PCA
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    Normalizer,
    QuantileTransformer,
    StandardScaler,
)
from sklearn.utils import Bunch, _safe_indexing
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils._repr_html.estimator import _VisualBlock
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _raise_for_params,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import _num_samples, check_is_fitted

from ._base import ARRAY, EVENTS, as_pandas_events, with_user_index
from ._frame import EventView, check_event_frame, is_event_frame
from ._registry import estimator_class
from ._svd import SVDItemEmbedder

__all__ = ["DEFAULT_MEMBERS", "DefaultMembers", "UniversalProfile"]

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

#: Post-processing kinds: row L2 normalisation, uniform quantile transform,
#: standardisation (zero mean, unit variance per column), none.
L2, QUANTILE, STANDARD = "l2", "quantile", "standard"
_POST_KINDS = (L2, QUANTILE, STANDARD, None)
#: Users per ``transform`` chunk by default.
DEFAULT_CHUNK_SIZE = 50_000
#: At most this many users fit the quantile transform of a statistics member.
_QUANTILE_SUBSAMPLE = 100_000


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


def _final_step(est: Any) -> Any:
    while isinstance(est, Pipeline) and est.steps:
        est = est.steps[-1][1]
    return est


def _post_kind(est: Any, mode: str = "auto") -> str | None:
    """The post-processing of a member, from its ``_ubp_postprocess`` hook.

    *Learned* members (:class:`GRUSequenceAutoencoder`, :class:`SVDItemEmbedder`):
    row L2 normalisation. *Statistics* members (:class:`EventCountEmbedder`): a
    uniform quantile transform with ``mode="paper"``, standardisation with
    ``"auto"``. Anything else (including ``"passthrough"``): none. A
    :class:`~sklearn.pipeline.Pipeline` is classified by its last step.
    """
    declared = getattr(_final_step(est), "_ubp_postprocess", None)
    if declared == "statistics":
        return QUANTILE if mode == "paper" else STANDARD
    return L2 if declared == "learned" else None


def _dense(Z: Any) -> np.ndarray:
    """A member's output as a 2-D float32 numpy array."""
    if sp.issparse(Z):
        Z = Z.toarray()
    elif hasattr(Z, "to_numpy"):  # pandas or polars output
        Z = Z.to_numpy()
    return np.asarray(Z, dtype=np.float32)


def _missing_requirement(est: Any, view: EventView) -> str | None:
    """Why a default member cannot run on this event frame (``None``: it can), from its
    ``_ubp_requirement`` hook; a member without the hook can always run."""
    hook = getattr(_final_step(est), "_ubp_requirement", None)
    return hook(view) if callable(hook) else None


def _fit_member(
    est: Any,
    X: Any,
    y: Any,
    post: tuple[str | None, int | None, Any],
    keep: bool,
    params: dict[str, Any],
) -> tuple[Any, Pipeline | None, np.ndarray | None, float]:
    """Fit one member and its post-processing; return them, the output if ``keep``."""
    t0 = time.perf_counter()
    kind, n_components, random_state = post
    Z = None
    if keep or kind is not None or n_components is not None:
        Z = _dense(est.fit_transform(X, y, **params))
        if Z.ndim != 2 or Z.shape[0] != _num_samples(X):
            raise ValueError(
                f"member {type(est).__name__} returned an output of shape {Z.shape}; "
                f"expected ({_num_samples(X)}, n_features)."
            )
    else:
        est.fit(X, y, **params)
    pipe = None
    if Z is not None:
        steps: list[tuple[str, Any]] = []
        if kind == L2:
            steps.append((L2, Normalizer(norm="l2")))
        elif kind == STANDARD:
            steps.append((STANDARD, StandardScaler()))
        elif kind == QUANTILE:
            steps.append(
                (
                    QUANTILE,
                    QuantileTransformer(
                        n_quantiles=max(1, min(1000, Z.shape[0])),
                        output_distribution="uniform",
                        subsample=_QUANTILE_SUBSAMPLE,
                        random_state=random_state,
                    ),
                )
            )
        if n_components is not None:
            k = min(n_components, Z.shape[1], Z.shape[0])
            if k >= 1:
                steps.append(("pca", PCA(n_components=k, random_state=random_state)))
        if steps:
            pipe = Pipeline(steps).set_output(transform="default")
            if keep:
                Z = _dense(pipe.fit_transform(Z.astype(np.float64)))
            else:
                pipe.fit(Z.astype(np.float64))
    return est, pipe, (Z if keep else None), time.perf_counter() - t0


def _transform_member(
    est: Any, pipe: Pipeline | None, X: Any, params: dict[str, Any]
) -> tuple[np.ndarray, float]:
    t0 = time.perf_counter()
    Z = _dense(est.transform(X, **params))
    if pipe is not None:
        # float64, so that a row's result does not depend on its position in memory
        # (SIMD reductions round differently with alignment): exact row independence.
        Z = _dense(pipe.transform(Z.astype(np.float64)))
    return Z, time.perf_counter() - t0


class UniversalProfile(FeatureUnion):
    """Universal Behavioral Profiles: an ensemble of user embedders, concatenated.

    A :class:`~sklearn.pipeline.FeatureUnion` of user embedders, each fitted on the
    same event frame, post-processed as in the 2nd-place solution of the RecSys
    Challenge 2025, weighted, and concatenated into one vector per user (see
    ``shared/reference/paper-method.md``).

    **Default members** (``transformer_list=None``; see :data:`DEFAULT_MEMBERS`):
    ``"gru"`` a :class:`GRUSequenceAutoencoder` (``fields="day_event_type"``, small
    for CPU speed), ``"counts"`` an :class:`EventCountEmbedder`, ``"svd_category"``
    and ``"svd_url"`` :class:`SVDItemEmbedder` over categories and over urls. They
    are built afresh in every ``fit`` (with this profile's ``random_state``) and adapt
    to the data: a member whose fields the event frame lacks (no ``url`` column, a
    column without any value, or no event of a weighted type carrying the item) is
    left out and recorded in :attr:`skipped_members_`. On a purchase log with only
    ``timestamp``, ``amount`` and ``quantity`` the counts (time and monetary
    statistics) and the GRU (over day indices) remain. With an explicit
    ``transformer_list`` every member is used as given, and a member whose fields are
    missing raises its own error.

    ``get_params(deep=True)`` lists the default members and their parameters when
    ``transformer_list=None`` (``"gru"``, ``"gru__hidden_size"``, ...), so that
    ``GridSearchCV`` can search them. Setting one (``set_params(gru__hidden_size=32)``,
    or ``ubp__gru__hidden_size`` in a grid) first materialises the defaults into
    ``transformer_list`` as a :class:`DefaultMembers` list of fresh estimators, then
    sets the parameter. A :class:`DefaultMembers` list adapts to the data in ``fit``
    as ``None`` does.

    **Post-processing**, decided by the member's type: *learned* members
    (:class:`GRUSequenceAutoencoder`, :class:`SVDItemEmbedder`) are L2-normalised row
    by row (users without signal keep a zero vector); *statistics* members
    (:class:`EventCountEmbedder`, ``log1p``-scaled by default) are standardised
    (:class:`~sklearn.preprocessing.StandardScaler`) with ``postprocess="auto"``, and
    get a uniform :class:`~sklearn.preprocessing.QuantileTransformer` (values in
    ``[0, 1]``) with ``postprocess="paper"``, as the paper did with its raw counts;
    other members (and ``"passthrough"``) are left as they are. ``"auto"`` is the
    default because the quantile transform of already log-scaled statistics lowered
    the fast-protocol total (``benchmarks/bench_profile.py --set postprocess=paper``
    to compare). Then an optional :class:`~sklearn.decomposition.PCA` per member
    (``n_components``), then the member's weight (``transformer_weights``). The
    post-processors are fitted in ``fit`` on the members' outputs for the training
    users.

    Members are fitted on clones: the estimators in ``transformer_list`` are never
    modified (unlike :class:`~sklearn.pipeline.FeatureUnion`, which fits them in
    place); the fitted members are :attr:`transformers_` /
    :attr:`named_transformers_`.

    **2-D numeric arrays.** Every member gives a plain 2-D array its own meaning
    (:class:`EventCountEmbedder`: one equal-length sequence of per-period amounts per
    row; :class:`SVDItemEmbedder`: a user x item matrix; the GRU: an equal-length
    numeric sequence per row). With the default members all of them apply, except
    that only the first SVD member is kept (``item`` does not apply to arrays, so
    the others would duplicate it). ``"passthrough"`` passes an array through
    (validated as float); on an event frame it raises a ``ValueError``.

    Parameters
    ----------
    transformer_list : list of (str, transformer) tuples, default=None
        The members: ``(name, transformer)`` pairs, where a transformer may be
        ``"drop"`` (ignored) or ``"passthrough"`` (arrays only). ``None``: the default
        members, chosen in ``fit`` from the fields present (see above).
    postprocess : {"auto", "paper"}, dict or None, default="auto"
        ``"auto"``: L2 normalisation of learned members, standardisation of
        statistics members. ``"paper"``: the same, but a uniform quantile transform
        of statistics members (see above). A dict maps member names to ``"l2"``,
        ``"quantile"``, ``"standard"`` or ``None``; members not in it get the
        ``"auto"`` choice. ``None``: no post-processing.
    n_components : int, dict or None, default=None
        PCA after post-processing: an int reduces every member to that many
        components, a dict maps member names to an int (or ``None``: no PCA). The
        width is at most the member's width and the number of training users.
    chunk_size : int or None, default=50_000
        Users per chunk in ``transform`` (and in ``fit_transform`` on more users): each
        chunk is embedded by every member and written into the output, so peak memory
        is the output plus one chunk's work, whatever the number of users. The output
        is the same as unchunked. ``None``: all users at once. ``fit`` always sees
        all users (the members learn from all of them).
    n_jobs : int, default=None
        Members fitted, and applied to each ``transform`` chunk, in parallel by
        joblib. ``None`` means 1. Each worker process receives a copy of the data.
    transformer_weights : dict, default=None
        Multiplicative weight per member name (after post-processing). Names must be
        members (default members' names when ``transformer_list=None``).
    verbose : bool, default=False
        Print each member's fit time, and each transform chunk's per-member times.
    verbose_feature_names_out : bool, default=True
        Prefix each output name with its member's name (``counts__count_any_7d``).
        ``False``: unprefixed names, which must then be unique.
    random_state : int, RandomState instance or None, default=None
        Given to the default members that take one, and to the quantile transforms
        and PCAs; pass an int for reproducible output. Members passed in
        ``transformer_list`` keep their own ``random_state``.

    Attributes
    ----------
    transformers_ : list of (str, estimator) tuples
        The fitted members (clones), in output order; dropped and skipped members
        are not included.
    postprocessors_ : dict of str to Pipeline or None
        Per member, the fitted post-processing (steps ``"l2"`` (a
        :class:`~sklearn.preprocessing.Normalizer`), ``"standard"`` or
        ``"quantile"``, then ``"pca"``)
        or ``None``.
    skipped_members_ : dict of str to str
        Default members left out in ``fit``, with the reason.
    input_kind_ : {"events", "array"}
        What ``fit`` was given.
    n_features_in_ : int
        Number of columns of an array input (arrays only).
    feature_names_in_ : ndarray of str
        Column names of a DataFrame array input (arrays only).

    See Also
    --------
    sklearn.pipeline.FeatureUnion : The concatenation this extends.
    sklearn_ubp.EventCountEmbedder, sklearn_ubp.SVDItemEmbedder : Members.

    Examples
    --------
    >>> from sklearn_ubp import EventCountEmbedder, SVDItemEmbedder, UniversalProfile
    >>> from sklearn_ubp.datasets import make_events
    >>> events = make_events(n_users=300, random_state=0).events
    >>> profile = UniversalProfile(
    ...     [("counts", EventCountEmbedder()),
    ...      ("svd_url", SVDItemEmbedder(item="url", n_components=8, random_state=0))],
    ...     n_components={"counts": 16}, transformer_weights={"svd_url": 2.0},
    ... )
    >>> emb = profile.fit_transform(events)
    >>> emb.shape, emb.dtype
    ((300, 24), dtype('float32'))
    >>> names = profile.get_feature_names_out()
    >>> names[0], names[-1]
    ('counts__pca0', 'svd_url__svd_url_7')
    >>> profile.set_output(transform="pandas").transform(events.iloc[:2]).index.tolist()
    [1007, 1010]
    """

    _parameter_constraints: dict = {
        "transformer_list": [list, None],
        "postprocess": [StrOptions({"auto", "paper"}), dict, None],
        "n_components": [Interval(Integral, 1, None, closed="left"), dict, None],
        "chunk_size": [Interval(Integral, 1, None, closed="left"), None],
        "n_jobs": [Integral, None],
        "transformer_weights": [dict, None],
        "verbose": ["verbose"],
        "verbose_feature_names_out": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        transformer_list: list[tuple[str, Any]] | None = None,
        *,
        postprocess: str | dict[str, str | None] | None = "auto",
        n_components: int | dict[str, int | None] | None = None,
        chunk_size: int | None = DEFAULT_CHUNK_SIZE,
        n_jobs: int | None = None,
        transformer_weights: dict[str, float] | None = None,
        verbose: bool = False,
        verbose_feature_names_out: bool = True,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.transformer_list = transformer_list
        self.postprocess = postprocess
        self.n_components = n_components
        self.chunk_size = chunk_size
        self.n_jobs = n_jobs
        self.transformer_weights = transformer_weights
        self.verbose = verbose
        self.verbose_feature_names_out = verbose_feature_names_out
        self.random_state = random_state

    # ------------------------------------------------------------ the members

    @staticmethod
    def default_members(random_state: Any = None) -> DefaultMembers:
        """Fresh default members (see :data:`DEFAULT_MEMBERS`).

        Parameters
        ----------
        random_state : int, RandomState instance or None
            Given to the members that take a ``random_state``.

        Returns
        -------
        members : DefaultMembers
            ``(name, estimator)`` pairs; usable as ``transformer_list``.
        """
        members = DefaultMembers()
        for name, (registered, params) in DEFAULT_MEMBERS.items():
            est = estimator_class(registered)(**params)
            if "random_state" in est.get_params(deep=False):
                est.set_params(random_state=random_state)
            members.append((name, est))
        return members

    def _param_members(self) -> list[tuple[str, Any]]:
        """The members as parameters: ``transformer_list`` or fresh defaults."""
        if self.transformer_list is None:
            return self.default_members(self.random_state)
        return self.transformer_list

    @property
    def named_transformers(self) -> Bunch:
        """The members by name, as parameters (fresh defaults when ``None``; unfitted)."""
        return Bunch(**dict(self._param_members()))

    @property
    def named_transformers_(self) -> Bunch:
        """The fitted members by name."""
        check_is_fitted(self)
        return Bunch(**dict(self.transformers_))

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters of the profile and, with ``deep``, of its members.

        With ``transformer_list=None`` and ``deep=True`` the default members are
        listed (``"gru"``, ``"gru__hidden_size"``, ...), as fresh estimators.

        Parameters
        ----------
        deep : bool, default=True
            Include the members and their parameters.

        Returns
        -------
        params : dict
        """
        out = super().get_params(deep=deep)
        if deep and self.transformer_list is None:
            for name, est in self.default_members(self.random_state):
                out[name] = est
                for key, value in est.get_params(deep=True).items():
                    out[f"{name}__{key}"] = value
        return out

    def set_params(self, **params: Any) -> UniversalProfile:
        """Set parameters of the profile or of its members (``gru__hidden_size``).

        With ``transformer_list=None``, setting a member or a member's parameter
        first materialises the default members into ``transformer_list`` (a
        :class:`DefaultMembers` list of fresh estimators, built with the
        ``random_state`` given here or the current one), which still adapts to the
        fields present in ``fit``.

        Parameters
        ----------
        **params : dict
            Profile parameters, member names (to replace a member, or ``"drop"``)
            and ``<member>__<parameter>`` keys.

        Returns
        -------
        self : UniversalProfile
        """
        current = params.get("transformer_list", self.transformer_list)
        if current is None and any(k.split("__", 1)[0] in DEFAULT_MEMBERS for k in params):
            random_state = params.get("random_state", self.random_state)
            params = {**params, "transformer_list": self.default_members(random_state)}
        return super().set_params(**params)

    def _replace_estimator(self, attr: str, name: str, new_val: Any) -> None:
        # As _BaseComposition's, but a DefaultMembers list stays one (it adapts).
        members = getattr(self, attr)
        new = type(members)() if isinstance(members, DefaultMembers) else []
        new.extend((n, new_val) if n == name else (n, e) for n, e in members)
        setattr(self, attr, new)

    def _sk_visual_block_(self) -> _VisualBlock:
        members = self._param_members()
        names, transformers = zip(*members, strict=True) if members else ((), ())
        return _VisualBlock("parallel", transformers, names=names)

    def get_metadata_routing(self) -> MetadataRouter:
        """Metadata routing: each member's ``fit`` and ``transform``.

        Returns
        -------
        routing : MetadataRouter
        """
        router = MetadataRouter(owner=self)
        for name, transformer in self._param_members():
            router.add(
                **{name: transformer},
                method_mapping=MethodMapping()
                .add(caller="fit", callee="fit")
                .add(caller="fit", callee="fit_transform")
                .add(caller="fit_transform", callee="fit_transform")
                .add(caller="fit_transform", callee="fit")
                .add(caller="transform", callee="transform"),
            )
        return router

    # ------------------------------------------------------------ validation

    def _check_members(self) -> tuple[list[tuple[str, Any]], bool]:
        """The members to consider and whether they adapt to the data (defaults)."""
        members = self._param_members()
        adaptive = self.transformer_list is None or isinstance(
            self.transformer_list, DefaultMembers
        )
        for item in members:
            if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)):
                raise TypeError(
                    f"transformer_list must hold (name, transformer) tuples; got {item!r}."
                )
        names = [name for name, _ in members]
        self._validate_names(names)
        for name, est in members:
            if isinstance(est, str):
                if est not in ("drop", "passthrough"):
                    raise ValueError(
                        f"member {name!r}: a string member must be 'drop' or 'passthrough'; "
                        f"got {est!r}."
                    )
                continue
            if isinstance(est, type):
                raise TypeError(
                    f"member {name!r}: expected an estimator instance ({est.__name__}()), "
                    f"got the class {est.__name__}."
                )
            if not (hasattr(est, "fit") or hasattr(est, "fit_transform")) or not hasattr(
                est, "transform"
            ):
                raise TypeError(
                    f"member {name!r}: every member must implement fit and transform; "
                    f"{type(est).__name__} does not."
                )
        self._check_per_member("transformer_weights", names)
        self._check_per_member("postprocess", names)
        self._check_per_member("n_components", names)
        return members, adaptive

    def _check_per_member(self, param: str, names: list[str]) -> None:
        value = getattr(self, param)
        if not isinstance(value, dict):
            return
        unknown = [k for k in value if k not in names]
        if unknown:
            raise ValueError(
                f"{param} names member(s) {unknown} that are not in the members {names}."
            )
        for k, v in value.items():
            if param == "transformer_weights":
                ok = isinstance(v, Real) and not isinstance(v, bool) and np.isfinite(v)
                expected = "a finite number"
            elif param == "postprocess":
                ok = v in _POST_KINDS
                expected = "'l2', 'quantile', 'standard' or None"
            else:
                ok = v is None or (isinstance(v, Integral) and not isinstance(v, bool) and v >= 1)
                expected = "a positive int or None"
            if not ok:
                raise ValueError(f"{param}[{k!r}] must be {expected}; got {v!r}.")

    def _post_spec(self, name: str, est: Any) -> tuple[str | None, int | None, Any]:
        if self.postprocess is None:
            kind = None
        elif isinstance(self.postprocess, dict) and name in self.postprocess:
            kind = self.postprocess[name]
        else:
            kind = _post_kind(est, "paper" if self.postprocess == "paper" else "auto")
        if isinstance(self.n_components, dict):
            k = self.n_components.get(name)
        else:
            k = self.n_components
        return kind, k, self.random_state

    def _weight(self, name: str) -> float:
        if not self.transformer_weights:
            return 1.0
        return float(self.transformer_weights.get(name, 1.0))

    def _active_members(
        self, X: Any, kind: str, members: list[tuple[str, Any]], adaptive: bool
    ) -> tuple[list[tuple[str, Any]], dict[str, str]]:
        """Clones of the members that run on ``X``; the default members left out."""
        active: list[tuple[str, Any]] = []
        skipped: dict[str, str] = {}
        view = EventView(check_event_frame(X)) if kind == EVENTS and adaptive else None
        seen_svd = None
        for name, est in members:
            if isinstance(est, str):
                if est == "drop":
                    continue
                if kind == EVENTS:
                    raise ValueError(
                        f"member {name!r} is 'passthrough', which has no meaning on an "
                        "event frame (its columns are lists of events); use 'drop'."
                    )
                est = FunctionTransformer(validate=True, feature_names_out="one-to-one")
            elif adaptive:
                if kind == EVENTS:
                    reason = _missing_requirement(est, view)
                elif isinstance(_final_step(est), SVDItemEmbedder):
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

    # ------------------------------------------------------------ fitting

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X: Any, y: Any = None, **fit_params: Any) -> UniversalProfile:
        """Fit every member on ``X``, then its post-processing on its output.

        Parameters
        ----------
        X : event frame or array-like of shape (n_users, n_features)
            An event frame (pandas, polars or pyarrow; see
            :mod:`sklearn_ubp._frame`) or a 2-D numeric array (see above).
        y : array-like, default=None
            Passed to every member's ``fit`` (the built-in members ignore it).
        **fit_params : dict
            Passed to every member's ``fit`` (routed, when metadata routing is on).

        Returns
        -------
        self : UniversalProfile
        """
        self._fit(X, y, keep=False, fit_params=fit_params, method="fit")
        return self

    @_fit_context(prefer_skip_nested_validation=False)
    def fit_transform(self, X: Any, y: Any = None, **params: Any) -> np.ndarray:
        """Fit, then return the profiles of the users of ``X``.

        Equal (up to float round-off) to ``fit(X).transform(X)``. On at most
        ``chunk_size`` users each member's ``fit_transform`` output is used directly;
        on more, ``fit`` then the chunked ``transform``, so memory stays bounded.

        Parameters
        ----------
        X : event frame or array-like of shape (n_users, n_features)
        y : array-like, default=None
            Passed to every member's ``fit``.
        **params : dict
            Passed to every member's ``fit``.

        Returns
        -------
        profiles : ndarray of float32, shape (n_users, n_features_out)
        """
        X = as_pandas_events(X)  # once, not once per member
        n = _num_samples(X)
        if self.chunk_size is not None and n > self.chunk_size:
            self._fit(X, y, keep=False, fit_params=params, method="fit_transform")
            out = self._transform(X, {})
        else:
            out = self._fit(X, y, keep=True, fit_params=params, method="fit_transform")
        return with_user_index(self, out, X)

    def _routed(self, method: str, params: dict[str, Any], names: list[str]) -> dict:
        if _routing_enabled():
            routed = process_routing(self, method, **params)
            callee = "transform" if method == "transform" else "fit"
            return {name: dict(routed[name][callee]) for name in names if name in routed}
        if method == "transform":
            _raise_for_params(params, self, "transform")
            return {}
        return {name: params for name in names}

    def _fit(
        self, X: Any, y: Any, *, keep: bool, fit_params: dict[str, Any], method: str
    ) -> np.ndarray | None:
        X = as_pandas_events(X)
        kind = EVENTS if is_event_frame(X) else ARRAY
        members, adaptive = self._check_members()
        active, skipped = self._active_members(X, kind, members, adaptive)
        routed = self._routed(method, fit_params, [name for name, _ in members])
        results = Parallel(n_jobs=self.n_jobs, return_as="generator")(
            delayed(_fit_member)(est, X, y, self._post_spec(name, est), keep, routed.get(name, {}))
            for name, est in active
        )
        fitted: list[tuple[str, Any]] = []
        post: dict[str, Pipeline | None] = {}
        blocks: list[np.ndarray] = []
        for i, ((name, _), (est, pipe, Z, seconds)) in enumerate(
            zip(active, results, strict=True), 1
        ):
            fitted.append((name, est))
            post[name] = pipe
            if self.verbose:
                print(f"[UniversalProfile] ({i} of {len(active)}) {name}: fit in {seconds:.1f} s")
            if keep:
                blocks.append(self._finish_block(name, Z))
        self.input_kind_ = kind
        self.transformers_ = fitted
        self.postprocessors_ = post
        self.skipped_members_ = skipped
        if self.verbose and skipped:
            for name, reason in skipped.items():
                print(f"[UniversalProfile] {name}: left out ({reason})")
        if not keep:
            return None
        if not blocks:
            return np.zeros((_num_samples(X), 0), dtype=np.float32)
        return np.hstack(blocks)

    def _finish_block(self, name: str, Z: np.ndarray) -> np.ndarray:
        w = self._weight(name)
        if w != 1.0:
            Z = Z * np.float32(w)
        if not np.isfinite(Z).all():
            raise ValueError(f"member {name!r} produced non-finite values.")
        return Z.astype(np.float32, copy=False)

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "transformers_")

    # ------------------------------------------------------------ transform

    def transform(self, X: Any, **params: Any) -> np.ndarray:
        """Embed users with every fitted member, post-processed and concatenated.

        Parameters
        ----------
        X : event frame or array-like of shape (n_users, n_features)
            Of the kind seen in ``fit``; any users (also users not seen in ``fit``;
            users without events get finite vectors). Processed ``chunk_size`` users
            at a time.
        **params : dict
            Routed to the members' ``transform`` (metadata routing only).

        Returns
        -------
        profiles : ndarray of float32, shape (n_users, n_features_out)
            One row per user of ``X``, in order.
        """
        check_is_fitted(self)
        X = as_pandas_events(X)
        return with_user_index(self, self._transform(X, params), X)

    def _transform(self, X: Any, params: dict[str, Any]) -> np.ndarray:
        kind = EVENTS if is_event_frame(X) else ARRAY
        if kind != self.input_kind_:
            fitted = "an event frame" if self.input_kind_ == EVENTS else "a 2-D numeric array"
            given = "an event frame" if kind == EVENTS else "a 2-D array"
            raise ValueError(
                f"{type(self).__name__} was fitted on {fitted} and cannot transform {given}."
            )
        routed = self._routed("transform", params, [name for name, _ in self.transformers_])
        n = _num_samples(X)
        step = n if self.chunk_size is None else self.chunk_size
        if n <= step:
            return self._transform_chunk(X, routed, None)
        out: np.ndarray | None = None
        for start in range(0, n, step):
            stop = min(start + step, n)
            part = X.iloc[start:stop] if kind == EVENTS else _safe_indexing(X, slice(start, stop))
            block = self._transform_chunk(part, routed, (start, stop, n))
            if out is None:
                out = np.empty((n, block.shape[1]), dtype=np.float32)
            out[start:stop] = block
        return out

    def _transform_chunk(
        self, X: Any, routed: dict, where: tuple[int, int, int] | None
    ) -> np.ndarray:
        results = Parallel(n_jobs=self.n_jobs, return_as="generator")(
            delayed(_transform_member)(est, self.postprocessors_[name], X, routed.get(name, {}))
            for name, est in self.transformers_
        )
        blocks = []
        times = []
        for (name, _), (Z, seconds) in zip(self.transformers_, results, strict=True):
            blocks.append(self._finish_block(name, Z))
            times.append(f"{name} {seconds:.1f} s")
        if self.verbose and where is not None:
            start, stop, n = where
            print(
                f"[UniversalProfile] transform users {start:,}-{stop:,} of {n:,}: "
                + ", ".join(times)
            )
        if not blocks:
            return np.zeros((_num_samples(X), 0), dtype=np.float32)
        return np.hstack(blocks)

    def _iter_fitted(self) -> Iterator[tuple[str, Any]]:
        check_is_fitted(self)
        yield from self.transformers_

    def get_feature_names_out(self, input_features: Iterable[str] | None = None) -> np.ndarray:
        """Output names: ``<member>__<name>`` (``<member>__pca<i>`` after PCA).

        Parameters
        ----------
        input_features : array-like of str, optional
            Checked by the members against the input column names (array input).

        Returns
        -------
        names : ndarray of str objects
        """
        pairs = self._member_feature_names(input_features)
        if not pairs:
            return np.asarray([], dtype=object)
        return self._add_prefix_for_feature_names_out(pairs)

    def _member_feature_names(self, input_features: Any = None) -> list[tuple[str, Any]]:
        """``(member, its output names)`` in output order (after its PCA, if any)."""
        pairs = []
        for name, est in self._iter_fitted():
            names = est.get_feature_names_out(input_features)
            pipe = self.postprocessors_[name]
            if pipe is not None and "pca" in pipe.named_steps:
                names = pipe.named_steps["pca"].get_feature_names_out()
            pairs.append((name, names))
        return pairs

    @property
    def output_indices_(self) -> dict[str, slice]:
        """The output columns of each member: ``Z[:, profile.output_indices_["gru"]]``.

        As :attr:`sklearn.compose.ColumnTransformer.output_indices_`: a slice per
        fitted member, in output order; members left out (``skipped_members_``) get
        an empty slice.
        """
        out: dict[str, slice] = {}
        start = 0
        for name, names in self._member_feature_names():
            out[name] = slice(start, start + len(names))
            start += len(names)
        out.update({name: slice(0, 0) for name in self.skipped_members_})
        return out

    @property
    def n_features_in_(self) -> int:
        """Number of columns of the 2-D array seen in ``fit`` (arrays only)."""
        for _, est in getattr(self, "transformers_", []):
            if hasattr(est, "n_features_in_"):
                return est.n_features_in_
        raise AttributeError(
            f"{type(self).__name__} has no n_features_in_: it is not fitted, or was fitted "
            "on an event frame."
        )

    @property
    def feature_names_in_(self) -> np.ndarray:
        """Column names of a DataFrame array seen in ``fit`` (arrays only)."""
        for _, est in getattr(self, "transformers_", []):
            if hasattr(est, "feature_names_in_"):
                return est.feature_names_in_
        raise AttributeError(f"{type(self).__name__} has no feature_names_in_.")

    def set_output(self, *, transform: str | None = None) -> UniversalProfile:
        """Set the output container of ``transform`` and ``fit_transform``.

        The members are called for numpy output internally; only the profile's
        output is wrapped (pandas output keeps the user-id index of an event frame).

        Parameters
        ----------
        transform : {"default", "pandas", "polars"}, default=None
            ``None``: unchanged.

        Returns
        -------
        self : UniversalProfile
        """
        super(FeatureUnion, self).set_output(transform=transform)
        return self

    def __sklearn_tags__(self):
        tags = super(FeatureUnion, self).__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        tags.array_api_support = False
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
