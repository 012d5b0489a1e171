"""Upload routes of the Hub test server, in the order huggingface_hub calls them for a commit:
validate-yaml (README.md only), preupload, the LFS batch API with its basic-transfer PUT and
verify, then the NDJSON commit."""

from __future__ import annotations

import base64
import binascii
import fnmatch
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

import yaml

from .hub_context import API_REPO, HubContext
from .hub_discussions import DiscussionBoard
from .hub_errors import HubError
from .hub_http import Reply, Request, Route, route
from .hub_store import Change, Commit, Repo

LFS_REPO = r"/(?:(?P<type>datasets|spaces)/)?(?P<repo>[^/]+/[^/]+)\.git/info/lfs/objects"
LFS_JSON = {"Content-Type": "application/vnd.git-lfs+json"}
UPLOAD_URL_LIFETIME_S = 3600


@dataclass(frozen=True)
class UploadGrant:
    """What one PUT URL may write: a single object, into a single repo, until it expires."""

    repo_type: str
    repo_id: str
    sha256: str
    size: int
    expires: float


class LfsUploads:
    """PUT URLs carry a capability instead of a token (the client sends no auth header there)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._grants: dict[str, UploadGrant] = {}

    def grant(self, repo: Repo, sha256: str, size: int) -> str:
        capability = secrets.token_urlsafe(24)
        with self._lock:
            self._grants[capability] = UploadGrant(
                repo.type, repo.id, sha256, size, time.monotonic() + UPLOAD_URL_LIFETIME_S
            )
        return capability

    def get(self, capability: str) -> UploadGrant:
        with self._lock:
            grant = self._grants.get(capability)
        if grant is None or grant.expires < time.monotonic():
            raise HubError(403, "Invalid or expired upload URL")
        return grant


def upload_routes(hub: HubContext) -> list[Route]:
    uploads = LfsUploads()
    return [
        route("POST", "/api/validate-yaml", "validate_yaml", validate_yaml, public=True),
        route(
            "POST",
            API_REPO + r"/preupload/(?P<rev>[^/]+)",
            "preupload",
            lambda r: preupload(hub, r),
        ),
        route("POST", API_REPO + r"/commit/(?P<rev>[^/]+)", "commit", lambda r: commit(hub, r)),
        route("POST", LFS_REPO + "/batch", "lfs_batch", lambda r: lfs_batch(hub, uploads, r)),
        route("POST", LFS_REPO + "/verify", "lfs_verify", lambda r: lfs_verify(hub, r)),
        route(
            "PUT",
            r"/_lfs/upload/(?P<capability>[\w-]+)",
            "lfs_upload",
            lambda r: lfs_put(hub, uploads, r),
            public=True,
        ),
    ]


def validate_yaml(request: Request) -> Reply:
    """Always JSON: the client reads `.json()` before it looks at the status."""
    content = request.json().get("content") or ""
    found = re.match(r"\A---\s*\n(.*?)\n---\s*(\n|\Z)", content, re.DOTALL)
    errors = []
    if found:
        try:
            metadata = yaml.safe_load(found.group(1))
            if metadata is not None and not isinstance(metadata, dict):
                errors.append({"message": "metadata must be a YAML mapping"})
        except yaml.YAMLError as err:
            errors.append({"message": f"Invalid YAML in metadata: {err}"})
    return Reply.json({"errors": errors, "warnings": []}, 400 if errors else 200)


def preupload(hub: HubContext, request: Request) -> Reply:
    pull = request.arg("create_pr")  # opening a pull request needs only read access
    repo = hub.readable_repo(request) if pull else hub.writable_repo(request)
    head = repo.resolve(request.params["rev"])
    patterns = _lfs_patterns(hub, head)
    answers = []
    for item in request.json().get("files", []):
        try:
            path, size = str(item["path"]), int(item["size"])
            sample = base64.b64decode(item.get("sample") or "")
        except (KeyError, TypeError, ValueError) as err:
            raise HubError(400, f"Malformed preupload entry: {err}") from err
        large = size >= hub.config.lfs_threshold or b"\0" in sample or _matches(path, patterns)
        answer: dict[str, Any] = {
            "path": path,
            "uploadMode": "lfs" if large else "regular",
            "shouldIgnore": False,
        }
        if path in head.files:
            answer["oid"] = head.files[path].client_oid
        answers.append(answer)
    return Reply.json({"files": answers, "commitOid": head.oid})


def _lfs_patterns(hub: HubContext, head: Commit) -> list[str]:
    entry = head.files.get(".gitattributes")
    if entry is None:
        return []
    text = hub.store.blob_path(entry.sha256).read_text(errors="replace")
    return [line.split()[0] for line in text.splitlines() if "filter=lfs" in line]


def _matches(path: str, patterns: list[str]) -> bool:
    name = path.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatch(name, p) or fnmatch.fnmatch(path, p) for p in patterns)


def commit(hub: HubContext, request: Request) -> Reply:
    if request.arg("create_pr") and hub.discussions is not None:
        return _open_pull(hub, hub.discussions, request)
    repo = hub.writable_repo(request)
    header, changes = _parse_ndjson(request.body.read_all())
    parent = header.get("parentCommit")
    done = hub.store.commit(
        repo,
        request.params["rev"],
        changes,
        header.get("summary") or "",
        header.get("description") or "",
        request.caller.user,
        parent,
    )
    for committed in hub.hooks.committed:
        committed(repo, request.params["rev"])
    return _committed(request, repo, done, None)


def _committed(request: Request, repo: Repo, done: Commit, pull: int | None) -> Reply:
    """The commit route's answer (`_commit_api.py` reads `commitOid` and `pullRequestUrl`)."""
    url = repo.url(request.base_url)
    return Reply.json(
        {
            "success": True,
            "commitOid": done.oid,
            "commitUrl": f"{url}/commit/{done.oid}",
            "commitMessage": done.title,
            "hookOutput": "",
            "pullRequestUrl": None if pull is None else f"{url}/discussions/{pull}",
        }
    )


def _open_pull(hub: HubContext, board: DiscussionBoard, request: Request) -> Reply:
    """`create_pr=1`: the commit becomes pull request N (`refs/pr/N`) against the branch;
    anyone who can read the repo may open one, as on the Hub."""
    repo = hub.readable_repo(request)
    header, changes = _parse_ndjson(request.body.read_all())
    about = (header.get("summary") or "", header.get("description") or "")
    num, done = board.open_pull(request, repo, changes, about)
    return _committed(request, repo, done, num)


def _parse_ndjson(raw: bytes) -> tuple[dict[str, Any], list[Change]]:
    header: dict[str, Any] | None = None
    changes: list[Change] = []
    try:
        lines = [json.loads(line) for line in raw.splitlines() if line.strip()]
        for line in lines:
            key, value = line["key"], line["value"]
            if key == "header":
                header = value
            else:
                changes.append(_change(key, value))
    except (ValueError, KeyError, TypeError, binascii.Error) as err:
        raise HubError(400, f"Malformed commit payload: {err}") from err
    if header is None or not header.get("summary"):
        raise HubError(400, "The commit needs a header line with a summary")
    return header, changes


def _change(key: str, value: dict[str, Any]) -> Change:
    path = value["path"]
    if not path or path.startswith("/") or ".." in path.split("/"):
        raise ValueError(f"invalid path {path!r}")
    if key == "file":
        raw = value["content"]
        content = base64.b64decode(raw) if value.get("encoding") == "base64" else raw.encode()
        return Change(path, content=content)
    if key == "lfsFile":
        return Change(path, lfs_sha256=value["oid"])
    if key in ("deletedFile", "deletedFolder"):
        return Change(path, delete=True, folder=key == "deletedFolder")
    raise ValueError(f"unknown line key {key!r}")


def lfs_batch(hub: HubContext, uploads: LfsUploads, request: Request) -> Reply:
    request.params.setdefault("type", "models")
    repo = hub.writable_repo(request)
    body = request.json()
    if body.get("operation") != "upload":
        raise HubError(422, "The Hub test server's LFS batch API serves uploads only")
    git_url = f"{repo.url(request.base_url)}.git/info/lfs/objects"
    objects = [
        _batch_object(repo, uploads, obj, request.base_url, git_url)
        for obj in body.get("objects", [])
    ]
    return Reply(200, LFS_JSON, json.dumps({"transfer": "basic", "objects": objects}).encode())


def _batch_object(
    repo: Repo, uploads: LfsUploads, obj: dict[str, Any], base: str, git_url: str
) -> dict[str, Any]:
    oid, size = obj.get("oid"), obj.get("size")
    if not (
        isinstance(oid, str)
        and re.fullmatch(r"[0-9a-f]{64}", oid)
        and isinstance(size, int)
        and size >= 0
    ):
        return {
            "oid": str(oid),
            "size": -1,
            "error": {"code": 422, "message": "oid and size are invalid"},
        }
    if repo.lfs_objects.get(oid) == size:
        return {"oid": oid, "size": size}  # no actions: already uploaded, nothing to send
    href = f"{base}/_lfs/upload/{uploads.grant(repo, oid, size)}"
    return {
        "oid": oid,
        "size": size,
        "authenticated": True,
        "actions": {
            "upload": {"href": href, "expires_in": UPLOAD_URL_LIFETIME_S},
            "verify": {"href": f"{git_url}/verify", "header": {}},
        },
    }


def lfs_put(hub: HubContext, uploads: LfsUploads, request: Request) -> Reply:
    grant = uploads.get(request.params["capability"])
    repo = hub.store.get(grant.repo_type, grant.repo_id)
    if repo.lfs_objects.get(grant.sha256) == grant.size:
        request.body.drain()  # a retry of an upload that already landed
    else:
        hub.store.put_verified(request.body.chunks(), grant.sha256, grant.size)
        hub.store.add_lfs_object(repo, grant.sha256, grant.size)
    return Reply(200, {"ETag": f'"{grant.sha256}"'})


def lfs_verify(hub: HubContext, request: Request) -> Reply:
    request.params.setdefault("type", "models")
    repo = hub.writable_repo(request)
    body = request.json()
    if repo.lfs_objects.get(body.get("oid", "")) != body.get("size"):
        raise HubError(404, "Object not found")
    return Reply(200, LFS_JSON, b"{}")
