"""The operator's settings: `dexter-operator.yaml` (read from the base branch in a pull-request
run, so a pull request cannot widen what it is checked against), the development profile
(read only when asked for) and the cost caps, refused as located spec errors at `validate`
and again where the money is committed, for specs that never went through `validate`."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import JOBS
from inprocess import run_in_process as run_cli

from dexter_autotrain.errors import UserError
from dexter_autotrain.spec import load_spec

ATTACKER_IMAGE = "attacker/grab-the-secret:1"
ATTACKER_SPEC = f"compute:\n  backend: hf-jobs\n  hardware: cpu-basic\n  image: {ATTACKER_IMAGE}\n"


def _git(repo: Path, *args: str) -> None:
    identity = ("-c", "user.name=operator", "-c", "user.email=operator@example.com")
    subprocess.run(["git", "-C", str(repo), *identity, *args], check=True, capture_output=True)


def _narrative(
    repo: Path, extra: str = "", data: Path | None = None, edits: dict[str, str] | None = None
) -> Path:
    """jobs/narrative.yaml in `repo`, reading the shipped sample (or `data`), its text edited
    (`old: new`), plus `extra`."""
    (repo / "jobs").mkdir(parents=True, exist_ok=True)
    shutil.copy(JOBS / "_base.yaml", repo / "jobs")
    text = (JOBS / "narrative.yaml").read_text()
    for old, new in {"../data/": f"{data or JOBS.parent / 'data'}/", **(edits or {})}.items():
        assert old in text
        text = text.replace(old, new)
    (repo / "jobs" / "narrative.yaml").write_text(text + extra)
    return repo / "jobs" / "narrative.yaml"


@pytest.fixture
def pull_request(tmp_path) -> Path:
    """A repository whose base branch (main) lists no extra image, checked out on a pull
    request that lists the attacker's image in its own operator file and uses it."""
    repo = tmp_path / "repo"
    _narrative(repo)
    (repo / "dexter-operator.yaml").write_text("images: []\n")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "base")
    _git(repo, "checkout", "-q", "-b", "widen")
    (repo / "dexter-operator.yaml").write_text(f"images: [{ATTACKER_IMAGE}]\n")
    _narrative(repo, ATTACKER_SPEC)
    _git(repo, "commit", "-q", "-am", "widen the list")
    return repo


def test_a_pull_request_cannot_widen_the_operator_file(pull_request):
    spec = pull_request / "jobs" / "narrative.yaml"
    checkout = run_cli("validate", spec, cwd=pull_request)
    assert checkout.code == 0, checkout.stdout + checkout.stderr  # the checkout's file lists it
    base = run_cli("validate", spec, cwd=pull_request, env={"DEXTER_OPERATOR_BASE": "main"})
    assert base.code == 2
    assert re.search(
        rf"narrative.yaml:\d+:\d+: compute.image: {ATTACKER_IMAGE} is not an", base.stderr
    )
    unknown = run_cli("validate", spec, cwd=pull_request, env={"DEXTER_OPERATOR_BASE": "nope"})
    assert unknown.code == 2 and "DEXTER_OPERATOR_BASE='nope': not a commit" in unknown.stderr


def test_a_malformed_operator_file_is_one_clear_error(tmp_path):
    spec = _narrative(tmp_path)
    for text, message in [
        ("images: [a\n", "dexter-operator.yaml:2: not valid YAML"),
        ("imagez: [a]\n", "dexter-operator.yaml: imagez: Extra inputs are not permitted"),
        ("caps: {run_usd: -1}\n", "dexter-operator.yaml: caps.run_usd: Input should be greater"),
    ]:
        (tmp_path / "dexter-operator.yaml").write_text(text)
        result = run_cli("validate", spec, cwd=tmp_path)
        assert result.code == 2 and message in result.stdout + result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    bad_cap = run_cli("validate", spec, cwd=tmp_path, env={"DEXTER_MAX_RUN_USD": "lots"})
    assert bad_cap.code == 2 and "DEXTER_MAX_RUN_USD='lots': not a number" in bad_cap.stderr


def test_the_development_profile_is_read_only_when_asked_for(tmp_path):
    """A data folder beside the repository is readable only through the development
    profile's `data_roots`, and only with DEXTER_PROFILE=development."""
    outside = tmp_path / "shared-data"
    shutil.copytree(JOBS.parent / "data" / "samples", outside / "samples")
    repo = tmp_path / "repo"
    spec = _narrative(repo, data=Path("../../shared-data"))
    (repo / ".git").mkdir()  # the repository's top (git itself is not needed here)
    (repo / "dexter-operator.development.yaml").write_text("data_roots: [../shared-data]\n")
    production = {"DEXTER_DATA_ROOTS": "", "DEXTER_PROFILE": ""}  # `make test` sets a profile
    production = run_cli("validate", spec, cwd=repo, env=production)
    assert production.code == 2 and "resolves outside the repository" in production.stderr
    development = {"DEXTER_DATA_ROOTS": "", "DEXTER_PROFILE": "development"}
    assert run_cli("validate", spec, cwd=repo, env=development).code == 0


GPU_ENDPOINT = {"instance_type: intel-icl": "accelerator: gpu\n  instance_type: nvidia-a100",
                "instance_size: x2": "instance_size: x4"}  # fmt: skip


@pytest.mark.parametrize(
    ("extra", "edits", "caps", "line"),
    [
        (
            "compute:\n  backend: hf-jobs\n  hardware: h100x8\n  timeout: 2h\n",
            {},
            {"DEXTER_MAX_RUN_USD": "25"},
            "compute.timeout: at most $72.00 a run (h100x8 at $36.00/h for 2h); lower "
            "compute.timeout or choose smaller hardware; the operator's cap is $25.00 (run_usd "
            "in dexter-operator.yaml, or DEXTER_MAX_RUN_USD)",
        ),
        (
            "compute:\n  backend: hf-jobs\n  hardware: t4-small\n  timeout: 2h\nsweep:\n"
            "  n_trials: 100\n  parallel: 8\n  space:\n"
            "    learning_rate: {type: log_uniform, low: 1.0e-5, high: 1.0e-3}\n",
            {},
            {"DEXTER_MAX_SWEEP_USD": "50", "DEXTER_MAX_PARALLEL_TRIALS": "4"},
            "sweep.parallel: 8 trials at once; the operator's cap is 4 (parallel_trials",
        ),
        (
            "compute:\n  backend: hf-jobs\n  hardware: t4-small\n  timeout: 2h\n",
            {"learning_rate: 2e-5": "learning_rate: 2e-5\n  seeds: [1, 2, 3]"},
            {"DEXTER_MAX_SWEEP_USD": "2"},
            "training.seeds: at most $2.40 for 3 trainings of $0.80 (candidates and seeds); "
            "train fewer seeds; the operator's cap is $2.00 (sweep_usd",
        ),
        (
            "",
            {"max_replicas: 1": "max_replicas: 6"},
            {"DEXTER_MAX_REPLICAS": "2"},
            "deploy.max_replicas: 6 replicas; the operator's cap is 2 (replicas",
        ),
        (
            "",
            GPU_ENDPOINT,
            {"DEXTER_MAX_ENDPOINT_USD_PER_DAY": "100"},
            "deploy.instance_size: up to $240.00 a day (aws/nvidia-a100/x4 x 1, all day); the "
            "operator's cap is $100.00",
        ),
    ],
    ids=["run", "sweep", "seeds", "replicas", "endpoint-cost"],
)
def test_a_spec_over_a_cost_cap_is_a_located_spec_error(tmp_path, extra, edits, caps, line):
    spec = _narrative(tmp_path, extra, edits=edits)
    refused = run_cli("validate", spec, cwd=tmp_path, env=caps)
    assert refused.code == 2
    [problem] = [p for p in refused.stderr.splitlines() if line in p]
    assert "narrative.yaml:" in problem and "cost caps are the operator's" in problem
    assert run_cli("validate", spec, cwd=tmp_path).code == 0  # no cap set: no refusal


def test_caps_hold_where_money_is_committed(tmp_path, monkeypatch):
    """Specs that never went through `validate` under the cap (built in Python, or loaded
    before the cap was set) are refused where the endpoint is planned, the sweep starts and
    a job's seeds start."""
    from dexter_autotrain.api.runs import QuietReporter
    from dexter_autotrain.hub.endpoints import EndpointPlan
    from dexter_autotrain.repeats import Group, submit_group
    from dexter_autotrain.spec.members import with_seeds
    from dexter_autotrain.sweeps.run import SweepOptions, run_sweep

    monkeypatch.chdir(tmp_path)  # no operator file: the caps below are all there are
    spec = load_spec(_narrative(tmp_path)).spec
    deploy = {"enabled": True, "target": "endpoint", "max_replicas": 8}
    built = spec.model_copy(update={"deploy": spec.deploy.model_copy(update=deploy)})
    monkeypatch.setenv("DEXTER_MAX_REPLICAS", "2")
    with pytest.raises(UserError, match=r"deploy\.max_replicas: 8 replicas; the operator's cap"):
        EndpointPlan.of(built, "dexter-ng/narrative", "0" * 40)

    sweep = "compute:\n  backend: hf-jobs\n  hardware: a10g-largex4\n  timeout: 2h\nsweep:\n"
    sweep += "  space:\n    learning_rate: {type: log_uniform, low: 1.0e-5, high: 1.0e-3}\n"
    loaded = load_spec(_narrative(tmp_path, sweep))
    monkeypatch.setenv("DEXTER_MAX_SWEEP_USD", "100")
    runs = tmp_path / "runs"
    with pytest.raises(UserError, match=r"sweep\.n_trials: at most \$200\.00 for 20 trials"):
        run_sweep(loaded, False, None, SweepOptions(runs_root=runs))
    assert not runs.exists()  # nothing written, nothing started
    seeds = load_spec(_narrative(tmp_path, sweep.split("sweep:")[0]))
    seeds = replace(seeds, spec=with_seeds(seeds.spec, 3))  # `submit --seeds 3`
    monkeypatch.setenv("DEXTER_MAX_SWEEP_USD", "25")
    with pytest.raises(UserError, match=r"training\.seeds: at most \$30\.00 for 3 trainings"):
        submit_group(Group(seeds, False, QuietReporter(), runs))
    assert not runs.exists()
