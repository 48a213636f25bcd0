"""
Quickstart: user embeddings in a scikit-learn pipeline
======================================================

Turn a raw event log into one vector per user with
:class:`~sklearn_ubp.UniversalProfile`, score the vectors on the RecSys Challenge
2025 tasks, and train an ordinary scikit-learn classifier on top of them.
"""

# %%
# A small synthetic event log
# ---------------------------
# :func:`~sklearn_ubp.datasets.make_events` simulates users in the layout of the
# RecSys Challenge 2025 release (purchases, cart events, page visits, searches) and
# returns, among other things, the *event frame*: one row per user, one list column
# per event field.
import matplotlib.pyplot as plt
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline

from sklearn_ubp import UniversalProfile
from sklearn_ubp.datasets import make_events
from sklearn_ubp.evaluation import evaluate, make_tasks, official_baseline, random_embeddings
from sklearn_ubp.plotting import plot_embedding_map, plot_scores

data = make_events(n_users=5000, random_state=0)
data.events.head(3)

# %%
# The challenge's time split
# --------------------------
# :func:`~sklearn_ubp.evaluation.make_tasks` cuts the log in time: ``tasks.X`` holds
# the events *before* the cut (the only input an embedding may use) of the
# challenge's "relevant clients"; the targets (churn, conversion, propensities) come
# from their purchases in two later windows. The profile itself learns without
# labels, from every user's events before the same cut.
tasks = make_tasks(data.events.loc[data.relevant_clients])
everyone = make_tasks(data.events, end=tasks.end).X  # all users, same cut
print(f"{len(everyone)} users, {len(tasks.X)} relevant clients, input before {tasks.cut}")
print("tasks:", ", ".join(tasks.tasks))

# %%
# Fit a profile
# -------------
# The default members are a GRU sequence autoencoder, event statistics and two SVD
# item-factor embeddings; each is post-processed and the blocks are concatenated.
# Member parameters are nested, as in any scikit-learn ``FeatureUnion``; a short
# training keeps this example quick.
profile = UniversalProfile(random_state=0).set_params(
    gru__max_epochs=2, gru__hidden_size=32, gru__max_length=64
)
profile.fit(everyone)
embeddings = profile.transform(tasks.X)
print(embeddings.shape, [name for name, _ in profile.transformers_])

# %%
# With ``set_output(transform="pandas")`` the output keeps the user ids as its index
# and the member-prefixed feature names as its columns.
profile.set_output(transform="pandas").transform(tasks.X.iloc[:3]).iloc[:, :4]

# %%
# Score the embeddings
# --------------------
# :func:`~sklearn_ubp.evaluation.evaluate` trains one small model per task on
# window 1 and scores window 2. Random vectors and the official baseline's counts are
# the reference points.
scores = {
    "random": evaluate(random_embeddings(tasks.X, random_state=0), tasks),
    "baseline counts": evaluate(official_baseline(tasks.X).to_numpy(), tasks),
    "UniversalProfile": evaluate(embeddings, tasks),
}
ax = plot_scores(scores)
ax.figure.set_size_inches(10, 4)
ax.figure.tight_layout()

# %%
# A classifier on top
# -------------------
# The profile is a transformer: put it in a pipeline. Because the event frame has one
# row per user, ``cross_val_score`` splits by user and keeps ``X`` and ``y``
# aligned. The target is the conversion task's window-1 label (1 = no purchase).
y = tasks.tasks["conversion"].y_train
pipe = make_pipeline(
    UniversalProfile(random_state=0).set_params(
        gru__max_epochs=2, gru__hidden_size=32, gru__max_length=64
    ),
    LogisticRegression(C=0.05, max_iter=2000),
)
auroc = cross_val_score(pipe, tasks.X, y, cv=3, scoring="roc_auc")
print(f"cross-validated AUROC: {auroc.mean():.3f} (+/- {auroc.std():.3f})")

# %%
# A map of the users
# ------------------
# A 2-D PCA of the profiles of the relevant clients, coloured by whether they bought
# in window 2.
fig, ax = plt.subplots(figsize=(6, 5))
plot_embedding_map(
    embeddings, tasks.tasks["conversion"].y_test, ax=ax, label="no purchase in window 2"
)
plt.show()
