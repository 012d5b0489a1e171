"""How a run looks to people: its outcome in words, its gates as a table, the files it wrote."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.markup import escape
from rich.table import Table

from dexter_autotrain.api import STATE_FILE
from dexter_autotrain.cli.console import new_table, out

if TYPE_CHECKING:
    from dexter_autotrain.api import Run
    from dexter_autotrain.record import RunState
    from dexter_autotrain.report_record import EvaluationReport, GateRow


def print_summary(run: Run, state: RunState, seconds: float) -> None:
    """A finished submit: what it did, and where everything it wrote is."""
    out.print(
        f"[green]✓[/green] run {state.run_id} of `{state.job}`: {state.state} "
        f"in {seconds:.0f} s{' (smoke)' if state.smoke else ''}"
    )
    for line in outcome_lines(state):
        out.print(f"  {line}")
    for label, relative in (
        ("run", ""),
        ("model", state.model_dir or ""),
        ("config", "autotrain.yml"),
        ("data report", "data-report.json"),
        ("log", "logs/training.log"),
        ("evaluation", "evaluation.md"),
        ("card", "README.md"),
        ("state", STATE_FILE),
    ):
        if not relative or (run.path / relative).exists():  # a linear model has no config, no log
            out.print(f"  {label + ':':13} {run.path / relative if relative else run.path}")


def outcome_lines(state: RunState) -> list[str]:
    """The run's outcome in words: training, validation metrics, test metric and gate
    verdict, where it is published and served, its MLflow run."""
    lines = []
    if (training := state.training) and training.family == "linear":
        lines.append(f"training: linear family, {training.steps} settings in {training.seconds} s")
    elif training:
        lines.append(
            f"training: {training.steps} steps, {training.epoch} epochs in {training.seconds} s"
        )
        metrics = ", ".join(
            f"{k} {v:.3f}"
            for k, v in training.validation.items()
            if k in ("loss", "accuracy", "f1_macro", "f1", "precision", "recall")
        )
        lines += [f"validation: {metrics}"] if metrics else []
    if evaluation := state.evaluation:
        verdict = "passed" if evaluation.gates_passed else "FAILED"
        verdict += " (ignored: a smoke run is never published)" * (
            state.smoke and verdict != "passed"
        )
        lift = evaluation.baseline_lift
        lift_text = "no baseline" if lift is None else f"lift over baseline {lift:+.3f}"
        lines.append(
            f"{evaluation.split}: {evaluation.primary_metric} {evaluation.value:.3f} "
            f"({lift_text}); gates {verdict}"
        )
    if (published := state.published) and (review := published.review):
        reason = f": {review.reason}" if review.reason else ""
        lines.append(f"review: pull request #{review.num} {review.status}{reason} {review.url}")
    if published and not published.awaiting_merge:
        lines.append(f"published: {published.url} (tag {published.tag or 'none'})")
    if deployed := state.deployed:
        lines.append(f"deployed: {deployed.name} at {deployed.url} ({deployed.status})")
    if tracking := state.tracking:
        lines.append(f"tracked: MLflow run {tracking.run_id} ({tracking.uri})")
    return lines


def evaluation_summary(report: EvaluationReport) -> str:
    """One line: examples, what was scored, the primary metric and the baseline's (or that
    there is none)."""
    primary, baseline = report.primary_metric, report.baseline
    compared = f"baseline {_number(baseline.metrics.get(primary))}" if baseline else "no baseline"
    return (
        f"{report.examples} examples ({report.split}): {primary} "
        f"{_number(report.primary_value())}, {compared}"
    )


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def print_gates(run: Run) -> None:
    """The run's gates as a table, once it has been evaluated."""
    report = run.evaluation_if_any()
    if report is not None:
        out.print(gates_table(report.gates.rows))


def gates_table(rows: list[GateRow]) -> Table:
    """Each gate: its value, its rule and whether it passed."""
    table = new_table("gate", "value", "rule", "result", title="Gates", title_justify="left")
    for row in rows:
        value = "-" if row.value is None else f"{row.value:.3f}"
        result = "[green]pass[/green]" if row.passed else "[red]FAIL[/red]"
        result += f" ({escape(row.note)})" if row.note else ""
        table.add_row(row.name, value, f"{row.rule} {row.threshold}", result)
    if not rows:
        table.add_row("(no gates declared)", "", "", "")
    return table
