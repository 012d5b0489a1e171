"""`plan` with the Hub reachable (the Hub test server, real huggingface_hub client): live
Jobs prices, and card numbers from the job's last published evaluation, judged by the new
gates."""

from __future__ import annotations

import json

from conftest import REPO, run_cli
from plan_repos import ENV, commit, edit, make_repo

from dexter_autotrain.testing.hub_client import client_env, patched_client

PUBLISHED = REPO / "tests/fixtures/cards/text-classification"


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


def test_published_numbers_and_live_prices(hub, tmp_path):
    repo = make_repo(tmp_path)
    edit(repo / "jobs/narrative.yaml", "      f1_macro: 0.50", "      f1_macro: 0.10")
    edit(repo / "jobs/memes.yaml", "timeout: 3h", "timeout: 90m")
    commit(repo, "narrative gate 0.10, memes 90m")
    env = client_env(hub.url, tmp_path / "hf-home")
    _publish_evaluation(env)
    result = run_cli("plan", "--base", "main", "--format", "json", cwd=repo, env=ENV | env)
    assert result.code == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["prices"] == "Hub Jobs hardware list (live)"
    jobs = {job["name"]: job for job in plan["jobs"]}
    assert jobs["memes"]["run"]["max_usd"] == 0.6  # t4-small at $0.40/h for 90 minutes
    card = jobs["narrative"]["card"]
    assert card["numbers"] == (
        "published evaluation of run 20261125-001830-fc69 (dexter-ng/narrative-xlmr@main), "
        "gated by this spec"
    )
    # The published f1_macro (0.167) fails the old gate (0.5) and passes the new one (0.1).
    assert "-| f1_macro overall | 0.167 | >= 0.5 | **FAIL** |" in card["diff"].splitlines()
    assert "+| f1_macro overall | 0.167 | >= 0.1 | pass |" in card["diff"].splitlines()
    assert "not yet evaluated" in jobs["memes"]["card"]["numbers"]  # nothing published
    assert env["HF_TOKEN"] not in result.stdout + result.stderr
