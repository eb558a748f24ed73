"""Curves as PNG files (matplotlib with the Agg backend: no display needed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(plt, fig, ax, path: str | Path, title: str) -> Path:
    """Title, legend and layout, then the PNG (its folder created) and the figure closed."""
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_history(history, path: str | Path, *, title: str) -> Path:
    """Train loss (per step) and eval loss (at eval points) of one run."""
    return plot_series({"train loss": history.train, "eval loss": history.eval}, path, title=title, ylabel="loss")


def plot_series(series: Mapping[str, Sequence[tuple[float, float]]], path: str | Path, *, title: str,
                xlabel: str = "step", ylabel: str = "") -> Path:
    """Several named (x, y) series on one axis."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for name, points in series.items():
        if points:
            xs, ys = zip(*points)
            ax.plot(xs, ys, "o-" if len(points) < 30 else "-", label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return _save(plt, fig, ax, path, title)


def plot_bars(groups: Mapping[str, Mapping[str, float]], path: str | Path, *, title: str) -> Path:
    """Grouped bars: ``groups[system][metric]`` (e.g. base vs adapter over ROUGE/BLEU/...)."""
    plt = _pyplot()
    systems = list(groups)
    metrics = sorted({m for g in groups.values() for m in g})
    fig, ax = plt.subplots(figsize=(max(6, len(metrics) * 1.2), 3.5))
    width = 0.8 / max(1, len(systems))
    for i, system in enumerate(systems):
        xs = [j + i * width for j in range(len(metrics))]
        ax.bar(xs, [groups[system].get(m, 0.0) for m in metrics], width, label=system)
    ax.set_xticks([j + width * (len(systems) - 1) / 2 for j in range(len(metrics))])
    ax.set_xticklabels(metrics, rotation=30, ha="right")
    return _save(plt, fig, ax, path, title)
