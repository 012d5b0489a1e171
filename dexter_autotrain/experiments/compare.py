"""`runs compare`: runs side by side, from their run directories alone (no tracker needed).

Metrics overall and per language, gate verdicts, the parameters that differ (and the key ones
always), and which data fingerprints differ. A value a run does not have is None.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dexter_autotrain.errors import UserError
from dexter_autotrain.experiments.tracking import read_json, run_params
from dexter_autotrain.record import RunState
from dexter_autotrain.report_record import EvaluationReport, Metrics
from dexter_autotrain.runs import RUNS_ROOT, Run, find_run
from dexter_autotrain.system.files import display_path

KEY_PARAMS = (
    "commit",
    "base_model",
    "backend",
    "smoke",
    "training.epochs",
    "training.learning_rate",
    "training.batch_size",
    "training.max_seq_length",
)
"""Parameters shown even when every run has the same value."""
Values = list[Any]
"""One value per compared run, in the order the runs were given."""


@dataclass(frozen=True)
class RunFacts:
    """What a comparison reads from one run directory."""

    run: Run
    state: RunState
    report: EvaluationReport | None
    params: dict[str, str]
    fingerprints: dict[str, str]

    def summary(self) -> dict[str, Any]:
        report = self.report
        return {
            "run": str(self.run.path),
            "job": self.run.job,
            "run_id": self.run.run_id,
            "state": self.state.state,
            "smoke": self.state.smoke,
            "split": report.split if report else None,
            "primary_metric": report.primary_metric if report else None,
        }


@dataclass
class Comparison:
    """Rows of values, one per run; `to_dict` is `runs compare --json`."""

    runs: list[dict[str, Any]]
    metrics: dict[str, Values] = field(default_factory=dict)
    by_language: dict[str, dict[str, Values]] = field(default_factory=dict)
    spread: dict[str, Values] = field(default_factory=dict)
    """Test metrics as `mean ± sd (N seeds)` over the published family's seeds, for runs of
    jobs with seeds or candidates (None for a single run)."""
    gates: dict[str, Values] = field(default_factory=dict)
    gates_passed: Values = field(default_factory=list)
    params: dict[str, Values] = field(default_factory=dict)
    params_differing: list[str] = field(default_factory=list)
    data: dict[str, Values] = field(default_factory=dict)
    """Only the fingerprints that differ between runs (data.same says whether any do)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "runs": self.runs,
            "metrics": {
                "overall": self.metrics,
                "by_language": self.by_language,
                "over_seeds": self.spread,
            },
            "gates": {"passed": self.gates_passed, "rows": self.gates},
            "params": {"values": self.params, "differing": self.params_differing},
            "data": {"same": not self.data, "differing": self.data},
        }


def compare_runs(references: list[str], root: Path = RUNS_ROOT) -> Comparison:
    """Compare the runs `references` name (paths, JOB/RUN-ID, run ids or job names).

    Raises:
        [`UserError`]: fewer than two runs, or a reference that names no run.

    Example:
        ```python
        >>> compare_runs(["narrative/20261126-101500-ab12", "narrative"]).metrics["f1_macro"]
        [0.61, 0.64]
        ```
    """
    if len(references) < 2:
        raise UserError("runs compare: give at least two runs (A B [C...])")
    facts = [_facts(find_run(reference, root)) for reference in references]
    comparison = Comparison(runs=[f.summary() for f in facts])
    reports = [f.report for f in facts]
    comparison.metrics = _rows([_overall(r) for r in reports])
    languages = sorted({lang for r in reports for lang in _languages(r)})
    comparison.by_language = {
        language: _rows([_languages(r).get(language, {}) for r in reports])
        for language in languages
    }
    comparison.spread = _rows([_spread(f.state) for f in facts])
    comparison.gates = _rows([_gates(r) for r in reports])
    comparison.gates_passed = [r.gates.passed if r else None for r in reports]
    params = _rows([f.params for f in facts])
    comparison.params_differing = [k for k, values in params.items() if len(set(values)) > 1]
    comparison.params = {
        k: v for k, v in params.items() if k in KEY_PARAMS or k in comparison.params_differing
    }
    fingerprints = _rows([f.fingerprints for f in facts])
    comparison.data = {k: v for k, v in fingerprints.items() if len(set(v)) > 1}
    return comparison


def _facts(run: Run) -> RunFacts:
    state = run.state()
    report = run.evaluation_if_any()
    data_report = read_json(run.path / "data-report.json") or {}
    params = {
        k: v
        for k, v in run_params(run.spec(state), state, None).items()
        if not k.startswith("data.")
    }
    for key, override in state.smoke_overrides.items():  # what trained, and what was asked
        if key in params:
            params[key] = f"{override.used} (smoke; the spec asks {override.asked})"
    fingerprints = {
        f"input {display_path(Path(i['path']))}": i["sha256"] for i in data_report.get("inputs", [])
    }
    fingerprints |= {
        f"prepared {Path(o['path']).stem}": f"{o['sha256']} ({o.get('rows')} rows)"
        for o in data_report.get("outputs", [])
    }
    return RunFacts(run, state, report, params, fingerprints)


def _rows(per_run: list[dict[str, Any]]) -> dict[str, Values]:
    """{name: [value in run 1, value in run 2, ...]} over every name any run has, in the
    order they first appear."""
    names = dict.fromkeys(name for values in per_run for name in values)
    return {name: [values.get(name) for values in per_run] for name in names}


def _overall(report: EvaluationReport | None) -> Metrics:
    """The overall metrics, the primary one first (none for a run not evaluated)."""
    if report is None:
        return {}
    metrics, primary = report.overall.metrics, report.primary_metric
    ordered = {primary: metrics[primary]} if primary in metrics else {}
    return ordered | metrics


def _spread(state: RunState) -> dict[str, str]:
    """The published family's test metrics over its seeds, as text."""
    repeats = state.repeats
    if repeats is None:
        return {}
    return {
        metric: text
        for metric in repeats.winning_family().test
        if (text := repeats.spread_text(metric, digits=4)) is not None
    }


def _languages(report: EvaluationReport | None) -> dict[str, Metrics]:
    slices = report.slices.get("language", {}) if report else {}
    return {language: scored.metrics for language, scored in slices.items()}


def _gates(report: EvaluationReport | None) -> dict[str, dict[str, Any]]:
    rows = report.gates.rows if report else []
    return {row.name: {"passed": row.passed, "value": row.value} for row in rows}
