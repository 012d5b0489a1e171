"""The data report as rich tables for people."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.markup import escape
from rich.table import Table

from dexter_autotrain.api import printable
from dexter_autotrain.cli.console import new_table
from dexter_autotrain.tasks import get_task

if TYPE_CHECKING:
    from dexter_autotrain.data.report import DataReport


def _shown(text: object) -> str:
    """Input (a label, a language, a file name) made safe for a terminal: escaped control
    characters, no rich markup."""
    return escape(printable(str(text)))


def report_tables(report: DataReport) -> list[Table]:
    tables = [_counts_table(report)]
    overlap = new_table(
        title="Overlap between splits (rows of the later split found in the earlier)",
        title_justify="left",
    )
    for column in ("pair", "exact", "normalised", "by language (exact/normalised)"):
        overlap.add_column(column)
    for pair, record in report.overlaps.items():
        languages = ", ".join(
            f"{_shown(lang)} {v['exact']}/{v['normalised']}"
            for lang, v in record["by_language"].items()
        )
        overlap.add_row(
            pair.replace("_in_", " in "), str(record["exact"]), str(record["normalised"]), languages
        )
    overlap.caption = (
        f"{report.duplicates_in_train} exact duplicates inside train; "
        f"{report.removed_leaked_from_train} leaked rows removed from train"
    )
    tables.append(overlap)
    lengths = new_table(title="Length in words", title_justify="left")
    for column in ("split", "min", "median", "p95", "max", "mean"):
        lengths.add_column(column, justify="right")
    for split, record in report.splits.items():
        stats = record.get("length_in_words")
        if stats:
            lengths.add_row(
                split, *(str(stats[k]) for k in ("min", "median", "p95", "max", "mean"))
            )
    if lengths.row_count:
        tables.append(lengths)
    prints = new_table(title="Fingerprints (sha256)", title_justify="left")
    prints.add_column("file")
    prints.add_column("sha256")
    prints.add_column("rows", justify="right")
    for record in [*report.inputs, *report.outputs]:
        prints.add_row(
            _shown(record["path"]),
            (record["sha256"] or "-")[:16] + "…",
            str(record.get("rows", "")),
        )
    tables.append(prints)
    if report.upsampled:
        upsampled = new_table(title="Upsampled train rows", title_justify="left")
        for column in ("language", "before", "after"):
            upsampled.add_column(column)
        for language, (before, after) in report.upsampled.items():
            upsampled.add_row(_shown(language), str(before), str(after))
        tables.append(upsampled)
    return tables


def _counts_table(report: DataReport) -> Table:
    label_title = "entity mentions" if get_task(report.task).per_token else "labels"
    counts = new_table(
        title=f"Data for `{_shown(report.job)}` ({report.task})", title_justify="left"
    )
    for column in ("split", "language", "rows", label_title):
        counts.add_column(column, justify="right" if column == "rows" else "left")
    for split, record in report.splits.items():
        for language, part in record["by_language"].items():
            labels = ", ".join(f"{_shown(name)} {count}" for name, count in part["labels"].items())
            counts.add_row(split, _shown(language), str(part["rows"]), labels)
        counts.add_row(
            f"[bold]{split}[/bold]", "all", f"[bold]{record['rows']}[/bold]", "", end_section=True
        )
    return counts
