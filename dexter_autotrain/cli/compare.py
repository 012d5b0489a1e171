"""`runs`: a group whose default is `runs list` (so `dexter-auto runs [JOB]` lists runs as
it always did), with `runs compare A B [C...]`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from dexter_autotrain import api
from dexter_autotrain.cli.console import new_table, out, print_json
from dexter_autotrain.cli.options import json_option, runs_dir_option


class _RunsGroup(click.Group):
    """Arguments that do not start with a subcommand's name go to `list`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help")):
            args = ["list", *args]
        return super().parse_args(ctx, args)


@click.group("runs", cls=_RunsGroup)
def runs() -> None:
    """List runs (the default: `runs [JOB]` is `runs list [JOB]`), compare or prune them.

    \b
    Examples:
      dexter-auto runs narrative
      dexter-auto runs prune --keep-last 3
      dexter-auto runs compare narrative/20261126-101500-ab12 narrative
      dexter-auto runs compare RUN_A RUN_B --json
    """


@runs.command("list")
@click.argument("job", required=False)
@runs_dir_option
@json_option()
def list_runs(job: str | None, runs_dir: Path, as_json: bool) -> None:
    """List runs, newest first (optionally only JOB's). A run whose state.json cannot be
    read is listed as `corrupt`, with the cause.

    \b
    Example:
      dexter-auto runs narrative
    """
    described = api.describe_runs(runs_dir, job)
    if as_json:
        print_json([{"run": str(status.run.path), **status.to_json()} for status in described])
        return
    table = new_table("run", "job", "state", "created", "note")
    for status in described:
        record = status.record
        flags = [flag for flag in ("interrupted", "detached") if getattr(status, flag)]
        reason = (record.reason if record else status.explanation) or ""
        created = (record.created if record else None) or ""
        run = status.run
        cells = (run.run_id, run.job, status.state, created, flags[0] if flags else reason)
        table.add_row(*(escape(api.printable(cell)) for cell in cells))
    out.print(table if described else f"no runs under {runs_dir}")


@runs.command("prune")
@click.argument("job", required=False)
@click.option(
    "--keep-last",
    default=5,
    show_default=True,
    type=click.IntRange(0),
    help="Keep each job's newest N runs.",
)
@click.option(
    "--newer-than",
    "newer_than_days",
    type=click.FloatRange(0),
    metavar="DAYS",
    help="Also keep runs created within DAYS days.",
)
@click.option(
    "--delete",
    is_flag=True,
    help="Delete the runs that go (without it: a dry run that only lists them).",
)
@runs_dir_option
@json_option()
def prune(
    job: str | None,
    keep_last: int,
    newer_than_days: float | None,
    delete: bool,
    runs_dir: Path,
    as_json: bool,
) -> None:
    """Delete old runs: a dry run by default, listing each run, its size and why it is kept.

    Published (or in review) and deployed runs, and runs a live process works on, are
    always kept; then each job's newest --keep-last runs and any newer than --newer-than.

    \b
    Examples:
      dexter-auto runs prune
      dexter-auto runs prune narrative --keep-last 2 --newer-than 7 --delete
    """
    pruning = api.prune_runs(
        runs_dir, job, keep_last=keep_last, newer_than_days=newer_than_days, delete=delete
    )
    if as_json:
        print_json(
            {
                "deleted": pruning.deleted,
                "freed_bytes": pruning.freed,
                "runs": [run.to_json() for run in pruning.runs],
            }
        )
        return
    table = new_table("run", "state", "size", "verdict")
    for run in pruning.runs:
        verdict = f"kept: {run.kept}" if run.kept else ("deleted" if delete else "would go")
        table.add_row(
            escape(api.printable(str(run.path))), run.state, _megabytes(run.bytes), verdict
        )
    out.print(table if pruning.runs else f"no runs under {runs_dir}")
    going = sum(run.kept is None for run in pruning.runs)
    done = "deleted" if delete else "would delete (dry run; --delete to do it)"
    out.print(f"{done}: {going} run{'s' * (going != 1)}, {_megabytes(pruning.freed)}")


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


@runs.command("compare")
@click.argument("references", metavar="A B [C...]", nargs=-1, required=True)
@runs_dir_option
@json_option("Print the comparison as JSON (errors too).")
def compare(references: tuple[str, ...], runs_dir: Path, as_json: bool) -> None:
    """Compare runs side by side: metrics overall and per language, gate verdicts, the
    parameters that differ (and the key ones), and data fingerprints that differ.

    Each run is a run directory, JOB/RUN-ID, a run id, or a job name (its latest run).

    \b
    Example:
      dexter-auto runs compare narrative/20261126-101500-ab12 narrative/20261126-113000-cd34
    """
    comparison = api.compare_runs(*references, root=runs_dir)
    if as_json:
        print_json(comparison.to_dict())
        return
    for table in comparison_tables(comparison):
        out.print(table)


def comparison_tables(comparison: Any) -> list[Any]:
    """The comparison as rich tables: one column per run."""
    heads = [f"{run['job']}/{run['run_id']}" for run in comparison.runs]
    primary = comparison.runs[0]["primary_metric"]
    language_rows = {
        f"{primary} [{language}]": metrics.get(primary, [None] * len(heads))
        for language, metrics in comparison.by_language.items()
    }
    tables = [
        _table("Metrics", heads, comparison.metrics | language_rows, _number),
        *(
            [_table("Over seeds (mean ± sd)", heads, comparison.spread, _text)]
            if comparison.spread
            else []
        ),
        _table(
            "Gates",
            heads,
            {"all gates": comparison.gates_passed} | comparison.gates,
            _verdict,
        ),
        _table("Parameters (differing, and key ones)", heads, comparison.params, _text),
    ]
    data = comparison.data or {"(all data fingerprints are the same)": [""] * len(heads)}
    tables.append(_table("Data fingerprints that differ", heads, data, _short_hash))
    return tables


def _table(title: str, heads: list[str], rows: dict[str, list[Any]], cell) -> Any:
    def shown(text: str) -> str:
        return escape(api.printable(text))

    table = new_table("", *(shown(h) for h in heads), title=title, title_justify="left")
    for name, values in rows.items():
        table.add_row(shown(name), *(shown(cell(v)) for v in values))
    if not rows:
        table.add_row("(none)", *[""] * len(heads))
    return table


def _number(value: Any) -> str:
    return "-" if value is None else f"{value:.4f}"


def _verdict(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "passed" if value else "FAILED"
    shown = "-" if value["value"] is None else f"{value['value']:.3f}"
    return f"{'pass' if value['passed'] else 'FAIL'} {shown}"


def _text(value: Any) -> str:
    return "-" if value is None else str(value)


def _short_hash(value: Any) -> str:
    """A sha256 shortened to 12 characters (its row count kept)."""
    if not value:
        return "-" if value is None else ""
    digest, _, rest = str(value).partition(" ")
    return f"{digest[:12]} {rest}".strip()
