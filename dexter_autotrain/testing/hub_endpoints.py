"""Inference Endpoints API of the Hub test server, as huggingface_hub 2.4 calls and parses it.

The real API lives on its own host (`constants.INFERENCE_ENDPOINTS_ENDPOINT`, .../v2); here it
is under `{server}/endpoints-api/v2` (`ENDPOINTS_API`), which `hub_client.client_env` names in
`DEXTER_ENDPOINTS_URL`:

- `GET/POST /endpoint/{ns}`: list (`{"items": [...]}`), create;
- `GET/PUT/DELETE /endpoint/{ns}/{name}`: get, update (a partial payload, merged), delete;
- `POST /endpoint/{ns}/{name}/pause|resume|scale-to-zero`.

Replies carry `name`, `type`, `healthRoute`, `model{repository,revision,task,framework,image}`,
`compute`, `provider` and `status{state,url,createdAt,updatedAt,...}`. Each endpoint's URL,
`{server}/_endpoints/{ns}/{name}`, stays the same across restarts: the server proxies it to
the endpoint's `dexter-auto serve` process (`endpoint_runtime`), asks non-public endpoints for
a token of their namespace, answers 503 with `Retry-After` while it is not running, and wakes
a scaled-to-zero endpoint on its first request. Route names (faults, counters): endpoint_list,
endpoint_create, endpoint_info, endpoint_update, endpoint_delete, endpoint_pause,
endpoint_resume, endpoint_scale_to_zero, endpoint_proxy.
"""

from __future__ import annotations

import http.client
import re
from functools import partial
from typing import Any
from urllib.parse import urlencode, urlsplit

from dexter_autotrain.spec.loader import deep_merge

from .endpoint_runtime import Endpoint, EndpointHost
from .hub_client import ENDPOINTS_API
from .hub_context import HubContext
from .hub_errors import HubError
from .hub_http import Reply, Request, Route, route

NAMESPACE = ENDPOINTS_API + r"/endpoint/(?P<ns>[^/]+)"
ONE = NAMESPACE + r"/(?P<name>[^/]+)"
PROXY = r"/_endpoints/(?P<ns>[^/]+)/(?P<name>[^/]+)(?P<rest>/.*)?"
NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?")
TYPES = frozenset({"public", "authenticated", "private"})
PROXY_TIMEOUT_S = 120.0


def endpoint_routes(hub: HubContext) -> list[Route]:
    return EndpointsApi(hub).routes()


class EndpointsApi:
    """The API's handlers over one `EndpointHost`."""

    def __init__(self, hub: HubContext) -> None:
        self.hub = hub
        self.host = EndpointHost(hub)

    def routes(self) -> list[Route]:
        proxy = partial(_proxy, self.hub, self.host)
        return [
            route("GET", NAMESPACE, "endpoint_list", self.listing),
            route("POST", NAMESPACE, "endpoint_create", self.create),
            route("GET", ONE, "endpoint_info", lambda r: self.reply(self.readable(r))),
            route("PUT", ONE, "endpoint_update", self.update),
            route("DELETE", ONE, "endpoint_delete", self.delete),
            route("POST", ONE + "/pause", "endpoint_pause", self.pause),
            route("POST", ONE + "/resume", "endpoint_resume", self.resume),
            route("POST", ONE + "/scale-to-zero", "endpoint_scale_to_zero", self.scale_to_zero),
            *(route(m, PROXY, "endpoint_proxy", proxy, public=True) for m in ("GET", "POST")),
        ]

    def readable(self, request: Request) -> Endpoint:
        return self.host.get(_namespace(request), request.params["name"])

    def writable(self, request: Request) -> Endpoint:
        endpoint = self.readable(request)
        request.caller.require_write(endpoint.namespace)
        return endpoint

    def reply(self, endpoint: Endpoint) -> Reply:
        with self.host.lock:
            return Reply.json(endpoint.as_json())

    def listing(self, request: Request) -> Reply:
        namespace = _namespace(request)
        with self.host.lock:
            found = self.host.endpoints.items()
            items = [e.as_json() for (ns, _), e in found if ns == namespace]
        return Reply.json({"items": items})

    def create(self, request: Request) -> Reply:
        namespace = request.params["ns"]
        request.caller.require_write(namespace)
        body = request.json()
        name = body.get("name")
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise HubError(400, "name: 1 to 32 lower-case letters, digits or dashes")
        spec = _checked_spec(self.hub, request, body)
        url = f"{self.hub.url}/_endpoints/{namespace}/{name}"
        endpoint = Endpoint(namespace, name, request.caller.user, spec, url)
        self.host.add(endpoint)
        return self.reply(endpoint)

    def update(self, request: Request) -> Reply:
        endpoint = self.writable(request)
        merged = deep_merge(endpoint.spec, _without_secret_values(request.json()))
        endpoint.spec = _checked_spec(self.hub, request, merged)
        if endpoint.state == "paused":
            self.host.stop(endpoint, "paused")  # applied when it is resumed
        else:
            self.host.launch(endpoint, "updating", "updateFailed")
        return self.reply(endpoint)

    def delete(self, request: Request) -> Reply:
        self.host.remove(self.writable(request))
        return Reply.json({})

    def pause(self, request: Request) -> Reply:
        endpoint = self.writable(request)
        self.host.stop(endpoint, "paused")
        return self.reply(endpoint)

    def resume(self, request: Request) -> Reply:
        endpoint = self.writable(request)
        if endpoint.state in ("running", "initializing", "pending", "updating"):
            raise HubError(400, f"Endpoint {endpoint.name} is already running")
        self.host.launch(endpoint, "pending", "failed")
        return self.reply(endpoint)

    def scale_to_zero(self, request: Request) -> Reply:
        endpoint = self.writable(request)
        self.host.stop(endpoint, "scaledToZero")
        return self.reply(endpoint)


def _namespace(request: Request) -> str:
    """The namespace the route names, if the caller belongs to it (401 otherwise, as the
    API answers an org without billing or access)."""
    namespace = request.params["ns"]
    if namespace not in request.caller.namespaces:
        raise HubError(401, f"You don't have access to the endpoints of {namespace!r}")
    return namespace


def _checked_spec(hub: HubContext, request: Request, body: dict[str, Any]) -> dict[str, Any]:
    """The endpoint's settings from a create (or merged update) payload, checked as the API
    does: required fields, the type, and a model repo and revision the caller can read."""
    compute, model, provider = (body.get(k) or {} for k in ("compute", "model", "provider"))
    for where, part, keys in (
        ("compute", compute, ("accelerator", "instanceSize", "instanceType")),
        ("model", model, ("repository", "framework")),
        ("provider", provider, ("region", "vendor")),
    ):
        missing = [key for key in keys if not isinstance(part.get(key), str) or not part[key]]
        if missing:
            raise HubError(400, f"{where}.{missing[0]} is required")
    if body.get("type") not in TYPES:
        raise HubError(400, f"type must be one of {', '.join(sorted(TYPES))}")
    repo = hub.visible(hub.store.get("model", model["repository"]), request.caller)
    repo.resolve(model.get("revision") or "main")  # 404 RevisionNotFound when it is not there
    model.setdefault("task", None)
    model.setdefault("revision", None)
    keep = ("compute", "model", "provider", "type", "tags", "route", "cacheHttpResponses")
    return {key: body[key] for key in keep if key in body} | {"model": _without_secrets(model)}


def _without_secrets(model: dict[str, Any]) -> dict[str, Any]:
    """Secret values never stay on the server: a reply lists their names only."""
    secrets = model.get("secrets")
    return model | ({"secrets": sorted(secrets)} if isinstance(secrets, dict) else {})


def _without_secret_values(body: dict[str, Any]) -> dict[str, Any]:
    model = body.get("model")
    return body | {"model": _without_secrets(model)} if isinstance(model, dict) else body


def _proxy(hub: HubContext, host: EndpointHost, request: Request) -> Reply:
    """A request to an endpoint's URL, forwarded to its serving process."""
    endpoint = host.get(request.params["ns"], request.params["name"])
    if endpoint.spec["type"] != "public":
        caller = hub.accounts.caller(request)
        if endpoint.namespace not in caller.namespaces:
            raise HubError(403, f"You don't have access to the endpoint {endpoint.name}")
    with host.lock:
        state, backend = endpoint.state, endpoint.backend_url
    if state == "scaledToZero":
        host.launch(endpoint, "initializing", "failed")
    if backend is None:
        raise HubError(503, f"Endpoint {endpoint.name} is {state}", headers={"Retry-After": "1"})
    path = request.params.get("rest") or "/"
    query = urlencode({k: v[-1] for k, v in request.query.items()})
    headers = {k: v for k, v in request.headers.items() if k in ("content-type", "accept")}
    split = urlsplit(backend)
    connection = http.client.HTTPConnection(split.hostname, split.port, timeout=PROXY_TIMEOUT_S)
    try:
        body = request.body.read_all()
        connection.request(request.method, path + (f"?{query}" if query else ""), body, headers)
        answer = connection.getresponse()
        passed = {
            k: v for k, v in answer.getheaders() if k.lower() in ("content-type", "retry-after")
        }
        return Reply(answer.status, passed, answer.read())
    except OSError as error:
        raise HubError(502, f"Endpoint {endpoint.name} did not answer: {error}") from None
    finally:
        connection.close()
