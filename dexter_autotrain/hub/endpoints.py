"""The Inference Endpoint a spec's `deploy:` section declares, and the calls around it.

huggingface_hub does the HTTP (`create_inference_endpoint`, `get_inference_endpoint`,
`update_inference_endpoint`, `InferenceEndpoint.wait`); this module builds the request from
the spec, pinned to the run's published commit, and waits with one progress line per state.
Call `apply_endpoints_url()` before any of it (see `endpoints_url`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dexter_autotrain.errors import UserError
from dexter_autotrain.hub.retry import Report
from dexter_autotrain.policy.cost_caps import endpoint_breaches, require_within
from dexter_autotrain.policy.operator import OperatorPolicy
from dexter_autotrain.spec import JobSpec

if TYPE_CHECKING:
    from huggingface_hub import HfApi, InferenceEndpoint

POLL_S = 1.0  # seconds between two looks at a starting endpoint
NAME_MAX = 32  # characters of an endpoint name (the API refuses longer ones)


@dataclass(frozen=True)
class EndpointPlan:
    """What the endpoint should be: where it lives, what it serves, on what hardware."""

    name: str
    namespace: str
    repository: str
    revision: str
    task: str
    framework: str
    type: str
    vendor: str
    region: str
    accelerator: str
    instance_type: str
    instance_size: str
    min_replica: int
    max_replica: int
    scale_to_zero_timeout: int | None

    @classmethod
    def of(cls, spec: JobSpec, repository: str, revision: str) -> EndpointPlan:
        """The spec's endpoint, serving `repository` at commit `revision`, in the repo's
        namespace, named `deploy.name` (default: the job's name).

        Raises:
            [`UserError`]: the endpoint would break the operator's caps on replicas or on
                its cost a day (checked here, where every create and update starts).

        Example:
            ```python
            >>> EndpointPlan.of(spec, "dexter-ng/narrative", "3f2a9c1...").name
            'narrative'
            ```
        """
        require_within(endpoint_breaches(spec, OperatorPolicy.load().caps))
        deploy = spec.deploy
        return cls(
            name=deploy.name or spec.name,
            namespace=repository.split("/")[0],
            repository=repository,
            revision=revision,
            task=deploy.task or spec.task,
            framework=deploy.framework,
            type=deploy.type,
            vendor=deploy.vendor,
            region=deploy.region,
            accelerator=deploy.accelerator,
            instance_type=deploy.instance_type,
            instance_size=deploy.instance_size,
            min_replica=deploy.min_replicas,
            max_replica=deploy.max_replicas,
            scale_to_zero_timeout=deploy.scale_to_zero_minutes
            if deploy.min_replicas == 0
            else None,
        )

    def settings(self) -> dict[str, Any]:
        """What create and update send, beyond the name and namespace."""
        return {
            "repository": self.repository,
            "revision": self.revision,
            "task": self.task,
            "framework": self.framework,
            "accelerator": self.accelerator,
            "instance_type": self.instance_type,
            "instance_size": self.instance_size,
            "min_replica": self.min_replica,
            "max_replica": self.max_replica,
            "scale_to_zero_timeout": self.scale_to_zero_timeout,
        }

    def serves(self, endpoint: InferenceEndpoint) -> bool:
        """Whether `endpoint` already serves this repo at this revision."""
        return (endpoint.repository, endpoint.revision) == (self.repository, self.revision)


def check_endpoint_name(spec: JobSpec, where: str) -> None:
    """Refuse an endpoint name the API would refuse, before any call.

    Raises:
        [`UserError`]: the name (`deploy.name`, else the job's) is longer than NAME_MAX
            (exit code 2).
    """
    name = spec.deploy.name or spec.name
    if len(name) > NAME_MAX:
        raise UserError(
            f"{where}: deploy.name: `{name}` is longer than the {NAME_MAX} characters of an "
            "endpoint name; set a shorter deploy.name"
        )


def find_endpoint(api: HfApi, name: str, namespace: str) -> InferenceEndpoint | None:
    """The endpoint, or None when there is none of that name."""
    from huggingface_hub.errors import HfHubHTTPError

    try:
        return api.get_inference_endpoint(name, namespace=namespace)
    except HfHubHTTPError as error:
        if error.response is not None and error.response.status_code == 404:
            return None
        raise


def create_endpoint(api: HfApi, plan: EndpointPlan) -> InferenceEndpoint:
    """Create the planned endpoint (it starts in the background)."""
    return api.create_inference_endpoint(
        plan.name,
        namespace=plan.namespace,
        vendor=plan.vendor,
        region=plan.region,
        type=plan.type,
        **plan.settings(),
    )


def update_endpoint(api: HfApi, plan: EndpointPlan) -> InferenceEndpoint:
    """Move the existing endpoint to the plan (a new revision restarts it)."""
    return api.update_inference_endpoint(plan.name, namespace=plan.namespace, **plan.settings())


def wait_running(endpoint: InferenceEndpoint, timeout_s: float, report: Report) -> None:
    """Wait until the endpoint runs and its health route answers 200, one line per state.

    Raises:
        [`InferenceEndpointError`]: it went `failed` or `updateFailed`.
        [`InferenceEndpointTimeoutError`]: it did not run within `timeout_s`.
    """
    from huggingface_hub.errors import InferenceEndpointTimeoutError

    deadline = time.monotonic() + timeout_s
    seen = None
    while True:
        if endpoint.status != seen:
            seen = endpoint.status
            report(f"endpoint {endpoint.name}: {seen}")
        try:
            endpoint.wait(timeout=POLL_S, refresh_every=POLL_S)  # type: ignore[arg-type]
            report(f"endpoint {endpoint.name}: running, {endpoint.health_route} answers 200")
            return
        except InferenceEndpointTimeoutError:
            if time.monotonic() > deadline:
                raise InferenceEndpointTimeoutError(
                    f"not running after {timeout_s:g} s (still {endpoint.status})"
                ) from None


def failure_message(endpoint: InferenceEndpoint) -> str:
    """What the API says about a failed endpoint, or its state."""
    status = endpoint.raw.get("status") or {}
    return str(status.get("message") or endpoint.status)
