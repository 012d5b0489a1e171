"""The sweep's plot for the promoted model's card: every trial's validation score, in
order, by how it ended, with the best score so far and the promoted trial marked."""

from __future__ import annotations

from pathlib import Path

from dexter_autotrain.record import TrialRow

PLOT_FILE = "sweep-trials.png"
MARKERS = {"complete": ("o", "#1f77b4"), "pruned": ("x", "#ff7f0e")}


def trial_plot(rows: list[TrialRow], metric: str, direction: str, best: int, path: Path) -> None:
    """Write the PNG: completed trials as dots, pruned ones as crosses at their last
    reported score, the running best as a step line, the promoted trial circled.

    Example:
        >>> trial_plot(rows, "f1_macro", "maximize", 3, run / "plots" / PLOT_FILE)  # doctest: +SKIP
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    figure, axes = plt.subplots(figsize=(6, 3.6))
    for state, (marker, colour) in MARKERS.items():
        shown = [r for r in rows if r.state == state and r.value is not None]
        axes.scatter(
            [r.number for r in shown],
            [r.value for r in shown],
            marker=marker,
            color=colour,
            label=f"{state} ({len(shown)})",
        )
    scored = [r for r in rows if r.state == "complete" and r.value is not None]
    better = max if direction == "maximize" else min
    running: list[float] = []
    for row in scored:
        running.append(row.value if not running else better(running[-1], row.value))
    axes.step(
        [r.number for r in scored], running, where="post", color="#2ca02c", label="best so far"
    )
    chosen = [r for r in scored if r.number == best]
    axes.scatter(
        [r.number for r in chosen],
        [r.value for r in chosen],
        s=160,
        facecolors="none",
        edgecolors="#d62728",
        label="promoted",
    )
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("trial")
    axes.set_ylabel(f"validation {metric}")
    axes.set_title(f"Sweep: {len(rows)} trials ({direction} {metric})")
    axes.legend(loc="best", fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
