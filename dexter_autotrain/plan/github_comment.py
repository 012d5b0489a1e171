"""One sticky pull-request comment, through the GitHub REST API.

The comment carries a hidden marker; posting again finds the comment holding it, written by
the workflow's own account, and edits it in place, so a pull request never collects a second
copy, and a comment someone else wrote with the marker in it is never edited. Redirects are not
followed: the token would go with the request to wherever GitHub (or something pretending to
be it) pointed. The token (`GITHUB_TOKEN`) goes
only into the Authorization header: it is never part of a body, an error or an output, and a
body that somehow contains it or the Hugging Face token is redacted before it is sent.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dexter_autotrain.errors import ToolError, UserError

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_AUTHOR = "github-actions[bot]"
"""Who writes the comment with the Actions token (that token cannot read `/user`); an operator
whose workflow posts with another account names it in DEXTER_COMMENT_AUTHOR."""
PAGE_SIZE = 100
TIMEOUT_SECONDS = 30
SECRET_VARIABLES = ("GITHUB_TOKEN", "HF_TOKEN")


@dataclass(frozen=True)
class PullRequest:
    """Where the comment goes: `owner/name` and the pull request's number."""

    repository: str
    number: int


@dataclass(frozen=True)
class Posted:
    """What `post_sticky` did: `created` or `updated`, the comment's web address, and the
    pull request (`owner/name#number`)."""

    action: str
    url: str
    target: str


def pull_request_from_env(environ: Mapping[str, str]) -> PullRequest:
    """The pull request a GitHub Actions run is for (`GITHUB_REPOSITORY`, and the number from
    the event payload at `GITHUB_EVENT_PATH`).

    Raises:
        UserError: not in a `pull_request` run.
    """
    repository = environ.get("GITHUB_REPOSITORY", "")
    event_path = environ.get("GITHUB_EVENT_PATH", "")
    number = None
    if event_path and Path(event_path).is_file():
        event = json.loads(Path(event_path).read_text())
        number = (event.get("pull_request") or {}).get("number")
    if not repository or not isinstance(number, int):
        raise UserError(
            "--comment: not a pull_request run (GITHUB_REPOSITORY and a pull_request event at "
            "GITHUB_EVENT_PATH are needed)"
        )
    return PullRequest(repository, number)


def post_sticky(body: str, pull: PullRequest, marker: str, environ: Mapping[str, str]) -> Posted:
    """Create the pull request's comment holding `marker`, or update it in place.

    Args:
        body: the comment (it must contain `marker`).
        pull: the pull request.
        marker: the hidden text that identifies this comment.
        environ: `GITHUB_TOKEN` (required), `GITHUB_API_URL` (default api.github.com) and
            `DEXTER_COMMENT_AUTHOR` (the login the workflow posts as; default
            github-actions[bot]).

    Returns:
        Whether it was created or updated, and its address.

    Raises:
        UserError: no `GITHUB_TOKEN`.
        ToolError: GitHub refused or did not answer (the message never holds the token).

    Example:
        >>> post_sticky(markdown, PullRequest("dexter-ng/models", 7), MARKER, os.environ).target
        'dexter-ng/models#7'
    """
    token = environ.get("GITHUB_TOKEN")
    if not token:
        raise UserError("--comment: set GITHUB_TOKEN (the workflow's token) to post the plan")
    api = GitHub(environ.get("GITHUB_API_URL") or DEFAULT_API_URL, token)
    body = redact(body, [environ.get(name, "") for name in SECRET_VARIABLES])
    target = f"{pull.repository}#{pull.number}"
    existing = find_comment(
        api, pull, marker, environ.get("DEXTER_COMMENT_AUTHOR") or DEFAULT_AUTHOR
    )
    if existing is None:
        made = api.call("POST", f"/repos/{pull.repository}/issues/{pull.number}/comments", body)
        return Posted("created", str(made.get("html_url", "")), target)
    path = f"/repos/{pull.repository}/issues/comments/{existing}"
    return Posted("updated", str(api.call("PATCH", path, body).get("html_url", "")), target)


def find_comment(api: GitHub, pull: PullRequest, marker: str, author: str) -> int | None:
    """The id of the first comment on the pull request that `author` wrote and that holds
    `marker`, if any."""
    page = 1
    while True:
        path = f"/repos/{pull.repository}/issues/{pull.number}/comments"
        comments = api.call("GET", f"{path}?per_page={PAGE_SIZE}&page={page}")
        found = next((c["id"] for c in comments if _ours(c, marker, author)), None)
        if found is not None or len(comments) < PAGE_SIZE:
            return found
        page += 1


def _ours(comment: dict[str, Any], marker: str, author: str) -> bool:
    login = (comment.get("user") or {}).get("login")
    return login == author and marker in (comment.get("body") or "")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A 3xx becomes an error instead of a second request carrying the token."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect())


def redact(text: str, secrets: list[str]) -> str:
    """`text` with every non-empty secret replaced by `***`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


@dataclass(frozen=True)
class GitHub:
    """A minimal GitHub REST client (the standard library's; the token stays in here)."""

    url: str
    token: str

    def call(self, method: str, path: str, body: str | None = None) -> Any:
        """Send one request; the decoded JSON reply."""
        request = urllib.request.Request(
            self.url.rstrip("/") + path,
            data=None if body is None else json.dumps({"body": body}).encode(),
            method=method,
            headers={
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
                "User-Agent": "dexter-auto",
                "X-GitHub-Api-Version": "2022-11-28",
            },
        )
        try:
            with _OPENER.open(request, timeout=TIMEOUT_SECONDS) as reply:
                return json.loads(reply.read() or b"null")
        except urllib.error.HTTPError as error:
            raise ToolError(f"GitHub refused {method} {path.split('?')[0]}: {error.code}") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ToolError(
                f"GitHub did not answer {method} {path.split('?')[0]}: {reason}"
            ) from None
