"""
Your own event log, from pandas or polars
=========================================

Any log with a user id and a timestamp per event works: here an online shop's order
history with an amount and a quantity per order and nothing else (no products, no
page visits). :func:`~sklearn_ubp.group_events` turns the long table (one row per
event) into an event frame (one row per user), from pandas or polars, and
:class:`~sklearn_ubp.UniversalProfile` uses the fields that exist.
"""

# %%
# A long table of orders
# ----------------------
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline

from sklearn_ubp import UniversalProfile, group_events
from sklearn_ubp.plotting import plot_embedding_map

rng = np.random.default_rng(0)
n_customers, n_days = 800, 240
rate = rng.gamma(0.6, 0.05, n_customers)  # orders per day, heavy-tailed
basket = rng.lognormal(3.5, 0.6, n_customers)  # typical order value
n_orders = rng.poisson(rate * n_days)
customer = np.repeat(np.arange(n_customers), n_orders)
log = pd.DataFrame(
    {
        "customer": np.char.add("C", customer.astype(str)),
        "ordered_at": pd.Timestamp("2024-01-01")
        + pd.to_timedelta(rng.uniform(0, n_days, customer.size), unit="D"),
        "amount": np.round(basket[customer] * rng.lognormal(0, 0.3, customer.size), 2),
        "quantity": rng.integers(1, 5, customer.size),
    }
).sample(frac=1, random_state=0)  # any row order
log.head()

# %%
# The target: each customer's spend in the last 60 days, to be predicted from the
# orders before them.
cut = pd.Timestamp("2024-01-01") + pd.Timedelta(days=n_days - 60)
history = log[log["ordered_at"] < cut]
future = log[log["ordered_at"] >= cut].groupby("customer")["amount"].sum()

# %%
# From pandas
# -----------
# ``users=`` keeps the customers without any order before the cut (rows of empty
# lists), so that every customer gets a vector.
customers = np.sort(log["customer"].unique())
frame = group_events(history, user="customer", time="ordered_at", users=customers)
y = future.reindex(frame.index, fill_value=0.0).to_numpy()
frame.head(3)

# %%
# The profile keeps the members that apply: statistics of times, amounts and
# quantities, and the GRU autoencoder over the days of the orders. The SVD members
# have no item column to factorise and are left out, with the reason.
profile = UniversalProfile(random_state=0).set_params(gru__max_epochs=3, gru__hidden_size=16)
embeddings = profile.fit_transform(frame)
print([name for name, _ in profile.transformers_], embeddings.shape)
print(profile.skipped_members_)

# %%
# Predicting the spend
# --------------------
# A ridge regression of ``log1p(spend)`` on the profile, cross-validated by customer.
pipe = make_pipeline(
    UniversalProfile(random_state=0).set_params(gru__max_epochs=3, gru__hidden_size=16),
    RidgeCV(alphas=np.logspace(-2, 3, 12)),
)
r2 = cross_val_score(pipe, frame, np.log1p(y), cv=3, scoring="r2")
print(f"R^2 of log spend in the last 60 days: {r2.mean():.3f} (+/- {r2.std():.3f})")

fig, ax = plt.subplots(figsize=(6, 5))
plot_embedding_map(embeddings, np.log1p(y), ax=ax, label="log1p(spend, last 60 days)")

# %%
# From polars
# -----------
# The same table as a polars DataFrame (or LazyFrame) gives the same event frame, and
# a polars frame of ``List`` columns with one user-id column is accepted wherever an
# event frame is.
try:
    import polars as pl
except ImportError:  # polars is optional: pip install "sklearn-ubp[polars]"
    pl = None
    print("polars is not installed; skipping this part")

if pl is not None:
    orders = pl.from_pandas(history)
    frame_pl = group_events(orders.lazy(), user="customer", time="ordered_at", users=customers)
    pd.testing.assert_frame_equal(frame_pl, frame)

    lists = (
        orders.sort("customer", "ordered_at")
        .group_by("customer", maintain_order=True)
        .agg(pl.col("ordered_at").alias("timestamp"), pl.col("amount"), pl.col("quantity"))
    )
    print(lists.head(3))
    same = profile.transform(lists)  # one row per customer of `lists`, in its order
    rows = frame.index.get_indexer(lists["customer"].to_list())
    np.testing.assert_allclose(same, embeddings[rows], rtol=1e-5, atol=1e-6)
    print(f"polars list frame: {same.shape[0]} customers, same vectors as from pandas")
plt.show()
