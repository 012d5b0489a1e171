"""List prices shipped with the toolkit (`prices.json`, dated): HF Jobs hardware flavors and
Inference Endpoints instances, in US dollars per hour. The plan prefers the Hub's live Jobs
list; the operator's cost caps are checked against these when a spec is loaded, and against
the live list where a job starts."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

PRICE_TABLE = Path(__file__).with_name("prices.json")
DURATION_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
DEFAULT_FLAVOR = "cpu-basic"
"""The flavor HF Jobs runs on when `compute.hardware` is unset (as `run_job` does)."""


@dataclass(frozen=True)
class PriceTable:
    """The shipped table.

    Attributes:
        as_of: the day the prices were copied from the Hub.
        flavors: HF Jobs flavors: name -> (pretty name, GPUs, US dollars per hour).
        endpoints: `vendor/instance_type/instance_size` -> US dollars per replica-hour.
    """

    as_of: str
    flavors: dict[str, tuple[str, int, float]]
    endpoints: dict[str, float]

    def endpoint_usd_per_hour(self, vendor: str, instance_type: str, size: str) -> float | None:
        """One replica's price, or None when the table does not list the instance."""
        return self.endpoints.get(f"{vendor}/{instance_type}/{size}")


@functools.cache
def shipped_table() -> PriceTable:
    """The table in `prices.json`.

    Example:
        ```python
        >>> shipped_table().flavors["t4-small"]
        ('Nvidia T4 - small', 1, 0.4)
        ```
    """
    table = json.loads(PRICE_TABLE.read_text())
    flavors = {name: tuple(row) for name, row in table["flavors"].items()}
    return PriceTable(table["as_of"], flavors, dict(table["endpoints"]))


def timeout_seconds(duration: str) -> int:
    """`compute.timeout` (`90m`, `2h`) in seconds."""
    return int(duration[:-1]) * DURATION_SECONDS[duration[-1]]
