"""Docker Spaces of the Hub test server, built and run for real as local processes.

A commit to a docker Space's `main` that holds a `Dockerfile` starts a "build": the
Dockerfile is read, not built. `FROM` picks the bin directory standing in for the image
(`HubConfig.job_images`, else `default_bin`, else AutoTrain's runner), `ENV` lines join the
environment, `RUN` lines are skipped, and `CMD` is the command the Space runs, with `pip ...`
steps dropped (the stand-in environment is what the image would install: for AutoTrain's
Space, whose Dockerfile installs the *latest* autotrain-advanced, the runner's 0.8.36 runs)
and its port 7860 and host 0.0.0.0 replaced by a free port on 127.0.0.1. The process gets
the Space's variables and secrets as its environment, the Hub's `SPACE_ID`,
`SPACE_AUTHOR_NAME`, `SPACE_REPO_NAME`, `SPACE_HOST`, `SYSTEM=spaces`, and
`hub_client.client_env` (`HF_ENDPOINT` pointing back at this server, no Xet, its own
`HF_HOME`). Space state (stage, secrets, variables, logs) lives in memory.

Stages: NO_APP_FILE (no Dockerfile yet) -> BUILDING -> RUNNING -> PAUSED (on `pause`),
BUILD_ERROR (no FROM or CMD), RUNTIME_ERROR (the process exited while RUNNING).
"""

from __future__ import annotations

import json
import re
import shlex
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .hub_client import client_env
from .hub_context import HubContext
from .hub_errors import HubError
from .hub_store import Commit, Repo, now_iso
from .job_executor import Outcome, ProcessRun, container_env, image_bin
from .log_stream import LogBook

DEFAULT_SLEEP_S = 172800  # cpu-basic Spaces sleep after 48 h
PAUSE_DELAY_S = 1.0  # a Space that pauses itself gets its reply before it is stopped


@dataclass
class Setting:
    """A Space secret or variable."""

    value: str
    description: str | None = None
    updated_at: str = field(default_factory=now_iso)


@dataclass(frozen=True)
class DockerPlan:
    """What a Dockerfile asks for: the image, its ENV lines and the command to run."""

    image: str
    env: dict[str, str]
    command: str
    skipped: list[str]

    @classmethod
    def parse(cls, text: str) -> DockerPlan:
        """Raises HubError(400) with the Hub-like build error when FROM or CMD is missing."""
        lines = re.sub(r"\\\n", " ", text).splitlines()
        image, command, env = "", "", {}
        for line in (raw.strip() for raw in lines):
            word, _, rest = line.partition(" ")
            if word.upper() == "FROM":
                image = rest.split()[0] if rest.split() else ""
            elif word.upper() == "ENV" and "=" in rest:
                env.update(pair.split("=", 1) for pair in shlex.split(rest) if "=" in pair)
            elif word.upper() == "CMD":
                command = shlex.join(json.loads(rest)) if rest.startswith("[") else rest.strip()
        if not image or not command:
            raise HubError(400, "Dockerfile error: it needs a FROM image and a CMD")
        steps = [step.strip() for step in command.split("&&")]
        kept = [s for s in steps if not re.match(r"pip3?\s", s)]
        return cls(image, env, " && ".join(kept), [s for s in steps if s not in kept])

    def local_command(self, port: int) -> str:
        return re.sub(r"\b7860\b", str(port), self.command).replace("0.0.0.0", "127.0.0.1")


@dataclass
class Space:
    repo_id: str
    sdk: str | None
    requested_hardware: str = "cpu-basic"
    sleep_time: int | None = DEFAULT_SLEEP_S
    secrets: dict[str, Setting] = field(default_factory=dict)
    variables: dict[str, Setting] = field(default_factory=dict)
    stage: str = "NO_APP_FILE"
    error: str | None = None
    build_log: LogBook = field(default_factory=LogBook)
    run_log: LogBook = field(default_factory=LogBook)
    run: ProcessRun | None = None
    generation: int = 0  # every rebuild bumps it: threads of an older one give up

    def runtime(self) -> dict[str, Any]:
        running = self.stage == "RUNNING"
        namespace, name = self.repo_id.split("/")
        body: dict[str, Any] = {
            "stage": self.stage,
            "hardware": {
                "current": self.requested_hardware if running else None,
                "requested": self.requested_hardware,
            },
            "storage": None,
            "gcTimeout": self.sleep_time,
            "replicas": {"current": 1 if running else 0, "requested": 1},
            "devMode": False,
            "domains": [{"domain": f"{namespace}-{name}.hf.space", "stage": "READY"}],
        }
        if self.error:
            body["errorMessage"] = self.error
        return body


class SpaceHost:
    """The Spaces of the server: created, rebuilt on commit, paused, deleted."""

    def __init__(self, hub: HubContext) -> None:
        self.hub = hub
        self.lock = threading.RLock()
        self.spaces: dict[str, Space] = {}
        hub.hooks.created.append(self.created)
        hub.hooks.committed.append(self.committed)
        hub.hooks.deleted.append(self.deleted)
        hub.closers.append(self.stop_all)

    def get(self, repo: Repo) -> Space:
        with self.lock:
            return self.spaces.setdefault(repo.id, Space(repo.id, repo.sdk))

    def created(self, repo: Repo, body: dict[str, Any]) -> None:
        if repo.type != "space":
            return
        space = self.get(repo)
        space.requested_hardware = body.get("hardware") or space.requested_hardware
        space.sleep_time = body.get("sleepTimeSeconds") or space.sleep_time
        for kind, target in (("secrets", space.secrets), ("variables", space.variables)):
            for item in body.get(kind) or []:
                target[item["key"]] = Setting(str(item["value"]), item.get("description"))

    def committed(self, repo: Repo, branch: str) -> None:
        if repo.type == "space" and branch == "main":
            self.restart(repo)

    def deleted(self, repo: Repo) -> None:
        with self.lock:
            space = self.spaces.pop(repo.id, None)
        if space is not None:
            self._stop(space, delay=0)

    def restart(self, repo: Repo) -> Space:
        """Stop what runs, then build the head of `main` again (in the background)."""
        space = self.get(repo)
        with self.lock:
            self._stop(space, delay=0)
            space.generation += 1
            space.build_log, space.run_log, space.error = LogBook(), LogBook(), None
            head = repo.resolve("main")
            if space.sdk != "docker" or "Dockerfile" not in head.files:
                space.stage = "NO_APP_FILE" if space.sdk == "docker" else "CONFIG_ERROR"
                space.build_log.close()
                return space
            space.stage = "BUILDING"
        threading.Thread(
            target=self._build, args=(space, space.generation, head), daemon=True
        ).start()
        return space

    def pause(self, space: Space) -> None:
        with self.lock:
            space.stage, space.error = "PAUSED", None
            self._stop(space, delay=PAUSE_DELAY_S)

    def _stop(self, space: Space, delay: float) -> None:
        run, space.run = space.run, None
        if run is None:
            return
        if delay:
            timer = threading.Timer(delay, run.kill)
            timer.daemon = True
            timer.start()
        else:
            run.kill()

    def stop_all(self) -> None:
        for space in list(self.spaces.values()):
            self._stop(space, delay=0)

    def _build(self, space: Space, generation: int, head: Commit) -> None:
        time.sleep(self.hub.config.schedule_delay)
        log = space.build_log
        try:
            text = self.hub.store.blob_path(head.files["Dockerfile"].sha256).read_text()
            plan = DockerPlan.parse(text)
            config = self.hub.config
            if config.only_mapped_images and not (
                plan.image in config.job_images or config.default_bin
            ):
                raise HubError(
                    400, f"FROM {plan.image}: not an image this server runs (--image IMAGE=BINDIR)"
                )
        except HubError as err:
            log.append(err.message)
            self._fail(space, generation, "BUILD_ERROR", err.message)
            log.close()
            return
        log.append(f"===== Build queued at {now_iso()} =====")
        log.append(f"--> FROM {plan.image} (stand-in: the test server's local environment)")
        for step in plan.skipped:
            log.append(f"--> skipped {step!r}: the stand-in is what it would install")
        log.append("--> Pushing image  DONE")
        log.close()
        self._start(space, generation, head, plan)

    def _fail(self, space: Space, generation: int, stage: str, message: str) -> None:
        with self.lock:
            if space.generation == generation:
                space.stage, space.error = stage, message

    def _start(self, space: Space, generation: int, head: Commit, plan: DockerPlan) -> None:
        work = self.hub.store.root / "spaces" / space.repo_id / str(generation)
        self._checkout(head, work / "app")
        env = container_env(
            image_bin(plan.image, self.hub.config.job_images, self.hub.config.default_bin),
            work,
            {**plan.env, **self._space_env(space, work)},
        )
        command = ["sh", "-c", plan.local_command(_free_port())]
        with self.lock:
            if space.generation != generation or space.stage != "BUILDING":
                return
            on_end = self._ended(space, generation)
            space.run = ProcessRun(command, env, work / "app", space.run_log, None, on_end)
            space.run.start()
            space.stage = "RUNNING"
        self.hub.stats.started(self.hub.stats.spaces_started, space.repo_id.split("/")[0])

    def _space_env(self, space: Space, work: Path) -> dict[str, str]:
        namespace, name = space.repo_id.split("/")
        return {
            **{key: s.value for key, s in space.variables.items()},
            **{key: s.value for key, s in space.secrets.items()},
            "SPACE_ID": space.repo_id,
            "SPACE_AUTHOR_NAME": namespace,
            "SPACE_REPO_NAME": name,
            "SPACE_HOST": f"{namespace}-{name}.hf.space",
            "SYSTEM": "spaces",
            **client_env(self.hub.url, work / ".cache" / "huggingface", token=None),
        }

    def _checkout(self, head: Commit, target: Path) -> None:
        for path, entry in head.files.items():
            destination = target / path
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(self.hub.store.blob_path(entry.sha256).read_bytes())

    def _ended(self, space: Space, generation: int) -> Callable[[Outcome], None]:
        def on_end(outcome: Outcome) -> None:
            with self.lock:
                if space.generation == generation and space.stage == "RUNNING":
                    space.stage = "RUNTIME_ERROR"
                    space.error = f"Exit code: {outcome.exit_code}. Reason: the app stopped"

        return on_end


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
