"""Train on Hugging Face compute: an HF Job running AutoTrain's image.

`start` stages the run's inputs in one commit of a private dataset repo (`staging.py`),
prices the flavor (`job_cost.py`) and starts the job with the token as a secret; the job
downloads its inputs at the staged commit, trains with `runner_scripts/train.py` as the
local backend does, and uploads the model folder to the staging repo (`hf_job.py`, which
prints the results commit). `poll`, `logs` and `cancel` go to the Jobs API; `collect`
downloads the model at the results commit and records the job's duration and cost. The
token is read from `hub/auth.py` on each call and never leaves the client and the job's
secrets: not in the job's env, the handle, the state, a log line or an error.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dexter_autotrain.backends.base import Handle, Phase, Poll
from dexter_autotrain.backends.hub_calls import hub_calls, hub_client
from dexter_autotrain.backends.job_cost import (
    CostCeiling,
    Flavor,
    choose_flavor,
    list_flavors,
)
from dexter_autotrain.backends.local import scrub_tokens
from dexter_autotrain.backends.staging import (
    REPO_TYPE,
    Staging,
    stage,
    staged_files,
    staging_repo_id,
)
from dexter_autotrain.errors import ToolError
from dexter_autotrain.hub.auth import identity_of
from dexter_autotrain.hub.failures import hub_failures
from dexter_autotrain.hub.retry import Report, RetryPolicy, with_retries
from dexter_autotrain.policy.cost_caps import require_within, run_breaches
from dexter_autotrain.policy.operator import DEFAULT_IMAGE, OperatorPolicy, require
from dexter_autotrain.policy.prices import timeout_seconds
from dexter_autotrain.runner_scripts.hf_job import RESULTS_MARKER
from dexter_autotrain.runs import Run
from dexter_autotrain.training.render import CONFIG_FILE_NAME, OPTIONS_FILE_NAME

if TYPE_CHECKING:
    from huggingface_hub import HfApi

JOB_LABEL, RUN_LABEL = "dexter-job", "dexter-run"
PHASES: dict[str, Phase] = {
    "SCHEDULING": "starting",
    "RUNNING": "running",
    "COMPLETED": "completed",
    "ERROR": "failed",
    "DELETED": "failed",
    "CANCELED": "cancelled",
}
CAUSE_LINES = 15
JOB_ENV = {"PYTHONUNBUFFERED": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1"}
"""The environment every job of the toolkit runs with (lines reach the log as printed)."""
BOOTSTRAP = """\
import os, sys, tempfile
from huggingface_hub import snapshot_download
repo, commit, prefix, script, *rest = sys.argv[1:]
root = snapshot_download(repo, repo_type="dataset", revision=commit,
                         allow_patterns=[prefix + "/*"], local_dir=tempfile.mkdtemp())
work = os.path.join(root, prefix)
script = os.path.join(work, "scripts", script)
os.execv(sys.executable, [sys.executable, script, repo, commit, prefix, work, *rest])
"""
"""The job's command (`python -c BOOTSTRAP REPO COMMIT PREFIX SCRIPT [ARGS...]`): download
the staged folder at its pinned commit, then hand over to the staged script (`hf_job.py`
for a training, `predict_job.py` for a prediction)."""


@dataclass
class HfJobsBackend:
    """The `hf-jobs` backend (see the module docstring).

    Attributes:
        report: receives the cost ceiling before a job starts and one line per retry
            (default: stderr, beside submit's own lines).
        policy: retries of the Hub calls the client does not retry itself.
    """

    report: Report = field(default=lambda line: print(f"hf-jobs: {line}", file=sys.stderr))
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    name: str = "hf-jobs"

    def cost_ceiling(self, run: Run) -> CostCeiling:
        """The most the run can cost: its flavor's price for all of `compute.timeout`.

        Raises:
            [`UserError`]: `compute.hardware` is not a flavor the Hub offers.
            [`HubAccessError`]: no token, or one the Hub refuses.

        Example:
            ```python
            >>> HfJobsBackend().cost_ceiling(run).line()
            'at most $20.00: a100x4 at $10.00/h for compute.timeout 2h'
            ```
        """
        api, token = hub_client()
        compute = run.spec().compute
        with hub_calls(self.report, token, "the Jobs hardware list", "no job was started"):
            flavor = choose_flavor(list_flavors(api, self.report, self.policy), compute.hardware)
        return CostCeiling(flavor, compute.timeout)

    def start(self, run: Run) -> Handle:
        """Stage the inputs, report the cost ceiling, start the job; the handle names it."""
        spec = run.spec()
        operator = OperatorPolicy.load()
        require("compute.image", operator.image_problem(spec.compute.image))
        ceiling = self.cost_ceiling(run)
        require_within(run_breaches(spec, operator.caps, ceiling.usd_per_hour))
        api, token = hub_client()
        with hub_calls(self.report, token, "whoami", "no job was started"):
            identity = identity_of(with_retries(api.whoami, "whoami", self.report, self.policy))
        repo_id = staging_repo_id(spec, identity.user)
        require("compute.staging_repo", operator.staging_problem(repo_id, spec.hub.repo_id))
        identity.require_write(repo_id.split("/")[0])
        files = staged_files(run, job_manifest(run, ceiling.flavor))
        with hub_calls(self.report, token, repo_id, "no job was started"):
            staging = stage(api, repo_id, run, files, self.report, self.policy)
            self.report(ceiling.line())
            job = with_retries(
                lambda: _started(api, run, staging) or _run_job(api, run, staging, ceiling, token),
                f"start the HF Job for {run.job}/{run.run_id}",
                self.report,
                self.policy,
            )
        return Handle(
            self.name,
            job.id,
            {"job": job.url, "inputs": _tree_url(api, staging)},
            {
                "namespace": job.owner.name,
                "flavor": ceiling.flavor.name,
                "usd_per_second": ceiling.flavor.usd_per_second,
                "max_cost_usd": ceiling.max_usd,
                "staging_repo": staging.repo_id,
                "staging_prefix": staging.prefix,
                "staging_commit": staging.commit,
            },
        )

    def poll(self, handle: Handle) -> Poll:
        """The job's stage as a phase, with the Hub's message."""
        job = self._inspect(handle)
        message = job.status.stage + (f": {job.status.message}" if job.status.message else "")
        return Poll(PHASES.get(job.status.stage, "running"), message)

    def logs(self, handle: Handle, follow: bool) -> Iterator[str]:
        """The job's log lines from the start; with `follow`, until the job ends. (The client
        retries a broken stream itself; its retry reports are left alone here, as a follower
        runs in a thread beside the polling, and the logger is process-wide.)"""
        api, token = hub_client()
        with hub_failures(token, f"HF Job {handle.id}", "its logs are still on the Hub"):
            for line in api.fetch_job_logs(
                job_id=handle.id, namespace=handle.details["namespace"], follow=follow
            ):
                yield line.replace(token, "***") if token in line else line

    def cancel(self, handle: Handle) -> None:
        """Cancel the job unless it has ended already."""
        if self.poll(handle).finished:
            return
        api, token = hub_client()
        with hub_calls(self.report, token, f"HF Job {handle.id}", "the job may still be running"):
            with_retries(
                lambda: api.cancel_job(job_id=handle.id, namespace=handle.details["namespace"]),
                f"cancel HF Job {handle.id}",
                self.report,
                self.policy,
            )

    def collect(self, handle: Handle, run: Run) -> None:
        """Download the trained model at the results commit into the run's model folder and
        record the job's duration and cost (`remote_job` in the state).

        Raises:
            [`ToolError`]: the job did not complete, or uploaded no model; the message holds
                the job's last log lines.
        """
        job = self._inspect(handle)
        lines = list(self.logs(handle, follow=False))
        results = results_commit(lines)
        if job.status.stage != "COMPLETED" or results is None:
            raise ToolError(_failure(handle, job.status, lines))
        _download_model(handle, results, run)
        run.update(remote_job=remote_record(handle, job, results))

    def _inspect(self, handle: Handle):
        api, token = hub_client()
        with hub_calls(self.report, token, f"HF Job {handle.id}", "the job itself is unaffected"):
            return with_retries(
                lambda: api.inspect_job(job_id=handle.id, namespace=handle.details["namespace"]),
                f"inspect HF Job {handle.id}",
                self.report,
                self.policy,
            )


def job_manifest(run: Run, flavor: Flavor) -> dict[str, Any]:
    """`job.json`: what the in-job script needs beyond the config, including the launch that
    trains on every GPU of the flavor (AutoTrain's own for several GPUs: one process per GPU
    through `accelerate launch --multi_gpu`, which the training script starts).

    Example:
        ```python
        >>> job_manifest(run, flavors["a100x4"])["launch"]
        'accelerate launch --multi_gpu --num_machines 1 --num_processes 4 scripts/train.py ...'
        ```
    """
    script = f"scripts/train.py {CONFIG_FILE_NAME} {OPTIONS_FILE_NAME}"
    launch = (
        f"accelerate launch --multi_gpu --num_machines 1 --num_processes {flavor.gpus} {script}"
        if flavor.gpus > 1
        else f"python {script}"
    )
    return {
        "job": run.job,
        "run_id": run.run_id,
        "flavor": flavor.name,
        "gpus": flavor.gpus,
        "launch": launch,
        "model_dir": run.model_folder().name,
    }


def _run_job(api: HfApi, run: Run, staging: Staging, ceiling: CostCeiling, token: str):
    spec = run.spec()
    return api.run_job(
        image=spec.compute.image or DEFAULT_IMAGE,
        command=[
            "python",
            "-c",
            BOOTSTRAP,
            staging.repo_id,
            staging.commit,
            staging.prefix,
            "hf_job.py",
        ],
        env=JOB_ENV,
        secrets={"HF_TOKEN": token},
        flavor=ceiling.flavor.name,
        timeout=timeout_seconds(ceiling.timeout),
        name=f"dexter-{run.job}-{run.run_id}",
        labels={JOB_LABEL: run.job, RUN_LABEL: run.run_id},
        namespace=staging.repo_id.split("/")[0],
    )


def _started(api: HfApi, run: Run, staging: Staging):
    """The job an earlier try started for these staged inputs, if its reply was lost: starting
    a job is not idempotent, so a retry looks first (a resumed run stages, and so starts,
    anew)."""
    listed = api.list_jobs(labels={RUN_LABEL: run.run_id}, namespace=staging.repo_id.split("/")[0])
    return next((job for job in listed if staging.commit in (job.command or [])), None)


def _tree_url(api: HfApi, staging: Staging) -> str:
    return f"{api.endpoint}/datasets/{staging.repo_id}/tree/{staging.commit}/{staging.prefix}"


def results_commit(lines: list[str]) -> str | None:
    """The commit a job's script announced with `RESULTS_MARKER` (the last), or None."""
    found = [line.split(RESULTS_MARKER, 1)[1].strip() for line in lines if RESULTS_MARKER in line]
    return found[-1] if found else None


def _failure(handle: Handle, status, lines: list[str]) -> str:
    said = f" ({status.message})" if status.message else ""
    if status.stage == "COMPLETED":
        what = f"HF Job {handle.id} completed without uploading a model"
    else:
        what = f"HF Job {handle.id} ended {status.stage}{said}"
    tail = "\n".join(lines[-CAUSE_LINES:]) or "(the job logged nothing)"
    return f"{what}; its last log lines:\n{tail}\njob: {handle.urls.get('job', handle.id)}"


def _download_model(handle: Handle, commit: str, run: Run) -> None:
    """The job's model folder at `commit`, into the run's model folder (replacing it)."""
    from huggingface_hub import snapshot_download

    details = handle.details
    results = f"{details['staging_prefix']}/model"
    model_dir = run.model_folder()
    api, token = hub_client()
    with (
        tempfile.TemporaryDirectory(dir=run.path, prefix=".collect-") as scratch,
        hub_failures(token, details["staging_repo"], "the model stays in the staging repo"),
    ):
        snapshot_download(
            details["staging_repo"],
            repo_type=REPO_TYPE,
            revision=commit,
            allow_patterns=[f"{results}/*"],
            local_dir=scratch,
            token=token,
            endpoint=api.endpoint,
        )
        shutil.rmtree(model_dir, ignore_errors=True)
        shutil.move(f"{scratch}/{results}", model_dir)
    scrub_tokens(model_dir)


def remote_record(handle: Handle, job, results_commit: str) -> dict[str, Any]:
    """What the run keeps of the job: where it ran, for how long, and what it cost."""
    durations = job.durations
    seconds = durations.running_secs if durations and durations.running_secs else None
    if seconds is None and job.started_at and job.finished_at:
        seconds = (job.finished_at - job.started_at).total_seconds()
    seconds = round(float(seconds or 0), 1)
    return {
        "backend": handle.kind,
        "job_id": handle.id,
        "url": handle.urls.get("job"),
        "flavor": handle.details["flavor"],
        "seconds": seconds,
        "cost_usd": round(seconds * handle.details["usd_per_second"], 6),
        "max_cost_usd": handle.details["max_cost_usd"],
        "results": f"{handle.details['staging_repo']}@{results_commit}",
    }
