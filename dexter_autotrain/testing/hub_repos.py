"""Repo routes of the Hub test server: create, delete, info, tree, refs, branches, tags, commits."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import parse_qs

from .hub_auth import object_id
from .hub_context import API_REPO, HubContext, flag, page_reply
from .hub_errors import HubError, entry_not_found, revision_not_found
from .hub_http import Reply, Request, Route, route
from .hub_store import REPO_TYPES, Commit, FileEntry, Repo


def repo_routes(hub: HubContext) -> list[Route]:
    return [
        route("POST", "/api/repos/create", "repo_create", lambda r: create_repo(hub, r)),
        route("DELETE", "/api/repos/delete", "repo_delete", lambda r: delete_repo(hub, r)),
        route(
            "GET",
            API_REPO + r"(?:/revision/(?P<rev>[^/]+))?",
            "repo_info",
            lambda r: repo_info(hub, r),
        ),
        route(
            "GET",
            API_REPO + r"/tree/(?P<rev>[^/]+)(?:/(?P<path>.+))?",
            "tree",
            lambda r: tree(hub, r),
        ),
        route(
            "POST",
            API_REPO + r"/paths-info/(?P<rev>[^/]+)",
            "paths_info",
            lambda r: paths_info(hub, r),
        ),
        route("GET", API_REPO + r"/refs", "refs", lambda r: refs(hub, r)),
        route("GET", API_REPO + r"/commits/(?P<rev>[^/]+)", "commits", lambda r: commits(hub, r)),
        route(
            "POST",
            API_REPO + r"/branch/(?P<name>[^/]+)",
            "branch_create",
            lambda r: create_branch(hub, r),
        ),
        route(
            "DELETE",
            API_REPO + r"/branch/(?P<name>[^/]+)",
            "branch_delete",
            lambda r: delete_ref(hub, r, "branch"),
        ),
        route(
            "POST", API_REPO + r"/tag/(?P<rev>[^/]+)", "tag_create", lambda r: create_tag(hub, r)
        ),
        route(
            "DELETE",
            API_REPO + r"/tag/(?P<name>[^/]+)",
            "tag_delete",
            lambda r: delete_ref(hub, r, "tag"),
        ),
    ]


def _named_repo(request: Request) -> tuple[dict[str, Any], str, str]:
    """(body, type, repo id) of a create/delete call; no `organization` means the caller's."""
    body = request.json()
    name = body.get("name")
    if not isinstance(name, str) or not name or "/" in name:
        raise HubError(400, "name is required")
    repo_type = body.get("type") or "model"
    if repo_type not in REPO_TYPES.values():
        raise HubError(400, f"Invalid repo type {repo_type!r}")
    namespace = body.get("organization") or request.caller.user
    return body, repo_type, f"{namespace}/{name}"


def create_repo(hub: HubContext, request: Request) -> Reply:
    body, repo_type, repo_id = _named_repo(request)
    request.caller.require_write(repo_id.split("/")[0])
    visibility = body.get("visibility")
    private = visibility in ("private", "protected") if visibility else bool(body.get("private"))
    try:
        repo = hub.store.create(repo_type, repo_id, private, request.caller.user, body.get("sdk"))
    except HubError as err:
        url = f"{request.base_url}/{repo_id}"
        return Reply.json(
            {"error": err.message, "url": url}, err.status, {"X-Error-Message": err.message}
        )
    for created in hub.hooks.created:
        created(repo, body)
    return Reply.json(
        {"url": repo.url(request.base_url), "name": repo.id, "id": object_id(repo.id)}
    )


def delete_repo(hub: HubContext, request: Request) -> Reply:
    _, repo_type, repo_id = _named_repo(request)
    repo = hub.visible(hub.store.get(repo_type, repo_id), request.caller)
    request.caller.require_write(repo.namespace)
    hub.store.delete(repo_type, repo_id)
    for deleted in hub.hooks.deleted:
        deleted(repo)
    return Reply.json({})


def repo_info(hub: HubContext, request: Request) -> Reply:
    repo = hub.readable_repo(request)
    commit = repo.resolve(request.params.get("rev", "main"))
    blobs = flag(request, "blobs")
    siblings = [_sibling(path, entry, blobs) for path, entry in sorted(commit.files.items())]
    info: dict[str, Any] = {
        "_id": object_id(f"{repo.type}:{repo.id}"),
        "id": repo.id,
        "author": repo.namespace,
        "sha": commit.oid,
        "lastModified": commit.date,
        "createdAt": repo.created_at,
        "private": repo.private,
        "disabled": False,
        "gated": repo.gated,
        "downloads": 0,
        "likes": 0,
        "tags": [],
        "siblings": siblings,
    }
    if repo.type == "model":
        info["modelId"] = repo.id
    if repo.sdk:
        info["sdk"] = repo.sdk
    return Reply.json(info)


def _sibling(path: str, entry: FileEntry, blobs: bool) -> dict[str, Any]:
    if not blobs:
        return {"rfilename": path}
    lfs = {"size": entry.size, "sha256": entry.sha256, "pointerSize": entry.pointer_size}
    return {
        "rfilename": path,
        "size": entry.size,
        "blobId": entry.oid,
        "lfs": lfs if entry.lfs else None,
    }


def tree(hub: HubContext, request: Request) -> Reply:
    repo = hub.readable_repo(request)
    commit = repo.resolve(request.params["rev"])
    base = request.params.get("path", "").strip("/")
    entries = tree_entries(commit, base, flag(request, "recursive"))
    if base and not entries:
        raise entry_not_found(base)
    if flag(request, "expand"):  # each entry's last commit (hf_api.py: RepoFile.last_commit)
        for entry in entries:
            entry["lastCommit"] = _last_commit(repo, commit, entry["path"])
    return page_reply(request, entries, hub.config.page_size)


def _last_commit(repo: Repo, commit: Commit, path: str) -> dict[str, str]:
    """The newest commit (first-parent history) that changed `path` or anything under it."""

    def under(files: dict[str, FileEntry]) -> dict[str, str]:
        return {p: e.oid for p, e in files.items() if p == path or p.startswith(path + "/")}

    history = repo.history(commit.oid)
    for newer, older in zip(history, [*history[1:], None], strict=True):
        if older is None or under(newer.files) != under(older.files):
            return {"id": newer.oid, "title": newer.title, "date": newer.date}
    return {"id": commit.oid, "title": commit.title, "date": commit.date}


def tree_entries(commit: Commit, base: str, recursive: bool) -> list[dict[str, Any]]:
    """Files and folders under `base` (direct children, or all descendants), sorted by path."""
    prefix = f"{base}/" if base else ""
    folders: set[str] = set()
    files: list[dict[str, Any]] = []
    for path, entry in commit.files.items():
        if not path.startswith(prefix):
            continue
        parts = path[len(prefix) :].split("/")
        depth = len(parts) - 1 if recursive else min(1, len(parts) - 1)
        folders.update(prefix + "/".join(parts[: i + 1]) for i in range(depth))
        if recursive or len(parts) == 1:
            files.append(_file_entry(path, entry))
    listed = [_folder_entry(commit, folder) for folder in folders] + files
    return sorted(listed, key=lambda item: item["path"])


def _file_entry(path: str, entry: FileEntry) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "file", "oid": entry.oid, "size": entry.size, "path": path}
    if entry.lfs:
        item["lfs"] = {"oid": entry.sha256, "size": entry.size, "pointerSize": entry.pointer_size}
    return item


def _folder_entry(commit: Commit, folder: str) -> dict[str, Any]:
    inside = sorted(f"{p}:{e.oid}" for p, e in commit.files.items() if p.startswith(folder + "/"))
    oid = hashlib.sha1("\n".join(inside).encode()).hexdigest()
    return {"type": "directory", "oid": oid, "size": 0, "path": folder}


def paths_info(hub: HubContext, request: Request) -> Reply:
    """Files and folders among the form's `paths` (datasets' file system asks this); the
    others are left out, as on the Hub."""
    repo = hub.readable_repo(request)
    commit = repo.resolve(request.params["rev"])
    form = parse_qs(request.body.read_all().decode("utf-8", "replace"))
    found = []
    for path in (p.strip("/") for p in form.get("paths", [])):
        if path in commit.files:
            found.append(_file_entry(path, commit.files[path]))
        elif any(p.startswith(path + "/") for p in commit.files):
            found.append(_folder_entry(commit, path))
    return Reply.json(found)


def refs(hub: HubContext, request: Request) -> Reply:
    repo = hub.readable_repo(request)

    def listed(names: dict[str, str], kind: str) -> list[dict[str, str]]:
        return [
            {"name": n, "ref": f"refs/{kind}/{n}", "targetCommit": oid}
            for n, oid in sorted(names.items())
        ]

    body: dict[str, Any] = {
        "branches": listed(repo.branches, "heads"),
        "converts": [],
        "tags": listed(repo.tags, "tags"),
    }
    if flag(request, "include_prs"):
        body["pullRequests"] = [
            {"name": ref.removeprefix("refs/"), "ref": ref, "targetCommit": oid}
            for ref, oid in sorted(repo.pulls.items(), key=lambda item: int(item[0].split("/")[-1]))
        ]
    return Reply.json(body)


def commits(hub: HubContext, request: Request) -> Reply:
    repo = hub.readable_repo(request)
    head = repo.resolve(request.params["rev"])
    items = [
        {
            "id": c.oid,
            "title": c.title,
            "message": c.message,
            "date": c.date,
            "authors": [{"user": c.author, "avatar": ""}],
        }
        for c in repo.history(head.oid)
    ]
    return page_reply(request, items, hub.config.page_size)


def create_branch(hub: HubContext, request: Request) -> Reply:
    repo = hub.writable_repo(request)
    name = request.params["name"]
    start = request.json().get("startingPoint") or "main"
    if name in repo.branches:
        raise HubError(409, f"Reference already exists: refs/heads/{name}")
    hub.store.set_ref(repo, repo.branches, name, repo.resolve(start).oid)
    return Reply.json({})


def create_tag(hub: HubContext, request: Request) -> Reply:
    repo = hub.writable_repo(request)
    tag = request.json().get("tag")
    if not isinstance(tag, str) or not tag:
        raise HubError(400, "tag is required")
    if tag in repo.tags:
        raise HubError(409, f"Reference already exists: refs/tags/{tag}")
    hub.store.set_ref(repo, repo.tags, tag, repo.resolve(request.params["rev"]).oid)
    return Reply.json({})


def delete_ref(hub: HubContext, request: Request, kind: str) -> Reply:
    repo: Repo = hub.writable_repo(request)
    refs_of_kind = repo.branches if kind == "branch" else repo.tags
    name = request.params["name"]
    if kind == "branch" and name == "main":
        raise HubError(403, "Cannot delete the default branch")
    if name not in refs_of_kind:
        raise revision_not_found(name)
    hub.store.set_ref(repo, refs_of_kind, name, None)
    return Reply.json({})
