"""Discussion routes of the Hub test server: open one, list them (paged by `p`), read one.

Enough for what AutoTrain's Space opens when training ends ("Your training has finished
successfully ✅" / "Your training has failed ❌") and for a client that looks for it. Pull
requests are not served. Discussions live in memory, by repo.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from typing import Any

from .hub_context import API_REPO, HubContext
from .hub_errors import HubError
from .hub_http import Reply, Request, Route, route
from .hub_store import Repo, now_iso

PAGE = 50  # discussions per page, as on the Hub


@dataclass(frozen=True)
class Discussion:
    num: int
    title: str
    description: str
    author: str
    created_at: str
    event_id: str

    def summary(self, repo: Repo) -> dict[str, Any]:
        return {
            "num": self.num,
            "title": self.title,
            "status": "open",
            "createdAt": self.created_at,
            "author": {"name": self.author, "type": "user"},
            "repo": {"name": repo.id, "type": repo.type},
            "isPullRequest": False,
            "numComments": 1,
            "pinned": False,
        }

    def details(self, repo: Repo) -> dict[str, Any]:
        comment = {
            "id": self.event_id,
            "type": "comment",
            "createdAt": self.created_at,
            "author": {"name": self.author, "type": "user"},
            "data": {
                "edited": False,
                "hidden": False,
                "latest": {
                    "raw": self.description,
                    "html": self.description,
                    "updatedAt": self.created_at,
                    "author": {"name": self.author},
                },
                "numEdits": 0,
                "history": [],
            },
        }
        return {**self.summary(repo), "events": [comment]}


class DiscussionBoard:
    """The discussions of every repo, in memory; gone with the repo."""

    def __init__(self, hub: HubContext) -> None:
        self.hub = hub
        self.lock = threading.Lock()
        self.board: dict[tuple[str, str], list[Discussion]] = {}
        hub.hooks.deleted.append(self.forget)

    def forget(self, repo: Repo) -> None:
        with self.lock:
            self.board.pop((repo.type, repo.id), None)

    def listed(self, request: Request) -> tuple[Repo, list[Discussion]]:
        repo = self.hub.readable_repo(request)
        with self.lock:
            return repo, self.board.setdefault((repo.type, repo.id), [])

    def create(self, request: Request) -> Reply:
        repo, items = self.listed(request)
        body = request.json()
        title = str(body.get("title") or "").strip()
        if len(title) < 3 or body.get("pullRequest"):
            raise HubError(400, "A discussion needs a title (pull requests are not served)")
        with self.lock:
            found = Discussion(
                len(items) + 1,
                title,
                str(body.get("description") or ""),
                request.caller.user,
                now_iso(),
                secrets.token_hex(12),
            )
            items.append(found)
        url = f"{repo.url(request.base_url)}/discussions/{found.num}"
        return Reply.json({"num": found.num, "url": url, **found.summary(repo)})

    def page(self, request: Request) -> Reply:
        repo, items = self.listed(request)
        try:
            start = int(request.arg("p") or 0) * PAGE
        except ValueError as err:
            raise HubError(400, "bad page") from err
        return Reply.json(
            {
                "discussions": [d.summary(repo) for d in items[::-1][start : start + PAGE]],
                "count": len(items),
                "start": start,
                "numClosedDiscussions": 0,
            }
        )

    def one(self, request: Request) -> Reply:
        repo, items = self.listed(request)
        num = int(request.params["num"])
        if not 0 < num <= len(items):
            raise HubError(404, f"Discussion {num} not found")
        return Reply.json(items[num - 1].details(repo))


def discussion_routes(hub: HubContext) -> list[Route]:
    board = DiscussionBoard(hub)
    return [
        route("POST", API_REPO + "/discussions", "discussion_create", board.create),
        route("GET", API_REPO + "/discussions", "discussion_list", board.page),
        route("GET", API_REPO + r"/discussions/(?P<num>\d+)", "discussion_info", board.one),
    ]
