"""The Python API: a job run from Python, without the CLI."""

from __future__ import annotations

import json

import pytest
from conftest import JOBS

import dexter_autotrain as dx
from dexter_autotrain import api


class Recorder(dx.QuietReporter):
    def __init__(self) -> None:
        self.stages: list[str] = []

    def stage(self, name: str, detail: str) -> None:
        self.stages.append(name)


@pytest.mark.training
def test_a_smoke_job_through_the_python_api(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    runs = tmp_path / "runs"
    reporter = Recorder()
    run = dx.submit(
        JOBS / "narrative.yaml", smoke=True, runs_dir=runs, cards_dir=tmp_path / "cards",
        reporter=reporter,
    )  # fmt: skip
    state = run.state()
    assert state.state == "carded" and state.smoke is True
    assert {"prepare", "train", "evaluate", "card", "publish"} <= set(reporter.stages)
    assert dx.find_run("narrative", runs) == run and dx.list_runs(runs) == [run]

    report = dx.evaluate(run, split="validation")
    assert report.split == "validation"
    assert report.to_json() == json.loads(
        (run.path / "evaluations" / "split-validation" / "evaluation.json").read_text()
    )
    with pytest.deprecated_call(match=r"use `\.split`"):
        assert report["split"] == "validation"  # the dict it was, for one minor version
    written = dx.card(run, tmp_path / "review")
    assert run.path / "README.md" in written
    with pytest.raises(dx.UserError, match="smoke runs are never published"):
        dx.publish(run)
    with pytest.deprecated_call(match=r"use dexter_autotrain\.card\(run, \.\.\.\)"):
        assert run.path / "README.md" in run.card(tmp_path / "old-review")  # still works


def test_api_errors_are_one_family(tmp_path) -> None:
    with pytest.raises(dx.UserError) as missing:
        dx.submit(tmp_path / "nowhere.yaml")
    assert isinstance(missing.value, dx.DexterError) and missing.value.exit_code == 2
    assert issubclass(dx.TrainingCancelled, dx.DexterError)
    assert issubclass(dx.RunnerInstallError, dx.ToolError)
    with pytest.raises(dx.UserError, match="--detach"):
        dx.submit(JOBS / "narrative.yaml", detach=True, backend="local")


@pytest.mark.training
def test_what_a_user_does_with_the_cli_through_the_api_alone(trained, hub, tmp_path) -> None:
    """A notebook's session, every step a function of `dexter_autotrain` (no CLI, no
    subprocess of ours but the server `serve` starts): the suite's smoke submit of
    jobs/narrative.yaml (`dx.submit`, as the test above runs it), its status and log,
    evaluate, card, publish to the Hub test server, serve and query it with Dexter's
    client, and compare it with the published run."""
    from huggingface_hub import HfApi
    from test_publish import carded_run

    from dexter_autotrain.client import DexterClient, Endpoints
    from dexter_autotrain.system.processes import is_running

    run = dx.find_run(str(trained.copy("narrative", tmp_path / "smoke")))
    status = dx.status(run)
    assert (status.state, status.interrupted, status.record.smoke) == ("carded", False, True)
    assert "epoch" in "".join(dx.logs(run))
    report = dx.evaluate(run)
    assert report.split == "test" and report.primary_metric == "f1_macro"
    assert run.path / "README.md" in dx.card(run, tmp_path / "review")

    real = dx.find_run(str(carded_run(run.path, tmp_path, "narrative-notebook")))
    published = dx.publish(real)  # a smoke run is refused (the test above); this one poses as real
    assert dx.status(real).state == "published" and dx.status(real).record.published
    assert HfApi().list_repo_refs("dexter-ng/narrative-notebook").tags[0].name == published.tag

    with dx.start_server(real, tmp_path / "serve-logs") as server:
        client = DexterClient(Endpoints(narratives=server.url))
        [prediction] = client.classify_narratives(["Fuel don cost again for Kano"])
    labels = json.loads((real.model_folder() / "config.json").read_text())["id2label"].values()
    assert prediction.label in labels and 0 <= prediction.score <= 1
    assert server.url in (tmp_path / "serve-logs" / "serve.out").read_text()
    assert not is_running(server.process.pid, server.process.started)  # stopped by `with`

    comparison = dx.compare_runs(run, real)
    assert [row["run"] for row in comparison.runs] == [str(run.path), str(real.path)]
    assert comparison.metrics["f1_macro"][0] == comparison.metrics["f1_macro"][1]  # one model


def test_every_exported_name_is_the_function_or_class_it_names() -> None:
    """`dexter_autotrain.<name>` is loaded on first use; a name that is also a subpackage
    (`serve`, `compare`) would be the module once anything imported it."""
    import importlib
    import pkgutil
    import types

    for package in (dx, api):
        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{module.name}")
        names = package.__all__
        shadowed = [name for name in names if isinstance(getattr(package, name), types.ModuleType)]
        assert shadowed == [], package.__name__
    assert callable(dx.start_server) and callable(api.plan) and callable(api.serve)
    assert {name for name in dx.__all__ if getattr(dx, name) is getattr(api, name, None)} >= {
        "submit",
        "status",
        "evaluate",
        "validate",
        "sweep",
    }


def test_the_spec_and_data_verbs_through_the_api(tmp_path, monkeypatch) -> None:
    """validate, render, schema, init and data check return typed results, and write what
    the CLI writes; the runner and the runs folder are described the same way."""
    checks = api.validate([str(JOBS / "*.yaml"), str(tmp_path / "none-*.yaml")])
    by_name = {check.name: check for check in checks if check.valid}
    assert {"narrative", "actors"} <= set(by_name) and not checks[-1].valid
    assert checks[-1].problems[0].message == "no file matches"
    assert by_name["narrative"].to_json()["task"] == "text-classification"

    rendered = api.render(JOBS / "narrative.yaml", tmp_path / "preview")
    assert rendered.written.read_text() == rendered.text and rendered.config["task"]
    assert json.loads(api.job_spec_schema(tmp_path / "schema.json"))["title"]

    monkeypatch.chdir(tmp_path)
    written = api.init_spec("token-classification", "actors-v2")
    assert [path.name for path in written] == ["actors-v2.yaml", "job-spec.schema.json"]
    with pytest.raises(dx.UserError, match="already exists"):
        api.init_spec("token-classification", "actors-v2")
    assert api.spec_of_job("actors-v2") == written[0]

    report = api.check_data(JOBS / "narrative.yaml", tmp_path / "prepared")
    saved = json.loads((tmp_path / "prepared" / "data-report.json").read_text())
    assert saved == report.to_dict() and (tmp_path / "prepared" / "data").is_dir()

    assert api.describe_runs(tmp_path / "runs") == []
    runner = api.runner_status()
    assert runner.to_json()["installed"] is runner.installed
