"""Lead AutoTrain's process group and end it when `submit` dies, even by `kill -9`.

Run as a script (`python watchdog.py COMMAND...`, standard library only) in a new session:
it starts COMMAND in its own process group and watches its stdin, a pipe whose only writer
is `submit`. When that pipe closes (submit exited or was killed), it sends the whole group
SIGTERM, then SIGKILL, so `accelerate launch` and its workers go too. Otherwise it exits with
COMMAND's exit code, once whatever COMMAND left behind in the group (a worker that ignores
SIGTERM, orphaned by a crash) is ended the same way: the training is over when COMMAND is,
and a leftover would otherwise keep the run "training" until its timeout. A parent-death
signal would only reach the direct child.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time

GRACE_SECONDS = 5.0
POLL_SECONDS = 0.5


def _submit_gone() -> bool:
    """True once the pipe from submit reports end of file (or breaks)."""
    ready, _, _ = select.select([0], [], [], POLL_SECONDS)
    if not ready:
        return False
    try:
        return os.read(0, 4096) == b""
    except OSError:
        return True


def _end_group(child: subprocess.Popen) -> None:
    """SIGTERM to the group (this process survives it), then SIGKILL to everyone left."""
    os.killpg(0, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    while child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    os.killpg(0, signal.SIGKILL)


def _stragglers() -> list[int]:
    """The other live (not zombie) processes of this process group."""
    group, own = str(os.getpgid(0)), os.getpid()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == own:
            continue
        try:
            with open(f"/proc/{name}/stat") as stat:
                fields = stat.read().rpartition(")")[2].split()
        except OSError:
            continue
        if fields[2] == group and fields[0] != "Z":
            found.append(int(name))
    return found


def _end_stragglers() -> None:
    """SIGTERM, then SIGKILL after the grace period, to what COMMAND left in the group."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        deadline = time.monotonic() + GRACE_SECONDS
        for pid in _stragglers():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        while _stragglers() and time.monotonic() < deadline:
            time.sleep(0.1)


def main(command: list[str]) -> int:
    # A handler, not SIG_IGN: an ignored signal would stay ignored in the exec'd child.
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: None)
    child = subprocess.Popen(command, stdin=subprocess.DEVNULL)
    while child.poll() is None:
        if _submit_gone():
            _end_group(child)
    _end_stragglers()
    return child.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
