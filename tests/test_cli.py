"""The ``ubp`` command line: every subcommand on tiny data, and its error reporting."""

import os
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest

import sklearn_ubp
from sklearn_ubp import EventCountEmbedder
from sklearn_ubp._cli import build_parser, ids_path, main, read_embeddings
from sklearn_ubp.datasets import load_recsys2025, make_events, write_recsys2025
from sklearn_ubp.evaluation import validate_submission

HAS_PROFILE = hasattr(sklearn_ubp, "UniversalProfile")
ROOT = Path(__file__).resolve().parents[1]
# Subprocesses import this checkout, whatever is installed.
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
QUICK = ["--model", "counts", "--quiet"]


@pytest.fixture(scope="module")
def data():
    return make_events(n_users=3000, random_state=0)


@pytest.fixture(scope="module")
def files(data, tmp_path_factory):
    """The same log as a RecSys folder, an event frame, a long parquet table and a CSV."""
    root = tmp_path_factory.mktemp("cli")
    write_recsys2025(
        root / "recsys", data.tables, data.products, relevant_clients=data.relevant_clients
    )
    data.events.to_parquet(root / "frame.parquet")
    long = pd.concat(
        [t.assign(event_type=k) for k, t in data.tables.items() if k != "search_query"],
        ignore_index=True,
    )
    long.rename(columns={"client_id": "user", "timestamp": "time"}).to_parquet(
        root / "long.parquet", index=False
    )
    long.to_csv(root / "long.csv", index=False)
    return root


def run(argv, capsys):
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


# --------------------------------------------------------------------------- demo


@pytest.mark.slow
def test_demo_prints_the_score_table(capsys):
    status, out, _ = run(["demo", "--users", "3000", "--seed", "1", "--model", "counts"], capsys)
    assert status == 0
    assert "3,000 users" in out
    table = out[out.index("Downstream scores") :]
    header = table.splitlines()[1]
    for column in (
        "random",
        "baseline counts",
        "RFM",
        "EventCountEmbedder",
        "oracle (true probabilities)",
    ):
        assert column in header
    for task in ("churn", "propensity_category", "propensity_sku", "conversion", "total"):
        assert any(line.startswith(task) for line in table.splitlines())


@pytest.mark.slow
@pytest.mark.skipif(not HAS_PROFILE, reason="UniversalProfile is not in this build yet")
@pytest.mark.filterwarnings("ignore:make_tasks. task 'propensity_new_sku' is skipped")
def test_demo_with_the_profile_writes_three_plots(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    plots = tmp_path / "plots"
    status, out, _ = run(
        ["demo", "--users", "3000", "--epochs", "1", "--quiet", "--plots", plots], capsys
    )
    assert status == 0
    table = out[out.index("Downstream scores") :].splitlines()
    header = table[1]
    columns = ["random", "baseline counts", "RFM", "gru", "counts", "svd_category", "svd_url"]
    columns += ["UniversalProfile", "oracle (true probabilities)"]
    assert header.split() == " ".join(columns).split()  # the members alone, too
    total = next(line for line in table if line.startswith("total")).split()[1:]
    assert len(total) == len(columns) and all(float(v) > 0 for v in total)
    assert "counts = EventCountEmbedder" in out
    for name in ("scores.png", "embedding_map.png", "training_history.png"):
        assert (plots / name).stat().st_size > 1000
        assert f"wrote {plots / name}" in out


def test_demo_rejects_too_few_users(capsys):
    status, _, err = run(["demo", "--users", "10"], capsys)
    assert status == 2
    assert err.startswith("ubp: error: --users must be at least 1000")


# --------------------------------------------------------------------------- recsys2025


def test_recsys2025_writes_a_valid_submission(files, data, tmp_path, capsys):
    out_dir = tmp_path / "submission"
    status, out, _ = run(["recsys2025", files / "recsys", "--out", out_dir, *QUICK], capsys)
    assert status == 0
    assert "validate_submission: OK" in out
    validate_submission(out_dir, data.relevant_clients)
    validate_submission(out_dir, files / "recsys" / "input" / "relevant_clients.npy")
    ids = np.load(out_dir / "client_ids.npy")
    emb = np.load(out_dir / "embeddings.npy")
    assert emb.dtype == np.float16 and emb.shape[0] == len(data.relevant_clients)
    # Row i is the embedding of client i, fitted on all clients' events.
    loaded = load_recsys2025(files / "recsys")
    model = EventCountEmbedder().fit(loaded.events)
    expected = model.transform(loaded.events.loc[ids]).astype(np.float16)
    np.testing.assert_array_equal(emb, expected)


def test_recsys2025_max_users_still_embeds_every_relevant_client(files, data, tmp_path, capsys):
    out_dir = tmp_path / "submission"
    argv = ["recsys2025", files / "recsys", "--out", out_dir, "--max-users", 200, *QUICK]
    status, _, _ = run(argv, capsys)
    assert status == 0
    validate_submission(out_dir, data.relevant_clients)


@pytest.mark.slow
@pytest.mark.parametrize("max_users", [None, 200])
def test_recsys2025_by_buckets_writes_the_same_submission(files, data, tmp_path, capsys, max_users):
    sample = [] if max_users is None else ["--max-users", max_users]
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    assert run(["recsys2025", files / "recsys", "--out", whole, *sample, *QUICK], capsys)[0] == 0
    argv = ["recsys2025", files / "recsys", "--out", parts, "--buckets", 4, *sample]
    argv += ["--model", "counts"]  # not --quiet: the progress lines
    status, out, err = run(argv, capsys)
    assert status == 0 and "validate_submission: OK" in out
    assert "bucket 4/4" in err
    validate_submission(parts, data.relevant_clients)
    for name in ("client_ids.npy", "embeddings.npy"):
        np.testing.assert_array_equal(np.load(parts / name), np.load(whole / name))


def test_recsys2025_needs_relevant_clients(data, tmp_path, capsys):
    folder = tmp_path / "no_relevant"
    write_recsys2025(folder, data.tables, data.products)
    status, _, err = run(["recsys2025", folder, "--out", tmp_path / "s", *QUICK], capsys)
    assert status == 2
    assert "has no input/relevant_clients.npy" in err


# --------------------------------------------------------------------------- fit / embed


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".parquet", ".npy", ".csv"])
def test_fit_embed_round_trip_keeps_user_ids(files, data, tmp_path, capsys, suffix):
    model_file = tmp_path / "model.joblib"
    status, out, _ = run(["fit", files / "frame.parquet", "--out", model_file, *QUICK], capsys)
    assert status == 0 and "wrote" in out
    out_file = tmp_path / f"embeddings{suffix}"
    argv = ["embed", model_file, files / "frame.parquet", "--out", out_file, "--quiet"]
    status, out, _ = run([*argv, "--chunk-size", "700"], capsys)
    assert status == 0
    emb = read_embeddings(out_file)
    assert emb.index.name == "client_id"
    assert emb.index.tolist() == data.events.index.tolist()
    model = joblib.load(model_file)
    expected = model.transform(data.events)
    np.testing.assert_allclose(emb.to_numpy(), expected, rtol=1e-6)
    if suffix == ".parquet":
        raw = pd.read_parquet(out_file)
        assert raw.index.name == "client_id"
        assert list(raw.columns) == list(model.get_feature_names_out())
    if suffix == ".npy":
        assert ids_path(out_file).name == "embeddings.ids.npy"
        np.testing.assert_array_equal(np.load(ids_path(out_file)), data.events.index)


def test_long_tables_with_renamed_columns(files, data, tmp_path, capsys):
    model_file = tmp_path / "model.joblib"
    cols = ["--user-col", "user", "--time-col", "time"]
    status, _, _ = run(["fit", files / "long.parquet", "--out", model_file, *cols, *QUICK], capsys)
    assert status == 0
    out_file = tmp_path / "e.parquet"
    status, _, _ = run(
        ["embed", model_file, files / "long.csv", "--out", out_file, "--max-users", 50, "--quiet"],
        capsys,
    )
    assert status == 0
    emb = pd.read_parquet(out_file)
    assert len(emb) == 50 and emb.index.isin(data.events.index).all()


def test_before_split_keeps_the_input_period(files, tmp_path, capsys):
    model_file = tmp_path / "model.joblib"
    run(["fit", files / "frame.parquet", "--out", model_file, "--before", "split", *QUICK], capsys)
    model = joblib.load(model_file)
    assert model.reference_time_ < pd.Timestamp("2022-10-12")  # the challenge's cut
    status, _, err = run(
        ["fit", files / "frame.parquet", "--out", model_file, "--before", "soon", *QUICK], capsys
    )
    assert status == 2 and "--before 'soon'" in err


@pytest.mark.slow
@pytest.mark.skipif(not HAS_PROFILE, reason="UniversalProfile is not in this build yet")
@pytest.mark.filterwarnings("ignore:n_components=64 but the matrix has")
def test_fit_embed_with_the_profile(files, data, tmp_path, capsys):
    model_file = tmp_path / "profile.joblib"
    argv = ["fit", files / "recsys", "--out", model_file, "--max-users", 300, "--epochs", 1]
    status, out, _ = run([*argv, "--quiet"], capsys)
    assert status == 0 and "UniversalProfile" in out
    out_file = tmp_path / "e.parquet"
    status, _, _ = run(
        ["embed", model_file, files / "recsys", "--out", out_file, "--relevant", "--quiet"],
        capsys,
    )
    assert status == 0
    emb = pd.read_parquet(out_file)
    assert sorted(emb.index) == sorted(data.relevant_clients)
    assert emb.columns[0].startswith("gru__")
    assert np.isfinite(emb.to_numpy()).all()


# --------------------------------------------------------------------------- evaluate


@pytest.mark.slow
def test_evaluate_prints_the_score_table(files, tmp_path, capsys):
    model_file = tmp_path / "model.joblib"
    emb_file = tmp_path / "emb.npy"
    run(["fit", files / "recsys", "--out", model_file, "--before", "split", *QUICK], capsys)
    status, _, _ = run(
        ["embed", model_file, files / "recsys", "--out", emb_file, "--before", "split", "--quiet"],
        capsys,
    )
    assert status == 0
    csv = tmp_path / "scores.csv"
    argv = ["evaluate", emb_file, files / "recsys", "--baselines", "--out", csv, "--quiet"]
    status, out, _ = run(argv, capsys)
    assert status == 0
    lines = out.splitlines()
    header = lines[lines.index('Scores (protocol="fast"):') + 1].split()
    assert header == ["metric", "auroc", "diversity", "novelty", "score"]
    for task in ("churn", "propensity_category", "conversion", "total"):
        assert any(line.startswith(task) for line in lines)
    table = pd.read_csv(csv, index_col=0)
    assert list(table.columns) == ["embeddings", "random", "baseline counts"]
    assert table.loc["total", "embeddings"] > table.loc["total", "random"]
    # --C reaches the fast protocol: --C 0.01 (the default) reproduces the table and a
    # far stronger penalty changes it.
    by_C = {}
    for C in ("0.01", "1e-7"):
        out_C = tmp_path / f"C{C}.csv"
        argv = ["evaluate", emb_file, files / "recsys", "--C", C, "--out", out_C, "--quiet"]
        assert run(argv, capsys)[0] == 0
        by_C[C] = pd.read_csv(out_C, index_col=0).loc["total", "score"]
    assert by_C["0.01"] == round(table.loc["total", "embeddings"], 4)
    assert by_C["1e-7"] != by_C["0.01"]
    # A submission folder is read as embeddings too.
    sub = tmp_path / "sub"
    run(["recsys2025", files / "recsys", "--out", sub, *QUICK], capsys)
    status, out, _ = run(["evaluate", sub, files / "recsys", "--quiet"], capsys)
    assert status == 0 and "total" in out


@pytest.fixture(scope="module")
def purchase_log(tmp_path_factory):
    """A retail purchase log (one row per line) with string ids, as a parquet file."""
    rng = np.random.default_rng(0)
    rate = rng.gamma(1.0, 1.0, 600)
    user = np.repeat(np.arange(600), rng.poisson(rate * 10))
    day = rng.integers(0, 120, user.size)
    log = pd.DataFrame(
        {
            "customer": [f"c{u:04d}" for u in user],
            "timestamp": pd.Timestamp("2023-01-01") + pd.to_timedelta(day, "D"),
            "sku": [f"p{s}" for s in rng.integers(0, 40, user.size)],
            "category": [f"k{s % 7}" for s in rng.integers(0, 40, user.size)],
            "amount": rng.gamma(2.0, 5.0, user.size).round(2),
        }
    )
    path = tmp_path_factory.mktemp("retail") / "log.parquet"
    log.to_parquet(path, index=False)
    return path


@pytest.mark.slow
def test_evaluate_builds_future_window_tasks_on_a_purchase_log(purchase_log, tmp_path, capsys):
    reading = ["--user-col", "customer", "--quiet"]
    model, emb = tmp_path / "model.joblib", tmp_path / "emb.parquet"
    assert run(["fit", purchase_log, "--out", model, "--before", "2023-04-01", *QUICK,
                "--user-col", "customer"], capsys)[0] == 0  # fmt: skip
    assert run(["embed", model, purchase_log, "--out", emb, "--before", "2023-04-01",
                *reading], capsys)[0] == 0  # fmt: skip
    csv = tmp_path / "scores.csv"
    argv = ["evaluate", emb, purchase_log, "--cut", "2023-04-01", "--amount", "amount",
            "--category", "category", "--basket", "timestamp", "--baselines", "--out", csv]  # fmt: skip
    status, out, _ = run([*argv, *reading], capsys)
    assert status == 0, out
    lines = out.splitlines()
    assert "users with an event before 2023-04-01 00:00:00" in lines[0]
    header = lines[lines.index('Scores (protocol="probe"):') + 1].split()
    assert header == ["metric", "auroc", "spearman", "score"]
    rows = {line.split()[0]: line for line in lines if " ± " in line}
    assert set(rows) == {"active", "n_future", "spend", "categories", "mean"}
    table = pd.read_csv(csv, index_col=0)
    assert list(table.columns) == ["embeddings", "random", "RFM"]
    assert table.loc["mean", "embeddings"] > table.loc["mean", "random"] + 0.1
    # Without --cut, a log without event types gets future-window tasks too (last 28 days).
    status, out, _ = run(["evaluate", emb, purchase_log, *reading], capsys)
    assert status == 0 and "targets from 2023-04-03 00:00:00 .. 2023-05-01" in out


def test_evaluate_future_task_errors_are_one_line(purchase_log, tmp_path, capsys):
    pd.DataFrame({"a": [1.0]}, index=pd.Index(["c0000"], name="customer")).to_parquet(
        tmp_path / "e.parquet"
    )
    argv = ["evaluate", tmp_path / "e.parquet", purchase_log, "--user-col", "customer",
            "--cut", "2023-04-01", "--amount", "price", "--quiet"]  # fmt: skip
    status, _, err = run(argv, capsys)
    assert status == 2 and "amount='price' is not a column" in err
    assert len(err.strip().splitlines()) == 1
    # --C belongs to the fast protocol; future-window tasks use the probe.
    argv[argv.index("--amount") : argv.index("--amount") + 2] = ["--C", "0.1"]
    status, _, err = run(argv, capsys)
    assert status == 2
    assert (
        err.strip() == "ubp: error: --C applies to the fast protocol only; this run uses 'probe'."
    )


@pytest.mark.parametrize("value", ["0", "-1", "inf", "nan", "big"])
def test_C_must_be_a_positive_number_or_auto(capsys, value):
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--C", value])
    assert exc.value.code == 2
    assert f"expected a positive number or 'auto'; got {value!r}" in capsys.readouterr().err


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "argv, message",
    [
        (["fit", "{tmp}/nope.parquet", "--out", "{tmp}/m.joblib"], "EVENTS '{tmp}/nope.parquet' does not exist"),
        (["fit", "{tmp}/garbage.parquet", "--out", "{tmp}/m.joblib"], "cannot read '{tmp}/garbage.parquet'"),
        (["fit", "{files}/long.csv", "--out", "{tmp}/m.joblib", "--user-col", "uid"], "the user column 'uid' is missing"),
        (["fit", "{files}/long.csv", "--out", "{tmp}/m.txt"], "--out '{tmp}/m.txt': the name must end in one of .joblib"),
        (["fit", "{tmp}/empty", "--out", "{tmp}/m.joblib"], "is a folder without parquet files"),
        (["embed", "{tmp}/garbage.parquet", "{files}/long.csv", "--out", "{tmp}/e.parquet"], "is not a model saved by 'ubp fit'"),
        (["embed", "{tmp}/nope.joblib", "{files}/long.csv", "--out", "{tmp}/e.parquet"], "MODEL '{tmp}/nope.joblib' does not exist"),
        (["recsys2025", "{tmp}", "--out", "{tmp}/s"], "is not a RecSys 2025 folder"),
        (["evaluate", "{tmp}/e.npy", "{files}/recsys"], "no user ids found"),
        (["evaluate", "{tmp}/nope.parquet", "{files}/recsys"], "EMBEDDINGS '{tmp}/nope.parquet' does not exist"),
        (["fit", "{files}/recsys", "--out", "{tmp}/m.joblib", "--model", "lstm"], "--model 'lstm': choose from"),
        (["fit", "{files}/recsys", "--out", "{tmp}/m.joblib", "--device", "tpu"], "--device 'tpu'"),
    ],
)  # fmt: skip
def test_user_errors_are_one_line(files, tmp_path, capsys, argv, message):
    (tmp_path / "garbage.parquet").write_bytes(b"not a parquet file")
    (tmp_path / "empty").mkdir()
    np.save(tmp_path / "e.npy", np.zeros((3, 2)))
    argv = [a.format(tmp=tmp_path, files=files) for a in argv]
    status, out, err = run(argv, capsys)
    assert status == 2
    assert err.startswith("ubp: error: ")
    assert message.format(tmp=tmp_path, files=files) in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_cuda_unavailable_is_reported(files, tmp_path, capsys):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device")
    status, _, err = run(
        ["fit", files / "recsys", "--out", tmp_path / "m.joblib", "--device", "cuda"], capsys
    )
    assert status == 2 and "no CUDA device is available" in err


def test_embeddings_that_match_no_user(files, tmp_path, capsys):
    pd.DataFrame({"a": [1.0, 2.0]}, index=pd.Index([-1, -2], name="client_id")).to_parquet(
        tmp_path / "e.parquet"
    )
    status, _, err = run(["evaluate", tmp_path / "e.parquet", files / "recsys"], capsys)
    assert status == 2 and "none of the users of EVENTS has an embedding" in err


def test_debug_shows_the_traceback(tmp_path):
    with pytest.raises(Exception, match="does not exist"):
        main(
            ["fit", str(tmp_path / "nope.parquet"), "--out", str(tmp_path / "m.joblib"), "--debug"]
        )


@pytest.mark.slow
def test_module_entry_point_reports_bad_arguments():
    result = subprocess.run(
        [sys.executable, "-m", "sklearn_ubp", "demo", "--users", "many"],
        capture_output=True,
        text=True,
        env=ENV,
    )
    assert result.returncode == 2
    assert "invalid int value: 'many'" in result.stderr


@pytest.mark.slow
def test_module_entry_point_reports_user_errors(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "sklearn_ubp", "embed", "x.joblib", "y.parquet", "--out", "e.npy"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=ENV,
    )
    assert result.returncode == 2
    assert result.stderr == "ubp: error: MODEL 'x.joblib' does not exist.\n"


def test_unknown_command():
    with pytest.raises(SystemExit) as exc:
        main(["nope"])
    assert exc.value.code == 2


def test_every_subcommand_has_help():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) == {"demo", "fit", "embed", "recsys2025", "evaluate"}
    for name, p in sub.choices.items():
        text = p.format_help()
        assert "--seed" in text and "--device" in text, name


def test_progress_bar_on_request(files, tmp_path, capsys):
    model_file = tmp_path / "model.joblib"
    run(["fit", files / "frame.parquet", "--out", model_file, *QUICK], capsys)
    argv = ["embed", model_file, files / "frame.parquet", "--out", tmp_path / "e.npy"]
    status, out, err = run([*argv, "--chunk-size", "1000", "--progress"], capsys)
    assert status == 0
    assert "embedding:" in err and "0/3" in err  # tqdm's bar over 3 chunks of users
    assert "3,000 users" in err and out.startswith("wrote")
    status, out, err = run([*argv, "--quiet"], capsys)
    assert status == 0 and err == ""


@pytest.mark.parametrize("writer", ["pandas, unnamed index", "polars", "feather long table"])
def test_other_layouts_of_events(data, tmp_path, capsys, writer):
    frame = data.events.iloc[:300]
    if writer == "pandas, unnamed index":
        path = tmp_path / "frame.parquet"
        frame.reset_index(drop=True).to_parquet(path)
        expected = list(range(300))
    elif writer == "polars":
        pl = pytest.importorskip("polars")
        path = tmp_path / "frame.parquet"
        pl.from_pandas(frame.reset_index()).write_parquet(path)
        expected = frame.index.tolist()
    else:
        path = tmp_path / "long.feather"
        buys = data.tables["product_buy"]
        buys.assign(event_type="product_buy").reset_index(drop=True).to_feather(path)
        expected = sorted(buys["client_id"].unique())
    model_file = tmp_path / "m.joblib"
    assert run(["fit", path, "--out", model_file, *QUICK], capsys)[0] == 0
    out_file = tmp_path / "e.parquet"
    assert run(["embed", model_file, path, "--out", out_file, "--quiet"], capsys)[0] == 0
    assert pd.read_parquet(out_file).index.tolist() == expected


# --------------------------------------------------------------------------- bugs


@pytest.mark.parametrize("error", [TypeError, KeyError, ImportError, AttributeError])
def test_programming_errors_keep_their_traceback(files, tmp_path, monkeypatch, error):
    """A bug in a model or a command is not a user error: it propagates (a traceback)."""

    def broken_fit(self, X, y=None):
        raise error("a bug in fit")

    monkeypatch.setattr(EventCountEmbedder, "fit", broken_fit)
    with pytest.raises(error, match="a bug in fit"):
        main(["fit", str(files / "frame.parquet"), "--out", str(tmp_path / "m.joblib"), *QUICK])


@pytest.mark.slow
def test_a_bug_in_a_command_prints_its_traceback(tmp_path):
    script = (
        "import sys\n"
        "from sklearn_ubp._cli import _commands, main\n"
        "def broken(args):\n"
        "    raise TypeError('unsupported operand in a command')\n"
        "_commands.fit_command = broken\n"
        "sys.exit(main(['fit', 'x.parquet', '--out', 'm.joblib']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, env=ENV
    )
    assert result.returncode == 1  # Python's status for an uncaught exception, not 2
    assert "Traceback (most recent call last)" in result.stderr
    assert "TypeError: unsupported operand in a command" in result.stderr
    assert "ubp: error" not in result.stderr


def test_an_unwritable_output_is_a_user_error(files, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    argv = ["fit", files / "frame.parquet", "--out", blocker / "sub" / "m.joblib", *QUICK]
    status, _, err = run(argv, capsys)
    assert status == 2 and err.startswith("ubp: error: --out")
    assert len(err.strip().splitlines()) == 1


# --------------------------------------------------------------------------- streaming


@pytest.fixture
def counts_model(files, tmp_path, capsys):
    model_file = tmp_path / "model.joblib"
    assert run(["fit", files / "frame.parquet", "--out", model_file, *QUICK], capsys)[0] == 0
    return model_file


@pytest.mark.slow
@pytest.mark.parametrize("source", ["frame.parquet", "long.parquet", "recsys"])
def test_streaming_embed_equals_the_in_memory_transform(files, tmp_path, capsys, source):
    reading = ["--user-col", "user", "--time-col", "time"] if source == "long.parquet" else []
    counts_model = tmp_path / "model.joblib"
    argv = ["fit", files / source, "--out", counts_model, *reading, *QUICK]
    assert run(argv, capsys)[0] == 0
    whole = tmp_path / "whole.parquet"
    argv = ["embed", counts_model, files / source, *reading]
    assert run([*argv, "--out", whole, "--quiet"], capsys)[0] == 0
    folder = tmp_path / "parts"
    status, out, err = run([*argv, "--out", folder, "--buckets", 5], capsys)
    assert status == 0 and f"wrote {folder}" in out
    assert err.count("bucket ") == 5 and "bucket 5/5" in err  # progress on stderr
    assert sorted(p.name for p in folder.glob("part-*.parquet")) == [
        f"part-{b:05d}.parquet" for b in range(5)
    ]
    expected = pd.read_parquet(whole).sort_index()
    streamed = pd.read_parquet(folder).sort_index()
    pd.testing.assert_frame_equal(streamed, expected)
    model = joblib.load(counts_model)
    frame = load_recsys2025(files / "recsys").events if source == "recsys" else None
    if frame is not None:
        np.testing.assert_allclose(
            streamed.to_numpy(), model.transform(frame.loc[streamed.index]), rtol=1e-6
        )
    # ubp evaluate reads the folder too.
    assert len(read_embeddings(folder)) == len(expected)


@pytest.mark.slow
def test_an_interrupted_streaming_embed_resumes_to_the_same_output(
    files, counts_model, tmp_path, capsys, monkeypatch
):
    argv = ["embed", counts_model, files / "frame.parquet", "--buckets", 6, "--quiet"]
    reference = tmp_path / "reference"
    assert run([*argv, "--out", reference], capsys)[0] == 0
    calls, killed = [], []
    original = EventCountEmbedder.transform

    def dies_on_the_third_bucket(self, X):
        calls.append(len(X))
        if len(calls) == 3 and not killed:
            killed.append(True)
            raise RuntimeError("killed")
        return original(self, X)

    monkeypatch.setattr(EventCountEmbedder, "transform", dies_on_the_third_bucket)
    folder = tmp_path / "parts"
    with pytest.raises(RuntimeError, match="killed"):
        main([str(a) for a in [*argv, "--out", folder]])
    assert len(list(folder.glob("part-*.parquet"))) == 2  # the finished buckets survive
    assert not list(folder.glob(".*.tmp"))
    calls.clear()
    status, _, err = run([*argv[:-1], "--out", folder], capsys)
    assert status == 0 and "2 of 6 buckets already written; resuming" in err
    assert len(calls) == 4  # only the buckets left were read and embedded
    pd.testing.assert_frame_equal(
        pd.read_parquet(folder).sort_index(), pd.read_parquet(reference).sort_index()
    )
    # A lost part is made again, alone.
    lost = sorted(folder.glob("part-*.parquet"))[4]
    lost.unlink()
    calls.clear()
    assert run([*argv, "--out", folder], capsys)[0] == 0
    assert len(calls) == 1 and lost.is_file()
    pd.testing.assert_frame_equal(
        pd.read_parquet(folder).sort_index(), pd.read_parquet(reference).sort_index()
    )


@pytest.mark.slow
def test_streaming_embed_refuses_another_run_s_folder(files, counts_model, tmp_path, capsys):
    folder = tmp_path / "parts"
    argv = ["embed", counts_model, files / "frame.parquet", "--out", folder, "--quiet"]
    assert run([*argv, "--buckets", 3], capsys)[0] == 0
    status, _, err = run([*argv, "--buckets", 4], capsys)
    assert status == 2 and "holds the parts of another run (different buckets)" in err
    for extra, message in [
        (["--buckets", 3, "--max-users", 5], "--max-users and --buckets: choose one"),
        (["--buckets", 3, "--before", "split"], "--before split finds the challenge's cut"),
    ]:
        status, _, err = run([*argv, *extra], capsys)
        assert status == 2 and message in err
    status, _, err = run([*argv[:-3], "--out", tmp_path / "e.npy", "--buckets", 2], capsys)
    assert status == 2 and "with --buckets the output is a folder" in err


# --------------------------------------------------------------------------- model files


def test_fit_writes_a_checksum_that_embed_verifies(files, data, counts_model, tmp_path, capsys):
    import hashlib

    sums = counts_model.with_name(counts_model.name + ".sha256")
    digest = hashlib.sha256(counts_model.read_bytes()).hexdigest()
    assert sums.read_text() == f"{digest}  {counts_model.name}\n"
    argv = ["embed", counts_model, files / "frame.parquet", "--out", tmp_path / "e.npy"]
    status, _, err = run([*argv, "--quiet"], capsys)
    assert status == 0 and err == ""
    # One byte changed: refused, in one line, before unpickling anything.
    raw = bytearray(counts_model.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    counts_model.write_bytes(bytes(raw))
    status, _, err = run(argv, capsys)
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert f"MODEL '{counts_model}' does not match its checksum '{sums}'" in err
    # A model saved by hand (no checksum) loads, with a status line that says so.
    joblib.dump(EventCountEmbedder().fit(data.events), counts_model)
    sums.unlink()
    status, _, err = run(argv, capsys)
    assert status == 0 and "no checksum file 'model.joblib.sha256' beside it" in err


@pytest.mark.slow
def test_skops_model_files_are_written_checked_and_loaded_safely(
    files, counts_model, tmp_path, capsys
):
    pytest.importorskip("skops")
    import hashlib

    import skops.io

    model_file = tmp_path / "model.skops"
    assert run(["fit", files / "frame.parquet", "--out", model_file, *QUICK], capsys)[0] == 0
    sums = model_file.with_name("model.skops.sha256")
    assert (
        sums.read_text() == f"{hashlib.sha256(model_file.read_bytes()).hexdigest()}  model.skops\n"
    )
    embedded = {}
    for name, path in (("skops", model_file), ("joblib", counts_model)):
        argv = ["embed", path, files / "frame.parquet", "--out", tmp_path / f"{name}.npy"]
        status, _, err = run([*argv, "--quiet"], capsys)
        assert status == 0 and err == ""
        embedded[name] = np.load(tmp_path / f"{name}.npy")
    np.testing.assert_array_equal(embedded["skops"], embedded["joblib"])
    argv = ["embed", model_file, files / "frame.parquet", "--out", tmp_path / "e.npy"]
    raw = bytearray(model_file.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    model_file.write_bytes(bytes(raw))
    status, _, err = run(argv, capsys)
    assert status == 2 and "does not match its checksum" in err
    # A skops file holding a type sklearn-ubp does not trust: refused, in one line.
    skops.io.dump({"run": eval}, model_file)
    sums.unlink()
    status, _, err = run(argv, capsys)
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert "holds types that are not trusted: ['builtins.eval']" in err
    # A pickle named .skops is not loaded as a pickle.
    joblib.dump(EventCountEmbedder(), model_file)
    status, _, err = run(argv, capsys)
    assert status == 2 and "is not a skops file" in err and "Traceback" not in err


@pytest.mark.parametrize("gone", ["module", "class"])
def test_a_model_whose_class_is_gone_is_one_line(tmp_path, capsys, monkeypatch, gone):
    """A model saved by another version (a renamed class or module) is a user error."""
    module = tmp_path / "ubp_gone_plugin.py"
    module.write_text("class OldEmbedder:\n    def transform(self, X):\n        return X\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import ubp_gone_plugin

    model_file = tmp_path / "old.joblib"
    joblib.dump(ubp_gone_plugin.OldEmbedder(), model_file)
    monkeypatch.delitem(sys.modules, "ubp_gone_plugin")
    if gone == "module":
        module.unlink()
    else:
        module.write_text("class NewEmbedder:\n    pass\n")
    (tmp_path / "log.parquet").write_bytes(b"")
    argv = ["embed", model_file, tmp_path / "log.parquet", "--out", tmp_path / "e.npy"]
    status, _, err = run(argv, capsys)
    assert status == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert f"MODEL '{model_file}' refers to a class or module that this installation" in err
    assert ("ubp_gone_plugin" if gone == "module" else "OldEmbedder") in err
    assert "fit it again with 'ubp fit'" in err
