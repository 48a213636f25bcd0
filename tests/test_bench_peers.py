"""benchmarks/_peers.py: the long export that peers read must keep every event of every
user, in order, with the right user id."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sklearn_ubp.datasets import make_events

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import _peers

pytest.importorskip("pyarrow")


def test_export_long_keeps_every_event_of_every_user(tmp_path):
    X = make_events(n_users=60, random_state=0).events
    X = X[X["timestamp"].map(len) > 0]  # the bench scores users with an input event only
    codes = _peers.export_long(X, tmp_path / "long.parquet")
    long = pd.read_parquet(tmp_path / "long.parquet")
    lengths = X["timestamp"].map(len)
    assert len(long) == lengths.sum()
    assert long.groupby("user", sort=False).size().reindex(X.index).tolist() == lengths.tolist()
    user = X.index[7]
    np.testing.assert_array_equal(long.loc[long.user == user, "sku"].to_numpy(float),
                                  np.asarray(X.loc[user, "sku"], dtype=float))  # fmt: skip
    # hashed text embeddings (fixed-size lists) are left out; codes are the int/str fields
    assert "name" not in long and "query" not in long
    assert set(codes) == {"event_type", "sku", "category", "price", "url"}
    assert long["event_type"].map(type).eq(str).all()


def test_a_missing_peer_venv_is_skipped_with_a_line(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(_peers, "PEERS_DIR", tmp_path)
    assert _peers.available(["featuretools"]) == []
    assert "make_envs.sh featuretools" in capsys.readouterr().out
