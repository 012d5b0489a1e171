"""A Hub dataset as `predict`'s input or output: `hf://datasets/ORG/NAME[@REV][/PATH]`.

As input, the revision is resolved to its commit first and the files under PATH (a file, a
folder or a glob) are downloaded at that commit, so the provenance names exactly what was
scored. As output, the part files are written in a local folder under the runs folder (where
a killed run resumes) and uploaded to a private dataset repository in one commit when all
shards are done; the repository's namespace must be one the operator allows.
"""

from __future__ import annotations

import glob
import hashlib
import re
from dataclasses import dataclass, replace
from pathlib import Path

from dexter_autotrain.corpus.reading import Corpus, open_corpus
from dexter_autotrain.errors import UserError
from dexter_autotrain.hub.auth import find_token, require_token
from dexter_autotrain.hub.failures import hub_failures
from dexter_autotrain.hub.pull import resolved_commit
from dexter_autotrain.hub.retry import Report, reported_retries
from dexter_autotrain.policy.spec_paths import printable

HF_DATASETS = "hf://datasets/"
HUB_INPUTS = ".hub-datasets"
"""Where Hub datasets read as input are downloaded, under the runs folder."""
HUB_OUTPUTS = ".hub-predictions"
"""Where predictions bound for the Hub are written (and resumed), under the runs folder."""
_REFERENCE = re.compile(
    r"^hf://datasets/([A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*)(?:@([\w.-]+))?(?:/(.*))?$"
)


@dataclass(frozen=True)
class HubDatasetRef:
    """`hf://datasets/ORG/NAME[@REV][/PATH]` as `--input` or `--output` names it.

    Attributes:
        repo_id: `ORG/NAME`.
        revision: a branch, tag or commit (None: the default branch).
        path: a file, folder or glob inside the repository ("" for all of it).
    """

    repo_id: str
    revision: str | None
    path: str

    @classmethod
    def parse(cls, text: str, option: str) -> HubDatasetRef:
        """Read the reference `option` was given.

        Raises:
            [`UserError`]: not of that form, or a path that leaves the repository.

        Example:
            ```python
            >>> HubDatasetRef.parse("hf://datasets/dexter-ng/crawl@v1/day/*.jsonl", "--input")
            HubDatasetRef(repo_id='dexter-ng/crawl', revision='v1', path='day/*.jsonl')
            ```
        """
        match = _REFERENCE.match(text)
        path = (match[3] or "").strip("/") if match else ""
        if match is None or any(part in ("..", ".") for part in path.split("/")):
            raise UserError(
                f"{option} {printable(text)}: not a Hub dataset; write "
                "hf://datasets/ORG/NAME[@REVISION][/PATH] (PATH inside the repository)"
            )
        return cls(match[1], match[2], path)

    @classmethod
    def named(cls, text: str, option: str) -> HubDatasetRef | None:
        """The reference when `text` names a Hub dataset (`hf://datasets/...`), else None.

        Raises:
            [`UserError`]: it starts so but is not of that form (`parse`).
        """
        return cls.parse(text, option) if text.startswith(HF_DATASETS) else None

    def __str__(self) -> str:
        revision = f"@{self.revision}" if self.revision else ""
        return f"{HF_DATASETS}{self.repo_id}{revision}{'/' if self.path else ''}{self.path}"


def pull_corpus(ref: HubDatasetRef, runs_dir: Path, images: bool, report: Report) -> Corpus:
    """The Hub dataset's files under `ref.path`, downloaded at the commit its revision names.

    Raises:
        [`UserError`]: no such dataset or revision, or nothing readable under the path.
        [`HubAccessError`] / [`HubUnavailable`]: as the Hub's failures say.
    """
    from huggingface_hub import snapshot_download

    commit = resolved_commit(ref.repo_id, ref.revision, "dataset", report)
    if commit is None:
        raise UserError(f"--input {ref}: no such dataset or revision on the Hub")
    folder = runs_dir / HUB_INPUTS / f"{ref.repo_id.replace('/', '--')}-{commit[:12]}"
    token = find_token()
    with reported_retries(report), hub_failures(token, ref.repo_id, "nothing was scored"):
        snapshot_download(
            ref.repo_id,
            repo_type="dataset",
            revision=commit,
            local_dir=folder,
            allow_patterns=_patterns(ref.path),
            token=token,
        )
    pinned = replace(ref, revision=commit)
    corpus = open_corpus(str(folder / ref.path) if ref.path else str(folder), images)
    fingerprint = hashlib.sha256(str(pinned).encode()).hexdigest()
    return replace(corpus, fingerprint=fingerprint, shown=str(pinned))


def _patterns(path: str) -> list[str] | None:
    if not path:
        return None
    return [path] if glob.has_magic(path) else [path, f"{path}/**"]


def output_folder(ref: HubDatasetRef, runs_dir: Path) -> Path:
    """Where predictions bound for `ref` are written and resumed before the upload.

    Raises:
        [`UserError`]: `ref` names a revision (output goes to the default branch).
    """
    if ref.revision:
        raise UserError(f"--output {ref}: predictions go to the default branch; drop @REVISION")
    if glob.has_magic(ref.path):
        raise UserError(f"--output {ref}: name a folder of the repository, not a pattern")
    return runs_dir / HUB_OUTPUTS / ref.repo_id / ref.path


def push_predictions(ref: HubDatasetRef, folder: Path, model: str, report: Report) -> str:
    """Upload the finished predictions in `folder` to the private dataset `ref` in one
    commit (the repository is made when missing).

    Returns:
        The commit's id.
    """
    from huggingface_hub import HfApi

    token = require_token()
    api = HfApi(token=token)
    with reported_retries(report), hub_failures(token, ref.repo_id, "nothing was uploaded"):
        api.create_repo(ref.repo_id, repo_type="dataset", private=True, exist_ok=True)
        commit = api.upload_folder(
            repo_id=ref.repo_id,
            repo_type="dataset",
            folder_path=folder,
            path_in_repo=ref.path or None,
            commit_message=f"Predictions of {model} ({len(list(folder.glob('part-*')))} parts)",
            allow_patterns=["part-*.parquet", "rejects-*.jsonl", "_manifest.json"],
        )
    return str(commit.oid)
