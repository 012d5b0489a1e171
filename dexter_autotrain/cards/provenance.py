"""Where a card's numbers come from: the library versions that trained and evaluated the
model, the data's revision, and whether the results may go to `.eval_results/`.

`.eval_results` entries claim a score on a Hub benchmark dataset, so they are written only
when the test set is that dataset's own test split, unchanged. Precisely, from the spec and
the data report:

1. not a smoke run, and `card.benchmark` names the dataset;
2. the card's numbers come from the `test` split;
3. every test row was given as test: no source is cut by `data.split` ratios, no other
   Hub dataset gives test rows, and a local test file or the dataset's test split exists;
4. `data.max_rows_per_split` did not sample it (unset, or above the test split's rows);
5. no `data.label_map` (it renames labels in every split, test included);
6. no example was repaired (`data.fix_iob2`) or dropped (empty input) while checking:
   the data report does not say in which split, so any is enough to refuse.

Leak removal and upsampling change only the train split, so they do not count.
"""

from __future__ import annotations

from typing import Any

from dexter_autotrain.record import RunState
from dexter_autotrain.report_record import EvaluationReport
from dexter_autotrain.spec import JobSpec

CHANGED_WHILE_CHECKING = {
    "data.fix_iob2:": "`data.fix_iob2` repaired tags, possibly in the test split",
    "examples with empty input dropped": "examples with empty input were dropped while checking",
}


def eval_results_status(
    spec: JobSpec, data_report: dict[str, Any], split: str, smoke: bool
) -> dict[str, Any]:
    """`{dataset_id, dataset_revision, reason}`: `reason` (one clause for the card) is None
    when the results may be written to `.eval_results/`."""
    dataset_id = spec.card.benchmark
    revision = _revision(spec, dataset_id)
    if smoke:
        reason = "this is a smoke run, whose numbers say nothing about a real model"
    elif dataset_id is None:
        reason = "the job names no Hub benchmark dataset (`card.benchmark`) to report them on"
    elif split != "test":
        reason = f"they come from the `{split}` split, not the dataset's test split"
    else:
        reason = _test_split_change(spec, data_report, dataset_id)
    return {"dataset_id": dataset_id, "dataset_revision": revision, "reason": reason}


def _test_split_change(spec: JobSpec, data_report: dict[str, Any], dataset_id: str) -> str | None:
    """Why the test split is not `dataset_id`'s own, unchanged; None when it is."""
    ratio_cut = spec.data.split.test > 0
    cut = ratio_cut and any(
        i["sha256"] is not None and not i["split"] for i in data_report["inputs"]
    )
    other_hub = [
        s.hub
        for s in spec.data.sources
        if s.hub not in (None, dataset_id) and s.split in (None, "test")
    ]
    given_test = any(i.get("split") == "test" for i in data_report["inputs"]) or any(
        s.hub == dataset_id and s.split in (None, "test") for s in spec.data.sources
    )
    limit, rows = spec.data.max_rows_per_split, data_report["splits"].get("test", {}).get("rows", 0)
    changed = [
        why
        for start, why in CHANGED_WHILE_CHECKING.items()
        for w in data_report["warnings"]
        if start in w
    ]
    if cut or not given_test:
        return "the test split was cut from the data by `data.split` ratios, not given as test"
    if other_hub:
        return f"the test split also reads `{other_hub[0]}`, not only `{dataset_id}`"
    if limit is not None and rows >= limit:
        return f"`data.max_rows_per_split: {limit}` sampled the test split"
    if spec.data.label_map:
        return "`data.label_map` renames labels in the test split"
    return changed[0] if changed else None


def hub_datasets(spec: JobSpec) -> dict[str, Any]:
    """The Hub datasets the card's metadata names: `ids`, its `datasets:` list (the Hub
    sources, `card.benchmark`, then `card.datasets`), and `model_index`, the one the
    model-index reports the numbers on with its revision: the benchmark, else the first
    Hub source, else the first of `card.datasets`. None when the data is no Hub dataset:
    the Hub takes a model-index dataset `type` to be a dataset id, so none is invented."""
    sources = [s.hub for s in spec.data.sources if s.hub is not None]
    ids = list(dict.fromkeys([*sources, *filter(None, [spec.card.benchmark]), *spec.card.datasets]))
    reported = spec.card.benchmark or (sources or spec.card.datasets or [None])[0]
    model_index = reported and {"id": reported, "revision": _revision(spec, reported)}
    return {"ids": ids, "model_index": model_index}


def _revision(spec: JobSpec, dataset_id: str | None) -> str | None:
    """The revision a Hub source of `dataset_id` is read at (None: local, or not pinned)."""
    return next(
        (s.revision for s in spec.data.sources if s.hub is not None and s.hub == dataset_id), None
    )


def provenance(spec: JobSpec, state: RunState, report: EvaluationReport) -> dict[str, Any]:
    """What the card's Framework versions lists: the versions that trained (the runner's)
    and evaluated (the toolkit's), None for a run recorded before versions were; and each
    Hub dataset source with the revision it was read at (None: not pinned), and whether
    local files (fingerprinted by sha256 in the data report) were read."""
    return {
        "training": _listing(state.training_frameworks),
        "evaluation": _listing(report.frameworks),
        "datasets": [
            {"id": s.hub, "revision": s.revision} for s in spec.data.sources if s.hub is not None
        ],
        "local_data": any(s.path is not None for s in spec.data.sources),
    }


def _listing(versions: dict[str, str] | None) -> str | None:
    return (
        ", ".join(f"{name} {version}" for name, version in versions.items()) if versions else None
    )
