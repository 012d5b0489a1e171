"""`sweep`: a hyperparameter search over a spec's `sweep.space`, then the best trial
promoted through evaluation, gates, card and publishing."""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from dexter_autotrain import api
from dexter_autotrain.cli.console import new_table, out, print_json
from dexter_autotrain.cli.following import (
    ask_keep_running,
    progress_reporter,
    run_reported,
    stop_cleanly_on_signals,
)
from dexter_autotrain.cli.options import (
    backend_option,
    cards_dir_option,
    json_option,
    runs_dir_option,
)
from dexter_autotrain.cli.views import print_gates
from dexter_autotrain.errors import UserError


@click.command()
@click.argument("spec", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--smoke",
    is_flag=True,
    help="A tiny model built here, few rows and at most 3 trials: a whole sweep on CPU in a "
    "couple of minutes (CI). Trains locally unless --backend names where.",
)
@click.option(
    "--resume",
    "resume_ref",
    metavar="SWEEP",
    help="Continue a killed sweep (its folder or id): finished trials are kept, an "
    "interrupted one is tried again.",
)
@click.option(
    "--no-promote",
    is_flag=True,
    help="Stop after the trials: the best one is not evaluated on the test split.",
)
@backend_option("sweep")
@runs_dir_option
@cards_dir_option
@json_option("Print the sweep (trials, best, promoted run) as JSON.")
def sweep(
    spec: Path | None,
    smoke: bool,
    resume_ref: str | None,
    no_promote: bool,
    backend_name: str | None,
    runs_dir: Path,
    cards_dir: Path,
    as_json: bool,
) -> None:
    """Search the spec's `sweep.space` with Optuna, then promote the best trial.

    Each trial is a run of the job (runs/<job>/<run-id>/) trained on data prepared once for
    the sweep and scored on the validation split; the median pruner stops poor trials
    mid-training. The study lives in runs/<job>/sweeps/<sweep-id>/. The best trial then
    goes on as a normal run: evaluated on the test split (no other trial sees it), gated,
    carded (the card says how it was chosen) and published. Exit codes as `submit`.

    \b
    Examples:
      dexter-auto sweep --smoke jobs/narrative.yaml
      dexter-auto sweep jobs/narrative.yaml --json
      dexter-auto sweep --smoke --backend hf-jobs jobs/narrative.yaml
      dexter-auto sweep --resume runs/narrative/sweeps/20261126-061500-ab12
    """
    if (spec is None) == (resume_ref is None):
        raise UserError("give a SPEC to start a sweep, or --resume SWEEP to continue one")
    if resume_ref and backend_name is not None:
        raise UserError("--backend: only for a new sweep; a resumed sweep keeps its backend")
    reporter = progress_reporter()
    options = {
        "promote": not no_promote,
        "runs_dir": runs_dir,
        "cards_dir": cards_dir,
        "keep_running": ask_keep_running(reporter),
    }
    if spec is not None:
        start = partial(api.sweep, spec, smoke=smoke, backend=backend_name, **options)
    else:
        start = partial(api.resume_sweep, resume_ref, **options)
    stop_cleanly_on_signals()
    started = time.monotonic()
    result = run_reported(start, reporter, False, as_json)
    if as_json:
        print_json(result.to_json())
        return
    _report(result, time.monotonic() - started)


def _report(result: api.SweepResult, seconds: float) -> None:
    best = result.best()
    trials = best.trials
    out.print(trial_table(result.rows, best.metric or "", best.trial))
    counts = (
        ""
        if trials is None
        else (
            f"{trials.total} trials ({trials.complete} complete, {trials.pruned} pruned, "
            f"{trials.failed} failed) "
        )
    )
    out.print(
        f"[green]✓[/green] sweep {result.folder.sweep_id}: {counts}in {seconds:.0f} s; "
        f"best: trial {best.trial}, validation {best.metric} {best.best_value:.4f}"
    )
    out.print(f"  sweep:    {result.folder.path}")
    if result.promoted is not None:
        out.print(f"  promoted: {result.promoted.path} ({result.promoted.state().state})")
        print_gates(result.promoted)


def trial_table(rows: list[Any], metric: str, best: int | None) -> Table:
    """The trials side by side: state, score, epochs reported, parameters, run."""
    table = new_table(title="Sweep trials", title_justify="left")
    names = sorted({name for row in rows for name in row.params})
    for column in ("trial", "state", f"val {metric}", "epochs", *names, "seconds", "run"):
        table.add_column(column)
    for row in rows:
        marker = " ★" if row.number == best else ""
        value = "" if row.value is None else f"{row.value:.4f}"
        params = [_value(row.params.get(name)) for name in names]
        seconds = "" if row.seconds is None else f"{row.seconds:.0f}"
        run = Path(row.run).name if row.run else ""
        table.add_row(
            f"{row.number}{marker}", row.state, value, str(row.epochs), *params, seconds, run
        )
    return table


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return "" if value is None else str(value)
