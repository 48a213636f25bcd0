"""Per-member post-processing of :class:`~sklearn_ubp.UniversalProfile`, and its members'
fit and transform.

A member's output is post-processed by a small :class:`~sklearn.pipeline.Pipeline`
fitted on the training users: row L2 normalisation (*learned* members), standardisation
or a uniform quantile transform (*statistics* members), then an optional PCA; then it
is weighted. The kind comes from the member's ``_ubp_postprocess`` hook (see
:class:`sklearn_ubp._base.EventTransformer`), or from the profile's ``postprocess``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import Normalizer, QuantileTransformer, StandardScaler

from ._base import EventTransformer
from ._frame import EventView
from ._members import final_step

__all__ = ["L2", "QUANTILE", "STANDARD", "PostSpec"]

#: Post-processing kinds: row L2 normalisation, uniform quantile transform,
#: standardisation (zero mean, unit variance per column), none.
L2, QUANTILE, STANDARD = "l2", "quantile", "standard"
POST_KINDS = (L2, QUANTILE, STANDARD, None)
#: ``n_components="auto"``: the PCA width of each *learned* member's output.
AUTO_COMPONENTS = 16
#: At most this many users fit the quantile transform of a statistics member.
QUANTILE_SUBSAMPLE = 100_000


def post_kind(est: Any, mode: str = "auto") -> str | None:
    """The post-processing of a member, from its ``_ubp_postprocess`` hook.

    *Learned* members (:class:`GRUSequenceAutoencoder`, :class:`SVDItemEmbedder`):
    row L2 normalisation. *Statistics* members (:class:`EventCountEmbedder`): a
    uniform quantile transform with ``mode="paper"``, standardisation with
    ``"auto"``. Anything else (including ``"passthrough"``): none. A
    :class:`~sklearn.pipeline.Pipeline` is classified by its last step.
    """
    declared = getattr(final_step(est), "_ubp_postprocess", None)
    if declared == "statistics":
        return QUANTILE if mode == "paper" else STANDARD
    return L2 if declared == "learned" else None


def check_per_member(param: str, value: Any, names: list[str]) -> None:
    """Check a per-member dict parameter (``transformer_weights``, ``postprocess``,
    ``n_components``) against the member names; anything but a dict passes."""
    if not isinstance(value, dict):
        return
    unknown = [k for k in value if k not in names]
    if unknown:
        raise ValueError(f"{param} names member(s) {unknown} that are not in the members {names}.")
    for k, v in value.items():
        if param == "transformer_weights":
            ok = isinstance(v, Real) and not isinstance(v, bool) and np.isfinite(v)
            expected = "a finite number"
        elif param == "postprocess":
            ok = v in POST_KINDS
            expected = "'l2', 'quantile', 'standard' or None"
        else:
            ok = v is None or (isinstance(v, Integral) and not isinstance(v, bool) and v >= 1)
            expected = "a positive int or None"
        if not ok:
            raise ValueError(f"{param}[{k!r}] must be {expected}; got {v!r}.")


@dataclass(frozen=True)
class PostSpec:
    """What happens to one member's output: ``kind``, then a PCA to ``n_components``.

    ``random_state`` seeds the quantile transform and the PCA; with ``reduce_only``
    an output no wider than ``n_components`` gets no PCA.
    """

    kind: str | None = None
    n_components: int | None = None
    random_state: Any = None
    #: Only reduce: no PCA of an output no wider than ``n_components`` ("auto").
    reduce_only: bool = False

    @classmethod
    def of(cls, profile: Any, name: str, est: Any) -> PostSpec:
        """The spec of member ``name`` from the profile's per-member parameters."""
        post = profile.postprocess
        if post is None:
            kind = None
        elif isinstance(post, dict) and name in post:
            kind = post[name]
        else:
            kind = post_kind(est, "paper" if post == "paper" else "auto")
        k = profile.n_components
        if k == "auto":
            learned = post_kind(est) == L2  # the member's own hook, not the profile's choice
            return cls(kind, AUTO_COMPONENTS if learned else None, profile.random_state, True)
        k = k.get(name) if isinstance(k, dict) else k
        return cls(kind, k, profile.random_state)

    @property
    def needs_output(self) -> bool:
        """Whether fitting it needs the member's output on the training users."""
        return self.kind is not None or self.n_components is not None

    def pipeline(self, n_samples: int, n_features: int) -> Pipeline | None:
        """The unfitted post-processing for an output of this shape (``None``: none)."""
        steps: list[tuple[str, Any]] = []
        if self.kind == L2:
            steps.append((L2, Normalizer(norm="l2")))
        elif self.kind == STANDARD:
            steps.append((STANDARD, StandardScaler()))
        elif self.kind == QUANTILE:
            quantile = QuantileTransformer(
                n_quantiles=max(1, min(1000, n_samples)),
                output_distribution="uniform",
                subsample=QUANTILE_SUBSAMPLE,
                random_state=self.random_state,
            )
            steps.append((QUANTILE, quantile))
        if self.n_components is not None and not (
            self.reduce_only and n_features <= self.n_components
        ):
            k = min(self.n_components, n_features, n_samples)
            if k >= 1:
                steps.append(("pca", PCA(n_components=k, random_state=self.random_state)))
        return Pipeline(steps).set_output(transform="default") if steps else None


def takes_views(est: Any) -> bool:
    """Whether a member reads :class:`EventView` input: an ``EventTransformer``, or a
    :class:`~sklearn.pipeline.Pipeline` whose first step is one."""
    while isinstance(est, Pipeline) and est.steps:
        est = est.steps[0][1]
    return isinstance(est, EventTransformer)


def member_input(est: Any, view: EventView, X: Any) -> Any:
    """What a profile hands member ``est``: the checked ``view`` if it reads views;
    else the pandas event frame, or for a 2-D array the original input ``X``."""
    if takes_views(est):
        return view
    return view.frame if view.array is None else X


def n_rows(X: Any) -> int:
    """Number of users (rows) of an event frame or an array-like."""
    shape = getattr(X, "shape", None)
    if shape is not None:
        return int(shape[0])
    return len(X) if hasattr(X, "__len__") else np.asarray(X).shape[0]


def rows(X: Any, start: int, stop: int) -> Any:
    """Users ``start:stop`` of an event frame or a 2-D array-like."""
    if hasattr(X, "iloc"):
        return X.iloc[start:stop]
    return X[start:stop] if hasattr(X, "__len__") else np.asarray(X)[start:stop]


def dense(Z: Any) -> np.ndarray:
    """A member's output as a 2-D float32 numpy array."""
    if sp.issparse(Z):
        Z = Z.toarray()
    elif hasattr(Z, "to_numpy"):  # pandas or polars output
        Z = Z.to_numpy()
    return np.asarray(Z, dtype=np.float32)


def fit_member(
    est: Any, X: Any, y: Any, spec: PostSpec, keep: bool, params: dict[str, Any]
) -> tuple[Any, Pipeline | None, np.ndarray | None, float]:
    """Fit one member and its post-processing.

    Returns the member, its fitted post-processing, its post-processed output if
    ``keep`` (computed once, by the member's ``fit_transform``) and the seconds taken.
    """
    t0 = time.perf_counter()
    if not (keep or spec.needs_output):
        est.fit(X, y, **params)
        return est, None, None, time.perf_counter() - t0
    Z = dense(est.fit_transform(X, y, **params))
    if Z.ndim != 2 or Z.shape[0] != n_rows(X):
        raise ValueError(
            f"member {type(est).__name__} returned an output of shape {Z.shape}; "
            f"expected ({n_rows(X)}, n_features)."
        )
    pipe = spec.pipeline(*Z.shape)
    if pipe is not None:
        if keep:
            Z = dense(pipe.fit_transform(Z.astype(np.float64)))
        else:
            pipe.fit(Z.astype(np.float64))
    return est, pipe, (Z if keep else None), time.perf_counter() - t0


def transform_member(
    est: Any, pipe: Pipeline | None, X: Any, params: dict[str, Any]
) -> tuple[np.ndarray, float]:
    """A fitted member's post-processed output on ``X``, and the seconds taken."""
    t0 = time.perf_counter()
    Z = dense(est.transform(X, **params))
    if pipe is not None and not len(Z):  # no users: scikit-learn refuses 0 rows
        Z = np.zeros((0, getattr(pipe[-1], "n_components_", Z.shape[1])), dtype=np.float32)
    elif pipe is not None:
        # float64, so that a row's result does not depend on its position in memory
        # (SIMD reductions round differently with alignment): exact row independence.
        Z = dense(pipe.transform(Z.astype(np.float64)))
    return Z, time.perf_counter() - t0


def member_weight(weights: dict[str, float] | None, name: str) -> float:
    """The weight of member ``name`` in ``transformer_weights`` (1 when absent)."""
    return float((weights or {}).get(name, 1.0))


def finish_block(name: str, Z: np.ndarray, weight: float) -> np.ndarray:
    """A member's block of the profile: weighted, checked finite, float32."""
    if weight != 1.0:
        Z = Z * np.float32(weight)
    if not np.isfinite(Z).all():
        raise ValueError(f"member {name!r} produced non-finite values.")
    return Z.astype(np.float32, copy=False)


def concatenate(blocks: list[np.ndarray], n: int) -> np.ndarray:
    """The members' blocks side by side (``n`` rows of width 0 without any)."""
    if not blocks:
        return np.zeros((n, 0), dtype=np.float32)
    return np.hstack(blocks)
