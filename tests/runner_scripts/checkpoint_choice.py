"""Run with the AutoTrain runner's python: the TrainingArguments the training script builds
for a checkpoint metric and its direction (as training-options.json gives them), one JSON line
per case.

    python checkpoint_choice.py RUNNER_SCRIPTS_DIR OUTPUT_DIR
"""

import json
import sys

sys.path.insert(0, sys.argv[1])
import train  # the runner's own training script, from its folder
from transformers import TrainingArguments

EPOCHS = {"eval_strategy": "epoch", "save_strategy": "epoch", "load_best_model_at_end": True}
for metric, greater in (("f1_macro", True), ("calibration_error", False), (None, False)):
    made = train._arguments(TrainingArguments, metric, greater, 7)(output_dir=sys.argv[2], **EPOCHS)
    chosen = {"metric": made.metric_for_best_model, "greater": made.greater_is_better}
    print(json.dumps(chosen | {"seeds": [made.seed, made.data_seed]}))
