"""What every route area of the Hub test server shares: the store, the accounts, the settings,
repo lookup with the Hub's visibility rules, and `Link`-header pagination."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from .hub_auth import Accounts, Caller
from .hub_control import Stats
from .hub_errors import HubError, repo_not_found
from .hub_http import Reply, Request
from .hub_store import REPO_TYPES, HubStore, Repo

if TYPE_CHECKING:
    from .hub_discussions import DiscussionBoard

# Route fragment for `/api/{models,datasets,spaces}/{namespace}/{name}`.
API_REPO = r"/api/(?P<type>models|datasets|spaces)/(?P<repo>[^/]+/[^/]+)"


@dataclass
class HubConfig:
    page_size: int = 1000  # entries per page of tree and commit listings (the Hub's is 1000)
    lfs_threshold: int = 10 * 1024 * 1024  # files this big or bigger go through LFS (as on the Hub)
    # Jobs and Spaces run locally: a bin directory stands in for each Docker image (first on
    # PATH); images not named here get `default_bin`, or AutoTrain's runner when that is None.
    job_images: dict[str, Path] = field(default_factory=dict)
    default_bin: Path | None = None
    # True: a job naming an image that is neither mapped nor covered by `default_bin` is
    # refused (the command-line server: it must not run whatever a caller names).
    only_mapped_images: bool = False
    schedule_delay: float = 0.2  # seconds a job stays SCHEDULING (a Space BUILDING) first
    # Inference Endpoints run `endpoint_command MODEL_DIR --host 127.0.0.1 --port 0` (None:
    # `dexter-auto serve`); endpoint names or commits listed in `endpoint_failures` fail to start.
    endpoint_command: list[str] | None = None
    endpoint_failures: set[str] = field(default_factory=set)
    endpoint_start_timeout: float = 120.0


@dataclass
class RepoHooks:
    """Who wants to hear about repo events (the Spaces area: a commit starts a build)."""

    created: list[Callable[[Repo, dict[str, Any]], None]] = field(default_factory=list)
    committed: list[Callable[[Repo, str], None]] = field(default_factory=list)  # repo, branch
    deleted: list[Callable[[Repo], None]] = field(default_factory=list)


@dataclass
class HubContext:
    store: HubStore
    accounts: Accounts
    config: HubConfig
    stats: Stats = field(default_factory=Stats)
    closers: list[Callable[[], None]] = field(default_factory=list)  # run when the server stops
    hooks: RepoHooks = field(default_factory=RepoHooks)
    url: str = ""  # the server's own URL, for the jobs and Spaces it runs (set once it listens)
    discussions: DiscussionBoard | None = None  # set by the discussion routes (pull requests)

    def visible(self, repo: Repo, caller: Caller) -> Repo:
        """`repo`, unless it is private to a namespace the caller is not in (then: not found;
        401 for an anonymous caller, as the Hub answers, so the client asks for a token)."""
        if repo.private and repo.namespace not in caller.namespaces:
            raise _not_found(repo.id, caller)
        return repo

    def readable_repo(self, request: Request) -> Repo:
        """The repo the route names (`type` plural and `repo` groups)."""
        try:
            repo = self.store.get(REPO_TYPES[request.params["type"]], request.params["repo"])
        except HubError as missing:
            if missing.code == "RepoNotFound":
                raise _not_found(request.params["repo"], request.caller) from None
            raise
        return self.visible(repo, request.caller)

    def writable_repo(self, request: Request) -> Repo:
        repo = self.readable_repo(request)
        request.caller.require_write(repo.namespace)
        return repo


def _not_found(repo_id: str, caller: Caller) -> HubError:
    """The Hub's answer for a repo the caller may not see: 404, or 401 without a token (both
    with `X-Error-Code: RepoNotFound`)."""
    missing = repo_not_found(repo_id)
    if caller.anonymous:
        missing.status = 401
        missing.message = "Invalid username or password."
    return missing


def page_reply(request: Request, items: Sequence[Any], page_size: int) -> Reply:
    """One page of `items` from `?cursor=`, with `Link: <next>; rel="next"` while more remain."""
    try:
        start = int(request.arg("cursor") or 0)
    except ValueError as err:
        raise HubError(400, "bad cursor") from err
    end = start + page_size
    headers = {}
    if end < len(items):
        query = {k: v[-1] for k, v in request.query.items()} | {"cursor": str(end)}
        headers["Link"] = f'<{request.base_url}{request.path}?{urlencode(query)}>; rel="next"'
    return Reply.json(list(items[start:end]), headers=headers)


def flag(request: Request, name: str) -> bool:
    return (request.arg(name) or "").lower() in ("1", "true")
