"""How `submit` and `sweep` follow a long run: the progress display, the question on Ctrl-C
during a remote training, SIGTERM and SIGHUP as a clean stop, and the exit code of a run
that was cancelled, detached or failed its gates."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.markup import escape

from dexter_autotrain.api import Run
from dexter_autotrain.cli.console import err, failures, out, print_error, print_json
from dexter_autotrain.cli.progress import PlainReporter, RichReporter
from dexter_autotrain.cli.views import gates_table
from dexter_autotrain.errors import (
    GatesFailed,
    Terminated,
    TrainingCancelled,
    TrainingDetached,
)
from dexter_autotrain.report_record import GateRow

Result = TypeVar("Result")


def progress_reporter() -> RichReporter | PlainReporter:
    """Live progress bars on a terminal, plain lines in a pipe or CI log."""
    return RichReporter(err) if err.is_terminal else PlainReporter(err)


def stop_cleanly_on_signals() -> None:
    """SIGTERM and SIGHUP end the run as Ctrl-C does: cancelled, its training stopped."""

    def raise_terminated(*_: Any) -> None:
        raise Terminated

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, raise_terminated)


def ask_keep_running(reporter: Any) -> Callable[[Any], bool]:
    """What Ctrl-C during a remote training does: on a terminal, ask whether to leave the
    job running; without one, cancel it."""

    def keep_running(handle: Any) -> bool:
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

    return keep_running


def run_reported(
    start: Callable[..., Result], reporter: Any, detach: bool, as_json: bool
) -> Result:
    """What `start(reporter=reporter)` returns; a cancelled, detached or gated run is
    reported and ends the process with its exit code."""
    try:
        return start(reporter=reporter)
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


def _report_detached(detached: TrainingDetached, as_json: bool) -> None:
    if as_json:
        run = Run(Path(detached.run_path))
        status = run.describe().to_json()
        print_json({"run": str(run.path), **status, "message": str(detached)})
    else:
        err.print(f"[yellow]detached[/yellow]: {escape(str(detached))}", highlight=False)


def _report_failed_gates(failed: GatesFailed, as_json: bool) -> None:
    message = f"{failed}; the card is written for review, publishing and deployment will not run"
    if as_json:
        print_json({"ok": False, "error": "gates failed", "message": message, "gates": failed.rows})
        return
    out.print(gates_table([GateRow.model_validate(row) for row in failed.rows]))
    failures.print(f"[red]gates failed[/red]: {message}")
