"""Model files: joblib (pickle) or skops (loading that runs no code of the file).

:func:`dump_model` and :func:`load_model` pick the format by the file's suffix:
``.skops`` is written with :func:`skops.io.dump` and loaded with :func:`skops.io.load`
trusting exactly :data:`SKOPS_TRUSTED_TYPES` (the types a fitted model of this
package holds beyond those skops trusts by default: numpy arrays, Python containers,
scikit-learn estimators); anything else is joblib. skops is optional
(``pip install 'sklearn-ubp[skops]'``) and imported only here, when used.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["SKOPS_SUFFIX", "SKOPS_TRUSTED_TYPES", "dump_model", "is_skops_path", "load_model"]

#: The suffix of model files written and read with skops.
SKOPS_SUFFIX = ".skops"

#: The types, beyond skops' defaults, that a fitted estimator of sklearn-ubp holds
#: (alone, as a profile member or in a scikit-learn pipeline), as skops names them.
SKOPS_TRUSTED_TYPES = (
    "sklearn_ubp._counts.EventCountEmbedder",
    "sklearn_ubp._gru.GRUSequenceAutoencoder",
    "sklearn_ubp._members.DefaultMembers",
    "sklearn_ubp._profile.UniversalProfile",
    "sklearn_ubp._sequences.FieldVocabulary",
    "sklearn_ubp._svd.SVDItemEmbedder",
    "sklearn_ubp._vocabulary.Vocabulary",
)


def skops_io() -> Any:
    """:mod:`skops.io`, or an ImportError saying how to install it."""
    try:
        import skops.io
    except ImportError as exc:
        raise ImportError(
            "saving or loading a .skops model file needs skops (>= 0.10), which is not "
            "installed: pip install 'sklearn-ubp[skops]' (or pip install skops), or use a "
            ".joblib file."
        ) from exc
    return skops.io


def is_skops_path(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names a skops file (suffix ``.skops``, any case)."""
    return Path(path).name.lower().endswith(SKOPS_SUFFIX)


def write_model(model: Any, path: str | os.PathLike[str], *, skops: bool) -> None:
    """Write ``model`` to ``path`` with skops (compressed) or joblib."""
    if skops:
        skops_io().dump(model, path, compression=zipfile.ZIP_DEFLATED)
    else:
        import joblib

        joblib.dump(model, path)


def dump_model(model: Any, path: str | os.PathLike[str]) -> Path:
    """Save a fitted model: with skops to a ``.skops`` file, else with joblib.

    Parameters
    ----------
    model : object
        A fitted estimator of sklearn-ubp, or a scikit-learn pipeline holding one.
    path : str or path-like
        ``NAME.skops``: the skops format (needs skops), which :func:`load_model` loads
        without running code of the file. Any other name (``NAME.joblib``): joblib, a
        pickle, which only files from trusted sources may be loaded from.

    Returns
    -------
    path : pathlib.Path
        The file written.

    See Also
    --------
    load_model : Load it.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sklearn_ubp import EventCountEmbedder
    >>> from sklearn_ubp.datasets import make_events
    >>> from sklearn_ubp.io import dump_model, load_model
    >>> events = make_events(n_users=50, random_state=0).events
    >>> model = EventCountEmbedder().fit(events)
    >>> path = dump_model(model, os.path.join(tempfile.mkdtemp(), "counts.joblib"))
    >>> path.name, np.array_equal(load_model(path).transform(events), model.transform(events))
    ('counts.joblib', True)
    """
    out = Path(path)
    write_model(model, out, skops=is_skops_path(out))
    return out


def _trusted_names(trusted: Any) -> list[str]:
    if isinstance(trusted, (str, bytes, bool)) or not isinstance(trusted, Iterable):
        raise TypeError(f"trusted must be a list of type names (str) or types; got {trusted!r}.")
    names = []
    for t in trusted:
        if isinstance(t, type):
            t = f"{t.__module__}.{t.__qualname__}"
        if not isinstance(t, str):
            raise TypeError(f"trusted must hold type names (str) or types; got {t!r}.")
        names.append(t)
    return names


def load_skops(path: str | os.PathLike[str], trusted: Iterable[Any] = ()) -> Any:
    """Load a skops file trusting :data:`SKOPS_TRUSTED_TYPES` and ``trusted`` only."""
    sio = skops_io()
    allowed = [*SKOPS_TRUSTED_TYPES, *_trusted_names(trusted)]
    source = str(path)
    if Path(path).is_dir():
        raise ValueError(f"model file {source!r} is a directory; expected a .skops file.")
    try:
        found = sio.get_untrusted_types(file=path)
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, EOFError) as exc:
        raise ValueError(
            f"model file {source!r} is not a skops file (damaged, truncated, or saved "
            f"otherwise, e.g. with joblib: name such a file .joblib): {exc!r}"
        ) from exc
    refused = sorted(set(found) - set(allowed))
    if refused:
        raise ValueError(
            f"model file {source!r} holds types that are not trusted: {refused}. A model "
            "of sklearn-ubp needs only sklearn_ubp.io.SKOPS_TRUSTED_TYPES (besides the "
            "types skops trusts by default). Load it only if you trust where it comes "
            "from and have reviewed these types: load_model(path, trusted=[...])."
        )
    return sio.load(path, trusted=allowed)


def load_model(path: str | os.PathLike[str], *, trusted: Iterable[Any] = ()) -> Any:
    """Load a model saved by :func:`dump_model` (or ``ubp fit``).

    A ``.skops`` file is loaded with :func:`skops.io.load`, trusting exactly
    :data:`SKOPS_TRUSTED_TYPES` and ``trusted``: a file holding any other type (other
    than those skops trusts by default) is refused before any object of it is built.
    Any other file is loaded with :func:`joblib.load`: a pickle, which runs code of the
    file; load only pickles you trust.

    Parameters
    ----------
    path : str or path-like
        The model file.
    trusted : iterable of str or type, default=()
        Further types to trust in a ``.skops`` file (e.g. a custom member's class), by
        the name :func:`skops.io.get_untrusted_types` gives, after reviewing them.

    Returns
    -------
    model : object
        The model. Loading it under other major.minor versions of the packages it
        recorded at fit warns (:class:`~sklearn_ubp.InconsistentVersionWarning`).

    Raises
    ------
    ValueError
        A ``.skops`` file holding types not trusted (named in the message), or a file
        that is not a skops (``.skops``) or joblib (other names) file, e.g. truncated.
    ImportError
        A ``.skops`` file where skops is not installed.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sklearn_ubp import SVDItemEmbedder
    >>> from sklearn_ubp.datasets import make_events
    >>> from sklearn_ubp.io import SKOPS_TRUSTED_TYPES, dump_model, load_model
    >>> events = make_events(n_users=50, random_state=0).events
    >>> svd = SVDItemEmbedder(n_components=2, random_state=0).fit(events)
    >>> path = dump_model(svd, os.path.join(tempfile.mkdtemp(), "svd.skops"))
    >>> np.array_equal(load_model(path).transform(events), svd.transform(events))
    True
    >>> "sklearn_ubp._svd.SVDItemEmbedder" in SKOPS_TRUSTED_TYPES
    True
    """
    if is_skops_path(path):
        return load_skops(path, trusted)
    return load_joblib(path)


def load_joblib(path: str | os.PathLike[str]) -> Any:
    """:func:`joblib.load`, a damaged or truncated file a ValueError naming it."""
    import pickle

    import joblib

    try:
        return joblib.load(path)
    except (pickle.UnpicklingError, EOFError, IndexError, KeyError) as exc:
        raise ValueError(
            f"model file {str(path)!r} is not a joblib model file (damaged, truncated, or "
            f"of another format; a skops file must be named .skops): {exc!r}"
        ) from exc
