"""A run's inputs on the Hub for an HF Job: one commit to a private staging dataset repo.

Everything the job reads lies under `<job>/<run_id>/` of the staging repo (default
`<namespace>/dexter-runs`), laid out like the run directory the training script expects:
the rendered config and training options, the train and validation splits, a local base
model (a smoke run's tiny one), the runner scripts and `job.json`. The job downloads them at
the commit `stage` returns, so a later push to the repo cannot change what it trains on; it
uploads the trained model to `<job>/<run_id>/model/` of the same repo.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from dexter_autotrain.errors import HubUnavailable, UserError
from dexter_autotrain.hub.release import Source, holds_exactly
from dexter_autotrain.hub.retry import Report, RetryPolicy, with_retries
from dexter_autotrain.runs import Run
from dexter_autotrain.spec import JobSpec
from dexter_autotrain.training.render import CONFIG_FILE_NAME, OPTIONS_FILE_NAME, PREPARED_DATA_DIR

if TYPE_CHECKING:
    from huggingface_hub import HfApi

STAGING_REPO_NAME = "dexter-runs"
RUNNER_SCRIPTS = Path(__file__).parents[1] / "runner_scripts"
JOB_SCRIPTS = ("hf_job.py", "train.py", "subwords.py", "new_head.py")
"""The in-job entry point, and the training script it runs (with its two imports)."""
STAGED_BASE_MODEL = "base-model"
MANIFEST = "job.json"
REPO_TYPE = "dataset"


@dataclass(frozen=True)
class Staging:
    """Where a run's inputs are, pinned.

    Attributes:
        repo_id: the staging dataset repo.
        prefix: the run's folder in it (`<job>/<run_id>`).
        commit: the commit holding the inputs.
    """

    repo_id: str
    prefix: str
    commit: str

    @property
    def results_path(self) -> str:
        """The folder the job uploads the trained model to."""
        return f"{self.prefix}/model"


def staging_repo_id(spec: JobSpec, user: str) -> str:
    """`compute.staging_repo`, else `dexter-runs` under the namespace of `hub.repo_id` (an
    organisation's runs stay with it), else under the token's user."""
    if spec.compute.staging_repo is not None:
        return str(spec.compute.staging_repo)
    namespace = str(spec.hub.repo_id).split("/")[0] if spec.hub.repo_id else user
    return f"{namespace}/{STAGING_REPO_NAME}"


def staged_files(run: Run, manifest: dict[str, Any]) -> dict[str, Source]:
    """What the job needs, by path under the run's staging folder.

    The config is staged as the job reads it: a local base model (given as this machine's
    absolute path) is staged beside it and named relatively, and AutoTrain pushes nothing to
    the Hub itself (the job uploads the model folder to the staging repo).

    Example:
        ```python
        >>> sorted(staged_files(run, {"flavor": "cpu-basic"}))[:3]
        ['autotrain.yml', 'base-model/config.json', 'base-model/tokenizer.json']
        ```
    """
    config = yaml.safe_load((run.path / CONFIG_FILE_NAME).read_text(encoding="utf-8"))
    files: dict[str, Source] = {}
    local_model = Path(config["base_model"])
    if local_model.is_absolute() and local_model.is_dir():
        files |= _folder(local_model, STAGED_BASE_MODEL)
        config["base_model"] = STAGED_BASE_MODEL
    config["hub"] = {**config.get("hub", {}), "push_to_hub": False}
    files[CONFIG_FILE_NAME] = yaml.safe_dump(config, sort_keys=False, allow_unicode=True).encode()
    files[OPTIONS_FILE_NAME] = run.path / OPTIONS_FILE_NAME
    splits = {config["data"]["train_split"], config["data"]["valid_split"]}
    data = run.path / PREPARED_DATA_DIR
    files |= {
        path: source
        for path, source in _folder(data, PREPARED_DATA_DIR).items()
        if path.split("/")[1].split(".")[0] in splits
    }
    files |= {f"scripts/{name}": RUNNER_SCRIPTS / name for name in JOB_SCRIPTS}
    files[MANIFEST] = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    return dict(sorted(files.items()))


def _folder(folder: Path, under: str) -> dict[str, Source]:
    return {
        f"{under}/{path.relative_to(folder).as_posix()}": path
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def stage(
    api: HfApi,
    repo_id: str,
    run: Run,
    files: dict[str, Source],
    report: Report,
    policy: RetryPolicy,
) -> Staging:
    """Create the private staging repo if needed and commit `files` under `<job>/<run_id>/`
    in one commit, safe to retry (the commit names its parent; see `hub/commit.py`).

    Args:
        api (`HfApi`):
            A client holding the token.
        repo_id (`str`):
            The staging dataset repo (see `staging_repo_id`).
        run (`Run`):
            The run whose inputs these are.
        files (`dict[str, Path | bytes]`):
            From `staged_files`.
        report (`Callable[[str], None]`):
            Receives one line per retry.
        policy (`RetryPolicy`):
            Retries of the calls the client does not retry.

    Returns:
        `Staging`: the repo, the run's folder and the commit that holds the inputs.

    Raises:
        [`HubUnavailable`]: the Hub kept failing, or the repo kept moving under us.
        [`UserError`]: the repo exists and is public (the training data would be published).

    Example:
        ```python
        >>> stage(api, "dexter-ng/dexter-runs", run, files, print, RetryPolicy()).commit
        '5c1e...'
        ```
    """
    return stage_in(api, repo_id, f"{run.job}/{run.run_id}", files, report, policy)


def stage_in(
    api: HfApi,
    repo_id: str,
    prefix: str,
    files: dict[str, Source],
    report: Report,
    policy: RetryPolicy,
) -> Staging:
    """`stage`, into any folder `prefix` of the repo (a prediction's, say)."""
    with_retries(
        lambda: api.create_repo(repo_id, repo_type=REPO_TYPE, private=True, exist_ok=True),
        f"create {repo_id}",
        report,
        policy,
    )
    info = with_retries(
        lambda: api.repo_info(repo_id, repo_type=REPO_TYPE), f"read {repo_id}", report, policy
    )
    if not info.private:
        raise UserError(
            f"compute.staging_repo: {repo_id} is public; the job's data, base model and scripts "
            "go there: make it private, or stage in another repo"
        )
    staged = {f"{prefix}/{path}": source for path, source in files.items()}
    return Staging(repo_id, prefix, _commit_once(api, repo_id, prefix, staged, report, policy))


def _commit(api: HfApi, repo_id: str, files: dict[str, Source], parent: str | None, title: str):
    """One try, with fresh operations (the client marks the ones it used)."""
    from huggingface_hub import CommitOperationAdd

    operations = [
        CommitOperationAdd(path, source if isinstance(source, bytes) else str(source))
        for path, source in files.items()
    ]
    return api.create_commit(
        repo_id, operations, commit_message=title, repo_type=REPO_TYPE, parent_commit=parent
    )


def _commit_once(
    api: HfApi,
    repo_id: str,
    prefix: str,
    staged: dict[str, Source],
    report: Report,
    policy: RetryPolicy,
) -> str:
    """Commit on the head just read. A 412 means the head moved: to our files (a try whose
    reply was lost landed), or to another run's (folders never overlap: commit again)."""
    for _ in range(policy.attempts):
        head = api.repo_info(repo_id, repo_type=REPO_TYPE).sha
        try:
            info = with_retries(
                lambda head=head: _commit(api, repo_id, staged, head, f"Stage run {prefix}"),
                f"stage inputs in {repo_id}",
                report,
                policy,
            )
        except Exception as error:
            if getattr(getattr(error, "response", None), "status_code", None) != 412:
                raise
            if landed := _holding(api, repo_id, prefix, staged):
                return landed
            report(f"{repo_id} moved while staging {prefix}; committing again on its new head")
            continue
        return info.oid
    raise HubUnavailable(f"{repo_id} kept moving while staging {prefix}; submit again")


def _holding(api: HfApi, repo_id: str, prefix: str, files: dict[str, Source]) -> str | None:
    """The head, if the run's folder there holds exactly `files`."""
    from huggingface_hub.hf_api import RepoFile

    head = api.repo_info(repo_id, repo_type=REPO_TYPE).sha
    tree = api.list_repo_tree(
        repo_id, path_in_repo=prefix, recursive=True, revision=head, repo_type=REPO_TYPE
    )
    remote = {entry.path: entry for entry in tree if isinstance(entry, RepoFile)}
    return head if holds_exactly(remote, files) else None
