"""Download route of the Hub test server: `HEAD`/`GET [/{type}s]/{repo}/resolve/{rev}/{path}`.

The Hub redirects LFS files to a CDN and puts their sha256 and size in `X-Linked-Etag` and
`X-Linked-Size`; this server answers them directly with the same headers. `Range` is honoured
because huggingface_hub resumes a download cut mid-body with `Range: bytes=N-`.
"""

from __future__ import annotations

import re

from .hub_context import HubContext
from .hub_errors import HubError, entry_not_found
from .hub_http import FileSlice, Reply, Request, Route, route

RESOLVE = (
    r"/(?:(?P<type>datasets|spaces)/)?(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<path>.+)"
)


def download_routes(hub: HubContext) -> list[Route]:
    return [
        route("HEAD", RESOLVE, "resolve", lambda r: resolve(hub, r)),
        route("GET", RESOLVE, "resolve", lambda r: resolve(hub, r)),
    ]


def resolve(hub: HubContext, request: Request) -> Reply:
    request.params.setdefault("type", "models")
    repo = hub.readable_repo(request)
    commit = repo.resolve(request.params["rev"])
    entry = commit.files.get(request.params["path"])
    if entry is None:
        error = entry_not_found(request.params["path"])
        error.headers["X-Repo-Commit"] = commit.oid
        raise error
    headers = {
        "X-Repo-Commit": commit.oid,
        "ETag": f'"{entry.sha256 if entry.lfs else entry.oid}"',
        "Content-Type": "application/octet-stream",
        "Accept-Ranges": "bytes",
    }
    if entry.lfs:
        headers |= {"X-Linked-Etag": f'"{entry.sha256}"', "X-Linked-Size": str(entry.size)}
    start, end = _byte_range(request.headers.get("range"), entry.size)
    path = hub.store.blob_path(entry.sha256)
    if (start, end) == (0, entry.size):
        return Reply(200, headers, file=FileSlice(path, 0, entry.size))
    headers["Content-Range"] = f"bytes {start}-{end - 1}/{entry.size}"
    return Reply(206, headers, file=FileSlice(path, start, end - start))


def _byte_range(header: str | None, size: int) -> tuple[int, int]:
    """[start, end) of a single `bytes=A-B` / `bytes=A-` / `bytes=-N` range, or the whole file."""
    found = re.fullmatch(r"bytes=(\d*)-(\d*)", (header or "").strip())
    if not found or found.groups() == ("", ""):
        return 0, size
    first, last = found.groups()
    if first == "":
        start, end = max(size - int(last), 0), size
    else:
        start, end = int(first), min(int(last) + 1, size) if last else size
    if start >= size and size > 0:
        raise HubError(416, f"Range not satisfiable: {header}")
    return start, end
