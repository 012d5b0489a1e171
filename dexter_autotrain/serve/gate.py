"""What every request passes before it reaches a route: where it comes from, the bearer
token, its body (size and time to arrive) and the bounded queue.

A plain ASGI middleware. The queue bound counts prediction requests in flight across all API
server processes (a counter in shared memory, inherited when LitServe forks them); past it
the server answers 503 with `Retry-After` at once, instead of letting requests wait until
they time out. A prediction's body is read here, within `max_body` bytes and `body_timeout`
seconds, before it takes a place in the queue: a client that sends slowly holds no slot.

Requests from a web page are refused: a server on loopback answers only a loopback `Host`
(DNS rebinding), and a request carrying a cross-site `Origin` is a 403 (the server offers
no CORS, so no page of another site has business calling it).
"""

from __future__ import annotations

import asyncio
import hmac
import json
from dataclasses import dataclass
from typing import Any

from dexter_autotrain.system.loopback import host_name, is_loopback

PREDICT_PATHS = ("/", "/predict")
OPEN_PATHS = ("/health",)
"""Answered without the token: load balancers and `InferenceEndpoint.wait()` probe it."""
RETRY_AFTER_SECONDS = 1


@dataclass(frozen=True)
class GateRules:
    """What the gate checks (from `ServeOptions`).

    Attributes:
        token: the bearer token clients must send, or None.
        limit: predictions in flight before 503.
        max_body: the largest body in bytes (413 past it).
        body_timeout: seconds a body may take to arrive (408 past it).
        loopback: the server is bound to loopback (requests must name a loopback host).
    """

    token: str | None
    limit: int
    max_body: int
    body_timeout: float
    loopback: bool


class Refusal(Exception):
    """A request the gate answers itself."""

    def __init__(self, status: int, message: str, headers: tuple[tuple[bytes, bytes], ...] = ()):
        super().__init__(message)
        self.status, self.headers = status, headers


class Gate:
    """Refuses what `GateRules` rule out, each with its status and a message that says why."""

    def __init__(self, app: Any, rules: GateRules, in_flight: Any):
        self.app, self.rules, self.in_flight = app, rules, in_flight

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        try:
            self._check_origin(scope)
            if scope["method"] != "POST" or scope["path"] not in PREDICT_PATHS:
                return await self.app(scope, receive, send)
            body = await self._body(scope, receive)
            if not self._enter():
                raise Refusal(
                    503,
                    f"server busy: {self.rules.limit} requests in flight; retry later",
                    ((b"retry-after", str(RETRY_AFTER_SECONDS).encode()),),
                )
        except Refusal as refusal:
            return await _refuse(send, refusal)
        try:
            await self.app(scope, _replay(body, receive), send)
        finally:
            with self.in_flight.get_lock():
                self.in_flight.value -= 1

    def _check_origin(self, scope: dict) -> None:
        host = _header(scope, b"host")
        if self.rules.loopback and not is_loopback(host_name(host)):
            raise Refusal(421, f"host {host[:100]!r}: this server answers on loopback only")
        origin = _header(scope, b"origin")
        if origin and origin.partition("://")[2] != host:
            raise Refusal(403, "cross-site requests are refused (no CORS)")
        if self.rules.token and scope["path"] not in OPEN_PATHS and not self._authorized(scope):
            raise Refusal(
                401,
                "a bearer token is required (Authorization: Bearer <token>)",
                ((b"www-authenticate", b"Bearer"),),
            )

    async def _body(self, scope: dict, receive: Any) -> bytes:
        declared = _header(scope, b"content-length")
        if declared.isdigit() and int(declared) > self.rules.max_body:
            raise Refusal(413, f"body: over {self.rules.max_body} bytes")
        try:
            return await asyncio.wait_for(self._read(receive), self.rules.body_timeout)
        except TimeoutError:
            raise Refusal(408, f"body: not sent within {self.rules.body_timeout:g} s") from None

    async def _read(self, receive: Any) -> bytes:
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise Refusal(400, "body: the client went away")
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.rules.max_body:
                raise Refusal(413, f"body: over {self.rules.max_body} bytes")
            if not message.get("more_body"):
                return b"".join(chunks)

    def _authorized(self, scope: dict) -> bool:
        sent = _header(scope, b"authorization").encode("latin-1")
        return hmac.compare_digest(sent, f"Bearer {self.rules.token}".encode())

    def _enter(self) -> bool:
        with self.in_flight.get_lock():
            if self.in_flight.value >= self.rules.limit:
                return False
            self.in_flight.value += 1
            return True


def _replay(body: bytes, receive: Any) -> Any:
    """A `receive` that gives the body already read, then waits on the client as before."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> dict:
        return pending.pop() if pending else await receive()

    return replayed


def _header(scope: dict, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


async def _refuse(send: Any, refusal: Refusal) -> None:
    body = json.dumps({"error": str(refusal)}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": refusal.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *refusal.headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
