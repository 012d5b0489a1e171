"""The Hub client a remote backend calls with, and how those calls retry and fail."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from dexter_autotrain.hub.auth import require_token
from dexter_autotrain.hub.failures import hub_failures
from dexter_autotrain.hub.retry import Report, reported_retries

if TYPE_CHECKING:
    from huggingface_hub import HfApi


def hub_client() -> tuple[HfApi, str]:
    """A client holding the token, and the token (to mask it in what is shown).

    Raises:
        HubAccessError: no token is set.

    Example:
        >>> api, token = hub_client()  # doctest: +SKIP
    """
    from huggingface_hub import HfApi

    token = require_token()
    return HfApi(token=token), token


@contextmanager
def hub_calls(report: Report, token: str, about: str, outcome: str) -> Iterator[None]:
    """Hub calls inside: the client's retries reported through `report`, its failures as
    one located line without the token (`hub_failures`).

    Example:
        >>> with hub_calls(print, token, "dexter-ng/x", "nothing was started"):  # doctest: +SKIP
        ...     api.whoami()
    """
    with reported_retries(report), hub_failures(token, about, outcome):
        yield


@contextmanager
def quiet_transfers() -> Iterator[None]:
    """huggingface_hub's upload and download progress bars off inside (they would break
    into submit's progress view), restored after.

    Example:
        >>> with quiet_transfers():  # doctest: +SKIP
        ...     snapshot_download("dexter-ng/x", local_dir="model")
    """
    from huggingface_hub.utils import (
        are_progress_bars_disabled,
        disable_progress_bars,
        enable_progress_bars,
    )

    already = are_progress_bars_disabled()
    disable_progress_bars()
    try:
        yield
    finally:
        if not already:
            enable_progress_bars()
