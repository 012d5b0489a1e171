"""The plan for a terminal (`plan --format text`): one line per job, then the diffs."""

from __future__ import annotations

from dexter_autotrain.plan.report import JobPlan, Plan


def to_text(plan: Plan) -> str:
    """Plain text: the base, the prices, each job's status line, problems and diffs."""
    lines = [f"base: {plan.base_ref} ({plan.base_commit[:12]})", f"prices: {plan.prices}"]
    if plan.data_unchecked:
        lines.append(f"data not checked (--no-data): {', '.join(plan.data_unchecked)}")
    for job in plan.jobs:
        lines.append(_status_line(job))
        lines += [f"  {problem}" for problem in job.problems]
        if job.status not in ("added", "changed"):
            continue
        for change in job.data:
            lines.append(f"  data {change.change}: {change.source}")
            lines += [
                f"    {f.path}: {f.base_sha256 or 'absent'} -> {f.new_sha256 or 'absent'}"
                for f in change.files
            ]
        lines += [f"  only a full run shows {hidden}" for hidden in job.smoke_hidden]
        if job.card:
            lines.append(f"  card numbers: {job.card.numbers}")
        for diff in (job.spec_diff, job.config_diff, job.card.diff if job.card else ""):
            lines += [f"  {line}" for line in diff.splitlines()]
    return "\n".join(lines) + "\n"


def _status_line(job: JobPlan) -> str:
    line = f"{job.status:<9} {job.path}"
    if job.reasons:
        line += f" ({', '.join(job.reasons)})"
    if job.run:
        cost = "unknown" if job.run.max_usd is None else f"${job.run.max_usd:.2f}"
        line += f": {job.run.backend} on {job.run.hardware}, {job.run.timeout}, at most {cost}"
        for more in (job.run.models_text(), job.run.release_text()):
            line += f"\n  {more}" if more else ""
    return line
