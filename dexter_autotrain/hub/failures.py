"""huggingface_hub's errors as our own one-line errors, for every Hub call of the toolkit.

The server's words are quoted at most one line long, and never with the token in them: it
is masked wherever it might appear.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from dexter_autotrain.errors import HubAccessError, HubUnavailable, ToolError, UserError


@contextmanager
def hub_failures(token: str | None, repo_id: str, outcome: str) -> Iterator[None]:
    """Turn the client's exceptions raised inside the block into located one-line errors.

    Args:
        token (`str`, *optional*): the token in use, masked in anything quoted.
        repo_id (`str`): the repo the calls were about, named in the error.
        outcome (`str`): what the failure means for the user, e.g. "nothing was published".

    Raises:
        [`HubAccessError`]: HTTP 401 or 403 (exit code 2).
        [`HubUnavailable`]: the connection failed after the client's own retries.
        [`ToolError`]: any other HTTP error.
        [`UserError`]: the Hub rejected the card's metadata.
    """
    import httpx2
    from huggingface_hub.errors import HfHubHTTPError

    try:
        yield
    except HfHubHTTPError as error:
        status = error.response.status_code if error.response is not None else None
        said = (error.server_message or "").splitlines()[0][:200] if error.server_message else ""
        said = f": {said.replace(token, '***') if token else said}" if said else ""
        if status in (401, 403):
            raise HubAccessError(
                f"{repo_id}: the Hub refused access (HTTP {status}){said}"
            ) from None
        raise ToolError(f"{repo_id}: the Hub answered HTTP {status}{said}; {outcome}") from None
    except httpx2.TransportError as error:
        raise HubUnavailable(
            f"{repo_id}: connection to the Hub failed ({type(error).__name__}); {outcome}"
        ) from None
    except ValueError as error:
        if "metadata" not in str(error):
            raise
        raise UserError(
            "README.md: the Hub rejected the card's metadata; fix the card and run "
            "`dexter-auto card` again"
        ) from None
