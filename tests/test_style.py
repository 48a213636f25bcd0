"""The code base stays ruff clean (lint and format), as the project promises."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUFF = shutil.which("ruff")


@pytest.mark.skipif(RUFF is None, reason="ruff is not installed (it is in the test extras)")
@pytest.mark.parametrize("args", [["check", "."], ["format", "--check", "."]])
def test_ruff(args):
    result = subprocess.run([RUFF, *args], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_doctest_examples_import_public_paths():
    """Examples are what users copy: they import ``sklearn_ubp``'s public modules only."""
    import re

    private = re.compile(r">>> (?:from|import) sklearn_ubp(?:\.\w+)*\._\w+")
    offenders = [
        f"{path.relative_to(ROOT)}:{i}"
        for path in sorted((ROOT / "sklearn_ubp").rglob("*.py"))
        for i, line in enumerate(path.read_text().splitlines(), 1)
        if private.search(line)
    ]
    assert not offenders, offenders
