"""Bounded retries for Hub calls, each retry reported in one line.

huggingface_hub 2.4 already retries preupload, the LFS batch call, LFS uploads and their
verification (`http_backoff`: 429 with `Retry-After`, 5xx, dropped connections); it logs each
retry. `reported_retries` turns those log records into our one-line reports. The calls it does
not retry (whoami, create_repo, create_branch, the commit POST, create_tag) go through
`with_retries`, which behaves the same way.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

from dexter_autotrain.errors import HubUnavailable

T = TypeVar("T")
Report = Callable[[str], None]
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 60.0  # seconds: a longer Retry-After fails now rather than hanging


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a call the client does not retry is tried again."""

    attempts: int = 5
    base_wait: float = 1.0
    max_wait: float = 8.0

    def wait(self, attempt: int, retry_after: float | None) -> float:
        """Seconds before try `attempt + 1`: the server's `Retry-After`, else exponential."""
        if retry_after is not None:
            return min(retry_after, MAX_RETRY_AFTER)
        return min(self.max_wait, self.base_wait * 2 ** (attempt - 1))


DEFAULT_POLICY = RetryPolicy()


def transient_cause(error: BaseException) -> tuple[str, float | None] | None:
    """Why a failed call is worth another try, with the server's `Retry-After` if it gave one.

    Args:
        error (`BaseException`):
            What the huggingface_hub call raised.

    Returns:
        `tuple[str, float | None]` or `None`: a short cause (`"HTTP 503"`, `"connection
        lost (RemoteProtocolError)"`) and the wait the server asked for; None for an error a
        retry cannot fix (401, 403, 404, 409, 412, a bad request).
    """
    import httpx2
    from huggingface_hub.errors import HfHubHTTPError

    if isinstance(error, HfHubHTTPError) and error.response is not None:
        status = error.response.status_code
        if status not in RETRY_STATUSES:
            return None
        return f"HTTP {status}", _retry_after(error.response.headers.get("Retry-After"))
    if isinstance(error, httpx2.TransportError):
        return f"connection lost ({type(error).__name__})", None
    return None


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


def with_retries(call: Callable[[], T], what: str, report: Report, policy: RetryPolicy) -> T:
    """Call `call`, retrying transient failures with bounded backoff.

    Args:
        call (`Callable[[], T]`):
            The Hub call, with its arguments bound.
        what (`str`):
            What the call does, for the reports (`"commit to dexter-ng/x@main"`).
        report (`Callable[[str], None]`):
            Receives one line per retry.
        policy (`RetryPolicy`):
            How many tries and how long to wait between them.

    Returns:
        What `call` returned.

    Raises:
        [`HubUnavailable`]: the last try failed transiently too.
        Any other error of `call`, unchanged, at once.

    Example:
        ```python
        >>> me = with_retries(api.whoami, "whoami", print, RetryPolicy())
        ```
    """
    for attempt in range(1, policy.attempts + 1):
        try:
            return call()
        except Exception as error:
            cause = transient_cause(error)
            if cause is None:
                raise
            if attempt == policy.attempts:
                raise HubUnavailable(
                    f"{what}: the Hub still failed after {attempt} tries ({cause[0]})"
                ) from None
            delay = policy.wait(attempt, cause[1])
            report(f"retry {attempt}/{policy.attempts - 1} of {what} in {delay:g} s: {cause[0]}")
            time.sleep(delay)
    raise AssertionError("unreachable: policy.attempts must be at least 1")


# huggingface_hub.utils._http logs a cause, then the wait: we report both in one line.
_CAUSE = re.compile(r"^(?:HTTP Error (\d+)|'(.*)') thrown while requesting (\w+) (\S+)", re.S)
_WAIT = re.compile(r"(?:Waiting|Retrying in) ([\d.]+)s .*\[Retry (\d+)/(\d+)\]")


class _RetryLogBridge(logging.Handler):
    """Turns huggingface_hub's retry log records into one report line per retry; drops its
    other warnings (they repeat what we report ourselves, e.g. "No files have been modified")."""

    def __init__(self, report: Report) -> None:
        super().__init__(logging.WARNING)
        self.report = report
        self.cause = "a failure"

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if found := _CAUSE.match(message):
            status, _error, method, url = found.groups()
            what = f"HTTP {status}" if status else "connection lost"
            self.cause = f"{what} on {method} {urlsplit(url).path}"  # never the query
        elif found := _WAIT.search(message):
            wait, attempt, attempts = found.groups()
            self.report(f"retry {attempt}/{attempts} in {float(wait):g} s: {self.cause}")
        elif record.levelno >= logging.ERROR:
            self.report(f"huggingface_hub: {message.splitlines()[0][:200]}")


@contextmanager
def reported_retries(report: Report) -> Iterator[None]:
    """While inside, huggingface_hub's own retries are reported through `report` (and its
    log lines no longer reach stderr as they are).

    Example:
        ```python
        >>> with reported_retries(print):
        ...     api.create_commit(...)  # a 429 on preupload prints "retry 1/5 in 1 s: HTTP 429 ..."
        ```
    """
    logger = logging.getLogger("huggingface_hub")
    bridge = _RetryLogBridge(report)
    saved = logger.handlers[:], logger.propagate
    logger.handlers[:] = [bridge]
    logger.propagate = False
    try:
        yield
    finally:
        logger.handlers[:], logger.propagate = saved
