"""``UniversalProfile``: the ensemble of members, concatenated, as in the paper.

The 2nd-place solution of the RecSys Challenge 2025 ("Encode Me If You Can")
concatenated GRU sequence autoencoders, count statistics and matrix-factorisation
embeddings, each L2-normalised (the statistics quantile-transformed) and optionally
reduced by PCA. :class:`UniversalProfile` is that recipe as a scikit-learn composition
with the interface of :class:`~sklearn.pipeline.FeatureUnion`. The members (defaults,
checks, selection) are in :mod:`sklearn_ubp._members`, the post-processing in
:mod:`sklearn_ubp._postprocess`.
"""

from __future__ import annotations

from collections.abc import Iterable
from numbers import Integral
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.pipeline import Pipeline
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils._repr_html.estimator import _VisualBlock
from sklearn.utils.metadata_routing import MetadataRouter
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted

from ._base import check_input_kind, input_kind, with_user_index
from ._frame import EventView
from ._input import as_event_view, check_fit_events
from ._members import (
    DEFAULT_MEMBERS,
    DefaultMembers,
    check_members,
    default_members,
    final_step,
    member_router,
    nested_params,
    prefixed_names,
    replace_members,
    routed_params,
    select_members,
    well_formed,
)
from ._portable import PortableState
from ._postprocess import (
    PostSpec,
    check_per_member,
    concatenate,
    finish_block,
    fit_member,
    member_input,
    member_weight,
    rows,
    transform_member,
)
from ._versions import TORCH, VersionedEstimator, uses_torch

__all__ = ["DEFAULT_MEMBERS", "DefaultMembers", "UniversalProfile"]

#: Users per ``transform`` chunk by default.
DEFAULT_CHUNK_SIZE = 50_000
#: The per-member parameters (dicts keyed by member name).
_PER_MEMBER = ("transformer_weights", "postprocess", "n_components")


class UniversalProfile(PortableState, VersionedEstimator, TransformerMixin, BaseEstimator):
    """Universal Behavioral Profiles: an ensemble of user embedders, concatenated.

    User embedders, each fitted on the same event frame, post-processed as in the
    2nd-place solution of the RecSys Challenge 2025, weighted, and concatenated into one
    vector per user (see ``shared/reference/paper-method.md``). It is a composition
    with the interface of :class:`~sklearn.pipeline.FeatureUnion` (``transformer_list``,
    ``transformer_weights``, nested ``<member>__<param>`` parameters, ``"drop"``,
    ``profile["counts"]``) and the member blocks of
    :class:`~sklearn.compose.ColumnTransformer` (:attr:`output_indices_`).

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
    to compare). Then a :class:`~sklearn.decomposition.PCA` per member
    (``n_components``; by default learned members to 16 components), then the
    member's weight (``transformer_weights``), all fitted on the training users.

    Members are fitted on clones: the estimators in ``transformer_list`` are never
    modified (unlike :class:`~sklearn.pipeline.FeatureUnion`, which fits them in
    place); the fitted members are :attr:`transformers_` /
    :attr:`named_transformers_`. ``fit_transform`` computes each member's output once
    (its ``fit_transform``), whatever the number of users.

    **One input boundary.** ``fit`` and ``transform`` check ``X`` once (pandas,
    polars, pyarrow, a dict of long tables) and hand the members that are
    sklearn-ubp estimators the checked view (other members get the pandas frame).
    A plain 2-D numeric array becomes an event frame of one ``value`` event per
    column (see :class:`EventCountEmbedder`; :class:`SVDItemEmbedder` reads it as
    its user x item matrix). With the default members all of them apply, except
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
    n_components : "auto", int, dict or None, default="auto"
        PCA after post-processing. ``"auto"``: each learned member wider than 16 to
        16 components, statistics unreduced (as good as the full width on the
        quality table's logs, with half of it). An int: every member to that many
        components; a dict: member name -> int or ``None``; ``None``: no PCA. At
        most the member's width and the number of training users.
    chunk_size : int or None, default=50_000
        Users per chunk in ``transform``: each chunk is embedded by every member and
        written into the output, so peak memory is the output plus one chunk's work,
        whatever the number of users. The output is the same as unchunked. ``None``:
        all users at once. ``fit`` and ``fit_transform`` always see all users (the
        members learn from all of them, and their outputs on the training users come
        from their ``fit_transform``).
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
    output_indices_ : dict of str to slice
        The output columns of each member (skipped members: empty slices).
    input_kind_ : {"events", "array"}
        What ``fit`` was given.
    n_features_in_ : int
        Number of columns of an array input (arrays only).
    feature_names_in_ : ndarray of str
        Column names of a DataFrame array input (arrays only).

    See Also
    --------
    sklearn.pipeline.FeatureUnion : The concatenation whose interface this follows.
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
        "n_components": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
            dict,
            None,
        ],
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
        n_components: str | int | dict[str, int | None] | None = "auto",
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
        return default_members(random_state)

    def _param_members(self) -> list[tuple[str, Any]]:
        """The members as parameters: ``transformer_list`` or fresh defaults."""
        if self.transformer_list is None:
            return default_members(self.random_state)
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

    def __getitem__(self, name: str) -> Any:
        """The member (as a parameter) named ``name``."""
        if not isinstance(name, str):
            raise KeyError("Only string keys are supported")
        return self.named_transformers[name]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters of the profile and, with ``deep``, of its members.

        With ``deep=True`` every member is listed by name, with its parameters as
        ``<member>__<param>``; with ``transformer_list=None`` these are the default
        members (``"gru"``, ``"gru__hidden_size"``, ...), as fresh estimators.

        Parameters
        ----------
        deep : bool, default=True
            Include the members and their parameters.

        Returns
        -------
        params : dict
        """
        out = super().get_params(deep=False)
        if deep:
            out.update(nested_params(self._param_members()))
        return out

    def set_params(self, **params: Any) -> UniversalProfile:
        """Set parameters of the profile or of its members (``gru__hidden_size``).

        In this order: ``transformer_list``; members by name (an estimator, or
        ``"drop"``); then the profile's other parameters and ``<member>__<param>``
        keys. With ``transformer_list=None``, setting a member or a member's
        parameter first materialises the default members into ``transformer_list``
        (a :class:`DefaultMembers` list of fresh estimators, built with the
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
        members = params.pop("transformer_list", self.transformer_list)
        if members is None and any(k.split("__", 1)[0] in DEFAULT_MEMBERS for k in params):
            members = default_members(params.get("random_state", self.random_state))
        self.transformer_list = members
        names = {name for name, _ in well_formed(members)}
        replaced = {k: params.pop(k) for k in list(params) if k in names}
        if replaced:
            self.transformer_list = replace_members(members, replaced)
        return super().set_params(**params)  # the others; nested keys via get_params

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
        return member_router(self, self._param_members())

    def _check_members(self) -> tuple[list[tuple[str, Any]], bool]:
        """The members to consider and whether they adapt to the data (defaults)."""
        members = self._param_members()
        adaptive = self.transformer_list is None or isinstance(
            self.transformer_list, DefaultMembers
        )
        names = check_members(members, self.get_params(deep=False))
        for param in _PER_MEMBER:
            check_per_member(param, getattr(self, param), names)
        return members, adaptive

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

        Each member's output is computed once, by its ``fit_transform``, on any number
        of users (``chunk_size`` applies to ``transform``). Equal (up to float
        round-off) to ``fit(X).transform(X)``.

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
        view, out = self._fit(X, y, keep=True, fit_params=params, method="fit_transform")
        return with_user_index(self, out, view)

    def _fit(
        self, X: Any, y: Any, *, keep: bool, fit_params: dict[str, Any], method: str
    ) -> tuple[EventView, np.ndarray | None]:
        """Fit the members (and their output, computed once, if ``keep``).

        ``X`` is checked once; the members that read views get the checked view, the
        others the pandas frame (or the array).
        """
        view = as_event_view(X, estimator=self)
        check_fit_events(view, self)
        members, adaptive = self._check_members()
        active, skipped = select_members(view, members, adaptive)
        routed = routed_params(self, method, fit_params, [name for name, _ in members])
        routed = {name: routed.get(name, {}) for name, _ in active}
        spec = {name: PostSpec.of(self, name, est) for name, est in active}
        results = Parallel(n_jobs=self.n_jobs, return_as="generator")(
            delayed(fit_member)(est, member_input(est, view, X), y, spec[name], keep, routed[name])
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
                blocks.append(finish_block(name, Z, member_weight(self.transformer_weights, name)))
        self._record_versions(TORCH if any(uses_torch(final_step(e)) for _, e in fitted) else None)
        self.input_kind_ = input_kind(view)
        self.transformers_ = fitted
        self.postprocessors_ = post
        self.skipped_members_ = skipped
        if self.verbose:
            for name, reason in skipped.items():
                print(f"[UniversalProfile] {name}: left out ({reason})")
        return view, (concatenate(blocks, view.n_users) if keep else None)

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
        view = as_event_view(X, estimator=self)
        check_input_kind(self, view)
        return with_user_index(self, self._transform(view, X, params), view)

    def _transform(self, view: EventView, X: Any, params: dict[str, Any]) -> np.ndarray:
        routed = routed_params(self, "transform", params, [name for name, _ in self.transformers_])
        n = view.n_users
        step = n if self.chunk_size is None else self.chunk_size
        if n <= step:
            return self._transform_chunk(view, X, routed, None)
        out: np.ndarray | None = None
        for start in range(0, n, step):
            stop = min(start + step, n)
            part = rows(X, start, stop) if view.array is not None else None
            where = (start, stop, n)
            block = self._transform_chunk(view.rows(start, stop), part, routed, where)
            if out is None:
                out = np.empty((n, block.shape[1]), dtype=np.float32)
            out[start:stop] = block
        return out

    def _transform_chunk(
        self, view: EventView, X: Any, routed: dict, where: tuple[int, int, int] | None
    ) -> np.ndarray:
        results = Parallel(n_jobs=self.n_jobs, return_as="generator")(
            delayed(transform_member)(
                est, self.postprocessors_[name], member_input(est, view, X), routed.get(name, {})
            )
            for name, est in self.transformers_
        )
        blocks = []
        times = []
        for (name, _), (Z, seconds) in zip(self.transformers_, results, strict=True):
            blocks.append(finish_block(name, Z, member_weight(self.transformer_weights, name)))
            times.append(f"{name} {seconds:.1f} s")
        if self.verbose and where is not None:
            start, stop, n = where
            print(
                f"[UniversalProfile] transform users {start:,}-{stop:,} of {n:,}: "
                + ", ".join(times)
            )
        return concatenate(blocks, view.n_users)

    # ------------------------------------------------------------ fitted attributes

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
        return prefixed_names(pairs, self.verbose_feature_names_out)

    def _member_feature_names(self, input_features: Any = None) -> list[tuple[str, Any]]:
        """``(member, its output names)`` in output order (after its PCA, if any)."""
        check_is_fitted(self)
        pairs = []
        for name, est in self.transformers_:
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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        tags.array_api_support = False
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
