"""What can be done with a finished run, as methods of `Run`: evaluate it again, write its
card, publish it. Each checks the stage it needs first, and imports its machinery only when
called (a `Run` is also what spec-only commands handle)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from dexter_autotrain.errors import UserError

if TYPE_CHECKING:
    from dexter_autotrain.hub.publish import PublishResult
    from dexter_autotrain.hub.retry import Report
    from dexter_autotrain.runs import Run


def _quiet(line: str) -> None:
    return None


class RunActions:
    """Mixed into `Run`."""

    def require(self: Run, stage: str, hint: str) -> dict[str, Any]:
        """The run's state, or a UserError naming `hint` when `stage` has not run yet."""
        state = self.state()
        if stage not in state.get("completed", []):
            raise UserError(
                f"{self.path}: `{stage}` has not run yet (state {state['state']}); {hint}"
            )
        return state

    def evaluate(
        self: Run,
        split: str | None = None,
        data: Path | None = None,
        language: str | None = None,
        report: Report = _quiet,
    ) -> dict[str, Any]:
        """Evaluate the run's model again, on its evaluation split (replacing the card's
        report and the verdict its state records), another `split`, or other `data`.

        Returns:
            `dict`: the report (`evaluation.json`'s content).

        Raises:
            [`UserError`]: the run has not trained yet, or bad data.

        Example:
            ```python
            >>> find_run("narrative").evaluate(split="validation")["primary_metric"]
            'f1_macro'
            ```
        """
        from dexter_autotrain.evaluation.evaluate import evaluate_run, evaluation_record

        state = self.require("train", "finish it with `dexter-auto submit --resume`")
        model_dir = self.model_folder(state)
        result = evaluate_run(self.path, self.spec(state), model_dir, split, data, language, report)
        if split is None and data is None and "evaluate" in state.get("completed", []):
            self.update(evaluation=evaluation_record(result))  # the card's report was replaced
        return result

    def card(self: Run, cards_dir: Path | None = None) -> list[Path]:
        """Write the model card (README.md and .eval_results/ in the run, and a review copy
        in `cards_dir`); returns the files written.

        Raises:
            [`UserError`]: the run is not evaluated yet, or its template is bad.
        """
        from dexter_autotrain.cards.write import write_card

        state = self.require("evaluate", "run `dexter-auto evaluate` or `submit --resume` first")
        spec_dir = Path(state["spec_path"]).parent
        return write_card(
            self.path, self.spec(state), spec_dir, cards_dir, bool(state.get("smoke"))
        )

    def publish(self: Run, force: str | None = None, report: Report = _quiet) -> PublishResult:
        """Publish the carded run to `hub.repo_id` (see `hub.publish.publish_run`)."""
        from dexter_autotrain.hub.publish import publish_run

        return publish_run(self, force=force, report=report)
