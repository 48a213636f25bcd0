"""Helpers shared by the benchmark scripts: wall time and peak memory of a call, and
``--set KEY=VALUE`` parameters."""

from __future__ import annotations

import ast
import os
import threading
import time
from collections.abc import Callable
from typing import Any

_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes() -> int:
    """Resident set size of this process, from /proc (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE


def measure(fn: Callable[[], Any], interval: float = 0.002) -> tuple[Any, float, int]:
    """Run ``fn``; return its result, wall seconds and peak RSS growth in bytes.

    The peak is sampled by a thread every ``interval`` seconds, relative to the RSS
    just before the call, so it counts what the call allocated (numpy and Arrow alike).
    """
    base = rss_bytes()
    peak = [base]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_bytes())
            time.sleep(interval)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    t0 = time.perf_counter()
    try:
        result = fn()
    finally:
        elapsed = time.perf_counter() - t0
        done.set()
        thread.join()
    peak[0] = max(peak[0], rss_bytes())
    return result, elapsed, peak[0] - base


def gib(n: float) -> str:
    return f"{n / 2**30:.2f} GiB"


def parse_sets(items: list[str]) -> dict:
    """``["gru__max_epochs=3", ...]`` as ``set_params`` keywords (Python literals, else
    strings)."""
    out = {}
    for item in items:
        key, _, value = item.partition("=")
        try:
            out[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[key] = value
    return out
