"""`plan` with the Hub reachable (the Hub test server, real huggingface_hub client): live
Jobs prices, and card numbers from the job's last published evaluation, judged by the new
gates."""

from __future__ import annotations

import json

from conftest import REPO, run_cli
from plan_repos import ENV, commit, edit, make_repo

from dexter_autotrain.testing.hub_client import client_env, patched_client

PUBLISHED = REPO / "tests/fixtures/cards/text-classification"


RUN_ID = "20261125-001830-fc69"


def _seed(run_id: str, seed: int, validation: float, test: float) -> dict:
    return {"run_id": run_id, "family": "autotrain", "seed": seed, "validation": validation,
            "test": {"f1_macro": test}}  # fmt: skip


REPEATS = {
    "group": "20261125-fc69aa",
    "metric": "validation f1_macro",
    "members": [_seed(RUN_ID, 42, 0.31, 0.1667), _seed("20261125-002011-0b1c", 43, 0.25, 0.1333)],
    "families": [
        {
            "family": "autotrain",
            "seeds": [42, 43],
            "validation": {"values": [0.31, 0.25], "mean": 0.28, "sd": 0.0424},
            "test": {"f1_macro": {"values": [0.1667, 0.1333], "mean": 0.15, "sd": 0.0236}},
        }
    ],
    "winner": RUN_ID,
    "reason": "the best validation f1_macro of its family.",
    "gates_on_mean": True,
}
"""What a job over two seeds publishes beside its winner's evaluation (`repeats.json`)."""


def _publish_evaluation(env: dict[str, str]) -> None:
    from huggingface_hub import HfApi

    with patched_client(env):
        api = HfApi()
        api.create_repo("dexter-ng/narrative-xlmr", private=True)
        for name in ("evaluation.json", "data-report.json"):
            api.upload_file(
                path_or_fileobj=PUBLISHED / name,
                path_in_repo=name,
                repo_id="dexter-ng/narrative-xlmr",
            )
        api.upload_file(
            path_or_fileobj=json.dumps(REPEATS).encode(),
            path_in_repo="repeats.json",
            repo_id="dexter-ng/narrative-xlmr",
        )


def test_published_numbers_and_live_prices(hub, tmp_path):
    repo = make_repo(tmp_path)
    edit(repo / "jobs/narrative.yaml", "      f1_macro: 0.50", "      f1_macro: 0.10")
    edit(repo / "jobs/memes.yaml", "timeout: 3h", "timeout: 90m")
    edit(repo / "jobs/memes.yaml", "  batch_size: 32", "  batch_size: 32\n  seeds: [1, 2, 3]")
    commit(repo, "narrative gate 0.10, memes 90m over three seeds")
    env = client_env(hub.url, tmp_path / "hf-home")
    _publish_evaluation(env)
    result = run_cli("plan", "--base", "main", "--format", "json", cwd=repo, env=ENV | env)
    assert result.code == 0, result.stderr + result.stdout[-3000:]
    plan = json.loads(result.stdout)
    assert plan["prices"] == "Hub Jobs hardware list (live)"
    jobs = {job["name"]: job for job in plan["jobs"]}
    memes = jobs["memes"]["run"]  # three trainings on t4-small at $0.40/h for 90 minutes
    assert memes["max_usd"] == 1.8 and "3 trainings at this price each" in memes["note"]
    assert memes["models"] == ["autotrain seed 1", "autotrain seed 2", "autotrain seed 3"]
    card = jobs["narrative"]["card"]
    assert card["numbers"] == (
        f"published evaluation of run {RUN_ID} (dexter-ng/narrative-xlmr@main), "
        "gated by this spec; f1_macro over seeds 0.150 ± 0.024 (2 seeds)"
    )
    assert "## Seeds and candidates" in card["text"] and "0.150 ± 0.024" in card["text"]
    # The published f1_macro (0.167) fails the old gate (0.5) and passes the new one (0.1).
    assert "-| f1_macro overall | 0.167 | >= 0.5 | **FAIL** |" in card["diff"].splitlines()
    assert "+| f1_macro overall | 0.167 | >= 0.1 | pass |" in card["diff"].splitlines()
    assert "not yet evaluated" in jobs["memes"]["card"]["numbers"]  # nothing published
    assert env["HF_TOKEN"] not in result.stdout + result.stderr
