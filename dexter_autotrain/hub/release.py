"""What a run publishes, and whether a Hub revision holds exactly that.

Published: the model (weights, config, tokenizer or image processor) from the model folder;
the card (`README.md`, `.eval_results/`); `evaluation.json`, `evaluation.md`, `plots/`;
`spec.yaml` and `data-report.json`, with local paths shortened as the card shortens them (a
public repo must not show the machine's folders). Never AutoTrain's `training_params.json`,
`training_args.bin`, its README, the trainer state or checkpoints: the model folder is read
through an allow-list.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from dexter_autotrain.cards.context import public_path
from dexter_autotrain.linear import LINEAR_FILES
from dexter_autotrain.record import REPEATS_FILE
from dexter_autotrain.report_record import REPORT_FILE
from dexter_autotrain.runs import Run
from dexter_autotrain.training.model_files import MODEL_FILES, MODEL_PATTERNS

if TYPE_CHECKING:
    from huggingface_hub import HfApi

Source = Path | bytes
CARD = "README.md"
RUN_FILES = (CARD, REPORT_FILE, "evaluation.md")
RUN_FOLDERS = (".eval_results", "plots")
KEPT_ON_HUB = frozenset({".gitattributes"})  # the Hub's own; never ours to delete


def release_files(run_path: Path, model_dir: str) -> dict[str, Source]:
    """The files a run publishes, by their path in the repo.

    Args:
        run_path (`Path`):
            The run directory.
        model_dir (`str`):
            The model folder inside it (the state's `model_dir`).

    Returns:
        `dict[str, Path | bytes]`: local files, or the public copies of `spec.yaml` and
        `data-report.json` (and `repeats.json`, every model of a job with candidates or
        seeds), sorted by path in the repo.

    Example:
        ```python
        >>> sorted(release_files(run.path, "narrative"))[:3]
        ['.eval_results/narrative.yaml', 'README.md', 'config.json']
        ```
    """
    model = run_path / model_dir
    found: dict[str, Source] = {
        name: model / name for name in (*MODEL_FILES, *LINEAR_FILES) if (model / name).is_file()
    }
    for pattern in MODEL_PATTERNS:
        found |= {path.name: path for path in model.glob(pattern) if path.is_file()}
    found |= {name: run_path / name for name in RUN_FILES if (run_path / name).is_file()}
    for folder in RUN_FOLDERS:
        found |= {
            path.relative_to(run_path).as_posix(): path
            for path in sorted((run_path / folder).rglob("*"))
            if path.is_file()
        }
    found["spec.yaml"] = _public_spec(run_path)
    found["data-report.json"] = _public_report(run_path / "data-report.json")
    if (repeats := Run(run_path).state().repeats) is not None:  # candidates or seeds
        found[REPEATS_FILE] = (json.dumps(repeats.to_json(), indent=2) + "\n").encode()
    return dict(sorted(found.items()))


def _public_spec(run_path: Path) -> bytes:
    """The run's spec with the values it chose for its `auto` settings (a server of the
    published model must truncate inputs as the run did), local paths shortened."""
    spec = yaml.safe_load((run_path / "spec.yaml").read_text())
    spec.setdefault("training", {}).update(Run(run_path).state().resolved)
    for source in spec.get("data", {}).get("sources", []):
        source["path"] = public_path(source["path"])
    if (spec.get("base_model") or {}).get("path"):
        spec["base_model"]["path"] = public_path(spec["base_model"]["path"])
    return yaml.safe_dump(spec, sort_keys=False, allow_unicode=True).encode()


def _public_report(path: Path) -> bytes:
    report: dict[str, Any] = json.loads(path.read_text())
    for source in report.get("inputs", []):
        source["path"] = public_path(source["path"])
    return (json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode()


def digests(source: Source) -> tuple[str, str]:
    """`(sha256, git blob id)` of a file's content, read once, in chunks."""
    size = len(source) if isinstance(source, bytes) else source.stat().st_size
    sha256, blob = hashlib.sha256(), hashlib.sha1(b"blob %d\0" % size)
    for chunk in _chunks(source):
        sha256.update(chunk)
        blob.update(chunk)
    return sha256.hexdigest(), blob.hexdigest()


def _chunks(source: Source) -> Iterator[bytes]:
    if isinstance(source, bytes):
        yield source
        return
    with source.open("rb") as handle:
        yield from iter(lambda: handle.read(1 << 20), b"")


def remote_files(api: HfApi, repo_id: str, revision: str) -> dict[str, Any]:
    """The files of a Hub revision (`RepoFile`s by path), the Hub's own `.gitattributes` aside."""
    from huggingface_hub.hf_api import RepoFile

    return {
        entry.path: entry
        for entry in api.list_repo_tree(repo_id, revision=revision, recursive=True)
        if isinstance(entry, RepoFile) and entry.path not in KEPT_ON_HUB
    }


def holds_exactly(remote: dict[str, Any], files: dict[str, Source]) -> bool:
    """Whether a revision's files (from `remote_files`) are exactly `files`: the same paths,
    each equal by sha256 (LFS files) or by git blob id (the others)."""
    if remote.keys() != files.keys():
        return False
    for path, source in files.items():
        sha256, blob_id = digests(source)
        entry = remote[path]
        if (entry.lfs.sha256 if entry.lfs else entry.blob_id) != (sha256 if entry.lfs else blob_id):
            return False
    return True
