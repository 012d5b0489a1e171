"""Every malformed spec gets its exact, located error line, exit code 2, and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from spec_cases import CASES, VALID

IN_PROCESS = True  # the `cli` fixture runs dexter-auto in this process (conftest.py)


def _write(directory: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        data = content if isinstance(content, bytes) else content.encode()
        (directory / name).write_bytes(data)


@pytest.mark.parametrize(
    ("files", "target", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_malformed_spec_is_reported_exactly(tmp_path, cli, files, target, expected):
    _write(tmp_path, files)
    result = cli("validate", target, cwd=tmp_path)
    assert result.code == 2
    assert result.stderr.splitlines() == expected
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("files", "target"), [case[1:3] for case in CASES[:12]], ids=[case[0] for case in CASES[:12]]
)
def test_render_writes_nothing_for_a_malformed_spec(tmp_path, cli, files, target):
    _write(tmp_path, files)
    result = cli("render", target, "-o", "out", cwd=tmp_path)
    assert result.code == 2
    assert not (tmp_path / "out").exists()


def test_every_problem_is_reported_at_once(tmp_path, cli):
    (tmp_path / "job.yaml").write_text(
        VALID.replace("[hau, yor]", "[hau, Yoruba]") + "training:\n  epochs: 0\n  optimiser: sgd\n"
    )
    result = cli("validate", "job.yaml", cwd=tmp_path)
    assert result.code == 2
    assert [line.split(": ")[1] for line in result.stderr.splitlines()] == [
        "languages[1]",
        "training.epochs",
        "training.optimiser",
    ]


def test_the_valid_base_spec_passes(tmp_path, cli):
    (tmp_path / "job.yaml").write_text(VALID)
    result = cli("validate", "job.yaml", "--no-data", cwd=tmp_path)  # its data is not here
    assert result.code == 0, result.stderr
    assert result.stdout.strip() == "✓ job.yaml: sample (text-classification, local)"


def test_at_least_25_malformed_specs_are_covered():
    assert len(CASES) >= 25
