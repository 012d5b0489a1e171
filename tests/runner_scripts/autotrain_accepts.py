"""Run inside the AutoTrain runner: parse configs with AutoTrain 0.8.36's own parser.

For each config path given, print `ACCEPTED ` and one JSON line: the task AutoTrain
resolved, its backend, the validated params, and any keys its params class does not know
(AutoTrain only warns about those; we treat them as failures).
"""

import json
import sys

from autotrain.backends.base import AVAILABLE_HARDWARE
from autotrain.parser import AutoTrainConfigParser

for config_path in sys.argv[1:]:
    parser = AutoTrainConfigParser(config_path)
    params_class = parser.task_param_map[parser.task]
    params = params_class(**parser.parsed_config)
    print(
        "ACCEPTED "
        + json.dumps(
            {
                "config": config_path,
                "task": parser.task,
                "backend": parser.backend,
                "backend_known": parser.backend in AVAILABLE_HARDWARE,
                "params_class": params_class.__name__,
                "unknown_keys": sorted(set(parser.parsed_config) - set(params_class.model_fields)),
                "params": json.loads(params.model_dump_json()),
            }
        )
    )
