"""Malformed job specs, each with the exact error line `dexter-auto validate` must print."""

from __future__ import annotations

VALID = """\
name: sample
task: text-classification
base_model:
  id: FacebookAI/xlm-roberta-base
  revision: e73636d4f797dec63c3081bb6ed5c7b0bb3f2089
languages: [hau, yor]
data:
  sources:
    - path: data/{language}
"""


def with_lines(*extra: str, base: str = VALID) -> str:
    return base + "".join(line + "\n" for line in extra)


def replace(old: str, new: str) -> str:
    assert old in VALID
    return VALID.replace(old, new)


# (case id, {file name: content}, file to validate, expected error lines)
CASES: list[tuple[str, dict[str, str | bytes], str, list[str]]] = []


def case(
    case_id: str,
    content: str | bytes,
    *expected: str,
    extra_files: dict[str, str | bytes] | None = None,
    file: str = "job.yaml",
) -> None:
    CASES.append((case_id, {file: content, **(extra_files or {})}, file, list(expected)))


case(
    "duplicate-key",
    with_lines("task: token-classification"),
    "job.yaml:10:1: task: duplicate key (first written on line 2) "
    "(keep one of them; YAML would silently use the last)",
)
case(
    "tab-indentation",
    replace("  id: FacebookAI", "\tid: FacebookAI"),
    "job.yaml:4:1: tab used for indentation (indent with spaces; YAML does not allow tabs there)",
)
case(
    "alias-bomb",
    with_lines(
        "description_parts:",
        '  a: &a ["x","x","x","x","x","x","x","x","x","x"]',
        "  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]",
        "  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]",
        "  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]",
        "  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]",
    ),
    "job.yaml: document expands to more than 20000 values or 64 levels "
    "(remove the anchors/aliases that repeat content (an alias bomb?))",
)
case(
    "non-utf8",
    VALID.encode() + b"description: caf\xe9\n",
    "job.yaml:10:17: byte 0xe9 is not valid UTF-8 (save the file as UTF-8)",
)
case(
    "empty-file",
    "",
    "job.yaml: file is empty (write a job spec, or run `dexter-auto init TASK NAME`)",
)
case(
    "comments-only",
    "# nothing here yet\n",
    "job.yaml: file has no content (write a job spec mapping, e.g. `task: text-classification`)",
)
case(
    "top-level-list",
    "- task: text-classification\n",
    "job.yaml:1:1: top level is a list, not a mapping "
    "(a job spec is a mapping of `key: value` lines)",
)
case(
    "top-level-scalar",
    "just some words\n",
    "job.yaml:1:1: top level is a scalar value, not a mapping "
    "(a job spec is a mapping of `key: value` lines)",
)
case(
    "very-large-file",
    VALID + "# padding\n" * 120_000,
    "job.yaml: is larger than the 1024 KiB allowed for a job spec (keep a job spec under 1024 KiB)",
)
case(
    "invalid-yaml",
    replace("languages: [hau, yor]", "languages: [hau, yor"),
    "job.yaml:7:5: invalid YAML: while parsing a flow sequence expected ',' or ']', "
    "but got ':' (check indentation, colons and quotes around this position)",
)
case(
    "two-documents",
    with_lines("---", "name: other"),
    "job.yaml:10:1: invalid YAML: expected a single document in the stream "
    "but found another document "
    "(check indentation, colons and quotes around this position)",
)
case(
    "python-tag",
    with_lines("description: !!python/object/apply:os.system ['true']"),
    "job.yaml:10:14: description: unsupported tag tag:yaml.org,2002:python/object/apply:os.system "
    "(use plain strings, numbers, booleans, lists and maps)",
)
case(
    "non-string-key",
    with_lines("1: one"),
    "job.yaml:10:1: keys must be plain strings (quote the key or rename it)",
)
case(
    "missing-extends",
    "extends: _bse.yaml\n" + VALID,
    "job.yaml:1:1: extends: file not found: _bse.yaml (did you mean `_base.yaml`?)",
    extra_files={"_base.yaml": "training: {epochs: 1}\n"},
)
case(
    "circular-extends",
    "extends: b.yaml\n" + VALID,
    "b.yaml:1:1: extends: circular: job.yaml -> b.yaml -> job.yaml (remove one `extends:`)",
    extra_files={"b.yaml": "extends: job.yaml\n"},
)
case(
    "self-extends",
    "extends: job.yaml\n" + VALID,
    "job.yaml:1:1: extends: circular: job.yaml -> job.yaml (remove one `extends:`)",
)
case(
    "wrong-type",
    with_lines("training:", "  epochs: three"),
    "job.yaml:11:3: training.epochs: expected an integer, got str 'three' (write an integer here)",
)
case(
    "quoted-number",
    with_lines("training:", '  batch_size: "16"'),
    "job.yaml:11:3: training.batch_size: expected an integer, got str '16' (write an integer here)",
)
case(
    "out-of-range",
    with_lines("training:", "  batch_size: 0"),
    "job.yaml:11:3: training.batch_size: 0 is out of range (use a value of at least 1)",
)
case(
    "zero-learning-rate",
    with_lines("training:", "  learning_rate: 0"),
    "job.yaml:11:3: training.learning_rate: 0 is out of range (use a value above 0.0)",
)
case(
    "unknown-task",
    replace("text-classification", "text-clasification"),
    "job.yaml:2:1: task: 'text-clasification' is not allowed (did you mean `text-classification`?)",
)
case(
    "unknown-top-level-key",
    with_lines("trainig:", "  epochs: 2"),
    "job.yaml:10:1: trainig: unknown field (did you mean `training`?)",
)
case(
    "unknown-nested-key",
    with_lines("training:", "  learnin_rate: 0.001"),
    "job.yaml:11:3: training.learnin_rate: unknown field (did you mean `learning_rate`?)",
)
case(
    "columns-do-not-fit-task",
    with_lines("  columns:", "    tokens: words"),
    "job.yaml:11:5: data.columns.tokens: not used by text-classification "
    "(this task reads text and label; remove `tokens`)",
)
case(
    "missing-task",
    replace("task: text-classification\n", ""),
    "job.yaml:1:1: task: required field is missing (add `task:`)",
)
case(
    "missing-data",
    VALID.split("data:")[0],
    "job.yaml:1:1: data: required field is missing (add `data:`)",
)
case(
    "unpinned-hub-model",
    replace("  revision: e73636d4f797dec63c3081bb6ed5c7b0bb3f2089\n", ""),
    "job.yaml:4:3: base_model.id: a Hub model must be pinned to a commit "
    "(add `revision:` with the 40-character commit sha from the model's history)",
)
case(
    "short-revision",
    replace("e73636d4f797dec63c3081bb6ed5c7b0bb3f2089", "main"),
    "job.yaml:5:3: base_model.revision: 'main' is not valid (use the full 40-character commit sha)",
)
case(
    "bad-language-code",
    replace("[hau, yor]", "[hau, Yoruba]"),
    "job.yaml:6:18: languages[1]: 'Yoruba' is not valid "
    "(use an ISO 639 code such as eng, pcm, hau, yor, ibo)",
)
case(
    "spaces-hardware-typo",
    with_lines("compute:", "  backend: autotrain-spaces", "  hardware: t4-smal"),
    "job.yaml:12:3: compute.hardware: `t4-smal` is not autotrain-spaces hardware "
    "(did you mean `t4-small`?)",
)
case(
    "hardware-on-local",
    with_lines("compute:", "  hardware: a10g-small"),
    "job.yaml:11:3: compute.hardware: the local backend uses this machine "
    "(remove `hardware`, or choose backend hf-jobs or autotrain-spaces)",
)
case(
    "metric-not-for-task",
    with_lines("evaluation:", "  gates:", "    overall: {f1: 0.5}"),
    "job.yaml:12:15: evaluation.gates.overall.f1: `f1` is not a text-classification metric "
    "(did you mean `f1_macro`?)",
)
case(
    "secret-interpolation",
    with_lines("hub:", "  repo_id: ${HF_TOKEN}"),
    "job.yaml:11:3: hub.repo_id: refusing to read ${HF_TOKEN} into the spec: it looks like a "
    "secret (tokens are read from the environment when needed, never written into a spec)",
)
case(
    "interpolation-of-a-foreign-variable",
    with_lines("hub:", "  repo_id: ${PIP_INDEX_URL}/x"),
    "job.yaml:11:3: hub.repo_id: refusing to read ${PIP_INDEX_URL} into the spec: only DEXTER_* "
    "variables may be read (set DEXTER_PIP_INDEX_URL=PIP_INDEX_URL's value where the job runs, "
    "and write ${DEXTER_PIP_INDEX_URL})",
)
case(
    "interpolation-of-a-toolkit-secret",
    with_lines("hub:", "  repo_id: ${DEXTER_SERVE_TOKEN}/x"),
    "job.yaml:11:3: hub.repo_id: refusing to read ${DEXTER_SERVE_TOKEN} into the spec: it looks "
    "like a secret (tokens are read from the environment when needed, never written into a spec)",
)
case(
    "interpolation-not-allowed",
    with_lines("description: built by ${USER}"),
    "job.yaml:10:1: description: `${...}` is not allowed in this field (environment values "
    "may be used only in base_model.path, card.template, data.sources[].path, "
    "evaluation.identity_terms, hub.repo_id)",
)
case(
    "unset-variable",
    with_lines("hub:", "  repo_id: ${DEXTER_TEST_UNSET}/x"),
    "job.yaml:11:3: hub.repo_id: environment variable DEXTER_TEST_UNSET is not set "
    "(export DEXTER_TEST_UNSET=..., or write ${DEXTER_TEST_UNSET:-default})",
)
case(
    "replicas-inverted",
    with_lines("hub: {repo_id: dexter-ng/x}", "deploy:", "  min_replicas: 3", "  max_replicas: 1"),
    "job.yaml:12:3: deploy.min_replicas: 3 is more than max_replicas (1) "
    "(lower min_replicas or raise max_replicas)",
)
case(
    "format-not-for-task",
    replace("path: data/{language}", "path: data/{language}\n      format: conll"),
    "job.yaml:10:7: data.sources[0].format: `conll` data cannot feed text-classification "
    "(use one of: csv, hf-dataset, jsonl, parquet, tsv)",
)
case(
    "label-map-outside-labels",
    with_lines("  labels: [negative, positive]", "  label_map: {neg: negatve}"),
    "job.yaml:11:15: data.label_map.neg: maps to `negatve`, not in `labels` "
    "(did you mean `negative`?)",
)
case(
    "invalid-name",
    replace("name: sample", "name: My Job"),
    "job.yaml:1:1: name: 'My Job' is not valid "
    "(use lowercase letters, digits and hyphens, at most 48 characters)",
)
case(
    "deploy-without-hub",
    with_lines("deploy: {enabled: true, target: endpoint}"),
    "job.yaml:10:10: deploy.enabled: an endpoint serves a published model "
    "(set `hub.repo_id`, or deploy.target: local)",
)
case(
    "empty-sources",
    replace("    - path: data/{language}\n", "    []\n"),
    "job.yaml:8:3: data.sources: is empty (list at least one item)",
)
case(
    "empty-model-path",
    replace(
        "  id: FacebookAI/xlm-roberta-base\n  revision: e73636d4f797dec63c3081bb6ed5c7b0bb3f2089\n",
        "  path:\n",
    ),
    "job.yaml:3:1: base_model: names no model "
    "(add `id` (Hub model id) or `path` (local directory))",
)
case(
    "metric-list-typo",
    with_lines("evaluation:", "  metrics: [accuracy, acuracy]"),
    "job.yaml:11:23: evaluation.metrics[1]: `acuracy` is not a text-classification metric "
    "(did you mean `accuracy`?)",
)
case(
    "lift-gate-without-baseline",
    with_lines("evaluation:", "  baseline: false", "  gates:", "    min_lift_over_baseline: 0.02"),
    "job.yaml:13:5: evaluation.gates.min_lift_over_baseline: needs a baseline, and "
    "`evaluation.baseline` is false (set `evaluation.baseline: true` or remove this gate)",
)

# Hostile specs (a pull request's author controls them): one located line, never a traceback.
case(
    "task-is-a-list",
    replace("task: text-classification", "task: [a, b]"),
    "job.yaml:2:1: task: ['a', 'b'] is not allowed "
    "(use one of: text-classification, token-classification, image-classification)",
)
case(
    "backend-is-a-mapping",
    with_lines("compute: {backend: {x: 1}, hardware: t4-small}"),
    "job.yaml:10:11: compute.backend: {'x': 1} is not allowed (use one of: local, hf-jobs, "
    "autotrain-spaces)",
)
case(
    "control-character",
    replace("name: sample", "name: sam\x07ple"),
    "job.yaml:1:10: character \\x07 is not allowed in YAML "
    "(remove it, or write it as an escape inside a double-quoted string)",
)
case(
    "escaped-control-character",
    replace("name: sample", 'name: "sam\\x1b[31mple"'),
    "job.yaml:1:1: name: 'sam\\x1b[31mple' is not valid (use lowercase letters, digits and "
    "hyphens, at most 48 characters)",
)
case(
    "merge-key-with-a-scalar",
    with_lines("card:", "  <<: 5"),
    "job.yaml:11:7: invalid YAML: while constructing a mapping expected a mapping or list of "
    "mappings for merging, but found scalar (check indentation, colons and quotes around "
    "this position)",
)
case(
    "integer-with-thousands-of-digits",
    with_lines("training: {seed: " + "9" * 5000 + "}"),
    "job.yaml:10:18: training.seed: cannot read the value "
    "'9999999999999999999999999999999999999999…' (write a plain number or a quoted string)",
)
case(
    "seed-above-32-bits",
    with_lines("training: {seed: 4294967296}"),
    "job.yaml:10:12: training.seed: 4294967296 is out of range (use a value of at most 4294967295)",
)
case(
    "lone-surrogate",
    replace("name: sample", 'name: "\\ud800"'),
    "job.yaml:1:7: name: holds a lone surrogate escape (\\ud800-\\udfff), which is not text "
    "(write the character itself, or escape a whole surrogate pair as \\U000XXXXX)",
)
case(
    "extends-outside-the-repository",
    "extends: /etc/passwd\n" + VALID,
    "job.yaml:1:1: extends: resolves outside the repository (/etc/passwd) (keep it inside "
    "the repository, or allow its folder with DEXTER_DATA_ROOTS=/path/to/folder)",
)
case(
    "extends-too-long",
    "extends: " + "a/" * 3000 + "x.yaml\n" + VALID,
    "job.yaml:1:1: extends: cannot be read (file name too long)",
)
case(
    "extends-with-a-nul",
    'extends: "a\\0b.yaml"\n' + VALID,
    "job.yaml:1:1: extends: cannot be resolved (embedded null byte)",
)
case(
    "data-path-outside-the-repository",
    replace("path: data/{language}", "path: /etc/hostname"),
    "job.yaml:9:7: data.sources[0].path: resolves outside the repository (/etc/hostname) "
    "(keep it inside the repository, or allow its folder with "
    "DEXTER_DATA_ROOTS=/path/to/folder)",
)
case(
    "template-outside-the-repository",
    with_lines(f"card: {{template: {'../' * 16}etc/passwd}}"),  # up to / from any tmp_path
    "job.yaml:10:8: card.template: resolves outside the repository (/etc/passwd) (keep it "
    "inside the repository, or allow its folder with DEXTER_DATA_ROOTS=/path/to/folder)",
)
case(
    "identity-terms-outside-the-repository",
    with_lines("evaluation: {identity_terms: /root/.cache/huggingface/token}"),
    "job.yaml:10:14: evaluation.identity_terms: resolves outside the repository "
    "(/root/.cache/huggingface/token) (keep it inside the repository, or allow its folder "
    "with DEXTER_DATA_ROOTS=/path/to/folder)",
)
case(
    "lift-gate-switched-off-by-a-child",
    "extends: _base.yaml\n"
    + with_lines(
        "evaluation: {baseline: false, gates: {min_lift_over_baseline: null}}",
        "training: {seed: -1}",
    ),
    "job.yaml:12:12: training.seed: -1 is out of range (use a value of at least 0)",
    extra_files={"_base.yaml": "evaluation: {gates: {min_lift_over_baseline: 0.1}}\n"},
)
case(
    "license-other-without-link",
    with_lines("card:", "  license: other", "  license_name: dexter-internal"),
    "job.yaml:11:3: card.license: `other` needs `card.license_link` (add `license_name: "
    "<short id>` and `license_link: <URL, or LICENSE.md in the model repo>`, or use a "
    "standard license id)",
)
case(
    "license-name-without-other",
    with_lines("card:", "  license: mit", "  license_name: dexter-internal"),
    "job.yaml:12:3: card.license_name: only used with `license: other` "
    "(remove it, or set `license: other`)",
)
