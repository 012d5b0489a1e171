"""What a job would run on and the most it can cost: HF Jobs prices from the Hub's live
hardware list when it answers, else from the dated table shipped beside this module."""

from __future__ import annotations

import os
from dataclasses import dataclass

from dexter_autotrain.backends.job_cost import (
    CostCeiling,
    Flavor,
    choose_flavor,
    list_flavors,
)
from dexter_autotrain.errors import ToolError, UserError
from dexter_autotrain.hub.retry import RetryPolicy
from dexter_autotrain.policy.cost_caps import REMOTE_BACKENDS, endpoint_usd_per_day
from dexter_autotrain.policy.prices import shipped_table
from dexter_autotrain.spec import JobSpec
from dexter_autotrain.spec.members import members, remote_trainings

ONE_TRY = RetryPolicy(attempts=1)


@dataclass(frozen=True)
class PriceList:
    """Flavors by name, and where their prices came from (said in every plan)."""

    flavors: dict[str, Flavor]
    source: str


@dataclass(frozen=True)
class RunEstimate:
    """What would run.

    Attributes:
        backend: `compute.backend`.
        hardware: the flavor (`local` for the local backend).
        timeout: `compute.timeout`, the time budget.
        max_usd: the flavor's price for the whole budget; 0 for local; None when unknown.
        usd_per_hour: the flavor's price, None for local or unknown.
        note: why a price is missing, or what it covers.
        publish: `repo_id@branch` a passing run is published to (None: not published).
        deploy: where it is then deployed (`endpoint`, `local`; None: not deployed).
        endpoint: the Inference Endpoint's instance and price (None: no endpoint).
        models: each model a job with candidates or seeds trains (`autotrain seed 42`);
            empty for one model. `max_usd` covers every remote training among them.
    """

    backend: str
    hardware: str
    timeout: str
    max_usd: float | None
    usd_per_hour: float | None
    note: str
    publish: str | None = None
    deploy: str | None = None
    endpoint: EndpointCost | None = None
    models: tuple[str, ...] = ()

    def models_text(self) -> str:
        """`trains 3 models (...), publishes the best on validation` ("" for one model)."""
        if not self.models:
            return ""
        return (
            f"trains {len(self.models)} models ({', '.join(self.models)}) on the same splits "
            "and publishes the best on validation; gates judge its mean over seeds"
        )

    def release_text(self) -> str:
        """Where a passing run goes and what its endpoint costs, in words ("" when nowhere)."""
        if not self.publish:
            return ""
        text = f"if its gates pass, published to {self.publish}"
        if self.endpoint:
            return f"{text} and served on {self.endpoint.text()}"
        return f"{text} and deployed ({self.deploy})" if self.deploy else text


@dataclass(frozen=True)
class EndpointCost:
    """An Inference Endpoint's price, from the dated table shipped with the toolkit.

    Attributes:
        instance: `vendor/instance_type/instance_size`.
        usd_per_hour: one replica's hourly price (None: not in the table).
        first_day_usd: the most its first day can cost, at `max_replicas` all day.
        min_replicas / max_replicas: its scaling range (0: it scales to zero when idle).
        prices: where the price comes from, dated.
    """

    instance: str
    usd_per_hour: float | None
    first_day_usd: float | None
    min_replicas: int
    max_replicas: int
    prices: str

    def text(self) -> str:
        """`an Inference Endpoint (aws/intel-icl/x2, $0.13/h a replica, ...)`."""
        if self.usd_per_hour is None:
            return (
                f"an Inference Endpoint ({self.instance}, not in the {self.prices}: cost unknown)"
            )
        idle = (
            "scales to zero when idle"
            if self.min_replicas == 0
            else f"never below {self.min_replicas} replicas"
        )
        return (
            f"an Inference Endpoint ({self.instance}, ${self.usd_per_hour:.2f}/h a replica, "
            f"at most ${self.first_day_usd:.2f} its first day at {self.max_replicas} "
            f"replica{'s' * (self.max_replicas != 1)}; {idle}; {self.prices})"
        )


def endpoint_cost(spec: JobSpec) -> EndpointCost | None:
    """The price of the endpoint `spec` deploys (None when it deploys none)."""
    deploy = spec.deploy
    if not (spec.hub.repo_id and deploy.enabled and deploy.target == "endpoint"):
        return None
    table = shipped_table()
    per_hour = table.endpoint_usd_per_hour(
        deploy.vendor, deploy.instance_type, deploy.instance_size
    )
    return EndpointCost(
        instance=f"{deploy.vendor}/{deploy.instance_type}/{deploy.instance_size}",
        usd_per_hour=per_hour,
        first_day_usd=endpoint_usd_per_day(spec),
        min_replicas=deploy.min_replicas,
        max_replicas=deploy.max_replicas,
        prices=f"price table of {table.as_of}",
    )


def price_list(specs: list[JobSpec]) -> PriceList:
    """The Hub's live prices when one of `specs` runs remotely and the Hub answers, else the
    shipped table.

    Example:
        >>> price_list([load_spec("jobs/memes.yaml").spec]).source
        'Hub Jobs hardware list (live)'
    """
    if not any(spec.compute.backend in REMOTE_BACKENDS for spec in specs):
        return shipped_prices("no job that would run uses Hub hardware")
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        return shipped_prices("HF_HUB_OFFLINE is set")
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    from dexter_autotrain.hub.auth import find_token

    try:
        flavors = list_flavors(HfApi(token=find_token()), lambda line: None, ONE_TRY)
    except (ToolError, OSError, HfHubHTTPError) as error:  # unreachable, refused, offline
        return shipped_prices(f"the Hub did not answer: {type(error).__name__}")
    return PriceList(flavors, "Hub Jobs hardware list (live)")


def shipped_prices(why: str = "") -> PriceList:
    """The dated table in `prices.json` (dexter_autotrain.policy.prices)."""
    table = shipped_table()
    flavors = {
        name: Flavor(name, pretty, gpus, usd_per_hour / 3600)
        for name, (pretty, gpus, usd_per_hour) in table.flavors.items()
    }
    source = f"price table of {table.as_of} shipped with dexter-auto"
    return PriceList(flavors, f"{source} ({why})" if why else source)


def estimate(spec: JobSpec, prices: PriceList) -> RunEstimate:
    """The run `spec` asks for, priced from `prices`, and where it is released."""
    compute, hub = spec.compute, spec.hub
    publish = f"{hub.repo_id}@{hub.branch}" if hub.repo_id else None
    planned = members(spec)
    release = {
        "publish": publish,
        "deploy": spec.deploy.target if publish and spec.deploy.enabled else None,
        "endpoint": endpoint_cost(spec),
        "models": tuple(member.label for member in planned) if len(planned) > 1 else (),
    }
    if compute.backend not in REMOTE_BACKENDS:
        return RunEstimate(
            compute.backend, "local", compute.timeout, 0.0, None, "no Hub charge", **release
        )
    try:
        flavor = choose_flavor(prices.flavors, compute.hardware)
    except UserError as error:
        note = error.problems[0].message
        hardware = str(compute.hardware)
        return RunEstimate(compute.backend, hardware, compute.timeout, None, None, note, **release)
    ceiling = CostCeiling(flavor, compute.timeout)
    note = "Spaces bill like Jobs" if compute.backend == "autotrain-spaces" else ""
    remote = remote_trainings(spec)
    if remote > 1:
        note = ", ".join(filter(None, [note, f"{remote} trainings at this price each"]))
    return RunEstimate(
        compute.backend,
        flavor.name,
        compute.timeout,
        round(ceiling.max_usd * remote, 2),
        round(flavor.usd_per_second * 3600, 4),
        note,
        **release,
    )
