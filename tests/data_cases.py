"""Malformed data, each with the exact error lines `dexter-auto data check` must print."""

from __future__ import annotations

import io

TEXT_SPEC = """\
task: text-classification
base_model: {{path: .}}
data:
  sources:
    - path: {path}
{extra}"""

NER_SPEC = """\
task: token-classification
base_model: {{path: .}}
data:
  sources:
    - path: {path}
      format: conll
{extra}"""

IMAGE_SPEC = """\
task: image-classification
base_model: {{path: .}}
data:
  sources:
    - path: {path}
      format: imagefolder
  min_examples_per_label: 1
  min_examples_per_language: 1
  split: {{validation: 0.34, test: 0.0, stratify_by: [label]}}
"""


def tsv(rows: list[tuple[str, str]], header: str = "text\tlabel") -> str:
    return header + "\n" + "".join(f"{text}\t{label}\n" for text, label in rows)


def balanced(count: int = 10) -> list[tuple[str, str]]:
    return [
        (f"example number {i} is {label}", label) for i in range(count) for label in ("good", "bad")
    ]


LOW_MIN = "  min_examples_per_label: 1\n  min_examples_per_language: 1\n"


def png_bytes() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 10, 10)).save(buffer, format="PNG")
    return buffer.getvalue()


# (case id, files {relative path: content}, spec text, expected stderr lines)
CASES: list[tuple[str, dict[str, str | bytes], str, list[str]]] = []


def case(case_id: str, files: dict[str, str | bytes], spec: str, *expected: str) -> None:
    CASES.append((case_id, files, spec, list(expected)))


case(
    "missing-column",
    {"d/train.tsv": tsv(balanced(), "body\tlabel")},
    TEXT_SPEC.format(path="d", extra="      format: tsv\n"),
    "d/train.tsv:1: column `text` not found (columns: body, label) "
    "(set `data.columns.text` to the right column name)",
)
case(
    "empty-data-file",
    {"train.csv": ""},
    TEXT_SPEC.format(path="train.csv", extra=""),
    "train.csv: file is empty (write a header row, then one row per example)",
)
case(
    "non-utf8-data",
    {"train.tsv": tsv(balanced()).encode() + b"caf\xe9 au lait\tgood\n"},
    TEXT_SPEC.format(path="train.tsv", extra=""),
    "train.tsv:22:4: byte 0xe9 is not valid UTF-8 (save the file as UTF-8)",
)
case(
    "label-outside-set",
    {"train.tsv": tsv([*balanced(), ("so so", "goood")])},
    TEXT_SPEC.format(path="train.tsv", extra="  labels: [good, bad]\n"),
    "train.tsv:22: label `goood` is not in data.labels (1 rows, first here) "
    "(did you mean `good`? Or add it to data.labels, or map it with data.label_map)",
)
case(
    "wrong-field-count",
    {"train.tsv": tsv(balanced()) + "no label here\n"},
    TEXT_SPEC.format(path="train.tsv", extra=""),
    "train.tsv:22: row has 1 fields, the header has 2 (check quoting and delimiters on this row)",
)
case(
    "invalid-json",
    {"train.jsonl": '{"text": "a", "label": "good"}\n{"text": "b", label\n'},
    TEXT_SPEC.format(path="train.jsonl", extra=""),
    "train.jsonl:2: invalid JSON: Expecting property name enclosed in double quotes "
    "(write one JSON object per line)",
)
case(
    "json-not-object",
    {"train.jsonl": '["a", "good"]\n'},
    TEXT_SPEC.format(path="train.jsonl", extra=""),
    "train.jsonl:1: line is not a JSON object (write one JSON object per line)",
)
case(
    "json-missing-field",
    {"train.jsonl": '{"text": "a", "stance": "good"}\n'},
    TEXT_SPEC.format(path="train.jsonl", extra=""),
    "train.jsonl:1: field `label` is missing (fields: text, stance) "
    "(set `data.columns.label` to the right field name)",
)
case(
    "json-wrong-type",
    {"train.jsonl": '{"text": 42, "label": "good"}\n'},
    TEXT_SPEC.format(path="train.jsonl", extra=""),
    "train.jsonl:1: input and label must each be a string (fix this row)",
)
case(
    "conll-malformed-line",
    {"train.txt": "Buhari B-PER\nya\nce O\n"},
    NER_SPEC.format(path="train.txt", extra=""),
    "train.txt:2: expected `token TAG`, got 'ya' "
    "(write one token and its tag per line, a blank line between sentences)",
)
case(
    "invalid-iob2",
    {"train.txt": "Shugaba O\nMuhammadu I-PER\nBuhari I-PER\n\n"},
    NER_SPEC.format(path="train.txt", extra=""),
    "train.txt:1: invalid IOB2: token 2 (`Muhammadu`) is I-PER after O "
    "(an entity starts with B-PER; or set data.fix_iob2: true)",
)
case(
    "corrupt-image",
    {
        "imgs/meme/a.png": png_bytes(),
        "imgs/meme/b.png": png_bytes(),
        "imgs/photo/c.png": png_bytes(),
        "imgs/photo/broken.png": b"not a png",
    },
    IMAGE_SPEC.format(path="imgs"),
    "imgs/photo/broken.png: unreadable image (replace or remove the file)",
)
case(
    "too-few-per-label",
    {"train.tsv": tsv([*balanced(15), ("meh", "neutral")])},
    TEXT_SPEC.format(path="train.tsv", extra="  split: {validation: 0.2, test: 0.0}\n"),
    "data: label `neutral` has 1 training examples, fewer than data.min_examples_per_label "
    "(10) (add examples, merge the label with data.label_map, or lower the minimum)",
)
case(
    "too-few-per-language",
    {"hau.tsv": tsv(balanced()), "yor.tsv": tsv(balanced(1))},
    "task: text-classification\nbase_model: {path: .}\nlanguages: [hau, yor]\ndata:\n"
    "  sources:\n    - path: '{language}.tsv'\n  min_examples_per_label: 1\n"
    "  split: {validation: 0.4, test: 0.0, stratify_by: [language]}\n",
    "data: language `yor` has 1 training examples, fewer than "
    "data.min_examples_per_language (10) "
    "(add examples or lower data.min_examples_per_language)",
)
case(
    "source-not-found",
    {},
    TEXT_SPEC.format(path="nowhere.tsv", extra=""),
    "nowhere.tsv: data.sources[0]: not found (./ has no `nowhere.tsv`. Relative paths start at"
    " the spec's folder, ./)",
)
case(
    "directory-without-splits",
    {"d/all.tsv": tsv(balanced())},
    TEXT_SPEC.format(path="d", extra="      format: tsv\n"),
    "d: data.sources[0]: holds no train/dev/test .tsv files "
    "(name them train, dev (or validation) and test, or point `path` at one file)",
)
case(
    "no-validation",
    {"train.tsv": tsv(balanced())},
    TEXT_SPEC.format(path="train.tsv", extra="  split: {validation: 0.0, test: 0.2}\n"),
    "data: no validation examples (add dev files, or set data.split.validation above 0)",
)
case(
    "unknown-extension",
    {"train.dat": "a\n"},
    TEXT_SPEC.format(path="train.dat", extra=""),
    "train.dat: data.sources[0]: cannot tell the format of a .dat file "
    "(add `format:` to the source)",
)
case(
    "not-a-saved-dataset",
    {"ds/readme.md": "hello"},
    TEXT_SPEC.format(path="ds", extra="      format: hf-dataset\n"),
    "ds: cannot load dataset: FileNotFoundError (write it with Dataset.save_to_disk)",
)
case(
    "hub-dataset-offline",
    {},
    "task: text-classification\nbase_model: {path: .}\ndata:\n  sources:\n"
    "    - hub: masakhane/masakhanews\n      revision: " + "a" * 40 + "\n",
    "masakhane/masakhanews: cannot load the dataset from the Hub (offline?) (download it "
    "where there is network, `save_to_disk` it, and use `path:` with `format: hf-dataset`)",
)
case(
    "image-folder-without-classes",
    {"imgs/a.png": b""},
    IMAGE_SPEC.format(path="imgs"),
    "imgs: holds no class folders (put each class's images in a folder of its own)",
)
case(
    "too-few-images-for-autotrain",
    {f"imgs/{label}/{i}.png": png_bytes() for label in ("meme", "photo") for i in range(6)},
    IMAGE_SPEC.format(path="imgs"),
    "data: class `meme` has 2 validation images; AutoTrain needs at least 5 "
    "(add images, or raise data.split.validation)",
    "data: class `meme` has 4 train images; AutoTrain needs at least 5 "
    "(add images, or raise data.split.validation)",
    "data: class `photo` has 2 validation images; AutoTrain needs at least 5 "
    "(add images, or raise data.split.validation)",
    "data: class `photo` has 4 train images; AutoTrain needs at least 5 "
    "(add images, or raise data.split.validation)",
)


def bomb_png(width: int = 30000, height: int = 30000) -> bytes:
    """A tiny PNG whose header claims `width` x `height` pixels (a decompression bomb)."""
    import struct
    import zlib

    data = bytearray(png_bytes())
    header = b"IHDR" + struct.pack(">II", width, height) + bytes(data[24:29])
    data[12:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(header))
    return bytes(data)


def image_csv(rows: list[tuple[str, str]]) -> str:
    return "image,label\n" + "".join(f"{image},{label}\n" for image, label in rows)


IMAGE_CSV_SPEC = IMAGE_SPEC.replace("format: imagefolder", "format: image-csv")
case(
    "duplicated-header-column",
    {"train.tsv": tsv(balanced(), "text\tlabel\ttext")},
    TEXT_SPEC.format(path="train.tsv", extra=""),
    "train.tsv:1: column 'text' appears more than once in the header "
    "(give every column its own name)",
)
case(
    "whitespace-only-file",
    {"train.jsonl": "  \n\t\n   \n"},
    TEXT_SPEC.format(path="train.jsonl", extra=""),
    "train.jsonl: holds no examples (fill the file, or remove it from the sources)",
)
case(
    "deeply-nested-json",
    {"train.jsonl": '{"text": ' + "[" * 100_000 + "]" * 100_000 + ', "label": "good"}\n'},
    TEXT_SPEC.format(path="train.jsonl", extra=""),
    "train.jsonl:1: JSON nested too deeply (write one flat JSON object per line)",
)
case(
    "json-integer-with-thousands-of-digits",
    {"train.jsonl": '{"text": ' + "9" * 5000 + ', "label": "good"}\n'},
    TEXT_SPEC.format(path="train.jsonl", extra=""),
    "train.jsonl:1: invalid JSON: a number with more than 4300 digits (write it as a string)",
)
case(
    "json-lone-surrogate",
    {
        "train.jsonl": '{"text": "ok \\ud83d\\ude00", "label": "good"}\n'
        '{"text": "half \\ud800 a pair", "label": "good"}\n'
    },
    TEXT_SPEC.format(path="train.jsonl", extra=""),
    "train.jsonl:2: holds a lone surrogate escape (\\ud800-\\udfff) "
    "(write real characters, or complete surrogate pairs)",
)
case(
    "corrupt-parquet",
    {"train.parquet": b"PAR1" + b"\x00garbage" * 20 + b"PAR1"},
    TEXT_SPEC.format(path="train.parquet", extra=""),
    'train.parquet: not a readable Parquet file ("Parquet file size is 168 bytes, smaller '
    "than the size reported by footer's (1701…\") (write it with pyarrow or pandas `to_parquet`)",
)
case(
    "declared-label-without-training-examples",
    {"train.tsv": tsv(balanced(15))},
    TEXT_SPEC.format(
        path="train.tsv",
        extra="  labels: [good, bad, neutral]\n  split: {validation: 0.2, test: 0.0}\n",
    ),
    "data: label `neutral` has 0 training examples, fewer than data.min_examples_per_label "
    "(10) (add examples, merge the label with data.label_map, or lower the minimum)",
)
case(
    "image-decompression-bomb",
    {"imgs/meme/a.png": png_bytes(), "imgs/photo/bomb.png": bomb_png()},
    IMAGE_SPEC.format(path="imgs"),
    "imgs/photo/bomb.png: image claims more than 89 million pixels (replace or remove the file)",
)
case(
    "image-label-climbs-out-of-the-output",
    {"a.png": png_bytes(), "train.csv": image_csv([("a.png", "../../../../tmp/x")])},
    IMAGE_CSV_SPEC.format(path="train.csv"),
    "train.csv:2: label '../../../../tmp/x' cannot be a folder name "
    "(use letters, digits and `._ +-` (image labels become folder names))",
)
case(
    "image-label-mapped-out-of-the-output",
    {"imgs/meme/a.png": png_bytes()},
    IMAGE_SPEC.format(path="imgs") + "  label_map: {meme: ../../../../pwned}\n",
    "imgs: label '../../../../pwned' cannot be a folder name "
    "(use letters, digits and `._ +-` (image labels become folder names))",
)
case(
    "conll-document-markers-skipped",
    {"train.txt": "-DOCSTART- -X- O O\n\nBuhari B-PER\nya O\n\n-DOCSTART- O\nce\n"},
    NER_SPEC.format(path="train.txt", extra=""),
    "train.txt:7: expected `token TAG`, got 'ce' "
    "(write one token and its tag per line, a blank line between sentences)",
)
