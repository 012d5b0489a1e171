"""What a spec may spend, against the operator's cost caps (`policy.operator.CostCaps`).

A run on Hub hardware may cost its flavor for the whole `compute.timeout`; a sweep `n_trials`
such runs, a job with candidates or seeds one per remote training; an Inference Endpoint its
instance at `max_replicas` all day. Each figure is checked against its cap when a spec is
loaded (with the shipped list prices: a located spec error at `validate` and in the plan) and
again where the money is committed, with the price the Hub quotes then (the HF Jobs and
Spaces backends, the sweep, the job's members, the endpoint).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dexter_autotrain.errors import UserError
from dexter_autotrain.policy.operator import CAP_VARIABLES, CostCaps
from dexter_autotrain.policy.prices import DEFAULT_FLAVOR, shipped_table, timeout_seconds

if TYPE_CHECKING:
    from dexter_autotrain.spec import JobSpec

REMOTE_BACKENDS = frozenset({"hf-jobs", "autotrain-spaces"})
HOURS_A_DAY = 24

FlavorPrice = Callable[[str], "float | None"]
"""A flavor's US dollars per hour (None: unknown)."""


@dataclass(frozen=True)
class CapBreach:
    """A figure over the operator's cap.

    Attributes:
        where: the spec field that sets the figure (`("compute", "timeout")`).
        message: the figure, its cap and where the cap is set.
    """

    where: tuple[str, ...]
    message: str


def run_usd(spec: JobSpec, flavor_price: FlavorPrice) -> float | None:
    """The most one run of `spec` can cost (0 on the local backend; None: unpriced)."""
    if spec.compute.backend not in REMOTE_BACKENDS:
        return 0.0
    per_hour = flavor_price(str(spec.compute.hardware or DEFAULT_FLAVOR))
    if per_hour is None:
        return None
    return per_hour * timeout_seconds(spec.compute.timeout) / 3600


def endpoint_usd_per_day(spec: JobSpec) -> float | None:
    """What `spec`'s Inference Endpoint costs a day at `max_replicas` (None: unpriced)."""
    deploy = spec.deploy
    per_hour = shipped_table().endpoint_usd_per_hour(
        deploy.vendor, deploy.instance_type, deploy.instance_size
    )
    return None if per_hour is None else per_hour * HOURS_A_DAY * deploy.max_replicas


def cap_breaches(
    spec: JobSpec, caps: CostCaps, flavor_price: FlavorPrice, trainings: int = 1
) -> list[CapBreach]:
    """Every figure of `spec` over its cap in `caps`, priced with `flavor_price`;
    `trainings`: how many remote trainings the job makes (candidates and seeds).

    Example:
        ```python
        >>> cap_breaches(spec, CostCaps(run_usd=1.0), shipped_flavor_price)[0].message
        'at most $1.20 a run (t4-small at $0.40/h for 3h); the operator's cap is $1.00 ...'
        ```
    """
    return [
        *run_breaches(spec, caps, flavor_price),
        *sweep_breaches(spec, caps, flavor_price),
        *group_breaches(spec, caps, flavor_price, trainings),
        *endpoint_breaches(spec, caps),
    ]


def shipped_flavor_price(flavor: str) -> float | None:
    """A flavor's price in the shipped table."""
    row = shipped_table().flavors.get(flavor)
    return None if row is None else row[2]


def require_within(breaches: list[CapBreach]) -> None:
    """Refuse where money is committed: the first breach as a `UserError`.

    Raises:
        [`UserError`]: a breach (`field: message`).
    """
    if breaches:
        breach = breaches[0]
        raise UserError(f"{'.'.join(breach.where)}: {breach.message}")


def _over(figure: str, cap_name: str, cap: float, unit: str = "$") -> str:
    shown = f"${cap:.2f}" if unit == "$" else f"{cap:g}"
    return (
        f"{figure}; the operator's cap is {shown} ({cap_name} in dexter-operator.yaml, "
        f"or {CAP_VARIABLES[cap_name]})"
    )


def run_breaches(spec: JobSpec, caps: CostCaps, flavor_price: FlavorPrice) -> list[CapBreach]:
    if caps.run_usd is None or spec.compute.backend not in REMOTE_BACKENDS:
        return []
    flavor = str(spec.compute.hardware or DEFAULT_FLAVOR)
    most = run_usd(spec, flavor_price)
    where = ("compute", "hardware") if most is None else ("compute", "timeout")
    if most is None:
        return [CapBreach(where, f"{flavor} has no known price, so the run cap cannot hold")]
    if most <= caps.run_usd:
        return []
    figure = (
        f"at most ${most:.2f} a run ({flavor} at ${flavor_price(flavor):.2f}/h for "
        f"{spec.compute.timeout}); lower compute.timeout or choose smaller hardware"
    )
    return [CapBreach(where, _over(figure, "run_usd", caps.run_usd))]


def sweep_breaches(spec: JobSpec, caps: CostCaps, flavor_price: FlavorPrice) -> list[CapBreach]:
    sweep = spec.sweep
    if sweep is None:
        return []
    found = []
    if caps.parallel_trials is not None and sweep.parallel > caps.parallel_trials:
        figure = f"{sweep.parallel} trials at once"
        found.append(
            CapBreach(
                ("sweep", "parallel"), _over(figure, "parallel_trials", caps.parallel_trials, "")
            )
        )
    most = run_usd(spec, flavor_price)
    if caps.sweep_usd is not None and most is not None and most * sweep.n_trials > caps.sweep_usd:
        figure = f"at most ${most * sweep.n_trials:.2f} for {sweep.n_trials} trials of ${most:.2f}"
        found.append(CapBreach(("sweep", "n_trials"), _over(figure, "sweep_usd", caps.sweep_usd)))
    return found


def group_breaches(
    spec: JobSpec, caps: CostCaps, flavor_price: FlavorPrice, trainings: int
) -> list[CapBreach]:
    """A job's remote trainings over its candidates and seeds, together, against the cap
    on a sweep's (`sweep_usd`: what one job may spend on many trainings)."""
    most = run_usd(spec, flavor_price)
    if caps.sweep_usd is None or most is None or trainings < 2:
        return []
    if most * trainings <= caps.sweep_usd:
        return []
    figure = (
        f"at most ${most * trainings:.2f} for {trainings} trainings of ${most:.2f} "
        "(candidates and seeds); train fewer seeds"
    )
    return [CapBreach(("training", "seeds"), _over(figure, "sweep_usd", caps.sweep_usd))]


def endpoint_breaches(spec: JobSpec, caps: CostCaps) -> list[CapBreach]:
    deploy = spec.deploy
    if not (deploy.enabled and deploy.target == "endpoint" and spec.hub.repo_id):
        return []
    found = []
    if caps.replicas is not None and deploy.max_replicas > caps.replicas:
        figure = f"{deploy.max_replicas} replicas"
        found.append(
            CapBreach(("deploy", "max_replicas"), _over(figure, "replicas", caps.replicas, ""))
        )
    if caps.endpoint_usd_per_day is not None:
        daily = endpoint_usd_per_day(spec)
        instance = f"{deploy.vendor}/{deploy.instance_type}/{deploy.instance_size}"
        if daily is None:
            message = f"{instance} has no known price, so the endpoint cap cannot hold"
            found.append(CapBreach(("deploy", "instance_size"), message))
        elif daily > caps.endpoint_usd_per_day:
            figure = f"up to ${daily:.2f} a day ({instance} x {deploy.max_replicas}, all day)"
            cap = caps.endpoint_usd_per_day
            found.append(
                CapBreach(("deploy", "instance_size"), _over(figure, "endpoint_usd_per_day", cap))
            )
    return found
