"""Write prepared splits in the layout the AutoTrain runner reads, hashing as they stream.

Text and token tasks: `data/<split>.jsonl` with `text`/`label` or `tokens`/`tags` columns,
plus `language` and any columns kept for evaluation slices. Image tasks:
`data/<split>/<label>/<file>` folders, which AutoTrain's image loader expects, plus
`data/<split>.jsonl` listing each image with its label.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import IO

from dexter_autotrain.data.examples import Examples
from dexter_autotrain.errors import UserError
from dexter_autotrain.policy.spec_paths import is_safe_name, snippet
from dexter_autotrain.tasks import TASKS, get_task

INPUT_KEY = {name: task.input_kind for name, task in TASKS.items()}
"""The prepared data's key for an example's input (text, tokens or image path)."""
AUTOTRAIN_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
LABEL_KEY = {name: task.label_role for name, task in TASKS.items()}


def write_split(examples: Examples, split: str, task: str, data_dir: Path | None) -> dict:
    """Write (when `data_dir` is given) and fingerprint one split; returns its record."""
    name = f"{split}.jsonl"
    image_paths = _place_images(examples, split, data_dir) if get_task(task).reads_images else None
    digest = hashlib.sha256()
    handle: IO[bytes] | None = None
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
        handle = (data_dir / f".{name}.partial").open("wb")
    input_key, label_key = INPUT_KEY[task], LABEL_KEY[task]
    try:
        for index in range(len(examples)):
            value = image_paths[index] if image_paths else examples.inputs[index]
            line = json.dumps(
                {
                    input_key: value,
                    label_key: examples.labels[index],
                    "language": examples.languages[index],
                    **{name: values[index] for name, values in examples.extras.items()},
                },
                ensure_ascii=False,
            )
            data = (line + "\n").encode()
            digest.update(data)
            if handle:
                handle.write(data)
    finally:
        if handle:
            handle.close()
            os.replace(data_dir / f".{name}.partial", data_dir / name)
    return {"path": f"data/{name}", "rows": len(examples), "sha256": digest.hexdigest()}


def _place_images(examples: Examples, split: str, data_dir: Path | None) -> list[str]:
    """Relative paths `<split>/<label>/<n>-<name>`; files are linked or copied there, and
    converted to PNG when AutoTrain would not read their format."""
    relative = []
    for index, (path, label) in enumerate(zip(examples.inputs, examples.labels, strict=True)):
        if not is_safe_name(label):  # checks.check_folder_names reports it with its line
            raise UserError(f"label {snippet(label)} cannot be a folder name")
        name = Path(path).name
        if Path(name).suffix.lower() not in AUTOTRAIN_IMAGE_SUFFIXES:
            name = f"{Path(name).stem}.png"
        relative.append(f"{split}/{label}/{index:06d}-{name}")
    if data_dir is not None:
        for source, target in zip(examples.inputs, relative, strict=True):
            destination = data_dir / target
            destination.parent.mkdir(parents=True, exist_ok=True)
            if Path(source).suffix != destination.suffix:
                _convert_to_png(source, destination)
                continue
            try:
                os.link(source, destination)
            except OSError:
                shutil.copyfile(source, destination)
    return relative


def _convert_to_png(source: str, destination: Path) -> None:
    from PIL import Image

    with Image.open(source) as image:
        image.convert("RGB").save(destination, format="PNG")
