"""dexter_autotrain.client against a small stand-in endpoint over real HTTP: retries of 503
(scale-to-zero) and 429, Retry-After, the retry budget, clear errors, timeouts, batches.

The stand-in answers as Inference Endpoints do and refuses as scripted; the client under
test is the real one, on the real huggingface_hub InferenceClient. The client against real
models (`dexter-auto serve`) is in test_serve.py.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dexter_autotrain.client import (
    AsyncDexterClient,
    DexterClient,
    EndpointBusy,
    Endpoints,
    EndpointTimeout,
    InvalidRequest,
    NotConfigured,
    RetryPolicy,
)

FAST = RetryPolicy(budget=5.0, first_delay=0.05, max_delay=0.2)


class StandIn(ThreadingHTTPServer):
    """Refuses the first requests as `script` says ((status, headers) each), then answers
    like an endpoint of `task`; records every request body and the most in flight."""

    daemon_threads = True

    def __init__(self, task: str, script: list[tuple[int, dict]] | None = None, delay=0.0):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.task, self.script, self.delay = task, list(script or []), delay
        self.bodies: list[bytes] = []
        self.in_flight = self.most_in_flight = 0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def answer(self, body: bytes) -> tuple[int, dict, object]:
        with self.lock:
            self.bodies.append(body)
            if self.script:
                status, headers = self.script.pop(0)
                return status, headers, {"error": f"scripted {status}"}
        if self.task == "token-classification":
            text = json.loads(body)["inputs"]
            word = text.split()[0]
            entity = {"entity_group": "PER", "score": 0.9, "word": word, "start": 0}
            return 200, {}, [entity | {"end": len(word)}]
        label = json.loads(body)["inputs"] if self.task == "text-classification" else "meme"
        return 200, {}, [[{"label": label, "score": 0.75}, {"label": "other", "score": 0.25}]]


class _Handler(BaseHTTPRequestHandler):
    server: StandIn

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        with self.server.lock:
            self.server.in_flight += 1
            self.server.most_in_flight = max(self.server.most_in_flight, self.server.in_flight)
        time.sleep(self.server.delay)
        status, headers, payload = self.server.answer(body)
        if self.server.task == "image-classification" and status == 200:
            payload = payload[0]  # images answer a flat list
        data = json.dumps(payload).encode()
        self.send_response(status)
        for name, value in {"content-type": "application/json", **headers}.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        with self.server.lock:
            self.server.in_flight -= 1

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def stand_in():
    servers = []

    def start(task: str, script=None, delay=0.0) -> StandIn:
        server = StandIn(task, script, delay)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_503_while_waking_from_scale_to_zero_is_retried_with_backoff(stand_in):
    server = stand_in("text-classification", [(503, {}), (503, {}), (503, {})])
    client = DexterClient(Endpoints(narratives=server.url), retry=FAST)
    began = time.monotonic()
    [found] = client.classify_narratives(["Fuel don cost again"])
    assert found.label == "Fuel don cost again" and found.score == 0.75
    assert found.scores == {"Fuel don cost again": 0.75, "other": 0.25}
    assert len(server.bodies) == 4
    assert time.monotonic() - began >= 0.05 + 0.1 + 0.2 * 0.8  # doubling backoff, jittered


def test_429_honours_retry_after_in_the_async_client(stand_in):
    server = stand_in("token-classification", [(429, {"Retry-After": "0.3"})])

    async def call():
        async with AsyncDexterClient(Endpoints(actors=server.url), retry=FAST) as client:
            return await client.extract_actors(["Tinubu visited Kano"])

    began = time.monotonic()
    [[actor]] = asyncio.run(call())
    assert time.monotonic() - began >= 0.3
    assert (actor.text, actor.type, actor.start, actor.end) == ("Tinubu", "PER", 0, 6)
    assert len(server.bodies) == 2


def test_busy_past_the_budget_is_a_clear_error(stand_in):
    server = stand_in("text-classification", [(503, {"Retry-After": "0.2"})] * 50)
    client = DexterClient(Endpoints(narratives=server.url), retry=RetryPolicy(budget=0.5))
    with pytest.raises(EndpointBusy) as caught:
        client.classify_narratives(["x"])
    assert caught.value.status == 503 and server.url in str(caught.value)
    assert "scripted 503" in str(caught.value) and len(server.bodies) == 3


def test_a_refused_input_fails_at_once_with_the_servers_message(stand_in):
    server = stand_in("text-classification", [(422, {})])
    with pytest.raises(InvalidRequest, match="422 scripted 422"):
        DexterClient(Endpoints(narratives=server.url), retry=FAST).classify_narratives(["x"])
    assert len(server.bodies) == 1


def test_no_answer_within_the_timeout(stand_in):
    server = stand_in("text-classification", delay=1.0)
    client = DexterClient(Endpoints(narratives=server.url), timeout=0.2, retry=FAST)
    with pytest.raises(EndpointTimeout, match=server.url):
        client.classify_narratives(["x"])


def test_large_lists_go_in_batches_in_order(stand_in):
    server = stand_in("text-classification", delay=0.02)
    texts = [f"post {i}" for i in range(40)]
    found = DexterClient(Endpoints(narratives=server.url), batch_size=8).classify_narratives(texts)
    assert [p.label for p in found] == texts
    assert len(server.bodies) == 40 and 2 <= server.most_in_flight <= 8


def test_images_are_sent_as_bytes(stand_in, tmp_path):
    server = stand_in("image-classification")
    image = tmp_path / "meme.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    found = DexterClient(Endpoints(memes=server.url)).classify_memes([image, image.read_bytes()])
    assert [p.label for p in found] == ["meme", "meme"]
    assert server.bodies == [image.read_bytes()] * 2


def test_a_model_without_a_url():
    with pytest.raises(NotConfigured, match="no URL for the memes model"):
        DexterClient(Endpoints(narratives="http://127.0.0.1:9")).classify_memes([b"x"])
