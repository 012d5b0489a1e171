"""Repo settings and listing routes of the Hub test server: visibility and gating
(`update_repo_settings`), renaming or transferring (`move_repo`), squashing a branch's history
(`super_squash_history`), `auth_check`, and `list_models` / `list_datasets` by author.

Shapes and statuses follow huggingface_hub 2.4's `hf_api.py` (the client reads only the
status of the writes; `list_models` parses `ModelInfo` from each entry).
"""

from __future__ import annotations

from typing import Any

from .hub_auth import object_id
from .hub_context import API_REPO, HubContext, page_reply
from .hub_errors import HubError
from .hub_http import Reply, Request, Route, route
from .hub_store import REPO_TYPES, Repo


def settings_routes(hub: HubContext) -> list[Route]:
    return [
        route("PUT", API_REPO + "/settings", "repo_settings", lambda r: settings(hub, r)),
        route("POST", "/api/repos/move", "repo_move", lambda r: move(hub, r)),
        route(
            "POST",
            API_REPO + r"/super-squash/(?P<rev>[^/]+)",
            "super_squash",
            lambda r: squash(hub, r),
        ),
        route(
            "GET",
            API_REPO + r"/auth-check(?P<write>/write)?",
            "auth_check",
            lambda r: auth_check(hub, r),
        ),
        route(
            "GET",
            r"/api/(?P<kind>models|datasets|spaces)",
            "models_list",
            lambda r: listing(hub, r),
        ),
    ]


def settings(hub: HubContext, request: Request) -> Reply:
    repo = hub.writable_repo(request)
    body = request.json()
    visibility = body.get("visibility")
    gated = body.get("gated", repo.gated)
    if visibility not in (None, "public", "private") or gated not in (False, "auto", "manual"):
        raise HubError(400, f"Invalid settings: {body}")
    with hub.store.lock:
        repo.private = repo.private if visibility is None else visibility == "private"
        repo.gated = gated
        hub.store.save(repo)
    return Reply.json({})


def move(hub: HubContext, request: Request) -> Reply:
    body = request.json()
    source, target = str(body.get("fromRepo", "")), str(body.get("toRepo", ""))
    kind = str(body.get("type") or "model")
    if target.count("/") != 1 or not all(target.split("/")):
        raise HubError(400, f"Invalid repo name: {target}")
    repo = hub.visible(hub.store.get(kind, source), request.caller)
    request.caller.require_write(repo.namespace)
    request.caller.require_write(target.split("/")[0])
    hub.store.move(repo, target)
    return Reply.json({})


def squash(hub: HubContext, request: Request) -> Reply:
    repo = hub.writable_repo(request)
    branch = request.params["rev"]
    if branch not in repo.branches:
        raise HubError(404, f"Invalid rev id: {branch}", "RevisionNotFound")
    message = str(request.json().get("message") or "Super-squash")
    commit = hub.store.squash(repo, branch, message, request.caller.user)
    return Reply.json({"commitId": commit.oid})


def auth_check(hub: HubContext, request: Request) -> Reply:
    """200 when the caller may read (or, with `/write`, write) the repo; else the Hub's
    RepoNotFound (401 anonymous, 404 with a token) or 403."""
    repo = hub.readable_repo(request)
    if request.params.get("write"):
        request.caller.require_write(repo.namespace)
    return Reply.json({})


def listing(hub: HubContext, request: Request) -> Reply:
    """The repos of a kind the caller may see, `author` and `search` filtering them."""
    kind = REPO_TYPES[request.params["kind"]]
    author, search = request.arg("author"), request.arg("search")
    shown = [
        _entry(repo)
        for repo in hub.store.listed(kind)
        if not (repo.private and repo.namespace not in request.caller.namespaces)
        and (author is None or repo.namespace == author)
        and (search is None or search.lower() in repo.id.lower())
    ]
    return page_reply(request, shown, hub.config.page_size)


def _entry(repo: Repo) -> dict[str, Any]:
    head = repo.commits[repo.branches["main"]] if "main" in repo.branches else None
    entry = {
        "_id": object_id(f"{repo.type}:{repo.id}"),
        "id": repo.id,
        "author": repo.namespace,
        "private": repo.private,
        "gated": repo.gated,
        "createdAt": repo.created_at,
        "downloads": 0,
        "likes": 0,
        "tags": [],
    }
    if head is not None:
        entry |= {"sha": head.oid, "lastModified": head.date}
    if repo.type == "model":
        entry["modelId"] = repo.id
    return entry
