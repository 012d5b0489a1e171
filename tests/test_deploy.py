"""`dexter-auto deploy` and the deploy stage of `submit`, against the Hub test server's
Inference Endpoints: each running endpoint is a real `dexter-auto serve` of the published
commit, and the parity test sends real requests through `InferenceClient`.

One smoke run is trained for the module; every test publishes copies of it (see
`test_publish.carded_run`), each copy a new commit of the same repo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import HubSetup, Result, fake_token
from inprocess import run_in_process as run_cli
from test_publish import carded_run

from dexter_autotrain.record import ServeProcess
from dexter_autotrain.testing import Accounts, HubConfig, HubServer, TokenGrant

IN_PROCESS = True  # `dexter-auto` runs in this process (tests/inprocess.py): the tests read exit
# codes, output and files; Hub settings are applied to the imported client for each call.

WRITE_TOKEN = fake_token("DeployTestWrite")
OUTPUTS: list[Result] = []  # every command's output, for the token hunt at the end


@pytest.fixture(scope="module")
def hub_setup() -> HubSetup:
    accounts = Accounts(
        {WRITE_TOKEN: TokenGrant("dexter-test", "write")},
        {"dexter-ng": frozenset({"dexter-test"})},
    )
    return HubSetup(accounts, HubConfig(lfs_threshold=64 * 1024, schedule_delay=0.05), WRITE_TOKEN)


@pytest.fixture(scope="module")
def smoke_run(trained, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the suite's smoke run of jobs/narrative.yaml; never deployed itself."""
    smoke = trained.get("narrative")
    assert "deploy: skipped: smoke runs are never deployed" in smoke.stderr
    OUTPUTS.append(Result(smoke.code, smoke.stdout, smoke.stderr))
    return trained.copy("narrative", tmp_path_factory.mktemp("smoke"))


def cli(hub: HubServer, where: Path, *args: str | Path) -> Result:
    result = run_cli(*args, cwd=where, env=hub.client_env(where / "hf-home", WRITE_TOKEN))
    OUTPUTS.append(result)
    return result


def endpoint_run(smoke_run: Path, tmp_path: Path, run_id: str, name: str, **deploy) -> Path:
    """A publishable copy of the smoke run (`carded_run`) whose spec deploys it to the
    endpoint `name`, checking parity on 12 test examples."""
    run = carded_run(smoke_run, tmp_path, "narrative-deploy", run_id=run_id)
    spec = yaml.safe_load((run / "spec.yaml").read_text())
    spec["deploy"] |= {"enabled": True, "target": "endpoint", "name": name, "parity_examples": 12}
    spec["deploy"] |= deploy
    (run / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True))
    return run


def published(hub: HubServer, run: Path) -> str:
    result = cli(hub, run.parent, "publish", run, "--runs-dir", run.parent.parent, "--json")
    assert result.code == 0, result.stderr
    return json.loads(result.stdout)["commit"]


def deploy(hub: HubServer, run: Path, *args: str) -> Result:
    return cli(hub, run.parent, "deploy", run, *args, "--runs-dir", run.parent.parent, "--json")


def deployed(result: Result) -> dict:
    assert result.code == 0, result.stderr[-3000:]
    return json.loads(result.stdout)["deployed"]


def served_by(deployed: dict | None) -> ServeProcess | None:
    """A local deployment's server process, from `deploy --json` or state.json."""
    process = (deployed or {}).get("process")
    return None if process is None else ServeProcess.model_validate(process)


def endpoint(name: str):
    from huggingface_hub import HfApi

    return HfApi().get_inference_endpoint(name, namespace="dexter-ng")


def test_an_unpublished_run_is_refused(hub, smoke_run, tmp_path) -> None:
    run = endpoint_run(smoke_run, tmp_path, "20261126-000000-0000", "never")
    hub.stats.reset()
    refused = deploy(hub, run)
    assert refused.code == 2 and "the run is not published" in refused.stdout
    assert not any(name.startswith("endpoint_") for name in hub.stats.calls)
    missing = cli(hub, tmp_path, "deploy", run, "--pause", "--runs-dir", run.parent.parent)
    assert missing.code == 2 and len(missing.stderr.strip().splitlines()) == 1
    assert "the run is not deployed" in missing.stderr
    long = endpoint_run(smoke_run, tmp_path / "long", "20261126-000000-0001", "n" * 33)
    too_long = deploy(hub, long)
    assert too_long.code == 2 and "longer than the 32 characters" in too_long.stdout
    assert not any(name.startswith("endpoint_") for name in hub.stats.calls)


def test_deploy_updates_and_rolls_back(hub, smoke_run, tmp_path) -> None:
    from huggingface_hub import InferenceClient

    first = endpoint_run(smoke_run, tmp_path / "a", "20261126-000001-aaaa", "narrative-e2e")
    first_commit = published(hub, first)
    creating = deploy(hub, first)
    created = deployed(creating)
    assert "endpoint narrative-e2e: pending" in creating.stderr  # progress while it starts
    assert "endpoint narrative-e2e: running, /health answers 200" in creating.stderr
    assert created["changed"] is True and created["status"] == "running"
    assert (created["repository"], created["revision"]) == (
        "dexter-ng/narrative-deploy",
        first_commit,
    )
    assert created["parity"] == {"compared": 12, "matching": 12, "share": 1.0}
    assert created["url"] == f"{hub.url}/_endpoints/dexter-ng/narrative-e2e"
    state = json.loads((first / "state.json").read_text())
    assert state["state"] == "deployed" and state["deployed"]["url"] == created["url"]
    assert "narrative-e2e" in (first / "README.md").read_text()
    from huggingface_hub import ModelCard

    on_hub = ModelCard.load("dexter-ng/narrative-deploy").content  # the branch's card too
    assert on_hub == (first / "README.md").read_text() and "### Where it is served" in on_hub
    shown = cli(hub, first.parent, "status", first, "--runs-dir", first.parent.parent)
    assert f"deployed: narrative-e2e at {created['url']} (running)" in shown.stdout
    test_text = json.loads((first / "data/test.jsonl").read_text().splitlines()[0])["text"]
    predicted = json.loads((first / "predictions.jsonl").read_text().splitlines()[0])["prediction"]
    answer = InferenceClient(model=created["url"]).text_classification(test_text)
    assert max(answer, key=lambda a: a.score).label == predicted

    hub.stats.reset()
    again = deployed(deploy(hub, first))  # the same deploy again: nothing changes
    assert again["changed"] is False and again["revision"] == first_commit
    assert hub.stats.calls["endpoint_create"] == hub.stats.calls["endpoint_update"] == 0
    republished = cli(hub, first.parent, "publish", first, "--runs-dir", first.parent.parent)
    assert republished.code == 0, republished.stderr  # its card now names the endpoint
    assert "the tag keeps the card it was published with" in republished.stderr
    assert hub.stats.calls["commit"] == 0
    after = json.loads((first / "state.json").read_text())
    assert after["state"] == "deployed" and after["published"]["card_commit"]  # still known

    second = endpoint_run(smoke_run, tmp_path / "b", "20261126-000002-bbbb", "narrative-e2e")
    second_commit = published(hub, second)
    updated = deployed(deploy(hub, second))  # a new revision: an update of the same endpoint
    assert updated["changed"] is True and updated["revision"] == second_commit != first_commit
    assert updated["url"] == created["url"] and hub.stats.calls["endpoint_update"] == 1

    broken = endpoint_run(smoke_run, tmp_path / "c", "20261126-000003-cccc", "narrative-e2e")
    broken_commit = published(hub, broken)
    hub.context.config.endpoint_failures.add(broken_commit)
    failed = deploy(hub, broken)
    assert failed.code == 1, failed.stderr
    assert (
        "did not start" in failed.stdout and f"rolled back to {second_commit[:12]}" in failed.stdout
    )
    assert (endpoint("narrative-e2e").revision, endpoint("narrative-e2e").status) == (
        second_commit,
        "running",
    )
    assert json.loads((broken / "state.json").read_text()).get("deployed") is None

    mismatched = endpoint_run(smoke_run, tmp_path / "d", "20261126-000004-dddd", "narrative-e2e")
    published(hub, mismatched)
    predictions = mismatched / "predictions.jsonl"
    rows = [json.loads(line) | {"prediction": "sarcastic"} for line in predictions.open()]
    predictions.write_text("".join(json.dumps(row) + "\n" for row in rows))
    off = deploy(hub, mismatched)
    assert off.code == 1 and "parity 0.000 (0/12) is below deploy.min_parity 0.98" in off.stdout
    assert f"rolled back to {second_commit[:12]}" in off.stdout
    assert endpoint("narrative-e2e").revision == second_commit


def test_a_new_endpoint_that_fails_parity_is_deleted(hub, smoke_run, tmp_path) -> None:
    from huggingface_hub.errors import HfHubHTTPError

    run = endpoint_run(smoke_run, tmp_path, "20261126-000005-eeee", "narrative-doomed")
    published(hub, run)
    (run / "predictions.jsonl").write_text(
        "".join(
            json.dumps(json.loads(line) | {"prediction": "sarcastic"}) + "\n"
            for line in (run / "predictions.jsonl").open()
        )
    )
    failed = deploy(hub, run)
    assert failed.code == 1 and "the new endpoint was deleted" in failed.stdout
    with pytest.raises(HfHubHTTPError):
        endpoint("narrative-doomed")


def test_pause_resume_and_delete(hub, smoke_run, tmp_path) -> None:
    run = endpoint_run(smoke_run, tmp_path, "20261126-000006-ffff", "narrative-switch")
    published(hub, run)
    url = deployed(deploy(hub, run))["url"]
    paused = deployed(deploy(hub, run, "--pause"))
    assert paused["status"] == "paused" == endpoint("narrative-switch").status
    assert "(paused)" in (run / "README.md").read_text()
    resumed = deployed(deploy(hub, run, "--resume"))
    assert (resumed["status"], resumed["url"]) == ("running", url)
    text = cli(hub, tmp_path, "deploy", run, "--delete", "--runs-dir", run.parent.parent)
    assert text.code == 0 and "deleted the deployment" in text.stdout
    state = json.loads((run / "state.json").read_text())
    assert state["deployed"] is None and state["state"] == "published"
    assert "narrative-switch" not in (run / "README.md").read_text()


def test_submit_deploys_after_publishing(hub, smoke_run, tmp_path) -> None:
    """`submit --resume` of a published run whose spec enables deploy runs the deploy stage."""
    run = endpoint_run(smoke_run, tmp_path, "20261126-000007-abcd", "narrative-submitted")
    commit = published(hub, run)
    resumed = cli(
        hub, tmp_path, "submit", "--resume", run, "--runs-dir", run.parent.parent, "--json"
    )
    assert resumed.code == 0, resumed.stderr[-3000:]
    state = json.loads(resumed.stdout)
    assert state["state"] == "deployed" and state["completed"][-1] == "deploy"
    assert state["deployed"]["revision"] == commit
    assert f"deploy: narrative-submitted running at {state['deployed']['url']}" in resumed.stderr
    endpoint("narrative-submitted").delete()


def local_run(smoke_run: Path, tmp_path: Path, run_id: str) -> Path:
    """A copy of the smoke run whose spec deploys it with `dexter-auto serve` (the default)."""
    run = endpoint_run(smoke_run, tmp_path, run_id, "unused", target="local")
    return run


def test_a_local_deployment_serves_the_model_folder(hub, smoke_run, tmp_path) -> None:
    from dexter_autotrain.hub.local_deploy import alive, stop_local

    run = local_run(smoke_run, tmp_path, "20261126-000008-1111")
    try:
        served = deployed(deploy(hub, run))  # not published: the run's model folder
        assert (served["target"], served["status"], served["revision"]) == (
            "local",
            "running",
            None,
        )
        assert served["parity"] == {"compared": 12, "matching": 12, "share": 1.0}
        assert alive(served_by(served))
        assert deployed(deploy(hub, run))["changed"] is False
        paused = deployed(deploy(hub, run, "--pause"))
        assert paused["status"] == "paused" and not alive(served_by(served))
        resumed = deployed(deploy(hub, run, "--resume"))
        assert resumed["status"] == "running" and alive(served_by(resumed))
        assert deployed(deploy(hub, run, "--delete")) is None and not alive(served_by(resumed))
        assert json.loads((run / "state.json").read_text())["state"] == "carded"
    finally:
        stop_local(served_by(json.loads((run / "state.json").read_text()).get("deployed")))


def test_a_local_deployment_of_a_published_run_serves_its_commit(hub, smoke_run, tmp_path) -> None:
    import httpx2

    from dexter_autotrain.hub.local_deploy import stop_local

    run = local_run(smoke_run, tmp_path, "20261126-000009-2222")
    commit = published(hub, run)
    try:
        served = deployed(deploy(hub, run))
        assert served["revision"] == commit and served["parity"]["share"] == 1.0
        info = httpx2.get(f"{served['url']}/info").json()  # what serve says it serves
        assert info["revision"] == commit
    finally:
        stop_local(served_by(json.loads((run / "state.json").read_text()).get("deployed")))


@pytest.mark.training  # it reads what the module's deploys (of a trained run) printed
def test_the_token_never_shows(hub, tmp_path_factory) -> None:
    assert OUTPUTS  # the commands this module ran
    for output in OUTPUTS:
        assert WRITE_TOKEN not in output.stdout + output.stderr
    roots = [hub.data_dir, tmp_path_factory.getbasetemp()]
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and ".cache" not in path.parts:
                assert WRITE_TOKEN.encode() not in path.read_bytes(), path
