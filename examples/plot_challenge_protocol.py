"""
Scoring with the challenge's protocol
=====================================

The RecSys Challenge 2025 scores an embedding by training the organizers' network
(a residual MLP) on it for each task, three epochs on window 1, and measuring window 2.
:func:`~sklearn_ubp.evaluation.evaluate` reproduces it with ``protocol="official"``,
and offers a quick linear ``protocol="fast"`` for iterating on a CPU.

This example writes a small synthetic data set in the challenge's folder layout, makes
a submission from it exactly as ``ubp recsys2025`` does, checks it with the official
rules, and scores the same embeddings with both protocols.
"""

# %%
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from sklearn_ubp import EventCountEmbedder
from sklearn_ubp.datasets import load_recsys2025, make_events, write_recsys2025
from sklearn_ubp.evaluation import (
    evaluate,
    make_tasks,
    validate_submission,
    write_submission,
)
from sklearn_ubp.plotting import plot_scores

folder = Path(tempfile.mkdtemp()) / "ubc_data"
data = make_events(n_users=5000, random_state=0)
write_recsys2025(folder, data.tables, data.products, relevant_clients=data.relevant_clients)
print(sorted(p.name for p in folder.iterdir()))

# %%
# A submission
# ------------
# Load the folder, fit on every client's events, embed the relevant clients, write
# ``client_ids.npy`` and ``embeddings.npy`` (float16) and validate them. On the real
# data set, ``ubp recsys2025 DATA_DIR --out SUBMISSION_DIR`` runs these steps.
loaded = load_recsys2025(folder)
model = EventCountEmbedder().fit(loaded.events)
relevant = loaded.relevant_clients
submission = folder.parent / "submission"
write_submission(submission, relevant, model.transform(loaded.events.loc[relevant]))
validate_submission(submission, relevant)  # raises ValueError listing any problem
print(np.load(submission / "embeddings.npy").shape, "float16, valid")

# %%
# Scoring locally
# ---------------
# The release holds only the input period; the synthetic log goes on past it, so the
# targets can be built here. The embedding must come from events before the cut.
tasks = make_tasks(data.events.loc[data.relevant_clients])
embeddings = EventCountEmbedder().fit_transform(tasks.X)

fast = evaluate(embeddings, tasks, protocol="fast", random_state=0)
# The organizers' network at a reduced width so that it runs in seconds on a CPU;
# drop the options (hidden_size=2048) and pass device="cuda" for the real thing.
official = evaluate(
    embeddings, tasks, protocol="official", hidden_size=64, device="cpu", random_state=0
)
official.pivot_table(index="task", columns="metric", values="value", sort=False).round(3)

# %%
# ``attrs["best_epoch"]`` tells which of the three epochs was kept for each task.
print(official.attrs["best_epoch"])
ax = plot_scores({"fast protocol": fast, "official protocol (narrow)": official})
ax.figure.set_size_inches(9, 4)
ax.figure.tight_layout()
plt.show()
