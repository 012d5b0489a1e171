"""A local, faithful stand-in for the Hugging Face Hub's HTTP API, for tests.

From Python::

    with HubServer(config=HubConfig(page_size=2)) as hub:
        env = hub.client_env(tmp_path / "hf-home")      # HF_ENDPOINT=hub.url, no Xet, ...
        hub.faults.add(Fault("commit", status=503))     # or POST /_test/faults
        ...                                             # huggingface_hub calls, see hub_client
        hub.stats.calls["commit"], hub.stats.lfs_bytes  # or GET /_test/stats

On its own::

    python -m dexter_autotrain.testing.hub_server --port 0 [--data DIR] \
        [--token TOKEN=USER:ROLE ...] [--org ORG=USER[,USER] ...] \
        [--image IMAGE=BINDIR ...] [--default-bin BINDIR]

prints its URL as the first line of stdout and serves until SIGTERM or SIGINT.

Faults and counters name routes: whoami, repo_create, repo_delete, repo_info, tree, paths_info,
refs, commits, branch_create, branch_delete, tag_create, tag_delete, validate_yaml, preupload,
commit, lfs_batch, lfs_upload (the PUT of LFS content), lfs_verify, resolve (HEAD and GET),
job_hardware, job_run, job_list, job_info, job_cancel, job_logs, space_runtime, space_hardware,
space_sleeptime, space_pause, space_restart, space_logs, space_secrets, space_variables,
discussion_create, discussion_list, discussion_info, endpoint_list, endpoint_create,
endpoint_info, endpoint_update, endpoint_delete, endpoint_pause, endpoint_resume,
endpoint_scale_to_zero, endpoint_proxy (see `hub_endpoints`). `/_test/stats` also counts
`jobs_started` and `spaces_started` (Space runs) per namespace.

Route areas live in their own modules (`hub_auth`, `hub_repos`, `hub_upload`, `hub_download`,
`hub_control`, `hub_jobs`, `hub_spaces`, `hub_discussions`, `hub_endpoints`); each is a function
from the shared `HubContext` to a list of routes, so a new area is one more module added to
`AREAS`. Jobs, Spaces and Inference Endpoints run for real as local processes (`job_executor`,
`space_runtime`).
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from dexter_autotrain.system.loopback import is_loopback

from .hub_auth import Accounts, auth_routes
from .hub_client import client_env, patched_client
from .hub_context import HubConfig, HubContext
from .hub_control import Faults, Stats, control_routes
from .hub_discussions import discussion_routes
from .hub_download import download_routes
from .hub_endpoints import endpoint_routes
from .hub_errors import HubError
from .hub_http import HubHTTPServer, Reply, Request, Route, Router
from .hub_jobs import job_routes
from .hub_repos import repo_routes
from .hub_settings import settings_routes
from .hub_spaces import space_routes
from .hub_store import HubStore
from .hub_upload import upload_routes

AREAS: tuple[Callable[[HubContext], list[Route]], ...] = (
    lambda hub: auth_routes(hub.accounts),
    repo_routes,
    settings_routes,
    upload_routes,
    download_routes,
    job_routes,
    space_routes,
    discussion_routes,
    endpoint_routes,
)


class HubApp:
    """Routes a request, then: injected fault, token check, handler, error reply, counters."""

    def __init__(self, context: HubContext, faults: Faults, stats: Stats) -> None:
        self.context = context
        self.faults = faults
        self.stats = stats
        self.router = Router(control_routes(faults, stats))
        for area in AREAS:
            self.router.add(area(context))

    def handle(self, request: Request) -> Reply:
        try:
            return self._dispatch(request)
        except HubError as err:
            return error_reply(err)
        except (ConnectionError, TimeoutError):
            raise  # the client went away mid-request: nothing was applied, nobody to answer
        except Exception as err:  # a bug in the test server: say so, loudly
            traceback.print_exc(file=sys.stderr)
            return error_reply(HubError(500, f"test server bug: {err!r}"))
        finally:
            self._finish(request)

    def _finish(self, request: Request) -> None:
        """Read what the route left of the body (keep-alive needs it), then count the call."""
        try:
            request.body.drain()
        finally:
            self.stats.record(request.route, request.body.count)

    def _dispatch(self, request: Request) -> Reply:
        matched = self.router.match(request.method, request.path)
        if matched is None:
            raise HubError(404, f"Not found: {request.method} {request.path}")
        found, request.params = matched
        request.route = found.name
        control = found.name.startswith("test_")
        fault = None if control else self.faults.take(found.name, request.method)
        if fault is not None and fault.kind == "status":
            return fault.status_reply()
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay)
        if not found.public:
            anonymous_ok = found.name in ANONYMOUS_READS and request.method in ("GET", "HEAD")
            request.caller = self.context.accounts.caller(request, anonymous_ok)
        reply = found.handler(request)
        return fault.cut(reply) if fault is not None and fault.kind == "drop" else reply


ANONYMOUS_READS = frozenset(
    {"repo_info", "tree", "refs", "commits", "resolve", "discussion_list", "discussion_info"}
    | {"whoami", "models_list", "auth_check"}
)
"""What the Hub answers without a token: reads of public repositories (a private or missing
one is 401 RepoNotFound, so the client raises `RepositoryNotFoundError`); `whoami` and
`auth-check` answer 401 themselves."""


def error_reply(err: HubError) -> Reply:
    message = err.message.encode("latin-1", "replace").decode("latin-1")
    headers = {"X-Error-Message": message, **err.headers}
    if err.code:
        headers["X-Error-Code"] = err.code
    return Reply.json({"error": err.message}, err.status, headers)


POLL_INTERVAL_S = 0.05
"""How often the serving thread looks for a shutdown request (the standard library's 0.5 s
made every stop take half a second)."""


class HubServer:
    """The Hub test server in a background thread; a context manager."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        data_dir: Path | None = None,
        accounts: Accounts | None = None,
        config: HubConfig | None = None,
    ) -> None:
        if accounts is None and not is_loopback(host):
            raise ValueError(
                f"host {host}: off loopback the Hub test server needs accounts of its own "
                "(the default tokens are public, and its jobs run commands)"
            )
        self._own_data = data_dir is None
        self.data_dir = Path(tempfile.mkdtemp(prefix="hub-test-")) if data_dir is None else data_dir
        self.faults = Faults()
        self.stats = Stats()
        self.context = self._context(accounts, config)
        self._http = HubHTTPServer((host, port), HubApp(self.context, self.faults, self.stats))
        self.context.url = self.url
        self._thread = threading.Thread(
            target=self._http.serve_forever, args=(POLL_INTERVAL_S,), name="hub-server", daemon=True
        )

    def _context(self, accounts: Accounts | None, config: HubConfig | None) -> HubContext:
        store = HubStore(self.data_dir)
        return HubContext(store, accounts or Accounts.default(), config or HubConfig(), self.stats)

    @property
    def url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host}:{port}"

    def reset(self, accounts: Accounts | None = None, config: HubConfig | None = None) -> None:
        """Empty the Hub on the same address: running jobs, Spaces and endpoints stopped,
        every repository gone, faults and counters cleared; then `accounts` and `config`.

        Raises:
            RuntimeError: the server was given a `data_dir` (its files are not the server's
                to delete).

        Example:
            >>> hub.reset(Accounts.default(), HubConfig(page_size=2))
        """
        if not self._own_data:
            raise RuntimeError(f"reset deletes the server's files; {self.data_dir} was given")
        for close in self.context.closers:
            close()
        shutil.rmtree(self.data_dir, ignore_errors=True)
        self.data_dir.mkdir()
        self.faults.clear()
        self.stats.reset()
        self.context = self._context(accounts, config)
        self.context.url = self.url
        self._http.app = HubApp(self.context, self.faults, self.stats)

    def start(self) -> HubServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, kill running jobs and Spaces, close the socket, remove the data
        folder if it was a temporary one."""
        for close in self.context.closers:
            close()
        if self._thread.is_alive():
            self._http.shutdown()
            self._thread.join()
        self._http.server_close()
        if self._own_data:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def client_env(
        self, hf_home: str | Path, token: str | None = "hf_test_write"
    ) -> dict[str, str]:
        return client_env(self.url, hf_home, token)

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@contextmanager
def serving_client(config: HubConfig, hf_home: Path) -> Iterator[HubServer]:
    """A started server, with this process's huggingface_hub pointed at it (write token).

    Example::

        with serving_client(HubConfig(schedule_delay=0.05), tmp / "hf-home") as hub:
            HfApi().run_job(image="python:3.12", command=["python", "-c", "print(1)"])
    """
    with HubServer(config=config) as server, patched_client(server.client_env(hf_home)):
        yield server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dexter_autotrain.testing.hub_server",
        description="Serve a local Hugging Face Hub API for tests.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--data", type=Path, help="keep repos and blobs here (default: a temp dir)")
    parser.add_argument("--token", action="append", default=[], metavar="TOKEN=USER:ROLE")
    parser.add_argument("--org", action="append", default=[], metavar="ORG=USER[,USER]")
    parser.add_argument(
        "--image",
        action="append",
        default=[],
        metavar="IMAGE=BINDIR",
        help="jobs and Spaces naming IMAGE run with BINDIR first on PATH",
    )
    parser.add_argument(
        "--default-bin",
        type=Path,
        help="BINDIR for other images (default: other images are refused)",
    )
    args = parser.parse_args(argv)
    images = {name: Path(bin_dir) for name, _, bin_dir in (i.partition("=") for i in args.image)}
    if any(not str(bin_dir) or bin_dir == Path() for bin_dir in images.values()):
        parser.error("--image wants IMAGE=BINDIR")
    config = HubConfig(job_images=images, default_bin=args.default_bin, only_mapped_images=True)
    try:
        given = Accounts.from_specs(args.token, args.org)
    except ValueError as err:
        parser.error(str(err))
    if not is_loopback(args.host) and not args.token:
        parser.error(
            f"--host {args.host}: off loopback the server needs its own tokens (--token "
            "TOKEN=USER:ROLE); the built-in ones are in its source, and its jobs run commands"
        )
    accounts = (
        given
        if args.token
        else Accounts(Accounts.default().tokens, given.orgs or Accounts.default().orgs)
    )
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    with HubServer(args.host, args.port, args.data, accounts, config) as hub:
        print(hub.url, flush=True)
        while not stopping.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
