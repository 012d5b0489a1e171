"""A sweep's folder, `runs/<job>/sweeps/<sweep-id>/`: its record (`sweep.json`, rewritten
atomically), its Optuna study (`study.db`) and the data prepared once for every trial
(`prepared/`). The trials themselves are runs of the job, `runs/<job>/<run-id>/`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dexter_autotrain.errors import ToolError, UserError
from dexter_autotrain.record import SweepState, validated
from dexter_autotrain.runs import Run, new_run_id, now, owner, start_record
from dexter_autotrain.system.files import write_atomically

SWEEPS_FOLDER = "sweeps"
RECORD_FILE = "sweep.json"
STUDY_FILE = "study.db"


@dataclass(frozen=True)
class SweepDir:
    """One sweep's folder and its record."""

    path: Path

    @property
    def sweep_id(self) -> str:
        return self.path.name

    @property
    def runs_root(self) -> Path:
        """The runs folder the sweep's trials are runs of."""
        return self.path.parent.parent.parent

    @property
    def prepared(self) -> Run:
        """The data, tiny model and length choice every trial shares: a run that stops after
        its `prepare` stage."""
        return Run(self.path / "prepared")

    def storage_url(self, storage: str | None) -> str:
        """The spec's `sweep.storage`, or SQLite in this folder."""
        return storage or f"sqlite:///{self.path / STUDY_FILE}"

    def record(self) -> SweepState:
        """The sweep's record, typed.

        Raises:
            ToolError: it is missing, unreadable or not a sweep record.
        """
        return validated(SweepState, self._read(), str(self.path / RECORD_FILE), "a sweep record")

    def _read(self) -> dict[str, Any]:
        try:
            return json.loads((self.path / RECORD_FILE).read_text())
        except (OSError, ValueError) as error:
            raise ToolError(f"{self.path / RECORD_FILE}: unreadable: {error}") from None

    def update(self, **changes: Any) -> SweepState:
        """Merge `changes` into the record, check it is a sweep record and write it
        atomically.

        Raises:
            ToolError: the change would not be a sweep record (a bug, named here).
        """
        file = self.path / RECORD_FILE
        merged = (self._read() if file.exists() else {}) | changes | {"updated": now()}
        record = validated(
            SweepState, merged, f"{file} (changing {', '.join(changes)})", "a sweep record"
        )
        write_atomically(file, json.dumps(merged, indent=2) + "\n")
        return record


def create_sweep_dir(job: str, runs_root: Path) -> SweepDir:
    """A new, empty sweep folder for `job` (absolute: its trials train from their runs)."""
    sweep_id = new_run_id()
    sweep = SweepDir(runs_root.resolve() / job / SWEEPS_FOLDER / sweep_id)
    sweep.prepared.path.mkdir(parents=True)
    sweep.update(job=job, sweep_id=sweep_id, state="preparing", created=now(), **owner())
    start_record(sweep.prepared, job, "prepared")
    return sweep


def find_sweep(reference: str, runs_root: Path) -> SweepDir:
    """A sweep by its folder, `job/sweep-id` or sweep id.

    Raises:
        UserError: no such sweep.

    Example:
        >>> find_sweep("20261126-061500-ab12", Path("runs")).sweep_id  # doctest: +SKIP
        '20261126-061500-ab12'
    """
    candidates = [Path(reference)]
    if "/" in reference:
        job, _, sweep_id = reference.partition("/")
        candidates.append(runs_root / job / SWEEPS_FOLDER / sweep_id)
    candidates += list(runs_root.glob(f"*/{SWEEPS_FOLDER}/{reference}")) if reference else []
    for candidate in candidates:
        if (candidate / RECORD_FILE).is_file():
            return SweepDir(candidate.resolve())
    raise UserError(f"{reference}: no such sweep (sweeps live in runs/<job>/{SWEEPS_FOLDER}/)")
