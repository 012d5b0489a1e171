"""The import contracts (pyproject.toml, checked by `make lint`) name every module they must:
a module added beside the others is placed on a floor, or this fails."""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path

import dexter_autotrain

ROOT = Path(__file__).resolve().parents[1]
GROUND = {"errors", "record", "report_record", "tasks"}
"""The ground floor: types every floor may import (the CLI too)."""


def _contract(name_start: str) -> dict:
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    [found] = [c for c in contracts["contracts"] if c["name"].startswith(name_start)]
    return found


def _top_level() -> set[str]:
    return {module.name for module in pkgutil.iter_modules(dexter_autotrain.__path__)}


def _named(contract: dict) -> set[str]:
    return {name.removeprefix("dexter_autotrain.") for name in contract["forbidden_modules"]}


def test_the_cli_contract_forbids_everything_below_the_api() -> None:
    contract = _contract("The CLI imports nothing below the API")
    assert contract["source_modules"] == ["dexter_autotrain.cli"]
    assert _named(contract) == _top_level() - {"api", "cli", *GROUND}


def test_the_ground_floor_contract_forbids_every_other_module() -> None:
    contract = _contract("The ground floor")
    assert {name.removeprefix("dexter_autotrain.") for name in contract["source_modules"]} == {
        "tasks",
        "record",
        "report_record",
    }
    assert _named(contract) == _top_level() - GROUND
