"""User-facing errors: each problem names where it is, what is wrong and how to fix it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a user's input, located as precisely as we can."""

    file: str
    line: int | None
    column: int | None
    field: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}" + (f":{self.column}" if self.column is not None else "")
        parts = [part for part in (where, self.field, self.message) if part]
        text = ": ".join(parts)
        return f"{text} ({self.hint})" if self.hint else text

    @classmethod
    def about(cls, field: str, message: str, hint: str = "") -> Problem:
        """A problem with no file or line to point at (e.g. a count over all the data)."""
        return cls("", None, None, field, message, hint)

    @classmethod
    def at(cls, file: str, line: int | None, message: str, hint: str = "") -> Problem:
        """A problem at a line of a data or template file (no column, no spec field)."""
        return cls(file, line, None, "", message, hint)

    def to_dict(self) -> dict:
        return asdict(self)


class DexterError(Exception):
    """The family of errors the toolkit reports itself, each with the exit code it ends in."""

    exit_code = 1


class UserError(DexterError):
    """A mistake in the user's input: reported without a traceback, exit code 2."""

    exit_code = 2

    def __init__(self, problems: list[Problem] | str):
        if isinstance(problems, str):
            problems = [Problem.about("", problems)]
        self.problems = sorted(set(problems), key=_problem_order)
        super().__init__("\n".join(str(p) for p in self.problems))


def _problem_order(problem: Problem) -> tuple:
    return (problem.file, problem.line or 0, problem.column or 0, problem.field, problem.message)


class ToolError(DexterError):
    """Something failed that is not the user's input (training crashed, a lock is held):
    reported without a traceback, exit code 1."""

    exit_code = 1


class GatesFailed(DexterError):
    """The model missed a threshold of the spec: later stages (publish, deploy) do not run.
    Exit code 3."""

    exit_code = 3

    def __init__(self, rows: list[dict]):
        super().__init__(f"{sum(not r['passed'] for r in rows)} of {len(rows)} gates failed")
        self.rows = rows


class HubAccessError(UserError):
    """No Hugging Face token, an invalid one, or one that may not write where the spec
    publishes: nothing is uploaded. Exit code 2."""


class PublishRefused(UserError):
    """A run that must not be published as it is (its gates failed and no `--force` reason
    was given). Exit code 3, like a failed gate."""

    exit_code = 3


class HubUnavailable(ToolError):
    """The Hub kept failing (429, 5xx, dropped connections) after every retry: nothing was
    half-published. Exit code 1."""


class RunnerInstallError(ToolError):
    """Installing the AutoTrain runner environment failed; the pip log says why. Exit 1."""

    def __init__(self, message: str, log: Path):
        super().__init__(f"{message}; see {log}")
        self.log = log


class TrainingCancelled(DexterError):
    """Ctrl-C, SIGTERM or `dexter-auto cancel` during a run: its training has been stopped and
    the run is recorded as cancelled. Exit code 130."""

    exit_code = 130


class TrainingDetached(DexterError):
    """Training goes on elsewhere (a remote backend) without this process following it:
    `submit --detach`, or Ctrl-C answered "leave it running". The run stays `training` with
    its handle; `submit --resume` re-attaches. The message says how to follow it."""

    exit_code = 0

    def __init__(self, message: str, run_path: str):
        super().__init__(message)
        self.run_path = run_path


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP: stop as for Ctrl-C, but never ask (nobody may be there to answer)."""
