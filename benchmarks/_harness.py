"""Timing harness: ours and the reference, same process, same data, median of repeats."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

RESULTS: list[dict[str, Any]] = []


def median_time(fn: Callable[[], Any], *, repeat: int = 7, warmup: int = 1) -> float:
    """Median wall-clock seconds of ``fn()`` over ``repeat`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def compare(
    name: str,
    ours: Callable[[], Any],
    reference: Callable[[], Any],
    *,
    ref_name: str,
    target: float | None = None,
    repeat: int = 7,
    note: str = "",
) -> float:
    """Time ``ours`` and ``reference`` interleaved (so drift hits both) and print the ratio."""
    ours(), reference()  # warm-up: caches, numba compilation, lazy imports
    times_ours, times_ref = [], []
    for _ in range(repeat):
        times_ours.append(median_time(ours, repeat=1, warmup=0))
        times_ref.append(median_time(reference, repeat=1, warmup=0))
    t_ours, t_ref = statistics.median(times_ours), statistics.median(times_ref)
    ratio = t_ours / t_ref
    verdict = ""
    if target is not None:
        verdict = f"  (target <= {target:.1f}: {'met' if ratio <= target else 'MISSED'})"
    print(
        f"{name:<48} ours {t_ours * 1e3:9.2f} ms   {ref_name} {t_ref * 1e3:9.2f} ms   "
        f"ratio {ratio:5.2f}{verdict}{('  ' + note) if note else ''}",
        flush=True,
    )
    RESULTS.append(
        {
            "name": name,
            "ref_name": ref_name,
            "ours": t_ours,
            "ref": t_ref,
            "ratio": ratio,
            "target": target,
        }
    )
    return ratio
