"""HTTP plumbing of the Hub test server: requests, replies, a method+regex router, the handler.

Nothing here knows about repos or tokens: an `App` takes a `Request` and returns a `Reply`.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from dexter_autotrain.system.loopback import host_name, is_loopback

from .hub_errors import HubError

CHUNK = 1 << 20


class BodyReader:
    """The request body, read once, by Content-Length or chunked; counts the bytes received."""

    def __init__(self, rfile: BinaryIO, length: int, chunked: bool) -> None:
        self._rfile = rfile
        self._left = length
        self._chunked = chunked
        self._done = not chunked and length == 0
        self.count = 0

    def chunks(self, size: int = CHUNK) -> Iterator[bytes]:
        source = self._chunked_pieces() if self._chunked else self._sized_pieces(size)
        for piece in source:
            self.count += len(piece)
            yield piece
        self._done = True

    def read_all(self) -> bytes:
        return b"".join(self.chunks())

    def drain(self) -> None:
        for _ in self.chunks():
            pass

    def _sized_pieces(self, size: int) -> Iterator[bytes]:
        while self._left > 0:
            piece = self._rfile.read(min(size, self._left))
            if not piece:
                raise ConnectionError("client closed the connection mid-body")
            self._left -= len(piece)
            yield piece

    def _chunked_pieces(self) -> Iterator[bytes]:
        while not self._done:
            size = int(self._rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self._rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                self._done = True
                return
            yield self._rfile.read(size)
            self._rfile.readline()


@dataclass
class Request:
    method: str
    path: str  # still percent-encoded: route groups are unquoted one by one
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    client_host: str
    body: BodyReader
    params: dict[str, str] = field(default_factory=dict)
    route: str = "unknown"
    caller: Any = None  # set by the app for authenticated routes

    @property
    def base_url(self) -> str:
        return f"http://{self.headers.get('host', 'localhost')}"

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def json(self) -> Any:
        raw = self.body.read_all()
        try:
            return json.loads(raw or b"{}")
        except ValueError as err:
            raise HubError(400, f"Invalid JSON body: {err}") from err


@dataclass(frozen=True)
class FileSlice:
    path: Path
    start: int
    length: int


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    file: FileSlice | None = None
    cut_after: int | None = None  # send this many body bytes, then drop the connection
    stream: Iterator[bytes] | None = None  # a body of unknown length (SSE): sent chunked

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
        body = json.dumps(data).encode()
        return cls(status, {"Content-Type": "application/json", **(headers or {})}, body)

    @property
    def length(self) -> int:
        return self.file.length if self.file else len(self.body)


Handler = Callable[[Request], Reply]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    name: str
    handler: Handler
    public: bool = False  # no token needed (test control, the LFS PUT capability)


def route(method: str, regex: str, name: str, handler: Handler, public: bool = False) -> Route:
    return Route(method, re.compile(regex), name, handler, public)


class Router:
    def __init__(self, routes: list[Route]) -> None:
        self.routes = list(routes)

    def add(self, routes: list[Route]) -> None:
        self.routes.extend(routes)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for candidate in self.routes:
            if candidate.method != method:
                continue
            found = candidate.pattern.fullmatch(path)
            if found:
                params = {k: unquote(v) for k, v in found.groupdict().items() if v is not None}
                return candidate, params
        return None


class App(Protocol):
    def handle(self, request: Request) -> Reply: ...


class HubHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: App) -> None:
        super().__init__(address, HubRequestHandler)
        self.app = app
        self.loopback_only = is_loopback(address[0])
        """Bound to loopback: requests must name a loopback host too, so that a web page the
        operator opens cannot reach it through a DNS name that resolves to 127.0.0.1."""


class HubRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 120  # seconds a stalled client may hold its connection
    # Headers and body go out in two writes: with Nagle on, the body waits for the client's
    # delayed ACK of the headers (~40 ms on Linux), a stall every reply, which the Hub lacks.
    disable_nagle_algorithm = True
    server: HubHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read the stats, not an access log."""

    def _serve(self) -> None:
        split = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        if self.server.loopback_only and not is_loopback(host_name(headers.get("host", ""))):
            self._refuse_host()
            return
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        body = BodyReader(self.rfile, int(headers.get("content-length") or 0), chunked)
        request = Request(
            self.command, split.path, parse_qs(split.query), headers, self.client_address[0], body
        )
        try:
            reply = self.server.app.handle(request)
            self._write(reply)
        except OSError:  # reset, broken pipe, timeout: the client is gone
            self.close_connection = True

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    def _refuse_host(self) -> None:
        body = b'{"error": "Host: this server answers only requests to a loopback host"}'
        self.send_response(421)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def _write(self, reply: Reply) -> None:
        head_only = self.command == "HEAD"
        if reply.stream is not None and not head_only:
            self._write_stream(reply, reply.stream)
            return
        if reply.cut_after is not None and (head_only or reply.length == 0):
            self._drop()  # nothing to cut: drop before the status line
            return
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(reply.length))
        self.end_headers()
        if not head_only:
            self._write_body(reply)
        if reply.cut_after is not None:
            self._drop()

    def _write_body(self, reply: Reply) -> None:
        budget = reply.length if reply.cut_after is None else min(reply.cut_after, reply.length)
        for piece in _body_pieces(reply):
            self.wfile.write(piece[:budget])
            budget -= min(len(piece), budget)
            if budget == 0:
                break
        self.wfile.flush()

    def _write_stream(self, reply: Reply, pieces: Iterator[bytes]) -> None:
        """Send each piece as one chunk as soon as it is produced (a follower reads it now).
        A reply marked to be cut sends its first piece, then drops the connection."""
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for piece in pieces:
                if piece:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.flush()
                    if reply.cut_after is not None:
                        self._drop()
                        return
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        finally:
            close = getattr(pieces, "close", None)
            if close is not None:
                close()  # a follower that went away: let the producer clean up

    def _drop(self) -> None:
        self.wfile.flush()
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)


def _body_pieces(reply: Reply) -> Iterator[bytes]:
    if reply.file is None:
        yield reply.body
        return
    with reply.file.path.open("rb") as handle:
        handle.seek(reply.file.start)
        left = reply.file.length
        while left > 0:
            piece = handle.read(min(CHUNK, left))
            if not piece:
                return
            left -= len(piece)
            yield piece
