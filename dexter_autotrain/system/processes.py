"""Processes known by pid *and* start time, so a recycled pid is never taken for ours.

A run's state records the pid of the `submit` that works on it and the process group that
trains it, each with its start time (field 22 of /proc/<pid>/stat, clock ticks after boot).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True)
class ProcessStat:
    state: str
    pgid: int
    started: int

    @property
    def zombie(self) -> bool:
        return self.state in ("Z", "X")


def read_stat(pid: int) -> ProcessStat | None:
    """The process's state, group and start time; None when there is no such process."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except (OSError, ValueError):
        return None
    fields = text.rpartition(")")[2].split()  # the name in parentheses may hold spaces
    return ProcessStat(state=fields[0], pgid=int(fields[2]), started=int(fields[19]))


def start_time(pid: int) -> int | None:
    """When a live (not zombie) process started, or None."""
    stat = read_stat(pid)
    return None if stat is None or stat.zombie else stat.started


def is_running(pid: int | None, started: int | None) -> bool:
    """Whether `pid` is still the process that started at `started` (both must be known)."""
    return bool(pid) and started is not None and start_time(pid) == started


def group_alive(pgid: int | None, started: int | None) -> bool:
    """Whether the process group that `pgid` led since `started` has a live member.

    The leader may be gone while its children (accelerate's workers) live on; Linux never
    reuses a pid still in use as a group id, so those members are ours unless a newer
    process now holds the leader's pid.
    """
    if not pgid or started is None:
        return False
    leader = read_stat(pgid)
    if leader is not None and leader.started != started:
        return False
    if leader is not None and not leader.zombie:
        return True
    return any(
        stat is not None and stat.pgid == pgid and not stat.zombie
        for stat in map(read_stat, _pids())
    )


def _pids() -> list[int]:
    return [int(name) for name in os.listdir(PROC) if name.isdigit()]
