"""The review pull request's title and description: what a reviewer decides on, on the Hub.

The title names the job, the run and its verdict. The description holds the gate table, the
comparison with the model now on the branch (every metric and language row the evaluation
compared, the fairness gap), the data fingerprints, and where the run came from.
"""

from __future__ import annotations

import json
import os

from dexter_autotrain.record import RunState
from dexter_autotrain.report_record import EvaluationReport
from dexter_autotrain.runs import Run
from dexter_autotrain.spec import JobSpec

DATA_REPORT = "data-report.json"


def review_title(state: RunState, spec: JobSpec) -> str:
    """`narrative run 20261125-001830-fc69: f1_macro 0.8123 on test, gates passed`."""
    verdict = state.verdict()
    gates = "gates passed" if verdict.gates_passed else "gates FAILED"
    return (
        f"{spec.name} run {state.run_id}: {verdict.primary_metric} {verdict.value:.4f} on "
        f"{verdict.split}, {gates}"
    )


def review_description(run: Run, state: RunState, spec: JobSpec, base: str) -> str:
    """The pull request's description, in Markdown (`base`: the branch head compared with)."""
    report = run.evaluation()
    lines = [
        f"Opened by dexter-auto for review. Merge it with `dexter-auto publish {run.path.name} "
        "--merge` (the Hub's merge, then the run's tag), or close it with `dexter-auto publish "
        f'{run.path.name} --close "reason"`. It was compared with `{spec.hub.branch}` at '
        f"`{base[:12]}`: a merge after the branch moved is refused.",
        "",
        *_gates(report),
        *_against_branch(report, spec.hub.branch),
        *_fairness(report),
        *_data(run),
        *_provenance(state),
    ]
    if state.forced:
        lines += ["", f"> Gates failed; opened with `--force`: {state.forced.reason}"]
    return "\n".join(lines) + "\n"


def _gates(report: EvaluationReport) -> list[str]:
    rows = [
        f"| {row.name} | {'-' if row.value is None else f'{row.value:.4f}'} | "
        f"{row.rule} {row.threshold} | {'pass' if row.passed else '**FAIL**'} |"
        for row in report.gates.rows
    ]
    verdict = "all passed" if report.gates.passed else "**failed**"
    head = ["## Gates", "", f"On {report.split} ({report.examples} examples): {verdict}.", ""]
    return [*head, "| gate | value | rule | result |", "|---|---|---|---|", *rows, ""]


def _against_branch(report: EvaluationReport, branch: str) -> list[str]:
    compared = report.published
    head = [f"## Against the model now on `{branch}`", ""]
    if compared is None or not compared.rows:
        reason = compared.summary if compared else "the evaluation did not compare them"
        return [*head, f"Not compared: {reason}.", ""]
    rows = [
        f"| {row.name} | {_number(row.new)} | {_number(row.published)} | "
        f"{_number(row.difference)} | {_better(row.better)} |"
        for row in compared.rows
    ]
    table = ["| metric | this run | on the branch | difference | |", "|---|---|---|---|---|"]
    return [*head, compared.summary, "", *table, *rows, ""]


def _fairness(report: EvaluationReport) -> list[str]:
    fairness = report.fairness
    if fairness is None or fairness.gap is None:
        return []
    groups = ", ".join(f"{group} {value:.4f}" for group, value in fairness.by_group.items())
    return [
        "## Fairness",
        "",
        f"{fairness.metric} by group: {groups}; gap {fairness.gap:.4f} "
        f"(worst: {fairness.worst_group}).",
        "",
    ]


def _data(run: Run) -> list[str]:
    """The sha256 of every input read and split written (from the run's data report)."""
    path = run.path / DATA_REPORT
    if not path.is_file():
        return []
    data = json.loads(path.read_text())
    rows = [
        f"| {kind} | `{os.path.basename(item['path'])}` | `{item['sha256'][:16]}` |"
        for kind in ("inputs", "outputs")
        for item in data.get(kind, [])
    ]
    return ["## Data", "", "| | file | sha256 |", "|---|---|---|", *rows, ""]


def _provenance(state: RunState) -> list[str]:
    """The run, and the commit its spec was read at (links in GitHub Actions)."""
    server, repository = os.environ.get("GITHUB_SERVER_URL"), os.environ.get("GITHUB_REPOSITORY")
    github = f"{server}/{repository}" if server and repository else None
    lines = ["## Provenance", "", f"- run: `{state.run_id}` of job `{state.job}`"]
    if state.git:
        commit = state.git.commit
        shown = f"[`{commit[:12]}`]({github}/commit/{commit})" if github else f"`{commit[:12]}`"
        changes = " (with local changes)" if state.git.dirty else ""
        lines.append(f"- spec read at commit {shown}{changes}")
    if github and (workflow_run := os.environ.get("GITHUB_RUN_ID")):
        lines.append(f"- workflow run: {github}/actions/runs/{workflow_run}")
    return lines


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _better(better: bool | None) -> str:
    return {True: "better", False: "worse", None: ""}[better]
