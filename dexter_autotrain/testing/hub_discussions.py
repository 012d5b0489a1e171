"""Discussion and pull request routes of the Hub test server: open one, list them (paged by
`p`), read one (with its events), comment, close or reopen, and merge a pull request.

Discussions are what AutoTrain's Space opens when training ends ("Your training has finished
successfully ✅"); pull requests are what `create_commit(..., create_pr=True)` opens: a commit
on top of the target branch kept as `refs/pr/<num>`, merged by `merge_pull_request` into the
branch as it is then. They live in memory, by repo (the PR refs and commits in the store).
Shapes follow huggingface_hub 2.4's `community.py` and `HfApi.get_discussion_details`.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from .hub_context import API_REPO, HubContext
from .hub_errors import HubError
from .hub_http import Reply, Request, Route, route
from .hub_store import Change, Commit, Repo, now_iso

PAGE = 50  # discussions per page, as on the Hub


def _event(kind: str, author: str, data: dict[str, Any]) -> dict[str, Any]:
    """One event of a discussion, as `community.deserialize_event` reads it."""
    return {
        "id": secrets.token_hex(12),
        "type": kind,
        "createdAt": now_iso(),
        "author": {"name": author, "type": "user"},
        "data": data,
    }


def _comment(author: str, text: str) -> dict[str, Any]:
    latest = {"raw": text, "html": text, "updatedAt": now_iso(), "author": {"name": author}}
    return _event(
        "comment",
        author,
        {"edited": False, "hidden": False, "latest": latest, "numEdits": 0, "history": []},
    )


@dataclass
class Discussion:
    num: int
    title: str
    author: str
    created_at: str
    events: list[dict[str, Any]]
    status: str = "open"  # open, closed, merged (pull requests), draft
    target: str | None = None  # a pull request's branch
    merge_commit: str | None = None

    @property
    def is_pull_request(self) -> bool:
        return self.target is not None

    def summary(self, repo: Repo) -> dict[str, Any]:
        return {
            "num": self.num,
            "title": self.title,
            "status": self.status,
            "createdAt": self.created_at,
            "author": {"name": self.author, "type": "user"},
            "repo": {"name": repo.id, "type": repo.type},
            "isPullRequest": self.is_pull_request,
            "numComments": sum(event["type"] == "comment" for event in self.events),
            "pinned": False,
        }

    def details(self, repo: Repo) -> dict[str, Any]:
        shown = {**self.summary(repo), "events": self.events}
        if self.is_pull_request:
            changes = {"base": f"refs/heads/{self.target}"}
            if self.merge_commit:
                changes["mergeCommitId"] = self.merge_commit
            shown |= {"changes": changes, "filesWithConflicts": [], "diff": ""}
        return shown


@dataclass
class DiscussionBoard:
    """The discussions of every repo, in memory; gone with the repo."""

    hub: HubContext
    lock: threading.Lock = field(default_factory=threading.Lock)
    board: dict[tuple[str, str], list[Discussion]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.hub.hooks.deleted.append(self.forget)

    def forget(self, repo: Repo) -> None:
        with self.lock:
            self.board.pop((repo.type, repo.id), None)

    def listed(self, request: Request) -> tuple[Repo, list[Discussion]]:
        repo = self.hub.readable_repo(request)
        with self.lock:
            return repo, self.board.setdefault((repo.type, repo.id), [])

    def _add(self, items: list[Discussion], title: str, author: str, **extra: Any) -> Discussion:
        """A new discussion numbered after every other of the repo (under the lock)."""
        found = Discussion(len(items) + 1, title, author, now_iso(), [], **extra)
        items.append(found)
        return found

    def create(self, request: Request) -> Reply:
        repo, items = self.listed(request)
        body = request.json()
        title = str(body.get("title") or "").strip()
        if len(title) < 3:
            raise HubError(400, "A discussion needs a title of at least 3 characters")
        target = "main" if body.get("pullRequest") else None
        head = repo.branches.get("main") if target else None
        with self.lock:
            found = self._add(items, title, request.caller.user, target=target)
            found.events.append(_comment(request.caller.user, str(body.get("description") or "")))
        if head is not None:
            self.hub.store.set_ref(repo, repo.pulls, f"refs/pr/{found.num}", head)
        url = f"{repo.url(request.base_url)}/discussions/{found.num}"
        return Reply.json({"num": found.num, "url": url, **found.summary(repo)})

    def open_pull(
        self, request: Request, repo: Repo, changes: list[Change], about: tuple[str, str]
    ) -> tuple[int, Commit]:
        """A pull request holding one commit of `changes` on top of the branch the commit
        route names (`create_pr=1`); its description is the commit's."""
        base = request.params["rev"]
        author = request.caller.user
        with self.lock:
            items = self.board.setdefault((repo.type, repo.id), [])
            found = self._add(items, about[0], author, target=base)
            found.events.append(_comment(author, about[1]))
        commit = self.hub.store.open_pull(repo, base, found.num, changes, (*about, author))
        found.events.append(_event("commit", author, {"subject": commit.title, "oid": commit.oid}))
        return found.num, commit

    def page(self, request: Request) -> Reply:
        repo, items = self.listed(request)
        try:
            start = int(request.arg("p") or 0) * PAGE
        except ValueError as err:
            raise HubError(400, "bad page") from err
        closed = sum(item.status != "open" for item in items)
        return Reply.json(
            {
                "discussions": [d.summary(repo) for d in items[::-1][start : start + PAGE]],
                "count": len(items),
                "start": start,
                "numClosedDiscussions": closed,
            }
        )

    def _one(self, request: Request) -> tuple[Repo, Discussion]:
        repo, items = self.listed(request)
        num = int(request.params["num"])
        if not 0 < num <= len(items):
            raise HubError(404, f"Discussion {num} not found")
        return repo, items[num - 1]

    def one(self, request: Request) -> Reply:
        repo, found = self._one(request)
        return Reply.json(found.details(repo))

    def comment(self, request: Request) -> Reply:
        _, found = self._one(request)
        text = str(request.json().get("comment") or "").strip()
        if not text:
            raise HubError(400, "A comment needs some text")
        event = _comment(request.caller.user, text)
        with self.lock:
            found.events.append(event)
        return Reply.json({"newMessage": event})

    def status(self, request: Request) -> Reply:
        """Close or reopen: the repo's writers, or the discussion's author."""
        repo, found = self._one(request)
        if request.caller.user != found.author:
            request.caller.require_write(repo.namespace)
        body = request.json()
        new = body.get("status")
        if new not in ("open", "closed") or found.status == "merged":
            raise HubError(400, f"Cannot change the status of a {found.status} discussion to {new}")
        event = _event("status-change", request.caller.user, {"status": new})
        with self.lock:
            if body.get("comment"):
                found.events.append(_comment(request.caller.user, str(body["comment"])))
            found.events.append(event)
            found.status = new
        return Reply.json({"newStatus": event})

    def merge(self, request: Request) -> Reply:
        """Merge an open pull request into its branch: the repo's writers only."""
        repo, found = self._one(request)
        request.caller.require_write(repo.namespace)
        if not found.is_pull_request or found.status != "open":
            kind = "pull request" if found.is_pull_request else "discussion"
            raise HubError(400, f"Cannot merge a {found.status} {kind}")
        merged = self.hub.store.merge_pull(repo, str(found.target), found.num, request.caller.user)
        with self.lock:
            comment = request.json().get("comment")
            if comment:
                found.events.append(_comment(request.caller.user, str(comment)))
            found.events.append(_event("status-change", request.caller.user, {"status": "merged"}))
            found.status, found.merge_commit = "merged", merged.oid
        for committed in self.hub.hooks.committed:
            committed(repo, str(found.target))
        return Reply.json({})


def discussion_routes(hub: HubContext) -> list[Route]:
    board = DiscussionBoard(hub)
    hub.discussions = board
    one = API_REPO + r"/discussions/(?P<num>\d+)"
    return [
        route("POST", API_REPO + "/discussions", "discussion_create", board.create),
        route("GET", API_REPO + "/discussions", "discussion_list", board.page),
        route("GET", one, "discussion_info", board.one),
        route("POST", one + "/comment", "discussion_comment", board.comment),
        route("POST", one + "/status", "discussion_status", board.status),
        route("POST", one + "/merge", "pull_request_merge", board.merge),
    ]
