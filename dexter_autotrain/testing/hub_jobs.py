"""Jobs routes of the Hub test server: run, inspect, list, cancel, logs (SSE) and hardware.

Jobs run for real (see `job_executor`): the command runs locally with a bin directory standing
in for the image, the job's `environment` and `secrets` as its environment, plus
`hub_client.client_env` (`HF_ENDPOINT` this server, `HF_HUB_DISABLE_XET=1`, no telemetry or
progress bars, `HF_HUB_OFFLINE=0`) with an `HF_HOME` in its own working folder (and HOME, and
working directory) `<data>/jobs/<id>/`. Stages: SCHEDULING -> RUNNING ->
COMPLETED, or ERROR (exit code != 0, timeout, command not found), or CANCELED.
Secret values are never kept: a reply lists each secret's name with an opaque placeholder.
"""

from __future__ import annotations

import secrets as random_ids
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .hub_auth import Caller, object_id
from .hub_client import client_env
from .hub_context import HubContext, page_reply
from .hub_errors import HubError
from .hub_http import Reply, Request, Route, route
from .hub_store import now_iso
from .job_executor import Outcome, ProcessRun, container_env, image_bin
from .job_hardware import FLAVOR_NAMES, FLAVORS
from .log_stream import LogBook

JOBS = r"/api/jobs/(?P<ns>[^/]+)"
JOB = JOBS + r"/(?P<job>[0-9a-f]{24})"
TERMINAL = frozenset({"COMPLETED", "ERROR", "CANCELED", "DELETED"})
SECRET_PLACEHOLDER = "<encrypted>"


@dataclass
class Job:
    """One job: what was asked for (no secret values), its stage and its log."""

    id: str
    namespace: str
    owner: dict[str, str]
    image: str
    command: list[str]
    environment: dict[str, str]
    secret_names: list[str]
    flavor: str
    labels: dict[str, str]
    timeout: int | None
    created: float = field(default_factory=time.time)
    created_at: str = field(default_factory=now_iso)
    stage: str = "SCHEDULING"
    message: str | None = None
    started: float | None = None
    started_at: str | None = None
    finished: float | None = None
    finished_at: str | None = None
    log: LogBook = field(default_factory=LogBook)
    run: ProcessRun | None = None

    def finish(self, stage: str, message: str | None = None) -> bool:
        """Move to a terminal stage, once: False when the job had already ended."""
        if self.stage in TERMINAL:
            return False
        self.stage, self.message = stage, message
        self.finished, self.finished_at = time.time(), now_iso()
        return True

    def as_json(self) -> dict[str, Any]:
        now = self.finished or time.time()
        return {
            "id": self.id,
            "createdAt": self.created_at,
            "startedAt": self.started_at,
            "finishedAt": self.finished_at,
            "dockerImage": self.image,
            "spaceId": None,
            "command": self.command,
            "arguments": [],
            "environment": self.environment,
            "secrets": dict.fromkeys(self.secret_names, SECRET_PLACEHOLDER),
            "flavor": self.flavor,
            "labels": self.labels or None,
            "timeoutSeconds": self.timeout,
            "status": {"stage": self.stage, "message": self.message},
            "durations": {
                "schedulingSecs": int((self.started or now) - self.created),
                "runningSecs": int(now - self.started) if self.started else None,
                "totalSecs": int(now - self.created),
            },
            "owner": self.owner,
            "initiator": {"type": "user", "id": self.owner["id"], "name": self.owner["name"]},
        }


class JobBook:
    """All jobs of the server, by id; starts, cancels and stops them."""

    def __init__(self, hub: HubContext) -> None:
        self.hub = hub
        self.lock = threading.Lock()
        self.jobs: dict[str, Job] = {}
        hub.closers.append(self.stop_all)

    def get(self, namespace: str, job_id: str) -> Job:
        job = self.jobs.get(job_id)
        if job is None or job.namespace != namespace:
            raise HubError(404, f"Job {job_id} not found")
        return job

    def submit(self, job: Job, secret_env: dict[str, str], server_url: str) -> None:
        with self.lock:
            self.jobs[job.id] = job
        self.hub.stats.started(self.hub.stats.jobs_started, job.namespace)
        threading.Thread(
            target=self._launch, args=(job, secret_env, server_url), daemon=True
        ).start()

    def _launch(self, job: Job, secret_env: dict[str, str], server_url: str) -> None:
        time.sleep(self.hub.config.schedule_delay)
        work = self.hub.store.root / "jobs" / job.id
        hf_env = client_env(server_url, work / ".cache" / "huggingface", token=None)
        bin_dir = image_bin(job.image, self.hub.config.job_images, self.hub.config.default_bin)
        env = container_env(bin_dir, work, {**job.environment, **secret_env, **hf_env})
        with self.lock:
            if job.stage != "SCHEDULING":
                return  # canceled while scheduling
            job.stage, job.started, job.started_at = "RUNNING", time.time(), now_iso()
            job.log.append(f"===== Job started at {job.started_at} =====")
            job.run = ProcessRun(job.command, env, work, job.log, job.timeout, self._ended(job))
            try:
                job.run.start()
            except OSError as err:
                job.finish("ERROR", f'exec: "{job.command[0]}": {err.strerror}')
                job.log.close()

    def _ended(self, job: Job) -> Callable[[Outcome], None]:
        def on_end(outcome: Outcome) -> None:
            with self.lock:
                if outcome.reason == "timeout":
                    job.finish("ERROR", f"Job timed out after {job.timeout} seconds")
                elif outcome.reason == "killed":
                    job.finish("CANCELED")
                elif outcome.exit_code:
                    code = outcome.exit_code if outcome.exit_code > 0 else 128 - outcome.exit_code
                    job.finish("ERROR", f"Job failed with exit code: {code}")
                else:
                    job.finish("COMPLETED")

        return on_end

    def cancel(self, job: Job) -> None:
        with self.lock:
            run = job.run
            if not job.finish("CANCELED") or run is None:
                job.log.close()  # canceled before it started, or already over
                return
        threading.Thread(target=run.kill, daemon=True).start()

    def stop_all(self) -> None:
        for job in list(self.jobs.values()):
            if job.stage not in TERMINAL:
                self.cancel(job)
            if job.run is not None:
                job.run.kill()


def job_routes(hub: HubContext) -> list[Route]:
    book = JobBook(hub)
    return [
        route("GET", r"/api/jobs/hardware", "job_hardware", hardware),
        route("POST", JOBS, "job_run", lambda r: run_job(hub, book, r)),
        route("GET", JOBS, "job_list", lambda r: list_jobs(hub, book, r)),
        route("GET", JOB, "job_info", lambda r: Reply.json(_job(book, r).as_json())),
        route("POST", JOB + "/cancel", "job_cancel", lambda r: cancel_job(book, r)),
        route("GET", JOB + "/logs", "job_logs", lambda r: _job(book, r).log.sse_reply(r)),
    ]


def hardware(request: Request) -> Reply:
    return Reply.json([flavor.as_json() for flavor in FLAVORS])


def _owner(caller: Caller, namespace: str) -> dict[str, str]:
    kind = "user" if namespace == caller.user else "org"
    return {"id": object_id(namespace), "name": namespace, "type": kind}


def _readable_namespace(request: Request) -> str:
    namespace = request.params["ns"]
    if namespace not in request.caller.namespaces:
        raise HubError(403, f"You don't have access to the jobs of namespace {namespace!r}")
    return namespace


def _job(book: JobBook, request: Request) -> Job:
    return book.get(_readable_namespace(request), request.params["job"])


def run_job(hub: HubContext, book: JobBook, request: Request) -> Reply:
    namespace = request.params["ns"]
    request.caller.require_write(namespace)
    spec = request.json()
    command, image = spec.get("command"), spec.get("dockerImage")
    if not isinstance(command, list) or not command or not all(isinstance(c, str) for c in command):
        raise HubError(400, "command must be a non-empty list of strings")
    if not isinstance(image, str) or not image:
        raise HubError(400, "dockerImage is required (the test server runs no Space images)")
    config = hub.config
    if config.only_mapped_images and image not in config.job_images and not config.default_bin:
        raise HubError(400, f"image {image!r} is not one this server runs (--image IMAGE=BINDIR)")
    flavor = spec.get("flavor") or "cpu-basic"
    if flavor not in FLAVOR_NAMES:
        raise HubError(400, f"Invalid flavor {flavor!r}")
    secret_env = {k: str(v) for k, v in (spec.get("secrets") or {}).items() if v is not None}
    job = Job(
        id=random_ids.token_hex(12),
        namespace=namespace,
        owner=_owner(request.caller, namespace),
        image=image,
        command=command + [str(a) for a in spec.get("arguments") or []],
        environment={k: str(v) for k, v in (spec.get("environment") or {}).items()},
        secret_names=sorted(secret_env),
        flavor=flavor,
        labels={k: str(v) for k, v in (spec.get("labels") or {}).items()},
        timeout=int(spec["timeoutSeconds"]) if spec.get("timeoutSeconds") else None,
    )
    book.submit(job, secret_env, request.base_url)
    return Reply.json(job.as_json())


def list_jobs(hub: HubContext, book: JobBook, request: Request) -> Reply:
    namespace = _readable_namespace(request)
    stages = set(request.query.get("stage", []))
    wanted = dict(label.partition("=")[::2] for label in request.query.get("label", []))
    jobs = [
        job.as_json()
        for job in sorted(book.jobs.values(), key=lambda j: j.created, reverse=True)
        if job.namespace == namespace
        and (not stages or job.stage in stages)
        and all(job.labels.get(key) == value for key, value in wanted.items())
    ]
    return page_reply(request, jobs, hub.config.page_size)


def cancel_job(book: JobBook, request: Request) -> Reply:
    job = _job(book, request)
    request.caller.require_write(job.namespace)
    book.cancel(job)
    return Reply.json(job.as_json())
