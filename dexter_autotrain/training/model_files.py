"""Which files make a model, and the refusal of a model that brings its own code.

A base model named by a spec and a published model pulled for comparison come from Hub
repositories that anyone may have written. Only the files a transformers model of a known
family needs are downloaded (weights as safetensors, config, tokenizer and preprocessor
files), never pickles or Python, and a model whose config asks for custom code (`auto_map`)
is refused before anything loads it: transformers would otherwise ask "trust remote code?"
or, in AutoTrain's runner, import it.
"""

from __future__ import annotations

import json
from pathlib import Path

from dexter_autotrain.errors import UserError

MODEL_FILES = (
    "config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.txt",
    "vocab.json",
    "merges.txt",
    "sentencepiece.bpe.model",
    "spiece.model",
    "tokenizer.model",
    "preprocessor_config.json",
    "processor_config.json",
)
MODEL_PATTERNS = ("*.safetensors", "*.safetensors.index.json")
DOWNLOADED = (*MODEL_FILES, *MODEL_PATTERNS)
"""`allow_patterns` for every model download."""
CODE_KEYS = ("auto_map", "custom_pipelines")
"""Keys of config.json (and tokenizer/preprocessor configs) that name a repository's own code."""


def refuse_custom_code(folder: Path, field: str, name: str) -> None:
    """Refuse a model folder that needs code of its own.

    Args:
        folder: the downloaded or local model folder.
        field: the spec field or argument that named it, for the error (`base_model.id`).
        name: how the model was named (`ORG/NAME@REV`, a path).

    Raises:
        UserError: a config names custom code (`auto_map`), or the folder holds Python files.

    Example:
        >>> refuse_custom_code(Path("runs/x/base-model"), "base_model.path", "runs/x/base-model")
    """
    for config in ("config.json", "tokenizer_config.json", "preprocessor_config.json"):
        path = folder / config
        try:
            data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        except (OSError, ValueError):
            continue  # unreadable: loading it fails later with its own error
        found = [key for key in CODE_KEYS if isinstance(data, dict) and key in data]
        if found:
            raise UserError(
                f"{field}: {name} needs its own code (`{found[0]}` in {config}); the toolkit "
                "never runs a model's code: choose a model of a family transformers knows"
            )
    scripts = sorted(p.name for p in folder.glob("*.py"))
    if scripts:
        raise UserError(
            f"{field}: {name} carries Python files ({', '.join(scripts[:3])}); the toolkit "
            "never runs a model's code: choose a model of a family transformers knows"
        )
