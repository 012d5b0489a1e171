"""A local stand-in for the part of GitHub's REST API that `plan --comment` uses: listing,
creating and editing issue comments, with bearer-token auth and page-based pagination.

    with GitHubStandIn(token) as github:
        env = {"GITHUB_API_URL": github.url, "GITHUB_TOKEN": token, ...}
        ...
        github.comments("dexter-ng/models", 7)     # the comments, oldest first
        github.requests                              # [(method, path), ...]
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

_LIST_OR_CREATE = re.compile(r"^/repos/([^/]+/[^/]+)/issues/(\d+)/comments$")
_EDIT = re.compile(r"^/repos/([^/]+/[^/]+)/issues/comments/(\d+)$")
MAX_PAGE = 100


@dataclass
class Comment:
    id: int
    repository: str
    number: int
    body: str
    user: str = "github-actions[bot]"

    def as_json(self, base: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "body": self.body,
            "user": {"login": self.user, "type": "Bot"},
            "html_url": f"{base}/{self.repository}/pull/{self.number}#issuecomment-{self.id}",
        }


@dataclass
class Store:
    """The comments, and every request seen (method and path, never headers)."""

    token: str
    redirect_to: str | None = None  # set: every request is answered 307 to this base URL
    comments: list[Comment] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, repository: str, number: int, body: str, user: str) -> Comment:
        comment = Comment(len(self.comments) + 1, repository, number, body, user)
        self.comments.append(comment)
        return comment


class GitHubStandIn:
    """The server, on a free local port, for the duration of a `with` block."""

    def __init__(self, token: str):
        self.store = Store(token)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.store))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def requests(self) -> list[tuple[str, str]]:
        return list(self.store.requests)

    def comments(self, repository: str, number: int) -> list[Comment]:
        return [c for c in self.store.comments if (c.repository, c.number) == (repository, number)]

    def add_comment(self, repository: str, number: int, body: str, user: str = "reviewer") -> None:
        """A comment someone else wrote (to check that only ours is edited)."""
        with self.store.lock:
            self.store.add(repository, number, body, user)

    def __enter__(self) -> GitHubStandIn:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(store: Store) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_PATCH(self) -> None:
            self._serve("PATCH")

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests read `requests` instead."""

        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            with store.lock:
                store.requests.append((method, parts.path))
                if store.redirect_to:
                    return self._redirect(store.redirect_to + self.path)
                if self.headers.get("Authorization") != f"Bearer {store.token}":
                    return self._reply(401, {"message": "Bad credentials"})
                status, payload = _route(store, method, parts.path, parse_qs(parts.query), self)
            self._reply(status, payload)

        def _redirect(self, location: str) -> None:
            self.send_response(307)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _reply(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def _route(
    store: Store, method: str, path: str, query: dict[str, list[str]], handler: Any
) -> tuple[int, Any]:
    base = "https://github.com"
    if match := _LIST_OR_CREATE.match(path):
        repository, number = match.group(1), int(match.group(2))
        if method == "GET":
            size = min(int(query.get("per_page", ["30"])[0]), MAX_PAGE)
            page = int(query.get("page", ["1"])[0])
            mine = [c for c in store.comments if (c.repository, c.number) == (repository, number)]
            shown = mine[(page - 1) * size : page * size]
            return 200, [comment.as_json(base) for comment in shown]
        if method == "POST":
            body = _body(handler)
            return 201, store.add(repository, number, body, "github-actions[bot]").as_json(base)
    if (match := _EDIT.match(path)) and method == "PATCH":
        found = next((c for c in store.comments if c.id == int(match.group(2))), None)
        if found is None:
            return 404, {"message": "Not Found"}
        found.body = _body(handler)
        return 200, found.as_json(base)
    return 404, {"message": "Not Found"}


def _body(handler: Any) -> str:
    length = int(handler.headers.get("Content-Length", "0"))
    return str(json.loads(handler.rfile.read(length))["body"])
