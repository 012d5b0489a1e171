"""Publishing speed (issue 13): `publish_run` against a bare `HfApi().upload_folder`.

Both go to the Hub test server (`dexter_autotrain.testing.HubServer`, a thread of this process,
its data in a temp folder) through the real huggingface_hub client, alternating per repeat:
A. `publish_run` (what `dexter-auto publish RUN` runs; here in this process, through
   `patched_client`) of a MiniLM run (about 90 MB of weights) to a fresh repo
   dexter-ng/bench-minilm-a<i>: whoami, refs, create repo, tree, one commit (preupload, LFS
   batch, PUT, verify, commit), tag, refs;
B. `HfApi().upload_folder` of exactly the files A committed (hard links to the same files,
   and the public spec.yaml and data-report.json A built) to a fresh repo
   dexter-ng/bench-minilm-b<i>, created before the clock starts, in one commit.
The trees of A and B are checked equal (paths and sha256 / git blob ids).
Target: best A / best B <= 1.15 (the median ratio is shown too).
Then `dexter-auto publish RUN --json` of the last A run again, as a subprocess (interpreter
start included): target <= 2 s wall, and 0 LFS bytes and 0 commit calls counted by the
server during it.

The run: by default a fresh one, submitted as bench/bench_train.py does (all-MiniLM-L6-v2,
1 epoch on 1,000 sentiment tweets, a few minutes on CPU, no token so it does not publish
itself); `--run DIR` reuses a carded, non-smoke run instead. Each repeat publishes its own
copy (hub.repo_id set, card written again); the given run is never touched.

    flock /tmp/dexter-heavy.lock .venv/bin/python bench/bench_publish.py [--run DIR]
        [--repeats 3]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from bench_train import DEXTER, git_revision, submit, write_spec

from dexter_autotrain.hub.release import release_files, remote_files
from dexter_autotrain.runs import Run
from dexter_autotrain.testing import HubServer, client_env, patched_client

NAMESPACE = "dexter-ng"
TARGET_RATIO = 1.15
TARGET_AGAIN_SECONDS = 2.0
ROUND_TRIPS = 20


@dataclass(frozen=True)
class Upload:
    """One timed upload and what the server counted during it."""

    seconds: float
    calls: dict[str, int]
    lfs_bytes: int


def fresh_run(folder: Path) -> Path:
    """A carded MiniLM run (as bench_train's comparison submits it), with hub.repo_id set."""
    spec = write_spec(folder, "128")
    data = yaml.safe_load(spec.read_text()) | {"hub": {"repo_id": f"{NAMESPACE}/bench-minilm"}}
    spec.write_text(yaml.safe_dump(data, sort_keys=False))
    os.environ.pop("HF_TOKEN", None)  # no token: the submit's publish stage skips itself
    os.environ["HF_HOME"] = str(folder / "hf-home-submit")
    print("submitting a 1-epoch MiniLM run (no --run given) ...", flush=True)
    measured, state = submit(spec, folder, folder / "logs" / "submit.log")
    print(f"submitted in {measured.seconds:.0f} s: {state['run']}", flush=True)
    return Path(state["run"])


def publishable_copy(source: Path, runs: Path, repo: str) -> Run:
    """A copy of `source` under `runs/<job>/<run-id>` that publishes to `NAMESPACE/repo`."""
    from dexter_autotrain.cards.write import write_card

    state = json.loads((source / "state.json").read_text())
    if state.get("smoke") or "card" not in state.get("completed", []):
        raise SystemExit(f"{source}: not a carded, non-smoke run")
    target = runs / repo / source.name
    shutil.copytree(source, target)
    spec = yaml.safe_load((target / "spec.yaml").read_text())
    spec["hub"] = (spec.get("hub") or {}) | {"repo_id": f"{NAMESPACE}/{repo}"}
    (target / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True))
    run = Run(target)
    write_card(target, run.spec(), Path(state["spec_path"]).parent, None, False)
    return run


def staged(run: Run, folder: Path) -> Path:
    """The files `run` publishes, as a folder: hard links to the run's own files, and the
    public spec.yaml and data-report.json as `release_files` builds them."""
    for path, source in release_files(run.path, run.model_folder().name).items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(source, bytes):
            (folder / path).write_bytes(source)
        else:
            os.link(source, folder / path)
    return folder


def counted(hub: HubServer, action: Any) -> Upload:
    """Time `action()` and read the server's counters for it alone."""
    hub.stats.reset()
    start = time.perf_counter()
    action()
    seconds = time.perf_counter() - start
    snapshot = hub.stats.snapshot()
    return Upload(seconds, snapshot["calls"], hub.stats.lfs_bytes)


def tree_ids(repo_id: str) -> dict[str, str]:
    """Path -> sha256 (LFS) or git blob id of the main branch of `repo_id`."""
    from huggingface_hub import HfApi

    files = remote_files(HfApi(), repo_id, "main")
    return {path: entry.lfs.sha256 if entry.lfs else entry.blob_id for path, entry in files.items()}


def one_repeat(hub: HubServer, source: Path, folder: Path, index: int) -> tuple[Upload, Upload]:
    """A: publish_run of a fresh copy; B: upload_folder of the same files to another repo."""
    from huggingface_hub import HfApi

    from dexter_autotrain.hub.publish import publish_run

    run = publishable_copy(source, folder / "runs", f"bench-minilm-a{index}")
    published = counted(hub, lambda: publish_run(run))
    files = staged(run, folder / f"staged-{index}")
    api, repo_b = HfApi(), f"{NAMESPACE}/bench-minilm-b{index}"
    api.create_repo(repo_b, private=True)
    bare = counted(
        hub,
        lambda: api.upload_folder(
            repo_id=repo_b, folder_path=files, commit_message="bare upload_folder"
        ),
    )
    if tree_ids(repo_b) != tree_ids(str(run.spec().hub.repo_id)):
        raise SystemExit(f"repeat {index + 1}: {repo_b} does not hold the files A published")
    return published, bare


def publish_again(hub: HubServer, run: Path, home: Path) -> tuple[Upload, dict[str, Any]]:
    """`dexter-auto publish RUN --json` of an already published run, as a subprocess."""
    env = {**os.environ, **hub.client_env(home)}
    command = [DEXTER, "publish", str(run), "--runs-dir", str(run.parent.parent), "--json"]
    done: list[subprocess.CompletedProcess[str]] = []
    again = counted(
        hub, lambda: done.append(subprocess.run(command, env=env, capture_output=True, text=True))
    )
    if done[0].returncode != 0:
        raise SystemExit(f"publish again exited {done[0].returncode}:\n{done[0].stderr[-3000:]}")
    return again, json.loads(done[0].stdout)


def sha256_seconds(files: Path) -> tuple[float, int]:
    """One sha256 pass over the staged files (what a commit must hash): seconds, bytes."""
    start, size = time.perf_counter(), 0
    for path in sorted(p for p in files.rglob("*") if p.is_file()):
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
                size += len(chunk)
    return time.perf_counter() - start, size


def round_trip_seconds(repo_id: str) -> float:
    """The median time of one small authenticated call (list refs) to the server."""
    from huggingface_hub import HfApi

    api, times = HfApi(), []
    for _ in range(ROUND_TRIPS):
        start = time.perf_counter()
        api.list_repo_refs(repo_id)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def print_table(ways: dict[str, list[Upload]]) -> None:
    repeats = len(ways["A"])
    heads = [f"rep {i + 1}" for i in range(repeats)] + ["best", "median", "MB/s", "calls", "LFS MB"]
    print(f"   {'way':<24}" + "".join(f"{head:>9}" for head in heads))
    names = {"A": "A publish_run", "B": "B upload_folder"}
    for key, uploads in ways.items():
        seconds = [upload.seconds for upload in uploads]
        cells = [f"{s:.2f}" for s in seconds] + [f"{min(seconds):.2f}"]
        cells += [f"{statistics.median(seconds):.2f}"]
        cells += [f"{uploads[-1].lfs_bytes / 1e6 / min(seconds):.0f}"]
        cells += [str(sum(uploads[-1].calls.values())), f"{uploads[-1].lfs_bytes / 1e6:.1f}"]
        print(f"   {names[key]:<24}" + "".join(f"{cell:>9}" for cell in cells))
    for key, uploads in ways.items():
        calls = ", ".join(f"{route} {n}" for route, n in sorted(uploads[-1].calls.items()))
        print(f"   {names[key]} calls (last repeat): {calls}")


def print_verdicts(ways: dict[str, list[Upload]]) -> float:
    """Print and return the best-of ratio A / B."""
    best = {key: min(u.seconds for u in uploads) for key, uploads in ways.items()}
    median = {key: statistics.median(u.seconds for u in uploads) for key, uploads in ways.items()}
    ratio = best["A"] / best["B"]
    print(f"   median A / median B: {median['A'] / median['B']:.3f}")
    print(
        f"   best A / best B: {ratio:.3f} (target <= {TARGET_RATIO}): "
        f"{'PASS' if ratio <= TARGET_RATIO else 'FAIL'}"
    )
    return ratio


def print_breakdown(ways: dict[str, list[Upload]], hashing: tuple[float, int], rtt: float) -> None:
    """What the time went to: hashing, round trips, and the rest (the LFS PUT and the
    server's writing and verifying of it)."""
    seconds, size = hashing
    best = {key: min(u.seconds for u in uploads) for key, uploads in ways.items()}
    calls = {key: sum(uploads[-1].calls.values()) for key, uploads in ways.items()}
    print(
        f"   where the time goes: one sha256 pass over the {size / 1e6:.1f} MB takes "
        f"{seconds:.2f} s (the client hashes before preupload; the server hashes again as the "
        f"PUT arrives); one round trip {rtt * 1000:.1f} ms, so B's {calls['B']} calls take "
        f"~{calls['B'] * rtt:.2f} s and A's {calls['A'] - calls['B']} extra calls "
        f"(whoami, refs, create repo, tree, tag) ~{(calls['A'] - calls['B']) * rtt:.2f} s; "
        f"the rest of B ({best['B'] - seconds - calls['B'] * rtt:.2f} s) is the LFS PUT of "
        "the weights and the server storing and verifying them; A - B = "
        f"{best['A'] - best['B']:.2f} s"
    )


def print_again(again: Upload, result: dict[str, Any]) -> None:
    commits = again.calls.get("commit", 0)
    calls = ", ".join(f"{route} {n}" for route, n in sorted(again.calls.items()))
    print(
        f"   publish again (dexter-auto publish --json, subprocess): {again.seconds:.2f} s "
        f"(target <= {TARGET_AGAIN_SECONDS}): "
        f"{'PASS' if again.seconds <= TARGET_AGAIN_SECONDS else 'FAIL'}; new_commit "
        f"{result['new_commit']}"
    )
    print(
        f"   during it the server counted {again.lfs_bytes} LFS bytes and {commits} commit calls "
        f"(target 0 and 0): {'PASS' if again.lfs_bytes == 0 and commits == 0 else 'FAIL'}; "
        f"calls: {calls}"
    )


def bench(source: Path, folder: Path, repeats: int) -> None:
    with (
        HubServer(data_dir=folder / "hub-data") as hub,
        patched_client(client_env(hub.url, folder / "hf-home")),
    ):
        ways: dict[str, list[Upload]] = {"A": [], "B": []}
        for index in range(repeats):
            published, bare = one_repeat(hub, source, folder, index)
            ways["A"].append(published)
            ways["B"].append(bare)
            print(f"   repeat {index + 1}: A {published.seconds:.2f} s, B {bare.seconds:.2f} s")
        last = folder / "runs" / f"bench-minilm-a{repeats - 1}" / source.name
        again, result = publish_again(hub, last, folder / "hf-home")
        hashing = sha256_seconds(folder / f"staged-{repeats - 1}")
        rtt = round_trip_seconds(f"{NAMESPACE}/bench-minilm-a0")
    print_table(ways)
    print_verdicts(ways)
    print_breakdown(ways, hashing, rtt)
    print_again(again, result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, help="a carded, non-smoke run to publish (copied)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"bench_publish on {os.cpu_count()} CPUs, python {sys.version.split()[0]}")
    print(f"{git_revision()}\n", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-publish-") as name:
        folder = Path(name)
        source = args.run.resolve() if args.run else fresh_run(folder / "train")
        size = sum(p.stat().st_size for p in source.rglob("*") if p.is_file())
        print(
            f"publishing {source} ({size / 1e6:.0f} MB in the run folder) to the Hub test "
            f"server at {folder / 'hub-data'}: A publish_run, B upload_folder, alternating",
            flush=True,
        )
        bench(source, folder, args.repeats)


if __name__ == "__main__":
    main()
