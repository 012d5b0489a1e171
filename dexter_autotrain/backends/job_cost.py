"""HF Jobs flavors and what a run on one costs: the most it can cost before it starts (the
flavor's price from `/api/jobs/hardware` times `compute.timeout`), and what it did cost after."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dexter_autotrain.errors import UserError
from dexter_autotrain.hub.retry import Report, RetryPolicy, with_retries
from dexter_autotrain.policy.prices import DEFAULT_FLAVOR, timeout_seconds

if TYPE_CHECKING:
    from huggingface_hub import HfApi

UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class Flavor:
    """One HF Jobs hardware flavor, as `/api/jobs/hardware` lists it.

    Attributes:
        name: the flavor (`a10g-small`, `a100x4`).
        pretty_name: how the Hub names it (`Nvidia A100 - 4x`).
        gpus: how many accelerators it has (0 on CPU flavors).
        usd_per_second: its price.
    """

    name: str
    pretty_name: str
    gpus: int
    usd_per_second: float

    def cost(self, seconds: float) -> float:
        """What `seconds` on this flavor cost, in US dollars."""
        return round(self.usd_per_second * seconds, 6)


def list_flavors(api: HfApi, report: Report, policy: RetryPolicy) -> dict[str, Flavor]:
    """Every flavor the Hub offers for Jobs, by name, with its price.

    Args:
        api (`HfApi`):
            A client of the Hub.
        report (`Callable[[str], None]`):
            Receives one line per retry.
        policy (`RetryPolicy`):
            Retries of the listing (the client does not retry it).

    Returns:
        `dict[str, Flavor]`: the flavors by name.

    Example:
        ```python
        >>> list_flavors(HfApi(), print, RetryPolicy())["a10g-small"].usd_per_second
        0.000278
        ```
    """
    listed = with_retries(api.list_jobs_hardware, "list Jobs hardware", report, policy)
    flavors = {}
    for info in listed:
        gpus = int(info.accelerator.quantity) if info.accelerator is not None else 0
        per_second = info.unit_cost_usd / UNIT_SECONDS.get(info.unit_label, 60)
        flavors[info.name] = Flavor(info.name, info.pretty_name, gpus, per_second)
    return flavors


def choose_flavor(flavors: dict[str, Flavor], wanted: str | None) -> Flavor:
    """The flavor `compute.hardware` names (unset: `cpu-basic`).

    Raises:
        [`UserError`]: the Hub has no such flavor; the message names `compute.hardware`, the
            closest names and where the list comes from.

    Example:
        ```python
        >>> choose_flavor(flavors, "a100x4").gpus
        4
        ```
    """
    name = wanted or DEFAULT_FLAVOR
    if name in flavors:
        return flavors[name]
    close = difflib.get_close_matches(name, list(flavors), n=3, cutoff=0.5)
    hint = f"did you mean {' or '.join(f'`{c}`' for c in close)}? " if close else ""
    raise UserError(
        f"compute.hardware: `{name}` is not an HF Jobs flavor; {hint}"
        f"flavors: {', '.join(sorted(flavors))}"
    )


@dataclass(frozen=True)
class CostCeiling:
    """The most a run can cost: its flavor for the whole of `compute.timeout`."""

    flavor: Flavor
    timeout: str

    def usd_per_hour(self, flavor: str) -> float | None:
        """The price of `flavor` per hour if it is this ceiling's (as the cost caps ask)."""
        return self.flavor.usd_per_second * 3600 if flavor == self.flavor.name else None

    @property
    def max_usd(self) -> float:
        return self.flavor.cost(timeout_seconds(self.timeout))

    def line(self) -> str:
        """What `submit` prints before the job starts."""
        return (
            f"at most ${self.max_usd:.2f}: {self.flavor.name} at "
            f"${self.flavor.usd_per_second * 3600:.2f}/h for compute.timeout {self.timeout}"
        )
