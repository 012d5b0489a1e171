"""Benchmark: prepare a 1,000,000-row CSV, against pandas read_csv + train_test_split.

Target (issue 3): read, check, split and fingerprint 1M rows in <= 60 s wall with peak
memory <= 2 GiB. The CSV repeats the shared AfriSenti train tweets (text, label, language).
Both sides run as separate processes so their peak RSS is measured apart.

    .venv/bin/python bench/bench_data.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data" / "sentiment"
TARGET_SECONDS, TARGET_MIB = 60, 2048

BASELINE = """
import sys
import pandas as pd
from sklearn.model_selection import train_test_split
frame = pd.read_csv(sys.argv[1], keep_default_na=False, dtype=str)
strata = frame["label"] + "|" + frame["language"]
rest, test = train_test_split(frame, test_size=0.1, random_state=42, stratify=strata)
train, valid = train_test_split(rest, test_size=0.1 / 0.9, random_state=42,
                                stratify=strata.loc[rest.index])
print(len(train), len(valid), len(test))
"""


def make_csv(path: Path, rows: int) -> None:
    tweets = []
    for language_dir in sorted(SHARED.iterdir()):
        with (language_dir / "train.tsv").open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                tweets.append((row["text"], row["label"], language_dir.name))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label", "language"])
        for index in range(rows):
            writer.writerow(tweets[index % len(tweets)])


def timed(command: list[str], cwd: Path) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MiB and stdout of one process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, text=True)
    output = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command[0]} failed")
    return time.perf_counter() - start, usage.ru_maxrss / 1024, output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        data = work / "tweets.csv"
        make_csv(data, args.rows)
        (work / "job.yaml").write_text(
            "task: text-classification\nbase_model: {path: .}\ndata:\n  sources:\n"
            "    - path: tweets.csv\n  columns: {language: language}\n"
            "  split: {validation: 0.1, test: 0.1, seed: 42}\n"
        )
        dexter = str(Path(sys.executable).parent / "dexter-auto")
        ours, ours_mib, _ = timed(
            [dexter, "data", "check", "job.yaml", "-o", "out", "--json"], work
        )
        theirs, theirs_mib, counts = timed([sys.executable, "-c", BASELINE, str(data)], work)
        size = data.stat().st_size / 2**20
    print(f"input: {args.rows:,} rows, {size:.0f} MiB CSV; machine: {os.cpu_count()} cores")
    rows = [
        ("dexter-auto data check (read, check, split, leakage, write, sha256)", ours, ours_mib),
        ("pandas read_csv + sklearn train_test_split (baseline)", theirs, theirs_mib),
    ]
    print(f"{'pipeline':70} {'wall s':>7} {'peak MiB':>9}")
    for name, seconds, mib in rows:
        print(f"{name:70} {seconds:>7.1f} {mib:>9.0f}")
    print(f"baseline split sizes: {counts.strip()}")
    verdict = "PASS" if ours <= TARGET_SECONDS and ours_mib <= TARGET_MIB else "FAIL"
    print(f"target <= {TARGET_SECONDS} s and <= {TARGET_MIB} MiB: {verdict}")


if __name__ == "__main__":
    main()
