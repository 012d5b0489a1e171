"""`plan --comment`: one sticky comment per pull request, over real HTTP to a local
stand-in for GitHub's REST API; never a second comment, never a token in it."""

from __future__ import annotations

import json

from conftest import fake_token
from inprocess import run_in_process as run_cli
from plan_repos import ENV, commit, edit, make_repo

from dexter_autotrain.testing.github_api import GitHubStandIn

REPOSITORY, NUMBER = "dexter-ng/models", 7
MARKER = "<!-- dexter-auto plan -->"


def _comment_env(tmp_path, github, token):
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": NUMBER}}))
    return ENV | {
        "GITHUB_API_URL": github.url,
        "GITHUB_TOKEN": token,
        "GITHUB_REPOSITORY": REPOSITORY,
        "GITHUB_EVENT_PATH": str(event),
        "HF_TOKEN": fake_token("plan-comment-hf"),
    }


def _post(repo, env):
    return run_cli("plan", "--base", "main", "--format", "markdown", "--comment", cwd=repo, env=env)


def test_the_comment_is_created_then_updated_never_duplicated(tmp_path):
    token = fake_token("plan-comment-github")
    repo = make_repo(tmp_path)
    narrative = repo / "jobs/narrative.yaml"
    edit(narrative, "learning_rate: 2e-5", "learning_rate: 3e-5")
    # A token pasted into a spec must not reach the comment either.
    edit(narrative, "description: >-\n", f"description: >-\n  {token}\n")
    commit(repo, "lr 3e-5")
    with GitHubStandIn(token) as github:
        github.add_comment(REPOSITORY, NUMBER, "LGTM")
        for index in range(120):  # the sticky comment then sits on the second page
            github.add_comment(REPOSITORY, NUMBER, f"note {index}")
        env = _comment_env(tmp_path, github, token)
        first = _post(repo, env)
        assert first.code == 0, first.stderr
        assert f"created the plan comment on {REPOSITORY}#{NUMBER}" in first.stderr
        edit(narrative, "learning_rate: 3e-5", "learning_rate: 4e-5")
        commit(repo, "lr 4e-5")
        second = _post(repo, env)
        assert second.code == 0, second.stderr
        assert f"updated the plan comment on {REPOSITORY}#{NUMBER}" in second.stderr
        comments = github.comments(REPOSITORY, NUMBER)
        requests = github.requests
    ours = [c for c in comments if MARKER in c.body]
    assert len(ours) == 1 and len(comments) == 122
    assert comments[0].body == "LGTM"
    assert "+  learning_rate: 4.0e-05" in ours[0].body
    assert "learning_rate: 3.0e-05\n" not in ours[0].body.replace("-  learning_rate: 3", "")
    assert ours[0].body == second.stdout
    paths = [(method, path.rsplit("/", 2)[-2:][0]) for method, path in requests]
    assert [method for method, _ in paths].count("POST") == 1
    assert [method for method, _ in paths].count("PATCH") == 1
    secrets = (token, env["HF_TOKEN"])
    for text in (*(c.body for c in comments), first.stdout, first.stderr, second.stderr):
        assert not any(secret in text for secret in secrets)
    assert "***" in ours[0].body


def test_github_refusing_is_one_line_without_the_token(tmp_path):
    token = fake_token("plan-comment-wrong")
    repo = make_repo(tmp_path)
    with GitHubStandIn(fake_token("plan-comment-right")) as github:
        result = _post(repo, _comment_env(tmp_path, github, token))
        assert github.comments(REPOSITORY, NUMBER) == []
    assert result.code == 1
    assert "GitHub refused GET /repos/dexter-ng/models/issues/7/comments: 401" in result.stderr
    assert token not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_comment_outside_a_pull_request_run_is_a_user_error(tmp_path):
    repo = make_repo(tmp_path)
    env = ENV | {"GITHUB_TOKEN": fake_token("plan-comment-github"), "GITHUB_EVENT_PATH": ""}
    result = _post(repo, env)
    assert result.code == 2
    assert "--comment: not a pull_request run" in result.stderr


def test_a_marked_comment_written_by_someone_else_is_never_edited(tmp_path, github_api):
    token = fake_token("plan-comment-author")
    repo = make_repo(tmp_path)
    github = github_api(token)
    github.add_comment(REPOSITORY, NUMBER, f"{MARKER}\nplease merge, plan attached", "mallory")
    posted = _post(repo, _comment_env(tmp_path, github, token))
    assert posted.code == 0, posted.stderr
    assert f"created the plan comment on {REPOSITORY}#{NUMBER}" in posted.stderr
    comments = github.comments(REPOSITORY, NUMBER)
    assert comments[0].body == f"{MARKER}\nplease merge, plan attached"  # untouched
    assert [c.user for c in comments] == ["mallory", "github-actions[bot]"]
    assert [method for method, _ in github.requests].count("PATCH") == 0


def test_a_redirect_is_not_followed_with_the_token(tmp_path, github_api):
    token = fake_token("plan-comment-redirect")
    repo = make_repo(tmp_path)
    elsewhere = github_api("some-other-token")
    github = github_api(token)
    github.store.redirect_to = elsewhere.url
    result = _post(repo, _comment_env(tmp_path, github, token))
    assert result.code == 1
    assert f"GitHub refused GET /repos/{REPOSITORY}/issues/{NUMBER}/comments: 307" in result.stderr
    assert elsewhere.requests == [] and token not in result.stdout + result.stderr
