"""The documentation builds with Sphinx, warnings treated as errors.

The gallery's examples are not executed here (``-D plot_gallery=0``): they run in
tests/test_examples.py.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # the sphinx build takes minutes

ROOT = Path(__file__).resolve().parents[1]
NEEDED = ["sphinx", "numpydoc", "sphinx_gallery", "pydata_sphinx_theme", "matplotlib"]
MISSING = [m for m in NEEDED if importlib.util.find_spec(m) is None]


@pytest.mark.skipif(
    bool(MISSING),
    reason=f"the docs build needs {MISSING} (pip install -e '.[docs]' or '.[test]')",
)
def test_docs_build_without_warnings(tmp_path):
    out = tmp_path / "html"
    env = {
        **os.environ,
        "MPLBACKEND": "Agg",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-b",
            "html",
            "-D",
            "plot_gallery=0",
            "-d",
            str(tmp_path / "doctrees"),
            str(ROOT / "docs"),
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-8000:]
    pages = ["index", "getting_started", "event_frame", "estimators", "evaluation", "cli"]
    pages += ["scaling", "faults", "benchmarks", "api", "auto_examples/index"]
    for page in pages:
        assert (out / f"{page}.html").is_file(), page
    for example in (ROOT / "examples").glob("plot_*.py"):
        assert (out / "auto_examples" / f"{example.stem}.html").is_file(), example.name
    for name in ("UniversalProfile", "GRUSequenceAutoencoder", "EventCountEmbedder"):
        assert (out / "generated" / f"sklearn_ubp.{name}.html").is_file(), name
    assert (out / "generated" / "sklearn_ubp.plotting.plot_scores.html").is_file()
    cli = (out / "cli.html").read_text()
    for command in ("ubp recsys2025", "ubp evaluate", "--max-users", "--chunk-size"):
        assert command in cli, command
    assert not (ROOT / "docs" / "sg_execution_times.rst").exists()
