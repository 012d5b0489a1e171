"""Train in an AutoTrain Space: AutoTrain's own Spaces backend, run from the runner.

`start` fixes the Space's, the data repo's and the model repo's names, puts the base model
where the Space can read it, and runs `autotrain --config` (space_launch.py), which pushes
the data as a private dataset and creates the private Space with the token as a secret. The
Space installs the latest AutoTrain, trains, pushes the model to a private repo, opens a
"finished successfully" (or "failed") discussion on itself and pauses.

`poll` reads the Space's runtime stage and, once it is paused, AutoTrain's discussion and the
model repo; `logs` streams its build, then its run logs; `cancel` stops it; `collect`
downloads the pushed model at a pinned commit. Afterwards `compute.cleanup` (`delete`,
`pause`, `keep`) decides what happens to the Space and the data repo; the run's state
(`autotrain_space`) names the Space, the data repo and the model repo either way.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dexter_autotrain.backends.base import Handle, Phase, Poll
from dexter_autotrain.backends.hub_calls import hub_calls, hub_client, quiet_transfers
from dexter_autotrain.backends.local import scrub_tokens
from dexter_autotrain.backends.space_launch import (
    SpaceNames,
    hub_base_model,
    launch,
    launch_record,
    space_config,
    space_hardware,
    space_names,
)
from dexter_autotrain.errors import ToolError
from dexter_autotrain.hub.auth import identity_of
from dexter_autotrain.hub.release import MODEL_FILES, MODEL_PATTERNS
from dexter_autotrain.hub.retry import Report, RetryPolicy, with_retries
from dexter_autotrain.policy.cost_caps import require_within, run_breaches, shipped_flavor_price
from dexter_autotrain.policy.operator import OperatorPolicy
from dexter_autotrain.record import plain
from dexter_autotrain.runs import Run
from dexter_autotrain.training.log import checkpoint_trainer_states
from dexter_autotrain.training.runner_env import RunnerEnv, default_runner

if TYPE_CHECKING:
    from huggingface_hub import HfApi

SUCCESS_TITLE = "Your training has finished successfully"
FAILURE_TITLE = "Your training has failed"
"""The titles of the discussions AutoTrain opens on its Space when training ends."""
SPACE_STAGES: dict[str, Phase] = {
    "NO_APP_FILE": "starting",
    "BUILDING": "starting",
    "APP_STARTING": "starting",
    "RUNNING_APP_STARTING": "starting",
    "RUNNING": "running",
    "RUNNING_BUILDING": "running",
    "BUILD_ERROR": "failed",
    "RUNTIME_ERROR": "failed",
    "CONFIG_ERROR": "failed",
}
"""The Space's runtime stages whose phase the stage alone says; a paused, stopped or sleeping
Space is judged by AutoTrain's discussion (see `_ended`)."""
TRAINER_STATES = ("trainer_state.json", "checkpoint-*/trainer_state.json")
"""AutoTrain's Space pushes its whole output folder: the trainer state lies in the checkpoint
folders (the pipeline keeps the last one's beside the model)."""
CAUSE_LINES = 12
PAUSING_MARK = "Pausing space..."
"""AutoTrain's last word before it pauses its Space (what follows is the app shutting down)."""


@dataclass
class AutoTrainSpacesBackend:
    """The `autotrain-spaces` backend (see the module docstring).

    Attributes:
        runner: the AutoTrain runner `autotrain --config` runs in.
        report: one line per retry of a Hub call (default: stderr).
        policy: retries of the Hub calls the client does not retry itself.
    """

    runner: RunnerEnv = field(default_factory=default_runner)
    report: Report = field(default=lambda line: print(f"autotrain-spaces: {line}", file=sys.stderr))
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    name: str = "autotrain-spaces"

    def start(self, run: Run) -> Handle:
        """Start AutoTrain's Space for the run; the handle names the Space and its repos.

        Raises:
            HubAccessError: no token, or one that may not write to the namespace.
            ToolError: the runner is missing, or AutoTrain could not start the Space.
        """
        spec = run.spec()
        caps = OperatorPolicy.load().caps  # Spaces bill like Jobs: the shipped list prices
        require_within(run_breaches(spec, caps, shipped_flavor_price))
        hardware = space_hardware(run)
        api, token = hub_client()
        with hub_calls(self.report, token, "whoami", "no Space was started"):
            identity = identity_of(with_retries(api.whoami, "whoami", self.report, self.policy))
        namespace = str(spec.hub.repo_id).split("/")[0] if spec.hub.repo_id else identity.user
        identity.require_write(namespace)
        names = space_names(run, namespace)
        with (
            hub_calls(self.report, token, names.base_repo, "no Space was started"),
            quiet_transfers(),
        ):
            base, uploaded = hub_base_model(api, run, names, run.state().base_model)
        record = launch_record(names, hardware, uploaded)
        run.update(autotrain_space=record)  # named before anything can go wrong remotely
        handle = Handle(
            self.name,
            names.space,
            {
                "space": f"{api.endpoint}/spaces/{names.space}",
                "data": f"{api.endpoint}/datasets/{names.data_repo}",
                "model": f"{api.endpoint}/{names.model_repo}",
            },
            {
                "namespace": namespace,
                "project": names.project,
                "hardware": hardware,
                "cleanup": spec.compute.cleanup,
                "base_model_repo": record["base_model_repo"],
            },
        )
        try:
            launch(self.runner, run, space_config(run, names, base, hardware), token)
        except ToolError:
            self.clean_up(handle)  # whatever AutoTrain created before it failed
            raise
        return handle

    def poll(self, handle: Handle) -> Poll:
        """The Space's phase. A failed Space is cleaned up (per `compute.cleanup`) once its
        cause is read."""
        from huggingface_hub.errors import RepositoryNotFoundError

        api, token = hub_client()
        names = _names(handle)
        with hub_calls(self.report, token, names.space, "the Space itself is unaffected"):
            try:
                runtime = api.get_space_runtime(names.space)
            except RepositoryNotFoundError:
                return self._gone(api, names)
            stage = runtime.stage
            said = f": {runtime.raw['errorMessage']}" if runtime.raw.get("errorMessage") else ""
            phase = SPACE_STAGES.get(stage)
            poll = Poll(phase, f"{stage}{said}") if phase else self._ended(api, names, stage)
            if poll.phase == "failed":
                poll = Poll("failed", poll.message + self._cause(handle))
                self.clean_up(handle)
        return poll

    def logs(self, handle: Handle, follow: bool) -> Iterator[str]:
        """The Space's build log, then its run log; with `follow`, until the Space stops."""
        api, token = hub_client()
        with hub_calls(self.report, token, handle.id, "its logs are still on the Hub"):
            for build in (True, False):
                for event in api.fetch_space_logs(handle.id, build=build, follow=follow):
                    yield from _lines(event, token)

    def cancel(self, handle: Handle) -> None:
        """Stop the Space (paused, or deleted with `compute.cleanup: delete`) and clean up."""
        from huggingface_hub.errors import RepositoryNotFoundError

        api, token = hub_client()
        with (
            hub_calls(self.report, token, handle.id, "the Space may still be running"),
            suppress(RepositoryNotFoundError),  # deleted already
        ):
            with_retries(
                lambda: api.pause_space(handle.id), f"pause {handle.id}", self.report, self.policy
            )
        self.clean_up(handle)

    def collect(self, handle: Handle, run: Run) -> None:
        """Download the model AutoTrain pushed, at its current commit (pinned), into the
        run's model folder; clean up; record where everything is (`autotrain_space`).

        Raises:
            ToolError: the Space did not finish successfully, or pushed no model.
        """
        poll = self.poll(handle)
        if poll.phase != "completed":
            raise ToolError(f"Space {handle.id} did not finish successfully: {poll.message}")
        names = _names(handle)
        commit = self._download(names, run)
        config = json.loads((run.model_folder() / "config.json").read_text())
        record = plain(run.state().autotrain_space)
        if record is None:
            raise ToolError(f"{run.state_file}: no `autotrain_space` recorded for {handle.id}")
        record |= {"model_commit": commit, "trainer_state": _trainer_state_source(run)}
        run.update(
            autotrain_space=record | {"cleanup": self.clean_up(handle)},
            training_frameworks={
                "autotrain-advanced": "latest (installed by the Space)",
                "transformers": config.get("transformers_version", "unknown"),
            },
        )

    def clean_up(self, handle: Handle) -> dict[str, str]:
        """Per `compute.cleanup`: `delete` deletes the Space, `pause` pauses it, `keep` leaves
        it; the data repo (and an uploaded base model) are deleted unless `keep`. Safe to
        repeat.

        Returns:
            What became of each repo, e.g. `{"space": "deleted", "data_repo": "deleted"}`.
        """
        policy = handle.details["cleanup"]
        api, token = hub_client()
        names = _names(handle)
        done = {"space": "kept", "data_repo": "kept"}
        with hub_calls(self.report, token, handle.id, "delete the leftovers by hand"):
            if policy == "delete":
                api.delete_repo(names.space, repo_type="space", missing_ok=True)
                done["space"] = "deleted"
            elif policy == "pause" and api.repo_exists(names.space, repo_type="space"):
                api.pause_space(names.space)
                done["space"] = "paused"
            if policy != "keep":
                api.delete_repo(names.data_repo, repo_type="dataset", missing_ok=True)
                if handle.details.get("base_model_repo"):
                    api.delete_repo(handle.details["base_model_repo"], missing_ok=True)
                done["data_repo"] = "deleted"
        return done

    def _ended(self, api: HfApi, names: SpaceNames, stage: str) -> Poll:
        """A Space no longer running: AutoTrain's discussion says how training ended."""
        titles = [d.title for d in api.get_repo_discussions(names.space, repo_type="space")]
        if any(title.startswith(FAILURE_TITLE) for title in titles):
            return Poll("failed", f"{stage}: AutoTrain reported that training failed")
        if any(title.startswith(SUCCESS_TITLE) for title in titles):
            if api.repo_exists(names.model_repo):
                return Poll("completed", f"{stage}: trained; the model is in {names.model_repo}")
            return Poll("failed", f"{stage}: AutoTrain reported success but pushed no model")
        return Poll("cancelled", f"{stage} without AutoTrain's discussion: stopped by its owner")

    def _gone(self, api: HfApi, names: SpaceNames) -> Poll:
        """The Space was deleted (by `compute.cleanup`, or by hand)."""
        if api.repo_exists(names.model_repo):
            return Poll("completed", f"the Space is deleted; the model is in {names.model_repo}")
        return Poll("failed", f"the Space {names.space} is deleted and no model was pushed")

    def _cause(self, handle: Handle) -> str:
        """The last lines of the run log (of the build log when the app never ran)."""
        api, token = hub_client()
        for build in (False, True):
            events = api.fetch_space_logs(handle.id, build=build)
            lines = [line for event in events for line in _lines(event, token)]
            ended = [i for i, line in enumerate(lines) if PAUSING_MARK in line]
            lines = lines[: ended[0]] if ended else lines  # the app's shutdown says nothing
            if lines:
                return "\n" + "\n".join(lines[-CAUSE_LINES:])
        return ""

    def _download(self, names: SpaceNames, run: Run) -> str:
        """The model repo at its head, pinned, into the run's model folder; its commit."""
        from huggingface_hub import snapshot_download

        api, token = hub_client()
        model_dir = run.model_folder()
        with (
            tempfile.TemporaryDirectory(dir=run.path, prefix=".collect-") as scratch,
            hub_calls(self.report, token, names.model_repo, "the model stays in that repo"),
            quiet_transfers(),
        ):
            commit = api.model_info(names.model_repo).sha
            local = f"{scratch}/model"
            snapshot_download(
                names.model_repo,
                revision=commit,
                allow_patterns=[*MODEL_FILES, *MODEL_PATTERNS, *TRAINER_STATES],
                ignore_patterns=["*/*.safetensors*"],  # a checkpoint's weights: not needed
                local_dir=local,
                token=token,
                endpoint=api.endpoint,
            )
            shutil.rmtree(f"{local}/.cache", ignore_errors=True)
            shutil.rmtree(model_dir, ignore_errors=True)
            shutil.move(local, model_dir)
        scrub_tokens(model_dir)
        return commit


def _names(handle: Handle) -> SpaceNames:
    return SpaceNames(handle.details["namespace"], handle.details["project"])


def _trainer_state_source(run: Run) -> str:
    """Which trainer state the model came with: AutoTrain's Space pushes none beside the
    model, only its checkpoints' (the last one's, which the pipeline keeps, ends there)."""
    model_dir = run.model_folder()
    if (model_dir / "trainer_state.json").is_file():
        return "trainer_state.json"
    states = checkpoint_trainer_states(model_dir)
    if not states:
        return "none pushed"
    return f"{states[-1].parent.name}/trainer_state.json (AutoTrain pushes no final one)"


def _lines(event: str, token: str) -> Iterator[str]:
    """A log event's lines (tqdm's carriage returns split too, blank ones left out), the
    token masked should anything print it."""
    for line in event.replace("\r", "\n").split("\n"):
        if line.strip():
            yield line.replace(token, "***") if token in line else line
