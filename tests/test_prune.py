"""`runs prune`: a dry run by default; published, in-review, deployed and running runs are
always kept, then each job's newest N and those newer than D days."""

from __future__ import annotations

import json

PUBLISHED = {"repo_id": "dexter-ng/n", "commit": "c" * 40, "tag": "t", "url": "http://hub/c"}
DEPLOYED = {
    "target": "local", "name": "n", "namespace": None, "url": "http://127.0.0.1:1",
    "repository": None, "revision": None, "status": "running",
}  # fmt: skip


def test_prune_keeps_what_matters_and_deletes_only_when_asked(cli, trained, tmp_path):
    runs = tmp_path / "runs"
    made = {
        "20261101-000000-0001": {"published": PUBLISHED},
        "20261102-000000-0002": {"deployed": DEPLOYED},
        "20261103-000000-0003": {"created": "2026-11-03T00:00:00Z"},
        "20261104-000000-0004": {"created": "2099-01-01T00:00:00Z"},  # "newer than" any day
        "20261105-000000-0005": {"created": "2026-11-05T00:00:00Z"},
    }
    for run_id, state in made.items():
        trained.copy("narrative", tmp_path, run_id=run_id, state=state)
    dry = cli(
        "runs", "prune", "--keep-last", "1", "--newer-than", "30", "--runs-dir", runs, "--json"
    )
    assert dry.code == 0, dry.stderr
    verdicts = {row["run"].rsplit("/", 1)[1]: row["kept"] for row in json.loads(dry.stdout)["runs"]}
    assert verdicts == {
        "20261105-000000-0005": "one of the last 1",
        "20261104-000000-0004": "newer than 30 days",
        "20261103-000000-0003": None,
        "20261102-000000-0002": "deployed",
        "20261101-000000-0001": "published",
    }
    assert len(list(runs.glob("narrative/*/state.json"))) == 5  # a dry run deletes nothing
    shown = cli("runs", "prune", "--keep-last", "1", "--newer-than", "30", "--runs-dir", runs)
    assert "would delete (dry run; --delete to do it): 1 run," in shown.stdout
    gone = cli(
        "runs", "prune", "--keep-last", "1", "--newer-than", "30", "--delete", "--runs-dir", runs
    )
    assert gone.code == 0 and "deleted: 1 run," in gone.stdout
    assert sorted(p.parent.name for p in runs.glob("narrative/*/state.json")) == [
        "20261101-000000-0001", "20261102-000000-0002", "20261104-000000-0004",
        "20261105-000000-0005",
    ]  # fmt: skip
