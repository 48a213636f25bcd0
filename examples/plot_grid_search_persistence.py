"""
Grid search and persistence
===========================

:class:`~sklearn_ubp.UniversalProfile` is a scikit-learn transformer: its members'
parameters can be searched with :class:`~sklearn.model_selection.GridSearchCV` (the
folds split by user, since the event frame has one row per user), and the fitted
pipeline saved with joblib and loaded elsewhere, giving the same predictions.
"""

# %%
import tempfile
from pathlib import Path

import joblib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline

from sklearn_ubp import UniversalProfile
from sklearn_ubp.datasets import make_events
from sklearn_ubp.evaluation import make_tasks

# A small log with more purchases than the default, so that a few dozen users buy.
data = make_events(n_users=1500, event_shares={"product_buy": 0.05}, random_state=0)
tasks = make_tasks(data.events)
X = tasks.X
y = tasks.tasks["conversion"].y_train  # 1 = no purchase in the next two weeks
print(f"{len(X)} users, {int((y == 0).sum())} buyers")

# %%
# Search over member parameters
# -----------------------------
# ``ubp__gru__hidden_size`` reaches the GRU member of the profile inside the
# pipeline, and ``ubp__svd_url`` the url factors: ``"drop"`` removes a member. The
# autoencoder is kept tiny (one epoch over the last 32 events of each user) so that
# the 3 x 2 fits take seconds.
pipe = Pipeline(
    [
        (
            "ubp",
            UniversalProfile(random_state=0).set_params(
                gru__max_epochs=1, gru__max_length=32, svd_category__n_components=16
            ),
        ),
        ("clf", LogisticRegression(C=0.05, max_iter=2000)),
    ]
)
grid = GridSearchCV(
    pipe,
    [{"ubp__gru__hidden_size": [8, 16]}, {"ubp__svd_url": ["drop"]}],
    cv=StratifiedKFold(2, shuffle=True, random_state=0),
    scoring="roc_auc",
)
grid.fit(X, y)
results = pd.DataFrame(grid.cv_results_)
print(results[["params", "mean_test_score", "std_test_score"]].to_string())
print("best:", grid.best_params_)

# %%
results["candidate"] = [
    ", ".join(f"{key.removeprefix('ubp__')}={value}" for key, value in params.items())
    for params in results["params"]
]
ax = results.plot.barh(
    x="candidate", y="mean_test_score", xerr="std_test_score", legend=False, figsize=(7, 2.5)
)
ax.set_xlim(0.5, 1.0)
ax.set_xlabel("AUROC (2-fold cross-validation)")
ax.set_ylabel("")
ax.figure.tight_layout()

# %%
# Save, load, predict
# -------------------
# The fitted pipeline (the profile with its trained GRU and the classifier) is one
# file; loaded again it gives identical probabilities.
path = Path(tempfile.mkdtemp()) / "pipeline.joblib"
joblib.dump(grid.best_estimator_, path)
loaded = joblib.load(path)
before = grid.best_estimator_.predict_proba(X.iloc[:200])
after = loaded.predict_proba(X.iloc[:200])
np.testing.assert_array_equal(before, after)
print(f"{path.name}: {path.stat().st_size / 1e6:.1f} MB, identical predictions after loading")

# %%
# The same file works with the command line, whose ``ubp fit`` saves a profile the
# same way: ``ubp embed MODEL EVENTS --out embeddings.parquet`` applies any saved
# transformer (here the profile step, ``loaded.named_steps["ubp"]``).
plt.show()
