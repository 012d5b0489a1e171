"""`dexter-auto plan` against temporary git repositories with base and PR branches."""

from __future__ import annotations

import json
import subprocess
import sys

from inprocess import run_in_process as run_cli
from plan_repos import ENV, commit, edit, git, make_repo

BROKEN = """extends: _base.yaml
task: text-classification
base_model: {id: FacebookAI/xlm-roberta-base, revision: e73636d4f797dec63c3081bb6ed5c7b0bb3f2089}
data:
  sources: [{path: ../data/samples/naijasenti/hau, format: tsv}]
training:
  learning_rate: fast
"""


def _plan(repo, *args):
    return run_cli("plan", "--base", "main", *args, cwd=repo, env=ENV)


def _every_kind_of_change(repo):
    """narrative: learning rate, a gate and a data file; _base.yaml: epochs (actors and
    narrative extend it); memes removed; narrative-v2 added; broken invalid."""
    jobs = repo / "jobs"
    edit(jobs / "narrative.yaml", "learning_rate: 2e-5", "learning_rate: 3e-5")
    edit(jobs / "narrative.yaml", "      f1_macro: 0.50", "      f1_macro: 0.55")
    edit(jobs / "_base.yaml", "epochs: 3", "epochs: 4")
    train = repo / "data/samples/naijasenti/hau/train.tsv"
    train.write_text(train.read_text() + "sabon rubutu\tpositive\n")
    (jobs / "memes.yaml").unlink()
    added = (jobs / "narrative.yaml").read_text().replace("narrative-xlmr", "narrative-v2")
    (jobs / "narrative-v2.yaml").write_text(added)
    (jobs / "broken.yaml").write_text(BROKEN)
    commit(repo, "every kind of change")


def test_plan_json_reports_each_job(tmp_path):
    repo = make_repo(tmp_path)
    _every_kind_of_change(repo)
    result = _plan(repo, "--format", "json")
    assert result.code == 2, result.stderr
    plan = json.loads(result.stdout)
    jobs = {job["path"]: job for job in plan["jobs"]}
    assert {path: job["status"] for path, job in jobs.items()} == {
        "jobs/actors.yaml": "changed",
        "jobs/broken.yaml": "invalid",
        "jobs/memes.yaml": "removed",
        "jobs/narrative-v2.yaml": "added",
        "jobs/narrative.yaml": "changed",
    }
    assert plan["to_run"] == ["jobs/actors.yaml", "jobs/narrative-v2.yaml", "jobs/narrative.yaml"]
    assert plan["counts"] == {"added": 1, "changed": 2, "removed": 1, "invalid": 1, "unchanged": 0}
    narrative = jobs["jobs/narrative.yaml"]
    assert narrative["reasons"] == ["spec", "config", "data", "card"]
    for line in ("-  learning_rate: 2.0e-05", "+  learning_rate: 3.0e-05", "+  epochs: 4"):
        assert line in narrative["spec_diff"].splitlines()
    assert "+      f1_macro: 0.55" in narrative["spec_diff"].splitlines()
    assert "+  lr: 3.0e-05" in narrative["config_diff"].splitlines()
    assert "+| f1_macro overall | - | >= 0.55 | **FAIL** (not yet evaluated) |" in (
        narrative["card"]["diff"].splitlines()
    )
    [data] = narrative["data"]
    assert (data["source"], data["change"]) == ("data/samples/naijasenti/hau", "changed")
    [changed_file] = data["files"]
    assert changed_file["path"] == "data/samples/naijasenti/hau/train.tsv"
    assert changed_file["base_sha256"] != changed_file["new_sha256"]
    assert len(changed_file["new_sha256"]) == 64
    actors = jobs["jobs/actors.yaml"]  # only _base.yaml changed for it
    assert actors["reasons"] == ["spec", "config", "card"]
    assert _changed_lines(actors["spec_diff"]) == ["-  epochs: 3", "+  epochs: 4"]
    assert actors["data"] == []
    added = jobs["jobs/narrative-v2.yaml"]
    assert added["card"]["numbers"].startswith("not yet evaluated")
    assert "# dexter-ng/narrative-v2" in added["card"]["text"]
    endpoint = added["run"].pop("endpoint")  # narrative.yaml's endpoint, priced
    assert endpoint["instance"] == "aws/intel-icl/x2" and endpoint["min_replicas"] == 0
    assert endpoint["first_day_usd"] == 24 * endpoint["usd_per_hour"] * endpoint["max_replicas"]
    assert added["run"] | {"deploy": None} == {
        "backend": "local",
        "hardware": "local",
        "timeout": "2h",
        "max_usd": 0.0,
        "usd_per_hour": None,
        "note": "no Hub charge",
        "publish": "dexter-ng/narrative-v2@main",
        "deploy": None,
        "models": [],  # one model
    }
    [problem] = jobs["jobs/broken.yaml"]["problems"]
    assert (problem["file"], problem["line"], problem["field"]) == (
        "jobs/broken.yaml",
        7,
        "training.learning_rate",
    )


def _changed_lines(diff: str) -> list[str]:
    return [
        line
        for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def test_plan_markdown_holds_the_problems_and_the_diffs(tmp_path):
    repo = make_repo(tmp_path)
    _every_kind_of_change(repo)
    result = _plan(repo, "--format", "markdown")
    assert result.code == 2
    text = result.stdout
    assert text.startswith("<!-- dexter-auto plan -->\n")
    assert "**Invalid job specs: fix them before merging**" in text
    assert "- jobs/broken.yaml:7:" in text and "training.learning_rate" in text
    assert "| `memes` | removed |" in text
    assert (
        "| `narrative` | changed | spec, config, data, card | local (local) | 2h | $0.00 |" in text
    )
    assert "+  lr: 3.0e-05" in text
    assert "data/samples/naijasenti/hau/train.tsv`: sha256 `" in text
    assert "**Card numbers:** not yet evaluated" in text


def test_a_template_change_shows_the_card_diff_of_every_job(tmp_path):
    repo = make_repo(tmp_path)
    edit(repo / "templates/_card.md.j2", "## Intended use\n", "## Intended use\n\nReviewed.\n")
    commit(repo, "template")
    plan = json.loads(_plan(repo, "--format", "json").stdout)
    assert [(job["name"], job["status"], job["reasons"]) for job in plan["jobs"]] == [
        ("actors", "changed", ["card"]),
        ("memes", "changed", ["card"]),
        ("narrative", "changed", ["card"]),
    ]
    for job in plan["jobs"]:
        assert job["spec_diff"] == job["config_diff"] == ""
        assert "+Reviewed.\n" in job["card"]["diff"]
    memes = plan["jobs"][1]
    assert memes["run"]["max_usd"] == 1.2  # t4-small, $0.40/h for compute.timeout 3h
    assert plan["prices"].startswith("price table of 2026-11-01 shipped with dexter-auto")


def test_nothing_changed_is_all_unchanged(tmp_path):
    repo = make_repo(tmp_path)
    result = run_cli("plan", cwd=repo, env=ENV)  # default base: the merge base with main
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("base: merge base with main (")
    assert [line.split()[0] for line in result.stdout.splitlines()[2:]] == ["unchanged"] * 3


def test_an_unknown_base_is_a_user_error(tmp_path):
    repo = make_repo(tmp_path)
    result = run_cli("plan", "--base", "no-such-branch", cwd=repo, env=ENV)
    assert result.code == 2
    assert "--base no-such-branch: no such commit" in result.stderr
    assert "Traceback" not in result.stderr


def test_plan_imports_no_torch_or_transformers(tmp_path):
    repo = make_repo(tmp_path)
    _every_kind_of_change(repo)
    probe = (
        "import atexit, sys\n"
        "from dexter_autotrain.cli import main\n"
        "atexit.register(lambda: sys.stderr.write('HEAVY ' + ' '.join(sorted(m for m in "
        "sys.modules if m.split('.')[0] in ('torch', 'transformers'))) + '\\n'))\n"
        "sys.argv = ['dexter-auto', 'plan', '--base', 'main', '--format', 'json']\n"
        "main()\n"
    )
    env = {**__import__("os").environ, **ENV}
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=repo, env=env, capture_output=True, text=True
    )
    assert done.returncode == 2, done.stderr
    assert json.loads(done.stdout)["counts"]["changed"] == 2
    assert "HEAVY \n" in done.stderr
    assert git(repo, "status", "--porcelain") == ""  # nothing written into the repository


def test_a_changed_jobs_missing_data_makes_it_invalid_unless_unchecked(tmp_path):
    repo = make_repo(tmp_path)
    edit(repo / "jobs" / "narrative.yaml", "samples/naijasenti/", "samples/naijasenty/")
    commit(repo, "a typo in the data path")
    checked = _plan(repo, "--json")
    plan = json.loads(checked.stdout)
    [narrative] = [job for job in plan["jobs"] if job["path"] == "jobs/narrative.yaml"]
    assert checked.code == 2 and narrative["status"] == "invalid" and plan["to_run"] == []
    [problem] = narrative["problems"]
    assert (problem["file"], problem["field"]) == ("jobs/narrative.yaml", "data.sources[0].path")
    assert problem["hint"].startswith("did you mean ") and "naijasenti?" in problem["hint"]
    unchecked = _plan(repo, "--no-data")
    assert unchecked.code == 0, unchecked.stderr
    assert "data not checked (--no-data): jobs/narrative.yaml" in unchecked.stdout
    assert "changed   jobs/narrative.yaml" in unchecked.stdout
