"""JSON Schema of the job spec, for editors (yaml-language-server) and other tools."""

from __future__ import annotations

import json
from typing import Any

from dexter_autotrain.spec.model import JobSpec

SCHEMA_FILE_NAME = "job-spec.schema.json"


def job_spec_schema() -> dict[str, Any]:
    """The spec's JSON Schema. Nothing is required: `extends:` may supply any field."""
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **JobSpec.model_json_schema(),
    }
    schema.pop("required", None)
    return schema


def job_spec_schema_text() -> str:
    return json.dumps(job_spec_schema(), indent=2, ensure_ascii=False) + "\n"
