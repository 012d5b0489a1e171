"""`${VAR}` and `${VAR:-default}` in the few spec fields where reading the environment is safe.

Only paths and repo ids may be interpolated: they change between machines and organisations,
are written into run directories as loaded, and are never secrets. Only the toolkit's own
variables may be read (`DEXTER_*`; an operator who needs another value sets a `DEXTER_` alias
for it): a spec from a pull request must not print `PIP_INDEX_URL`, `DB_PASS` or `CI_JOB_JWT`
into a plan. A variable
whose name looks like a secret is refused even then (`${DEXTER_SERVE_TOKEN}`), so a token can
never end up in a rendered file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from dexter_autotrain.spec.rules import RuleProblem
from dexter_autotrain.spec.yaml_source import FieldPath

INTERPOLATED_FIELDS = frozenset(
    {
        "hub.repo_id",
        "base_model.path",
        "data.sources[].path",
        "card.template",
        "evaluation.identity_terms",
    }
)
_REFERENCE = re.compile(r"\$\{([^}]*)\}")
_VARIABLE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$")
_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSW|KEY|CREDENTIAL|AUTH|JWT|PAT$", re.IGNORECASE)
_TOOLKIT_VARIABLE = re.compile(r"^DEXTER_[A-Z0-9_]+$")


def interpolate(
    data: Any, environ: Mapping[str, str], path: FieldPath = ()
) -> tuple[Any, list[RuleProblem]]:
    """Return `data` with references replaced, and the problems found on the way."""
    if isinstance(data, dict):
        problems: list[RuleProblem] = []
        result = {}
        for key, value in data.items():
            result[key], found = interpolate(value, environ, (*path, key))
            problems += found
        return result, problems
    if isinstance(data, list):
        pairs = [interpolate(item, environ, (*path, index)) for index, item in enumerate(data)]
        return [value for value, _ in pairs], [p for _, found in pairs for p in found]
    if not isinstance(data, str) or "${" not in data:
        return data, []
    problems = list(_check(data, environ, path))
    if problems:
        return data, problems
    return _REFERENCE.sub(lambda m: _value(m[1], environ), data), []


def _check(text: str, environ: Mapping[str, str], path: FieldPath) -> Iterator[RuleProblem]:
    pattern = ".".join("[]" if isinstance(p, int) else p for p in path).replace(".[]", "[]")
    if pattern not in INTERPOLATED_FIELDS:
        yield (
            path,
            "`${...}` is not allowed in this field",
            ("environment values may be used only in " + ", ".join(sorted(INTERPOLATED_FIELDS))),
        )
        return
    for reference in _REFERENCE.findall(text):
        match = _VARIABLE.match(reference)
        if not match:
            yield (
                path,
                f"`${{{reference}}}` is not a valid reference",
                "write ${NAME} or ${NAME:-default}",
            )
        elif _SECRET_NAME.search(match[1]):
            yield (
                path,
                f"refusing to read ${{{match[1]}}} into the spec: it looks like a secret",
                ("tokens are read from the environment when needed, never written into a spec"),
            )
        elif not _TOOLKIT_VARIABLE.match(match[1]):
            yield (
                path,
                f"refusing to read ${{{match[1]}}} into the spec: only DEXTER_* variables may be "
                "read",
                f"set DEXTER_{match[1]}={match[1]}'s value where the job runs, and write "
                f"${{DEXTER_{match[1]}}}",
            )
        elif match[1] not in environ and match[2] is None:
            yield (
                path,
                f"environment variable {match[1]} is not set",
                (f"export {match[1]}=..., or write ${{{match[1]}:-default}}"),
            )


def _value(reference: str, environ: Mapping[str, str]) -> str:
    match = _VARIABLE.match(reference)
    assert match is not None  # _check has accepted every reference
    value = environ.get(match[1], "")
    if match[2] is not None and not value:  # as the shell's `:-`: unset or empty
        return match[2]
    return value
