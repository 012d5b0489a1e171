"""Run by every Python process of a training run in the AutoTrain runner, at start-up.

torch seeds its default generator at random when imported, and AutoTrain builds the model
(the new classification head: random weights) before its Trainer sets the job's seed, so two
runs of the same job trained different models. With `DEXTER_SEED` set, torch starts from it.
"""

import os

if os.environ.get("DEXTER_SEED"):
    import torch

    torch.manual_seed(int(os.environ["DEXTER_SEED"]))
