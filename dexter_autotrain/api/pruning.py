"""`runs prune`: delete old runs by a keep policy, showing first what would go."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

from dexter_autotrain.runs import BUSY_STATES, RUNS_ROOT, RunStatus, list_runs


@dataclass(frozen=True)
class PrunedRun:
    """One run and the policy's verdict on it.

    Attributes:
        path: the run directory.
        state: its state (`corrupt` when unreadable).
        bytes: what it holds on disk.
        kept: why it is kept (`published`, `deployed`, `running`, `one of the last 5`,
            `newer than 7 days`), or None: it goes.
    """

    path: Path
    state: str
    bytes: int
    kept: str | None

    def to_json(self) -> dict[str, object]:
        return {"run": str(self.path), "state": self.state, "bytes": self.bytes, "kept": self.kept}


@dataclass(frozen=True)
class Pruning:
    """What `prune_runs` decided, and whether it deleted (False: a dry run)."""

    runs: list[PrunedRun]
    deleted: bool

    @property
    def freed(self) -> int:
        """The bytes the runs that go hold."""
        return sum(run.bytes for run in self.runs if run.kept is None)


def prune_runs(
    runs_dir: str | Path = RUNS_ROOT,
    job: str | None = None,
    *,
    keep_last: int = 5,
    newer_than_days: float | None = None,
    delete: bool = False,
) -> Pruning:
    """Decide which runs to delete, and delete them when `delete` is True (a dry run by
    default). Always kept: published or deployed runs, and runs a live process works on;
    then the last `keep_last` of each job and those newer than `newer_than_days`.

    Args:
        runs_dir: where runs live.
        job: only this job's runs.
        keep_last: how many of each job's newest runs to keep.
        newer_than_days: keep runs created within this many days (None: no such rule).
        delete: delete the runs that go; False only reports them.

    Returns:
        `Pruning`: every run with its verdict and size, and what was freed.

    Example:
        ```python
        >>> prune_runs(keep_last=2).freed
        734003200
        ```
    """
    cutoff = None
    if newer_than_days is not None:
        cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=newer_than_days)
    seen: dict[str, int] = {}
    verdicts = []
    for run in list_runs(Path(runs_dir), job):  # newest first
        status = run.describe()
        seen[run.job] = seen.get(run.job, 0) + 1
        kept = _kept(status, seen[run.job] <= keep_last, keep_last, cutoff, newer_than_days)
        verdicts.append(PrunedRun(run.path, status.state, _size(run.path), kept))
    if delete:
        for verdict in verdicts:
            if verdict.kept is None:
                shutil.rmtree(verdict.path, ignore_errors=True)
    return Pruning(verdicts, delete)


def _kept(
    status: RunStatus,
    recent: bool,
    keep_last: int,
    cutoff: dt.datetime | None,
    days: float | None,
) -> str | None:
    record = status.record
    if record is not None and record.deployed and record.deployed.status != "deleted":
        return "deployed"
    if record is not None and record.published is not None and not record.published.awaiting_merge:
        return "published"
    if record is not None and record.published is not None:
        return "in review"
    if status.state in BUSY_STATES and not status.interrupted:
        return "running"
    if recent:
        return f"one of the last {keep_last}"
    created = record.created if record else None
    if cutoff is not None and created and _parsed(created) >= cutoff:
        return f"newer than {days:g} days"
    return None


def _parsed(created: str) -> dt.datetime:
    return dt.datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)


def _size(folder: Path) -> int:
    return sum(
        path.stat().st_size
        for path in folder.rglob("*")
        if path.is_file() and not path.is_symlink()
    )
