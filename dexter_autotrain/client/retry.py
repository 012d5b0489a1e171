"""When to retry a failed inference call, how long to wait, and what to raise instead.

503 (an endpoint overloaded, or waking from scale-to-zero, which takes minutes) and 429 (rate
limited) are retried with exponential backoff and jitter, or after the server's
`Retry-After`, until the policy's budget of waiting is spent. Everything else fails at once
with an error that says which endpoint answered what.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from dexter_autotrain.client.types import (
    EndpointBusy,
    EndpointTimeout,
    InferenceFailed,
    InvalidRequest,
)

RETRIED = (429, 503)


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep retrying 503 and 429.

    Attributes:
        budget: seconds of waiting in all before giving up (an endpoint scaled to zero
            answers 503 for the minutes it takes to start).
        first_delay: seconds before the first retry; each later one waits twice as long.
        max_delay: the longest single wait.
    """

    budget: float = 300.0
    first_delay: float = 0.5
    max_delay: float = 15.0


def failures() -> tuple[type[Exception], ...]:
    """What a failed call raises: an HTTP error status, a timeout, or no connection."""
    import httpx2
    from huggingface_hub.errors import HfHubHTTPError, InferenceTimeoutError

    return (HfHubHTTPError, InferenceTimeoutError, httpx2.TransportError)


class Attempts:
    """The tries of one call: `after(error)` gives the seconds to wait before the next try,
    or raises the error to give up with."""

    def __init__(self, url: str, policy: RetryPolicy):
        self.url, self.policy = url, policy
        self.waited, self.count = 0.0, 0

    def after(self, error: Exception) -> float:
        delay = retry_delay(error, self.count, self.waited, self.policy)
        if delay is None:
            raise failure(error, self.url, self.waited) from error
        self.waited, self.count = self.waited + delay, self.count + 1
        return delay


def retry_delay(error: Exception, attempt: int, waited: float, policy: RetryPolicy) -> float | None:
    """Seconds to wait before retrying after `error` (the `attempt`-th failure, 0-based,
    `waited` seconds waited so far), or None when it is not to be retried."""
    if _status(error) not in RETRIED:
        return None
    delay = _retry_after(error)
    if delay is None:
        delay = min(policy.max_delay, policy.first_delay * 2**attempt) * random.uniform(0.8, 1.2)
    if waited + delay > policy.budget:
        return None
    return delay


def failure(error: Exception, url: str, waited: float) -> Exception:
    """The error to raise for `error`, naming `url` and the server's message."""
    from huggingface_hub.errors import HfHubHTTPError, InferenceTimeoutError

    if isinstance(error, InferenceTimeoutError):
        return EndpointTimeout(url, "no answer within the timeout")
    if not isinstance(error, HfHubHTTPError):
        return InferenceFailed(url, f"cannot reach the endpoint ({type(error).__name__}: {error})")
    status = _status(error)
    message = f"{status} {error.server_message or error.response.reason_phrase}".strip()
    if status in RETRIED:
        return EndpointBusy(url, f"{message}; still refused after waiting {waited:.0f} s", status)
    if status is not None and 400 <= status < 500:
        return InvalidRequest(url, message, status)
    return InferenceFailed(url, message, status)


def _status(error: Exception) -> int | None:
    response = getattr(error, "response", None)
    return getattr(response, "status_code", None)


def _retry_after(error: Exception) -> float | None:
    value = error.response.headers.get("retry-after", "")  # type: ignore[attr-defined]
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # absent, or an HTTP date: back off as usual
