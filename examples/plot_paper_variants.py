"""
The paper's GRU autoencoder variants
====================================

The 2nd-place solution of the RecSys Challenge 2025 ("Encode Me If You Can") trained
GRU sequence autoencoders over each user's events and kept the encoder's final hidden
state as the embedding. Two of its variants differ in what each event token carries
and what the decoder reconstructs:

* ``"day_event_type"``: the day index and the event type of every event;
* ``"week_all"``: the week index and every field (event type, category, price, sku,
  url), the paper's best single model.

This example trains both with :class:`~sklearn_ubp.GRUSequenceAutoencoder` at a tiny
size (the paper's models are far larger and train for hours on a GPU), plots their
training curves, and scores them alone and next to event statistics.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

from sklearn_ubp import EventCountEmbedder, GRUSequenceAutoencoder
from sklearn_ubp.datasets import make_events
from sklearn_ubp.evaluation import evaluate, make_tasks, random_embeddings
from sklearn_ubp.plotting import plot_scores, plot_training_history

data = make_events(n_users=5000, random_state=0)
# The targets of the relevant clients; the autoencoders learn from every user's
# events before the same cut.
tasks = make_tasks(data.events.loc[data.relevant_clients])
everyone = make_tasks(data.events, end=tasks.end).X

# %%
# Train both variants
# -------------------
# Same size, same seed; only ``fields`` differs. ``gru.fields_`` shows what each one
# read from this event frame, ``gru.history_`` the loss of every epoch. The heads over
# sku and url are adaptive softmaxes by default (cheaper on a CPU);
# ``softmax="full"`` gives the paper's full softmax heads.
settings = dict(
    hidden_size=32, embedding_dim=16, max_length=64, max_epochs=3, patience=2, random_state=0
)
variants = {}
for fields in ("day_event_type", "week_all"):
    gru = GRUSequenceAutoencoder(fields=fields, **settings).fit(everyone)
    variants[fields] = gru
    print(f"{fields}: fields {gru.fields_}, best epoch {gru.best_epoch_}")

fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
for ax, (fields, gru) in zip(axes, variants.items(), strict=True):
    plot_training_history(gru, ax=ax)
    ax.set_title(f'fields="{fields}"')
fig.tight_layout()

# %%
# The losses are not comparable across variants: ``week_all`` reconstructs more
# fields, and its summed cross-entropy is larger.
#
# Score them
# ----------
# Alone, and concatenated with :class:`~sklearn_ubp.EventCountEmbedder` (what the
# paper's ensemble does; :class:`~sklearn_ubp.UniversalProfile` packages it).
counts = EventCountEmbedder().fit_transform(tasks.X)
scores = {"random": evaluate(random_embeddings(tasks.X, random_state=0), tasks)}
scores["counts"] = evaluate(counts, tasks)
for fields, gru in variants.items():
    emb = gru.transform(tasks.X)
    emb = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)  # L2, as the paper
    scores[fields] = evaluate(emb, tasks)
    scores[f"counts + {fields}"] = evaluate(np.hstack([counts, emb]), tasks)

ax = plot_scores(scores)
ax.figure.set_size_inches(11, 4)
ax.figure.tight_layout()
plt.show()
