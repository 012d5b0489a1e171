"""evaluation.md: the evaluation report for people, from the evaluation.json data."""

from __future__ import annotations

from dexter_autotrain.report_record import (
    Counterfactual,
    EvaluationReport,
    GateRow,
    Misclassified,
    Precision,
    PublishedComparison,
    Scored,
    Speed,
)
from dexter_autotrain.tasks import get_task


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _interval(record: Scored, metric: str) -> str:
    bounds = record.ci95.get(metric)
    return f"[{bounds[0]:.3f}, {bounds[1]:.3f}]" if bounds else "-"


def evaluation_markdown(report: EvaluationReport) -> str:
    lines = [
        *_overall_section(report),
        *_per_class_section(report),
        *_misclassified_section(report.misclassified),
        *_slice_sections(report),
        *_fairness_section(report),
        *_published_section(report.published),
        *_probe_section(report.counterfactual),
        *_speed_section(report.speed),
        *_gates_section(report.gates.rows),
        "",
        "## Plots",
        "",
        *(f"![{name}](plots/{name})" for name in report.plots),
    ]
    for note in report.notes:
        lines += ["", f"> {note}"]
    return "\n".join(lines) + "\n"


def _overall_section(report: EvaluationReport) -> list[str]:
    primary, overall, baseline = report.primary_metric, report.overall, report.baseline
    verdict = "PASSED" if report.gates.passed else "FAILED"
    lines = [
        f"# Evaluation of `{report.job}` (run {report.run_id})",
        "",
        f"{report.examples} {report.split} examples; task {report.task}; "
        f"primary metric `{primary}`. Gates: **{verdict}**.",
        "",
        "| metric | model | 95% CI | baseline |",
        "|---|---|---|---|",
    ]
    for metric, value in overall.metrics.items():
        guess = baseline.metrics.get(metric) if baseline else None
        lines.append(
            f"| {metric} | {_number(value)} | {_interval(overall, metric)} | {_number(guess)} |"
        )
    return [
        *lines,
        "",
        f"Baseline: {baseline.name}; lift in {primary}: {_number(baseline.lift)}"
        f"{_lift_sense(report.task, primary)}."
        if baseline
        else "No baseline (`evaluation.baseline: false`).",
        *_majority(report),
        *_precision(report.precision),
        "",
    ]


def _majority(report: EvaluationReport) -> list[str]:
    """The majority class beside a linear classifier's baseline (none for other models)."""
    floor = report.majority
    if floor is None:
        return []
    primary = report.primary_metric
    value = _number(floor.metrics.get(primary))
    return [f"Majority class: {primary} {value}; lift {_number(floor.lift)}."]


def _better(better: bool | None) -> str:
    """Whether a difference is an improvement, by its metric's direction."""
    return "" if better is None else (" (better)" if better else " (worse)")


def _lift_sense(task: str, primary: str) -> str:
    """Lifts are positive when the model is better; say how for a lower-is-better metric."""
    if get_task(task).metric(primary).higher_is_better:
        return ""
    return f" ({primary} is better lower: the lift is the baseline's minus the model's)"


def _per_class_section(report: EvaluationReport) -> list[str]:
    per_class = report.per_class
    if not per_class:
        return []
    return [
        "## Per class",
        "",
        "| class | precision | recall | F1 | support |",
        "|---|---|---|---|---|",
        *(
            f"| {name} | {_number(r.precision)} | {_number(r.recall)} | "
            f"{_number(r.f1)} | {r.support} |"
            for name, r in per_class.items()
        ),
        "",
    ]


def _misclassified_section(misclassified: Misclassified | None) -> list[str]:
    """Images: the most confident mistakes, as a contact sheet and a table."""
    if misclassified is None:
        return []
    if not misclassified.plot:
        return ["## Misclassified examples", "", "None: every image was classified right.", ""]
    return [
        "## Misclassified examples",
        "",
        f"{misclassified.wrong} images wrong; the {len(misclassified.shown)} most "
        "confident mistakes (true class in green, predicted in red):",
        "",
        f"![misclassified examples](plots/{misclassified.plot})",
        "",
        "| image | true | predicted | confidence |",
        "|---|---|---|---|",
        *(
            f"| {m.image} | {m.label} | {m.prediction} | {_number(m.confidence)} |"
            for m in misclassified.shown
        ),
        "",
    ]


def _slice_sections(report: EvaluationReport) -> list[str]:
    primary, lines = report.primary_metric, []
    for column, groups in report.slices.items():
        lines += [
            f"## By {column}",
            "",
            f"| {column} | n | {primary} | 95% CI |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {group} | {record.count} | {_number(record.metrics.get(primary))} | "
            f"{_interval(record, primary)} |"
            for group, record in groups.items()
        ]
        lines.append("")
    return lines


def _fairness_section(report: EvaluationReport) -> list[str]:
    fairness = report.fairness
    if not fairness:
        return []
    return [
        "## Fairness",
        "",
        f"{fairness.metric} by {report.fairness_group}: largest gap "
        f"{_number(fairness.gap)}, smallest ratio {_number(fairness.ratio)}, "
        f"worst group `{fairness.worst_group}`.",
        "",
    ]


def _published_section(published: PublishedComparison | None) -> list[str]:
    if not published:
        return []
    lines = ["## Against the published model", "", published.summary, ""]
    if not published.rows:
        return lines
    commit = str(published.commit)[:12]
    return [
        *lines,
        f"| | this run | published `{commit}` | difference |",
        "|---|---|---|---|",
        *(
            f"| {row.name} | {_number(row.new)} | {_number(row.published)} | "
            f"{_signed(row.difference)}{_better(row.better)} |"
            for row in published.rows
        ),
        "",
    ]


def _signed(value: float | None) -> str:
    return "-" if value is None else f"{value:+.3f}"


def _probe_section(probe: Counterfactual | None) -> list[str]:
    if not probe:
        return []
    if probe.flip_rate is None:
        return ["## Counterfactual probe", "", probe.note or "", ""]
    return [
        "## Counterfactual probe",
        "",
        f"{probe.flips} of {probe.variants} identity-term swaps changed the "
        f"prediction (flip rate {probe.flip_rate:.3f}).",
        "",
        "| category | swaps | flips | rate |",
        "|---|---|---|---|",
        *(
            f"| {c} | {r.variants} | {r.flips} | {r.flip_rate:.3f} |"
            for c, r in probe.by_category.items()
        ),
        "",
    ]


def _speed_section(speed: dict[str, Speed]) -> list[str]:
    return [
        "## Inference speed",
        "",
        "| batch | dtype | examples/s | p50 ms | p95 ms |",
        "|---|---|---|---|---|",
        *(
            f"| {name.split('_')[1]} | {r.dtype} | {r.examples_per_second:.1f} | "
            f"{r.p50_ms:.1f} | {r.p95_ms:.1f} |"
            for name, r in speed.items()
        ),
    ]


def _gates_section(rows: list[GateRow]) -> list[str]:
    lines = ["", "## Gates", "", "| gate | value | rule | result |", "|---|---|---|---|"]
    lines += [
        f"| {g.name} | {_number(g.value)} | {g.rule} {g.threshold} | "
        f"{'pass' if g.passed else '**FAIL**'}{_gate_note(g)} |"
        for g in rows
    ]
    return lines if rows else [*lines, "| (no gates declared) | | | |"]


def _gate_note(gate: GateRow) -> str:
    return f" ({gate.note})" if gate.note else ""


def _precision(precision: Precision | None) -> list[str]:
    """The predictions' precision in a line (none for a report written before it was
    recorded)."""
    if precision is None:
        return []
    line = f"Predictions in {precision.mode}"
    if not precision.rescored:
        return [line + "."]
    return [
        f"{line}: {precision.rescored} re-scored (logit gap under {_number(precision.gap)}; "
        f"bfloat16 had moved their logit differences by at most {_number(precision.drift)})."
    ]
