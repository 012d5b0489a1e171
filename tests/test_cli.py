"""The command line: help with examples, version, validate output, schema, init."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import JOBS, REPO

from dexter_autotrain import __version__

COMMANDS = [
    "validate",
    "render",
    "schema",
    "init",
    "data check",
    "submit",
    "runs",
    "status",
    "logs",
]


def test_version(cli):
    result = cli("--version")
    first, runner = result.stdout.splitlines()
    assert result.code == 0 and first == f"dexter-auto, version {__version__}"
    assert runner.startswith("runner: autotrain-advanced 0.8.36, transformers ")


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_has_examples(cli, command):
    result = cli(*(command.split() if command else []), "--help")
    assert result.code == 0
    assert "Example" in result.stdout


def test_validate_all_example_jobs_with_a_glob(cli):
    result = cli("validate", "jobs/*.yaml")
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "✓ jobs/_base.yaml: shared defaults",
        "✓ jobs/actors.yaml: actors (token-classification, local)",
        "✓ jobs/memes.yaml: memes (image-classification, hf-jobs)",
        "✓ jobs/narrative.yaml: narrative (text-classification, local)",
        "✓ jobs/news.yaml: news (text-classification, local)",
    ]


def test_validate_json_reports_valid_and_invalid_specs(cli, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("task: text-classification\n")
    result = cli("validate", "jobs/narrative.yaml", bad, "--json")
    assert result.code == 2
    report = json.loads(result.stdout)
    assert report["valid"] is False
    good, broken = report["specs"]
    assert good["valid"] and good["name"] == "narrative" and len(good["sha256"]) == 64
    assert {p["field"] for p in broken["problems"]} == {"base_model", "data"}
    assert all(p["line"] == 1 for p in broken["problems"])


def test_validate_unmatched_glob_is_a_user_error(cli):
    result = cli("validate", "jobs/*.yml")
    assert result.code == 2 and result.stderr.strip() == (
        "jobs/*.yml: no file matches (check the glob)"
    )


def test_committed_schema_is_current(cli):
    result = cli("schema")
    assert result.code == 0
    assert result.stdout == (JOBS / "job-spec.schema.json").read_text()
    schema = json.loads(result.stdout)
    assert "required" not in schema and "training" in schema["properties"]


@pytest.mark.parametrize("path", sorted(JOBS.glob("*.yaml")), ids=lambda p: p.name)
def test_example_jobs_point_editors_at_the_schema(path):
    assert path.read_text().splitlines()[0] == (
        "# yaml-language-server: $schema=./job-spec.schema.json"
    )


@pytest.mark.parametrize(
    "task", ["text-classification", "token-classification", "image-classification"]
)
def test_init_scaffolds_a_spec_that_validates(cli, tmp_path, task):
    (tmp_path / ".git").mkdir()  # a repository: the starter spec reads ../data inside it
    result = cli("init", task, "my-model", "--dir", tmp_path / "jobs")
    assert result.code == 0, result.stderr
    assert (tmp_path / "jobs" / "job-spec.schema.json").is_file()
    check = cli("validate", tmp_path / "jobs" / "my-model.yaml", "--json", "--no-data")
    assert check.code == 0, check.stderr
    assert json.loads(check.stdout)["specs"][0]["task"] == task
    no_data_yet = cli("validate", tmp_path / "jobs" / "my-model.yaml", "--json")
    [problem] = json.loads(no_data_yet.stdout)["specs"][0]["problems"]
    assert no_data_yet.code == 2 and problem["field"] == "data.sources[0].path"
    assert problem["message"].endswith("not found") and problem["line"] is not None


def test_init_names_a_misspelt_task_with_a_did_you_mean(cli, tmp_path):
    result = cli("init", "text-clasification", "x", "--dir", tmp_path)
    assert result.code == 2 and not list(tmp_path.iterdir())
    assert result.stderr.strip() == (
        "text-clasification: TASK: no such task (did you mean `text-classification`?)"
    )


def test_init_refuses_to_overwrite(cli, tmp_path):
    assert cli("init", "text-classification", "x", "--dir", tmp_path).code == 0
    again = cli("init", "text-classification", "x", "--dir", tmp_path)
    assert again.code == 2
    assert "already exists (pick another name or pass --force)" in again.stderr


def test_init_rejects_a_bad_name(cli, tmp_path):
    result = cli("init", "text-classification", "Bad Name", "--dir", tmp_path)
    assert result.code == 2 and not list(tmp_path.iterdir())


def test_spec_commands_import_no_ml_libraries():
    code = (
        "import sys\n"
        "from dexter_autotrain.cli import cli\n"
        "for args in (['validate', 'jobs/narrative.yaml', 'jobs/_base.yaml'],"
        " ['render', 'jobs/actors.yaml'], ['schema']):\n"
        "    try:\n"
        "        cli(args, standalone_mode=False)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = {'torch', 'transformers', 'datasets', 'evaluate'} & set(sys.modules)\n"
        "print('HEAVY', sorted(heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines()[-1] == "HEAVY []"


def test_piped_progress_prints_each_tenth_or_at_least_every_interval():
    """Without a terminal, a training prints a line each tenth of its steps, and also when
    `every` seconds passed since the last (30 by default: a long training is never silent)."""
    from io import StringIO

    from rich.console import Console

    from dexter_autotrain.cli.progress import PlainReporter
    from dexter_autotrain.training.log import Progress

    def lines(every: float) -> list[str]:
        console = Console(file=StringIO(), width=200)
        reporter = PlainReporter(console, every=every)
        for step in range(1, 101):
            reporter.progress(Progress(step=step, total_steps=100, loss=1.0))
        return console.file.getvalue().splitlines()

    tenths = lines(every=3600.0)
    assert len(tenths) == 10 and tenths[1] == "train: step 11/100 epoch 0.00 loss 1.0000"
    assert len(lines(every=0.0)) == 100  # the interval passed before every step


def test_every_command_takes_json():
    import click

    from dexter_autotrain.cli import cli as group

    def leaves(command: click.Command, context: click.Context):
        if not isinstance(command, click.Group):
            yield context.command_path, command
            return
        for name in command.list_commands(context):
            inner = command.get_command(context, name)
            yield from leaves(inner, click.Context(inner, info_name=name, parent=context))

    found = dict(leaves(group, click.Context(group, info_name="dexter-auto")))
    assert {"dexter-auto serve", "dexter-auto plan", "dexter-auto runs prune"} <= set(found)
    without = [
        path
        for path, command in found.items()
        if not any(p.name == "as_json" for p in command.params)
    ]
    assert without == []


def test_quiet_silences_notes_never_errors(cli):
    noted = cli("data", "check", "jobs/narrative.yaml")
    assert noted.code == 0 and "language `yor` has no test examples" in noted.stderr
    quiet = cli("-q", "data", "check", "jobs/narrative.yaml")
    assert quiet.code == 0 and quiet.stderr == "" and quiet.stdout == noted.stdout
    failed = cli("-q", "validate", "narative")
    assert failed.code == 2 and "did you mean `narrative`?" in failed.stderr
