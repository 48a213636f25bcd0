"""The ``ubp`` command line (also ``python -m sklearn_ubp``).

Subcommands::

    ubp demo        synthetic data, profiles and a score table (the README's main job)
    ubp fit         fit a model on an event log and save it with joblib
    ubp embed       embed the users of an event log with a saved model
    ubp recsys2025  fit on a RecSys Challenge 2025 folder and write a checked submission
    ubp evaluate    score embeddings on the challenge's downstream tasks

``ubp COMMAND --help`` lists each command's options. Errors in what the user gave
(bad paths, unreadable files, missing columns, bad values) print one line starting
with ``ubp: error:`` to standard error and exit with status 2, as bad arguments do;
``--debug`` shows the full traceback instead. Other exceptions are bugs and keep their
traceback.

Modules: :mod:`._parser` (arguments, :func:`main`), :mod:`._commands` (fit, embed,
recsys2025, evaluate), :mod:`._demo`, :mod:`._stream` (``embed --buckets``),
:mod:`._reading` and :mod:`._models` (what the commands share); the file formats are
the public :mod:`sklearn_ubp.io`.
"""

from ..io import ids_path, read_embeddings, write_embeddings
from ._common import CLIError, UserError
from ._models import available_models, embed_frame, make_model, score_table
from ._parser import build_parser, main

__all__ = [
    "CLIError",
    "UserError",
    "available_models",
    "build_parser",
    "embed_frame",
    "ids_path",
    "main",
    "make_model",
    "read_embeddings",
    "score_table",
    "write_embeddings",
]
