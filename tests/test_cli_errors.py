"""Every mistake is one located line with exit 2 (or JSON with --json), never a traceback."""

from __future__ import annotations

import json

import pytest
from conftest import JOBS, REPO


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (
            ("render", JOBS / "narrative.yaml", "-o", "blocker/out"),
            "blocker/out: not a directory (a part of this path is a file: choose another folder)",
        ),
        (
            ("data", "check", JOBS / "narrative.yaml", "-o", "blocker/out"),
            "blocker/out/data: not a directory "
            "(a part of this path is a file: choose another folder)",
        ),
        (
            ("init", "text-classification", "probe", "--dir", "blocker/jobs"),
            "blocker/jobs: not a directory (a part of this path is a file: choose another folder)",
        ),
    ],
    ids=["render", "data-check", "init"],
)
def test_an_output_under_a_file_is_one_line(cli, tmp_path, command, expected):
    (tmp_path / "blocker").write_text("a file where a folder should be")
    result = cli(*command, cwd=tmp_path)
    assert (result.code, result.stderr.splitlines()) == (2, [expected])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker"]


def test_validate_reports_every_file_even_beside_a_bad_one(cli, tmp_path):
    (tmp_path / "bad.yaml").write_text("task: [a, b]\n")
    result = cli(
        "validate", tmp_path / "bad.yaml", JOBS / "narrative.yaml", tmp_path / "gone.yaml", "--json"
    )
    report = json.loads(result.stdout)
    assert result.code == 2 and report["ok"] is False
    assert [(spec["path"].rsplit("/", 1)[-1], spec["valid"]) for spec in report["specs"]] == [
        ("bad.yaml", False),
        ("narrative.yaml", True),
        ("gone.yaml", False),
    ]
    assert report["specs"][2]["problems"][0]["message"] == "file not found"


@pytest.mark.parametrize(
    "command",
    [
        ("render", "--no-such-option", "--json"),
        ("render", "missing.yaml", "--json"),
        ("data", "check", "missing.yaml", "--json"),
        ("status", "no-such-run", "--json"),
    ],
    ids=["usage", "render", "data-check", "status"],
)
def test_json_errors_are_json_on_stdout(cli, tmp_path, command):
    result = cli(*command, cwd=tmp_path)
    assert result.code == 2 and result.stderr == ""
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["problems"][0]["message"]


def test_control_characters_from_a_spec_are_escaped(cli, tmp_path):
    (tmp_path / "job.yaml").write_text('task: "\\e]0;pwned\\a\\e[2J"\nbase_model: {path: m}\n')
    result = cli("validate", tmp_path / "job.yaml")
    assert result.code == 2
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert "\\x1b]0;pwned\\x07\\x1b[2J" in result.stderr


def test_a_job_file_name_cannot_start_a_workflow_command(cli, tmp_path):
    """A name with a newline would otherwise print `::error ...` at the start of a CI log line
    and write a second line into $GITHUB_OUTPUT."""
    hostile = tmp_path / "x\n::error title=pwned::owned.yaml"
    hostile.write_text("task: text-classification\n")
    for args in (("validate", hostile), ("validate", hostile, "--json"), ("render", hostile)):
        result = cli(*args, env={"GITHUB_ACTIONS": "true"})
        assert result.code == 2, result.stderr
        lines = (result.stdout + result.stderr).splitlines()
        assert not any(line.lstrip(' ✗"').startswith("::") for line in lines), lines
        assert "not a job file name" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("seeds", "expected"),
    [
        ("11", "Invalid value for '--seeds': 11 is not in the range 1<=x<=10"),
        ("3", "--seeds 3: the job's only model is of the linear family"),
    ],
    ids=["too-many", "linear-alone"],
)
def test_a_bad_seeds_count_trains_nothing(cli, tmp_path, seeds, expected):
    spec = tmp_path / "job.yaml"
    spec.write_text(
        "task: text-classification\nmodel: {family: linear}\nlanguages: [hau]\ndata:\n"
        f"  sources: [{{path: '{REPO}/data/samples/naijasenti/{{language}}', format: tsv}}]\n"
    )
    result = cli("submit", spec, "--seeds", seeds, "--runs-dir", tmp_path / "runs")
    assert result.code == 2 and expected in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "runs").exists()
