"""The Hugging Face token never leaves memory: run every command with fake tokens set, the
way an attacker would look for them, and grep all output and every file written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import JOBS, REPO, fake_token

TOKENS = {
    "HF_TOKEN": fake_token("FAKEenv"),
    "HUGGING_FACE_HUB_TOKEN": fake_token("FAKElegacy"),
}
LOGIN_TOKEN = fake_token("FAKElogin")
SECRETS = (*TOKENS.values(), LOGIN_TOKEN)


def _commands(tmp: Path) -> list[tuple[str, ...]]:
    spec = str(JOBS / "narrative.yaml")
    runs = ("--runs-dir", str(tmp / "runs"))
    cards = ("--cards-dir", str(tmp / "cards"))
    return [
        ("validate", str(JOBS / "narrative.yaml"), str(JOBS / "actors.yaml"), "--json"),
        ("render", spec, "-o", str(tmp / "render"), "--json"),
        ("schema", "-o", str(tmp / "schema.json")),
        ("init", "text-classification", "probe", "--dir", str(tmp / "init")),
        ("data", "check", spec, "-o", str(tmp / "data"), "--json"),
        ("submit", "--smoke", spec, *runs, *cards),
        ("evaluate", "narrative", "--split", "validation", *runs, "--json"),
        ("card", "narrative", *runs, *cards),
        ("runs", *runs),
        ("status", "narrative", *runs, "--json"),
        ("logs", "narrative", *runs),
        ("runner", "status", "--json"),
        # hostile input: a spec asking for the token, a special file, an unknown option
        ("validate", str(tmp / "greedy.yaml")),
        ("validate", "/proc/self/environ", "--json"),
        ("render", "--no-such-option"),
    ]


@pytest.mark.training
def test_no_command_writes_or_prints_the_token(cli, tmp_path):
    home = tmp_path / "hf-home"
    home.mkdir()
    (home / "token").write_text(LOGIN_TOKEN)  # what `hf auth login` leaves
    (tmp_path / "greedy.yaml").write_text(
        "task: text-classification\nbase_model: {path: m}\n"
        "data: {sources: [{path: d.tsv}]}\nhub: {repo_id: '${HF_TOKEN}'}\n"
        "description: '${HF_TOKEN}'\n"
    )
    env = TOKENS | {"HF_HOME": str(home)}
    cards_before = _snapshot(REPO / "model_cards")
    outputs = []
    for command in _commands(tmp_path):
        result = cli(*command, env=env, cwd=tmp_path)
        outputs.append((command, result.stdout + result.stderr))
        assert "Traceback" not in result.stderr, (command, result.stderr[-2000:])
        assert result.code in (0, 2, 3), (command, result.code, result.stderr[-2000:])
    assert outputs[5][1].count("carded") >= 1, outputs[5][1][-2000:]  # the submit trained
    for command, text in outputs:
        for secret in SECRETS:
            assert secret not in text, (command, secret)
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p != home / "token"]
    assert len(written) > 50  # the run directory, its model, data, report, card...
    for path in written:
        content = path.read_bytes()
        for secret in SECRETS:
            assert secret.encode() not in content, (path, secret)
    assert _snapshot(REPO / "model_cards") == cards_before  # smoke cards stay in the run


def _snapshot(folder: Path) -> dict[str, float]:
    return {str(p): os.stat(p).st_mtime for p in folder.rglob("*")} if folder.is_dir() else {}
