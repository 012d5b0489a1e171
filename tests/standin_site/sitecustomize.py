"""Makes a Hub test server job's training the stand-in (tests/standin_train.py).

An HF Job runs the toolkit's `scripts/train.py` with its own interpreter (`sys.executable`),
past any shim on PATH. The stand-in job image (tests/runner_shims.py) puts this folder on
PYTHONPATH, and Python imports this module as it starts: a process about to run
`scripts/train.py` becomes the stand-in instead, with the same arguments.
"""

import os
import sys

STANDIN = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "standin_train.py"
)

if sys.argv and sys.argv[0].replace(os.sep, "/").endswith("scripts/train.py"):
    os.execv(sys.executable, [sys.executable, STANDIN, *sys.argv[1:]])
