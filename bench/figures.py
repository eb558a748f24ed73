"""What the benchmarks share: one percentile rule, so figures from different benchmarks compare."""

from __future__ import annotations


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0–100) by nearest rank over ``len(values) - 1`` steps: p0 is the minimum,
    p100 the maximum."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]
