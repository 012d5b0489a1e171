"""The plan as Markdown: the pull-request comment (`plan --format markdown`, `--comment`)."""

from __future__ import annotations

import re

from dexter_autotrain.plan.cost import RunEstimate
from dexter_autotrain.plan.report import STATUSES, JobPlan, Plan, SourceChange

MARKER = "<!-- dexter-auto plan -->"
"""Hidden in the comment: how `plan --comment` finds its own comment to update."""
MAX_CHARS = 60_000
"""GitHub refuses comments over 65,536 characters: past this, card texts are left out."""


def to_markdown(plan: Plan) -> str:
    """The comment: a summary table, then each added, changed or invalid job in detail.

    Example:
        >>> to_markdown(plan).splitlines()[0]
        '<!-- dexter-auto plan -->'
    """
    text = _render(plan, with_cards=True)
    return text if len(text) <= MAX_CHARS else _render(plan, with_cards=False)


def _render(plan: Plan, with_cards: bool) -> str:
    counts = ", ".join(
        f"{sum(job.status == status for job in plan.jobs)} {status}" for status in STATUSES
    )
    parts = [
        MARKER,
        "## dexter-auto plan",
        f"Compared with {plan.base_ref} (`{plan.base_commit[:12]}`): {counts}.",
        f"Prices: {plan.prices}.",
        _summary(plan.jobs),
    ]
    if plan.data_unchecked:
        unchecked = ", ".join(f"`{path}`" for path in plan.data_unchecked)
        parts.insert(4, f"Data not checked (this runner cannot reach it): {unchecked}.")
    if not plan.valid:
        parts.insert(2, "**Invalid job specs: fix them before merging** (see below).")
    for job in plan.jobs:
        if job.status in ("added", "changed", "invalid"):
            parts += _job(job, with_cards)
    if not with_cards:
        parts.append(f"_Card texts left out: the comment would be over {MAX_CHARS} characters._")
    return "\n\n".join(parts) + "\n"


def _summary(jobs: list[JobPlan]) -> str:
    rows = ["| job | status | what changed | runs on | time budget | at most |", "|---" * 6 + "|"]
    for job in jobs:
        run = job.run
        where = f"{run.backend} ({run.hardware})" if run else ""
        rows.append(
            f"| `{job.name}` | {job.status} | {', '.join(job.reasons)} | {where} | "
            f"{run.timeout if run else ''} | {_cost(run) if run else ''} |"
        )
    return "\n".join(rows)


def _job(job: JobPlan, with_cards: bool) -> list[str]:
    parts = [f"### `{job.name}` ({job.path}): {job.status}"]
    if job.status == "invalid":
        return [*parts, "\n".join(f"- {problem}" for problem in job.problems)]
    parts += [
        _details("Effective spec diff (after extends: and defaults)", job.spec_diff, "diff"),
        _details("AutoTrain config diff", job.config_diff, "diff"),
        _data(job.data),
    ]
    if job.run:
        parts.append(f"**Would run:** {_run(job.run)}.")
    if job.smoke_hidden:
        hidden = "; ".join(f"`{setting}`" for setting in job.smoke_hidden)
        parts.append(f"**Only a full run shows:** {hidden}.")
    if job.card:
        parts.append(f"**Card numbers:** {job.card.numbers}.")
        if job.card.diff:
            parts.append(_details("Card diff", job.card.diff, "diff"))
        if with_cards:
            parts.append(_details("Card preview", job.card.text, "markdown"))
    return parts


def _data(changes: list[SourceChange]) -> str:
    if not changes:
        return "**Data:** no source added, removed or changed."
    lines = ["**Data:**"]
    for change in changes:
        lines.append(f"- {change.change}: `{change.source}`")
        lines += [
            f"  - `{f.path}`: sha256 `{_short(f.base_sha256)}` → `{_short(f.new_sha256)}`"
            for f in change.files
        ]
    return "\n".join(lines)


def _short(sha256: str | None) -> str:
    return sha256[:16] if sha256 else "absent"


def _run(run: RunEstimate) -> str:
    text = f"`{run.backend}` on `{run.hardware}`, time budget {run.timeout}, at most {_cost(run)}"
    if run.usd_per_hour is not None:
        text += f" (${run.usd_per_hour:.2f}/h for the whole budget)"
    text = f"{text}; {run.note}" if run.note else text
    return "; ".join(filter(None, [text, run.models_text(), run.release_text()]))


def _cost(run: RunEstimate) -> str:
    return "unknown" if run.max_usd is None else f"${run.max_usd:.2f}"


def _details(summary: str, body: str, language: str) -> str:
    if not body:
        return f"_{summary}: no change._"
    fence = "`" * max([3, *(len(run) + 1 for run in re.findall(r"`+", body))])
    return (
        f"<details><summary>{summary}</summary>\n\n{fence}{language}\n{body.rstrip()}\n{fence}"
        "\n\n</details>"
    )
