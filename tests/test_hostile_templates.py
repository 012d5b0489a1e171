"""Card templates as a hostile pull request would write them: every one ends in one located
error (template file and line), in bounded time and memory, and no card is written."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
import yaml
from conftest import REPO

from dexter_autotrain.cards.context import card_context
from dexter_autotrain.cards.render import render_card
from dexter_autotrain.cards.sandbox import Limits
from dexter_autotrain.errors import UserError
from dexter_autotrain.spec.model import JobSpec
from dexter_autotrain.system.files import display_path

FIXTURE = REPO / "tests" / "fixtures" / "cards" / "text-classification"
FAST = Limits(seconds=1.5)
HEADER = "# {{ repo_id }}\n\n"


@pytest.fixture(scope="module")
def context(tmp_path_factory) -> dict:
    run = tmp_path_factory.mktemp("run") / "20261125-000000-abcd"
    shutil.copytree(FIXTURE, run)
    spec = JobSpec.model_validate(yaml.safe_load((run / "spec.yaml").read_text()))
    return card_context(spec, run)


def _render(context: dict, folder: Path, body: str, limits: Limits = FAST) -> str:
    (folder / "card.md.j2").write_text(HEADER + body)
    return render_card(context, Path("card.md.j2"), folder, limits)


def _problem(context: dict, folder: Path, body: str, limits: Limits = FAST) -> str:
    """The one error line for `body` (written on line 3 of card.md.j2), without that
    file's name."""
    started = time.monotonic()
    with pytest.raises(UserError) as caught:
        _render(context, folder, body, limits)
    assert time.monotonic() - started < limits.seconds + 4
    assert len(caught.value.problems) == 1
    problem = str(caught.value.problems[0])
    where = f"{display_path(folder / 'card.md.j2')}:3: "
    assert problem.startswith(where), problem
    return problem.removeprefix(where)


BOUNDED = [
    # huge numbers and repetitions are refused before they are built
    ("{{ 10 ** (10 ** 10) }}", "the power 10 ** 10000000000 is too large"),
    ("{{ 2 ** 5000 }}", "the power 2 ** 5000 is too large"),
    ("{{ 'x' * 10**9 }}", "repeating 1 items 1000000000 times is over the 1048576 allowed"),
    ("{{ 10**9 * 'ab' }}", "repeating 2 items 1000000000 times"),
    ("{{ [0] * 10**9 }}", "repeating 1 items 1000000000 times"),
    (
        "{% set ns = namespace(x=3) %}{% for i in range(64) %}{% set ns.x = ns.x * ns.x %}"
        "{% endfor %}{{ ns.x }}",
        "the product is too large a number",
    ),
    ("{% for i in range(10**9) %}.{% endfor %}", "Range too big"),
    ("{{ 1 | num(10**8) }}", "num: digits must be 0 to 12"),
    # time: loops with no output, stopped at their line by the worker's timer
    (
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        "rendering took longer than 1.5 s (look for a loop that runs too long)",
    ),
    # output size
    (
        "{% for i in range(100000) %}{% for j in range(100) %}{{ i }}{% endfor %}{% endfor %}",
        "the card would be longer than 1048576 characters",
    ),
    # memory: single C calls that would allocate gigabytes
    ("{{ '%0999999999d' % 1 }}", "rendering needed more than 512 MiB of memory"),
    ("{{ 'x' | center(1000000000) }}", "rendering needed more than 512 MiB of memory"),
    ("{{ '{:>999999999}'.format(1) }}", "rendering needed more than 512 MiB of memory"),
    (
        "{% set ns = namespace(x='xx') %}{% for i in range(64) %}{% set ns.x = ns.x ~ ns.x %}"
        "{% endfor %}{{ ns.x | length }}",
        "rendering needed more than 512 MiB of memory",
    ),
    # recursion
    ("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "template recursion is too deep"),
    ("{% include 'card.md.j2' %}", "template recursion is too deep"),
    ("{% extends 'card.md.j2' %}", "template recursion is too deep"),
    # Python internals
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "template tried to reach Python internals"),
    ("{{ cycler.__init__.__globals__ }}", "template tried to reach Python internals"),
    ("{{ self._TemplateReference__context }}", "template tried to reach Python internals"),
    ("{{ evaluation | attr('__class__') }}", "template tried to reach Python internals"),
    ("{{ spec.card.update({'license': 'mit'}) }}", "template tried to reach Python internals"),
    # plain mistakes
    ("{{ 1 / 0 }}", "template error: ZeroDivisionError: division by zero"),
    ("{{ 'text' | num }}", "template error: ValueError: Unknown format code 'f'"),
    ("{{ evaluation.no_such_section }}", "'dict object' has no attribute 'no_such_section'"),
    ("{{ lipsum(5) }}", "'lipsum' is undefined"),
    ("{% if %}", "template syntax error: Expected an expression"),
]


@pytest.mark.parametrize(("body", "expected"), BOUNDED, ids=[b for b, _ in BOUNDED])
def test_hostile_template_is_one_located_error(context, tmp_path, body, expected):
    assert expected in _problem(context, tmp_path, body)


def test_no_include_leaves_the_allowed_folders(context, tmp_path):
    (tmp_path / "passwd.j2").symlink_to("/etc/passwd")
    (tmp_path / "environ.j2").symlink_to("/proc/self/environ")
    (tmp_path / "loop.j2").symlink_to("loop.j2")
    os.mkfifo(tmp_path / "fifo.j2")
    (tmp_path / "big.j2").write_text("x" * (300 * 1024))
    cases = {
        "{% include '/etc/passwd' %}": "template /etc/passwd not found",
        "{% include '../../../../etc/passwd' %}": "template ../../../../etc/passwd not found",
        "{% import '/proc/self/environ' as e %}": "template /proc/self/environ not found",
        "{% include 'passwd.j2' %}": "passwd.j2 resolves outside templates/ and the job's",
        "{% include 'environ.j2' %}": "environ.j2 resolves outside templates/ and the job's",
        "{% include 'loop.j2' %}": "template loop.j2 not found",
        "{% include 'fifo.j2' %}": "fifo.j2: is a special file",
        "{% include 'big.j2' %}": "big.j2: is larger than the 256 KiB allowed",
    }
    for body, expected in cases.items():
        problem = _problem(context, tmp_path, body)
        assert expected in problem and "root:" not in problem, problem


def test_a_template_can_include_its_neighbours_and_the_shared_layout(context, tmp_path):
    (tmp_path / "part.j2").write_text("Part for {{ name }}.")
    text = _render(
        context, tmp_path, "{% include 'part.j2' %}\n{% include 'text-classification.md.j2' %}"
    )
    assert "# dexter-ng/narrative-xlmr\n\nPart for narrative." in text
    assert "## Model details" in text  # from templates/


def _card_run(tmp_path: Path, template: str) -> Path:
    run = tmp_path / "runs" / "narrative" / "20261125-000000-abcd"
    shutil.copytree(FIXTURE, run)
    state = json.loads((run / "state.json").read_text())
    state["spec_path"] = str(tmp_path / "repo" / "jobs" / "job.yaml")
    state["smoke"] = False
    (run / "state.json").write_text(json.dumps(state))
    spec = yaml.safe_load((run / "spec.yaml").read_text())
    spec["card"]["template"] = template
    (run / "spec.yaml").write_text(yaml.safe_dump(spec))
    (tmp_path / "repo" / "jobs").mkdir(parents=True)
    (tmp_path / "repo" / ".git").mkdir()
    return run


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("/proc/self/environ", "card.template: resolves outside the repository"),
        ("../../../../../../../../etc/passwd", "card.template: resolves outside the repository"),
        ("../../data/card.md.j2", "card.template: a card template must be in the job's"),
        ("environ.j2", "card.template: resolves outside the repository"),
        ("missing.j2", "card.template: file not found"),
        ("fifo.j2", "card.template: is a special file"),
        ("../jobs", "card.template: is a directory, not a file"),
    ],
)
def test_card_template_is_confined(cli, tmp_path, template, expected):
    run = _card_run(tmp_path, template)
    jobs = tmp_path / "repo" / "jobs"
    (jobs / "environ.j2").symlink_to("/proc/self/environ")
    os.mkfifo(jobs / "fifo.j2")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "card.md.j2").write_text("{{ name }}")
    token = "hf_" + "z" * 34
    result = cli(
        "card",
        run,
        "--cards-dir",
        tmp_path / "cards",
        env={"HF_TOKEN": token, "DEXTER_DATA_ROOTS": str(tmp_path / "data")},
    )
    assert result.code == 2, result.stderr
    assert expected in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert token not in result.stdout + result.stderr and "root:x" not in result.stderr
    assert not (run / "README.md").exists() and not (tmp_path / "cards").exists()


def test_runaway_loop_through_the_cli_is_stopped_with_exit_2(cli, tmp_path):
    run = _card_run(tmp_path, "card.md.j2")
    (tmp_path / "repo" / "jobs" / "card.md.j2").write_text(
        HEADER + "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    )
    started = time.monotonic()
    result = cli("card", run, "--cards-dir", tmp_path / "cards", cwd=tmp_path / "repo")
    assert time.monotonic() - started < 15
    assert result.code == 2
    assert result.stderr.strip() == (
        "jobs/card.md.j2:3: rendering took longer than 5 s (look for a loop that runs too long)"
    )
    assert not (run / "README.md").exists() and not (tmp_path / "cards").exists()


def test_the_worker_sees_no_secret(context, tmp_path, monkeypatch):
    """The worker starts with an empty environment: even a sandbox escape finds no token."""
    monkeypatch.setenv("HF_TOKEN", "hf_" + "y" * 34)
    import dexter_autotrain.cards.render as render

    seen = {}
    real_run = render.subprocess.run

    def spy(*args, **kwargs):
        seen.update(kwargs["env"])
        return real_run(*args, **kwargs)

    monkeypatch.setattr(render.subprocess, "run", spy)
    assert _render(context, tmp_path, "ok").endswith("# dexter-ng/narrative-xlmr\n\nok")
    assert seen == {"PATH": os.defpath}
