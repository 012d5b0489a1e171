"""`deploy_run`: a published run to the Inference Endpoint its spec declares, checked and
recorded; `change_deployment`: pause, resume or delete it.

Order: local refusals (not published), then the token, then the endpoint: created, or
updated to the run's commit, or left alone when it already serves that commit (a no-op).
A created or updated endpoint must run, and its answers on `deploy.parity_examples`
evaluation examples must equal the run's own predictions in at least `deploy.min_parity` of
cases; otherwise the endpoint goes back to the revision it served before (a new endpoint is
deleted) and the deploy fails with the cause. `deploy.target: local` starts `dexter-auto
serve` on this machine instead (`local_deploy`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dexter_autotrain.errors import HubUnavailable, ToolError, UserError
from dexter_autotrain.hub.auth import require_token
from dexter_autotrain.hub.deployment import (
    Deployment,
    parity_shortfall,
    record_deployment,
    require_published,
    run_parity,
)
from dexter_autotrain.hub.endpoints import (
    EndpointPlan,
    check_endpoint_name,
    create_endpoint,
    failure_message,
    find_endpoint,
    update_endpoint,
    wait_running,
)
from dexter_autotrain.hub.endpoints_url import apply_endpoints_url
from dexter_autotrain.hub.failures import hub_failures
from dexter_autotrain.hub.local_deploy import deploy_local
from dexter_autotrain.hub.parity import Parity
from dexter_autotrain.hub.retry import DEFAULT_POLICY, Report, RetryPolicy, reported_retries
from dexter_autotrain.runs import Run
from dexter_autotrain.spec import JobSpec

if TYPE_CHECKING:
    from huggingface_hub import HfApi, InferenceEndpoint

STEADY = frozenset({"running", "scaledToZero", "initializing", "pending", "updating"})


def deploy_run(
    run: Run, *, report: Report = lambda line: None, policy: RetryPolicy = DEFAULT_POLICY
) -> Deployment:
    """Deploy the run as its spec's `deploy:` section says, check it, record it.

    Args:
        run (`Run`): the run; for `deploy.target: endpoint` it must be published.
        report (`Callable[[str], None]`, *optional*): progress, and one line per retry.
        policy (`RetryPolicy`, *optional*): retries of the parity requests.

    Returns:
        `Deployment`: also recorded in the run's state as `deployed` and in its card (the
        stage's completion is the pipeline's, or `actions.deploy`'s when run on its own).

    Raises:
        [`UserError`]: the run is not published (exit code 2).
        [`HubAccessError`]: no token, or one the Endpoints API refuses (exit code 2).
        [`ToolError`]: the endpoint did not start or failed the parity test (it was rolled
            back), or the API failed.

    Example:
        ```python
        >>> deploy_run(find_run("narrative"), report=print).url
        'https://xyz.us-east-1.aws.endpoints.huggingface.cloud'
        ```
    """
    state = run.state()
    spec = run.spec(state)
    published = state.published
    if published is not None and (review := published.review) and published.awaiting_merge:
        raise UserError(
            f"{run.path}: published for review and not merged yet ({review.url}, "
            f"{review.status}); deploy after `dexter-auto publish {run.path} --merge`"
        )
    if spec.deploy.target == "local":
        deployment = deploy_local(run, spec, report)
    else:
        check_endpoint_name(spec, str(run.path / "spec.yaml"))
        published = require_published(run, state)
        plan = EndpointPlan.of(spec, published.repo_id, published.commit)
        deployment = _deploy_endpoint(run, spec, plan, report, policy)
    recorded = state.deployed
    if not deployment.changed and recorded and recorded.url == deployment.url:
        deployment = deployment.model_copy(update={"parity": recorded.parity})  # the last test's
    if deployment.changed or recorded != deployment.record():
        record_deployment(run, deployment, report)
    return deployment


def _deploy_endpoint(
    run: Run, spec: JobSpec, plan: EndpointPlan, report: Report, policy: RetryPolicy
) -> Deployment:
    from huggingface_hub import HfApi

    token = require_token()
    apply_endpoints_url()
    api = HfApi(token=token)
    where = f"endpoint {plan.namespace}/{plan.name}"
    with reported_retries(report), hub_failures(token, where, "the endpoint was left as it was"):
        current = find_endpoint(api, plan.name, plan.namespace)
        if current is not None and plan.serves(current) and current.status in STEADY:
            report(f"{where} already serves {plan.repository}@{plan.revision[:12]}")
            return _deployment(current, plan, None, changed=False)
        previous = None if current is None else (current.repository, current.revision)
        report(f"{'updating' if current else 'creating'} {where} at {plan.revision[:12]}")
        endpoint = update_endpoint(api, plan) if current else create_endpoint(api, plan)
        parity, cause = _start_and_check(run, spec, endpoint, token, report, policy)
        if cause is not None:
            raise ToolError(f"{where}: {cause}; {_roll_back(api, plan, previous, spec, report)}")
    return _deployment(endpoint, plan, parity)


def _start_and_check(
    run: Run,
    spec: JobSpec,
    endpoint: InferenceEndpoint,
    token: str,
    report: Report,
    policy: RetryPolicy,
) -> tuple[Parity | None, str | None]:
    """Wait for the endpoint, then the parity test: its result, and why it failed (or None)."""
    from huggingface_hub.errors import (
        HfHubHTTPError,
        InferenceEndpointError,
        InferenceEndpointTimeoutError,
    )

    try:
        wait_running(endpoint, spec.deploy.wait_minutes * 60, report)
    except InferenceEndpointError:
        return None, f"it did not start ({failure_message(endpoint)})"
    except InferenceEndpointTimeoutError as error:
        return None, f"it did not start: {error}"
    assert endpoint.url is not None  # running, so it has a URL
    try:
        parity = run_parity(run, spec, endpoint.url, token, report, policy)
    except (HfHubHTTPError, HubUnavailable) as error:
        return None, f"its answers could not be read ({str(error).splitlines()[0][:200]})"
    if parity.share < spec.deploy.min_parity:
        return parity, parity_shortfall(parity, spec)
    return parity, None


def _roll_back(
    api: HfApi,
    plan: EndpointPlan,
    previous: tuple[str, str] | None,
    spec: JobSpec,
    report: Report,
) -> str:
    """Undo a failed deploy: delete a new endpoint, or put back the revision it served."""
    from huggingface_hub.errors import InferenceEndpointError, InferenceEndpointTimeoutError

    if previous is None:
        report(f"rolling back: deleting the new endpoint {plan.name}")
        api.delete_inference_endpoint(plan.name, namespace=plan.namespace)
        return "the new endpoint was deleted"
    repository, revision = previous
    report(f"rolling back {plan.name} to {repository}@{revision[:12]}")
    endpoint = api.update_inference_endpoint(
        plan.name, namespace=plan.namespace, repository=repository, revision=revision
    )
    try:
        wait_running(endpoint, spec.deploy.wait_minutes * 60, report)
    except (InferenceEndpointError, InferenceEndpointTimeoutError):
        return f"rolled back to {revision[:12]}, which did not start either"
    return f"rolled back to {revision[:12]}, which runs again"


def _deployment(
    endpoint: InferenceEndpoint, plan: EndpointPlan, parity: Parity | None, changed: bool = True
) -> Deployment:
    return Deployment(
        target="endpoint",
        name=plan.name,
        namespace=plan.namespace,
        url=str(endpoint.url),
        repository=endpoint.repository,
        revision=endpoint.revision,
        status=str(endpoint.status),
        parity=parity.record() if parity else None,
        changed=changed,
    )
