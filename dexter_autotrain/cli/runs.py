"""`submit`, `status`, `logs`, `cancel`: starting a run, watching it, stopping it."""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from dexter_autotrain import api
from dexter_autotrain.cli.console import err, out, print_json
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
from dexter_autotrain.cli.views import outcome_lines, print_gates, print_summary
from dexter_autotrain.errors import UserError


@click.command()
@click.argument(
    "spec", metavar="[JOB]", required=False, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option(
    "--smoke",
    is_flag=True,
    help="Swap in a tiny model built here, cap rows and epochs: a whole offline run "
    "on CPU in about a minute. Trains locally unless --backend names where.",
)
@click.option(
    "--resume",
    "resume_run",
    metavar="RUN",
    help="Continue a killed or failed run from its first unfinished stage; a remote "
    "training that is still going (or finished) is re-attached, never started twice.",
)
@backend_option("run")
@click.option(
    "--seeds",
    type=click.IntRange(1, 10),
    metavar="N",
    help="Train the job once per seed (training.seed, +1, ...): every metric's mean and "
    "standard deviation; gates judge the mean, the best seed on validation is published.",
)
@click.option(
    "--detach",
    is_flag=True,
    help="Remote backends: start the training, record it and return at once; follow it "
    "with `logs -f`, continue with `submit --resume RUN`.",
)
@runs_dir_option
@cards_dir_option
@json_option("Print the final run state as JSON (errors and failed gates too).")
def submit(
    spec: Path | None,
    smoke: bool,
    resume_run: str | None,
    backend_name: str | None,
    seeds: int | None,
    detach: bool,
    runs_dir: Path,
    cards_dir: Path,
    as_json: bool,
) -> None:
    """Run a job: prepare data, train with AutoTrain, evaluate, write the model card.

    JOB is a job name (narrative: jobs/narrative.yaml at the project's top) or a spec
    file. Everything lands in runs/<job>/<run-id>/. Ctrl-C stops a local training cleanly and
    marks the run cancelled (SIGTERM and SIGHUP too); if submit is killed outright,
    AutoTrain's processes end with it. A remote training (hf-jobs, autotrain-spaces) goes on
    without submit: Ctrl-C on a terminal asks whether to cancel it or leave it running
    (without a terminal, it cancels), and `submit --resume RUN` re-attaches. Exit codes:
    0 done (or detached), 1 training failed (the cause is shown), 2 bad input, 3 a gate
    failed (the card is still written, for review), 130 cancelled or left running.

    \b
    Examples:
      dexter-auto submit --smoke narrative
      dexter-auto submit jobs/actors.yaml
      dexter-auto submit --seeds 3 jobs/narrative.yaml
      dexter-auto submit --smoke --backend hf-jobs --detach jobs/narrative.yaml
      dexter-auto submit --resume runs/actors/20261124-101500-ab12
    """
    if (spec is None) == (resume_run is None):
        raise UserError("give a JOB to start a run, or --resume RUN to continue one")
    if resume_run and (backend_name is not None or seeds is not None):
        flag = "--backend" if backend_name is not None else "--seeds"
        raise UserError(f"{flag}: only for a new run; a resumed run keeps its own")
    reporter = progress_reporter()
    options: dict[str, Any] = {
        "detach": detach,
        "cards_dir": cards_dir,
        "keep_running": ask_keep_running(reporter),
    }
    if resume_run:
        start = partial(api.resume, api.find_run(resume_run, runs_dir), **options)
    else:
        start = partial(
            api.submit,
            spec,
            smoke=smoke,
            backend=backend_name,
            runs_dir=runs_dir,
            seeds=seeds,
            **options,
        )
    stop_cleanly_on_signals()
    started = time.monotonic()
    run = run_reported(start, reporter, detach, as_json)
    state = run.state()
    if as_json:
        print_json({"run": str(run.path), **state.to_json()})
        return
    print_summary(run, state, time.monotonic() - started)
    print_gates(run)


@click.command()
@click.argument("run")
@runs_dir_option
@json_option()
def status(run: str, runs_dir: Path, as_json: bool) -> None:
    """Explain a run's state: stage, outcome, reason, what to do next.

    RUN is a run directory, JOB/RUN-ID, a run id, or a job name (its latest run).

    \b
    Example:
      dexter-auto status narrative
    """
    found = api.find_run(run, runs_dir)
    described = api.status(found)
    state = described.record
    job = api.training_job(state) if state else None
    if as_json:
        shown = described.to_json() | ({"training_job": job.to_json()} if job else {})
        print_json({"run": str(found.path), **shown})
        return
    out.print(f"run {escape(str(found.path))}: [bold]{escape(described.state)}[/bold]")
    out.print(f"  completed stages: {', '.join(state.completed if state else []) or 'none'}")
    if job:
        out.print(
            f"  training: {job.kind} {escape(job.id)}: [bold]{job.phase}[/bold] "
            f"{escape(api.printable(job.message))}".rstrip()
        )
        for name, url in job.urls.items():
            out.print(f"    {name}: {escape(url)}")
    reason = state.reason if state else described.explanation  # corrupt: why
    explanation = described.explanation if state else None
    for key, text in (("reason", reason), ("explanation", explanation)):
        if text:
            out.print(f"  {key}: {escape(api.printable(text))}")
    if described.state in ("failed", "cancelled"):
        out.print(f"  next: fix the cause, then `dexter-auto submit --resume {found.path}`")
    for line in outcome_lines(state) if state else []:
        out.print(f"  {line}")


@click.command()
@click.argument("run")
@runs_dir_option
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines until the run ends.")
@json_option("Print the log so far and the run's state as JSON (not with -f).")
def logs(run: str, runs_dir: Path, follow: bool, as_json: bool) -> None:
    """Print a run's training log. With -f, follow it until the run stops (finished,
    failed, or its process gone). A remote training's log comes from its backend (an HF
    Job's, a Space's), whether or not a submit follows it.

    \b
    Example:
      dexter-auto logs narrative -f
    """
    if follow and as_json:
        raise UserError("give -f or --json, not both")
    found = api.find_run(run, runs_dir)
    described = api.status(found)
    if as_json:
        text = "".join(api.logs(found))
        print_json({"run": str(found.path), "state": described.state, "log": text})
        return
    local = described.record is None or not api.Run.remote_training(described.record)
    if local and not found.log_file.exists():
        err.print(f"{found.path}: no training log yet (state: {described.state})")
        if not follow:
            raise SystemExit(1)
    for piece in api.logs(found, follow):
        click.echo(piece, nl=False)


@click.command()
@click.argument("run")
@runs_dir_option
@json_option("Print the cancelled run's state and what was stopped as JSON (errors too).")
def cancel(run: str, runs_dir: Path, as_json: bool) -> None:
    """Cancel a run on any backend: its training (a local process group, an HF Job, a
    Space) and the submit that follows it. The run is recorded as cancelled; `submit
    --resume RUN` can train it again. Exit code 2 when the run is not running.

    \b
    Example:
      dexter-auto cancel narrative
    """
    cancelled = api.cancel(api.find_run(run, runs_dir))
    state = cancelled.run.state()
    if as_json:
        shown = {"stopped": cancelled.stopped, **state.to_json()}
        print_json({"run": str(cancelled.run.path), **shown})
        return
    stopped = ", ".join(cancelled.stopped) or "nothing was running"
    out.print(f"cancelled run {cancelled.run.path} (stopped: {stopped})", markup=False)
    out.print(f"  reason: {state.reason}", markup=False)
