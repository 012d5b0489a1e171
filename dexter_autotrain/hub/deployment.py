"""What a deployment is and what every kind of it shares: the record a run keeps under
`deployed` (and its card shows), the refusal of an unpublished run, and the smoke and
parity test of a running model."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from dexter_autotrain.errors import UserError
from dexter_autotrain.hub.parity import Parity, check_parity, parity_examples
from dexter_autotrain.hub.retry import Report, RetryPolicy
from dexter_autotrain.record import Deployed, Published, RunState
from dexter_autotrain.runs import Run
from dexter_autotrain.spec import JobSpec


class Deployment(Deployed):
    """Where a run's model is served: the run's `deployed` record (`record.Deployed`), and
    whether this deploy changed it.

    Attributes:
        target: `endpoint` or `local`.
        name: the endpoint's name (`serve` for a local server).
        namespace: the endpoint's namespace (None for a local server).
        url: where to send requests.
        repository / revision: what it serves (the published repo and commit; a local
            server of an unpublished run serves its model folder, with no revision).
        status: `running`, `paused`, `scaledToZero` ...
        parity: the smoke and parity test's counts (None when nothing changed).
        process: a local server's pid and start time.
        changed: False when the deploy found it already in place (not recorded, not
            dumped).
    """

    model_config = ConfigDict(frozen=True)

    changed: bool = Field(True, exclude=True)

    def record(self) -> Deployed:
        """What the run's state keeps under `deployed`: every field but `changed`."""
        return Deployed.model_validate(self.model_dump())

    def to_json(self) -> dict[str, Any]:
        """What `deploy --json` prints: every field of the record (parity and process too
        when None), then `changed`."""
        return self.model_dump(mode="json") | {"changed": self.changed}


def require_published(run: Run, state: RunState) -> Published:
    """The run's `published` record, or a refusal.

    Raises:
        [`UserError`]: the run was not published (exit code 2).
    """
    published = state.published
    if not published:
        raise UserError(
            f"{run.path}: the run is not published (state {state.state}); an endpoint "
            f"serves a published commit: run `dexter-auto publish {run.path}` first"
        )
    return published


def run_parity(
    run: Run, spec: JobSpec, url: str, token: str | None, report: Report, policy: RetryPolicy
) -> Parity:
    """The smoke and parity test of the model at `url` on the run's evaluation examples."""
    split = run.state().verdict().split
    examples = parity_examples(run.path, spec.task, split, spec.deploy.parity_examples)
    report(f"parity: {len(examples)} {split} examples through InferenceClient")
    parity = check_parity(url, token, spec.task, examples, report, policy)
    report(f"parity: {parity.matching}/{parity.compared} answers equal the run's predictions")
    return parity


def parity_shortfall(parity: Parity, spec: JobSpec) -> str:
    """Why a parity test failed, in one line."""
    return (
        f"parity {parity.share:.3f} ({parity.matching}/{parity.compared}) is below "
        f"deploy.min_parity {spec.deploy.min_parity:g}; {parity.mismatch}"
    )


def record_deployment(
    run: Run, deployment: Deployment | None, report: Report = lambda line: None
) -> None:
    """Keep `deployment` in the run's state (None: it was deleted) and write the card again,
    so it says where the model is served, here and on the Hub (`card_update.push_card`)."""
    from dexter_autotrain.cards.write import write_card
    from dexter_autotrain.hub.card_update import push_card

    recorded = deployment.model_dump(mode="json") if deployment else None
    state = run.update(deployed=recorded)
    write_card(run.path, run.spec(state), run.spec_folder(state), None, state.smoke)
    push_card(run, report)
