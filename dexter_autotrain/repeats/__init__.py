"""Jobs that train several models (`model.candidates`, `training.seeds`): every member is a
run of its own, prepared, trained and evaluated on the same splits as the others; then the
members are set side by side (`summary`), the winner is chosen on the validation split, the
gates judge the winning family's mean over its seeds, and only the winner goes on to its
card, publishing and deployment."""

from __future__ import annotations

import secrets
from dataclasses import replace
from pathlib import Path

from dexter_autotrain.backends.attach import DEFAULT_FOLLOW, FollowOptions
from dexter_autotrain.evaluation.validation import validation_score
from dexter_autotrain.pipeline import Reporter, finish_member
from dexter_autotrain.pipeline import submit as submit_one
from dexter_autotrain.record import MemberRecord, MemberScores, RepeatsRecord
from dexter_autotrain.repeats.regate import judge_on_mean, plot_spread
from dexter_autotrain.repeats.summary import choose_winner, family_spread, member_scores
from dexter_autotrain.runs import Run, now
from dexter_autotrain.spec import LoadedSpec
from dexter_autotrain.spec.members import Member, member_spec, members

MEMBER_STAGES = ("prepare", "train", "evaluate")


def submit_group(
    loaded: LoadedSpec,
    smoke: bool,
    reporter: Reporter,
    runs_root: Path,
    cards_dir: Path | None = None,
    backend: str | None = None,
    follow: FollowOptions = DEFAULT_FOLLOW,
) -> Run:
    """Train and evaluate every member of the job, one after another, then publish the
    winner; see the module docstring.

    Returns:
        The winner's run (its state's `repeats` says what was tried and why it won).

    Raises:
        As `pipeline.submit`, for any member and for the winner's later stages.

    Example:
        ```python
        >>> submit_group(load_spec(Path("jobs/narrative.yaml")), False, reporter, Path("runs"))
        ```
    """
    planned = members(loaded.spec)
    group = f"{now()[:10].replace('-', '')}-{secrets.token_hex(3)}"
    trained: list[tuple[Member, Run]] = []
    for index, member in enumerate(planned, 1):
        reporter.stage("members", f"{index} of {len(planned)}: {member.label}")
        own = replace(loaded, spec=member_spec(loaded.spec, member))
        record = MemberRecord(family=member.family, seed=member.seed, group=group)
        run = submit_one(
            own, smoke, reporter, runs_root, cards_dir, backend, follow, record, MEMBER_STAGES
        )
        trained.append((member, run))
    scores = [_scores(member, run) for member, run in trained]
    families = [
        family_spread(family, [s for s in scores if s.family == family])
        for family in dict.fromkeys(member.family for member in planned)
    ]
    winner, reason = choose_winner(loaded.spec, families, scores)
    reporter.stage("members", f"publishing {winner.family} seed {winner.seed}: {reason}")
    runs = {run.run_id: run for _, run in trained}
    won = runs[winner.run_id]
    same = [runs[s.run_id] for s in sorted(scores, key=lambda s: s.run_id != winner.run_id)]
    on_mean = judge_on_mean(won, [run for run in same if _family(run) == winner.family])
    plot = plot_spread(won, scores, loaded.spec.primary_metric)
    won.update(
        repeats=RepeatsRecord.model_validate(
            dict(
                group=group,
                metric=f"validation {loaded.spec.primary_metric}",
                members=scores,
                families=families,
                winner=winner.run_id,
                reason=reason,
                gates_on_mean=on_mean,
                plot=plot,
            )
        ).model_dump()
    )
    finish_member(won, loaded, reporter, cards_dir, follow)
    return won


def _family(run: Run) -> str:
    member = run.state().member
    return member.family if member else ""


def _scores(member: Member, run: Run) -> MemberScores:
    spec = run.spec()
    value = validation_score(run.path, spec, run.model_folder())
    return member_scores(run.run_id, member.family, member.seed, value, run.evaluation())
