"""The Hugging Face token and what it may do: read once here, checked with `whoami` before
any upload, and never printed, written or put in an error message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dexter_autotrain.errors import HubAccessError, HubUnavailable
from dexter_autotrain.hub.retry import Report, RetryPolicy, with_retries

if TYPE_CHECKING:
    from huggingface_hub import HfApi

LOGIN_HINT = "set HF_TOKEN or run `hf auth login` with a write token"
WRITE_ORG_ROLES = frozenset({"admin", "write", "contributor"})


def find_token() -> str | None:
    """The token huggingface_hub would use: `HF_TOKEN`, else the saved login.

    Returns:
        `str` or `None`: the token, or None when there is none.

    Example:
        ```python
        >>> if find_token() is None:
        ...     print("publishing skipped")
        ```
    """
    from huggingface_hub import get_token

    return get_token() or None


def require_token() -> str:
    """The token, or a clear refusal.

    Raises:
        [`HubAccessError`]: no token is set (exit code 2).
    """
    token = find_token()
    if token is None:
        raise HubAccessError(f"no Hugging Face token: {LOGIN_HINT}")
    return token


@dataclass(frozen=True)
class Identity:
    """Who a token belongs to, and where it may write."""

    user: str
    role: str
    writable: tuple[str, ...]

    def require_write(self, namespace: str) -> None:
        if self.role == "read":
            raise HubAccessError(
                f"the Hugging Face token of `{self.user}` is read-only and cannot publish to "
                f"`{namespace}`: {LOGIN_HINT}"
            )
        if namespace not in self.writable:
            raise HubAccessError(
                f"`{self.user}` may not write to the namespace `{namespace}` (hub.repo_id): use "
                f"a token with write access to `{namespace}`, or publish under one of "
                f"{', '.join(self.writable) or 'no namespace'}"
            )


def identity_of(whoami: dict[str, Any]) -> Identity:
    """Read a `whoami-v2` reply: the user, the token's role, the namespaces it may write to
    (the user's own, orgs with a write role, and a fine-grained token's write scopes)."""
    token = (whoami.get("auth") or {}).get("accessToken") or {}
    role = token.get("role", "write")
    user = whoami["name"]
    if role == "fineGrained":
        scoped = (token.get("fineGrained") or {}).get("scoped") or []
        writable = tuple(
            scope["entity"]["name"]
            for scope in scoped
            if "repo.write" in scope.get("permissions", [])
        )
        return Identity(user, role, writable)
    orgs = tuple(
        org["name"]
        for org in whoami.get("orgs", [])
        if org.get("roleInOrg", "write") in WRITE_ORG_ROLES
    )
    return Identity(user, role, (user, *orgs))


def check_write_access(api: HfApi, namespace: str, report: Report, policy: RetryPolicy) -> Identity:
    """Ask the Hub who the token is, and refuse unless it may write to `namespace`.

    Args:
        api (`HfApi`):
            A client holding the token.
        namespace (`str`):
            The user or organisation the repo belongs to.
        report (`Callable[[str], None]`):
            Receives one line per retry.
        policy (`RetryPolicy`):
            Retries of `whoami` (the client does not retry it).

    Returns:
        `Identity`: the user and where the token may write.

    Raises:
        [`HubAccessError`]: the token is invalid (401), read-only, or not allowed in
            `namespace` (exit code 2).
        [`HubUnavailable`]: the Hub did not answer `whoami` after every retry.

    Example:
        ```python
        >>> check_write_access(HfApi(token=require_token()), "dexter-ng", print, RetryPolicy())
        Identity(user='dexter-test', role='write', writable=('dexter-test', 'dexter-ng'))
        ```
    """
    from huggingface_hub.errors import HfHubHTTPError

    try:
        whoami = with_retries(api.whoami, "whoami", report, policy)
    except HfHubHTTPError as error:
        status = error.response.status_code if error.response is not None else None
        if status == 401:
            raise HubAccessError(
                f"the Hugging Face token was refused by {api.endpoint} (401: invalid or "
                f"expired): {LOGIN_HINT}"
            ) from None
        raise HubUnavailable(f"whoami at {api.endpoint} failed (HTTP {status})") from None
    identity = identity_of(whoami)
    identity.require_write(namespace)
    return identity
