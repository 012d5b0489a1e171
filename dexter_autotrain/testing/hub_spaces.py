"""Spaces routes of the Hub test server: secrets, variables, runtime, hardware, sleep time,
pause, restart and the build and run logs (SSE). Creating, committing to and deleting a Space
go through the repo routes; `space_runtime` builds and runs it."""

from __future__ import annotations

from typing import Any

from .hub_context import HubContext
from .hub_errors import HubError
from .hub_http import Reply, Request, Route, route
from .space_runtime import Setting, Space, SpaceHost

SPACE = r"/api/(?P<type>spaces)/(?P<repo>[^/]+/[^/]+)"


def space_routes(hub: HubContext) -> list[Route]:
    host = SpaceHost(hub)

    def readable(request: Request) -> Space:
        return host.get(hub.readable_repo(request))

    def writable(request: Request) -> Space:
        return host.get(hub.writable_repo(request))

    def runtime(space: Space) -> Reply:
        return Reply.json(space.runtime())

    def pause(request: Request) -> Reply:
        space = writable(request)
        host.pause(space)
        return runtime(space)

    def restart(request: Request) -> Reply:
        return runtime(host.restart(hub.writable_repo(request)))

    def logs(request: Request) -> Reply:
        space = readable(request)
        log = space.build_log if request.params["kind"] == "build" else space.run_log
        return log.sse_reply(request)

    return [
        route("GET", SPACE + "/runtime", "space_runtime", lambda r: runtime(readable(r))),
        route("POST", SPACE + "/hardware", "space_hardware", lambda r: hardware(writable(r), r)),
        route("POST", SPACE + "/sleeptime", "space_sleeptime", lambda r: sleep(writable(r), r)),
        route("POST", SPACE + "/pause", "space_pause", pause),
        route("POST", SPACE + "/restart", "space_restart", restart),
        route("GET", SPACE + r"/logs/(?P<kind>build|run)", "space_logs", logs),
        *_setting_routes(hub, host, "secrets"),
        *_setting_routes(hub, host, "variables"),
    ]


def hardware(space: Space, request: Request) -> Reply:
    body = request.json()
    flavor = body.get("flavor")
    if not isinstance(flavor, str) or not flavor:
        raise HubError(400, "flavor is required")
    space.requested_hardware = flavor
    if body.get("sleepTimeSeconds") is not None:
        space.sleep_time = int(body["sleepTimeSeconds"])
    return Reply.json(space.runtime())


def sleep(space: Space, request: Request) -> Reply:
    seconds = request.json().get("seconds")
    if not isinstance(seconds, int):
        raise HubError(400, "seconds must be an integer")
    space.sleep_time = seconds
    return Reply.json(space.runtime())


def _setting_routes(hub: HubContext, host: SpaceHost, kind: str) -> list[Route]:
    """Add (POST), delete (DELETE) and list (GET) a Space's secrets or variables.
    Secret values never leave the server: a listing shows names, descriptions and dates."""

    def settings(request: Request, write: bool) -> dict[str, Setting]:
        repo = hub.writable_repo(request) if write else hub.readable_repo(request)
        space = host.get(repo)
        return space.secrets if kind == "secrets" else space.variables

    def listing(items: dict[str, Setting]) -> Reply:
        shown: dict[str, Any] = {}
        for key, item in sorted(items.items()):
            shown[key] = {"description": item.description, "updatedAt": item.updated_at}
            if kind == "variables":
                shown[key]["value"] = item.value
        return Reply.json(shown)

    def add(request: Request) -> Reply:
        items = settings(request, write=True)
        body = request.json()
        key = body.get("key")
        if not isinstance(key, str) or not key or "value" not in body:
            raise HubError(400, "key and value are required")
        items[key] = Setting(str(body["value"]), body.get("description"))
        return listing(items) if kind == "variables" else Reply.json({})

    def delete(request: Request) -> Reply:
        items = settings(request, write=True)
        items.pop(str(request.json().get("key")), None)
        return listing(items) if kind == "variables" else Reply.json({})

    name = f"space_{kind}"
    return [
        route("POST", f"{SPACE}/{kind}", name, add),
        route("DELETE", f"{SPACE}/{kind}", name, delete),
        route("GET", f"{SPACE}/{kind}", name, lambda r: listing(settings(r, write=False))),
    ]
