"""Score one range of a corpus inside an HF Job, then upload its part files in one commit.

Runs with the job image's python, before this toolkit is installed there (standard library
and huggingface_hub only). The job's command has downloaded the prediction's staged folder
at its pinned commit:

    python predict_job.py REPO COMMIT PREFIX WORKDIR INDEX

WORKDIR holds `job.json` (the output repository and path, the rows in all, the number of
jobs, the `predict` options), `model/`, `input/` and `wheel/` (this toolkit, built where the
command was given). The wheel is installed with pip (its dependencies from the image, or
the package index where they are missing); job INDEX of N scores rows
[INDEX * ceil(rows / N), (INDEX + 1) * ceil(rows / N)) with `dexter-auto predict`, without
the token, and uploads the part files, rejects and manifest to `PATH/job-INDEX/` of the
output repository in one commit, announced by a `RESULTS_MARKER` line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

RESULTS_MARKER = "dexter job: results commit "
"""hf_job.py's marker, which the client reads for both kinds of job (each script is staged
and run alone, so neither imports the other)."""
SECRET_VARIABLES = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")


def say(line: str) -> None:
    print(f"dexter job: {line}", flush=True)


def main(repo: str, commit: str, prefix: str, work: Path, index: int) -> int:
    plan = json.loads((work / "job.json").read_text())
    per = -(-plan["rows"] // plan["jobs"])
    first, end = index * per, min(plan["rows"], (index + 1) * per)
    say(f"inputs {repo}@{commit[:12]}/{prefix}: job {index} of {plan['jobs']}, rows {first}:{end}")
    wheels = sorted((work / "wheel").glob("*.whl"))
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         *map(str, wheels)],
        check=True,
    )  # fmt: skip
    out = work / "out"
    command = [
        str(Path(sys.executable).parent / "dexter-auto"), "predict", str(work / "model"),
        "--input", str(work / plan["input"]), "--output", str(out), "--rows", f"{first}:{end}",
        "--runs-dir", str(work / "runs"), *plan["options"],
    ]  # fmt: skip
    env = {name: value for name, value in os.environ.items() if name not in SECRET_VARIABLES}
    code = subprocess.call(command, env=env | {"HF_HUB_OFFLINE": "1"})
    if code != 0 or not (out / "_manifest.json").is_file():
        say(f"predict failed (exit code {code}); nothing uploaded")
        return 1
    from huggingface_hub import HfApi

    path = "/".join(part for part in (plan["output_path"], f"job-{index:03d}") if part)
    info = HfApi().upload_folder(
        repo_id=plan["output_repo"],
        repo_type="dataset",
        folder_path=out,
        path_in_repo=path,
        commit_message=f"Predictions of {plan['model']}: job {index} of {plan['jobs']}",
    )
    print(f"{RESULTS_MARKER}{info.oid}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4]), int(sys.argv[5])))
