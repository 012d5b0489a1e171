"""A lint: a run's state file and its evaluation report are read only through their typed
records (`Run.state()`, `Run.evaluation()`, `EvaluationReport.read`), never opened and read
by string keys elsewhere. It fails on a module that names one of the files, reads a path
built from their names, or indexes a `report`, `evaluation` or `state` by a string key."""

from __future__ import annotations

import ast

from conftest import REPO

PACKAGE = REPO / "dexter_autotrain"
RECORD_MODULES = ("record.py", "report_record.py", "runs.py")
"""The record and run-store modules: the only ones that open the files."""
RUN_FILES = ("state.json", "evaluation.json")
FILE_NAMES = ("STATE_FILE", "REPORT_FILE")
READERS = ("loads", "load", "read_json", "read_text", "read_bytes", "open", "safe_load")
RECORD_NAMES = ("report", "evaluation", "state")


def _name(node: ast.AST) -> str | None:
    """`x` for `x` and for `a.b.x`."""
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else None


def _names_a_run_file(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and any(node.value == name or node.value.endswith(f"/{name}") for name in RUN_FILES)
    ) or _name(node) in FILE_NAMES


def _offences(source: str) -> list[tuple[int, str]]:
    """(line, code) of each read of a run file by hand and each string-key read of a
    record in `source`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if _names_a_run_file(node) and isinstance(node, ast.Constant):
            found.append(node)
        elif isinstance(node, ast.Call) and _name(node.func) in READERS:
            if any(_names_a_run_file(inner) for inner in ast.walk(node) if inner is not node):
                found.append(node)
        elif (
            isinstance(node, ast.Subscript)
            and _name(node.value) in RECORD_NAMES
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, str)
        ):
            found.append(node)
    return sorted({(node.lineno, ast.unparse(node)[:80]) for node in found})


def test_the_lint_catches_a_read_by_hand() -> None:
    bad = (
        "report = json.loads((run.path / 'evaluation.json').read_text())\n"
        "rows = read_json(run.path / REPORT_FILE)\n"
        "passed = report['gates']['passed']\n"
        "verdict = context.state['evaluation']\n"
        "raw = (path / STATE_FILE).read_text()\n"
    )
    assert {line for line, _ in _offences(bad)} == {1, 2, 3, 4, 5}
    good = (
        "report = run.evaluation()\n"
        "passed = report.gates.passed and data_report['inputs']\n"
        "history = json.loads((model / 'trainer_state.json').read_text())\n"
        "first = report.slices['language']\n"
    )
    assert _offences(good) == []


def test_only_the_record_modules_read_run_files() -> None:
    offences = [
        f"{path.relative_to(REPO)}:{line}: {code}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.relative_to(PACKAGE).as_posix() not in RECORD_MODULES
        for line, code in _offences(path.read_text())
    ]
    assert offences == [], "read run files through Run.state() / Run.evaluation():\n" + "\n".join(
        offences
    )
