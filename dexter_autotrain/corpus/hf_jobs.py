"""`predict --backend hf-jobs`: a corpus scored by N HF Jobs, each a range of its rows.

Before anything starts, the flavor is priced and the most the N jobs can cost (N times the
flavor's price for the whole timeout) is shown and held to the operator's run cap. The model,
the input and this toolkit (as a wheel built from its source) are staged in one commit of
the private staging repository `<namespace>/dexter-runs` (the output's namespace, one the
operator allows); each job downloads them at that commit, installs the wheel, scores its
range of rows with `predict` (`runner_scripts/predict_job.py`) and uploads its part files to
`PATH/job-NNN/` of the output dataset in one commit. The jobs are followed here (a line as
each changes stage; Ctrl-C cancels them) and recorded in `_jobs.json`, so the same command
run again after a kill re-attaches to them instead of starting new ones (after a cancel or
a failed job, it starts new ones).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from dexter_autotrain import __version__
from dexter_autotrain.backends.base import Handle
from dexter_autotrain.backends.hf_jobs import (
    BOOTSTRAP,
    CAUSE_LINES,
    JOB_ENV,
    HfJobsBackend,
    results_commit,
)
from dexter_autotrain.backends.hub_calls import hub_calls, hub_client
from dexter_autotrain.backends.job_cost import CostCeiling, choose_flavor, list_flavors
from dexter_autotrain.backends.staging import RUNNER_SCRIPTS, STAGING_REPO_NAME, stage_in
from dexter_autotrain.corpus.hub import HubDatasetRef
from dexter_autotrain.corpus.local import PredictOptions, PredictSummary, input_columns
from dexter_autotrain.corpus.manifest import Manifest
from dexter_autotrain.corpus.reading import Corpus
from dexter_autotrain.errors import ToolError, UserError
from dexter_autotrain.hub.retry import Report, RetryPolicy, with_retries
from dexter_autotrain.policy.operator import DEFAULT_IMAGE, OperatorPolicy, require
from dexter_autotrain.policy.prices import timeout_seconds
from dexter_autotrain.serve.model import ServedModel
from dexter_autotrain.spec.model import DURATION_PATTERN

if TYPE_CHECKING:
    from huggingface_hub import HfApi

    from dexter_autotrain.backends.staging import Staging

JOBS_RECORD = "_jobs.json"
POLL_SECONDS = 2.0
LABEL = "dexter-predict"


@dataclass(frozen=True)
class JobsPlan:
    """Where and how big: `shards` jobs of `flavor` running `image`, each for at most
    `timeout` (`30m`, `2h`)."""

    shards: int = 1
    flavor: str = "cpu-upgrade"
    timeout: str = "1h"
    image: str | None = None

    def __post_init__(self) -> None:
        """Raises [`UserError`]: a timeout that is not a duration (as `compute.timeout`)."""
        if not re.fullmatch(DURATION_PATTERN, self.timeout):
            raise UserError(
                f"--timeout {self.timeout!r}: write a number and s, m, h or d (`90m`, `2h`)"
            )


def predict_on_jobs(
    served: ServedModel,
    corpus: Corpus,
    target: HubDatasetRef,
    options: PredictOptions,
    plan: JobsPlan,
    record_folder: Path,
    report: Report,
) -> PredictSummary:
    """Score `corpus` on HF Jobs into `target`, or re-attach to the jobs a previous run of
    the same command started (their ids are in `record_folder/_jobs.json`).

    Raises:
        [`UserError`]: an image or a cost the operator does not allow, an unknown flavor.
        [`ToolError`]: a job failed; the message holds its last log lines.
    """
    record = record_folder / JOBS_RECORD
    handles = _attached(record, corpus, report)
    if handles is None:
        handles = _started(served, corpus, target, options, plan, report)
        record_folder.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps(
            {"input": corpus.fingerprint, "jobs": [h.to_dict() for h in handles]}, indent=2
        ))  # fmt: skip
    started = time.monotonic()
    try:
        commits = _followed(handles, report)
    except (KeyboardInterrupt, ToolError):
        record.unlink(missing_ok=True)  # the jobs ended: the same command starts new ones
        raise
    summary = _summary(served, target, commits)
    summary.seconds = time.monotonic() - started
    return summary


def _attached(record: Path, corpus: Corpus, report: Report) -> list[Handle] | None:
    if not record.is_file():
        return None
    saved = json.loads(record.read_text())
    if saved["input"] != corpus.fingerprint:
        raise UserError(f"{record}: its jobs scored another input; delete it to start again")
    report(f"re-attaching to the {len(saved['jobs'])} HF Jobs recorded in {record}")
    return [Handle(**job) for job in saved["jobs"]]


def _started(
    served: ServedModel,
    corpus: Corpus,
    target: HubDatasetRef,
    options: PredictOptions,
    plan: JobsPlan,
    report: Report,
) -> list[Handle]:
    """Priced, checked against the caps, staged, and started: one handle per job."""
    operator = OperatorPolicy.load()
    image = plan.image or DEFAULT_IMAGE
    require("--image", operator.image_problem(image))
    api, token = hub_client()
    with hub_calls(report, token, "the Jobs hardware list", "no job was started"):
        flavor = choose_flavor(list_flavors(api, report, RetryPolicy()), plan.flavor)
    ceiling = CostCeiling(flavor, plan.timeout)
    most = ceiling.max_usd * plan.shards
    cap = operator.caps.run_usd
    if cap is not None and most > cap:
        raise UserError(
            f"--shards {plan.shards}: at most ${most:.2f} ({plan.shards} x {ceiling.line()}) "
            f"is over the operator's run cap ${cap:.2f}; use fewer shards, a shorter "
            "--timeout or a cheaper --flavor"
        )
    report(f"{plan.shards} HF Jobs, at most ${most:.2f} in all: each {ceiling.line()}")
    staging_repo = f"{target.repo_id.split('/')[0]}/{STAGING_REPO_NAME}"
    prefix = f"predict/{served.name.replace('/', '--')}-{time.strftime('%Y%m%d-%H%M%S')}"
    with (
        tempfile.TemporaryDirectory(prefix="dexter-wheel-") as build,
        hub_calls(report, token, staging_repo, "no job was started"),
    ):
        files = _staged_files(served, corpus, target, options, plan.shards, Path(build))
        api.create_repo(target.repo_id, repo_type="dataset", private=True, exist_ok=True)
        staging = stage_in(api, staging_repo, prefix, files, report, RetryPolicy())
        return [
            _run_job(api, staging, index, image, ceiling, token, report)
            for index in range(plan.shards)
        ]


def _staged_files(
    served: ServedModel,
    corpus: Corpus,
    target: HubDatasetRef,
    options: PredictOptions,
    shards: int,
    build: Path,
) -> dict[str, Path | bytes]:
    """The model (with the spec facts a bare folder lacks), the input, the wheel (built in
    `build`), the script and `job.json`."""
    if corpus.image_folder is not None:
        raise UserError("--backend hf-jobs: a folder of images is scored locally or on Ray")
    rows = corpus.count()
    if rows is None:
        raise UserError(f"--input {corpus.shown}: its rows cannot be counted to share them out")
    texts, ids = input_columns(served, options)
    model = {
        f"model/{p.relative_to(served.path)}": p for p in served.path.rglob("*") if p.is_file()
    }
    spec = {"task": served.task, "training": {"max_seq_length": served.max_length}}
    inputs = {f"input/{i:05d}-{f.name}": f for i, f in enumerate(corpus.files)}
    plan = {
        "model": served.name,
        "output_repo": target.repo_id,
        "output_path": target.path,
        "rows": rows,
        "jobs": shards,
        "input": "input",
        "options": [
            *[arg for column in texts for arg in ("--text-column", column)],
            *[arg for column in ids for arg in ("--id-column", column)],
            "--top-k", str(options.top_k), "--shard-rows", str(options.shard_rows),
            "--precision", options.precision, "--json",
        ],
    }  # fmt: skip
    wheel = build_wheel(build)
    return {
        **model,
        "model/spec.yaml": yaml.safe_dump(spec).encode(),
        **inputs,
        f"wheel/{wheel.name}": wheel,
        "scripts/predict_job.py": RUNNER_SCRIPTS / "predict_job.py",
        "job.json": json.dumps(plan, indent=2).encode(),
    }


def build_wheel(build: Path) -> Path:
    """This toolkit as a wheel, built from a copy of its source in `build` (nothing is
    written into the source tree).

    Raises:
        [`UserError`]: the toolkit is not installed from its source.
    """
    source = Path(__file__).resolve().parents[2]
    if not (source / "pyproject.toml").is_file():
        raise UserError(
            "--backend hf-jobs stages this toolkit as a wheel built from its source; install "
            "it from a checkout (pip install -e .)"
        )
    package = source / "dexter_autotrain"
    ignored = shutil.ignore_patterns("__pycache__")
    shutil.copytree(package, build / package.name, ignore=ignored)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(source / name, build / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "-w", str(build / "dist"), str(build)],
        check=True, capture_output=True,
    )  # fmt: skip
    return next((build / "dist").glob(f"dexter_autotrain-{__version__}-*.whl"))


def _run_job(
    api: HfApi,
    staging: Staging,
    index: int,
    image: str,
    ceiling: CostCeiling,
    token: str,
    report: Report,
) -> Handle:
    namespace = staging.repo_id.split("/")[0]
    job = with_retries(
        lambda: api.run_job(
            image=image,
            command=["python", "-c", BOOTSTRAP, staging.repo_id, staging.commit,
                     staging.prefix, "predict_job.py", str(index)],
            env=JOB_ENV,
            secrets={"HF_TOKEN": token},
            flavor=ceiling.flavor.name,
            timeout=timeout_seconds(ceiling.timeout),
            labels={LABEL: staging.prefix.split("/")[-1]},
            namespace=namespace,
        ),
        f"start HF Job {index}",
        report,
        RetryPolicy(),
    )  # fmt: skip
    report(f"job {index}: {job.url}")
    return Handle("hf-jobs", job.id, {"job": job.url}, {"namespace": namespace})


def _followed(handles: list[Handle], report: Report) -> list[str]:
    """Wait for every job, a line as each changes stage; Ctrl-C cancels them all. Returns
    each job's results commit.

    Raises:
        [`ToolError`]: a job ended without uploading its predictions.
    """
    backend = HfJobsBackend(report=report)
    seen: dict[str, str] = {}
    try:
        while True:
            polls = {handle.id: backend.poll(handle) for handle in handles}
            for job_id, poll in polls.items():
                if seen.get(job_id) != poll.message:
                    seen[job_id] = poll.message
                    report(f"job {job_id}: {poll.message}")
            if all(poll.finished for poll in polls.values()):
                break
            time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        for handle in handles:
            backend.cancel(handle)
        report(f"cancelled {len(handles)} HF Jobs")
        raise
    return [_results(backend, handle) for handle in handles]


def _results(backend: HfJobsBackend, handle: Handle) -> str:
    lines = list(backend.logs(handle, follow=False))
    commit = results_commit(lines)
    if commit is None:
        tail = "\n".join(lines[-CAUSE_LINES:]) or "(the job logged nothing)"
        raise ToolError(
            f"HF Job {handle.id} uploaded no predictions (the same command starts new jobs); "
            f"its last log lines:\n{tail}"
        )
    return commit


def _summary(served: ServedModel, target: HubDatasetRef, commits: list[str]) -> PredictSummary:
    """The jobs' manifests, read back from the output repository, added up."""
    from huggingface_hub import hf_hub_download

    summary = PredictSummary(str(target), served.name, served.revision, commit=commits[-1])
    for index, commit in enumerate(commits):
        folder = "/".join(p for p in (target.path, f"job-{index:03d}") if p)
        path = hf_hub_download(
            target.repo_id, f"{folder}/_manifest.json", repo_type="dataset", revision=commit
        )
        for done in Manifest.model_validate_json(Path(path).read_text()).shards.values():
            summary.add(done, folder)
    return summary
