"""`dexter-auto serve` as Inference Endpoints: huggingface_hub's InferenceClient and
dexter_autotrain.client against real servers of smoke-trained models, for the three tasks,
with the labels `evaluate` predicted; bad requests, the bounded queue, the bearer token,
graceful shutdown, the prediction log, and the FastAPI example service.

One module fixture trains a smoke model per task (the only training here) and serves each.
"""

from __future__ import annotations

import base64
import http.client
import importlib.util
import io
import json
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import urlopen

import numpy as np
import pytest
from conftest import REPO, SHARED_DATA, group_members, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from seqeval.metrics.sequence_labeling import get_entities
from serve_fuzzing import fuzzed_requests
from serve_requests import png_declaring, post_raw

from dexter_autotrain.client import DexterClient, Endpoints
from dexter_autotrain.serve.answers import entities, split_words
from dexter_autotrain.serve.launch import ServeProcess, start_serve

pytestmark = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data is absent")
TOKEN = "serve-test-bearer"  # not an HF token: the server's own (DEXTER_SERVE_TOKEN)
FUZZED_REQUESTS = int(os.environ.get("DEXTER_FUZZ_REQUESTS", "250"))
"""Fuzzed requests per task: 750 in all in the suite; `make fuzz` sends 2,000 a task."""
MAX_RESIDENT_BYTES = 1.5 * 1024**3
RECIPES = {
    "text-classification": "sentiment",
    "token-classification": "ner",
    "image-classification": "memes",
}
"""The suite's shared run (tests/trained_runs.py) served for each task."""


@pytest.fixture(scope="module")
def runs(trained, tmp_path_factory) -> dict[str, Path]:
    """A smoke-trained, evaluated run per task (copies of the suite's shared runs: AfriSenti
    hau + pcm, MasakhaNER Hausa, the memes sample)."""
    folder = tmp_path_factory.mktemp("serve")
    return {task: trained.copy(name, folder) for task, name in RECIPES.items()}


@pytest.fixture(scope="module")
def served(runs, tmp_path_factory):
    """A server per task, stopped gracefully after; the text one has two inference workers
    and logs its predictions (a worker costs ~4 CPU-seconds of imports: one is enough for
    the other tasks)."""
    logs = tmp_path_factory.mktemp("prediction-log")
    options = {"text-classification": ("--workers", "2", "--log-predictions", str(logs))}
    with ThreadPoolExecutor(3) as pool:
        servers = pool.map(lambda task: start_serve(runs[task], *options.get(task, ())), runs)
        started: dict = dict(zip(runs, servers, strict=True))
    started["logs"] = logs
    yield started
    for task in runs:
        assert started[task].stop() == 0


def _rows(run: Path, name: str) -> list[dict]:
    return [json.loads(line) for line in (run / name).open(encoding="utf-8")]


def _parallel(function, items) -> list:
    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(function, items))


def test_text_classification_parity_with_evaluate(runs, served):
    from huggingface_hub import InferenceClient

    run, url = runs["text-classification"], served["text-classification"].url
    texts = [row["text"] for row in _rows(run, "data/test.jsonl")]
    evaluated = [row["prediction"] for row in _rows(run, "predictions.jsonl")]
    predicted = DexterClient(Endpoints(narratives=url)).classify_narratives(texts)
    assert [p.label for p in predicted] == evaluated and len(texts) == 200

    client = InferenceClient(base_url=url)
    everything = client.text_classification(texts[0])
    assert everything[0].label == evaluated[0]
    assert sorted(e.label for e in everything) == ["negative", "neutral", "positive"]
    assert sum(e.score for e in everything) == pytest.approx(1.0)
    [best] = client.text_classification(texts[0], top_k=1, function_to_apply="sigmoid")
    assert best.label == evaluated[0] and 0 < best.score < 1


def test_token_classification_parity_with_evaluate(runs, served):
    from huggingface_hub import InferenceClient

    run, url = runs["token-classification"], served["token-classification"].url
    sentences = [row["tokens"] for row in _rows(run, "data/test.jsonl")]
    evaluated = [row["prediction"] for row in _rows(run, "predictions.jsonl")]
    texts = [" ".join(words) for words in sentences]
    client = InferenceClient(base_url=url)
    # every word with its tag: the evaluation's tags, word for word
    tagged = _parallel(
        lambda text: client.token_classification(
            text, aggregation_strategy="none", ignore_labels=[]
        ),
        texts,
    )
    assert [[w.entity for w in words] for words in tagged] == evaluated
    for text, words in zip(texts, tagged, strict=True):
        assert all(text[w.start : w.end] == w.word for w in words)
    # entities, grouped as seqeval (the evaluation's metrics) reads the tags
    actors = DexterClient(Endpoints(actors=url)).extract_actors(texts)
    for text, words, tags, found in zip(texts, sentences, evaluated, actors, strict=True):
        starts = [len(" ".join(words[:i])) + (i > 0) for i in range(len(words))]
        expected = [
            (kind, starts[first], starts[last] + len(words[last]))
            for kind, first, last in get_entities(tags)
        ]
        assert [(a.type, a.start, a.end) for a in found] == expected
        assert all(text[a.start : a.end] == a.text and 0 < a.score <= 1 for a in found)


def test_image_classification_parity_with_evaluate(runs, served):
    from huggingface_hub import InferenceClient

    run, url = runs["image-classification"], served["image-classification"].url
    images = [run / "data" / row["image"] for row in _rows(run, "data/test.jsonl")]
    evaluated = [row["prediction"] for row in _rows(run, "predictions.jsonl")]
    predicted = DexterClient(Endpoints(memes=url)).classify_memes(images)
    assert [p.label for p in predicted] == evaluated and len(images) == 18

    client = InferenceClient(base_url=url)
    as_bytes = client.image_classification(images[0].read_bytes())  # raw bytes
    [as_json] = client.image_classification(images[0], top_k=1)  # base64 JSON with parameters
    assert as_bytes[0].label == as_json.label == evaluated[0]
    assert as_bytes[0].score == pytest.approx(as_json.score)


@pytest.mark.parametrize("task", list(RECIPES))
def test_the_deploy_parity_check_reads_every_task(runs, served, task):
    """`deploy`'s smoke and parity test (hub.parity) against a server of each task: every
    answer equals the run's prediction, and a prediction changed in the run is caught."""
    from dexter_autotrain.hub.parity import Example, check_parity, parity_examples

    examples = parity_examples(runs[task], task, "test", 12)
    parity = check_parity(served[task].url, None, task, examples)
    assert (parity.compared, parity.matching, parity.mismatch) == (12, 12, None)
    changed = Example(examples[3].inputs, _another_answer(examples[3].expected))
    parity = check_parity(served[task].url, None, task, [*examples[:3], changed])
    assert (parity.compared, parity.matching) == (4, 3)
    assert parity.mismatch is not None and parity.mismatch.startswith("example 3: ")


def _another_answer(expected):
    """A prediction other than `expected`: another label, or a person tag on the first word."""
    if isinstance(expected, list):  # tags per word
        return ["B-PER" if expected[0] != "B-PER" else "B-LOC", *expected[1:]]
    return "not-a-label"


def test_health_and_info(runs, served):
    import httpx2

    for task, run in runs.items():
        url = served[task].url
        assert httpx2.get(f"{url}/health").status_code == 200
        info = httpx2.get(f"{url}/info").json()
        state = json.loads((run / "state.json").read_text())
        assert info["task"] == task and info["revision"] == state["run_id"]
        config = json.loads((run / state["model_dir"] / "config.json").read_text())
        assert info["labels"] == [config["id2label"][str(i)] for i in range(len(info["labels"]))]


JSON_HEADERS = {"content-type": "application/json"}


def _post(url: str, body: bytes, headers: dict | None = None) -> tuple[int, dict, dict]:
    """POST as `post_raw` does, JSON by default; the answer's body parsed."""
    status, reply_headers, answer = post_raw(
        url, body, JSON_HEADERS if headers is None else headers
    )
    return status, reply_headers, json.loads(answer or b"{}")


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"", 400, "body: empty"),
        (b"{not json", 400, "body: not valid JSON"),
        (b'["x"]', 422, "must be a JSON object with `inputs`"),
        (b'{"inputs": 3}', 422, "inputs: must be a string, not int"),
        (b'{"inputs": []}', 422, "inputs: give 1 to 256 inputs (got 0)"),
        (b'{"inputs": "x", "parameters": {"top_k": 0}}', 422, "parameters.top_k: must be a"),
        (b'{"inputs": "x", "parameters": {"stride": 2}}', 422, "parameters.stride: not supported"),
        (b'{"inputs": "x", "parameters": {"function_to_apply": "max"}}', 422, "one of softmax"),
        (b'{"inputs": "x", "parameters": {"top_k": 1001}}', 422, "from 1 to 1000"),
        (b'{"inputs": ["ok", "\\ud800"]}', 422, "inputs[1]: not valid Unicode (a lone surrogate"),
        (b"[" * 100_000 + b"]" * 100_000, 400, "nested deeper than 16 levels"),
        (b'{"inputs": ' + b"[" * 17 + b"]" * 17 + b"}", 400, "nested deeper than 16 levels"),
        (json.dumps({"inputs": "x" * 100_001}).encode(), 422, "at most 100,000 (cut it)"),
        (json.dumps({"inputs": ["x" * 99_999] * 11}).encode(), 422, "at most 1,000,000 a request"),
    ],
)
def test_bad_requests_name_the_problem(served, body, status, message):
    got, _, payload = _post(served["text-classification"].url, body)
    assert got == status and message in payload["error"]


def test_one_bad_query_does_not_fail_its_batch(runs):
    """A query the model fails on (a lone surrogate, past the request checks here) gets its
    own refusal; the other queries of its batch are answered as if it had not been there."""
    from dexter_autotrain.serve.app import ModelAPI, ServeOptions
    from dexter_autotrain.serve.model import resolve_model
    from dexter_autotrain.serve.protocol import Query, Refused

    model = resolve_model(str(runs["text-classification"]), Path("runs"), print)
    api = ModelAPI(model, ServeOptions(max_batch_size=4))
    interrupt = signal.getsignal(signal.SIGINT)
    api.setup("cpu")  # a worker's setup: it also ignores SIGINT, as the workers do
    signal.signal(signal.SIGINT, interrupt)
    good, bad = Query(["Na wa o"]), Query(["\ud800"])
    alone = api.predict([good])
    answers = api.predict([good, bad, good])
    assert answers[0] == answers[2] == alone[0] and isinstance(answers[1], Refused)
    assert answers[1].message.startswith("inputs: the model could not read this input")


def test_a_huge_ignore_labels_list_costs_nothing(served):
    labels = json.dumps({"inputs": "Tinubu", "parameters": {"ignore_labels": ["O"] * 10**6}})
    began = time.monotonic()
    status, _, payload = _post(served["token-classification"].url, labels.encode())
    assert status == 422 and "at most 64 labels" in payload["error"]
    assert time.monotonic() - began < 5


@pytest.mark.parametrize(
    ("headers", "status", "message"),
    [
        ({"content-type": "text/plain"}, 415, "send it as application/json (got text/plain)"),
        ({}, 415, "got no content type"),
        ({**JSON_HEADERS, "origin": "https://evil.example"}, 403, "cross-site"),
        ({**JSON_HEADERS, "origin": "null"}, 403, "cross-site"),
        ({**JSON_HEADERS, "host": "rebound.evil.example"}, 421, "loopback only"),
    ],
)
def test_a_web_page_cannot_reach_the_server(served, headers, status, message):
    """A cross-site form or fetch (text/plain, an Origin) and a DNS-rebinding name (a foreign
    Host on loopback) are refused before they reach a route."""
    got, _, payload = _post(served["text-classification"].url, b'{"inputs": "x"}', headers)
    assert got == status and message in payload["error"]


def test_bad_images_and_oversize_bodies(served):
    url = served["image-classification"].url
    status, _, payload = _post(url, b"GIF89a broken", {"content-type": "image/gif"})
    assert status == 400 and payload["error"].startswith("body: not an image")
    broken = json.dumps({"inputs": base64.b64encode(b"nope").decode()}).encode()
    status, _, payload = _post(url, broken, {"content-type": "application/json"})
    assert status == 422 and payload["error"].startswith("inputs: not an image")
    status, _, payload = _post(url, b"x" * 10, {"content-length": str(64 * 1024 * 1024)})
    assert status == 413 and "over 16777216 bytes" in payload["error"]


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (png_declaring(10_000, 8_800), "10000x8800 is over 16,000,000 pixels"),
        (png_declaring(100_000, 100_000), "decompression bomb"),
        (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n", "not an image of"),
        (b"II*\x00" + bytes(64), "not an image of a served format"),  # TIFF
    ],
)
def test_hostile_images_are_refused_before_decoding(served, image, message):
    """Only PNG, JPEG, WEBP, GIF and BMP reach a decoder (EPS would run Ghostscript), and
    an image's declared size is checked before its pixels are."""
    url = served["image-classification"].url
    status, _, payload = _post(url, image, {"content-type": "application/octet-stream"})
    assert status == 400 and message in payload["error"]
    as_json = json.dumps({"inputs": [base64.b64encode(image).decode()]}).encode()
    status, _, payload = _post(url, as_json)
    assert status == 422 and payload["error"].startswith("inputs[0]: ")


def test_a_request_holds_a_pixel_budget(served):
    """Five blank 4000 x 4000 images: each within the per-image budget, together over the
    request's."""
    from PIL import Image

    blank = io.BytesIO()
    Image.new("L", (4000, 4000)).save(blank, "PNG")
    body = json.dumps({"inputs": [base64.b64encode(blank.getvalue()).decode()] * 5}).encode()
    status, _, payload = _post(served["image-classification"].url, body)
    assert status == 422 and payload["error"].startswith("inputs[4]: ")
    assert "over 64,000,000 pixels" in payload["error"]


def test_predictions_are_logged_as_jsonl(served):
    DexterClient(Endpoints(narratives=served["text-classification"].url)).classify_narratives(
        ["logged text"]
    )
    rows = [json.loads(line) for path in served["logs"].glob("*.jsonl") for line in path.open()]
    [row] = [row for row in rows if row["input"] == "logged text"]
    assert row["task"] == "text-classification" and row["prediction"][0]["label"]


def test_the_fastapi_example_service(served):
    from fastapi.testclient import TestClient

    spec = importlib.util.spec_from_file_location("example", REPO / "examples/fastapi_service.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    urls = Endpoints(
        narratives=served["text-classification"].url, actors=served["token-classification"].url
    )
    posts = [{"id": "1", "text": "Tinubu ya ziyarci Kano jiya"}, {"id": "2", "text": "Na wa o"}]
    with TestClient(example.create_app(urls)) as service:
        reply = service.post("/v1/posts/analyse", json={"posts": posts})
        assert service.post("/v1/posts/analyse", json={"posts": []}).status_code == 422
    assert reply.status_code == 200, reply.text
    direct = DexterClient(urls).classify_narratives([post["text"] for post in posts])
    answered = reply.json()["posts"]
    assert [p["narrative"] for p in answered] == [p.label for p in direct]
    assert [p["id"] for p in answered] == ["1", "2"]
    for post, answer in zip(posts, answered, strict=True):
        assert all(post["text"][a["start"] : a["end"]] == a["text"] for a in answer["actors"])


def test_beyond_loopback_without_a_token_is_refused(runs):
    result = run_cli("serve", runs["text-classification"], "--host", "0.0.0.0")
    assert result.code == 2 and "DEXTER_SERVE_TOKEN" in result.stderr and not result.stdout
    short = {"DEXTER_SERVE_TOKEN": "letmein"}
    result = run_cli("serve", runs["text-classification"], "--host", "0.0.0.0", env=short)
    assert (
        result.code == 2 and "is 7 characters" in result.stderr and "at least 16" in result.stderr
    )
    assert not result.stdout


def test_the_prediction_log_is_private_and_follows_no_link(runs, served, tmp_path):
    """The log folder is 0700 and its files 0600; a link planted where the log writes is
    not followed (the write fails, the link's target is untouched); a linked log folder is
    refused before the server starts."""
    from dexter_autotrain.serve.model import resolve_model
    from dexter_autotrain.serve.prediction_log import PredictionLog
    from dexter_autotrain.serve.protocol import Query

    logs = served["logs"]
    assert (logs.stat().st_mode & 0o777, (logs / "images").stat().st_mode & 0o777) == (0o700,) * 2
    assert {path.stat().st_mode & 0o777 for path in logs.glob("*.jsonl")} == {0o600}

    target = tmp_path / "authorized_keys"
    target.write_text("ssh-ed25519 AAAA operator\n")
    folder = tmp_path / "planted"
    log = PredictionLog(folder, resolve_model(str(runs["text-classification"]), tmp_path, print))
    day = time.strftime("%Y%m%d", time.gmtime())
    (folder / f"predictions-{day}-w{log.worker}.jsonl").symlink_to(target)
    with pytest.raises(OSError):
        log.write([Query(["x"])], [[{"label": "neutral", "score": 1.0}]])
    assert target.read_text() == "ssh-ed25519 AAAA operator\n"

    (tmp_path / "linked").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    result = run_cli("serve", runs["text-classification"], "--log-predictions", tmp_path / "linked")
    assert result.code == 2 and "not a folder (or a link)" in result.stderr and not result.stdout
    assert not (tmp_path / "elsewhere").exists()


@pytest.fixture(scope="module")
def guarded(runs) -> ServeProcess:
    """The text model's folder served on every interface with a token, a queue of one,
    batches that wait a second to fill and bodies that may take two seconds to arrive."""
    run = runs["text-classification"]
    model_dir = run / json.loads((run / "state.json").read_text())["model_dir"]
    env = {**os.environ, "DEXTER_SERVE_TOKEN": TOKEN}
    options = (
        "--host",
        "0.0.0.0",
        "--max-queue",
        "1",
        "--batch-timeout",
        "1",
        "--body-timeout",
        "2",
    )
    served = start_serve(model_dir, *options, "--max-batch-size", "64", env=env)
    yield served
    served.stop()


def test_a_bearer_token_is_required(guarded):
    import httpx2
    from huggingface_hub import InferenceClient
    from huggingface_hub.errors import HfHubHTTPError

    assert httpx2.get(f"{guarded.url}/health").status_code == 200  # probes need no token
    assert httpx2.get(f"{guarded.url}/info").status_code == 401
    with pytest.raises(HfHubHTTPError) as refused:
        InferenceClient(base_url=guarded.url, token="wrong").text_classification("x")
    assert refused.value.response.status_code == 401
    [best] = InferenceClient(base_url=guarded.url, token=TOKEN).text_classification("x", top_k=1)
    info = httpx2.get(f"{guarded.url}/info", headers={"authorization": f"Bearer {TOKEN}"}).json()
    assert best.label in info["labels"] and info["revision"] is None  # a bare model folder


def test_a_full_queue_answers_503_with_retry_after(guarded):
    headers = {"authorization": f"Bearer {TOKEN}", "content-type": "application/json"}
    first = threading.Thread(target=_post, args=(guarded.url, b'{"inputs": "a"}', headers))
    first.start()
    time.sleep(0.3)  # the first request now waits a second for its batch to fill
    status, reply_headers, payload = _post(guarded.url, b'{"inputs": "b"}', headers)
    first.join()
    assert status == 503 and reply_headers["retry-after"] == "1"
    assert "1 requests in flight" in payload["error"]


def test_a_slow_body_holds_no_slot_and_is_cut_off(guarded):
    """A client that sends its body slowly waits outside the queue (of one here), so others
    are answered meanwhile, and is answered 408 once the body timeout passes."""
    headers = {"authorization": f"Bearer {TOKEN}", "content-type": "application/json"}
    parts = urlsplit(guarded.url)
    slow = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    slow.putrequest("POST", "/")
    for key, value in {**headers, "content-length": "100"}.items():
        slow.putheader(key, value)
    slow.endheaders(b'{"inputs": ')
    began = time.monotonic()
    assert _post(guarded.url, b'{"inputs": "meanwhile"}', headers)[0] == 200
    reply = slow.getresponse()
    assert reply.status == 408 and "not sent within 2 s" in json.loads(reply.read())["error"]
    assert 1.5 < time.monotonic() - began < 10
    slow.close()


def test_sigterm_finishes_the_request_in_flight_then_exits(guarded):
    headers = {"authorization": f"Bearer {TOKEN}", "content-type": "application/json"}
    answers = []
    request = threading.Thread(
        target=lambda: answers.append(_post(guarded.url, b'{"inputs": "last"}', headers))
    )
    request.start()
    time.sleep(0.3)
    began = time.monotonic()
    assert guarded.stop() == 0
    request.join()
    assert answers[0][0] == 200 and time.monotonic() - began < 20


@given(
    st.lists(st.sampled_from(["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "I-ORG"]), max_size=12),
    st.lists(st.sampled_from([" ", "  ", "\t"]), min_size=12, max_size=12),
)
def test_entities_group_tags_as_seqeval_with_character_offsets(tags, spaces):
    """The served entities of any tag sequence are seqeval's, at the words' offsets, however
    the words are spaced (the smoke model above tags every word O)."""
    words = [f"w{i}" for i in range(len(tags))]
    text = "".join(space + word for space, word in zip(spaces, words, strict=False))
    split = split_words(text)
    logits = np.eye(len(tags), 3)  # any scores
    found = entities(split, tags, logits, text, "simple", ("O",))
    expected = [
        (kind, split[first].start, split[last].end) for kind, first, last in get_entities(tags)
    ]
    assert [(e["entity_group"], e["start"], e["end"]) for e in found] == expected
    assert all(text[e["start"] : e["end"]] == e["word"] for e in found)


def test_a_published_model_is_served_pinned_to_its_commit(runs, served, hub, tmp_path):
    from huggingface_hub import HfApi, InferenceClient

    run = runs["text-classification"]
    model_dir = run / json.loads((run / "state.json").read_text())["model_dir"]
    text = "Wannan shine karo na farko"
    api = HfApi()
    api.create_repo("dexter-ng/narrative-served")
    commit = api.upload_folder(repo_id="dexter-ng/narrative-served", folder_path=model_dir)
    published = start_serve(
        "hub:dexter-ng/narrative-served@main", "--runs-dir", str(tmp_path / "runs")
    )
    try:
        info = json.loads(urlopen(f"{published.url}/info").read())
        answer = InferenceClient(base_url=published.url).text_classification(text)
    finally:
        assert published.stop() == 0
    assert info["revision"] == commit.oid and info["model"] == "dexter-ng/narrative-served"
    assert (tmp_path / "runs" / ".hub-models" / f"narrative-served-{commit.oid[:12]}").is_dir()
    local = InferenceClient(base_url=served["text-classification"].url).text_classification(text)
    assert answer == local


@pytest.mark.parametrize("task", list(RECIPES))
def test_fuzzed_requests_never_get_a_5xx(served, task):
    """Property-based fuzzing (tests/serve_fuzzing.py) of each task's two-worker server:
    whatever arrives, the answer is never a 5xx, `/health` answers throughout, and every
    process of the server keeps its resident memory under 1.5 GB. `DEXTER_FUZZ_REQUESTS`
    sets the requests per task (`make fuzz`: 2,000); the examples are derandomized, so the
    suite sends the same requests every time."""
    import httpx2

    url, sent = served[task].url, []

    @settings(
        max_examples=FUZZED_REQUESTS,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(fuzzed_requests(task))
    def one_request(request: tuple[bytes, str]) -> None:
        body, content_type = request
        headers = {"content-type": content_type} if content_type else {}
        status, _, answer = post_raw(url, body, headers)
        sent.append(status)
        assert status < 500, (status, answer[:300], body[:200], content_type)
        if status == 200:
            assert isinstance(json.loads(answer), (list, dict))
        if len(sent) % 50 == 0:
            assert httpx2.get(f"{url}/health").status_code == 200

    one_request()
    assert httpx2.get(f"{url}/health").status_code == 200
    assert len(sent) >= FUZZED_REQUESTS * 0.9 and sent.count(200) >= len(sent) // 10
    assert any(400 <= status < 500 for status in sent)
    resident = {pid: _resident_bytes(pid) for pid in group_members(served[task].process.pid)}
    assert all(size < MAX_RESIDENT_BYTES for size in resident.values()), (task, resident)
    statuses = ", ".join(f"{code}: {sent.count(code)}" for code in sorted(set(sent)))
    largest = max(resident.values()) / 2**20
    print(f"\n{task}: {len(sent)} fuzzed requests ({statuses}); the largest of "
          f"{len(resident)} processes holds {largest:.0f} MiB")  # fmt: skip


def _resident_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0
