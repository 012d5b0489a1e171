"""Malformed data: each gets its exact error lines, exit code 2, and nothing is written."""

from __future__ import annotations

import pytest
from data_cases import CASES

IN_PROCESS = True  # the `cli` fixture runs dexter-auto in this process (conftest.py)


@pytest.mark.parametrize(
    ("files", "spec", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_malformed_data_is_reported_exactly(tmp_path, cli, files, spec, expected):
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    (tmp_path / "job.yaml").write_text(spec)
    offline = {"HF_HUB_OFFLINE": "1"} if "- hub:" in spec else {}
    result = cli("data", "check", "job.yaml", "-o", "out", cwd=tmp_path, env=offline)
    assert result.code == 2
    assert result.stderr.splitlines() == expected
    assert not (tmp_path / "out").exists()


def test_at_least_15_malformed_data_files_are_covered():
    assert len(CASES) >= 15
