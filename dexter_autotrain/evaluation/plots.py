"""PNG plots for the evaluation report: confusion matrix, scores per language with their
95% intervals, and a calibration (reliability) diagram."""

from __future__ import annotations

from pathlib import Path

from dexter_autotrain.report_record import CalibrationBin, Scored


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def confusion_matrix_plot(
    matrix: list[list[int]], labels: list[str], title: str, path: Path
) -> None:
    plt = _pyplot()
    size = max(4.0, 0.9 * len(labels) + 2)
    figure, axes = plt.subplots(figsize=(size, size * 0.85))
    image = axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    axes.set_yticks(range(len(labels)), labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    top = max(max(row) for row in matrix) or 1
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            axes.text(
                j,
                i,
                str(value),
                ha="center",
                va="center",
                color="white" if value > top / 2 else "black",
            )
    axes.set_title(title)
    figure.colorbar(image, ax=axes, fraction=0.046)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def group_scores_plot(
    groups: dict[str, Scored],
    metric: str,
    lines: dict[str, float | None],
    expected: list[str],
    title: str,
    path: Path,
) -> dict[str, str]:
    """Bars of `metric` per group with their intervals and counts. A group in `expected`
    with no examples, or with no score, keeps its place with that said on it: a plot that
    leaves a language out reads as if every language were there. `lines`: the overall and
    baseline values ("all", "baseline") drawn across. Returns what each bar says."""
    plt = _pyplot()
    names = list(groups) + [name for name in expected if name not in groups]
    scores = [groups[n].metrics.get(metric) if n in groups else None for n in names]
    values = [score or 0.0 for score in scores]
    lows = [v - _interval(groups, n, metric, v)[0] for n, v in zip(names, values, strict=True)]
    highs = [_interval(groups, n, metric, v)[1] - v for n, v in zip(names, values, strict=True)]
    figure, axes = plt.subplots(figsize=(max(4.5, 1.2 * len(names) + 2), 3.8))
    axes.bar(names, values, yerr=[lows, highs], capsize=6, color="#4C72B0")
    styles = {"all": ("black", "--", 1.0), "baseline": ("#C44E52", ":", 1.5)}
    for name, value in lines.items():
        if value is not None:
            color, style, width = styles[name]
            axes.axhline(
                value, color=color, linestyle=style, linewidth=width, label=f"{name}: {value:.3f}"
            )
    labels = {
        name: _bar_label(groups.get(name), score) for name, score in zip(names, scores, strict=True)
    }
    for x, (score, high, name) in enumerate(zip(scores, highs, names, strict=True)):
        axes.text(
            x,
            (score or 0.0) + high + 0.02,
            labels[name],
            ha="center",
            va="bottom",
            fontsize=8,
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 1},  # over the lines
        )
    axes.set_ylim(0, 1.15)
    axes.set_ylabel(metric)
    axes.set_title(title)
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, fontsize=8, frameon=False)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return labels


def _interval(
    groups: dict[str, Scored], name: str, metric: str, value: float
) -> tuple[float, float]:
    return groups[name].ci95.get(metric, (value, value)) if name in groups else (value, value)


def _bar_label(group: Scored | None, score: float | None) -> str:
    if group is None:
        return "no examples"
    if score is None:
        return f"no score (n={group.count})"
    return f"{score:.2f} (n={group.count})"


def calibration_plot(curve: list[CalibrationBin], error: float, path: Path) -> None:
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(4.5, 4.5))
    axes.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect")
    axes.plot(
        [p.confidence for p in curve],
        [p.accuracy for p in curve],
        marker="o",
        label=f"model (ECE {error:.3f})",
    )
    for point in curve:  # so a bin of a few examples is not read as a trend
        axes.annotate(
            f"n={point.count}",
            (point.confidence, point.accuracy),
            textcoords="offset points",
            xytext=(5, -10),
            fontsize=7,
        )
    axes.set_xlabel("confidence")
    axes.set_ylabel("accuracy")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.set_title("Calibration")
    axes.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def spread_plot(points: dict[str, list[tuple[int, float, float]]], metric: str, path: Path) -> None:
    """Each family's seeds as dots, validation and test side by side, with each family's
    mean as a bar: how far one seed's figure can be from another's. `points`: family ->
    [(seed, validation, test)]."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(5.5, 3.2))
    for row, seeds in enumerate(points.values()):
        for column, marker in enumerate(("o", "s")):  # validation, test
            values = [seed[1 + column] for seed in seeds]
            y = row * 2.5 + column
            axes.scatter(values, [y] * len(values), marker=marker, zorder=3)
            axes.plot([sum(values) / len(values)] * 2, [y - 0.35, y + 0.35], color="black")
            for seed, value in zip((s[0] for s in seeds), values, strict=True):
                axes.annotate(str(seed), (value, y), xytext=(0, 6), textcoords="offset points",
                              fontsize=7, ha="center")  # fmt: skip
    labels = [f"{family} {name}" for family in points for name in ("validation", "test")]
    axes.set_yticks([row * 2.5 + column for row in range(len(points)) for column in (0, 1)])
    axes.set_yticklabels(labels, fontsize=8)
    axes.set_xlabel(f"{metric} (each seed; bar: mean)")
    axes.set_title("Spread over seeds")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
