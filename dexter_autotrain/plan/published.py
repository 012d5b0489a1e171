"""The numbers of a job's last published evaluation, read from its Hub repository (only with
a token: `plan` never asks the Hub anything anonymously about a private repo)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from dexter_autotrain.errors import ToolError
from dexter_autotrain.evaluation.gates import check_gates
from dexter_autotrain.plan.card_preview import PUBLISHED_FILES, Numbers, placeholder_numbers
from dexter_autotrain.record import REPEATS_FILE, RepeatsRecord
from dexter_autotrain.report_record import EvaluationReport, Gates
from dexter_autotrain.spec import JobSpec

if TYPE_CHECKING:
    from huggingface_hub import HfApi


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
            for name in PUBLISHED_FILES
        ]
    except (RepositoryNotFoundError, RevisionNotFoundError, RemoteEntryNotFoundError):
        return placeholder_numbers(spec, f"nothing published at {where} yet")
    except (HfHubHTTPError, ToolError, OSError) as error:
        return placeholder_numbers(spec, f"the Hub did not answer ({type(error).__name__})")
    try:
        evaluation = EvaluationReport.read(files[0])
    except ToolError:  # its message holds a local cache path, not for a pull request
        return placeholder_numbers(spec, f"the evaluation published at {where} is unreadable")
    source = f"published evaluation of run {evaluation.run_id} ({where}), gated by this spec"
    report = json.loads(files[1].read_text())
    repeats = _repeats(api, spec.hub.repo_id, spec.hub.branch)
    if repeats and (spread := repeats.spread_text(evaluation.primary_metric)):
        source += f"; {evaluation.primary_metric} over seeds {spread}"
    return Numbers(_regated(spec, evaluation), report, evaluation.run_id, source, repeats)


def _repeats(api: HfApi, repo_id: str, branch: str) -> RepeatsRecord | None:
    """The published job's every model and spread (`repeats.json`; None: one model, or
    unreadable: the card preview then shows no spread)."""
    from huggingface_hub.errors import HfHubHTTPError

    try:
        path = Path(api.hf_hub_download(repo_id, REPEATS_FILE, revision=branch))
        return RepeatsRecord.model_validate_json(path.read_bytes())
    except (HfHubHTTPError, ToolError, OSError, ValidationError):
        return None


def _regated(spec: JobSpec, evaluation: EvaluationReport) -> EvaluationReport:
    """The published numbers judged by `spec`'s gates, so a changed threshold shows whether
    the published model would pass it (the comparison with an earlier published model,
    which only a run makes, is left out)."""
    rows = check_gates(
        spec,
        evaluation.overall.metrics,
        evaluation.slices,
        evaluation.fairness,
        evaluation.baseline.lift if evaluation.baseline else None,
    )
    gates = Gates(passed=all(row.passed for row in rows), rows=rows)
    return evaluation.model_copy(update={"gates": gates})
