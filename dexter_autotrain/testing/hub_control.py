"""What tests steer and read on the Hub test server: injected faults and call/byte counters.

Both are reachable from Python (`HubServer.faults`, `HubServer.stats`) and over HTTP on
loopback without a token (`/_test/faults`, `/_test/stats`).
"""

from __future__ import annotations

import ipaddress
import re
import threading
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Literal

from .hub_errors import HubError
from .hub_http import Reply, Request, Route, route

FaultKind = Literal["status", "slow", "drop"]


@dataclass
class Fault:
    """The next `times` calls whose route name fully matches `route` (a regex), and whose
    method is `method` when one is given, misbehave.

    - `status`: answer `status` (429, 500, 503, ...) without running the route; a 429 carries
      `Retry-After: retry_after`.
    - `slow`: wait `delay` seconds, then answer normally.
    - `drop`: run the route, send half of its reply body (or nothing for an empty one or a
      HEAD), then close the connection: the work is done, the reply is lost. A streamed
      reply (SSE logs) sends its first batch of events, then the connection closes.
    """

    route: str
    kind: FaultKind = "status"
    method: str | None = None
    status: int = 503
    retry_after: int | None = None
    delay: float = 0.0
    times: int = 1

    def __post_init__(self) -> None:
        if self.kind not in ("status", "slow", "drop"):
            raise ValueError(f"unknown fault kind {self.kind!r}")
        re.compile(self.route)

    def cut(self, reply: Reply) -> Reply:
        """The reply, marked to lose the second half of its body (`drop`)."""
        reply.cut_after = reply.length // 2
        return reply

    def status_reply(self) -> Reply:
        headers = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}
        return Reply.json({"error": f"injected fault {self.status}"}, self.status, headers)


class Faults:
    """Armed faults, consumed in the order they were added."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._armed.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._armed.clear()

    def take(self, route_name: str, method: str) -> Fault | None:
        with self._lock:
            for fault in self._armed:
                if fault.method in (None, method) and re.fullmatch(fault.route, route_name):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._armed.remove(fault)
                    return fault
        return None

    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._armed)


class Stats:
    """Calls per route name, request-body bytes received per route name, and the jobs and
    Space runs started per namespace."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.bytes_in: Counter[str] = Counter()
        self.jobs_started: Counter[str] = Counter()
        self.spaces_started: Counter[str] = Counter()

    def record(self, route_name: str, received: int) -> None:
        with self._lock:
            self.calls[route_name] += 1
            self.bytes_in[route_name] += received

    def started(self, counter: Counter[str], namespace: str) -> None:
        with self._lock:
            counter[namespace] += 1

    def reset(self) -> None:
        with self._lock:
            for counter in (self.calls, self.bytes_in, self.jobs_started, self.spaces_started):
                counter.clear()

    @property
    def lfs_bytes(self) -> int:
        """Bytes of LFS content PUT to the server: 0 when a publish changed nothing."""
        return self.bytes_in["lfs_upload"]

    def snapshot(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {
                "calls": dict(self.calls),
                "bytes_in": dict(self.bytes_in),
                "jobs_started": dict(self.jobs_started),
                "spaces_started": dict(self.spaces_started),
            }


def control_routes(faults: Faults, stats: Stats) -> list[Route]:
    def add_fault(request: Request) -> Reply:
        _loopback_only(request)
        try:
            fault = Fault(**request.json())
        except (TypeError, ValueError, re.error) as err:
            raise HubError(400, f"bad fault: {err}") from err
        faults.add(fault)
        return Reply.json({"armed": [asdict(f) for f in faults.pending()]})

    def clear_faults(request: Request) -> Reply:
        _loopback_only(request)
        faults.clear()
        return Reply.json({"armed": []})

    def read_stats(request: Request) -> Reply:
        _loopback_only(request)
        return Reply.json(stats.snapshot())

    def reset_stats(request: Request) -> Reply:
        _loopback_only(request)
        stats.reset()
        return Reply.json(stats.snapshot())

    return [
        route("POST", "/_test/faults", "test_faults", add_fault, public=True),
        route("DELETE", "/_test/faults", "test_faults", clear_faults, public=True),
        route("GET", "/_test/stats", "test_stats", read_stats, public=True),
        route("DELETE", "/_test/stats", "test_stats", reset_stats, public=True),
    ]


def _loopback_only(request: Request) -> None:
    if not ipaddress.ip_address(request.client_host).is_loopback:
        raise HubError(403, "test control routes answer on loopback only")
