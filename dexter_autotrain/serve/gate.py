"""What every request passes before it reaches a route: the bearer token, the body's declared
size and the bounded queue.

A plain ASGI middleware (no body buffering). The queue bound counts prediction requests in
flight across all API server processes (a counter in shared memory, inherited when LitServe
forks them); past it the server answers 503 with `Retry-After` at once, instead of letting
requests wait until they time out.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

PREDICT_PATHS = ("/", "/predict")
OPEN_PATHS = ("/health",)
"""Answered without the token: load balancers and `InferenceEndpoint.wait()` probe it."""
RETRY_AFTER_SECONDS = 1


class Gate:
    """Refuses a request without the token (401), with a declared body over `max_body`
    bytes (413), or past `limit` predictions in flight (503)."""

    def __init__(self, app: Any, token: str | None, in_flight: Any, limit: int, max_body: int):
        self.app, self.token, self.in_flight = app, token, in_flight
        self.limit, self.max_body = limit, max_body

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if self.token and scope["path"] not in OPEN_PATHS and not self._authorized(scope):
            return await _refuse(send, 401, "a bearer token is required (Authorization: Bearer "
                                 "<token>)", [(b"www-authenticate", b"Bearer")])  # fmt: skip
        if scope["method"] != "POST" or scope["path"] not in PREDICT_PATHS:
            return await self.app(scope, receive, send)
        declared = _header(scope, b"content-length")
        if declared.isdigit() and int(declared) > self.max_body:
            return await _refuse(send, 413, f"body: over {self.max_body} bytes")
        if not self._enter():
            return await _refuse(
                send,
                503,
                f"server busy: {self.limit} requests in flight; retry later",
                [(b"retry-after", str(RETRY_AFTER_SECONDS).encode())],
            )
        try:
            await self.app(scope, receive, send)
        finally:
            with self.in_flight.get_lock():
                self.in_flight.value -= 1

    def _authorized(self, scope: dict) -> bool:
        sent = _header(scope, b"authorization").encode()
        return hmac.compare_digest(sent, f"Bearer {self.token}".encode())

    def _enter(self) -> bool:
        with self.in_flight.get_lock():
            if self.in_flight.value >= self.limit:
                return False
            self.in_flight.value += 1
            return True


def _header(scope: dict, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


async def _refuse(
    send: Any, status: int, message: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = json.dumps({"error": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
