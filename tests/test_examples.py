"""Every gallery example in examples/ runs to the end (on a CPU, in a few minutes in all).

The documentation build (tests/test_docs.py) does not execute them, so that each runs
once per test session.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import sklearn_ubp

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("plot_*.py"))
#: Each example must finish within this many seconds (the promise is 2 minutes on a
#: quiet CPU; the limit leaves room for a loaded CI machine).
TIMEOUT_S = 600
#: Public names an example needs, for the ones written before their estimator landed.
NEEDS = {
    "plot_quickstart.py": ["UniversalProfile"],
    "plot_paper_variants.py": ["GRUSequenceAutoencoder"],
    "plot_own_event_log.py": ["UniversalProfile"],
    "plot_grid_search_persistence.py": ["UniversalProfile"],
}


def test_the_gallery_is_there():
    names = {p.name for p in EXAMPLES}
    assert set(NEEDS) | {"plot_challenge_protocol.py"} <= names
    assert (ROOT / "examples" / "README.rst").is_file()  # the gallery's header


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(path, tmp_path):
    pytest.importorskip("matplotlib")
    missing = [n for n in NEEDS.get(path.name, []) if not hasattr(sklearn_ubp, n)]
    if missing:
        pytest.skip(f"{path.name} needs {missing}, not in this build yet")
    text = path.read_text()
    assert text.startswith('"""'), "a sphinx-gallery example starts with its docstring"
    assert "\n# %%" in text, "sphinx-gallery cells"
    env = {
        **os.environ,
        "MPLBACKEND": "Agg",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, str(path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    seconds = time.perf_counter() - start
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    assert "Traceback" not in result.stderr
    print(f"{path.name}: {seconds:.1f} s")
