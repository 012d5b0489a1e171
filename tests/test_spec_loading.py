"""Loading semantics: extends and deep merge, interpolation, YAML 1.2 scalars, defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import JOBS
from spec_cases import VALID

from dexter_autotrain.errors import UserError
from dexter_autotrain.spec import load_spec


def test_extends_deep_merges_with_the_job_winning(tmp_path: Path):
    (tmp_path / "_base.yaml").write_text(
        "training:\n  epochs: 7\n  batch_size: 4\nevaluation:\n  slices: [language, source]\n"
    )
    (tmp_path / "job.yaml").write_text(
        "extends: _base.yaml\n" + VALID + "training:\n  epochs: 2\nevaluation:\n  slices: []\n"
    )
    spec = load_spec(tmp_path / "job.yaml").spec
    assert (spec.training.epochs, spec.training.batch_size) == (2, 4)
    assert spec.evaluation.slices == []  # lists are replaced, not concatenated


def test_errors_in_an_extended_file_name_that_file(tmp_path: Path):
    (tmp_path / "_base.yaml").write_text("training:\n  epochs: -1\n")
    (tmp_path / "job.yaml").write_text("extends: _base.yaml\n" + VALID)
    with pytest.raises(UserError) as raised:
        load_spec(tmp_path / "job.yaml")
    assert [(p.file.endswith("_base.yaml"), p.line, p.field) for p in raised.value.problems] == [
        (True, 2, "training.epochs")
    ]


def test_name_defaults_to_the_file_name(tmp_path: Path):
    (tmp_path / "narrative-v2.yaml").write_text(VALID.replace("name: sample\n", ""))
    assert load_spec(tmp_path / "narrative-v2.yaml").spec.name == "narrative-v2"


def test_interpolation_reads_safe_fields_from_the_environment():
    loaded = load_spec(JOBS / "narrative.yaml", environ={"DEXTER_HUB_ORG": "acme"})
    assert loaded.spec.hub.repo_id == "acme/narrative-xlmr"
    default = load_spec(JOBS / "narrative.yaml", environ={})
    assert default.spec.hub.repo_id == "dexter-ng/narrative-xlmr"
    empty = load_spec(JOBS / "narrative.yaml", environ={"DEXTER_HUB_ORG": ""})
    assert empty.spec.hub.repo_id == "dexter-ng/narrative-xlmr"  # `:-` as in the shell
    assert loaded.sha256 != default.sha256


def test_yaml_1_2_scalars(tmp_path: Path):
    (tmp_path / "job.yaml").write_text(
        VALID.replace("[hau, yor]", "[hau, 'no']").replace("languages", "languages")
        + "description: no\ntraining:\n  learning_rate: 5e-5\n  auto_find_batch_size: true\n"
    )
    spec = load_spec(tmp_path / "job.yaml").spec
    assert spec.description == "no"  # YAML 1.1 would read a boolean
    assert spec.training.learning_rate == 5e-5  # YAML 1.1 would read a string
    assert spec.training.auto_find_batch_size is True


def test_defaults_keep_a_short_spec_short(tmp_path: Path):
    (tmp_path / "job.yaml").write_text(VALID)
    spec = load_spec(tmp_path / "job.yaml").spec
    assert spec.compute.backend == "local" and spec.hub.private is True
    assert spec.metrics == (
        "accuracy",
        "f1_macro",
        "f1_weighted",
        "precision_macro",
        "recall_macro",
        "calibration_error",
    )
    assert spec.primary_metric == "f1_macro" and spec.column("text") == "text"
