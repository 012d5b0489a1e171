"""Shared helpers: run the real `dexter-auto` executable, find the repo and the runner; the
suite's shared trained runs (trained_runs.py) and its count of trainings (runner_shims.py)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
JOBS = REPO / "jobs"
DEXTER_AUTO = Path(sys.executable).parent / "dexter-auto"


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


def run_cli(
    *args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None
) -> Result:
    """Run the installed console script as a user would, in a real process."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DEXTER_HUB")}
    environ |= {"COLUMNS": "200", "NO_COLOR": "1"} | (env or {})
    done = subprocess.run(
        [str(DEXTER_AUTO), *map(str, args)],
        cwd=cwd or REPO,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def fake_token(name: str) -> str:
    """A token-shaped string (`hf_` and 34 letters and digits) for tests that hunt for leaks,
    assembled at run time so that no literal in the repository looks like a credential."""
    body = (name + hashlib.sha256(name.encode()).hexdigest())[:34]
    return "hf" + "_" + body


def group_members(pgid: int) -> list[int]:
    """The live (not zombie) processes of a process group. A SIGKILLed grandchild is
    reparented to init and stays a zombie until init reaps it, and a zombie still answers
    `os.killpg(pgid, 0)`."""
    from dexter_autotrain.system.processes import read_stat

    pids = (int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit())
    return [
        pid
        for pid in pids
        if (stat := read_stat(pid)) is not None and stat.pgid == pgid and not stat.zombie
    ]


@pytest.fixture
def cli(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """`dexter-auto` in a real process, or in this one (tests/inprocess.py) for a module that
    sets `IN_PROCESS = True`: its tests read only exit codes, output and files, and skip the
    ~0.3 CPU-seconds a process spends importing the toolkit."""
    if getattr(request.module, "IN_PROCESS", False):
        from inprocess import run_in_process

        return run_in_process
    return run_cli


SHARED_DATA = REPO.parent / "shared" / "data"
# The shared data lies outside the repository, and specs written into temporary folders read
# the repository's samples: allow both as an operator would (policy/spec_paths), beside any roots
# the caller allowed already (the Makefile allows the shared data).
os.environ["DEXTER_DATA_ROOTS"] = os.pathsep.join(
    filter(None, [os.environ.get("DEXTER_DATA_ROOTS"), str(SHARED_DATA), str(REPO / "data")])
)


@pytest.fixture
def write_job(tmp_path):
    """Write a spec into tmp_path and load it."""
    from dexter_autotrain.spec import load_spec

    def write(text: str, name: str = "job.yaml"):
        path = tmp_path / name
        path.write_text(text)
        return load_spec(path)

    return write


def wait_finished(backend, handle, limit: float = 240) -> str:
    """Poll a remote backend's training until it has finished; its phase."""
    import time

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        poll = backend.poll(handle)
        if poll.finished:
            return poll.phase
        time.sleep(0.5)
    raise AssertionError(f"{handle.kind} {handle.id} still {poll.phase} after {limit} s")


# -- the suite's trainings: counted, budgeted, shared ---------------------------------------

SUITE_DIR = "DEXTER_TEST_SUITE_DIR"
"""A folder the controller makes for the whole suite run (every xdist worker inherits it): the
counting runner and its ledger of trainings."""
SUITE_KEY = pytest.StashKey[Path]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "training_budget",
        "the most real AutoTrain trainings a whole run of the suite may start (a reviewed number)",
        default="0",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "training: the test trains a model (or needs a shared trained run); "
        "`-m 'not training'` is the fast loop",
    )
    if hasattr(config, "workerinput") or SUITE_DIR in os.environ:
        return  # an xdist worker: the controller made the runner
    # OpenMP threads that wait by spinning burn the core another worker's training needs: two
    # smoke submits at once took 57 s and 109 CPU-seconds spinning, 18 s and 32 waiting
    # passively (one alone: 16 s either way). Every process of the suite inherits this.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    # OpenBLAS's threads (NumPy's and SciPy's) spin between calls too; the toolkit's stages run
    # it on one thread already (system/threads.py), the suite's own processes do the same
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from runner_shims import build_runner

    from dexter_autotrain.training.runner_env import default_runner

    real = default_runner()
    suite = Path(tempfile.mkdtemp(prefix="dexter-suite-"))
    os.environ[SUITE_DIR] = str(suite)
    config.stash[SUITE_KEY] = suite
    if real.is_installed():
        build_runner(real, suite / "runner", suite / "trainings.log")
        build_runner(real, suite / "standin-runner", suite / "trainings.log", standin=True)
        os.environ["DEXTER_RUNNER_DIR"] = str(suite / "runner")


def _trainings(config: pytest.Config) -> tuple[int, int] | None:
    """(trainings started, budget), in the process that made the suite folder."""
    from runner_shims import trainings_started

    suite = config.stash.get(SUITE_KEY, None)
    if suite is None:
        return None
    return len(trainings_started(suite / "trainings.log")), int(config.getini("training_budget"))


def _trainings_by_module(config: pytest.Config) -> str:
    """`test_x.py 3, test_y.py 1, ...`: where the ledger's trainings started (a Hub test
    server's jobs and Spaces start in a clean environment and count as `remote`)."""
    from collections import Counter

    from runner_shims import trainings_started

    ledger = config.stash[SUITE_KEY] / "trainings.log"
    modules = Counter(
        (line.split("\t")[2] or "remote").split("::")[0].removeprefix("tests/")
        for line in trainings_started(ledger)
    )
    return ", ".join(f"{module} {count}" for module, count in modules.most_common())


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    from runner_shims import trainings_started

    counted = _trainings(config)
    if counted is not None:
        started, budget = counted
        terminalreporter.write_sep("=", f"AutoTrain trainings started: {started} (budget {budget})")
        terminalreporter.write_line(_trainings_by_module(config))
        if config.getoption("verbose") > 0:  # -v: each training, where it started
            for line in trainings_started(config.stash[SUITE_KEY] / "trainings.log"):
                terminalreporter.write_line(f"  {line}")
        if started > budget:
            terminalreporter.write_line(
                f"over the budget: the suite may start at most {budget} trainings "
                "(training_budget in pyproject.toml); share a run (tests/trained_runs.py)"
            )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    counted = _trainings(session.config)
    if counted is not None and counted[0] > counted[1]:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_unconfigure(config: pytest.Config) -> None:
    suite = config.stash.get(SUITE_KEY, None)
    if suite is not None:
        shutil.rmtree(suite, ignore_errors=True)
        os.environ.pop(SUITE_DIR, None)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "trained" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.training)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Fail a test without the `training` marker that started a training (its own, or a
    fixture's on its behalf), so that `-m "not training"` stays free of them."""
    from runner_shims import trainings_started

    report = yield
    if (
        call.when != "teardown"
        or SUITE_DIR not in os.environ
        or item.get_closest_marker("training")
    ):
        return report
    ledger = Path(os.environ[SUITE_DIR]) / "trainings.log"
    started = [line for line in trainings_started(ledger) if f"\t{item.nodeid} (" in line]
    if started and report.passed:
        report.outcome = "failed"
        report.longrepr = (
            f"{item.nodeid} started {len(started)} AutoTrain training(s) but is not marked "
            "`@pytest.mark.training`: mark it (or its module), or share a trained run"
        )
    return report


@pytest.fixture(scope="session")
def standin() -> dict[str, str]:
    """The environment under which a submit's training is the stand-in (tests/standin_train.py:
    AutoTrain's progress lines, a grandchild that ignores SIGTERM, no model unless given one),
    for tests about stopping a training rather than about what it trains. Add
    `STANDIN_STEPS`/`STANDIN_STEP_S` for a short one and `STANDIN_MODEL` for its model."""
    runner = Path(os.environ[SUITE_DIR]) / "standin-runner"
    if not runner.is_dir():
        pytest.skip("the AutoTrain runner is not installed")
    return {"DEXTER_RUNNER_DIR": str(runner)}


AUTOTRAIN_SPACE_IMAGE = "huggingface/autotrain-advanced:latest"
"""The image AutoTrain's Space runner names in its Space's Dockerfile."""


@pytest.fixture
def standin_image(hub, trained, tmp_path) -> Iterator[Callable[..., None]]:
    """For this test, `standin_image(image, steps=6)` makes the Hub test server run `image`
    (the toolkit's HF Job image, or AutoTrain's Space image) as a stand-in
    (tests/runner_shims.py): `steps` half-seconds of AutoTrain's progress lines, then the
    suite's narrative model as its output (an HF Job's is uploaded by the toolkit's job
    script, a Space's pushed as AutoTrain's app pushes it) and collected as a real one is.
    For tests of detaching, re-attaching and stopping remote training, not of what it trains."""
    from runner_shims import build_standin_job_image, build_standin_space_image

    from dexter_autotrain.training.runner_env import MARKER_FILE, RunnerEnv

    counting = Path(os.environ["DEXTER_RUNNER_DIR"])
    real = RunnerEnv((counting / MARKER_FILE).resolve().parent)
    images = hub.context.config.job_images

    def stand_in(image: str, steps: int = 6) -> None:
        shared = trained.get("narrative")
        model = shared.run / shared.state["model_dir"]
        settings = {
            "STANDIN_MODEL": str(model),
            "STANDIN_STEPS": str(steps),
            "STANDIN_STEP_S": "0.5",
        }
        build = (
            build_standin_space_image if image == AUTOTRAIN_SPACE_IMAGE else build_standin_job_image
        )
        images[image] = build(real, tmp_path / "standin-image", settings)

    before = dict(images)
    yield stand_in
    images.clear()
    images.update(before)


@pytest.fixture
def standin_jobs(standin_image) -> None:
    """The Hub test server's HF Jobs on the toolkit's image train the stand-in (see
    `standin_image`)."""
    from dexter_autotrain.policy.operator import DEFAULT_IMAGE

    standin_image(DEFAULT_IMAGE)


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory):
    """The suite's shared trained runs (tests/trained_runs.py), in a folder all workers share."""
    from trained_runs import TrainedRuns

    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    return TrainedRuns(base / "trained-runs")


# -- stand-in services: one fixture each --------------------------------------------------


@dataclass(frozen=True)
class HubSetup:
    """What a test module needs of the Hub test server: override the `hub_setup` fixture
    in the module. `token` is the one this process's huggingface_hub client sends."""

    accounts: Any = None  # testing.Accounts; None: `dexter-test` in `dexter-ng`, hf_test_write
    config: Any = None  # testing.HubConfig; None: the Hub's own defaults
    token: str | None = "hf_test_write"


@pytest.fixture(scope="session")
def hub_server() -> Iterator[Any]:
    """One Hub test server per worker, on one port for the whole run (see `hub`)."""
    from dexter_autotrain.testing import HubServer

    with HubServer() as server:
        yield server


@pytest.fixture(scope="module")
def hub_setup() -> HubSetup:
    """The module's accounts and settings for `hub` (override it in the module)."""
    return HubSetup()


@pytest.fixture(scope="module")
def hub(hub_server, hub_setup: HubSetup, tmp_path_factory: pytest.TempPathFactory):
    """The Hub test server, emptied for this module and set up as its `hub_setup` says, with
    this process's huggingface_hub client pointed at it. Each module starts from an empty Hub
    and cannot see another's repositories, jobs, Spaces or endpoints; what a module leaves
    running is stopped when it ends."""
    from dexter_autotrain.testing import patched_client

    setup = hub_setup
    hub_server.reset(setup.accounts, setup.config)
    home = tmp_path_factory.mktemp("hf-home")
    try:
        with patched_client(hub_server.client_env(home, setup.token)):
            yield hub_server
    finally:
        hub_server.reset()


@pytest.fixture
def github_api() -> Iterator[Callable[[str], Any]]:
    """Start the GitHub REST API stand-in that accepts `token`; stopped after the test."""
    from contextlib import ExitStack

    from dexter_autotrain.testing.github_api import GitHubStandIn

    with ExitStack() as started:
        yield lambda token: started.enter_context(GitHubStandIn(token))
