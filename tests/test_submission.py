"""Tests of writing and validating a RecSys Challenge 2025 submission."""

import numpy as np
import pandas as pd
import pytest

from sklearn_ubp.evaluation._submission import validate_submission, write_submission

RELEVANT = np.array([5, 17, 3, 99, 42, 8], dtype=np.int64)


def good_embeddings(n=6, d=4, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d)) * 100


def test_round_trip(tmp_path):
    ids = RELEVANT[::-1].copy()  # any order: a permutation of the relevant clients
    emb = good_embeddings()
    write_submission(tmp_path / "sub", ids, emb)
    loaded_ids = np.load(tmp_path / "sub" / "client_ids.npy")
    loaded_emb = np.load(tmp_path / "sub" / "embeddings.npy")
    assert loaded_ids.dtype == np.int64 and loaded_emb.dtype == np.float16
    np.testing.assert_array_equal(loaded_ids, ids)
    np.testing.assert_array_equal(loaded_emb, emb.astype(np.float16))
    validate_submission(tmp_path / "sub", RELEVANT)
    np.save(tmp_path / "relevant_clients.npy", RELEVANT)
    validate_submission(tmp_path / "sub", tmp_path / "relevant_clients.npy")  # a path


def test_int32_ids_and_float16_limit_are_accepted(tmp_path):
    emb = good_embeddings()
    emb[0, 0] = 65504.0  # the largest float16: fine
    emb[1, 1] = -65504.0
    write_submission(tmp_path, RELEVANT.astype(np.int32), emb)
    validate_submission(tmp_path, RELEVANT)
    assert np.load(tmp_path / "embeddings.npy")[0, 0] == 65504.0


def test_dataframe_is_reindexed_to_client_ids(tmp_path):
    emb = good_embeddings()
    frame = pd.DataFrame(emb, index=RELEVANT).iloc[::-1]  # stored in another order
    write_submission(tmp_path, RELEVANT, frame)
    np.testing.assert_array_equal(np.load(tmp_path / "embeddings.npy"), emb.astype(np.float16))
    with pytest.raises(ValueError, match=r"lacks 1 of the client_ids, e.g. \[5\]"):
        write_submission(tmp_path, RELEVANT, frame.drop(index=5))


def test_float16_overflow_is_refused_not_clipped(tmp_path):
    emb = good_embeddings()
    emb[2, 3] = 70000.0  # e.g. a raw count
    emb[4, 0] = -1e6
    with pytest.raises(ValueError, match=r"2 value\(s\) beyond the float16 range.*scale"):
        write_submission(tmp_path / "sub", RELEVANT, emb)
    assert not (tmp_path / "sub").exists()  # nothing written


@pytest.mark.parametrize(
    ("ids", "emb", "match"),
    [
        (RELEVANT, np.where(np.eye(6, 4) > 0, np.nan, 1.0), r"4 non-finite value\(s\)"),
        (RELEVANT, np.full((6, 4), np.inf), r"24 non-finite value\(s\)"),
        (np.r_[RELEVANT[:-1], 17], good_embeddings(), r"1 duplicated id\(s\), e.g. \[17\]"),
        (RELEVANT, good_embeddings(d=2049), "2049 columns"),
        (RELEVANT, good_embeddings(n=5), "5 rows but there are 6 client_ids"),
        (RELEVANT, good_embeddings().ravel(), "must be 2-D"),
        (RELEVANT.astype(float), good_embeddings(), "client_ids must hold integers"),
        (RELEVANT, good_embeddings().astype(str), "embeddings must be numeric"),
    ],
)
def test_write_rejects_bad_input(tmp_path, ids, emb, match):
    with pytest.raises(ValueError, match=match):
        write_submission(tmp_path / "sub", ids, emb)
    assert not (tmp_path / "sub").exists()


def write_by_hand(folder, ids, emb):
    folder.mkdir(exist_ok=True)
    np.save(folder / "client_ids.npy", ids)
    np.save(folder / "embeddings.npy", emb)


def test_validate_detects_wrong_permutation(tmp_path):
    ids = np.array([5, 17, 3, 99, 1000, 2000], dtype=np.int64)  # 42 and 8 missing
    write_by_hand(tmp_path, ids, good_embeddings().astype(np.float16))
    with pytest.raises(
        ValueError,
        match=r"client_ids.npy: not a permutation of relevant_clients: 2 relevant client\(s\) "
        r"missing \(e.g. \[8, 42\]\), 2 extra \(e.g. \[1000, 2000\]\)",
    ):
        validate_submission(tmp_path, RELEVANT)


def test_validate_detects_duplicates(tmp_path):
    ids = np.r_[RELEVANT, 3].astype(np.int64)
    write_by_hand(tmp_path, ids, good_embeddings(n=7).astype(np.float16))
    with pytest.raises(ValueError, match=r"client_ids.npy: 1 duplicated id\(s\), e.g. \[3\]"):
        validate_submission(tmp_path, RELEVANT)


@pytest.mark.parametrize(
    ("ids", "emb", "match"),
    [
        # np.save of float32, the classic mistake
        (RELEVANT, good_embeddings().astype(np.float32), "embeddings.npy: dtype is float32"),
        (
            RELEVANT.astype(np.int32),
            good_embeddings().astype(np.float16),
            "client_ids.npy: dtype is int32, expected int64",
        ),
        (
            RELEVANT,
            np.where(np.eye(6, 4) > 0, np.nan, 1.0).astype(np.float16),
            r"embeddings.npy: 4 non-finite value\(s\)",
        ),
        (RELEVANT, np.full((6, 4), np.inf, dtype=np.float16), "embeddings.npy: 24 non-finite"),
        (RELEVANT, np.zeros((6, 2049), dtype=np.float16), "embeddings.npy: 2049 columns"),
        (
            RELEVANT,
            np.zeros((5, 4), dtype=np.float16),
            "embeddings.npy: 5 rows but client_ids.npy has 6 ids",
        ),
        (
            RELEVANT,
            np.zeros(24, dtype=np.float16),
            r"embeddings.npy: shape is \(24,\), expected 2-D",
        ),
        (
            RELEVANT[:, None],
            np.zeros((6, 4), dtype=np.float16),
            r"client_ids.npy: shape is \(6, 1\), expected 1-D",
        ),
    ],
)
def test_validate_detects_bad_files(tmp_path, ids, emb, match):
    write_by_hand(tmp_path, ids, emb)
    with pytest.raises(ValueError, match=match):
        validate_submission(tmp_path, RELEVANT)


def test_validate_reports_missing_files(tmp_path):
    with pytest.raises(ValueError, match="client_ids.npy: file not found") as info:
        validate_submission(tmp_path, RELEVANT)
    assert "embeddings.npy: file not found" in str(info.value)  # every problem is listed
    np.save(tmp_path / "client_ids.npy", RELEVANT)
    (tmp_path / "embeddings.npy").write_bytes(b"not numpy")
    with pytest.raises(ValueError, match="embeddings.npy: not a readable .npy array"):
        validate_submission(tmp_path, RELEVANT)
