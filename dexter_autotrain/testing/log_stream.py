"""Log lines of a job or a Space, kept whole, served as the Hub's SSE log stream.

Each event goes out as `data: {"data": line, "timestamp": ...}` with the UTC time the line was
written. Every connection replays the whole history in order (the client skips, by index, the
events it has already seen), then follows new lines, and the stream ends once the log is
closed (the job or the Space run ended). A silent stream gets a `: keep-alive` comment every
`KEEP_ALIVE_S` seconds, as on the Hub.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from .hub_http import Reply, Request
from .hub_store import now_iso

KEEP_ALIVE_S = 30.0
SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}


@dataclass(frozen=True)
class LogEvent:
    line: str
    timestamp: str

    def sse(self) -> bytes:
        payload = json.dumps({"data": self.line, "timestamp": self.timestamp})
        return f"data: {payload}\n\n".encode()


class LogBook:
    """An append-only list of log events that followers can wait on."""

    def __init__(self) -> None:
        self._events: list[LogEvent] = []
        self._closed = False
        self._changed = threading.Condition()

    def append(self, line: str) -> None:
        with self._changed:
            self._events.append(LogEvent(line, now_iso()))
            self._changed.notify_all()

    def close(self) -> None:
        """No more lines: followers get what is left, then their stream ends."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed

    def lines(self) -> list[str]:
        with self._changed:
            return [event.line for event in self._events]

    def follow(self, start: int = 0, keep_alive: float = KEEP_ALIVE_S) -> Iterator[bytes]:
        """SSE bytes of every event from index `start` on, until the log is closed."""
        index = start
        while True:
            with self._changed:
                if index >= len(self._events) and not self._closed:
                    self._changed.wait(keep_alive)
                batch = self._events[index:]
                ended = self._closed and index + len(batch) >= len(self._events)
            index += len(batch)
            if batch:
                yield b"".join(event.sse() for event in batch)
            elif not ended:
                yield b": keep-alive\n\n"
            if ended:
                return

    def sse_reply(self, request: Request) -> Reply:
        """The stream for a `GET .../logs[?tail=N]` (the last N events, then what follows)."""
        try:
            tail = int(request.arg("tail") or 0)
        except ValueError:
            tail = 0
        with self._changed:
            start = max(len(self._events) - tail, 0) if tail > 0 else 0
        return Reply(200, dict(SSE_HEADERS), stream=self.follow(start))
