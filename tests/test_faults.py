"""The catalogue of bad inputs and faults (docs/faults.rst) names tests that exist."""

import ast
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "docs" / "faults.rst"
NODE_ID = re.compile(r"``(tests/test_\w+\.py)::(\w+)(?:\[([^\]`]+)\])?``")


@cache
def parsed(path: str) -> ast.Module:
    return ast.parse((ROOT / path).read_text())


def defined_tests(path: str) -> set[str]:
    return {
        node.name
        for node in parsed(path).body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    }


def string_constants(path: str) -> set[str]:
    return {
        node.value
        for node in ast.walk(parsed(path))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def catalogue_rows() -> list[str]:
    """The rows of the catalogue's tables (header rows left out)."""
    rows = re.split(r"\n   \* - ", CATALOGUE.read_text())[1:]
    return [row for row in rows if not row.startswith("#")]


def test_the_catalogue_has_at_least_40_cases_each_with_a_test():
    rows = catalogue_rows()
    assert len(rows) >= 40
    numbers = [int(row.split("\n", 1)[0]) for row in rows]
    assert numbers == list(range(1, len(rows) + 1))
    without = [n for n, row in zip(numbers, rows, strict=True) if not NODE_ID.search(row)]
    assert not without, f"catalogue rows without a test: {without}"


@pytest.mark.slow
def test_every_catalogued_test_exists():
    missing = []
    for path, name, params in NODE_ID.findall(CATALOGUE.read_text()):
        if not (ROOT / path).is_file() or name not in defined_tests(path):
            missing.append(f"{path}::{name}")
        elif params and not set(params.split("-")) <= string_constants(path):
            missing.append(f"{path}::{name}[{params}]")
    assert not missing, missing


def test_the_catalogue_is_in_the_docs_toctree():
    index = (ROOT / "docs" / "index.rst").read_text()
    assert re.search(r"^   faults$", index, flags=re.MULTILINE)
