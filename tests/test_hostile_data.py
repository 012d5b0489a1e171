"""Hostile data a pull request could bring: paths that climb out of the repository, secrets
behind symlinks, special files, huge lines, labels that are paths, control characters.
Each ends in exit 0 or 2 with at most a short escaped quote, and nothing written outside
the output folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import fake_token, run_cli
from data_cases import IMAGE_CSV_SPEC, LOW_MIN, TEXT_SPEC, balanced, image_csv, png_bytes, tsv
from inprocess import invoke, snapshot, written_outside

SECRET = fake_token("FAKEdataSECRET")
OUTSIDE_HINT = "resolves outside the repository"
FOLDER_HINT = "(use letters, digits and `._ +-` (image labels become folder names))"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A job's repository (not in git: the spec's folder bounds it), beside a folder
    holding a secret."""
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside/token").write_text(f"text\tlabel\n{SECRET}\tgood\n")
    (tmp_path / "repo").mkdir()
    return tmp_path / "repo"


def _check(repo: Path, spec: str, files: dict[str, str | bytes] | None = None):
    for name, content in (files or {}).items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    (repo / "job.yaml").write_text(spec)
    before = snapshot(repo.parent)
    outcome = invoke("data", "check", "job.yaml", "-o", "out", cwd=repo, env={"HF_TOKEN": SECRET})
    assert outcome.crash is None, outcome.crash
    assert written_outside(before, snapshot(repo.parent), "repo/out") == []
    assert SECRET not in outcome.stdout + outcome.stderr
    return outcome


def _refused(outcome, *expected_starts: str) -> None:
    assert outcome.code == 2
    lines = outcome.stderr.splitlines()
    assert len(lines) == len(expected_starts), lines
    for line, start in zip(lines, expected_starts, strict=True):
        assert line.startswith(start), line


def test_a_link_inside_a_data_folder_cannot_reach_a_secret(repo):
    (repo / "d").mkdir()
    (repo / "d/train.tsv").symlink_to(repo.parent / "outside/token")
    outcome = _check(repo, TEXT_SPEC.format(path="d", extra="      format: tsv\n"))
    _refused(outcome, f"{repo.resolve()}/d/train.tsv: data.sources[0].path: {OUTSIDE_HINT}")
    assert not (repo / "out").exists()


def test_an_image_listed_outside_the_repository_is_refused(repo):
    (repo.parent / "outside/secret.png").write_bytes(png_bytes())
    rows = [("../outside/secret.png", "meme"), ("/etc/hostname", "meme")]
    outcome = _check(repo, IMAGE_CSV_SPEC.format(path="train.csv"), {"train.csv": image_csv(rows)})
    _refused(
        outcome,
        f"train.csv:2: image {repo}/../outside/secret.png: {OUTSIDE_HINT}",
        f"train.csv:3: image /etc/hostname: {OUTSIDE_HINT}",
    )


def test_a_linked_image_in_an_image_folder_is_refused(repo):
    (repo.parent / "outside/secret.png").write_bytes(png_bytes())
    (repo / "imgs/meme").mkdir(parents=True)
    (repo / "imgs/meme/a.png").symlink_to(repo.parent / "outside/secret.png")
    spec = IMAGE_CSV_SPEC.format(path="imgs").replace("image-csv", "imagefolder")
    _refused(_check(repo, spec), f"imgs: image {repo.resolve()}/imgs/meme/a.png: {OUTSIDE_HINT}")


@pytest.mark.parametrize("special", ["fifo", "/dev/zero"])
def test_special_files_are_refused_without_hanging(repo, special):
    path = special
    if special == "fifo":
        os.mkfifo(repo / "train.tsv")
        path = "train.tsv"
    (repo / "job.yaml").write_text(TEXT_SPEC.format(path=path, extra="      format: tsv\n"))
    result = run_cli("data", "check", "job.yaml", "-o", "out", cwd=repo)  # 120 s timeout
    assert result.code == 2 and len(result.stderr.splitlines()) == 1, result.stderr
    assert "special file" in result.stderr or OUTSIDE_HINT in result.stderr
    assert not (repo / "out").exists()


@pytest.mark.parametrize("where", ["header", "label", "json-key"])
def test_a_20_mb_line_is_quoted_in_at_most_a_short_snippet(repo, where):
    huge = "\x1b[31m" + "x" * 20_000_000
    files = {
        "header": {"train.tsv": tsv(balanced(), f"{huge}\tlabel")},
        "label": {"train.tsv": tsv([*balanced(), ("text", huge)])},
        "json-key": {"train.jsonl": json.dumps({huge: "a", "label": "good"}) + "\n"},
    }[where]
    name = next(iter(files))
    extra = "  labels: [good, bad]\n" if where == "label" else ""
    outcome = _check(repo, TEXT_SPEC.format(path=name, extra=extra), files)
    assert outcome.code == 2
    assert len(outcome.stderr) < 1000 and "\x1b" not in outcome.stderr
    assert "\\x1b[31mxxxx" in outcome.stderr


def test_image_labels_that_are_paths_write_nothing_anywhere(repo):
    rows = [("a.png", label) for label in ("meme", "../../../../pwned", "a/b", ".hidden")] * 6
    files = {"a.png": png_bytes(), "train.csv": image_csv(rows)}
    spec = IMAGE_CSV_SPEC.format(path="train.csv")
    outcome = _check(repo, spec.replace("image-csv", "image-csv\n      split: train"), files)
    assert outcome.stderr.splitlines() == [
        f"train.csv:3: label '../../../../pwned' cannot be a folder name {FOLDER_HINT}",
        f"train.csv:4: label 'a/b' cannot be a folder name {FOLDER_HINT}",
        f"train.csv:5: label '.hidden' cannot be a folder name {FOLDER_HINT}",
    ]
    assert not (repo / "out").exists()


def test_a_declared_image_label_that_is_a_path_is_refused(repo):
    files = {"a.png": png_bytes(), "train.csv": image_csv([("a.png", "meme")] * 12)}
    spec = IMAGE_CSV_SPEC.format(path="train.csv") + "  labels: [meme, ../../pwned]\n"
    outcome = _check(repo, spec, files)
    assert outcome.stderr.splitlines() == [
        f"job.yaml: data.labels: '../../pwned' cannot be a folder name {FOLDER_HINT}"
    ]


def test_control_characters_in_data_are_kept_but_never_reach_the_terminal(repo):
    rows = [(f"post {i} \x1b]0;owned\x07 \u202eevil", label) for i, label in balanced(12)]
    rows = [(text, label + "\x1b[2J") for text, label in rows]
    outcome = _check(
        repo, TEXT_SPEC.format(path="train.tsv", extra=LOW_MIN), {"train.tsv": tsv(rows)}
    )
    assert outcome.code == 0, outcome.stderr
    assert "\x1b" not in outcome.stdout + outcome.stderr and "\u202e" not in outcome.stdout
    assert "good\\x1b[2J" in outcome.stdout
    first = json.loads((repo / "out/data/train.jsonl").read_text().splitlines()[0])
    assert first["label"].endswith("\x1b[2J") and "\u202e" in first["text"]


def test_conll_document_markers_never_become_tokens(repo):
    sentence = "Buhari B-PER\nya O\nje O\nAbuja B-LOC\n\n"
    text = "".join(f"-DOCSTART- -X- O O\n\n{sentence}" for _ in range(30))
    spec = TEXT_SPEC.format(path="train.txt", extra="      format: conll\n" + LOW_MIN)
    outcome = _check(
        repo, spec.replace("text-classification", "token-classification"), {"train.txt": text}
    )
    assert outcome.code == 0, outcome.stderr
    rows = [json.loads(line) for line in (repo / "out/data/train.jsonl").open()]
    assert {tuple(row["tokens"]) for row in rows} == {("Buhari", "ya", "je", "Abuja")}


def test_evaluate_data_gets_the_same_checks_as_prepare(repo, write_job):
    from dexter_autotrain.errors import UserError
    from dexter_autotrain.evaluation.examples import read_labeled

    spec = write_job(TEXT_SPEC.format(path="x.tsv", extra="  labels: [good, bad]\n")).spec
    null_label = repo / "null.jsonl"
    null_label.write_text('{"text": "fine", "label": "good"}\n{"text": "a", "label": null}\n')
    with pytest.raises(UserError) as raised:
        read_labeled(null_label, spec, "pcm")
    assert [str(p) for p in raised.value.problems] == [
        f"{null_label}:2: input and label must each be a string (fix this row)"
    ]
    one_row = repo / "one.tsv"
    one_row.write_text(tsv([("  ", "good"), ("only one", "good")]))
    labeled = read_labeled(one_row, spec, "pcm")
    assert (labeled.inputs, labeled.labels, labeled.languages) == (["only one"], ["good"], ["pcm"])
    unknown = repo / "unknown.tsv"
    unknown.write_text(tsv([("so so", "goood")]))
    with pytest.raises(UserError, match=r"label `goood` is not in data\.labels"):
        read_labeled(unknown, spec, "pcm")


def test_a_folder_fingerprint_never_follows_links(tmp_path):
    from dexter_autotrain.data.fingerprints import tree_sha256

    (tmp_path / "d").mkdir()
    (tmp_path / "d/a.png").write_bytes(png_bytes())
    secret = tmp_path / "secret"
    secret.write_text("one")
    (tmp_path / "d/link.png").symlink_to(secret)
    first = tree_sha256(tmp_path / "d")
    secret.write_text("two")
    assert tree_sha256(tmp_path / "d") == first
    (tmp_path / "d/a.png").write_bytes(b"changed")
    assert tree_sha256(tmp_path / "d") != first
