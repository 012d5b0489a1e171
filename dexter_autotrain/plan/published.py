"""The numbers of a job's last published evaluation, read from its Hub repository (only with
a token: `plan` never asks the Hub anything anonymously about a private repo)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dexter_autotrain.errors import ToolError
from dexter_autotrain.evaluation.gates import check_gates, gates_to_dicts
from dexter_autotrain.plan.card_preview import Numbers, placeholder_numbers
from dexter_autotrain.spec import JobSpec


def card_numbers(spec: JobSpec, token: str | None) -> Numbers:
    """The published evaluation of `spec`'s repo at `hub.branch`, else placeholders saying why.

    Example:
        >>> card_numbers(load_spec("jobs/narrative.yaml").spec, None).source
        'not yet evaluated: no Hugging Face token to read the published evaluation'
    """
    if spec.hub.repo_id is None:
        return placeholder_numbers(spec, "the job publishes nowhere (no hub.repo_id)")
    if token is None:
        return placeholder_numbers(spec, "no Hugging Face token to read the published evaluation")
    from huggingface_hub import HfApi
    from huggingface_hub.errors import (
        HfHubHTTPError,
        RemoteEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    api, where = HfApi(token=token), f"{spec.hub.repo_id}@{spec.hub.branch}"
    try:
        files = [
            Path(api.hf_hub_download(spec.hub.repo_id, name, revision=spec.hub.branch))
            for name in ("evaluation.json", "data-report.json")
        ]
    except (RepositoryNotFoundError, RevisionNotFoundError, RemoteEntryNotFoundError):
        return placeholder_numbers(spec, f"nothing published at {where} yet")
    except (HfHubHTTPError, ToolError, OSError) as error:
        return placeholder_numbers(spec, f"the Hub did not answer ({type(error).__name__})")
    evaluation, report = (json.loads(path.read_text()) for path in files)
    run_id = str(evaluation.get("run_id", "?"))
    source = f"published evaluation of run {run_id} ({where}), gated by this spec"
    return Numbers(_regated(spec, evaluation), report, run_id, source)


def _regated(spec: JobSpec, evaluation: dict[str, Any]) -> dict[str, Any]:
    """The published numbers judged by `spec`'s gates, so a changed threshold shows whether
    the published model would pass it (the comparison with an earlier published model,
    which only a run makes, is left out)."""
    baseline = evaluation.get("baseline") or {}
    rows = check_gates(
        spec,
        evaluation["overall"]["metrics"],
        evaluation.get("slices", {}),
        evaluation.get("fairness"),
        baseline.get("lift"),
    )
    passed = all(row.passed for row in rows)
    return evaluation | {"gates": {"passed": passed, "rows": gates_to_dicts(rows)}}
