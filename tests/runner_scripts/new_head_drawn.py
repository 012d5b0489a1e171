"""Run with any python that has torch and transformers: load a headless base model for
sequence classification through the training script's `seeded_heads`, and print one JSON
line per seed: transformers' version, a digest of the new head, and a digest of every other
weight.

    python new_head_drawn.py RUNNER_SCRIPTS_DIR BASE_MODEL_DIR SEED...
"""

import hashlib
import json
import sys

sys.path.insert(0, sys.argv[1])
import transformers
from new_head import seeded_heads  # the runner's own module, from its folder
from transformers import AutoModelForSequenceClassification


def digest(tensors) -> str:
    hashed = hashlib.sha256()
    for tensor in tensors:
        hashed.update(tensor.detach().contiguous().numpy().tobytes())
    return hashed.hexdigest()


for seed in map(int, sys.argv[3:]):
    model = seeded_heads(AutoModelForSequenceClassification, seed).from_pretrained(
        sys.argv[2], num_labels=3
    )
    weights = dict(model.named_parameters())
    head = [weights.pop("classifier.weight"), weights.pop("classifier.bias")]
    described = {
        "transformers": transformers.__version__,
        "head": digest(head),
        "head_std": float(head[0].std()),
        "bias_zero": bool((head[1] == 0).all()),
        "rest": digest(weights[name] for name in sorted(weights)),
    }
    print(json.dumps(described), flush=True)
