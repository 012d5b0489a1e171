"""A newcomer's first hour, from a fresh clone and from a subdirectory of it, every output
piped (no terminal): init, validate (a data typo and its did-you-mean), data check, the
quickstart's smoke submit by job name, runs, status, card, plan on a changed spec (with what
its endpoint costs), serve and one request.

The smoke submit is the suite's shared `narrative` run (tests/trained_runs.py), which is
submitted exactly so: `dexter-auto submit --smoke narrative` from `data/` of a clone."""

from __future__ import annotations

import json
import shutil
import subprocess

from conftest import run_cli

from dexter_autotrain.serve.launch import start_serve


def test_the_newcomer_path_from_a_subdirectory(trained, tmp_path, monkeypatch):
    from huggingface_hub import InferenceClient

    shared = trained.get("narrative")
    clone = tmp_path / "clone"
    shutil.copytree(shared.run.parents[2], clone)  # the clone with its runs/narrative/<id>
    inside = clone / "data"
    run_id = shared.run.name

    def cli(*args: str):
        return run_cli(*args, cwd=inside, env={"DEXTER_DATA_ROOTS": "", "COLUMNS": "80"})

    assert shared.code == 0 and json.loads(shared.stdout)["state"] == "carded"

    made = cli("init", "text-classification", "rumours")
    assert made.code == 0 and (clone / "jobs" / "rumours.yaml").is_file(), made.stderr
    (clone / "jobs" / "typo.yaml").write_text(
        (clone / "jobs" / "narrative.yaml").read_text().replace("naijasenti", "naijasenty")
    )
    checked = cli("validate", "narrative", "typo", "rumours", "--no-data")
    assert checked.code == 0, checked.stdout + checked.stderr
    typo = cli("validate", "typo")
    assert typo.code == 2 and "jobs/typo.yaml:" in typo.stderr
    assert "did you mean samples/naijasenti?" in typo.stderr  # relative to data/, where we are
    assert "did you mean `narrative`?" in cli("validate", "narative").stderr

    data = cli("data", "check", "narrative", "--json")
    assert data.code == 0 and json.loads(data.stdout)["splits"]["test"]["rows"] > 0

    listed = cli("runs")
    assert listed.code == 0 and run_id in listed.stdout  # the whole id, never cut
    as_json = json.loads(cli("runs", "--json").stdout)
    assert [(r["job"], r["state"]) for r in as_json] == [("narrative", "carded")]
    log = cli("logs", "narrative")
    assert log.code == 0 and "Finished training, saving model" in log.stdout
    assert "│" not in listed.stdout and "─" not in listed.stdout  # plain when piped
    status = cli("status", "narrative")
    assert status.code == 0 and "carded" in status.stdout
    card = cli("card", "narrative")
    assert card.code == 0 and (clone / "runs" / "narrative" / run_id / "README.md").is_file()

    for scratch in ("typo.yaml", "rumours.yaml"):  # their data is missing: the plan would refuse
        (clone / "jobs" / scratch).unlink()
    spec = clone / "jobs" / "narrative.yaml"
    spec.write_text(spec.read_text().replace("learning_rate: 2e-5", "learning_rate: 3e-5"))
    subprocess.run(["git", "checkout", "-qb", "change"], cwd=clone, check=True)
    plan = cli("plan")
    assert plan.code == 0, plan.stderr
    assert "changed   jobs/narrative.yaml" in plan.stdout
    assert "served on an Inference Endpoint (aws/intel-icl/x2, $" in plan.stdout
    assert "scales to zero when idle; price table of" in plan.stdout
    assert "only a full run shows training.learning_rate: 3e-05 (a smoke run trains" in plan.stdout

    monkeypatch.chdir(inside)
    served = start_serve("narrative", "--json")  # the ready line as JSON
    ready = json.loads(served.url)
    assert (ready["name"], ready["task"], ready["revision"]) == (
        "narrative",
        "text-classification",
        run_id,
    )
    try:
        answer = InferenceClient(base_url=ready["url"]).text_classification("Na wa o")
        assert {a.label for a in answer} == {"negative", "neutral", "positive"}
    finally:
        assert served.stop() == 0
