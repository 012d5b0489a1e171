"""`dexter-auto publish` and the publish stage of `submit`, through the real huggingface_hub
client over real HTTP to the Hub test server."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import JOBS, REPO, HubSetup, Result, fake_token
from inprocess import run_in_process as run_cli

from dexter_autotrain.testing import (
    Accounts,
    Fault,
    HubConfig,
    HubServer,
    TokenGrant,
)

IN_PROCESS = True  # `dexter-auto` runs in this process (tests/inprocess.py): exit codes, output
# and files are what the tests read; the Hub settings are applied to the imported client.

# Realistic fake tokens, known only to this server: the grep test looks for them everywhere.
WRITE_TOKEN = fake_token("PubTestWrite")
READ_TOKEN = fake_token("PubTestRead")
OUTSIDER_TOKEN = fake_token("PubTestOutsider")
EXCLUDED = ("training_params.json", "training_args.bin", "trainer_state.json")


@pytest.fixture(scope="module")
def hub_setup() -> HubSetup:
    accounts = Accounts(
        {
            WRITE_TOKEN: TokenGrant("dexter-test", "write"),
            READ_TOKEN: TokenGrant("dexter-test", "read"),
            OUTSIDER_TOKEN: TokenGrant("outsider", "write"),
        },
        {"dexter-ng": frozenset({"dexter-test"})},
    )
    config = HubConfig(lfs_threshold=64 * 1024)  # the tiny model's weights still go through LFS
    return HubSetup(accounts, config, WRITE_TOKEN)


@pytest.fixture(autouse=True)
def clean_hub(request: pytest.FixtureRequest) -> None:
    if "hub" in request.fixturenames:
        server: HubServer = request.getfixturevalue("hub")
        server.faults.clear()
        server.stats.reset()


@pytest.fixture(scope="module")
def smoke_run(trained, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The suite's smoke run of jobs/narrative.yaml (a tiny model trained once per suite run),
    submitted with a token and a Hub endpoint where nothing listens: the smoke run itself must
    not publish (it called no Hub: any call would have failed the submit). The recorded card
    fixtures hold no model weights, so the publish tests copy this run and mark the copies as
    real runs (see `carded_run`)."""
    smoke = trained.get("narrative")
    assert "publish: skipped: smoke runs are never published" in smoke.stderr
    assert "published" not in smoke.state and smoke.state["state"] == "carded"
    return trained.copy("narrative", tmp_path_factory.mktemp("smoke"))


def carded_run(
    smoke_run: Path,
    tmp_path: Path,
    repo: str,
    gates_passed: bool = True,
    run_id: str | None = None,
    branch: str = "main",
) -> Path:
    """A copy of the smoke run posing as a real run (smoke: false), carded again as one, that
    publishes to `dexter-ng/<repo>`. Only the flags change: the files are a real run's.
    Untracked (`tracking: false`): publish's MLflow update is test_tracking's subject, and
    here it would import MLflow (~3 CPU-s) in every publish."""
    from dexter_autotrain.cards.write import write_card
    from dexter_autotrain.runs import Run

    run = tmp_path / "runs" / "narrative" / (run_id or smoke_run.name)
    shutil.copytree(smoke_run, run)
    spec = yaml.safe_load((run / "spec.yaml").read_text())
    spec["hub"] |= {"repo_id": f"dexter-ng/{repo}", "branch": branch}
    spec["tracking"] = False
    (run / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True))
    state = json.loads((run / "state.json").read_text())
    state["smoke"], state["run_id"] = False, run.name
    state["evaluation"]["gates_passed"] = gates_passed
    (run / "state.json").write_text(json.dumps(state))
    write_card(run, Run(run).spec(), JOBS, None, False)
    return run


def publish(hub: HubServer, run: Path, *args: str, token: str | None = WRITE_TOKEN) -> Result:
    env = hub.client_env(run.parent.parent.parent / "hf-home", token or "")
    return run_cli("publish", run, *args, "--runs-dir", run.parent.parent, env=env)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def files_under(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): sha256(p.read_bytes())
        for p in root.rglob("*")
        if p.is_file() and ".cache" not in p.parts
    }


def expected_files(run: Path) -> dict[str, str]:
    from dexter_autotrain.hub.release import release_files

    files = release_files(run, "narrative")
    return {
        path: sha256(source if isinstance(source, bytes) else source.read_bytes())
        for path, source in files.items()
    }


def one_line(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# -- publishing ----------------------------------------------------------------------------


def test_publish_reads_back_with_the_card_files_and_tag(hub, smoke_run, tmp_path) -> None:
    from huggingface_hub import HfApi, ModelCard, snapshot_download

    run = carded_run(smoke_run, tmp_path, "narrative-readback")
    result = publish(hub, run, "--json")
    assert result.code == 0, result.stderr
    published = json.loads(result.stdout)
    tag = f"narrative-{smoke_run.name}"
    assert (published["repo_id"], published["tag"], published["new_commit"]) == (
        "dexter-ng/narrative-readback",
        tag,
        True,
    )
    state = json.loads((run / "state.json").read_text())
    assert state["published"] == {k: published[k] for k in ("repo_id", "commit", "tag", "url")}
    assert state["state"] == "published"
    api = HfApi()
    card = ModelCard.load("dexter-ng/narrative-readback")
    assert card.content == (run / "README.md").read_text()
    assert f'revision="{tag}"' in card.content  # the usage snippet pins the tag
    from card_rendering import rendering_problems

    committed = {e.path for e in api.list_repo_tree("dexter-ng/narrative-readback", recursive=True)}
    assert rendering_problems(card.content, committed) == []  # its images are committed too
    snapshot = Path(snapshot_download("dexter-ng/narrative-readback", revision=tag))
    got = files_under(snapshot)
    assert got.pop(".gitattributes")
    assert got == expected_files(run)
    assert {"model.safetensors", "config.json", "tokenizer.json", "README.md"} <= got.keys()
    assert {"evaluation.json", "evaluation.md", "spec.yaml", "data-report.json"} <= got.keys()
    assert any(path.startswith("plots/") for path in got)
    assert (
        not {*EXCLUDED} & got.keys() and "/work/" not in (snapshot / "data-report.json").read_text()
    )
    refs = api.list_repo_refs("dexter-ng/narrative-readback")
    assert {t.name: t.target_commit for t in refs.tags} == {tag: published["commit"]}
    assert api.repo_info("dexter-ng/narrative-readback").private is True
    title = api.list_repo_commits("dexter-ng/narrative-readback")[0].title
    assert smoke_run.name in title and "f1_macro" in title


def test_publishing_again_makes_no_commit_and_uploads_nothing(hub, smoke_run, tmp_path) -> None:
    run = carded_run(smoke_run, tmp_path, "narrative-twice")
    first = publish(hub, run, "--json")
    assert first.code == 0, first.stderr
    hub.stats.reset()
    again = publish(hub, run, "--json")
    assert again.code == 0, again.stderr
    assert json.loads(again.stdout)["commit"] == json.loads(first.stdout)["commit"]
    assert json.loads(again.stdout)["new_commit"] is False
    assert hub.stats.calls["commit"] == 0 and hub.stats.lfs_bytes == 0
    text = publish(hub, run)
    assert text.code == 0 and "already published, nothing uploaded" in text.stdout


def test_failed_gates_are_refused_unless_forced_with_a_reason(hub, smoke_run, tmp_path) -> None:
    from huggingface_hub import HfApi, ModelCard

    run = carded_run(smoke_run, tmp_path, "narrative-forced", gates_passed=False)
    refused = publish(hub, run)
    assert refused.code == 3 and "failed its gates" in one_line(refused)
    assert hub.stats.calls["whoami"] == 0 and hub.stats.calls["repo_create"] == 0
    reason = "tiny test model; reviewed by the ML lead"
    forced = publish(hub, run, "--force", reason)
    assert forced.code == 0, forced.stderr
    card = ModelCard.load("dexter-ng/narrative-forced").content
    assert f"for this reason: {reason}" in card
    title = HfApi().list_repo_commits("dexter-ng/narrative-forced")[0].title
    assert f"published with --force: {reason}" in title


def test_smoke_and_uncarded_runs_are_refused(hub, smoke_run, tmp_path) -> None:
    smoke = publish(hub, smoke_run)
    assert smoke.code == 2 and "smoke runs are never published" in one_line(smoke)
    run = carded_run(smoke_run, tmp_path, "narrative-uncarded")
    state = json.loads((run / "state.json").read_text())
    state["completed"] = ["prepare", "train", "evaluate"]
    (run / "state.json").write_text(json.dumps(state))
    uncarded = publish(hub, run)
    assert uncarded.code == 2 and "has no card yet" in one_line(uncarded)
    assert sum(hub.stats.calls.values()) == 0


def test_a_later_run_replaces_the_earlier_runs_files_on_its_branch(
    hub, smoke_run, tmp_path
) -> None:
    from huggingface_hub import HfApi, snapshot_download

    first = carded_run(smoke_run, tmp_path, "narrative-branch", branch="release")
    assert publish(hub, first).code == 0
    second = carded_run(
        smoke_run, tmp_path, "narrative-branch", run_id="20261126-120000-beef", branch="release"
    )
    (second / "plots" / "calibration.png").unlink()
    result = publish(hub, second, "--json")
    assert result.code == 0, result.stderr
    got = files_under(Path(snapshot_download("dexter-ng/narrative-branch", revision="release")))
    got.pop(".gitattributes")
    assert got == expected_files(second) and "plots/calibration.png" not in got
    api = HfApi()
    refs = api.list_repo_refs("dexter-ng/narrative-branch")
    assert {b.name for b in refs.branches} == {"main", "release"}
    assert {t.name for t in refs.tags} == {
        f"narrative-{smoke_run.name}",
        "narrative-20261126-120000-beef",
    }
    assert api.list_repo_files("dexter-ng/narrative-branch") == [".gitattributes"]  # main


# -- faults --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [
        Fault("preupload", status=429, retry_after=0),
        Fault("commit", status=503),
        Fault("commit", kind="drop"),
    ],
    ids=["429-preupload", "503-commit", "dropped-commit-reply"],
)
def test_faults_are_retried_and_reported(hub, smoke_run, tmp_path, fault) -> None:
    from huggingface_hub import HfApi

    repo = f"narrative-{fault.route}-{fault.kind}-{fault.status}"
    run = carded_run(smoke_run, tmp_path, repo)
    hub.faults.add(fault)
    result = publish(hub, run, "--json")
    assert result.code == 0, result.stderr
    retries = [line for line in result.stderr.splitlines() if "retry 1/" in line]
    assert len(retries) == 1, result.stderr
    commits = HfApi().list_repo_commits(f"dexter-ng/{repo}")
    assert len(commits) == 2  # the repo's initial commit and ours: never twice
    assert commits[0].commit_id == json.loads(result.stdout)["commit"]


def test_a_commit_that_keeps_failing_leaves_nothing_half_published(
    hub, smoke_run, tmp_path
) -> None:
    from huggingface_hub import HfApi

    from dexter_autotrain.errors import HubUnavailable
    from dexter_autotrain.hub.publish import publish_run
    from dexter_autotrain.hub.retry import RetryPolicy
    from dexter_autotrain.runs import Run

    run = carded_run(smoke_run, tmp_path, "narrative-down")
    hub.faults.add(Fault("commit", status=503, times=100))
    lines: list[str] = []
    with pytest.raises(HubUnavailable, match=r"after 3 tries .*nothing was published"):
        publish_run(Run(run), report=lines.append, policy=RetryPolicy(3, 0.01, 0.02))
    assert len(lines) == 2 and all("HTTP 503" in line for line in lines)
    api = HfApi()
    assert [c.title for c in api.list_repo_commits("dexter-ng/narrative-down")] == [
        "initial commit"
    ]
    assert api.list_repo_refs("dexter-ng/narrative-down").tags == []
    assert "published" not in json.loads((run / "state.json").read_text())


# -- tokens --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "said"),
    [
        (None, "no Hugging Face token"),
        (fake_token("NotAKnownToken"), "refused by"),
        (READ_TOKEN, "is read-only"),
        (OUTSIDER_TOKEN, "may not write to the namespace `dexter-ng`"),
    ],
    ids=["missing", "invalid", "read-only", "not-in-org"],
)
def test_tokens_that_cannot_publish_get_one_line_and_exit_2(
    hub, smoke_run, tmp_path, token, said
) -> None:
    run = carded_run(smoke_run, tmp_path, "narrative-denied")
    result = publish(hub, run, token=token)
    assert result.code == 2 and said in one_line(result)
    assert not {"repo_create", "preupload", "commit", "lfs_upload"} & set(hub.stats.calls)
    assert "published" not in json.loads((run / "state.json").read_text())


def test_the_token_is_never_printed_or_written(hub, smoke_run, tmp_path) -> None:
    run = carded_run(smoke_run, tmp_path, "narrative-grep")
    hub.faults.add(Fault("preupload", status=429, retry_after=0))
    outputs = [publish(hub, run), publish(hub, run, "--json"), publish(hub, run, token=READ_TOKEN)]
    hub.faults.add(Fault("commit", status=400))  # not retried: the error path, at once
    outputs.append(publish(hub, carded_run(smoke_run, tmp_path / "b", "narrative-grep-b")))
    assert [o.code for o in outputs] == [0, 0, 2, 1]
    assert "HTTP 400: injected fault 400; nothing was published" in one_line(outputs[-1])
    for token in (WRITE_TOKEN, READ_TOKEN):
        for output in outputs:
            assert token not in output.stdout + output.stderr
        for root in (tmp_path, hub.data_dir):
            for path in root.rglob("*"):
                if path.is_file():
                    assert token.encode() not in path.read_bytes(), path


# -- inside submit --------------------------------------------------------------------------


@pytest.mark.training
def test_submit_skips_publishing_without_a_token_and_resume_publishes(hub, tmp_path) -> None:
    """The publish stage is the pipeline's, whatever the model: a linear one (seconds)."""
    (tmp_path / "tiny.yaml").write_text(
        "task: text-classification\nmodel: {family: linear}\n"
        f"languages: [pcm]\ndata:\n  sources:\n    - path: {REPO}/data/samples/naijasenti/"
        "{language}\n      format: tsv\n  max_rows_per_split: 60\n  min_examples_per_label: 1\n"
        "tracking: false\nhub: {repo_id: dexter-ng/tiny-submitted}\n"
    )
    runs = tmp_path / "runs"
    submit = ("submit", "tiny.yaml", "--runs-dir", runs, "--cards-dir", tmp_path / "cards")
    skipped = run_cli(*submit, cwd=tmp_path, env=hub.client_env(tmp_path / "home", ""))
    assert skipped.code == 0, skipped.stderr[-3000:]
    assert "publish: skipped: no Hugging Face token" in skipped.stderr
    assert "dexter-auto publish " in skipped.stderr and hub.stats.calls["whoami"] == 0
    run = next(runs.glob("tiny/*/state.json")).parent
    env = hub.client_env(tmp_path / "home", WRITE_TOKEN)
    resumed = run_cli("submit", "--resume", run, "--runs-dir", runs, "--json", env=env)
    assert resumed.code == 0, resumed.stderr[-3000:]
    state = json.loads(resumed.stdout)
    assert state["state"] == "published" and state["completed"][-2:] == ["gates", "publish"]
    assert state["published"]["tag"] == f"tiny-{run.name}"
    assert hub.stats.calls["commit"] == 1


# -- the gate against the model already published -------------------------------------------


def gated(run: Path, minimum: float) -> Path:
    """The run's spec with `min_lift_over_published: minimum` as its one gate (a smoke
    model misses the job's real thresholds), fairness still measured."""
    spec = yaml.safe_load((run / "spec.yaml").read_text())
    spec["evaluation"]["gates"] = {"min_lift_over_published": minimum}
    spec["evaluation"]["fairness"] = {"group_by": "language", "max_gap": 1.0}
    (run / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True))
    return run


def evaluate(hub: HubServer, run: Path, *args: str | Path) -> tuple[Result, dict]:
    env = hub.client_env(run.parent.parent.parent / "hf-home", WRITE_TOKEN)
    result = run_cli("evaluate", *args, "--json", "--runs-dir", run.parent.parent, env=env)
    return result, json.loads(result.stdout)


def swap_classifier_rows(run: Path) -> None:
    """Make a different model from the same run: its classifier's rows (one per label)
    reversed, so the model predicts other labels."""
    from safetensors.torch import load_file, save_file

    path = run / "narrative" / "model.safetensors"
    labels = len(json.loads((run / "narrative" / "config.json").read_text())["id2label"])
    tensors = load_file(path)
    name = next(k for k, t in tensors.items() if t.dim() == 2 and t.shape[0] == labels)
    tensors[name] = tensors[name].flip(0).contiguous()
    save_file(tensors, path, metadata={"format": "pt"})


def published_gate(report: dict) -> dict:
    return next(row for row in report["gates"]["rows"] if "over published" in row["name"])


def test_the_gate_against_the_published_model_across_two_revisions(
    hub, smoke_run, tmp_path
) -> None:
    repo = "dexter-ng/narrative-versus"
    # 1. nothing published yet: the gate passes and says so
    first = gated(carded_run(smoke_run, tmp_path, "narrative-versus", run_id="r1"), 0.0)
    result, report = evaluate(hub, first, first)
    assert result.code == 0, result.stderr
    assert report["published"]["status"] == "first publish" and not report["published"]["rows"]
    assert published_gate(report)["passed"] and "first publish" in published_gate(report)["note"]
    assert "this is the first publish" in (first / "evaluation.md").read_text()
    commit_a = json.loads(publish(hub, first, "--json").stdout)["commit"]

    # 2. the same weights again: lift exactly 0, short of 0.01, so the gate fails
    second = gated(carded_run(smoke_run, tmp_path, "narrative-versus", run_id="r2"), 0.01)
    result, report = evaluate(hub, second, second)
    assert result.code == 3, result.stderr
    versus = report["published"]
    assert (versus["status"], versus["commit"], versus["lift"]) == ("compared", commit_a, 0.0)
    # the same model scored twice: labels equal; confidences may differ by float rounding
    # (the new model's batches also hold the counterfactual probe's variants)
    assert all(row["new"] == pytest.approx(row["published"], abs=1e-6) for row in versus["rows"])
    languages = [f"f1_macro ({language})" for language in report["slices"]["language"]]
    names = [row["name"] for row in versus["rows"]]
    assert names[-len(languages) - 1 :] == [*languages, "f1_macro fairness gap"]
    assert not published_gate(report)["passed"]
    assert json.loads((second / "state.json").read_text())["evaluation"]["gates_passed"] is False
    assert (second / "compare" / f"narrative-versus-{commit_a[:12]}" / "config.json").is_file()
    cards = ("--cards-dir", tmp_path / "cards")  # never the repository's model_cards/
    assert run_cli("card", second, "--runs-dir", second.parent.parent, *cards).code == 0
    card = (second / "README.md").read_text()
    assert "### Against the published model" in card and f"published `{commit_a[:12]}`" in card
    forced = publish(hub, second, "--force", "same model, new card", "--json")
    commit_b = json.loads(forced.stdout)["commit"]
    assert commit_b != commit_a

    # 3. another model, compared with the branch's new head, not the first publish
    third = gated(carded_run(smoke_run, tmp_path, "narrative-versus", run_id="r3"), 0.0)
    swap_classifier_rows(third)
    result, report = evaluate(hub, third, third)
    versus, primary = report["published"], report["primary_metric"]
    assert versus["commit"] == commit_b
    second_report = json.loads((second / "evaluation.json").read_text())
    published_primary = second_report["overall"]["metrics"][primary]
    row = next(row for row in versus["rows"] if row["name"] == primary)
    assert row["published"] == published_primary
    assert versus["lift"] == report["overall"]["metrics"][primary] - published_primary
    for compared in versus["rows"]:  # better by each row's direction (an error, a gap: lower)
        lower = compared["name"] == "calibration_error" or compared["name"].endswith(" gap")
        change = compared["difference"]
        assert compared["better"] == (None if not change else (change < 0) == lower)
    assert published_gate(report)["passed"] == (versus["lift"] >= 0.0)
    assert result.code == (0 if report["gates"]["passed"] else 3)

    # `evaluate hub:ORG/NAME@REV` scores the model a tag names, pinned to its commit
    tag_a = f"narrative-{first.name}"
    result, pulled = evaluate(hub, third, f"hub:{repo}@{tag_a}", "--on", third)
    assert result.code in (0, 3), result.stderr
    assert pulled["model"] == {"repo_id": repo, "revision": tag_a, "commit": commit_a}
    first_report = json.loads((first / "evaluation.json").read_text())
    assert pulled["overall"]["metrics"] == first_report["overall"]["metrics"]
    assert (third / "evaluations" / f"hub-narrative-versus-{commit_a[:12]}").is_dir()


def test_published_models_are_named_hub_org_name_at_revision(hub, smoke_run, tmp_path) -> None:
    run = carded_run(smoke_run, tmp_path, "narrative-badref")
    for reference, expected in (
        ("hub:dexter-ng", "not a published model"),
        ("hub:dexter-ng/narrative-nothing@main", "no such model or revision"),
    ):
        result = run_cli(
            "evaluate", reference, "--on", run, "--runs-dir", run.parent.parent,
            env=hub.client_env(tmp_path / "hf-home", WRITE_TOKEN),
        )  # fmt: skip
        assert result.code == 2 and expected in one_line(result), result.stderr


# -- publishing for review: a Hub pull request, merged or closed ------------------------------
# One command-line call per behaviour (exit code and output); the other steps go through the
# Python API in this process (the same functions the commands call), to spare the suite a
# process start each.


def test_a_run_opened_for_review_is_merged_then_tagged(hub, smoke_run, tmp_path) -> None:
    """`publish --review`: the run's files as `refs/pr/1`, the gates in its description, the
    branch untouched; `status` shows it; `deploy` waits; `--merge` merges it with the Hub's
    own merge and tags the merged commit; merging again changes nothing."""
    from huggingface_hub import HfApi, snapshot_download

    from dexter_autotrain import api as dx
    from dexter_autotrain.errors import UserError
    from dexter_autotrain.runs import Run

    run = carded_run(smoke_run, tmp_path, "narrative-review")
    spec = yaml.safe_load((run / "spec.yaml").read_text())
    spec["hub"]["review"] = "pull-request"  # the spec asks for review: no flag needed
    (run / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True))
    from dexter_autotrain.cards.write import write_card

    write_card(run, Run(run).spec(), JOBS, None, False)
    tag = f"narrative-{smoke_run.name}"
    assert f'revision="{tag}"' not in (run / "README.md").read_text()  # no tag before a merge
    opened = publish(hub, run, "--json")
    assert opened.code == 0, opened.stderr
    record = json.loads(opened.stdout)
    review = record["review"]
    assert (review["num"], review["status"], record["tag"]) == (1, "open", None)
    api, repo = HfApi(), "dexter-ng/narrative-review"
    pulled = files_under(Path(snapshot_download(repo, revision="refs/pr/1")))
    pulled.pop(".gitattributes", None)
    assert pulled == expected_files(run)
    assert api.list_repo_refs(repo).branches[0].target_commit == review["base"]  # untouched
    details = api.get_discussion_details(repo, 1)
    assert smoke_run.name in details.title and "gates passed" in details.title
    description = details.events[0].content
    assert "| gate | value | rule | result |" in description and "## Data" in description
    assert "f1_macro" in description and "--merge" in description

    from dexter_autotrain.cli.views import outcome_lines

    assert any("review: pull request #1 open" in line for line in outcome_lines(Run(run).state()))
    with pytest.raises(UserError, match="not merged yet"):
        dx.deploy(Run(run))

    merged = dx.merge_published(Run(run))
    assert (merged.tag, merged.published.review.status, merged.new_commit) == (tag, "merged", True)
    refs = api.list_repo_refs(repo)
    card_commit = Run(run).state().published.card_commit  # the card, now pinning the tag
    assert refs.branches[0].target_commit == card_commit != merged.commit
    assert api.list_repo_commits(repo)[1].commit_id == merged.commit  # on top of the merge
    assert {t.name: t.target_commit for t in refs.tags} == {tag: merged.commit}
    assert api.get_discussion_details(repo, 1).status == "merged"
    from huggingface_hub import ModelCard

    assert f'revision="{tag}"' in ModelCard.load(repo).content  # pinned once it exists
    assert dx.merge_published(Run(run)).new_commit is False  # merged once


def test_a_review_after_the_branch_moved_is_refused_at_merge_then_closed(
    hub, smoke_run, tmp_path
) -> None:
    """A second run's pull request, opened before the branch moved: its comparison is stale,
    so `--merge` refuses (nothing merged); `--close` closes it with the reason."""
    from huggingface_hub import HfApi

    from dexter_autotrain import api as dx
    from dexter_autotrain.errors import UserError
    from dexter_autotrain.runs import Run

    api, repo = HfApi(), "dexter-ng/narrative-stale"
    first = carded_run(smoke_run, tmp_path, "narrative-stale", run_id="20261201-000000-aaaa")
    dx.publish(Run(first))  # a model on the branch
    second = Run(carded_run(smoke_run, tmp_path, "narrative-stale", run_id="20261202-000000-bbbb"))
    dx.publish(second, review=True)
    api.upload_file(path_or_fileobj=b"moved", path_in_repo="NOTES.md", repo_id=repo)
    refused = publish(hub, second.path, "--merge")
    assert refused.code == 2 and "moved since the pull request was opened" in one_line(refused)
    assert api.get_discussion_details(repo, 1).status == "open"
    closed = dx.close_published(second, "stale: the branch moved").published.review
    assert (closed.status, closed.reason) == ("closed", "stale: the branch moved")
    details = api.get_discussion_details(repo, 1)
    assert details.status == "closed" and details.events[-2].content == "stale: the branch moved"
    with pytest.raises(UserError, match="was closed"):
        dx.merge_published(second)


def test_a_failed_gate_run_opens_for_discussion_but_merges_only_forced(
    hub, smoke_run, tmp_path
) -> None:
    from huggingface_hub import HfApi

    from dexter_autotrain import api as dx
    from dexter_autotrain.errors import PublishRefused
    from dexter_autotrain.runs import Run

    run = Run(carded_run(smoke_run, tmp_path, "narrative-disputed", gates_passed=False))
    with pytest.raises(PublishRefused):  # as a direct publish: a reason first
        dx.publish(run, review=True)
    dx.publish(run, force="to discuss the Hausa slice", review=True)
    details = HfApi().get_discussion_details("dexter-ng/narrative-disputed", 1)
    assert "gates FAILED" in details.title
    assert "opened with `--force`: to discuss the Hausa slice" in details.events[0].content
    with pytest.raises(PublishRefused):
        dx.merge_published(run)
    assert dx.merge_published(run, force="accepted by the ML lead").published.tag


def _a_passing_release_deployed_locally(run: Path) -> None:
    """The run's evaluation (and so its card) records passed gates, and the job deploys
    with `dexter-auto serve` on this machine (no endpoint to start)."""
    from dexter_autotrain.cards.write import write_card
    from dexter_autotrain.runs import Run

    spec = yaml.safe_load((run / "spec.yaml").read_text())
    spec["deploy"] = {"enabled": True, "target": "local"}
    (run / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True))
    report = json.loads((run / "evaluation.json").read_text())
    report["gates"]["passed"] = True
    (run / "evaluation.json").write_text(json.dumps(report))
    write_card(run, Run(run).spec(), JOBS, None, False)


def test_rollback_puts_the_branch_back_to_a_release_and_redeploys_it(
    hub, smoke_run, tmp_path
) -> None:
    from huggingface_hub import HfApi, snapshot_download

    from dexter_autotrain import api as dx
    from dexter_autotrain.runs import Run

    api, repo = HfApi(), "dexter-ng/narrative-rollback"
    first = carded_run(smoke_run, tmp_path, "narrative-rollback", run_id="20261201-000000-aaaa")
    second = carded_run(smoke_run, tmp_path, "narrative-rollback", run_id="20261202-000000-bbbb")
    for run in (first, second):
        _a_passing_release_deployed_locally(run)
        dx.publish(Run(run))
    released = f"narrative-{first.name}"
    try:
        rolled = publish(hub, second, "--rollback", released, "--json")
        assert rolled.code == 0, rolled.stderr
        done = json.loads(rolled.stdout)
        assert done["new_commit"] is True and done["tag"].startswith(f"{released}-rollback-")
        head = api.list_repo_refs(repo).branches[0].target_commit
        assert head == done["commit"]
        assert api.list_repo_commits(repo)[0].title.startswith("Roll back")
        on_branch = files_under(Path(snapshot_download(repo, revision=head)))
        assert on_branch == files_under(Path(snapshot_download(repo, revision=released)))
        assert done["redeployed"]["target"] == "local" and done["redeployed"]["status"] == "running"
        assert dx.rollback(Run(second), released).rolled_back.new_commit is False  # no commit
    finally:
        dx.change_deployment(Run(first), "delete")


def test_a_rollback_to_a_release_that_failed_its_gates_needs_a_reason(
    hub, smoke_run, tmp_path
) -> None:
    from huggingface_hub import HfApi

    from dexter_autotrain import api as dx
    from dexter_autotrain.errors import UserError
    from dexter_autotrain.runs import Run

    failed = carded_run(smoke_run, tmp_path, "narrative-badtag", gates_passed=False)
    dx.publish(Run(failed), force="a hotfix the lead accepted")
    later = carded_run(smoke_run, tmp_path, "narrative-badtag", run_id="20261203-000000-cccc")
    dx.publish(Run(later))
    tag = f"narrative-{failed.name}"
    refused = publish(hub, later, "--rollback", tag)
    assert refused.code == 3 and "failed the gates" in one_line(refused)
    with pytest.raises(UserError, match="no tag `no-such-tag`"):
        dx.rollback(Run(later), "no-such-tag")
    dx.rollback(Run(later), tag, force="the new model misroutes Hausa")
    title = HfApi().list_repo_commits("dexter-ng/narrative-badtag")[0].title
    assert "forced: the new model misroutes Hausa" in title


def test_a_model_of_data_whose_licence_forbids_it_is_published_only_forced(
    hub, smoke_run, tmp_path
) -> None:
    """Research-only data: publishing refuses (exit 3, nothing on the Hub) and names the
    source; a non-commercial source beside a CC BY card is a conflict too; forced with a
    reason, the card says what it was published past and why."""
    from huggingface_hub import HfApi, ModelCard

    from dexter_autotrain import api as dx
    from dexter_autotrain.cards.write import write_card
    from dexter_autotrain.errors import PublishRefused
    from dexter_autotrain.runs import Run

    run = carded_run(smoke_run, tmp_path, "narrative-licensed")
    spec = yaml.safe_load((run / "spec.yaml").read_text())
    spec["data"]["sources"][0]["license"] = "research-only"
    (run / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True))
    write_card(run, Run(run).spec(), JOBS, None, False)
    assert "**Licence conflict:**" in (run / "README.md").read_text()
    refused = publish(hub, run)
    assert refused.code == 3 and "`research-only` forbids redistributing" in one_line(refused)
    assert not HfApi().repo_exists("dexter-ng/narrative-licensed")
    spec["data"]["sources"][0]["license"] = "cc-by-nc-4.0"
    (run / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True))
    with pytest.raises(PublishRefused, match=r"non-commercial but card\.license is `cc-by-4\.0`"):
        dx.publish(Run(run))
    dx.publish(Run(run), force="the data owners granted Dexter a licence")
    card = ModelCard.load("dexter-ng/narrative-licensed").content
    assert "a data licence** (`dexter-auto publish --force`)" in card  # (and failed gates)
    assert "the data owners granted Dexter a licence" in card
