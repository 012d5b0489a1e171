"""The one error type of the Hub test server: an HTTP status the client reads as the real Hub's."""

from __future__ import annotations


class HubError(Exception):
    """A reply the Hub would give: status, message, and the `X-Error-Code` the client maps.

    huggingface_hub turns `X-Error-Code` RepoNotFound / RevisionNotFound / EntryNotFound into
    its typed errors, and shows `X-Error-Message` in the exception text.
    """

    def __init__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers or {}


def repo_not_found(repo_id: str) -> HubError:
    return HubError(404, f"Repository not found: {repo_id}", "RepoNotFound")


def revision_not_found(revision: str) -> HubError:
    return HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")


def entry_not_found(path: str) -> HubError:
    return HubError(404, f"Entry not found: {path}", "EntryNotFound")
