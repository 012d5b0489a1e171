"""`submit`, `runs`, `status`, `logs`: commands about runs."""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, get_args

import click

from dexter_autotrain.console import err, json_option, out, print_error, print_json
from dexter_autotrain.record import RunState
from dexter_autotrain.report_record import REPORT_FILE, EvaluationReport, GateRow
from dexter_autotrain.runs import STATE_FILE, Run
from dexter_autotrain.spec.model import Backend

BACKEND_OPTION = click.option(
    "--backend",
    "backend_name",
    type=click.Choice(get_args(Backend)),
    help="Train on this backend instead of the spec's compute.backend (recorded; not with "
    "--resume, which keeps it). A remote backend gets compute.hardware, or cpu-basic.",
)
RUNS_DIR_OPTION = click.option(
    "--runs-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("runs"),
    envvar="DEXTER_RUNS_DIR",
    show_default=True,
    help="Where run directories live.",
)


CARDS_DIR_OPTION = click.option(
    "--cards-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("model_cards"),
    show_default=True,
    help="Where the reviewed copy of each job's card is written (not for smoke runs).",
)


def _raise_terminated(*_: Any) -> None:
    from dexter_autotrain.errors import Terminated

    raise Terminated


@click.command()
@click.argument("spec", required=False, type=click.Path(dir_okay=False, path_type=Path))
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
@BACKEND_OPTION
@click.option(
    "--detach",
    is_flag=True,
    help="Remote backends: start the training, record it and return at once; follow it "
    "with `logs -f`, continue with `submit --resume RUN`.",
)
@RUNS_DIR_OPTION
@CARDS_DIR_OPTION
@json_option("Print the final run state as JSON (errors and failed gates too).")
def submit(
    spec: Path | None,
    smoke: bool,
    resume_run: str | None,
    backend_name: str | None,
    detach: bool,
    runs_dir: Path,
    cards_dir: Path,
    as_json: bool,
) -> None:
    """Run a job: prepare data, train with AutoTrain, evaluate, write the model card.

    Everything lands in runs/<job>/<run-id>/. Ctrl-C stops a local training cleanly and
    marks the run cancelled (SIGTERM and SIGHUP too); if submit is killed outright,
    AutoTrain's processes end with it. A remote training (hf-jobs, autotrain-spaces) goes on
    without submit: Ctrl-C on a terminal asks whether to cancel it or leave it running
    (without a terminal, it cancels), and `submit --resume RUN` re-attaches. Exit codes:
    0 done (or detached), 1 training failed (the cause is shown), 2 bad input, 3 a gate
    failed (the card is still written, for review), 130 cancelled or left running.

    \b
    Examples:
      dexter-auto submit --smoke jobs/narrative.yaml
      dexter-auto submit jobs/actors.yaml
      dexter-auto submit --smoke --backend hf-jobs --detach jobs/narrative.yaml
      dexter-auto submit --resume runs/actors/20261124-101500-ab12
    """
    from dexter_autotrain.backends.attach import FollowOptions
    from dexter_autotrain.errors import UserError
    from dexter_autotrain.progress_view import PlainReporter, RichReporter

    if (spec is None) == (resume_run is None):
        raise UserError("give a SPEC to start a run, or --resume RUN to continue one")
    reporter = RichReporter(err) if err.is_terminal else PlainReporter(err)
    follow = FollowOptions(
        detach=detach, keep_running=lambda handle: _keep_running(handle, reporter)
    )
    start = _starter(spec, smoke, resume_run, backend_name, follow, runs_dir, cards_dir)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_terminated)
    started = time.monotonic()
    run = _run_reported(start, reporter, detach, as_json)
    state = run.state()
    if as_json:
        print_json({"run": str(run.path), **state.to_json()})
        return
    _print_summary(run.path, state, time.monotonic() - started)
    print_gates(run.path)


def print_gates(run_path: Path) -> None:
    """The run's gates as a table, once it has been evaluated."""
    if (run_path / REPORT_FILE).is_file():
        out.print(gates_table(Run(run_path).evaluation().gates.rows))


def _run_reported(start: Callable[[Any], Any], reporter: Any, detach: bool, as_json: bool):
    """The run `start` takes through its stages; a cancelled, detached or gated run is
    reported and ends the process with its exit code."""
    from dexter_autotrain.errors import GatesFailed, TrainingCancelled, TrainingDetached

    try:
        return start(reporter)
    except TrainingCancelled:
        reporter.close()
        print_error("cancelled", "training stopped; the run is marked cancelled")
        raise SystemExit(130) from None
    except TrainingDetached as detached:
        reporter.close()
        _report_detached(detached, as_json)
        raise SystemExit(0 if detach else 130) from None
    except GatesFailed as failed:
        reporter.close()
        _report_failed_gates(failed, as_json)
        raise SystemExit(failed.exit_code) from None
    finally:
        reporter.close()


def _starter(
    spec: Path | None,
    smoke: bool,
    resume_run: str | None,
    backend: str | None,
    follow: Any,
    runs_dir: Path,
    cards_dir: Path,
) -> Callable[[Any], Any]:
    """What submit will do, through the Python API (`dexter_autotrain.api`), which checks
    the spec and --detach and installs the runner before any stage."""
    from dexter_autotrain import api
    from dexter_autotrain.errors import UserError
    from dexter_autotrain.runs import find_run

    options = {"detach": follow.detach, "keep_running": follow.keep_running}
    if resume_run:
        if backend is not None:
            raise UserError("--backend: only for a new run; a resumed run keeps its backend")
        found = find_run(resume_run, runs_dir)
        return lambda reporter: api.resume(found, cards_dir=cards_dir, reporter=reporter, **options)
    return lambda reporter: api.submit(
        spec, smoke=smoke, backend=backend, runs_dir=runs_dir, cards_dir=cards_dir,
        reporter=reporter, **options,
    )  # fmt: skip


def _keep_running(handle: Any, reporter: Any) -> bool:
    """Ctrl-C during a remote training: ask, on a terminal, whether to leave it running."""
    if not (sys.stdin.isatty() and err.is_terminal):
        return False
    reporter.close()  # the live progress bar would scribble over the question
    try:
        return not click.confirm(
            f"\ncancel the {handle.kind} job {handle.id}? (no: it keeps running and "
            "`dexter-auto submit --resume RUN` re-attaches)",
            default=True,
            err=True,
        )
    except click.Abort:  # a second Ctrl-C: the default, cancel
        return False


def _report_detached(detached: Any, as_json: bool) -> None:
    from rich.markup import escape

    if as_json:
        run = Run(Path(detached.run_path))
        status = run.describe().to_json()
        print_json({"run": str(run.path), **status, "message": str(detached)})
    else:
        err.print(f"[yellow]detached[/yellow]: {escape(str(detached))}", highlight=False)


def _report_failed_gates(failed, as_json: bool) -> None:
    message = f"{failed}; the card is written for review, publishing and deployment will not run"
    if as_json:
        print_json({"ok": False, "error": "gates failed", "message": message, "gates": failed.rows})
        return
    out.print(gates_table([GateRow.model_validate(row) for row in failed.rows]))
    err.print(f"[red]gates failed[/red]: {message}")


def _print_summary(path: Path, state: RunState, seconds: float) -> None:
    out.print(
        f"[green]✓[/green] run {state.run_id} of `{state.job}`: {state.state} "
        f"in {seconds:.0f} s{' (smoke)' if state.smoke else ''}"
    )
    for line in _outcome_lines(state):
        out.print(f"  {line}")
    for label, relative in (
        ("run", ""),
        ("model", state.model_dir or ""),
        ("config", "autotrain.yml"),
        ("data report", "data-report.json"),
        ("log", "logs/training.log"),
        ("evaluation", "evaluation.md"),
        ("card", "README.md"),
        ("state", STATE_FILE),
    ):
        out.print(f"  {label + ':':13} {path / relative if relative else path}")


def _outcome_lines(state: RunState) -> list[str]:
    """The run's outcome in words: training, validation metrics, test metric and gate
    verdict, where it is published and served, its MLflow run."""
    lines = []
    if training := state.training:
        lines.append(
            f"training: {training.steps} steps, {training.epoch} epochs in {training.seconds} s"
        )
        metrics = ", ".join(
            f"{k} {v:.3f}"
            for k, v in training.validation.items()
            if k in ("loss", "accuracy", "f1_macro", "f1", "precision", "recall")
        )
        lines += [f"validation: {metrics}"] if metrics else []
    if evaluation := state.evaluation:
        verdict = "passed" if evaluation.gates_passed else "FAILED"
        lift = evaluation.baseline_lift
        lift_text = "no baseline" if lift is None else f"lift over baseline {lift:+.3f}"
        lines.append(
            f"{evaluation.split}: {evaluation.primary_metric} {evaluation.value:.3f} "
            f"({lift_text}); gates {verdict}"
        )
    if published := state.published:
        lines.append(f"published: {published.url} (tag {published.tag or 'none'})")
    if deployed := state.deployed:
        lines.append(f"deployed: {deployed.name} at {deployed.url} ({deployed.status})")
    if tracking := state.tracking:
        lines.append(f"tracked: MLflow run {tracking.run_id} ({tracking.uri})")
    return lines


def gates_table(rows: list[GateRow]):
    from rich.markup import escape
    from rich.table import Table

    table = Table("gate", "value", "rule", "result", title="Gates", title_justify="left")
    for row in rows:
        value = "-" if row.value is None else f"{row.value:.3f}"
        result = "[green]pass[/green]" if row.passed else "[red]FAIL[/red]"
        result += f" ({escape(row.note)})" if row.note else ""
        table.add_row(row.name, value, f"{row.rule} {row.threshold}", result)
    if not rows:
        table.add_row("(no gates declared)", "", "", "")
    return table


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
@RUNS_DIR_OPTION
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

    Exit code 3 when a gate fails.

    \b
    Examples:
      dexter-auto evaluate narrative
      dexter-auto evaluate narrative --split validation
      dexter-auto evaluate narrative --data new-tweets.tsv --language pcm
      dexter-auto evaluate hub:dexter-ng/narrative@main --on narrative
    """
    from dexter_autotrain.errors import UserError
    from dexter_autotrain.evaluation.report import summary_line

    if split and data_path:
        raise UserError("give --split or --data, not both")
    with err.status("evaluating"):
        report = _evaluate(run, split, data_path, language, on_run, runs_dir)
    if as_json:
        print_json(report.to_json())
    else:
        out.print(summary_line(report))
        out.print(gates_table(report.gates.rows))
    if not report.gates.passed:
        raise SystemExit(3)


def _evaluate(
    run: str,
    split: str | None,
    data_path: Path | None,
    language: str | None,
    on_run: str | None,
    runs_dir: Path,
) -> EvaluationReport:
    """Evaluate the run, or the published model `run` names (`hub:...`) on `on_run`'s data."""
    from dexter_autotrain import actions
    from dexter_autotrain.errors import UserError
    from dexter_autotrain.evaluation.evaluate import evaluate_published
    from dexter_autotrain.hub.pull import HUB_PREFIX, HubModelRef
    from dexter_autotrain.runs import find_run

    if not run.startswith(HUB_PREFIX):
        if on_run is not None:
            raise UserError("--on: only with a published model (hub:ORG/NAME@REV)")
        return actions.evaluate(find_run(run, runs_dir), split, data_path, language, err.print)
    ref = HubModelRef.parse(run)
    found = find_run(on_run or ref.repo_id.split("/")[1], runs_dir)
    actions.require(found, "prepare", "pick a run with --on")
    return evaluate_published(found.path, found.spec(), ref, split, data_path, language, err.print)


@click.command()
@click.argument("run")
@RUNS_DIR_OPTION
@CARDS_DIR_OPTION
@json_option()
def card(run: str, runs_dir: Path, cards_dir: Path, as_json: bool) -> None:
    """Write an evaluated run's model card: README.md (with .eval_results/) in the run, and
    model_cards/<job>.md for review in pull requests.

    \b
    Example:
      dexter-auto card narrative
    """
    from dexter_autotrain import actions
    from dexter_autotrain.runs import find_run

    found = find_run(run, runs_dir)
    written = actions.card(found, cards_dir)
    if as_json:
        print_json({"run": str(found.path), "written": [str(path) for path in written]})
        return
    for path in written:
        out.print(f"wrote {path}")


@click.command("runs")
@click.argument("job", required=False)
@RUNS_DIR_OPTION
@json_option()
def list_runs_command(job: str | None, runs_dir: Path, as_json: bool) -> None:
    """List runs, newest first (optionally only JOB's). A run whose state.json cannot be
    read is listed as `corrupt`, with the cause.

    \b
    Example:
      dexter-auto runs narrative
    """
    from rich.markup import escape
    from rich.table import Table

    from dexter_autotrain.path_policy import printable
    from dexter_autotrain.runs import list_runs

    described = [run.describe() for run in list_runs(runs_dir, job)]
    runs = [status for status in described if status.run.path.is_dir()]  # not deleted since
    if as_json:
        print_json([{"run": str(status.run.path), **status.to_json()} for status in runs])
        return
    table = Table("run", "job", "state", "created", "note")
    for status in runs:
        record = status.record
        flags = [flag for flag in ("interrupted", "detached") if getattr(status, flag)]
        reason = (record.reason if record else status.explanation) or ""
        created = (record.created if record else None) or ""
        run = status.run
        cells = (run.run_id, run.job, status.state, created, flags[0] if flags else reason)
        table.add_row(*(escape(printable(cell)) for cell in cells))
    out.print(table if runs else f"no runs under {runs_dir}")


@click.command()
@click.argument("run")
@RUNS_DIR_OPTION
@json_option()
def status(run: str, runs_dir: Path, as_json: bool) -> None:
    """Explain a run's state: stage, outcome, reason, what to do next.

    RUN is a run directory, JOB/RUN-ID, a run id, or a job name (its latest run).

    \b
    Example:
      dexter-auto status narrative
    """
    from rich.markup import escape

    from dexter_autotrain import actions
    from dexter_autotrain.path_policy import printable
    from dexter_autotrain.runs import find_run

    found = find_run(run, runs_dir)
    status = actions.status(found)
    state = status.record
    job = _training_job(state) if state else None
    if as_json:
        shown = status.to_json() | ({"training_job": job} if job else {})
        print_json({"run": str(found.path), **shown})
        return
    out.print(f"run {escape(str(found.path))}: [bold]{escape(status.state)}[/bold]")
    out.print(f"  completed stages: {', '.join(state.completed if state else []) or 'none'}")
    if job:
        out.print(
            f"  training: {job['kind']} {escape(job['id'])}: [bold]{job['phase']}[/bold] "
            f"{escape(printable(job['message']))}".rstrip()
        )
        for name, url in job["urls"].items():
            out.print(f"    {name}: {escape(url)}")
    reason = state.reason if state else status.explanation  # corrupt: why
    explanation = status.explanation if state else None
    for key, text in (("reason", reason), ("explanation", explanation)):
        if text:
            out.print(f"  {key}: {escape(printable(text))}")
    if status.state in ("failed", "cancelled"):
        out.print(f"  next: fix the cause, then `dexter-auto submit --resume {found.path}`")
    for line in _outcome_lines(state) if state else []:
        out.print(f"  {line}")


def _training_job(state: RunState) -> dict[str, Any] | None:
    """A training run's handle and what its backend says about it now (local: whether the
    process group lives; remote: the job's stage), or None when the run is not training."""
    from dexter_autotrain.backends import Handle, get_backend
    from dexter_autotrain.errors import ToolError, UserError

    if state.training_handle is None or state.state != "training":
        return None
    handle = Handle.from_record(state.training_handle)
    try:
        poll = get_backend(handle.kind).poll(handle)
    except (ToolError, UserError) as error:
        return handle.to_dict() | {"phase": "unknown", "message": f"cannot ask: {error}"}
    return handle.to_dict() | {"phase": poll.phase, "message": poll.message}


@click.command()
@click.argument("run")
@RUNS_DIR_OPTION
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
    from dexter_autotrain import actions
    from dexter_autotrain.errors import UserError
    from dexter_autotrain.runs import find_run

    if follow and as_json:
        raise UserError("give -f or --json, not both")
    found = find_run(run, runs_dir)
    status = actions.status(found)
    if as_json:
        text = "".join(actions.logs(found))
        print_json({"run": str(found.path), "state": status.state, "log": text})
        return
    local = status.record is None or not Run.remote_training(status.record)
    if local and not found.log_file.exists():
        err.print(f"{found.path}: no training log yet (state: {status.state})")
        if not follow:
            raise SystemExit(1)
    for piece in actions.logs(found, follow):
        click.echo(piece, nl=False)


@click.command()
@click.argument("run")
@RUNS_DIR_OPTION
@json_option("Print the cancelled run's state and what was stopped as JSON (errors too).")
def cancel(run: str, runs_dir: Path, as_json: bool) -> None:
    """Cancel a run on any backend: its training (a local process group, an HF Job, a
    Space) and the submit that follows it. The run is recorded as cancelled; `submit
    --resume RUN` can train it again. Exit code 2 when the run is not running.

    \b
    Example:
      dexter-auto cancel narrative
    """
    from dexter_autotrain import actions
    from dexter_autotrain.runs import find_run

    cancelled = actions.cancel(find_run(run, runs_dir))
    state = cancelled.run.state()
    if as_json:
        shown = {"stopped": cancelled.stopped, **state.to_json()}
        print_json({"run": str(cancelled.run.path), **shown})
        return
    stopped = ", ".join(cancelled.stopped) or "nothing was running"
    out.print(f"cancelled run {cancelled.run.path} (stopped: {stopped})", markup=False)
    out.print(f"  reason: {state.reason}", markup=False)
