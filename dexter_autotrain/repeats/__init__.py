"""Jobs that train several models (`model.candidates`, `training.seeds`): every member is a
run of its own, prepared, trained and evaluated on the same splits as the others; then the
members are set side by side (`summary`), the winner is chosen on the validation split, the
gates judge the winning family's mean over its seeds, and only the winner goes on to its
card, publishing and deployment.

Locally the members train one after another. On a remote backend every AutoTrain member is
started first (up to the operator's `parallel_trials` at once), so they train side by side,
then each is followed to its end and evaluated. A killed group resumes from any member's run
(`resume_group`): finished members are kept, unfinished ones resumed, missing ones trained.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from pathlib import Path

from dexter_autotrain.backends.attach import DEFAULT_FOLLOW, FollowOptions
from dexter_autotrain.errors import TrainingDetached, UserError
from dexter_autotrain.evaluation.validation import validation_score
from dexter_autotrain.pipeline import Reporter, finish_member, smoke_backend
from dexter_autotrain.pipeline import resume as resume_one
from dexter_autotrain.pipeline import submit as submit_one
from dexter_autotrain.policy.cost_caps import (
    REMOTE_BACKENDS,
    group_breaches,
    require_within,
    shipped_flavor_price,
)
from dexter_autotrain.policy.operator import OperatorPolicy
from dexter_autotrain.record import MemberRecord, MemberScores, RepeatsRecord
from dexter_autotrain.repeats.regate import judge_on_mean, plot_spread
from dexter_autotrain.repeats.summary import choose_winner, family_spread, member_scores
from dexter_autotrain.runs import Run, list_runs, now
from dexter_autotrain.spec import LoadedSpec, load_spec
from dexter_autotrain.spec.members import Member, member_spec, members, remote_trainings
from dexter_autotrain.spec.model import JobSpec

MEMBER_STAGES = ("prepare", "train", "evaluate")


@dataclass(frozen=True)
class Group:
    """What every member of one job shares: the job as loaded (`--seeds` applied), how it
    is submitted (as `pipeline.submit` takes it) and the group's id."""

    loaded: LoadedSpec
    smoke: bool
    reporter: Reporter
    runs_root: Path
    cards_dir: Path | None = None
    backend: str | None = None
    follow: FollowOptions = DEFAULT_FOLLOW
    id: str = ""
    spec_sha256: str = ""
    """The hash of the job's file as read (before `--seeds`), each member's for a resume."""

    @property
    def spec(self) -> JobSpec:
        return self.loaded.spec

    @property
    def remote(self) -> bool:
        """Whether its AutoTrain members train on Hub hardware."""
        backend = smoke_backend(self.smoke, self.backend) or self.spec.compute.backend
        return backend in REMOTE_BACKENDS


def submit_group(group: Group) -> Run:
    """Train and evaluate every member of the job, then publish the winner; see the module
    docstring.

    Returns:
        The winner's run (its state's `repeats` says what was tried and why it won).

    Raises:
        [`UserError`]: the remote trainings together cost more than the operator's
            `sweep_usd` cap; and as `pipeline.submit`, for any member and the winner.
        [`ToolError`], [`GatesFailed`]: as `pipeline.submit`.

    Example:
        ```python
        >>> group = Group(load_spec(Path("jobs/narrative.yaml")), False, reporter, Path("runs"))
        >>> submit_group(group).state().repeats.winner
        '20261207-101500-a1b2'
        ```
    """
    group_id = f"{now()[:10].replace('-', '')}-{secrets.token_hex(3)}"
    group = replace(group, id=group_id, spec_sha256=group.spec_sha256 or group.loaded.sha256)
    caps = OperatorPolicy.load().caps
    require_within(group_breaches(group.spec, caps, shipped_flavor_price, _charged(group)))
    return _finish(group, _train_members(group, {}))


def resume_group(
    run: Run,
    reporter: Reporter,
    cards_dir: Path | None = None,
    follow: FollowOptions = DEFAULT_FOLLOW,
) -> Run:
    """Continue a job with candidates or seeds from any of its members' runs: once its
    winner is chosen, the winner's remaining stages; before, every member not yet evaluated
    (resumed where it started, trained where it never did), then the choice.

    Raises:
        [`UserError`]: the spec changed since the group started, or nothing is left to do.
        As `submit_group` otherwise.
    """
    state = run.state()
    assert state.member is not None and state.spec_path is not None
    group_id = state.member.group
    found = [
        (other, record)
        for other in list_runs(run.path.parent.parent, run.path.parent.name)
        if (record := other.state()).member is not None and record.member.group == group_id
    ]
    winner = next((other for other, record in found if record.repeats is not None), None)
    if winner is not None:
        return resume_one(winner, reporter, cards_dir, follow)
    loaded = load_spec(Path(state.spec_path))
    sha256 = loaded.sha256
    if sha256 != state.spec_sha256:
        raise UserError(
            f"{state.spec_path}: the spec changed since the group {group_id} started;"
            " start a new run with `dexter-auto submit`"
        )
    seeds = state.member.seeds or None
    training = loaded.spec.training.model_copy(update={"seeds": seeds})
    loaded = replace(loaded, spec=loaded.spec.model_copy(update={"training": training}))
    root = run.path.parent.parent
    group = Group(
        loaded, state.smoke, reporter, root, cards_dir, state.backend, follow, group_id, sha256
    )
    started = {
        Member(record.member.family, record.member.seed): other
        for other, record in found
        if record.member is not None
    }
    return _finish(group, _train_members(group, started))


def _charged(group: Group) -> int:
    return remote_trainings(group.spec) if group.remote else 0


def _train_members(group: Group, started: dict[Member, Run]) -> dict[Member, Run]:
    """Every member trained and evaluated: those `started` already resumed where they are
    (kept as they are once evaluated), the others submitted; remote ones started wave by
    wave before any is followed, so each wave trains side by side."""
    planned = members(group.spec)
    remote = [m for m in planned if group.remote and not m.trained_here]
    here = [m for m in planned if m not in remote]
    size = OperatorPolicy.load().caps.parallel_trials or len(remote) or 1
    done: dict[Member, Run] = {}
    for wave in [*_waves(remote, size), here]:
        for member in wave:
            if member in remote and member not in started:
                started[member] = _start_detached(group, member)
        for member in wave:
            where = f"{planned.index(member) + 1} of {len(planned)}: {member.label}"
            group.reporter.stage("members", where)
            done[member] = _complete(group, member, started.get(member))
    return {member: done[member] for member in planned}


def _waves(remote: list[Member], size: int) -> list[list[Member]]:
    return [remote[start : start + size] for start in range(0, len(remote), size)]


def _start_detached(group: Group, member: Member) -> Run:
    """Start a remote member's training and leave it running (its run records the job)."""
    group.reporter.stage("members", f"starting {member.label} on Hub hardware")
    try:
        return _submit(group, member, replace(group.follow, detach=True))
    except TrainingDetached as detaching:
        return Run(Path(detaching.run_path))


def _complete(group: Group, member: Member, run: Run | None) -> Run:
    """The member trained and evaluated: submitted, resumed, or (evaluated) as it is."""
    if run is None:
        return _submit(group, member, group.follow)
    if "evaluate" in run.state().completed:
        return run
    return resume_one(run, group.reporter, group.cards_dir, group.follow, MEMBER_STAGES)


def _submit(group: Group, member: Member, follow: FollowOptions) -> Run:
    """A new run of `member`, through its prepare, train and evaluate stages."""
    own = replace(group.loaded, spec=member_spec(group.spec, member))
    record = MemberRecord(
        family=member.family,
        seed=member.seed,
        group=group.id,
        seeds=group.spec.training.seeds or [],
    )
    return submit_one(
        own, group.smoke, group.reporter, group.runs_root, group.cards_dir, group.backend,
        follow, record, MEMBER_STAGES, group.spec_sha256,
    )  # fmt: skip


def _finish(group: Group, trained: dict[Member, Run]) -> Run:
    """Choose the winner, then take it through its card, gates, publishing and deployment."""
    won = choose_and_record(group.spec, trained, group.id, group.reporter)
    finish_member(won, group.loaded, group.reporter, group.cards_dir, group.follow)
    return won


def choose_and_record(
    spec: JobSpec, trained: dict[Member, Run], group_id: str, reporter: Reporter
) -> Run:
    """Set evaluated members side by side, choose the winner on validation, judge its gates
    on its family's mean and record it all (`repeats`) in the winner's state.

    Returns:
        The winner's run, evaluated, its later stages still to run.
    """
    scores = [_scores(member, run) for member, run in trained.items()]
    families = [
        family_spread(family, [s for s in scores if s.family == family])
        for family in dict.fromkeys(member.family for member in trained)
    ]
    winner, reason = choose_winner(spec, families, scores)
    reporter.stage("members", f"chose {winner.family} seed {winner.seed}: {reason}")
    runs = {run.run_id: run for run in trained.values()}
    won = runs[winner.run_id]
    family = [  # the winner first
        runs[score.run_id]
        for score in sorted(scores, key=lambda score: score.run_id != winner.run_id)
        if score.family == winner.family
    ]
    won.update(
        repeats=RepeatsRecord.model_validate(
            dict(
                group=group_id,
                metric=f"validation {spec.primary_metric}",
                members=scores,
                families=families,
                winner=winner.run_id,
                reason=reason,
                gates_on_mean=judge_on_mean(won, family),
                plot=plot_spread(won, scores, spec.primary_metric),
            )
        ).model_dump()
    )
    return won


def _scores(member: Member, run: Run) -> MemberScores:
    spec = run.spec()
    value = validation_score(run.path, spec, run.model_folder())
    return member_scores(run.run_id, member.family, member.seed, value, run.evaluation())
