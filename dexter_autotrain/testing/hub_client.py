"""Pointing the real huggingface_hub client at the Hub test server.

huggingface_hub reads `HF_ENDPOINT`, `HF_HUB_DISABLE_XET`, `HF_HOME`, `HF_HUB_OFFLINE` ... into
`huggingface_hub.constants` when it is imported. Two ways work:

- a subprocess started with `client_env(...)` merged into its environment (what the CLI and
  anything that imports huggingface_hub itself should get);
- in the test process, `patched_client(env)`: it sets the variables and re-executes
  `huggingface_hub.constants` in place (`importlib.reload`), so every module that reads
  `constants.X` at call time (all of HfApi, uploads and downloads) sees the server; on exit
  it restores both. An `HfApi()` built inside the block keeps its endpoint after it.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from dexter_autotrain.hub.endpoints_url import ENDPOINTS_URL_VARIABLE, apply_endpoints_url

ENDPOINTS_API = "/endpoints-api/v2"  # where the server's Inference Endpoints API lives


def client_env(
    url: str, hf_home: str | Path, token: str | None = "hf_test_write"
) -> dict[str, str]:
    """The environment a huggingface_hub client needs to talk to the test server at `url`."""
    env = {
        "HF_ENDPOINT": url,
        "HF_HUB_DISABLE_XET": "1",  # hf_xet would upload through Xet, which this server lacks
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "HF_HUB_OFFLINE": "0",
        "HF_HOME": str(hf_home),
        ENDPOINTS_URL_VARIABLE: url + ENDPOINTS_API,  # huggingface_hub's URL is hard-coded
    }
    if token is not None:
        env["HF_TOKEN"] = token
    return env


@contextmanager
def patched_client(env: Mapping[str, str]) -> Iterator[None]:
    """Apply `env` to this process and to the already imported huggingface_hub, then undo it."""
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    _reload_constants()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        _reload_constants()


def _reload_constants() -> None:
    from huggingface_hub import constants
    from huggingface_hub.utils import close_session

    importlib.reload(constants)
    hf_api = sys.modules.get("huggingface_hub.hf_api")
    if hf_api is not None:  # its module-level HfApi (behind `whoami()`, ...) kept the old URL
        hf_api.api.endpoint = constants.ENDPOINT
    apply_endpoints_url()
    close_session()  # keep-alive connections to a server that is gone
