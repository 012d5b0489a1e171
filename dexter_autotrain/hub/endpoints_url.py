"""Where the Inference Endpoints API is: `$DEXTER_ENDPOINTS_URL`, else huggingface_hub's own.

huggingface_hub hard-codes the API's base URL (`constants.INFERENCE_ENDPOINTS_ENDPOINT`,
https://api.endpoints.huggingface.cloud/v2) and `HF_ENDPOINT` does not move it; every
Endpoints call reads the constant when it is made. `apply_endpoints_url()` sets it from the
environment just before our calls, so tests (the Hub test server) and private deployments can
point it elsewhere. It is an environment setting of the operator on purpose, not a spec
field: the token goes to that URL, and a spec may come from a stranger's pull request.
"""

from __future__ import annotations

import os

ENDPOINTS_URL_VARIABLE = "DEXTER_ENDPOINTS_URL"


def apply_endpoints_url() -> str:
    """Point huggingface_hub's Inference Endpoints calls at `$DEXTER_ENDPOINTS_URL` when set.

    Returns:
        `str`: the base URL the Endpoints calls now use.

    Example:
        ```python
        >>> os.environ["DEXTER_ENDPOINTS_URL"] = "http://127.0.0.1:8900/endpoints-api/v2"
        >>> apply_endpoints_url()
        'http://127.0.0.1:8900/endpoints-api/v2'
        ```
    """
    from huggingface_hub import constants

    url = os.environ.get(ENDPOINTS_URL_VARIABLE, "").strip().rstrip("/")
    if url:
        constants.INFERENCE_ENDPOINTS_ENDPOINT = url
    return constants.INFERENCE_ENDPOINTS_ENDPOINT
