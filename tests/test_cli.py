"""The README's main job: ``python -m sklearn_ubp demo`` on built-in synthetic data."""

import subprocess
import sys

import pytest

from sklearn_ubp._cli import main


def test_demo_prints_the_score_table(capsys):
    assert main(["demo", "--users", "8000", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "8,000 users" in out
    table = out[out.index("Downstream scores") :]
    header = table.splitlines()[1]
    for column in (
        "random",
        "baseline counts",
        "EventCountEmbedder",
        "oracle (true probabilities)",
    ):
        assert column in header
    for task in ("churn", "propensity_category", "propensity_sku", "conversion", "total"):
        assert any(line.startswith(task) for line in table.splitlines())


def test_module_entry_point_reports_bad_arguments():
    result = subprocess.run(
        [sys.executable, "-m", "sklearn_ubp", "demo", "--users", "many"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "invalid int value: 'many'" in result.stderr


def test_unknown_command():
    with pytest.raises(SystemExit) as exc:
        main(["nope"])
    assert exc.value.code == 2
