"""`evaluate`, `card`: a trained run scored again (or a published model on its data), and
its model card written."""

from __future__ import annotations

from pathlib import Path

import click

from dexter_autotrain import api
from dexter_autotrain.cli.console import err, out, print_json
from dexter_autotrain.cli.options import cards_dir_option, json_option, runs_dir_option
from dexter_autotrain.cli.views import evaluation_summary, gates_table
from dexter_autotrain.errors import UserError


@click.command()
@click.argument("run")
@click.option(
    "--split",
    type=click.Choice(["test", "validation", "train"]),
    help="Which prepared split to score (default: the spec's evaluation.split).",
)
@click.option(
    "--data",
    "data_path",
    type=click.Path(exists=True, path_type=Path),
    help="Score other data instead: a file or folder in any source format, read "
    "with the job's column mapping. Written to evaluations/<name>/.",
)
@click.option("--language", help="Language code of --data rows without a language column.")
@click.option(
    "--on",
    "on_run",
    metavar="RUN",
    help="With hub:ORG/NAME@REV: the run whose data and evaluation settings to use "
    "(default: the latest run of the job named like the repo).",
)
@runs_dir_option
@json_option("Print evaluation.json (errors as JSON too).")
def evaluate(
    run: str,
    split: str | None,
    data_path: Path | None,
    language: str | None,
    on_run: str | None,
    runs_dir: Path,
    as_json: bool,
) -> None:
    """Evaluate a trained run: metrics, slices, fairness, baseline, probe, speed, gates.

    RUN may also be a published model, hub:ORG/NAME@REV (a branch, tag or commit): it is
    downloaded pinned to that commit and scored exactly as a run's own model, on a run's
    data (--on), into that run's evaluations/hub-<name>-<commit>/.

    Exit code 3 when a gate fails (not for a smoke run: as `submit --smoke`, its gates are
    reported, never enforced, since its tiny model is never published).

    \b
    Examples:
      dexter-auto evaluate narrative
      dexter-auto evaluate narrative --split validation
      dexter-auto evaluate narrative --data new-tweets.tsv --language pcm
      dexter-auto evaluate hub:dexter-ng/narrative@main --on narrative
    """
    if split and data_path:
        raise UserError("give --split or --data, not both")
    published, smoke = api.is_published_model(run), False
    if on_run is not None and not published:
        raise UserError("--on: only with a published model (hub:ORG/NAME@REV)")
    with err.status("evaluating"):
        if published:
            on = None if on_run is None else api.find_run(on_run, runs_dir)
            report = api.evaluate_published(
                run, on, split, data_path, language, runs_dir, err.print
            )
        else:
            found = api.find_run(run, runs_dir)
            smoke = found.state().smoke
            report = api.evaluate(found, split, data_path, language, err.print)
    if as_json:
        print_json(report.to_json())
    else:
        out.print(evaluation_summary(report))
        out.print(gates_table(report.gates.rows))
    if not report.gates.passed and smoke:  # judged as `submit --smoke` judges it
        err.print("gates failed; ignored in a smoke run, whose tiny model is never published")
    elif not report.gates.passed:
        raise SystemExit(3)


@click.command()
@click.argument("run")
@runs_dir_option
@cards_dir_option
@json_option()
def card(run: str, runs_dir: Path, cards_dir: Path, as_json: bool) -> None:
    """Write an evaluated run's model card: README.md (with .eval_results/) in the run, and
    model_cards/<job>.md for review in pull requests.

    \b
    Example:
      dexter-auto card narrative
    """
    found = api.find_run(run, runs_dir)
    written = api.card(found, cards_dir)
    if as_json:
        print_json({"run": str(found.path), "written": [str(path) for path in written]})
        return
    for path in written:
        out.print(f"wrote {path}")
