"""`change_deployment`: pause, resume or delete what `deploy` set up for a run (an Inference
Endpoint, or a local `dexter-auto serve`), recorded in the run and its card."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from dexter_autotrain.errors import UserError
from dexter_autotrain.hub.auth import require_token
from dexter_autotrain.hub.deployment import Deployment, record_deployment
from dexter_autotrain.hub.endpoints import wait_running
from dexter_autotrain.hub.endpoints_url import apply_endpoints_url
from dexter_autotrain.hub.failures import hub_failures
from dexter_autotrain.hub.local_deploy import start_serve, stop_local
from dexter_autotrain.hub.retry import Report, reported_retries
from dexter_autotrain.runs import Run

if TYPE_CHECKING:
    from huggingface_hub import HfApi, InferenceEndpoint

Action = Literal["pause", "resume", "delete"]


def change_deployment(
    run: Run, action: Action, *, report: Report = lambda line: None
) -> Deployment | None:
    """Pause, resume or delete the run's deployment.

    Args:
        run (`Run`): a deployed run.
        action (`str`): `pause` (stops it, keeps it), `resume` (starts it again and waits
            until it runs) or `delete`.
        report (`Callable[[str], None]`, *optional*): progress lines.

    Returns:
        `Deployment` or `None`: the deployment as it is now (None once deleted), recorded
        in the run's state as `deployed` and in its card.

    Raises:
        [`UserError`]: the run was never deployed (exit code 2).
        [`HubAccessError`] / [`ToolError`]: the Endpoints API refused or failed.

    Example:
        ```python
        >>> change_deployment(find_run("narrative"), "pause").status
        'paused'
        ```
    """
    state = run.state()
    recorded = state.deployed
    if recorded is None:
        raise UserError(
            f"{run.path}: the run is not deployed; run `dexter-auto deploy {run.path}` first"
        )
    deployment = Deployment(**dict(recorded))
    if deployment.target == "local":
        changed = _change_local(run, deployment, action, report)
    else:
        changed = _change_endpoint(run, deployment, action, report)
    record_deployment(run, changed, report)
    return changed


def _change_local(
    run: Run, deployment: Deployment, action: Action, report: Report
) -> Deployment | None:
    stop_local(deployment.process)
    if action == "delete":
        return None
    if action == "pause":
        return deployment.model_copy(update={"status": "paused", "process": None})
    source = deployment.repository and f"hub:{deployment.repository}@{deployment.revision}"
    source = source or str(run.model_folder())
    url, process = start_serve(source, run.path / "logs", report)
    return deployment.model_copy(update={"url": url, "status": "running", "process": process})


def _change_endpoint(
    run: Run, deployment: Deployment, action: Action, report: Report
) -> Deployment | None:
    from huggingface_hub import HfApi

    token = require_token()
    apply_endpoints_url()
    api = HfApi(token=token)
    name, namespace = deployment.name, deployment.namespace
    where = f"endpoint {namespace}/{name}"
    with reported_retries(report), hub_failures(token, where, f"{action} did not happen"):
        if action == "delete":
            api.delete_inference_endpoint(name, namespace=namespace)
            report(f"{where} deleted")
            return None
        endpoint = _paused_or_resumed(api, name, namespace, action)
        if action == "resume":
            wait_running(endpoint, run.spec().deploy.wait_minutes * 60, report)
        report(f"{where}: {endpoint.status}")
    status, url = str(endpoint.status), endpoint.url or deployment.url
    return deployment.model_copy(update={"status": status, "url": url})


def _paused_or_resumed(
    api: HfApi, name: str, namespace: str | None, action: Action
) -> InferenceEndpoint:
    if action == "pause":
        return api.pause_inference_endpoint(name, namespace=namespace)
    return api.resume_inference_endpoint(name, namespace=namespace)
