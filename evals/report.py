"""Write evaluation results: a Markdown report, PNG plots, and a failures table."""

from __future__ import annotations

from pathlib import Path

from wbqa.ingest.storage import atomic_write_text


def markdown_table(rows: list[dict], columns: list[str]) -> str:
    def cell(value) -> str:
        if isinstance(value, float):
            return f"{value:.3f}"
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def bar_plot(
    path: Path,
    labels: list[str],
    series: dict[str, list[float]],
    title: str,
    ylim: tuple[float, float] | None = (0, 1),
) -> None:
    """Grouped bars; `ylim=None` lets the axis fit the values (latencies, throughputs)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    figure, axis = plt.subplots(figsize=(8, 4))
    width = 0.8 / max(len(series), 1)
    positions = np.arange(len(labels))
    for i, (name, values) in enumerate(series.items()):
        axis.bar(positions + i * width, values, width, label=name)
    axis.set_xticks(positions + width * (len(series) - 1) / 2, labels, rotation=20, ha="right")
    if ylim:
        axis.set_ylim(*ylim)
    axis.set_title(title)
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def line_plot(
    path: Path,
    xs: list[int],
    series: dict[str, list[float]],
    title: str,
    xlabel: str,
    log: bool = False,
) -> None:
    """Lines over xs; `log=True` for sizes and latencies spanning orders of magnitude (the
    0–1 axis is for rates)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 4))
    for name, values in series.items():
        axis.plot(xs, values, marker="o", label=name)
    axis.set_xlabel(xlabel)
    if log:
        axis.set_xscale("log")
        axis.set_yscale("log")
    else:
        axis.set_ylim(0, 1.02)
    axis.set_title(title)
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write_text(path: Path, text: str) -> None:
    atomic_write_text(path, text)
