"""Trained runs shared by the whole suite: each recipe is trained once per suite run (one real
`dexter-auto submit`, in the worker's process: tests/inprocess.py), and every test that needs
it gets a writable copy.

Safe under pytest-xdist: the runs live in a folder every worker shares (under the session's
base temp folder), and a file lock per recipe makes the first worker that asks train it while
the others wait. The submit's exit code, stdout and stderr are kept beside the run, so a test
can assert on what the submit said as well as on what it left.

Example:
    def test_something(trained, tmp_path):
        run = trained.copy("narrative", tmp_path)          # runs/narrative/<id>/ under tmp_path
        assert trained.get("narrative").stderr.count("carded")
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from conftest import JOBS, REPO, SHARED_DATA, fake_token
from filelock import FileLock
from inprocess import run_in_process

TOKEN = fake_token("TrainedRunsToken")
"""Every recipe is submitted with this token in HF_TOKEN, HUGGING_FACE_HUB_TOKEN and
HF_API_TOKEN, and in the huggingface_hub login file (`hf-home/token` beside the runs): a smoke
submit must neither publish with it nor write it anywhere."""
TOKEN_VARIABLES = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_API_TOKEN")
NOWHERE = "http://127.0.0.1:9"
"""The Hub endpoint recipes see: nothing listens there, so any Hub call would fail loudly."""


@dataclass(frozen=True)
class Submission:
    """A submit as a newcomer types it: `JOB` (a job name) from a folder of a project, with
    no `--runs-dir` (runs land at the project's top)."""

    job: str
    cwd: Path


Recipe = Path | Callable[[Path], Path | Submission]
"""How a shared run is made: the spec submitted with `--smoke`, a file or a function that
writes one into the recipe's folder (or makes a project and says how it is submitted)."""

CLONED = ("jobs", "templates", "data/samples/naijasenti", "dexter-operator.yaml")
"""What a clone of the repository needs for the quickstart's job (and `plan` on it)."""


def _newcomer_clone(folder: Path) -> Submission:
    """A clone of the repository (its committed jobs, templates, sample and operator file,
    one git commit on `main`), the quickstart's job submitted by name from `data/`."""
    clone = folder / "clone"
    for part in CLONED:
        source, target = REPO / part, clone / part
        target.parent.mkdir(parents=True, exist_ok=True)
        copy = shutil.copytree if source.is_dir() else shutil.copy
        copy(source, target)
    git = ["git", "-c", "user.name=newcomer", "-c", "user.email=n@example.org"]
    for command in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "clone"]):
        subprocess.run([*git, *command], cwd=clone, check=True, capture_output=True)
    return Submission("narrative", clone / "data")


def _spec_text(name: str, text: str) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        (folder / f"{name}.yaml").write_text(text)
        return folder / f"{name}.yaml"

    return write


def _narrative_variant(folder: Path) -> Path:
    """jobs/narrative.yaml on two languages, with another seed and weight decay."""
    shutil.copy(JOBS / "_base.yaml", folder)
    text = (JOBS / "narrative.yaml").read_text()
    text = text.replace("../data/samples", f"{REPO}/data/samples")
    text = text.replace("languages: [hau, ibo, pcm, yor]", "languages: [hau, pcm]")
    text = text.replace("training:\n", "training:\n  seed: 7\n  weight_decay: 0.01\n", 1)
    (folder / "narrative.yaml").write_text(text)
    return folder / "narrative.yaml"


SENTIMENT = (
    "task: text-classification\nbase_model: {path: nowhere}\nlanguages: [hau, pcm]\n"
    f"data:\n  sources:\n    - path: {SHARED_DATA}/sentiment/{{language}}\n      format: tsv\n"
)
NER = (
    "task: token-classification\nbase_model: {path: nowhere}\nlanguages: [hau]\ndata:\n"
    f"  sources:\n    - path: {SHARED_DATA}/ner/{{language}}\n      format: conll\n"
    "  labels: [O, B-PER, I-PER, B-ORG, I-ORG, B-LOC, I-LOC]\n"
    "  label_map: {B-DATE: O, I-DATE: O}\n  fix_iob2: true\n"
)
RECIPES: dict[str, Recipe] = {
    # the quickstart's job, as a newcomer runs it: by name, from a folder of a fresh clone
    "narrative": _newcomer_clone,
    # the same job on two languages, another seed and weight decay (runs compare)
    "narrative-variant": _narrative_variant,
    # AfriSenti hau + pcm, f1_macro primary, lenient gates, a bootstrap of 200
    "sentiment": _spec_text(
        "sentiment",
        SENTIMENT + "evaluation:\n  bootstrap_samples: 200\n"
        "  fairness: {group_by: language, max_gap: 1.0}\n"
        "  gates: {overall: {f1_macro: 0.0}, min_lift_over_baseline: -1.0}\n",
    ),
    # MasakhaNER Hausa, PER/ORG/LOC
    "ner": _spec_text("ner", NER),
    # jobs/memes.yaml on the shipped memes sample (an image folder), trained locally
    "memes": JOBS / "memes.yaml",
}


@dataclass(frozen=True)
class Trained:
    """A shared run and what its submit said. `run` is shared: copy it before writing."""

    run: Path
    code: int
    stdout: str
    stderr: str

    @property
    def state(self) -> dict[str, Any]:
        return json.loads(self.stdout)


class TrainedRuns:
    """The suite's shared runs under `root` (one folder per recipe)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def folder(self, name: str) -> Path:
        """Everything the recipe's submit wrote (runs/, cards/, the MLflow store), and the
        login file it was given (`hf-home/token`)."""
        self.get(name)
        return self.root / name

    def get(self, name: str) -> Trained:
        """The recipe's run, trained by whichever worker asks first."""
        folder = self.root / name
        record = folder / "submit.json"
        with FileLock(str(self.root / f"{name}.lock")):
            if not record.is_file():
                record.write_text(json.dumps(self._train(RECIPES[name], folder)))
        done = json.loads(record.read_text())
        assert done["code"] == 0, f"the shared run `{name}` failed:\n{done['stderr'][-3000:]}"
        return Trained(Path(json.loads(done["stdout"])["run"]), **done)

    def copy(
        self,
        name: str,
        dest: Path,
        run_id: str | None = None,
        spec: dict[str, Any] | None = None,
        state: dict[str, Any] | None = None,
    ) -> Path:
        """A writable copy of the recipe's run at `dest/runs/<job>/<run id>`, with top-level
        `spec` and `state` keys merged in (a dict value updates the dict it replaces)."""
        source = self.get(name).run
        run = dest / "runs" / source.parent.name / (run_id or source.name)
        shutil.copytree(source, run)
        if spec:
            _merge_file(run / "spec.yaml", spec, yaml.safe_load, _dump_yaml)
        if state or run_id:
            _merge_file(run / "state.json", (state or {}) | {"run_id": run.name}, json.loads,
                        json.dumps)  # fmt: skip
        return run

    def _train(self, recipe: Recipe, folder: Path) -> dict[str, Any]:
        (folder / "hf-home").mkdir(parents=True, exist_ok=True)
        (folder / "hf-home" / "token").write_text(TOKEN)  # what `hf auth login` leaves
        spec = recipe if isinstance(recipe, Path) else recipe(folder)
        places: tuple[str | Path, ...] = (
            "--runs-dir",
            folder / "runs",
            "--cards-dir",
            folder / "cards",
        )
        cwd = folder
        if isinstance(spec, Submission):
            spec, cwd, places = spec.job, spec.cwd, ()
        tokens = dict.fromkeys(TOKEN_VARIABLES, TOKEN)
        result = run_in_process(
            "submit", "--smoke", spec, *places, "--json", cwd=cwd,
            env=tokens | {"HF_HOME": str(folder / "hf-home"), "HF_ENDPOINT": NOWHERE},
        )  # fmt: skip
        return {"code": result.code, "stdout": result.stdout, "stderr": result.stderr}


def _dump_yaml(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _merge_file(path: Path, changes: dict[str, Any], load, dump) -> None:
    data = load(path.read_text())
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = data[key] | value
        else:
            data[key] = value
    path.write_text(dump(data))
