"""Compare every job file across the base and this branch: the effective spec, the rendered
AutoTrain config, the data, the run and its cost, and the card."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from dexter_autotrain.data.sources import source_problems
from dexter_autotrain.errors import UserError
from dexter_autotrain.plan.card_preview import card_text
from dexter_autotrain.plan.cost import estimate, price_list
from dexter_autotrain.plan.data_changes import data_changes, sources
from dexter_autotrain.plan.git_tree import BaseSide, changed_files
from dexter_autotrain.plan.published import card_numbers
from dexter_autotrain.plan.report import CardPreview, JobPlan, Plan
from dexter_autotrain.plan.sides import JobVersion, load_side
from dexter_autotrain.spec.loader import LoadedSpec
from dexter_autotrain.spec.smoke import smoke_overrides, smoked_settings
from dexter_autotrain.training.render import render_config

TEMPLATES_FOLDER = "templates"


@dataclass(frozen=True)
class Sides:
    """What every job's comparison shares: the repository, the base, whether any shared card
    template changed, and the token (read once; never printed)."""

    repo: Path
    base: BaseSide
    templates_changed: bool
    token: str | None


def make_plan(repo: Path, base: BaseSide, token: str | None, check_data: bool = True) -> Plan:
    """Compare `repo`'s working tree with `base`.

    Args:
        repo: the repository's top level.
        base: the base side (see `git_tree.base_side`).
        token: a Hugging Face token to read published evaluations with, or None.
        check_data: whether the local data sources of added and changed jobs must resolve
            to files (a job whose data does not is invalid); False lists those jobs as
            unchecked (a runner that cannot reach the data).

    Returns:
        The plan, one entry per job file on either side, sorted by path.

    Example:
        >>> with base_side(repo, "main") as base:
        ...     print(make_plan(repo, base, None).to_run)
        ['jobs/narrative.yaml']
    """
    old, new = load_side(base.root), load_side(repo)
    changed = bool(changed_files(repo, base.commit, TEMPLATES_FOLDER))
    sides = Sides(repo, base, changed, token)
    jobs = [compare_job(key, old.get(key), new.get(key), sides) for key in sorted(old | new)]
    loaded = {key: version.loaded for key, version in new.items() if version.loaded}
    specs = {key: spec.spec for key, spec in loaded.items()}
    jobs, unchecked = _data_checked(jobs, loaded, check_data)
    to_run = [job for job in jobs if job.status in ("added", "changed")]
    prices = price_list([specs[job.path] for job in to_run])  # the Hub only when it matters
    jobs = [
        replace(job, run=estimate(specs[job.path], prices)) if job in to_run else job
        for job in jobs
    ]
    return Plan(base.ref, base.commit, prices.source, jobs, unchecked)


def _data_checked(
    jobs: list[JobPlan], loaded: dict[str, LoadedSpec], check: bool
) -> tuple[list[JobPlan], list[str]]:
    """`jobs` with those to run whose local data does not resolve made invalid (each source
    at its line); or, unchecked, the jobs to run that read local data."""
    to_run = [job for job in jobs if job.status in ("added", "changed")]
    if not check:
        local = [j.path for j in to_run if any(s.path for s in loaded[j.path].spec.data.sources)]
        return jobs, local
    checked = []
    for job in jobs:
        problems = source_problems(loaded[job.path]) if job in to_run else []
        checked.append(replace(job, status="invalid", problems=problems) if problems else job)
    return checked, []


def compare_job(key: str, old: JobVersion | None, new: JobVersion | None, sides: Sides) -> JobPlan:
    """One job file's entry in the plan."""
    if new is None:
        assert old is not None
        return JobPlan(key, _name(old), "removed")
    if new.loaded is None:
        return JobPlan(key, _name(new), "invalid", problems=new.problems)
    before = old.loaded if old else None
    spec_diff = _diff(_effective(before), _effective(new.loaded), key, sides.base.commit)
    config_diff = _diff(_config(before), _config(new.loaded), key, sides.base.commit)
    base_sources = sources(before.spec, before.path.parent, sides.base.root) if before else set()
    data = data_changes(
        base_sources,
        sources(new.loaded.spec, new.file.parent, sides.repo),
        sides.repo,
        sides.base.commit,
    )
    reasons = [n for n, d in (("spec", spec_diff), ("config", config_diff), ("data", data)) if d]
    if not reasons and not _card_inputs_changed(new.loaded, sides):
        return JobPlan(key, new.loaded.spec.name, "unchanged")
    try:
        card = _card(before, new.loaded, sides)
    except UserError as error:
        return JobPlan(key, new.loaded.spec.name, "invalid", problems=list(error.problems))
    reasons += ["card"] if card.diff else []
    if not reasons:
        return JobPlan(key, new.loaded.spec.name, "unchanged")
    return JobPlan(
        key,
        new.loaded.spec.name,
        "added" if old is None else "changed",
        reasons,
        spec_diff,
        config_diff,
        data,
        card=card,
        smoke_hidden=_smoke_hidden(before, new.loaded),
    )


def _smoke_hidden(before: LoadedSpec | None, new: LoadedSpec) -> list[str]:
    """The settings this change sets that a smoke run replaces (its smoke run cannot show
    them): each as `field: value (a smoke run trains with X)`."""
    old = smoked_settings(before.spec) if before else {}
    return [
        f"{key}: {values['asked']} (a smoke run trains with {values['used']})"
        for key, values in smoke_overrides(new.spec).items()
        if key not in old or old[key] != values["asked"]
    ]


def _card(before: LoadedSpec | None, new: LoadedSpec, sides: Sides) -> CardPreview:
    """The new card, and its diff against the card the base spec and templates render (with
    the same published numbers, so only the spec and templates show)."""
    numbers = card_numbers(new.spec, sides.token)
    text = card_text(new.spec, new.path.parent, sides.repo / TEMPLATES_FOLDER, numbers)
    if before is None:
        return CardPreview(text, numbers.source, "")
    try:
        old = card_text(
            before.spec,
            before.path.parent,
            sides.base.root / TEMPLATES_FOLDER,
            card_numbers(before.spec, sides.token),
        )
    except UserError:
        old = ""  # the base's card did not render: the whole new card is the change
    return CardPreview(text, numbers.source, _diff(old, text, "card", sides.base.commit))


def _card_inputs_changed(loaded: LoadedSpec, sides: Sides) -> bool:
    """Whether a card template the job uses (templates/, or its own) changed."""
    if sides.templates_changed:
        return True
    if not loaded.spec.card.template:
        return False
    own = (loaded.path.parent / loaded.spec.card.template).resolve()
    repo = sides.repo.resolve()
    if repo not in own.parents:
        return False
    return bool(changed_files(sides.repo, sides.base.commit, own.relative_to(repo).as_posix()))


def _effective(loaded: LoadedSpec | None) -> str:
    """The spec after `extends:` and defaults, as YAML (empty for a side without it)."""
    if loaded is None:
        return ""
    data = loaded.spec.model_dump(mode="json", exclude={"extends"})
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def _config(loaded: LoadedSpec | None) -> str:
    """The rendered AutoTrain config; a local base model is named as the spec writes it, so
    neither side's folder shows."""
    if loaded is None:
        return ""
    spec = loaded.spec
    if spec.base_model is None:
        return "# the linear family: no AutoTrain config\n"
    return render_config(spec, loaded.path.parent, base_model=spec.base_model.path).text


def _diff(old: str, new: str, key: str, commit: str) -> str:
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        f"{key} @ {commit[:12]}",
        f"{key} (this branch)",
    )
    return "".join(lines)


def _name(version: JobVersion) -> str:
    return version.loaded.spec.name if version.loaded else Path(version.key).stem
