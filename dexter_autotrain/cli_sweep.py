"""`sweep`: a hyperparameter search over a spec's `sweep.space`, then the best trial
promoted through evaluation, gates, card and publishing."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from dexter_autotrain.cli_runs import (
    BACKEND_OPTION,
    CARDS_DIR_OPTION,
    RUNS_DIR_OPTION,
    _keep_running,
    _raise_terminated,
    _run_reported,
    print_gates,
)
from dexter_autotrain.console import err, json_option, out, print_json
from dexter_autotrain.record import plain


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
@BACKEND_OPTION
@RUNS_DIR_OPTION
@CARDS_DIR_OPTION
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
    from dexter_autotrain.backends.attach import FollowOptions
    from dexter_autotrain.cli_runner import ensure_runner
    from dexter_autotrain.errors import UserError
    from dexter_autotrain.progress_view import PlainReporter, RichReporter
    from dexter_autotrain.spec import load_spec
    from dexter_autotrain.sweeps import SweepOptions, resume_sweep, run_sweep

    if (spec is None) == (resume_ref is None):
        raise UserError("give a SPEC to start a sweep, or --resume SWEEP to continue one")
    if resume_ref and backend_name is not None:
        raise UserError("--backend: only for a new sweep; a resumed sweep keeps its backend")
    reporter = RichReporter(err) if err.is_terminal else PlainReporter(err)
    follow = FollowOptions(keep_running=lambda handle: _keep_running(handle, reporter))
    options = SweepOptions(
        runs_dir, cards_dir, follow, promote=not no_promote, backend=backend_name
    )
    loaded = load_spec(spec) if spec is not None else None
    ensure_runner()
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_terminated)
    started = time.monotonic()
    if loaded is not None:
        result = _run_reported(
            lambda r: run_sweep(loaded, smoke, r, options), reporter, False, as_json
        )
    else:
        result = _run_reported(
            lambda r: resume_sweep(resume_ref, r, options), reporter, False, as_json
        )
    _report(result, as_json, time.monotonic() - started)


def _report(result: Any, as_json: bool, seconds: float) -> None:
    record = result.folder.record()
    promoted = plain(result.promoted.state()) if result.promoted is not None else None
    if as_json:
        print_json(
            {
                "sweep": str(result.folder.path),
                "state": record["state"],
                "trials": [row.to_dict() for row in result.rows],
                "best": record.get("best"),
                "promoted": None
                if promoted is None
                else {"run": str(result.promoted.path), **promoted},
            }
        )
        return
    best = record["best"]
    out.print(trial_table(result.rows, best["metric"], best["trial"]))
    out.print(
        f"[green]✓[/green] sweep {result.folder.sweep_id}: {best['trials']['total']} trials "
        f"({best['trials']['complete']} complete, {best['trials']['pruned']} pruned, "
        f"{best['trials']['failed']} failed) in {seconds:.0f} s; best: trial {best['trial']}, "
        f"validation {best['metric']} {best['best_value']:.4f}"
    )
    out.print(f"  sweep:    {result.folder.path}")
    if promoted is not None:
        out.print(f"  promoted: {result.promoted.path} ({promoted['state']})")
        print_gates(result.promoted.path)


def trial_table(rows: list[Any], metric: str, best: int | None) -> Table:
    """The trials side by side: state, score, epochs reported, parameters, run."""
    table = Table(title="Sweep trials", title_justify="left")
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
