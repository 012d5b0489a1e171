"""Run inside the AutoTrain runner, from a run directory: let AutoTrain 0.8.36 load the
prepared data exactly as `autotrain --config` would before training, and report what it got.

Prints `LOADED ` and one JSON object: rows and columns per split of the dataset AutoTrain
saved for its trainer, and the class names it found.
"""

import json
import sys

from autotrain.parser import AutoTrainConfigParser
from datasets import load_from_disk

parser = AutoTrainConfigParser(sys.argv[1])
params = parser.task_param_map[parser.task](**parser.parsed_config)
params = parser.munge_data_map[parser.task](params, local=True)
dataset = load_from_disk(params.data_path)
label_column = "autotrain_label"
feature = dataset["train"].features[label_column]
names = feature.names if hasattr(feature, "names") else feature.feature.names
print(
    "LOADED "
    + json.dumps(
        {
            "splits": {
                name: {"rows": split.num_rows, "columns": sorted(split.column_names)}
                for name, split in dataset.items()
            },
            "labels": names,
        }
    )
)
