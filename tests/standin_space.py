"""A stand-in for the app AutoTrain's Space runs (`autotrain api`), for tests about
detaching from, re-attaching to and stopping a Space rather than about what it trains. It
does what AutoTrain's app does, in the order it does it, against the Hub the Space talks to
(`HF_ENDPOINT`), with the Space's own secrets:

- prints AutoTrain's training lines (`standin_train.train`) for `STANDIN_STEPS` steps of
  `STANDIN_STEP_S` seconds (by default long enough to be stopped);
- pushes `STANDIN_MODEL` (a model folder trained for the same job, such as a shared run's) to
  the private model repo `AUTOTRAIN_USERNAME/PROJECT_NAME`;
- opens the "finished successfully" discussion on its Space, logs "Pausing space..." and
  pauses the Space (AutoTrain's `pause_space`), then waits to be stopped, as a server does.

    autotrain api --port PORT --host 127.0.0.1   (the Space's CMD; the arguments are ignored)
"""

from __future__ import annotations

import os
import time

from huggingface_hub import HfApi
from standin_train import train

SUCCESS = "Your training has finished successfully ✅"


def main() -> None:
    train(
        int(os.environ.get("STANDIN_STEPS", "600")), float(os.environ.get("STANDIN_STEP_S", "0.5"))
    )
    api = HfApi(token=os.environ["HF_TOKEN"])
    repo = f"{os.environ['AUTOTRAIN_USERNAME']}/{os.environ['PROJECT_NAME']}"
    print("INFO     | standin | autotrain.trainers.common - Pushing model to hub...", flush=True)
    api.create_repo(repo, private=True, exist_ok=True)
    api.upload_folder(folder_path=os.environ["STANDIN_MODEL"], repo_id=repo)
    space = os.environ["SPACE_ID"]
    print(
        "INFO     | standin | autotrain.trainers.common:pause_space - Pausing space...", flush=True
    )
    api.create_discussion(repo_id=space, title=SUCCESS, description=repo, repo_type="space")
    api.pause_space(repo_id=space)
    time.sleep(600)


if __name__ == "__main__":
    main()
